/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pyframes.h: naming CPython 3.11 frames (--stacks; issue #20).
 *
 * The BPF side keys a Python frame by its code object's address and its
 * instruction index (CS_PY_KEY, bpf/concscope.h). A code object lives in
 * the process's memory, which is gone once the process exits, while the
 * names are given after the recording: so each code object is read once,
 * the first time a stack shows it (the drain path: a few process_vm_readv
 * calls, then a table look-up for every later frame of it), and its file
 * name, qualified name, first line and line table are kept; the name
 * "file:line function" is made from them at the end.
 */
#ifndef CS_PYFRAMES_H
#define CS_PYFRAMES_H

#include <stddef.h>
#include <stdint.h>

struct cs_pyframes;

struct cs_pyframes *cs_pyframes_new(void);
/* Read the code object of key in pid's memory, the first time it is seen. */
void cs_pyframes_note(struct cs_pyframes *p, uint32_t pid, uint64_t key);
/* "file:line function" of key; -ENOENT when its code object could not be read. */
int cs_pyframes_name(const struct cs_pyframes *p, uint32_t pid, uint64_t key, char *out,
		     size_t len);
/* Code objects read, and the time that took (ns). */
void cs_pyframes_stats(const struct cs_pyframes *p, uint64_t *codes, uint64_t *ns);
void cs_pyframes_free(struct cs_pyframes **p);

/*
 * The line of the instruction at lasti (code units from the code's start)
 * from a CPython 3.11 location table (co_linetable) of a code object whose
 * first line is first; -1 when the table says it has no line (or ends
 * before it). Pure: unit-tested against the interpreter's co_positions().
 */
int cs_py_line(const uint8_t *tab, size_t len, int first, uint32_t lasti);

#endif
