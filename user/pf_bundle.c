// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pf_bundle.c: one CPU's FtraceEventBundle, written and read
 * (pf_bundle.h). The defaults both halves share are in pf_format.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "pf_bundle.h"
#include "state.h"

/* A tgid not given: the last one given with that tid in the bundle, else the tid. */
static uint32_t tgid_default(const struct cs_hmap *m, uint32_t tid)
{
	const uint32_t *v = cs_hmap_get(m, tid, 0);

	return v ? *v : tid;
}

/* ======================================================================
 * Writer
 * ====================================================================== */

/* ---- interned comms and system calls ---- */

static uint32_t comm_index_slow(struct pf_wcpu *cb, const char *c);

static uint32_t comm_index(struct pf_wcpu *cb, const char *comm)
{
	struct pf_commtab *t = &cb->comms;
	char c[CS_COMM_LEN];
	uint32_t i;

	pf_comm_norm(c, comm);
	for (i = 0; i < 2; i++)
		if (t->recent_ok[i] && !memcmp(t->recent[i], c, CS_COMM_LEN))
			return t->recent_idx[i];
	i = comm_index_slow(cb, c);
	memcpy(t->recent[1], t->recent[0], CS_COMM_LEN);
	t->recent_idx[1] = t->recent_idx[0];
	t->recent_ok[1] = t->recent_ok[0];
	memcpy(t->recent[0], c, CS_COMM_LEN);
	t->recent_idx[0] = i;
	t->recent_ok[0] = true;
	return i;
}

static uint32_t comm_index_slow(struct pf_wcpu *cb, const char *c)
{
	struct pf_commtab *t = &cb->comms;
	uint64_t a, b; /* the 16 bytes of the comm are the key */
	uint32_t *slot;

	memcpy(&a, c, 8);
	memcpy(&b, c + 8, 8);
	slot = cs_hmap_get(&t->idx, a, b);
	if (slot)
		return *slot;
	if (cs_grow(&t->s, t->n, &t->cap, CS_COMM_LEN, 16)) {
		cb->a[A_SW_COMM].err = -ENOMEM;
		return 0;
	}
	memcpy(t->s[t->n], c, CS_COMM_LEN);
	if (cs_hmap_put(&t->idx, a, b, t->n))
		cb->a[A_SW_COMM].err = -ENOMEM;
	return t->n++;
}

static uint32_t sys_index(struct pf_wcpu *cb, int16_t syscall)
{
	uint64_t key = (uint64_t)((int64_t)syscall + 1) & 0xffff;
	uint32_t *slot = cs_hmap_get(&cb->sys, key, 0);

	if (slot)
		return *slot;
	if (cs_hmap_put(&cb->sys, key, 0, cb->nsys))
		cb->sys_tab.err = -ENOMEM;
	pb_varint(&cb->sys_tab, pb_zigzag(syscall));
	return cb->nsys++;
}

/* ---- the bundle ---- */

int pf_wcpu_err(const struct pf_wcpu *cb)
{
	int i;

	for (i = 0; i < A_N; i++)
		if (cb->a[i].err)
			return cb->a[i].err;
	if (cb->sw_x.err || cb->wk_x.err || cb->sys_tab.err || cb->ev.buf.err ||
	    cb->sw_ord.out.err || cb->wk_ord.out.err || cb->wk_flags.err)
		return -ENOMEM;
	return 0;
}

void pf_wcpu_reset(struct pf_wcpu *cb)
{
	int i;

	cb->active = cb->ev.lost = false;
	cb->nsw = cb->nwk = cb->ev.n = 0;
	cb->sw_last = cb->wk_last = 0;
	for (i = 0; i < A_N; i++)
		pb_buf_reset(&cb->a[i]);
	pb_buf_reset(&cb->sw_x);
	pb_buf_reset(&cb->wk_x);
	pb_buf_reset(&cb->sys_tab);
	pb_buf_reset(&cb->ev.buf);
	pb_buf_reset(&cb->wk_flags);
	cb->nwk_flags = 0;
	pf_ord_reset(&cb->sw_ord);
	pf_ord_reset(&cb->wk_ord);
	cb->comms.n = 0;
	cb->comms.recent_ok[0] = cb->comms.recent_ok[1] = false;
	cs_hmap_clear(&cb->comms.idx);
	cs_hmap_clear(&cb->sys);
	cb->nsys = 0;
	cs_hmap_clear(&cb->tgid);
	cb->chain_known = false;
}

