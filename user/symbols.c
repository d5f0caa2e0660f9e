// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "grow.h"
#include "hashmap.h"
#include "symbols.h"

struct sym {
	uint64_t addr, size;
	char *name;
};

struct segment {
	uint64_t off, vaddr, filesz;
};

struct elf_syms {
	char *path;
	struct sym *syms;
	size_t n;
	struct segment *segs;
	size_t nsegs;
};

/* One process's file mappings, kept so an address can be named after it exits. */
struct map_ent {
	uint64_t start, end, off;
	char *file;
};

struct pid_maps {
	pid_t pid;
	struct map_ent *m;
	size_t n;
};

struct cs_symcache {
	struct elf_syms *files;
	size_t nfiles, capfiles;
	struct pid_maps *procs;
	size_t nprocs, capprocs;
	struct cs_hmap procidx; /* pid -> index in procs */
	struct sym *ksyms;
	size_t nksyms;
	bool kloaded;
};

struct cs_symcache *cs_symcache_new(void)
{
	return calloc(1, sizeof(struct cs_symcache));
}

static void free_maps(struct pid_maps *pm)
{
	size_t j;

	for (j = 0; j < pm->n; j++)
		free(pm->m[j].file);
	free(pm->m);
}

static void free_syms(struct sym *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

void cs_symcache_free(struct cs_symcache **scp)
{
	struct cs_symcache *sc = *scp;
	size_t i;

	if (!sc)
		return;
	for (i = 0; i < sc->nfiles; i++) {
		free(sc->files[i].path);
		free_syms(sc->files[i].syms, sc->files[i].n);
		free(sc->files[i].segs);
	}
	free(sc->files);
	for (i = 0; i < sc->nprocs; i++)
		free_maps(&sc->procs[i]);
	free(sc->procs);
	cs_hmap_free(&sc->procidx);
	free_syms(sc->ksyms, sc->nksyms);
	free(sc);
	*scp = NULL;
}

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The symbol containing addr (or the nearest below, when sized 0). */
static const struct sym *find_sym(const struct sym *s, size_t n, uint64_t addr, bool need_size)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* several symbols may share an address: prefer one that covers addr */
	for (hi = lo; hi-- > 0 && s[hi].addr == s[lo - 1].addr;)
		if (!need_size || addr < s[hi].addr + s[hi].size)
			return &s[hi];
	return NULL;
}

static int add_sym(struct sym **v, size_t *n, size_t *cap, uint64_t addr, uint64_t size,
		   const char *name)
{
	if (cs_grow(v, *n, cap, sizeof(**v), 256))
		return -ENOMEM;
	(*v)[*n].addr = addr;
	(*v)[*n].size = size;
	(*v)[*n].name = strdup(name);
	if (!(*v)[*n].name)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void read_symtab(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, struct elf_syms *f, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, count;

	if (!data || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_OBJECT && type != STT_FUNC && type != STT_TLS) || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (name && *name)
			add_sym(&f->syms, &f->n, cap, sym.st_value, sym.st_size, name);
	}
}

static int load_elf(struct elf_syms *f)
{
	Elf_Scn *scn = NULL, *dynsym = NULL, *symtab = NULL;
	GElf_Shdr sh, dsh, ssh;
	size_t cap = 0, i, nph;
	Elf *elf;
	int fd;

	elf_version(EV_CURRENT);
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -EINVAL;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			symtab = scn;
			ssh = sh;
		} else if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			dsh = sh;
		}
	}
	if (symtab)
		read_symtab(elf, symtab, &ssh, f, &cap);
	else if (dynsym)
		read_symtab(elf, dynsym, &dsh, f, &cap);
	if (!elf_getphdrnum(elf, &nph) && nph) {
		f->segs = calloc(nph, sizeof(*f->segs));
		for (i = 0; f->segs && i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
				f->segs[f->nsegs++] = (struct segment){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
		}
	}
	elf_end(elf);
	close(fd);
	qsort(f->syms, f->n, sizeof(*f->syms), by_addr);
	return 0;
}

