// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"

void cs_replay_init(struct cs_replay *r, const struct cs_core_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
}

void cs_model_mark_text(const struct cs_model_run *m, char *out, size_t len)
{
	snprintf(out, len, "%s %s %s %u", m->model, m->work, m->lang, m->tasks);
}

/* "threads cpu c 4" into the segment's model (strings point into model_buf). */
static void parse_model(struct cs_segment *g, const char *text)
{
	char *save, *tok[4] = { 0 };
	int i;

	snprintf(g->model_buf, sizeof(g->model_buf), "%s", text);
	tok[0] = strtok_r(g->model_buf, " ", &save);
	for (i = 1; i < 4 && tok[i - 1]; i++)
		tok[i] = strtok_r(NULL, " ", &save);
	if (!tok[2])
		return;
	g->is_model = true;
	g->model.model = tok[0];
	g->model.work = tok[1];
	g->model.lang = tok[2];
	g->model.tasks = tok[3] ? (unsigned int)strtoul(tok[3], NULL, 10) : 0;
	g->model.status = -1;
}

static struct cs_segment *open_segment(struct cs_replay *r)
{
	struct cs_segment *g;

	if (r->nsegs == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		void *p = realloc(r->segs, cap * sizeof(*r->segs));

		if (!p) {
			r->error = -ENOMEM;
			return NULL;
		}
		r->segs = p;
		r->cap = cap;
	}
	g = calloc(1, sizeof(*g));
	if (g)
		g->core = cs_core_new(&r->cfg);
	if (!g || !g->core) {
		free(g);
		r->error = -ENOMEM;
		return NULL;
	}
	r->segs[r->nsegs++] = g;
	if (r->pending_model[0]) {
		parse_model(g, r->pending_model);
		r->pending_model[0] = 0;
	}
	return g;
}

static struct cs_segment *current(struct cs_replay *r)
{
	struct cs_segment *g = r->nsegs ? r->segs[r->nsegs - 1] : NULL;

	return g && !g->finished ? g : NULL;
}

static void on_mark(struct cs_replay *r, const struct cs_mark *m)
{
	struct cs_segment *g = current(r);
	char text[CS_MARK_TEXT + 1];

	memcpy(text, m->text, CS_MARK_TEXT);
	text[CS_MARK_TEXT] = 0;
	switch (m->h.aux) {
	case CS_MARK_MODEL_BEGIN:
		snprintf(r->pending_model, sizeof(r->pending_model), "%s", text);
		return;
	case CS_MARK_MODEL_END:
		if (r->nsegs && r->segs[r->nsegs - 1]->is_model) {
			struct cs_model_run *mr = &r->segs[r->nsegs - 1]->model;

			mr->status = (int)m->value;
			mr->ok = m->value == 0;
		}
		return;
	case CS_MARK_SEGMENT_BEGIN:
		g = open_segment(r);
		break;
	case CS_MARK_ARG:
		if (g && g->argc > 0 && m->value == g->argc - 1 && g->argv[g->argc - 1]) {
			/* a long argument continues */
			char *prev = g->argv[g->argc - 1], *joined;

			if (asprintf(&joined, "%s%s", prev, text) >= 0) {
				free(prev);
				g->argv[g->argc - 1] = joined;
			}
		} else if (g && g->argc < CS_REPLAY_ARGS && m->value == g->argc) {
			g->argv[g->argc++] = strdup(text);
		}
		break;
	case CS_MARK_ATTACH:
		if (g)
			g->pid = (long)m->value;
		break;
	default:
		break;
	}
	if (!g)
		return;
	cs_core_feed(g->core, &m->h);
	if (m->h.aux == CS_MARK_SEGMENT_END) {
		cs_core_finish(g->core, (uint64_t)m->value);
		g->finished = true;
	}
}

void cs_replay_emit(const struct cs_hdr *ev, void *ctx)
{
	struct cs_replay *r = ctx;
	struct cs_segment *g;

	if (ev->kind == CS_EV_MARK) {
		on_mark(r, (const struct cs_mark *)ev);
		return;
	}
	g = current(r);
	if (g)
		cs_core_feed(g->core, ev);
}

void cs_replay_finish(struct cs_replay *r, uint64_t end_ts)
{
	struct cs_segment *g = current(r);

	if (g) {
		cs_core_finish(g->core, end_ts);
		g->finished = true;
	}
}

void cs_replay_free(struct cs_replay *r)
{
	size_t i;
	int a;

	for (i = 0; i < r->nsegs; i++) {
		cs_core_free(&r->segs[i]->core);
		for (a = 0; a < r->segs[i]->argc; a++)
			free(r->segs[i]->argv[a]);
		free(r->segs[i]);
	}
	free(r->segs);
	memset(r, 0, sizeof(*r));
}
