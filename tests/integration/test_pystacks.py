"""CPython frames in --stacks (#20): which Python code waited for the GIL and
which coroutine blocked an event loop, read from the waiting thread's own
frames; a program that is no CPython 3.11 gets none."""
import ast
import glob
import os

import pytest

from conftest import ROOT, prog, run_concscope, threads_of

pytestmark = pytest.mark.usefixtures("needs_bpf")

PY = "/usr/bin/python3"
SCRIPTS = os.path.join(ROOT, "tests", "integration", "scripts")
WORKLOAD = os.path.join(ROOT, "workloads", "python", "cs_workload.py")


def frames(js, index, kind=None):
    return [f["name"] for f in js["stacks"][index]["frames"] if kind in (None, f["kind"])]


def function_lines(path, name):
    """The lines of function `name` in the file, from its source (not from us)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return range(node.lineno, node.end_lineno + 1)
    raise AssertionError(name)


def is_frame(got, want):
    """got names the frame want ("path:line function"): the same, or, for a
    checkout with a long path, "..." and the end of want, the file's name whole
    (a frame name holds CS_FRAME_NAME_LEN bytes)."""
    if got.startswith("...") and got != want:
        tail = got[3:]
        return want.endswith(tail) and ("/" + os.path.basename(want.split(":")[0])) in tail
    return got == want


def marked_line(path, mark):
    with open(path) as f:
        return [i for i, l in enumerate(f, 1) if mark in l][0]


def test_threads_model_shows_the_python_line_that_waited_for_the_gil():
    p, js = run_concscope(["run", "--model=threads", "--lang=python", "--stacks"], timeout=300)
    assert p.returncode == 0, p.stderr
    run = js["models"][0]
    hot = function_lines(WORKLOAD, "sum_range")
    workers = 0
    pid = run["processes"][0]["pid"]
    for t in (t for pr in run["processes"] for t in pr["threads"]):
        gil = t.get("gil_waits_at", [])
        if not gil or t["tid"] == pid:  # the main thread waits in Thread.start
            continue
        workers += 1
        total = sum(w["ns"] for w in gil)
        # the GIL waits' time equals the thread's waits on the GIL lock
        lock = [l for l in run["locks"] if l["kind"] == "CPython GIL"][0]
        # most of it is in sum_range, the workload's CPU loop, at one of its lines,
        # the innermost Python frame, above the interpreter's C frames
        inner = 0
        for w in gil:
            fr = run["stacks"][w["stack"]]["frames"]
            py = [f["name"] for f in fr if f["kind"] == "python"]
            if not py:
                continue
            file_line, func = py[0].split(" ", 1)
            path, _, line = file_line.rpartition(":")
            if not path or not line.isdigit():
                continue  # a frame whose line was not read is named "file function"
            # the runner's path is build/../workloads/...; a name over
            # CS_FRAME_NAME_LEN bytes keeps the end of its path
            same = (os.path.normpath(path) == WORKLOAD or
                    (path.startswith("...") and path.endswith("/python/cs_workload.py")))
            if same and func == "sum_range" and int(line) in hot:
                inner += w["ns"]
                kinds = [f["kind"] for f in fr]
                first_py = kinds.index("python")
                assert "user" not in kinds[:first_py], kinds
                assert "user" in kinds[first_py:], kinds
        assert inner >= 0.7 * total, (t["tid"], gil)
        assert lock["wait_ns"] >= total
    assert workers >= 3, p.stdout
    line = [l for l in p.stdout.splitlines() if "waited for the GIL at:" in l]
    assert line and all("cs_workload.py:" in l and "sum_range" in l for l in line[:3]), line
    assert "python: frames of CPython 3.11" in p.stdout


def test_a_coroutines_time_sleep_is_the_loops_blocker():
    script = os.path.join(SCRIPTS, "asyncio_blocker.py")
    want = "%s:%d stall" % (script, marked_line(script, "# BLOCKER"))
    p, js = run_concscope(["run", "--stacks", "--loop-threshold", "40ms", "--", PY, script])
    assert p.returncode == 0, p.stderr
    lb = [f for f in js["findings"] if f["kind"] == "loop_blocked"]
    assert lb, js["findings"]
    # the longest episode's stack: the coroutine's line innermost, then main's
    st = lb[0]["evidence"]["stack"]
    py = frames(js, st, "python")
    assert is_frame(py[0], want), py
    assert is_frame(py[1], "%s:%d main" % (script, marked_line(script, "await stall"))), py
    assert "asyncio_blocker.py:%d stall" % marked_line(script, "# BLOCKER") in lb[0]["text"]
    # every episode (3 of them) blocked there
    t = [t for t in threads_of(js).values() if t.get("event_waits")][0]
    eps = t["event_waits"]["longest"]
    assert len(eps) == 3, eps
    assert all(is_frame(frames(js, e["stack"], "python")[0], want) for e in eps), eps
    assert "at asyncio_blocker.py:%d stall" % marked_line(script, "# BLOCKER") in p.stdout


def test_a_program_that_is_no_python_gets_no_python_frames():
    p, js = run_concscope(["run", "--stacks", "--", prog("stackhot"), "2", "200"])
    assert p.returncode == 0, p.stderr
    kinds = {f["kind"] for s in js["stacks"] for f in s["frames"]}
    assert "user" in kinds and "python" not in kinds, kinds
    assert "python_frames" not in js["tracer"]
    assert "python:" not in p.stdout


def other_cpython():
    for exe in sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3.1[2-9]")):
        if os.access(exe, os.X_OK):
            return exe
    return None


@pytest.mark.skipif(other_cpython() is None, reason="no CPython but 3.11 on this machine")
def test_another_cpython_is_reported_and_never_read():
    exe = other_cpython()
    p, js = run_concscope(["run", "--stacks", "--", exe,
                           os.path.join(SCRIPTS, "asyncio_blocker.py")])
    assert p.returncode == 0, p.stderr
    kinds = {f["kind"] for s in js["stacks"] for f in s["frames"]}
    assert "python" not in kinds
    ver = os.path.basename(exe)[len("python"):]
    assert js["tracer"]["python_unsupported"] == ver
    assert js["tracer"]["python_unsupported_pid"] == js["processes"][0]["pid"]
    assert "runs CPython %s, not supported" % ver in p.stdout