static struct elf_syms *get_file(struct cs_symcache *sc, const char *path)
{
	struct elf_syms *f;
	size_t i;

	for (i = 0; i < sc->nfiles; i++)
		if (!strcmp(sc->files[i].path, path))
			return &sc->files[i];
	if (cs_grow(&sc->files, sc->nfiles, &sc->capfiles, sizeof(*sc->files), 16))
		return NULL;
	f = &sc->files[sc->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (f->path)
		load_elf(f); /* a file we cannot read just has no symbols */
	return f;
}

int cs_sym_elf(struct cs_symcache *sc, const char *path, uint64_t file_off, char *out,
	       size_t len)
{
	struct elf_syms *f = get_file(sc, path);
	const struct sym *s;
	uint64_t vaddr = file_off;
	size_t i;

	if (!f)
		return -ENOMEM;
	for (i = 0; i < f->nsegs; i++) {
		if (file_off >= f->segs[i].off && file_off < f->segs[i].off + f->segs[i].filesz) {
			vaddr = file_off - f->segs[i].off + f->segs[i].vaddr;
			break;
		}
	}
	/* .bss lies past the file: use the last segment's mapping */
	if (i == f->nsegs && f->nsegs) {
		const struct segment *last = &f->segs[f->nsegs - 1];

		if (file_off >= last->off)
			vaddr = file_off - last->off + last->vaddr;
	}
	s = find_sym(f->syms, f->n, vaddr, true);
	if (!s)
		return -ENOENT;
	if (vaddr == s->addr)
		snprintf(out, len, "%s", s->name);
	else
		snprintf(out, len, "%s+0x%" PRIx64, s->name, vaddr - s->addr);
	return 0;
}

/* Read /proc/PID/maps into pm (file-backed mappings; .bss joined to its file). */
static int read_maps(pid_t pid, struct pid_maps *pm)
{
	char path[64], line[4096], prev_file[4096] = "";
	unsigned long long prev_start = 0, prev_end = 0, prev_off = 0;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	pm->pid = pid;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char file[4096] = "";

		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %4095[^\n]", &start, &end, &off,
			   file) < 3)
			continue;
		/*
		 * A program's .bss past its last file page is an anonymous mapping
		 * right after the file's: it still belongs to that file.
		 */
		if (!file[0] && start == prev_end && prev_file[0] == '/') {
			snprintf(file, sizeof(file), "%s", prev_file);
			off = prev_off + (start - prev_start);
		}
		snprintf(prev_file, sizeof(prev_file), "%s", file);
		prev_start = start;
		prev_end = end;
		prev_off = off;
		if (!file[0])
			continue;
		if (cs_grow(&pm->m, pm->n, &cap, sizeof(*pm->m), 32))
			break;
		pm->m[pm->n].start = start;
		pm->m[pm->n].end = end;
		pm->m[pm->n].off = off;
		pm->m[pm->n].file = strdup(file);
		if (pm->m[pm->n].file)
			pm->n++;
	}
	fclose(f);
	return 0;
}

static struct pid_maps *cached_maps(struct cs_symcache *sc, pid_t pid)
{
	const uint32_t *i = cs_hmap_get(&sc->procidx, (uint32_t)pid, 0);

	return i ? &sc->procs[*i] : NULL;
}

int cs_sym_remember(struct cs_symcache *sc, pid_t pid)
{
	struct pid_maps pm = { 0 }, *old = cached_maps(sc, pid);
	int ret = read_maps(pid, &pm);

	if (ret)
		return ret;
	if (old) { /* fresher mappings replace the old ones */
		free_maps(old);
		*old = pm;
		return 0;
	}
	if (cs_grow(&sc->procs, sc->nprocs, &sc->capprocs, sizeof(*sc->procs), 16) ||
	    cs_hmap_put(&sc->procidx, (uint32_t)pid, 0, (uint32_t)sc->nprocs)) {
		free_maps(&pm);
		return -ENOMEM;
	}
	sc->procs[sc->nprocs++] = pm;
	return 0;
}

