// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pf_reader.c: the trace reader (pftrace.h). One pass over the file in
 * memory: packets are checked as they come, each group's CRC before its
 * records, and a group's records are merged back into sequence order from
 * its bundles (pf_bundle.c) and its CsRecs (pf_format.c) and emitted.
 * Every read is bounded by the input: arbitrary bytes end in an error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "pb.h"
#include "pf_bundle.h"
#include "pf_codec.h"
#include "pf_format.h"
#include "pftrace.h"

#define PF_READ_GROUP_MAX (1u << 22) /* records in one group */

/*
 * owner[seq] of a group: which record stream holds its seq-th record. A
 * CsRec, or the switches (2k) and wakings (2k + 1) of the bundle active[k].
 */
#define OWNER_PRIV 0xfffe

struct cs_pf_reader {
	const uint8_t *buf;
	size_t len;
	void *own;   /* what cs_pf_unload() releases: buf, mapped or allocated */
	bool mapped;
	cs_emit_fn emit;
	void *ctx;
	char *err;
	size_t errlen;
	pf_crc_table crc_t;
	size_t ckpt, pkt_off;
	bool have_header, done;
	struct cs_pf_info info;
	uint64_t nrec, ngroups;
	struct pf_rcpu *cpus[PF_MAX_CPU];
	uint16_t active[PF_MAX_CPU];
	unsigned int nactive;
	uint16_t *owner;
	size_t capowner;
	uint64_t rec_ts;
};

