// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "decode.h"

static const struct {
	const char *name;
	size_t size;
} kinds[CS_EV_KIND_MAX] = {
	[CS_EV_SWITCH] = { "switch", sizeof(struct cs_switch) },
	[CS_EV_WAKING] = { "waking", sizeof(struct cs_waking) },
	[CS_EV_FORK] = { "fork", sizeof(struct cs_fork) },
	[CS_EV_EXEC] = { "exec", sizeof(struct cs_exec) },
	[CS_EV_EXIT] = { "exit", sizeof(struct cs_exit) },
	[CS_EV_MIGRATE] = { "migrate", sizeof(struct cs_migrate) },
	[CS_EV_RENAME] = { "rename", sizeof(struct cs_rename) },
	[CS_EV_LOCK_BEGIN] = { "lock_begin", sizeof(struct cs_lock) },
	[CS_EV_LOCK_END] = { "lock_end", sizeof(struct cs_lock) },
	[CS_EV_FUTEX_ENTER] = { "futex_enter", sizeof(struct cs_futex) },
	[CS_EV_FUTEX_EXIT] = { "futex_exit", sizeof(struct cs_futex) },
	[CS_EV_THREAD_INFO] = { "thread_info", sizeof(struct cs_thread_info) },
	[CS_EV_MARK] = { "mark", sizeof(struct cs_mark) },
	[CS_EV_LOST] = { "lost", sizeof(struct cs_lost) },
	[CS_EV_LOCK_NAME] = { "lock_name", sizeof(struct cs_lock_name) },
};

_Static_assert(sizeof(struct cs_lock_name) <= CS_REC_MAX, "CS_REC_MAX too small");
_Static_assert(sizeof(struct cs_mark) <= CS_REC_MAX, "CS_REC_MAX too small");
_Static_assert(sizeof(struct cs_switch) == 56, "switch record layout changed");

size_t cs_kind_size(unsigned int kind)
{
	return kind < CS_EV_KIND_MAX ? kinds[kind].size : 0;
}

const char *cs_kind_name(unsigned int kind)
{
	return kind < CS_EV_KIND_MAX && kinds[kind].name ? kinds[kind].name : "unknown";
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

