/* stream.h: building synthetic event streams for unit tests. */
#ifndef TEST_STREAM_H
#define TEST_STREAM_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "core.h"

#define MS 1000000ull

static inline void hdr(struct cs_hdr *h, unsigned int kind, size_t size, uint64_t ts,
		       unsigned int cpu, uint32_t tid, uint32_t pid)
{
	memset(h, 0, size);
	h->ts = ts;
	h->size = (uint16_t)size;
	h->kind = (uint8_t)kind;
	h->cpu = (uint16_t)cpu;
	h->tid = tid;
	h->pid = pid;
}

static inline struct cs_switch mk_switch(uint64_t ts, unsigned int cpu, uint32_t prev,
					 uint32_t prev_pid, unsigned int raw_state, int preempt,
					 uint32_t next, uint32_t next_pid)
{
	struct cs_switch e;

	hdr(&e.h, CS_EV_SWITCH, sizeof(e), ts, cpu, prev, prev_pid);
	e.h.flags = preempt ? CS_SWF_PREEMPT : 0;
	e.next_tid = next;
	e.next_pid = next_pid;
	e.prev_state = raw_state;
	e.syscall = raw_state ? 0 /* read */ : -1;
	e.next_prio = 120;
	snprintf(e.next_comm, sizeof(e.next_comm), "task%u", next);
	return e;
}

/* Who the synthetic stream last put on each CPU: the waker of a wake-up there. */
static uint32_t stream_cur[64];

static inline void sw(struct cs_core *c, uint64_t ts, unsigned int cpu, uint32_t prev,
		      uint32_t prev_pid, unsigned int raw_state, int preempt, uint32_t next,
		      uint32_t next_pid)
{
	struct cs_switch e = mk_switch(ts, cpu, prev, prev_pid, raw_state, preempt, next, next_pid);

	stream_cur[cpu % 64] = next;
	cs_core_feed(c, &e.h);
}

static inline void wake(struct cs_core *c, uint64_t ts, unsigned int cpu, uint32_t tid,
			uint32_t pid, unsigned int target)
{
	struct cs_waking e;

	hdr(&e.h, CS_EV_WAKING, sizeof(e), ts, cpu, tid, pid);
	e.h.aux = (uint16_t)target;
	e.waker_tid = stream_cur[cpu % 64];
	cs_core_feed(c, &e.h);
}

/* A wake-up as the tracer judged it (CS_WKF_VERDICT): ended a block, or not. */
static inline void wake_judged(struct cs_core *c, uint64_t ts, unsigned int cpu, uint32_t tid,
			       uint32_t pid, unsigned int target, int ended)
{
	struct cs_waking e;

	hdr(&e.h, CS_EV_WAKING, sizeof(e), ts, cpu, tid, pid);
	e.h.aux = (uint16_t)target;
	e.h.flags = CS_WKF_VERDICT | (ended ? CS_WKF_ENDED : 0);
	e.waker_tid = stream_cur[cpu % 64];
	cs_core_feed(c, &e.h);
}

static inline void mark(struct cs_core *c, uint64_t ts, unsigned int kind, uint32_t pid)
{
	struct cs_mark e;

	hdr(&e.h, CS_EV_MARK, sizeof(e), ts, 0xffff, pid, pid);
	e.h.aux = (uint16_t)kind;
	cs_core_feed(c, &e.h);
}

static inline void migrate(struct cs_core *c, uint64_t ts, unsigned int cpu, uint32_t tid,
			   uint32_t pid, unsigned int from, unsigned int to)
{
	struct cs_migrate e;

	hdr(&e.h, CS_EV_MIGRATE, sizeof(e), ts, cpu, tid, pid);
	e.h.aux = (uint16_t)to;
	e.orig_cpu = from;
	cs_core_feed(c, &e.h);
}

static inline void info(struct cs_core *c, uint64_t ts, uint32_t tid, uint32_t pid,
			char state, unsigned int cpu)
{
	struct cs_thread_info e;

	hdr(&e.h, CS_EV_THREAD_INFO, sizeof(e), ts, cpu, tid, pid);
	e.h.aux = (uint16_t)cpu;
	e.state = (uint8_t)state;
	e.syscall = -1;
	snprintf(e.comm, sizeof(e.comm), "t%u", tid);
	cs_core_feed(c, &e.h);
}

static inline void fx_enter(struct cs_core *c, uint64_t ts, uint32_t tid, uint32_t pid,
			    unsigned int nr, uint64_t uaddr, uint32_t op, uint32_t val)
{
	struct cs_futex e;

	hdr(&e.h, CS_EV_FUTEX_ENTER, sizeof(e), ts, 0, tid, pid);
	e.h.aux = (uint16_t)nr;
	e.uaddr = uaddr;
	e.op = op;
	e.val = val;
	cs_core_feed(c, &e.h);
}

static inline void fx_exit(struct cs_core *c, uint64_t ts, uint32_t tid, uint32_t pid,
			   unsigned int nr, int64_t ret)
{
	struct cs_futex e;

	hdr(&e.h, CS_EV_FUTEX_EXIT, sizeof(e), ts, 0, tid, pid);
	e.h.aux = (uint16_t)nr;
	e.ret = ret;
	cs_core_feed(c, &e.h);
}

static inline void klock(struct cs_core *c, uint64_t ts, unsigned int kind, uint32_t tid,
			 uint32_t pid, uint64_t addr, unsigned int flags, int ret)
{
	struct cs_lock e;

	hdr(&e.h, kind, sizeof(e), ts, 0, tid, pid);
	e.h.aux = (uint16_t)flags;
	e.addr = addr;
	e.ret = ret;
	cs_core_feed(c, &e.h);
}

static inline void lock_name(struct cs_core *c, uint64_t ts, uint32_t pid, unsigned int space,
			     uint64_t addr, const char *name)
{
	struct cs_lock_name e;

	hdr(&e.h, CS_EV_LOCK_NAME, sizeof(e), ts, 0, pid, pid);
	e.h.aux = (uint16_t)space;
	e.addr = addr;
	snprintf(e.name, sizeof(e.name), "%s", name);
	cs_core_feed(c, &e.h);
}

static inline struct cs_core *tracking(uint32_t pid)
{
	memset(stream_cur, 0, sizeof(stream_cur));
	struct cs_core_cfg cfg = { 0 };
	struct cs_core *c = cs_core_new(&cfg);

	assert_non_null(c);
	cs_core_track(c, pid);
	return c;
}

#endif
