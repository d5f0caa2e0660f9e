/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* findings_json.h: the findings and the figures they read, in --json. */
#ifndef CS_FINDINGS_JSON_H
#define CS_FINDINGS_JSON_H

#include "core.h"
#include "findings.h"
#include "jsonw.h"

/* "parallelism_profile": the window's time by how many of the target's threads ran, were ready. */
void cs_profile_json(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus);
/* A process's "parallelism_profile". */
void cs_proc_profile_json(struct cs_jsonw *w, const struct cs_core *c, uint32_t pid,
			  unsigned int ncpus);
/* "other_cpu_ns", "tracer_cpu_ns", "other_cpu_by_program". */
void cs_other_cpu_json(struct cs_jsonw *w, const struct cs_core *c);
/* A thread's "ready_behind_ns" and, for a thread that waits for events, "event_waits". */
void cs_thread_more_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_thread *t);
/* "system": steal and cgroup throttling over the window. */
void cs_system_json(struct cs_jsonw *w, const struct cs_core *c);
/* "findings". */
void cs_findings_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_findings *fs);

#endif
