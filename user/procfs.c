// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "procfs.h"

#define PF_KTHREAD 0x00200000

uint64_t cs_now_boot(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return (int)n;
}

/* Parse a stat line: comm (may hold spaces and parentheses), state, and
 * the fields after it. */
struct stat_line {
	char comm[CS_COMM_LEN];
	char state;
	int ppid;
	unsigned long flags;
	int cpu;
};

static int parse_stat(const char *buf, struct stat_line *s)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	const char *p;
	size_t n;
	int field;

	if (!open || !close || close < open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= CS_COMM_LEN)
		n = CS_COMM_LEN - 1;
	memset(s->comm, 0, sizeof(s->comm));
	memcpy(s->comm, open + 1, n);
	p = close + 2;
	s->state = *p;
	/* fields from 3 (state) on, space separated */
	for (field = 3; *p; field++) {
		if (field == 4)
			s->ppid = atoi(p);
		else if (field == 9)
			s->flags = strtoul(p, NULL, 10);
		else if (field == 39) {
			s->cpu = atoi(p);
			return 0;
		}
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	return -EINVAL;
}

int cs_proc_check_pid(pid_t pid)
{
	char path[64], buf[1024];
	struct stat_line s;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	if (parse_stat(buf, &s))
		return -ESRCH;
	if (s.flags & PF_KTHREAD)
		return -EINVAL;
	if (s.state == 'Z' || s.state == 'X')
		return -ESRCH;
	return 0;
}

static int16_t blocked_syscall(pid_t pid, const char *tid)
{
	char path[320], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", pid, tid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	if (buf[0] < '0' || buf[0] > '9')
		return -1; /* "running" or "-1 ..." */
	return (int16_t)atoi(buf);
}

static int scan_one(pid_t pid, uint64_t ts, cs_info_fn fn, void *ctx)
{
	char path[320], buf[1024];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct cs_thread_info ti;
		struct stat_line s;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, de->d_name);
		if (read_file(path, buf, sizeof(buf)) <= 0 || parse_stat(buf, &s))
			continue; /* it exited meanwhile */
		memset(&ti, 0, sizeof(ti));
		ti.h.ts = ts;
		ti.h.size = sizeof(ti);
		ti.h.kind = CS_EV_THREAD_INFO;
		ti.h.cpu = (uint16_t)s.cpu;
		ti.h.aux = (uint16_t)s.cpu;
		ti.h.tid = (uint32_t)atoi(de->d_name);
		ti.h.pid = (uint32_t)pid;
		ti.ppid = (uint32_t)s.ppid;
		ti.state = (uint8_t)s.state;
		ti.syscall = s.state == 'R' ? -1 : blocked_syscall(pid, de->d_name);
		memcpy(ti.comm, s.comm, CS_COMM_LEN);
		fn(&ti, ctx);
		n++;
	}
	closedir(d);
	return n;
}

/* Child processes of every thread of pid, from /proc/PID/task/TID/children. */
static int scan_children(pid_t pid, uint64_t ts, cs_info_fn fn, void *ctx, int depth)
{
	char path[320], buf[4096];
	struct dirent *de;
	int total = 0;
	DIR *d;

	if (depth > 64)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *p, *end;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, de->d_name);
		if (read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		for (p = buf;; p = end) {
			long child = strtol(p, &end, 10);
			int n;

			if (end == p)
				break;
			n = scan_one((pid_t)child, ts, fn, ctx);
			if (n > 0)
				total += n + scan_children((pid_t)child, ts, fn, ctx, depth + 1);
		}
	}
	closedir(d);
	return total;
}

int cs_proc_scan(pid_t pid, uint64_t ts, bool descendants, cs_info_fn fn, void *ctx)
{
	int n = scan_one(pid, ts, fn, ctx);

	if (n < 0)
		return n;
	if (descendants)
		n += scan_children(pid, ts, fn, ctx, 0);
	return n;
}

int cs_proc_scan_all(uint64_t ts, cs_info_fn fn, void *ctx)
{
	struct dirent *de;
	int total = 0, n;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		n = scan_one((pid_t)atoi(de->d_name), ts, fn, ctx);
		if (n > 0) /* else it exited meanwhile */
			total += n;
	}
	closedir(d);
	return total;
}

int cs_check_privileges(char *why, size_t len)
{
	char buf[4096], *p;
	unsigned long long eff = 0;

	if (geteuid() == 0)
		return 0;
	if (read_file("/proc/self/status", buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "CapEff:")))
		eff = strtoull(p + 7, NULL, 16);
	/* CAP_PERFMON = 38, CAP_BPF = 39 */
	if ((eff >> 38 & 1) && (eff >> 39 & 1))
		return 0;
	snprintf(why, len, "needs root, or the capabilities %s%s%s: run it with sudo",
		 eff >> 39 & 1 ? "" : "CAP_BPF",
		 !(eff >> 39 & 1) && !(eff >> 38 & 1) ? " and " : "",
		 eff >> 38 & 1 ? "" : "CAP_PERFMON");
	return -EPERM;
}

unsigned int cs_possible_cpus(void)
{
	char buf[256], *p;
	unsigned int max = 0;

	if (read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf)) <= 0)
		return 1;
	/* "0-3,5,7-8": the highest number + 1 */
	for (p = buf; *p;) {
		unsigned long v = strtoul(p, &p, 10);

		if (v + 1 > max)
			max = (unsigned int)v + 1;
		if (*p == '-' || *p == ',')
			p++;
		else
			break;
	}
	return max ? max : 1;
}
