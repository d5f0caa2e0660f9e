// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * stacks_out.c: the stacks' results (stacks.h): frames by name, the
 * terminal's "blocked at" and "waiters at" lines, JSON, and the folded
 * format.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core_priv.h"
#include "render.h"
#include "stacks_priv.h"

#define MAX_FRAMES (CS_STACK_KERNEL + CS_STACK_PY + CS_STACK_USER)

struct frame {
	const char *name;
	bool kernel, lib, py;
};

static size_t frames_of(const struct cs_core *c, uint64_t id, struct frame *out, char (*hex)[24])
{
	const struct cs_stacks *s = c->stacks;
	const struct stk_def *d = id == CS_STACK_NONE || id == CS_STACK_BEFORE ? NULL :
				  cs_stacks_def(s, id);
	size_t n = 0, i;

	if (!d) {
		out[0] = (struct frame){ id == CS_STACK_BEFORE ? "[blocked before the window]" :
					 id == CS_STACK_NONE ? "[no stack]" : "[stack lost]", false, false, false };
		return 1;
	}
	for (i = 0; i < (size_t)d->nk + d->np + d->nu && i < MAX_FRAMES; i++) {
		bool k = i < d->nk, py = !k && i < (size_t)d->nk + d->np;
		const struct stk_name *nm = cs_stacks_name(s, k ? 0 : d->pid, d->pcs[i]);

		if (k && nm && cs_stacks_glue(nm->name))
			continue;
		if (nm) {
			out[n] = (struct frame){ nm->name, k, (nm->flags & CS_FNF_LIB) != 0, py };
		} else {
			snprintf(hex[n], sizeof(hex[n]), "0x%" PRIx64, d->pcs[i]);
			out[n] = (struct frame){ hex[n], k, false, py };
		}
		n++;
	}
	if (!n)
		out[n++] = (struct frame){ "[no frames]", false, false, false };
	return n;
}

