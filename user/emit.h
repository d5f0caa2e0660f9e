/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * emit.h: the record stream's one callback. Whatever produces records in
 * time order (the reorder buffer, the trace reader) hands each one to a
 * cs_emit_fn; whatever consumes them (the core through replay, the trace
 * writer, a session's fan-out) is one. It lives on the core's side so a
 * producer needs nothing from the others: the trace reader does not depend
 * on the live-capture code.
 */
#ifndef CS_EMIT_H
#define CS_EMIT_H

#include <linux/types.h>
#include "concscope.h"

/* One validated record (its size is its kind's size); ctx is the consumer's. */
typedef void (*cs_emit_fn)(const struct cs_hdr *ev, void *ctx);

#endif
