/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * models.h: the bundled concurrency models. What to run (plan), how to
 * describe each run, and the side-by-side comparison with findings computed
 * from the measured numbers. The comparison is pure: it reads cores.
 */
#ifndef CS_MODELS_H
#define CS_MODELS_H

#include <stdbool.h>
#include <stdio.h>
#include "core.h"
#include "jsonw.h"

struct cs_findings;

#define CS_MAX_JOBS 16

struct cs_models_cfg {
	const char *model;  /* processes|threads|threads-gil|async|all */
	const char *work;   /* cpu|io|mixed, NULL = cpu and io for all, cpu for one */
	const char *lang;   /* c|python */
	unsigned int tasks; /* 0 = the workload's default (4) */
	unsigned long size; /* 0 = default */
};

struct cs_model_run {
	const char *model, *work, *lang;
	unsigned int tasks;
	struct cs_core *core;
	int status;          /* the workload's wait status */
	bool ok;             /* it exited 0 (its own check of the result passed) */
	struct cs_findings *findings; /* core's, computed once for its outputs (its
					 owner frees them), or NULL: each computes them */
	char title[128];
};

/*
 * Expand a configuration into runs (core NULL). Returns the number of runs,
 * or -EINVAL with a one-line reason in err.
 */
int cs_models_plan(const struct cs_models_cfg *cfg, struct cs_model_run *runs, size_t max,
		   char *err, size_t errlen);

/* "threads: 1 process x 4 threads, cpu work" from what was measured. */
void cs_model_title(struct cs_model_run *r);

/* The comparison table and the findings. */
void cs_models_compare(FILE *f, const struct cs_model_run *runs, size_t n, bool color,
		       unsigned int ncpus);

/* The "models" array and the summed "totals". */
void cs_models_json(struct cs_jsonw *w, const struct cs_model_run *runs, size_t n,
		    unsigned int ncpus);

#endif