/* By owner, then heaviest first; of equal ones, the lower stack id first. */
static int by_owner_ns(const void *a, const void *b)
{
	const struct stk_agg *x = a, *y = b;

	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * The sums sorted by owner, heaviest first, once (stacks_priv.h): each
 * owner's are then a slice. The index (owner, id) -> sum follows the new
 * order; it holds the same keys, so it needs no memory.
 */
static void sort_sums(struct cs_stacks *s)
{
	size_t i;

	if (s->nsorted == s->naggs)
		return;
	qsort(s->aggs, s->naggs, sizeof(*s->aggs), by_owner_ns);
	cs_hmap_clear(&s->aidx);
	for (i = 0; i < s->naggs; i++)
		cs_hmap_put(&s->aidx, s->aggs[i].owner, s->aggs[i].id, (uint32_t)i);
	s->nsorted = s->naggs;
}

/* A sum with neither time nor count: not shown. */
static bool sum_empty(const struct stk_agg *a)
{
	return !a->ns && !a->count;
}

/* The sums of one owner, heaviest first: *n of them from the one returned (empty ones too). */
static const struct stk_agg *sums_of(struct cs_stacks *s, uint64_t owner, size_t *n)
{
	size_t lo = 0, hi = s->naggs, end;

	sort_sums(s);
	while (lo < hi) { /* the first of owner, or where it would be */
		size_t mid = lo + (hi - lo) / 2;

		if (s->aggs[mid].owner < owner)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < s->naggs && s->aggs[end].owner == owner; end++)
		;
	*n = end - lo;
	return s->aggs + lo;
}

/* A Python frame's name without its file's directory: "app.py:12 work". */
static const char *py_short(const char *name)
{
	const char *colon = strchr(name, ':'), *p, *base = name;

	for (p = name; colon && p < colon; p++)
		if (*p == '/')
			base = p + 1;
	return base;
}

/*
 * "pthread_mutex_lock <- take_hot <- contend_loop <- worker": the user
 * frames, innermost first, from the last library frame the program called.
 * A Python thread's are its Python frames ("app.py:12 work <- ..."): the
 * interpreter's own C frames under them say nothing of the program.
 */
static void short_stack(const struct cs_core *c, uint64_t id, char *buf, size_t len)
{
	struct frame f[MAX_FRAMES];
	char hex[MAX_FRAMES][24];
	size_t n = frames_of(c, id, f, hex), i = 0, shown = 0, at = 0;

	while (i < n && f[i].kernel)
		i++;
	if (i == n) /* a kernel thread: its kernel frames */
		i = 0;
	if (i < n && f[i].py) /* the Python frames only */
		while (n > i && !f[n - 1].py)
			n--;
	while (i + 1 < n && f[i].lib && f[i + 1].lib)
		i++;
	buf[0] = 0;
	for (; i < n && shown < 4; i++, shown++) { /* whole frames only, and room for " <- ..." */
		const char *name = f[i].py ? py_short(f[i].name) : f[i].name;
		size_t w = strlen(name) + (shown ? 4 : 0);

		/* the last one shown needs no room for " <- ..." after it */
		if (shown && at + w + (i + 1 < n && shown < 3 ? 7 : 0) >= len)
			break;
		at += (size_t)snprintf(buf + at, len - at, "%s%s", shown ? " <- " : "", name);
	}
	if (i < n && at + 7 < len)
		snprintf(buf + at, len - at, " <- ...");
}

bool cs_stacks_short(const struct cs_core *c, uint64_t id, char *buf, size_t len)
{
	if (len)
		buf[0] = 0;
	if (!cs_stacks_present(c) || !cs_stacks_def(c->stacks, id) || len < 16)
		return false;
	short_stack(c, id, buf, len);
	return true;
}

#define SHOWN_MAX 64 /* stacks looked at for the terminal's lines */

struct shown {
	char st[400];
	uint64_t ns, count;
};

/*
 * The top two of an owner's stacks as shown: stacks that differ only in
 * frames the line leaves out (a Python thread's interpreter frames, its
 * kernel frames) are one line.
 */
static void render_sums(FILE *f, const struct cs_core *c, uint64_t owner, const char *what,
			uint64_t min_ns, unsigned int width)
{
	size_t n, i, j, k = 0, ns = 0;
	const struct stk_agg *v = sums_of(c->stacks, owner, &n);
	struct shown *sh = calloc(SHOWN_MAX, sizeof(*sh)), x;
	char t[32];
	/* the line: 17 + what + ": " + stack + " 123.45ms x12345" within the width */
	size_t room = width > strlen(what) + 40 ? width - strlen(what) - 33 : 24;

	for (i = 0; sh && i < n && k < SHOWN_MAX; i++) {
		if (sum_empty(&v[i]))
			continue;
		k++;
		short_stack(c, v[i].id, x.st, room < sizeof(x.st) ? room : sizeof(x.st));
		for (j = 0; j < ns && strcmp(sh[j].st, x.st); j++)
			;
		if (j == ns)
			memcpy(sh[ns++].st, x.st, sizeof(x.st));
		sh[j].ns += v[i].ns;
		sh[j].count += v[i].count;
	}
	for (i = 1; i < ns; i++) { /* heaviest first */
		x = sh[i];
		for (j = i; j && sh[j - 1].ns < x.ns; j--)
			sh[j] = sh[j - 1];
		sh[j] = x;
	}
	for (i = 0; i < ns && i < 2; i++) {
		if (sh[i].ns < min_ns || !sh[i].ns)
			continue;
		cs_fmt_ns(t, sizeof(t), sh[i].ns);
		fprintf(f, "%16s %s: %s %s x%" PRIu64 "\n", "", what, sh[i].st, t, sh[i].count);
	}
	free(sh);
}

void cs_stacks_render_thread(FILE *f, const struct cs_core *c, const struct cs_thread *t,
			     unsigned int width)
{
	uint64_t blocked = t->ns[CS_ST_SLEEP] + t->ns[CS_ST_IO] + t->ns[CS_ST_LOCK];

	if (!cs_stacks_present(c))
		return;
	/* a stack under 5% of the blocked time is noise here (--json, --folded have all) */
	render_sums(f, c, (uint64_t)(uintptr_t)cs_thread_priv_of(t), "blocked at", blocked / 20 + 1,
		    width);
	/* a Python thread: where it waited for the GIL (a wait: blocked, then ready) */
	render_sums(f, c, CS_OWNER_GIL | (uint64_t)(uintptr_t)cs_thread_priv_of(t),
		    "waited for the GIL at", blocked / 20 + 1, width);
}

void cs_stacks_render_lock(FILE *f, const struct cs_core *c, size_t lock, unsigned int width)
{
	const struct cs_lockstat *l = cs_core_lock(c, lock);

	if (!cs_stacks_present(c) || !l)
		return;
	render_sums(f, c, CS_OWNER_LOCK | lock, "waiters at", l->wait_ns / 20 + 1, width);
}

/* ---- JSON ---- */

/* The index of stack id in the "stacks" array: defs first (in order), then the pseudo ones. */
static uint64_t json_index(const struct cs_stacks *s, uint64_t id)
{
	const struct stk_def *d = id == CS_STACK_NONE || id == CS_STACK_BEFORE ? NULL :
				  cs_stacks_def(s, id);

	if (d)
		return (uint64_t)(d - s->defs);
	return s->ndefs + (id == CS_STACK_NONE ? 0 : id == CS_STACK_BEFORE ? 1 : 2);
}

uint64_t cs_stacks_index(const struct cs_core *c, uint64_t id)
{
	return json_index(c->stacks, id);
}

static void sums_json(struct cs_jsonw *w, const struct cs_core *c, uint64_t owner, const char *key)
{
	size_t n, i;
	const struct stk_agg *v = sums_of(c->stacks, owner, &n);

	cs_json_key(w, key);
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		if (sum_empty(&v[i]))
			continue;
		cs_json_obj_begin(w);
		cs_json_ku64(w, "stack", json_index(c->stacks, v[i].id));
		cs_json_ku64(w, "count", v[i].count);
		cs_json_ku64(w, "ns", v[i].ns);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
}

void cs_stacks_thread_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_thread *t)
{
	const struct stk_agg *v;
	uint64_t gil = CS_OWNER_GIL | (uint64_t)(uintptr_t)cs_thread_priv_of(t);
	size_t n, i;

	if (!cs_stacks_present(c))
		return;
	sums_json(w, c, (uint64_t)(uintptr_t)cs_thread_priv_of(t), "blocked_at");
	v = sums_of(c->stacks, gil, &n); /* only a thread that waited for CPython's GIL */
	for (i = 0; i < n && sum_empty(&v[i]); i++)
		;
	if (i < n)
		sums_json(w, c, gil, "gil_waits_at");
}

