// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ehframe.c: .eh_frame -> unwind rows (ehframe.h). The format is DWARF's
 * call frame information as the x86-64 ABI and GCC's .eh_frame lay it out:
 * CIEs and FDEs, pointers in the CIE's encoding, each FDE's instructions
 * run from its CIE's initial state.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch.h"
#include "ehframe.h"

#define STATE_STACK 8

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t rd_n(struct rd *r, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		r->p = r->end;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static uint64_t rd_uleb(struct rd *r)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	while (r->p < r->end) {
		uint8_t b = *r->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static int64_t rd_sleb(struct rd *r)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t b = 0;

	while (r->p < r->end) {
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= ~0ull << shift;
			return (int64_t)v;
		}
	}
	r->bad = true;
	return 0;
}

/* A pointer in encoding enc (DW_EH_PE_*); here is the field's own address. */
static uint64_t rd_ptr(struct rd *r, uint8_t enc, uint64_t here)
{
	uint64_t v;

	switch (enc & 0x0f) {
	case 0x00: case 0x04: v = rd_n(r, 8); break;
	case 0x01: v = rd_uleb(r); break;
	case 0x02: v = rd_n(r, 2); break;
	case 0x03: v = rd_n(r, 4); break;
	case 0x09: v = (uint64_t)rd_sleb(r); break;
	case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_n(r, 2); break;
	case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_n(r, 4); break;
	case 0x0c: v = rd_n(r, 8); break;
	default: r->bad = true; return 0;
	}
	if ((enc & 0x70) == 0x10)
		v += here;
	else if (enc & 0x70)
		r->bad = true; /* datarel and the others: not in .eh_frame's FDEs */
	return v;
}

struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	bool aug_z;
	const uint8_t *ins, *ins_end;
};

/* What the rules say at one point of a function. */
struct rules {
	uint8_t cfa;      /* CS_UW_RSP, CS_UW_RBP, CS_UW_PLT or CS_UW_NONE */
	int64_t cfa_off;  /* the offset, or for CS_UW_PLT the compared literal */
	int64_t rbp_off;  /* 0: unchanged */
	bool rbp_bad;     /* rbp's rule is one we cannot follow */
	int64_t ra_off;   /* where the return address is, from the CFA */
	bool ra_undef, ra_bad;
};

struct rows {
	struct cs_uw_row *v;
	size_t n, cap;
	bool range;       /* an address did not fit 32 bits */
};

static int rows_add(struct rows *rs, uint64_t pc, const struct rules *st)
{
	struct cs_uw_row r = { .type = CS_UW_NONE };

	if (pc > UINT32_MAX) {
		rs->range = true;
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 1024;
		void *p = realloc(rs->v, cap * sizeof(*rs->v));

		if (!p)
			return -ENOMEM;
		rs->v = p;
		rs->cap = cap;
	}
	r.pc = (uint32_t)pc;
	if (st && st->ra_undef) {
		r.type = CS_UW_END;
	} else if (st && st->cfa != CS_UW_NONE && !st->ra_bad && st->ra_off == -8 && !st->rbp_bad &&
		   st->cfa_off >= INT32_MIN && st->cfa_off <= INT32_MAX &&
		   st->rbp_off >= INT16_MIN && st->rbp_off <= INT16_MAX) {
		r.type = st->cfa;
		r.cfa = (int32_t)st->cfa_off;
		r.rbp = (int16_t)st->rbp_off;
	}
	rs->v[rs->n++] = r;
	return 0;
}

/* The PLT's CFA: rsp + 8 + ((rip & 15) >= lit) << 3; the literal, or -1. */
static int plt_expr(const uint8_t *e, uint64_t len)
{
	static const uint8_t pat[] = { 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x30, 0x2a, 0x33, 0x24, 0x22 };
	size_t i;

	if (len != sizeof(pat))
		return -1;
	for (i = 0; i < sizeof(pat); i++)
		if (i != 6 && e[i] != pat[i])
			return -1;
	return e[6] >= 0x30 && e[6] <= 0x4f ? e[6] - 0x30 : -1;
}

static void set_reg(struct rules *st, uint64_t reg, int64_t off, bool ok)
{
	if (reg == CS_DWARF_FP) {
		st->rbp_off = ok ? off : 0;
		st->rbp_bad = !ok;
	} else if (reg == CS_DWARF_RA) {
		st->ra_off = off;
		st->ra_bad = !ok;
		st->ra_undef = false;
	}
}

