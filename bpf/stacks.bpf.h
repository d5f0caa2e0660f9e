/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stacks.bpf.h: call stacks at blocking switches and lock waits (--stacks).
 *
 * The kernel stack comes from bpf_get_stack(). The user stack is unwound
 * here, without frame pointers: user space builds, from each mapped file's
 * .eh_frame, a table of rows "from this pc on, the caller's frame is at
 * CFA = rsp|rbp + offset, rbp saved at CFA + offset" (user/ehframe.c) and
 * tells, per process, which table covers which executable mapping
 * (user/unwind.c). Each frame is then a binary search and two reads of the
 * user stack. The stack is deduplicated here: its id is a hash of its
 * frames, its frames are sent (CS_EV_STACK_DEF) the first time the id is
 * seen, and each capture costs the ring one 32-byte CS_EV_STACK record.
 *
 * Included by concscope.bpf.c after reserve() and submit(); everything is
 * dead code unless stacks_on is set before load.
 */
#ifndef CS_STACKS_BPF_H
#define CS_STACKS_BPF_H

#ifndef __BPF__
#error "stacks.bpf.h is for BPF programs"
#endif

const volatile bool stacks_on = false;

/* The rows of every table, appended by user space (mmapped); sized before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_uw_row);
} uw_rows SEC(".maps");

/* One entry per file: its rows. Entry 0 is never used (0: no table). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cs_uw_table);
} uw_tables SEC(".maps");

/* Per process: its executable mappings and their tables. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct cs_uw_proc);
} uw_procs SEC(".maps");

/* Stack ids whose frames were sent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} stacks_sent SEC(".maps");

/* Where an unwinding is: the registers of the frame it is at. */
struct cs_uw_state {
	__u64 ip, sp, bp;
	__u32 tgid;
	__u32 frame;  /* 0: ip is where the thread is; else a return address */
	__u32 flags;  /* CS_STF_* when it stopped early */
	__u32 pad;
};

#define CS_STACK_SLOTS 128 /* CS_STACK_KERNEL + CS_STACK_PY + CS_STACK_USER, rounded up */
struct cs_stk_scratch {
	__u64 pcs[CS_STACK_SLOTS];
	struct cs_uw_state st;
	struct {   /* the stack whose frames cs_send_part() sends */
		__u64 id, ts;
		__u32 tid, tgid;
		__u32 nk, np, nu, pad;
	} def;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_stk_scratch);
} stk_scratch SEC(".maps");

#include "pyframes.bpf.h"

/* 1 when a <= b, 0 otherwise, without a branch (both below 2^63). */
static __always_inline __u64 le_mask(__u64 a, __u64 b)
{
	return 1 ^ ((b - a) >> 63);
}

/* The mapping of proc that holds ip, or NULL (a binary search without branches). */
static __always_inline const struct cs_uw_map *uw_map_of(const struct cs_uw_proc *p, __u64 ip)
{
	__u32 lo = 0, len = p->n, half, i;
	const struct cs_uw_map *m;

	if (!len || len > CS_UW_MAPS)
		return NULL;
	for (i = 0; i < 6; i++) {
		if (len <= 1)
			break;
		half = len / 2;
		lo += half * le_mask(p->m[(lo + half) & (CS_UW_MAPS - 1)].start, ip);
		len -= half;
	}
	m = &p->m[lo & (CS_UW_MAPS - 1)];
	return ip >= m->start && ip < m->end ? m : NULL;
}

/* The row of table t that covers pc, or NULL. */
static __always_inline const struct cs_uw_row *uw_row_of(const struct cs_uw_table *t, __u32 pc)
{
	__u32 lo = 0, len = t->n, half, i, key;
	const struct cs_uw_row *r;

	if (!len)
		return NULL;
	for (i = 0; i < 24; i++) {
		if (len <= 1)
			break;
		half = len / 2;
		key = t->first + lo + half;
		r = bpf_map_lookup_elem(&uw_rows, &key);
		if (!r)
			return NULL;
		lo += half * le_mask(r->pc, pc);
		len -= half;
	}
	key = t->first + lo;
	r = bpf_map_lookup_elem(&uw_rows, &key);
	return r && r->pc <= pc ? r : NULL;
}

