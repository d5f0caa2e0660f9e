"""The critical path (issue #18): where a command's wall time went.

A chain of processes of known shape (tests/progs/critchain.c) checks the
split by thread and state against its construction; a small real build
(`make -j2` of a project made here) checks that the stretches tile the
command's wall time, that `report` reproduces the path, and that it agrees
with Perfetto's own _thread_executing_span_critical_path on the same trace
(trace_processor_shell, found through TRACE_PROCESSOR).
"""
import collections
import csv
import json
import os
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, prog, run_concscope, threads_of, tp_query, tp_unavailable

pytestmark = pytest.mark.usefixtures("needs_bpf")
BLOCKED = ("sleeping", "io", "lock")


def needs_trace_processor():
    why = tp_unavailable()
    if why:
        pytest.skip(why)


def check_tiling(cp, duration_ns):
    """Stretches in time order, contiguous, never overlapping, covering the window."""
    segs = cp["segments"]
    assert segs and segs[0]["start_ns"] == cp["start_ns"]
    for a, b in zip(segs, segs[1:]):
        assert a["dur_ns"] > 0 and a["start_ns"] + a["dur_ns"] == b["start_ns"]
    assert segs[-1]["start_ns"] + segs[-1]["dur_ns"] == cp["end_ns"]
    total = sum(s["dur_ns"] for s in segs)
    assert abs(total - duration_ns) <= 0.001 * duration_ns
    assert cp["duration_ns"] == total


def split(cp):
    """ns on the path by (tid, state)."""
    ns = collections.Counter()
    for s in cp["segments"]:
        ns[(s["tid"], s["state"])] += s["dur_ns"]
    return ns


def without_loss(record):
    """record() until nothing was lost (a path without its wake-ups means little):
    other engineers' storms share these 2 CPUs and the ring sees every switch."""
    for _ in range(3):
        got = record()
        if not got[-1]["lost_events"]:
            return got
    pytest.skip("events were lost in 3 recordings: the machine is too busy")


def test_a_chain_of_known_shape():
    p, js = without_loss(lambda: run_concscope(["run", "--quiet", "--", prog("critchain")]))
    assert p.returncode == 0, p.stderr
    pids = {l.split()[1]: int(l.split()[2]) for l in p.stdout.splitlines()
            if l.startswith("critchain ")}
    assert set(pids) == {"cp-parent", "cp-child", "cp-grandchild", "cp-worker"}
    cp = js["critical_path"]
    check_tiling(cp, js["duration_ns"])
    assert cp["tid"] == pids["cp-parent"] and cp["wakeups_followed"] >= 3
    ns = split(cp)
    ms = 1e6
    # the construction: 200 ms asleep (a timer's), 300 ms and 100 ms of CPU time;
    # where the kernel skipped a switch tracepoint (a chain break: 6.8 ms of the
    # child's spin once in 12 runs here) that time is untraced. Running on the
    # tracepoints' clock also holds the time the hypervisor stole while the thread was
    # on its CPU, which the kernel leaves out of CPU time: the thread's own running
    # minus its CPU time measures it (CI's sanitizer pass saw the child at 303.3 ms)
    assert abs(ns[(pids["cp-parent"], "sleeping")] - 200 * ms) <= 3 * ms
    threads = threads_of(js)
    for name, cpu in (("cp-child", 300 * ms), ("cp-worker", 100 * ms)):
        run, untraced = ns[(pids[name], "running")], ns[(pids[name], "untraced")]
        t = threads[pids[name]]
        stolen = max(0, t["running_ns"] - t["cpu_time_ns"])
        assert run <= cpu + 3 * ms + stolen and run + untraced >= cpu - 3 * ms, \
            (name, run, untraced, t["running_ns"], t["cpu_time_ns"])
    # the waits for a child are explained by the child, never on the path
    for name in ("cp-child", "cp-grandchild"):
        assert sum(ns[(pids[name], b)] for b in BLOCKED) <= 1 * ms
    # the rest: forks, exits, waiting for a CPU (the machine is shared)
    running = sum(v for (tid, st), v in ns.items() if st == "running")
    stolen = sum(max(0, threads[t]["running_ns"] - threads[t]["cpu_time_ns"])
                 for t in pids.values())
    assert running <= 400 * ms + 5 * ms + stolen, (running, stolen)
    sleep = [s for s in cp["segments"] if s["state"] == "sleeping"]
    assert max(sleep, key=lambda s: s["dur_ns"])["what"] == "clock_nanosleep"
    assert max(sleep, key=lambda s: s["dur_ns"])["waker_tid"] == 0  # an interrupt
    assert "critical path of cp-parent/%d" % pids["cp-parent"] in p.stdout


