/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * wl-async.c: the async model: one process, ONE thread, one epoll event
 * loop running the tasks as cooperative state machines.
 *
 * A task gives control back to the loop whenever it would wait for the
 * network (non-blocking sockets, EAGAIN) and after every compute slice, so
 * the tasks interleave on the one thread:
 *
 *   cpu:   COMPUTE (one WL_BLOCK slice per turn, round-robin) ... DONE
 *   io:    CONNECTING -> [SENDING -> RECEIVING] x requests -> DONE
 *   mixed: CONNECTING -> [COMPUTE (one step) -> SENDING -> RECEIVING]
 *          x requests -> DONE
 *
 * The loop polls epoll without blocking while some task can compute, and
 * blocks in epoll_wait only when every live task waits for the network.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cs-proto.h"
#include "cs-workload.h"

#define ASYNC_SLICE WL_BLOCK /* numbers per compute turn of a cpu task */

enum astate { A_COMPUTE, A_CONNECTING, A_SENDING, A_RECEIVING, A_DONE };

struct atask {
	const struct wl_config *cfg;
	struct wl_task t;
	struct wl_part *part;
	enum astate st;
	int fd;
	uint64_t pos; /* cpu: next number to compute */
	uint64_t k;   /* current request (and, for mixed, step) */
	unsigned char req[CS_REQ_SIZE], rep[CS_REQ_SIZE];
	size_t off;
};

static void task_fail(struct atask *a, const char *what, int err)
{
	fprintf(stderr, "%s: task %u: %s%s%s\n", wl_prog, a->t.id, what,
		err ? ": " : "", err ? strerror(err) : "");
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->part->failed = 1;
	a->st = A_DONE;
}

static void begin_request(struct atask *a)
{
	cs_req_fill(a->req, a->t.id, a->k);
	a->off = 0;
	a->st = A_SENDING;
}

/* after connecting, and after each verified reply: what comes next */
static void next_step(struct atask *a)
{
	if (a->k == a->t.requests) {
		close(a->fd);
		a->fd = -1;
		a->st = A_DONE;
	} else if (a->cfg->work == WL_MIXED) {
		a->st = A_COMPUTE;
	} else {
		begin_request(a);
	}
}

/* Drive a task's network state machine as far as it goes without waiting */
static void advance(struct atask *a)
{
	for (;;) {
		ssize_t n;
		int err;
		socklen_t len = sizeof(err);

		switch (a->st) {
		case A_CONNECTING: {
			struct sockaddr_in peer;
			socklen_t plen = sizeof(peer);

			if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
			if (err) {
				task_fail(a, "connect to the server", err);
				return;
			}
			if (getpeername(a->fd, (struct sockaddr *)&peer, &plen) < 0) {
				if (errno == ENOTCONN)
					return; /* still connecting: wait for EPOLLOUT */
				task_fail(a, "getpeername", errno);
				return;
			}
			next_step(a);
			break;
		}
		case A_SENDING:
			n = send(a->fd, a->req + a->off, sizeof(a->req) - a->off,
				 MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				break; /* try again */
			if (n < 0) {
				if (errno == EAGAIN)
					return; /* EPOLLOUT brings us back */
				task_fail(a, "send", errno);
				return;
			}
			a->off += (size_t)n;
			if (a->off == sizeof(a->req)) {
				a->off = 0;
				a->st = A_RECEIVING;
			}
			break;
		case A_RECEIVING:
			n = recv(a->fd, a->rep + a->off, sizeof(a->rep) - a->off, 0);
			if (n < 0 && errno == EINTR)
				break; /* try again */
			if (n < 0) {
				if (errno == EAGAIN)
					return; /* EPOLLIN brings us back */
				task_fail(a, "recv", errno);
				return;
			}
			if (n == 0) {
				task_fail(a, "server closed the connection", 0);
				return;
			}
			a->off += (size_t)n;
			if (a->off < sizeof(a->rep))
				break;
			if (memcmp(a->req, a->rep, sizeof(a->req)) != 0) {
				task_fail(a, "wrong reply", 0);
				return;
			}
			a->part->requests++;
			a->k++;
			next_step(a);
			break;
		case A_COMPUTE:
		case A_DONE:
			return;
		}
	}
}

static void start_connect(struct atask *a, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	int r;

	a->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		task_fail(a, "socket", errno);
		return;
	}
	if (wl_socket_setup(a->fd) < 0) {
		task_fail(a, "setsockopt", errno);
		return;
	}
	r = connect(a->fd, (const struct sockaddr *)&a->cfg->server,
		    sizeof(a->cfg->server));
	if (r < 0 && errno != EINPROGRESS) {
		task_fail(a, "connect to the server", errno);
		return;
	}
	ev.data.ptr = a;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, a->fd, &ev) < 0) {
		task_fail(a, "epoll_ctl", errno);
		return;
	}
	a->st = A_CONNECTING;
	if (r == 0) /* connected at once (it happens on loopback) */
		advance(a);
}

/* One compute turn of a task in A_COMPUTE */
static void compute_turn(struct atask *a)
{
	uint64_t lo, hi;

	if (a->cfg->work == WL_CPU) {
		lo = a->pos;
		hi = a->t.hi - lo > ASYNC_SLICE ? lo + ASYNC_SLICE : a->t.hi;
		a->pos = hi;
	} else {
		/* mixed: the whole step k, then its request */
		lo = wl_step_lo(&a->t, a->k);
		hi = wl_step_lo(&a->t, a->k + 1);
	}
	a->part->sum += wl_sum_range(lo, hi);
	a->part->count += hi - lo;

	if (a->cfg->work == WL_CPU) {
		if (a->pos == a->t.hi)
			a->st = A_DONE;
	} else {
		begin_request(a);
		advance(a);
	}
}

int wl_model_async(const struct wl_config *cfg, struct wl_part *parts)
{
	struct atask tasks[WL_MAX_TASKS];
	struct epoll_event evs[64];
	int i, ep, rc = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		fprintf(stderr, "%s: epoll_create1: %s\n", wl_prog, strerror(errno));
		return -1;
	}
	for (i = 0; i < cfg->tasks; i++) {
		struct atask *a = &tasks[i];

		memset(a, 0, sizeof(*a));
		memset(&parts[i], 0, sizeof(parts[i]));
		a->cfg = cfg;
		a->part = &parts[i];
		a->fd = -1;
		wl_task_init(cfg, (uint32_t)i, &a->t);
		a->pos = a->t.lo;
		if (cfg->work == WL_CPU)
			a->st = a->t.lo < a->t.hi ? A_COMPUTE : A_DONE;
		else
			start_connect(a, ep);
	}

	for (;;) {
		int live = 0, runnable = 0, n;

		for (i = 0; i < cfg->tasks; i++) {
			live += tasks[i].st != A_DONE;
			runnable += tasks[i].st == A_COMPUTE;
		}
		if (!live)
			break;

		/* never block while a task can compute */
		n = epoll_wait(ep, evs, 64, runnable ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: epoll_wait: %s\n", wl_prog,
				strerror(errno));
			rc = -1;
			break;
		}
		for (int e = 0; e < n; e++)
			advance(evs[e].data.ptr);

		/* one turn for every task that can compute, in order */
		for (i = 0; i < cfg->tasks; i++)
			if (tasks[i].st == A_COMPUTE)
				compute_turn(&tasks[i]);
	}

	for (i = 0; i < cfg->tasks; i++) {
		if (tasks[i].fd >= 0)
			close(tasks[i].fd);
		if (parts[i].failed)
			rc = -1;
	}
	close(ep);
	return rc;
}
