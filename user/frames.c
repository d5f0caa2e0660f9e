// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* frames.c: naming the recorded stacks' frames, after the recording (frames.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "grow.h"
#include "hashmap.h"

struct addr {
	uint64_t pc;
	uint32_t pid;  /* 0: kernel */
	uint8_t ret;   /* a return address: named by the call before it */
	uint8_t py;    /* a CPython frame's key (CS_PY_KEY) */
};

struct cs_frames {
	struct addr *v;         /* every address noted, in the order first seen */
	size_t n, cap;
	struct cs_hmap idx;     /* (pc, pid) -> index in v */
	struct cs_pyframes *py; /* the code objects of the Python frames, read once */
};

struct cs_frames *cs_frames_new(void)
{
	struct cs_frames *fr = calloc(1, sizeof(struct cs_frames));

	if (fr && !(fr->py = cs_pyframes_new())) {
		free(fr);
		return NULL;
	}
	return fr;
}

static void put(struct cs_frames *fr, uint32_t pid, uint64_t pc, bool ret, bool py)
{
	if (cs_hmap_get(&fr->idx, pc, pid))
		return;
	if (cs_grow(&fr->v, fr->n, &fr->cap, sizeof(*fr->v), 512) ||
	    cs_hmap_put(&fr->idx, pc, pid, (uint32_t)fr->n))
		return;
	fr->v[fr->n++] = (struct addr){ pc, pid, ret, py };
}

void cs_frames_note(struct cs_frames *fr, const struct cs_stack_def *d)
{
	unsigned int i, base = d->h.aux * CS_STACK_PART, py = d->nkernel + d->nother;

	for (i = 0; fr && i < d->n && i < CS_STACK_PART; i++) {
		unsigned int k = base + i;

		if (k < d->nkernel) {
			put(fr, 0, d->pcs[i], false, false);
		} else if (k < py) { /* its code object, while the process lives */
			put(fr, d->h.pid, d->pcs[i], false, true);
			cs_pyframes_note(fr->py, d->h.pid, d->pcs[i]);
		} else {
			put(fr, d->h.pid, d->pcs[i], k > py, false);
		}
	}
}

static bool system_lib(const char *path)
{
	return !strncmp(path, "/lib/", 5) || !strncmp(path, "/usr/lib/", 9) ||
	       !strncmp(path, "/lib64/", 7) || !strncmp(path, "/usr/lib64/", 11);
}

unsigned int cs_frames_user_name(struct cs_unwind *u, struct cs_symcache *sc, uint32_t pid,
				 uint64_t addr, int ret_addr, char *out, size_t len)
{
	const char *path, *base;
	uint64_t off;
	unsigned int flags = 0;
	char *plus;

	if (cs_unwind_locate(u, pid, addr, &path, &off)) {
		snprintf(out, len, "0x%" PRIx64, addr);
		return CS_FNF_MODULE;
	}
	if (system_lib(path))
		flags |= CS_FNF_LIB;
	/* a return address follows its call: the call names the frame */
	if (!cs_sym_elf(sc, path, ret_addr && off ? off - 1 : off, out, len)) {
		plus = strstr(out, "+0x");
		if (plus)
			*plus = 0;
		return flags;
	}
	base = strrchr(path, '/');
	snprintf(out, len, "%s+0x%" PRIx64, base ? base + 1 : path, off);
	return flags | CS_FNF_MODULE;
}

size_t cs_frames_name(struct cs_frames *fr, struct cs_unwind *u, struct cs_symcache *sc,
		      uint64_t ts, cs_emit_fn emit, void *ctx)
{
	struct cs_frame_name n;
	size_t i, done = 0;

	for (i = 0; fr && i < fr->n; i++) {
		const struct addr *a = &fr->v[i];

		memset(&n, 0, sizeof(n));
		n.h.ts = ts;
		n.h.size = sizeof(n);
		n.h.kind = CS_EV_FRAME_NAME;
		n.h.cpu = 0xffff;
		n.h.pid = n.h.tid = a->pid;
		n.addr = a->pc;
		if (a->py) {
			n.h.flags = CS_FNF_OTHER;
			if (cs_pyframes_name(fr->py, a->pid, a->pc, n.name, sizeof(n.name)))
				snprintf(n.name, sizeof(n.name), "[python code 0x%" PRIx64 "]",
					 (uint64_t)(a->pc & ((1ull << CS_PY_LASTI_SHIFT) - 1)));
		} else if (!a->pid) {
			const char *k = cs_sym_kernel(sc, a->pc, NULL);

			n.h.flags = CS_FNF_KERNEL;
			if (k)
				snprintf(n.name, sizeof(n.name), "%s", k);
			else
				snprintf(n.name, sizeof(n.name), "0x%" PRIx64, a->pc);
		} else {
			n.h.flags = (uint8_t)cs_frames_user_name(u, sc, a->pid, a->pc, a->ret, n.name,
								 sizeof(n.name));
		}
		emit(&n.h, ctx);
		done++;
	}
	return done;
}

void cs_frames_py_stats(const struct cs_frames *fr, uint64_t *codes, uint64_t *ns)
{
	cs_pyframes_stats(fr ? fr->py : NULL, codes, ns);
}

void cs_frames_free(struct cs_frames **fr)
{
	if (!*fr)
		return;
	cs_pyframes_free(&(*fr)->py);
	free((*fr)->v);
	cs_hmap_free(&(*fr)->idx);
	free(*fr);
	*fr = NULL;
}
