// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * core.c: event stream -> thread states, timeline and metrics.
 *
 * Each tracked thread is in exactly one state at a time; an event closes the
 * current interval (accounted only inside the recording window) and opens the
 * next. Each CPU remembers who is running on it and which tracked threads are
 * waiting in its run queue, so a preempted or woken thread can be told who
 * held the CPU while it waited.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"

#define NOT_SET UINT64_MAX

/* u32 -> u32 open-addressing map (key stored +1, 0 = empty). */
struct u32map {
	uint32_t *keys, *vals;
	size_t cap, n;
};

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

static uint32_t *map_slot(const struct u32map *m, uint32_t key)
{
	size_t i, mask = m->cap - 1;

	if (!m->cap)
		return NULL;
	for (i = hash32(key) & mask;; i = (i + 1) & mask) {
		if (m->keys[i] == key + 1)
			return &m->vals[i];
		if (!m->keys[i])
			return NULL;
	}
}

static int map_put(struct u32map *m, uint32_t key, uint32_t val);

static int map_grow(struct u32map *m)
{
	struct u32map nm = { .cap = m->cap ? m->cap * 2 : 256 };
	size_t i;

	nm.keys = calloc(nm.cap, sizeof(*nm.keys));
	nm.vals = calloc(nm.cap, sizeof(*nm.vals));
	if (!nm.keys || !nm.vals) {
		free(nm.keys);
		free(nm.vals);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++)
		if (m->keys[i])
			map_put(&nm, m->keys[i] - 1, m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = nm;
	return 0;
}

static int map_put(struct u32map *m, uint32_t key, uint32_t val)
{
	size_t i, mask;

	if ((m->n + 1) * 2 > m->cap && map_grow(m))
		return -ENOMEM;
	mask = m->cap - 1;
	for (i = hash32(key) & mask;; i = (i + 1) & mask) {
		if (m->keys[i] == key + 1) {
			m->vals[i] = val;
			return 0;
		}
		if (!m->keys[i]) {
			m->keys[i] = key + 1;
			m->vals[i] = val;
			m->n++;
			return 0;
		}
	}
}

static void map_free(struct u32map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

struct cs_cpu {
	uint32_t cur;      /* tid running here */
	bool known;        /* cur/since come from a switch seen on this CPU */
	uint64_t since;    /* when cur started running */
	struct cs_thread **ready; /* tracked threads waiting in this run queue */
	unsigned int nready, capready;
};

#define MAX_NAMES (1u << 20)

struct cs_core {
	struct cs_core_cfg cfg;
	struct cs_core_stats stats;
	uint64_t wb, we;     /* recording window */
	uint64_t last_ts;
	uint64_t tl_width;
	unsigned int tl_used;
	int cmd_status;

	struct cs_thread **threads;
	size_t nthreads, capthreads;
	struct u32map tidx;     /* tid -> index in threads */
	struct u32map tracked;  /* tgid -> 1 */
	struct u32map nameidx;  /* tid -> index in names */
	char (*names)[CS_COMM_LEN];
	size_t nnames, capnames;

	struct cs_cpu *cpus;
	unsigned int ncpus;
	bool finished;

	struct cs_lockstat *locks;
	size_t nlocks, caplocks;
	uint32_t *lockidx;      /* open addressing: index + 1, 0 = empty */
	size_t lockidx_cap;
};

#define MAX_LOCKS 65536

struct cs_core *cs_core_new(const struct cs_core_cfg *cfg)
{
	struct cs_core *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->wb = c->we = NOT_SET;
	c->tl_width = cfg->tl_width_ns ? cfg->tl_width_ns : 1000000;
	c->cmd_status = -1;
	return c;
}

void cs_core_free(struct cs_core **core)
{
	struct cs_core *c = *core;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nthreads; i++) {
		cs_hist_free(&c->threads[i]->lat);
		free(c->threads[i]->tl);
		free(c->threads[i]);
	}
	for (i = 0; i < c->ncpus; i++)
		free(c->cpus[i].ready);
	free(c->threads);
	free(c->cpus);
	free(c->locks);
	free(c->lockidx);
	free(c->names);
	map_free(&c->tidx);
	map_free(&c->tracked);
	map_free(&c->nameidx);
	free(c);
	*core = NULL;
}

void cs_core_track(struct cs_core *c, uint32_t tgid)
{
	map_put(&c->tracked, tgid, 1);
}

bool cs_core_is_tracked(const struct cs_core *c, uint32_t tgid)
{
	return c->cfg.track_all || map_slot(&c->tracked, tgid);
}

/* ---- names of every task seen ---- */

/* A comm from a record, always terminated (a saved trace may hold anything). */
static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, CS_COMM_LEN);
	dst[CS_COMM_LEN - 1] = 0;
}

static void set_name(struct cs_core *c, uint32_t tid, const char *comm)
{
	uint32_t *slot = map_slot(&c->nameidx, tid);

	if (slot) {
		copy_comm(c->names[*slot], comm);
		return;
	}
	if (c->nnames >= MAX_NAMES)
		return;
	if (c->nnames == c->capnames) {
		size_t cap = c->capnames ? c->capnames * 2 : 256;
		void *p = realloc(c->names, cap * CS_COMM_LEN);

		if (!p)
			return;
		c->names = p;
		c->capnames = cap;
	}
	copy_comm(c->names[c->nnames], comm);
	if (!map_put(&c->nameidx, tid, (uint32_t)c->nnames))
		c->nnames++;
}