/* A register back to its rule at the function's entry. */
static void restore_reg(struct rules *st, const struct rules *init, uint64_t reg)
{
	if (reg == CS_DWARF_FP) {
		st->rbp_off = init->rbp_off;
		st->rbp_bad = init->rbp_bad;
	} else if (reg == CS_DWARF_RA) {
		st->ra_off = init->ra_off;
		st->ra_bad = init->ra_bad;
		st->ra_undef = init->ra_undef;
	}
}

struct cfa_run {
	const struct cie *cie;
	const struct rules *init; /* NULL while running the CIE's own instructions */
	struct rules st;
	struct rules stack[STATE_STACK];
	unsigned int depth;
	uint64_t loc;
	struct rows *rows;        /* NULL: nothing is emitted (the CIE) */
};

/* Rows are emitted at each advance: the rules hold up to the new location. */
static int advance(struct cfa_run *c, uint64_t delta)
{
	int ret = 0;

	if (c->rows && delta)
		ret = rows_add(c->rows, c->loc, &c->st);
	c->loc += delta * c->cie->code_align;
	return ret;
}

/* The CFA instructions that set the CFA rule. Returns false when op is not one. */
static bool cfa_op(struct cfa_run *c, struct rd *r, uint8_t op)
{
	uint64_t reg, len;
	int plt;

	switch (op) {
	case 0x0c: /* def_cfa */
		reg = rd_uleb(r);
		c->st.cfa = reg == CS_DWARF_SP ? CS_UW_RSP : reg == CS_DWARF_FP ? CS_UW_RBP : CS_UW_NONE;
		c->st.cfa_off = (int64_t)rd_uleb(r);
		return true;
	case 0x12: /* def_cfa_sf */
		reg = rd_uleb(r);
		c->st.cfa = reg == CS_DWARF_SP ? CS_UW_RSP : reg == CS_DWARF_FP ? CS_UW_RBP : CS_UW_NONE;
		c->st.cfa_off = rd_sleb(r) * c->cie->data_align;
		return true;
	case 0x0d: /* def_cfa_register */
		reg = rd_uleb(r);
		if (c->st.cfa != CS_UW_PLT)
			c->st.cfa = reg == CS_DWARF_SP ? CS_UW_RSP : reg == CS_DWARF_FP ? CS_UW_RBP : CS_UW_NONE;
		return true;
	case 0x0e: /* def_cfa_offset */
		c->st.cfa_off = (int64_t)rd_uleb(r);
		return true;
	case 0x13: /* def_cfa_offset_sf */
		c->st.cfa_off = rd_sleb(r) * c->cie->data_align;
		return true;
	case 0x0f: /* def_cfa_expression */
		len = rd_uleb(r);
		if ((uint64_t)(r->end - r->p) < len) {
			r->bad = true;
			return true;
		}
		plt = plt_expr(r->p, len);
		c->st.cfa = plt >= 0 ? CS_UW_PLT : CS_UW_NONE;
		c->st.cfa_off = plt;
		r->p += len;
		return true;
	default:
		return false;
	}
}

