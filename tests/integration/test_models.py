"""The bundled models under concscope: `run --model=...`, from its --json."""
import re

import pytest

from conftest import lifetime, run_concscope

pytestmark = pytest.mark.usefixtures("needs_bpf")


def by_model(js, work):
    return {m["model"]: m for m in js["models"] if m["work"] == work}


def threads(m):
    return [t for p in m["processes"] for t in p["threads"]]


@pytest.fixture(scope="module")
def all_c():
    p, js = run_concscope(["run", "--model=all"], timeout=300)
    assert p.returncode == 0, p.stderr
    return p, js


def test_all_runs_every_model_for_cpu_and_io(all_c):
    p, js = all_c
    runs = {(m["model"], m["work"]) for m in js["models"]}
    assert runs == {(m, w) for m in ("processes", "threads", "threads-gil", "async")
                    for w in ("cpu", "io")}
    assert all(m["ok"] for m in js["models"])
    # every model printed the closed-form average and checked it
    averages = re.findall(r"cs-workload: model=\S+ work=cpu tasks=4 average=(\S+) expected=(\S+) ok",
                          p.stdout)
    assert len(averages) == 4 and len({a for a, _ in averages}) == 1
    assert all(a == e for a, e in averages)
    assert "comparison" in p.stdout and "findings" in p.stdout
    tot = js["totals"]
    assert tot["running_ns"] == sum(m["totals"]["running_ns"] for m in js["models"])


def test_cpu_parallelism(all_c):
    _, js = all_c
    cpu = by_model(js, "cpu")
    assert cpu["processes"]["totals"]["parallelism"] >= 1.6
    assert cpu["threads"]["totals"]["parallelism"] >= 1.6
    assert cpu["threads-gil"]["totals"]["parallelism"] <= 1.15
    assert cpu["async"]["totals"]["parallelism"] <= 1.15
    assert len(threads(cpu["async"])) == 1
    assert len(cpu["processes"]["processes"]) == 5  # parent + 4 workers
    assert len(cpu["threads"]["processes"]) == 1 and len(threads(cpu["threads"])) == 5


def test_gil_switches_and_waits_for_its_lock(all_c):
    p, js = all_c
    cpu = by_model(js, "cpu")
    gil, thr = cpu["threads-gil"], cpu["threads"]
    assert gil["totals"]["voluntary_switches"] >= 10 * thr["totals"]["voluntary_switches"]
    pid = gil["processes"][0]["pid"]
    workers = [t for t in threads(gil) if t["tid"] != pid]
    assert len(workers) == 4
    lock = sum(t["lock_ns"] for t in workers)
    assert lock >= 0.5 * sum(lifetime(t) for t in workers)
    gil_lock = [l for l in gil["locks"] if l["symbol"].startswith("gil")]
    assert gil_lock and gil_lock[0]["kind"] == "mutex"
    # every thread got a fair share of turns
    turns = [int(x) for x in re.search(r"gil turns: ([\d ]+)", p.stdout).group(1).split()]
    assert len(turns) == 4 and min(turns) >= 0.25 * sum(turns) / 4
    # the plain threads' main thread joins: sleeping, not lock-bound
    main = [t for t in threads(thr) if t["tid"] == thr["processes"][0]["pid"]][0]
    assert main["lock_ns"] < 0.05 * lifetime(main)
    assert sum(t["lock_ns"] for t in threads(thr)) < 0.05 * sum(lifetime(t) for t in threads(thr))


def test_io_async_keeps_up_with_one_thread(all_c):
    _, js = all_c
    io = by_model(js, "io")
    a, t = io["async"], io["threads"]
    assert a["wall_ns"] <= 1.5 * t["wall_ns"]
    assert len(threads(a)) == 1
    for m in io.values():
        tot = m["totals"]
        blocked = tot["sleep_ns"] + tot["io_ns"] + tot["lock_ns"]
        assert blocked > tot["running_ns"], m["model"]


def test_io_async_needs_far_fewer_switches():
    # 16 tasks x 100 requests: a thread blocks for every reply (the server's
    # latency is 10 ms), while one wake-up of the loop serves every reply that
    # is ready by then. How many are ready varies from run to run (measured
    # here: 150 to 440 switches for the loop, against about 1650 for the
    # threads), so the bounds hold with room to spare.
    p, js = run_concscope(["run", "--model=all", "--work=io", "--tasks=16"], timeout=300)
    assert p.returncode == 0, p.stderr
    io = by_model(js, "io")
    requests = 16 * 100
    done = re.findall(r"^cs-workload: model=\S+ work=io tasks=16 requests=(\d+) ok$",
                      p.stdout, re.M)
    assert done == [str(requests)] * 4, done
    vol = lambda m: m["totals"]["voluntary_switches"]
    sw = lambda m: vol(m) + m["totals"]["involuntary_switches"]
    assert vol(io["threads"]) >= requests, vol(io["threads"])
    assert vol(io["async"]) * 2 <= requests, vol(io["async"])
    assert sw(io["async"]) * 2 <= sw(io["threads"]), (sw(io["async"]), sw(io["threads"]))
    assert io["async"]["wall_ns"] <= 1.5 * io["threads"]["wall_ns"]
    assert len(threads(io["async"])) == 1 and len(threads(io["threads"])) == 17


def test_python_gil_limits_threads_not_processes():
    # a larger job than the default, so interpreter start-up weighs less in the window
    p, js = run_concscope(["run", "--model=all", "--lang=python", "--work=cpu", "--size=160"],
                          timeout=300)
    assert p.returncode == 0, p.stderr
    cpu = by_model(js, "cpu")
    assert set(cpu) == {"processes", "threads", "async"}
    assert all(m["lang"] == "python" for m in js["models"])
    assert cpu["threads"]["totals"]["parallelism"] <= 1.2
    assert cpu["processes"]["totals"]["parallelism"] >= 1.6
    # the GIL is recognised (its range in CPython's runtime state), named, and its waits
    # are contention
    named = [l for l in cpu["threads"]["locks"] if l["symbol"] == "CPython GIL"]
    assert named and named[0]["kind"] == "CPython GIL" and named[0]["contention"], \
        [(l["symbol"], l["kind"]) for l in cpu["threads"]["locks"]]
    assert sum(l["waits"] for l in named) >= 10


def test_python_has_no_threads_gil_model():
    p, js = run_concscope(["run", "--model=threads-gil", "--lang=python"])
    assert p.returncode == 2
    assert "GIL" in p.stderr and js is None


def test_one_model_prints_its_heading():
    p, js = run_concscope(["run", "--model=async", "--work=io", "--tasks=8"])
    assert p.returncode == 0, p.stderr
    assert "async: 1 process x 1 thread, io work" in p.stdout
    assert len(js["models"]) == 1 and js["models"][0]["tasks"] == 8
