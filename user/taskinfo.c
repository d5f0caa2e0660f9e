// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * taskinfo.c: the titles and scheduling of the tasks a session tracks,
 * read from /proc while they live (taskinfo.h). Each task is remembered by
 * hashes of what was last said of it, so that a record goes out only when
 * something changed.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "grow.h"
#include "hashmap.h"
#include "procfs.h"
#include "taskinfo.h"

struct ti_proc {
	uint32_t pid;
	bool gone;
	bool exec_known;     /* exec_hash: the arguments it was exec'd with */
	bool command;        /* run's command, before its exec: exec_hash is its argv */
	uint64_t exec_hash;
	uint64_t due;        /* read its title from then on; 0: at the end only */
	uint64_t said;       /* hash of the last title emitted, 0: none */
};

struct ti_thread {
	uint32_t tid, pid;
	bool gone;
	uint64_t due;
	uint64_t said;       /* hash of the last scheduling emitted, 0: none */
};

struct cs_taskinfo {
	struct cs_hmap procidx, thridx; /* pid, tid -> index */
	struct ti_proc *procs;
	struct ti_thread *thrs;
	size_t nprocs, capprocs, nthrs, capthrs, ngone;
};

uint64_t cs_args_hash(const char *raw, size_t n)
{
	while (n && !raw[n - 1])
		n--;
	return cs_hash_bytes(CS_HASH_SEED, raw, n);
}

/* Not exactly one NUL at the end: padded over, or written past. */
static bool padded(const char *raw, size_t n)
{
	return !(n >= 1 && !raw[n - 1] && (n < 2 || raw[n - 2]));
}