/* The other extended instructions. */
static int ext_op(struct cfa_run *c, struct rd *r, uint8_t op)
{
	uint64_t reg, len;

	if (cfa_op(c, r, op))
		return 0;
	switch (op) {
	case 0x00: return 0; /* nop */
	case 0x01: /* set_loc */
		len = rd_ptr(r, c->cie->fde_enc, 0);
		return advance(c, len > c->loc ? (len - c->loc) / c->cie->code_align : 0);
	case 0x02: return advance(c, rd_n(r, 1));
	case 0x03: return advance(c, rd_n(r, 2));
	case 0x04: return advance(c, rd_n(r, 4));
	case 0x05: reg = rd_uleb(r); set_reg(&c->st, reg, (int64_t)rd_uleb(r) * c->cie->data_align, true); return 0;
	case 0x11: reg = rd_uleb(r); set_reg(&c->st, reg, rd_sleb(r) * c->cie->data_align, true); return 0;
	case 0x2f: reg = rd_uleb(r); set_reg(&c->st, reg, -(int64_t)rd_uleb(r) * c->cie->data_align, true); return 0;
	case 0x06: reg = rd_uleb(r); if (c->init) restore_reg(&c->st, c->init, reg); return 0;
	case 0x07: /* undefined */
		reg = rd_uleb(r);
		if (reg == CS_DWARF_RA)
			c->st.ra_undef = true;
		else
			set_reg(&c->st, reg, 0, reg != CS_DWARF_FP);
		return 0;
	case 0x08: reg = rd_uleb(r); if (reg == CS_DWARF_FP) set_reg(&c->st, reg, 0, true); return 0;
	case 0x09: reg = rd_uleb(r); rd_uleb(r); set_reg(&c->st, reg, 0, false); return 0;
	case 0x14: case 0x15: /* val_offset: a value, not a save slot */
		reg = rd_uleb(r);
		if (op == 0x14) rd_uleb(r); else rd_sleb(r);
		set_reg(&c->st, reg, 0, false);
		return 0;
	case 0x10: case 0x16: /* expression, val_expression */
		reg = rd_uleb(r);
		len = rd_uleb(r);
		if ((uint64_t)(r->end - r->p) < len)
			r->bad = true;
		else
			r->p += len;
		set_reg(&c->st, reg, 0, false);
		return 0;
	case 0x0a: /* remember_state */
		if (c->depth < STATE_STACK)
			c->stack[c->depth] = c->st;
		c->depth++;
		return 0;
	case 0x0b: /* restore_state: the CFA rule too, as GCC's code expects */
		if (c->depth && --c->depth < STATE_STACK)
			c->st = c->stack[c->depth];
		return 0;
	case 0x2e: rd_uleb(r); return 0; /* GNU_args_size */
	default:
		r->bad = true;
		return -EINVAL;
	}
}

static int run_cfa(struct cfa_run *c, const uint8_t *p, const uint8_t *end)
{
	struct rd r = { p, end, false };
	int ret = 0;

	while (!ret && r.p < r.end && !r.bad) {
		uint8_t op = *r.p++, low = op & 0x3f;

		switch (op & 0xc0) {
		case 0x40: ret = advance(c, low); break;
		case 0x80: set_reg(&c->st, low, (int64_t)rd_uleb(&r) * c->cie->data_align, true); break;
		case 0xc0: if (c->init) restore_reg(&c->st, c->init, low); break;
		default: ret = ext_op(c, &r, op); break;
		}
	}
	return ret ? ret : r.bad ? -EINVAL : 0;
}

/* A CIE at p (after its id field), up to end. */
static int parse_cie(const uint8_t *p, const uint8_t *end, struct cie *cie)
{
	struct rd r = { p, end, false };
	const char *aug;
	uint8_t version = (uint8_t)rd_n(&r, 1);
	size_t i;

	memset(cie, 0, sizeof(*cie));
	aug = (const char *)r.p;
	while (r.p < r.end && *r.p)
		r.p++;
	rd_n(&r, 1);
	cie->code_align = rd_uleb(&r);
	cie->data_align = rd_sleb(&r);
	if (version == 1)
		rd_n(&r, 1);
	else
		rd_uleb(&r);
	cie->fde_enc = 0; /* absptr */
	if (aug[0] == 'z') {
		uint64_t alen = rd_uleb(&r);
		const uint8_t *aend = r.p + alen;

		cie->aug_z = true;
		for (i = 1; aug[i] && !r.bad && r.p <= aend; i++) {
			if (aug[i] == 'R')
				cie->fde_enc = (uint8_t)rd_n(&r, 1);
			else if (aug[i] == 'P')
				rd_ptr(&r, (uint8_t)rd_n(&r, 1) & 0x7f, 0);
			else if (aug[i] == 'L')
				rd_n(&r, 1);
		}
		r.p = aend <= r.end ? aend : r.end;
	} else if (aug[0]) {
		return -EINVAL; /* an augmentation we cannot skip */
	}
	if (r.bad || !cie->code_align)
		return -EINVAL;
	cie->ins = r.p;
	cie->ins_end = end;
	return 0;
}

