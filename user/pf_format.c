// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pf_format.c: the tables of the trace format (pf_format.h) and the CsRec
 * codec they drive. A CsRec's fields are listed once, per kind, as the
 * record members they carry; pf_rec_encode() and pf_rec_decode() both walk
 * that list, so the two directions cannot drift apart.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "pf_format.h"

const uint32_t pf_array_field[A_N] = {
	[A_SW_TS] = 1, [A_SW_STATE] = 2, [A_SW_PID] = 3, [A_SW_PRIO] = 4,
	[A_SW_COMM] = 6, [A_SW_SYS] = CS_SYSCALL_INDEX,
	[A_WK_TS] = 7, [A_WK_PID] = 8, [A_WK_CPU] = 9, [A_WK_PRIO] = 10,
	[A_WK_COMM] = 11,
};

/* ---- the CsRec tables ---- */

/* How a CsRec field number stores its member (the same in every kind). */
enum rc_type {
	RT_UINT,  /* varint; decoding refuses a value the member cannot hold */
	RT_SINT,  /* zigzag varint; likewise */
	RT_STR,   /* bytes: a char array up to its first NUL, at most its size */
	RT_STACK, /* packed varints: a u64 array without its trailing zeros */
};

static const uint8_t rc_type[RC_NFIELDS] = {
	[RC_KIND] = RT_UINT, [RC_TS] = RT_SINT, [RC_FLAGS] = RT_UINT, [RC_CPU] = RT_UINT,
	[RC_AUX] = RT_UINT, [RC_TID] = RT_UINT, [RC_PID] = RT_UINT, [RC_TID2] = RT_UINT,
	[RC_PID2] = RT_UINT, [RC_COMM] = RT_STR, [RC_VALUE] = RT_SINT, [RC_ADDR] = RT_UINT,
	[RC_STACK] = RT_STACK, [RC_NSTACK] = RT_UINT, [RC_OP] = RT_UINT, [RC_VAL] = RT_UINT,
	[RC_TIMED] = RT_UINT, [RC_PRIO] = RT_UINT, [RC_TEXT] = RT_STR, [RC_ARRAY2] = RT_STACK,
	[RC_ADDR2] = RT_UINT, [RC_ADDR3] = RT_UINT,
};

/* One field: its number and the member of union cs_rec it carries. */
struct rc_field {
	uint8_t num;
	uint8_t size;
	uint8_t off;
};

#define F(num, member) \
	{ num, sizeof(((union cs_rec *)0)->member), offsetof(union cs_rec, member) }

/* Every kind's header fields, after RC_KIND and RC_TS (which are not members alone). */
static const struct rc_field hdr_fields[] = {
	F(RC_FLAGS, h.flags), F(RC_CPU, h.cpu), F(RC_AUX, h.aux), F(RC_TID, h.tid),
	F(RC_PID, h.pid),
};

