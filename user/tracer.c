// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bitmap.h"
#include "tracer.h"
#include "decode.h"
#include "concscope.skel.h"

#define DEFAULT_RB (16u << 20)

struct cs_tracer {
	struct concscope_bpf *skel;
	struct ring_buffer *rb;
	cs_rec_fn fn;
	void *ctx;
	bool futex_syscalls;
	unsigned int ncpus;
	uint64_t bad;
	uint64_t *percpu; /* scratch for the stats map */
	struct cs_loss *losses; /* scratch for the losses map */
	uint64_t *tracked; /* the tracked bitmap, mapped */
	size_t tracked_len;
	struct cs_kthread *threads; /* the per-thread table, mapped */
	size_t threads_len;
	uint32_t nslots;
	struct cs_uw_row *uw_rows; /* the unwind rows, mapped (--stacks) */
	size_t uw_rows_len;
	uint32_t uw_used, uw_cap, uw_tables;
	uint64_t slice_ns;  /* cs_tracer_poll_slice: consume about this long (0: all) */
	uint64_t slice_end; /* ... until this CLOCK_MONOTONIC time, set at its first check */
	uint32_t slice_n;   /* records consumed in this slice */
};

/* A sample callback's "stop here": the sample itself was consumed. */
#define SLICE_OVER 7777

/* Unwind rows by default, 16 bytes each: 8 MiB (libc takes 28k, redis-server 40k). */
#define DEFAULT_UW_ROWS (1u << 19)
#define MAX_UW_TABLES 4096

/* Slots in the per-thread table: every tid once when pid_max allows it. */
#define MAX_SLOTS 65536u

/*
 * Optional programs, switched on or off from this one table: lock tracing
 * can be turned off (futex waits are read inside sched_switch and need no
 * program of their own, unless --futex-syscalls asks for the system calls).
 */
static const struct feature {
	const char *prefix; /* programs whose name starts with this */
	bool locks;         /* part of lock tracing (--no-locks) */
	bool syscalls;      /* only with --futex-syscalls */
} features[] = {
	{ "cs_contention_", true, false },
	{ "cs_futex_sys_", true, true },
};

static void select_programs(struct cs_tracer *t, const struct cs_tracer_opts *o)
{
	struct bpf_program *prog;
	size_t i;

	bpf_object__for_each_program(prog, t->skel->obj) {
		const char *name = bpf_program__name(prog);
		bool load = true;

		for (i = 0; i < sizeof(features) / sizeof(features[0]); i++)
			if (!strncmp(name, features[i].prefix, strlen(features[i].prefix)) &&
			    ((features[i].locks && o->no_locks) ||
			     (features[i].syscalls && !o->futex_syscalls)))
				load = false;
		bpf_program__set_autoload(prog, load);
	}
}

static bool verbose_libbpf;

/* libbpf's own messages only with -v; failures are reported in one line. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static unsigned long pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	unsigned long max = 4194304;

	if (f) {
		if (fscanf(f, "%lu", &max) != 1 || !max)
			max = 4194304;
		fclose(f);
	}
	return max;
}

/* The tracked bitmap covers every pid this kernel can hand out. */
static uint32_t tracked_words(void)
{
	return (uint32_t)((pid_max() + 63) / 64);
}

/* The per-thread table: pid_max slots (a power of two), at most MAX_SLOTS. */
static uint32_t thread_slots(void)
{
	unsigned long max = pid_max();
	uint32_t n = 1024;

	while (n < max && n < MAX_SLOTS)
		n *= 2;
	return n;
}

/*
 * Where runqueues and __preempt_count sit in the per-CPU area, from the
 * kernel's BTF (its .data..percpu section): a wake-up's BPF program finds
 * this CPU's preempt count from them. 0 when BTF does not say.
 */
