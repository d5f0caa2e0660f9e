"""Perfetto's own trace processor on concscope's traces: what the UI shows is what concscope counts.

The traces are recorded here (run, attach -p, attach -a, --model=all, --futex-syscalls, and
one run that loses events), imported with Perfetto's trace_processor_shell (the importer
ui.perfetto.dev runs; TRACE_PROCESSOR names it, .ci/run sets it) and checked with SQL against
the run's --json:

- no import error (stats of severity error or data_loss), except the losses of a lossy run,
  which Perfetto counts per CPU (ftrace_cpu_overrun_delta) as concscope does (lost_events);
- one process and one thread row for each process and thread concscope saw;
- per thread, within max(0.5%, 0.5 ms), inside the recording window (the window marks on
  the models track; rows still open end at the window's end): Running = running_ns,
  R + R+ = ready_ns, each blocked state letter = blocked_ns_by_state (X and Z left out),
  and the time under the thread's "untraced" slices = untraced_ns (the rows it covers are
  counted there, not as their state); under attach each thread from its first event;
- a waker (waker_utid) for every wake-up concscope counts;
- each lock wait a slice on the waiting thread's track, named after the lock, with its kind
  and who released it;
- the recording window on the traced process's track, named after the model.
"""
import collections
import csv
import io
import json
import os
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, prog, redis_server, tp_query, tp_unavailable

LETTERS = ["S", "D", "T", "t", "P", "I"]  # blocked_ns_by_state, without X and Z
MS = 1000000


@pytest.fixture(autouse=True)
def needs_tp(needs_bpf):
    why = tp_unavailable()
    if why:
        pytest.skip(why)


def record(args, d, name="t"):
    """A trace and its --json, recorded again (twice at most) while events come in late."""
    trace, path = os.path.join(d, name + ".pftrace"), os.path.join(d, name + ".json")
    for attempt in range(3):
        p = subprocess.run([CONCSCOPE, args[0], "--color", "never", "--quiet", "-o", trace,
                            "--json", path, *args[1:]], capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, p.stderr
        with open(path) as f:
            js = json.load(f)
        # a record that came more than the reorder window late (a busy machine) is counted
        # at a later time than its own, which Perfetto uses: the two then differ by design
        if all(s["late_events"] == 0 for s in segments(js)):
            break
    return trace, js


def query(trace, *statements):
    """Each statement's rows (dicts; NULL is None), in one run of the trace processor."""
    out = tp_query(trace, "".join(s.strip().rstrip(";") + ";\n" for s in statements))
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) == len(statements), out[-2000:]
    out = []
    for b in blocks:
        rows = list(csv.reader(io.StringIO(b.strip("\n"))))
        out.append([{k: (None if v == "[NULL]" else v) for k, v in zip(rows[0], r)}
                    for r in rows[1:]])
    return out


ERRORS = "select name, idx, value from stats where severity in ('error', 'data_loss') and value > 0"
WINDOWS = """select s.ts, s.name from slice s join track t on s.track_id = t.id
  where t.name = 'concscope models' and s.name in ('window begin', 'window end') order by s.ts"""
THREADS = """select t.utid, t.tid, p.pid, t.start_ts from thread t
  left join process p using (upid)"""
PROCESSES = "select upid, pid from process"
STATES = """select utid, ts, dur, state, waker_utid from thread_state order by utid, ts"""
UNTRACED = """select tt.utid, s.ts, s.dur from slice s join thread_track tt on s.track_id = tt.id
  where s.name = 'untraced'"""
WAITS = """select tt.utid, s.name, s.dur, extract_arg(s.arg_set_id, 'debug.kind') as kind,
  extract_arg(s.arg_set_id, 'debug.released_by') as released_by,
  extract_arg(s.arg_set_id, 'debug.address') as address
  from slice s join thread_track tt on s.track_id = tt.id where s.name != 'untraced'"""
MARKERS = """select p.pid, s.name from slice s join process_track t on s.track_id = t.id
  join process p using (upid)"""


def segments(js):
    return js.get("models") or [js]


def windows(rows):
    out, begin = [], None
    for r in rows:
        if r["name"] == "window begin":
            begin = int(r["ts"])
        elif begin is not None:
            out.append((begin, int(r["ts"])))
            begin = None
    return out


def overlap(a, b, c, d):
    return max(0, min(b, d) - max(a, c))


