// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include "state.h"

#include <linux/types.h>
#include "concscope.h"

#define TASK_IDLE 0x0402 /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */

_Static_assert((int)CS_ST_UNTRACED == (int)CS_KS_UNTRACED && (int)CS_NACC == (int)CS_KS_NACC &&
	       (int)CS_ST_NEW == (int)CS_KS_NEW && (int)CS_ST_DEAD == (int)CS_KS_DEAD, "states differ from the BPF side's");

unsigned int cs_state_report(bool preempt, unsigned int raw_state,
			     unsigned int exit_state)
{
	return cs_report_state(preempt, raw_state, exit_state);
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

static const char letters[CS_NLETTERS + 1] = "SDTtXZPI";

char cs_letter_char(unsigned int i)
{
	return i < CS_NLETTERS ? letters[i] : '?';
}

int cs_letter_from_char(char letter)
{
	int i;

	for (i = 0; i < CS_NLETTERS; i++)
		if (letters[i] == letter)
			return i;
	return -1;
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
		[CS_ST_LOCK] = "lock",       [CS_ST_UNTRACED] = "untraced",
		[CS_ST_UNKNOWN] = "unknown",
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
