/* Unit tests: the terminal view and the JSON summary of a known stream. */
#include <stdio.h>
#include <stdlib.h>
#include "stream.h"
#include "render.h"
#include "summary.h"

/* 4 ms running, 4 ms ready, 4 ms sleeping, then 4 ms of I/O */
static struct cs_core *known(void)
{
	struct cs_core *c = tracking(10);

	mark(c, 0, CS_MARK_WINDOW_BEGIN, 10);
	sw(c, 0, 0, 0, 0, 0, 0, 10, 10);
	sw(c, 4 * MS, 0, 10, 10, 0, 1, 99, 99);
	sw(c, 8 * MS, 0, 99, 99, 0, 1, 10, 10);
	sw(c, 8 * MS, 0, 10, 10, 1, 0, 99, 99);
	wake(c, 12 * MS, 0, 10, 10, 0);
	sw(c, 12 * MS, 0, 99, 99, 0, 1, 10, 10);
	sw(c, 12 * MS, 0, 10, 10, 2, 0, 99, 99);
	cs_core_finish(c, 16 * MS);
	return c;
}

static char *render(struct cs_core *c, unsigned int width, bool color)
{
	struct cs_render_opts o = { .width = width, .color = color, .ncpus = 2, .title = "t" };
	char *out = malloc(1 << 16);
	FILE *f = fmemopen(out, 1 << 16, "w");

	assert_non_null(f);
	cs_render(f, c, &o);
	fclose(f);
	return out;
}

static void cells_show_the_dominant_state(void **st)
{
	struct cs_core *c = known();
	const struct cs_thread *t = cs_core_find(c, 10);

	(void)st;
	assert_int_equal(cs_render_cell(c, t, 0, 4 * MS), CS_ST_RUNNING);
	assert_int_equal(cs_render_cell(c, t, 4 * MS, 8 * MS), CS_ST_READY);
	assert_int_equal(cs_render_cell(c, t, 8 * MS, 12 * MS), CS_ST_SLEEP);
	assert_int_equal(cs_render_cell(c, t, 12 * MS, 16 * MS), CS_ST_IO);
	assert_int_equal(cs_render_cell(c, t, 2 * MS, 7 * MS), CS_ST_READY); /* 3 of 5 ms */
	cs_core_free(&c);
}

static void timeline_uses_the_width_and_no_colour_when_asked(void **st)
{
	struct cs_core *c = known();
	char *out = render(c, 80, false), *lane, *end;

	(void)st;
	assert_null(strchr(out, '\033'));
	lane = strstr(out, "task10");
	assert_non_null(lane);
	lane = strchr(lane, '|');
	end = strchr(lane + 1, '|');
	/* 80 columns: a 24-column label, then the cells between the bars */
	assert_int_equal(end - lane - 1, 80 - 24 - 4);
	/* a quarter of each state, in order */
	assert_int_equal(lane[1], '#');
	assert_int_equal(lane[20], '+');
	assert_int_equal(lane[35], '.');
	assert_int_equal(end[-1], 'D');
	assert_non_null(strstr(out, "25.0  25.0  25.0  25.0"));
	assert_non_null(strstr(out, "switches 2 voluntary, 1 involuntary"));
	free(out);
	out = render(c, 120, true);
	assert_non_null(strchr(out, '\033'));
	free(out);
	cs_core_free(&c);
}

static void json_has_the_documented_keys(void **st)
{
	static const char *const keys[] = { "\"duration_ns\":16000000", "\"ncpus\":2",
		"\"events\":", "\"lost_events\":0", "\"totals\":{", "\"running_ns\":4000000",
		"\"ready_ns\":4000000", "\"sleep_ns\":4000000", "\"io_ns\":4000000",
		"\"lock_ns\":0", "\"voluntary_switches\":2", "\"involuntary_switches\":1",
		"\"parallelism\":0.25", "\"processes\":[{\"pid\":10", "\"threads\":[{\"tid\":10",
		"\"migrations\":0", "\"wakeups\":1", "\"sched_latency_ns\":{", "\"p50\":",
		"\"p99\":", "\"max\":", "\"blocked_in\":[{\"syscall\":\"read\"" };
	struct cs_core *c = known();
	struct cs_jsonw w;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	(void)st;
	cs_json_init(&w, f);
	cs_json_obj_begin(&w);
	cs_summary_json(&w, c, 2);
	cs_json_obj_end(&w);
	fclose(f);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strstr(buf, keys[i]))
			fail_msg("missing %s in %s", keys[i], buf);
	free(buf);
	cs_core_free(&c);
}

