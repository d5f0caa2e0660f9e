"""Lock contention on the real kernel: futex waits and kernel locks."""
import json
import os
import re
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, labelled, lifetime, prog, run_concscope, threads_of

pytestmark = pytest.mark.usefixtures("needs_bpf")


def test_hot_mutex_is_found_named_and_attributed():
    p, js = run_concscope(["run", "--", prog("mutexhot"), "3", "1500"])
    assert p.returncode == 0, p.stderr
    workers = set(labelled(p.stdout, "worker", 3))
    (main,) = labelled(p.stdout, "main", 1)
    hot = [l for l in js["locks"] if l["symbol"] == "hot_lock"]
    assert len(hot) == 1, [l["symbol"] for l in js["locks"]]
    hot = hot[0]
    assert hot["space"] == "user" and hot["kind"] == "mutex"
    assert hot["waits"] >= 100
    assert set(hot["waiters"]) <= workers and len(hot["waiters"]) >= 2
    releasers = {r["tid"] for r in hot["releasers"] if r["tid"]}
    assert releasers and releasers <= workers
    threads = threads_of(js)
    worker_time = sum(threads[t]["running_ns"] + threads[t]["ready_ns"] + threads[t]["lock_ns"]
                      + threads[t]["sleep_ns"] for t in workers)
    assert hot["wait_ns"] >= 0.2 * worker_time
    for t in workers:
        assert threads[t]["lock_ns"] > 0
        assert any(w["symbol"] == "hot_lock" for w in threads[t]["lock_waits"])
    # the main thread joins: sleeping, not waiting for a lock
    joins = [l for l in js["locks"] if l["kind"] == "join"]
    assert joins and all(l["waiters"] == [main] for l in joins)
    assert threads[main]["lock_ns"] < 0.05 * threads[main]["sleep_ns"]
    assert "contended locks" in p.stdout and "hot_lock" in p.stdout


def test_user_locks_carry_their_process_and_regions_are_named_in_words():
    # two processes, each with its own own_lock at the same address, and a mutex in
    # shared memory mapped before the fork (as PostgreSQL and stress-ng keep theirs)
    p, js = run_concscope(["run", "--quiet", "--", prog("shmlock"), "2", "0.6"],
                          env=dict(os.environ, COLUMNS="100"))
    assert p.returncode == 0, p.stderr
    children = {pr["pid"] for pr in js["processes"] if len(pr["threads"]) > 1}
    assert len(children) == 2
    user = [l for l in js["locks"] if l["space"] == "user"]
    assert all(l["comm"] == "shmlock" for l in user)
    own = [l for l in user if l["symbol"] == "own_lock"]
    assert {l["pid"] for l in own} == children and len({l["address"] for l in own}) == 1
    shared = [l for l in user if l["symbol"].startswith("shared memory+0x")]
    assert shared and {l["pid"] for l in shared} <= children, [l["symbol"] for l in user]
    # the table tells the rows apart by their process
    for pid in children:
        assert re.search(r"^  own_lock \(pid %d\) +mutex " % pid, p.stdout, re.M), p.stdout
    # a join waits on the joined thread's descriptor, at the top of its stack
    joins = [l for l in user if l["kind"] == "join"]
    assert any(l["symbol"].startswith("stack of ") for l in joins), [l["symbol"] for l in joins]


def test_kernel_lock_contention_has_kind_and_caller():
    p, js = run_concscope(["run", "--", prog("mmapstorm"), "2", "1"])
    assert p.returncode == 0, p.stderr
    kernel = [l for l in js["locks"] if l["space"] == "kernel"]
    assert len(kernel) >= 1
    assert sum(l["waits"] for l in kernel) >= 50
    kinds = {l["kind"] for l in kernel}
    assert kinds <= {"spinlock", "rwlock-read", "rwlock-write", "rwsem-read", "rwsem-write",
                     "kernel-mutex", "rt-mutex", "percpu-rwsem"}
    named = [l for l in kernel if l["symbol"].startswith(("lock in ", "mmap_lock in "))
             and not l["symbol"].endswith(" ?")]
    assert len(named) >= 1, [l["symbol"] for l in kernel]