static void percpu_offsets(const char *btf_path, uint64_t *rq, uint64_t *pc)
{
	struct btf *btf = btf_path ? btf__parse(btf_path, NULL) : btf__load_vmlinux_btf();
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	int id, i;

	*rq = *pc = 0;
	if (!btf)
		return;
	id = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
	sec = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (i = 0, v = sec ? btf_var_secinfos(sec) : NULL; sec && i < btf_vlen(sec); i++, v++) {
		const char *name = btf__name_by_offset(btf, btf__type_by_id(btf, v->type)->name_off);

		if (!strcmp(name, "runqueues"))
			*rq = v->offset;
		else if (!strcmp(name, "__preempt_count"))
			*pc = v->offset;
	}
	if (!*rq || !*pc)
		*rq = *pc = 0;
	btf__free(btf);
}

/* Map an mmapable array map into this process. */
static void *map_array(struct bpf_map *m, size_t *len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (size_t)bpf_map__max_entries(m) * bpf_map__value_size(m);
	void *p;

	*len = (n + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	return p == MAP_FAILED ? NULL : p;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct cs_tracer *t = ctx;
	const struct cs_hdr *h = cs_decode(data, len);

	if (!h) {
		t->bad++;
		return 0;
	}
	t->fn(h, t->ctx);
	/* the clock is read once every 256 records: a read costs about one record */
	if (t->slice_ns && !(++t->slice_n & 255)) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (!t->slice_end)
			t->slice_end = now + t->slice_ns;
		else if (now >= t->slice_end)
			return -SLICE_OVER;
	}
	return 0;
}

/* --stacks: the unwind tables' room; without it, the smallest maps. */
static void stacks_setup(struct cs_tracer *t, const struct cs_tracer_opts *o)
{
	t->skel->rodata->stacks_on = o->stacks;
	t->uw_cap = o->stacks ? DEFAULT_UW_ROWS : 1;
	bpf_map__set_max_entries(t->skel->maps.uw_rows, t->uw_cap);
	if (!o->stacks) {
		bpf_map__set_max_entries(t->skel->maps.uw_procs, 1);
		bpf_map__set_max_entries(t->skel->maps.stacks_sent, 1);
		bpf_map__set_max_entries(t->skel->maps.py_procs, 1);
		bpf_map__set_max_entries(t->skel->maps.py_tstates, 1);
	}
}

static bool pow2(size_t v)
{
	return v && !(v & (v - 1));
}

int cs_tracer_open(struct cs_tracer **out, const struct cs_tracer_opts *o,
		   cs_rec_fn fn, void *ctx, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .btf_custom_path = o->btf_path);
	size_t rb = o->rb_bytes ? o->rb_bytes : DEFAULT_RB;
	struct cs_tracer *t;
	int ret;

	*out = NULL;
	if (!pow2(rb) || rb < (size_t)sysconf(_SC_PAGESIZE)) {
		snprintf(err, errlen, "ring buffer size %zu is not a power of two of at least a page", rb);
		return -EINVAL;
	}
	verbose_libbpf = o->verbose;
	libbpf_set_print(libbpf_print);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->ctx = ctx;
	t->futex_syscalls = o->futex_syscalls;
	ret = libbpf_num_possible_cpus();
	t->ncpus = ret > 0 ? (unsigned int)ret : 1;
	t->percpu = calloc(t->ncpus, sizeof(*t->percpu));
	t->losses = calloc(t->ncpus, sizeof(*t->losses));
	t->skel = concscope_bpf__open_opts(&oopts);
	if (!t->skel || !t->percpu || !t->losses) {
		ret = -errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot open the BPF programs: %s", strerror(-ret));
		goto fail;
	}
	t->skel->rodata->track_all = o->track_all;
	t->skel->rodata->futex_waits = !o->no_locks && !o->futex_syscalls;
	t->skel->rodata->lock_states = !o->no_locks;
	percpu_offsets(o->btf_path, (uint64_t *)&t->skel->rodata->percpu_runqueues,
		       (uint64_t *)&t->skel->rodata->percpu_preempt_count);
	t->nslots = thread_slots();
	t->skel->rodata->nslots = t->nslots;
	bpf_map__set_max_entries(t->skel->maps.threads, t->nslots);
	bpf_map__set_max_entries(t->skel->maps.tracked, tracked_words());
	bpf_map__set_max_entries(t->skel->maps.events, (uint32_t)rb);
	t->skel->rodata->wake_bytes = rb / 4;
	stacks_setup(t, o);
	select_programs(t, o);
	ret = concscope_bpf__load(t->skel);
	if (ret) {
		char why[128];

		libbpf_strerror(ret, why, sizeof(why));
		if (o->btf_path)
			snprintf(err, errlen, "cannot use the kernel BTF in '%s': %s (it must be "
				 "this kernel's BTF, e.g. /sys/kernel/btf/vmlinux)", o->btf_path, why);
		else
			snprintf(err, errlen, "cannot load the BPF programs: %s%s", why,
				 o->verbose ? "" : " (run with -v for the verifier's log)");
		ret = o->btf_path ? -ENOEXEC : ret;
		goto fail;
	}
	t->tracked = map_array(t->skel->maps.tracked, &t->tracked_len);
	t->threads = map_array(t->skel->maps.threads, &t->threads_len);
	if (o->stacks)
		t->uw_rows = map_array(t->skel->maps.uw_rows, &t->uw_rows_len);
	t->uw_tables = 1; /* table 0: none */
	if (!t->tracked || !t->threads || (o->stacks && !t->uw_rows)) {
		ret = -errno;
		snprintf(err, errlen, "cannot map the BPF tables: %s", strerror(-ret));
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot map the ring buffer: %s", strerror(-ret));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	cs_tracer_close(&t);
	return ret ? ret : -EINVAL;
}