const char *cs_core_comm(const struct cs_core *c, uint32_t tid)
{
	uint32_t *slot = map_slot(&c->nameidx, tid);

	return slot ? c->names[*slot] : NULL;
}

/* ---- CPUs ---- */

static struct cs_cpu *get_cpu(struct cs_core *c, unsigned int cpu)
{
	if (cpu >= 4096)
		return NULL;
	if (cpu >= c->ncpus) {
		unsigned int n = cpu + 1;
		struct cs_cpu *p = realloc(c->cpus, n * sizeof(*p));

		if (!p)
			return NULL;
		memset(p + c->ncpus, 0, (n - c->ncpus) * sizeof(*p));
		c->cpus = p;
		c->ncpus = n;
	}
	return &c->cpus[cpu];
}

static void ready_enter(struct cs_core *c, struct cs_thread *t, uint64_t ts)
{
	struct cs_cpu *cpu = get_cpu(c, t->cpu);

	t->wait_from = ts;
	if (!cpu)
		return;
	if (cpu->nready == cpu->capready) {
		unsigned int cap = cpu->capready ? cpu->capready * 2 : 8;
		void *p = realloc(cpu->ready, cap * sizeof(*cpu->ready));

		if (!p)
			return;
		cpu->ready = p;
		cpu->capready = cap;
	}
	cpu->ready[cpu->nready++] = t;
}

static void ready_leave(struct cs_core *c, struct cs_thread *t)
{
	struct cs_cpu *cpu = t->cpu < c->ncpus ? &c->cpus[t->cpu] : NULL;
	unsigned int i;

	if (!cpu)
		return;
	for (i = 0; i < cpu->nready; i++) {
		if (cpu->ready[i] == t) {
			cpu->ready[i] = cpu->ready[--cpu->nready];
			return;
		}
	}
}

/* ---- time accounting ---- */

static bool in_window(const struct cs_core *c, uint64_t ts)
{
	return c->wb != NOT_SET && ts >= c->wb && (c->we == NOT_SET || ts <= c->we);
}

/* Clip [a, b) to the window; returns its length (0 outside). */
static uint64_t clip(const struct cs_core *c, uint64_t *a, uint64_t *b)
{
	if (c->wb == NOT_SET)
		return 0;
	if (*a < c->wb)
		*a = c->wb;
	if (c->we != NOT_SET && *b > c->we)
		*b = c->we;
	return *b > *a ? *b - *a : 0;
}

/* Double the bucket width, merging buckets pairwise, for every thread. */
static void tl_halve(struct cs_core *c)
{
	size_t i;
	unsigned int b, s;

	for (i = 0; i < c->nthreads; i++) {
		uint64_t *tl = c->threads[i]->tl;

		if (!tl)
			continue;
		for (b = 0; b < CS_TL_BUCKETS / 2; b++)
			for (s = 0; s < CS_NACC; s++)
				tl[b * CS_NACC + s] = tl[2 * b * CS_NACC + s] +
						      tl[(2 * b + 1) * CS_NACC + s];
		memset(tl + CS_TL_BUCKETS / 2 * CS_NACC, 0,
		       CS_TL_BUCKETS / 2 * CS_NACC * sizeof(*tl));
	}
	c->tl_width *= 2;
	c->tl_used = (c->tl_used + 1) / 2;
}

static void tl_add(struct cs_core *c, struct cs_thread *t, unsigned int st,
		   uint64_t a, uint64_t b)
{
	uint64_t off_a, off_b, w;
	unsigned int i, last;

	/* wider buckets until b fits, short of overflowing (absurd times: the end is cut) */
	while (b - c->wb > c->tl_width * CS_TL_BUCKETS &&
	       c->tl_width <= UINT64_MAX / 2 / CS_TL_BUCKETS)
		tl_halve(c);
	if (!t->tl) {
		t->tl = calloc(CS_TL_BUCKETS * CS_NACC, sizeof(*t->tl));
		if (!t->tl)
			return;
	}
	w = c->tl_width;
	off_a = a - c->wb;
	off_b = b - c->wb;
	last = (unsigned int)((off_b - 1) / w);
	for (i = (unsigned int)(off_a / w); i <= last && i < CS_TL_BUCKETS; i++) {
		uint64_t lo = (uint64_t)i * w, hi = lo + w;

		if (lo < off_a)
			lo = off_a;
		if (hi > off_b)
			hi = off_b;
		t->tl[i * CS_NACC + st] += hi - lo;
	}
	if (last + 1 > c->tl_used)
		c->tl_used = last + 1 > CS_TL_BUCKETS ? CS_TL_BUCKETS : last + 1;
}

static void account(struct cs_core *c, struct cs_thread *t, unsigned int st,
		    uint64_t a, uint64_t b)
{
	if (st >= CS_NACC || b <= a || !clip(c, &a, &b))
		return;
	t->ns[st] += b - a;
	tl_add(c, t, st, a, b);
}

/* Close the current interval at ts and enter st. */
static void set_state(struct cs_core *c, struct cs_thread *t, enum cs_tstate st,
		      uint64_t ts)
{
	if (t->state == CS_ST_READY)
		ready_leave(c, t);
	account(c, t, t->state, t->since, ts);
	t->state = st;
	t->since = ts;
	t->pending_r = false;
	if (st == CS_ST_READY)
		ready_enter(c, t, ts);
}

/* ---- threads ---- */

static struct cs_thread *find(const struct cs_core *c, uint32_t tid)
{
	uint32_t *slot = map_slot(&c->tidx, tid);

	return slot ? c->threads[*slot] : NULL;
}