/*
 * One frame up from st: 0 when st is now the caller's frame, 1 at the
 * outermost frame, -1 when the unwinding must stop here (st->flags says
 * why). A global function: the verifier checks it once, not per frame.
 */
__noinline int cs_uw_step(struct cs_uw_state *st)
{
	const struct cs_uw_proc *p;
	const struct cs_uw_map *m;
	const struct cs_uw_table *t;
	const struct cs_uw_row *r;
	__u64 cfa, ra = 0, bp;
	__u32 tgid, key;

	if (!st)
		return -1;
	tgid = st->tgid;
	p = bpf_map_lookup_elem(&uw_procs, &tgid);
	m = p ? uw_map_of(p, st->ip) : NULL;
	key = m ? m->table : 0;
	t = key ? bpf_map_lookup_elem(&uw_tables, &key) : NULL;
	/* a return address is just past its call: look up the call */
	r = t ? uw_row_of(t, (__u32)(st->ip - m->bias - (st->frame ? 1 : 0))) : NULL;
	if (!r || r->type == CS_UW_NONE) {
		st->flags |= CS_STF_NO_TABLE;
		return -1;
	}
	if (r->type == CS_UW_END)
		return 1;
	if (r->type == CS_UW_RBP)
		cfa = st->bp + r->cfa;
	else if (r->type == CS_UW_PLT)
		cfa = st->sp + 8 + ((st->ip & 15) >= (__u64)r->cfa ? 8 : 0);
	else
		cfa = st->sp + r->cfa;
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8))) {
		st->flags |= CS_STF_BAD_READ;
		return -1;
	}
	if (r->rbp) {
		if (bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa + r->rbp))) {
			st->flags |= CS_STF_BAD_READ;
			return -1;
		}
		st->bp = bp;
	}
	st->sp = cfa;
	st->ip = ra;
	st->frame++;
	return ra ? 0 : 1;
}

/* The user frames of task into s->pcs[at..]; how many. */
static __always_inline __u32 uw_user(struct cs_stk_scratch *s, struct task_struct *task, __u32 at)
{
	struct pt_regs *regs;
	__u32 n = 0, i;
	int ret;

	if (task->flags & CS_PF_KTHREAD) {
		s->st.flags |= CS_STF_NO_USER;
		return 0;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs) {
		s->st.flags |= CS_STF_NO_USER;
		return 0;
	}
	s->st.ip = CS_REG_IP(regs);
	s->st.sp = CS_REG_SP(regs);
	s->st.bp = CS_REG_FP(regs);
	s->st.tgid = task->tgid;
	s->st.frame = 0;
	barrier_var(at); /* keep the mask below: the verifier needs it */
	for (i = 0; i < CS_STACK_USER; i++) {
		s->pcs[(at + n) & (CS_STACK_SLOTS - 1)] = s->st.ip;
		n++;
		ret = cs_uw_step(&s->st);
		if (ret)
			return n;
	}
	s->st.flags |= CS_STF_TRUNCATED;
	return n;
}

