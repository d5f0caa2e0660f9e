// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * unwind.c: building and registering unwind tables, in a thread of its own
 * (unwind.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ehframe.h"
#include "grow.h"
#include "hashmap.h"
#include "unwind.h"

#define WANT_EVERY_NS 20000000ull /* one request per process per 20 ms */
#define MAX_QUEUE 1024
#define MAX_SEGS 8
#define MAX_RECHECK 256

/*
 * A process maps its libraries after its exec, and the records that say
 * so reach us up to a poll (50 ms) late, perhaps after a short program
 * ended: so its mappings are read again this long after the first time.
 */
static const uint64_t recheck_ms[] = { 2, 8, 25, 80, 250 };

/* A file with code: its table (0: none) and where its loadable segments go. */
struct uw_file {
	char *path;
	char build_id[41];
	uint32_t table;
	unsigned int nsegs;
	struct { uint64_t off, vaddr, filesz; } segs[MAX_SEGS];
};

struct uw_map {
	uint64_t start, end, off;
	struct uw_file *file; /* NULL: not a file we know */
	bool exec;
};

struct uw_proc {
	uint32_t pid;
	uint64_t wanted;      /* last request (CLOCK_MONOTONIC ns) */
	struct uw_map *m;     /* file mappings, as last read */
	size_t n;
};

struct cs_unwind {
	struct cs_tracer *tr;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond, idle;
	bool stop, busy;
	uint32_t queue[MAX_QUEUE];
	size_t nqueue;
	struct uw_proc *procs; /* under lock */
	size_t nprocs, capprocs;
	struct cs_hmap pidx;   /* pid -> index in procs, under lock */
	struct { uint32_t pid, step; uint64_t due; } recheck[MAX_RECHECK]; /* under lock */
	size_t nrecheck;
	struct uw_file **files; /* the worker's */
	size_t nfiles, capfiles;
	struct cs_unwind_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* pid's entry (under lock), created when asked; NULL without memory. */
static struct uw_proc *proc_of(struct cs_unwind *u, uint32_t pid, bool create)
{
	const uint32_t *i = cs_hmap_get(&u->pidx, pid, 0);

	if (i)
		return &u->procs[*i];
	if (!create || cs_grow(&u->procs, u->nprocs, &u->capprocs, sizeof(*u->procs), 64) ||
	    cs_hmap_put(&u->pidx, pid, 0, (uint32_t)u->nprocs))
		return NULL;
	memset(&u->procs[u->nprocs], 0, sizeof(*u->procs));
	u->procs[u->nprocs].pid = pid;
	return &u->procs[u->nprocs++];
}

void cs_unwind_want(struct cs_unwind *u, uint32_t pid)
{
	uint64_t now = now_ns();
	struct uw_proc *p;
	size_t i;

	if (!u || !pid)
		return;
	pthread_mutex_lock(&u->lock);
	p = proc_of(u, pid, true);
	if (p && p->wanted && now - p->wanted < WANT_EVERY_NS)
		goto out;
	if (p)
		p->wanted = now;
	for (i = 0; i < u->nqueue && u->queue[i] != pid; i++)
		;
	if (i == u->nqueue && u->nqueue < MAX_QUEUE) {
		u->queue[u->nqueue++] = pid;
		pthread_cond_signal(&u->cond);
	}
out:
	pthread_mutex_unlock(&u->lock);
}

/* The GNU build ID of an ELF file, as hex ("" when it has none). */
static void build_id(Elf *elf, char out[41])
{
	Elf_Scn *scn = NULL;

	out[0] = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			unsigned int i;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz > 20)
				continue;
			for (i = 0; i < nh.n_descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", ((const uint8_t *)d->d_buf)[doff + i]);
			return;
		}
	}
}

/* A file's segments and build ID. */
static int read_file(struct uw_file *f)
{
	size_t nph, i;
	Elf *elf;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph)) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -EINVAL;
	}
	for (i = 0; i < nph && f->nsegs < MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
			f->segs[f->nsegs].off = ph.p_offset;
			f->segs[f->nsegs].vaddr = ph.p_vaddr;
			f->segs[f->nsegs++].filesz = ph.p_filesz;
		}
	}
	build_id(elf, f->build_id);
	elf_end(elf);
	close(fd);
	return 0;
}

/* The file of path, its table built the first time (cached by build ID, else path). */
static struct uw_file *file_of(struct cs_unwind *u, const char *path)
{
	struct uw_file *f;
	struct cs_uw_row *rows;
	uint64_t t0;
	long n;
	size_t i;

