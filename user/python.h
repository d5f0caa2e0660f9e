/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * python.h: what concscope knows of CPython processes: where the GIL of a
 * Debian CPython 3.11 interpreter lives, so that waiting for it counts as
 * lock contention and gets its name, and where its threads' Python frames
 * start (--stacks, bpf/pyframes.bpf.h).
 */
#ifndef CS_PYTHON_H
#define CS_PYTHON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "symbols.h"

/* What a process runs, as far as CPython goes. */
struct cs_py_proc {
	bool python;          /* its executable is a CPython interpreter (pythonX.Y) */
	bool supported;       /* ... the one this build read the layout of, at its version */
	unsigned int version; /* PY_VERSION_HEX as it says (Py_Version), else from its name */
	uint64_t runtime;     /* supported: the address of its _PyRuntime */
	char exe[32];         /* its executable's name */
};

/* The layout's version (PY_VERSION_HEX of python3-dev's headers), 0 when built without them. */
unsigned int cs_py_layout_version(void);

/*
 * Look at PID's executable: 0 and *out filled (out->python false for a
 * program that is no CPython), or -errno when /proc cannot say. A CPython
 * is supported when it is the interpreter the layout was read for and its
 * Py_Version has the layout's major and minor version.
 */
int cs_py_inspect(struct cs_symcache *sc, pid_t pid, struct cs_py_proc *out);

/* A supported process's GIL: [lo, hi) (_PyRuntime.ceval.gil). */
void cs_py_gil_range(const struct cs_py_proc *p, uint64_t *lo, uint64_t *hi);

/* Where its main interpreter's pointer is (_PyRuntime.interpreters.main). */
uint64_t cs_py_interp_ptr(const struct cs_py_proc *p);

#endif