void pf_wcpu_free(struct pf_wcpu *cb)
{
	int i;

	if (!cb)
		return;
	for (i = 0; i < A_N; i++)
		pb_buf_free(&cb->a[i]);
	pb_buf_free(&cb->sw_x);
	pb_buf_free(&cb->wk_x);
	pb_buf_free(&cb->sys_tab);
	pb_buf_free(&cb->ev.buf);
	pb_buf_free(&cb->wk_flags);
	pb_buf_free(&cb->sw_ord.out);
	pb_buf_free(&cb->wk_ord.out);
	free(cb->comms.s);
	cs_hmap_free(&cb->comms.idx);
	cs_hmap_free(&cb->sys);
	cs_hmap_free(&cb->tgid);
	free(cb);
}

/* ---- records ---- */

static void put_switch_x(struct pf_wcpu *cb, const uint64_t *v, uint32_t mask)
{
	size_t m = pb_nest_begin(&cb->sw_x, CS_SWITCH_X);
	uint32_t f;

	pb_uint(&cb->sw_x, SX_INDEX, cb->nsw);
	for (f = SX_PREV_TID; f < SX_NFIELDS; f++)
		if (mask & (1u << f))
			pb_uint(&cb->sw_x, f, v[f]);
	pb_nest_end(&cb->sw_x, m);
}

/* A switch or a link into the arrays (and its exception). */
static void put_switch(struct pf_wcpu *cb, const struct cs_switch *e, uint64_t seq, bool link)
{
	bool preempt = e->h.flags & CS_SWF_PREEMPT, pre;
	uint8_t flags = e->h.flags & ~CS_SWF_LOCK;
	unsigned int rep = cs_state_report(preempt, e->prev_state, e->prev_exit_state);
	unsigned int raw, ex;
	uint64_t wv;
	uint64_t v[SX_NFIELDS] = { 0 };
	uint32_t mask = 0;

	pb_varint(&cb->a[A_SW_TS], e->h.ts - cb->sw_last);
	cb->sw_last = e->h.ts;
	pb_varint(&cb->a[A_SW_STATE], rep);
	pb_varint(&cb->a[A_SW_PID], e->next_tid);
	pb_varint(&cb->a[A_SW_PRIO], e->next_prio);
	pb_varint(&cb->a[A_SW_COMM], comm_index(cb, e->next_comm));
	/* version 3: w carries the lock verdict; a run-queue wait is an exception */
	wv = e->h.flags & CS_SWF_LOCK ? 1 : 0;
	pb_varint(&cb->a[A_SW_SYS], (uint64_t)sys_index(cb, e->syscall) * SW_WAIT_SPAN + wv);
	pf_ord_put(&cb->sw_ord, seq);

	/*
	 * The tgid map changes where a pid is given (where the default was
	 * wrong), and the reader changes its copy at the same places: most
	 * switches are between tasks it already knows.
	 */
	if (!cb->chain_known || cb->chain_tid != e->h.tid) {
		mask |= 1u << SX_PREV_TID;
		v[SX_PREV_TID] = e->h.tid;
		if (tgid_default(&cb->tgid, e->h.tid) != e->h.pid)
			mask |= 1u << SX_PREV_PID;
	} else if (cb->chain_pid != e->h.pid) {
		mask |= 1u << SX_PREV_PID;
	}
	v[SX_PREV_PID] = e->h.pid;
	if ((mask & 1u << SX_PREV_PID) && cs_hmap_put(&cb->tgid, e->h.tid, 0, e->h.pid))
		cb->sw_x.err = -ENOMEM;
	if (tgid_default(&cb->tgid, e->next_tid) != e->next_pid) {
		mask |= 1u << SX_NEXT_PID;
		v[SX_NEXT_PID] = e->next_pid;
		if (cs_hmap_put(&cb->tgid, e->next_tid, 0, e->next_pid))
			cb->sw_x.err = -ENOMEM;
	}
	cb->chain_known = true;
	cb->chain_tid = e->next_tid;
	cb->chain_pid = e->next_pid;

	cs_state_unreport(rep, &raw, &ex, &pre);
	if (raw != e->prev_state || ex != e->prev_exit_state) {
		mask |= 1u << SX_STATE | 1u << SX_EXIT_STATE;
		v[SX_STATE] = e->prev_state;
		v[SX_EXIT_STATE] = e->prev_exit_state;
	}
	if (flags != ((pre ? CS_SWF_PREEMPT : 0) | PF_SW_FLAGS_V3)) {
		mask |= 1u << SX_FLAGS;
		v[SX_FLAGS] = flags;
	}
	if (e->h.aux) {
		mask |= 1u << SX_AUX;
		v[SX_AUX] = e->h.aux;
	}
	if (link) {
		mask |= 1u << SX_LINK;
		v[SX_LINK] = 1;
	}
	if (mask)
		put_switch_x(cb, v, mask);
	cb->nsw++;
	cb->run_known = true;
	cb->run_tid = e->next_tid;
	cb->run_pid = e->next_pid;
	cb->run_ts = e->h.ts;
}