	for (i = 0; i < u->nfiles; i++)
		if (!strcmp(u->files[i]->path, path))
			return u->files[i];
	if (cs_grow(&u->files, u->nfiles, &u->capfiles, sizeof(*u->files), 64))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	u->files[u->nfiles++] = f;
	if (read_file(f))
		return f;
	for (i = 0; f->build_id[0] && i + 1 < u->nfiles; i++) {
		if (!strcmp(u->files[i]->build_id, f->build_id) && u->files[i]->table) {
			f->table = u->files[i]->table; /* the same file by another path */
			return f;
		}
	}
	t0 = now_ns();
	n = cs_ehframe_file(path, &rows);
	if (n > 0) {
		int id = cs_tracer_uw_add_table(u->tr, rows, (uint32_t)n);

		if (id > 0) {
			f->table = (uint32_t)id;
			u->st.files++;
		}
	}
	if (!f->table)
		u->st.failed++;
	free(rows);
	u->st.build_ns += now_ns() - t0;
	return f;
}

/*
 * /proc/PID/maps whole, before anything slow: a short program may end while
 * its tables are being built, and the kernel then has no more lines to give.
 * NULL when it is gone (errno).
 */
static char *slurp_maps(uint32_t pid)
{
	char path[64], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	do {
		/* room for a read of 4096 and the final 0 */
		if (cs_grow(&buf, len + 4096, &cap, 1, 16384)) {
			free(buf);
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r > 0)
			len += (size_t)r;
	} while (r > 0 || (r < 0 && errno == EINTR));
	close(fd);
	buf[len] = 0;
	return buf;
}

/* What pid maps, from /proc/PID/maps: its file mappings. */
static int read_maps(struct cs_unwind *u, uint32_t pid, struct uw_map **out, size_t *nout)
{
	char *text = slurp_maps(pid), *line, *next;
	struct uw_map *m = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*nout = 0;
	if (!text)
		return -errno;
	for (line = text; *line; line = next) {
		unsigned long long start, end, off;
		char perms[8], file[4096] = "";

		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095[^\n]", &start, &end, perms, &off,
			   file) < 4 || file[0] != '/')
			continue;
		if (cs_grow(&m, n, &cap, sizeof(*m), 32))
			break;
		m[n] = (struct uw_map){ start, end, off, NULL, perms[2] == 'x' };
		m[n].file = m[n].exec ? file_of(u, file) : NULL;
		if (!m[n].exec) { /* named later only: keep the path without a table */
			struct uw_file *fl = calloc(1, sizeof(*fl));

			if (fl && (fl->path = strdup(file)))
				m[n].file = fl;
			else
				free(fl);
		}
		n++;
	}
	free(text);
	*out = m;
	*nout = n;
	return 0;
}

/* The table's pc of addresses in mapping m: address - bias. */
static bool bias_of(const struct uw_map *m, uint64_t *bias)
{
	unsigned int i;

	for (i = 0; m->file && i < m->file->nsegs; i++) {
		const typeof(m->file->segs[0]) *s = &m->file->segs[i];

		if (m->off >= (s->off & ~0xfffull) && m->off < s->off + s->filesz) {
			*bias = m->start - m->off + s->off - s->vaddr;
			return true;
		}
	}
	return false;
}

static void free_maps(struct uw_map *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (m[i].file && !m[i].exec) {
			free(m[i].file->path);
			free(m[i].file);
		}
	}
	free(m);
}

/* Read pid's mappings again and give the BPF side its tables. */
static void refresh(struct cs_unwind *u, uint32_t pid)
{
	struct cs_uw_proc bp;
	struct uw_map *m;
	struct uw_proc *p;
	size_t n, i;

	if (read_maps(u, pid, &m, &n))
		return;
	memset(&bp, 0, sizeof(bp));
	for (i = 0; i < n && bp.n < CS_UW_MAPS; i++) {
		uint64_t bias;

		if (!m[i].exec || !m[i].file || !m[i].file->table || !bias_of(&m[i], &bias))
			continue;
		bp.m[bp.n++] = (struct cs_uw_map){ m[i].start, m[i].end, bias, m[i].file->table, 0 };
	}
	if (bp.n)
		cs_tracer_uw_set_proc(u->tr, pid, &bp);
	pthread_mutex_lock(&u->lock);
	p = proc_of(u, pid, true);
	if (p) {
		if (!p->n && u->nrecheck < MAX_RECHECK) { /* the first time: again, later */
			u->recheck[u->nrecheck].pid = pid;
			u->recheck[u->nrecheck].step = 0;
			u->recheck[u->nrecheck++].due = now_ns() + recheck_ms[0] * 1000000ull;
		}
		if (!p->n)
			u->st.procs++;
		free_maps(p->m, p->n);
		p->m = m;
		p->n = n;
	} else {
		free_maps(m, n);
	}
	pthread_mutex_unlock(&u->lock);
}

