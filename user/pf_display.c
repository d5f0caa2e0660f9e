// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pf_display.c: what a trace file holds only for the Perfetto UI
 * (pf_display.h): the process tree, track descriptors, track events and
 * the FtraceEvents of task events. Nothing here is read back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "grow.h"
#include "pf_display.h"
#include "pf_format.h"

#define PF_MAX_TASKS (1u << 20) /* names kept */

/* TrackEvent.type */
enum { TE_BEGIN = 1, TE_END = 2, TE_INSTANT = 3, TE_COUNTER = 4 };

#define CLONE_THREAD_FLAG 0x00010000u

/* What the display remembers of a task. */
struct pf_task {
	char comm[CS_COMM_LEN];
	uint8_t flags;
	uint32_t ppid;   /* its parent process, when a fork said (0: not known) */
};
#define WT_TREE 1  /* in a ProcessTree packet, or created by a task_newtask */
#define WT_TRACK 2 /* thread TrackDescriptor written */
#define WT_UNTRACED 4 /* its "untraced" track's TrackDescriptor written */
#define WT_PROCESS 8 /* (a main thread) its process's TrackDescriptor written */

/* ---- tasks ---- */

static struct pf_task *task_get(struct pf_display *d, uint32_t tid, bool create)
{
	uint32_t *slot = cs_hmap_get(&d->taskidx, tid, 0);
	struct pf_task *t;

	if (slot)
		return &d->tasks[*slot];
	if (!create || d->ntasks >= PF_MAX_TASKS ||
	    cs_grow(&d->tasks, d->ntasks, &d->captasks, sizeof(*d->tasks), 256))
		return NULL;
	if (cs_hmap_put(&d->taskidx, tid, 0, d->ntasks))
		return NULL;
	t = &d->tasks[d->ntasks++];
	memset(t, 0, sizeof(*t));
	return t;
}

void pf_display_name(struct pf_display *d, uint32_t tid, const char *comm)
{
	struct pf_task *t = task_get(d, tid, true);

	if (t)
		pf_comm_norm(t->comm, comm);
}

const char *pf_display_comm(struct pf_display *d, uint32_t tid)
{
	struct pf_task *t = task_get(d, tid, false);

	return t ? t->comm : "";
}

/* ---- packets: ftrace events, process tree, track events ---- */

static size_t disp_begin_seq(struct pf_display *d, uint64_t ts, uint32_t seq)
{
	return pf_packet_begin(&d->pkts, ts, seq);
}

static size_t disp_begin(struct pf_display *d, uint64_t ts)
{
	return disp_begin_seq(d, ts, PF_SEQ);
}

/* An FtraceEvent in the bundle of the record's CPU; returns the payload mark. */
static size_t fevent_begin(struct pf_events *ev, const struct cs_hdr *h, uint32_t pid,
			   uint32_t field, size_t *outer)
{
	struct pb_buf *b = &ev->buf;

	*outer = pb_nest_begin(b, FB_EVENT);
	pb_uint(b, FE_TS, h->ts);
	pb_uint(b, FE_PID, pid);
	ev->n++;
	return pb_nest_begin(b, field);
}

static void fevent_end(struct pf_events *ev, size_t inner, size_t outer)
{
	pb_nest_end(&ev->buf, inner);
	pb_nest_end(&ev->buf, outer);
}

/*
 * A Process of a ProcessTree: its cmdline is the command's arguments when
 * the session gave them (argv), else its name (cmdline_is_comm, which also
 * names the main thread: only for a task no switch may name).
 */
static void tree_process(struct pb_buf *b, uint32_t pid, uint32_t ppid, const char *comm,
			 const struct pf_args *argv)
{
	size_t mp = pb_nest_begin(b, 1);
	uint32_t i;

	pb_int(b, 1, (int32_t)pid);
	pb_int(b, 2, (int32_t)ppid);
	if (argv && argv->n) {
		for (i = 0; i < argv->n; i++)
			pb_str(b, 3, argv->buf + argv->off[i]);
	} else {
		pb_strn(b, 3, comm[0] ? comm : "?", CS_COMM_LEN);
		pb_bool(b, 9, true); /* cmdline_is_comm */
	}
	pb_nest_end(b, mp);
}

