/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * wl-models.c: the two truly parallel models.
 *
 * processes: one fork()ed worker process per task; each sends its struct
 *            wl_part back to the parent over its own pipe and exits; the
 *            parent reads every pipe, reaps every child and combines.
 * threads:   one pthread per task in this process; the main thread joins
 *            them and combines.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cs-workload.h"

static int read_full(int fd, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, (char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int wl_model_processes(const struct wl_config *cfg, struct wl_part *parts)
{
	pid_t pids[WL_MAX_TASKS];
	int rfd[WL_MAX_TASKS];
	int i, started = 0, rc = 0;

	fflush(NULL); /* nothing buffered may be written twice */
	for (i = 0; i < cfg->tasks; i++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0) {
			fprintf(stderr, "%s: pipe: %s\n", wl_prog, strerror(errno));
			rc = -1;
			break;
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			fprintf(stderr, "%s: fork: %s\n", wl_prog, strerror(errno));
			close(p[0]);
			close(p[1]);
			rc = -1;
			break;
		}
		if (pids[i] == 0) {
			/* the worker: its own task, its own result, then out */
			struct wl_task t;
			struct wl_part part;

			close(p[0]);
			wl_task_init(cfg, (uint32_t)i, &t);
			wl_run_task_blocking(cfg, &t, NULL, &part);
			if (write_full(p[1], &part, sizeof(part)) < 0)
				_exit(1);
			_exit(part.failed ? 1 : 0);
		}
		close(p[1]);
		rfd[i] = p[0];
		started++;
	}

	/*
	 * Collect. The write end of pipe i is only in child i, so a child that
	 * dies before writing gives end-of-file here rather than a hang.
	 */
	for (i = 0; i < started; i++) {
		int status;

		if (read_full(rfd[i], &parts[i], sizeof(parts[i])) < 0) {
			fprintf(stderr, "%s: worker %d sent no result\n", wl_prog, i);
			memset(&parts[i], 0, sizeof(parts[i]));
			parts[i].failed = 1;
			rc = -1;
		}
		close(rfd[i]);
		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR) {
				status = -1;
				break;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "%s: worker %d (pid %d) failed\n", wl_prog, i,
				(int)pids[i]);
			parts[i].failed = 1;
			rc = -1;
		}
	}
	return rc;
}

static void *thread_main(void *p)
{
	struct wl_thread *a = p;

	wl_run_task_blocking(a->cfg, &a->task, NULL, a->part);
	return NULL;
}

int wl_run_threads(const struct wl_config *cfg, struct wl_part *parts,
		   void *(*body)(void *), uint64_t *turns)
{
	pthread_t tids[WL_MAX_TASKS];
	struct wl_thread args[WL_MAX_TASKS];
	int i, started, rc = 0;

	for (started = 0; started < cfg->tasks; started++) {
		i = started;
		args[i].cfg = cfg;
		args[i].part = &parts[i];
		args[i].turns = 0;
		wl_task_init(cfg, (uint32_t)i, &args[i].task);
		errno = pthread_create(&tids[i], NULL, body, &args[i]);
		if (errno) {
			fprintf(stderr, "%s: pthread_create: %s\n", wl_prog,
				strerror(errno));
			rc = -1;
			break;
		}
	}
	for (i = 0; i < started; i++) {
		pthread_join(tids[i], NULL);
		if (turns)
			turns[i] = args[i].turns;
		if (parts[i].failed)
			rc = -1;
	}
	return rc;
}

int wl_model_threads(const struct wl_config *cfg, struct wl_part *parts)
{
	return wl_run_threads(cfg, parts, thread_main, NULL);
}
