/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * wl-job.c: the job every model runs, independent of the model: the cpu
 * kernel, how the job is split into tasks and steps, and the blocking
 * client side of the cs-ioserver protocol.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cs-proto.h"
#include "cs-workload.h"

const char *wl_prog = "cs-workload";

void wl_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", wl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void wl_task_init(const struct wl_config *cfg, uint32_t id, struct wl_task *t)
{
	uint64_t total = cfg->work == WL_IO ? 0 : cfg->size * WL_BLOCK;
	uint64_t n = (uint64_t)cfg->tasks;

	t->id = id;
	/* total < 2^40 and n <= 64: no overflow */
	t->lo = total * id / n;
	t->hi = total * (id + 1) / n;
	t->requests = cfg->work == WL_CPU ? 0 : cfg->requests;
}

/*
 * mixed work: the task's range is cut into t->requests steps of (almost)
 * equal size; step k is [wl_step_lo(t, k), wl_step_lo(t, k + 1)).
 */
uint64_t wl_step_lo(const struct wl_task *t, uint64_t k)
{
	/* (hi - lo) < 2^40 and k <= 2^20: no overflow */
	return t->lo + (t->hi - t->lo) * k / t->requests;
}

/*
 * The kernel. noinline keeps it one visible function in profiles; the
 * compiler cannot fold the loop because wl_value() is a scrambling
 * permutation whose sum it does not know.
 */
__attribute__((noinline)) uint64_t wl_sum_range(uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;

	for (uint64_t i = lo; i < hi; i++)
		sum += wl_value(i);
	return sum;
}

int wl_socket_setup(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int connect_blocking(const struct wl_config *cfg)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", wl_prog, strerror(errno));
		return -1;
	}
	if (wl_socket_setup(fd) < 0 ||
	    connect(fd, (const struct sockaddr *)&cfg->server,
		    sizeof(cfg->server)) < 0) {
		fprintf(stderr, "%s: connect to the server: %s\n", wl_prog,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* One request: send it, block until the whole reply is there, verify it */
static int request_blocking(int fd, uint32_t task, uint64_t seq)
{
	unsigned char req[CS_REQ_SIZE], rep[CS_REQ_SIZE];
	size_t off;
	ssize_t n;

	cs_req_fill(req, task, seq);
	for (off = 0; off < sizeof(req); off += (size_t)n) {
		n = send(fd, req + off, sizeof(req) - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "%s: send: %s\n", wl_prog, strerror(errno));
			return -1;
		}
	}
	for (off = 0; off < sizeof(rep); off += (size_t)n) {
		n = recv(fd, rep + off, sizeof(rep) - off, 0);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "%s: recv: %s\n", wl_prog,
				n ? strerror(errno) : "server closed the connection");
			return -1;
		}
	}
	if (memcmp(req, rep, sizeof(req)) != 0) {
		fprintf(stderr, "%s: task %u request %llu: wrong reply\n", wl_prog,
			task, (unsigned long long)seq);
		return -1;
	}
	return 0;
}

static void sum_chunked(uint64_t lo, uint64_t hi, const struct wl_hooks *h,
			struct wl_part *out)
{
	if (!h || !h->compute_tick) {
		out->sum += wl_sum_range(lo, hi);
		out->count += hi - lo;
		return;
	}
	while (lo < hi) {
		uint64_t end = hi - lo > WL_CHUNK ? lo + WL_CHUNK : hi;

		out->sum += wl_sum_range(lo, end);
		out->count += end - lo;
		lo = end;
		h->compute_tick(h->arg);
	}
}

/*
 * Run one task with blocking calls: the task body of the processes,
 * threads and threads-gil models.
 *   cpu:   sum the task's range
 *   io:    one connection, then t->requests times: request, wait, verify
 *   mixed: one connection, then t->requests times: compute step k, request
 */
int wl_run_task_blocking(const struct wl_config *cfg, const struct wl_task *t,
			 const struct wl_hooks *h, struct wl_part *out)
{
	int fd = -1, rc = 0;

	memset(out, 0, sizeof(*out));
	if (cfg->work == WL_CPU) {
		sum_chunked(t->lo, t->hi, h, out);
		return 0;
	}

	if (h && h->io_begin)
		h->io_begin(h->arg);
	fd = connect_blocking(cfg);
	if (h && h->io_end)
		h->io_end(h->arg);
	if (fd < 0)
		goto fail;

	for (uint64_t k = 0; k < t->requests; k++) {
		if (cfg->work == WL_MIXED)
			sum_chunked(wl_step_lo(t, k), wl_step_lo(t, k + 1), h, out);
		if (h && h->io_begin)
			h->io_begin(h->arg);
		rc = request_blocking(fd, t->id, k);
		if (h && h->io_end)
			h->io_end(h->arg);
		if (rc < 0)
			goto fail;
		out->requests++;
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	out->failed = 1;
	return -1;
}
