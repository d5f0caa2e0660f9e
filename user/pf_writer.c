// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pf_writer.c: the trace writer (pftrace.h): records in, the file out
 * (pf_format.h). SWITCH and WAKING records go to their CPU's bundle
 * (pf_bundle.c), every other record is a CsRec of the group and goes to
 * the display too (pf_display.c); a group is written when a bundle or the
 * private records fill up. Everything written goes through one buffer that
 * keeps the running CRC.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "core.h"
#include "pb.h"
#include "pf_bundle.h"
#include "pf_codec.h"
#include "pf_display.h"
#include "pf_format.h"
#include "pftrace.h"

#define PF_BUNDLE_EVENTS 2048     /* events in one CPU's bundle */
#define PF_GROUP_RECS 4096        /* private records in one group */
#define PF_GROUP_BYTES (1u << 20) /* private + display bytes in one group */
#define PF_WBUF (256u << 10)      /* write(2) size */

struct cs_pf_writer {
	int fd;
	int err;
	unsigned int ncpus;
	char *path, *tmp;
	uint64_t bytes;
	pf_crc_table crc_t;
	uint32_t crc; /* of the bytes since the last checkpoint */
	struct pb_buf out, pkt;

	struct pf_wcpu *cpus[PF_MAX_CPU];
	uint16_t active[PF_MAX_CPU];
	unsigned int nactive;

	/* the group being filled */
	uint64_t gseq;
	struct pb_buf recs;
	struct pf_ordenc rec_ord;
	uint64_t rec_last;
	uint32_t nrecs;

	/* the whole file */
	uint64_t nrec, ngroups, end_ts;
	bool end_set;
	struct pf_display disp;
};

/* ---- output: buffered write(2), CRC of everything written ---- */

