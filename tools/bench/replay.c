// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * replay.c: user-side throughput of concscope without the kernel in the
 * loop (tools/bench).
 *
 *   replay [-k REPS] [-c CPU] [-r ROOT] [-w TRACE] DUMP
 *
 * DUMP is what `concscope run --dump-raw DUMP -- CMD` wrote: the records
 * back to back as they left the ring buffer. Each repetition walks the
 * buffer with cs_decode_next, pushes every record through a cs_reorder
 * (same capacity and window as the session) into a fresh cs_core, the way
 * the session does (CS_MARK_TRACK for the root first, window marks at the
 * root's exec and exit), then flushes and finishes the core. With -w (only
 * in the replay-pf build, which links the writer, PF_SRCS) every ordered record
 * also goes to a Perfetto writer; the timed repetitions discard their file
 * and one more, untimed, pass writes TRACE so its size can be read.
 *
 * -c pins the process to one CPU; ROOT defaults to the pid of the first exec
 * record (the command concscope started). Prints one line on stdout:
 *   replay: records=N sched=S reps=K seconds=T events_per_s=R [pf_bytes=B]
 * where records counts every record fed per repetition (dump records plus
 * the marks replay adds), sched the switch and waking records in the dump,
 * and events_per_s = records * REPS / T.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core.h"
#include "pin.h"
#include "decode.h"
#include "reorder.h"
#ifdef CS_BENCH_PFTRACE
#include "pftrace.h"
#endif


struct replay {
	struct cs_core *core;
	uint32_t root;
	bool window_open, window_closed;
	uint64_t fed;
#ifdef CS_BENCH_PFTRACE
	struct cs_pf_writer *w;
	int werr;
#endif
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void out(struct replay *r, const struct cs_hdr *ev)
{
	r->fed++;
	cs_core_feed(r->core, ev);
#ifdef CS_BENCH_PFTRACE
	if (r->w && !r->werr)
		r->werr = cs_pf_feed(r->w, ev);
#endif
}

/* As the session's on_ordered: the root's exec and exit bound the window. */
static void on_ordered(const struct cs_hdr *ev, void *ctx)
{
	struct replay *r = ctx;
	struct cs_mark m;

	if (!r->window_open && ev->kind == CS_EV_EXEC && ev->pid == r->root) {
		cs_mark_init(&m, ev->ts, CS_MARK_WINDOW_BEGIN, r->root, 0, NULL);
		out(r, &m.h);
		r->window_open = true;
	}
	out(r, ev);
	if (ev->kind == CS_EV_EXIT && ev->pid == r->root && (ev->flags & CS_EXF_GROUP_DEAD) &&
	    r->window_open && !r->window_closed) {
		cs_mark_init(&m, ev->ts, CS_MARK_WINDOW_END, r->root, 0, NULL);
		out(r, &m.h);
		r->window_closed = true;
	}
}

static int load(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY), e;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		e = errno;
		close(fd);
		return -e;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1); /* malloc'd memory is 8-aligned, as cs_decode wants */
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < *len && (n = read(fd, *buf + got, *len - got)) > 0)
		got += (size_t)n;
	close(fd);
	return got == *len ? 0 : -EIO;
}

/* One pass over the dump into a fresh core (and writer). */
static int pass(const unsigned char *buf, size_t len, uint32_t root, uint64_t first_ts,
		struct cs_reorder *ro, struct replay *r, const char *trace, bool keep)
{
	const struct cs_hdr *ev;
	struct cs_core_cfg cfg = { .track_all = false };
	struct cs_mark m;
	uint64_t last = first_ts;
	size_t off = 0;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->root = root;
	r->core = cs_core_new(&cfg);
	if (!r->core)
		return -ENOMEM;
	ro->ctx = r;
#ifdef CS_BENCH_PFTRACE
	if (trace) {
		struct cs_pf_meta meta = { .sysname = "Linux", .ncpus = 0, .track_all = false };

		meta.ncpus = (unsigned int)sysconf(_SC_NPROCESSORS_CONF);
		ret = cs_pf_open(&r->w, trace, &meta);
		if (ret)
			return ret;
	}
#else
	(void)trace;
	(void)keep;
#endif
	/* the session tracks the command before it is released */
	cs_mark_init(&m, first_ts, CS_MARK_TRACK, root, 0, NULL);
	cs_reorder_push(ro, &m.h);
	while ((ev = cs_decode_next(buf, len, &off))) {
		cs_reorder_push(ro, ev);
		last = ev->ts;
	}
	cs_reorder_reset(ro); /* the next pass starts over in time */
#ifdef CS_BENCH_PFTRACE
	if (r->w) {
		cs_pf_set_end(r->w, last);
		ret = cs_pf_close(&r->w, keep);
		if (!ret)
			ret = r->werr;
	}
#endif
	cs_core_finish(r->core, last);
	cs_core_free(&r->core);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: replay [-k REPS] [-c CPU] [-r ROOT] [-w TRACE] DUMP\n");
	exit(2);
}

