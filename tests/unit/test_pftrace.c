// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * test_pftrace.c: the Perfetto trace writer and reader.
 *
 * The main property: a stream written and read back gives the same records
 * (every field the core reads) in the same order, and a core fed from the
 * file writes the same JSON summary byte for byte. Around it: the compact
 * encoding Perfetto reads, damaged files, write errors, the storm size.
 *
 * CS_PF_KEEP=FILE keeps the round-trip trace (to open it in ui.perfetto.dev
 * or decode it with protoc and tests/perfetto/concscope_trace.proto).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "core.h"
#include "decode.h"
#include "jsonw.h"
#include "pb.h"
#include "pftrace.h"
#include "state.h"
#include "summary.h"

#define T0 1000000000000ull

typedef union cs_rec trec;

struct stream {
	trec *v;
	size_t n, cap;
};

static void push(struct stream *s, const trec *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	memset(&s->v[s->n], 0, sizeof(trec));
	memcpy(&s->v[s->n++], r, r->h.size);
}

static void collect(const struct cs_hdr *ev, void *ctx)
{
	assert_true(ev->size == cs_kind_size(ev->kind));
	push(ctx, (const trec *)ev);
}

static void stream_free(struct stream *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static char tmpdir[64];

static const char *tpath(const char *name)
{
	static char buf[8][128];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* ---- record builders ---- */

static void setstr(char *dst, size_t size, const char *src)
{
	memset(dst, 0, size);
	memcpy(dst, src, strnlen(src, size));
}

static trec mk(uint8_t kind, uint64_t ts, uint16_t cpu, uint32_t tid, uint32_t pid)
{
	trec r;

	memset(&r, 0, sizeof(r));
	r.h.kind = kind;
	r.h.size = (uint16_t)cs_kind_size(kind);
	r.h.ts = ts;
	r.h.cpu = cpu;
	r.h.tid = tid;
	r.h.pid = pid;
	return r;
}

static trec sw(uint64_t ts, uint16_t cpu, uint32_t prev, uint32_t ppid, uint32_t state,
	       uint8_t exit_state, bool preempt, int16_t syscall, uint32_t next,
	       uint32_t npid, const char *comm)
{
	trec r = mk(CS_EV_SWITCH, ts, cpu, prev, ppid);

	r.h.flags = preempt ? CS_SWF_PREEMPT : 0;
	r.sw.prev_state = state;
	r.sw.prev_exit_state = exit_state;
	r.sw.syscall = syscall;
	r.sw.next_tid = next;
	r.sw.next_pid = npid;
	r.sw.next_prio = 120;
	setstr(r.sw.next_comm, CS_COMM_LEN, comm);
	return r;
}

static trec wk(uint64_t ts, uint16_t cpu, uint32_t tid, uint32_t pid, uint16_t target,
	       uint8_t flags)
{
	trec r = mk(CS_EV_WAKING, ts, cpu, tid, pid);

	r.h.aux = target;
	r.h.flags = flags;
	r.wk.prio = 120;
	return r;
}

static trec tinfo(uint64_t ts, uint32_t tid, uint32_t pid, char state, int16_t syscall,
		  const char *comm, uint16_t cpu)
{
	trec r = mk(CS_EV_THREAD_INFO, ts, 0, tid, pid);

	r.h.aux = cpu;
	r.ti.ppid = 1;
	r.ti.state = (uint8_t)state;
	r.ti.syscall = syscall;
	setstr(r.ti.comm, CS_COMM_LEN, comm);
	return r;
}

static trec mark(uint64_t ts, uint16_t kind, uint32_t tid, int64_t value, const char *text)
{
	trec r = mk(CS_EV_MARK, ts, 0, tid, tid);

	r.h.aux = kind;
	r.mark.value = value;
	setstr(r.mark.text, CS_MARK_TEXT, text);
	return r;
}

static trec lockrec(uint8_t kind, uint64_t ts, uint16_t cpu, uint32_t tid, uint32_t pid,
		    uint64_t addr)
{
	trec r = mk(kind, ts, cpu, tid, pid);

	r.lock.addr = addr;
	if (kind == CS_EV_LOCK_BEGIN) {
		r.h.aux = 0x20;
		r.lock.nstack = 2;
		r.lock.stack[0] = 0xffffffff81000010ull;
		r.lock.stack[1] = 0xffffffff81234567ull;
	} else {
		r.lock.ret = -4;
	}
	return r;
}

static trec futex(uint8_t kind, uint64_t ts, uint16_t cpu, uint32_t tid, uint32_t pid,
		  uint64_t uaddr)
{
	trec r = mk(kind, ts, cpu, tid, pid);

	r.h.aux = 202;
	r.futex.uaddr = uaddr;
	r.futex.op = 0x80;
	r.futex.val = 1;
	r.futex.timed = 1;
	r.futex.ret = kind == CS_EV_FUTEX_EXIT ? -110 : 0;
	return r;
}

/*
 * The kinds a plain run records (thread info, marks, switches, wake-ups, a
 * kernel lock and its name, futex enter and exit, forks, a migration, a
 * rename, an exec, a lost record, an exit), two CPUs plus one beyond
 * Perfetto's limit, equal timestamps across and within CPUs, a late record.
 * Every member of every kind through a CsRec is test_pf_format.c's.
 */
static void scenario(struct stream *s)
{
	trec r;

	r = tinfo(T0, 100, 100, 'S', 7, "main", 0);
	push(s, &r);
	r = tinfo(T0, 101, 100, 'R', -1, "worker1", 1);
	push(s, &r);
	r = tinfo(T0, 102, 100, 'D', 0, "worker2", 0);
	push(s, &r);
	r = mark(T0, CS_MARK_TRACK, 100, 0, "");
	push(s, &r);
	r = mark(T0 + 10, CS_MARK_WINDOW_BEGIN, 0, 0, "");
	push(s, &r);
	r = mark(T0 + 10, CS_MARK_MODEL_BEGIN, 0, 0, "mutex");
	push(s, &r);
	/*
	 * CPU 1 first: switching in worker1, whom /proc put on CPU 1, grows
	 * the core's CPU array during the switch (cs_states_on_switch reads
	 * its CPU again after switch_in for that reason).
	 */
	r = sw(T0 + 100, 1, 300, 300, 0, 0, true, -1, 0, 0, "swapper/1");
	push(s, &r);
	r = sw(T0 + 100, 0, 0, 0, 0, 0, false, -1, 101, 100, "worker1");
	push(s, &r);
	r = wk(T0 + 150, 1, 100, 100, 1, 0);
	push(s, &r);
	r = sw(T0 + 150, 1, 0, 0, 0, 0, false, -1, 100, 100, "main");
	push(s, &r);
	r = mk(CS_EV_LOCK_NAME, T0 + 200, 0, 0, 0);
	r.h.aux = 1;
	r.ln.addr = 0xffff888812345678ull;
	strcpy(r.ln.name, "rq->lock");
	push(s, &r);
	r = lockrec(CS_EV_LOCK_BEGIN, T0 + 200, 0, 101, 100, 0xffff888812345678ull);
	push(s, &r);
	r = sw(T0 + 210, 0, 101, 100, 0x102, 0, false, 202, 0, 0, "swapper/0");
	push(s, &r);
	r = futex(CS_EV_FUTEX_ENTER, T0 + 250, 1, 100, 100, 0x7f0000001000ull);
	push(s, &r);
	r = sw(T0 + 260, 1, 100, 100, 1, 0, false, 202, 300, 300, "other");
	push(s, &r);
	r = wk(T0 + 300, 1, 101, 100, 0, 0);
	push(s, &r);
	r = sw(T0 + 320, 0, 0, 0, 0, 0, false, -1, 101, 100, "worker1");
	push(s, &r);
	r = lockrec(CS_EV_LOCK_END, T0 + 330, 0, 101, 100, 0xffff888812345678ull);
	push(s, &r);
	r = mk(CS_EV_FORK, T0 + 400, 0, 101, 100);
	r.h.flags = CS_FKF_THREAD;
	r.fork.child_tid = 103;
	r.fork.child_pid = 100;
	strcpy(r.fork.child_comm, "worker3");
	push(s, &r);
	r = wk(T0 + 400, 0, 103, 100, 1, CS_WKF_NEW);
	push(s, &r);
	r = mk(CS_EV_MIGRATE, T0 + 450, 0, 103, 100);
	r.h.aux = 1;
	r.mig.orig_cpu = 0;
	push(s, &r);
	r = sw(T0 + 500, 1, 300, 300, 0, 0, true, -1, 103, 100, "worker3");
	push(s, &r);
	r = mk(CS_EV_RENAME, T0 + 510, 1, 103, 100);
	strcpy(r.ren.comm, "renamed3");
	push(s, &r);
	r = mk(CS_EV_FORK, T0 + 520, 1, 103, 100);
	r.fork.child_tid = 200;
	r.fork.child_pid = 200;
	strcpy(r.fork.child_comm, "child");
	push(s, &r);
	r = wk(T0 + 530, 1, 200, 200, 1, CS_WKF_NEW);
	push(s, &r);
	r = sw(T0 + 540, 1, 103, 100, 0x402, 0, false, 230, 200, 200, "child");
	push(s, &r);
	r = mk(CS_EV_EXEC, T0 + 550, 1, 200, 200);
	r.exec.old_tid = 200;
	strcpy(r.exec.comm, "true");
	push(s, &r);
	r = mk(CS_EV_LOST, T0 + 560, 0, 0, 0);
	r.lost.count = 5;
	push(s, &r);
	r = sw(T0 + 600, 0, 101, 100, 0x2001, 0, false, 0, 102, 100, "worker2");
	push(s, &r);
	r = mk(CS_EV_EXIT, T0 + 650, 1, 200, 200);
	r.h.flags = 1;
	r.exit.exit_code = 0x100;
	push(s, &r);
	r = sw(T0 + 660, 1, 200, 200, 0x80, 0x20, false, 60, 100, 100, "main");
	push(s, &r);
	r = futex(CS_EV_FUTEX_EXIT, T0 + 660, 1, 100, 100, 0x7f0000001000ull);
	push(s, &r);
	r = sw(T0 + 700, 0, 102, 100, 0, 0, false, -1, 0, 0, "swapper/0");
	push(s, &r);
	r = wk(T0 + 700, 1, 102, 100, 0, 0);
	push(s, &r);
	r = mark(T0 + 800, CS_MARK_MODEL_END, 0, 0, "mutex");
	push(s, &r);
	r = sw(T0 + 850, 1500, 0, 0, 0, 0, false, -1, 104, 100, "far");
	push(s, &r);
	r = wk(T0 + 860, 1500, 101, 100, 1500, 0);
	push(s, &r);
	r = mark(T0 + 900, CS_MARK_WINDOW_END, 0, 0, "");
	push(s, &r);
	r = mark(T0 + 950, CS_MARK_CMD_EXIT, 0, 256, "");
	push(s, &r);
	/* late: older than the record before it */
	r = sw(T0 + 940, 0, 0, 0, 0, 0, false, -1, 101, 100, "worker1");
	push(s, &r);
}

/* ---- writing, reading, comparing ---- */

static const struct cs_pf_meta meta2 = {
	.sysname = "Linux", .release = "6.1.0-test", .version = "#1 SMP", .machine = "x86_64",
	.ncpus = 2,
};

static void write_stream(const char *path, const struct stream *s,
			 const struct cs_pf_meta *meta, uint64_t end_ts)
{
	struct cs_pf_writer *w;
	size_t i;

	assert_int_equal(cs_pf_open(&w, path, meta), 0);
	for (i = 0; i < s->n; i++)
		assert_int_equal(cs_pf_feed(w, &s->v[i].h), 0);
	if (end_ts)
		cs_pf_set_end(w, end_ts);
	assert_true(cs_pf_bytes(w) > 0);
	assert_int_equal(cs_pf_close(&w, true), 0);
	assert_null(w);
}

/*
 * The same, with a core fed alongside that tells the writer what it counts
 * (untraced time, lock waits), as a session does.
 */
static void write_stream_observed(const char *path, const struct stream *s,
				  const struct cs_pf_meta *meta, uint64_t end_ts)
{
	struct cs_core_cfg cfg = { .track_all = meta->track_all };
	struct cs_core_slices obs;
	struct cs_pf_writer *w;
	struct cs_core *c = cs_core_new(&cfg);
	size_t i;

	assert_non_null(c);
	assert_int_equal(cs_pf_open(&w, path, meta), 0);
	cs_pf_slices(w, &obs);
	cs_core_slices_to(c, &obs);
	for (i = 0; i < s->n; i++) {
		cs_core_feed(c, &s->v[i].h);
		assert_int_equal(cs_pf_feed(w, &s->v[i].h), 0);
	}
	cs_core_finish(c, end_ts ? end_ts : s->v[s->n - 1].h.ts);
	cs_core_free(&c);
	if (end_ts)
		cs_pf_set_end(w, end_ts);
	assert_int_equal(cs_pf_close(&w, true), 0);
}

static void *slurp(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void strnorm(char *s, size_t n)
{
	size_t k = strnlen(s, n);

	memset(s + k, 0, n - k);
}

/* Clear what the file does not keep: pads, bytes after a NUL. */
static void norm(trec *r)
{
	switch (r->h.kind) {
	case CS_EV_SWITCH:
		strnorm(r->sw.next_comm, CS_COMM_LEN);
		break;
	case CS_EV_WAKING:
		memset(r->wk.pad, 0, sizeof(r->wk.pad));
		break;
	case CS_EV_FORK:
		strnorm(r->fork.child_comm, CS_COMM_LEN);
		break;
	case CS_EV_EXEC:
		r->exec.pad = 0;
		strnorm(r->exec.comm, CS_COMM_LEN);
		break;
	case CS_EV_EXIT:
		r->exit.pad = 0;
		break;
	case CS_EV_MIGRATE:
		r->mig.pad = 0;
		break;
	case CS_EV_RENAME:
		strnorm(r->ren.comm, CS_COMM_LEN);
		break;
	case CS_EV_FUTEX_ENTER:
	case CS_EV_FUTEX_EXIT:
		r->futex.pad = 0;
		break;
	case CS_EV_THREAD_INFO:
		r->ti.pad = 0;
		strnorm(r->ti.comm, CS_COMM_LEN);
		break;
	case CS_EV_MARK:
		strnorm(r->mark.text, CS_MARK_TEXT);
		break;
	case CS_EV_LOCK_NAME:
		strnorm(r->ln.name, CS_LOCK_NAME_LEN);
		break;
	}
}

static void expect_same_records(const struct stream *a, const struct stream *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		trec x = a->v[i], y = b->v[i];

		norm(&x);
		norm(&y);
		if (memcmp(&x, &y, x.h.size)) {
			print_error("record %zu (kind %u ts %llu) differs\n", i, x.h.kind,
				    (unsigned long long)x.h.ts);
			fail();
		}
	}
}

/* The fields the core reads, checked one by one for one record. */
static void expect_core_fields(const trec *a, const trec *b)
{
	assert_int_equal(a->h.kind, b->h.kind);
	assert_true(a->h.ts == b->h.ts);
	assert_int_equal(a->h.tid, b->h.tid);
	assert_int_equal(a->h.pid, b->h.pid);
	assert_int_equal(a->h.cpu, b->h.cpu);
	assert_int_equal(a->h.aux, b->h.aux);
	assert_int_equal(a->h.flags, b->h.flags);
	switch (a->h.kind) {
	case CS_EV_SWITCH:
		assert_int_equal(a->sw.next_tid, b->sw.next_tid);
		assert_int_equal(a->sw.next_pid, b->sw.next_pid);
		assert_int_equal(a->sw.prev_state, b->sw.prev_state);
		assert_int_equal(a->sw.prev_exit_state, b->sw.prev_exit_state);
		assert_int_equal(a->sw.syscall, b->sw.syscall);
		assert_string_equal(a->sw.next_comm, b->sw.next_comm);
		break;
	case CS_EV_FORK:
		assert_int_equal(a->fork.child_tid, b->fork.child_tid);
		assert_int_equal(a->fork.child_pid, b->fork.child_pid);
		assert_string_equal(a->fork.child_comm, b->fork.child_comm);
		break;
	case CS_EV_EXEC:
		assert_string_equal(a->exec.comm, b->exec.comm);
		break;
	case CS_EV_RENAME:
		assert_string_equal(a->ren.comm, b->ren.comm);
		break;
	case CS_EV_THREAD_INFO:
		assert_int_equal(a->ti.state, b->ti.state);
		assert_int_equal(a->ti.syscall, b->ti.syscall);
		assert_string_equal(a->ti.comm, b->ti.comm);
		break;
	case CS_EV_MARK:
		assert_true(a->mark.value == b->mark.value);
		break;
	case CS_EV_LOST:
		assert_true(a->lost.count == b->lost.count);
		break;
	}
}

/* The core's JSON summary of a stream. */
static char *core_json(const struct stream *s, const struct cs_core_cfg *cfg,
		       unsigned int ncpus, uint64_t end_ts)
{
	struct cs_core *c = cs_core_new(cfg);
	struct cs_jsonw jw;
	char *out = NULL;
	size_t n = 0, i;
	FILE *f;

	assert_non_null(c);
	for (i = 0; i < s->n; i++)
		cs_core_feed(c, &s->v[i].h);
	cs_core_finish(c, end_ts);
	f = open_memstream(&out, &n);
	assert_non_null(f);
	cs_json_init(&jw, f);
	cs_json_obj_begin(&jw);
	cs_summary_json(&jw, c, ncpus);
	cs_json_obj_end(&jw);
	fclose(f);
	cs_core_free(&c);
	return out;
}

/* As report reads it: the header alone first, then every record in one pass. */
static void expect_one_pass(const char *path, const struct stream *in,
			    const struct cs_pf_info *want)
{
	struct stream out = { 0 };
	struct cs_pf_reader *r;
	struct cs_pf_info info;
	char err[256] = "";
	int k;

	assert_int_equal(cs_pf_load(&r, path, &info, err, sizeof(err)), 0);
	assert_non_null(r);
	assert_int_equal(info.version, want->version);
	assert_int_equal(info.ncpus, want->ncpus);
	assert_int_equal(info.track_all, want->track_all);
	assert_true(info.tl_width_ns == want->tl_width_ns);
	assert_string_equal(info.sysname, want->sysname);
	assert_string_equal(info.machine, want->machine);
	assert_true(info.records == 0); /* not read yet */
	for (k = 0; k < 2; k++) { /* a second stream starts over */
		assert_int_equal(cs_pf_stream(r, collect, &out, &info, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		expect_same_records(in, &out);
		assert_true(info.records == want->records);
		assert_true(info.first_ts == want->first_ts && info.last_ts == want->last_ts);
		assert_true(info.end_ts == want->end_ts);
		stream_free(&out);
		memset(&out, 0, sizeof(out));
	}
	cs_pf_unload(&r);
	assert_null(r);
	cs_pf_unload(&r); /* NULL is fine */
}

/* Write, read back, compare records and the core's JSON. */
static void roundtrip(const struct stream *in, const struct cs_pf_meta *meta,
		      uint64_t end_ts, const char *keep)
{
	const char *path = keep ? keep : tpath("rt.pftrace");
	struct cs_core_cfg cfg = { .track_all = meta->track_all, .tl_width_ns = meta->tl_width_ns };
	struct stream out = { 0 };
	struct cs_pf_info info;
	char err[256] = "", *j1, *j2;

	write_stream(path, in, meta, end_ts);
	assert_int_equal(cs_pf_read_info(path, collect, &out, &info, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	expect_same_records(in, &out);
	assert_int_equal(info.ncpus, meta->ncpus);
	assert_int_equal(info.track_all, meta->track_all);
	assert_true(info.tl_width_ns == meta->tl_width_ns);
	assert_true(info.records == in->n);
	assert_true(info.end_ts == (end_ts ? end_ts : info.last_ts));
	assert_string_equal(info.sysname, meta->sysname);
	assert_string_equal(info.release, meta->release);
	assert_string_equal(info.version_str, meta->version);
	assert_string_equal(info.machine, meta->machine);
	expect_one_pass(path, in, &info);

	cfg = (struct cs_core_cfg){ .track_all = info.track_all, .tl_width_ns = info.tl_width_ns };
	j1 = core_json(in, &cfg, meta->ncpus, end_ts);
	j2 = core_json(&out, &cfg, info.ncpus, info.end_ts);
	assert_string_equal(j1, j2);
	free(j1);
	free(j2);
	stream_free(&out);
	if (!keep)
		unlink(path);
}

/* ---- tests ---- */

static void test_roundtrip_scenario(void **state)
{
	struct stream in = { 0 }, out = { 0 };
	struct cs_core_cfg cfg = { 0 };
	char err[256], *json;
	size_t i;

	scenario(&in);
	roundtrip(&in, &meta2, T0 + 1000, getenv("CS_PF_KEEP"));

	/* the fields the core reads, one by one */
	write_stream(tpath("sc.pftrace"), &in, &meta2, T0 + 1000);
	assert_int_equal(cs_pf_read(tpath("sc.pftrace"), collect, &out, err, sizeof(err)), 0);
	assert_int_equal(in.n, out.n);
	for (i = 0; i < in.n; i++)
		expect_core_fields(&in.v[i], &out.v[i]);
	/* wakers come back as written: from the CPU chain, or stored where they differ */
	for (i = 0; i < out.n; i++)
		if (out.v[i].h.kind == CS_EV_WAKING)
			assert_int_equal(out.v[i].wk.waker_tid, in.v[i].wk.waker_tid);
	/* the scenario is not trivial for the core */
	json = core_json(&out, &cfg, 2, T0 + 1000);
	assert_non_null(strstr(json, "\"events\":40"));
	assert_non_null(strstr(json, "\"lost_events\":5"));
	assert_non_null(strstr(json, "\"pid\":100"));
	free(json);
	unlink(tpath("sc.pftrace"));
	stream_free(&in);
	stream_free(&out);
}

/* A deterministic generator for random streams. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void rnd_str(char *s, size_t n)
{
	size_t len = rnd_below((uint32_t)n + 1), i; /* n: no NUL at all */

	memset(s, 0, n);
	for (i = 0; i < len; i++)
		s[i] = (char)('a' + rnd_below(26));
	if (len < n && rnd_below(4) == 0)
		s[len + (len + 1 < n)] = 'z'; /* junk after the NUL */
}

static const uint32_t tids[] = { 0, 100, 101, 102, 103, 200, 201, 300, 70000, 4000000 };

static void rnd_task(uint32_t *tid, uint32_t *pid)
{
	*tid = tids[rnd_below(sizeof(tids) / sizeof(tids[0]))];
	*pid = rnd_below(8) ? (*tid >= 200 && *tid < 300 ? 200 : *tid >= 100 && *tid < 200 ? 100 :
							    *tid)
			    : (uint32_t)rnd();
}

static uint16_t rnd_cpu(void)
{
	static const uint16_t cpus[] = { 0, 1, 2, 3, 1023, 1024, 4095, 0xffff };
	uint32_t k = rnd_below(20);

	return k < 16 ? (uint16_t)(k & 3) : cpus[rnd_below(8)];
}

static void rnd_record(trec *r, uint64_t ts)
{
	static const uint8_t kinds[] = {
		CS_EV_SWITCH, CS_EV_SWITCH, CS_EV_SWITCH, CS_EV_SWITCH, CS_EV_SWITCH,
		CS_EV_WAKING, CS_EV_WAKING, CS_EV_WAKING, CS_EV_FORK, CS_EV_EXEC, CS_EV_EXIT,
		CS_EV_MIGRATE, CS_EV_RENAME, CS_EV_LOCK_BEGIN, CS_EV_LOCK_END,
		CS_EV_FUTEX_ENTER, CS_EV_FUTEX_EXIT, CS_EV_THREAD_INFO, CS_EV_MARK,
		CS_EV_LOST, CS_EV_LOCK_NAME,
	};
	uint8_t kind = kinds[rnd_below(sizeof(kinds))];
	uint32_t tid, pid;
	unsigned int i;

	rnd_task(&tid, &pid);
	*r = mk(kind, ts, rnd_cpu(), tid, pid);
	r->h.flags = rnd_below(4) ? 0 : (uint8_t)rnd();
	r->h.aux = rnd_below(2) ? 0 : (uint16_t)rnd();
	switch (kind) {
	case CS_EV_SWITCH: {
		static const uint32_t states[] = { 0, 0, 1, 1, 2, 0x102, 0x402, 0x2001,
						   0x80, 0x400, 0x1002, 0x8001 };

		rnd_task(&r->sw.next_tid, &r->sw.next_pid);
		r->sw.prev_state = rnd_below(10) ? states[rnd_below(12)] : (uint32_t)rnd();
		r->sw.prev_exit_state = rnd_below(8) ? 0 : (uint8_t)rnd();
		r->h.flags &= rnd_below(2) ? 0xff : CS_SWF_PREEMPT;
		r->sw.syscall = rnd_below(3) ? -1 : (int16_t)rnd();
		r->sw.next_prio = (uint8_t)rnd();
		rnd_str(r->sw.next_comm, CS_COMM_LEN);
		break;
	}
	case CS_EV_WAKING:
		r->wk.waker_tid = (uint32_t)rnd();
		r->wk.prio = (uint8_t)rnd();
		break;
	case CS_EV_FORK:
		rnd_task(&r->fork.child_tid, &r->fork.child_pid);
		rnd_str(r->fork.child_comm, CS_COMM_LEN);
		break;
	case CS_EV_EXEC:
		r->exec.old_tid = (uint32_t)rnd();
		rnd_str(r->exec.comm, CS_COMM_LEN);
		break;
	case CS_EV_EXIT:
		r->exit.exit_code = (int32_t)rnd();
		break;
	case CS_EV_MIGRATE:
		r->mig.orig_cpu = rnd_below(5);
		break;
	case CS_EV_RENAME:
		rnd_str(r->ren.comm, CS_COMM_LEN);
		break;
	case CS_EV_LOCK_BEGIN:
	case CS_EV_LOCK_END:
		r->lock.addr = rnd();
		r->lock.ret = (int32_t)rnd();
		r->lock.nstack = rnd_below(6);
		for (i = 0; i < CS_LOCK_STACK; i++)
			r->lock.stack[i] = rnd_below(3) ? rnd() : 0;
		break;
	case CS_EV_FUTEX_ENTER:
	case CS_EV_FUTEX_EXIT:
		r->futex.uaddr = rnd();
		r->futex.ret = (int64_t)rnd();
		r->futex.op = (uint32_t)rnd();
		r->futex.val = (uint32_t)rnd();
		r->futex.timed = rnd_below(2);
		break;
	case CS_EV_THREAD_INFO:
		r->ti.ppid = (uint32_t)rnd();
		r->ti.state = "RSDITZ\0"[rnd_below(7)];
		r->ti.syscall = (int16_t)rnd();
		rnd_str(r->ti.comm, CS_COMM_LEN);
		break;
	case CS_EV_MARK:
		r->h.aux = (uint16_t)(1 + rnd_below(7));
		r->mark.value = (int64_t)rnd();
		rnd_str(r->mark.text, CS_MARK_TEXT);
		break;
	case CS_EV_LOST:
		r->lost.count = rnd_below(3) ? rnd_below(100) : rnd();
		r->lost.first_ts = rnd_below(2) ? 0 : ts - rnd_below(3000); /* a link there */
		break;
	case CS_EV_LOCK_NAME:
		r->ln.addr = rnd();
		rnd_str(r->ln.name, CS_LOCK_NAME_LEN);
		break;
	}
}

static void rnd_stream(struct stream *s, size_t n)
{
	uint64_t ts = T0;
	size_t i;
	trec r;

	for (i = 0; i < n; i++) {
		uint32_t k = rnd_below(100);

		if (k < 60)
			ts += rnd_below(5000);
		else if (k < 62 && ts > T0 + 100000)
			ts -= rnd_below(100000); /* late */
		else if (k == 62)
			ts += rnd() % 1000000000000ull; /* a jump of up to 1000 s */
		rnd_record(&r, ts);
		push(s, &r);
	}
}

/*
 * The defaults the reader rebuilds must follow the writer's state exactly:
 * a LOST record in the middle of a CPU's chain (the waker is still who the
 * chain says), and a tid seen with two pids in one bundle (the map of tgids
 * changes where a pid is given, on both sides).
 */
static void test_defaults_follow_the_writer(void **state)
{
	struct stream in = { 0 };
	trec r;

	r = sw(T0 + 10, 0, 50, 50, 1, 0, false, 0, 102, 100, "w");  /* 102 runs */
	push(&in, &r);
	r = mk(CS_EV_LOST, T0 + 20, 0, 0, 0);
	r.lost.count = 3;
	push(&in, &r);
	r = wk(T0 + 30, 0, 101, 100, 0, 0);                          /* 102 wakes 101 */
	r.wk.waker_tid = 102;
	r.wk.waker_pid = 100;
	push(&in, &r);
	/* tid 300: first in process 302, then a waking says 301 */
	r = sw(T0 + 40, 0, 102, 100, 1, 0, false, 0, 300, 302, "t");
	push(&in, &r);
	r = wk(T0 + 50, 0, 300, 301, 0, 0);
	r.wk.waker_tid = 300;
	r.wk.waker_pid = 302;
	push(&in, &r);
	r = sw(T0 + 60, 0, 300, 302, 1, 0, false, 0, 60, 60, "u"); /* prev from the chain */
	push(&in, &r);
	r = sw(T0 + 70, 0, 60, 60, 1, 0, false, 0, 300, 301, "t");  /* next: 300 of 301 */
	push(&in, &r);
	roundtrip(&in, &meta2, 0, NULL);
	stream_free(&in);
}

static void test_roundtrip_random(void **state)
{
	struct cs_pf_meta meta = meta2;
	struct stream in = { 0 };
	int round;

	for (round = 0; round < 4; round++) {
		stream_free(&in);
		rnd_stream(&in, round == 0 ? 50 : 20000 + 5000 * (size_t)round);
		meta.track_all = round & 1;
		meta.tl_width_ns = round == 2 ? 12345 : 0;
		meta.ncpus = 4;
		roundtrip(&in, &meta, round == 3 ? 0 : T0 + 7, NULL);
	}
	stream_free(&in);
}

/* Many records on many CPUs: several groups, mostly compact. */
static void test_roundtrip_many_cpus(void **state)
{
	struct stream in = { 0 };
	struct cs_pf_meta meta = meta2;
	uint32_t cur[64] = { 0 };
	uint64_t ts = T0;
	size_t i;
	trec r;

	for (i = 0; i < 60000; i++) {
		uint16_t cpu = (uint16_t)rnd_below(64);
		uint32_t next = 1000 + rnd_below(300);

		ts += rnd_below(3) ? rnd_below(200) : 0;
		if (rnd_below(2)) {
			r = sw(ts, cpu, cur[cpu], cur[cpu] ? 1000 + cur[cpu] % 7 : 0,
			       rnd_below(2), 0, !rnd_below(4), (int16_t)rnd_below(300), next,
			       1000 + next % 7, next % 2 ? "odd" : "even");
			cur[cpu] = next;
		} else {
			r = wk(ts, cpu, next, 1000 + next % 7, (uint16_t)rnd_below(64), 0);
		}
		push(&in, &r);
	}
	meta.ncpus = 64;
	meta.track_all = true;
	roundtrip(&in, &meta, 0, NULL);
	stream_free(&in);
}

/* ---- the compact encoding, decoded with our own decoder ---- */

struct compact {
	uint64_t a[16][16];
	size_t n[16];
	char intern[8][CS_COMM_LEN + 1];
	size_t nintern;
	uint32_t cpu;
	bool lost;
};

static void read_packed(struct compact *c, unsigned int field, const struct pb_field *f)
{
	struct pb_dec d;
	uint64_t v;

	pb_sub(&d, f);
	while (!pb_dec_done(&d)) {
		assert_int_equal(pb_get_varint(&d, &v), 0);
		assert_true(c->n[field] < 16);
		c->a[field][c->n[field]++] = v;
	}
}

/* The k-th FtraceEventBundle of a file, its CompactSched arrays decoded. */
static bool find_bundle(const uint8_t *buf, size_t len, int k, struct compact *c)
{
	struct pb_dec trace, pkt, bundle, cs;
	struct pb_field f, g, h, i;

	memset(c, 0, sizeof(*c));
	pb_dec_init(&trace, buf, len);
	while (pb_next(&trace, &f) > 0) {
		assert_int_equal(f.num, 1);
		pb_sub(&pkt, &f);
		while (pb_next(&pkt, &g) > 0) {
			if (g.num != 1 || k-- > 0)
				continue;
			pb_sub(&bundle, &g);
			while (pb_next(&bundle, &h) > 0) {
				if (h.num == 1)
					c->cpu = (uint32_t)h.u;
				if (h.num == 3)
					c->lost = h.u;
				if (h.num != 4)
					continue;
				pb_sub(&cs, &h);
				while (pb_next(&cs, &i) > 0) {
					if (i.num == 5) {
						assert_true(c->nintern < 8 && i.len <= CS_COMM_LEN);
						memcpy(c->intern[c->nintern++], i.data, i.len);
					} else if (i.num < 16) {
						read_packed(c, i.num, &i);
					}
				}
			}
			return true;
		}
	}
	return false;
}

static void test_compact_encoding(void **state)
{
	struct stream in = { 0 };
	struct compact c;
	uint8_t *buf;
	size_t len;
	trec r;

	r = tinfo(T0, 42, 42, 'S', -1, "ping", 0);
	push(&in, &r);
	r = tinfo(T0, 43, 42, 'S', -1, "pong", 0);
	push(&in, &r);
	r = sw(T0 + 1000, 1, 0, 0, 0, 0, false, -1, 42, 42, "ping");
	push(&in, &r);
	r = wk(T0 + 1100, 1, 43, 42, 0, 0);
	push(&in, &r);
	r = sw(T0 + 1300, 1, 42, 42, 1, 0, false, 0, 43, 42, "pong");
	push(&in, &r);
	r = wk(T0 + 1500, 1, 42, 42, 1, CS_WKF_SOFTIRQ);
	push(&in, &r);
	r = sw(T0 + 1600, 1, 43, 42, 1, 0, false, 0, 42, 42, "ping");
	push(&in, &r);
	r = wk(T0 + 1700, 1, 43, 42, 1, 0);
	push(&in, &r);
	write_stream(tpath("c.pftrace"), &in, &meta2, 0);
	buf = slurp(tpath("c.pftrace"), &len);
	assert_true(find_bundle(buf, len, 0, &c));
	assert_false(find_bundle(buf, len, 1, &c) && c.n[1]);
	find_bundle(buf, len, 0, &c);
	assert_int_equal(c.cpu, 1);
	/* the CPU's first switch comes after a link to its prev (idle), at its time */
	assert_int_equal(c.n[1], 4);
	assert_int_equal(c.a[3][0], 0);
	/* switch_timestamp: first absolute, then deltas */
	assert_true(c.a[1][0] == T0 + 1000);
	assert_int_equal(c.a[1][1], 0);
	assert_int_equal(c.a[1][2], 300);
	assert_int_equal(c.a[1][3], 300);
	/* switch_prev_state (reported), next_pid, next_prio */
	assert_int_equal(c.a[2][1], 0);
	assert_int_equal(c.a[2][2], 1);
	assert_int_equal(c.a[3][1], 42);
	assert_int_equal(c.a[3][2], 43);
	assert_int_equal(c.a[3][3], 42);
	assert_int_equal(c.a[4][3], 120);
	/* interning: ping, pong, ping -> the same index twice */
	assert_int_equal(c.a[6][1], c.a[6][3]);
	assert_true(c.a[6][1] != c.a[6][2]);
	assert_string_equal(c.intern[c.a[6][1]], "ping");
	assert_string_equal(c.intern[c.a[6][2]], "pong");
	/* wakings: own timestamp accumulator, pid, target cpu, prio, comm */
	assert_int_equal(c.n[7], 3);
	assert_true(c.a[7][0] == T0 + 1100);
	assert_int_equal(c.a[7][1], 400);
	assert_int_equal(c.a[8][0], 43);
	assert_int_equal(c.a[8][1], 42);
	assert_int_equal(c.a[9][0], 0);
	assert_int_equal(c.a[9][1], 1);
	assert_int_equal(c.a[10][0], 120);
	assert_int_equal(c.n[11], 3);
	assert_string_equal(c.intern[c.a[11][0]], "pong"); /* the wakee's last comm */
	assert_string_equal(c.intern[c.a[11][1]], "ping");
	/* waking_common_flags: up to the softirq wake-up, none after it */
	assert_int_equal(c.n[12], 2);
	assert_int_equal(c.a[12][0], 0);
	assert_int_equal(c.a[12][1], 0x10);
	free(buf);
	unlink(tpath("c.pftrace"));
	stream_free(&in);
}

static void test_prev_state_reported(void **state)
{
	static const struct {
		uint32_t raw;
		uint8_t exit;
		bool preempt;
		unsigned int reported;
	} cases[] = {
		{ 0x102, 0, false, 0x2 },   /* D */
		{ 0x402, 0, false, 0x80 },  /* I */
		{ 0x2001, 0, false, 0x1 },  /* S */
		{ 0x80, 0x20, false, 0x20 }, /* Z */
		{ 0x1, 0, true, 0x100 },    /* preempted: R+ */
		{ 0x0, 0, false, 0x0 },     /* R */
	};
	struct stream in = { 0 }, out = { 0 };
	struct compact c;
	char err[128];
	uint8_t *buf;
	size_t len, i, n = sizeof(cases) / sizeof(cases[0]);
	trec r;

	for (i = 0; i < n; i++) {
		r = sw(T0 + i, 0, i ? 10 + (uint32_t)i : 0, 10, cases[i].raw, cases[i].exit,
		       cases[i].preempt, 202, 11 + (uint32_t)i, 10, "t");
		push(&in, &r);
	}
	write_stream(tpath("ps.pftrace"), &in, &meta2, 0);
	buf = slurp(tpath("ps.pftrace"), &len);
	assert_true(find_bundle(buf, len, 0, &c));
	assert_int_equal(c.n[2], n + 1); /* a link first */
	for (i = 0; i < n; i++)
		assert_int_equal(c.a[2][i + 1], cases[i].reported);
	/* and the raw values come back exactly */
	assert_int_equal(cs_pf_read_mem(buf, len, collect, &out, err, sizeof(err)), 0);
	expect_same_records(&in, &out);
	free(buf);
	unlink(tpath("ps.pftrace"));
	stream_free(&in);
	stream_free(&out);
}

/* ---- interned strings (InternedData), as the importer resolves them ---- */

struct interned {
	char str[3][8][32]; /* by table (names, argument names, values) and iid */
	unsigned int defined[3];
	char name[4][32], args[4][64]; /* the BEGINs: their name and "key=value;..." */
	unsigned int begins, ends;
};

static void copy_field(char *dst, size_t size, const struct pb_field *f)
{
	snprintf(dst, size, "%.*s", (int)f->len, (const char *)f->data);
}

/* InternedData: each entry once, with iids 1, 2, ... in order. */
static void read_interned(struct interned *in, const struct pb_field *id)
{
	struct pb_field f, g;
	struct pb_dec d, e;
	int t;

	pb_sub(&d, id);
	while (pb_next(&d, &f) > 0) {
		uint64_t iid = 0;

		t = f.num == 2 ? 0 : f.num == 3 ? 1 : f.num == 29 ? 2 : -1;
		assert_true(t >= 0);
		pb_sub(&e, &f);
		while (pb_next(&e, &g) > 0) {
			if (g.num == 1)
				iid = g.u;
			if (g.num == 2) {
				assert_int_equal(iid, ++in->defined[t]); /* iid first, in order */
				assert_true(iid < 8);
				copy_field(in->str[t][iid], sizeof(in->str[t][iid]), &g);
			}
		}
	}
}

static const char *resolve(struct interned *in, int t, uint64_t iid)
{
	assert_true(iid >= 1 && iid <= in->defined[t]); /* defined before its use */
	return in->str[t][iid];
}

/* ---- what Perfetto's importer needs ---- */

struct pcheck {
	int packets, bundles, track_events, begins, ends, named_lock, named_futex, released;
	int ftrace_stats;
	uint64_t overrun_end;
	int open[8];
	uint64_t uuids[8];
	struct interned in; /* sequence 1's */
};

static int track_slot(struct pcheck *pc, uint64_t uuid)
{
	int i;

	for (i = 0; i < 8 && pc->uuids[i]; i++)
		if (pc->uuids[i] == uuid)
			return i;
	assert_true(i < 8);
	pc->uuids[i] = uuid;
	return i;
}

/* A DebugAnnotation's name, inline (10) or interned (1). */
static void arg_name(struct interned *in, const struct pb_field *da, char *name, size_t size)
{
	struct pb_field g;
	struct pb_dec a;

	name[0] = 0;
	pb_sub(&a, da);
	while (pb_next(&a, &g) > 0) {
		if (g.num == 10)
			copy_field(name, size, &g);
		if (g.num == 1)
			snprintf(name, size, "%s", resolve(in, 1, g.u));
	}
}

static void check_track_event(struct pcheck *pc, const struct pb_field *te, bool needs)
{
	struct pb_field f;
	struct pb_dec d;
	uint64_t type = 0, uuid = 0;
	char name[32];
	int slot;

	pb_sub(&d, te);
	while (pb_next(&d, &f) > 0) {
		if (f.num == 9)
			type = f.u;
		if (f.num == 11)
			uuid = f.u;
		name[0] = 0;
		if (f.num == 23)
			copy_field(name, sizeof(name), &f);
		if (f.num == 10) {
			assert_true(needs); /* an iid needs the sequence's interned state */
			snprintf(name, sizeof(name), "%s", resolve(&pc->in, 0, f.u));
		}
		pc->named_lock += !strcmp(name, "rq->lock");
		pc->named_futex += !strcmp(name, "0x7f0000001000");
		if (f.num == 4) {
			arg_name(&pc->in, &f, name, sizeof(name));
			pc->released += !strcmp(name, "released_by");
		}
	}
	assert_true(uuid != 0);
	slot = track_slot(pc, uuid);
	if (type == 1) {
		pc->begins++;
		pc->open[slot]++;
	} else if (type == 2) {
		pc->ends++;
		assert_true(pc->open[slot] > 0); /* no END without a BEGIN */
		pc->open[slot]--;
	}
	pc->track_events++;
}

static void check_compact(const struct pb_field *cs)
{
	static const int sw[] = { 1, 2, 3, 4, 6 }, wk[] = { 7, 8, 9, 10, 11 };
	struct compact c;
	struct pb_field f;
	struct pb_dec d;
	size_t i, nintern = 0;

	memset(&c, 0, sizeof(c));
	pb_sub(&d, cs);
	while (pb_next(&d, &f) > 0) {
		if (f.num == 5)
			nintern++;
		else if (f.num < 16)
			read_packed(&c, f.num, &f);
	}
	for (i = 1; i < 5; i++) {
		assert_int_equal(c.n[sw[i]], c.n[sw[0]]);
		assert_int_equal(c.n[wk[i]], c.n[wk[0]]);
	}
	for (i = 0; i < c.n[6]; i++)
		assert_true(c.a[6][i] < nintern);
	for (i = 0; i < c.n[11]; i++)
		assert_true(c.a[11][i] < nintern);
}

static void check_ftrace_stats(struct pcheck *pc, const struct pb_field *fs)
{
	struct pb_field f, g;
	struct pb_dec d, c;
	uint64_t phase = 0;

	pb_sub(&d, fs);
	while (pb_next(&d, &f) > 0) {
		if (f.num == 1)
			phase = f.u;
		if (f.num != 2)
			continue;
		pb_sub(&c, &f);
		while (pb_next(&c, &g) > 0)
			if (g.num == 3)
				pc->overrun_end += phase == 2 ? g.u : 0;
	}
	assert_int_equal(phase, 1 + pc->ftrace_stats++);
}

static void check_packet(struct pcheck *pc, const struct pb_field *pkt)
{
	bool seq1 = false, seq2 = false, ts = false, has_te = false, thread_desc = false;
	bool needs = false;
	struct pb_field f, g;
	struct pb_dec d, b;

	pb_sub(&d, pkt); /* the packet's InternedData before its event, whatever the order */
	while (pb_next(&d, &f) > 0) {
		if (f.num == 13)
			needs = f.u == 2;
		if (f.num == 12)
			read_interned(&pc->in, &f);
	}
	pb_sub(&d, pkt);
	while (pb_next(&d, &f) > 0) {
		if (f.num == 10) {
			seq1 = f.u == 1;
			seq2 = f.u == 2;
		}
		if (f.num == 60) { /* TrackDescriptor: a thread's goes on sequence 2 */
			pb_sub(&b, &f);
			while (pb_next(&b, &g) > 0)
				thread_desc |= g.num == 4;
		}
		if (f.num == 8)
			ts = true;
		if (f.num == 13 && pc->packets == 0)
			assert_int_equal(f.u, 1); /* SEQ_INCREMENTAL_STATE_CLEARED */
		if (f.num == 32001 || f.num == 45)
			assert_int_equal(pc->packets, 0);
		if (f.num == 6) { /* ClockSnapshot: BOOTTIME primary */
			assert_int_equal(pc->packets, 1);
			pb_sub(&b, &f);
			while (pb_next(&b, &g) > 0)
				if (g.num == 2)
					assert_int_equal(g.u, 6);
		}
		if (f.num == 11) {
			has_te = true;
			check_track_event(pc, &f, needs);
		}
		if (f.num == 34) /* FtraceStats: START, then END with the overruns */
			check_ftrace_stats(pc, &f);
		if (f.num == 1) { /* FtraceEventBundle: cpu, valid compact arrays */
			bool cpu = false;

			pc->bundles++;
			pb_sub(&b, &f);
			while (pb_next(&b, &g) > 0) {
				if (g.num == 1) {
					cpu = true;
					assert_true(g.u < 1024);
				}
				if (g.num == 4)
					check_compact(&g);
			}
			assert_true(cpu);
		}
	}
	assert_true(thread_desc ? seq2 : seq1);
	if (has_te)
		assert_true(ts);
	pc->packets++;
}

static void test_perfetto_structure(void **state)
{
	struct stream in = { 0 };
	struct pcheck pc;
	struct pb_field f;
	struct pb_dec d;
	uint8_t *buf;
	size_t len;

	memset(&pc, 0, sizeof(pc));
	scenario(&in);
	write_stream_observed(tpath("st.pftrace"), &in, &meta2, 0);
	buf = slurp(tpath("st.pftrace"), &len);
	/* the magic is in the first bytes */
	assert_non_null(memmem(buf, 24, "concscope", 9));
	pb_dec_init(&d, buf, len);
	while (pb_next(&d, &f) > 0) {
		assert_int_equal(f.num, 1);
		assert_int_equal(f.wt, PB_LEN);
		check_packet(&pc, &f);
	}
	assert_true(pb_dec_done(&d));
	assert_int_equal(pc.bundles, 2); /* CPUs 0 and 1; 1500 is private */
	assert_int_equal(pc.begins, 4); /* model, kernel lock, futex wait, loss window */
	assert_int_equal(pc.ends, 4);
	assert_int_equal(pc.ftrace_stats, 2);
	assert_int_equal(pc.overrun_end, 5); /* the LOST record's count */
	assert_int_equal(pc.named_lock, 1);
	assert_int_equal(pc.named_futex, 1);
	assert_int_equal(pc.released, 2); /* each wait says who released it */
	assert_true(pc.track_events >= 9);
	free(buf);
	unlink(tpath("st.pftrace"));
	stream_free(&in);
}

/* ---- damaged files ---- */

/* report's one pass (load, stream) finds the same fault, with the same words. */
static void expect_same_fault(const void *buf, size_t len, int want, const char *msg)
{
	struct stream out = { 0 };
	struct cs_pf_reader *r;
	char err[256] = "";
	int ret = cs_pf_load_mem(&r, buf, len, NULL, err, sizeof(err));

	if (!ret) {
		ret = cs_pf_stream(r, collect, &out, NULL, err, sizeof(err));
		cs_pf_unload(&r);
	}
	assert_null(r);
	assert_int_equal(ret, want);
	assert_string_equal(err, msg);
	stream_free(&out);
}

static void expect_error(const void *buf, size_t len)
{
	struct stream out = { 0 };
	char err[256] = "";
	int ret = cs_pf_read_mem(buf, len, collect, &out, err, sizeof(err));

	assert_true(ret < 0);
	assert_true(strlen(err) > 0);
	assert_int_equal(out.n, 0); /* nothing emitted before the error */
	stream_free(&out);
	expect_same_fault(buf, len, ret, err);
}

static uint8_t *scenario_file(size_t *len)
{
	struct stream in = { 0 };
	uint8_t *buf;

	scenario(&in);
	write_stream(tpath("dmg.pftrace"), &in, &meta2, T0 + 1000);
	buf = slurp(tpath("dmg.pftrace"), len);
	unlink(tpath("dmg.pftrace"));
	stream_free(&in);
	return buf;
}

static void test_truncated(void **state)
{
	char err[256];
	uint8_t *buf;
	size_t len, n;

	buf = scenario_file(&len);
	for (n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size, for ASan */

		memcpy(copy, buf, n);
		expect_error(copy, n);
		free(copy);
	}
	assert_int_equal(cs_pf_read_mem(buf, len - 1, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "truncated at byte"));
	assert_int_equal(cs_pf_read_mem(buf, 24, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "truncated at byte 0");
	assert_int_equal(cs_pf_read_mem(buf, len, NULL, NULL, err, sizeof(err)), 0);
	free(buf);
}

static void test_corrupted(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff, 0x10 };
	uint8_t *buf, *copy;
	size_t len, i, m;

	buf = scenario_file(&len);
	copy = malloc(len);
	for (i = 0; i < len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(copy, buf, len);
			copy[i] ^= masks[m];
			expect_error(copy, len);
		}
	}
	/* extra bytes after the trailer */
	copy = realloc(copy, len + 2);
	memcpy(copy, buf, len);
	copy[len] = 0x0a;
	copy[len + 1] = 0x00;
	expect_error(copy, len + 2);
	free(copy);
	free(buf);
}

/* A file of another version of the format: refused by its version, not as damage. */
static void test_other_version(void **state)
{
	static const char magic[] = "concscope";
	char err[256] = "";
	uint8_t *buf, *v = NULL;
	size_t len, i;

	buf = scenario_file(&len);
	for (i = 0; i + sizeof(magic) + 1 < len && !v; i++)
		if (!memcmp(buf + i, magic, sizeof(magic) - 1) && buf[i + sizeof(magic) - 1] == 0x10)
			v = buf + i + sizeof(magic); /* the header's version: field 2, a varint */
	assert_non_null(v);
	assert_int_equal(*v, 4);
	*v = 1;
	assert_int_equal(cs_pf_read_mem(buf, len, NULL, NULL, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "unsupported concscope trace version 1 (this is 4)");
	expect_same_fault(buf, len, -ENOTSUP, err); /* from the header alone */
	free(buf);
}

static void test_garbage(void **state)
{
	static const uint8_t foreign[] = {
		/* SystemInfo { utsname { sysname "Linux" } } */
		0x0a, 0x0c, 0xea, 0x02, 0x09, 0x0a, 0x07, 0x0a, 0x05, 'L', 'i', 'n', 'u', 'x',
		/* FtraceEventBundle { cpu 0 } */
		0x0a, 0x04, 0x0a, 0x02, 0x08, 0x00,
	};
	char err[256];
	uint8_t *buf, *r;
	size_t len, i, n, k;

	assert_int_equal(cs_pf_read_mem(NULL, 0, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a concscope trace"));
	assert_int_equal(cs_pf_read_mem(foreign, sizeof(foreign), NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "not a concscope trace");
	expect_error(foreign, sizeof(foreign));

	/* random bytes, and random bytes after a valid header */
	buf = scenario_file(&len);
	for (i = 0; i < 3000; i++) {
		n = 1 + rnd_below(i < 1500 ? 64 : 4096);
		r = malloc(n);
		for (k = 0; k < n; k++)
			r[k] = (uint8_t)rnd();
		if (i >= 1000) /* keep a prefix of a real trace */
			memcpy(r, buf, k = rnd_below((uint32_t)(n < len ? n : len)));
		expect_error(r, n);
		free(r);
	}
	/* a real trace with a random stretch overwritten */
	r = malloc(len);
	for (i = 0; i < 2000; i++) {
		size_t at = rnd_below((uint32_t)len), cnt = 1 + rnd_below(16);

		memcpy(r, buf, len);
		for (k = at; k < at + cnt && k < len; k++)
			r[k] = (uint8_t)rnd();
		if (memcmp(r, buf, len))
			expect_error(r, len);
	}
	free(r);
	free(buf);
	assert_int_equal(cs_pf_read(tpath("missing"), NULL, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open"));
}

static void test_empty_file(void **state)
{
	char err[256];
	int fd = open(tpath("empty"), O_CREAT | O_WRONLY | O_TRUNC, 0644);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cs_pf_read(tpath("empty"), collect, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a concscope trace"));
	unlink(tpath("empty"));
}

/* An empty stream is a valid trace: header and trailer only. */
static void test_no_records(void **state)
{
	struct stream in = { 0 }, out = { 0 };
	struct cs_pf_info info;
	char err[128];

	write_stream(tpath("none.pftrace"), &in, &meta2, 0);
	assert_int_equal(cs_pf_read_info(tpath("none.pftrace"), collect, &out, &info, err,
					 sizeof(err)), 0);
	assert_int_equal(out.n, 0);
	assert_true(info.records == 0);
	assert_int_equal(info.ncpus, 2);
	unlink(tpath("none.pftrace"));
}

/*
 * One pass emits the groups before a damaged one (report drops them), then
 * stops with the error the checking read gives; the header alone loads.
 */
static void test_one_pass_stops_at_the_fault(void **state)
{
	struct stream in = { 0 }, out = { 0 };
	struct cs_pf_reader *r;
	struct cs_pf_info info;
	char err[256], err2[256];
	uint8_t *buf;
	size_t len, i;
	uint32_t k;

	for (k = 0; k < 20000; k++) { /* a ping-pong on CPU 0: groups of 2048 events */
		trec x = sw(T0 + 1000 * k, 0, 500 + (k & 1), 500, 1, 0, false, 202,
			    501 - (k & 1), 500, "pp");

		push(&in, &x);
	}
	write_stream(tpath("op.pftrace"), &in, &meta2, 0);
	buf = slurp(tpath("op.pftrace"), &len);
	buf[len - 200] ^= 0x01; /* in the last group (the ftrace stats and the trailer follow it) */
	assert_int_equal(cs_pf_read_mem(buf, len, collect, &out, err, sizeof(err)), -EINVAL);
	assert_int_equal(out.n, 0);
	assert_int_equal(cs_pf_load_mem(&r, buf, len, &info, err2, sizeof(err2)), 0);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(cs_pf_stream(r, collect, &out, &info, err2, sizeof(err2)), -EINVAL);
	assert_string_equal(err2, err);
	assert_true(out.n > 0 && out.n < in.n);
	for (i = 0; i < out.n; i++)
		assert_memory_equal(&out.v[i], &in.v[i], sizeof(struct cs_switch));
	cs_pf_unload(&r);
	stream_free(&out);

	/* a file that cannot be read, or is empty: the load says so */
	assert_int_equal(cs_pf_load(&r, tpath("missing"), &info, err, sizeof(err)), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err, "cannot open"));
	assert_int_equal(cs_pf_load_mem(&r, buf, 0, &info, err, sizeof(err)), -EINVAL);
	assert_null(r);
	assert_string_equal(err, "not a concscope trace (empty file)");
	free(buf);
	unlink(tpath("op.pftrace"));
	stream_free(&in);
}

/* ---- the file itself ---- */

static bool temp_left(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	bool found = false;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, ".out.pftrace.", 13))
			found = true;
	closedir(d);
	return found;
}

static void test_enospc(void **state)
{
	const char *path = tpath("out.pftrace");
	struct cs_pf_writer *w;
	trec r = sw(T0, 0, 0, 0, 1, 0, false, 1, 5, 5, "x");
	int full = open("/dev/full", O_WRONLY), ret = 0, i;

	if (full < 0)
		skip();
	unlink(path);
	assert_int_equal(cs_pf_open(&w, path, &meta2), 0);
	assert_true(temp_left());
	assert_int_equal(cs_pf_test_redirect(w, full), 0);
	close(full);
	for (i = 0; i < 2000000 && !ret; i++) {
		r.h.ts += 1000;
		r.sw.next_tid = 5 + (uint32_t)(i & 1);
		r.h.tid = 5 + (uint32_t)!(i & 1);
		ret = cs_pf_feed(w, &r.h);
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(cs_pf_feed(w, &r.h), -ENOSPC); /* sticky */
	assert_true(cs_pf_bytes(w) > 0);
	assert_int_equal(cs_pf_close(&w, true), -ENOSPC);
	assert_null(w);
	assert_int_equal(access(path, F_OK), -1);
	assert_false(temp_left());

	/* nothing written yet: the error shows at close */
	assert_int_equal(cs_pf_open(&w, path, &meta2), 0);
	full = open("/dev/full", O_WRONLY);
	assert_int_equal(cs_pf_test_redirect(w, full), 0);
	close(full);
	assert_int_equal(cs_pf_feed(w, &r.h), 0);
	assert_int_equal(cs_pf_close(&w, true), -ENOSPC);
	assert_int_equal(access(path, F_OK), -1);
	assert_false(temp_left());
}

static void test_abort_keeps_old(void **state)
{
	const char *path = tpath("out.pftrace");
	struct cs_pf_writer *w;
	trec r = mark(T0, CS_MARK_WINDOW_BEGIN, 0, 0, "");
	char buf[16] = "";
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old", 3), 3);
	close(fd);
	assert_int_equal(cs_pf_open(&w, path, &meta2), 0);
	assert_int_equal(cs_pf_feed(w, &r.h), 0);
	/* a record of a bad size is refused, nothing else changes */
	r.h.size = 8;
	assert_int_equal(cs_pf_feed(w, &r.h), -EINVAL);
	r.h.size = sizeof(struct cs_mark);
	r.h.kind = 99;
	assert_int_equal(cs_pf_feed(w, &r.h), -EINVAL);
	assert_int_equal(cs_pf_close(&w, false), 0);
	assert_false(temp_left());
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	close(fd);
	assert_string_equal(buf, "old");
	assert_int_equal(cs_pf_open(&w, tpath("nodir/x.pftrace"), &meta2), -ENOENT);
	assert_null(w);
	unlink(path);
}

/* ---- the slices after the records: interned strings ---- */

static void read_slice_event(struct interned *in, const struct pb_field *te, bool needs)
{
	struct pb_field f, g;
	struct pb_dec d, a;
	char name[32] = "", *args;

	pb_sub(&d, te);
	while (pb_next(&d, &f) > 0) {
		if (f.num == 9 && f.u == 2)
			in->ends++;
		if (f.num == 10) {
			assert_true(needs); /* an iid needs the sequence's interned state */
			snprintf(name, sizeof(name), "%s", resolve(in, 0, f.u));
		}
		if (f.num == 23)
			copy_field(name, sizeof(name), &f);
	}
	if (!name[0])
		return;
	assert_true(in->begins < 4);
	snprintf(in->name[in->begins], sizeof(in->name[0]), "%s", name);
	args = in->args[in->begins++];
	pb_sub(&d, te);
	while (pb_next(&d, &f) > 0) {
		if (f.num != 4)
			continue;
		pb_sub(&a, &f);
		while (pb_next(&a, &g) > 0) {
			size_t len = strlen(args);
			char v[32];

			if (g.num == 1)
				snprintf(v, sizeof(v), "%s=", resolve(in, 1, g.u));
			else if (g.num == 17)
				snprintf(v, sizeof(v), "%s;", resolve(in, 2, g.u));
			else if (g.num == 3)
				snprintf(v, sizeof(v), "%llu;", (unsigned long long)g.u);
			else
				fail(); /* every name and string is interned here */
			snprintf(args + len, 64 - len, "%s", v);
		}
	}
}

static void test_slices_intern_their_strings(void **state)
{
	static const uint64_t uuid = CS_PF_UUID_CRITPATH;
	struct cs_pf_arg a1[] = { { "state", "running", 0 }, { "tid", NULL, 7 } };
	struct cs_pf_arg a2[] = { { "state", "ready", 0 }, { "tid", NULL, 8 } };
	struct cs_pf_writer *w;
	struct interned in;
	struct pb_field f, g;
	struct pb_dec d, p;
	uint8_t *buf;
	size_t len;

	(void)state;
	memset(&in, 0, sizeof(in));
	assert_int_equal(cs_pf_open(&w, tpath("in.pftrace"), &meta2), 0);
	assert_int_equal(cs_pf_track(w, uuid, "concscope critical path"), 0);
	assert_int_equal(cs_pf_slice(w, uuid, T0, 10, "a 7 running", a1, 2), 0);
	assert_int_equal(cs_pf_slice(w, uuid, T0 + 10, 5, "a 8 ready", a2, 2), 0);
	assert_int_equal(cs_pf_slice(w, uuid, T0 + 15, 20, "a 7 running", a1, 2), 0);
	assert_int_equal(cs_pf_close(&w, true), 0);
	buf = slurp(tpath("in.pftrace"), &len);
	pb_dec_init(&d, buf, len);
	while (pb_next(&d, &f) > 0) {
		bool needs = false;

		pb_sub(&p, &f); /* the packet's InternedData before its event, whatever the order */
		while (pb_next(&p, &g) > 0) {
			if (g.num == 13)
				needs = g.u == 2;
			if (g.num == 12)
				read_interned(&in, &g);
		}
		pb_sub(&p, &f);
		while (pb_next(&p, &g) > 0)
			if (g.num == 11)
				read_slice_event(&in, &g, needs);
	}
	/* each string once: two names, two argument names, two values */
	assert_int_equal(in.defined[0], 2);
	assert_int_equal(in.defined[1], 2);
	assert_int_equal(in.defined[2], 2);
	assert_int_equal(in.begins, 3);
	assert_int_equal(in.ends, 3);
	assert_string_equal(in.name[0], "a 7 running");
	assert_string_equal(in.name[1], "a 8 ready");
	assert_string_equal(in.name[2], "a 7 running");
	assert_string_equal(in.args[0], "state=running;tid=7;");
	assert_string_equal(in.args[1], "state=ready;tid=8;");
	assert_string_equal(in.args[2], "state=running;tid=7;");
	free(buf);
	unlink(tpath("in.pftrace"));
}

/* A 2-task ping-pong storm on one CPU: bytes per scheduler event. */
static void test_storm_size(void **state)
{
	const uint32_t a = 23456, b = 23457, n = 200000;
	struct stream in = { 0 }, out = { 0 };
	uint64_t ts = T0;
	struct stat st;
	char err[128];
	double per;
	uint32_t i;
	trec r;

	for (i = 0; i < n / 2; i++) {
		uint32_t cur = i & 1 ? b : a, other = i & 1 ? a : b;

		ts += 800 + rnd_below(1500);
		r = wk(ts, 0, other, a, 0, 0);
		r.wk.waker_tid = cur; /* the one running wakes the other */
		r.wk.waker_pid = a;
		r.h.flags = CS_WKF_VERDICT | CS_WKF_ENDED; /* as the tracer sends it */
		push(&in, &r);
		ts += 600 + rnd_below(1000);
		r = sw(ts, 0, cur, a, 1, 0, false, 202, other, a, i & 1 ? "ping" : "pong");
		r.h.flags |= CS_SWF_VERDICT | (rnd_below(4) ? 0 : CS_SWF_LOCK); /* its verdicts */
		push(&in, &r);
	}
	write_stream(tpath("storm.pftrace"), &in, &meta2, 0);
	assert_int_equal(stat(tpath("storm.pftrace"), &st), 0);
	per = (double)st.st_size / n;
	print_message("storm: %u events, %lld bytes, %.2f bytes/event\n", n,
		      (long long)st.st_size, per);
	assert_true(per <= 10.0);
	assert_int_equal(cs_pf_read(tpath("storm.pftrace"), collect, &out, err, sizeof(err)), 0);
	expect_same_records(&in, &out);
	unlink(tpath("storm.pftrace"));
	stream_free(&in);
	stream_free(&out);
}

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/cs-pftrace-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_encoding),
		cmocka_unit_test(test_prev_state_reported),
		cmocka_unit_test(test_roundtrip_scenario),
		cmocka_unit_test(test_perfetto_structure),
		cmocka_unit_test(test_slices_intern_their_strings),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_defaults_follow_the_writer),
		cmocka_unit_test(test_other_version),
		cmocka_unit_test(test_roundtrip_many_cpus),
		cmocka_unit_test(test_no_records),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_one_pass_stops_at_the_fault),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_abort_keeps_old),
		cmocka_unit_test(test_storm_size),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