/* A task seen in /proc: its process (for a main thread) and itself, named. */
static void disp_tree(struct pf_display *d, uint64_t ts, uint32_t tid, uint32_t tgid,
		      uint32_t ppid, const char *comm, bool process)
{
	struct pb_buf *b = &d->pkts;
	struct pf_task *t = task_get(d, tid, true);
	size_t m, mt, mp;

	if (!t || (t->flags & WT_TREE))
		return;
	t->flags |= WT_TREE;
	t->ppid = ppid;
	m = disp_begin(d, ts);
	mt = pb_nest_begin(b, TP_PROCESS_TREE);
	if (process)
		tree_process(b, tgid, ppid, comm, NULL);
	mp = pb_nest_begin(b, 2);
	pb_int(b, 1, (int32_t)tid);
	pb_strn(b, 2, comm, CS_COMM_LEN);
	pb_int(b, 3, (int32_t)tgid);
	pb_nest_end(b, mp);
	pb_nest_end(b, mt);
	pb_nest_end(b, m);
}

/* A process's title (it rewrote its arguments): its name in the UI from then on. */
static void disp_title(struct pf_display *d, const struct cs_title *e)
{
	struct pb_buf *b = &d->pkts;
	struct pf_task *t = task_get(d, e->h.pid, false);
	size_t m, mt, mp;

	if (!e->title[0])
		return;
	m = disp_begin(d, e->h.ts);
	mt = pb_nest_begin(b, TP_PROCESS_TREE);
	mp = pb_nest_begin(b, 1);
	pb_int(b, 1, (int32_t)e->h.pid);
	if (t && t->ppid)
		pb_int(b, 2, (int32_t)t->ppid);
	pb_strn(b, 3, e->title, CS_TITLE_LEN);
	pb_nest_end(b, mp);
	pb_nest_end(b, mt);
	pb_nest_end(b, m);
}

/*
 * A process's exec: its ProcessTree entry, with its command line. Perfetto
 * finds the process its task_newtask (or a switch) created and adds the
 * cmdline and the parent; a ProcessTree at the fork itself would come
 * before the task_newtask and become a second process and thread.
 */
static void disp_exec_tree(struct pf_display *d, const struct cs_exec *e)
{
	struct pf_task *t = task_get(d, e->h.tid, true);
	const struct pf_args *argv = d->args.n && d->args.pid == e->h.pid ? &d->args : NULL;
	size_t m, mt;

	if (!t)
		return;
	t->flags |= WT_TREE;
	m = disp_begin(d, e->h.ts);
	mt = pb_nest_begin(&d->pkts, TP_PROCESS_TREE);
	tree_process(&d->pkts, e->h.pid, t->ppid, e->comm, argv);
	pb_nest_end(&d->pkts, mt);
	pb_nest_end(&d->pkts, m);
	if (argv)
		d->args.n = 0;
}

/* The traced command's arguments (CS_MARK_ARG: chunks of CS_MARK_TEXT - 1 bytes). */
static void args_add(struct pf_args *a, const struct cs_mark *e)
{
	size_t n = strnlen(e->text, CS_MARK_TEXT);

	if (a->pid != e->h.pid || (e->value != a->n && e->value != (int64_t)a->n - 1))
		a->n = a->len = 0;
	a->pid = e->h.pid;
	if (a->len + n + 1 > sizeof(a->buf))
		return;
	if (e->value == (int64_t)a->n - 1 && a->len) {
		a->len--; /* a long argument continues: over its NUL */
	} else {
		if (a->n == PF_ARGS_MAX)
			return;
		a->off[a->n++] = (uint16_t)a->len;
	}
	memcpy(a->buf + a->len, e->text, n);
	a->len += n;
	a->buf[a->len++] = 0;
}

