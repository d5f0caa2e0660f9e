#!/usr/bin/python3
"""Compare concscope's per-thread numbers with the kernel's own counters.

Runs the test programs (which print their /proc/self/task/TID/{status,schedstat}
just before each thread ends) under `concscope run --json` and prints, per
thread, concscope's value next to the kernel's. Usage (as root, after make):
    tools/accuracy.py
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from conftest import CONCSCOPE, parse_snaps, prog  # noqa: E402

CASES = [
    ("sleeper 20x50ms", [prog("sleeper"), "20", "50"]),
    ("lone spinner, CPU 1", [prog("spinner"), "1", "1", "1"]),
    ("2 spinners, CPU 1", [prog("spinner"), "1.5", "2", "1"]),
    ("mixer 3 threads", [prog("mixer"), "3", "1.5"]),
    ("mutexhot 3 threads", [prog("mutexhot"), "3", "1000"]),
]


def pct(a, b):
    return 0.0 if a == b else 100.0 * (a - b) / max(b, 1)


def main():
    print(f"{'case':22} {'thread':7} {'vcsw':>11} {'ivcsw':>11} {'run ms (diff%)':>22} "
          f"{'ready ms (diff%)':>22} {'untraced':>8}")
    for name, cmd in CASES:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.json")
            p = subprocess.run([CONCSCOPE, "run", "--quiet", "--json", out, "--", *cmd],
                               capture_output=True, text=True, check=True)
            js = json.load(open(out))
        threads = {t["tid"]: t for pr in js["processes"] for t in pr["threads"]}
        for tid, s in sorted(parse_snaps(p.stdout).items()):
            t = threads[tid]
            run, krun = t["running_ns"] / 1e6, s["run_ns"] / 1e6
            rdy, krdy = t["ready_ns"] / 1e6, s["wait_ns"] / 1e6
            print(f"{name:22} {s['label']:7} {t['voluntary_switches']:>5}/{s['nvcsw']:<5} "
                  f"{t['involuntary_switches']:>5}/{s['nivcsw']:<5} "
                  f"{run:8.2f}/{krun:8.2f} ({pct(run, krun):+5.2f}) "
                  f"{rdy:8.2f}/{krdy:8.2f} ({pct(rdy, krdy):+5.2f}) "
                  f"{t['untraced_ns'] / 1e6:8.2f}")
    print("\neach cell: concscope / kernel; diff% = (concscope - kernel) / kernel;\n"
          "untraced: ms of running time concscope may have overstated (untraced_ns: the\n"
          "CPU's chain broke before the thread switched out)")


if __name__ == "__main__":
    main()
