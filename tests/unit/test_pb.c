// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* test_pb.c: golden bytes of the protobuf encoder, and a bounded decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pb.h"

/* Compare a buffer with the expected bytes, then reset it. */
static void expect_bytes(struct pb_buf *b, const uint8_t *want, size_t n)
{
	assert_int_equal(b->err, 0);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->p, want, n);
	pb_buf_reset(b);
}

#define EXPECT(b, ...)                                                  \
	do {                                                            \
		static const uint8_t want_[] = { __VA_ARGS__ };        \
		expect_bytes(b, want_, sizeof(want_));                  \
	} while (0)

static void test_varints(void **state)
{
	struct pb_buf b;

	pb_buf_init(&b);
	pb_varint(&b, 0);
	EXPECT(&b, 0x00);
	pb_varint(&b, 1);
	EXPECT(&b, 0x01);
	pb_varint(&b, 127);
	EXPECT(&b, 0x7f);
	pb_varint(&b, 128);
	EXPECT(&b, 0x80, 0x01);
	pb_varint(&b, 300);
	EXPECT(&b, 0xac, 0x02);
	pb_varint(&b, 1ull << 32);
	EXPECT(&b, 0x80, 0x80, 0x80, 0x80, 0x10);
	pb_varint(&b, UINT64_MAX);
	EXPECT(&b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	/* a negative int32/int64 is a 10-byte two's complement varint */
	pb_int(&b, 1, -1);
	EXPECT(&b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	pb_int(&b, 1, -2);
	EXPECT(&b, 0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	assert_int_equal(pb_varint_len(0), 1);
	assert_int_equal(pb_varint_len(127), 1);
	assert_int_equal(pb_varint_len(128), 2);
	assert_int_equal(pb_varint_len(UINT64_MAX), 10);
	pb_buf_free(&b);
}

static void test_zigzag(void **state)
{
	struct pb_buf b;

	assert_int_equal(pb_zigzag(0), 0);
	assert_int_equal(pb_zigzag(-1), 1);
	assert_int_equal(pb_zigzag(1), 2);
	assert_int_equal(pb_zigzag(-2), 3);
	assert_true(pb_zigzag(INT64_MAX) == UINT64_MAX - 1);
	assert_true(pb_zigzag(INT64_MIN) == UINT64_MAX);
	assert_true(pb_unzigzag(UINT64_MAX) == INT64_MIN);
	assert_true(pb_unzigzag(pb_zigzag(-123456789)) == -123456789);
	pb_buf_init(&b);
	pb_sint(&b, 2, -1);
	EXPECT(&b, 0x10, 0x01);
	pb_sint(&b, 2, -65);
	EXPECT(&b, 0x10, 0x81, 0x01);
	pb_buf_free(&b);
}

static void test_tags(void **state)
{
	struct pb_buf b;

	pb_buf_init(&b);
	pb_tag(&b, 1, PB_VARINT);
	EXPECT(&b, 0x08);
	pb_tag(&b, 2, PB_LEN);
	EXPECT(&b, 0x12);
	pb_tag(&b, 1, PB_I64);
	EXPECT(&b, 0x09);
	pb_tag(&b, 15, PB_I32);
	EXPECT(&b, 0x7d);
	pb_tag(&b, 16, PB_VARINT);
	EXPECT(&b, 0x80, 0x01);
	pb_tag(&b, 32001, PB_LEN);
	EXPECT(&b, 0x8a, 0xd0, 0x0f);
	pb_tag(&b, PB_MAX_FIELD, PB_VARINT);
	EXPECT(&b, 0xf8, 0xff, 0xff, 0xff, 0x0f);
	pb_uint(&b, 1, 150);
	EXPECT(&b, 0x08, 0x96, 0x01);
	pb_bool(&b, 3, true);
	EXPECT(&b, 0x18, 0x01);
	pb_str(&b, 2, "testing");
	EXPECT(&b, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g');
	pb_strn(&b, 2, "abcdef", 3);
	EXPECT(&b, 0x12, 0x03, 'a', 'b', 'c');
	pb_str(&b, 5, "");
	EXPECT(&b, 0x2a, 0x00);
	pb_buf_free(&b);
}

static void test_packed(void **state)
{
	struct pb_buf b, arr;

	pb_buf_init(&b);
	pb_buf_init(&arr);
	pb_varint(&arr, 3);
	pb_varint(&arr, 270);
	pb_varint(&arr, 86942);
	pb_packed(&b, 4, &arr);
	EXPECT(&b, 0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05);
	pb_buf_reset(&arr);
	pb_packed(&b, 4, &arr); /* empty: nothing at all */
	assert_int_equal(b.len, 0);
	pb_len_hdr(&b, 1001, 2);
	EXPECT(&b, 0xca, 0x3e, 0x02);
	pb_buf_free(&arr);
	pb_buf_free(&b);
}

static void test_nested(void **state)
{
	struct pb_buf b;
	size_t m, m2, i;

	pb_buf_init(&b);
	m = pb_nest_begin(&b, 3);
	pb_uint(&b, 1, 150);
	pb_nest_end(&b, m);
	EXPECT(&b, 0x1a, 0x03, 0x08, 0x96, 0x01);

	/* empty message */
	m = pb_nest_begin(&b, 8);
	pb_nest_end(&b, m);
	EXPECT(&b, 0x42, 0x00);

	/* two levels, inner length needs no move, outer does */
	m = pb_nest_begin(&b, 1);
	pb_uint(&b, 10, 1);
	m2 = pb_nest_begin(&b, 2);
	for (i = 0; i < 130; i++)
		pb_raw(&b, "x", 1);
	pb_nest_end(&b, m2);
	pb_nest_end(&b, m);
	assert_int_equal(b.err, 0);
	/* 0a <len=2+3+130=135: 87 01> 50 01 12 <130: 82 01> x*130 */
	assert_int_equal(b.len, 3 + 2 + 3 + 130);
	assert_int_equal(b.p[0], 0x0a);
	assert_int_equal(b.p[1], 0x87);
	assert_int_equal(b.p[2], 0x01);
	assert_int_equal(b.p[3], 0x50);
	assert_int_equal(b.p[4], 0x01);
	assert_int_equal(b.p[5], 0x12);
	assert_int_equal(b.p[6], 0x82);
	assert_int_equal(b.p[7], 0x01);
	for (i = 0; i < 130; i++)
		assert_int_equal(b.p[8 + i], 'x');
	pb_buf_reset(&b);

	/* a 20000-byte body: 3-byte length */
	m = pb_nest_begin(&b, 2);
	for (i = 0; i < 20000; i++)
		pb_raw(&b, (const uint8_t[]){ (uint8_t)i }, 1);
	pb_nest_end(&b, m);
	assert_int_equal(b.len, 1 + 3 + 20000);
	assert_int_equal(b.p[1], 0xa0);
	assert_int_equal(b.p[2], 0x9c);
	assert_int_equal(b.p[3], 0x01);
	for (i = 0; i < 20000; i++)
		assert_int_equal(b.p[4 + i], (uint8_t)i);
	pb_buf_free(&b);
}

static void test_decode_varints(void **state)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, 1ull << 32,
					 (1ull << 63) - 1, 1ull << 63, UINT64_MAX };
	struct pb_buf b;
	struct pb_dec d;
	uint64_t v;
	size_t i;

	pb_buf_init(&b);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		pb_varint(&b, vals[i]);
	pb_dec_init(&d, b.p, b.len);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		assert_int_equal(pb_get_varint(&d, &v), 0);
		assert_true(v == vals[i]);
	}
	assert_true(pb_dec_done(&d));
	assert_int_equal(pb_get_varint(&d, &v), PB_ETRUNC);
	assert_int_equal(pb_count_varints(b.p, b.len), sizeof(vals) / sizeof(vals[0]));
	pb_buf_free(&b);
}

static void test_decode_rejects(void **state)
{
	static const uint8_t trunc[] = { 0x80, 0x80 };
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x80, 0x80, 0x01 };
	static const uint8_t big10[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0x02 };
	static const uint8_t long_len[] = { 0x12, 0x05, 'a', 'b' };
	static const uint8_t huge_len[] = { 0x12, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t field0[] = { 0x00, 0x01 };
	static const uint8_t group[] = { 0x0b, 0x0c };
	static const uint8_t wt7[] = { 0x0f };
	static const uint8_t short64[] = { 0x09, 1, 2, 3 };
	static const uint8_t short32[] = { 0x0d, 1, 2 };
	struct pb_field f;
	struct pb_dec d;
	uint64_t v;

	pb_dec_init(&d, trunc, sizeof(trunc));
	assert_int_equal(pb_get_varint(&d, &v), PB_ETRUNC);
	assert_ptr_equal(d.p, trunc); /* nothing consumed */
	pb_dec_init(&d, eleven, sizeof(eleven));
	assert_int_equal(pb_get_varint(&d, &v), PB_EBAD);
	pb_dec_init(&d, big10, sizeof(big10));
	assert_int_equal(pb_get_varint(&d, &v), PB_EBAD);
	pb_dec_init(&d, long_len, sizeof(long_len));
	assert_int_equal(pb_next(&d, &f), PB_ETRUNC);
	pb_dec_init(&d, huge_len, sizeof(huge_len));
	assert_int_equal(pb_next(&d, &f), PB_ETRUNC);
	pb_dec_init(&d, field0, sizeof(field0));
	assert_int_equal(pb_next(&d, &f), PB_EBAD);
	pb_dec_init(&d, group, sizeof(group));
	assert_int_equal(pb_next(&d, &f), PB_EBAD);
	pb_dec_init(&d, wt7, sizeof(wt7));
	assert_int_equal(pb_next(&d, &f), PB_EBAD);
	pb_dec_init(&d, short64, sizeof(short64));
	assert_int_equal(pb_next(&d, &f), PB_ETRUNC);
	pb_dec_init(&d, short32, sizeof(short32));
	assert_int_equal(pb_next(&d, &f), PB_ETRUNC);
	assert_true(pb_count_varints(trunc, sizeof(trunc)) < 0);
	assert_true(pb_count_varints(eleven, sizeof(eleven)) < 0);
	assert_int_equal(pb_count_varints(NULL, 0), 0);
}

static void test_decode_message(void **state)
{
	struct pb_buf b, arr;
	struct pb_field f;
	struct pb_dec d, sub;
	size_t m;
	uint64_t v;

	pb_buf_init(&b);
	pb_buf_init(&arr);
	pb_uint(&b, 1, 42);
	pb_tag(&b, 2, PB_I64); /* 0xdeadbeefcafef00d, little-endian */
	pb_raw(&b, (const uint8_t[]){ 0x0d, 0xf0, 0xfe, 0xca, 0xef, 0xbe, 0xad, 0xde }, 8);
	m = pb_nest_begin(&b, 3);
	pb_str(&b, 1, "hi");
	pb_nest_end(&b, m);
	pb_varint(&arr, 5);
	pb_varint(&arr, 500);
	pb_packed(&b, 4, &arr);
	pb_tag(&b, 5, PB_I32);
	pb_raw(&b, (const uint8_t[]){ 1, 0, 0, 0x80 }, 4);

	pb_dec_init(&d, b.p, b.len);
	assert_int_equal(pb_next(&d, &f), 1);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.wt, PB_VARINT);
	assert_int_equal(f.u, 42);
	assert_int_equal(pb_next(&d, &f), 1);
	assert_int_equal(f.num, 2);
	assert_int_equal(f.wt, PB_I64);
	assert_true(f.u == 0xdeadbeefcafef00dull);
	assert_int_equal(pb_next(&d, &f), 1);
	assert_int_equal(f.num, 3);
	assert_int_equal(f.wt, PB_LEN);
	pb_sub(&sub, &f);
	assert_int_equal(pb_next(&sub, &f), 1);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.len, 2);
	assert_memory_equal(f.data, "hi", 2);
	assert_int_equal(pb_next(&sub, &f), 0);
	assert_int_equal(pb_next(&d, &f), 1);
	assert_int_equal(f.num, 4);
	assert_int_equal(pb_count_varints(f.data, f.len), 2);
	pb_sub(&sub, &f);
	assert_int_equal(pb_get_varint(&sub, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(pb_get_varint(&sub, &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(pb_next(&d, &f), 1);
	assert_int_equal(f.num, 5);
	assert_int_equal(f.wt, PB_I32);
	assert_int_equal(f.u, 0x80000001u);
	assert_int_equal(pb_next(&d, &f), 0);
	/* the sub-message cursor never reads past its field */
	pb_dec_init(&d, b.p, b.len);
	pb_next(&d, &f);
	pb_next(&d, &f);
	pb_next(&d, &f);
	f.len = 3; /* pretend the payload is shorter: "hi" cut */
	pb_sub(&sub, &f);
	assert_int_equal(pb_next(&sub, &f), PB_ETRUNC);
	pb_buf_free(&arr);
	pb_buf_free(&b);
}

static void test_raw_buffer_reuse(void **state)
{
	struct pb_buf b;
	uint8_t *p;
	int i;

	pb_buf_init(&b);
	for (i = 0; i < 1000; i++)
		pb_uint(&b, 1, (uint64_t)i);
	p = b.p;
	pb_buf_reset(&b);
	for (i = 0; i < 1000; i++)
		pb_uint(&b, 1, (uint64_t)i);
	assert_ptr_equal(b.p, p); /* reused, not reallocated */
	pb_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_zigzag),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_packed),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_decode_varints),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_decode_message),
		cmocka_unit_test(test_raw_buffer_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
