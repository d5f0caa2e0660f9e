/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* procfs.h: what concscope reads from /proc (attach, checks). */
#ifndef CS_PROCFS_H
#define CS_PROCFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "concscope.h"

/* 0 when PID is a live user process; -ESRCH, or -EINVAL for a kernel thread. */
int cs_proc_check_pid(pid_t pid);

typedef void (*cs_info_fn)(const struct cs_thread_info *ti, void *ctx);

/*
 * Describe every thread of PID (state, CPU, comm, blocking system call)
 * as THREAD_INFO records stamped ts; with descendants, also every thread
 * of every descendant process. Returns the number of threads or -errno.
 */
int cs_proc_scan(pid_t pid, uint64_t ts, bool descendants, cs_info_fn fn, void *ctx);
/* Every thread of every process in /proc (attach -a); how many, or -errno. */
int cs_proc_scan_all(uint64_t ts, cs_info_fn fn, void *ctx);

/* /proc/PID/cmdline's raw bytes (NUL-separated) into buf: how many (at most len - 1), or -errno. */
int cs_proc_cmdline(pid_t pid, char *buf, size_t len);
/*
 * A thread's policy (into rec->h.aux), nice value and RT priority from
 * /proc/PID/task/TID/stat, and its cgroup from .../cgroup; 0, or -ESRCH
 * when it is gone.
 */
int cs_proc_sched(pid_t pid, pid_t tid, struct cs_task_sched *rec);

/* CLOCK_BOOTTIME now, ns: the clock of the BPF timestamps. */
uint64_t cs_now_boot(void);

/*
 * 0 when this process may load and attach tracing programs (root, or
 * CAP_BPF and CAP_PERFMON); otherwise -EPERM with what is missing in why.
 */
int cs_check_privileges(char *why, size_t len);

/* Number of possible CPUs (/sys/devices/system/cpu/possible), as libbpf counts them. */
unsigned int cs_possible_cpus(void);

/* The CPU time the hypervisor took from this machine so far (/proc/stat's steal), ns;
 * its resolution is the clock tick (10 ms). */
int cs_sys_steal_ns(uint64_t *ns);
/* pid's cgroup CPU throttling so far (cpu.stat of v2, else of v1's cpu controller):
 * -ENOENT where there is none. */
int cs_cgroup_throttled(pid_t pid, uint64_t *ns, uint64_t *periods);


#endif
