// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "python.h"
#include "pylayout.h" /* generated from python3-dev's headers (tools/gen-pylayout.sh) */

unsigned int cs_py_layout_version(void)
{
	return CS_PY_GIL_SIZE ? CS_PY_VERSION_HEX : 0;
}

/* "python3.12" -> 0x030c0000; 0 when the name is no CPython's. */
static unsigned int version_of_name(const char *base)
{
	unsigned int major, minor;
	int end = 0;

	if (sscanf(base, "python%u.%u%n", &major, &minor, &end) != 2 || base[end] || major > 9 ||
	    minor > 99)
		return 0;
	return major << 24 | minor << 16;
}

/* Py_Version, read from the process (a const in its .rodata), or 0. */
static unsigned int running_version(struct cs_symcache *sc, pid_t pid, const char *exe)
{
	uint64_t addr;
	unsigned long v = 0;
	struct iovec local = { &v, sizeof(v) }, remote;

	if (cs_sym_address(sc, pid, exe, "Py_Version", &addr))
		return 0;
	remote = (struct iovec){ (void *)(uintptr_t)addr, sizeof(v) };
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(v))
		return 0;
	return (unsigned int)v;
}

int cs_py_inspect(struct cs_symcache *sc, pid_t pid, struct cs_py_proc *out)
{
	char link[64], exe[PATH_MAX];
	const char *base;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return -errno;
	exe[n] = 0;
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	out->version = version_of_name(base);
	if (!out->version)
		return 0;
	out->python = true;
	snprintf(out->exe, sizeof(out->exe), "%.31s", base);
	/* the interpreter the layout was read for: python3.11 (Debian 12's) */
	if (!CS_PY_GIL_SIZE || strcmp(base, CS_PY_EXE))
		return 0;
	n = running_version(sc, pid, exe);
	if (n)
		out->version = (unsigned int)n;
	/* its major and minor version must be the headers' (a build without Py_Version is older) */
	if (!n || (out->version >> 16) != (CS_PY_VERSION_HEX >> 16))
		return 0;
	if (cs_sym_address(sc, pid, exe, "_PyRuntime", &out->runtime))
		return 0;
	out->supported = true;
	return 0;
}

void cs_py_gil_range(const struct cs_py_proc *p, uint64_t *lo, uint64_t *hi)
{
	*lo = p->runtime + CS_PY_GIL_OFFSET;
	*hi = *lo + CS_PY_GIL_SIZE;
}

uint64_t cs_py_interp_ptr(const struct cs_py_proc *p)
{
	return p->runtime + CS_PY_RT_MAIN;
}