void cs_title_judge(const char *raw, size_t n, bool exec_known, uint64_t exec_hash,
		    char *title, size_t len)
{
	size_t i, k = 0;

	if (!len)
		return;
	*title = 0;
	if (!n)
		return;
	if (exec_known ? cs_args_hash(raw, n) == exec_hash :
			 n >= CS_CMDLINE_MAX - 1 || !padded(raw, n)) /* a cut read says nothing */
		return;
	while (n && !raw[n - 1])
		n--;
	for (i = 0; i < n && k + 1 < len; i++) {
		unsigned char ch = (unsigned char)raw[i];

		title[k++] = (char)(ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	while (k && title[k - 1] == ' ') /* PostgreSQL's end in one */
		k--;
	title[k] = 0;
}

/* ---- the tasks ---- */

struct cs_taskinfo *cs_taskinfo_new(void)
{
	return calloc(1, sizeof(struct cs_taskinfo));
}

void cs_taskinfo_reset(struct cs_taskinfo *ti)
{
	cs_hmap_clear(&ti->procidx);
	cs_hmap_clear(&ti->thridx);
	ti->nprocs = ti->nthrs = ti->ngone = 0;
}

void cs_taskinfo_free(struct cs_taskinfo **tip)
{
	struct cs_taskinfo *ti = *tip;

	if (!ti)
		return;
	cs_hmap_free(&ti->procidx);
	cs_hmap_free(&ti->thridx);
	free(ti->procs);
	free(ti->thrs);
	free(ti);
	*tip = NULL;
}

/* The process pid (a new entry for one not known or gone: a pid used again); NULL: no memory. */
static struct ti_proc *proc_new(struct cs_taskinfo *ti, uint32_t pid)
{
	uint32_t *slot = cs_hmap_get(&ti->procidx, pid, 0);

	if (!slot) {
		if (cs_grow(&ti->procs, ti->nprocs, &ti->capprocs, sizeof(*ti->procs), 64) ||
		    cs_hmap_put(&ti->procidx, pid, 0, (uint32_t)ti->nprocs))
			return NULL;
		slot = cs_hmap_get(&ti->procidx, pid, 0);
		ti->nprocs++;
	} else if (ti->procs[*slot].gone) {
		ti->ngone--;
	}
	memset(&ti->procs[*slot], 0, sizeof(ti->procs[*slot]));
	ti->procs[*slot].pid = pid;
	return &ti->procs[*slot];
}

static struct ti_proc *proc_get(struct cs_taskinfo *ti, uint32_t pid)
{
	uint32_t *slot = cs_hmap_get(&ti->procidx, pid, 0);

	return slot && !ti->procs[*slot].gone ? &ti->procs[*slot] : NULL;
}

/* Thread tid of process pid, to be read from due on. */
static void thread_new(struct cs_taskinfo *ti, uint32_t tid, uint32_t pid, uint64_t due)
{
	uint32_t *slot = cs_hmap_get(&ti->thridx, tid, 0);

	if (!slot) {
		if (cs_grow(&ti->thrs, ti->nthrs, &ti->capthrs, sizeof(*ti->thrs), 64) ||
		    cs_hmap_put(&ti->thridx, tid, 0, (uint32_t)ti->nthrs))
			return;
		slot = cs_hmap_get(&ti->thridx, tid, 0);
		ti->nthrs++;
	} else if (ti->thrs[*slot].gone) {
		ti->ngone--;
	}
	ti->thrs[*slot] = (struct ti_thread){ .tid = tid, .pid = pid, .due = due };
}

static void thread_gone(struct cs_taskinfo *ti, uint32_t tid)
{
	uint32_t *slot = cs_hmap_get(&ti->thridx, tid, 0);

	if (slot && !ti->thrs[*slot].gone) {
		ti->thrs[*slot].gone = true;
		ti->ngone++;
	}
}

/* A process created by a fork: its arguments are its parent's, as exec'd. */
static void on_fork(struct cs_taskinfo *ti, const struct cs_fork *e, uint64_t due)
{
	struct ti_proc *parent, *child;
	bool known;
	uint64_t hash;

	thread_new(ti, e->child_tid, e->child_pid, due);
	if (e->h.flags & CS_FKF_THREAD)
		return;
	parent = proc_get(ti, e->h.pid);
	known = parent && parent->exec_known;
	hash = parent ? parent->exec_hash : 0;
	child = proc_new(ti, e->child_pid);
	if (!child)
		return;
	child->exec_known = known;
	child->exec_hash = hash;
	child->due = due;
}

/*
 * An exec: the arguments it was exec'd with, read now, unless they already
 * look rewritten (then they are not known). run's command's are known.
 */
static void on_exec(struct cs_taskinfo *ti, const struct cs_exec *e, uint64_t due)
{
	struct ti_proc *p = proc_get(ti, e->h.pid);
	char raw[CS_CMDLINE_MAX];
	int n;

	if (e->old_tid != e->h.tid)
		thread_gone(ti, e->old_tid);
	thread_new(ti, e->h.tid, e->h.pid, due);
	if (p && p->command) {
		p->command = false;
		p->due = due;
		return;
	}
	if (!p && !(p = proc_new(ti, e->h.pid)))
		return;
	n = cs_proc_cmdline((pid_t)e->h.pid, raw, sizeof(raw));
	p->exec_known = n > 0 && !padded(raw, (size_t)n);
	p->exec_hash = n > 0 ? cs_args_hash(raw, (size_t)n) : 0;
	p->due = due;
}

void cs_taskinfo_note(struct cs_taskinfo *ti, const struct cs_hdr *ev)
{
	struct ti_proc *p;

	switch (ev->kind) {
	case CS_EV_FORK: /* due from when it happened, not from when it was read */
		on_fork(ti, (const struct cs_fork *)ev, ev->ts + CS_TASKINFO_AFTER_NS);
		break;
	case CS_EV_EXEC:
		on_exec(ti, (const struct cs_exec *)ev, ev->ts + CS_TASKINFO_AFTER_NS);
		break;
	case CS_EV_EXIT:
		thread_gone(ti, ev->tid);
		if ((ev->flags & CS_EXF_GROUP_DEAD) && (p = proc_get(ti, ev->pid))) {
			p->gone = true;
			ti->ngone++;
		}
		break;
	default:
		break;
	}
}

void cs_taskinfo_command(struct cs_taskinfo *ti, uint32_t pid, char *const argv[],
			 uint64_t now)
{
	struct ti_proc *p = proc_new(ti, pid);
	char raw[CS_CMDLINE_MAX];
	size_t n = 0, k;
	int i;

	thread_new(ti, pid, pid, now + CS_TASKINFO_AFTER_NS);
	if (!p)
		return;
	/* as /proc will read them: each argument and its NUL, cut where a read is */
	for (i = 0; argv[i] && n < sizeof(raw) - 1; i++) {
		k = strlen(argv[i]) + 1;
		if (k > sizeof(raw) - 1 - n)
			k = sizeof(raw) - 1 - n;
		memcpy(raw + n, argv[i], k);
		n += k;
	}
	p->command = p->exec_known = true;
	p->exec_hash = cs_args_hash(raw, n);
	p->due = now + CS_TASKINFO_AFTER_NS;
}

void cs_taskinfo_found(struct cs_taskinfo *ti, uint32_t tid, uint32_t pid, uint64_t now)
{
	struct ti_proc *p = proc_get(ti, pid);

	if (!p && (p = proc_new(ti, pid)))
		p->due = now;
	thread_new(ti, tid, pid, now);
}

bool cs_taskinfo_knows(const struct cs_taskinfo *ti, uint32_t tid, uint32_t pid)
{
	uint32_t *slot = tid ? cs_hmap_get(&ti->thridx, tid, 0) : NULL;

	return slot && ti->thrs[*slot].pid == pid;
}

/* ---- reading ---- */

static bool due(uint64_t when, uint64_t now, bool final)
{
	return final || (when && now >= when);
}

/* Where a reading's records go, stamped ts. */
struct ti_out {
	uint64_t ts;
	cs_emit_fn emit;
	void *ctx;
};

/*
 * The end of a reading: its record h (the body filled, hashed to hash) out,
 * its header filled (kind, size bytes, about tid of pid), unless it says
 * what the last one said (*said, which becomes hash).
 */
static void say(struct cs_hdr *h, uint8_t kind, uint16_t size, uint32_t tid, uint32_t pid,
		uint64_t hash, uint64_t *said, const struct ti_out *o)
{
	if (hash == *said)
		return;
	*said = hash;
	h->ts = o->ts;
	h->size = size;
	h->kind = kind;
	h->cpu = 0xffff;
	h->tid = tid;
	h->pid = pid;
	o->emit(h, o->ctx);
}

static void read_title(struct ti_proc *p, const struct ti_out *o)
{
	char raw[CS_CMDLINE_MAX];
	struct cs_title r;
	uint64_t h;
	int n = cs_proc_cmdline((pid_t)p->pid, raw, sizeof(raw));

	p->due = 0;
	if (n <= 0) /* gone, or a kernel thread: nothing to say */
		return;
	memset(&r, 0, sizeof(r));
	cs_title_judge(raw, (size_t)n, p->exec_known, p->exec_hash, r.title, sizeof(r.title));
	h = r.title[0] ? cs_hash_bytes(CS_HASH_SEED, r.title, strlen(r.title)) | 1 : 0;
	say(&r.h, CS_EV_TITLE, sizeof(r), p->pid, p->pid, h, &p->said, o);
}

static void read_sched(struct ti_thread *t, const struct ti_out *o)
{
	struct cs_task_sched r;
	uint64_t h;

	t->due = 0;
	memset(&r, 0, sizeof(r));
	if (cs_proc_sched((pid_t)t->pid, (pid_t)t->tid, &r))
		return;
	h = cs_hash_bytes(CS_HASH_SEED, &r, sizeof(r)) | 1;
	say(&r.h, CS_EV_TASK_SCHED, sizeof(r), t->tid, t->pid, h, &t->said, o);
}

/* Drop the tasks that are gone, once they are most of what is kept. */
static void compact(struct cs_taskinfo *ti)
{
	size_t i, k;

	if (ti->ngone < 1024 || ti->ngone * 2 < ti->nprocs + ti->nthrs)
		return;
	cs_hmap_clear(&ti->procidx);
	for (i = k = 0; i < ti->nprocs; i++)
		if (!ti->procs[i].gone && !cs_hmap_put(&ti->procidx, ti->procs[i].pid, 0, (uint32_t)k))
			ti->procs[k++] = ti->procs[i];
	ti->nprocs = k;
	cs_hmap_clear(&ti->thridx);
	for (i = k = 0; i < ti->nthrs; i++)
		if (!ti->thrs[i].gone && !cs_hmap_put(&ti->thridx, ti->thrs[i].tid, 0, (uint32_t)k))
			ti->thrs[k++] = ti->thrs[i];
	ti->nthrs = k;
	ti->ngone = 0;
}

void cs_taskinfo_read(struct cs_taskinfo *ti, uint64_t now, bool final, uint64_t ts,
		      cs_emit_fn emit, void *ctx)
{
	const struct ti_out o = { ts, emit, ctx };
	size_t i;

	for (i = 0; i < ti->nprocs; i++)
		if (!ti->procs[i].gone && due(ti->procs[i].due, now, final))
			read_title(&ti->procs[i], &o);
	for (i = 0; i < ti->nthrs; i++)
		if (!ti->thrs[i].gone && due(ti->thrs[i].due, now, final))
			read_sched(&ti->thrs[i], &o);
	compact(ti);
}
