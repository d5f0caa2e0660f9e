// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "decode.h"

/* The size of each kind's record (0: not a kind). */
static const size_t kind_size[CS_EV_KIND_MAX] = {
	[CS_EV_SWITCH] = sizeof(struct cs_switch),
	[CS_EV_WAKING] = sizeof(struct cs_waking),
	[CS_EV_FORK] = sizeof(struct cs_fork),
	[CS_EV_EXEC] = sizeof(struct cs_exec),
	[CS_EV_EXIT] = sizeof(struct cs_exit),
	[CS_EV_MIGRATE] = sizeof(struct cs_migrate),
	[CS_EV_RENAME] = sizeof(struct cs_rename),
	[CS_EV_LOCK_BEGIN] = sizeof(struct cs_lock),
	[CS_EV_LOCK_END] = sizeof(struct cs_lock),
	[CS_EV_FUTEX_ENTER] = sizeof(struct cs_futex),
	[CS_EV_FUTEX_EXIT] = sizeof(struct cs_futex),
	[CS_EV_THREAD_INFO] = sizeof(struct cs_thread_info),
	[CS_EV_MARK] = sizeof(struct cs_mark),
	[CS_EV_LOST] = sizeof(struct cs_lost),
	[CS_EV_LOCK_NAME] = sizeof(struct cs_lock_name),
	[CS_EV_THREAD_TOTALS] = sizeof(struct cs_thread_totals),
	[CS_EV_CPU_STATE] = sizeof(struct cs_cpu_state),
	[CS_EV_LOCK_CLASS] = sizeof(struct cs_lock_class),
	[CS_EV_WAKE_SOURCE] = sizeof(struct cs_wake_source),
	[CS_EV_TITLE] = sizeof(struct cs_title),
	[CS_EV_TASK_SCHED] = sizeof(struct cs_task_sched),
	[CS_EV_STACK] = sizeof(struct cs_stack),
	[CS_EV_STACK_DEF] = sizeof(struct cs_stack_def),
	[CS_EV_FRAME_NAME] = sizeof(struct cs_frame_name),
};

_Static_assert(sizeof(struct cs_stack_def) <= CS_REC_MAX, "CS_REC_MAX too small");
_Static_assert(sizeof(struct cs_frame_name) <= CS_REC_MAX, "CS_REC_MAX too small");

_Static_assert(sizeof(struct cs_thread_totals) <= CS_REC_MAX, "CS_REC_MAX too small");

_Static_assert(sizeof(struct cs_lock_name) <= CS_REC_MAX, "CS_REC_MAX too small");
_Static_assert(sizeof(struct cs_mark) <= CS_REC_MAX, "CS_REC_MAX too small");
_Static_assert(sizeof(struct cs_title) <= CS_REC_MAX, "CS_REC_MAX too small");
_Static_assert(sizeof(struct cs_task_sched) <= CS_REC_MAX, "CS_REC_MAX too small");
_Static_assert(sizeof(struct cs_switch) == 56, "switch record layout changed");

size_t cs_kind_size(unsigned int kind)
{
	return kind < CS_EV_KIND_MAX ? kind_size[kind] : 0;
}

const struct cs_hdr *cs_decode(const void *data, size_t len)
{
	const struct cs_hdr *h = data;
	size_t want;

	if (!data || len < sizeof(*h) || ((uintptr_t)data & 7))
		return NULL;
	want = cs_kind_size(h->kind);
	if (!want || h->size != want || len != want)
		return NULL;
	return h;
}

const struct cs_hdr *cs_decode_next(const void *buf, size_t len, size_t *off)
{
	const struct cs_hdr *h;
	size_t size;

	if (*off + sizeof(*h) > len)
		return NULL;
	h = (const struct cs_hdr *)((const char *)buf + *off);
	size = h->size;
	if (size < sizeof(*h) || *off + size > len || !cs_decode(h, size))
		return NULL;
	*off += size;
	return h;
}

void cs_mark_init(struct cs_mark *m, uint64_t ts, unsigned int kind, uint32_t pid,
		  int64_t value, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->h.ts = ts;
	m->h.size = sizeof(*m);
	m->h.kind = CS_EV_MARK;
	m->h.aux = (uint16_t)kind;
	m->h.cpu = 0xffff;
	m->h.tid = m->h.pid = pid;
	m->value = value;
	if (text)
		snprintf(m->text, sizeof(m->text), "%s", text);
}

