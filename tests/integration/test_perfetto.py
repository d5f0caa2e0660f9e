"""Perfetto traces: written by -o, decoded with protoc, replayed by `report`."""
import json
import os
import re
import signal
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, ROOT, prog

pytestmark = pytest.mark.usefixtures("needs_bpf")
SCHEMA = os.path.join(ROOT, "tests", "perfetto", "concscope_trace.proto")


def record(args, d, name="t"):
    trace, js = os.path.join(d, name + ".pftrace"), os.path.join(d, name + ".json")
    p = subprocess.run([CONCSCOPE, args[0], "--color", "never", "--quiet", "-o", trace,
                        "--json", js, *args[1:]], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    with open(js) as f:
        return p, trace, json.load(f)


def report(trace, d):
    out = os.path.join(d, "report.json")
    p = subprocess.run([CONCSCOPE, "report", "--color", "never", trace, "--json", out],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    with open(out) as f:
        return p, json.load(f)


def same_bytes(d, live="t.json", replayed="report.json"):
    """The live --json and report's --json, byte for byte."""
    with open(os.path.join(d, live), "rb") as a, open(os.path.join(d, replayed), "rb") as b:
        return a.read() == b.read()


def test_report_reproduces_a_run_number_for_number():
    with tempfile.TemporaryDirectory() as d:
        live, trace, js = record(["run", "--", prog("mutexhot"), "3", "300"], d)
        rep, rjs = report(trace, d)
        assert rjs == js and same_bytes(d)
        assert js["locks"] and js["processes"]
        # the same view in the terminal, minus the command's own output
        shown = [l for l in live.stdout.splitlines() if not l.startswith(("SNAP", "hot_lock at"))]
        assert rep.stdout.splitlines() == shown


def test_report_reproduces_attach():
    child = subprocess.Popen([prog("mixer"), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as d:
            _, trace, js = record(["attach", "-p", str(child.pid), "-d", "0.7"], d)
            _, rjs = report(trace, d)
            assert rjs == js and same_bytes(d) and rjs["pid"] == child.pid
    finally:
        child.kill()
        child.wait()


def test_report_reproduces_attach_to_every_task():
    child = subprocess.Popen([prog("mixer"), "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as d:
            live, trace, js = record(["attach", "-a", "-d", "0.7"], d)
            rep, rjs = report(trace, d)
            assert rjs == js and same_bytes(d) and rjs["pid"] == 0
            assert child.pid in {p["pid"] for p in js["processes"]}
            assert "every task" in live.stdout and rep.stdout == live.stdout
    finally:
        child.kill()
        child.wait()


def test_report_reproduces_the_models():
    with tempfile.TemporaryDirectory() as d:
        live, trace, js = record(["run", "--model=all", "--work=cpu", "--size=512"], d)
        rep, rjs = report(trace, d)
        assert rjs == js and same_bytes(d)
        assert [m["model"] for m in rjs["models"]] == ["processes", "threads", "threads-gil", "async"]
        assert "comparison" in rep.stdout and "findings" in rep.stdout


def decode(trace):
    with open(trace, "rb") as f:
        p = subprocess.run(["protoc", f"--proto_path={os.path.dirname(SCHEMA)}",
                            "--decode=concscope.pf.Trace", SCHEMA], stdin=f,
                           capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def test_protoc_decodes_a_real_trace():
    if subprocess.run(["which", "protoc"], capture_output=True).returncode:
        pytest.skip("protoc is not installed (protobuf-compiler)")
    with tempfile.TemporaryDirectory() as d:
        _, trace, js = record(["run", "--", prog("spinner"), "0.5", "2"], d)
        text = decode(trace)
    assert f'release: "{os.uname().release}"' in text
    assert 'sysname: "Linux"' in text
    assert re.search(r"primary_trace_clock: (6|BUILTIN_CLOCK_BOOTTIME)", text)
    cpus = set(int(c) for c in re.findall(r"ftrace_events \{\s*cpu: (\d+)", text))
    assert cpus == set(range(os.cpu_count())), cpus
    assert text.count("compact_sched {") >= 2
    # the thread names and the process tree
    assert '"spinner"' in text
    assert re.search(r"processes \{[^}]*pid: %d" % js["processes"][0]["pid"], text)
    # every switch is in the compact encoding: timestamps deltas are non-negative varints
    assert "switch_timestamp" in text and "switch_prev_state" in text and "waking_timestamp" in text


@pytest.mark.parametrize("damage", ["empty", "truncated", "flipped", "foreign"])
def test_report_refuses_damaged_files(damage):
    with tempfile.TemporaryDirectory() as d:
        _, trace, _ = record(["run", "--", prog("sleeper"), "3", "10"], d)
        data = open(trace, "rb").read()
        bad = os.path.join(d, "bad.pftrace")
        if damage == "empty":
            data = b""
        elif damage == "truncated":
            data = data[: len(data) * 2 // 3]
        elif damage == "flipped":
            data = bytearray(data)
            for i in range(100, len(data), 997):
                data[i] ^= 0x5A
            data = bytes(data)
        else:
            data = b"\x0a\x10" + b"not a trace at all" * 50
        open(bad, "wb").write(data)
        p = subprocess.run([CONCSCOPE, "report", bad], capture_output=True, text=True, timeout=60)
        assert p.returncode == 4, (p.returncode, p.stderr)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith("concscope: ")
        assert p.stdout == ""


def test_interrupted_recording_leaves_a_valid_trace():
    with tempfile.TemporaryDirectory() as d:
        trace, js = os.path.join(d, "t.pftrace"), os.path.join(d, "t.json")
        r, w = os.pipe()
        p = subprocess.Popen([CONCSCOPE, "run", "--quiet", "--ready-fd", str(w), "-o", trace,
                              "--json", js, "--", prog("mixer"), "2", "30"], pass_fds=(w,),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.close(w)
        assert os.read(r, 16) == b"ready\n"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 128 + signal.SIGINT, err  # the mixer's status: killed by it
        assert "total: parallelism" in out
        _, rjs = report(trace, d)
        assert rjs == json.load(open(js)) and same_bytes(d, os.path.basename(js))
        assert [f for f in os.listdir(d) if f.startswith(".")] == []


class SmallDisk:
    """A tmpfs of a few pages, mounted for one test: a disk that fills up."""

    def __init__(self, size):
        self.dir = tempfile.TemporaryDirectory()
        self.mnt = os.path.join(self.dir.name, "small")
        os.mkdir(self.mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", self.mnt]).returncode:
            self.dir.cleanup()
            pytest.skip("cannot mount a small tmpfs here")

    def __enter__(self):
        return self.mnt

    def __exit__(self, *exc):
        subprocess.run(["umount", self.mnt])
        self.dir.cleanup()


def stderr_lines(p):
    return [l for l in p.stderr.splitlines() if l.strip()]


def test_a_trace_that_fills_the_disk_makes_room_for_the_json():
    # the trace fills the disk while recording (its writes are 256 KiB): it is removed
    # before the JSON is written, so the JSON and the summary are all there, and the
    # one line names the trace. The run's JSON is about 0.7 MB (its critical path's 4096
    # longest segments), its trace about 19 MB: a 2 MiB disk holds the one, not the other
    with SmallDisk("2m") as mnt:
        trace, js = os.path.join(mnt, "t.pftrace"), os.path.join(mnt, "o.json")
        p = subprocess.run([CONCSCOPE, "run", "--quiet", "--color", "never", "-o", trace, "--json",
                            js, "--", prog("rtpingpong"), "1", "0.5", "0"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 1, p.stderr
        (line,) = stderr_lines(p)
        assert trace in line and "No space left on device" in line and "no trace" in line
        assert "total: parallelism" in p.stdout
        assert os.listdir(mnt) == ["o.json"]
        with open(js) as f:
            assert json.load(f)["processes"]


def test_a_json_that_does_not_fit_says_so():
    with SmallDisk("4k") as mnt:
        js = os.path.join(mnt, "o.json")
        p = subprocess.run([CONCSCOPE, "run", "--quiet", "--color", "never", "--json", js, "--",
                            prog("mixer"), "2", "0.3"], capture_output=True, text=True, timeout=120)
        assert p.returncode == 1, p.stderr
        (line,) = stderr_lines(p)
        assert js in line and "No space left on device" in line
        assert "total: parallelism" in p.stdout
        assert os.listdir(mnt) == []


def test_full_disk_gives_one_line_and_no_partial_file():
    with tempfile.TemporaryDirectory() as d:
        mnt = os.path.join(d, "small")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", mnt]).returncode:
            pytest.skip("cannot mount a small tmpfs here")
        try:
            trace = os.path.join(mnt, "t.pftrace")
            p = subprocess.run([CONCSCOPE, "run", "--quiet", "--color", "never", "-o", trace, "--",
                                prog("mixer"), "2", "1"], capture_output=True, text=True, timeout=120)
            assert p.returncode == 1
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            assert len(lines) == 1 and "No space left on device" in lines[0], p.stderr
            assert "total: parallelism" in p.stdout  # the summary is still printed
            assert os.listdir(mnt) == []
        finally:
            subprocess.run(["umount", mnt])