/* Each kind's own fields, in the order they are written. */
static const struct rc_field sw_fields[] = {
	F(RC_TID2, sw.next_tid), F(RC_PID2, sw.next_pid), F(RC_OP, sw.prev_state),
	F(RC_VAL, sw.prev_exit_state), F(RC_VALUE, sw.syscall), F(RC_PRIO, sw.next_prio),
	F(RC_COMM, sw.next_comm),
};
static const struct rc_field wk_fields[] = {
	F(RC_TID2, wk.waker_tid), F(RC_PID2, wk.waker_pid), F(RC_PRIO, wk.prio),
	F(RC_OP, wk.letter), F(RC_VAL, wk.source),
};
static const struct rc_field fork_fields[] = {
	F(RC_TID2, fork.child_tid), F(RC_PID2, fork.child_pid), F(RC_COMM, fork.child_comm),
};
static const struct rc_field exec_fields[] = {
	F(RC_TID2, exec.old_tid), F(RC_COMM, exec.comm),
};
static const struct rc_field exit_fields[] = { F(RC_VALUE, exit.exit_code) };
static const struct rc_field mig_fields[] = { F(RC_TID2, mig.orig_cpu) };
static const struct rc_field ren_fields[] = { F(RC_COMM, ren.comm) };
static const struct rc_field lock_fields[] = {
	F(RC_ADDR, lock.addr), F(RC_VALUE, lock.ret), F(RC_NSTACK, lock.nstack),
	F(RC_STACK, lock.stack),
};
static const struct rc_field futex_fields[] = {
	F(RC_ADDR, futex.uaddr), F(RC_VALUE, futex.ret), F(RC_OP, futex.op),
	F(RC_VAL, futex.val), F(RC_TIMED, futex.timed),
};
static const struct rc_field ti_fields[] = {
	F(RC_TID2, ti.ppid), F(RC_OP, ti.state), F(RC_VALUE, ti.syscall), F(RC_COMM, ti.comm),
};
static const struct rc_field mark_fields[] = { F(RC_VALUE, mark.value), F(RC_TEXT, mark.text) };
static const struct rc_field lost_fields[] = {
	F(RC_ADDR, lost.count), F(RC_ADDR2, lost.first_ts), F(RC_ADDR3, lost.upto),
};
static const struct rc_field ln_fields[] = { F(RC_ADDR, ln.addr), F(RC_TEXT, ln.name) };
static const struct rc_field tt_fields[] = {
	F(RC_ADDR, tt.word), F(RC_STACK, tt.ns), F(RC_ARRAY2, tt.blocked_ns),
	F(RC_ADDR2, tt.cpu_ns), F(RC_ADDR3, tt.run_delay_ns), F(RC_TID2, tt.nvcsw),
	F(RC_PID2, tt.nivcsw), F(RC_VAL, tt.wakeups), F(RC_OP, tt.migrations),
};
static const struct rc_field cst_fields[] = { F(RC_ADDR, cst.since), F(RC_PRIO, cst.known) };
static const struct rc_field lc_fields[] = { F(RC_ADDR, lc.lo), F(RC_ADDR2, lc.hi) };
static const struct rc_field ws_fields[] = { F(RC_TID2, ws.id), F(RC_TEXT, ws.name) };
static const struct rc_field stk_fields[] = { F(RC_ADDR, stk.id) };
static const struct rc_field sdef_fields[] = {
	F(RC_ADDR, sdef.id), F(RC_TID2, sdef.nkernel), F(RC_PID2, sdef.nuser),
	F(RC_OP, sdef.nother), F(RC_VAL, sdef.n), F(RC_STACK, sdef.pcs),
};
static const struct rc_field fname_fields[] = { F(RC_ADDR, fname.addr), F(RC_TEXT, fname.name) };
static const struct rc_field title_fields[] = { F(RC_TEXT, title.title) };
static const struct rc_field tsch_fields[] = {
	F(RC_VALUE, tsch.nice), F(RC_PRIO, tsch.rt_priority), F(RC_TEXT, tsch.cgroup),
};

#undef F

struct rc_kind {
	const struct rc_field *f;
	unsigned int n;
};

#define K(tab) { tab, sizeof(tab) / sizeof(tab[0]) }