void pf_wcpu_switch(struct pf_wcpu *cb, const struct cs_switch *e, uint64_t seq)
{
	put_switch(cb, e, seq, false);
}

void pf_wcpu_link(struct pf_wcpu *cb, uint64_t ts, uint32_t tid, uint32_t pid, const char *comm,
		  uint64_t seq)
{
	struct cs_switch l;

	memset(&l, 0, sizeof(l));
	l.h.ts = ts > cb->run_ts ? ts : cb->run_ts;
	l.h.size = sizeof(l);
	l.h.kind = CS_EV_SWITCH;
	l.h.cpu = cb->cpu;
	l.h.flags = PF_SW_FLAGS_V3;
	l.h.tid = cb->run_known ? cb->run_tid : 0;
	l.h.pid = cb->run_known ? cb->run_pid : 0;
	l.prev_state = 0x1; /* S: not known (pf_format.h) */
	l.syscall = -1;
	l.next_tid = tid;
	l.next_pid = pid;
	l.next_prio = 120;
	pf_comm_norm(l.next_comm, comm);
	put_switch(cb, &l, seq, true);
}

/*
 * A wake-up from an interrupt: its waking_common_flags (and 0 for the
 * wakings before it that have none yet). CS_WKF_HARDIRQ and CS_WKF_SOFTIRQ
 * are the kernel's TRACE_FLAG_HARDIRQ and TRACE_FLAG_SOFTIRQ bits.
 */
static void waking_irq(struct pf_wcpu *cb, uint8_t flags)
{
	uint8_t irq = flags & (CS_WKF_HARDIRQ | CS_WKF_SOFTIRQ);

	if (!irq)
		return;
	while (cb->nwk_flags < cb->nwk) {
		pb_varint(&cb->wk_flags, 0);
		cb->nwk_flags++;
	}
	pb_varint(&cb->wk_flags, irq);
	cb->nwk_flags++;
}

void pf_wcpu_waking(struct pf_wcpu *cb, const struct cs_waking *e, const char *comm,
		    uint64_t seq)
{
	bool xpid = tgid_default(&cb->tgid, e->h.tid) != e->h.pid;
	/* the waker is who the chain says runs on this CPU, unless it is not */
	bool xwaker = !cb->chain_known || cb->chain_tid != e->waker_tid ||
		      cb->chain_pid != e->waker_pid;

	pb_varint(&cb->a[A_WK_TS], e->h.ts - cb->wk_last);
	cb->wk_last = e->h.ts;
	pb_varint(&cb->a[A_WK_PID], e->h.tid);
	pb_varint(&cb->a[A_WK_CPU], e->h.aux);
	pb_varint(&cb->a[A_WK_PRIO], e->prio);
	pb_varint(&cb->a[A_WK_COMM], comm_index(cb, comm));
	pf_ord_put(&cb->wk_ord, seq);
	waking_irq(cb, e->h.flags);
	if (xpid || e->h.flags != PF_WK_FLAGS_V3 || xwaker || e->letter || e->source) {
		size_t m = pb_nest_begin(&cb->wk_x, CS_WAKING_X);

		pb_uint(&cb->wk_x, WX_INDEX, cb->nwk);
		if (xpid)
			pb_uint(&cb->wk_x, WX_PID, e->h.pid);
		if (e->h.flags != PF_WK_FLAGS_V3)
			pb_uint(&cb->wk_x, WX_FLAGS, e->h.flags | 0x100); /* 0x100: given */
		if (xwaker) {
			pb_uint(&cb->wk_x, WX_WAKER, e->waker_tid);
			pb_uint(&cb->wk_x, WX_WAKER_PID, e->waker_pid);
		}
		if (e->letter)
			pb_uint(&cb->wk_x, WX_LETTER, e->letter);
		if (e->source)
			pb_uint(&cb->wk_x, WX_SOURCE, e->source);
		pb_nest_end(&cb->wk_x, m);
	}
	if (xpid && cs_hmap_put(&cb->tgid, e->h.tid, 0, e->h.pid))
		cb->wk_x.err = -ENOMEM;
	cb->nwk++;
}

