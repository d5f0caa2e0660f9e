# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Integration tests of the bundled workloads.

Needs build/cs-workload and build/cs-ioserver (built by make); runs
workloads/python/cs_workload.py with /usr/bin/python3. Run with
    /usr/bin/python3 -m pytest tests/integration/test_workloads.py
Whole file: well under a minute on 2 CPUs.
"""

import os
import re
import resource
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BUILD

ROOT = Path(__file__).resolve().parents[2]
CS_WORKLOAD = Path(BUILD) / "cs-workload"   # the build under test (CS_BUILD)
CS_IOSERVER = Path(BUILD) / "cs-ioserver"
PY_WORKLOAD = ROOT / "workloads" / "python" / "cs_workload.py"
PYTHON = "/usr/bin/python3"

C_MODELS = ["processes", "threads", "threads-gil", "async"]
PY_MODELS = ["processes", "threads", "async"]
EXPECTED_AVERAGE = "32767.500000"
LATENCY_MS = 5

RESULT_RE = re.compile(
    r"^cs-workload: model=(?P<model>\S+) work=(?P<work>\S+) tasks=(?P<tasks>\d+)"
    r"(?: average=(?P<average>\S+) expected=(?P<expected>\S+))?"
    r"(?: requests=(?P<requests>\d+))? (?P<status>ok|FAILED)$",
    re.M)
TURNS_RE = re.compile(r"^cs-workload: gil turns:((?: \d+)+)$", re.M)


# ---- helpers ---------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def binaries():
    missing = [str(p) for p in (CS_WORKLOAD, CS_IOSERVER) if not os.access(p, os.X_OK)]
    assert not missing, f"build first (make): missing {', '.join(missing)}"


def run(args, timeout=60):
    t0 = time.monotonic()
    p = subprocess.run([str(a) for a in args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    p.elapsed = time.monotonic() - t0
    return p


def cw(*args, **kw):
    return run([CS_WORKLOAD, *args], **kw)


def pyw(*args, **kw):
    return run([PYTHON, PY_WORKLOAD, *args], **kw)


def result(p):
    """The result line, which must be the last line of stdout."""
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    lines = p.stdout.strip().splitlines()
    m = RESULT_RE.match(lines[-1]) if lines else None
    assert m, f"no result line in:\n{p.stdout}"
    assert m["status"] == "ok"
    return m


def check(p, model, work, tasks, requests=None):
    m = result(p)
    assert (m["model"], m["work"], int(m["tasks"])) == (model, work, tasks)
    if work == "io":
        assert m["average"] is None
    else:
        assert m["average"] == EXPECTED_AVERAGE
        assert m["expected"] == EXPECTED_AVERAGE
    if work == "cpu":
        assert m["requests"] is None
    else:
        assert int(m["requests"]) == requests
    return m


def gil_turns(p):
    m = TURNS_RE.search(p.stdout)
    assert m, f"no gil turns line in:\n{p.stdout}"
    return [int(t) for t in m[1].split()]


def start_server(*extra):
    srv = subprocess.Popen([str(CS_IOSERVER), f"--latency-ms={LATENCY_MS}", *extra],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    ready, _, _ = select.select([srv.stdout], [], [], 10)
    assert ready, "cs-ioserver printed no port"
    line = srv.stdout.readline()
    assert re.fullmatch(r"\d+\n", line), repr(line)
    return srv, int(line)


@pytest.fixture(scope="module")
def server():
    srv, port = start_server()
    yield f"127.0.0.1:{port}"
    # closing its stdin must be enough to stop it
    srv.stdin.close()
    assert srv.wait(timeout=10) == 0


def sample_while_running(args, probe, period=0.005):
    """Run args; call probe(pid) repeatedly while it runs; return
    (completed process-like object, list of probe results)."""
    p = subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    samples = []
    while p.poll() is None:
        try:
            samples.append(probe(p.pid))
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(period)
    out, err = p.communicate(timeout=30)
    return subprocess.CompletedProcess(args, p.returncode, out, err), samples


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def child_count(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return len(f.read().split())


# ---- C cs-workload: the job under every model ------------------------------

@pytest.mark.parametrize("tasks", [1, 3, 4])
@pytest.mark.parametrize("model", C_MODELS)
def test_c_cpu(model, tasks):
    check(cw(f"--model={model}", "--work=cpu", f"--tasks={tasks}", "--size=300"),
          model, "cpu", tasks)


@pytest.mark.parametrize("model", C_MODELS)
def test_c_io(model, server):
    tasks, requests = 8, 20
    p = cw(f"--model={model}", "--work=io", f"--tasks={tasks}",
           f"--requests={requests}", f"--server={server}")
    check(p, model, "io", tasks, tasks * requests)
    # each task waits for its replies one after another ...
    assert p.elapsed >= requests * LATENCY_MS / 1000
    # ... but the tasks wait at the same time (serially it would be 0.8 s)
    assert p.elapsed < 0.5 * tasks * requests * LATENCY_MS / 1000, p.elapsed


@pytest.mark.parametrize("model", C_MODELS)
def test_c_mixed(model, server):
    p = cw(f"--model={model}", "--work=mixed", "--tasks=3", "--size=90",
           "--requests=10", f"--server={server}")
    check(p, model, "mixed", 3, 30)


def test_c_default_sizes_are_used():
    """--help documents the defaults; the cpu line works with tasks=64."""
    p = cw("--help")
    assert p.returncode == 0 and "--model" in p.stdout and "--switch-interval-us" in p.stdout
    check(cw("--model=threads", "--work=cpu", "--tasks=64", "--size=64"),
          "threads", "cpu", 64)


# ---- threads-gil ------------------------------------------------------------

def test_gil_turns_fair_and_follow_the_interval():
    tasks, interval = 4, 0.005
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = cw("--model=threads-gil", "--work=cpu", f"--tasks={tasks}", "--size=2000")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    check(p, "threads-gil", "cpu", tasks)
    turns = gil_turns(p)
    assert len(turns) == tasks
    mean = sum(turns) / tasks
    assert min(turns) >= mean / 4, turns
    # the lock changes hands about once per switch interval
    total = sum(turns)
    assert total >= 0.25 * p.elapsed / interval, (total, p.elapsed)
    assert total <= 2 * p.elapsed / interval + 2 * tasks, (total, p.elapsed)
    # and only one thread computes at a time
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < 1.25 * p.elapsed, (cpu, p.elapsed)


def test_gil_switch_interval_option():
    """A 20x shorter interval gives many more hand-overs per second (not
    20x: on a busy machine wake-up latency stretches the short turns)."""
    base = ["--model=threads-gil", "--work=cpu", "--tasks=2", "--size=1000"]
    slow = cw(*base, "--switch-interval-us=20000")
    fast = cw(*base, "--switch-interval-us=1000")
    slow_rate = sum(gil_turns(slow)) / slow.elapsed
    fast_rate = sum(gil_turns(fast)) / fast.elapsed
    assert slow_rate <= 2 / 0.020 + 20, slow_rate
    assert fast_rate > 2.5 * slow_rate, (fast_rate, slow_rate)


def test_gil_single_task_never_switches():
    p = cw("--model=threads-gil", "--work=cpu", "--tasks=1", "--size=200")
    check(p, "threads-gil", "cpu", 1)
    assert gil_turns(p) == [1]


# ---- what runs where ----------------------------------------------------------

def test_async_is_one_thread(server):
    p, samples = sample_while_running(
        [CS_WORKLOAD, "--model=async", "--work=cpu", "--tasks=8", "--size=2000"],
        thread_count)
    check(p, "async", "cpu", 8)
    assert len(samples) >= 10 and set(samples) == {1}, samples
    p, samples = sample_while_running(
        [CS_WORKLOAD, "--model=async", "--work=io", "--tasks=8",
         "--requests=30", f"--server={server}"], thread_count)
    check(p, "async", "io", 8, 240)
    assert len(samples) >= 10 and set(samples) == {1}, samples


@pytest.mark.parametrize("model", ["threads", "threads-gil"])
def test_threads_models_have_a_thread_per_task(model):
    """The control for test_async_is_one_thread: the probe does see threads."""
    p, samples = sample_while_running(
        [CS_WORKLOAD, f"--model={model}", "--work=cpu", "--tasks=5", "--size=1000"],
        thread_count)
    check(p, model, "cpu", 5)
    assert max(samples) == 6, samples  # 5 tasks and the main thread


def test_processes_model_forks_a_process_per_task():
    p, samples = sample_while_running(
        [CS_WORKLOAD, "--model=processes", "--work=cpu", "--tasks=4", "--size=1500"],
        child_count)
    check(p, "processes", "cpu", 4)
    assert max(samples) == 4, samples


# ---- failures are detected -------------------------------------------------

class BadServer:
    """A server that answers every 16-byte request with the wrong bytes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.echo_wrong, args=(c,), daemon=True).start()

    @staticmethod
    def echo_wrong(c):
        with c:
            while True:
                data = b""
                while len(data) < 16:
                    chunk = c.recv(16 - len(data))
                    if not chunk:
                        return
                    data += chunk
                c.sendall(data[:8] + bytes(8))


