/* mmapstorm: NTHREADS threads map, touch and unmap memory and pwrite to a
 * shared file for SECONDS, contending on the kernel's mmap_lock and the
 * file's locks. usage: mmapstorm [NTHREADS=4] [SECONDS=1] [FILE=/tmp/...] */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include "snap.h"

static double seconds = 1;
static int fd = -1;

static void *worker(void *arg)
{
	double end = now_s() + seconds;
	char buf[4096];
	long i = (long)arg;

	memset(buf, 'x', sizeof(buf));
	while (now_s() < end) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			exit(2);
		for (int k = 0; k < 16; k++)
			p[k * 4096] = 1; /* page faults take mmap_lock for reading */
		munmap(p, 1 << 20);  /* and munmap for writing */
		if (pwrite(fd, buf, sizeof(buf), (i++ % 64) * 4096) < 0)
			exit(2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	const char *path = argc > 3 ? argv[3] : "/tmp/concscope-mmapstorm";
	pthread_t th[64];

	seconds = argc > 2 ? atof(argv[2]) : 1;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || n < 1 || n > 64)
		return 2;
	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(i * 1000)))
			return 2;
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	close(fd);
	unlink(path);
	return 0;
}