class Imported:
    """A trace as Perfetto imported it, by thread."""

    def __init__(self, trace):
        (self.errors, wins, threads, procs, states, untraced, waits,
         self.markers) = query(trace, ERRORS, WINDOWS, THREADS, PROCESSES, STATES, UNTRACED,
                               WAITS, MARKERS)
        self.windows = windows(wins)
        self.procs = collections.Counter(int(p["pid"]) for p in procs)
        self.utids = collections.defaultdict(list)  # (pid, tid) -> utids
        self.start = {}
        for t in threads:
            if t["pid"] is not None:
                self.utids[(int(t["pid"]), int(t["tid"]))].append(t["utid"])
            self.start[t["utid"]] = t["start_ts"] and int(t["start_ts"])
        self.states = collections.defaultdict(list)
        for s in states:
            self.states[s["utid"]].append(s)
        self.untraced = collections.defaultdict(list)
        for u in untraced:
            self.untraced[u["utid"]].append((int(u["ts"]), int(u["ts"]) + int(u["dur"])))
        self.waits = collections.defaultdict(list)
        for w in waits:
            self.waits[w["utid"]].append(w)

    def thread(self, pid, tid, wb, we):
        """Time in each state inside [wb, we), wake-ups, and the first row's start."""
        acc, wakeups, first = collections.Counter(), 0, None
        for u in self.utids[(pid, tid)]:
            prev = None
            for s in self.states[u]:
                a, dur = int(s["ts"]), int(s["dur"])
                e = we if dur < 0 else a + dur
                first = a if first is None else min(first, a)
                # a waker for a wake-up that ended a block (not the task_newtask's, not one
                # that found the thread preempted: concscope counts neither)
                if (s["waker_utid"] is not None and wb <= a <= we and a != self.start[u]
                        and not (prev and prev["state"] == "R+")):
                    wakeups += 1
                prev = s
                ca, ce = max(a, wb), min(e, we)
                if ce <= ca:
                    continue
                under = sum(overlap(ca, ce, x, y) for x, y in self.untraced[u])
                acc["untraced"] += under
                acc[s["state"]] += ce - ca - under
        return acc, wakeups, first


def tolerance(ns):
    return max(0.005 * ns, 0.5 * MS)


def compare(t, acc, wb, first, attach):
    """concscope's and Perfetto's time per state; [] if they agree."""
    cs = {"Running": t["running_ns"], "ready": t["ready_ns"], "untraced": t["untraced_ns"]}
    pf = {"Running": acc["Running"], "ready": acc["R"] + acc["R+"],
          "untraced": acc["untraced"]}
    for letter in LETTERS:
        cs[letter] = t["blocked_ns_by_state"].get(letter, 0)
        pf[letter] = acc[letter]
    diff = {k: cs[k] - pf[k] for k in cs}
    off = [k for k in diff if abs(diff[k]) > tolerance(cs[k])]
    # attach: before its first event a thread is in the state that event shows, for concscope
    # (Perfetto has no row there): one state may differ by that much
    before = first - wb if attach and first is not None and first > wb else 0
    if before and len(off) == 1 and abs(diff[off[0]] - before) <= tolerance(before):
        off = []
    return [(k, cs[k], pf[k]) for k in off]


def check_threads(trace, js, attach=False):
    """The per-thread checks; returns how many threads were compared."""
    tp = Imported(trace)
    assert tp.errors == [], tp.errors
    segs = segments(js)
    assert len(tp.windows) == len(segs), (tp.windows, len(segs))
    seen = collections.Counter()
    compared, bad = 0, []
    for seg, (wb, we) in zip(segs, tp.windows):
        for p in seg["processes"]:
            if p["pid"]:
                seen[("p", p["pid"])] += 1
            for t in p["threads"]:
                seen[(p["pid"], t["tid"])] += 1
                acc, wakeups, first = tp.thread(p["pid"], t["tid"], wb, we)
                if first is None:
                    assert not tp.utids[(p["pid"], t["tid"])] or attach, t["tid"]
                    continue  # no event at all (attach): nothing Perfetto could show
                compared += 1
                off = compare(t, acc, wb, first, attach)
                if off:
                    bad.append((seg.get("model", ""), p["pid"], t["tid"], t["comm"], off))
                assert wakeups >= t["wakeups"], (t["tid"], wakeups, t["wakeups"])
                check_waits(tp, p["pid"], t)
    assert bad == [], (bad, evidence(tp, bad, js))
    # one process and one thread row each (a second only for a pid really reused)
    for key, n in seen.items():
        if key[0] == "p":
            assert tp.procs[key[1]] == n, (key, tp.procs[key[1]])
        else:
            assert len(tp.utids[key]) <= n, (key, tp.utids[key])
    return compared, tp


def evidence(tp, bad, js):
    """For a disagreement seen once in CI and never here: what Perfetto holds of each
    thread that is off (its utids, state rows, untraced slices) and what concscope
    counted from the records, so that the log itself can tell the cause."""
    threads = {(p["pid"], t["tid"]): t for seg in segments(js) for p in seg["processes"]
               for t in p["threads"]}
    out = []
    for _, pid, tid, _, _ in bad[:3]:
        t = threads.get((pid, tid), {})
        for u in tp.utids[(pid, tid)]:
            rows = [(r["ts"], r["dur"], r["state"], r["waker_utid"]) for r in tp.states[u]]
            out.append({"tid": tid, "utid": u, "states": rows[:12], "nstates": len(rows),
                        "untraced": tp.untraced[u][:12]})
        out.append({"tid": tid, "totals_from": t.get("totals_from"),
                    "from_events": t.get("from_events"), "untraced": t.get("untraced")})
    return out