/*
 * A fork: a task_newtask in the bundle of its CPU, which starts the thread
 * (and for a process, the process) in Perfetto with its start time; the
 * process gets its command line at its exec.
 */
static void disp_fork(struct pf_display *d, const struct cs_fork *e, struct pf_events *ev)
{
	bool thread = e->h.flags & CS_FKF_THREAD;
	struct pf_task *t;
	size_t in, out;

	pf_display_name(d, e->child_tid, e->child_comm);
	t = task_get(d, e->child_tid, true);
	if (t) { /* a tid used again: a new task */
		t->flags = 0;
		t->ppid = thread ? 0 : e->h.pid;
	}
	if (!ev) { /* no bundle to put it in: name it in a process tree */
		disp_tree(d, e->h.ts, e->child_tid, e->child_pid, e->h.pid, e->child_comm, !thread);
		return;
	}
	if (t)
		t->flags |= WT_TREE;
	in = fevent_begin(ev, &e->h, e->h.tid, FE_NEWTASK, &out);
	pb_int(&ev->buf, 1, (int32_t)e->child_tid);
	pb_strn(&ev->buf, 2, e->child_comm, CS_COMM_LEN);
	pb_uint(&ev->buf, 3, thread ? CLONE_THREAD_FLAG : 0);
	fevent_end(ev, in, out);
}

/* The FtraceEvent of an exec, exit, rename or migration. */
static void disp_task_event(struct pf_display *d, const union cs_rec *r, struct pf_events *ev)
{
	struct pb_buf *b;
	size_t in, out;

	if (!ev)
		return;
	b = &ev->buf;
	switch (r->h.kind) {
	case CS_EV_EXEC:
		in = fevent_begin(ev, &r->h, r->h.tid, FE_EXEC, &out);
		pb_strn(b, 1, r->exec.comm, CS_COMM_LEN);
		pb_int(b, 2, (int32_t)r->h.tid);
		pb_int(b, 3, (int32_t)r->exec.old_tid);
		break;
	case CS_EV_EXIT:
		in = fevent_begin(ev, &r->h, r->h.tid, FE_EXIT, &out);
		pb_strn(b, 1, pf_display_comm(d, r->h.tid), CS_COMM_LEN);
		pb_int(b, 2, (int32_t)r->h.tid);
		pb_int(b, 3, (int32_t)r->h.pid);
		break;
	case CS_EV_RENAME:
		in = fevent_begin(ev, &r->h, r->h.tid, FE_RENAME, &out);
		pb_int(b, 1, (int32_t)r->h.tid);
		pb_strn(b, 2, pf_display_comm(d, r->h.tid), CS_COMM_LEN);
		pb_strn(b, 3, r->ren.comm, CS_COMM_LEN);
		break;
	case CS_EV_MIGRATE:
		in = fevent_begin(ev, &r->h, r->h.tid, FE_MIGRATE, &out);
		pb_strn(b, 1, pf_display_comm(d, r->h.tid), CS_COMM_LEN);
		pb_int(b, 2, (int32_t)r->h.tid);
		pb_int(b, 4, (int32_t)r->mig.orig_cpu);
		pb_int(b, 5, r->h.aux);
		break;
	default:
		return;
	}
	fevent_end(ev, in, out);
}

static void disp_track_desc(struct pf_display *d, uint64_t ts, uint64_t uuid,
			    const char *name, uint32_t pid, uint32_t tid, bool counter)
{
	struct pb_buf *b = &d->pkts;
	size_t m = disp_begin_seq(d, ts, tid ? PF_SEQ_TRACKS : PF_SEQ);
	size_t md = pb_nest_begin(b, TP_TRACK_DESC), mt;

	pb_uint(b, 1, uuid);
	if (name)
		pb_str(b, 2, name);
	if (tid) {
		mt = pb_nest_begin(b, 4);
		pb_int(b, 1, (int32_t)pid);
		pb_int(b, 2, (int64_t)tid);
		pb_nest_end(b, mt);
	}
	if (counter) {
		mt = pb_nest_begin(b, 8);
		pb_nest_end(b, mt);
	}
	pb_nest_end(b, md);
	pb_nest_end(b, m);
}