static struct cs_thread *new_thread(struct cs_core *c, uint32_t tid, uint32_t pid,
				    uint64_t ts)
{
	struct cs_thread *t;

	if (c->nthreads == c->capthreads) {
		size_t cap = c->capthreads ? c->capthreads * 2 : 64;
		void *p = realloc(c->threads, cap * sizeof(*c->threads));

		if (!p)
			return NULL;
		c->threads = p;
		c->capthreads = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tid = tid;
	t->pid = pid;
	t->state = CS_ST_UNKNOWN;
	t->since = ts;
	t->first_ts = ts;
	t->block_syscall = -1;
	t->holders.by_ns = 1;
	t->blocked.by_ns = 1;
	t->lockwaits.by_ns = 1;
	if (map_put(&c->tidx, tid, (uint32_t)c->nthreads)) {
		free(t);
		return NULL;
	}
	c->threads[c->nthreads++] = t;
	{
		const char *comm = cs_core_comm(c, tid);

		if (comm)
			memcpy(t->comm, comm, CS_COMM_LEN);
	}
	return t;
}

/* The thread for a tracked task, created on first sight; NULL if untracked. */
static struct cs_thread *tracked_thread(struct cs_core *c, uint32_t tid, uint32_t pid,
					uint64_t ts)
{
	struct cs_thread *t = find(c, tid);

	if (t && !(t->exited && t->state == CS_ST_DEAD))
		return t;
	if (!tid || !cs_core_is_tracked(c, pid))
		return NULL;
	return new_thread(c, tid, pid, ts);
}

static void set_comm(struct cs_core *c, struct cs_thread *t, uint32_t tid,
		     const char *comm)
{
	set_name(c, tid, comm);
	if (t)
		copy_comm(t->comm, comm);
}


/* ---- locks ---- */

/* futex system call numbers (x86-64) and ops */
#define NR_FUTEX 202
#define NR_FUTEX_WAITV 449
#define NR_FUTEX_WAKE 454
#define NR_FUTEX_WAIT 455
#define FUTEX_CMD_MASK 0x7f
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define ETIMEDOUT_ 110
#define EINTR_ 4

/*
 * A futex call that a signal interrupted: EINTR, or (as sys_exit sees it,
 * before the signal is handled) one of the kernel's restart codes:
 * ERESTARTSYS 512, ERESTARTNOINTR 513, ERESTARTNOHAND 514,
 * ERESTART_RESTARTBLOCK 516.
 */
static bool interrupted(int64_t ret)
{
	return ret == -EINTR_ || ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* lock:contention_begin flags (include/trace/events/lock.h) */
#define LCB_F_SPIN (1u << 0)
#define LCB_F_READ (1u << 1)
#define LCB_F_WRITE (1u << 2)
#define LCB_F_RT (1u << 3)
#define LCB_F_PERCPU (1u << 4)
#define LCB_F_MUTEX (1u << 5)

const char *cs_lock_kind_name(unsigned int kind)
{
	static const char *const names[CS_LK_NKINDS] = {
		[CS_LK_MUTEX] = "mutex", [CS_LK_COND] = "condition/other", [CS_LK_JOIN] = "join",
		[CS_LK_SPIN] = "spinlock", [CS_LK_RWLOCK_R] = "rwlock-read",
		[CS_LK_RWLOCK_W] = "rwlock-write", [CS_LK_RWSEM_R] = "rwsem-read",
		[CS_LK_RWSEM_W] = "rwsem-write", [CS_LK_KMUTEX] = "kernel-mutex",
		[CS_LK_RTMUTEX] = "rt-mutex", [CS_LK_PERCPU_RWSEM] = "percpu-rwsem",
	};
	return kind < CS_LK_NKINDS ? names[kind] : "?";
}

bool cs_futex_is_wait(unsigned int nr, uint32_t op)
{
	unsigned int cmd = op & FUTEX_CMD_MASK;

	if (nr == NR_FUTEX_WAIT || nr == NR_FUTEX_WAITV)
		return true;
	if (nr != NR_FUTEX)
		return false;
	return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
	       cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
}

enum cs_lock_kind cs_futex_kind(unsigned int nr, uint32_t op, uint32_t val, bool val_is_tid)
{
	unsigned int cmd = op & FUTEX_CMD_MASK;

	if (nr == NR_FUTEX && (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2))
		return CS_LK_MUTEX;
	if (val_is_tid && nr != NR_FUTEX_WAITV)
		return CS_LK_JOIN; /* pthread_join waits on the thread's tid word */
	/* a lock word in the contended state: glibc's lowlevellock uses 2 */
	if ((nr == NR_FUTEX_WAIT || (nr == NR_FUTEX && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET))) &&
	    val == 2)
		return CS_LK_MUTEX;
	return CS_LK_COND;
}

enum cs_lock_kind cs_kernel_lock_kind(unsigned int flags)
{
	if (flags & LCB_F_PERCPU)
		return CS_LK_PERCPU_RWSEM;
	if (flags & LCB_F_MUTEX)
		return flags & LCB_F_RT ? CS_LK_RTMUTEX : CS_LK_KMUTEX;
	if (flags & LCB_F_SPIN) {
		if (flags & LCB_F_READ)
			return CS_LK_RWLOCK_R;
		return flags & LCB_F_WRITE ? CS_LK_RWLOCK_W : CS_LK_SPIN;
	}
	if (flags & LCB_F_RT)
		return CS_LK_RTMUTEX;
	return flags & LCB_F_READ ? CS_LK_RWSEM_R : CS_LK_RWSEM_W;
}

static size_t lock_hash(uint64_t addr, uint32_t pid, size_t mask)
{
	uint64_t x = addr ^ ((uint64_t)pid << 32) ^ (addr >> 29);

	x *= 0x9e3779b97f4a7c15ull;
	return (size_t)(x >> 20) & mask;
}

static int lockidx_grow(struct cs_core *c)
{
	size_t cap = c->lockidx_cap ? c->lockidx_cap * 2 : 256, i;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < c->nlocks; i++) {
		size_t h = lock_hash(c->locks[i].addr, c->locks[i].pid, cap - 1);

		while (idx[h])
			h = (h + 1) & (cap - 1);
		idx[h] = (uint32_t)i + 1;
	}
	free(c->lockidx);
	c->lockidx = idx;
	c->lockidx_cap = cap;
	return 0;
}

