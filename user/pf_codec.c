// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pf_codec.c: CRC-32 and the order codec of the trace file (pf_codec.h).
 */
#include <errno.h>
#include "pf_codec.h"

/* ---- CRC-32 (IEEE 802.3, reflected) ---- */

/* The byte-at-a-time loop was a tenth of the writer's time: slicing-by-8. */
void pf_crc_init(pf_crc_table t)
{
	uint32_t i, k, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		t[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
}

uint32_t pf_crc_update(const pf_crc_table t, uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;

		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
		      t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		      t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (n--)
		crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- order codec ---- */

void pf_ord_flush(struct pf_ordenc *o)
{
	uint32_t i;

	if (o->run >= 3) {
		pb_varint(&o->out, 2 * o->gap + 1);
		pb_varint(&o->out, o->run - 1);
	} else {
		for (i = 0; i < o->run; i++)
			pb_varint(&o->out, 2 * o->gap);
	}
	o->run = 0;
}

static int ord_bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

int pf_ord_decode(const uint8_t *p, size_t len, uint32_t count, uint16_t id, uint16_t *owner,
		  uint64_t nrec, const char **why)
{
	struct pb_dec d;
	uint64_t next = 0, x, n, k, gap;
	uint32_t got = 0;

	pb_dec_init(&d, p, len);
	while (!pb_dec_done(&d)) {
		if (pb_get_varint(&d, &x))
			return ord_bad(why, "bad order array");
		n = 0;
		if ((x & 1) && pb_get_varint(&d, &n))
			return ord_bad(why, "bad order array");
		if (n >= count - got)
			return ord_bad(why, "order array too long");
		gap = x >> 1;
		for (k = 0; k <= n; k++) {
			if (gap >= nrec || next >= nrec - gap)
				return ord_bad(why, "bad sequence number");
			next += gap;
			if (owner[next] != PF_ORD_FREE)
				return ord_bad(why, "two records with one sequence number");
			owner[next++] = id;
			got++;
		}
	}
	if (got != count)
		return ord_bad(why, "order array too short");
	return 0;
}
