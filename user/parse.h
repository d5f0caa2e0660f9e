/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * parse.h: option value parsers for the command line (durations, sizes,
 * bounded numbers). Each returns 0, or -EINVAL when the text is not a whole,
 * in-range value. CLI code: the core never parses options.
 */
#ifndef CS_PARSE_H
#define CS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "5", "1.5s", "500ms", "20us", "2m", "1h": more than 0, at most 1e18 ns. */
int cs_parse_duration(const char *s, uint64_t *ns);
/* "4096", "64K", "16M", "1G": more than 0, at most 2 GiB. */
int cs_parse_size(const char *s, size_t *bytes);
/*
 * "1234,1240": ids (0 to INT_MAX) separated by commas, appended to ids[*n]
 * (at most max in all); -EINVAL for a bad or empty one, or too many.
 */
int cs_parse_id_list(const char *s, uint32_t *ids, unsigned int max, unsigned int *n);
/* A decimal number from min to max. */
int cs_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *v);

#endif
