// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* pyframes.c: CPython 3.11 code objects, read once, and their frames' names (pyframes.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <linux/types.h>
#include "concscope.h"
#include "grow.h"
#include "hashmap.h"
#include "pyframes.h"
#include "pylayout.h"

#define STR_MAX 256       /* characters of a file or function name kept */
#define TABLE_MAX 65536   /* bytes of a line table read */

struct code {
	uint32_t pid;
	uint64_t addr;
	int ok;             /* 1: read; 0: could not be */
	int first;          /* co_firstlineno */
	char *file, *func;
	uint8_t *table;
	size_t tlen;
};

struct cs_pyframes {
	struct code *v;     /* the code objects noted, in the order first seen */
	size_t n, cap;
	struct cs_hmap idx; /* (addr, pid) -> index in v */
	uint64_t read_ns;
};

struct cs_pyframes *cs_pyframes_new(void)
{
	return calloc(1, sizeof(struct cs_pyframes));
}

static struct code *find(const struct cs_pyframes *p, uint32_t pid, uint64_t addr)
{
	const uint32_t *i = p ? cs_hmap_get(&p->idx, addr, pid) : NULL;

	return i ? &p->v[*i] : NULL;
}

static int peek(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* A str object's text as UTF-8 (compact strings: the only kind code objects hold). */
static char *read_str(uint32_t pid, uint64_t obj)
{
	uint8_t hdr[CS_PY_STR_COMPACT_DATA], raw[STR_MAX * 4];
	uint32_t state, kind;
	int64_t n;
	size_t i, at = 0, ksz;
	char *out;

	if (!obj || peek(pid, obj, hdr, sizeof(hdr)))
		return NULL;
	memcpy(&n, hdr + CS_PY_STR_LEN, sizeof(n));
	memcpy(&state, hdr + CS_PY_STR_STATE, sizeof(state));
	if (!(state & CS_PY_STR_COMPACT) || n < 0)
		return NULL;
	kind = (state & CS_PY_STR_KIND_MASK) / (CS_PY_STR_KIND_MASK & -CS_PY_STR_KIND_MASK);
	ksz = kind == 4 ? 4 : kind == 2 ? 2 : 1;
	if (n > STR_MAX)
		n = STR_MAX;
	if (peek(pid, obj + (state & CS_PY_STR_ASCII ? CS_PY_STR_ASCII_DATA : CS_PY_STR_COMPACT_DATA),
		 raw, (size_t)n * ksz))
		return NULL;
	out = malloc((size_t)n * 4 + 1);
	for (i = 0; out && i < (size_t)n; i++) {
		uint32_t c = ksz == 4 ? ((uint32_t *)raw)[i] : ksz == 2 ? ((uint16_t *)raw)[i] : raw[i];

		if (c < 0x80) {
			out[at++] = (char)c;
		} else if (c < 0x800) {
			out[at++] = (char)(0xc0 | c >> 6);
			out[at++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[at++] = (char)(0xe0 | c >> 12);
			out[at++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[at++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[at++] = (char)(0xf0 | c >> 18);
			out[at++] = (char)(0x80 | ((c >> 12) & 0x3f));
			out[at++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[at++] = (char)(0x80 | (c & 0x3f));
		}
	}
	if (out)
		out[at] = 0;
	return out;
}

/* A bytes object's contents (the line table). */
static uint8_t *read_bytes(uint32_t pid, uint64_t obj, size_t *len)
{
	int64_t n;
	uint8_t *b;

	if (!obj || peek(pid, obj + CS_PY_VAR_SIZE, &n, sizeof(n)) || n < 0 || n > TABLE_MAX)
		return NULL;
	b = malloc(n ? (size_t)n : 1);
	if (b && n && peek(pid, obj + CS_PY_BYTES_DATA, b, (size_t)n)) {
		free(b);
		return NULL;
	}
	*len = (size_t)n;
	return b;
}

static void read_code(struct code *c)
{
	uint8_t co[CS_PY_CO_SIZE];
	uint64_t file, func, table;
	int32_t first;

	if (peek(c->pid, c->addr, co, sizeof(co)))
		return;
	memcpy(&file, co + CS_PY_CO_FILENAME, sizeof(file));
	memcpy(&func, co + CS_PY_CO_QUALNAME, sizeof(func));
	memcpy(&table, co + CS_PY_CO_LINETABLE, sizeof(table));
	memcpy(&first, co + CS_PY_CO_FIRSTLINE, sizeof(first));
	c->first = first;
	c->file = read_str(c->pid, file);
	c->func = read_str(c->pid, func);
	c->table = read_bytes(c->pid, table, &c->tlen);
	c->ok = c->file && c->func && c->table;
}

void cs_pyframes_note(struct cs_pyframes *p, uint32_t pid, uint64_t key)
{
	uint64_t addr = key & ((1ull << CS_PY_LASTI_SHIFT) - 1);
	struct timespec a, b;
	struct code *c;

	if (!p || !addr || find(p, pid, addr))
		return;
	if (cs_grow(&p->v, p->n, &p->cap, sizeof(*p->v), 128) ||
	    cs_hmap_put(&p->idx, addr, pid, (uint32_t)p->n))
		return;
	c = &p->v[p->n++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->addr = addr;
	clock_gettime(CLOCK_MONOTONIC, &a);
	read_code(c);
	clock_gettime(CLOCK_MONOTONIC, &b);
	p->read_ns += (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)b.tv_nsec -
		      (uint64_t)a.tv_nsec;
}

int cs_pyframes_name(const struct cs_pyframes *p, uint32_t pid, uint64_t key, char *out,
		     size_t len)
{
	const struct code *c = find(p, pid, key & ((1ull << CS_PY_LASTI_SHIFT) - 1));
	size_t flen, room;
	int line;

	if (!c || !c->ok)
		return -ENOENT;
	line = cs_py_line(c->table, c->tlen, c->first, (uint32_t)(key >> CS_PY_LASTI_SHIFT));
	/* "file:line function"; a long path keeps its end, where the file's name is */
	room = len > strlen(c->func) + 16 ? len - strlen(c->func) - 16 : 8;
	flen = strlen(c->file);
	if (line >= 0)
		snprintf(out, len, "%s%s:%d %s", flen > room ? "..." : "",
			 flen > room ? c->file + flen - room + 3 : c->file, line, c->func);
	else
		snprintf(out, len, "%s%s %s", flen > room ? "..." : "",
			 flen > room ? c->file + flen - room + 3 : c->file, c->func);
	return 0;
}

void cs_pyframes_stats(const struct cs_pyframes *p, uint64_t *codes, uint64_t *ns)
{
	*codes = p ? p->n : 0;
	*ns = p ? p->read_ns : 0;
}

void cs_pyframes_free(struct cs_pyframes **pp)
{
	struct cs_pyframes *p = *pp;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].file);
		free(p->v[i].func);
		free(p->v[i].table);
	}
	free(p->v);
	cs_hmap_free(&p->idx);
	free(p);
	*pp = NULL;
}

/* ---- CPython 3.11's location table (Objects/locations.md in its sources) ---- */

static int varint(const uint8_t *t, size_t len, size_t *at, uint32_t *out)
{
	uint32_t v = 0, shift = 0;
	uint8_t b;

	do {
		if (*at >= len || shift > 28)
			return -1;
		b = t[(*at)++];
		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*out = v;
	return 0;
}

static int svarint(const uint8_t *t, size_t len, size_t *at, int *out)
{
	uint32_t u;

	if (varint(t, len, at, &u))
		return -1;
	*out = u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
	return 0;
}

/*
 * Each entry: a first byte 1CCCCLLL (code C, L + 1 code units), then by
 * code: 15 no location; 14 the long form (line delta, end line delta,
 * column + 1, end column + 1, varints, the first signed); 13 no column (a
 * signed line delta); 10..12 one line, delta C - 10, two column bytes;
 * 0..9 the short form: the same line, one column byte.
 */
int cs_py_line(const uint8_t *tab, size_t len, int first, uint32_t lasti)
{
	size_t at = 0;
	uint32_t pc = 0, skip, u;
	int line = first, delta, has;

	while (at < len) {
		uint8_t b = tab[at++];
		unsigned int code = (b >> 3) & 15;

		if (!(b & 0x80))
			return -1; /* not the start of an entry: a table we do not know */
		has = 1;
		skip = 0;
		if (code == 15) {
			has = 0;
		} else if (code == 14) {
			if (svarint(tab, len, &at, &delta) || varint(tab, len, &at, &u) ||
			    varint(tab, len, &at, &u) || varint(tab, len, &at, &u))
				return -1;
			line += delta;
		} else if (code == 13) {
			if (svarint(tab, len, &at, &delta))
				return -1;
			line += delta;
		} else {
			line += code >= 10 ? (int)code - 10 : 0;
			skip = code >= 10 ? 2 : 1;
		}
		if (at + skip > len)
			return -1;
		at += skip;
		pc += (b & 7) + 1u;
		if (lasti < pc)
			return has ? line : -1;
	}
	return -1;
}
