#!/usr/bin/python3
"""Two witnesses side by side: concscope's states and the kernel's own figures.

For each case, per thread: the switches concscope counted and the kernel's;
the CPU time and run-queue wait concscope read from the kernel and what the
kernel's counters say (schedstat); and concscope's running and ready (the
tracepoints' clock) beside the kernel's CPU time and run-queue wait, with the
difference. The test programs print their own /proc/self/task/TID counters
just before each thread ends; the servers are stopped (SIGSTOP) when the
window opens and when it closes, so their counters, read then, cover exactly
the window. Usage (as root, after make):
    tools/accuracy.py [CASE...]      (cases: the names below)
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from conftest import CONCSCOPE, parse_snaps, prog  # noqa: E402
from kcounters import steal_ns, stopped_counters  # noqa: E402

PROGRAMS = [
    ("sleeper", [prog("sleeper"), "20", "50"]),
    ("spinner", [prog("spinner"), "1", "1", "1"]),
    ("2-spinners", [prog("spinner"), "1.5", "2", "1"]),
    ("mixer", [prog("mixer"), "3", "1.5"]),
    ("mutexhot", [prog("mutexhot"), "3", "1000"]),
    ("rt-pingpong", [prog("rtpingpong"), "2", "1", "1"]),
]


def bracketed(pid, load, d):
    """attach to a stopped server, let it serve the load, stop it, end the window."""
    before = stopped_counters(pid)
    out = os.path.join(d, "o.json")
    r, w = os.pipe()
    tr = subprocess.Popen([CONCSCOPE, "attach", "-p", str(pid), "--quiet", "--ready-fd",
                           str(w), "--json", out], pass_fds=(w,), stdout=subprocess.DEVNULL)
    os.close(w)
    os.read(r, 16)
    os.kill(pid, signal.SIGCONT)
    subprocess.run(load, shell=True, capture_output=True)
    after = stopped_counters(pid)
    tr.send_signal(signal.SIGINT)
    tr.wait()
    with open(out) as f:
        js = json.load(f)
    kernel = {}
    for tid, a in after.items():
        b = before.get(tid, {"run_ns": 0, "wait_ns": 0, "nvcsw": 0, "nivcsw": 0})
        kernel[tid] = {k: a[k] - b[k] if k != "label" else a[k] for k in a}
    return js, kernel


def redis(d):
    srv = subprocess.Popen(["redis-server", "--port", "6381", "--save", "", "--appendonly", "no"],
                           stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        return bracketed(srv.pid, "redis-benchmark -p 6381 -n 20000 -c 10 -q", d)
    finally:
        os.kill(srv.pid, signal.SIGCONT)
        srv.kill()
        srv.wait()


def http_server(d):
    srv = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "8781", "--bind",
                            "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=d)
    time.sleep(1)
    try:
        load = "for i in $(seq 400); do curl -s http://127.0.0.1:8781/ >/dev/null; done"
        return bracketed(srv.pid, load, d)
    finally:
        os.kill(srv.pid, signal.SIGCONT)
        srv.kill()
        srv.wait()


SERVERS = [("redis", redis), ("http.server", http_server)]


def ms(ns):
    return ns / 1e6


def pct(a, b):
    return 0.0 if a == b else 100.0 * (a - b) / max(b, 1)


def row(name, label, t, k):
    print(f"{name:12} {label[:12]:12} {t['voluntary_switches']:>6}/{k['nvcsw']:<6}"
          f"{t.get('cpu_time_ns', 0) / 1e6:9.2f}/{ms(k['run_ns']):<9.2f}"
          f"{ms(t['running_ns']):9.2f} ({pct(t['running_ns'], k['run_ns']):+6.1f}%)"
          f"{ms(t.get('run_delay_ns', 0)):9.2f}/{ms(k['wait_ns']):<9.2f}"
          f"{ms(t['ready_ns']):9.2f} ({pct(t['ready_ns'], k['wait_ns']):+6.1f}%)"
          f"{t['wakeups']:>7}{ms(t['untraced_ns']):9.2f}")


def main():
    want = set(sys.argv[1:])
    print(f"{'case':12} {'thread':12} {'switches':>13}{'CPU time (kernel)':>19}"
          f"{'running':>19}{'rq wait (kernel)':>19}{'ready':>19}{'wakeups':>7}{'untraced':>9}")
    for name, cmd in PROGRAMS:
        if want and name not in want:
            continue
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.json")
            s0 = steal_ns()
            p = subprocess.run([CONCSCOPE, "run", "--quiet", "--json", out, "--", *cmd],
                               capture_output=True, text=True, check=True)
            steal = steal_ns() - s0
            js = json.load(open(out))
        threads = {t["tid"]: t for pr in js["processes"] for t in pr["threads"]}
        for tid, s in sorted(parse_snaps(p.stdout).items()):
            row(name, s["label"], threads[tid], s)
        print(f"{'':12} (steal during the run: {ms(steal):.2f} ms)")
    for name, fn in SERVERS:
        if want and name not in want:
            continue
        with tempfile.TemporaryDirectory() as d:
            s0 = steal_ns()
            js, kernel = fn(d)
            steal = steal_ns() - s0
        threads = {t["tid"]: t for pr in js["processes"] for t in pr["threads"]}
        for tid, k in sorted(kernel.items()):
            if tid in threads and k["run_ns"] > 1e6:
                row(name, k["label"], threads[tid], k)
        print(f"{'':12} (steal during the run: {ms(steal):.2f} ms)")
    print("\nswitches, CPU time, rq wait: concscope's / the kernel's counters (schedstat);\n"
          "running, ready: concscope's states (the tracepoints' clock), and how far they\n"
          "are from the kernel's CPU time and run-queue wait (README: Accuracy)")


if __name__ == "__main__":
    main()
