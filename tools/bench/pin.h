/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* pin.h: the benchmark programs' one way to pin themselves to a CPU (tools/bench). */
#ifndef CS_BENCH_PIN_H
#define CS_BENCH_PIN_H

#include <errno.h>
#include <sched.h>

/* Run on CPU cpu only (cpu < 0: leave it): 0, or -errno with errno set. */
static inline int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

#endif