/* The stats of one lock, created on first sight; NULL when the table is full. */
static struct cs_lockstat *get_lock(struct cs_core *c, uint64_t addr, uint32_t pid,
				    uint8_t space, uint8_t kind)
{
	struct cs_lockstat *l;
	size_t h;

	if (space == CS_SPACE_KERNEL)
		pid = 0;
	if (c->lockidx_cap) {
		for (h = lock_hash(addr, pid, c->lockidx_cap - 1); c->lockidx[h];
		     h = (h + 1) & (c->lockidx_cap - 1)) {
			l = &c->locks[c->lockidx[h] - 1];
			if (l->addr == addr && l->pid == pid && l->space == space)
				return l;
		}
	}
	if (c->nlocks >= MAX_LOCKS) {
		c->stats.locks_dropped++;
		return NULL;
	}
	if ((c->nlocks + 1) * 2 > c->lockidx_cap && lockidx_grow(c))
		return NULL;
	if (c->nlocks == c->caplocks) {
		size_t cap = c->caplocks ? c->caplocks * 2 : 64;
		void *p = realloc(c->locks, cap * sizeof(*c->locks));

		if (!p)
			return NULL;
		c->locks = p;
		c->caplocks = cap;
	}
	l = &c->locks[c->nlocks];
	memset(l, 0, sizeof(*l));
	l->addr = addr;
	l->pid = pid;
	l->space = space;
	l->kind = kind;
	for (h = lock_hash(addr, pid, c->lockidx_cap - 1); c->lockidx[h];
	     h = (h + 1) & (c->lockidx_cap - 1))
		;
	c->lockidx[h] = (uint32_t)++c->nlocks;
	return l;
}

/* A wait ended at ts (or never, at the end): count it on its lock. */
static void end_wait(struct cs_core *c, struct cs_thread *t, const struct cs_wait *w,
		     uint8_t space, uint64_t ts, uint64_t releaser)
{
	struct cs_lockstat *l = get_lock(c, w->addr, t->pid, space, w->kind);
	uint64_t a = w->begin, b = ts, ns = clip(c, &a, &b);
	unsigned int i;

	if (!l || !ns)
		return;
	if (!l->waits)
		l->kind = w->kind; /* a name may have created it first */
	l->waits++;
	l->wait_ns += ns;
	if (ns > l->max_wait_ns)
		l->max_wait_ns = ns;
	for (i = 0; i < l->nwaiters && l->waiters[i] != t->tid; i++)
		;
	if (i == l->nwaiters && i < CS_LOCK_WAITERS)
		l->waiters[l->nwaiters++] = t->tid;
	cs_topk_add(&l->releasers, releaser, 1, ns);
	cs_topk_add(&t->lockwaits, (uint64_t)(l - c->locks), 1, ns);
}

static void on_futex_enter(struct cs_core *c, const struct cs_futex *e, uint64_t ts)
{
	struct cs_thread *t = tracked_thread(c, e->h.tid, e->h.pid, ts), *target;
	bool is_tid;

	if (!t || !cs_futex_is_wait(e->h.aux, e->op))
		return;
	target = e->val ? find(c, e->val) : NULL;
	is_tid = target && target != t && target->pid == t->pid && !target->exited;
	t->in_futex = true;
	t->fwait = (struct cs_wait){
		.addr = e->uaddr, .begin = ts,
		.kind = (uint8_t)cs_futex_kind(e->h.aux, e->op, e->val, is_tid),
		.at_switch = e->h.flags & CS_FXF_AT_SWITCH, .timed = e->timed != 0,
	};
}

/*
 * A wait read at its blocking switch ends when the thread runs again. Who
 * released it: the waker if it was releasing a futex or exiting (a join);
 * else a timed wait timed out; else something else woke it (a signal).
 */
static void end_switch_wait(struct cs_core *c, struct cs_thread *t, uint64_t ts)
{
	const struct cs_wait *w = &t->fwait;
	uint64_t rel;

	if (w->waker_flags & (CS_WKF_WAKER_FUTEX | CS_WKF_WAKER_EXITING))
		rel = w->waker ? w->waker : CS_REL_UNKNOWN;
	else if (w->timed)
		rel = CS_REL_TIMEOUT;
	else
		rel = CS_REL_UNKNOWN;
	t->in_futex = false;
	end_wait(c, t, w, CS_SPACE_USER, ts, rel);
}