/* ---- writing it out ---- */

void pf_wcpu_bundle(struct pf_wcpu *cb, struct pb_buf *b)
{
	size_t mb, mc;
	uint32_t i;
	int a;

	mb = pb_nest_begin(b, TP_FTRACE);
	pb_uint(b, FB_CPU, cb->cpu);
	if (cb->ev.lost)
		pb_bool(b, FB_LOST, true);
	if (cb->nsw || cb->nwk) {
		pf_ord_flush(&cb->sw_ord);
		pf_ord_flush(&cb->wk_ord);
		mc = pb_nest_begin(b, FB_COMPACT);
		for (i = 0; i < cb->comms.n; i++)
			pb_strn(b, CS_INTERN, cb->comms.s[i], CS_COMM_LEN);
		for (a = 0; a < A_N; a++)
			pb_packed(b, pf_array_field[a], &cb->a[a]);
		pb_packed(b, CS_WAKING_FLAGS, &cb->wk_flags);
		pb_packed(b, CS_SWITCH_ORDER, &cb->sw_ord.out);
		pb_packed(b, CS_WAKING_ORDER, &cb->wk_ord.out);
		pb_packed(b, CS_SYSCALL_TABLE, &cb->sys_tab);
		pb_raw(b, cb->sw_x.p, cb->sw_x.len);
		pb_raw(b, cb->wk_x.p, cb->wk_x.len);
		pb_nest_end(b, mc);
	}
	pb_raw(b, cb->ev.buf.p, cb->ev.buf.len);
	pb_nest_end(b, mb);
}

/* ======================================================================
 * Reader
 * ====================================================================== */

static int bad(struct pf_rcpu *rc, const char *what)
{
	rc->why = what;
	return -EINVAL;
}

static int nomem(struct pf_rcpu *rc)
{
	rc->why = "out of memory";
	return -ENOMEM;
}

/* ---- the CompactSched message ---- */

/* Find and parse the next exception message after x->cur. */
static int rx_next(struct pf_rcpu *rc, struct pf_rx *x, unsigned int nfields)
{
	struct pb_field f, g;
	struct pb_dec d;
	int ret;

	x->have = false;
	while ((ret = pb_next(&x->cur, &f)) > 0)
		if (f.num == x->field)
			break;
	if (ret < 0)
		return bad(rc, "bad compact_sched");
	if (!ret)
		return 0;
	if (f.wt != PB_LEN)
		return bad(rc, "bad exception entry");
	x->mask = 0;
	memset(x->v, 0, sizeof(x->v));
	pb_sub(&d, &f);
	while ((ret = pb_next(&d, &g)) > 0) {
		if (g.num >= nfields)
			continue; /* a later version's field */
		if (g.wt != PB_VARINT)
			return bad(rc, "bad exception field");
		x->mask |= 1u << g.num;
		x->v[g.num] = g.u;
	}
	if (ret < 0 || !(x->mask & 1u << SX_INDEX))
		return bad(rc, "bad exception entry");
	x->index = x->v[SX_INDEX];
	x->have = true;
	return 0;
}

/* The exception for element i, if any: 1 (in x), 0, or an error. */
static int rx_take(struct pf_rcpu *rc, struct pf_rx *x, uint32_t i)
{
	if (!x->have)
		return 0;
	if (x->index < i)
		return bad(rc, "exceptions out of order");
	return x->index == i;
}

