// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
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
};

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

/* The tracked bitmap covers every pid this kernel can hand out. */
static uint32_t tracked_words(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	unsigned long max = 4194304;

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 4194304;
		fclose(f);
	}
	return (uint32_t)((max + 63) / 64);
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
	return 0;
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
	t->skel = concscope_bpf__open_opts(&oopts);
	if (!t->skel || !t->percpu) {
		ret = -errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot open the BPF programs: %s", strerror(-ret));
		goto fail;
	}
	t->skel->rodata->track_all = o->track_all;
	t->skel->rodata->futex_waits = !o->no_locks && !o->futex_syscalls;
	bpf_map__set_max_entries(t->skel->maps.tracked, tracked_words());
	bpf_map__set_max_entries(t->skel->maps.events, (uint32_t)rb);
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

int cs_tracer_track(struct cs_tracer *t, uint32_t tgid)
{
	uint32_t word = tgid / 64;
	uint64_t bits = 0;
	int ret;

	/* a bitmap word; fork in the kernel sets bits with atomic ops, and
	 * user space tracks before the processes it tracks can fork */
	ret = bpf_map__lookup_elem(t->skel->maps.tracked, &word, sizeof(word), &bits,
				   sizeof(bits), 0);
	if (ret)
		return ret;
	bits |= 1ull << (tgid % 64);
	return bpf_map__update_elem(t->skel->maps.tracked, &word, sizeof(word), &bits,
				    sizeof(bits), BPF_ANY);
}



int cs_tracer_poll(struct cs_tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	/* wake-ups are batched: take what is there even without one */
	n = ring_buffer__consume(t->rb);
	return n < 0 && n != -EINTR ? n : 0;
}

uint64_t cs_tracer_lost(struct cs_tracer *t, uint64_t *per_cpu, unsigned int ncpus,
			uint64_t *skipped)
{
	uint32_t key = CS_STAT_RB_FULL;
	struct bpf_program *prog;
	uint64_t total = 0, miss = 0;
	unsigned int i;

	memset(t->percpu, 0, t->ncpus * sizeof(*t->percpu));
	bpf_map__lookup_elem(t->skel->maps.stats, &key, sizeof(key), t->percpu,
			     t->ncpus * sizeof(*t->percpu), 0);
	for (i = 0; i < t->ncpus; i++) {
		if (i < ncpus)
			per_cpu[i] = t->percpu[i];
		total += t->percpu[i];
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
	struct bpf_prog_info info; /* id is the first field of every info struct */
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
	concscope_bpf__destroy(t->skel);
	free(t->percpu);
	free(t);
	*tp = NULL;
}