def make_project(d):
    """A tiny C project of seven files."""
    for i in range(6):
        with open(os.path.join(d, f"f{i}.c"), "w") as f:
            f.write(f"int f{i}(int n) {{ int s = 0; for (int i = 0; i < n; i++) s += i * {i + 1};"
                    " return s; }\n")
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write("#include <stdio.h>\n" + "".join(f"int f{i}(int);\n" for i in range(6)) +
                "int main(void) { printf(\"%d\\n\", " + "+".join(f"f{i}(9)" for i in range(6)) +
                "); return 0; }\n")
    objs = " ".join(["main.o"] + [f"f{i}.o" for i in range(6)])
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write(f"prog: {objs}\n\tcc -o $@ {objs}\n%.o: %.c\n\tcc -O2 -c $< -o $@\n")


def record_make(d):
    src = os.path.join(d, "src")
    if not os.path.exists(src):
        os.mkdir(src)
        make_project(src)
    for f in os.listdir(src):  # a retry builds from scratch again
        if f.endswith(".o") or f == "prog":
            os.unlink(os.path.join(src, f))
    trace, js = os.path.join(d, "make.pftrace"), os.path.join(d, "make.json")
    p = subprocess.run([CONCSCOPE, "run", "--quiet", "--color", "never", "-o", trace, "--json", js,
                        "--", "make", "-s", "-j2", "-C", src], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    with open(js) as f:
        return p, trace, js, json.load(f)


def perfetto_running(trace, cp):
    """Perfetto's critical path of the same thread over the same window: the
    running intervals of its threads on the path, where its path starts, and
    which of the waits concscope's path explains Perfetto sees otherwise (not
    that thread's wake-up from that waker at that instant)."""
    waits = ",".join(f"({w['tid']}, {w['start_ns']}, {w['start_ns'] + w['dur_ns']}, "
                     f"{w['waker_tid']})" for w in cp["waits"]) or "(0, 0, 0, 0)"
    lines = tp_query(trace, f"""INCLUDE PERFETTO MODULE sched.thread_executing_span;
CREATE PERFETTO TABLE cp AS SELECT * FROM _thread_executing_span_critical_path(
  (SELECT max(utid) FROM thread WHERE tid = {cp['tid']}), {cp['start_ns']},
  {cp['end_ns'] - cp['start_ns']});
SELECT t.tid, max(cp.ts, s.ts) AS a, min(cp.ts + cp.dur, s.ts + s.dur) AS b
FROM cp JOIN thread_state s ON s.utid = cp.utid AND s.state = 'Running' AND s.dur > 0
  AND s.ts < cp.ts + cp.dur AND s.ts + s.dur > cp.ts
JOIN thread t ON t.utid = cp.utid;
SELECT min(ts) AS first FROM cp;
WITH w(tid, a, b, waker) AS (VALUES {waits})
SELECT w.a, w.b FROM w WHERE NOT EXISTS (SELECT 1 FROM thread_state s JOIN thread t USING (utid)
  JOIN thread k ON k.utid = s.waker_utid WHERE t.tid = w.tid AND s.ts = w.b AND k.tid = w.waker);
""").splitlines()
    blank = lines.index("")
    rows = [tuple(map(int, l.split(","))) for l in lines[1:blank]]
    unseen = [tuple(map(int, l.split(","))) for l in lines[blank + 5:] if l[:1].isdigit()]
    return rows, int(lines[blank + 2]), unseen


def minus(a, b, windows):
    """The length of [a, b) outside the windows."""
    parts = [(a, b)]
    for x, y in windows:
        parts = [q for (u, v) in parts for q in ((u, min(v, x)), (max(u, y), v)) if q[1] > q[0]]
    return sum(v - u for u, v in parts)


def test_a_small_build():
    with tempfile.TemporaryDirectory() as d:
        p, trace, js_path, js = without_loss(lambda: record_make(d))
        cp = js["critical_path"]
        check_tiling(cp, js["duration_ns"])
        assert cp["comm"] == "make" and cp["intervals_dropped"] == 0
        assert any(s["state"] == "running" and s["comm"] == "cc1" for s in cp["segments"])
        assert "critical path of make/" in p.stdout
        # report reproduces it, number for number
        out = os.path.join(d, "report.json")
        r = subprocess.run([CONCSCOPE, "report", "--color", "never", trace, "--json", out],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        with open(out, "rb") as a, open(js_path, "rb") as b:
            assert a.read() == b.read()
        assert r.stdout.split("critical path of")[1] == p.stdout.split("critical path of")[1]


def test_a_small_build_agrees_with_perfetto():
    needs_trace_processor()
    with tempfile.TemporaryDirectory() as d:
        _, trace, _, js = without_loss(lambda: record_make(d))
        cp = js["critical_path"]
        rows, pf_start, unseen = perfetto_running(trace, cp)
        # Left out of the comparison, on both sides: the waits an interrupt ended
        # (concscope's trace does not mark such a wake-up for Perfetto, in
        # waking_common_flags, so Perfetto blames the task the interrupt came
        # upon), and the waits whose wake-up Perfetto sees otherwise (where the
        # kernel skipped a switch tracepoint, a chain break, Perfetto misses the
        # block or takes the CPU's last traced task for the waker; concscope's
        # records carry the woken task's state and the real waker)
        irq = [(s["start_ns"], s["start_ns"] + s["dur_ns"]) for s in cp["segments"]
               if s["state"] in BLOCKED and s.get("waker_tid", -1) == 0] + unseen
        theirs, ours = collections.Counter(), collections.Counter()
        for tid, a, b in rows:
            theirs[tid] += minus(a, b, irq)
        # Perfetto's path starts at the thread's first wake-up: compare from there
        for s in cp["segments"]:
            a, b = max(s["start_ns"], pf_start), s["start_ns"] + s["dur_ns"]
            if s["state"] == "running" and b > a:
                ours[s["tid"]] += minus(a, b, irq)
        total = sum(ours.values())
        # most of the path is still compared (0.2% to 3.6% left out in the README's 18 runs,
        # 1.2% to 1.6% in 3 more; 10% leaves room for a busier machine's chain breaks)
        assert total > 0 and minus(pf_start, cp["end_ns"], irq) > 0.9 * (cp["end_ns"] - pf_start)
        # and there each thread's running time on the path is Perfetto's, to the nanosecond
        # (as the README says: equal for every thread in every run measured)
        for tid in set(ours) | set(theirs):
            assert ours[tid] == theirs[tid], (tid, ours[tid], theirs[tid])


def test_attach_and_report_a_chosen_thread():
    child = subprocess.Popen([prog("mixer"), "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        tid = max(map(int, os.listdir(f"/proc/{child.pid}/task")))
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "a.pftrace")
            p, js = run_concscope(["attach", "-p", str(child.pid), "-d", "0.5", "-o", trace,
                                   "--critical-path", str(tid)])
            assert p.returncode == 0, p.stderr
            cp = js["critical_path"]
            assert cp["tid"] == tid
            # the thread lives through the whole window: its path covers the -d 0.5 asked for
            assert js["duration_ns"] == 500000000
            check_tiling(cp, js["duration_ns"])
            assert cp["duration_ns"] == js["duration_ns"]  # exactly: from the window's start to its end
            # without the option, an attach's report has no path; with it, the same one
            r, rjs = run_concscope(["report", trace])
            assert r.returncode == 0 and "critical_path" not in rjs
            r, rjs = run_concscope(["report", trace, "--critical-path", str(tid)])
            assert r.returncode == 0 and rjs["critical_path"] == cp
            r, rjs = run_concscope(["report", trace, "--critical-path", "1"])
            assert r.returncode == 0 and "thread 1 was not traced" in r.stdout
    finally:
        child.kill()
        child.wait()


def test_the_path_is_a_track_in_the_trace():
    needs_trace_processor()
    with tempfile.TemporaryDirectory() as d:
        p, js = run_concscope(["run", "--quiet", "-o", os.path.join(d, "t.pftrace"), "--",
                               prog("critchain")])
        assert p.returncode == 0, p.stderr
        out = tp_query(os.path.join(d, "t.pftrace"),
                       "SELECT count(*), sum(s.dur), min(s.ts) FROM slice s JOIN track t "
                       "ON s.track_id = t.id WHERE t.name = 'concscope critical path';\n")
        n, total, first = map(int, out.splitlines()[1].split(","))
        cp = js["critical_path"]
        assert n == len(cp["segments"])
        assert total == cp["duration_ns"] and first == cp["start_ns"]
        # each slice as the JSON has its segment: the names and arguments are interned
        # (written once, then by reference), and Perfetto resolves them
        out = tp_query(os.path.join(d, "t.pftrace"),
                       "SELECT s.ts, s.dur, s.name, extract_arg(s.arg_set_id, 'debug.tid'), "
                       "extract_arg(s.arg_set_id, 'debug.state'), "
                       "extract_arg(s.arg_set_id, 'debug.what') FROM slice s JOIN track t "
                       "ON s.track_id = t.id WHERE t.name = 'concscope critical path' "
                       "ORDER BY s.ts;\n")
        rows = list(csv.reader(out.splitlines()[1:]))
        segs = sorted(cp["segments"], key=lambda g: g["start_ns"])
        assert len(rows) == len(segs)
        for (ts, dur, name, tid, state, what), g in zip(rows, segs):
            assert (int(ts), int(dur), int(tid), state, what) == \
                (g["start_ns"], g["dur_ns"], g["tid"], g["state"], g["what"]), (name, g)
            assert name.startswith(f"{g['comm']} {g['tid']} {g['state']}"), (name, g)


def test_critical_path_goes_with_a_command():
    p = subprocess.run([CONCSCOPE, "run", "--critical-path", "12", "--model", "async"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--critical-path" in p.stderr
    p = subprocess.run([CONCSCOPE, "attach", "-p", "1", "--critical-path", "x"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "thread id" in p.stderr