def check_waits(tp, pid, t):
    """Each of the thread's lock waits is a slice named after its lock, with kind and releaser."""
    slices = [w for u in tp.utids[(pid, t["tid"])] for w in tp.waits[u]]
    assert all(w["kind"] and w["released_by"] for w in slices), slices[:3]
    if len(t["lock_waits"]) >= 8:
        return  # the top 8 are kept: the counts beyond are approximate
    by_lock = collections.defaultdict(list)  # (name, address): two rq locks share a name
    for w in slices:
        by_lock[(w["name"], int(w["address"]) & (1 << 64) - 1)].append(int(w["dur"]))
    for lw in t["lock_waits"]:
        # an unnamed lock is named by its address
        got = by_lock.get((lw["symbol"] or lw["address"], int(lw["address"], 16)), [])
        assert len(got) == lw["count"], (t["tid"], lw, len(got))
        assert abs(sum(got) - lw["ns"]) <= tolerance(lw["ns"]), (t["tid"], lw, sum(got))
    assert sum(len(v) for v in by_lock.values()) == sum(lw["count"] for lw in t["lock_waits"])


def test_run():
    with tempfile.TemporaryDirectory() as d:
        trace, js = record(["run", "--", prog("mixer"), "3", "1"], d)
        n, tp = check_threads(trace, js)
    assert n == 4
    root = js["processes"][0]["pid"]
    assert {"pid": str(root), "name": "recording window"} in tp.markers


def test_attach_p():
    child = subprocess.Popen([prog("mixer"), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as d:
            trace, js = record(["attach", "-p", str(child.pid), "-d", "0.7"], d)
            n, tp = check_threads(trace, js, attach=True)
        assert n >= 3
        assert {"pid": str(child.pid), "name": "recording window"} in tp.markers
    finally:
        child.kill()
        child.wait()


def test_attach_a():
    child = subprocess.Popen([prog("mixer"), "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as d:
            trace, js = record(["attach", "-a", "-d", "0.7"], d)
            n, _ = check_threads(trace, js, attach=True)
        assert n >= 3
    finally:
        child.kill()
        child.wait()


def test_models():
    with tempfile.TemporaryDirectory() as d:
        trace, js = record(["run", "--model=all", "--size=1024"], d)
        n, tp = check_threads(trace, js)
    assert n >= 20
    # each model's window on its process's track, named after the model
    for m in js["models"]:
        pids = {str(p["pid"]) for p in m["processes"]}
        assert any(k["pid"] in pids and k["name"].startswith(f"{m['model']} {m['work']}")
                   for k in tp.markers), (m["model"], m["work"], tp.markers)


def test_futex_syscalls():
    with tempfile.TemporaryDirectory() as d:
        trace, js = record(["run", "--futex-syscalls", "--", prog("mutexhot"), "3", "300"], d)
        n, tp = check_threads(trace, js)
    assert n == 4
    hot = [w for ws in tp.waits.values() for w in ws if w["name"] == "hot_lock"]
    assert hot and all(w["kind"] == "mutex" for w in hot)
    assert any("/" in w["released_by"] for w in hot)  # a thread released it


def test_losses_are_counted_where_perfetto_counts_them():
    with tempfile.TemporaryDirectory() as d:
        trace, js = record(["run", "--buffer-size", "4K", "--", prog("rtpingpong"), "2", "0.5",
                            "99"], d)
        assert js["lost_events"] > 0
        deltas, windows, spans = query(
            trace,
            "select idx, value from stats where name = 'ftrace_cpu_overrun_delta'",
            """select s.ts, s.dur, t.name from slice s join track t on s.track_id = t.id
               where t.name like 'concscope lost events, %'""",
            # a scheduling slice across a whole loss window would hide the loss
            """select count(*) as n from slice l join track t on l.track_id = t.id
               join sched s on t.name = 'concscope lost events, CPU ' || s.cpu
               where s.utid != 0 and s.ts < l.ts and s.ts + s.dur > l.ts + l.dur""")
    assert sum(int(r["value"]) for r in deltas) == js["lost_events"]
    assert len(windows) >= 1
    assert int(spans[0]["n"]) == 0


def test_attach_to_redis_under_load():
    # Debian's redis-server answering redis-benchmark: over a thousand times a second a
    # wake-up stamped just after the main thread's switch-out is run by the tracer before
    # that switch-out (its record then says it ended nothing); Perfetto, by the
    # timestamps, has the thread ready from the wake-up on, and so must concscope (it
    # counted those stretches as sleeping: 5.1 ms in 2 s, off by more than the tolerance)
    port = 6200 + os.getpid() % 100
    with redis_server(port) as srv:
        bench = subprocess.Popen(["redis-benchmark", "-p", str(port), "-n", "100000000", "-c",
                                  "20", "-q"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            with tempfile.TemporaryDirectory() as d:
                trace, js = record(["attach", "-p", str(srv.pid), "-d", "1.5"], d)
                n, _ = check_threads(trace, js, attach=True)
        finally:
            bench.kill()
            bench.wait()
    assert n >= 1
    main = [t for p in js["processes"] for t in p["threads"] if t["tid"] == srv.pid][0]
    assert main["wakeups"] > 1000, main["wakeups"]