/* "comm/tid" of a thread of pid, as /proc says now ("thread tid" once it is gone). */
static void thread_label(pid_t pid, pid_t tid, char *out, size_t len)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	if (*comm)
		snprintf(out, len, "%s/%d", comm, tid);
	else /* gone */
		snprintf(out, len, "thread %d", tid);
}

/*
 * A mapping that is not an ELF file, in words: the heap, the main thread's
 * stack, shared memory (anonymous, POSIX, memfd, System V); else the
 * file's name. off is the address's offset in the mapping (or file).
 */
static void describe_region(pid_t pid, const char *file, uint64_t off, char *out, size_t len)
{
	const char *base = strrchr(file, '/');
	char who[48];
	unsigned int key;

	base = base ? base + 1 : file;
	if (!strcmp(file, "[heap]")) {
		snprintf(out, len, "heap+0x%" PRIx64, off);
	} else if (!strcmp(file, "[stack]")) {
		thread_label(pid, pid, who, sizeof(who));
		snprintf(out, len, "stack of %s", who);
	} else if (!strncmp(file, "/dev/zero", 9)) { /* MAP_SHARED | MAP_ANONYMOUS */
		snprintf(out, len, "shared memory+0x%" PRIx64, off);
	} else if (sscanf(file, "/SYSV%x", &key) == 1) {
		snprintf(out, len, "SysV shared memory 0x%08x+0x%" PRIx64, key, off);
	} else if (!strncmp(file, "/memfd:", 7) || !strncmp(file, "/dev/shm/", 9)) {
		snprintf(out, len, "shared memory %.*s+0x%" PRIx64,
			 (int)strcspn(file[1] == 'm' ? file + 1 : base, " "),
			 file[1] == 'm' ? file + 1 : base, off);
	} else if (!strncmp(file, "[anon:", 6)) {
		snprintf(out, len, "%.*s+0x%" PRIx64, (int)strcspn(file + 6, "]"), file + 6, off);
	} else {
		snprintf(out, len, "%s+0x%" PRIx64, base, off);
	}
}

static int name_in(struct cs_symcache *sc, const struct pid_maps *pm, pid_t pid, uint64_t addr,
		   char *out, size_t len)
{
	size_t i;

	for (i = 0; pm && i < pm->n; i++) {
		const struct map_ent *e = &pm->m[i];

		if (addr < e->start || addr >= e->end)
			continue;
		if (e->file[0] == '/' && !cs_sym_elf(sc, e->file, addr - e->start + e->off, out, len))
			return 0;
		describe_region(pid, e->file, addr - e->start + e->off, out, len);
		return -ENOENT;
	}
	return -ESRCH;
}

/* The unnamed mapping of pid that holds addr: [*start, *end); 0 or -ENOENT. */
static int anon_mapping(pid_t pid, uint64_t addr, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (ret && fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		int name = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &a, &b, &name) < 2)
			continue;
		if (addr >= a && addr < b && (!name || line[name] == '\n' || !line[name])) {
			*start = a;
			*end = b;
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* The stack pointer of a thread blocked in a system call (/proc/.../syscall), or 0. */
static uint64_t blocked_sp(pid_t pid, const char *tid)
{
	char path[320], buf[256];
	unsigned long long v[9];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		n = sscanf(buf, "%llx %llx %llx %llx %llx %llx %llx %llx %llx", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]);
	fclose(f);
	return n == 9 ? v[7] : 0;
}

#define STACK_SCAN 256 /* threads whose stack pointers are looked at */

/*
 * Whose stack an unnamed mapping is: the thread hint_tid names, a thread of
 * pid whose tid the waiter expects in the word (pthread_join waits on the
 * tid in the joined thread's descriptor, which glibc puts at the top of its
 * stack; the thread may be gone by now, and its mapping merged with the
 * next); else a blocked thread whose stack pointer is in it.
 */
