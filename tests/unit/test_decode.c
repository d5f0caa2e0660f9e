/* Unit tests: record validation. */
#include <stdio.h>
#include "stream.h"
#include "decode.h"

static void accepts_well_formed_records(void **st)
{
	struct cs_switch s = mk_switch(1, 0, 1, 1, 0, 0, 2, 2);
	unsigned char buf[256] __attribute__((aligned(8)));
	size_t off = 0;

	(void)st;
	assert_ptr_equal(cs_decode(&s, sizeof(s)), &s.h);
	memcpy(buf, &s, sizeof(s));
	memcpy(buf + sizeof(s), &s, sizeof(s));
	assert_non_null(cs_decode_next(buf, 2 * sizeof(s), &off));
	assert_non_null(cs_decode_next(buf, 2 * sizeof(s), &off));
	assert_null(cs_decode_next(buf, 2 * sizeof(s), &off));
	assert_int_equal(off, 2 * sizeof(s));
}

static void rejects_malformed_records(void **st)
{
	struct cs_switch s = mk_switch(1, 0, 1, 1, 0, 0, 2, 2);
	size_t off = 0;

	(void)st;
	assert_null(cs_decode(&s, sizeof(s) - 8));   /* length disagrees */
	assert_null(cs_decode(&s, 8));               /* shorter than a header */
	assert_null(cs_decode(NULL, sizeof(s)));
	s.h.kind = 200;                              /* unknown kind */
	assert_null(cs_decode(&s, sizeof(s)));
	s.h.kind = CS_EV_SWITCH;
	s.h.size = 40;                               /* size field lies */
	assert_null(cs_decode(&s, sizeof(s)));
	s.h.size = 0;                                /* would loop forever */
	assert_null(cs_decode_next(&s, sizeof(s), &off));
	assert_int_equal(off, 0);
	s.h.size = 0xffff;                           /* runs past the buffer */
	assert_null(cs_decode_next(&s, sizeof(s), &off));
	{
		/* the same good record, aligned and then 4 bytes off */
		unsigned char b[sizeof(s) + 8] __attribute__((aligned(8)));

		s.h.size = sizeof(s);
		memcpy(b, &s, sizeof(s));
		assert_non_null(cs_decode(b, sizeof(s)));
		memcpy(b + 4, &s, sizeof(s));
		assert_null(cs_decode(b + 4, sizeof(s))); /* misaligned */
	}
}

static void every_kind_has_a_size_and_name(void **st)
{
	unsigned int k;

	(void)st;
	for (k = 1; k <= CS_EV_FUTEX_EXIT; k++) {
		assert_true(cs_kind_size(k) >= sizeof(struct cs_hdr));
		assert_true(cs_kind_size(k) % 8 == 0);
		assert_true(cs_kind_size(k) <= CS_REC_MAX);
	}
	for (k = CS_EV_USER_BASE; k <= CS_EV_WAKE_SOURCE; k++)
		assert_true(cs_kind_size(k) >= sizeof(struct cs_hdr));
	for (k = CS_EV_STACK; k < CS_EV_KIND_MAX; k++) /* 72..79: not (yet) kinds */
		assert_true(cs_kind_size(k) >= sizeof(struct cs_hdr) && cs_kind_size(k) <= CS_REC_MAX);
	assert_int_equal(cs_kind_size(CS_EV_SWITCH), sizeof(struct cs_switch));
	assert_int_equal(cs_kind_size(0), 0);
	assert_int_equal(cs_kind_size(12), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_well_formed_records),
		cmocka_unit_test(rejects_malformed_records),
		cmocka_unit_test(every_kind_has_a_size_and_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
