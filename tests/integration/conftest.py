"""Shared helpers for concscope's integration tests (real BPF, as root)."""
import json
import os
import re
import subprocess
import tempfile

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


SNAP_RE = re.compile(r"SNAP (\S+) tid=(\d+) nvcsw=(-?\d+) nivcsw=(-?\d+) run_ns=(-?\d+) wait_ns=(-?\d+)")


def parse_snaps(text):
    """The kernel's own counters that test programs printed, by tid."""
    snaps = {}
    for m in SNAP_RE.finditer(text):
        snaps[int(m.group(2))] = {
            "label": m.group(1), "nvcsw": int(m.group(3)), "nivcsw": int(m.group(4)),
            "run_ns": int(m.group(5)), "wait_ns": int(m.group(6)),
        }
    return snaps


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
