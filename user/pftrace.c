// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pftrace.c: concscope's Perfetto trace writer and reader.
 *
 * The file is a Perfetto Trace (TracePacket fields #1, back to back), laid
 * out in three parts:
 *
 *   header   packet 1: CsHeader (private field 32001, written first so the
 *                      magic sits in the first bytes), SystemInfo
 *                      (utsname, num_cpus); sequence 1 starts here with
 *                      SEQ_INCREMENTAL_STATE_CLEARED
 *            packet 2: ClockSnapshot, BOOTTIME primary
 *            packet 3: TrackDescriptor "concscope models"
 *   groups   display packets: ProcessTree, TrackDescriptor, TrackEvent
 *            one FtraceEventBundle per CPU that had records in the group
 *            one CsGroup packet (private field 32002) that closes the group
 *   trailer  CsTrailer packet (private field 32003), last in the file
 *
 * Every record fed gets a sequence number inside its group. A group is
 * closed (all its bundles written) when any CPU's bundle holds
 * PF_BUNDLE_EVENTS events or its private records fill up, so a group has at
 * most one bundle per CPU and the reader merges one group at a time.
 *
 * SWITCH and WAKING of CPUs < 1024 go into their CPU's CompactSched arrays,
 * in the form Perfetto reads (switch_prev_state is the reported state of
 * cs_state_report()). CompactSched also carries private fields:
 *   1001 switch_order, 1002 waking_order (packed uint32): the sequence
 *        numbers of the switches / wakings in the group, as gaps: with
 *        next = previous + 1 (starting at 0), an even value x is one
 *        element at next + x/2; an odd value x is followed by n and stands
 *        for n + 1 elements, each at next + x/2.
 *   1003 switch_sys_wait (packed): per switch, i * 8 + w: i indexes 1004
 *        syscall_table (packed sint32), the switch's system call (-1 none);
 *        w is 0, or the switch's aux + 1 when it has CS_SWF_NEXT_WAIT
 *        (next's run-queue wait, in 1.024 us units), 7 meaning "that or
 *        more: the value is the next one in 1007".
 *   1005 switch_x, 1006 waking_x (repeated messages): what the arrays and
 *        the defaults below do not give, for one element (by index).
 *   1007 switch_long_wait (packed): the w of each switch whose 1003 says 7,
 *        in order. (A storm's waits are a few us: one byte for both.)
 * The reader rebuilds each record from the arrays and these defaults,
 * evaluated per bundle, in record order:
 *   switch prev tid/pid: the previous switch's next tid/pid in the bundle;
 *   a tgid not given: the last tgid given (prev, next or waking pid) with
 *   that tid in the bundle, else the tid itself; raw prev_state/exit_state and the PREEMPT flag:
 *   cs_state_unreport() of the reported state; aux: 0; waking flags: 0;
 *   waker tid/pid: whoever the last switch put on that CPU (not stored,
 *   the core derives it the same way).
 * Every other record (and a SWITCH/WAKING on a CPU >= 1024) is a CsRec in
 * the group packet, with its own order array. The group packet's last
 * field is a CRC-32 of every byte of the file since the previous group (or
 * the start), the trailer's covers the rest, so the reader detects any
 * damaged byte before it emits a single record.
 *
 * Lock waits, model and window marks, and lost counts are also written as
 * Perfetto track events for the UI; the reader ignores those (and the
 * FtraceEvents of forks, execs, exits, renames and migrations): it reads
 * the private copies.
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
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "decode.h"
#include "pb.h"
#include "pftrace.h"
#include "state.h"

#define PF_VERSION 2 /* 2: next's run-queue wait (1003, 1007) */
#define PF_MAGIC "concscope"
#define PF_SEQ 1                  /* trusted_packet_sequence_id of everything */
#define PF_MAX_CPU 1024           /* Perfetto's limit for a bundle's cpu */
#define PF_BUNDLE_EVENTS 2048     /* events in one CPU's bundle */
#define PF_GROUP_RECS 4096        /* private records in one group */
#define PF_GROUP_BYTES (1u << 20) /* private + display bytes in one group */
#define PF_WBUF (256u << 10)      /* write(2) size */
#define PF_MAX_TASKS (1u << 20)   /* names kept for the display */
#define PF_MAX_LOCKS (1u << 16)
#define PF_READ_GROUP_MAX (1u << 22) /* records in one group, for the reader */

/* ---- field numbers ---- */

enum {
	/* TracePacket */
	TP_FTRACE = 1, TP_PROCESS_TREE = 2, TP_CLOCKS = 6, TP_TIMESTAMP = 8,
	TP_SEQ_ID = 10, TP_TRACK_EVENT = 11, TP_SEQ_FLAGS = 13, TP_SYSINFO = 45,
	TP_TRACK_DESC = 60,
	TP_CS_HEADER = 32001, TP_CS_GROUP = 32002, TP_CS_TRAILER = 32003,
	SEQ_INCREMENTAL_STATE_CLEARED = 1,
	/* FtraceEventBundle */
	FB_CPU = 1, FB_EVENT = 2, FB_LOST = 3, FB_COMPACT = 4,
	/* CompactSched */
	CS_INTERN = 5,
	CS_SWITCH_ORDER = 1001, CS_WAKING_ORDER = 1002, CS_SYSCALL_INDEX = 1003,
	CS_SYSCALL_TABLE = 1004, CS_SWITCH_X = 1005, CS_WAKING_X = 1006,
	CS_SWITCH_LONG_WAIT = 1007,
	/* FtraceEvent */
	FE_TS = 1, FE_PID = 2, FE_NEWTASK = 235, FE_RENAME = 236, FE_EXEC = 237,
	FE_EXIT = 238, FE_MIGRATE = 491,
	/* CsHeader */
	HD_MAGIC = 1, HD_VERSION = 2, HD_NCPUS = 3, HD_TRACK_ALL = 4, HD_TL_WIDTH = 5,
	/* CsGroup */
	GR_NREC = 1, GR_ORDER = 2, GR_REC = 3, GR_CRC = 15,
	/* CsTrailer */
	TR_NREC = 1, TR_END_TS = 2, TR_NGROUPS = 3, TR_CRC = 15,
	/* SwitchX */
	SX_INDEX = 1, SX_PREV_TID = 2, SX_PREV_PID = 3, SX_NEXT_PID = 4,
	SX_STATE = 5, SX_EXIT_STATE = 6, SX_FLAGS = 7, SX_AUX = 8, SX_NFIELDS = 9,
	/* WakingX */
	WX_INDEX = 1, WX_PID = 2, WX_FLAGS = 3, WX_WAKER = 4, WX_WAKER_PID = 5, WX_NFIELDS = 6,
	/* CsRec */
	RC_KIND = 1, RC_TS = 2, RC_FLAGS = 3, RC_CPU = 4, RC_AUX = 5, RC_TID = 6,
	RC_PID = 7, RC_TID2 = 8, RC_PID2 = 9, RC_COMM = 10, RC_VALUE = 11,
	RC_ADDR = 12, RC_STACK = 13, RC_NSTACK = 14, RC_OP = 15, RC_VAL = 16,
	RC_TIMED = 17, RC_PRIO = 18, RC_TEXT = 19,
};

/* The CompactSched packed arrays, in one table for the writer and reader. */
enum {
	A_SW_TS, A_SW_STATE, A_SW_PID, A_SW_PRIO, A_SW_COMM, A_SW_SYS,
	A_WK_TS, A_WK_PID, A_WK_CPU, A_WK_PRIO, A_WK_COMM,
	A_N,
	A_SW_FIRST = A_SW_TS, A_SW_LAST = A_SW_SYS,
};

/* switch_sys_wait: index * SW_WAIT_SPAN + w, w = SW_WAIT_LONG: see 1007 */
#define SW_WAIT_SPAN 8
#define SW_WAIT_LONG (SW_WAIT_SPAN - 1)

static const uint32_t array_field[A_N] = {
	[A_SW_TS] = 1, [A_SW_STATE] = 2, [A_SW_PID] = 3, [A_SW_PRIO] = 4,
	[A_SW_COMM] = 6, [A_SW_SYS] = CS_SYSCALL_INDEX,
	[A_WK_TS] = 7, [A_WK_PID] = 8, [A_WK_CPU] = 9, [A_WK_PRIO] = 10,
	[A_WK_COMM] = 11,
};

/* UUIDs of concscope's own tracks. */
#define UUID_MODELS 0x636f6e6373630001ull
#define UUID_LOST 0x636f6e6373630002ull
#define UUID_THREAD(tid) (0x636f6e6300000000ull | (uint64_t)(tid))

/* TrackEvent.type */
enum { TE_BEGIN = 1, TE_END = 2, TE_INSTANT = 3, TE_COUNTER = 4 };

#define CLONE_THREAD_FLAG 0x00010000u

/* ---- CRC-32 (IEEE 802.3, reflected) ---- */

/* Eight tables: slicing-by-8 reads 8 bytes a step (the byte loop was a
 * tenth of the writer's time). t[0] is the classic table. */
static void crc_table(uint32_t t[8][256])
{
	uint32_t i, k, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		t[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
}

/* Running CRC: start with 0, feed chunks, the value is the CRC so far. */
static uint32_t crc_update(const uint32_t t[8][256], uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;

		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
		      t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		      t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (n--)
		crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- u64 -> u32 open-addressing map, cleared cheaply between groups ---- */

struct smap {
	uint64_t *keys;
	uint32_t *vals;
	uint8_t *used;
	uint32_t cap, n;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint32_t *smap_get(const struct smap *m, uint64_t key)
{
	uint32_t i, mask = m->cap - 1;

	if (!m->cap)
		return NULL;
	for (i = (uint32_t)mix64(key) & mask; m->used[i]; i = (i + 1) & mask)
		if (m->keys[i] == key)
			return &m->vals[i];
	return NULL;
}

static int smap_put(struct smap *m, uint64_t key, uint32_t val);

static int smap_grow(struct smap *m)
{
	struct smap nm = { .cap = m->cap ? m->cap * 2 : 16 };
	uint32_t i;

	if (nm.cap > (1u << 28))
		return -ENOMEM;
	nm.keys = malloc(nm.cap * sizeof(*nm.keys));
	nm.vals = malloc(nm.cap * sizeof(*nm.vals));
	nm.used = calloc(nm.cap, 1);
	if (!nm.keys || !nm.vals || !nm.used) {
		free(nm.keys);
		free(nm.vals);
		free(nm.used);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++)
		if (m->used[i])
			smap_put(&nm, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	free(m->used);
	*m = nm;
	return 0;
}

static int smap_put(struct smap *m, uint64_t key, uint32_t val)
{
	uint32_t i, mask;

	if ((m->n + 1) * 2 > m->cap && smap_grow(m))
		return -ENOMEM;
	mask = m->cap - 1;
	for (i = (uint32_t)mix64(key) & mask; m->used[i]; i = (i + 1) & mask) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

static void smap_clear(struct smap *m)
{
	if (m->n)
		memset(m->used, 0, m->cap);
	m->n = 0;
}

static void smap_free(struct smap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

/* The tgid defaults shared by writer and reader (see the top comment). */
static uint32_t tgid_default(const struct smap *m, uint32_t tid)
{
	const uint32_t *v = smap_get(m, tid);

	return v ? *v : tid;
}

/* ---- record order: sequence numbers as gaps (see the top comment) ---- */

struct ordenc {
	uint64_t next;  /* previous sequence number + 1 */
	uint64_t gap;   /* gap of the pending run */
	uint32_t run;   /* elements in the pending run */
	struct pb_buf out;
};

static void ord_flush(struct ordenc *o)
{
	uint32_t i;

	if (o->run >= 3) {
		pb_varint(&o->out, 2 * o->gap + 1);
		pb_varint(&o->out, o->run - 1);
	} else {
		for (i = 0; i < o->run; i++)
			pb_varint(&o->out, 2 * o->gap);
	}
	o->run = 0;
}

static void ord_put(struct ordenc *o, uint64_t seq)
{
	uint64_t gap = seq - o->next;

	if (o->run && gap == o->gap) {
		o->run++;
	} else {
		ord_flush(o);
		o->gap = gap;
		o->run = 1;
	}
	o->next = seq + 1;
}

static void ord_reset(struct ordenc *o)
{
	o->next = 0;
	o->run = 0;
	pb_buf_reset(&o->out);
}

/* ======================================================================
 * Writer
 * ====================================================================== */

/* Interned comm strings of one bundle. */
struct commtab {
	char (*s)[CS_COMM_LEN];
	uint32_t n, cap;
	struct smap idx; /* hash of the comm -> index (verified) */
	/* the last two comms looked up: a CPU mostly alternates a few tasks */
	char recent[2][CS_COMM_LEN];
	uint32_t recent_idx[2];
	bool recent_ok[2];
};

/* One CPU's bundle being filled. */
struct wcpu {
	uint16_t cpu;
	bool active, lost;
	uint32_t nsw, nwk, nev;
	uint64_t sw_last, wk_last;
	struct pb_buf a[A_N];
	struct pb_buf sw_x, wk_x, sys_tab, events, long_wait;
	struct ordenc sw_ord, wk_ord;
	struct commtab comms;
	struct smap sys;  /* syscall + 1 -> index */
	uint32_t nsys;
	struct smap tgid; /* tid -> tgid */
	bool chain_known;
	uint32_t chain_tid, chain_pid;
};

/* What the writer remembers of a task, for the display only. */
struct wtask {
	char comm[CS_COMM_LEN];
	uint8_t flags;
	uint16_t klocks; /* kernel lock slices open on its track */
};
#define WT_TREE 1  /* in a ProcessTree packet */
#define WT_TRACK 2 /* thread TrackDescriptor written */
#define WT_FUTEX 4 /* a futex wait slice is open on its track */

struct cs_pf_writer {
	int fd;
	int err;
	char *path, *tmp;
	uint64_t bytes;
	uint32_t crc_t[8][256];
	uint32_t crc; /* of the bytes since the last checkpoint */
	struct pb_buf out, pkt;

	struct wcpu *cpus[PF_MAX_CPU];
	uint16_t active[PF_MAX_CPU];
	unsigned int nactive;

	/* the group being filled */
	uint64_t gseq;
	struct pb_buf recs, disp;
	struct ordenc rec_ord;
	uint64_t rec_last;
	uint32_t nrecs;

	/* the whole file */
	uint64_t nrec, ngroups, end_ts;
	bool end_set;
	struct smap taskidx;
	struct wtask *tasks;
	uint32_t ntasks, captasks;
	struct smap lockidx;
	char (*locks)[CS_LOCK_NAME_LEN];
	uint32_t nlocks, caplocks;
	uint64_t lost_total;
	bool lost_track;
	uint32_t models_open;
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
	w->crc = crc_update(w->crc_t, w->crc, data, len);
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

static void opt_sint(struct pb_buf *b, uint32_t field, int64_t v)
{
	if (v)
		pb_sint(b, field, v);
}

static void opt_strn(struct pb_buf *b, uint32_t field, const char *s, size_t max)
{
	if (s[0])
		pb_strn(b, field, s, max);
}

static void comm_norm(char dst[CS_COMM_LEN], const char *src)
{
	size_t n = strnlen(src, CS_COMM_LEN);

	memset(dst, 0, CS_COMM_LEN);
	memcpy(dst, src, n);
}

static uint64_t comm_hash(const char c[CS_COMM_LEN])
{
	uint64_t a, b;

	memcpy(&a, c, 8);
	memcpy(&b, c + 8, 8);
	return mix64(a ^ mix64(b));
}

static uint32_t comm_index_slow(struct wcpu *cb, const char *c);

static uint32_t comm_index(struct wcpu *cb, const char *comm)
{
	struct commtab *t = &cb->comms;
	char c[CS_COMM_LEN];
	uint32_t i;

	comm_norm(c, comm);
	for (i = 0; i < 2; i++)
		if (t->recent_ok[i] && !memcmp(t->recent[i], c, CS_COMM_LEN))
			return t->recent_idx[i];
	i = comm_index_slow(cb, c);
	memcpy(t->recent[1], t->recent[0], CS_COMM_LEN);
	t->recent_idx[1] = t->recent_idx[0];
	t->recent_ok[1] = t->recent_ok[0];
	memcpy(t->recent[0], c, CS_COMM_LEN);
	t->recent_idx[0] = i;
	t->recent_ok[0] = true;
	return i;
}

static uint32_t comm_index_slow(struct wcpu *cb, const char *c)
{
	struct commtab *t = &cb->comms;
	uint64_t h;
	uint32_t *slot, i;

	h = comm_hash(c);
	slot = smap_get(&t->idx, h);
	if (slot && !memcmp(t->s[*slot], c, CS_COMM_LEN))
		return *slot;
	if (slot) { /* hash collision: rare, search */
		for (i = 0; i < t->n; i++)
			if (!memcmp(t->s[i], c, CS_COMM_LEN))
				return i;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		void *p = realloc(t->s, (size_t)cap * CS_COMM_LEN);

		if (!p) {
			cb->a[A_SW_COMM].err = -ENOMEM;
			return 0;
		}
		t->s = p;
		t->cap = cap;
	}
	memcpy(t->s[t->n], c, CS_COMM_LEN);
	if (!slot && smap_put(&t->idx, h, t->n))
		cb->a[A_SW_COMM].err = -ENOMEM;
	return t->n++;
}

static uint32_t sys_index(struct wcpu *cb, int16_t syscall)
{
	uint64_t key = (uint64_t)((int64_t)syscall + 1) & 0xffff;
	uint32_t *slot = smap_get(&cb->sys, key);

	if (slot)
		return *slot;
	if (smap_put(&cb->sys, key, cb->nsys))
		cb->sys_tab.err = -ENOMEM;
	pb_varint(&cb->sys_tab, pb_zigzag(syscall));
	return cb->nsys++;
}

static struct wcpu *wcpu_get(struct cs_pf_writer *w, unsigned int cpu)
{
	struct wcpu *cb = w->cpus[cpu];

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

static int wcpu_err(const struct wcpu *cb)
{
	int i;

	for (i = 0; i < A_N; i++)
		if (cb->a[i].err)
			return cb->a[i].err;
	if (cb->sw_x.err || cb->wk_x.err || cb->sys_tab.err || cb->events.err ||
	    cb->long_wait.err || cb->sw_ord.out.err || cb->wk_ord.out.err)
		return -ENOMEM;
	return 0;
}

static void wcpu_reset(struct wcpu *cb)
{
	int i;

	cb->active = cb->lost = false;
	cb->nsw = cb->nwk = cb->nev = 0;
	cb->sw_last = cb->wk_last = 0;
	for (i = 0; i < A_N; i++)
		pb_buf_reset(&cb->a[i]);
	pb_buf_reset(&cb->sw_x);
	pb_buf_reset(&cb->wk_x);
	pb_buf_reset(&cb->sys_tab);
	pb_buf_reset(&cb->events);
	pb_buf_reset(&cb->long_wait);
	ord_reset(&cb->sw_ord);
	ord_reset(&cb->wk_ord);
	cb->comms.n = 0;
	cb->comms.recent_ok[0] = cb->comms.recent_ok[1] = false;
	smap_clear(&cb->comms.idx);
	smap_clear(&cb->sys);
	cb->nsys = 0;
	smap_clear(&cb->tgid);
	cb->chain_known = false;
}

static void wcpu_free(struct wcpu *cb)
{
	int i;

	if (!cb)
		return;
	for (i = 0; i < A_N; i++)
		pb_buf_free(&cb->a[i]);
	pb_buf_free(&cb->sw_x);
	pb_buf_free(&cb->wk_x);
	pb_buf_free(&cb->sys_tab);
	pb_buf_free(&cb->events);
	pb_buf_free(&cb->long_wait);
	pb_buf_free(&cb->sw_ord.out);
	pb_buf_free(&cb->wk_ord.out);
	free(cb->comms.s);
	smap_free(&cb->comms.idx);
	smap_free(&cb->sys);
	smap_free(&cb->tgid);
	free(cb);
}

/* ---- tasks and lock names (display only) ---- */

static struct wtask *task_get(struct cs_pf_writer *w, uint32_t tid, bool create)
{
	uint32_t *slot = smap_get(&w->taskidx, tid);
	struct wtask *t;

	if (slot)
		return &w->tasks[*slot];
	if (!create || w->ntasks >= PF_MAX_TASKS)
		return NULL;
	if (w->ntasks == w->captasks) {
		uint32_t cap = w->captasks ? w->captasks * 2 : 256;
		void *p = realloc(w->tasks, (size_t)cap * sizeof(*w->tasks));

		if (!p)
			return NULL;
		w->tasks = p;
		w->captasks = cap;
	}
	if (smap_put(&w->taskidx, tid, w->ntasks))
		return NULL;
	t = &w->tasks[w->ntasks++];
	memset(t, 0, sizeof(*t));
	return t;
}

static void task_name(struct cs_pf_writer *w, uint32_t tid, const char *comm)
{
	struct wtask *t = task_get(w, tid, true);

	if (t)
		comm_norm(t->comm, comm);
}

static const char *task_comm(struct cs_pf_writer *w, uint32_t tid)
{
	struct wtask *t = task_get(w, tid, false);

	return t ? t->comm : "";
}

/* Kernel addresses are global, user ones belong to a process. */
static uint64_t lock_key(uint64_t addr, bool user, uint32_t pid)
{
	return user ? addr ^ mix64((uint64_t)pid + 1) : addr;
}

static const char *lock_name(struct cs_pf_writer *w, uint64_t key)
{
	uint32_t *slot = smap_get(&w->lockidx, key);

	return slot ? w->locks[*slot] : NULL;
}

static void lock_name_set(struct cs_pf_writer *w, const struct cs_lock_name *e)
{
	uint64_t key = lock_key(e->addr, e->h.aux != 1, e->h.pid);
	uint32_t *slot = smap_get(&w->lockidx, key);
	uint32_t i;

	if (slot) {
		i = *slot;
	} else {
		if (w->nlocks >= PF_MAX_LOCKS)
			return;
		if (w->nlocks == w->caplocks) {
			uint32_t cap = w->caplocks ? w->caplocks * 2 : 64;
			void *p = realloc(w->locks, (size_t)cap * CS_LOCK_NAME_LEN);

			if (!p)
				return;
			w->locks = p;
			w->caplocks = cap;
		}
		if (smap_put(&w->lockidx, key, w->nlocks))
			return;
		i = w->nlocks++;
	}
	memcpy(w->locks[i], e->name, CS_LOCK_NAME_LEN);
	w->locks[i][CS_LOCK_NAME_LEN - 1] = 0;
}

/* ---- compact scheduler events ---- */

static void put_switch_x(struct wcpu *cb, const uint64_t *v, uint32_t mask)
{
	size_t m = pb_nest_begin(&cb->sw_x, CS_SWITCH_X);
	uint32_t f;

	pb_uint(&cb->sw_x, SX_INDEX, cb->nsw);
	for (f = SX_PREV_TID; f < SX_NFIELDS; f++)
		if (mask & (1u << f))
			pb_uint(&cb->sw_x, f, v[f]);
	pb_nest_end(&cb->sw_x, m);
}

static void w_switch(struct wcpu *cb, const struct cs_switch *e, uint64_t seq)
{
	bool preempt = e->h.flags & CS_SWF_PREEMPT, pre;
	bool wait = e->h.flags & CS_SWF_NEXT_WAIT;
	uint8_t flags = e->h.flags & ~CS_SWF_NEXT_WAIT;
	unsigned int rep = cs_state_report(preempt, e->prev_state, e->prev_exit_state);
	unsigned int raw, ex;
	uint64_t wv;
	uint64_t v[SX_NFIELDS] = { 0 };
	uint32_t mask = 0;

	pb_varint(&cb->a[A_SW_TS], e->h.ts - cb->sw_last);
	cb->sw_last = e->h.ts;
	pb_varint(&cb->a[A_SW_STATE], rep);
	pb_varint(&cb->a[A_SW_PID], e->next_tid);
	pb_varint(&cb->a[A_SW_PRIO], e->next_prio);
	pb_varint(&cb->a[A_SW_COMM], comm_index(cb, e->next_comm));
	wv = wait ? (uint64_t)e->h.aux + 1 : 0;
	pb_varint(&cb->a[A_SW_SYS], (uint64_t)sys_index(cb, e->syscall) * SW_WAIT_SPAN +
				    (wv < SW_WAIT_LONG ? wv : SW_WAIT_LONG));
	if (wv >= SW_WAIT_LONG)
		pb_varint(&cb->long_wait, wv);
	ord_put(&cb->sw_ord, seq);

	/*
	 * The tgid map changes where a pid is given (where the default was
	 * wrong), and the reader changes its copy at the same places: most
	 * switches are between tasks it already knows.
	 */
	if (!cb->chain_known || cb->chain_tid != e->h.tid) {
		mask |= 1u << SX_PREV_TID;
		v[SX_PREV_TID] = e->h.tid;
		if (tgid_default(&cb->tgid, e->h.tid) != e->h.pid)
			mask |= 1u << SX_PREV_PID;
	} else if (cb->chain_pid != e->h.pid) {
		mask |= 1u << SX_PREV_PID;
	}
	v[SX_PREV_PID] = e->h.pid;
	if ((mask & 1u << SX_PREV_PID) && smap_put(&cb->tgid, e->h.tid, e->h.pid))
		cb->sw_x.err = -ENOMEM;
	if (tgid_default(&cb->tgid, e->next_tid) != e->next_pid) {
		mask |= 1u << SX_NEXT_PID;
		v[SX_NEXT_PID] = e->next_pid;
		if (smap_put(&cb->tgid, e->next_tid, e->next_pid))
			cb->sw_x.err = -ENOMEM;
	}
	cb->chain_known = true;
	cb->chain_tid = e->next_tid;
	cb->chain_pid = e->next_pid;

	cs_state_unreport(rep, &raw, &ex, &pre);
	if (raw != e->prev_state || ex != e->prev_exit_state) {
		mask |= 1u << SX_STATE | 1u << SX_EXIT_STATE;
		v[SX_STATE] = e->prev_state;
		v[SX_EXIT_STATE] = e->prev_exit_state;
	}
	if (flags != (pre ? CS_SWF_PREEMPT : 0)) {
		mask |= 1u << SX_FLAGS;
		v[SX_FLAGS] = flags;
	}
	if (e->h.aux && !wait) {
		mask |= 1u << SX_AUX;
		v[SX_AUX] = e->h.aux;
	}
	if (mask)
		put_switch_x(cb, v, mask);
	cb->nsw++;
}

static void w_waking(struct cs_pf_writer *w, struct wcpu *cb, const struct cs_waking *e,
		     uint64_t seq)
{
	bool xpid = tgid_default(&cb->tgid, e->h.tid) != e->h.pid;
	/* the waker is who the chain says runs on this CPU, unless it is not */
	bool xwaker = !cb->chain_known || cb->chain_tid != e->waker_tid ||
		      cb->chain_pid != e->waker_pid;

	pb_varint(&cb->a[A_WK_TS], e->h.ts - cb->wk_last);
	cb->wk_last = e->h.ts;
	pb_varint(&cb->a[A_WK_PID], e->h.tid);
	pb_varint(&cb->a[A_WK_CPU], e->h.aux);
	pb_varint(&cb->a[A_WK_PRIO], e->prio);
	pb_varint(&cb->a[A_WK_COMM], comm_index(cb, task_comm(w, e->h.tid)));
	ord_put(&cb->wk_ord, seq);
	if (xpid || e->h.flags || xwaker) {
		size_t m = pb_nest_begin(&cb->wk_x, CS_WAKING_X);

		pb_uint(&cb->wk_x, WX_INDEX, cb->nwk);
		if (xpid)
			pb_uint(&cb->wk_x, WX_PID, e->h.pid);
		if (e->h.flags)
			pb_uint(&cb->wk_x, WX_FLAGS, e->h.flags);
		if (xwaker) {
			pb_uint(&cb->wk_x, WX_WAKER, e->waker_tid);
			pb_uint(&cb->wk_x, WX_WAKER_PID, e->waker_pid);
		}
		pb_nest_end(&cb->wk_x, m);
	}
	if (xpid && smap_put(&cb->tgid, e->h.tid, e->h.pid))
		cb->wk_x.err = -ENOMEM;
	cb->nwk++;
}

/* ---- private records (CsRec) ---- */

static void rec_body(struct pb_buf *b, const union cs_rec *r)
{
	switch (r->h.kind) {
	case CS_EV_SWITCH:
		opt_uint(b, RC_TID2, r->sw.next_tid);
		opt_uint(b, RC_PID2, r->sw.next_pid);
		opt_uint(b, RC_OP, r->sw.prev_state);
		opt_uint(b, RC_VAL, r->sw.prev_exit_state);
		opt_sint(b, RC_VALUE, r->sw.syscall);
		opt_uint(b, RC_PRIO, r->sw.next_prio);
		opt_strn(b, RC_COMM, r->sw.next_comm, CS_COMM_LEN);
		break;
	case CS_EV_WAKING:
		opt_uint(b, RC_TID2, r->wk.waker_tid);
		opt_uint(b, RC_PID2, r->wk.waker_pid);
		opt_uint(b, RC_PRIO, r->wk.prio);
		break;
	case CS_EV_FORK:
		opt_uint(b, RC_TID2, r->fork.child_tid);
		opt_uint(b, RC_PID2, r->fork.child_pid);
		opt_strn(b, RC_COMM, r->fork.child_comm, CS_COMM_LEN);
		break;
	case CS_EV_EXEC:
		opt_uint(b, RC_TID2, r->exec.old_tid);
		opt_strn(b, RC_COMM, r->exec.comm, CS_COMM_LEN);
		break;
	case CS_EV_EXIT:
		opt_sint(b, RC_VALUE, r->exit.exit_code);
		break;
	case CS_EV_MIGRATE:
		opt_uint(b, RC_TID2, r->mig.orig_cpu);
		break;
	case CS_EV_RENAME:
		opt_strn(b, RC_COMM, r->ren.comm, CS_COMM_LEN);
		break;
	case CS_EV_LOCK_BEGIN:
	case CS_EV_LOCK_END: {
		struct pb_buf st;
		uint8_t tmp[CS_LOCK_STACK * PB_VARINT_MAX];
		unsigned int i, n = CS_LOCK_STACK;

		while (n && !r->lock.stack[n - 1])
			n--;
		st = (struct pb_buf){ .p = tmp, .cap = sizeof(tmp) };
		for (i = 0; i < n; i++)
			pb_varint(&st, r->lock.stack[i]);
		opt_uint(b, RC_ADDR, r->lock.addr);
		opt_sint(b, RC_VALUE, r->lock.ret);
		opt_uint(b, RC_NSTACK, r->lock.nstack);
		pb_packed(b, RC_STACK, &st);
		break;
	}
	case CS_EV_FUTEX_ENTER:
	case CS_EV_FUTEX_EXIT:
		opt_uint(b, RC_ADDR, r->futex.uaddr);
		opt_sint(b, RC_VALUE, r->futex.ret);
		opt_uint(b, RC_OP, r->futex.op);
		opt_uint(b, RC_VAL, r->futex.val);
		opt_uint(b, RC_TIMED, r->futex.timed);
		break;
	case CS_EV_THREAD_INFO:
		opt_uint(b, RC_TID2, r->ti.ppid);
		opt_uint(b, RC_OP, r->ti.state);
		opt_sint(b, RC_VALUE, r->ti.syscall);
		opt_strn(b, RC_COMM, r->ti.comm, CS_COMM_LEN);
		break;
	case CS_EV_MARK:
		opt_sint(b, RC_VALUE, r->mark.value);
		opt_strn(b, RC_TEXT, r->mark.text, CS_MARK_TEXT);
		break;
	case CS_EV_LOST:
		opt_uint(b, RC_ADDR, r->lost.count);
		break;
	case CS_EV_LOCK_NAME:
		opt_uint(b, RC_ADDR, r->ln.addr);
		opt_strn(b, RC_TEXT, r->ln.name, CS_LOCK_NAME_LEN);
		break;
	}
}

static void w_rec(struct cs_pf_writer *w, const union cs_rec *r, uint64_t seq)
{
	struct pb_buf *b = &w->recs;
	size_t m = pb_nest_begin(b, GR_REC);

	pb_uint(b, RC_KIND, r->h.kind);
	opt_sint(b, RC_TS, (int64_t)(r->h.ts - w->rec_last));
	w->rec_last = r->h.ts;
	opt_uint(b, RC_FLAGS, r->h.flags);
	opt_uint(b, RC_CPU, r->h.cpu);
	opt_uint(b, RC_AUX, r->h.aux);
	opt_uint(b, RC_TID, r->h.tid);
	opt_uint(b, RC_PID, r->h.pid);
	rec_body(b, r);
	pb_nest_end(b, m);
	ord_put(&w->rec_ord, seq);
	w->nrecs++;
}

/* ---- display: ftrace events, process tree, track events ---- */

static size_t disp_begin(struct cs_pf_writer *w, uint64_t ts)
{
	size_t m = pb_nest_begin(&w->disp, 1);

	pb_uint(&w->disp, TP_TIMESTAMP, ts);
	pb_uint(&w->disp, TP_SEQ_ID, PF_SEQ);
	return m;
}

/* An FtraceEvent in the bundle of the record's CPU; returns the payload mark. */
static size_t fevent_begin(struct wcpu *cb, const struct cs_hdr *h, uint32_t pid,
			   uint32_t field, size_t *outer)
{
	struct pb_buf *b = &cb->events;

	*outer = pb_nest_begin(b, FB_EVENT);
	pb_uint(b, FE_TS, h->ts);
	pb_uint(b, FE_PID, pid);
	cb->nev++;
	return pb_nest_begin(b, field);
}

static void fevent_end(struct wcpu *cb, size_t inner, size_t outer)
{
	pb_nest_end(&cb->events, inner);
	pb_nest_end(&cb->events, outer);
}

static void disp_tree(struct cs_pf_writer *w, uint64_t ts, uint32_t tid, uint32_t tgid,
		      uint32_t ppid, const char *comm, bool process)
{
	struct pb_buf *b = &w->disp;
	struct wtask *t = task_get(w, tid, true);
	size_t m, mt, mp;

	if (!t || (t->flags & WT_TREE))
		return;
	t->flags |= WT_TREE;
	m = disp_begin(w, ts);
	mt = pb_nest_begin(b, TP_PROCESS_TREE);
	if (process) {
		mp = pb_nest_begin(b, 1);
		pb_int(b, 1, (int32_t)tgid);
		pb_int(b, 2, (int32_t)ppid);
		pb_strn(b, 3, comm[0] ? comm : "?", CS_COMM_LEN);
		pb_bool(b, 9, true); /* cmdline_is_comm */
		pb_nest_end(b, mp);
	}
	mp = pb_nest_begin(b, 2);
	pb_int(b, 1, (int32_t)tid);
	pb_strn(b, 2, comm, CS_COMM_LEN);
	pb_int(b, 3, (int32_t)tgid);
	pb_nest_end(b, mp);
	pb_nest_end(b, mt);
	pb_nest_end(b, m);
}

static void disp_fork(struct cs_pf_writer *w, const struct cs_fork *e)
{
	bool thread = e->h.flags & CS_FKF_THREAD;
	size_t in, out;

	task_name(w, e->child_tid, e->child_comm);
	disp_tree(w, e->h.ts, e->child_tid, e->child_pid, e->h.pid, e->child_comm, !thread);
	if (e->h.cpu < PF_MAX_CPU) {
		struct wcpu *cb = wcpu_get(w, e->h.cpu);

		if (!cb)
			return;
		in = fevent_begin(cb, &e->h, e->h.tid, FE_NEWTASK, &out);
		pb_int(&cb->events, 1, (int32_t)e->child_tid);
		pb_strn(&cb->events, 2, e->child_comm, CS_COMM_LEN);
		pb_uint(&cb->events, 3, thread ? CLONE_THREAD_FLAG : 0);
		fevent_end(cb, in, out);
	}
}

static void disp_task_event(struct cs_pf_writer *w, const union cs_rec *r)
{
	struct wcpu *cb;
	struct pb_buf *b;
	size_t in, out;

	if (r->h.cpu >= PF_MAX_CPU || !(cb = wcpu_get(w, r->h.cpu)))
		return;
	b = &cb->events;
	switch (r->h.kind) {
	case CS_EV_EXEC:
		in = fevent_begin(cb, &r->h, r->h.tid, FE_EXEC, &out);
		pb_strn(b, 1, r->exec.comm, CS_COMM_LEN);
		pb_int(b, 2, (int32_t)r->h.tid);
		pb_int(b, 3, (int32_t)r->exec.old_tid);
		break;
	case CS_EV_EXIT:
		in = fevent_begin(cb, &r->h, r->h.tid, FE_EXIT, &out);
		pb_strn(b, 1, task_comm(w, r->h.tid), CS_COMM_LEN);
		pb_int(b, 2, (int32_t)r->h.tid);
		pb_int(b, 3, (int32_t)r->h.pid);
		break;
	case CS_EV_RENAME:
		in = fevent_begin(cb, &r->h, r->h.tid, FE_RENAME, &out);
		pb_int(b, 1, (int32_t)r->h.tid);
		pb_strn(b, 2, task_comm(w, r->h.tid), CS_COMM_LEN);
		pb_strn(b, 3, r->ren.comm, CS_COMM_LEN);
		break;
	case CS_EV_MIGRATE:
		in = fevent_begin(cb, &r->h, r->h.tid, FE_MIGRATE, &out);
		pb_strn(b, 1, task_comm(w, r->h.tid), CS_COMM_LEN);
		pb_int(b, 2, (int32_t)r->h.tid);
		pb_int(b, 4, (int32_t)r->mig.orig_cpu);
		pb_int(b, 5, r->h.aux);
		break;
	default:
		return;
	}
	fevent_end(cb, in, out);
}

static void disp_track_desc(struct cs_pf_writer *w, uint64_t ts, uint64_t uuid,
			    const char *name, uint32_t pid, uint32_t tid, bool counter)
{
	struct pb_buf *b = &w->disp;
	size_t m = disp_begin(w, ts), md = pb_nest_begin(b, TP_TRACK_DESC), mt;

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

/* A TrackEvent; returns the marks to close with te_end(). */
static void te_begin(struct cs_pf_writer *w, uint64_t ts, uint64_t uuid, int type,
		     const char *name, size_t mark[2])
{
	struct pb_buf *b = &w->disp;

	mark[0] = disp_begin(w, ts);
	mark[1] = pb_nest_begin(b, TP_TRACK_EVENT);
	pb_uint(b, 9, (uint64_t)type);
	pb_uint(b, 11, uuid);
	if (name)
		pb_strn(b, 23, name, CS_LOCK_NAME_LEN + 32);
}

static void te_end(struct cs_pf_writer *w, const size_t mark[2])
{
	pb_nest_end(&w->disp, mark[1]);
	pb_nest_end(&w->disp, mark[0]);
}

/* DebugAnnotation: name + one of string (6), uint (3), int (4), pointer (7). */
static void te_arg(struct cs_pf_writer *w, const char *name, uint32_t field, uint64_t v,
		   const char *s)
{
	struct pb_buf *b = &w->disp;
	size_t m = pb_nest_begin(b, 4);

	pb_str(b, 10, name);
	if (s)
		pb_str(b, 6, s);
	else
		pb_uint(b, field, v);
	pb_nest_end(b, m);
}

/* Whether a futex call waits (x86-64 numbers): only waits become slices. */
static bool futex_waits(const struct cs_futex *e)
{
	unsigned int cmd = e->op & 0x7f;

	if (e->h.aux == 449 || e->h.aux == 455) /* futex_waitv, futex_wait */
		return true;
	return e->h.aux == 202 && (cmd == 0 || cmd == 6 || cmd == 9 || cmd == 11 || cmd == 13);
}

static void lock_slice_begin(struct cs_pf_writer *w, const union cs_rec *r, bool futex)
{
	uint64_t addr = futex ? r->futex.uaddr : r->lock.addr;
	const char *name = lock_name(w, lock_key(addr, futex, r->h.pid));
	char hex[24];
	size_t mark[2];

	if (!name) { /* formatted only for a lock with no name */
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)addr);
		name = hex;
	}
	te_begin(w, r->h.ts, UUID_THREAD(r->h.tid), TE_BEGIN, name, mark);
	te_arg(w, "kind", 0, 0, futex ? "futex" : "kernel lock");
	te_arg(w, "address", 7, addr, NULL);
	if (futex)
		te_arg(w, "op", 3, r->futex.op, NULL);
	else
		te_arg(w, "flags", 3, r->h.aux, NULL);
	te_end(w, mark);
}

/* Lock waits as slices on the waiting thread's track. */
static void disp_lock(struct cs_pf_writer *w, const union cs_rec *r)
{
	bool futex = r->h.kind == CS_EV_FUTEX_ENTER || r->h.kind == CS_EV_FUTEX_EXIT;
	bool begin = r->h.kind == CS_EV_FUTEX_ENTER || r->h.kind == CS_EV_LOCK_BEGIN;
	struct wtask *t = r->h.tid ? task_get(w, r->h.tid, true) : NULL;
	size_t mark[2];

	if (!t || (futex && begin && (!futex_waits(&r->futex) || (t->flags & WT_FUTEX))))
		return;
	if (!begin) {
		if (futex ? !(t->flags & WT_FUTEX) : !t->klocks)
			return;
		if (futex)
			t->flags &= (uint8_t)~WT_FUTEX;
		else
			t->klocks--;
		te_begin(w, r->h.ts, UUID_THREAD(r->h.tid), TE_END, NULL, mark);
		te_end(w, mark);
		return;
	}
	if (!(t->flags & WT_TRACK)) {
		t->flags |= WT_TRACK;
		disp_track_desc(w, r->h.ts, UUID_THREAD(r->h.tid), NULL, r->h.pid, r->h.tid,
				false);
	}
	lock_slice_begin(w, r, futex);
	if (futex)
		t->flags |= WT_FUTEX;
	else if (t->klocks < UINT16_MAX)
		t->klocks++;
}

static void disp_mark(struct cs_pf_writer *w, const struct cs_mark *e)
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
	case CS_MARK_MODEL_BEGIN:
		te_begin(w, e->h.ts, UUID_MODELS, TE_BEGIN, text[0] ? text : "model", mark);
		w->models_open++;
		break;
	case CS_MARK_MODEL_END:
		if (!w->models_open)
			return;
		w->models_open--;
		te_begin(w, e->h.ts, UUID_MODELS, TE_END, NULL, mark);
		break;
	case CS_MARK_WINDOW_BEGIN:
	case CS_MARK_WINDOW_END:
	case CS_MARK_CMD_EXIT:
		te_begin(w, e->h.ts, UUID_MODELS, TE_INSTANT, instants[e->h.aux], mark);
		if (e->h.aux == CS_MARK_CMD_EXIT)
			te_arg(w, "status", 4, (uint64_t)e->value, NULL);
		break;
	default:
		return;
	}
	te_end(w, mark);
}

static void disp_lost(struct cs_pf_writer *w, const struct cs_lost *e)
{
	struct pb_buf *b = &w->disp;
	size_t mark[2];

	if (e->h.cpu < PF_MAX_CPU) {
		struct wcpu *cb = wcpu_get(w, e->h.cpu);

		if (cb)
			cb->lost = true;
	}
	if (!w->lost_track) {
		w->lost_track = true;
		disp_track_desc(w, e->h.ts, UUID_LOST, "concscope lost events", 0, 0, true);
	}
	w->lost_total += e->count;
	te_begin(w, e->h.ts, UUID_LOST, TE_COUNTER, NULL, mark);
	pb_int(b, 30, (int64_t)w->lost_total);
	te_end(w, mark);
}

static void display(struct cs_pf_writer *w, const union cs_rec *r)
{
	switch (r->h.kind) {
	case CS_EV_FORK:
		disp_fork(w, &r->fork);
		break;
	case CS_EV_EXEC:
		disp_task_event(w, r);
		task_name(w, r->h.tid, r->exec.comm);
		/* the traced command itself: no fork or /proc record named it */
		if (r->h.tid == r->h.pid)
			disp_tree(w, r->h.ts, r->h.tid, r->h.pid, 0, r->exec.comm, true);
		break;
	case CS_EV_RENAME:
		disp_task_event(w, r);
		task_name(w, r->h.tid, r->ren.comm);
		break;
	case CS_EV_EXIT:
	case CS_EV_MIGRATE:
		disp_task_event(w, r);
		break;
	case CS_EV_THREAD_INFO:
		task_name(w, r->h.tid, r->ti.comm);
		disp_tree(w, r->h.ts, r->h.tid, r->h.pid, r->ti.ppid, r->ti.comm,
			  r->h.tid == r->h.pid);
		break;
	case CS_EV_LOCK_BEGIN:
	case CS_EV_LOCK_END:
	case CS_EV_FUTEX_ENTER:
	case CS_EV_FUTEX_EXIT:
		disp_lock(w, r);
		break;
	case CS_EV_MARK:
		disp_mark(w, &r->mark);
		break;
	case CS_EV_LOST:
		disp_lost(w, &r->lost);
		break;
	case CS_EV_LOCK_NAME:
		lock_name_set(w, &r->ln);
		break;
	}
}

/* ---- groups ---- */

static void write_bundle(struct cs_pf_writer *w, struct wcpu *cb)
{
	struct pb_buf *b = &w->pkt;
	size_t mb, mc;
	uint32_t i;
	int a;

	pb_buf_reset(b);
	pb_uint(b, TP_SEQ_ID, PF_SEQ);
	mb = pb_nest_begin(b, TP_FTRACE);
	pb_uint(b, FB_CPU, cb->cpu);
	if (cb->lost)
		pb_bool(b, FB_LOST, true);
	if (cb->nsw || cb->nwk) {
		ord_flush(&cb->sw_ord);
		ord_flush(&cb->wk_ord);
		mc = pb_nest_begin(b, FB_COMPACT);
		for (i = 0; i < cb->comms.n; i++)
			pb_strn(b, CS_INTERN, cb->comms.s[i], CS_COMM_LEN);
		for (a = 0; a < A_N; a++)
			pb_packed(b, array_field[a], &cb->a[a]);
		pb_packed(b, CS_SWITCH_ORDER, &cb->sw_ord.out);
		pb_packed(b, CS_WAKING_ORDER, &cb->wk_ord.out);
		pb_packed(b, CS_SYSCALL_TABLE, &cb->sys_tab);
		pb_packed(b, CS_SWITCH_LONG_WAIT, &cb->long_wait);
		pb_raw(b, cb->sw_x.p, cb->sw_x.len);
		pb_raw(b, cb->wk_x.p, cb->wk_x.len);
		pb_nest_end(b, mc);
	}
	pb_raw(b, cb->events.p, cb->events.len);
	pb_nest_end(b, mb);
	out_packet(w);
}

static int group_err(const struct cs_pf_writer *w)
{
	unsigned int i;
	int err;

	if (w->recs.err || w->disp.err || w->rec_ord.out.err)
		return -ENOMEM;
	for (i = 0; i < w->nactive; i++)
		if ((err = wcpu_err(w->cpus[w->active[i]])))
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
	out_raw(w, w->disp.p, w->disp.len);
	for (i = 0; i < w->nactive; i++) {
		write_bundle(w, w->cpus[w->active[i]]);
		wcpu_reset(w->cpus[w->active[i]]);
	}
	w->nactive = 0;
	ord_flush(&w->rec_ord);
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
	pb_buf_reset(&w->disp);
	ord_reset(&w->rec_ord);
	w->rec_last = 0;
	w->nrecs = 0;
}

static bool group_full(const struct cs_pf_writer *w, const struct wcpu *cb)
{
	if (cb && cb->nsw + cb->nwk + cb->nev >= PF_BUNDLE_EVENTS)
		return true;
	return w->nrecs >= PF_GROUP_RECS || w->recs.len + w->disp.len >= PF_GROUP_BYTES;
}

int cs_pf_feed(struct cs_pf_writer *w, const struct cs_hdr *ev)
{
	union cs_rec r;
	struct wcpu *cb = NULL;
	size_t size;
	uint64_t seq;

	if (w->err)
		return w->err;
	size = cs_kind_size(ev->kind);
	if (!size || ev->size != size)
		return -EINVAL;
	memcpy(&r, ev, size); /* a whole union: callers pass records of their own size */
	seq = w->gseq++;
	w->nrec++;
	if ((r.h.kind == CS_EV_SWITCH || r.h.kind == CS_EV_WAKING) && r.h.cpu < PF_MAX_CPU) {
		cb = wcpu_get(w, r.h.cpu);
		if (!cb)
			return w->err = -ENOMEM;
		if (r.h.kind == CS_EV_SWITCH) {
			task_name(w, r.sw.next_tid, r.sw.next_comm);
			w_switch(cb, &r.sw, seq);
		} else {
			w_waking(w, cb, &r.wk, seq);
		}
	} else {
		w_rec(w, &r, seq);
		display(w, &r);
		if (r.h.cpu < PF_MAX_CPU)
			cb = w->cpus[r.h.cpu];
	}
	if (group_full(w, cb))
		flush_group(w);
	return w->err;
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
	m = pb_nest_begin(b, TP_TRACK_DESC);
	pb_uint(b, 1, UUID_MODELS);
	pb_str(b, 2, "concscope models");
	pb_nest_end(b, m);
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
		wcpu_free(w->cpus[i]);
	pb_buf_free(&w->out);
	pb_buf_free(&w->pkt);
	pb_buf_free(&w->recs);
	pb_buf_free(&w->disp);
	pb_buf_free(&w->rec_ord.out);
	smap_free(&w->taskidx);
	smap_free(&w->lockidx);
	free(w->tasks);
	free(w->locks);
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
	crc_table(w->crc_t);
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
		flush_group(w);
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

/* ======================================================================
 * Reader
 * ====================================================================== */

struct span {
	const uint8_t *p;
	size_t len;
};

/* The next exception message (SwitchX / WakingX) of a bundle. */
struct rx {
	struct pb_dec cur; /* over the CompactSched fields after it */
	uint32_t field;
	bool have;
	uint64_t index;
	uint32_t mask;
	uint64_t v[SX_NFIELDS];
};

/* One CPU's bundle in the current group. */
struct rcpu {
	uint16_t cpu;
	bool in_group;
	struct pb_dec a[A_N];
	bool has[A_N];
	struct pb_dec long_wait; /* switch_long_wait, when has_long_wait */
	bool has_long_wait;
	uint32_t nsw, nwk, isw, iwk;
	struct span sw_ord, wk_ord;
	struct span *comms;
	uint32_t ncomms, capcomms;
	int16_t *sys;
	uint32_t nsys, capsys;
	struct rx xs, xw;
	uint64_t sw_ts, wk_ts;
	bool chain_known;
	uint32_t chain_tid, chain_pid;
	struct smap tgid;
};

#define OWNER_NONE 0xffff
#define OWNER_PRIV 0xfffe

struct rd {
	const uint8_t *buf;
	size_t len;
	cs_emit_fn emit;
	void *ctx;
	char *err;
	size_t errlen;
	uint32_t crc_t[8][256];
	size_t ckpt, pkt_off;
	bool have_header, done;
	struct cs_pf_info info;
	uint64_t nrec, ngroups;
	struct rcpu *cpus[PF_MAX_CPU];
	uint16_t active[PF_MAX_CPU];
	unsigned int nactive;
	uint16_t *owner;
	size_t capowner;
	uint64_t rec_ts;
	/* who runs on each CPU, to fill in wakers (not stored in the file) */
	uint32_t cur_tid[PF_MAX_CPU], cur_pid[PF_MAX_CPU];
	bool cur_known[PF_MAX_CPU];
};

static int rd_fail(struct rd *r, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rd_fail(struct rd *r, int ret, const char *fmt, ...)
{
	va_list ap;

	if (r->err && r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int corrupt(struct rd *r, const char *what)
{
	return rd_fail(r, -EINVAL, "corrupt packet at byte %zu: %s", r->pkt_off, what);
}

static int not_ours(struct rd *r)
{
	return rd_fail(r, -EINVAL, "not a concscope trace");
}

/* ---- one bundle ---- */

/* Find and parse the next exception message after x->cur. */
static int rx_next(struct rd *r, struct rx *x, unsigned int nfields)
{
	struct pb_field f, g;
	struct pb_dec d;
	int ret;

	x->have = false;
	while ((ret = pb_next(&x->cur, &f)) > 0)
		if (f.num == x->field)
			break;
	if (ret < 0)
		return corrupt(r, "bad compact_sched");
	if (!ret)
		return 0;
	if (f.wt != PB_LEN)
		return corrupt(r, "bad exception entry");
	x->mask = 0;
	memset(x->v, 0, sizeof(x->v));
	pb_sub(&d, &f);
	while ((ret = pb_next(&d, &g)) > 0) {
		if (g.num >= nfields)
			continue; /* a later version's field */
		if (g.wt != PB_VARINT)
			return corrupt(r, "bad exception field");
		x->mask |= 1u << g.num;
		x->v[g.num] = g.u;
	}
	if (ret < 0 || !(x->mask & 1u << SX_INDEX))
		return corrupt(r, "bad exception entry");
	x->index = x->v[SX_INDEX];
	x->have = true;
	return 0;
}

/* The exception for element i, if any: 1 (in x), 0, or an error. */
static int rx_take(struct rd *r, struct rx *x, uint32_t i)
{
	if (!x->have)
		return 0;
	if (x->index < i)
		return corrupt(r, "exceptions out of order");
	return x->index == i;
}

static struct rcpu *rcpu_get(struct rd *r, unsigned int cpu)
{
	struct rcpu *rc = r->cpus[cpu];

	if (!rc) {
		rc = calloc(1, sizeof(*rc));
		if (!rc)
			return NULL;
		rc->cpu = (uint16_t)cpu;
		r->cpus[cpu] = rc;
	}
	return rc;
}

static void rcpu_free(struct rcpu *rc)
{
	if (!rc)
		return;
	free(rc->comms);
	free(rc->sys);
	smap_free(&rc->tgid);
	free(rc);
}

static int add_comm(struct rd *r, struct rcpu *rc, const struct pb_field *f)
{
	if (f->wt != PB_LEN || f->len > CS_COMM_LEN)
		return corrupt(r, "bad intern_table entry");
	if (rc->ncomms == rc->capcomms) {
		uint32_t cap = rc->capcomms ? rc->capcomms * 2 : 64;
		void *p = realloc(rc->comms, cap * sizeof(*rc->comms));

		if (!p)
			return rd_fail(r, -ENOMEM, "out of memory");
		rc->comms = p;
		rc->capcomms = cap;
	}
	rc->comms[rc->ncomms++] = (struct span){ f->data, f->len };
	return 0;
}

static int set_sys_table(struct rd *r, struct rcpu *rc, const struct pb_field *f)
{
	long n = pb_count_varints(f->data, f->len);
	struct pb_dec d;
	uint64_t v;
	long i;

	if (n < 0 || rc->nsys)
		return corrupt(r, "bad syscall_table");
	if ((uint32_t)n > rc->capsys) {
		void *p = realloc(rc->sys, (size_t)n * sizeof(*rc->sys));

		if (!p)
			return rd_fail(r, -ENOMEM, "out of memory");
		rc->sys = p;
		rc->capsys = (uint32_t)n;
	}
	pb_sub(&d, f);
	for (i = 0; i < n; i++) {
		int64_t s;

		pb_get_varint(&d, &v);
		s = pb_unzigzag(v);
		if (s < INT16_MIN || s > INT16_MAX)
			return corrupt(r, "bad syscall_table");
		rc->sys[i] = (int16_t)s;
	}
	rc->nsys = (uint32_t)n;
	return 0;
}

static int set_array(struct rd *r, struct rcpu *rc, int a, const struct pb_field *f,
		     uint32_t *count)
{
	long n;

	if (f->wt != PB_LEN || rc->has[a])
		return corrupt(r, "bad compact_sched array");
	n = pb_count_varints(f->data, f->len);
	if (n < 0 || n > (long)UINT32_MAX)
		return corrupt(r, "bad compact_sched array");
	rc->has[a] = true;
	pb_sub(&rc->a[a], f);
	*count = (uint32_t)n;
	return 0;
}

static int compact_field(struct rd *r, struct rcpu *rc, const struct pb_field *f,
			 uint32_t *counts)
{
	int a;

	for (a = 0; a < A_N; a++)
		if (f->num == array_field[a])
			return set_array(r, rc, a, f, &counts[a]);
	switch (f->num) {
	case CS_INTERN:
		return add_comm(r, rc, f);
	case CS_SWITCH_LONG_WAIT:
		if (f->wt != PB_LEN || rc->has_long_wait)
			return corrupt(r, "bad switch_long_wait");
		rc->has_long_wait = true;
		pb_sub(&rc->long_wait, f);
		return 0;
	case CS_SWITCH_ORDER:
	case CS_WAKING_ORDER: {
		struct span *s = f->num == CS_SWITCH_ORDER ? &rc->sw_ord : &rc->wk_ord;

		if (f->wt != PB_LEN || s->p)
			return corrupt(r, "bad order array");
		*s = (struct span){ f->data, f->len };
		return 0;
	}
	case CS_SYSCALL_TABLE:
		if (f->wt != PB_LEN)
			return corrupt(r, "bad syscall_table");
		return set_sys_table(r, rc, f);
	}
	return 0;
}

static int parse_compact(struct rd *r, struct rcpu *rc, const uint8_t *p, size_t len)
{
	uint32_t counts[A_N] = { 0 };
	struct pb_field f;
	struct pb_dec d;
	int ret, a;

	pb_dec_init(&d, p, len);
	while ((ret = pb_next(&d, &f)) > 0)
		if ((ret = compact_field(r, rc, &f, counts)))
			return ret;
	if (ret < 0)
		return corrupt(r, "bad compact_sched");
	rc->nsw = counts[A_SW_FIRST];
	rc->nwk = counts[A_WK_TS];
	for (a = 0; a < A_N; a++)
		if (counts[a] != (a <= A_SW_LAST ? rc->nsw : rc->nwk))
			return corrupt(r, "compact_sched arrays of different lengths");
	if (rc->has_long_wait && !rc->nsw)
		return corrupt(r, "bad switch_long_wait");
	pb_dec_init(&rc->xs.cur, p, len);
	rc->xs.field = CS_SWITCH_X;
	pb_dec_init(&rc->xw.cur, p, len);
	rc->xw.field = CS_WAKING_X;
	if ((ret = rx_next(r, &rc->xs, SX_NFIELDS)))
		return ret;
	return rx_next(r, &rc->xw, WX_NFIELDS);
}

static void rcpu_reset(struct rcpu *rc)
{
	memset(rc->a, 0, sizeof(rc->a));
	memset(rc->has, 0, sizeof(rc->has));
	rc->long_wait = (struct pb_dec){ NULL, NULL };
	rc->has_long_wait = false;
	rc->nsw = rc->nwk = rc->isw = rc->iwk = 0;
	rc->sw_ord = rc->wk_ord = (struct span){ NULL, 0 };
	rc->ncomms = rc->nsys = 0;
	rc->xs.have = rc->xw.have = false;
	rc->sw_ts = rc->wk_ts = 0;
	rc->chain_known = false;
	smap_clear(&rc->tgid);
}

static int rd_bundle(struct rd *r, const uint8_t *p, size_t len)
{
	const uint8_t *compact = NULL;
	size_t clen = 0;
	struct pb_field f;
	struct pb_dec d;
	struct rcpu *rc;
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
	rcpu_reset(rc);
	rc->in_group = true;
	r->active[r->nactive++] = rc->cpu;
	return compact ? parse_compact(r, rc, compact, clen) : 0;
}

/* ---- records ---- */

static int get_elem(struct rd *r, struct rcpu *rc, int a, uint64_t *v, uint64_t max)
{
	if (pb_get_varint(&rc->a[a], v) || *v > max)
		return corrupt(r, "bad compact_sched value");
	return 0;
}

static void put_comm(char *dst, size_t size, const struct span *s)
{
	memset(dst, 0, size);
	if (s->len)
		memcpy(dst, s->p, s->len < size ? s->len : size);
}

/* The switch's prev and next tasks, from the chain, the tgid map and x. */
static int switch_tasks(struct rd *r, struct rcpu *rc, struct cs_switch *e,
			const struct rx *x)
{
	uint32_t m = x ? x->mask : 0;
	unsigned int f;

	for (f = SX_PREV_TID; f <= SX_NEXT_PID; f++)
		if ((m & 1u << f) && x->v[f] > UINT32_MAX)
			return corrupt(r, "bad switch task");
	if (m & 1u << SX_PREV_TID) {
		e->h.tid = (uint32_t)x->v[SX_PREV_TID];
		e->h.pid = tgid_default(&rc->tgid, e->h.tid);
	} else if (rc->chain_known) {
		e->h.tid = rc->chain_tid;
		e->h.pid = rc->chain_pid;
	} else {
		return corrupt(r, "switch without a previous task");
	}
	/* the tgid map changes exactly where the writer's did: where a pid is given */
	if (m & 1u << SX_PREV_PID) {
		e->h.pid = (uint32_t)x->v[SX_PREV_PID];
		if (smap_put(&rc->tgid, e->h.tid, e->h.pid))
			return rd_fail(r, -ENOMEM, "out of memory");
	}
	if (m & 1u << SX_NEXT_PID) {
		e->next_pid = (uint32_t)x->v[SX_NEXT_PID];
		if (smap_put(&rc->tgid, e->next_tid, e->next_pid))
			return rd_fail(r, -ENOMEM, "out of memory");
	} else {
		e->next_pid = tgid_default(&rc->tgid, e->next_tid);
	}
	rc->chain_known = true;
	rc->chain_tid = e->next_tid;
	rc->chain_pid = e->next_pid;
	return 0;
}

/* Raw state, flags and aux: cs_state_unreport() unless x says otherwise. */
static int switch_state(struct rd *r, struct cs_switch *e, uint64_t rep, const struct rx *x)
{
	uint32_t m = x ? x->mask : 0;
	unsigned int raw, ex;
	bool pre;

	cs_state_unreport((unsigned int)rep, &raw, &ex, &pre);
	e->h.flags = pre ? CS_SWF_PREEMPT : 0;
	if (m & 1u << SX_STATE) {
		if (x->v[SX_STATE] > UINT32_MAX || x->v[SX_EXIT_STATE] > UINT8_MAX)
			return corrupt(r, "bad switch state");
		raw = (unsigned int)x->v[SX_STATE];
		ex = m & 1u << SX_EXIT_STATE ? (unsigned int)x->v[SX_EXIT_STATE] : 0;
	}
	if (m & 1u << SX_FLAGS) {
		if (x->v[SX_FLAGS] > UINT8_MAX)
			return corrupt(r, "bad switch flags");
		e->h.flags = (uint8_t)x->v[SX_FLAGS];
	}
	if (m & 1u << SX_AUX) {
		if (x->v[SX_AUX] > UINT16_MAX)
			return corrupt(r, "bad switch aux");
		e->h.aux = (uint16_t)x->v[SX_AUX];
	}
	e->prev_state = raw;
	e->prev_exit_state = (uint8_t)ex;
	return 0;
}

static int rd_switch(struct rd *r, struct rcpu *rc, union cs_rec *out)
{
	struct cs_switch *e = &out->sw;
	uint64_t dts, rep, tid, prio, ci, si, wait;
	int ret, hit;

	if ((ret = get_elem(r, rc, A_SW_TS, &dts, UINT64_MAX)) ||
	    (ret = get_elem(r, rc, A_SW_STATE, &rep, UINT32_MAX)) ||
	    (ret = get_elem(r, rc, A_SW_PID, &tid, UINT32_MAX)) ||
	    (ret = get_elem(r, rc, A_SW_PRIO, &prio, UINT8_MAX)) ||
	    (ret = get_elem(r, rc, A_SW_COMM, &ci, UINT32_MAX)) ||
	    (ret = get_elem(r, rc, A_SW_SYS, &si, UINT64_MAX)))
		return ret;
	wait = si % SW_WAIT_SPAN;
	si /= SW_WAIT_SPAN;
	if (ci >= rc->ncomms || si >= rc->nsys)
		return corrupt(r, "bad compact_sched index");
	if (wait == SW_WAIT_LONG &&
	    (!rc->has_long_wait || pb_get_varint(&rc->long_wait, &wait) ||
	     wait < SW_WAIT_LONG || wait > UINT16_MAX + 1ull))
		return corrupt(r, "bad switch_long_wait");
	hit = rx_take(r, &rc->xs, rc->isw);
	if (hit < 0)
		return hit;
	rc->sw_ts += dts;
	e->h.ts = rc->sw_ts;
	e->h.size = sizeof(*e);
	e->h.kind = CS_EV_SWITCH;
	e->h.cpu = rc->cpu;
	e->next_tid = (uint32_t)tid;
	e->next_prio = (uint8_t)prio;
	e->syscall = rc->sys[si];
	put_comm(e->next_comm, CS_COMM_LEN, &rc->comms[ci]);
	if ((ret = switch_tasks(r, rc, e, hit ? &rc->xs : NULL)) ||
	    (ret = switch_state(r, e, rep, hit ? &rc->xs : NULL)))
		return ret;
	if (e->h.flags & CS_SWF_NEXT_WAIT)
		return corrupt(r, "bad switch flags");
	if (wait) {
		e->h.flags |= CS_SWF_NEXT_WAIT;
		e->h.aux = (uint16_t)(wait - 1);
	}
	if (++rc->isw == rc->nsw && rc->has_long_wait && rc->long_wait.p != rc->long_wait.end)
		return corrupt(r, "bad switch_long_wait");
	r->cur_tid[rc->cpu] = e->next_tid;
	r->cur_pid[rc->cpu] = e->next_pid;
	r->cur_known[rc->cpu] = true;
	return hit ? rx_next(r, &rc->xs, SX_NFIELDS) : 0;
}

static int rd_waking(struct rd *r, struct rcpu *rc, union cs_rec *out)
{
	struct cs_waking *e = &out->wk;
	uint64_t dts, tid, tcpu, prio, ci;
	const struct rx *x = &rc->xw;
	int ret, hit;

	if ((ret = get_elem(r, rc, A_WK_TS, &dts, UINT64_MAX)) ||
	    (ret = get_elem(r, rc, A_WK_PID, &tid, UINT32_MAX)) ||
	    (ret = get_elem(r, rc, A_WK_CPU, &tcpu, UINT16_MAX)) ||
	    (ret = get_elem(r, rc, A_WK_PRIO, &prio, UINT8_MAX)) ||
	    (ret = get_elem(r, rc, A_WK_COMM, &ci, UINT32_MAX)))
		return ret;
	if (ci >= rc->ncomms)
		return corrupt(r, "bad compact_sched index");
	hit = rx_take(r, &rc->xw, rc->iwk);
	if (hit < 0)
		return hit;
	rc->wk_ts += dts;
	e->h.ts = rc->wk_ts;
	e->h.size = sizeof(*e);
	e->h.kind = CS_EV_WAKING;
	e->h.cpu = rc->cpu;
	e->h.aux = (uint16_t)tcpu;
	e->h.tid = (uint32_t)tid;
	e->h.pid = tgid_default(&rc->tgid, e->h.tid);
	e->prio = (uint8_t)prio;
	if (hit && (x->mask & 1u << WX_PID)) {
		if (x->v[WX_PID] > UINT32_MAX)
			return corrupt(r, "bad waking pid");
		e->h.pid = (uint32_t)x->v[WX_PID];
		if (smap_put(&rc->tgid, e->h.tid, e->h.pid))
			return rd_fail(r, -ENOMEM, "out of memory");
	}
	if (hit && (x->mask & 1u << WX_FLAGS)) {
		if (x->v[WX_FLAGS] > UINT8_MAX)
			return corrupt(r, "bad waking flags");
		e->h.flags = (uint8_t)x->v[WX_FLAGS];
	}
	if (r->cur_known[rc->cpu]) {
		e->waker_tid = r->cur_tid[rc->cpu];
		e->waker_pid = r->cur_pid[rc->cpu];
	}
	if (hit && (x->mask & 1u << WX_WAKER)) {
		if (x->v[WX_WAKER] > UINT32_MAX || x->v[WX_WAKER_PID] > UINT32_MAX)
			return corrupt(r, "bad waker");
		e->waker_tid = (uint32_t)x->v[WX_WAKER];
		e->waker_pid = (uint32_t)x->v[WX_WAKER_PID];
	}
	rc->iwk++;
	return hit ? rx_next(r, &rc->xw, WX_NFIELDS) : 0;
}

/* Fields of one CsRec. */
struct recf {
	uint64_t v[RC_TEXT + 1];
	struct span s[RC_TEXT + 1];
	bool bad;
};

static uint64_t fu(struct recf *f, int n, uint64_t max)
{
	if (f->v[n] > max)
		f->bad = true;
	return f->v[n];
}

static int64_t fs(struct recf *f, int n, int64_t min, int64_t max)
{
	int64_t s = pb_unzigzag(f->v[n]);

	if (s < min || s > max)
		f->bad = true;
	return s;
}

static void fstr(struct recf *f, int n, char *dst, size_t size)
{
	if (f->s[n].len > size)
		f->bad = true;
	else
		put_comm(dst, size, &f->s[n]);
}

static void fstack(struct recf *f, struct cs_lock *e)
{
	struct pb_dec d;
	unsigned int i = 0;
	uint64_t v;

	pb_dec_init(&d, f->s[RC_STACK].p, f->s[RC_STACK].len);
	while (!pb_dec_done(&d)) {
		if (i >= CS_LOCK_STACK || pb_get_varint(&d, &v)) {
			f->bad = true;
			return;
		}
		e->stack[i++] = v;
	}
}

static void rec_fill(struct recf *f, union cs_rec *o)
{
	switch (o->h.kind) {
	case CS_EV_SWITCH:
		o->sw.next_tid = (uint32_t)fu(f, RC_TID2, UINT32_MAX);
		o->sw.next_pid = (uint32_t)fu(f, RC_PID2, UINT32_MAX);
		o->sw.prev_state = (uint32_t)fu(f, RC_OP, UINT32_MAX);
		o->sw.prev_exit_state = (uint8_t)fu(f, RC_VAL, UINT8_MAX);
		o->sw.syscall = (int16_t)fs(f, RC_VALUE, INT16_MIN, INT16_MAX);
		o->sw.next_prio = (uint8_t)fu(f, RC_PRIO, UINT8_MAX);
		fstr(f, RC_COMM, o->sw.next_comm, CS_COMM_LEN);
		break;
	case CS_EV_WAKING:
		o->wk.waker_tid = (uint32_t)fu(f, RC_TID2, UINT32_MAX);
		o->wk.waker_pid = (uint32_t)fu(f, RC_PID2, UINT32_MAX);
		o->wk.prio = (uint8_t)fu(f, RC_PRIO, UINT8_MAX);
		break;
	case CS_EV_FORK:
		o->fork.child_tid = (uint32_t)fu(f, RC_TID2, UINT32_MAX);
		o->fork.child_pid = (uint32_t)fu(f, RC_PID2, UINT32_MAX);
		fstr(f, RC_COMM, o->fork.child_comm, CS_COMM_LEN);
		break;
	case CS_EV_EXEC:
		o->exec.old_tid = (uint32_t)fu(f, RC_TID2, UINT32_MAX);
		fstr(f, RC_COMM, o->exec.comm, CS_COMM_LEN);
		break;
	case CS_EV_EXIT:
		o->exit.exit_code = (int32_t)fs(f, RC_VALUE, INT32_MIN, INT32_MAX);
		break;
	case CS_EV_MIGRATE:
		o->mig.orig_cpu = (uint32_t)fu(f, RC_TID2, UINT32_MAX);
		break;
	case CS_EV_RENAME:
		fstr(f, RC_COMM, o->ren.comm, CS_COMM_LEN);
		break;
	case CS_EV_LOCK_BEGIN:
	case CS_EV_LOCK_END:
		o->lock.addr = f->v[RC_ADDR];
		o->lock.ret = (int32_t)fs(f, RC_VALUE, INT32_MIN, INT32_MAX);
		o->lock.nstack = (uint32_t)fu(f, RC_NSTACK, UINT32_MAX);
		fstack(f, &o->lock);
		break;
	case CS_EV_FUTEX_ENTER:
	case CS_EV_FUTEX_EXIT:
		o->futex.uaddr = f->v[RC_ADDR];
		o->futex.ret = pb_unzigzag(f->v[RC_VALUE]);
		o->futex.op = (uint32_t)fu(f, RC_OP, UINT32_MAX);
		o->futex.val = (uint32_t)fu(f, RC_VAL, UINT32_MAX);
		o->futex.timed = (uint32_t)fu(f, RC_TIMED, UINT32_MAX);
		break;
	case CS_EV_THREAD_INFO:
		o->ti.ppid = (uint32_t)fu(f, RC_TID2, UINT32_MAX);
		o->ti.state = (uint8_t)fu(f, RC_OP, UINT8_MAX);
		o->ti.syscall = (int16_t)fs(f, RC_VALUE, INT16_MIN, INT16_MAX);
		fstr(f, RC_COMM, o->ti.comm, CS_COMM_LEN);
		break;
	case CS_EV_MARK:
		o->mark.value = pb_unzigzag(f->v[RC_VALUE]);
		fstr(f, RC_TEXT, o->mark.text, CS_MARK_TEXT);
		break;
	case CS_EV_LOST:
		o->lost.count = f->v[RC_ADDR];
		break;
	case CS_EV_LOCK_NAME:
		o->ln.addr = f->v[RC_ADDR];
		fstr(f, RC_TEXT, o->ln.name, CS_LOCK_NAME_LEN);
		break;
	}
}

static int rd_rec(struct rd *r, const struct pb_field *rf, union cs_rec *o)
{
	struct recf f;
	struct pb_field g;
	struct pb_dec d;
	size_t size;
	int ret;

	memset(&f, 0, sizeof(f));
	pb_sub(&d, rf);
	while ((ret = pb_next(&d, &g)) > 0) {
		bool str = g.num == RC_COMM || g.num == RC_TEXT || g.num == RC_STACK;

		if (g.num > RC_TEXT)
			continue; /* a later version's field */
		if (g.wt != (str ? PB_LEN : PB_VARINT))
			return corrupt(r, "bad record field");
		f.v[g.num] = g.u;
		f.s[g.num] = (struct span){ g.data, g.len };
	}
	if (ret < 0)
		return corrupt(r, "bad record");
	size = f.v[RC_KIND] <= UINT8_MAX ? cs_kind_size((unsigned int)f.v[RC_KIND]) : 0;
	if (!size)
		return corrupt(r, "unknown record kind");
	r->rec_ts += (uint64_t)pb_unzigzag(f.v[RC_TS]);
	o->h.ts = r->rec_ts;
	o->h.size = (uint16_t)size;
	o->h.kind = (uint8_t)f.v[RC_KIND];
	o->h.flags = (uint8_t)fu(&f, RC_FLAGS, UINT8_MAX);
	o->h.cpu = (uint16_t)fu(&f, RC_CPU, UINT16_MAX);
	o->h.aux = (uint16_t)fu(&f, RC_AUX, UINT16_MAX);
	o->h.tid = (uint32_t)fu(&f, RC_TID, UINT32_MAX);
	o->h.pid = (uint32_t)fu(&f, RC_PID, UINT32_MAX);
	rec_fill(&f, o);
	if (f.bad)
		return corrupt(r, "bad record value");
	return 0; /* a LOST record leaves the chain as it is: the writer's does too */
}

/* ---- groups ---- */

/* Decode one order array into owner[]: count elements, all < nrec. */
static int ord_decode(struct rd *r, const struct span *s, uint32_t count, uint16_t id,
		      uint64_t nrec)
{
	struct pb_dec d;
	uint64_t next = 0, x, n, k, gap;
	uint32_t got = 0;

	pb_dec_init(&d, s->p, s->len);
	while (!pb_dec_done(&d)) {
		if (pb_get_varint(&d, &x))
			return corrupt(r, "bad order array");
		n = 0;
		if ((x & 1) && pb_get_varint(&d, &n))
			return corrupt(r, "bad order array");
		if (n >= count - got)
			return corrupt(r, "order array too long");
		gap = x >> 1;
		for (k = 0; k <= n; k++) {
			if (gap >= nrec || next >= nrec - gap)
				return corrupt(r, "bad sequence number");
			next += gap;
			if (r->owner[next] != OWNER_NONE)
				return corrupt(r, "two records with one sequence number");
			r->owner[next++] = id;
			got++;
		}
	}
	if (got != count)
		return corrupt(r, "order array too short");
	return 0;
}

static int check_crc(struct rd *r, const uint8_t *pkt_end, uint64_t crc)
{
	size_t end = (size_t)(pkt_end - r->buf);
	uint32_t want;

	if (end < r->ckpt + 5 || pkt_end[-5] != ((GR_CRC << 3) | PB_I32) ||
	    crc != ((uint64_t)pkt_end[-4] | (uint64_t)pkt_end[-3] << 8 |
		    (uint64_t)pkt_end[-2] << 16 | (uint64_t)pkt_end[-1] << 24))
		return corrupt(r, "checksum is not the last field");
	want = crc_update(r->crc_t, 0, r->buf + r->ckpt, end - 4 - r->ckpt);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	want = (uint32_t)crc; /* let a fuzzer past the checksums, into the decoder */
#endif
	if (want != (uint32_t)crc)
		return rd_fail(r, -EINVAL, "corrupt data between byte %zu and %zu (bad checksum)",
			       r->ckpt, end);
	r->ckpt = end;
	return 0;
}

static int owner_init(struct rd *r, uint64_t nrec)
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

static int group_orders(struct rd *r, uint64_t nrec, const struct span *ord, uint32_t nprivate)
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
		struct rcpu *rc = r->cpus[r->active[k]];

		if ((ret = ord_decode(r, &rc->sw_ord, rc->nsw, (uint16_t)(2 * k), nrec)) ||
		    (ret = ord_decode(r, &rc->wk_ord, rc->nwk, (uint16_t)(2 * k + 1), nrec)))
			return ret;
	}
	return 0;
}

static void emit_rec(struct rd *r, const union cs_rec *o)
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
static int group_emit(struct rd *r, uint64_t nrec, const uint8_t *p, size_t len)
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
		} else if (id & 1) {
			ret = rd_waking(r, r->cpus[r->active[id >> 1]], &o);
		} else {
			ret = rd_switch(r, r->cpus[r->active[id >> 1]], &o);
		}
		if (ret)
			return ret;
		emit_rec(r, &o);
	}
	return 0;
}

static int rd_group(struct rd *r, const uint8_t *p, size_t len, const uint8_t *pkt_end)
{
	struct span ord = { NULL, 0 };
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
			ord = (struct span){ f.data, f.len };
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
		struct rcpu *rc = r->cpus[r->active[k]];

		if (rc->xs.have || rc->xw.have)
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

static void rd_sysinfo(struct rd *r, const struct pb_field *si)
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

static int rd_header(struct rd *r, const struct pb_field *hd, const struct pb_field *si)
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
	if (r->info.version != PF_VERSION)
		return rd_fail(r, -ENOTSUP, "unsupported concscope trace version %u (this is %u)",
			       r->info.version, PF_VERSION);
	if (si)
		rd_sysinfo(r, si);
	r->have_header = true;
	return 0;
}

static int rd_trailer(struct rd *r, const uint8_t *p, size_t len, const uint8_t *pkt_end)
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

static int rd_packet(struct rd *r, const uint8_t *p, size_t len)
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
static int first_truncated(struct rd *r)
{
	size_t n = r->len < 32 ? r->len : 32, m = strlen(PF_MAGIC), i;

	for (i = 0; i + m <= n; i++)
		if (!memcmp(r->buf + i, PF_MAGIC, m))
			return rd_fail(r, -EINVAL, "truncated at byte 0");
	return not_ours(r);
}

static int rd_pass(struct rd *r)
{
	size_t off = 0;

	if (!r->len)
		return rd_fail(r, -EINVAL, "not a concscope trace (empty file)");
	while (off < r->len) {
		struct pb_dec d;
		uint32_t field;
		enum pb_wt wt;
		uint64_t n;
		int ret;

		r->pkt_off = off;
		pb_dec_init(&d, r->buf + off, r->len - off);
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
			return rd_fail(r, -EINVAL, "truncated at byte %zu", off);
		if (ret)
			return r->have_header ? corrupt(r, "not a trace packet") : not_ours(r);
		if ((ret = rd_packet(r, d.p, (size_t)n)))
			return ret;
		off = (size_t)(d.p - r->buf) + (size_t)n;
		if (r->done) {
			if (off != r->len)
				return rd_fail(r, -EINVAL, "corrupt data after the trailer at byte %zu",
					       off);
			return 0;
		}
	}
	return rd_fail(r, -EINVAL, "truncated at byte %zu (no trailer)", r->len);
}

static void rd_reset(struct rd *r)
{
	unsigned int i;

	for (i = 0; i < PF_MAX_CPU; i++)
		if (r->cpus[i])
			r->cpus[i]->in_group = false;
	r->nactive = 0;
	r->ckpt = r->pkt_off = 0;
	r->have_header = r->done = false;
	memset(&r->info, 0, sizeof(r->info));
	r->nrec = r->ngroups = 0;
	memset(r->cur_known, 0, sizeof(r->cur_known));
}

int cs_pf_read_mem_info(const void *buf, size_t len, cs_emit_fn emit, void *ctx,
			struct cs_pf_info *info, char *err, size_t errlen)
{
	struct rd *r = calloc(1, sizeof(*r));
	unsigned int i;
	int ret;

	if (err && errlen)
		err[0] = 0;
	if (!r)
		return -ENOMEM;
	r->buf = buf;
	r->len = buf ? len : 0;
	r->err = err;
	r->errlen = errlen;
	crc_table(r->crc_t);
	/* First check everything, then emit: on error nothing was emitted. */
	ret = rd_pass(r);
	if (!ret && emit) {
		rd_reset(r);
		r->emit = emit;
		r->ctx = ctx;
		ret = rd_pass(r);
	}
	if (info)
		*info = r->info;
	for (i = 0; i < PF_MAX_CPU; i++)
		rcpu_free(r->cpus[i]);
	free(r->owner);
	free(r);
	return ret;
}

int cs_pf_read_mem(const void *buf, size_t len, cs_emit_fn emit, void *ctx, char *err,
		   size_t errlen)
{
	return cs_pf_read_mem_info(buf, len, emit, ctx, NULL, err, errlen);
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

int cs_pf_read_info(const char *path, cs_emit_fn emit, void *ctx, struct cs_pf_info *info,
		    char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	bool mapped;
	int fd, ret;

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
	ret = cs_pf_read_mem_info(buf, len, emit, ctx, info, err, errlen);
	if (mapped)
		munmap(buf, len);
	else
		free(buf);
	return ret;
}

int cs_pf_read(const char *path, cs_emit_fn emit, void *ctx, char *err, size_t errlen)
{
	return cs_pf_read_info(path, emit, ctx, NULL, err, errlen);
}
