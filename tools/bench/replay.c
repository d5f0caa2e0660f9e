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
 * in the replay-pf build, which links user/pftrace.c) every ordered record
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

int main(int argc, char **argv)
{
	unsigned long reps = 1;
	const char *trace = NULL;
	unsigned char *buf;
	size_t len, off = 0, nrec = 0, nsched = 0;
	const struct cs_hdr *ev;
	uint32_t root = 0;
	uint64_t first_ts = 0, t0, ns, fed = 0;
	struct cs_reorder ro;
	struct replay r;
	int opt, cpu = -1, ret;
	unsigned long i;

	while ((opt = getopt(argc, argv, "k:c:r:w:h")) != -1) {
		switch (opt) {
		case 'k': reps = strtoul(optarg, NULL, 10); break;
		case 'c': cpu = atoi(optarg); break;
		case 'r': root = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': trace = optarg; break;
		default: usage();
		}
	}
	if (optind + 1 != argc || !reps)
		usage();
#ifndef CS_BENCH_PFTRACE
	if (trace) {
		fprintf(stderr, "replay: built without the Perfetto writer (use replay-pf for -w)\n");
		return 2;
	}
#endif
	ret = load(argv[optind], &buf, &len);
	if (ret) {
		fprintf(stderr, "replay: %s: %s\n", argv[optind], strerror(-ret));
		return 1;
	}
	while ((ev = cs_decode_next(buf, len, &off))) {
		if (!nrec)
			first_ts = ev->ts;
		nrec++;
		if (ev->kind == CS_EV_SWITCH || ev->kind == CS_EV_WAKING)
			nsched++;
		if (!root && ev->kind == CS_EV_EXEC)
			root = ev->pid;
	}
	if (off != len) {
		fprintf(stderr, "replay: %s: malformed record at byte %zu of %zu\n", argv[optind],
			off, len);
		return 1;
	}
	if (!nrec || !root) {
		fprintf(stderr, "replay: %s: %s\n", argv[optind],
			!nrec ? "no records" : "no exec record (give the root pid with -r)");
		return 1;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("replay: sched_setaffinity");
	}
	if (cs_reorder_init(&ro, CS_REORDER_CAP, CS_REORDER_WINDOW_NS, on_ordered, NULL)) {
		fprintf(stderr, "replay: out of memory\n");
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < reps; i++) {
		ret = pass(buf, len, root, first_ts, &ro, &r, trace, false);
		if (ret) {
			fprintf(stderr, "replay: pass %lu failed: %s\n", i, strerror(-ret));
			return 1;
		}
		fed += r.fed;
	}
	ns = now_ns() - t0;
	printf("replay: records=%llu sched=%zu reps=%lu seconds=%.6f events_per_s=%.0f",
	       (unsigned long long)(fed / reps), nsched, reps, (double)ns / 1e9,
	       (double)fed / ((double)ns / 1e9));
	if (trace) {
		struct stat st;

		/* one more pass, untimed, that keeps its file */
		ret = pass(buf, len, root, first_ts, &ro, &r, trace, true);
		if (ret || stat(trace, &st)) {
			fprintf(stderr, "\nreplay: writing %s failed: %s\n", trace,
				strerror(ret ? -ret : errno));
			return 1;
		}
		printf(" pf_bytes=%lld", (long long)st.st_size);
	}
	printf("\n");
	cs_reorder_free(&ro);
	free(buf);
	return 0;
}
