// SPDX-License-Identifier: GPL-2.0
/*
 * bare.bpf.c: the benchmarks' reference recorder (tools/bench), the least a
 * scheduler tracer can do: one small record per sched_switch and per
 * sched_waking, on every CPU, for every task, into one BPF ring buffer, and
 * nothing else (no filter, no map lookup, no wake-up of the consumer, which
 * polls on a timer). concscope's costs are reported relative to this.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct bare_rec {
	__u64 ts;
	__u32 kind; /* 1 switch, 2 waking */
	__u32 cpu;
	__u32 tid;  /* switch: prev; waking: the woken task */
	__u32 arg;  /* switch: next; waking: target CPU */
}; /* 24 bytes (+ 8 of ring buffer header) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by user space before load */
} bare_events SEC(".maps");

/* Records that found the ring buffer full (one global counter is enough). */
__u64 bare_lost = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(bare_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct bare_rec *r = bpf_ringbuf_reserve(&bare_events, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&bare_lost, 1);
		return 0;
	}
	r->ts = bpf_ktime_get_boot_ns();
	r->kind = 1;
	r->cpu = bpf_get_smp_processor_id();
	r->tid = prev->pid;
	r->arg = next->pid;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(bare_waking, struct task_struct *p)
{
	struct bare_rec *r = bpf_ringbuf_reserve(&bare_events, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&bare_lost, 1);
		return 0;
	}
	r->ts = bpf_ktime_get_boot_ns();
	r->kind = 2;
	r->cpu = bpf_get_smp_processor_id();
	r->tid = p->pid;
	r->arg = p->thread_info.cpu;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}