/*
 * s's iid in table t, its entry added to d->fresh the first time; 0 when it
 * is to be written in place (a table full, no memory, or another string of
 * the same hash and length already holding the slot).
 */
static uint64_t intern(struct pf_display *d, unsigned int t, const char *s, size_t len)
{
	static const uint32_t field[PF_IN_TABLES] = { 2, 3, 29 }; /* InternedData members */
	struct pf_intern *in = &d->in[t];
	uint64_t h = cs_hash_bytes(CS_HASH_SEED, s, len);
	uint32_t *slot = cs_hmap_get(&in->idx, h, len);
	char *copy;
	size_t m;

	if (slot)
		return memcmp(in->str[*slot], s, len) ? 0 : *slot + 1;
	if (in->n >= PF_INTERN_MAX || cs_grow(&in->str, in->n, &in->cap, sizeof(*in->str), 64))
		return 0;
	copy = malloc(len + 1);
	if (!copy)
		return 0;
	memcpy(copy, s, len);
	copy[len] = 0;
	if (cs_hmap_put(&in->idx, h, len, (uint32_t)in->n)) {
		free(copy);
		return 0;
	}
	in->str[in->n++] = copy;
	/* EventName, DebugAnnotationName and InternedString: iid 1, the text 2 */
	m = pb_nest_begin(&d->fresh, field[t]);
	pb_uint(&d->fresh, 1, in->n);
	pb_bytes(&d->fresh, 2, s, len);
	pb_nest_end(&d->fresh, m);
	return in->n;
}

/*
 * s (its first len bytes), interned in table t: by its iid in field fi, or
 * in place in field fs when intern() says so.
 */
static void te_string(struct pf_display *d, unsigned int t, uint32_t fi, uint32_t fs,
		      const char *s, size_t len)
{
	uint64_t iid = intern(d, t, s, len);

	if (iid) {
		pb_uint(&d->pkts, fi, iid);
		d->te_iid = true;
	} else {
		pb_bytes(&d->pkts, fs, s, len);
	}
}

/*
 * A TrackEvent on sequence 1 (name_iid 10, or name 23); returns the marks
 * to close with te_end(). The interned entries it and its arguments add
 * gather in d->fresh until then.
 */
static void te_begin(struct pf_display *d, uint64_t ts, uint64_t uuid, int type,
		     const char *name, size_t mark[2])
{
	struct pb_buf *b = &d->pkts;

	pb_buf_reset(&d->fresh);
	d->te_iid = false;
	mark[0] = disp_begin(d, ts);
	mark[1] = pb_nest_begin(b, TP_TRACK_EVENT);
	pb_uint(b, 9, (uint64_t)type);
	pb_uint(b, 11, uuid);
	if (name)
		te_string(d, PF_IN_NAMES, 10, 23, name, strnlen(name, CS_LOCK_NAME_LEN + 32));
}

/*
 * The event's end, then, in the same packet (the importer reads a packet's
 * InternedData before its event, whatever their order), the entries it
 * added and the flag that it needs the sequence's interned state.
 */
