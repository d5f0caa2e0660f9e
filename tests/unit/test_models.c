/* Unit tests: planning the model runs and the comparison's findings. */
#include <stdlib.h>
#include <errno.h>
#include "stream.h"
#include "models.h"

static void plans(void **st)
{
	struct cs_model_run r[CS_MAX_JOBS];
	struct cs_models_cfg cfg = { .model = "all", .lang = "c" };
	char err[256];

	(void)st;
	assert_int_equal(cs_models_plan(&cfg, r, CS_MAX_JOBS, err, sizeof(err)), 8);
	assert_string_equal(r[0].work, "cpu");
	assert_string_equal(r[4].work, "io");
	assert_string_equal(r[2].model, "threads-gil");
	assert_int_equal(r[0].tasks, 4);
	cfg.lang = "python";
	assert_int_equal(cs_models_plan(&cfg, r, CS_MAX_JOBS, err, sizeof(err)), 6);
	cfg.model = "threads-gil";
	assert_int_equal(cs_models_plan(&cfg, r, CS_MAX_JOBS, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "GIL"));
	cfg = (struct cs_models_cfg){ .model = "async", .lang = "c", .work = "io", .tasks = 9 };
	assert_int_equal(cs_models_plan(&cfg, r, CS_MAX_JOBS, err, sizeof(err)), 1);
	assert_int_equal(r[0].tasks, 9);
	cfg.work = "gpu";
	assert_int_equal(cs_models_plan(&cfg, r, CS_MAX_JOBS, err, sizeof(err)), -EINVAL);
	cfg.work = NULL;
	cfg.model = "fibers";
	assert_int_equal(cs_models_plan(&cfg, r, CS_MAX_JOBS, err, sizeof(err)), -EINVAL);
}

/* A process pid with n threads that each run for run_ms of a wall_ms window. */
static struct cs_core *fake(uint32_t pid, unsigned int n, unsigned int run_ms, unsigned int ncpu,
			    unsigned int wall_ms)
{
	struct cs_core *c = tracking(pid);
	unsigned int i;

	mark(c, 0, CS_MARK_WINDOW_BEGIN, pid);
	for (i = 0; i < n; i++)
		sw(c, 0, i % ncpu, 0, 0, 0, 0, pid + i, pid);
	for (i = 0; i < n; i++)
		sw(c, run_ms * MS, i % ncpu, pid + i, pid, 1, 0, 0, 0);
	cs_core_finish(c, wall_ms * MS);
	return c;
}

/* Two threads of pid, one of which waits 90 ms for CPU 1, held by an untracked task. */
static struct cs_core *beside_a_hog(uint32_t pid)
{
	struct cs_core *c = tracking(pid);

	mark(c, 0, CS_MARK_WINDOW_BEGIN, pid);
	sw(c, 0, 0, 0, 0, 0, 0, pid, pid);
	sw(c, 0, 1, 0, 0, 0, 0, 999, 999);
	wake(c, 0, 0, pid + 1, pid, 1);
	sw(c, 90 * MS, 1, 999, 999, 0, 1, pid + 1, pid);
	sw(c, 90 * MS, 0, pid, pid, 1, 0, 0, 0);
	sw(c, 100 * MS, 1, pid + 1, pid, 1, 0, 0, 0);
	cs_core_finish(c, 100 * MS);
	return c;
}

/* One CPU at a time because another program held the other: not a lock's doing. */
static void other_programs_are_not_a_lock(void **st)
{
	struct cs_model_run r = { .model = "threads", .work = "cpu", .lang = "c", .tasks = 2,
				  .ok = true };
	char *out = calloc(1, 1 << 16);
	FILE *f = fmemopen(out, 1 << 16, "w");

	(void)st;
	r.core = beside_a_hog(300);
	cs_models_compare(f, &r, 1, false, 2);
	fclose(f);
	if (getenv("SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "threads used about one CPU at a time (parallelism 1.00): "
				 "other programs held the CPUs (its threads waited 90.00ms behind "
				 "them)"));
	assert_null(strstr(out, "lock"));
	cs_core_free(&r.core);
	free(out);
}

static void findings_follow_the_numbers(void **st)
{
	struct cs_model_run r[2] = {
		{ .model = "threads", .work = "cpu", .lang = "c", .tasks = 2, .ok = true },
		{ .model = "async", .work = "cpu", .lang = "c", .tasks = 2, .ok = true },
	};
	char *out = calloc(1, 1 << 16);
	FILE *f = fmemopen(out, 1 << 16, "w");

	(void)st;
	r[0].core = fake(100, 2, 45, 2, 50);  /* two threads, both busy: parallelism 1.8 */
	r[1].core = fake(200, 1, 95, 1, 100); /* one thread: 0.95 */
	cs_model_title(&r[0]);
	assert_string_equal(r[0].title, "threads: 1 process x 2 threads, cpu work");
	cs_models_compare(f, r, 2, false, 2);
	fclose(f);
	if (getenv("SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "threads      cpu       1x2"));
	assert_non_null(strstr(out, " 1.80 "));
	assert_non_null(strstr(out, "more than one of the 2 CPUs was used by threads 1.80"));
	assert_non_null(strstr(out, "async used about one CPU at a time (parallelism 0.95): one "
				 "thread did the work"));
	assert_non_null(strstr(out, "fastest was threads"));
	assert_null(strchr(out, '\033'));
	cs_core_free(&r[0].core);
	cs_core_free(&r[1].core);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plans),
		cmocka_unit_test(findings_follow_the_numbers),
		cmocka_unit_test(other_programs_are_not_a_lock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
