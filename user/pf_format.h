/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pf_format.h: the layout of concscope's trace file, shared by the writer
 * (pf_writer.c, pf_display.c, pf_compact.c) and the reader (pf_reader.c,
 * pf_compact.c). The schema, for protoc, is tests/perfetto/concscope_trace.proto.
 *
 * The file is a Perfetto Trace (TracePacket fields #1, back to back), laid
 * out in three parts:
 *
 *   header   packet 1: CsHeader (private field 32001, written first so the
 *                      magic sits in the first bytes), SystemInfo
 *                      (utsname, num_cpus); sequence 1 starts here with
 *                      SEQ_INCREMENTAL_STATE_CLEARED
 *            packet 2: ClockSnapshot, BOOTTIME primary
 *            packet 3: TrackDescriptor "concscope models"
 *   groups   display packets: ProcessTree, TrackDescriptor, TrackEvent
 *            one FtraceEventBundle per CPU that had records in the group
 *            one CsGroup packet (private field 32002) that closes the group
 *   trailer  CsTrailer packet (private field 32003), last in the file
 *
 * Every record fed gets a sequence number inside its group. A group is
 * closed (all its bundles written) when any CPU's bundle holds
 * PF_BUNDLE_EVENTS events or its private records fill up (pf_writer.c), so
 * a group has at most one bundle per CPU and the reader merges one group at
 * a time.
 *
 * SWITCH and WAKING of CPUs < 1024 go into their CPU's CompactSched arrays,
 * in the form Perfetto reads (switch_prev_state is the reported state of
 * cs_state_report()). waking_common_flags (12) is for Perfetto only: 0x08
 * for a wake-up from a hard interrupt, 0x10 from a softirq (the kernel's
 * TRACE_FLAG_HARDIRQ / SOFTIRQ, which Perfetto turns into irq_context),
 * up to the bundle's last such wake-up (the ones after it have none); the
 * reader takes the flags from the waking's exception. CompactSched also
 * carries private fields:
 *   1001 switch_order, 1002 waking_order (packed uint32): the sequence
 *        numbers of the switches / wakings in the group, as gaps: with
 *        next = previous + 1 (starting at 0), an even value x is one
 *        element at next + x/2; an odd value x is followed by n and stands
 *        for n + 1 elements, each at next + x/2.
 *   1003 switch_sys_wait (packed): per switch, i * 8 + w: i indexes 1004
 *        syscall_table (packed sint32), the switch's system call (-1 none);
 *        w is 0, or the switch's aux + 1 when it has CS_SWF_NEXT_WAIT
 *        (next's run-queue wait, in 1.024 us units), 7 meaning "that or
 *        more: the value is the next one in 1007".
 *   1005 switch_x, 1006 waking_x (repeated messages): what the arrays and
 *        the defaults below do not give, for one element (by index).
 *   1007 switch_long_wait (packed): the w of each switch whose 1003 says 7,
 *        in order. (A storm's waits are a few us: one byte for both.)
 * Version 4 adds links: display-only switches, so that Perfetto, which
 * takes a compact switch's previous task from the CPU's last switch, sees
 * every CPU's chain whole. A link is a switch element with an exception
 * whose field 9 (link) is 1; it has a record number like the others
 * (group nrec counts it) but is no record: the reader decodes it (its
 * defaults move as for any switch) and emits nothing. The writer writes
 * one, at the switch's time, before a switch whose prev is not the task
 * the CPU's last switch (or link) put there: the first switch of a CPU, and
 * a chain break (a switch the kernel did not trace). Its next is that
 * prev: zero-length, the task that really ran. The task it switches away
 * from is left sleeping (S; concscope counts that time untraced, and the
 * writer's untraced slices show it). One before a CPU's first waking when
 * it comes before the CPU's first switch, to the waker (Perfetto drops a
 * compact waking on a CPU with no switch yet). And one at a loss (a LOST
 * record of a CPU), to the idle task at the first lost event, so that no
 * scheduling slice spans the loss.
 *
 * The reader rebuilds each record from the arrays and these defaults,
 * evaluated per bundle, in record order:
 *   switch prev tid/pid: the previous switch's next tid/pid in the bundle;
 *   a tgid not given: the last tgid given (prev, next or waking pid) with
 *   that tid in the bundle, else the tid itself; raw prev_state/exit_state
 *   and the PREEMPT flag: cs_state_unreport() of the reported state; aux: 0;
 *   waking flags: 0; waker tid/pid: whoever the last switch put on that CPU
 *   (not stored, the core derives it the same way).
 * Every other record (and a SWITCH/WAKING on a CPU >= 1024) is a CsRec in
 * the group packet, with its own order array: its kind, its timestamp as a
 * delta to the group's previous CsRec, the header fields, then the fields
 * of its kind, each left out when zero; which member each field number
 * carries is the table in pf_format.c, the one both directions read. The
 * group packet's last field is a CRC-32 of every byte of the file since
 * the previous group (or the start), the trailer's covers the rest, so the
 * reader detects any damaged byte in a group before it emits a record of
 * that group.
 *
 * Model and window marks and lost counts are also written as Perfetto
 * track events for the UI, and so are the lock waits and the untraced time
 * as the core counted them, when a core tells the writer (cs_pf_slices);
 * the reader ignores those (and the FtraceEvents of forks, execs, exits,
 * renames and migrations): it reads the private copies.
 */
#ifndef CS_PF_FORMAT_H
#define CS_PF_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "decode.h"
#include "pb.h"

#define PF_VERSION 4 /* 4: titles and threads' scheduling (CsRec kinds 72, 73), links; 3: the
			tracer's verdicts, totals kept in the kernel; 2: run-queue wait */
#define PF_VERSION_MIN 2 /* the oldest this reader reads */
#define PF_MAGIC "concscope"
#define PF_SEQ 1        /* trusted_packet_sequence_id of everything ... */
/*
 * ... but the thread track descriptors: on sequence 1 a ThreadDescriptor
 * would become the sequence's default thread (Perfetto's legacy rule), and
 * the first track event parsed would create that thread before its
 * task_newtask (a second thread row). This sequence's incremental state is
 * never cleared, so it has no default thread.
 */
#define PF_SEQ_TRACKS 2
#define PF_MAX_CPU 1024 /* Perfetto's limit for a bundle's cpu */

/* UUIDs of concscope's own tracks (the display's, pf_display.c, pf_stacks.c). */
#define UUID_MODELS 0x636f6e6373630001ull
#define UUID_LOST 0x636f6e6373630002ull
#define UUID_THREAD(tid) (0x636f6e6300000000ull | (uint64_t)(tid))
#define UUID_UNTRACED(tid) (0x636f6e6400000000ull | (uint64_t)(tid))
#define UUID_LOSS(slot) (0x636f6e6373640000ull | (uint64_t)(slot))
#define UUID_PROCESS(pid) (0x636f6e6500000000ull | (uint64_t)(pid))

/* ---- field numbers ---- */

enum {
	/* TracePacket */
	TP_FTRACE = 1, TP_PROCESS_TREE = 2, TP_CLOCKS = 6, TP_TIMESTAMP = 8,
	TP_SEQ_ID = 10, TP_TRACK_EVENT = 11, TP_INTERNED = 12, TP_SEQ_FLAGS = 13, TP_SYSINFO = 45,
	TP_FTRACE_STATS = 34, TP_TRACK_DESC = 60,
	TP_CS_HEADER = 32001, TP_CS_GROUP = 32002, TP_CS_TRAILER = 32003,
	SEQ_INCREMENTAL_STATE_CLEARED = 1, SEQ_NEEDS_INCREMENTAL_STATE = 2,
	/* FtraceEventBundle */
	FB_CPU = 1, FB_EVENT = 2, FB_LOST = 3, FB_COMPACT = 4,
	/* CompactSched */
	CS_INTERN = 5, CS_WAKING_FLAGS = 12,
	CS_SWITCH_ORDER = 1001, CS_WAKING_ORDER = 1002, CS_SYSCALL_INDEX = 1003,
	CS_SYSCALL_TABLE = 1004, CS_SWITCH_X = 1005, CS_WAKING_X = 1006,
	CS_SWITCH_LONG_WAIT = 1007,
	/* FtraceEvent */
	FE_TS = 1, FE_PID = 2, FE_NEWTASK = 235, FE_RENAME = 236, FE_EXEC = 237,
	FE_EXIT = 238, FE_MIGRATE = 491,
	/* CsHeader */
	HD_MAGIC = 1, HD_VERSION = 2, HD_NCPUS = 3, HD_TRACK_ALL = 4, HD_TL_WIDTH = 5,
	/* CsGroup */
	GR_NREC = 1, GR_ORDER = 2, GR_REC = 3, GR_CRC = 15,
	/* CsTrailer */
	TR_NREC = 1, TR_END_TS = 2, TR_NGROUPS = 3, TR_CRC = 15,
	/* SwitchX */
	SX_INDEX = 1, SX_PREV_TID = 2, SX_PREV_PID = 3, SX_NEXT_PID = 4,
	SX_STATE = 5, SX_EXIT_STATE = 6, SX_FLAGS = 7, SX_AUX = 8, SX_LINK = 9, SX_NFIELDS = 10,
	/* WakingX */
	WX_INDEX = 1, WX_PID = 2, WX_FLAGS = 3, WX_WAKER = 4, WX_WAKER_PID = 5, WX_LETTER = 6,
	WX_SOURCE = 7, WX_NFIELDS = 8,
	/*
	 * CsRec: each number has one type in every kind, but past the header what
	 * it holds depends on the kind (TID2 is a waker's tid in WAKING, nvcsw in
	 * THREAD_TOTALS): pf_format.c's per-kind tables and the .proto's say which
	 */
	RC_KIND = 1, RC_TS = 2, RC_FLAGS = 3, RC_CPU = 4, RC_AUX = 5, RC_TID = 6,
	RC_PID = 7, RC_TID2 = 8, RC_PID2 = 9, RC_COMM = 10, RC_VALUE = 11,
	RC_ADDR = 12, RC_STACK = 13, RC_NSTACK = 14, RC_OP = 15, RC_VAL = 16,
	RC_TIMED = 17, RC_PRIO = 18, RC_TEXT = 19, RC_ARRAY2 = 20, RC_ADDR2 = 21,
	RC_ADDR3 = 22,
	RC_NFIELDS = 23,
};

/* A comm as the file keeps it: NUL-padded (a record's may fill all CS_COMM_LEN bytes). */
static inline void pf_comm_norm(char dst[CS_COMM_LEN], const char *src)
{
	size_t n = strnlen(src, CS_COMM_LEN);

	memset(dst, 0, CS_COMM_LEN);
	memcpy(dst, src, n);
}

/* A display TracePacket (Trace field 1) into b: its time and sequence; the mark to close. */
static inline size_t pf_packet_begin(struct pb_buf *b, uint64_t ts, uint32_t seq)
{
	size_t m = pb_nest_begin(b, 1);

	pb_uint(b, TP_TIMESTAMP, ts);
	pb_uint(b, TP_SEQ_ID, seq);
	return m;
}

/* ---- CompactSched ---- */

/* The packed arrays, in the order the writer writes them. */
enum {
	A_SW_TS, A_SW_STATE, A_SW_PID, A_SW_PRIO, A_SW_COMM, A_SW_SYS,
	A_WK_TS, A_WK_PID, A_WK_CPU, A_WK_PRIO, A_WK_COMM,
	A_N,
	A_SW_FIRST = A_SW_TS, A_SW_LAST = A_SW_SYS,
};

/* Each array's CompactSched field number. */
extern const uint32_t pf_array_field[A_N];

/*
 * switch_sys_wait: index * SW_WAIT_SPAN + w. Version 2: w is the run-queue
 * wait, w = SW_WAIT_LONG: see 1007. Version 3: bit 0 of w is CS_SWF_LOCK,
 * the tracer's verdict, which every switch carries (CS_SWF_VERDICT: the
 * default); a waking's default flags are CS_WKF_VERDICT | CS_WKF_ENDED.
 */
#define SW_WAIT_SPAN 8
#define SW_WAIT_LONG (SW_WAIT_SPAN - 1)

#define PF_SW_FLAGS_V3 CS_SWF_VERDICT
#define PF_WK_FLAGS_V3 (CS_WKF_VERDICT | CS_WKF_ENDED)

/* ---- CsRec ---- */

/*
 * Append the fields of r's CsRec (its payload, without the GR_REC tag) to
 * b. *last_ts is the group's previous CsRec timestamp (0 at its start); it
 * becomes r's.
 */
void pf_rec_encode(struct pb_buf *b, const union cs_rec *r, uint64_t *last_ts);

/*
 * The record of one CsRec payload p[0..len) into *o (zeroed by the caller),
 * *last_ts as above. 0, or -EINVAL with *why saying what was wrong: a field
 * of the wrong wire type, a malformed message, an unknown kind, or a value
 * its member cannot hold.
 */
int pf_rec_decode(const uint8_t *p, size_t len, union cs_rec *o, uint64_t *last_ts,
		  const char **why);

#endif