def test_no_locks_turns_lock_tracing_off():
    p, js = run_concscope(["run", "--no-locks", "--", prog("mutexhot"), "2", "200"])
    assert p.returncode == 0, p.stderr
    assert js["locks"] == []
    assert js["totals"]["lock_ns"] == 0


def prog_count(args):
    p = subprocess.run([CONCSCOPE, *args[:1], "-v", "--quiet", *args[1:], "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    m = re.search(r"bpf ids: progs ([\d ]*) links", p.stderr)
    assert m, p.stderr
    return len(m.group(1).split())


def test_futex_syscalls_mode_finds_the_lock_and_says_why_each_wait_ended():
    # the futex system call programs are loaded only when asked for
    assert prog_count(["run", "--futex-syscalls"]) == prog_count(["run"]) + 6
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "t.pftrace")
        p, js = run_concscope(["run", "--futex-syscalls", "-o", trace, "--",
                               prog("mutexhot"), "3", "600"])
        assert p.returncode == 0, p.stderr
        workers = set(labelled(p.stdout, "worker", 3))
        hot = [l for l in js["locks"] if l["symbol"] == "hot_lock"]
        assert len(hot) == 1 and hot[0]["kind"] == "mutex" and hot[0]["waits"] >= 100
        # released by the other workers (a stray "unknown", tid 0, is allowed: a wake-up
        # lost or not traced would leave one)
        released = {r["tid"]: r["count"] for r in hot[0]["releasers"]}
        assert set(released) - {0} <= workers
        assert released.get(0, 0) <= 0.02 * hot[0]["waits"], released
        # the saved trace replays to the same numbers
        out = os.path.join(d, "r.json")
        r = subprocess.run([CONCSCOPE, "report", trace, "--json", out], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            assert json.load(f) == js
    # a lock wait interrupted by a signal, then timed out: the return codes say which
    script = ("import signal, threading\n"
              "signal.signal(signal.SIGALRM, lambda *a: None)\n"
              "signal.setitimer(signal.ITIMER_REAL, 0.05)\n"
              "l = threading.Lock(); l.acquire(); l.acquire(timeout=0.3)\n")
    p, js = run_concscope(["run", "--futex-syscalls", "--", "/usr/bin/python3", "-c", script])
    assert p.returncode == 0, p.stderr
    waits = [l for l in js["locks"] if l["space"] == "user"]
    assert len(waits) == 1 and waits[0]["waits"] == 2, waits
    assert {r.get("reason") for r in waits[0]["releasers"]} == {"signal", "timeout"}


# ---- what counts as contention (issue #11) ----

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")


@pytest.mark.parametrize("interp,script", [("/usr/bin/python3", "sharedfd.py"),
                                           ("/usr/bin/perl", "sharedfd.pl")])
def test_a_kernel_mutex_wait_ends_and_the_sleep_after_it_is_sleep(interp, script):
    # A kernel mutex that spins, then sleeps, begins its contention twice and ends it once:
    # one wait, which must end, or every later sleep of the thread would count as lock.
    with tempfile.TemporaryDirectory() as d:
        p, js = run_concscope(["run", "--", interp, os.path.join(SCRIPTS, script),
                               os.path.join(d, "out")])
    assert p.returncode == 0, p.stderr
    writers = [t for t in threads_of(js).values() if t["running_ns"] > 0.1e9]
    assert len(writers) == 2, [(t["tid"], t["running_ns"]) for t in threads_of(js).values()]
    for t in writers:
        assert t["sleep_ns"] >= 0.99e9, t          # the second of sleep, all of it
        assert t["lock_ns"] < 0.5e9, t
    kmutex = [l for l in js["locks"] if l["kind"] == "kernel-mutex"]
    assert kmutex and all(l["contention"] for l in kmutex)
    assert all(r.get("reason") != "still waiting" for l in kmutex for r in l["releasers"])
    assert sum(l["wait_ns"] for l in kmutex) < 2e9


def test_an_idle_condition_pool_is_sleeping():
    p, js = run_concscope(["run", "--", prog("condpool"), "4", "1"])
    assert p.returncode == 0, p.stderr
    threads = threads_of(js)
    workers = [threads[tid] for tid in labelled(p.stdout, "worker", 4)]
    for t in workers:
        assert t["sleep_ns"] >= 0.95 * lifetime(t), t
        assert t["lock_ns"] <= 0.01 * lifetime(t), t
        # still visible as what it waited on, with its kind
        assert any(w["kind"] == "condition/other" for w in t["lock_waits"]), t["lock_waits"]
    conds = [l for l in js["locks"] if l["kind"] == "condition/other"]
    assert conds and not any(l["contention"] for l in conds)
    table = p.stdout.split("contended locks", 1)
    assert len(table) == 1 or "condition" not in table[1].split("total:")[0]


def test_sysbench_join_is_not_contention():
    p, js = run_concscope(["run", "--", "sysbench", "threads", "--threads=4", "--time=1", "run"])
    assert p.returncode == 0, p.stderr
    joins = [l for l in js["locks"] if l["kind"] == "join"]
    assert joins, [l["kind"] for l in js["locks"]]
    assert not any(l["contention"] for l in joins)
    contended = [l for l in js["locks"] if l["contention"]]
    assert contended and all(l["kind"] not in ("join", "condition/other") for l in contended)
    assert "join" not in p.stdout.split("contended locks", 1)[-1].split("total:")[0]


def test_redis_idle_background_threads_sleep():
    port = 6390 + os.getpid() % 100
    args = ["run", "--", "redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    load = subprocess.Popen(["sh", "-c", "sleep 1; redis-benchmark -p %d -n 20000 -c 10 -q "
                             ">/dev/null 2>&1; redis-cli -p %d shutdown nosave" % (port, port)])
    try:
        p, js = run_concscope(args, timeout=120)
    finally:
        load.wait(timeout=120)
    assert p.returncode == 0, p.stderr
    bio = [t for t in threads_of(js).values() if t["comm"].startswith("bio_")]
    assert len(bio) >= 3, [t["comm"] for t in threads_of(js).values()]
    for t in bio:
        assert t["lock_ns"] == 0, t
        assert t["sleep_ns"] >= 0.99 * lifetime(t), t
    main = [t for t in threads_of(js).values() if t["comm"] == "redis-server"][0]
    assert main["voluntary_switches"] > 1000  # it really served the benchmark
    assert not any(l["contention"] and l["kind"] in ("condition/other", "join")
                   for l in js["locks"])


def test_the_cpython_gil_is_named_and_counted_as_contention():
    p, js = run_concscope(["run", "--", "/usr/bin/python3", os.path.join(SCRIPTS, "gil_threads.py")])
    assert p.returncode == 0, p.stderr
    gil = [l for l in js["locks"] if l["symbol"] == "CPython GIL" and l["kind"] == "CPython GIL"]
    assert len(gil) == 1, [(l["symbol"], l["kind"]) for l in js["locks"]]
    assert gil[0]["contention"] and gil[0]["waits"] >= 20
    workers = sorted(threads_of(js).values(), key=lambda t: -t["running_ns"])[:4]
    for t in workers:
        assert t["lock_ns"] >= 0.3 * lifetime(t), t
    assert "CPython GIL" in p.stdout.split("contended locks", 1)[1]


def test_our_own_lock_contention_is_left_out():
    # Two real-time ping-pong pairs, one per CPU, above the reader, into a tiny ring:
    # the programs reserve on both CPUs at once and the ring overflows. Whatever lock
    # our own programs contended on (own_lock) is not the program's.
    p, js = run_concscope(["run", "--buffer-size", "4K", "--", prog("rtpingpong"), "2", "1", "99"])
    assert p.returncode == 0, p.stderr
    own = js["tracer"]["own_lock"]
    assert own == "0x0" or all(l["address"] != own for l in js["locks"])
    machinery = ("bpf", "ringbuf", "__traceiter", "trace_contention", "resilient_queued")
    assert not any(any(m in l["symbol"] for m in machinery) for l in js["locks"]), \
        [l["symbol"] for l in js["locks"]]