static void on_futex_exit(struct cs_core *c, const struct cs_futex *e, uint64_t ts)
{
	struct cs_thread *t = tracked_thread(c, e->h.tid, e->h.pid, ts);
	uint64_t rel;

	if (!t || !t->in_futex)
		return;
	t->in_futex = false;
	if (!t->fwait.blocked) {
		/* returned at once (value changed, EAGAIN): an attempt, not a wait */
		struct cs_lockstat *l = get_lock(c, t->fwait.addr, t->pid, CS_SPACE_USER,
						 t->fwait.kind);

		if (l && in_window(c, ts))
			l->attempts++;
		return;
	}
	if (e->ret == -ETIMEDOUT_)
		rel = CS_REL_TIMEOUT;
	else if (interrupted(e->ret))
		rel = CS_REL_SIGNAL;
	else
		rel = t->fwait.waker ? t->fwait.waker : CS_REL_UNKNOWN;
	end_wait(c, t, &t->fwait, CS_SPACE_USER, ts, rel);
}

static void on_lock_begin(struct cs_core *c, const struct cs_lock *e, uint64_t ts)
{
	struct cs_thread *t = tracked_thread(c, e->h.tid, e->h.pid, ts);

	if (!t || t->nkwait >= CS_KWAIT_DEPTH)
		return;
	t->kwait[t->nkwait++] = (struct cs_wait){
		.addr = e->addr, .begin = ts, .kind = (uint8_t)cs_kernel_lock_kind(e->h.aux),
	};
}

static void on_lock_end(struct cs_core *c, const struct cs_lock *e, uint64_t ts)
{
	struct cs_thread *t = tracked_thread(c, e->h.tid, e->h.pid, ts);
	struct cs_wait w;
	int i;

	if (!t)
		return;
	for (i = (int)t->nkwait - 1; i >= 0 && t->kwait[i].addr != e->addr; i--)
		;
	if (i < 0)
		return; /* its begin was before we looked */
	w = t->kwait[i];
	memmove(&t->kwait[i], &t->kwait[i + 1], (t->nkwait - (unsigned int)i - 1) * sizeof(w));
	t->nkwait--;
	end_wait(c, t, &w, CS_SPACE_KERNEL, ts,
		 e->ret ? CS_REL_ERROR : !w.blocked ? CS_REL_SPUN :
		 w.waker ? w.waker : CS_REL_UNKNOWN);
}

static void on_lock_name(struct cs_core *c, const struct cs_lock_name *e)
{
	uint8_t space = e->h.aux == CS_SPACE_KERNEL ? CS_SPACE_KERNEL : CS_SPACE_USER;
	struct cs_lockstat *l = get_lock(c, e->addr, e->h.pid, space,
					 space == CS_SPACE_KERNEL ? CS_LK_SPIN : CS_LK_COND);

	if (l && !l->name[0]) {
		memcpy(l->name, e->name, sizeof(l->name) - 1);
		l->name[sizeof(l->name) - 1] = 0;
	}
}

static bool is_blocked(enum cs_tstate st)
{
	return st == CS_ST_SLEEP || st == CS_ST_IO || st == CS_ST_LOCK;
}

/* A wait in progress makes a blocked thread wait for a lock, not sleep. */
static enum cs_tstate blocked_state(struct cs_thread *t, enum cs_tstate st)
{
	bool lock = t->nkwait > 0;
	unsigned int i;

	if (st != CS_ST_SLEEP && st != CS_ST_IO)
		return st;
	for (i = 0; i < t->nkwait; i++)
		t->kwait[i].blocked = true;
	if (t->in_futex) {
		t->fwait.blocked = true;
		lock |= t->fwait.kind != CS_LK_JOIN;
	}
	return lock ? CS_ST_LOCK : st;
}

/* Whoever woke a waiting thread released what it waited for. */
static void note_waker(struct cs_thread *t, uint32_t waker, uint8_t flags)
{
	if (t->in_futex && t->fwait.blocked) {
		t->fwait.waker = waker;
		t->fwait.waker_flags = flags;
	}
	if (t->nkwait && t->kwait[t->nkwait - 1].blocked)
		t->kwait[t->nkwait - 1].waker = waker;
}

size_t cs_core_nlocks(const struct cs_core *c)
{
	return c->nlocks;
}

const struct cs_lockstat *cs_core_lock(const struct cs_core *c, size_t i)
{
	return i < c->nlocks ? &c->locks[i] : NULL;
}

/* ---- event handlers ---- */

/* Charge the wait of r on this CPU, up to ts, to whoever runs there. */
static void charge_one(struct cs_core *c, struct cs_cpu *cpu, struct cs_thread *r, uint64_t ts)
{
	uint64_t a = r->wait_from > cpu->since ? r->wait_from : cpu->since, b = ts;
	uint64_t ns = cpu->known && ts > a ? clip(c, &a, &b) : 0;

	if (ns)
		cs_topk_add(&r->holders, cpu->cur, 1, ns);
	r->wait_from = ts;
}

/* Charge the time prev held this CPU to each tracked thread waiting on it. */
static void charge_holders(struct cs_core *c, struct cs_cpu *cpu, uint64_t ts)
{
	unsigned int i;

	for (i = 0; i < cpu->nready; i++)
		charge_one(c, cpu, cpu->ready[i], ts);
}

static void switch_out(struct cs_core *c, struct cs_thread *t, const struct cs_switch *e,
		       struct cs_cpu *cpu, uint64_t ts)
{
	bool preempt = e->h.flags & CS_SWF_PREEMPT;
	unsigned int rep = cs_state_report(preempt, e->prev_state, e->prev_exit_state);
	enum cs_tstate next_st = cs_state_after_switch(rep);

