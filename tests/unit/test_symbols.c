/*
 * Unit tests: user addresses named in words, on this very process: a
 * symbol, the heap, shared memory (anonymous, memfd, System V), the main
 * thread's stack and another thread's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbols.h"

int cs_test_lock_word; /* a symbol of this binary */

static char *name(uint64_t addr, uint32_t hint)
{
	static char out[64];
	struct cs_symcache *sc = cs_symcache_new();

	assert_non_null(sc);
	cs_sym_user(sc, getpid(), addr, hint, out, sizeof(out));
	cs_symcache_free(&sc);
	return out;
}

static bool starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)))
		fail_msg("'%s' does not start with '%s'", s, prefix);
	return true;
}

static void symbols_heap_and_shared_memory(void **st)
{
	/* the [heap] mapping itself: with the sanitizers malloc's memory is not in it */
	char *heap = sbrk(64);
	char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd = memfd_create("cs-test", 0), id;
	char *mfd, *sysv;

	(void)st;
	assert_string_equal(name((uintptr_t)&cs_test_lock_word, 0), "cs_test_lock_word");
	assert_true(starts(name((uintptr_t)heap, 0), "heap+0x"));
	assert_string_equal(name((uintptr_t)shared + 0x30, 0), "shared memory+0x30");
	assert_true(fd >= 0 && !ftruncate(fd, 4096));
	mfd = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(mfd != MAP_FAILED);
	assert_string_equal(name((uintptr_t)mfd + 8, 0), "shared memory memfd:cs-test+0x8");
	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id >= 0) {
		sysv = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL);
		assert_true(starts(name((uintptr_t)sysv + 4, 0), "SysV shared memory 0x00000000+0x4"));
		shmdt(sysv);
	}
	munmap(mfd, 4096);
	close(fd);
	munmap(shared, 4096);
}

static int pipe_fds[2];
static volatile uintptr_t thread_local_addr;
static volatile pid_t thread_tid;

static void *blocked_thread(void *arg)
{
	int local = 0;
	char c;

	(void)arg;
	thread_local_addr = (uintptr_t)&local;
	thread_tid = (pid_t)syscall(SYS_gettid);
	if (read(pipe_fds[0], &c, 1) != 1) /* blocked here while it is named */
		local = 1;
	return NULL;
}

/* Wait (up to 10 s, a busy machine) until thread tid blocks in read(2). */
static void in_read(pid_t tid)
{
	char path[64], buf[64];
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	for (i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "r");
		bool reading = f && fgets(buf, sizeof(buf), f) && !strncmp(buf, "0 ", 2);

		if (f)
			fclose(f);
		if (reading)
			return;
		usleep(1000);
	}
	fail_msg("thread %d never blocked in read", tid);
}

static void stacks_say_whose(void **st)
{
	int local = 0;
	char want[64], comm[32] = "", c = 'x';
	pthread_t th;
	FILE *f = fopen("/proc/self/comm", "r");

	(void)st;
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	snprintf(want, sizeof(want), "stack of %s/%d", comm, getpid());
	assert_string_equal(name((uintptr_t)&local, 0), want);
	/* another thread's stack: found by its stack pointer while it is blocked */
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(pthread_create(&th, NULL, blocked_thread, NULL), 0);
	while (!thread_tid)
		usleep(1000);
	in_read(thread_tid);
	snprintf(want, sizeof(want), "stack of %s/%d", comm, thread_tid);
	assert_string_equal(name(thread_local_addr, 0), want);
	assert_int_equal(write(pipe_fds[1], &c, 1), 1);
	pthread_join(th, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(symbols_heap_and_shared_memory),
		cmocka_unit_test(stacks_say_whose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
