/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* render_findings.h: the findings and the parallelism profile in the terminal. */
#ifndef CS_RENDER_FINDINGS_H
#define CS_RENDER_FINDINGS_H

#include <stdio.h>
#include "core.h"
#include "render.h"

void cs_render_findings(FILE *f, const struct cs_core *c, const struct cs_render_opts *o);
void cs_render_profile(FILE *f, const struct cs_core *c, const struct cs_render_opts *o);
/* The profile in one paragraph (the summary of many processes). */
void cs_render_profile_short(FILE *f, const struct cs_core *c, const struct cs_render_opts *o);
/* Print text from column col, wrapped at width, continuation lines indented by 4. */
void cs_render_wrap(FILE *f, const char *text, unsigned int col, unsigned int width);

#endif
