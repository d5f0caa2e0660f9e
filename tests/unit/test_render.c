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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cells_show_the_dominant_state),
		cmocka_unit_test(timeline_uses_the_width_and_no_colour_when_asked),
		cmocka_unit_test(json_has_the_documented_keys),
		cmocka_unit_test(json_strings_are_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