static const struct rc_kind rc_kinds[CS_EV_KIND_MAX] = {
	[CS_EV_SWITCH] = K(sw_fields), [CS_EV_WAKING] = K(wk_fields),
	[CS_EV_FORK] = K(fork_fields), [CS_EV_EXEC] = K(exec_fields),
	[CS_EV_EXIT] = K(exit_fields), [CS_EV_MIGRATE] = K(mig_fields),
	[CS_EV_RENAME] = K(ren_fields), [CS_EV_LOCK_BEGIN] = K(lock_fields),
	[CS_EV_LOCK_END] = K(lock_fields), [CS_EV_FUTEX_ENTER] = K(futex_fields),
	[CS_EV_FUTEX_EXIT] = K(futex_fields), [CS_EV_THREAD_INFO] = K(ti_fields),
	[CS_EV_MARK] = K(mark_fields), [CS_EV_LOST] = K(lost_fields),
	[CS_EV_LOCK_NAME] = K(ln_fields), [CS_EV_THREAD_TOTALS] = K(tt_fields),
	[CS_EV_CPU_STATE] = K(cst_fields), [CS_EV_LOCK_CLASS] = K(lc_fields),
	[CS_EV_WAKE_SOURCE] = K(ws_fields), [CS_EV_STACK] = K(stk_fields),
	[CS_EV_STACK_DEF] = K(sdef_fields), [CS_EV_FRAME_NAME] = K(fname_fields),
	[CS_EV_TITLE] = K(title_fields), [CS_EV_TASK_SCHED] = K(tsch_fields),
};

#undef K

/* ---- members as integers ---- */

static uint64_t load_u(const uint8_t *p, unsigned int size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	default: memcpy(&u64, p, 8); return u64;
	}
}

static int64_t load_s(const uint8_t *p, unsigned int size)
{
	int8_t s8;
	int16_t s16;
	int32_t s32;
	int64_t s64;

	switch (size) {
	case 1: memcpy(&s8, p, 1); return s8;
	case 2: memcpy(&s16, p, 2); return s16;
	case 4: memcpy(&s32, p, 4); return s32;
	default: memcpy(&s64, p, 8); return s64;
	}
}

/* The low size bytes of v (little-endian, as the records are). */
static void store(uint8_t *p, uint64_t v, unsigned int size)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1: memcpy(p, &u8, 1); break;
	case 2: memcpy(p, &u16, 2); break;
	case 4: memcpy(p, &u32, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

/* ---- encoding ---- */

/* The longest u64 array a record has (a stack definition's part). */
#define RC_ARRAY_MAX (CS_STACK_PART > CS_LOCK_STACK ? CS_STACK_PART : CS_LOCK_STACK)

static void put_stack(struct pb_buf *b, uint32_t num, const uint8_t *p, unsigned int size)
{
	uint8_t tmp[RC_ARRAY_MAX * PB_VARINT_MAX];
	struct pb_buf st = { .p = tmp, .cap = sizeof(tmp) };
	unsigned int i, n = size / 8;

	if (n > RC_ARRAY_MAX)
		n = RC_ARRAY_MAX;
	while (n && !load_u(p + 8 * (n - 1), 8))
		n--;
	for (i = 0; i < n; i++)
		pb_varint(&st, load_u(p + 8 * i, 8));
	pb_packed(b, num, &st);
}

/* Each field left out when its member is zero (a stack: when all of it is). */
static void put_fields(struct pb_buf *b, const union cs_rec *r, const struct rc_field *f,
		       unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const uint8_t *p = r->raw + f[i].off;
		uint64_t u;
		int64_t s;

		switch (rc_type[f[i].num]) {
		case RT_UINT:
			if ((u = load_u(p, f[i].size)))
				pb_uint(b, f[i].num, u);
			break;
		case RT_SINT:
			if ((s = load_s(p, f[i].size)))
				pb_sint(b, f[i].num, s);
			break;
		case RT_STR:
			if (p[0])
				pb_strn(b, f[i].num, (const char *)p, f[i].size);
			break;
		case RT_STACK:
			put_stack(b, f[i].num, p, f[i].size);
			break;
		}
	}
}

void pf_rec_encode(struct pb_buf *b, const union cs_rec *r, uint64_t *last_ts)
{
	const struct rc_kind *k = &rc_kinds[r->h.kind < CS_EV_KIND_MAX ? r->h.kind : 0];
	int64_t dts = (int64_t)(r->h.ts - *last_ts);

	pb_uint(b, RC_KIND, r->h.kind);
	if (dts)
		pb_sint(b, RC_TS, dts);
	*last_ts = r->h.ts;
	put_fields(b, r, hdr_fields, sizeof(hdr_fields) / sizeof(hdr_fields[0]));
	put_fields(b, r, k->f, k->n);
}

