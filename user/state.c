// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include "state.h"

/* Raw task state bits (include/linux/sched.h). */
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_REPORT 0x007f /* R S D T t X Z P */
#define TASK_NOLOAD 0x0400
#define TASK_IDLE (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_RTLOCK_WAIT 0x1000
#define TASK_FROZEN 0x8000
#define TASK_REPORT_IDLE (TASK_REPORT + 1)

static unsigned int fls32(unsigned int x)
{
	return x ? 32 - (unsigned int)__builtin_clz(x) : 0;
}

unsigned int cs_state_report(bool preempt, unsigned int raw_state,
			     unsigned int exit_state)
{
	unsigned int state, idx;

	if (preempt)
		return CS_REPORT_PREEMPT;
	state = (raw_state | exit_state) & TASK_REPORT;
	if ((raw_state & TASK_IDLE) == TASK_IDLE)
		state = TASK_REPORT_IDLE;
	if (raw_state & (TASK_RTLOCK_WAIT | TASK_FROZEN))
		state = TASK_UNINTERRUPTIBLE;
	idx = fls32(state);
	return idx ? 1u << (idx - 1) : 0;
}

enum cs_tstate cs_state_after_switch(unsigned int reported)
{
	switch (reported) {
	case CS_REPORT_RUNNING:
	case CS_REPORT_PREEMPT:
		return CS_ST_READY;
	case CS_REPORT_D:
		return CS_ST_IO;
	case CS_REPORT_X:
	case CS_REPORT_Z:
		return CS_ST_DEAD;
	default: /* S, I, T, t, P */
		return CS_ST_SLEEP;
	}
}

bool cs_switch_voluntary(bool preempt, unsigned int raw_state)
{
	return !preempt && raw_state != 0;
}

char cs_state_letter(unsigned int reported)
{
	static const char letters[] = "SDTtXZPI";
	unsigned int idx = fls32(reported);

	if (reported == CS_REPORT_PREEMPT)
		return '+';
	if (idx == 0)
		return 'R';
	return idx <= 8 ? letters[idx - 1] : '?';
}

enum cs_tstate cs_state_from_proc(char letter)
{
	switch (letter) {
	case 'R':
		return CS_ST_RUNNING; /* running or ready: resolved by the core */
	case 'D':
		return CS_ST_IO;
	case 'S': case 'I': case 'T': case 't': case 'P':
		return CS_ST_SLEEP;
	case 'X': case 'Z':
		return CS_ST_DEAD;
	default:
		return CS_ST_UNKNOWN;
	}
}

const char *cs_state_name(enum cs_tstate st)
{
	static const char *const names[] = {
		[CS_ST_RUNNING] = "running", [CS_ST_READY] = "ready",
		[CS_ST_SLEEP] = "sleeping",  [CS_ST_IO] = "io",
		[CS_ST_LOCK] = "lock",       [CS_ST_UNKNOWN] = "unknown",
		[CS_ST_NEW] = "new",         [CS_ST_DEAD] = "dead",
	};
	return (unsigned int)st <= CS_ST_DEAD ? names[st] : "?";
}

void cs_state_unreport(unsigned int reported, unsigned int *raw_state,
		       unsigned int *exit_state, bool *preempt)
{
	*preempt = reported == CS_REPORT_PREEMPT;
	*exit_state = 0;
	switch (reported) {
	case CS_REPORT_PREEMPT:
	case CS_REPORT_RUNNING:
		*raw_state = 0;
		break;
	case CS_REPORT_I:
		*raw_state = TASK_IDLE;
		break;
	case CS_REPORT_X:
	case CS_REPORT_Z:
		*raw_state = 0x80; /* TASK_DEAD */
		*exit_state = reported;
		break;
	default:
		*raw_state = reported;
		break;
	}
}
