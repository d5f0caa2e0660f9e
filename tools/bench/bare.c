// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bare.c: user side of the reference recorder (tools/bench/bare.bpf.c).
 *
 *   bare [-v] [--ready-fd N] [--buffer-size BYTES] -- CMD [ARGS...]
 *
 * Loads and attaches the two programs, starts CMD held before exec until
 * they are attached, drains the ring buffer every 50 ms (ring_buffer__poll
 * then ring_buffer__consume; the programs never wake it) until CMD exits,
 * drains once more, prints "bare: records N lost N" on stderr and exits with
 * CMD's exit status. -v prints "bare: bpf ids: progs A B maps C" first, so
 * a caller can find its programs' statistics by ID.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bare.skel.h"

static uint64_t records;

static int on_sample(void *ctx, void *data, size_t len)
{
	records++;
	return 0;
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static uint32_t fd_id(int fd)
{
	/* prog, map and link info all start with type and id */
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(void)
{
	fprintf(stderr, "usage: bare [-v] [--ready-fd N] [--buffer-size BYTES] -- CMD [ARGS...]\n");
	exit(2);
}

struct args {
	int ready_fd;          /* -1: none */
	unsigned long rb_bytes;
	bool verbose;
	char **cmd;
};

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*a = (struct args){ .ready_fd = -1, .rb_bytes = 16ul << 20 };
	while ((opt = getopt_long(argc, argv, "+v", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': a->ready_fd = atoi(optarg); break;
		case 'b': a->rb_bytes = strtoul(optarg, NULL, 0); break;
		case 'v': a->verbose = true; break;
		default: usage();
		}
	}
	if (optind >= argc || !a->rb_bytes || (a->rb_bytes & (a->rb_bytes - 1)))
		usage();
	a->cmd = argv + optind;
}

/* Load and attach the programs, map the ring: 0, or 1 after saying what failed. */
static int start_recorder(const struct args *a, struct bare_bpf **skel, struct ring_buffer **rb)
{
	*skel = bare_bpf__open();
	if (!*skel) {
		fprintf(stderr, "bare: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_map__set_max_entries((*skel)->maps.bare_events, (uint32_t)a->rb_bytes);
	if (bare_bpf__load(*skel) || bare_bpf__attach(*skel)) {
		fprintf(stderr, "bare: cannot load or attach: %s\n", strerror(errno));
		return 1;
	}
	*rb = ring_buffer__new(bpf_map__fd((*skel)->maps.bare_events), on_sample, NULL, NULL);
	if (!*rb) {
		fprintf(stderr, "bare: cannot map the ring buffer: %s\n", strerror(errno));
		return 1;
	}
	if (a->verbose)
		fprintf(stderr, "bare: bpf ids: progs %u %u maps %u\n",
			fd_id(bpf_program__fd((*skel)->progs.bare_switch)),
			fd_id(bpf_program__fd((*skel)->progs.bare_waking)),
			fd_id(bpf_map__fd((*skel)->maps.bare_events)));
	return 0;
}

/* CMD, started and released: it waits on a pipe until the programs are attached. */
static pid_t start_cmd(const struct args *a)
{
	int go[2];
	char c = 'g';
	pid_t child;

	if (pipe(go))
		return -1;
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		close(go[1]);
		if (a->ready_fd >= 0)
			close(a->ready_fd);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		close(go[0]);
		execvp(a->cmd[0], a->cmd);
		fprintf(stderr, "bare: cannot run %s: %s\n", a->cmd[0], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	if (a->ready_fd >= 0) {
		(void)!write(a->ready_fd, "ready\n", 6);
		close(a->ready_fd);
	}
	(void)!write(go[1], &c, 1);
	close(go[1]);
	return child;
}

/* Drain every 50 ms until the child exits (a signal is passed on): its wait status. */
static int drain_until_exit(struct ring_buffer *rb, pid_t child)
{
	int status = 0;

	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);

		if (w == child)
			break;
		if (got_signal)
			kill(child, got_signal); /* SIGINT or SIGTERM, passed on */
		ring_buffer__poll(rb, 50);
		ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
	return status;
}

int main(int argc, char **argv)
{
	struct bare_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	int status, rc = 1;
	struct args a;
	pid_t child;

	parse_args(argc, argv, &a);
	libbpf_set_print(quiet_print);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (start_recorder(&a, &skel, &rb))
		goto out;
	child = start_cmd(&a);
	if (child < 0)
		goto out;
	status = drain_until_exit(rb, child);
	fprintf(stderr, "bare: records %llu lost %llu\n", (unsigned long long)records,
		(unsigned long long)skel->bss->bare_lost);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	ring_buffer__free(rb);
	bare_bpf__destroy(skel);
	return rc;
}
