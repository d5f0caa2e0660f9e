/* libFuzzer target: the trace reader behind `concscope report`, fed into
 * the same replay and core as the real command. Any input must end in a
 * clean error or a result, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include "pftrace.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_core_cfg cfg = { 0 };
	struct cs_replay r;
	char err[256];

	cs_replay_init(&r, &cfg);
	if (!cs_pf_read_mem(data, size, cs_replay_emit, &r, err, sizeof(err)))
		cs_replay_finish(&r, 0);
	cs_replay_free(&r);
	return 0;
}
