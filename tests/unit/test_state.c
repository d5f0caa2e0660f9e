/* Unit tests: the one prev_state conversion and the voluntary rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "state.h"

static void raw_values_seen_on_this_kernel(void **st)
{
	(void)st;
	/* 0x102: TASK_KILLABLE (uninterruptible + wakekill) reports D */
	assert_int_equal(cs_state_report(false, 0x102, 0), CS_REPORT_D);
	/* 0x402: TASK_IDLE reports I, not D */
	assert_int_equal(cs_state_report(false, 0x402, 0), CS_REPORT_I);
	/* 0x2001: freezable interruptible sleep reports S */
	assert_int_equal(cs_state_report(false, 0x2001, 0), CS_REPORT_S);
	/* 0x80: TASK_DEAD; the exit_state says zombie or dead */
	assert_int_equal(cs_state_report(false, 0x80, 0x20), CS_REPORT_Z);
	assert_int_equal(cs_state_report(false, 0x80, 0x10), CS_REPORT_X);
	assert_int_equal(cs_state_report(false, 0x1, 0), CS_REPORT_S);
	assert_int_equal(cs_state_report(false, 0x2, 0), CS_REPORT_D);
	assert_int_equal(cs_state_report(false, 0, 0), CS_REPORT_RUNNING);
	/* preemption wins over any state */
	assert_int_equal(cs_state_report(true, 0x1, 0), CS_REPORT_PREEMPT);
	/* frozen and rtlock waits are reported as D */
	assert_int_equal(cs_state_report(false, 0x8000 | 0x1, 0), CS_REPORT_D);
	assert_int_equal(cs_state_report(false, 0x1000, 0), CS_REPORT_D);
	/* stopped, traced, parked */
	assert_int_equal(cs_state_report(false, 0x4, 0), CS_REPORT_T);
	assert_int_equal(cs_state_report(false, 0x8, 0), CS_REPORT_t);
	assert_int_equal(cs_state_report(false, 0x40, 0), CS_REPORT_P);
}

static void states_after_switch(void **st)
{
	(void)st;
	assert_int_equal(cs_state_after_switch(CS_REPORT_RUNNING), CS_ST_READY);
	assert_int_equal(cs_state_after_switch(CS_REPORT_PREEMPT), CS_ST_READY);
	assert_int_equal(cs_state_after_switch(CS_REPORT_S), CS_ST_SLEEP);
	assert_int_equal(cs_state_after_switch(CS_REPORT_I), CS_ST_SLEEP);
	assert_int_equal(cs_state_after_switch(CS_REPORT_D), CS_ST_IO);
	assert_int_equal(cs_state_after_switch(CS_REPORT_Z), CS_ST_DEAD);
	assert_int_equal(cs_state_after_switch(cs_state_report(false, 0x402, 0)), CS_ST_SLEEP);
	assert_int_equal(cs_state_after_switch(cs_state_report(false, 0x102, 0)), CS_ST_IO);
}

static void voluntary_follows_the_kernel_counters(void **st)
{
	(void)st;
	assert_true(cs_switch_voluntary(false, 0x1));
	assert_true(cs_switch_voluntary(false, 0x402));
	assert_true(cs_switch_voluntary(false, 0x80));
	/* preempted on the way back to user space: running, not preempt */
	assert_false(cs_switch_voluntary(false, 0));
	assert_false(cs_switch_voluntary(true, 0x1));
	assert_false(cs_switch_voluntary(true, 0));
}

static void letters_and_inverse(void **st)
{
	static const unsigned int reps[] = { CS_REPORT_RUNNING, CS_REPORT_S, CS_REPORT_D,
		CS_REPORT_T, CS_REPORT_t, CS_REPORT_X, CS_REPORT_Z, CS_REPORT_P, CS_REPORT_I,
		CS_REPORT_PREEMPT };
	unsigned int i, raw, ex;
	bool pre;

	(void)st;
	for (i = 0; i < sizeof(reps) / sizeof(reps[0]); i++) {
		cs_state_unreport(reps[i], &raw, &ex, &pre);
		assert_int_equal(cs_state_report(pre, raw, ex), reps[i]);
	}
	assert_int_equal(cs_state_from_proc('D'), CS_ST_IO);
	assert_int_equal(cs_state_from_proc('I'), CS_ST_SLEEP);
	assert_int_equal(cs_state_from_proc('S'), CS_ST_SLEEP);
	for (i = 0; i < 8; i++) /* S D T t X Z P I */
		assert_int_equal(cs_letter_from_char(cs_letter_char(i)), i);
	assert_int_equal(cs_letter_from_char('D'), 1);
	assert_int_equal(cs_letter_from_char('I'), 7);
	assert_int_equal(cs_letter_from_char('R'), -1);
	assert_int_equal(cs_letter_from_char(0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw_values_seen_on_this_kernel),
		cmocka_unit_test(states_after_switch),
		cmocka_unit_test(voluntary_follows_the_kernel_counters),
		cmocka_unit_test(letters_and_inverse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