void cs_stacks_lock_json(struct cs_jsonw *w, const struct cs_core *c, size_t lock)
{
	if (cs_stacks_present(c))
		sums_json(w, c, CS_OWNER_LOCK | lock, "waiters_at");
}

/* The blocked time and count of all threads in a stack. */
struct stk_total {
	uint64_t count, ns;
};

/* Each stack's, by its index in "stacks", in one pass over the sums (NULL: no memory). */
static struct stk_total *totals_of(const struct cs_stacks *s)
{
	struct stk_total *tot = calloc(s->ndefs + 3, sizeof(*tot));
	size_t i;

	for (i = 0; tot && i < s->naggs; i++) {
		struct stk_total *x = &tot[json_index(s, s->aggs[i].id)];

		if (!CS_OWNER_BLOCKED(s->aggs[i].owner))
			continue;
		x->count += s->aggs[i].count;
		x->ns += s->aggs[i].ns;
	}
	return tot;
}

/* A stack's, without the table: the sums that name it. */
static struct stk_total total_of(const struct cs_stacks *s, uint64_t id)
{
	struct stk_total x = { 0, 0 };
	size_t i;

	for (i = 0; i < s->naggs; i++) {
		if (s->aggs[i].id == id && CS_OWNER_BLOCKED(s->aggs[i].owner)) {
			x.count += s->aggs[i].count;
			x.ns += s->aggs[i].ns;
		}
	}
	return x;
}

