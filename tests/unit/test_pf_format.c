// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * test_pf_format.c: the trace format's tables and the CsRec codec they
 * drive. Every member of every kind survives a CsRec (only padding does
 * not), a known record has known bytes, and each fault the reader reports
 * for a CsRec is found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pf_format.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

/* Zero the bytes no field carries: the padding members. */
static void zero_pad(union cs_rec *r)
{
	switch (r->h.kind) {
	case CS_EV_WAKING: memset(r->wk.pad, 0, sizeof(r->wk.pad)); break;
	case CS_EV_EXEC: r->exec.pad = 0; break;
	case CS_EV_EXIT: r->exit.pad = 0; break;
	case CS_EV_MIGRATE: r->mig.pad = 0; break;
	case CS_EV_THREAD_INFO: r->ti.pad = 0; break;
	case CS_EV_FUTEX_ENTER:
	case CS_EV_FUTEX_EXIT: r->futex.pad = 0; break;
	case CS_EV_CPU_STATE: memset(r->cst.pad, 0, sizeof(r->cst.pad)); break;
	case CS_EV_WAKE_SOURCE: r->ws.pad = 0; break;
	}
}

static void roundtrip(const union cs_rec *in, uint64_t last)
{
	struct pb_buf b = { 0 };
	union cs_rec out, want = *in;
	uint64_t wts = last, rts = last;
	const char *why = NULL;

	pf_rec_encode(&b, in, &wts);
	assert_int_equal(b.err, 0);
	assert_true(wts == in->h.ts);
	memset(&out, 0, sizeof(out));
	assert_int_equal(pf_rec_decode(b.p, b.len, &out, &rts, &why), 0);
	assert_true(rts == in->h.ts);
	zero_pad(&want);
	assert_memory_equal(&out, &want, in->h.size);
	pb_buf_free(&b);
}

/* The string member of a record, and its size; NULL for a kind with none. */
static char *string_of(union cs_rec *r, size_t *n)
{
	*n = CS_COMM_LEN;
	switch (r->h.kind) {
	case CS_EV_SWITCH: return r->sw.next_comm;
	case CS_EV_FORK: return r->fork.child_comm;
	case CS_EV_EXEC: return r->exec.comm;
	case CS_EV_RENAME: return r->ren.comm;
	case CS_EV_THREAD_INFO: return r->ti.comm;
	case CS_EV_MARK: *n = CS_MARK_TEXT; return r->mark.text;
	case CS_EV_LOCK_NAME: *n = CS_LOCK_NAME_LEN; return r->ln.name;
	case CS_EV_WAKE_SOURCE: *n = CS_WAKE_SOURCE_LEN; return r->ws.name;
	case CS_EV_TITLE: *n = CS_TITLE_LEN; return r->title.title;
	case CS_EV_TASK_SCHED: *n = CS_CGROUP_LEN; return r->tsch.cgroup;
	case CS_EV_FRAME_NAME: *n = CS_FRAME_NAME_LEN; return r->fname.name;
	default: return NULL;
	}
}

/* A string keeps what comes before its first NUL only. */
static void cut_string(union cs_rec *r)
{
	size_t n, z;
	char *s = string_of(r, &n);

	if (!s)
		return;
	z = strnlen(s, n);
	if (z < n)
		memset(s + z, 0, n - z);
}

/* Every kind, every member at random (no NUL in strings: all of them count). */
static void test_every_member_survives(void **state)
{
	unsigned int kind, i, k;

	for (kind = 0; kind < CS_EV_KIND_MAX; kind++) {
		size_t size = cs_kind_size(kind);

		if (!size)
			continue;
		for (i = 0; i < 200; i++) {
			union cs_rec r;

			memset(&r, 0, sizeof(r));
			for (k = 0; k < size; k++)
				r.raw[k] = (uint8_t)(rnd8() | (i & 1)); /* odd i: no zero byte */
			r.h.size = (uint16_t)size;
			r.h.kind = (uint8_t)kind;
			if (!(i & 1)) { /* even i: strings cut at a NUL, sparse values */
				for (k = sizeof(r.h); k < size; k++)
					if (rnd8() & 1)
						r.raw[k] = 0;
				if (kind == CS_EV_LOCK_BEGIN || kind == CS_EV_LOCK_END)
					r.lock.stack[CS_LOCK_STACK - 1] = 0; /* trailing zeros */
			}
			cut_string(&r);
			roundtrip(&r, i & 2 ? r.h.ts + 5 : 0); /* deltas of both signs */
		}
	}
}

