"""The engine against the kernel's own counters, on real programs."""
import os
import signal
import subprocess
import time

import pytest

from conftest import CONCSCOPE, parse_snaps, prog, run_concscope, threads_of

pytestmark = pytest.mark.usefixtures("needs_bpf")


def steal_ns():
    """Time the hypervisor took from this VM's CPUs (all of them), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) * 1e9 / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0


def run_measured(args):
    """run_concscope, plus the steal time during it: the kernel leaves steal out of a
    task's run time (CONFIG_PARAVIRT_TIME_ACCOUNTING), concscope cannot see it."""
    before = steal_ns()
    p, js = run_concscope(args)
    js["_steal_ns"] = steal_ns() - before + 2e7  # +2 ticks: the counter's granularity
    return p, js


def alive(t):
    return t["running_ns"] + t["ready_ns"] + t["sleep_ns"] + t["io_ns"] + t["lock_ns"]


def close(a, b, rel, floor):
    return abs(a - b) <= max(rel * max(a, b), floor)


def check_against_kernel(t, s, strict=True, steal=0.0):
    """Switch counts within 2% or 5, running within 2%, ready within 5%."""
    for ours, theirs in (("voluntary_switches", "nvcsw"), ("involuntary_switches", "nivcsw")):
        assert close(t[ours], s[theirs], 0.02, 5), (ours, t[ours], s[theirs])
    # Where the kernel did not report a switch into this thread (a CPU chain broke, see
    # the README), up to untraced_ns of its running time may have been another task's.
    slack = t["untraced_ns"]
    run_slack = slack + steal
    # A main thread's life starts before the window (fork to exec, in the kernel's counters
    # only) and ends after its snapshot (process exit, in concscope's numbers only): a few
    # ms either way, so absolute floors.
    assert close(t["running_ns"], s["run_ns"], 0.02, (2e6 if strict else 5e6) + run_slack), \
        ("running", t["running_ns"], s["run_ns"], slack, steal)
    # Ready starts at the enqueue the switch-in reports (in us, rounded); a thread moved
    # between run queues while queued keeps its waking as the start: allow 2 us a wake-up.
    ready_slack = slack + 2e3 * t["wakeups"]
    assert close(t["ready_ns"], s["wait_ns"], 0.05, (1e6 if strict else 10e6) + ready_slack), \
        ("ready", t["ready_ns"], s["wait_ns"], ready_slack)


def test_sleeper_is_sleeping():
    p, js = run_measured(["run", "--", prog("sleeper"), "20", "50"])
    assert p.returncode == 0, p.stderr
    assert js["exit_status"] == 0
    (t,) = threads_of(js).values()
    assert t["sleep_ns"] >= 0.95 * alive(t)
    assert 0.9e9 <= js["duration_ns"] <= 2e9
    assert any(b["syscall"] == "clock_nanosleep" and b["count"] >= 19 for b in t["blocked_in"])
    snaps = parse_snaps(p.stdout)
    check_against_kernel(t, snaps[t["tid"]], strict=False, steal=js["_steal_ns"])


def test_lone_spinner_is_running():
    p, js = run_measured(["run", "--", prog("spinner"), "1", "1", "1"])
    assert p.returncode == 0, p.stderr
    snaps = parse_snaps(p.stdout)
    workers = [t for tid, t in threads_of(js).items() if snaps.get(tid, {}).get("label") == "worker"]
    assert len(workers) == 1
    t = workers[0]
    assert t["running_ns"] >= 0.95 * alive(t), t
    check_against_kernel(t, snaps[t["tid"]], steal=js["_steal_ns"])


def test_two_spinners_share_one_cpu():
    p, js = run_measured(["run", "--", prog("spinner"), "1.5", "2", "1"])
    assert p.returncode == 0, p.stderr
    snaps = parse_snaps(p.stdout)
    threads = threads_of(js)
    workers = [threads[tid] for tid, s in snaps.items() if s["label"] == "worker"]
    assert len(workers) == 2
    for t in workers:
        a = alive(t)
        assert 0.40 * a <= t["ready_ns"] <= 0.60 * a, t
        assert t["running_ns"] + t["ready_ns"] >= 0.95 * a
        assert t["involuntary_switches"] > 0
        assert t["sched_latency_ns"]["count"] > 0
        assert t["sched_latency_ns"]["p50"] <= t["sched_latency_ns"]["p99"] <= t["sched_latency_ns"]["max"]
        # each waited for the other one
        other = [w["tid"] for w in t["cpu_held_by"]][0]
        assert other in {w["tid"] for w in workers} - {t["tid"]}
        check_against_kernel(t, snaps[t["tid"]], steal=js["_steal_ns"])
    assert 0.9 <= js["totals"]["parallelism"] <= 1.1


