/* Unit tests: processes grouped by program (groups.c) and their view in the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include "stream.h"
#include "groups.h"
#include "render.h"
#include "render_groups.h"
#include "summary.h"

#define NPROCS 12

static const char *comm_of(unsigned int k)
{
	return k < 6 ? "cc1" : k < 10 ? "sh" : "make";
}

static void rename_to(struct cs_core *c, uint64_t ts, uint32_t tid, uint32_t pid, const char *n)
{
	struct cs_rename r;

	hdr(&r.h, CS_EV_RENAME, sizeof(r), ts, 0, tid, pid);
	snprintf(r.comm, sizeof(r.comm), "%s", n);
	cs_core_feed(c, &r.h);
}

/*
 * Twelve processes run one after the other on CPU 0, process k (pid 100 + k)
 * for k + 1 ms: six named cc1, four sh, two make; each is woken as the one
 * before it leaves the CPU, but pid 103 waits 1 ms for the CPU first; make (pid 110) has a second thread, 120, running 5 ms on CPU 1.
 */
static struct cs_core *build(void)
{
	struct cs_core *c = tracking(100);
	uint64_t ts = 0;
	unsigned int k;

	for (k = 1; k < NPROCS; k++)
		cs_core_track(c, 100 + k);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 100);
	sw(c, 0, 1, 0, 0, 0, 0, 120, 110);
	sw(c, 0, 0, 0, 0, 0, 0, 100, 100);
	for (k = 0; k < NPROCS; k++) {
		uint32_t pid = 100 + k, next = k + 1 < NPROCS ? pid + 1 : 0;

		rename_to(c, ts, pid, pid, comm_of(k));
		ts += (k + 1) * MS;
		if (ts >= 5 * MS && ts < 5 * MS + (k + 1) * MS) /* in time order */
			sw(c, 5 * MS, 1, 120, 110, 1, 0, 0, 0);
		if (next) /* woken as the CPU frees, but pid 103 a millisecond before */
			wake(c, k + 1 == 3 ? ts - MS : ts, 1, next, next, 0);
		sw(c, ts, 0, pid, pid, 1, 0, next, next);
	}
	rename_to(c, ts, 120, 110, "make");
	cs_core_finish(c, ts + 2 * MS);
	return c;
}

/* Each group's totals, summed here over the core's threads of processes of its name. */
static void expect_sums(const struct cs_core *c, const struct cs_view *v, const struct cs_group *g)
{
	uint64_t ns[CS_NACC] = { 0 }, sw = 0, mig = 0, wk = 0;
	size_t i, procs = 0, threads = 0, j;
	unsigned int s;

	for (i = 0; i < v->nprocs; i++) {
		if (strcmp(v->procs[i].comm, g->comm))
			continue;
		procs++;
		for (j = 0; j < v->procs[i].nthreads; j++) {
			const struct cs_thread *t = cs_core_find(c, v->procs[i].threads[j]->tid);

			threads++;
			for (s = 0; s < CS_NACC; s++)
				ns[s] += t->ns[s];
			sw += t->nvcsw + t->nivcsw;
			mig += t->migrations;
			wk += t->wakeups;
		}
	}
	assert_int_equal(g->nprocs, procs);
	assert_int_equal(g->nthreads, threads);
	for (s = 0; s < CS_NACC; s++)
		assert_int_equal(g->totals.ns[s], ns[s]);
	assert_int_equal(g->totals.nvcsw + g->totals.nivcsw, sw);
	assert_int_equal(g->totals.migrations, mig);
	assert_int_equal(g->totals.wakeups, wk);
}