/* Queue the rechecks that are due; the time of the next one (0: none). Under lock. */
static uint64_t rechecks_due(struct cs_unwind *u)
{
	uint64_t now = now_ns(), next = 0;
	size_t i = 0;

	while (i < u->nrecheck) {
		typeof(u->recheck[0]) *r = &u->recheck[i];

		if (r->due <= now && u->nqueue < MAX_QUEUE) {
			u->queue[u->nqueue++] = r->pid;
			if (++r->step >= sizeof(recheck_ms) / sizeof(recheck_ms[0])) {
				*r = u->recheck[--u->nrecheck];
				continue;
			}
			r->due = now + recheck_ms[r->step] * 1000000ull;
		}
		if (!next || r->due < next)
			next = r->due;
		i++;
	}
	return next;
}

/* Sleep until asked, or until the next recheck is due. Under lock. */
static void wait_work(struct cs_unwind *u)
{
	uint64_t next;
	struct timespec ts;

	while (!u->nqueue && !u->stop) {
		next = rechecks_due(u);
		if (u->nqueue)
			break;
		u->busy = false;
		pthread_cond_broadcast(&u->idle);
		if (!next) {
			pthread_cond_wait(&u->cond, &u->lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		next -= now_ns();
		ts.tv_sec += (time_t)(next / 1000000000ull);
		ts.tv_nsec += (long)(next % 1000000000ull);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&u->cond, &u->lock, &ts);
	}
}

static void *worker(void *arg)
{
	struct cs_unwind *u = arg;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		uint32_t pid;

		wait_work(u);
		if (u->stop)
			break;
		u->busy = true;
		pid = u->queue[0];
		memmove(u->queue, u->queue + 1, --u->nqueue * sizeof(*u->queue));
		pthread_mutex_unlock(&u->lock);
		refresh(u, pid);
		pthread_mutex_lock(&u->lock);
	}
	u->busy = false;
	pthread_cond_broadcast(&u->idle);
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

struct cs_unwind *cs_unwind_new(struct cs_tracer *t)
{
	struct cs_unwind *u = calloc(1, sizeof(*u));
	pthread_condattr_t ca;

	if (!u)
		return NULL;
	u->tr = t;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the rechecks' clock */
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&u->idle, NULL);
	if (pthread_create(&u->thread, NULL, worker, u)) {
		free(u);
		return NULL;
	}
	return u;
}

void cs_unwind_sync(struct cs_unwind *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	while (u->nqueue || u->busy)
		pthread_cond_wait(&u->idle, &u->lock);
	pthread_mutex_unlock(&u->lock);
}

int cs_unwind_locate(struct cs_unwind *u, uint32_t pid, uint64_t addr, const char **path,
		     uint64_t *off)
{
	struct uw_proc *p;
	size_t i;
	int ret = -ENOENT;

	pthread_mutex_lock(&u->lock);
	p = proc_of(u, pid, false);
	for (i = 0; p && i < p->n; i++) {
		if (addr >= p->m[i].start && addr < p->m[i].end && p->m[i].file) {
			*path = p->m[i].file->path;
			*off = addr - p->m[i].start + p->m[i].off;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&u->lock);
	return ret;
}

void cs_unwind_stats(struct cs_unwind *u, struct cs_unwind_stats *st)
{
	pthread_mutex_lock(&u->lock);
	*st = u->st;
	pthread_mutex_unlock(&u->lock);
	cs_tracer_uw_usage(u->tr, &st->rows, &st->rows_cap);
}

void cs_unwind_free(struct cs_unwind **up)
{
	struct cs_unwind *u = *up;
	size_t i;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	for (i = 0; i < u->nprocs; i++)
		free_maps(u->procs[i].m, u->procs[i].n);
	for (i = 0; i < u->nfiles; i++) {
		free(u->files[i]->path);
		free(u->files[i]);
	}
	free(u->procs);
	cs_hmap_free(&u->pidx);
	free(u->files);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->cond);
	pthread_cond_destroy(&u->idle);
	free(u);
	*up = NULL;
}