def test_mixed_threads_match_kernel_counters():
    p, js = run_measured(["run", "--", prog("mixer"), "3", "1.5"])
    assert p.returncode == 0, p.stderr
    snaps = parse_snaps(p.stdout)
    threads = threads_of(js)
    assert len(snaps) == 4
    for tid, s in snaps.items():
        t = threads[tid]
        check_against_kernel(t, s, strict=(s["label"] == "worker"), steal=js["_steal_ns"])
        if s["label"] == "worker":
            assert t["voluntary_switches"] >= 100  # ~150 sleeps of 5 ms
            assert t["wakeups"] >= 100


def test_threads_waking_each_other_match_kernel_counters():
    # A hot mutex: the workers wake each other across CPUs hundreds of times, many of
    # those wake-ups through the target CPU's wake list, where the enqueue comes well
    # after sched_waking. Ready time must still be the kernel's run-queue wait.
    p, js = run_measured(["run", "--", prog("mutexhot"), "3", "1000"])
    assert p.returncode == 0, p.stderr
    snaps = parse_snaps(p.stdout)
    threads = threads_of(js)
    workers = [tid for tid, s in snaps.items() if s["label"] == "worker"]
    assert len(workers) == 3
    for tid, s in snaps.items():
        t = threads[tid]
        check_against_kernel(t, s, strict=(s["label"] == "worker"), steal=js["_steal_ns"])
        if s["label"] == "worker":
            # tighter than the general 5%: counted from sched_waking instead of the
            # enqueue, these workers' ready time came out 5 to 11% too high
            assert close(t["ready_ns"], s["wait_ns"], 0.02, 1e6), (t["ready_ns"], s["wait_ns"])
    assert sum(threads[t]["wakeups"] for t in workers) >= 300


def test_attach_sees_all_threads():
    child = subprocess.Popen([prog("mixer"), "4"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        tids = {int(x) for x in os.listdir(f"/proc/{child.pid}/task")}
        p, js = run_concscope(["attach", "-p", str(child.pid), "-d", "1"])
        assert p.returncode == 0, p.stderr
        threads = threads_of(js)
        assert tids <= set(threads), (tids, set(threads))
        assert 0.9e9 <= js["duration_ns"] <= 1.5e9
        for tid in tids - {child.pid}:
            t = threads[tid]
            # half computing, half sleeping, on 2 CPUs shared by 4 threads
            assert t["running_ns"] > 0.1e9 and t["sleep_ns"] > 0.1e9, t
            assert t["voluntary_switches"] > 20
        # the main thread blocks in pthread_join (a futex) the whole time
        main = threads[child.pid]
        assert main["sleep_ns"] >= 0.95 * alive(main)
    finally:
        child.kill()
        child.wait()


def test_attach_all_sees_every_process():
    child = subprocess.Popen([prog("mixer"), "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        tids = {int(x) for x in os.listdir(f"/proc/{child.pid}/task")}
        p, js = run_concscope(["attach", "-a", "-d", "1"])
        assert p.returncode == 0, p.stderr
        assert js["pid"] == 0 and "every task" in p.stdout
        assert 0.9e9 <= js["duration_ns"] <= 1.5e9
        threads = threads_of(js)
        assert tids <= set(threads), (tids, set(threads))
        for tid in tids - {child.pid}:
            assert threads[tid]["running_ns"] > 0.1e9, threads[tid]
        # not just the mixer: kernel threads (kthreadd is pid 2) and every other process
        pids = {p["pid"] for p in js["processes"]}
        assert 2 in pids and child.pid in pids and len(pids) >= 10
    finally:
        child.kill()
        child.wait()


def test_attach_ends_when_the_process_exits():
    child = subprocess.Popen([prog("mixer"), "2", "0.7"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        start = time.monotonic()
        p, js = run_concscope(["attach", "-p", str(child.pid), "-d", "30"])
        assert time.monotonic() - start < 10
        assert p.returncode == 0, p.stderr
        assert len(threads_of(js)) >= 3
    finally:
        child.kill()
        child.wait()


def test_ready_fd_and_exit_status():
    r, w = os.pipe()
    p = subprocess.Popen([CONCSCOPE, "run", "--ready-fd", str(w), "--", "sh", "-c", "exit 7"],
                         pass_fds=(w,), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(w)
    assert os.read(r, 16) == b"ready\n"
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "exited with status 7" in out


def test_sigint_ends_with_a_summary():
    r, w = os.pipe()
    p = subprocess.Popen([CONCSCOPE, "run", "--color", "never", "--ready-fd", str(w), "--",
                          prog("sleeper"), "100", "50"], pass_fds=(w,),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(w)
    assert os.read(r, 16) == b"ready\n"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "total: parallelism" in out
    assert "killed by a signal" in out or "status 130" in out
