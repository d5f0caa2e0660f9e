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

/* CLOCK_BOOTTIME now, ns: the clock of the BPF timestamps. */
uint64_t cs_now_boot(void);

/*
 * 0 when this process may load and attach tracing programs (root, or
 * CAP_BPF and CAP_PERFMON); otherwise -EPERM with what is missing in why.
 */
int cs_check_privileges(char *why, size_t len);

/* Number of possible CPUs (/sys/devices/system/cpu/possible), as libbpf counts them. */
unsigned int cs_possible_cpus(void);


#endif