int cs_tracer_attach(struct cs_tracer *t, char *err, size_t errlen)
{
	int ret = concscope_bpf__attach(t->skel);

	if (ret)
		snprintf(err, errlen, "cannot attach to the scheduler tracepoints: %s%s",
			 strerror(-ret), t->futex_syscalls ? " (--futex-syscalls also needs "
			 "tracefs, mounted at /sys/kernel/tracing)" : "");
	return ret;
}

/* One atomic OR on the mapped word (bitmap.h says why). */
int cs_tracer_track(struct cs_tracer *t, uint32_t tgid)
{
	if ((size_t)tgid / 64 * sizeof(uint64_t) >= t->tracked_len)
		return -ERANGE;
	cs_bitmap_set(t->tracked, tgid);
	return 0;
}

void cs_tracer_set_window(struct cs_tracer *t, uint64_t begin, uint64_t end)
{
	/* the end first: the programs check begin, then end */
	__atomic_store_n(&t->skel->bss->window_end, end, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t->skel->bss->window_begin, begin, __ATOMIC_SEQ_CST);
}

void cs_tracer_get_window(const struct cs_tracer *t, uint64_t *begin, uint64_t *end)
{
	*begin = __atomic_load_n(&t->skel->bss->window_begin, __ATOMIC_SEQ_CST);
	*end = __atomic_load_n(&t->skel->bss->window_end, __ATOMIC_SEQ_CST);
}

void cs_tracer_set_root(struct cs_tracer *t, uint32_t tgid)
{
	__atomic_store_n(&t->skel->bss->root_tgid, tgid, __ATOMIC_SEQ_CST);
}

void cs_tracer_new_segment(struct cs_tracer *t)
{
	cs_tracer_set_window(t, 0, 0);
	__atomic_add_fetch(&t->skel->data->gen, 1, __ATOMIC_SEQ_CST);
}

unsigned int cs_tracer_drain_exited(struct cs_tracer *t, cs_totals_fn fn, void *ctx)
{
	int fd = bpf_map__fd(t->skel->maps.exited);
	struct cs_kthread k;
	unsigned int n = 0;

	while (!bpf_map_lookup_and_delete_elem(fd, NULL, &k)) {
		if (k.gen == t->skel->data->gen)
			fn(&k, true, ctx);
		n++;
	}
	return n;
}

/*
 * A slot's copy, consistent: the programs change the word with every
 * state change, so a copy taken between two equal reads of it is whole.
 */
