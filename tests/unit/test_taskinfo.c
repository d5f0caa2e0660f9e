/*
 * Unit tests: the title rule (when a cmdline is a rewritten title) and the
 * bookkeeping that reads /proc, on this very process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "taskinfo.h"

#define RAW(s) s, sizeof(s) - 1 /* a cmdline literal, its NULs included */

static void judged(const char *raw, size_t n, bool known, uint64_t hash, const char *want)
{
	char title[CS_TITLE_LEN];

	cs_title_judge(raw, n, known, hash, title, sizeof(title));
	assert_string_equal(title, want);
}

static void titles_against_the_exec_arguments(void **st)
{
	uint64_t h = cs_args_hash(RAW("postgres\0-D\0/var/lib/pg\0"));

	(void)st;
	/* the arguments it was exec'd with: no title, however they are padded */
	judged(RAW("postgres\0-D\0/var/lib/pg\0"), true, h, "");
	assert_true(cs_args_hash(RAW("postgres\0-D\0/var/lib/pg\0\0\0")) == h);
	/* rewritten: the title, its NULs as spaces and its padding cut */
	judged(RAW("postgres: checkpointer \0\0\0\0\0\0\0\0"), true, h, "postgres: checkpointer");
	judged(RAW("nginx: worker process\0\0\0\0"), true, h, "nginx: worker process");
	judged(RAW("stress-ng\0--cpu\0" "2\0"), true, h, "stress-ng --cpu 2");
}

static void titles_when_the_exec_arguments_are_not_known(void **st)
{
	(void)st;
	/* as exec'd: one NUL at the end */
	judged(RAW("sleep\0" "10\0"), false, 0, "");
	judged(RAW("/usr/sbin/sshd\0-D\0"), false, 0, "");
	/* padded with NULs over the rest of the area, or written past it */
	judged(RAW("postgres: walwriter \0\0\0\0"), false, 0, "postgres: walwriter");
	judged(RAW("python3: worker"), false, 0, "python3: worker");
	/* control characters show as spaces */
	judged(RAW("a\tb\nc\0\0"), false, 0, "a b c");
	/* nothing to read: a kernel thread, a zombie */
	judged("", 0, false, 0, "");
}

static void a_cut_read_says_nothing_and_a_long_title_is_cut(void **st)
{
	static char raw[CS_CMDLINE_MAX];
	char title[16];

	(void)st;
	memset(raw, 'x', sizeof(raw));
	/* a read that filled the buffer ends in no NUL, but was cut: no guess */
	judged(raw, CS_CMDLINE_MAX - 1, false, 0, "");
	memcpy(raw, "a title far longer than fifteen\0\0", 33);
	cs_title_judge(raw, 33, false, 0, title, sizeof(title));
	assert_string_equal(title, "a title far lon");
}

static struct { int titles, scheds; char title[CS_TITLE_LEN]; int policy; } seen;

static void collect(const struct cs_hdr *ev, void *ctx)
{
	(void)ctx;
	assert_int_equal(ev->ts, 77);
	if (ev->kind == CS_EV_TITLE) {
		seen.titles++;
		memcpy(seen.title, ((const struct cs_title *)ev)->title, CS_TITLE_LEN);
	} else if (ev->kind == CS_EV_TASK_SCHED) {
		seen.scheds++;
		seen.policy = ev->aux;
	}
}

/* This process, as run would start it with other arguments than its real ones. */
static void reads_this_process(void **st)
{
	struct cs_taskinfo *ti = cs_taskinfo_new();
	char *argv[] = { "not-this-program", "x", NULL };
	uint32_t me = (uint32_t)getpid();

	(void)st;
	assert_non_null(ti);
	memset(&seen, 0, sizeof(seen));
	cs_taskinfo_command(ti, me, argv, 1000);
	/* not yet due: a new task's facts wait CS_TASKINFO_AFTER_NS */
	cs_taskinfo_read(ti, 1000, false, 77, collect, NULL);
	assert_int_equal(seen.titles + seen.scheds, 0);
	cs_taskinfo_read(ti, 1000 + CS_TASKINFO_AFTER_NS, false, 77, collect, NULL);
	/* its cmdline is not the argv given: that reads as a title */
	assert_int_equal(seen.titles, 1);
	assert_non_null(strstr(seen.title, "test_taskinfo"));
	assert_int_equal(seen.scheds, 1);
	assert_int_equal(seen.policy, 0);
	/* the end: nothing changed, nothing is said again */
	cs_taskinfo_read(ti, 2000 + CS_TASKINFO_AFTER_NS, true, 77, collect, NULL);
	assert_int_equal(seen.titles, 1);
	assert_int_equal(seen.scheds, 1);
	/* found by attach: its arguments end in one NUL, no title */
	cs_taskinfo_reset(ti);
	memset(&seen, 0, sizeof(seen));
	cs_taskinfo_found(ti, me, me, 5000);
	cs_taskinfo_read(ti, 5000, false, 77, collect, NULL);
	assert_int_equal(seen.titles, 0);
	assert_int_equal(seen.scheds, 1);
	cs_taskinfo_free(&ti);
	assert_null(ti);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(titles_against_the_exec_arguments),
		cmocka_unit_test(titles_when_the_exec_arguments_are_not_known),
		cmocka_unit_test(a_cut_read_says_nothing_and_a_long_title_is_cut),
		cmocka_unit_test(reads_this_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