	if (t->state != CS_ST_RUNNING) {
		/* First sight, or /proc said R: it was running until now. */
		uint64_t from = t->pending_r ? t->since :
				cpu->known ? cpu->since :
				c->wb != NOT_SET ? c->wb : ts;

		if (cpu->known && cpu->cur == t->tid && cpu->since > from)
			from = cpu->since;
		set_state(c, t, CS_ST_RUNNING, from);
	}
	if (in_window(c, ts)) {
		if (cs_switch_voluntary(preempt, e->prev_state))
			t->nvcsw++;
		else
			t->nivcsw++;
	}
	t->cpu = e->h.cpu;
	t->block_syscall = e->syscall;
	t->woke_from = 0; /* preempted: ready from now, no wake-up to correct */
	next_st = blocked_state(t, next_st);
	if (!is_blocked(next_st))
		t->early_wake = false; /* it did not block: that wake-up found it awake */
	set_state(c, t, next_st, ts);
}

static void switch_in(struct cs_core *c, struct cs_thread *t, const struct cs_switch *e,
		      uint64_t ts)
{
	uint16_t cpu = e->h.cpu;

	if (!t->comm[0]) /* first seen switching out, before anything named it */
		copy_comm(t->comm, e->next_comm);
	if (t->in_futex && t->fwait.at_switch && t->fwait.blocked)
		end_switch_wait(c, t, ts);
	if (t->state == CS_ST_READY && !t->pending_r) {
		if (in_window(c, ts) && in_window(c, t->since))
			cs_hist_add(&t->lat, ts - t->since);
	} else if (t->pending_r) {
		t->state = CS_ST_READY; /* it was waiting, not running */
		ready_enter(c, t, t->since);
	}
	t->cpu = cpu;
	set_state(c, t, CS_ST_RUNNING, ts);
}

/* Time blocked [a, b) in the current block's system call: count blocks, or more of one. */
static void add_blocked(struct cs_core *c, struct cs_thread *t, uint64_t a, uint64_t b,
			uint64_t count)
{
	uint64_t ns;

	if (!in_window(c, b))
		return;
	ns = clip(c, &a, &b);
	if (count || ns)
		cs_topk_add(&t->blocked, (uint64_t)(t->block_syscall + 1), count, ns);
}

/* The enqueue a switch-in reports for next (its run-queue wait), if it does. */
static bool switch_enqueue(const struct cs_switch *e, uint64_t ts, uint64_t *enq)
{
	uint64_t wait = (uint64_t)e->h.aux << CS_WAIT_SHIFT;

	if (!(e->h.flags & CS_SWF_NEXT_WAIT) || e->h.aux >= CS_WAIT_MAX || wait > ts)
		return false;
	*enq = ts - wait;
	return true;
}

/*
 * A wake-up (at wake_ts, by waker) of a thread not yet runnable: it is ready
 * on cpu from ready_ts. The waker is the task that ran the wake-up (0: an
 * interrupt on an idle CPU). Not the CPU chain's idea of who runs there: the
 * kernel does not trace every switch (seen here: some tasks never switch out
 * in sched_switch), and a saved trace stores the waker where the two differ.
 */
static void wake_up(struct cs_core *c, struct cs_thread *t, uint32_t waker, uint8_t flags,
		    uint64_t wake_ts, uint64_t ready_ts, uint16_t cpu)
{
	if (is_blocked(t->state))
		add_blocked(c, t, t->since, ready_ts, 1);
	note_waker(t, waker, flags);
	t->woke_from = is_blocked(t->state) ? t->state : 0;
	t->queued_move = false;
	if (!(flags & CS_WKF_NEW) && in_window(c, wake_ts)) {
		t->wakeups++;
		cs_topk_add(&t->wakers, waker, 1, 0);
	}
	t->cpu = cpu;
	set_state(c, t, CS_ST_READY, ready_ts);
}

/*
 * A woken thread is ready from its enqueue, which can come well after its
 * sched_waking (a wake-up sent through the target CPU's wake list waits for
 * that CPU's interrupt). The switch that runs it says how long it waited on
 * this run queue, the kernel's own figure; unless it moved between queues
 * meanwhile (then that was only its last queue), the time from the waking
 * to the enqueue goes back to the blocked state it was in.
 */
static void ready_from_enqueue(struct cs_core *c, struct cs_thread *t, const struct cs_switch *e,
			       uint64_t ts)
{
	uint64_t enq;

	if (t->exited || t->state != CS_ST_READY || t->pending_r || !t->woke_from ||
	    t->queued_move || !switch_enqueue(e, ts, &enq) || enq <= t->since)
		return;
	account(c, t, t->woke_from, t->since, enq);
	add_blocked(c, t, t->since, enq, 0);
	t->since = enq;
	if (t->wait_from < enq)
		t->wait_from = enq;
}

/*
 * A blocked thread runs with no wake-up since its switch-out: the wake-up
 * that came just before that switch-out (see on_waking) was this block's.
 * Count it now; the thread was ready from its enqueue, if the switch says.
 */
static void apply_early_wake(struct cs_core *c, struct cs_thread *t, const struct cs_switch *e,
			     uint64_t ts)
{
	uint64_t enq;

	t->early_wake = false;
	if (!switch_enqueue(e, ts, &enq) || enq <= t->since)
		enq = ts;
	wake_up(c, t, t->early_waker, t->early_flags, t->early_ts, enq, e->h.cpu);
}