/* One element of "stacks": its frames, and the blocked time and count of all threads in it. */
static void stack_json(struct cs_jsonw *w, const struct cs_core *c, uint64_t id,
		       const struct stk_total *tot)
{
	const struct cs_stacks *s = c->stacks;
	const struct stk_def *d = cs_stacks_def(s, id);
	struct frame f[MAX_FRAMES];
	char hex[MAX_FRAMES][24];
	size_t n = frames_of(c, id, f, hex), i;
	struct stk_total x = tot ? tot[json_index(s, id)] : total_of(s, id);

	cs_json_obj_begin(w);
	cs_json_ku64(w, "index", json_index(s, id));
	if (d)
		cs_json_ku64(w, "pid", d->pid);
	cs_json_key(w, "frames");
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		cs_json_obj_begin(w);
		cs_json_kstr(w, "name", f[i].name);
		cs_json_kstr(w, "kind", f[i].kernel ? "kernel" : f[i].py ? "python" : "user");
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	if (d && (d->flags & CS_STF_PY_TRUNCATED))
		cs_json_kbool(w, "python_cut", true);
	if (d && (d->flags & ~CS_STF_PY_TRUNCATED))
		cs_json_kstr(w, "cut", d->flags & CS_STF_NO_TABLE ? "no unwind table" :
			     d->flags & CS_STF_BAD_READ ? "unreadable stack" :
			     d->flags & CS_STF_TRUNCATED ? "too deep" : "no user stack");
	cs_json_ku64(w, "count", x.count);
	cs_json_ku64(w, "ns", x.ns);
	cs_json_obj_end(w);
}

void cs_stacks_json(struct cs_jsonw *w, const struct cs_core *c)
{
	const struct cs_stacks *s = c->stacks;
	struct stk_total *tot;
	size_t i;

	if (!cs_stacks_present(c))
		return;
	tot = totals_of(s);
	cs_json_key(w, "stacks");
	cs_json_arr_begin(w);
	for (i = 0; i < s->ndefs; i++)
		stack_json(w, c, s->defs[i].id, tot);
	stack_json(w, c, CS_STACK_NONE, tot);
	stack_json(w, c, CS_STACK_BEFORE, tot);
	cs_json_arr_end(w);
	free(tot);
}

/* ---- folded ---- */

struct fold {
	uint32_t pid;
	uint64_t id, ns;
};

static int by_pid_id(const void *a, const void *b)
{
	const struct fold *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Each thread's sums, by process and stack. */
static size_t fold_all(const struct cs_core *c, struct fold **out)
{
	const struct cs_stacks *s = c->stacks;
	struct fold *v = malloc((s->naggs ? s->naggs : 1) * sizeof(*v));
	size_t i, n = 0, k = 0;

	*out = v;
	if (!v)
		return 0;
	for (i = 0; i < s->naggs; i++) {
		const struct cs_thread_priv *t = (const void *)(uintptr_t)s->aggs[i].owner;

		if (!CS_OWNER_BLOCKED(s->aggs[i].owner) || !s->aggs[i].ns)
			continue;
		v[n++] = (struct fold){ t->pub.pid, s->aggs[i].id, s->aggs[i].ns };
	}
	qsort(v, n, sizeof(*v), by_pid_id);
	for (i = 0; i < n; i++) {
		if (k && v[k - 1].pid == v[i].pid && v[k - 1].id == v[i].id)
			v[k - 1].ns += v[i].ns;
		else
			v[k++] = v[i];
	}
	return k;
}

uint64_t cs_stacks_folded(FILE *f, const struct cs_core *c)
{
	struct fold *v;
	struct frame fr[MAX_FRAMES];
	char hex[MAX_FRAMES][24];
	uint64_t total = 0, said = 0;
	size_t n, i, j, k;

	if (!cs_stacks_present(c))
		return 0;
	n = fold_all(c, &v);
	for (i = 0; i < n; i++) {
		const char *comm = cs_core_comm(c, v[i].pid);
		uint64_t us;

		total += v[i].ns;
		us = (total + 500) / 1000 - said; /* the sum of the lines: the total's, rounded */
		said += us;
		if (!us)
			continue;
		fprintf(f, "%s", comm && *comm ? comm : "?");
		k = frames_of(c, v[i].id, fr, hex);
		for (j = k; j-- > 0;) /* the root first */
			fprintf(f, ";%s%s", fr[j].name, fr[j].kernel ? "_[k]" : fr[j].py ? "_[py]" : "");
		fprintf(f, " %" PRIu64 "\n", us);
	}
	free(v);
	return total;
}
