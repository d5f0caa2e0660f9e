/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * frames.h: naming the frames of the stacks a session recorded (--stacks),
 * after the recording. The drain path only notes each new stack's
 * addresses (a set insert); at the end each one is named once: kernel
 * addresses from kallsyms, user ones through the process's mappings as the
 * unwinding worker last read them (unwind.h) and the file's .symtab, else
 * .dynsym, else "module+0xoffset" (symbols.h caches each file once).
 * CPython frames are named from their code objects, which are read when a
 * stack first shows them, while the process lives (pyframes.h).
 */
#ifndef CS_FRAMES_H
#define CS_FRAMES_H

#include <stdint.h>
#include <linux/types.h>
#include "concscope.h"
#include "emit.h"
#include "pyframes.h"
#include "symbols.h"
#include "unwind.h"

struct cs_frames;

struct cs_frames *cs_frames_new(void);
/* Note the addresses of a stack definition (the drain path: cheap). */
void cs_frames_note(struct cs_frames *fr, const struct cs_stack_def *d);
/* One CS_EV_FRAME_NAME record per noted address, stamped ts, to emit; how many. */
size_t cs_frames_name(struct cs_frames *fr, struct cs_unwind *u, struct cs_symcache *sc,
		      uint64_t ts, cs_emit_fn emit, void *ctx);
/* The name of a user address: "symbol", else "module+0xoff"; CS_FNF_* flags. */
unsigned int cs_frames_user_name(struct cs_unwind *u, struct cs_symcache *sc, uint32_t pid,
				 uint64_t addr, int ret_addr, char *out, size_t len);
/* Python code objects read on the drain path, and the time that took (ns). */
void cs_frames_py_stats(const struct cs_frames *fr, uint64_t *codes, uint64_t *ns);
void cs_frames_free(struct cs_frames **fr);

#endif
