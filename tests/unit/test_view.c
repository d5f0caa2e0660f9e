/* Unit tests: what the terminal shows of a view (filters, order) and the CSV table. */
#include <stdio.h>
#include <stdlib.h>
#include "stream.h"
#include "render.h"
#include "summary.h"

/*
 * pid 10: threads 10 (runs 4 ms, then sleeps) and 11 (waits 4 ms, runs 4 ms);
 * pid 20: thread 20, running all 8 ms on CPU 1, renamed "db,x" (a comma).
 */
static struct cs_core *three_threads(void)
{
	struct cs_core *c = tracking(10);
	struct cs_rename r;

	cs_core_track(c, 20);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 10);
	sw(c, 0, 0, 0, 0, 0, 0, 10, 10);
	sw(c, 0, 1, 0, 0, 0, 0, 20, 20);
	sw(c, 4 * MS, 0, 10, 10, 1, 0, 11, 10);
	hdr(&r.h, CS_EV_RENAME, sizeof(r), 5 * MS, 1, 20, 20);
	snprintf(r.comm, sizeof(r.comm), "db,x");
	cs_core_feed(c, &r.h);
	cs_core_finish(c, 8 * MS);
	return c;
}

/* The tids a shaped view shows, in order, as "pid:tid ..." */
static void shown(struct cs_core *c, const struct cs_view_opts *o, const char *want)
{
	struct cs_view v;
	char got[128] = "";
	size_t i, j, n = 0;

	assert_int_equal(cs_view_build(&v, c), 0);
	assert_int_equal(v.traced, 3);
	cs_view_shape(&v, o);
	for (i = 0; i < v.nprocs; i++)
		for (j = 0; j < v.procs[i].nthreads; j++)
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%u:%u", n ? " " : "",
					      v.procs[i].pid, v.procs[i].threads[j]->tid);
	assert_string_equal(got, want);
	cs_view_free(&v);
}

static void filters_select_threads(void **st)
{
	struct cs_core *c = three_threads();
	struct cs_view_opts o = { 0 };

	(void)st;
	shown(c, NULL, "10:10 10:11 20:20");
	shown(c, &o, "10:10 10:11 20:20");
	assert_false(cs_view_filtered(&o));
	o.pids[o.npids++] = 20;
	assert_true(cs_view_filtered(&o));
	shown(c, &o, "20:20");
	o.npids = 0;
	o.tids[o.ntids++] = 11;
	o.tids[o.ntids++] = 20;
	shown(c, &o, "10:11 20:20");
	o.ntids = 0;
	/* a comm matches its threads, or every thread of a process of that name */
	snprintf(o.comms[o.ncomms++], CS_FILTER_COMM, "task10");
	shown(c, &o, "10:10 10:11");
	snprintf(o.comms[0], CS_FILTER_COMM, "db*");
	shown(c, &o, "20:20");
	/* every filter given must match */
	o.pids[o.npids++] = 10;
	shown(c, &o, "");
	cs_core_free(&c);
}

static void sort_orders_processes_and_threads(void **st)
{
	struct cs_core *c = three_threads();
	struct cs_view_opts o = { 0 };
	enum cs_sort_key k;

	(void)st;
	assert_int_equal(cs_sort_parse("ready", &k), 0);
	assert_int_equal(k, CS_SORT_READY);
	assert_int_not_equal(cs_sort_parse("fast", &k), 0);
	o.sort = CS_SORT_READY; /* 11 waited, pid 10 did */
	shown(c, &o, "10:11 10:10 20:20");
	o.sort = CS_SORT_CPU; /* equal per process (8 ms each), pid first; 10 before 11 */
	shown(c, &o, "10:10 10:11 20:20");
	o.sort = CS_SORT_SWITCHES; /* 10 switched out once */
	shown(c, &o, "10:10 10:11 20:20");
	o.tids[o.ntids++] = 20;
	o.tids[o.ntids++] = 11;
	o.sort = CS_SORT_TID;
	shown(c, &o, "10:11 20:20");
	cs_core_free(&c);
}

static void the_terminal_says_what_it_left_out(void **st)
{
	struct cs_core *c = three_threads();
	struct cs_view_opts o = { .pids = { 20 }, .npids = 1 };
	struct cs_render_opts ro = { .width = 100, .ncpus = 2, .view = &o };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)st;
	cs_render(f, c, &ro);
	fclose(f);
	assert_non_null(strstr(out, "showing 1 of 3 threads (--pid): the totals, --json and --csv "
				    "have them all\n"));
	/* the timeline and the tables show the view; the totals, the profile and the
	 * findings after them are the whole recording's */
	assert_non_null(strstr(out, "\ntotal:"));
	*strstr(out, "\ntotal:") = 0;
	assert_null(strstr(out, "task10"));
	out[strlen(out)] = '\n';
	assert_non_null(strstr(out, "running 16.00ms, ready 4.00ms"));
	free(out);
	cs_core_free(&c);
}

static void csv_has_a_row_per_thread(void **st)
{
	struct cs_core *c = three_threads();
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)st;
	cs_summary_csv(f, c, NULL, NULL, true);
	fclose(f);
	assert_string_equal(out,
		"pid,tid,comm,title,running_ns,ready_ns,sleep_ns,io_ns,lock_ns,untraced_ns,"
		"voluntary_switches,involuntary_switches,migrations,wakeups,policy,nice,"
		"rt_priority,cgroup\n"
		"10,10,task10,,4000000,0,4000000,0,0,0,1,0,0,0,,,,\n"
		"10,11,task11,,4000000,4000000,0,0,0,0,0,0,0,0,,,,\n"
		"20,20,\"db,x\",,8000000,0,0,0,0,0,0,0,0,0,,,,\n");
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	cs_summary_csv(f, c, "threads", "cpu", false);
	fclose(f);
	assert_true(!strncmp(out, "threads,cpu,10,10,task10,", 25));
	free(out);
	cs_core_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filters_select_threads),
		cmocka_unit_test(sort_orders_processes_and_threads),
		cmocka_unit_test(the_terminal_says_what_it_left_out),
		cmocka_unit_test(csv_has_a_row_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
