// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
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
	int nice;
	int cpu;
	unsigned int rt_priority, policy;
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
	s->rt_priority = s->policy = 0;
	/* fields from 3 (state) on, space separated; 39 (cpu) at least */
	for (field = 3; *p; field++) {
		if (field == 4)
			s->ppid = atoi(p);
		else if (field == 9)
			s->flags = strtoul(p, NULL, 10);
		else if (field == 19)
			s->nice = atoi(p);
		else if (field == 39)
			s->cpu = atoi(p);
		else if (field == 40)
			s->rt_priority = (unsigned int)strtoul(p, NULL, 10);
		else if (field == 41)
			s->policy = (unsigned int)strtoul(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	return field > 39 ? 0 : -EINVAL;
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

int cs_proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	return read_file(path, buf, len);
}

/* Whether the controller list [p, end) ("cpu,cpuacct", in any order) names cpu. */
static bool names_cpu(const char *p, const char *end)
{
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p)), *e = c ? c : end;

		if (e - p == 3 && !memcmp(p, "cpu", 3))
			return true;
		p = e + 1;
	}
	return false;
}

/*
 * A cgroup's path in /proc/PID/cgroup's text buf ("ID:CONTROLLERS:PATH"
 * lines), into out: the v2 hierarchy's ("0::PATH") when v2, else that of
 * the v1 hierarchy whose controllers include cpu. false (out "") when
 * there is no such line.
 */
static bool cgroup_line(const char *buf, bool v2, char *out, size_t len)
{
	const char *line, *nl, *ctl, *path;

	for (line = buf; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		ctl = strchr(line, ':');
		path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path || (nl && path > nl))
			continue;
		if (v2 ? !strncmp(line, "0::", 3) : names_cpu(ctl + 1, path)) {
			path++;
			snprintf(out, len, "%.*s", (int)(nl ? (size_t)(nl - path) : strlen(path)), path);
			return true;
		}
	}
	*out = 0;
	return false;
}

/* The cgroup a task goes by: v2's, else v1's cpu controller's ("" none). */
static void cgroup_path(const char *buf, char *out, size_t len)
{
	if (!cgroup_line(buf, true, out, len))
		cgroup_line(buf, false, out, len);
}

int cs_proc_sched(pid_t pid, pid_t tid, struct cs_task_sched *rec)
{
	char path[96], buf[1024];
	struct stat_line s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || parse_stat(buf, &s))
		return -ESRCH;
	rec->h.aux = (uint16_t)s.policy;
	rec->nice = s.nice;
	rec->rt_priority = s.rt_priority;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	if (read_file(path, buf, sizeof(buf)) > 0)
		cgroup_path(buf, rec->cgroup, sizeof(rec->cgroup));
	else
		rec->cgroup[0] = 0;
	return 0;
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

/* The CPU time the hypervisor took from this machine so far (/proc/stat's steal), ns. */
int cs_sys_steal_ns(uint64_t *ns)
{
	char buf[512];
	unsigned long long v[8];
	long hz = sysconf(_SC_CLK_TCK);

	if (read_file("/proc/stat", buf, sizeof(buf)) <= 0 || hz <= 0)
		return -ENOENT;
	/* cpu  user nice system idle iowait irq softirq steal ... */
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		return -EINVAL;
	*ns = v[7] * (1000000000ull / (unsigned long long)hz);
	return 0;
}

/* One cpu.stat's throttling: v2 (throttled_usec) or v1 (throttled_time, ns). */
static int throttle_stat(const char *path, uint64_t *ns, uint64_t *periods)
{
	char buf[4096], *p;
	unsigned long long v = 0, n = 0, mult = 0;

	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (sscanf(p, "throttled_usec %llu", &v) == 1)
			mult = 1000;
		else if (sscanf(p, "throttled_time %llu", &v) == 1)
			mult = 1;
		else
			sscanf(p, "nr_throttled %llu", &n);
	}
	if (!mult)
		return -ENOENT; /* no CPU controller there */
	*ns = v * mult;
	*periods = n;
	return 0;
}

/*
 * pid's cgroup CPU throttling so far: time throttled (ns) and periods
 * throttled. cgroup v2 (at /sys/fs/cgroup, or /sys/fs/cgroup/unified on a
 * hybrid system), else v1's cpu controller.
 */
int cs_cgroup_throttled(pid_t pid, uint64_t *ns, uint64_t *periods)
{
	static const char *const v1[] = { "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct" };
	char buf[4096], cg[PATH_MAX / 2], path[PATH_MAX];
	size_t i;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	if (cgroup_line(buf, true, cg, sizeof(cg))) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpu.stat", cg);
		if (!throttle_stat(path, ns, periods))
			return 0;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/unified%s/cpu.stat", cg);
		if (!throttle_stat(path, ns, periods))
			return 0;
	}
	if (!cgroup_line(buf, false, cg, sizeof(cg)))
		return -ENOENT;
	for (i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
		/* v1 has cpu.stat everywhere: only a quota ("-1": none) throttles */
		snprintf(path, sizeof(path), "%s%s/cpu.cfs_quota_us", v1[i], cg);
		if (read_file(path, buf, sizeof(buf)) <= 0 || !strncmp(buf, "-1", 2))
			continue;
		snprintf(path, sizeof(path), "%s%s/cpu.stat", v1[i], cg);
		if (!throttle_stat(path, ns, periods))
			return 0;
	}
	return -ENOENT;
}
