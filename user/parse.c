// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* parse.c: option value parsers (durations, sizes, bounded numbers). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

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
	else if (!strcmp(end, "h"))
		mult = 3600e9;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (v * mult < 1 || v * mult > 1e18)
		return -EINVAL;
	*ns = (uint64_t)(v * mult);
	return 0;
}

/*
 * strtoul and strtoull skip blanks and take a sign, and negate modulo 2^64
 * (" -18446744073709551615" reads as 1): a number must start with a digit.
 */
static bool starts_with_digit(const char *s)
{
	return s && *s >= '0' && *s <= '9';
}

int cs_parse_size(const char *s, size_t *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!starts_with_digit(s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	/* checked before the shift: bytes that do not fit in a size_t would wrap */
	if (*end || !v || v > (SIZE_MAX >> shift))
		return -EINVAL;
	v <<= shift;
	if (v > (1ull << 31))
		return -EINVAL;
	*bytes = (size_t)v;
	return 0;
}

int cs_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	char *end;

	if (!starts_with_digit(s))
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v < min || *v > max)
		return -EINVAL;
	return 0;
}


int cs_parse_id_list(const char *s, uint32_t *ids, unsigned int max, unsigned int *n)
{
	char buf[24];
	unsigned long v;

	for (;;) {
		size_t len = strcspn(s, ",");

		if (!len || len >= sizeof(buf) || *n >= max)
			return -EINVAL;
		memcpy(buf, s, len);
		buf[len] = 0;
		if (cs_parse_uint(buf, 0, INT32_MAX, &v))
			return -EINVAL;
		ids[(*n)++] = (uint32_t)v;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}