void pf_rcpu_free(struct pf_rcpu *rc)
{
	if (!rc)
		return;
	free(rc->comms);
	free(rc->sys);
	cs_hmap_free(&rc->tgid);
	free(rc);
}

static int add_comm(struct pf_rcpu *rc, const struct pb_field *f)
{
	if (f->wt != PB_LEN || f->len > CS_COMM_LEN)
		return bad(rc, "bad intern_table entry");
	if (cs_grow(&rc->comms, rc->ncomms, &rc->capcomms, sizeof(*rc->comms), 64))
		return nomem(rc);
	rc->comms[rc->ncomms++] = (struct pf_span){ f->data, f->len };
	return 0;
}

static int set_sys_table(struct pf_rcpu *rc, const struct pb_field *f)
{
	long n = pb_count_varints(f->data, f->len);
	struct pb_dec d;
	uint64_t v;
	long i;

	if (n < 0 || rc->nsys)
		return bad(rc, "bad syscall_table");
	if ((uint32_t)n > rc->capsys) {
		void *p = realloc(rc->sys, (size_t)n * sizeof(*rc->sys));

		if (!p)
			return nomem(rc);
		rc->sys = p;
		rc->capsys = (uint32_t)n;
	}
	pb_sub(&d, f);
	for (i = 0; i < n; i++) {
		int64_t s;

		pb_get_varint(&d, &v);
		s = pb_unzigzag(v);
		if (s < INT16_MIN || s > INT16_MAX)
			return bad(rc, "bad syscall_table");
		rc->sys[i] = (int16_t)s;
	}
	rc->nsys = (uint32_t)n;
	return 0;
}

static int set_array(struct pf_rcpu *rc, int a, const struct pb_field *f,
		     uint32_t *count)
{
	long n;

	if (f->wt != PB_LEN || rc->has[a])
		return bad(rc, "bad compact_sched array");
	n = pb_count_varints(f->data, f->len);
	if (n < 0 || n > (long)UINT32_MAX)
		return bad(rc, "bad compact_sched array");
	rc->has[a] = true;
	pb_sub(&rc->a[a], f);
	*count = (uint32_t)n;
	return 0;
}

static int compact_field(struct pf_rcpu *rc, const struct pb_field *f,
			 uint32_t *counts)
{
	int a;

	for (a = 0; a < A_N; a++)
		if (f->num == pf_array_field[a])
			return set_array(rc, a, f, &counts[a]);
	switch (f->num) {
	case CS_INTERN:
		return add_comm(rc, f);
	case CS_SWITCH_LONG_WAIT:
		if (f->wt != PB_LEN || rc->has_long_wait)
			return bad(rc, "bad switch_long_wait");
		rc->has_long_wait = true;
		pb_sub(&rc->long_wait, f);
		return 0;
	case CS_SWITCH_ORDER:
	case CS_WAKING_ORDER: {
		struct pf_span *s = f->num == CS_SWITCH_ORDER ? &rc->sw_ord : &rc->wk_ord;

		if (f->wt != PB_LEN || s->p)
			return bad(rc, "bad order array");
		*s = (struct pf_span){ f->data, f->len };
		return 0;
	}
	case CS_SYSCALL_TABLE:
		if (f->wt != PB_LEN)
			return bad(rc, "bad syscall_table");
		return set_sys_table(rc, f);
	}
	return 0;
}

int pf_rcpu_parse(struct pf_rcpu *rc, const uint8_t *p, size_t len)
{
	uint32_t counts[A_N] = { 0 };
	struct pb_field f;
	struct pb_dec d;
	int ret, a;

	pb_dec_init(&d, p, len);
	while ((ret = pb_next(&d, &f)) > 0)
		if ((ret = compact_field(rc, &f, counts)))
			return ret;
	if (ret < 0)
		return bad(rc, "bad compact_sched");
	rc->nsw = counts[A_SW_FIRST];
	rc->nwk = counts[A_WK_TS];
	for (a = 0; a < A_N; a++)
		if (counts[a] != (a <= A_SW_LAST ? rc->nsw : rc->nwk))
			return bad(rc, "compact_sched arrays of different lengths");
	if (rc->has_long_wait && !rc->nsw)
		return bad(rc, "bad switch_long_wait");
	pb_dec_init(&rc->xs.cur, p, len);
	rc->xs.field = CS_SWITCH_X;
	pb_dec_init(&rc->xw.cur, p, len);
	rc->xw.field = CS_WAKING_X;
	if ((ret = rx_next(rc, &rc->xs, SX_NFIELDS)))
		return ret;
	return rx_next(rc, &rc->xw, WX_NFIELDS);
}