/*
 * Two processes on two CPUs: pid 10's threads take turns on CPU 0 (11 waits
 * for 10 to sleep), pid 20 runs on CPU 1.
 */
static struct cs_core *two_processes(void)
{
	struct cs_core *c = tracking(10);

	cs_core_track(c, 20);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 10);
	sw(c, 0, 0, 0, 0, 0, 0, 10, 10);
	sw(c, 0, 1, 0, 0, 0, 0, 20, 20);
	sw(c, 4 * MS, 0, 10, 10, 1, 0, 11, 10);
	cs_core_finish(c, 8 * MS);
	return c;
}

static char *summary_json(struct cs_core *c)
{
	struct cs_jsonw w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cs_json_init(&w, f);
	cs_json_obj_begin(&w);
	cs_summary_json(&w, c, 2);
	cs_json_obj_end(&w);
	fclose(f);
	return buf;
}

static void each_process_has_its_totals(void **st)
{
	struct cs_core *c = two_processes();
	char *out = render(c, 80, false), *js = summary_json(c);

	(void)st;
	/* in the table: CPU time and parallelism, and a row of all its threads */
	assert_non_null(strstr(out, "pid 10 task10: CPU 8.00ms, parallelism 1.00\n"));
	assert_non_null(strstr(out, "pid 20 task20: CPU 8.00ms, parallelism 1.00\n"));
	assert_non_null(strstr(out, "    all 2 threads        50.0  25.0  25.0   0.0   0.0       1       0"));
	assert_null(strstr(out, "all 1 threads"));
	/* in the JSON */
	assert_non_null(strstr(js, "{\"pid\":10,\"comm\":\"task10\",\"totals\":{"
				   "\"running_ns\":8000000,\"ready_ns\":4000000,\"sleep_ns\":4000000,"));
	assert_non_null(strstr(js, "\"voluntary_switches\":1,\"involuntary_switches\":0,"
				   "\"migrations\":0,\"wakeups\":0,\"parallelism\":1},\"parallelism_profile\":"));
	free(out);
	free(js);
	cs_core_free(&c);
}

static void title_and_sched(struct cs_core *c, uint32_t pid, const char *title, uint32_t tid,
			    unsigned int policy, int nice, unsigned int rt)
{
	struct cs_title t;
	struct cs_task_sched k;

	hdr(&t.h, CS_EV_TITLE, sizeof(t), 8 * MS, 0xffff, pid, pid);
	snprintf(t.title, sizeof(t.title), "%s", title);
	cs_core_feed(c, &t.h);
	hdr(&k.h, CS_EV_TASK_SCHED, sizeof(k), 8 * MS, 0xffff, tid, pid);
	k.h.aux = (uint16_t)policy;
	k.nice = nice;
	k.rt_priority = rt;
	snprintf(k.cgroup, sizeof(k.cgroup), "/system.slice/db.service");
	cs_core_feed(c, &k.h);
}