@pytest.mark.parametrize("model", ["processes", "threads", "threads-gil", "async"])
def test_c_wrong_reply_fails(model):
    bad = BadServer()
    try:
        p = cw(f"--model={model}", "--work=io", "--tasks=2", "--requests=3",
               f"--server=127.0.0.1:{bad.port}")
    finally:
        bad.sock.close()
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "wrong reply" in p.stderr
    assert p.stdout.strip().splitlines()[-1].endswith(" FAILED")


def test_c_no_server_fails():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]  # bound, not listening: connections refused
    try:
        for model in C_MODELS:
            p = cw(f"--model={model}", "--work=io", "--tasks=2", "--requests=1",
                   f"--server=127.0.0.1:{port}")
            assert p.returncode == 1, (model, p.stderr)
    finally:
        s.close()


@pytest.mark.parametrize("args", [
    ["--model=threads", "--work=cpu", "--tasks=0"],
    ["--model=threads", "--work=cpu", "--tasks=65"],
    ["--model=threads", "--work=cpu", "--tasks=x"],
    ["--model=threads", "--work=cpu", "--size=0"],
    ["--model=fibers", "--work=cpu"],
    ["--model=threads", "--work=disk"],
    ["--model=threads", "--work=cpu", "--bogus"],
    ["--model=threads", "--work=cpu", "--switch-interval-us=5"],
    ["--model=threads", "--work=io"],
    ["--model=threads", "--work=io", "--server=127.0.0.1"],
    ["--work=cpu"],
])
def test_c_bad_command_line(args):
    p = cw(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


# ---- cs-ioserver -------------------------------------------------------------

def test_ioserver_sigterm_and_many_connections():
    srv, port = start_server("--ignore-stdin")
    try:
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
        t0 = time.monotonic()
        for i, c in enumerate(conns):  # two pipelined requests each
            c.sendall(i.to_bytes(16, "little") + (i + 1000).to_bytes(16, "little"))
        for i, c in enumerate(conns):
            data = b""
            while len(data) < 32:
                data += c.recv(32 - len(data))
            assert data == i.to_bytes(16, "little") + (i + 1000).to_bytes(16, "little")
        elapsed = time.monotonic() - t0
        assert LATENCY_MS / 1000 <= elapsed < 0.5, elapsed
        for c in conns:
            c.close()
        srv.stdin.close()  # ignored: it must still be running
        time.sleep(0.1)
        assert srv.poll() is None
        srv.send_signal(signal.SIGTERM)
        assert srv.wait(timeout=10) == 0
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def test_ioserver_bad_latency():
    p = run([CS_IOSERVER, "--latency-ms=1"])
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


# ---- Python cs_workload.py ---------------------------------------------------

@pytest.mark.parametrize("model", PY_MODELS)
def test_python_cpu(model):
    check(pyw(f"--model={model}", "--work=cpu", "--tasks=3", "--size=4"),
          model, "cpu", 3)


@pytest.mark.parametrize("work", ["io", "mixed"])
@pytest.mark.parametrize("model", PY_MODELS)
def test_python_io_and_mixed(model, work, server):
    tasks, requests = 4, 10
    p = pyw(f"--model={model}", f"--work={work}", f"--tasks={tasks}", "--size=2",
            f"--requests={requests}", f"--server={server}")
    check(p, model, work, tasks, tasks * requests)


def test_python_async_is_one_thread():
    p, samples = sample_while_running(
        [PYTHON, PY_WORKLOAD, "--model=async", "--work=cpu", "--tasks=4", "--size=12"],
        thread_count)
    check(p, "async", "cpu", 4)
    assert len(samples) >= 10 and set(samples) == {1}, samples


def test_python_threads_gil_rejected():
    p = pyw("--model=threads-gil", "--work=cpu")
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "threads-gil" in p.stderr


@pytest.mark.parametrize("args", [
    ["--model=threads", "--work=cpu", "--tasks=65"],
    ["--model=threads", "--work=cpu", "--bogus"],
    ["--model=threads", "--work=mixed"],
])
def test_python_bad_command_line(args):
    p = pyw(*args)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