static void te_end(struct pf_display *d, const size_t mark[2])
{
	struct pb_buf *b = &d->pkts;
	size_t mi;

	pb_nest_end(b, mark[1]);
	if (d->te_iid)
		pb_uint(b, TP_SEQ_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
	if (d->fresh.len) {
		mi = pb_nest_begin(b, TP_INTERNED);
		pb_raw(b, d->fresh.p, d->fresh.len);
		pb_nest_end(b, mi);
	}
	if (d->fresh.err && !b->err)
		b->err = d->fresh.err;
	pb_nest_end(b, mark[0]);
}

/*
 * DebugAnnotation: its name (name_iid 1, or name 10), then a string
 * (string_value_iid 17, or string 6), or v in field (uint 3, int 4,
 * pointer 7).
 */
static void te_arg(struct pf_display *d, const char *name, uint32_t field, uint64_t v,
		   const char *s)
{
	struct pb_buf *b = &d->pkts;
	size_t m = pb_nest_begin(b, 4);

	te_string(d, PF_IN_ARG_NAMES, 1, 10, name, strlen(name));
	if (s)
		te_string(d, PF_IN_VALUES, 17, 6, s, strlen(s));
	else
		pb_uint(b, field, v);
	pb_nest_end(b, m);
}

/* A thread's track (its one ThreadDescriptor), and its "untraced" child track. */
static void thread_track(struct pf_display *d, uint64_t ts, uint32_t tid, uint32_t pid,
			 bool untraced)
{
	struct pf_task *t = task_get(d, tid, true);
	size_t m, md;

	if (!t)
		return;
	if (!(t->flags & WT_TRACK)) {
		t->flags |= WT_TRACK;
		disp_track_desc(d, ts, UUID_THREAD(tid), NULL, pid, tid, false);
	}
	if (!untraced || (t->flags & WT_UNTRACED))
		return;
	t->flags |= WT_UNTRACED;
	/* a child of the thread's track: a second ThreadDescriptor would be a second thread */
	m = disp_begin(d, ts);
	md = pb_nest_begin(&d->pkts, TP_TRACK_DESC);
	pb_uint(&d->pkts, 1, UUID_UNTRACED(tid));
	pb_str(&d->pkts, 2, "untraced");
	pb_uint(&d->pkts, 5, UUID_THREAD(tid));
	pb_nest_end(&d->pkts, md);
	pb_nest_end(&d->pkts, m);
}

/* A slice [a, b) on a track: its begin (with args from fn) and its end. */
static void slice(struct pf_display *d, uint64_t uuid, const char *name, uint64_t a, uint64_t b,
		  void (*args)(struct pf_display *d, const void *arg), const void *arg)
{
	size_t mark[2];

	te_begin(d, a, uuid, TE_BEGIN, name, mark);
	if (args)
		args(d, arg);
	te_end(d, mark);
	te_begin(d, b, uuid, TE_END, NULL, mark);
	te_end(d, mark);
}

void pf_display_untraced(struct pf_display *d, uint32_t tid, uint32_t pid, uint64_t a, uint64_t b)
{
	thread_track(d, a, tid, pid, true);
	slice(d, UUID_UNTRACED(tid), "untraced", a, b, NULL, NULL);
}

static void wait_args(struct pf_display *d, const void *arg)
{
	const struct cs_wait_end *e = arg;
	char who[CS_COMM_LEN + 16];

	te_arg(d, "kind", 0, 0, cs_lock_kind_name(e->kind));
	te_arg(d, "space", 0, 0, e->user ? "futex" : "kernel");
	te_arg(d, "address", 7, e->addr, NULL);
	if (cs_releaser_reason(e->releaser)) {
		te_arg(d, "released_by", 0, 0, cs_releaser_reason(e->releaser));
	} else {
		snprintf(who, sizeof(who), "%s/%llu", pf_display_comm(d, (uint32_t)e->releaser),
			 (unsigned long long)e->releaser);
		te_arg(d, "released_by", 0, 0, who);
	}
}

void pf_display_wait(struct pf_display *d, const struct cs_wait_end *e)
{
	char hex[24];
	const char *name = e->name;

	if (!name || !name[0]) { /* as the lock table names it */
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)e->addr);
		name = hex;
	}
	thread_track(d, e->begin, e->tid, e->pid, false);
	slice(d, UUID_THREAD(e->tid), name, e->begin, e->end, wait_args, e);
}

