"""Lock contention on the real kernel: futex waits and kernel locks."""
import pytest

from conftest import parse_snaps, prog, run_concscope, threads_of

pytestmark = pytest.mark.usefixtures("needs_bpf")


def test_hot_mutex_is_found_named_and_attributed():
    p, js = run_concscope(["run", "--", prog("mutexhot"), "3", "1500"])
    assert p.returncode == 0, p.stderr
    snaps = parse_snaps(p.stdout)
    workers = {tid for tid, s in snaps.items() if s["label"] == "worker"}
    main = [tid for tid, s in snaps.items() if s["label"] == "main"][0]
    assert len(workers) == 3
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
