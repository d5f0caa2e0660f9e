/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * symbols.h: names for lock addresses. User addresses resolve through
 * /proc/PID/maps to the mapped ELF file and its symbol table (.symtab, else
 * .dynsym); kernel code addresses through /proc/kallsyms' text symbols.
 * Symbol tables are loaded once per file and kept.
 */
#ifndef CS_SYMBOLS_H
#define CS_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cs_symcache;

struct cs_symcache *cs_symcache_new(void);
void cs_symcache_free(struct cs_symcache **sc);

/*
 * A user address of pid, named: "symbol+0xoff" (an ELF file's symbol);
 * else its mapping in words: "heap+0xoff", "stack of comm/tid" (the main
 * thread's; in an unnamed mapping, hint_tid's, a thread of pid whose tid the
 * waiter expects there, as a join does, else a blocked thread's whose stack
 * pointer is in it), "shared memory+0xoff" (anonymous), "shared memory NAME+0xoff"
 * (memfd, /dev/shm), "SysV shared memory 0xKEY+0xoff", "file+0xoff"; else
 * "0xaddr". 0 if resolved to a symbol.
 */
int cs_sym_user(struct cs_symcache *sc, pid_t pid, uint64_t addr, uint32_t hint_tid, char *out,
		size_t len);

/*
 * Read and keep PID's file mappings now (at exec, at attach), so that its
 * addresses can still be named after it exits.
 */
int cs_sym_remember(struct cs_symcache *sc, pid_t pid);

/* Kernel text symbol for ip ("func+0xoff"), NULL if unknown. */
const char *cs_sym_kernel(struct cs_symcache *sc, uint64_t ip, uint64_t *off);

/*
 * Name a contended kernel lock from the stack at contention_begin: the
 * first caller outside the locking code ("mmap_lock in do_user_addr_fault"
 * when it is the task's mmap_lock).
 */
void cs_sym_kernel_lock(struct cs_symcache *sc, const uint64_t *stack, unsigned int n,
			int mmap_lock, char *out, size_t len);

/* Where symbol `name` of the ELF file at path sits in pid's memory; 0 or -errno. */
int cs_sym_address(struct cs_symcache *sc, pid_t pid, const char *path, const char *name,
		   uint64_t *addr);

/*
 * Name the source of a wake-up run from an interrupt, from its kernel
 * stack: "timer", "network", "disk I/O", ..., else "irq: <function>"
 * (flags: the waking's CS_WKF_* interrupt bits).
 */
void cs_sym_wake_source(struct cs_symcache *sc, const uint64_t *ips, unsigned int n,
			unsigned int flags, char *out, size_t len);

/* Look up an address in an ELF file's symbols (exposed for tests). */
int cs_sym_elf(struct cs_symcache *sc, const char *path, uint64_t file_off, char *out,
	       size_t len);

#endif