/* ---- decoding ---- */

/* The fields of one CsRec as read (the last of a number wins, as in protobuf). */
struct recf {
	uint64_t v[RC_NFIELDS];
	const uint8_t *data[RC_NFIELDS];
	size_t len[RC_NFIELDS];
};

static bool get_stack(const struct recf *f, uint32_t num, uint8_t *p, unsigned int size)
{
	struct pb_dec d;
	unsigned int i = 0;
	uint64_t v;

	pb_dec_init(&d, f->data[num], f->len[num]);
	while (!pb_dec_done(&d)) {
		if (i >= size / 8 || pb_get_varint(&d, &v))
			return false;
		store(p + 8 * i++, v, 8);
	}
	return true;
}

/* One member from its field; false for a value it cannot hold. */
static bool get_field(const struct recf *f, const struct rc_field *fl, union cs_rec *o)
{
	uint8_t *p = o->raw + fl->off;
	uint64_t v = f->v[fl->num];
	unsigned int bits = 8 * fl->size;
	int64_t s;

	switch (rc_type[fl->num]) {
	case RT_UINT:
		store(p, v, fl->size);
		return bits == 64 || v <= (1ull << bits) - 1;
	case RT_SINT:
		s = pb_unzigzag(v);
		store(p, (uint64_t)s, fl->size);
		return bits == 64 || (s >= -(1ll << (bits - 1)) && s < (1ll << (bits - 1)));
	case RT_STR:
		if (f->len[fl->num] > fl->size)
			return false;
		memset(p, 0, fl->size);
		if (f->len[fl->num])
			memcpy(p, f->data[fl->num], f->len[fl->num]);
		return true;
	default:
		return get_stack(f, fl->num, p, fl->size);
	}
}

static bool get_fields(const struct recf *f, const struct rc_field *fl, unsigned int n,
		       union cs_rec *o)
{
	bool ok = true;
	unsigned int i;

	for (i = 0; i < n; i++)
		ok &= get_field(f, &fl[i], o);
	return ok;
}

static int rec_bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

int pf_rec_decode(const uint8_t *p, size_t len, union cs_rec *o, uint64_t *last_ts,
		  const char **why)
{
	struct recf f;
	struct pb_field g;
	struct pb_dec d;
	const struct rc_kind *k;
	size_t size;
	int ret;

	memset(&f, 0, sizeof(f));
	pb_dec_init(&d, p, len);
	while ((ret = pb_next(&d, &g)) > 0) {
		if (g.num >= RC_NFIELDS)
			continue; /* a later version's field */
		if (g.wt != (rc_type[g.num] >= RT_STR ? PB_LEN : PB_VARINT))
			return rec_bad(why, "bad record field");
		f.v[g.num] = g.u;
		f.data[g.num] = g.data;
		f.len[g.num] = g.len;
	}
	if (ret < 0)
		return rec_bad(why, "bad record");
	size = f.v[RC_KIND] <= UINT8_MAX ? cs_kind_size((unsigned int)f.v[RC_KIND]) : 0;
	if (!size)
		return rec_bad(why, "unknown record kind");
	k = &rc_kinds[f.v[RC_KIND]];
	*last_ts += (uint64_t)pb_unzigzag(f.v[RC_TS]);
	o->h.ts = *last_ts;
	o->h.size = (uint16_t)size;
	o->h.kind = (uint8_t)f.v[RC_KIND];
	if (!get_fields(&f, hdr_fields, sizeof(hdr_fields) / sizeof(hdr_fields[0]), o) ||
	    !get_fields(&f, k->f, k->n, o))
		return rec_bad(why, "bad record value");
	return 0;
}
