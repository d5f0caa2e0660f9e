/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * replay.h: a saved record stream back into cores. The stream is cut into
 * the segments the live session fed to its cores (SEGMENT_BEGIN..END
 * marks); each segment gets a fresh core and is finished exactly as the
 * live one was, so every number comes out the same. Model marks around a
 * segment say which bundled model it was.
 */
#ifndef CS_REPLAY_H
#define CS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include "core.h"
#include "emit.h"
#include "models.h"

#define CS_REPLAY_ARGS 64

struct cs_segment {
	struct cs_core *core;
	bool finished;
	int argc;                           /* run: the command (from ARG marks) */
	char *argv[CS_REPLAY_ARGS + 1];
	long pid;                           /* attach: the pid, else 0 */
	bool is_model;
	struct cs_model_run model;          /* with is_model: model, work, lang, tasks, ok */
	char model_buf[CS_MARK_TEXT + 1];   /* backing store of model's strings */
};

struct cs_replay {
	struct cs_core_cfg cfg;
	struct cs_segment **segs;  /* each allocated alone: model strings point into it */
	size_t nsegs, cap;
	char pending_model[CS_MARK_TEXT + 1]; /* MODEL_BEGIN seen, segment not yet */
	int error;                          /* -ENOMEM */
};

void cs_replay_init(struct cs_replay *r, const struct cs_core_cfg *cfg);
/* cs_emit_fn: feed one record of a saved stream. */
void cs_replay_emit(const struct cs_hdr *ev, void *ctx);
/*
 * Finish the last segment when the stream has no SEGMENT_END for it, at
 * end_ts (the trailer's: when the recording stopped). A file cut short is
 * refused before this, by the reader.
 */
void cs_replay_finish(struct cs_replay *r, uint64_t end_ts);
void cs_replay_free(struct cs_replay *r);

/* The text a MODEL_BEGIN mark carries, and its parsing. */
void cs_model_mark_text(const struct cs_model_run *m, char *out, size_t len);

#endif
