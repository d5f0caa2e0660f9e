/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cs-workload.h: shared declarations of the cs-workload program.
 *
 * cs-workload runs one job (cpu, io or mixed) under one of four
 * concurrency models (processes, threads, threads-gil, async). The job is
 * split into --tasks parts, each part is run by one task of the model, and
 * the partial results are combined and checked at the end.
 *
 * Files:
 *   cs-workload.c  command line, main, result check and output
 *   wl-job.c       the job itself: the cpu kernel, splitting, blocking I/O
 *   wl-models.c    the processes and threads models
 *   wl-gil.c       the threads-gil model (a CPython-like global lock)
 *   wl-async.c     the async model (one thread, one epoll loop)
 */
#ifndef CS_WORKLOAD_H
#define CS_WORKLOAD_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>

/* ---- the cpu job -------------------------------------------------------
 *
 * The job is the sequence x_i = wl_value(i) for i in [0, TOTAL), with
 * TOTAL = size * WL_BLOCK. wl_value() maps every aligned block of WL_BLOCK
 * consecutive indices one-to-one onto 0 .. WL_BLOCK-1 (it is a composition
 * of bijections of 16-bit numbers), so over the whole sequence:
 *   count = size * WL_BLOCK
 *   sum   = size * WL_BLOCK * (WL_BLOCK - 1) / 2
 *   mean  = (WL_BLOCK - 1) / 2 = 32767.5
 * A task's part is a contiguous range that is not block aligned, so the
 * partial sums look arbitrary: only the correct combination of all of them
 * gives the closed-form result, which is checked exactly (as integers).
 * The same formula is in workloads/python/cs_workload.py.
 */
#define WL_BLOCK_BITS 16
#define WL_BLOCK (1ULL << WL_BLOCK_BITS) /* numbers per --size unit */
#define WL_BLOCK_MASK (WL_BLOCK - 1)

static inline uint32_t wl_value(uint64_t i)
{
	uint32_t v = (uint32_t)((i ^ (i >> WL_BLOCK_BITS)) & WL_BLOCK_MASK);

	v = (v * 40503u + 12345u) & WL_BLOCK_MASK;
	v ^= v >> 7;
	v = (v * 27893u + 911u) & WL_BLOCK_MASK;
	v ^= v >> 5;
	v = (v * 2531u + 77u) & WL_BLOCK_MASK;
	v ^= v >> 9;
	return v;
}

/* Compute granularity of the cooperative models: the threads-gil holder
 * checks for a drop request after every chunk (a few microseconds) */
#define WL_CHUNK 4096

/* Most tasks a model runs (--tasks); the models size their arrays by it */
#define WL_MAX_TASKS 64

enum wl_model { WL_PROCESSES, WL_THREADS, WL_THREADS_GIL, WL_ASYNC };
enum wl_work { WL_CPU, WL_IO, WL_MIXED };

struct wl_config {
	enum wl_model model;
	enum wl_work work;
	int tasks;                 /* 1 .. WL_MAX_TASKS */
	uint64_t size;             /* cpu/mixed: WL_BLOCK units of numbers */
	uint64_t requests;         /* io/mixed: requests per task */
	struct sockaddr_in server; /* io/mixed */
	long switch_interval_us;   /* threads-gil */
};

/* One task's share of the job */
struct wl_task {
	uint32_t id;
	uint64_t lo, hi;   /* numbers [lo, hi) of the cpu job (empty for io) */
	uint64_t requests; /* requests to make */
};

/* One task's result; travels through a pipe in the processes model */
struct wl_part {
	uint64_t sum;
	uint64_t count;
	uint64_t requests; /* requests whose reply was verified */
	int32_t failed;    /* nonzero: the task failed (message on stderr) */
	int32_t pad;
};

/*
 * Hooks of a blocking task run. compute_tick is called after every
 * WL_CHUNK numbers; io_begin/io_end bracket every blocking network call.
 * The threads-gil model uses them to yield and release its global lock.
 */
struct wl_hooks {
	void (*compute_tick)(void *arg);
	void (*io_begin)(void *arg);
	void (*io_end)(void *arg);
	void *arg;
};

/* wl-job.c */
extern const char *wl_prog;
void wl_task_init(const struct wl_config *cfg, uint32_t id, struct wl_task *t);
uint64_t wl_step_lo(const struct wl_task *t, uint64_t k);
uint64_t wl_sum_range(uint64_t lo, uint64_t hi);
int wl_socket_setup(int fd);
int wl_run_task_blocking(const struct wl_config *cfg, const struct wl_task *t,
			 const struct wl_hooks *hooks, struct wl_part *out);
void wl_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* One thread of the threads models: its task, its result, its turns (gil) */
struct wl_thread {
	const struct wl_config *cfg;
	struct wl_task task;
	struct wl_part *part;
	uint64_t turns;
};

/*
 * wl-models.c: run cfg->tasks threads of body (each given its struct
 * wl_thread) and join them; turns (if not NULL) gets each one's turns.
 */
int wl_run_threads(const struct wl_config *cfg, struct wl_part *parts,
		   void *(*body)(void *), uint64_t *turns);

/* the models: each fills parts[0 .. cfg->tasks-1], returns 0 or -1 */
int wl_model_processes(const struct wl_config *cfg, struct wl_part *parts);
int wl_model_threads(const struct wl_config *cfg, struct wl_part *parts);
int wl_model_threads_gil(const struct wl_config *cfg, struct wl_part *parts,
			 uint64_t *turns);
int wl_model_async(const struct wl_config *cfg, struct wl_part *parts);

/* wl-gil.c: the global interpreter lock; global so a profiler can name it */
extern pthread_mutex_t gil;

#endif /* CS_WORKLOAD_H */