static int stack_owner(pid_t pid, uint64_t start, uint64_t end, uint32_t hint_tid, char *out,
		       size_t len)
{
	char path[64], who[48];
	struct dirent *de;
	int n = 0, found = (int)hint_tid;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = found ? NULL : opendir(path);
	while (d && !found && n < STACK_SCAN && (de = readdir(d))) {
		uint64_t sp;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n++;
		sp = blocked_sp(pid, de->d_name);
		if (sp >= start && sp < end)
			found = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	if (!found)
		return -ENOENT;
	thread_label(pid, found, who, sizeof(who));
	snprintf(out, len, "stack of %s", who);
	return 0;
}

int cs_sym_user(struct cs_symcache *sc, pid_t pid, uint64_t addr, uint32_t hint_tid, char *out,
		size_t len)
{
	uint64_t start, end;
	int ret;

	snprintf(out, len, "0x%" PRIx64, addr);
	ret = name_in(sc, cached_maps(sc, pid), pid, addr, out, len);
	if (ret != -ESRCH)
		return ret;
	/* not in what we knew: read the mappings again while the process lives */
	if (cs_sym_remember(sc, pid))
		return -ESRCH;
	ret = name_in(sc, cached_maps(sc, pid), pid, addr, out, len);
	if (ret != -ESRCH)
		return ret;
	/* an unnamed mapping: a thread's stack, when one can be told */
	if (!anon_mapping(pid, addr, &start, &end) &&
	    !stack_owner(pid, start, end, hint_tid, out, len))
		return -ENOENT;
	return -ESRCH;
}

static void load_kallsyms(struct cs_symcache *sc)
{
	size_t cap = 0;
	char line[512];
	FILE *f;

	sc->kloaded = true;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type, name[256];

		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3 || !a)
			continue;
		if (type == 't' || type == 'T')
			add_sym(&sc->ksyms, &sc->nksyms, &cap, a, 0, name);
	}
	fclose(f);
	qsort(sc->ksyms, sc->nksyms, sizeof(*sc->ksyms), by_addr);
}

const char *cs_sym_kernel(struct cs_symcache *sc, uint64_t ip, uint64_t *off)
{
	const struct sym *s;

	if (!sc->kloaded)
		load_kallsyms(sc);
	s = find_sym(sc->ksyms, sc->nksyms, ip, false);
	if (!s)
		return NULL;
	if (off)
		*off = ip - s->addr;
	return s->name;
}

