/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* runner.h: run --model: trace the bundled models one by one and compare them. */
#ifndef CS_RUNNER_H
#define CS_RUNNER_H

struct cs_opts;

/* Plan, trace, show and compare the models o->models asks for: an exit code. */
int cs_run_models(const struct cs_opts *o);

#endif