static void group_totals_are_their_members_sums(void **st)
{
	struct cs_core *c = build();
	struct cs_groups gs;
	struct cs_totals all;
	struct cs_view v;
	size_t i;
	unsigned int s;

	(void)st;
	cs_core_totals(c, &all);
	assert_int_equal(cs_view_build(&v, c), 0);
	assert_int_equal(v.nprocs, NPROCS);
	assert_true(cs_view_grouped(&v));
	assert_int_equal(cs_groups_build(&gs, &v, cs_core_duration(c)), 0);
	assert_int_equal(gs.n, 3);
	/* most CPU first: cc1 ran 1+..+6 = 21 ms, sh 7+..+10 = 34 ms, make 11+12+5 = 28 ms */
	assert_string_equal(gs.g[0].comm, "sh");
	assert_string_equal(gs.g[1].comm, "make");
	assert_string_equal(gs.g[2].comm, "cc1");
	assert_int_equal(gs.g[0].totals.ns[CS_ST_RUNNING], 34 * MS);
	assert_int_equal(gs.g[1].totals.ns[CS_ST_RUNNING], 28 * MS);
	assert_int_equal(gs.g[2].totals.ns[CS_ST_RUNNING], 21 * MS);
	assert_int_equal(gs.g[2].totals.ns[CS_ST_READY], 1 * MS); /* pid 103 */
	for (i = 0; i < gs.n; i++)
		expect_sums(c, &v, &gs.g[i]);
	/* and the groups add up to the whole */
	assert_int_equal(gs.nprocs, NPROCS);
	assert_int_equal(gs.nthreads, NPROCS + 1);
	for (s = 0; s < CS_NACC; s++)
		assert_int_equal(gs.totals.ns[s], all.ns[s]);
	assert_int_equal(gs.totals.nvcsw, all.nvcsw);
	assert_int_equal(gs.totals.nivcsw, all.nivcsw);
	/* 34 of 83 ms is under 90%, 62 too; all three are */
	assert_int_equal(cs_groups_covering(&gs, 90), 3);
	assert_int_equal(cs_groups_covering(&gs, 40), 1);
	cs_groups_sort(&gs, CS_SORT_READY);
	assert_string_equal(gs.g[0].comm, "cc1");
	cs_groups_free(&gs);
	cs_view_free(&v);
	cs_core_free(&c);
}

static char *render_top(struct cs_core *c, int top, unsigned int width)
{
	struct cs_render_opts o = { .width = width, .ncpus = 2, .title = "t", .top = top };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	cs_render(f, c, &o);
	fclose(f);
	return out;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (s = strstr(s, what); s; s = strstr(s + 1, what))
		n++;
	return n;
}

static void many_processes_are_shown_by_program(void **st)
{
	struct cs_core *c = build();
	char *out = render_top(c, 0, 100);

	(void)st;
	assert_non_null(strstr(out, "\n12 processes (6 cc1, 4 sh, 2 make) with 13 threads, 80.00ms, "
				    "parallelism 1.04 of 2 CPUs\n"));
	assert_non_null(strstr(out, "\nthreads running          |"));
	/* the lanes' cells start where the thread lanes' do, under the axis */
	assert_non_null(strstr(out, "\n  sh x4                  |"));
	assert_non_null(strstr(out, "\nPROGRAM "));
	assert_non_null(strstr(out, "\nsh                  4  34.00ms  41.0"));
	/* the default fits the budget; colour only when asked for */
	assert_true(count(out, "\n") <= CS_SUMMARY_LINES);
	assert_null(strchr(out, '\033'));
	free(out);
	/* --top 0: every process in full; --top 2: the two that ran longest */
	out = render_top(c, -1, 100);
	assert_int_equal(count(out, "\npid "), NPROCS);
	free(out);
	out = render_top(c, 2, 100);
	assert_int_equal(count(out, "\npid "), 2);
	assert_non_null(strstr(out, "\npid 111 make: CPU 12.00ms"));
	assert_non_null(strstr(out, "\npid 110 make: CPU 16.00ms"));
	assert_non_null(strstr(out, "  ... 10 more processes not shown in full"));
	free(out);
	cs_core_free(&c);
}

static void a_program_cell_says_how_many_ran(void **st)
{
	(void)st;
	assert_int_equal(cs_group_cell(0, 0, 0), ' ');
	assert_int_equal(cs_group_cell(0, 0, 1), '.');
	assert_int_equal(cs_group_cell(0.2, 0, 1), ':');
	assert_int_equal(cs_group_cell(0.1, 0.6, 1), '+');
	assert_int_equal(cs_group_cell(0.7, 0.6, 1), '1');
	assert_int_equal(cs_group_cell(2.6, 0, 3), '3');
	assert_int_equal(cs_group_cell(12, 0, 20), '*');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(group_totals_are_their_members_sums),
		cmocka_unit_test(many_processes_are_shown_by_program),
		cmocka_unit_test(a_program_cell_says_how_many_ran),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