static __always_inline __u64 stack_hash(const struct cs_stk_scratch *s, __u32 n, __u32 tgid)
{
	__u64 h = 0xcbf29ce484222325ull ^ tgid;
	__u32 i;

	for (i = 0; i < CS_STACK_SLOTS; i++) {
		if (i >= n)
			break;
		h = (h ^ s->pcs[i]) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

/*
 * Part part of the frames of a stack seen for the first time (its counts
 * and owner in s->def). A global function: the verifier checks it once,
 * not once per part (eight parts inline were over its budget).
 */
__noinline int cs_send_part(struct cs_stk_scratch *s, __u32 part)
{
	struct cs_stack_def *d;
	__u32 i, n, base;

	if (!s)
		return -1;
	n = s->def.nk + s->def.np + s->def.nu;
	base = part * CS_STACK_PART;
	if (base >= n || n > CS_STACK_SLOTS)
		return 1;
	d = reserve(sizeof(*d), CS_EV_STACK_DEF, s->def.tid, s->def.tgid, s->def.ts);
	if (!d)
		return -1;
	d->h.aux = part;
	d->h.flags = s->st.flags;
	d->id = s->def.id;
	d->nkernel = s->def.nk;
	d->nuser = s->def.nu;
	d->nother = s->def.np;
	d->n = n - base > CS_STACK_PART ? CS_STACK_PART : n - base;
	for (i = 0; i < CS_STACK_PART; i++) /* past the stack's end: 0, without a branch */
		d->pcs[i] = s->pcs[(base + i) & (CS_STACK_SLOTS - 1)] & -(__u64)(base + i < n);
	submit(d);
	return 0;
}

/* The frames of a stack seen for the first time, in parts of CS_STACK_PART. */
static __always_inline void send_def(struct cs_stk_scratch *s, __u64 id, __u32 nk, __u32 np,
				     __u32 nu, struct task_struct *task, __u64 ts)
{
	__u32 part;

	s->def.id = id;
	s->def.ts = ts;
	s->def.tid = task->pid;
	s->def.tgid = task->tgid;
	s->def.nk = nk;
	s->def.np = np;
	s->def.nu = nu;
	for (part = 0; part < CS_STACK_SLOTS / CS_STACK_PART; part++)
		if (cs_send_part(s, part))
			break;
}

/*
 * The stack of task (the current task) now: a CS_EV_STACK record stamped
 * ts, written before the records it belongs to, and its frames the first
 * time they are seen.
 */
static __noinline void stack_capture(void *ctx, struct task_struct *task, __u64 ts, __u32 where)
{
	struct cs_stk_scratch *s;
	struct cs_stack *e;
	__u32 zero = 0, nk = 0, np, nu;
	__u64 id = 0;
	__u8 one = 1;
	long n;

	s = bpf_map_lookup_elem(&stk_scratch, &zero);
	if (!s)
		return;
	s->st.flags = 0;
	n = bpf_get_stack(ctx, s->pcs, CS_STACK_KERNEL * sizeof(__u64), 0);
	if (n > 0)
		nk = n / sizeof(__u64);
	if (nk > CS_STACK_KERNEL)
		nk = CS_STACK_KERNEL;
	/* the Python frames, above the native ones that run them */
	np = py_frames(s, task, nk);
	nu = uw_user(s, task, nk + np);
	if (nk + np + nu) {
		id = stack_hash(s, nk + np + nu, task->tgid);
		if (!bpf_map_lookup_elem(&stacks_sent, &id)) {
			send_def(s, id, nk, np, nu, task, ts);
			bpf_map_update_elem(&stacks_sent, &id, &one, BPF_ANY);
		}
	}
	e = reserve(sizeof(*e), CS_EV_STACK, task->pid, task->tgid, ts);
	if (!e)
		return;
	e->h.aux = where;
	e->h.flags = s->st.flags;
	e->id = id;
	submit(e);
}

/*
 * At a switch-out that blocks (not a preemption, not an exit); rep is the
 * state the switch reports for prev (cs_report_state()).
 */
static __always_inline void stack_at_switch(void *ctx, struct task_struct *prev, unsigned int rep,
					    __u64 ts)
{
	if (rep == 0 || rep == 0x100 || rep == 0x10 || rep == 0x20)
		return;
	stack_capture(ctx, prev, ts, CS_STK_SWITCH);
}

#endif /* CS_STACKS_BPF_H */
