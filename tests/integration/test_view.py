"""The summary's filters, order and CSV: --pid, --tid, --comm and --sort narrow and order what
the terminal shows; --json and --csv always hold every thread."""
import csv
import json
import os
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, ROOT, bpf_unavailable, prog, threads_of

GOLDEN = os.path.join(ROOT, "tests", "golden")
NUMBERS = ["running_ns", "ready_ns", "sleep_ns", "io_ns", "lock_ns", "untraced_ns",
           "voluntary_switches", "involuntary_switches", "migrations", "wakeups"]


def report(trace, *args):
    with tempfile.TemporaryDirectory() as d:
        js, cv = os.path.join(d, "o.json"), os.path.join(d, "o.csv")
        p = subprocess.run([CONCSCOPE, "report", trace, "--color", "never", "--json", js,
                            "--csv", cv, *args], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, COLUMNS="100"))
        assert p.returncode == 0, p.stderr
        with open(js) as f, open(cv, newline="") as g:
            return p.stdout, json.load(f), list(csv.DictReader(g))


def table_tids(out):
    """The tids of the thread rows of the table, in order."""
    rows = out.split("    TID COMM", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [int(r.split()[0]) for r in rows if r.split() and r.split()[0].isdigit()]


def test_csv_has_every_thread_with_the_json_numbers():
    if not os.path.exists(CONCSCOPE):
        pytest.skip("build/concscope is not built")
    out, js, rows = report(os.path.join(GOLDEN, "all.pftrace"), "--comm", "bash")
    threads = threads_of(js)
    assert len(rows) == len(threads) > 50  # the filter narrowed the view only
    for r in rows:
        t = threads[int(r["tid"])]
        assert r["comm"] == t["comm"]
        assert all(int(r[k]) == t[k] for k in NUMBERS), (r, t)
    assert list(rows[0])[:4] == ["pid", "tid", "comm", "title"]
    assert "showing 4 of %d threads (--comm)" % len(threads) in out


def test_filters_and_sort_on_a_saved_trace():
    if not os.path.exists(CONCSCOPE):
        pytest.skip("build/concscope is not built")
    trace = os.path.join(GOLDEN, "run.pftrace")
    out, js, _ = report(trace)
    threads = threads_of(js)
    assert table_tids(out) == sorted(threads)  # by tid, as always
    out, _, _ = report(trace, "--sort", "cpu")
    by_cpu = sorted(threads, key=lambda t: (-threads[t]["running_ns"], t))
    assert table_tids(out) == by_cpu
    out, _, _ = report(trace, "--sort", "switches")
    by_sw = sorted(threads, key=lambda t: (-(threads[t]["voluntary_switches"] +
                                             threads[t]["involuntary_switches"]), t))
    assert table_tids(out) == by_sw
    one = by_cpu[0]
    out, _, _ = report(trace, "--tid", str(one))
    assert table_tids(out) == [one]
    out, js2, _ = report(trace, "--pid", "1")
    assert "showing 0 of" in out and "timeline" not in out and js2 == js


def test_run_with_filters_and_csv():
    if bpf_unavailable():
        pytest.skip(bpf_unavailable())
    with tempfile.TemporaryDirectory() as d:
        js, cv = os.path.join(d, "o.json"), os.path.join(d, "o.csv")
        p = subprocess.run([CONCSCOPE, "run", "--quiet", "--color", "never", "--json", js,
                            "--csv", cv, "--sort", "cpu", "--comm", "proctitle", "--", "sh",
                            "-c", f"{prog('proctitle')} 2 0.3 & {prog('sleeper')} 3 10; wait"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        with open(js) as f:
            threads = threads_of(json.load(f))
        with open(cv, newline="") as f:
            rows = list(csv.DictReader(f))
    comms = {t["comm"] for t in threads.values()}
    assert {"sh", "sleeper", "proctitle"} <= comms
    assert len(rows) == len(threads)
    assert sorted(r["title"] for r in rows if r["title"]) == ["proctitle: worker 1",
                                                             "proctitle: worker 2"]
    assert "(pid" in p.stdout and "sleeper (pid" not in p.stdout and "sh (pid" not in p.stdout
    assert "showing 3 of %d threads (--comm)" % len(threads) in p.stdout


@pytest.mark.parametrize("args,words", [
    (["--sort", "fastest"], "--sort"),
    (["--pid", "12,x"], "--pid"),
    (["--comm", ""], "--comm"),
    (["--csv", "/no/such/dir/t.csv"], "does not exist"),
])
def test_bad_view_options(args, words):
    p = subprocess.run([CONCSCOPE, "report", os.path.join(GOLDEN, "run.pftrace"), *args],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and words in lines[0] and p.stdout == ""