/*
 * The recording window on the traced process's own track, named after the
 * model it runs (or "recording window"): in the UI, each workload process
 * says which model it was.
 */
static void window_mark(struct pf_display *d, const struct cs_mark *e)
{
	struct pf_task *t = e->h.pid ? task_get(d, e->h.pid, true) : NULL;
	size_t mark[2], m, md, mp;

	if (e->h.aux == CS_MARK_WINDOW_END) {
		if (d->window_pid) {
			te_begin(d, e->h.ts, UUID_PROCESS(d->window_pid), TE_END, NULL, mark);
			te_end(d, mark);
		}
		d->window_pid = 0;
		return;
	}
	if (!t || d->window_pid)
		return;
	if (!(t->flags & WT_PROCESS)) {
		t->flags |= WT_PROCESS;
		m = disp_begin_seq(d, e->h.ts, PF_SEQ_TRACKS);
		md = pb_nest_begin(&d->pkts, TP_TRACK_DESC);
		pb_uint(&d->pkts, 1, UUID_PROCESS(e->h.pid));
		pb_str(&d->pkts, 2, "concscope");
		mp = pb_nest_begin(&d->pkts, 3);
		pb_int(&d->pkts, 1, (int32_t)e->h.pid);
		pb_nest_end(&d->pkts, mp);
		pb_nest_end(&d->pkts, md);
		pb_nest_end(&d->pkts, m);
	}
	d->window_pid = e->h.pid;
	te_begin(d, e->h.ts, UUID_PROCESS(e->h.pid), TE_BEGIN,
		 d->model[0] ? d->model : "recording window", mark);
	te_end(d, mark);
}

static void disp_mark(struct pf_display *d, const struct cs_mark *e)
{
	static const char *const instants[] = {
		[CS_MARK_WINDOW_BEGIN] = "window begin", [CS_MARK_WINDOW_END] = "window end",
		[CS_MARK_CMD_EXIT] = "command exit",
	};
	char text[CS_MARK_TEXT + 1];
	size_t mark[2];

	memcpy(text, e->text, CS_MARK_TEXT);
	text[CS_MARK_TEXT] = 0;
	switch (e->h.aux) {
	case CS_MARK_ARG:
		args_add(&d->args, e);
		return;
	case CS_MARK_MODEL_BEGIN:
		te_begin(d, e->h.ts, UUID_MODELS, TE_BEGIN, text[0] ? text : "model", mark);
		d->models_open++;
		memcpy(d->model, text, sizeof(d->model));
		break;
	case CS_MARK_MODEL_END:
		d->model[0] = 0;
		if (!d->models_open)
			return;
		d->models_open--;
		te_begin(d, e->h.ts, UUID_MODELS, TE_END, NULL, mark);
		break;
	case CS_MARK_WINDOW_BEGIN:
	case CS_MARK_WINDOW_END:
		window_mark(d, e);
		/* and an instant on the models track */
		__attribute__((fallthrough));
	case CS_MARK_CMD_EXIT:
		te_begin(d, e->h.ts, UUID_MODELS, TE_INSTANT, instants[e->h.aux], mark);
		if (e->h.aux == CS_MARK_CMD_EXIT)
			te_arg(d, "status", 4, (uint64_t)e->value, NULL);
		break;
	default:
		return;
	}
	te_end(d, mark);
}

/* A loss window as a slice on its CPU's "lost events" track. */
static void loss_slice(struct pf_display *d, unsigned int slot, struct pf_lossw *w)
{
	char name[48];

	if (!w->track) {
		w->track = true;
		if (slot < PF_MAX_CPU)
			snprintf(name, sizeof(name), "concscope lost events, CPU %u", slot);
		else
			snprintf(name, sizeof(name), "concscope lost events, not per CPU");
		disp_track_desc(d, w->first, UUID_LOSS(slot), name, 0, 0, false);
	}
	snprintf(name, sizeof(name), "lost %llu events", (unsigned long long)w->count);
	slice(d, UUID_LOSS(slot), name, w->first, w->last, NULL, NULL);
	w->count = 0;
}

