"""The benchmark suite's programs (tools/bench) work, on small runs.

Needs the bench programs: `make bench-build` (tools/bench/bench.mk).
The suite itself is `make bench` / `make bench-quick`; this only checks
that its pieces produce what bench.py parses.
"""
import os
import re
import struct
import subprocess

import pytest

from conftest import BUILD, CONCSCOPE, ROOT, bpf_unavailable

BENCH = os.path.join(BUILD, "bench")
STORM = os.path.join(BENCH, "storm")
BARE = os.path.join(BENCH, "bare")
REPLAY = os.path.join(BENCH, "replay")
BENCH_PY = os.path.join(ROOT, "tools", "bench", "bench.py")
STORM_RE = re.compile(r"storm: pairs=(\d+) rounds=(\d+) elapsed_s=([\d.]+) us_per_rt=([\d.]+) "
                      r"rt_per_s=([\d.]+)")


@pytest.fixture
def bench_built():
    for p in (STORM, BARE, REPLAY):
        if not os.access(p, os.X_OK):
            pytest.skip("%s is not built (make bench-build)" % p)


@pytest.fixture
def needs_root_bpf():
    why = bpf_unavailable()
    if why:
        pytest.skip(why)


def test_storm_counts_round_trips(bench_built):
    p = subprocess.run([STORM, "-n", "2000", "-p", "2", "-u"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    m = STORM_RE.search(p.stdout)
    assert m, p.stdout
    assert int(m.group(1)) == 2 and int(m.group(2)) == 4000
    assert float(m.group(4)) > 0


def test_storm_timed_mode(bench_built):
    p = subprocess.run([STORM, "-t", "0.2"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    m = STORM_RE.search(p.stdout)
    assert m and int(m.group(2)) > 0 and 0.19 < float(m.group(3)) < 5


def test_bare_records_and_reports_ids(bench_built, needs_root_bpf):
    p = subprocess.run([BARE, "-v", "--", STORM, "-n", "2000"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert re.search(r"bare: bpf ids: progs \d+ \d+ maps \d+", p.stderr), p.stderr
    m = re.search(r"bare: records (\d+) lost (\d+)", p.stderr)
    # at least the storm's own switches: 2 per round trip
    assert m and int(m.group(1)) >= 4000, p.stderr
    assert STORM_RE.search(p.stdout)


def test_bare_passes_exit_status(bench_built, needs_root_bpf):
    p = subprocess.run([BARE, "--", "sh", "-c", "exit 3"], capture_output=True, timeout=60)
    assert p.returncode == 3


def test_replay_reads_a_dump(bench_built, needs_root_bpf, tmp_path):
    dump = tmp_path / "storm.raw"
    p = subprocess.run([CONCSCOPE, "run", "--quiet", "--dump-raw", str(dump), "--", STORM,
                        "-n", "2000"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    data = dump.read_bytes()
    nrec = off = 0
    while off + 24 <= len(data):
        size, = struct.unpack_from("<H", data, off + 8)
        assert size >= 24
        off += size
        nrec += 1
    assert off == len(data) and nrec > 4000
    p = subprocess.run([REPLAY, "-k", "2", str(dump)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    m = re.search(r"records=(\d+) sched=(\d+) reps=2 seconds=[\d.]+ events_per_s=(\d+)", p.stdout)
    assert m, p.stdout
    # every dump record, plus the track and window marks replay adds
    assert nrec + 1 <= int(m.group(1)) <= nrec + 3
    assert int(m.group(2)) >= 4000 and int(m.group(3)) > 0


def test_replay_rejects_a_truncated_dump(bench_built, tmp_path):
    bad = tmp_path / "bad.raw"
    bad.write_bytes(struct.pack("<QHBBHHII", 1, 56, 1, 0, 0, 0, 1, 1))  # says 56, has 24
    p = subprocess.run([REPLAY, str(bad)], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "malformed" in p.stderr


def test_bench_py_startup_section(bench_built, needs_root_bpf):
    p = subprocess.run(["/usr/bin/python3", BENCH_PY, "--quick", "--only", "7", "--build", BUILD],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().splitlines()[-1] == "2 passed, 0 failed", p.stdout
