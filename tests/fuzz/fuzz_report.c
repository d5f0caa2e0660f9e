/* libFuzzer target: the trace reader behind `concscope report`, fed into
 * the same replay and core as the real command, the same way: the header,
 * then the records in one pass, dropped on an error. Any input must end in
 * a clean error or a result, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include "pftrace.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_core_cfg cfg = { 0 };
	struct cs_pf_reader *pf;
	struct cs_pf_info info;
	struct cs_replay r;
	char err[256];

	if (cs_pf_load_mem(&pf, data, size, &info, err, sizeof(err)))
		return 0;
	cfg.track_all = info.track_all;
	cfg.tl_width_ns = info.tl_width_ns;
	cs_replay_init(&r, &cfg);
	if (!cs_pf_stream(pf, cs_replay_emit, &r, &info, err, sizeof(err)))
		cs_replay_finish(&r, info.end_ts);
	cs_pf_unload(&pf);
	cs_replay_free(&r);
	return 0;
}
