/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * critpath_show.h: the critical path (critpath.h) shown: a short table and
 * a one-line strip in the terminal, "critical_path" in --json, slices on a
 * track of its own in the Perfetto trace. Each asks for the recording's
 * path (cs_critpath_get): a run's, from the command's end (is_run), or the
 * thread chosen with --critical-path; with neither, they do nothing.
 */
#ifndef CS_CRITPATH_SHOW_H
#define CS_CRITPATH_SHOW_H

#include <stdbool.h>
#include <stdio.h>
#include "critpath.h"
#include "jsonw.h"

struct cs_pf_writer;

void cs_critpath_show(FILE *f, const struct cs_core *c, bool is_run, unsigned int width,
		      bool color);
/* The "critical_path" key into an open JSON object. */
void cs_critpath_json(struct cs_jsonw *w, const struct cs_core *c, bool is_run);
/* Its slices on the "concscope critical path" track; 0 or the writer's error. */
int cs_critpath_trace(struct cs_pf_writer *pf, const struct cs_core *c, bool is_run);

/* A stretch's what: the call or lock it blocked in, the CPU's holder, why untraced. */
const char *cs_cp_what(const struct cs_core *c, const struct cs_cp_seg *s, char *buf,
		       size_t len);
/* Who ended a block the walk stayed on: an interrupt's source, a task; NULL: none. */
const char *cs_cp_woken_by(const struct cs_core *c, const struct cs_cp_seg *s, char *buf,
			   size_t len);

#endif
