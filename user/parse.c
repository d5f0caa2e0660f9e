// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* parse.c: option value parsers (durations, sizes, bounded numbers). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cs_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v, mult = 1e9;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v <= 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "us"))
		mult = 1e3;
	else if (!strcmp(end, "m"))
		mult = 60e9;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (v * mult < 1 || v * mult > 1e18)
		return -EINVAL;
	*ns = (uint64_t)(v * mult);
	return 0;
}

int cs_parse_size(const char *s, size_t *bytes)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end || !v || v > (1ull << 31))
		return -EINVAL;
	*bytes = (size_t)v;
	return 0;
}

int cs_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