void pf_rcpu_reset(struct pf_rcpu *rc)
{
	memset(rc->a, 0, sizeof(rc->a));
	memset(rc->has, 0, sizeof(rc->has));
	rc->long_wait = (struct pb_dec){ NULL, NULL };
	rc->has_long_wait = false;
	rc->nsw = rc->nwk = rc->isw = rc->iwk = 0;
	rc->sw_ord = rc->wk_ord = (struct pf_span){ NULL, 0 };
	rc->ncomms = rc->nsys = 0;
	rc->xs.have = rc->xw.have = false;
	rc->sw_ts = rc->wk_ts = 0;
	rc->chain_known = false;
	cs_hmap_clear(&rc->tgid);
}

/* ---- records ---- */

static int get_elem(struct pf_rcpu *rc, int a, uint64_t *v, uint64_t max)
{
	if (pb_get_varint(&rc->a[a], v) || *v > max)
		return bad(rc, "bad compact_sched value");
	return 0;
}

static void put_comm(char *dst, size_t size, const struct pf_span *s)
{
	memset(dst, 0, size);
	if (s->len)
		memcpy(dst, s->p, s->len < size ? s->len : size);
}

/* The switch's prev and next tasks, from the chain, the tgid map and x. */
static int switch_tasks(struct pf_rcpu *rc, struct cs_switch *e,
			const struct pf_rx *x)
{
	uint32_t m = x ? x->mask : 0;
	unsigned int f;

	for (f = SX_PREV_TID; f <= SX_NEXT_PID; f++)
		if ((m & 1u << f) && x->v[f] > UINT32_MAX)
			return bad(rc, "bad switch task");
	if (m & 1u << SX_PREV_TID) {
		e->h.tid = (uint32_t)x->v[SX_PREV_TID];
		e->h.pid = tgid_default(&rc->tgid, e->h.tid);
	} else if (rc->chain_known) {
		e->h.tid = rc->chain_tid;
		e->h.pid = rc->chain_pid;
	} else {
		return bad(rc, "switch without a previous task");
	}
	/* the tgid map changes exactly where the writer's did: where a pid is given */
	if (m & 1u << SX_PREV_PID) {
		e->h.pid = (uint32_t)x->v[SX_PREV_PID];
		if (cs_hmap_put(&rc->tgid, e->h.tid, 0, e->h.pid))
			return nomem(rc);
	}
	if (m & 1u << SX_NEXT_PID) {
		e->next_pid = (uint32_t)x->v[SX_NEXT_PID];
		if (cs_hmap_put(&rc->tgid, e->next_tid, 0, e->next_pid))
			return nomem(rc);
	} else {
		e->next_pid = tgid_default(&rc->tgid, e->next_tid);
	}
	rc->chain_known = true;
	rc->chain_tid = e->next_tid;
	rc->chain_pid = e->next_pid;
	return 0;
}

/* Raw state, flags and aux: cs_state_unreport() unless x says otherwise. */
static int switch_state(struct pf_rcpu *rc, struct cs_switch *e, uint64_t rep,
			const struct pf_rx *x)
{
	uint32_t m = x ? x->mask : 0;
	unsigned int raw, ex;
	bool pre;

	cs_state_unreport((unsigned int)rep, &raw, &ex, &pre);
	e->h.flags = (pre ? CS_SWF_PREEMPT : 0) | (rc->version >= 3 ? PF_SW_FLAGS_V3 : 0);
	if (m & 1u << SX_STATE) {
		if (x->v[SX_STATE] > UINT32_MAX || x->v[SX_EXIT_STATE] > UINT8_MAX)
			return bad(rc, "bad switch state");
		raw = (unsigned int)x->v[SX_STATE];
		ex = m & 1u << SX_EXIT_STATE ? (unsigned int)x->v[SX_EXIT_STATE] : 0;
	}
	if (m & 1u << SX_FLAGS) {
		if (x->v[SX_FLAGS] > UINT8_MAX)
			return bad(rc, "bad switch flags");
		e->h.flags = (uint8_t)x->v[SX_FLAGS];
	}
	if (m & 1u << SX_AUX) {
		if (x->v[SX_AUX] > UINT16_MAX)
			return bad(rc, "bad switch aux");
		e->h.aux = (uint16_t)x->v[SX_AUX];
	}
	e->prev_state = raw;
	e->prev_exit_state = (uint8_t)ex;
	return 0;
}