/* Functions that are the locking machinery itself, not who asked for it. */
static bool lock_internal(const char *name)
{
	static const char *const prefixes[] = {
		"_raw_", "__raw_", "queued_", "__pv_queued", "native_queued", "do_raw_",
		"rwsem_", "down_", "__down", "up_", "mutex_", "__mutex", "rt_mutex", "__rt_mutex",
		"percpu_down", "__percpu_down", "osq_", "rt_spin", "rt_read", "rt_write",
		"_einittext", "bpf_", "__bpf_", "__traceiter_", "__probestub_", "trace_contention",
		"resilient_queued", "res_spin", "__s_bpf_",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void cs_sym_kernel_lock(struct cs_symcache *sc, const uint64_t *stack, unsigned int n,
			int mmap_lock, char *out, size_t len)
{
	const char *caller = NULL;
	unsigned int i;

	for (i = 0; i < n && !caller; i++) {
		const char *name = cs_sym_kernel(sc, stack[i], NULL);

		if (name && !lock_internal(name))
			caller = name;
	}
	if (mmap_lock)
		snprintf(out, len, "mmap_lock in %s", caller ? caller : "?");
	else if (caller)
		snprintf(out, len, "lock in %s", caller);
	else
		snprintf(out, len, "kernel lock");
}

/* Where a symbol of an ELF file that pid maps sits in pid's memory. */
int cs_sym_address(struct cs_symcache *sc, pid_t pid, const char *path, const char *name,
		   uint64_t *addr)
{
	struct elf_syms *f = get_file(sc, path);
	const struct pid_maps *pm;
	uint64_t vaddr = 0, off = 0;
	size_t i;

	if (!f)
		return -ENOMEM;
	for (i = 0; i < f->n && strcmp(f->syms[i].name, name); i++)
		;
	if (i == f->n)
		return -ENOENT;
	vaddr = f->syms[i].addr;
	for (i = 0; i < f->nsegs; i++) /* the segment holding it, in the file */
		if (vaddr >= f->segs[i].vaddr && vaddr - f->segs[i].vaddr < f->segs[i].filesz)
			off = vaddr - f->segs[i].vaddr + f->segs[i].off;
	if (!off || (!cached_maps(sc, pid) && cs_sym_remember(sc, pid)))
		return -ENOENT;
	pm = cached_maps(sc, pid);
	for (i = 0; pm && i < pm->n; i++) {
		const struct map_ent *e = &pm->m[i];

		if (!strcmp(e->file, path) && off >= e->off && off - e->off < e->end - e->start) {
			*addr = e->start + off - e->off;
			return 0;
		}
	}
	return -ENOENT;
}

/* Kernel functions that only pass a wake-up on: the source is further down. */
static bool wake_plumbing(const char *name)
{
	static const char *const prefixes[] = {
		"try_to_wake_up", "wake_up_", "__wake_up", "autoremove_wake", "default_wake",
		"woken_wake", "wake_page", "pollwake", "ep_poll_callback", "ep_autoremove",
		"complete", "swake_up", "__queue_work", "queue_work", "insert_work",
		"__flush", "irq_exit", "handle_softirqs", "__irq_exit", "sysvec_", "asm_",
		"__do_softirq", "do_softirq", "__sysvec", "ttwu_", "sched_ttwu", "__bpf_", "bpf_",
		"__traceiter_",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* What kind of source a kernel function stands for. */
static const char *wake_kind(const char *name)
{
	static const struct { const char *prefix, *kind; } kinds[] = {
		{ "hrtimer_wakeup", "timer" }, { "it_real_fn", "timer (itimer)" },
		{ "process_timeout", "timer" }, { "call_timer_fn", "timer" },
		{ "__hrtimer_run_queues", "timer" }, { "posix_timer_fn", "timer (posix)" },
		{ "timerfd_tmrproc", "timer (timerfd)" }, { "alarmtimer", "timer (alarm)" },
		{ "net_rx_action", "network" }, { "sock_def_readable", "network" },
		{ "tcp_", "network" }, { "udp_", "network" }, { "unix_", "socket" },
		{ "blk_mq_", "disk I/O" }, { "bio_endio", "disk I/O" }, { "end_buffer", "disk I/O" },
		{ "rcu_", "rcu" }, { "irq_work", "irq work" }, { "tty_", "terminal" },
		{ "n_tty", "terminal" }, { "vp_", "virtio" }, { "vring_", "virtio" },
		{ "signal_wake_up", "signal" }, { "complete_signal", "signal" },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)))
			return kinds[i].kind;
	return NULL;
}

void cs_sym_wake_source(struct cs_symcache *sc, const uint64_t *ips, unsigned int n,
			unsigned int flags, char *out, size_t len)
{
	const char *ctx = flags & 0x20 ? "nmi" : flags & 0x08 ? "irq" : "softirq";
	const char *first = NULL, *kind;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const char *name = cs_sym_kernel(sc, ips[i], NULL);

		if (!name)
			continue;
		kind = wake_kind(name);
		if (kind) {
			snprintf(out, len, "%s", kind);
			return;
		}
		if (!first && !wake_plumbing(name))
			first = name;
	}
	if (first)
		snprintf(out, len, "%s: %s", ctx, first);
	else
		snprintf(out, len, "%s", ctx);
}