static bool copy_slot(const struct cs_kthread *src, struct cs_kthread *dst)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		uint64_t w = __atomic_load_n(&src->word, __ATOMIC_ACQUIRE);

		memcpy(dst, src, sizeof(*dst));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&src->word, __ATOMIC_ACQUIRE) == w && dst->word == w)
			return true;
	}
	return false;
}

unsigned int cs_tracer_read_live(struct cs_tracer *t, cs_totals_fn fn, void *ctx)
{
	uint32_t gen = t->skel->data->gen, i;
	unsigned int n = 0;
	struct cs_kthread k;

	for (i = 0; i < t->nslots; i++) {
		if (!t->threads[i].tid || t->threads[i].gen != gen)
			continue;
		if (copy_slot(&t->threads[i], &k) && k.tid && k.gen == gen) {
			fn(&k, false, ctx);
			n++;
		}
	}
	return n;
}

uint64_t cs_tracer_own_lock(const struct cs_tracer *t)
{
	return __atomic_load_n(&t->skel->bss->own_lock, __ATOMIC_RELAXED);
}

uint64_t cs_tracer_stat(struct cs_tracer *t, unsigned int stat)
{
	uint64_t total = 0;
	unsigned int i;

	memset(t->percpu, 0, t->ncpus * sizeof(*t->percpu));
	if (bpf_map__lookup_elem(t->skel->maps.stats, &stat, sizeof(stat), t->percpu,
				 t->ncpus * sizeof(*t->percpu), 0))
		return 0;
	for (i = 0; i < t->ncpus; i++)
		total += t->percpu[i];
	return total;
}

int cs_tracer_set_contended_range(struct cs_tracer *t, uint32_t tgid, uint64_t lo, uint64_t hi)
{
	uint64_t r[2] = { lo, hi };

	return bpf_map__update_elem(t->skel->maps.contended_ranges, &tgid, sizeof(tgid), r,
				    sizeof(r), BPF_ANY);
}

int cs_tracer_wake_stack(struct cs_tracer *t, uint32_t id, uint64_t *ips, unsigned int max)
{
	uint64_t buf[CS_WAKE_STACK] = { 0 };
	unsigned int n;

	if (bpf_map__lookup_elem(t->skel->maps.wake_stacks, &id, sizeof(id), buf, sizeof(buf), 0))
		return -ENOENT;
	for (n = 0; n < CS_WAKE_STACK && n < max && buf[n]; n++)
		ips[n] = buf[n];
	return (int)n;
}



int cs_tracer_uw_add_table(struct cs_tracer *t, const struct cs_uw_row *rows, uint32_t n)
{
	struct cs_uw_table tab = { t->uw_used, n };
	uint32_t id = t->uw_tables;
	int ret;

	if (!t->uw_rows)
		return -EINVAL;
	if (n > t->uw_cap - t->uw_used || id >= MAX_UW_TABLES)
		return -ENOSPC;
	memcpy(t->uw_rows + t->uw_used, rows, (size_t)n * sizeof(*rows));
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the rows before the table that points at them */
	ret = bpf_map__update_elem(t->skel->maps.uw_tables, &id, sizeof(id), &tab, sizeof(tab), BPF_ANY);
	if (ret)
		return ret;
	t->uw_used += n;
	t->uw_tables++;
	return (int)id;
}

int cs_tracer_uw_set_proc(struct cs_tracer *t, uint32_t tgid, const struct cs_uw_proc *p)
{
	return bpf_map__update_elem(t->skel->maps.uw_procs, &tgid, sizeof(tgid), p, sizeof(*p),
				    BPF_ANY);
}

int cs_tracer_py_set_proc(struct cs_tracer *t, uint32_t tgid, uint64_t interp_ptr)
{
	return bpf_map__update_elem(t->skel->maps.py_procs, &tgid, sizeof(tgid), &interp_ptr,
				    sizeof(interp_ptr), BPF_ANY);
}