static void titles_and_scheduling_are_shown(void **st)
{
	struct cs_core *c = tracking(10);
	char *out, *js;

	(void)st;
	cs_core_track(c, 20);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 10);
	sw(c, 0, 0, 0, 0, 0, 0, 10, 10);
	sw(c, 0, 1, 0, 0, 0, 0, 20, 20);
	sw(c, 4 * MS, 0, 10, 10, 1, 0, 11, 10);
	title_and_sched(c, 10, "postgres: checkpointer", 11, 1 /* FIFO */, 0, 50);
	title_and_sched(c, 20, "", 20, 0, 10, 0);
	cs_core_finish(c, 8 * MS);
	out = render(c, 100, false);
	js = summary_json(c);
	assert_non_null(strstr(out, "task10 (pid 10, 2 threads) \"postgres: checkpointer\"\n"));
	assert_non_null(strstr(out, "pid 10 task10 \"postgres: checkpointer\": CPU"));
	assert_non_null(strstr(out, "     0 FIFO/50\n"));
	assert_non_null(strstr(out, "     0 nice 10\n"));
	assert_non_null(strstr(js, "{\"pid\":10,\"comm\":\"task10\",\"title\":\"postgres: checkpointer\""));
	assert_non_null(strstr(js, "{\"pid\":20,\"comm\":\"task20\",\"totals\""));
	assert_non_null(strstr(js, "{\"tid\":11,\"comm\":\"task11\",\"policy\":\"fifo\",\"nice\":0,"
				   "\"rt_priority\":50,\"cgroup\":\"/system.slice/db.service\","));
	assert_non_null(strstr(js, "{\"tid\":20,\"comm\":\"task20\",\"policy\":\"other\",\"nice\":10,"
				   "\"cgroup\""));
	/* not read: no keys */
	assert_non_null(strstr(js, "{\"tid\":10,\"comm\":\"task10\",\"running_ns\""));
	free(out);
	out = render(c, 80, false); /* no room at the row's end: a line of its own */
	assert_non_null(strstr(out, "sched: FIFO/50\n"));
	free(out);
	free(js);
	cs_core_free(&c);
}

static void json_strings_are_escaped(void **st)
{
	struct cs_jsonw w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)st;
	cs_json_init(&w, f);
	cs_json_obj_begin(&w);
	cs_json_kstr(&w, "a", "q\"b\\\n\x01");
	cs_json_key(&w, "l");
	cs_json_arr_begin(&w);
	cs_json_u64(&w, 1);
	cs_json_u64(&w, 2);
	cs_json_arr_end(&w);
	cs_json_obj_end(&w);
	fclose(f);
	assert_string_equal(buf, "{\"a\":\"q\\\"b\\\\\\u000a\\u0001\",\"l\":[1,2]}\n");
	free(buf);
}

/* Lock waits past the lock table and records of unknown kinds: on the events line, as in the JSON. */
static void what_was_dropped_is_said(void **st)
{
	struct cs_core *c = known();
	struct cs_hdr odd;
	char *out = render(c, 100, false);
	uint64_t i, ts = 20 * MS;

	(void)st;
	assert_non_null(strstr(out, "events "));
	assert_null(strstr(out, "dropped:")); /* nothing dropped: nothing said */
	free(out);
	cs_core_free(&c);

	c = tracking(10);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 10);
	for (i = 0; i < 65536 + 7; i++, ts += 4000) { /* a spinlock each: the table holds 65536 */
		klock(c, ts, CS_EV_LOCK_BEGIN, 10, 10, 0x100000 + i * 64, 1u << 0, 0);
		klock(c, ts + 2000, CS_EV_LOCK_END, 10, 10, 0x100000 + i * 64, 0, 0);
	}
	hdr(&odd, 63, sizeof(odd), ts, 0, 10, 10); /* not a kind: 63 is below CS_EV_USER_BASE and unused */
	cs_core_feed(c, &odd);
	cs_core_feed(c, &odd);
	cs_core_finish(c, ts + MS);
	assert_int_equal(cs_core_stats(c)->locks_dropped, 7);
	assert_int_equal(cs_core_stats(c)->unknown_kind, 2);
	out = render(c, 100, false);
	assert_non_null(strstr(out, " lost; dropped: 7 lock waits over the lock table, "
				    "2 records of unknown kinds\n"));
	free(out);
	cs_core_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cells_show_the_dominant_state),
		cmocka_unit_test(timeline_uses_the_width_and_no_colour_when_asked),
		cmocka_unit_test(json_has_the_documented_keys),
		cmocka_unit_test(each_process_has_its_totals),
		cmocka_unit_test(titles_and_scheduling_are_shown),
		cmocka_unit_test(json_strings_are_escaped),
		cmocka_unit_test(what_was_dropped_is_said),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