/* A known record, byte for byte: the format does not move. */
static void test_known_bytes(void **state)
{
	static const uint8_t want[] = {
		0x08, 0x05,             /* kind 5 (exit) */
		0x10, 0xd0, 0x0f,       /* ts: +1000, zigzag */
		0x20, 0x01,             /* cpu 1 */
		0x30, 0x07, 0x38, 0x07, /* tid 7, pid 7 */
		0x58, 0x01,             /* value: exit_code -1, zigzag */
	};
	struct pb_buf b = { 0 };
	union cs_rec r;
	uint64_t last = 0;

	memset(&r, 0, sizeof(r));
	r.h.size = sizeof(struct cs_exit);
	r.h.kind = CS_EV_EXIT;
	r.h.ts = 1000;
	r.h.cpu = 1;
	r.h.tid = r.h.pid = 7;
	r.exit.exit_code = -1;
	pf_rec_encode(&b, &r, &last);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));
	/* all zero: the kind alone (the timestamp too is left out when equal) */
	memset(&r, 0, sizeof(r));
	r.h.size = sizeof(struct cs_lost);
	r.h.kind = CS_EV_LOST;
	r.h.ts = 1000;
	pb_buf_reset(&b);
	pf_rec_encode(&b, &r, &last);
	assert_int_equal(b.len, 2);
	pb_buf_free(&b);
}

static void expect_fault(const struct pb_buf *b, const char *what)
{
	union cs_rec o;
	uint64_t ts = 0;
	const char *why = NULL;

	memset(&o, 0, sizeof(o));
	assert_int_equal(pf_rec_decode(b->p, b->len, &o, &ts, &why), -EINVAL);
	assert_string_equal(why, what);
}

static void test_faults(void **state)
{
	static const char long_comm[] = "seventeen bytes!!";
	struct pb_buf b = { 0 };
	union cs_rec o;
	uint64_t ts = 0;
	const char *why;

	pb_uint(&b, RC_KIND, CS_EV_WAKING);
	pb_uint(&b, RC_PRIO, 255);
	pb_uint(&b, 99, 1); /* a later version's field: skipped */
	memset(&o, 0, sizeof(o));
	assert_int_equal(pf_rec_decode(b.p, b.len, &o, &ts, &why), 0);
	assert_int_equal(o.wk.prio, 255);
	assert_int_equal(o.h.size, sizeof(struct cs_waking));
	pb_uint(&b, RC_PRIO, 256); /* the last one counts, and is too big */
	expect_fault(&b, "bad record value");

	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, CS_EV_EXIT);
	pb_sint(&b, RC_VALUE, (int64_t)INT32_MIN - 1);
	expect_fault(&b, "bad record value");
	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, CS_EV_RENAME);
	pb_bytes(&b, RC_COMM, long_comm, strlen(long_comm));
	expect_fault(&b, "bad record value");
	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, CS_EV_LOCK_BEGIN);
	pb_bytes(&b, RC_STACK, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9); /* 9 frames of 8 */
	expect_fault(&b, "bad record value");
	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, CS_EV_MARK);
	pb_uint(&b, RC_CPU, 65536);
	expect_fault(&b, "bad record value");

	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, CS_EV_MARK);
	pb_bytes(&b, RC_VALUE, "x", 1); /* a varint field as bytes */
	expect_fault(&b, "bad record field");
	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, CS_EV_MARK);
	pb_uint(&b, RC_TEXT, 1); /* a string as a varint */
	expect_fault(&b, "bad record field");
	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, 12); /* no such kind */
	expect_fault(&b, "unknown record kind");
	pb_buf_reset(&b);
	pb_uint(&b, RC_KIND, 256 + CS_EV_MARK);
	expect_fault(&b, "unknown record kind");
	pb_buf_reset(&b);
	pb_uint(&b, RC_TID, 5); /* no kind at all */
	expect_fault(&b, "unknown record kind");
	pb_buf_reset(&b);
	pb_raw(&b, "\x08", 1); /* cut inside a field */
	expect_fault(&b, "bad record");
	pb_buf_free(&b);
}

/* The CompactSched arrays: distinct numbers, none of the other CompactSched fields. */
static void test_array_fields(void **state)
{
	static const uint32_t others[] = { CS_INTERN, CS_SWITCH_ORDER, CS_WAKING_ORDER,
					   CS_SYSCALL_TABLE, CS_SWITCH_X, CS_WAKING_X,
					   CS_SWITCH_LONG_WAIT };
	unsigned int a, b;

	for (a = 0; a < A_N; a++) {
		assert_true(pf_array_field[a] > 0);
		for (b = a + 1; b < A_N; b++)
			assert_true(pf_array_field[a] != pf_array_field[b]);
		for (b = 0; b < sizeof(others) / sizeof(others[0]); b++)
			assert_true(pf_array_field[a] != others[b]);
	}
	assert_int_equal(pf_array_field[A_SW_SYS], CS_SYSCALL_INDEX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_member_survives),
		cmocka_unit_test(test_known_bytes),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_array_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
