#ifndef CS_FINDINGS_TRACE_H
#define CS_FINDINGS_TRACE_H

#include <stdbool.h>
#include "core.h"

struct cs_findings;
struct cs_pf_writer;

/*
 * The findings in the Perfetto trace, on a track of their own ("concscope
 * findings"): each a slice over the recording window, in rank order (so the
 * UI stacks them, the first on top), named "<kind> (<explained>)" with its
 * text, explained_ns and the threads it rests on as arguments; a blocked
 * loop's longest episodes (loop_blocked) as slices at their times on a track
 * "concscope loop episodes". fs: the core's findings (NULL: computed here).
 * 0 or the writer's error.
 */
int cs_findings_trace(struct cs_pf_writer *w, const struct cs_core *c, unsigned int ncpus,
		      const struct cs_findings *fs);

#endif
