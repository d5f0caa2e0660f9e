/* libFuzzer target: the ring-buffer record decoder, and what it lets
 * through into the reorder buffer and the core. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "decode.h"
#include "reorder.h"

static void to_core(const struct cs_hdr *ev, void *ctx)
{
	cs_core_feed(ctx, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_core_cfg cfg = { .track_all = size & 1 };
	struct cs_core *c = cs_core_new(&cfg);
	struct cs_reorder ro;
	const struct cs_hdr *h;
	uint64_t *buf;
	size_t off = 0;

	if (!c)
		return 0;
	/* records are 8-byte aligned in the ring buffer and in dumps */
	buf = malloc(size + 8);
	if (!buf || cs_reorder_init(&ro, 64, 1000000, to_core, c)) {
		free(buf);
		cs_core_free(&c);
		return 0;
	}
	memcpy(buf, data, size);
	cs_core_track(c, 1);
	while ((h = cs_decode_next(buf, size, &off)))
		cs_reorder_push(&ro, h);
	cs_reorder_flush(&ro);
	cs_core_finish(c, UINT64_MAX / 2);
	cs_reorder_free(&ro);
	cs_core_free(&c);
	free(buf);
	return 0;
}
