// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * test_pf_codec.c: the trace file's small codecs: CRC-32 against its check
 * value and a bitwise reference, and the order codec
 * (sequence numbers as gaps) both ways, with the faults the reader reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pf_codec.h"

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return ~c;
}

static void test_crc(void **state)
{
	static pf_crc_table t;
	uint8_t buf[100];
	size_t n, cut;

	pf_crc_init(t);
	assert_int_equal(pf_crc_update(t, 0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
	assert_int_equal(pf_crc_update(t, 0, buf, 0), 0);
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (uint8_t)(n * 37 + 11);
	for (n = 0; n <= sizeof(buf); n++) {
		uint32_t whole = pf_crc_update(t, 0, buf, n);

		assert_int_equal(whole, crc_bitwise(buf, n));
		for (cut = 0; cut <= n; cut += 3) /* running: chunks give the same */
			assert_int_equal(pf_crc_update(t, pf_crc_update(t, 0, buf, cut), buf + cut,
						       n - cut), whole);
	}
}

/* Encode seqs, flushed as the writer does before reading the array. */
static void encode(struct pf_ordenc *o, const uint64_t *seq, size_t n)
{
	size_t i;

	pf_ord_reset(o);
	for (i = 0; i < n; i++)
		pf_ord_put(o, seq[i]);
	pf_ord_flush(o);
}

static int decode(const struct pf_ordenc *o, uint32_t count, uint16_t *owner, uint64_t nrec,
		  const char **why)
{
	memset(owner, 0xff, nrec * sizeof(*owner));
	return pf_ord_decode(o->out.p, o->out.len, count, 5, owner, nrec, why);
}

static void test_order_roundtrip(void **state)
{
	static const uint64_t seq[] = { 0, 2, 4, 6, 8, 9, 10, 30, 31, 33, 35, 37, 39, 40 };
	static const uint8_t run[] = { 1, 2, 0 }; /* gap 0, a run of 3: x = 1, n = 2 */
	struct pf_ordenc o = { 0 };
	uint16_t owner[64];
	const char *why = NULL;
	size_t i, k;

	encode(&o, seq, 3); /* 0, 2, 4: gaps 0, 1, 1: two elements of a kind stay apart */
	assert_memory_equal(o.out.p, ((const uint8_t[]){ 0, 2, 2 }), 3);
	assert_int_equal(o.out.len, 3);
	encode(&o, (const uint64_t[]){ 0, 1, 2 }, 3);
	assert_memory_equal(o.out.p, run, o.out.len);
	encode(&o, seq, 2); /* two equal gaps stay two elements */
	assert_int_equal(o.out.len, 2);

	encode(&o, seq, sizeof(seq) / sizeof(seq[0]));
	assert_int_equal(decode(&o, sizeof(seq) / sizeof(seq[0]), owner, 41, &why), 0);
	for (i = 0, k = 0; i < 41; i++) {
		bool in = k < sizeof(seq) / sizeof(seq[0]) && seq[k] == i;

		assert_int_equal(owner[i], in ? 5 : PF_ORD_FREE);
		k += in;
	}
	pb_buf_free(&o.out);
}

static void expect_fault(const struct pf_ordenc *o, uint32_t count, uint64_t nrec,
			 const char *what)
{
	uint16_t owner[64];
	const char *why = NULL;

	assert_int_equal(decode(o, count, owner, nrec, &why), -EINVAL);
	assert_string_equal(why, what);
}

static void test_order_faults(void **state)
{
	static const uint64_t seq[] = { 1, 3, 5, 6 };
	struct pf_ordenc o = { 0 };
	uint16_t owner[64];
	const char *why;

	encode(&o, seq, 4);
	expect_fault(&o, 3, 10, "order array too long");
	expect_fault(&o, 5, 10, "order array too short");
	expect_fault(&o, 4, 6, "bad sequence number"); /* 6 is not < 6 */
	expect_fault(&o, 0, 10, "order array too long");
	/* the same sequence number claimed twice: a second array over owner[] */
	memset(owner, 0xff, sizeof(owner));
	assert_int_equal(pf_ord_decode(o.out.p, o.out.len, 4, 1, owner, 10, &why), 0);
	assert_int_equal(pf_ord_decode(o.out.p, o.out.len, 4, 2, owner, 10, &why), -EINVAL);
	assert_string_equal(why, "two records with one sequence number");
	/* a run whose count is cut off, an overlong varint */
	pb_buf_reset(&o.out);
	pb_varint(&o.out, 3);
	expect_fault(&o, 4, 10, "bad order array");
	pb_buf_reset(&o.out);
	pb_raw(&o.out, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	expect_fault(&o, 4, 10, "bad order array");
	/* an empty array is right only for no elements */
	pb_buf_reset(&o.out);
	assert_int_equal(decode(&o, 0, owner, 0, &why), 0);
	expect_fault(&o, 1, 10, "order array too short");
	pb_buf_free(&o.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc),
		cmocka_unit_test(test_order_roundtrip),
		cmocka_unit_test(test_order_faults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