static int rd_fail(struct cs_pf_reader *r, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rd_fail(struct cs_pf_reader *r, int ret, const char *fmt, ...)
{
	va_list ap;

	if (r->err && r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int corrupt(struct cs_pf_reader *r, const char *what)
{
	return rd_fail(r, -EINVAL, "corrupt packet at byte %zu: %s", r->pkt_off, what);
}

static int not_ours(struct cs_pf_reader *r)
{
	return rd_fail(r, -EINVAL, "not a concscope trace");
}

/* An error of a bundle (pf_bundle.c), with what it says went wrong. */
static int bundle_fail(struct cs_pf_reader *r, const struct pf_rcpu *rc, int ret)
{
	if (ret == -EINVAL)
		return corrupt(r, rc->why);
	return rd_fail(r, ret, "%s", rc->why);
}

/* ---- one bundle ---- */

static struct pf_rcpu *rcpu_get(struct cs_pf_reader *r, unsigned int cpu)
{
	struct pf_rcpu *rc = r->cpus[cpu];

	if (!rc) {
		rc = calloc(1, sizeof(*rc));
		if (!rc)
			return NULL;
		rc->cpu = (uint16_t)cpu;
		rc->version = r->info.version;
		r->cpus[cpu] = rc;
	}
	return rc;
}

static int rd_bundle(struct cs_pf_reader *r, const uint8_t *p, size_t len)
{
	const uint8_t *compact = NULL;
	size_t clen = 0;
	struct pb_field f;
	struct pb_dec d;
	struct pf_rcpu *rc;
	int64_t cpu = -1;
	int ret;

	pb_dec_init(&d, p, len);
	while ((ret = pb_next(&d, &f)) > 0) {
		if (f.num == FB_CPU && f.wt == PB_VARINT) {
			cpu = f.u < PF_MAX_CPU ? (int64_t)f.u : PF_MAX_CPU;
		} else if (f.num == FB_COMPACT) {
			if (f.wt != PB_LEN || compact)
				return corrupt(r, "bad compact_sched");
			compact = f.data;
			clen = f.len;
		}
	}
	if (ret < 0)
		return corrupt(r, "bad ftrace bundle");
	if (cpu < 0 || cpu >= PF_MAX_CPU)
		return corrupt(r, "bundle without a valid cpu");
	rc = rcpu_get(r, (unsigned int)cpu);
	if (!rc)
		return rd_fail(r, -ENOMEM, "out of memory");
	if (rc->in_group)
		return corrupt(r, "two bundles of one cpu in a group");
	pf_rcpu_reset(rc);
	rc->in_group = true;
	r->active[r->nactive++] = rc->cpu;
	ret = compact ? pf_rcpu_parse(rc, compact, clen) : 0;
	return ret ? bundle_fail(r, rc, ret) : 0;
}

/* ---- records ---- */

static int rd_rec(struct cs_pf_reader *r, const struct pb_field *rf, union cs_rec *o)
{
	const char *why;

	/* a LOST record leaves the chain as it is: the writer's does too */
	if (pf_rec_decode(rf->data, rf->len, o, &r->rec_ts, &why))
		return corrupt(r, why);
	return 0;
}

/* ---- groups ---- */

/* Decode one order array into owner[]: count elements, all < nrec. */
static int ord_decode(struct cs_pf_reader *r, const struct pf_span *s, uint32_t count, uint16_t id,
		      uint64_t nrec)
{
	const char *why;

	if (pf_ord_decode(s->p, s->len, count, id, r->owner, nrec, &why))
		return corrupt(r, why);
	return 0;
}

static int check_crc(struct cs_pf_reader *r, const uint8_t *pkt_end, uint64_t crc)
{
	size_t end = (size_t)(pkt_end - r->buf);
	uint32_t want;

	if (end < r->ckpt + 5 || pkt_end[-5] != ((GR_CRC << 3) | PB_I32) ||
	    crc != ((uint64_t)pkt_end[-4] | (uint64_t)pkt_end[-3] << 8 |
		    (uint64_t)pkt_end[-2] << 16 | (uint64_t)pkt_end[-1] << 24))
		return corrupt(r, "checksum is not the last field");
	want = pf_crc_update(r->crc_t, 0, r->buf + r->ckpt, end - 4 - r->ckpt);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	want = (uint32_t)crc; /* let a fuzzer past the checksums, into the decoder */
#endif
	if (want != (uint32_t)crc)
		return rd_fail(r, -EINVAL, "corrupt data between byte %zu and %zu (bad checksum)",
			       r->ckpt, end);
	r->ckpt = end;
	return 0;
}

static int owner_init(struct cs_pf_reader *r, uint64_t nrec)
{
	if (nrec > r->capowner) {
		void *p = realloc(r->owner, nrec * sizeof(*r->owner));

		if (!p)
			return rd_fail(r, -ENOMEM, "out of memory");
		r->owner = p;
		r->capowner = nrec;
	}
	if (nrec)
		memset(r->owner, 0xff, nrec * sizeof(*r->owner));
	return 0;
}

static int group_orders(struct cs_pf_reader *r, uint64_t nrec, const struct pf_span *ord,
			uint32_t nprivate)
{
	uint64_t sum = nprivate;
	unsigned int k;
	int ret;

	for (k = 0; k < r->nactive; k++)
		sum += (uint64_t)r->cpus[r->active[k]]->nsw + r->cpus[r->active[k]]->nwk;
	if (sum != nrec)
		return corrupt(r, "record count mismatch");
	if (nrec > PF_READ_GROUP_MAX)
		return corrupt(r, "group too large");
	if ((ret = owner_init(r, nrec)) ||
	    (ret = ord_decode(r, ord, nprivate, OWNER_PRIV, nrec)))
		return ret;
	for (k = 0; k < r->nactive; k++) {
		struct pf_rcpu *rc = r->cpus[r->active[k]];

		if ((ret = ord_decode(r, &rc->sw_ord, rc->nsw, (uint16_t)(2 * k), nrec)) ||
		    (ret = ord_decode(r, &rc->wk_ord, rc->nwk, (uint16_t)(2 * k + 1), nrec)))
			return ret;
	}
	return 0;
}

static void emit_rec(struct cs_pf_reader *r, const union cs_rec *o)
{
	if (!r->nrec || o->h.ts < r->info.first_ts)
		r->info.first_ts = o->h.ts;
	if (!r->nrec || o->h.ts > r->info.last_ts)
		r->info.last_ts = o->h.ts;
	r->nrec++;
	if (r->emit)
		r->emit(&o->h, r->ctx);
}

/* Emit the group's records in sequence order. */
static int group_emit(struct cs_pf_reader *r, uint64_t nrec, const uint8_t *p, size_t len)
{
	struct pb_dec recs;
	struct pb_field f;
	uint64_t s;
	int ret;

	pb_dec_init(&recs, p, len);
	r->rec_ts = 0;
	for (s = 0; s < nrec; s++) {
		uint16_t id = r->owner[s];
		union cs_rec o;

		memset(&o, 0, sizeof(o));
		if (id == OWNER_PRIV) {
			while ((ret = pb_next(&recs, &f)) > 0 && f.num != GR_REC)
				;
			if (ret <= 0)
				return corrupt(r, "bad group");
			ret = rd_rec(r, &f, &o);
		} else {
			struct pf_rcpu *rc = r->cpus[r->active[id >> 1]];

			ret = id & 1 ? pf_rcpu_waking(rc, &o.wk) : pf_rcpu_switch(rc, &o.sw);
			if (ret == PF_LINK)
				continue; /* for Perfetto only */
			if (ret)
				ret = bundle_fail(r, rc, ret);
		}
		if (ret)
			return ret;
		emit_rec(r, &o);
	}
	return 0;
}

static int rd_group(struct cs_pf_reader *r, const uint8_t *p, size_t len, const uint8_t *pkt_end)
{
	struct pf_span ord = { NULL, 0 };
	uint64_t nrec = 0, crc = 0;
	uint32_t nprivate = 0;
	bool has_nrec = false, has_crc = false;
	struct pb_field f;
	struct pb_dec d;
	unsigned int k;
	int ret;

	pb_dec_init(&d, p, len);
	while ((ret = pb_next(&d, &f)) > 0) {
		if (f.num == GR_NREC && f.wt == PB_VARINT) {
			nrec = f.u;
			has_nrec = true;
		} else if (f.num == GR_ORDER && f.wt == PB_LEN && !ord.p) {
			ord = (struct pf_span){ f.data, f.len };
		} else if (f.num == GR_REC && f.wt == PB_LEN && nprivate < UINT32_MAX) {
			nprivate++;
		} else if (f.num == GR_CRC && f.wt == PB_I32) {
			crc = f.u;
			has_crc = true;
		} else if (f.num <= GR_CRC) {
			return corrupt(r, "bad group field");
		}
	}
	if (ret < 0 || !has_nrec || !has_crc || p + len != pkt_end)
		return corrupt(r, "bad group");
	if ((ret = check_crc(r, pkt_end, crc)) || (ret = group_orders(r, nrec, &ord, nprivate)) ||
	    (ret = group_emit(r, nrec, p, len)))
		return ret;
	for (k = 0; k < r->nactive; k++) {
		struct pf_rcpu *rc = r->cpus[r->active[k]];

		if (pf_rcpu_leftover(rc))
			return corrupt(r, "exception for no element");
		rc->in_group = false;
	}
	r->nactive = 0;
	r->ngroups++;
	return 0;
}

/* ---- header, trailer, packets ---- */

static void copy_str(char *dst, size_t size, const struct pb_field *f)
{
	size_t n = f->len < size - 1 ? f->len : size - 1;

	memcpy(dst, f->data, n);
	dst[n] = 0;
}

static void rd_sysinfo(struct cs_pf_reader *r, const struct pb_field *si)
{
	struct pb_field f, g;
	struct pb_dec d, u;

	pb_sub(&d, si);
	while (pb_next(&d, &f) > 0) {
		if (f.num != 1 || f.wt != PB_LEN)
			continue;
		pb_sub(&u, &f);
		while (pb_next(&u, &g) > 0) {
			char *dst[] = { NULL, r->info.sysname, r->info.version_str,
					r->info.release, r->info.machine };

			if (g.wt == PB_LEN && g.num >= 1 && g.num <= 4)
				copy_str(dst[g.num], sizeof(r->info.sysname), &g);
		}
	}
}

static int rd_header(struct cs_pf_reader *r, const struct pb_field *hd, const struct pb_field *si)
{
	bool magic = false;
	struct pb_field f;
	struct pb_dec d;
	int ret;

	pb_sub(&d, hd);
	while ((ret = pb_next(&d, &f)) > 0) {
		if (f.num == HD_MAGIC && f.wt == PB_LEN)
			magic = f.len == strlen(PF_MAGIC) && !memcmp(f.data, PF_MAGIC, f.len);
		else if (f.num == HD_VERSION && f.wt == PB_VARINT)
			r->info.version = f.u > UINT_MAX ? UINT_MAX : (unsigned int)f.u;
		else if (f.num == HD_NCPUS && f.wt == PB_VARINT)
			r->info.ncpus = f.u > UINT_MAX ? UINT_MAX : (unsigned int)f.u;
		else if (f.num == HD_TRACK_ALL && f.wt == PB_VARINT)
			r->info.track_all = f.u != 0;
		else if (f.num == HD_TL_WIDTH && f.wt == PB_VARINT)
			r->info.tl_width_ns = f.u;
	}
	if (ret < 0 || !magic)
		return not_ours(r);
	if (r->info.version < PF_VERSION_MIN || r->info.version > PF_VERSION)
		return rd_fail(r, -ENOTSUP, "unsupported concscope trace version %u (this is %u)",
			       r->info.version, PF_VERSION);
	if (si)
		rd_sysinfo(r, si);
	r->have_header = true;
	return 0;
}

static int rd_trailer(struct cs_pf_reader *r, const uint8_t *p, size_t len, const uint8_t *pkt_end)
{
	uint64_t v[TR_CRC + 1] = { 0 };
	uint32_t mask = 0;
	struct pb_field f;
	struct pb_dec d;
	int ret;

	pb_dec_init(&d, p, len);
	while ((ret = pb_next(&d, &f)) > 0) {
		if (f.num > TR_CRC)
			continue;
		if (f.wt != (f.num == TR_CRC ? PB_I32 : PB_VARINT))
			return corrupt(r, "bad trailer");
		v[f.num] = f.u;
		mask |= 1u << f.num;
	}
	if (ret < 0 || !(mask & 1u << TR_CRC) || !(mask & 1u << TR_NREC) ||
	    p + len != pkt_end)
		return corrupt(r, "bad trailer");
	if ((ret = check_crc(r, pkt_end, v[TR_CRC])))
		return ret;
	if (r->nactive)
		return corrupt(r, "bundles outside a group");
	if (v[TR_NREC] != r->nrec || ((mask & 1u << TR_NGROUPS) && v[TR_NGROUPS] != r->ngroups))
		return corrupt(r, "record count mismatch");
	r->info.records = r->nrec;
	r->info.end_ts = mask & 1u << TR_END_TS ? v[TR_END_TS] : r->info.last_ts;
	r->done = true;
	return 0;
}

/* The private and the known parts of one TracePacket. */
struct pkt {
	struct pb_field hd, si, ft, gr, tr;
	bool has_hd, has_si, has_ft, has_gr, has_tr;
};

static int scan_packet(const uint8_t *p, size_t len, struct pkt *k)
{
	struct pb_field f;
	struct pb_dec d;
	int ret;

	memset(k, 0, sizeof(*k));
	pb_dec_init(&d, p, len);
	while ((ret = pb_next(&d, &f)) > 0) {
		struct pb_field *dst = NULL;
		bool *has = NULL;

		switch (f.num) {
		case TP_CS_HEADER: dst = &k->hd; has = &k->has_hd; break;
		case TP_SYSINFO: dst = &k->si; has = &k->has_si; break;
		case TP_FTRACE: dst = &k->ft; has = &k->has_ft; break;
		case TP_CS_GROUP: dst = &k->gr; has = &k->has_gr; break;
		case TP_CS_TRAILER: dst = &k->tr; has = &k->has_tr; break;
		default: continue;
		}
		if (f.wt != PB_LEN || *has)
			return -EINVAL;
		*dst = f;
		*has = true;
	}
	return ret;
}

static int rd_packet(struct cs_pf_reader *r, const uint8_t *p, size_t len)
{
	struct pkt k;
	int ret = scan_packet(p, len, &k);

	if (!r->have_header) {
		if (ret < 0 || !k.has_hd)
			return not_ours(r);
		return rd_header(r, &k.hd, k.has_si ? &k.si : NULL);
	}
	if (ret < 0)
		return corrupt(r, "bad packet");
	if (k.has_hd || k.has_ft + k.has_gr + k.has_tr > 1)
		return corrupt(r, "unexpected packet");
	if (k.has_ft)
		return rd_bundle(r, k.ft.data, k.ft.len);
	if (k.has_gr)
		return rd_group(r, k.gr.data, k.gr.len, p + len);
	if (k.has_tr)
		return rd_trailer(r, k.tr.data, k.tr.len, p + len);
	return 0;
}

/* A first packet cut short: ours if the magic is in what there is. */
static int first_truncated(struct cs_pf_reader *r)
{
	size_t n = r->len < 32 ? r->len : 32, m = strlen(PF_MAGIC), i;

	for (i = 0; i + m <= n; i++)
		if (!memcmp(r->buf + i, PF_MAGIC, m))
			return rd_fail(r, -EINVAL, "truncated at byte 0");
	return not_ours(r);
}

/* The packet at *off: framed, checked and processed; *off moves past it. */
static int rd_step(struct cs_pf_reader *r, size_t *off)
{
	struct pb_dec d;
	uint32_t field;
	enum pb_wt wt;
	uint64_t n;
	int ret;

	r->pkt_off = *off;
	pb_dec_init(&d, r->buf + *off, r->len - *off);
	ret = pb_get_tag(&d, &field, &wt);
	if (!ret && (field != 1 || wt != PB_LEN))
		ret = PB_EBAD;
	if (!ret)
		ret = pb_get_varint(&d, &n);
	if (!ret && n > (uint64_t)(d.end - d.p))
		ret = PB_ETRUNC;
	if (ret == PB_ETRUNC && !r->have_header)
		return first_truncated(r);
	if (ret == PB_ETRUNC)
		return rd_fail(r, -EINVAL, "truncated at byte %zu", *off);
	if (ret)
		return r->have_header ? corrupt(r, "not a trace packet") : not_ours(r);
	if ((ret = rd_packet(r, d.p, (size_t)n)))
		return ret;
	*off = (size_t)(d.p - r->buf) + (size_t)n;
	return 0;
}

/* The first packet only: the header, or the error that the file is not a trace. */
static int rd_first(struct cs_pf_reader *r)
{
	size_t off = 0;

	if (!r->len)
		return rd_fail(r, -EINVAL, "not a concscope trace (empty file)");
	return rd_step(r, &off);
}

/* The whole file, emitting each group's records once the group is checked. */
static int rd_pass(struct cs_pf_reader *r)
{
	size_t off = 0;
	int ret;

	if (!r->len)
		return rd_fail(r, -EINVAL, "not a concscope trace (empty file)");
	while (off < r->len) {
		if ((ret = rd_step(r, &off)))
			return ret;
		if (r->done) {
			if (off != r->len)
				return rd_fail(r, -EINVAL, "corrupt data after the trailer at byte %zu",
					       off);
			return 0;
		}
	}
	return rd_fail(r, -EINVAL, "truncated at byte %zu (no trailer)", r->len);
}

/* Back to the start of the file, with a new consumer and error buffer. */
static void rd_reset(struct cs_pf_reader *r, cs_emit_fn emit, void *ctx, char *err,
		     size_t errlen)
{
	unsigned int i;

	for (i = 0; i < PF_MAX_CPU; i++)
		if (r->cpus[i])
			r->cpus[i]->in_group = r->cpus[i]->run_known = false;
	r->nactive = 0;
	r->ckpt = r->pkt_off = 0;
	r->have_header = r->done = false;
	memset(&r->info, 0, sizeof(r->info));
	r->nrec = r->ngroups = 0;
	r->emit = emit;
	r->ctx = ctx;
	r->err = err;
	r->errlen = errlen;
	if (err && errlen)
		err[0] = 0;
}

/* ---- the API ---- */

int cs_pf_load_mem(struct cs_pf_reader **rp, const void *buf, size_t len,
		   struct cs_pf_info *info, char *err, size_t errlen)
{
	struct cs_pf_reader *r;
	int ret;

	*rp = NULL;
	if (err && errlen)
		err[0] = 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->buf = buf;
	r->len = buf ? len : 0;
	pf_crc_init(r->crc_t);
	rd_reset(r, NULL, NULL, err, errlen);
	ret = rd_first(r);
	if (info)
		*info = r->info;
	if (ret) {
		cs_pf_unload(&r);
		return ret;
	}
	*rp = r;
	return 0;
}

int cs_pf_stream(struct cs_pf_reader *r, cs_emit_fn emit, void *ctx, struct cs_pf_info *info,
		 char *err, size_t errlen)
{
	int ret;

	rd_reset(r, emit, ctx, err, errlen);
	ret = rd_pass(r);
	if (info)
		*info = r->info;
	return ret;
}

void cs_pf_unload(struct cs_pf_reader **rp)
{
	struct cs_pf_reader *r = *rp;
	unsigned int i;

	if (!r)
		return;
	*rp = NULL;
	for (i = 0; i < PF_MAX_CPU; i++)
		pf_rcpu_free(r->cpus[i]);
	free(r->owner);
	if (r->mapped)
		munmap(r->own, r->len);
	else
		free(r->own);
	free(r);
}

/* The whole file in memory: mapped when it is a regular file, else read. */
static int load_file(int fd, void **buf, size_t *len, bool *mapped)
{
	struct stat st;
	size_t cap = 0, n = 0;
	char *p = NULL;

	*mapped = false;
	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m != MAP_FAILED) {
			*buf = m;
			*len = (size_t)st.st_size;
			*mapped = true;
			return 0;
		}
	}
	for (;;) {
		ssize_t k;

		if (n == cap) {
			void *q = cap > SIZE_MAX / 2 ? NULL : realloc(p, cap ? cap * 2 : 1 << 16);

			if (!q) {
				free(p);
				return -ENOMEM;
			}
			p = q;
			cap = cap ? cap * 2 : 1 << 16;
		}
		k = read(fd, p + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;

			free(p);
			return e;
		}
		if (!k)
			break;
		n += (size_t)k;
	}
	*buf = p;
	*len = n;
	return 0;
}

int cs_pf_load(struct cs_pf_reader **rp, const char *path, struct cs_pf_info *info, char *err,
	       size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	bool mapped;
	int fd, ret;

	*rp = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (err && errlen)
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = load_file(fd, &buf, &len, &mapped);
	close(fd);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = cs_pf_load_mem(rp, buf, len, info, err, errlen);
	if (ret) {
		if (mapped)
			munmap(buf, len);
		else
			free(buf);
		return ret;
	}
	(*rp)->own = buf;
	(*rp)->mapped = mapped;
	return 0;
}

/* Check everything, then emit: on error nothing was emitted. */
static int check_then_emit(struct cs_pf_reader *r, cs_emit_fn emit, void *ctx,
			   struct cs_pf_info *info, char *err, size_t errlen)
{
	int ret = cs_pf_stream(r, NULL, NULL, info, err, errlen);

	if (!ret && emit)
		ret = cs_pf_stream(r, emit, ctx, info, err, errlen);
	cs_pf_unload(&r);
	return ret;
}

int cs_pf_read_mem(const void *buf, size_t len, cs_emit_fn emit, void *ctx, char *err,
		   size_t errlen)
{
	struct cs_pf_reader *r;
	int ret = cs_pf_load_mem(&r, buf, len, NULL, err, errlen);

	return ret ? ret : check_then_emit(r, emit, ctx, NULL, err, errlen);
}

int cs_pf_read_info(const char *path, cs_emit_fn emit, void *ctx, struct cs_pf_info *info,
		    char *err, size_t errlen)
{
	struct cs_pf_reader *r;
	int ret = cs_pf_load(&r, path, info, err, errlen);

	return ret ? ret : check_then_emit(r, emit, ctx, info, err, errlen);
}

int cs_pf_read(const char *path, cs_emit_fn emit, void *ctx, char *err, size_t errlen)
{
	return cs_pf_read_info(path, emit, ctx, NULL, err, errlen);
}