/* One FDE: its instructions from its CIE's initial rules, into rows. */
static int parse_fde(const struct cie *cie, struct rd *r, uint64_t here, struct rows *rows)
{
	struct cfa_run c = { .cie = cie };
	struct rules init;
	uint64_t begin, range;
	int ret;

	begin = rd_ptr(r, cie->fde_enc, here);
	range = rd_ptr(r, cie->fde_enc & 0x0f, 0);
	if (cie->aug_z) {
		uint64_t alen = rd_uleb(r);

		if ((uint64_t)(r->end - r->p) < alen)
			return -EINVAL;
		r->p += alen;
	}
	if (r->bad)
		return -EINVAL;
	if (!begin || !range)
		return 0; /* a discarded function's FDE */
	memset(&c.st, 0, sizeof(c.st));
	c.st.ra_off = -8;
	ret = run_cfa(&c, cie->ins, cie->ins_end); /* the CIE's initial rules */
	if (ret)
		return ret;
	init = c.st;
	c.init = &init;
	c.depth = 0;
	c.loc = begin;
	c.rows = rows;
	ret = run_cfa(&c, r->p, r->end);
	if (!ret)
		ret = rows_add(rows, c.loc, &c.st);
	/* past its end, until another function starts there: no rule */
	if (!ret)
		ret = rows_add(rows, begin + range, NULL);
	return ret;
}

static int by_pc(const void *a, const void *b)
{
	const struct cs_uw_row *x = a, *y = b;

	if (x->pc != y->pc)
		return x->pc < y->pc ? -1 : 1;
	/* at one pc, a function's start wins over another's end */
	return (x->type != CS_UW_NONE) - (y->type != CS_UW_NONE);
}

static bool same_rule(const struct cs_uw_row *a, const struct cs_uw_row *b)
{
	return a->type == b->type && a->cfa == b->cfa && a->rbp == b->rbp;
}

/* Sort, keep one row per pc (a start over an end), and merge runs of one rule. */
static size_t compact(struct cs_uw_row *v, size_t n)
{
	size_t i, k = 0, j = 0;

	qsort(v, n, sizeof(*v), by_pc);
	for (i = 0; i < n; i++) {
		if (k && v[k - 1].pc == v[i].pc)
			v[k - 1] = v[i];
		else
			v[k++] = v[i];
	}
	for (i = 0; i < k; i++)
		if (!j || !same_rule(&v[j - 1], &v[i]))
			v[j++] = v[i];
	return j;
}

/* The CIE an FDE's id field (at body) points back to. */
static int fde_cie(const uint8_t *sec, const uint8_t *send, const uint8_t *body, uint64_t id,
		   struct cie *cie)
{
	const uint8_t *cp = body - id; /* the CIE's length field */
	uint64_t clen;

	if (id > (uint64_t)(body - sec) || cp + 8 > send)
		return -EINVAL;
	clen = (uint64_t)cp[0] | (uint64_t)cp[1] << 8 | (uint64_t)cp[2] << 16 |
	       (uint64_t)cp[3] << 24;
	if (clen < 4 || clen == 0xffffffffu || clen > (uint64_t)(send - cp - 4))
		return -EINVAL;
	return parse_cie(cp + 8, cp + 4 + clen, cie);
}

long cs_ehframe_parse(const uint8_t *sec, size_t len, uint64_t vaddr, struct cs_uw_row **out)
{
	struct rows rows = { 0 };
	struct rd r = { sec, sec + len, false };
	int ret = 0;

	*out = NULL;
	while (!ret && r.p + 4 <= r.end) {
		const uint8_t *body, *end;
		uint64_t elen = rd_n(&r, 4), id;
		struct cie cie;

		if (elen == 0xffffffffu)
			elen = rd_n(&r, 8);
		if (!elen)
			break; /* the terminator */
		if (r.bad || elen < 4 || elen > (uint64_t)(r.end - r.p)) {
			ret = -EINVAL;
			break;
		}
		body = r.p;
		end = r.p + elen;
		id = rd_n(&r, 4);
		if (id) { /* an FDE: id is the distance back to its CIE */
			struct rd fr = { r.p, end, false };

			ret = fde_cie(sec, r.end, body, id, &cie);
			if (!ret)
				ret = parse_fde(&cie, &fr, vaddr + (uint64_t)(fr.p - sec), &rows);
		}
		r.p = end;
	}
	if (ret || (rows.range && !rows.n)) {
		free(rows.v);
		return ret ? ret : -ERANGE;
	}
	*out = rows.v;
	return (long)compact(rows.v, rows.n);
}

const struct cs_uw_row *cs_ehframe_find(const struct cs_uw_row *rows, size_t n, uint32_t pc)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &rows[lo - 1] : NULL;
}

long cs_ehframe_file(const char *path, struct cs_uw_row **rows)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	long ret = -ENOENT;
	Elf *elf;
	int fd;

	*rows = NULL;
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		ret = -EINVAL;
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".eh_frame"))
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf)
			ret = cs_ehframe_parse(d->d_buf, d->d_size, sh.sh_addr, rows);
		break;
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}