/* A switch's fields every version has, from its array elements and exception x (or NULL). */
static int switch_fill(struct pf_rcpu *rc, struct cs_switch *e, uint64_t dts, uint64_t rep,
		       uint64_t tid, uint64_t prio, uint64_t ci, uint64_t si, const struct pf_rx *x)
{
	int ret;

	rc->sw_ts += dts;
	e->h.ts = rc->sw_ts;
	e->h.size = sizeof(*e);
	e->h.kind = CS_EV_SWITCH;
	e->h.cpu = rc->cpu;
	e->next_tid = (uint32_t)tid;
	e->next_prio = (uint8_t)prio;
	e->syscall = rc->sys[si];
	put_comm(e->next_comm, CS_COMM_LEN, &rc->comms[ci]);
	if ((ret = switch_tasks(rc, e, x)) || (ret = switch_state(rc, e, rep, x)))
		return ret;
	rc->run_tid = e->next_tid;
	rc->run_pid = e->next_pid;
	rc->run_known = true;
	return 0;
}

/* The rest of a version-3 switch: the lock verdict rides in w. */
static int switch_v3(struct pf_rcpu *rc, struct cs_switch *e, uint64_t dts, uint64_t rep,
		     uint64_t tid, uint64_t prio, uint64_t ci, uint64_t si, uint64_t lock)
{
	int ret, hit = rx_take(rc, &rc->xs, rc->isw);
	bool link;

	if (hit < 0)
		return hit;
	if ((ret = switch_fill(rc, e, dts, rep, tid, prio, ci, si, hit ? &rc->xs : NULL)))
		return ret;
	if (lock)
		e->h.flags |= CS_SWF_LOCK;
	rc->isw++;
	link = hit && rc->version >= 4 && (rc->xs.mask & 1u << SX_LINK);
	if (link && rc->xs.v[SX_LINK] != 1)
		return bad(rc, "bad link");
	if (hit && (ret = rx_next(rc, &rc->xs, SX_NFIELDS)))
		return ret;
	return link ? PF_LINK : 0;
}

int pf_rcpu_switch(struct pf_rcpu *rc, struct cs_switch *e)
{
	uint64_t dts, rep, tid, prio, ci, si, wait;
	int ret, hit;

	if ((ret = get_elem(rc, A_SW_TS, &dts, UINT64_MAX)) ||
	    (ret = get_elem(rc, A_SW_STATE, &rep, UINT32_MAX)) ||
	    (ret = get_elem(rc, A_SW_PID, &tid, UINT32_MAX)) ||
	    (ret = get_elem(rc, A_SW_PRIO, &prio, UINT8_MAX)) ||
	    (ret = get_elem(rc, A_SW_COMM, &ci, UINT32_MAX)) ||
	    (ret = get_elem(rc, A_SW_SYS, &si, UINT64_MAX)))
		return ret;
	wait = si % SW_WAIT_SPAN;
	si /= SW_WAIT_SPAN;
	if (ci >= rc->ncomms || si >= rc->nsys)
		return bad(rc, "bad compact_sched index");
	if (rc->version >= 3) {
		if (wait > 1)
			return bad(rc, "bad switch_sys_wait");
		return switch_v3(rc, e, dts, rep, tid, prio, ci, si, wait);
	}
	if (wait == SW_WAIT_LONG &&
	    (!rc->has_long_wait || pb_get_varint(&rc->long_wait, &wait) ||
	     wait < SW_WAIT_LONG || wait > UINT16_MAX + 1ull))
		return bad(rc, "bad switch_long_wait");
	hit = rx_take(rc, &rc->xs, rc->isw);
	if (hit < 0)
		return hit;
	if ((ret = switch_fill(rc, e, dts, rep, tid, prio, ci, si, hit ? &rc->xs : NULL)))
		return ret;
	if (e->h.flags & CS_SWF_NEXT_WAIT)
		return bad(rc, "bad switch flags");
	if (wait) {
		e->h.flags |= CS_SWF_NEXT_WAIT;
		e->h.aux = (uint16_t)(wait - 1);
	}
	if (++rc->isw == rc->nsw && rc->has_long_wait && rc->long_wait.p != rc->long_wait.end)
		return bad(rc, "bad switch_long_wait");
	return hit ? rx_next(rc, &rc->xs, SX_NFIELDS) : 0;
}