void cs_tracer_uw_usage(const struct cs_tracer *t, uint32_t *used, uint32_t *cap)
{
	*used = t->uw_used;
	*cap = t->uw_rows ? t->uw_cap : 0;
}

int cs_tracer_poll_slice(struct cs_tracer *t, int timeout_ms, uint64_t slice_ns)
{
	int n;

	t->slice_ns = slice_ns;
	t->slice_end = 0;
	t->slice_n = 0;
	n = ring_buffer__poll(t->rb, timeout_ms);
	/* wake-ups are batched: take what is there even without one */
	if (n != -SLICE_OVER && (n >= 0 || n == -EINTR))
		n = ring_buffer__consume(t->rb);
	t->slice_ns = 0;
	if (n == -SLICE_OVER)
		return 1;
	return n < 0 && n != -EINTR ? n : 0;
}

int cs_tracer_poll(struct cs_tracer *t, int timeout_ms)
{
	return cs_tracer_poll_slice(t, timeout_ms, 0);
}

uint64_t cs_tracer_lost(struct cs_tracer *t, struct cs_loss *per_cpu, unsigned int ncpus,
			uint64_t *skipped)
{
	struct bpf_program *prog;
	uint64_t total = 0, miss = 0;
	uint32_t key = 0;
	unsigned int i;

	memset(t->losses, 0, t->ncpus * sizeof(*t->losses));
	bpf_map__lookup_elem(t->skel->maps.losses, &key, sizeof(key), t->losses,
			     t->ncpus * sizeof(*t->losses), 0);
	for (i = 0; i < t->ncpus; i++) {
		if (i < ncpus)
			per_cpu[i] = t->losses[i];
		total += t->losses[i].count;
	}
	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(prog);

		memset(&info, 0, sizeof(info));
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			miss += info.recursion_misses;
	}
	if (skipped)
		*skipped = miss;
	return total + miss;
}

uint64_t cs_tracer_bad_records(const struct cs_tracer *t)
{
	return t->bad;
}

unsigned int cs_tracer_ncpus(const struct cs_tracer *t)
{
	return t->ncpus;
}

static uint32_t fd_id(int fd)
{
	/* prog, map and link info all start with type and id: ask for those two */
	struct bpf_prog_info info;
	uint32_t len = sizeof(info.id) + sizeof(info.type);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* The skeleton keeps one link per program, in program order. */
static struct bpf_link *link_of(const struct cs_tracer *t, const struct bpf_program *prog)
{
	const struct bpf_object_skeleton *s = t->skel->skeleton;
	int i;

	for (i = 0; s && i < s->prog_cnt; i++)
		if (*s->progs[i].prog == prog)
			return *s->progs[i].link;
	return NULL;
}

void cs_tracer_print_ids(const struct cs_tracer *t, FILE *f)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	fprintf(f, "concscope: bpf ids: progs");
	bpf_object__for_each_program(prog, t->skel->obj)
		if (bpf_program__fd(prog) >= 0)
			fprintf(f, " %u", fd_id(bpf_program__fd(prog)));
	fprintf(f, " links");
	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_link *l = link_of(t, prog);

		if (l)
			fprintf(f, " %u", fd_id(bpf_link__fd(l)));
	}
	fprintf(f, " maps");
	bpf_object__for_each_map(map, t->skel->obj)
		if (bpf_map__fd(map) >= 0)
			fprintf(f, " %u", fd_id(bpf_map__fd(map)));
	fprintf(f, "\n");
}

void cs_tracer_close(struct cs_tracer **tp)
{
	struct cs_tracer *t = *tp;

	if (!t)
		return;
	ring_buffer__free(t->rb);
	if (t->tracked)
		munmap(t->tracked, t->tracked_len);
	if (t->threads)
		munmap(t->threads, t->threads_len);
	if (t->uw_rows)
		munmap(t->uw_rows, t->uw_rows_len);
	concscope_bpf__destroy(t->skel);
	free(t->percpu);
	free(t->losses);
	free(t);
	*tp = NULL;
}
