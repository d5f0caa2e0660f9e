/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * session.h: one tracing session. It owns the tracer, the reorder buffer
 * and the fan-out of the ordered record stream to the current core and to
 * an optional sink (the Perfetto writer). A session can trace several
 * commands in turn (one core each), as `run --model=all` does.
 */
#ifndef CS_SESSION_H
#define CS_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "core.h"
#include "tracer.h"

struct cs_sink {
	/* 0, or -errno: the sink is then dropped and the error kept */
	int (*feed)(void *ctx, const struct cs_hdr *ev);
	void *ctx;
	/* what each core counts, as it counts it (optional: slices.untraced, slices.wait NULL) */
	struct cs_core_slices slices;
};

struct cs_session_opts {
	struct cs_tracer_opts tracer;
	struct cs_sink sink;      /* feed == NULL: none */
	int ready_fd;             /* -1: none */
	bool progress;            /* progress line on stderr */
	unsigned int signal_grace_ms; /* wait for CMD after forwarding a signal */
	FILE *dump;               /* raw records as they leave the ring buffer (debug, bench) */
	uint64_t loop_threshold_ns; /* the cores' (0: their default) */
	/* each new core, before it is fed (to set an observer); NULL: none */
	void (*on_core)(struct cs_core *c, const void *arg);
	const void *on_core_arg;
};

struct cs_session;

int cs_session_open(struct cs_session **s, const struct cs_session_opts *o,
		    char *err, size_t errlen);

/*
 * Run argv held before exec until tracing is live, trace it and all its
 * descendants until it exits. *core receives a finished core (caller frees);
 * *status the wait status (-1 if it was left running).
 */
int cs_session_run(struct cs_session *s, char *const argv[], struct cs_core **core,
		   int *status, char *err, size_t errlen);

/*
 * Trace PID and its descendants for duration_ns (0: until Ctrl-C or exit);
 * pid 0 (with track_all): every task, until the duration or Ctrl-C.
 */
int cs_session_attach(struct cs_session *s, pid_t pid, uint64_t duration_ns,
		      struct cs_core **core, char *err, size_t errlen);

/* Put a mark record into the stream now (model boundaries). */
void cs_session_mark(struct cs_session *s, unsigned int kind, int64_t value,
		     const char *text);

/* Push the stream's tail to the sink. Returns the sink's first error. */
int cs_session_close(struct cs_session **s);

unsigned int cs_session_ncpus(const struct cs_session *s);
/* Set once SIGINT/SIGTERM/SIGHUP arrived. */
bool cs_session_interrupted(void);
/* That signal's number, 0 while none came. */
int cs_session_signal(void);
/* In a child about to exec: the priority concscope had before it raised its own. */
void cs_restore_priority(void);

/* In a child about to exec: under sudo, become the invoking user (or _exit). */
void cs_drop_to_invoker(void);

#endif