static void on_switch(struct cs_core *c, const struct cs_switch *e, uint64_t ts)
{
	struct cs_cpu *cpu = get_cpu(c, e->h.cpu);
	struct cs_thread *prev, *next;

	if (!cpu)
		return;
	next = e->next_tid ? find(c, e->next_tid) : NULL;
	if (next && next->early_wake && is_blocked(next->state) && next->tid != e->h.tid)
		apply_early_wake(c, next, e, ts);
	else if (next)
		ready_from_enqueue(c, next, e, ts);
	/*
	 * The kernel does not report every switch (seen here: one process's
	 * threads never switch out in sched_switch). The CPU then switches away
	 * from a task we did not see switch in; say so, and let switch_out()
	 * count prev as running since the CPU's last known switch.
	 */
	if (cpu->known && cpu->cur != e->h.tid) {
		struct cs_thread *p = find(c, e->h.tid);

		if (in_window(c, ts))
			c->stats.chain_breaks++;
		if (p && in_window(c, ts)) {
			p->untraced++;
			p->untraced_ns += ts - cpu->since;
		}
	}
	charge_holders(c, cpu, ts);
	set_name(c, e->next_tid, e->next_comm);
	prev = e->h.tid ? tracked_thread(c, e->h.tid, e->h.pid, ts) : NULL;
	if (prev)
		switch_out(c, prev, e, cpu, ts);
	/* the one found above, unless it is gone (or was prev: a malformed switch) */
	if (e->next_tid && (!next || e->next_tid == e->h.tid ||
			    (next->exited && next->state == CS_ST_DEAD)))
		next = tracked_thread(c, e->next_tid, e->next_pid, ts);
	if (next)
		switch_in(c, next, e, ts);
	/* entering a run queue may have grown (moved) the CPU array */
	cpu = &c->cpus[e->h.cpu];
	cpu->cur = e->next_tid;
	cpu->since = ts;
	cpu->known = true;
}

static void on_waking(struct cs_core *c, const struct cs_waking *e, uint64_t ts)
{
	struct cs_thread *t = tracked_thread(c, e->h.tid, e->h.pid, ts);

	if (!t)
		return;
	if (t->state == CS_ST_RUNNING && !t->pending_r) {
		/*
		 * A wake-up can beat the switch-out of the sleep it ends: the
		 * waker starts while the thread is still inside schedule(). Keep
		 * it: if the next switch-out blocks and no other wake-up comes
		 * before the thread runs again, this one ended that block.
		 */
		t->early_wake = true;
		t->early_waker = e->waker_tid;
		t->early_flags = e->h.flags;
		t->early_ts = ts;
		return;
	}
	if (t->state == CS_ST_READY || t->pending_r)
		return; /* already runnable: a spurious wake-up */
	t->early_wake = false;
	wake_up(c, t, e->waker_tid, e->h.flags, ts, ts, e->h.aux);
}

static void on_migrate(struct cs_core *c, const struct cs_migrate *e, uint64_t ts)
{
	struct cs_thread *t = tracked_thread(c, e->h.tid, e->h.pid, ts);

	if (!t)
		return;
	if (in_window(c, ts))
		t->migrations++;
	if (e->h.flags & CS_MGF_QUEUED)
		t->queued_move = true;
	if (t->state == CS_ST_READY) {
		if (t->cpu < c->ncpus)
			charge_one(c, &c->cpus[t->cpu], t, ts);
		ready_leave(c, t);
		t->cpu = e->h.aux;
		ready_enter(c, t, ts);
	} else {
		t->cpu = e->h.aux;
	}
}

static void on_fork(struct cs_core *c, const struct cs_fork *e, uint64_t ts)
{
	struct cs_thread *t, *old;

	if (!cs_core_is_tracked(c, e->h.pid))
		return;
	cs_core_track(c, e->child_pid);
	old = find(c, e->child_tid);
	if (old && !old->exited)
		return; /* already known (e.g. from /proc) */
	t = new_thread(c, e->child_tid, e->child_pid, ts);
	if (!t)
		return;
	t->state = CS_ST_NEW;
	set_comm(c, t, e->child_tid, e->child_comm);
}

static void on_thread_info(struct cs_core *c, const struct cs_thread_info *e, uint64_t ts)
{
	struct cs_thread *t;
	enum cs_tstate st;

	cs_core_track(c, e->h.pid);
	t = tracked_thread(c, e->h.tid, e->h.pid, ts);
	set_comm(c, t, e->h.tid, e->comm);
	if (!t || !e->state || t->state != CS_ST_UNKNOWN)
		return; /* events already told us more than /proc can */
	st = cs_state_from_proc((char)e->state);
	t->cpu = e->h.aux;
	t->since = ts;
	if (st == CS_ST_RUNNING) {
		t->pending_r = true; /* running or waiting: the next switch tells */
	} else if (st < CS_NACC) {
		t->state = st;
		t->pending_r = false; /* a later /proc line said otherwise */
		t->block_syscall = e->syscall;
	}
}

static void on_mark(struct cs_core *c, const struct cs_mark *e, uint64_t ts)
{
	switch (e->h.aux) {
	case CS_MARK_WINDOW_BEGIN:
		if (c->wb == NOT_SET)
			c->wb = ts;
		break;
	case CS_MARK_WINDOW_END:
		c->we = ts;
		break;
	case CS_MARK_TRACK:
		cs_core_track(c, e->h.pid);
		break;
	case CS_MARK_CMD_EXIT:
		c->cmd_status = (int)e->value;
		break;
	default:
		break;
	}
}