int pf_rcpu_waking(struct pf_rcpu *rc, struct cs_waking *e)
{
	uint64_t dts, tid, tcpu, prio, ci;
	const struct pf_rx *x = &rc->xw;
	int ret, hit;

	if ((ret = get_elem(rc, A_WK_TS, &dts, UINT64_MAX)) ||
	    (ret = get_elem(rc, A_WK_PID, &tid, UINT32_MAX)) ||
	    (ret = get_elem(rc, A_WK_CPU, &tcpu, UINT16_MAX)) ||
	    (ret = get_elem(rc, A_WK_PRIO, &prio, UINT8_MAX)) ||
	    (ret = get_elem(rc, A_WK_COMM, &ci, UINT32_MAX)))
		return ret;
	if (ci >= rc->ncomms)
		return bad(rc, "bad compact_sched index");
	hit = rx_take(rc, &rc->xw, rc->iwk);
	if (hit < 0)
		return hit;
	rc->wk_ts += dts;
	e->h.ts = rc->wk_ts;
	e->h.size = sizeof(*e);
	e->h.kind = CS_EV_WAKING;
	e->h.cpu = rc->cpu;
	e->h.aux = (uint16_t)tcpu;
	e->h.tid = (uint32_t)tid;
	e->h.pid = tgid_default(&rc->tgid, e->h.tid);
	e->prio = (uint8_t)prio;
	if (hit && (x->mask & 1u << WX_PID)) {
		if (x->v[WX_PID] > UINT32_MAX)
			return bad(rc, "bad waking pid");
		e->h.pid = (uint32_t)x->v[WX_PID];
		if (cs_hmap_put(&rc->tgid, e->h.tid, 0, e->h.pid))
			return nomem(rc);
	}
	if (rc->version >= 3)
		e->h.flags = PF_WK_FLAGS_V3;
	if (hit && (x->mask & 1u << WX_FLAGS)) {
		/* version 3 marks a given value with 0x100 (0 is not the default) */
		if (rc->version >= 3 ? x->v[WX_FLAGS] < 0x100 || x->v[WX_FLAGS] > 0x1ff :
				       x->v[WX_FLAGS] > UINT8_MAX)
			return bad(rc, "bad waking flags");
		e->h.flags = (uint8_t)x->v[WX_FLAGS];
	}
	if (hit && (x->mask & (1u << WX_LETTER | 1u << WX_SOURCE))) {
		if (x->v[WX_LETTER] > UINT8_MAX || x->v[WX_SOURCE] > UINT32_MAX)
			return bad(rc, "bad waking source");
		e->letter = (uint8_t)x->v[WX_LETTER];
		e->source = (uint32_t)x->v[WX_SOURCE];
	}
	if (rc->run_known) {
		e->waker_tid = rc->run_tid;
		e->waker_pid = rc->run_pid;
	}
	if (hit && (x->mask & 1u << WX_WAKER)) {
		if (x->v[WX_WAKER] > UINT32_MAX || x->v[WX_WAKER_PID] > UINT32_MAX)
			return bad(rc, "bad waker");
		e->waker_tid = (uint32_t)x->v[WX_WAKER];
		e->waker_pid = (uint32_t)x->v[WX_WAKER_PID];
	}
	rc->iwk++;
	return hit ? rx_next(rc, &rc->xw, WX_NFIELDS) : 0;
}