/*
 * Events lost: the lost counter, the bundle's lost flag, and the CPU's
 * loss window (merged as the core merges them; the LOST record says from
 * when to when).
 */
static void disp_lost(struct pf_display *d, const struct cs_lost *e, struct pf_events *ev)
{
	unsigned int slot = e->h.cpu < PF_MAX_CPU ? e->h.cpu : PF_MAX_CPU;
	uint64_t first = e->first_ts && e->first_ts <= e->h.ts ? e->first_ts : e->h.ts;
	struct pf_lossw *w;
	size_t mark[2];

	if (ev)
		ev->lost = true;
	if (!d->lost_track) {
		d->lost_track = true;
		disp_track_desc(d, e->h.ts, UUID_LOST, "concscope lost events", 0, 0, true);
	}
	d->lost_total += e->count;
	te_begin(d, e->h.ts, UUID_LOST, TE_COUNTER, NULL, mark);
	pb_int(&d->pkts, 30, (int64_t)d->lost_total);
	te_end(d, mark);
	if (!d->lost_cpu) {
		d->lost_cpu = calloc(PF_MAX_CPU + 1, sizeof(*d->lost_cpu));
		d->lossw = calloc(PF_MAX_CPU + 1, sizeof(*d->lossw));
		if (!d->lost_cpu || !d->lossw) {
			d->pkts.err = -ENOMEM;
			return;
		}
	}
	d->lost_cpu[slot] += e->count;
	w = &d->lossw[slot];
	if (w->count && first <= w->last + CS_LOSS_MERGE_NS) {
		w->first = first < w->first ? first : w->first;
		w->last = e->h.ts > w->last ? e->h.ts : w->last;
		w->count += e->count;
		return;
	}
	if (w->count)
		loss_slice(d, slot, w);
	w->first = first;
	w->last = e->h.ts;
	w->count = e->count ? e->count : 1;
}

void pf_display_end_losses(struct pf_display *d)
{
	unsigned int i;

	for (i = 0; d->lossw && i <= PF_MAX_CPU; i++)
		if (d->lossw[i].count)
			loss_slice(d, i, &d->lossw[i]);
}

/* FtraceStats.cpu_stats: cpu (1), overrun (3). */
static void cpu_stats(struct pb_buf *b, uint64_t cpu, uint64_t overrun)
{
	size_t m = pb_nest_begin(b, 2);

	pb_uint(b, 1, cpu);
	pb_uint(b, 3, overrun);
	pb_nest_end(b, m);
}

/*
 * TracePacket.ftrace_stats (34): FtraceStats {phase (1), cpu_stats (2)},
 * field numbers from Perfetto's ftrace_stats.proto. Perfetto's
 * ftrace_cpu_overrun_delta (END minus START, per CPU) is then what each
 * CPU lost; the losses that are not of a CPU Perfetto can have go under
 * 65535 (0xffff, as the LOST records say), so the deltas sum to lost_events.
 */
void pf_display_ftrace_stats(const struct pf_display *d, struct pb_buf *pkt, unsigned int ncpus,
			     unsigned int phase)
{
	size_t m = pb_nest_begin(pkt, TP_FTRACE_STATS);
	unsigned int i;

	pb_uint(pkt, 1, phase);
	for (i = 0; i < PF_MAX_CPU; i++)
		if (i < ncpus || (d->lost_cpu && d->lost_cpu[i]))
			cpu_stats(pkt, i, phase == 2 && d->lost_cpu ? d->lost_cpu[i] : 0);
	if (d->lost_cpu && d->lost_cpu[PF_MAX_CPU])
		cpu_stats(pkt, 0xffff, phase == 2 ? d->lost_cpu[PF_MAX_CPU] : 0);
	pb_nest_end(pkt, m);
}

