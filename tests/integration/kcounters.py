"""The kernel's own per-thread counters, read from /proc: the second witness.

Used by the integration tests, tools/accuracy.py and the benchmarks (no pytest here)."""
import os
import signal
import time


def task_counters(pid):
    """Each thread of pid: its switch counts (status) and schedstat's CPU time and
    run-queue wait (run_ns, wait_ns), with its name (label)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            run, wait = (int(x) for x in f.read().split()[:2])
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        out[int(tid)] = {"run_ns": run, "wait_ns": wait, "label": st["Name"].strip(),
                         "nvcsw": int(st["voluntary_ctxt_switches"]),
                         "nivcsw": int(st["nonvoluntary_ctxt_switches"])}
    return out


def stopped_counters(pid, timeout=10.0):
    """SIGSTOP pid, wait until every thread of it is stopped, and read its counters
    (they then cover exactly up to this point)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
        if all(s == "T" for s in states):
            return task_counters(pid)
        time.sleep(0.01)
    raise RuntimeError("pid %d did not stop" % pid)


def steal_ns():
    """Time the hypervisor took from this VM's CPUs (all of them), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) * 1e9 / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0
