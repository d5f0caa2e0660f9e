"""Shared helpers for concscope's integration tests (real BPF, as root)."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# CS_BUILD points at another build tree (e.g. the sanitizer build, make SAN=1)
BUILD = os.environ.get("CS_BUILD") or os.path.join(ROOT, "build")
CONCSCOPE = os.path.join(BUILD, "concscope")
PROGS = os.path.join(BUILD, "tests", "progs")


def bpf_unavailable():
    """Why the real tracer cannot run here, or None."""
    if os.geteuid() != 0:
        return "integration tests need root (CAP_BPF and CAP_PERFMON)"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
    if not os.path.exists(CONCSCOPE):
        return "build/concscope is not built (run make)"
    return None


@pytest.fixture
def needs_bpf():
    why = bpf_unavailable()
    if why:
        pytest.skip(why)


SNAP_RE = re.compile(r"SNAP (\S+) tid=(\d+) nvcsw=(-?\d+) nivcsw=(-?\d+) run_ns=(-?\d+) wait_ns=(-?\d+) pre_main_ns=(\d+)")


def parse_snaps(text):
    """The kernel's own counters that test programs printed, by tid."""
    snaps = {}
    for m in SNAP_RE.finditer(text):
        snaps[int(m.group(2))] = {
            "label": m.group(1), "nvcsw": int(m.group(3)), "nivcsw": int(m.group(4)),
            "run_ns": int(m.group(5)), "wait_ns": int(m.group(6)),
            "pre_main_ns": int(m.group(7)),
        }
    return snaps


def labelled(text, label, n):
    """The snapshots of the threads a test program labelled label, by tid: exactly n of
    them (a check over them that found none would check nothing)."""
    snaps = {tid: s for tid, s in parse_snaps(text).items() if s["label"] == label}
    assert len(snaps) == n, (label, n, snaps)
    return snaps


# the states a thread's time in the window is split into, one at a time
STATES = ("running_ns", "ready_ns", "sleep_ns", "io_ns", "lock_ns", "untraced_ns")


def lifetime(t):
    """A thread's time in the window: all its states, the untraced included."""
    return sum(t[k] for k in STATES)


def threads_of(summary):
    return {t["tid"]: t for p in summary["processes"] for t in p["threads"]}


def run_concscope(args, timeout=120, env=None):
    """Run concscope with --json; returns (completed process, summary dict)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.json")
        cmd = [CONCSCOPE] + args[:1] + ["--json", out, "--color", "never"] + args[1:]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        summary = None
        if os.path.exists(out):
            with open(out) as f:
                summary = json.load(f)
        return p, summary


def prog(name):
    return os.path.join(PROGS, name)


# Perfetto's own importer (../shared/perfetto/trace_processor_shell; .ci/run sets it)
TRACE_PROCESSOR = os.environ.get("TRACE_PROCESSOR")


def tp_unavailable():
    """Why Perfetto's trace processor cannot be run, or None."""
    if not TRACE_PROCESSOR:
        return ("TRACE_PROCESSOR is not set: point it at Perfetto's trace_processor_shell "
                "(.ci/run uses ../shared/perfetto/trace_processor_shell)")
    if not os.access(TRACE_PROCESSOR, os.X_OK):
        return f"TRACE_PROCESSOR={TRACE_PROCESSOR} is not an executable file"
    return None


def tp_query(trace, sql, timeout=300):
    """What the trace processor prints for sql on trace: a CSV block per statement."""
    p = subprocess.run([TRACE_PROCESSOR, "-q", "/dev/stdin", trace], input=sql,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


@contextlib.contextmanager
def redis_server(port):
    """Debian's redis-server on port, answering redis-cli's ping when this yields."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    srv = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly",
                            "no"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                              text=True).stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"redis-server did not answer on port {port}")
        yield srv
    finally:
        srv.kill()
        srv.wait()