bool pf_display_needs_bundle(unsigned int kind)
{
	return kind == CS_EV_FORK || kind == CS_EV_EXEC || kind == CS_EV_RENAME ||
	       kind == CS_EV_EXIT || kind == CS_EV_MIGRATE || kind == CS_EV_LOST;
}

/* A capture's thread, for pf_stacks: the display's one track per thread. */
static void stacks_track(void *ctx, uint64_t ts, uint32_t tid, uint32_t pid)
{
	thread_track(ctx, ts, tid, pid, false);
}

void pf_display_feed(struct pf_display *d, const union cs_rec *r, struct pf_events *ev)
{
	pf_stacks_feed(&d->stk, r, &d->pkts, stacks_track, d);
	switch (r->h.kind) {
	case CS_EV_FORK:
		disp_fork(d, &r->fork, ev);
		break;
	case CS_EV_EXEC:
		disp_task_event(d, r, ev);
		pf_display_name(d, r->h.tid, r->exec.comm);
		if (r->h.tid == r->h.pid)
			disp_exec_tree(d, &r->exec);
		break;
	case CS_EV_RENAME:
		disp_task_event(d, r, ev);
		pf_display_name(d, r->h.tid, r->ren.comm);
		break;
	case CS_EV_EXIT:
	case CS_EV_MIGRATE:
		disp_task_event(d, r, ev);
		break;
	case CS_EV_THREAD_INFO:
		pf_display_name(d, r->h.tid, r->ti.comm);
		disp_tree(d, r->h.ts, r->h.tid, r->h.pid, r->ti.ppid, r->ti.comm,
			  r->h.tid == r->h.pid);
		break;
	case CS_EV_MARK:
		disp_mark(d, &r->mark);
		break;
	case CS_EV_LOST:
		disp_lost(d, &r->lost, ev);
		break;
	case CS_EV_TITLE:
		disp_title(d, &r->title);
		break;
	}
}

void pf_display_header(struct pb_buf *pkt)
{
	size_t m = pb_nest_begin(pkt, TP_TRACK_DESC);

	pb_uint(pkt, 1, UUID_MODELS);
	pb_str(pkt, 2, "concscope models");
	pb_nest_end(pkt, m);
}

void pf_display_track(struct pf_display *d, uint64_t uuid, const char *name)
{
	disp_track_desc(d, 0, uuid, name, 0, 0, false);
}

/* The caller's arguments of a slice (pf_display_slice). */
struct slice_args {
	const struct cs_pf_arg *a;
	unsigned int n;
};

static void caller_args(struct pf_display *d, const void *arg)
{
	const struct slice_args *sa = arg;
	unsigned int i;

	for (i = 0; i < sa->n; i++)
		te_arg(d, sa->a[i].key, 3, sa->a[i].num, sa->a[i].str);
}

void pf_display_slice(struct pf_display *d, uint64_t uuid, uint64_t ts, uint64_t dur,
		      const char *name, const struct cs_pf_arg *args, unsigned int nargs)
{
	struct slice_args sa = { args, nargs };

	slice(d, uuid, name, ts, ts + dur, caller_args, &sa);
}

void pf_display_free(struct pf_display *d)
{
	unsigned int i;

	pb_buf_free(&d->pkts);
	pb_buf_free(&d->fresh);
	for (i = 0; i < PF_IN_TABLES; i++) {
		while (d->in[i].n)
			free(d->in[i].str[--d->in[i].n]);
		free(d->in[i].str);
		cs_hmap_free(&d->in[i].idx);
	}
	pf_stacks_free(&d->stk);
	cs_hmap_free(&d->taskidx);
	free(d->lost_cpu);
	free(d->lossw);
	free(d->tasks);
	memset(d, 0, sizeof(*d));
}
