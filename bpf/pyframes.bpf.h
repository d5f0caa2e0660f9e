/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pyframes.bpf.h: a CPython 3.11 thread's Python frames, at the same points
 * as its native stack (--stacks; issue #20).
 *
 * User space tells, per process that runs the interpreter this build read
 * the layout of (build/pylayout.h, from python3-dev's headers; its version
 * checked against the running one's Py_Version), where the pointer to its
 * main interpreter is (py_procs). The thread's own PyThreadState is found in
 * the interpreter's list of threads by its native thread id (the kernel
 * tid), and cached per tid (checked again at each use: a thread state is
 * freed when its thread ends). _PyRuntime's current thread state would be
 * wrong here: it is the GIL holder's, not the waiting thread's.
 *
 * From the thread state: cframe->current_frame, then each frame's previous.
 * Each frame costs one read of its first CS_PY_FR_SIZE bytes; its key is
 * the code object and the instruction index (CS_PY_KEY), named in user
 * space. Included by stacks.bpf.h, after struct cs_stk_scratch.
 */
#ifndef CS_PYFRAMES_BPF_H
#define CS_PYFRAMES_BPF_H

#ifndef __BPF__
#error "pyframes.bpf.h is for BPF programs"
#endif

#include "pylayout.h" /* generated from python3-dev's headers (tools/gen-pylayout.sh) */

#define CS_PY_THREADS 64 /* thread states looked at to find a thread's */

/* Per CPython process: the address of _PyRuntime.interpreters.main. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} py_procs SEC(".maps");

/* Per thread: its PyThreadState, once found. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} py_tstates SEC(".maps");

#if CS_PY_VERSION_HEX

static __always_inline __u64 py_word(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (const void *)addr))
		return 0;
	return v;
}

/*
 * The thread state of thread tid of process tgid, or 0. A global function,
 * like the frame walk: each is checked once, not the walk once per way out
 * of this loop.
 */
__noinline __u64 cs_py_tstate(__u32 tgid, __u32 tid)
{
	__u64 *main = bpf_map_lookup_elem(&py_procs, &tgid), *c, ts, interp;
	__u32 i;

	if (!main)
		return 0;
	c = bpf_map_lookup_elem(&py_tstates, &tid);
	if (c && *c && py_word(*c + CS_PY_TS_TID) == tid)
		return *c;
	interp = py_word(*main);
	ts = interp ? py_word(interp + CS_PY_IS_HEAD) : 0;
	for (i = 0; i < CS_PY_THREADS && ts; i++) {
		if (py_word(ts + CS_PY_TS_TID) == tid) {
			bpf_map_update_elem(&py_tstates, &tid, &ts, BPF_ANY);
			return ts;
		}
		ts = py_word(ts + CS_PY_TS_NEXT);
	}
	return 0;
}

/*
 * The Python frames of thread w->tid of process w->tgid (the current task),
 * innermost first, into pcs[at..] (at < CS_STACK_SLOTS - CS_STACK_PY); how
 * many. flags gains CS_STF_PY_TRUNCATED when there were more. A global
 * function: the verifier checks its loops once, apart from the unwinding's.
 */
__noinline int cs_py_frames(struct cs_stk_scratch *w, __u32 at)
{
	__u64 fr[CS_PY_FR_SIZE / 8], f, code, instr, lasti, ts;
	__u32 i, n = 0;

	if (!w || at > CS_STACK_SLOTS - CS_STACK_PY)
		return 0;
	ts = cs_py_tstate(w->def.tgid, w->def.tid);
	if (!ts)
		return 0;
	f = py_word(ts + CS_PY_TS_CFRAME);
	f = f ? py_word(f + CS_PY_CF_FRAME) : 0;
	for (i = 0; i < CS_STACK_PY && f; i++) {
		if (bpf_probe_read_user(fr, sizeof(fr), (const void *)f))
			return n;
		code = fr[CS_PY_FR_CODE / 8];
		instr = fr[CS_PY_FR_INSTR / 8];
		f = fr[CS_PY_FR_PREV / 8];
		if (!code || code >> CS_PY_LASTI_SHIFT)
			return n;
		/*
		 * a frame still being set up points before its code: it is
		 * entering its function (index 0). Without a branch: then each
		 * frame is one path to verify, and the slot is the frame's index.
		 */
		lasti = ((instr - code - CS_PY_CO_CODE) / 2) & -(__u64)(instr >= code + CS_PY_CO_CODE);
		lasti = lasti < CS_PY_LASTI_MAX ? lasti : CS_PY_LASTI_MAX;
		w->pcs[(at + i) & (CS_STACK_SLOTS - 1)] = CS_PY_KEY(code, lasti);
		n = i + 1;
	}
	if (f)
		w->st.flags |= CS_STF_PY_TRUNCATED;
	return n;
}

/* The Python frames of task (the current task) into s->pcs[at..]; how many. */
static __always_inline __u32 py_frames(struct cs_stk_scratch *s, struct task_struct *task, __u32 at)
{
	int n;

	s->def.tgid = task->tgid;
	s->def.tid = task->pid;
	n = cs_py_frames(s, at);
	return n > 0 && n <= CS_STACK_PY ? (__u32)n : 0;
}

#else /* built without python3-dev's headers: no Python frames */

static __always_inline __u32 py_frames(struct cs_stk_scratch *s, struct task_struct *task, __u32 at)
{
	return 0;
}

#endif

#endif /* CS_PYFRAMES_BPF_H */