struct args {
	unsigned long reps;
	int cpu;             /* -1: not pinned */
	uint32_t root;       /* 0: the first exec's pid */
	const char *trace;   /* -w, or NULL */
	const char *dump;
};

static void parse_args(int argc, char **argv, struct args *a)
{
	int opt;

	*a = (struct args){ .reps = 1, .cpu = -1 };
	while ((opt = getopt(argc, argv, "k:c:r:w:h")) != -1) {
		switch (opt) {
		case 'k': a->reps = strtoul(optarg, NULL, 10); break;
		case 'c': a->cpu = atoi(optarg); break;
		case 'r': a->root = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': a->trace = optarg; break;
		default: usage();
		}
	}
	if (optind + 1 != argc || !a->reps)
		usage();
	a->dump = argv[optind];
#ifndef CS_BENCH_PFTRACE
	if (a->trace) {
		fprintf(stderr, "replay: built without the Perfetto writer (use replay-pf for -w)\n");
		exit(2);
	}
#endif
}

/* What the dump holds, read once: its records, switches and wake-ups, first time, root. */
struct dump_info {
	size_t nrec, nsched;
	uint64_t first_ts;
};

/* 0, or a message saying why the dump cannot be replayed. */
static const char *scan(const unsigned char *buf, size_t len, uint32_t *root, struct dump_info *d)
{
	static char why[96];
	const struct cs_hdr *ev;
	size_t off = 0;

	memset(d, 0, sizeof(*d));
	while ((ev = cs_decode_next(buf, len, &off))) {
		if (!d->nrec)
			d->first_ts = ev->ts;
		d->nrec++;
		if (ev->kind == CS_EV_SWITCH || ev->kind == CS_EV_WAKING)
			d->nsched++;
		if (!*root && ev->kind == CS_EV_EXEC)
			*root = ev->pid;
	}
	if (off != len) {
		snprintf(why, sizeof(why), "malformed record at byte %zu of %zu", off, len);
		return why;
	}
	if (!d->nrec || !*root)
		return !d->nrec ? "no records" : "no exec record (give the root pid with -r)";
	return NULL;
}

/* The timed passes: records fed in all, or 0 after saying what failed. */
static uint64_t timed_passes(const unsigned char *buf, size_t len, const struct args *a,
			     const struct dump_info *d, struct cs_reorder *ro)
{
	struct replay r;
	uint64_t fed = 0;
	unsigned long i;
	int ret;

	for (i = 0; i < a->reps; i++) {
		ret = pass(buf, len, a->root, d->first_ts, ro, &r, a->trace, false);
		if (ret) {
			fprintf(stderr, "replay: pass %lu failed: %s\n", i, strerror(-ret));
			return 0;
		}
		fed += r.fed;
	}
	return fed;
}

/* One more pass, untimed, that keeps its file: its size, or -1 after saying why. */
static long long write_trace(const unsigned char *buf, size_t len, const struct args *a,
			     const struct dump_info *d, struct cs_reorder *ro)
{
	struct replay r;
	struct stat st;
	int ret = pass(buf, len, a->root, d->first_ts, ro, &r, a->trace, true);

	if (ret || stat(a->trace, &st)) {
		fprintf(stderr, "\nreplay: writing %s failed: %s\n", a->trace,
			strerror(ret ? -ret : errno));
		return -1;
	}
	return (long long)st.st_size;
}

int main(int argc, char **argv)
{
	struct dump_info d;
	struct args a;
	unsigned char *buf;
	const char *why;
	size_t len;
	uint64_t t0, ns, fed;
	long long bytes;
	struct cs_reorder ro;
	int ret;

	parse_args(argc, argv, &a);
	ret = load(a.dump, &buf, &len);
	if (ret) {
		fprintf(stderr, "replay: %s: %s\n", a.dump, strerror(-ret));
		return 1;
	}
	why = scan(buf, len, &a.root, &d);
	if (why) {
		fprintf(stderr, "replay: %s: %s\n", a.dump, why);
		return 1;
	}
	if (bench_pin(a.cpu))
		perror("replay: sched_setaffinity");
	if (cs_reorder_init(&ro, CS_REORDER_CAP, CS_REORDER_WINDOW_NS, on_ordered, NULL)) {
		fprintf(stderr, "replay: out of memory\n");
		return 1;
	}
	t0 = now_ns();
	fed = timed_passes(buf, len, &a, &d, &ro);
	if (!fed)
		return 1;
	ns = now_ns() - t0;
	printf("replay: records=%llu sched=%zu reps=%lu seconds=%.6f events_per_s=%.0f",
	       (unsigned long long)(fed / a.reps), d.nsched, a.reps, (double)ns / 1e9,
	       (double)fed / ((double)ns / 1e9));
	if (a.trace) {
		bytes = write_trace(buf, len, &a, &d, &ro);
		if (bytes < 0)
			return 1;
		printf(" pf_bytes=%lld", bytes);
	}
	printf("\n");
	cs_reorder_free(&ro);
	free(buf);
	return 0;
}