void cs_core_feed(struct cs_core *c, const struct cs_hdr *ev)
{
	uint64_t ts = ev->ts;
	struct cs_thread *t;

	c->stats.events++;
	if (ts < c->last_ts) {
		c->stats.late_events++;
		ts = c->last_ts;
	}
	c->last_ts = ts;
	switch (ev->kind) {
	case CS_EV_SWITCH:
		on_switch(c, (const struct cs_switch *)ev, ts);
		break;
	case CS_EV_WAKING:
		on_waking(c, (const struct cs_waking *)ev, ts);
		break;
	case CS_EV_FORK:
		on_fork(c, (const struct cs_fork *)ev, ts);
		break;
	case CS_EV_EXEC:
		t = tracked_thread(c, ev->tid, ev->pid, ts);
		set_comm(c, t, ev->tid, ((const struct cs_exec *)ev)->comm);
		break;
	case CS_EV_EXIT:
		t = tracked_thread(c, ev->tid, ev->pid, ts);
		if (t) {
			t->exited = true;
			t->exit_ts = ts;
		}
		break;
	case CS_EV_MIGRATE:
		on_migrate(c, (const struct cs_migrate *)ev, ts);
		break;
	case CS_EV_RENAME:
		t = tracked_thread(c, ev->tid, ev->pid, ts);
		set_comm(c, t, ev->tid, ((const struct cs_rename *)ev)->comm);
		break;
	case CS_EV_THREAD_INFO:
		on_thread_info(c, (const struct cs_thread_info *)ev, ts);
		break;
	case CS_EV_MARK:
		on_mark(c, (const struct cs_mark *)ev, ts);
		break;
	case CS_EV_LOST:
		c->stats.lost_events += ((const struct cs_lost *)ev)->count;
		if (ev->cpu < c->ncpus)
			c->cpus[ev->cpu].known = false; /* its chain is broken */
		break;
	case CS_EV_LOCK_BEGIN:
		on_lock_begin(c, (const struct cs_lock *)ev, ts);
		break;
	case CS_EV_LOCK_END:
		on_lock_end(c, (const struct cs_lock *)ev, ts);
		break;
	case CS_EV_FUTEX_ENTER:
		on_futex_enter(c, (const struct cs_futex *)ev, ts);
		break;
	case CS_EV_FUTEX_EXIT:
		on_futex_exit(c, (const struct cs_futex *)ev, ts);
		break;
	case CS_EV_LOCK_NAME:
		on_lock_name(c, (const struct cs_lock_name *)ev);
		break;
	default:
		c->stats.unknown_kind++;
		break;
	}
}

void cs_core_finish(struct cs_core *c, uint64_t end_ts)
{
	size_t i;

	if (c->finished)
		return;
	if (c->we == NOT_SET)
		c->we = end_ts > c->last_ts ? end_ts : c->last_ts;
	if (c->wb == NOT_SET)
		c->wb = c->we;
	for (i = 0; i < c->nthreads; i++) {
		struct cs_thread *t = c->threads[i];

		if (t->pending_r) {
			/* never switched: it ran the whole time */
			t->state = CS_ST_RUNNING;
			t->pending_r = false;
		}
		account(c, t, t->state, t->since, c->we);
		t->since = c->we;
		if (t->in_futex && t->fwait.blocked)
			end_wait(c, t, &t->fwait, CS_SPACE_USER, c->we, CS_REL_UNFINISHED);
		while (t->nkwait) {
			t->nkwait--;
			end_wait(c, t, &t->kwait[t->nkwait], CS_SPACE_KERNEL, c->we,
				 CS_REL_UNFINISHED);
		}
		t->in_futex = false;
	}
	c->finished = true;
}

size_t cs_core_nthreads(const struct cs_core *c)
{
	return c->nthreads;
}

const struct cs_thread *cs_core_thread(const struct cs_core *c, size_t i)
{
	return i < c->nthreads ? c->threads[i] : NULL;
}

const struct cs_thread *cs_core_find(const struct cs_core *c, uint32_t tid)
{
	return find(c, tid);
}

void cs_core_totals(const struct cs_core *c, struct cs_totals *tot)
{
	uint64_t dur = cs_core_duration(c);
	size_t i;
	unsigned int s;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < c->nthreads; i++) {
		const struct cs_thread *t = c->threads[i];

		for (s = 0; s < CS_NACC; s++)
			tot->ns[s] += t->ns[s];
		tot->nvcsw += t->nvcsw;
		tot->nivcsw += t->nivcsw;
		tot->migrations += t->migrations;
		tot->wakeups += t->wakeups;
	}
	tot->parallelism = dur ? (double)tot->ns[CS_ST_RUNNING] / (double)dur : 0;
}

void cs_totals_add(struct cs_totals *sum, const struct cs_totals *t, uint64_t dur)
{
	unsigned int s;

	for (s = 0; s < CS_NACC; s++)
		sum->ns[s] += t->ns[s];
	sum->nvcsw += t->nvcsw;
	sum->nivcsw += t->nivcsw;
	sum->migrations += t->migrations;
	sum->wakeups += t->wakeups;
	sum->parallelism = dur ? (double)sum->ns[CS_ST_RUNNING] / (double)dur : 0;
}

const struct cs_core_stats *cs_core_stats(const struct cs_core *c)
{
	return &c->stats;
}

uint64_t cs_core_duration(const struct cs_core *c)
{
	if (c->wb == NOT_SET || c->we == NOT_SET || c->we < c->wb)
		return 0;
	return c->we - c->wb;
}

unsigned int cs_core_ncpus(const struct cs_core *c)
{
	return c->ncpus;
}

uint64_t cs_core_tl_width(const struct cs_core *c)
{
	return c->tl_width;
}

unsigned int cs_core_tl_used(const struct cs_core *c)
{
	return c->tl_used;
}

int cs_core_cmd_status(const struct cs_core *c)
{
	return c->cmd_status;
}
