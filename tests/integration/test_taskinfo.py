"""What /proc tells of the traced tasks: process titles (the argv a program rewrote, as
PostgreSQL, nginx and stress-ng do: tests/progs/proctitle stands in for them), and each
thread's scheduling policy, nice value and cgroup."""
import json
import os
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, ROOT, prog, run_concscope, threads_of

pytestmark = pytest.mark.usefixtures("needs_bpf")


def by_pid(js):
    return {p["pid"]: p for p in js["processes"]}


def test_run_shows_the_titles_of_processes_that_rewrote_their_arguments():
    p, js = run_concscope(["run", "--quiet", "--", prog("proctitle"), "3", "0.5", "10"],
                          env=dict(os.environ, COLUMNS="100"))
    assert p.returncode == 0, p.stderr
    procs = by_pid(js)
    assert len(procs) == 4
    parent = [pr for pr in procs.values() if "title" not in pr]
    assert len(parent) == 1  # its arguments are the ones it was started with
    titles = sorted(pr["title"] for pr in procs.values() if "title" in pr)
    assert titles == ["proctitle: worker 1", "proctitle: worker 2", "proctitle: worker 3"]
    for pr in procs.values():
        assert pr["comm"] == "proctitle"
        (t,) = pr["threads"]
        assert t["policy"] == "other" and "cgroup" in t
        assert t["nice"] == (10 if "title" in pr else 0)
    # the terminal: the title beside the comm, the nice value marked
    assert '(pid %d, 1 thread) "proctitle: worker 1"' % min(
        pr["pid"] for pr in procs.values() if pr.get("title") == "proctitle: worker 1") in p.stdout
    assert p.stdout.count(" nice 10\n") == 3


def test_attach_finds_the_titles_of_processes_already_running():
    # started before concscope: the arguments they were exec'd with are not known, but
    # a title written in place leaves the rest of the arguments' area NUL-padded
    child = subprocess.Popen([prog("proctitle"), "2", "0", "5", "1"], stdout=subprocess.PIPE,
                             text=True)
    workers = []
    try:
        assert child.stdout.readline().strip() == "ready"
        with open(f"/proc/{child.pid}/task/{child.pid}/children") as f:
            workers = [int(x) for x in f.read().split()]
        p, js = run_concscope(["attach", "-p", str(child.pid), "-d", "0.5"])
        assert p.returncode == 0, p.stderr
        procs = by_pid(js)
        assert procs[child.pid]["title"] == "proctitle: parent"
        assert sorted(procs[w]["title"] for w in workers) == ["proctitle: worker 1",
                                                              "proctitle: worker 2"]
        assert all(procs[w]["threads"][0]["nice"] == 5 for w in workers)
    finally:
        for pid in workers:
            os.kill(pid, 9)
        child.kill()
        child.wait()


def test_real_time_threads_are_marked():
    # a thread's facts are read from /proc 40 ms after its fork, between two drains of
    # the ring: the ping-pong fills it as fast as the sanitizer build reads it, and when
    # a drain lasted until the ring was empty the facts were read only after the threads
    # had exited (6 of 10 runs of that build); drains now stop every 20 ms
    p, js = run_concscope(["run", "--quiet", "--", prog("rtpingpong"), "1", "1", "7"],
                          env=dict(os.environ, COLUMNS="100"))
    assert p.returncode == 0, p.stderr
    threads = threads_of(js).values()
    rt = [t for t in threads if t.get("policy") == "fifo"]
    assert len(rt) == 2 and all(t["rt_priority"] == 7 for t in rt)
    assert p.stdout.count(" FIFO/7\n") == 2
    main = [t for t in threads if t.get("policy") == "other"]
    assert len(main) == 1 and "rt_priority" not in main[0]


def test_a_saved_trace_carries_titles_and_scheduling():
    with tempfile.TemporaryDirectory() as d:
        trace, live = os.path.join(d, "t.pftrace"), os.path.join(d, "live.json")
        p = subprocess.run([CONCSCOPE, "run", "--quiet", "-o", trace, "--json", live, "--",
                            prog("proctitle"), "2", "0.3", "4"], capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr
        rep = os.path.join(d, "rep.json")
        r = subprocess.run([CONCSCOPE, "report", trace, "--json", rep], capture_output=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        with open(live, "rb") as a, open(rep, "rb") as b:
            assert a.read() == b.read()
        with open(rep) as f:
            js = json.load(f)
        assert sum("title" in pr for pr in js["processes"]) == 2
        assert all("policy" in t for t in threads_of(js).values())
        # Perfetto names the process by its title: a ProcessTree with it as the cmdline
        if subprocess.run(["which", "protoc"], capture_output=True).returncode == 0:
            schema = os.path.join(ROOT, "tests", "perfetto")
            with open(trace, "rb") as f:
                text = subprocess.run(["protoc", f"--proto_path={schema}",
                                       "--decode=concscope.pf.Trace", "concscope_trace.proto"],
                                      stdin=f, capture_output=True, timeout=120).stdout.decode()
            assert 'cmdline: "proctitle: worker 1"' in text