static void out_flush(struct cs_pf_writer *w)
{
	size_t off = 0;

	while (!w->err && off < w->out.len) {
		ssize_t n = write(w->fd, w->out.p + off, w->out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			w->err = -errno;
		else if (n == 0)
			w->err = -EIO;
		else
			off += (size_t)n;
	}
	pb_buf_reset(&w->out);
}

static void out_raw(struct cs_pf_writer *w, const void *data, size_t len)
{
	if (w->err || !len)
		return;
	w->crc = pf_crc_update(w->crc_t, w->crc, data, len);
	pb_raw(&w->out, data, len);
	if (w->out.err)
		w->err = w->out.err;
	w->bytes += len;
	if (w->out.len >= PF_WBUF)
		out_flush(w);
}

/* Trace.packet #1: the packet built in w->pkt. */
static void out_packet(struct cs_pf_writer *w)
{
	uint8_t hdr[1 + PB_VARINT_MAX];
	struct pb_buf h = { .p = hdr, .cap = sizeof(hdr) };

	if (w->pkt.err) {
		w->err = w->pkt.err;
		return;
	}
	pb_len_hdr(&h, 1, w->pkt.len);
	out_raw(w, hdr, h.len);
	out_raw(w, w->pkt.p, w->pkt.len);
}

/*
 * Write w->pkt whose last field is a fixed32 CRC placeholder: the CRC
 * covers every byte since the last checkpoint up to the CRC itself.
 */
static void out_packet_crc(struct cs_pf_writer *w)
{
	uint32_t crc;
	int i;

	if (w->pkt.err || w->pkt.len < 4) {
		w->err = w->pkt.err ? w->pkt.err : -EINVAL;
		return;
	}
	w->pkt.len -= 4;
	{
		uint8_t hdr[1 + PB_VARINT_MAX];
		struct pb_buf h = { .p = hdr, .cap = sizeof(hdr) };

		pb_len_hdr(&h, 1, w->pkt.len + 4);
		out_raw(w, hdr, h.len);
	}
	out_raw(w, w->pkt.p, w->pkt.len);
	crc = w->crc;
	for (i = 0; i < 4; i++)
		w->pkt.p[w->pkt.len + i] = (uint8_t)(crc >> (8 * i));
	out_raw(w, w->pkt.p + w->pkt.len, 4);
	w->pkt.len += 4;
	w->crc = 0;
}

static void put_crc_placeholder(struct pb_buf *b, uint32_t field)
{
	static const uint8_t zero[4];

	pb_tag(b, field, PB_I32);
	pb_raw(b, zero, sizeof(zero));
}

/* ---- small helpers ---- */

static void opt_uint(struct pb_buf *b, uint32_t field, uint64_t v)
{
	if (v)
		pb_uint(b, field, v);
}

/* CPU's bundle, in the group from now on (bundles are written in this order). */
static struct pf_wcpu *wcpu_get(struct cs_pf_writer *w, unsigned int cpu)
{
	struct pf_wcpu *cb = w->cpus[cpu];

	if (!cb) {
		cb = calloc(1, sizeof(*cb));
		if (!cb)
			return NULL;
		cb->cpu = (uint16_t)cpu;
		w->cpus[cpu] = cb;
	}
	if (!cb->active) {
		cb->active = true;
		w->active[w->nactive++] = (uint16_t)cpu;
	}
	return cb;
}

/* ---- records ---- */

static void w_rec(struct cs_pf_writer *w, const union cs_rec *r, uint64_t seq)
{
	struct pb_buf *b = &w->recs;
	size_t m = pb_nest_begin(b, GR_REC);

	pf_rec_encode(b, r, &w->rec_last);
	pb_nest_end(b, m);
	pf_ord_put(&w->rec_ord, seq);
	w->nrecs++;
}

/* The display's part of a private record, with its CPU's bundle if it writes there. */
static void display(struct cs_pf_writer *w, const union cs_rec *r)
{
	struct pf_wcpu *cb = NULL;

	if (r->h.cpu < PF_MAX_CPU && pf_display_needs_bundle(r->h.kind))
		cb = wcpu_get(w, r->h.cpu);
	pf_display_feed(&w->disp, r, cb ? &cb->ev : NULL);
}

/* ---- groups ---- */

static void write_bundle(struct cs_pf_writer *w, struct pf_wcpu *cb)
{
	pb_buf_reset(&w->pkt);
	pb_uint(&w->pkt, TP_SEQ_ID, PF_SEQ);
	pf_wcpu_bundle(cb, &w->pkt);
	out_packet(w);
}

static int group_err(const struct cs_pf_writer *w)
{
	unsigned int i;
	int err;

	if (w->recs.err || w->disp.pkts.err || w->rec_ord.out.err)
		return -ENOMEM;
	for (i = 0; i < w->nactive; i++)
		if ((err = pf_wcpu_err(w->cpus[w->active[i]])))
			return err;
	return 0;
}

static void flush_group(struct cs_pf_writer *w)
{
	struct pb_buf *b = &w->pkt;
	unsigned int i;
	size_t m;

	if (w->err || (!w->gseq && !w->nactive))
		return;
	w->err = group_err(w);
	if (w->err)
		return;
	out_raw(w, w->disp.pkts.p, w->disp.pkts.len);
	for (i = 0; i < w->nactive; i++) {
		write_bundle(w, w->cpus[w->active[i]]);
		pf_wcpu_reset(w->cpus[w->active[i]]);
	}
	w->nactive = 0;
	pf_ord_flush(&w->rec_ord);
	pb_buf_reset(b);
	pb_uint(b, TP_SEQ_ID, PF_SEQ);
	m = pb_nest_begin(b, TP_CS_GROUP);
	pb_uint(b, GR_NREC, w->gseq);
	pb_packed(b, GR_ORDER, &w->rec_ord.out);
	pb_raw(b, w->recs.p, w->recs.len);
	put_crc_placeholder(b, GR_CRC);
	pb_nest_end(b, m);
	out_packet_crc(w);
	w->ngroups++;
	w->gseq = 0;
	pb_buf_reset(&w->recs);
	pb_buf_reset(&w->disp.pkts);
	pf_ord_reset(&w->rec_ord);
	w->rec_last = 0;
	w->nrecs = 0;
}

static bool group_full(const struct cs_pf_writer *w, const struct pf_wcpu *cb)
{
	if (cb && cb->nsw + cb->nwk + cb->ev.n >= PF_BUNDLE_EVENTS)
		return true;
	return w->nrecs >= PF_GROUP_RECS || w->recs.len + w->disp.pkts.len >= PF_GROUP_BYTES;
}

/*
 * A switch into its CPU's bundle, after a link (pf_format.h) when its prev
 * is not who Perfetto's chain says runs there: the first switch of the
 * CPU, or a chain break.
 */
static void w_switch(struct cs_pf_writer *w, struct pf_wcpu *cb, const struct cs_switch *e)
{
	if (pf_wcpu_broken(cb, e))
		pf_wcpu_link(cb, e->h.ts, e->h.tid, e->h.pid, pf_display_comm(&w->disp, e->h.tid),
			     w->gseq++);
	pf_display_name(&w->disp, e->next_tid, e->next_comm);
	pf_wcpu_switch(cb, e, w->gseq++);
}

/*
 * A waking into its CPU's bundle; before the CPU's first switch, after a
 * link to the task it interrupted or ran in (Perfetto drops a waking it
 * cannot give a waker).
 */
static void w_waking(struct cs_pf_writer *w, struct pf_wcpu *cb, const struct cs_waking *e)
{
	if (!cb->run_known)
		pf_wcpu_link(cb, e->h.ts, e->waker_tid, e->waker_pid,
			     pf_display_comm(&w->disp, e->waker_tid), w->gseq++);
	pf_wcpu_waking(cb, e, pf_display_comm(&w->disp, e->h.tid), w->gseq++);
}

/* Events lost on a CPU: from the first of them, the CPU is idle for Perfetto. */
static struct pf_wcpu *w_loss(struct cs_pf_writer *w, const struct cs_lost *e)
{
	struct pf_wcpu *cb = wcpu_get(w, e->h.cpu);

	if (cb && cb->run_known && cb->run_tid)
		pf_wcpu_link(cb, e->first_ts ? e->first_ts : e->h.ts, 0, 0,
			     pf_display_comm(&w->disp, 0), w->gseq++);
	return cb;
}

int cs_pf_feed(struct cs_pf_writer *w, const struct cs_hdr *ev)
{
	union cs_rec r;
	struct pf_wcpu *cb = NULL;
	size_t size;

	if (w->err)
		return w->err;
	size = cs_kind_size(ev->kind);
	if (!size || ev->size != size)
		return -EINVAL;
	memcpy(&r, ev, size); /* a whole union: callers pass records of their own size */
	w->nrec++;
	if ((r.h.kind == CS_EV_SWITCH || r.h.kind == CS_EV_WAKING) && r.h.cpu < PF_MAX_CPU) {
		cb = wcpu_get(w, r.h.cpu);
		if (!cb)
			return w->err = -ENOMEM;
		if (r.h.kind == CS_EV_SWITCH)
			w_switch(w, cb, &r.sw);
		else
			w_waking(w, cb, &r.wk);
	} else {
		w_rec(w, &r, w->gseq++);
		display(w, &r);
		if (r.h.cpu < PF_MAX_CPU)
			cb = r.h.kind == CS_EV_LOST ? w_loss(w, &r.lost) : w->cpus[r.h.cpu];
	}
	if (group_full(w, cb))
		flush_group(w);
	return w->err;
}

/* ---- what the core counted (display only) ---- */

static void obs_untraced(void *ctx, uint32_t tid, uint32_t pid, uint64_t a, uint64_t b)
{
	struct cs_pf_writer *w = ctx;

	if (!w->err)
		pf_display_untraced(&w->disp, tid, pid, a, b);
}

static void obs_wait(void *ctx, const struct cs_wait_end *e)
{
	struct cs_pf_writer *w = ctx;

	if (!w->err)
		pf_display_wait(&w->disp, e);
}

void cs_pf_slices(struct cs_pf_writer *w, struct cs_core_slices *o)
{
	*o = (struct cs_core_slices){ .untraced = obs_untraced, .wait = obs_wait, .ctx = w };
}

/* ---- open / close ---- */

static void write_header(struct cs_pf_writer *w, const struct cs_pf_meta *meta)
{
	struct pb_buf *b = &w->pkt;
	struct timespec boot, mono, real;
	static const struct { int clk, id; } clocks[] = {
		{ CLOCK_BOOTTIME, 6 }, { CLOCK_MONOTONIC, 3 }, { CLOCK_REALTIME, 1 },
	};
	struct timespec *ts[] = { &boot, &mono, &real };
	size_t m, m2;
	unsigned int i;

	pb_buf_reset(b);
	m = pb_nest_begin(b, TP_CS_HEADER);
	pb_str(b, HD_MAGIC, PF_MAGIC);
	pb_uint(b, HD_VERSION, PF_VERSION);
	pb_uint(b, HD_NCPUS, meta->ncpus);
	opt_uint(b, HD_TRACK_ALL, meta->track_all);
	opt_uint(b, HD_TL_WIDTH, meta->tl_width_ns);
	pb_nest_end(b, m);
	pb_uint(b, TP_SEQ_ID, PF_SEQ);
	pb_uint(b, TP_SEQ_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
	m = pb_nest_begin(b, TP_SYSINFO);
	m2 = pb_nest_begin(b, 1);
	pb_str(b, 1, meta->sysname ? meta->sysname : "");
	pb_str(b, 2, meta->version ? meta->version : "");
	pb_str(b, 3, meta->release ? meta->release : "");
	pb_str(b, 4, meta->machine ? meta->machine : "");
	pb_nest_end(b, m2);
	pb_uint(b, 8, meta->ncpus);
	pb_nest_end(b, m);
	out_packet(w);

	for (i = 0; i < 3; i++)
		clock_gettime(clocks[i].clk, ts[i]);
	pb_buf_reset(b);
	pb_uint(b, TP_SEQ_ID, PF_SEQ);
	m = pb_nest_begin(b, TP_CLOCKS);
	for (i = 0; i < 3; i++) {
		m2 = pb_nest_begin(b, 1);
		pb_uint(b, 1, (uint64_t)clocks[i].id);
		pb_uint(b, 2, (uint64_t)ts[i]->tv_sec * 1000000000ull + (uint64_t)ts[i]->tv_nsec);
		pb_nest_end(b, m2);
	}
	pb_uint(b, 2, 6); /* primary_trace_clock = BOOTTIME */
	pb_nest_end(b, m);
	out_packet(w);

	pb_buf_reset(b);
	pb_uint(b, TP_SEQ_ID, PF_SEQ);
	pf_display_header(b);
	out_packet(w);
}

static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dirlen;
	size_t n = dirlen + strlen(base) + 16;
	char *tmp = malloc(n);

	if (tmp)
		snprintf(tmp, n, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
	return tmp;
}

static void writer_free(struct cs_pf_writer *w)
{
	unsigned int i;

	for (i = 0; i < PF_MAX_CPU; i++)
		pf_wcpu_free(w->cpus[i]);
	pb_buf_free(&w->out);
	pb_buf_free(&w->pkt);
	pb_buf_free(&w->recs);
	pf_display_free(&w->disp);
	pb_buf_free(&w->rec_ord.out);
	free(w->path);
	free(w->tmp);
	free(w);
}

int cs_pf_open(struct cs_pf_writer **wp, const char *path, const struct cs_pf_meta *meta)
{
	struct cs_pf_writer *w;
	int err;

	*wp = NULL;
	if (!path || !*path || !meta)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	pf_crc_init(w->crc_t);
	w->path = strdup(path);
	w->tmp = temp_name(path);
	if (!w->path || !w->tmp) {
		writer_free(w);
		return -ENOMEM;
	}
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		err = -errno;
		writer_free(w);
		return err;
	}
	w->ncpus = meta->ncpus;
	if (fchmod(w->fd, 0644))
		w->err = -errno;
	write_header(w, meta);
	if (w->err) {
		err = w->err;
		close(w->fd);
		unlink(w->tmp);
		writer_free(w);
		return err;
	}
	*wp = w;
	return 0;
}

void cs_pf_set_end(struct cs_pf_writer *w, uint64_t end_ts)
{
	w->end_ts = end_ts;
	w->end_set = true;
}

uint64_t cs_pf_bytes(const struct cs_pf_writer *w)
{
	return w ? w->bytes : 0;
}

int cs_pf_test_redirect(struct cs_pf_writer *w, int fd)
{
	return dup2(fd, w->fd) < 0 ? -errno : 0;
}

static void write_trailer(struct cs_pf_writer *w)
{
	struct pb_buf *b = &w->pkt;
	size_t m;

	pb_buf_reset(b);
	pb_uint(b, TP_SEQ_ID, PF_SEQ);
	m = pb_nest_begin(b, TP_CS_TRAILER);
	pb_uint(b, TR_NREC, w->nrec);
	if (w->end_set)
		pb_uint(b, TR_END_TS, w->end_ts);
	pb_uint(b, TR_NGROUPS, w->ngroups);
	put_crc_placeholder(b, TR_CRC);
	pb_nest_end(b, m);
	out_packet_crc(w);
}

/* The display packets just built, out now: no group is pending after the flush. */
static int display_out(struct cs_pf_writer *w)
{
	if (!w->err && w->disp.pkts.err)
		w->err = w->disp.pkts.err;
	out_raw(w, w->disp.pkts.p, w->disp.pkts.len);
	pb_buf_reset(&w->disp.pkts);
	return w->err;
}

/*
 * After the last group: what the display still holds (slices the core
 * told after the last record, the last loss windows), and the ftrace
 * stats, START and END, so that Perfetto counts the lost events per CPU.
 */
static void write_ends(struct cs_pf_writer *w)
{
	unsigned int phase;

	display_out(w);
	for (phase = 1; phase <= 2; phase++) {
		pb_buf_reset(&w->pkt);
		pb_uint(&w->pkt, TP_SEQ_ID, PF_SEQ);
		pf_display_ftrace_stats(&w->disp, &w->pkt, w->ncpus, phase);
		out_packet(w);
	}
}

static void fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int cs_pf_close(struct cs_pf_writer **wp, bool commit)
{
	struct cs_pf_writer *w = *wp;
	int err;

	if (!w)
		return 0;
	*wp = NULL;
	if (commit) {
		pf_display_end_losses(&w->disp);
		flush_group(w);
		write_ends(w);
		write_trailer(w);
		out_flush(w);
		if (!w->err && fsync(w->fd))
			w->err = -errno;
	}
	if (close(w->fd) && commit && !w->err)
		w->err = -errno;
	if (commit && !w->err) {
		if (rename(w->tmp, w->path))
			w->err = -errno;
		else
			fsync_dir(w->path);
	}
	if (!commit || w->err)
		unlink(w->tmp);
	err = w->err;
	writer_free(w);
	return err;
}

/* ---- slices after the records (pftrace.h: cs_pf_track, cs_pf_slice) ---- */

int cs_pf_track(struct cs_pf_writer *w, uint64_t uuid, const char *name)
{
	if (w->err)
		return w->err;
	flush_group(w);
	pf_display_track(&w->disp, uuid, name);
	return display_out(w);
}

int cs_pf_slice(struct cs_pf_writer *w, uint64_t uuid, uint64_t ts, uint64_t dur,
		const char *name, const struct cs_pf_arg *args, unsigned int nargs)
{
	if (w->err)
		return w->err;
	flush_group(w);
	pf_display_slice(&w->disp, uuid, ts, dur, name, args, nargs);
	return display_out(w);
}
