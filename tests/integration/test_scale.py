"""A summary that scales (#16): a run of many processes is shown by program, and the default
summary of a parallel build or of the whole system fits in 60 lines at 100 columns, while
--json keeps every thread and adds the groups, whose totals are their members' sums."""
import json
import os
import re
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, ROOT, bpf_unavailable

GOLDEN = os.path.join(ROOT, "tests", "golden")
MAX_LINES = 60  # the bound, at COLUMNS=100 (the summary itself aims at 50)
NUMBERS = ["running_ns", "ready_ns", "sleep_ns", "io_ns", "lock_ns", "untraced_ns",
           "voluntary_switches", "involuntary_switches", "migrations", "wakeups"]
NFILES = 24  # each compile is three processes (cc, cc1, as)
ENV = dict(os.environ, COLUMNS="100", NO_COLOR="1")


def summary_of(stdout, title):
    """concscope's lines: from its title on (a build's own output comes before it)."""
    lines = stdout.splitlines()
    start = [i for i, l in enumerate(lines) if l.startswith(title)]
    assert start, stdout
    return lines[start[-1]:]


def check_groups(js):
    """Every group's totals are the sums of its processes' (the JSON's own numbers)."""
    procs = js["processes"]
    groups = {g["comm"]: g for g in js["groups"]}
    assert sum(g["processes"] for g in js["groups"]) == len(procs)
    assert sum(g["threads"] for g in js["groups"]) == sum(len(p["threads"]) for p in procs)
    for comm, g in groups.items():
        members = [p for p in procs if p["comm"] == comm]
        assert len(members) == g["processes"]
        assert g["threads"] == sum(len(p["threads"]) for p in members)
        for k in NUMBERS:
            assert g["totals"][k] == sum(p["totals"][k] for p in members), (comm, k)
    for k in NUMBERS:
        assert sum(g["totals"][k] for g in js["groups"]) == js["totals"][k], k
    return groups


def check_grouped_view(lines, js):
    """The shape first, the programs that took most CPU time at the table's top."""
    text = "\n".join(lines)
    assert len(lines) <= MAX_LINES, "%d lines:\n%s" % (len(lines), text)
    shape = [l for l in lines if re.match(r"\d+ processes", l)]  # under the title (and warnings)
    assert shape and shape[0].startswith("%d processes (" % len(js["processes"])), text
    head = [i for i, l in enumerate(lines) if l.startswith("PROGRAM ")]
    assert head, text
    busiest = max(js["groups"], key=lambda g: (g["totals"]["running_ns"], g["comm"]))
    assert lines[head[0] + 1].split()[0] == busiest["comm"][:15]
    assert "threads running" in text and "\ntotal: parallelism" in text


def make_project(d):
    for i in range(NFILES):
        with open(os.path.join(d, "f%02d.c" % i), "w") as f:
            f.write("int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d;"
                    " return s; }\n" % (i, i + 1))
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write("int main(void) { return 0; }\n")
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("OBJS := $(patsubst %.c,%.o,$(wildcard *.c))\n"
                "prog: $(OBJS)\n\tcc -o $@ $^\n"
                "%.o: %.c\n\tcc -O1 -c -o $@ $<\n")


@pytest.mark.skipif(bpf_unavailable() is not None, reason=str(bpf_unavailable()))
def test_a_parallel_build_fits_and_report_shows_the_same():
    with tempfile.TemporaryDirectory() as d:
        make_project(d)
        js_path, trace = os.path.join(d, "out.json"), os.path.join(d, "out.pftrace")
        p = subprocess.run([CONCSCOPE, "run", "--quiet", "--color", "never", "--json", js_path,
                            "-o", trace, "--", "make", "-s", "-j2", "-C", d],
                           capture_output=True, text=True, timeout=300, env=ENV)
        assert p.returncode == 0, p.stderr
        with open(js_path) as f:
            js = json.load(f)
        assert len(js["processes"]) >= 3 * NFILES  # cc, cc1 and as for each file
        groups = check_groups(js)
        assert groups["cc1"]["processes"] == NFILES + 1
        lines = summary_of(p.stdout, "make: exited with status 0")
        check_grouped_view(lines, js)
        assert re.search(r"^  cc1 x%d +\|" % (NFILES + 1), "\n".join(lines), re.M)
        r = subprocess.run([CONCSCOPE, "report", trace, "--color", "never"],
                           capture_output=True, text=True, timeout=120, env=ENV)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == lines


@pytest.mark.skipif(bpf_unavailable() is not None, reason=str(bpf_unavailable()))
def test_the_whole_system_for_two_seconds_fits():
    with tempfile.TemporaryDirectory() as d:
        js_path = os.path.join(d, "out.json")
        p = subprocess.run([CONCSCOPE, "attach", "-a", "-d", "2", "--quiet", "--color", "never",
                            "--json", js_path], capture_output=True, text=True, timeout=120,
                           env=ENV)
        assert p.returncode == 0, p.stderr
        with open(js_path) as f:
            js = json.load(f)
    assert len(js["processes"]) > 50  # a system has many
    check_groups(js)
    check_grouped_view(summary_of(p.stdout, "every task"), js)


def report(trace, *args):
    p = subprocess.run([CONCSCOPE, "report", trace, "--color", "never", *args],
                       capture_output=True, text=True, timeout=120, env=ENV)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_top_shows_the_busiest_processes_in_full():
    if not os.path.exists(CONCSCOPE):
        pytest.skip("build/concscope is not built")
    trace = os.path.join(GOLDEN, "all.pftrace")
    with open(os.path.join(GOLDEN, "all.json")) as f:
        js = json.load(f)
    heads = lambda out: re.findall(r"^pid (\d+) ", out, re.M)
    everything = report(trace, "--top", "0")
    assert sorted(map(int, heads(everything))) == sorted(p["pid"] for p in js["processes"])
    by_cpu = sorted(js["processes"], key=lambda p: (-p["totals"]["running_ns"], p["pid"]))
    three = report(trace, "--top", "3")
    assert list(map(int, heads(three))) == [p["pid"] for p in by_cpu[:3]]
    assert "  ... %d more processes not shown in full" % (len(by_cpu) - 3) in three
    # a few processes keep their view; --top narrows it too
    run = report(os.path.join(GOLDEN, "models.pftrace"), "--top", "1")
    assert "PROGRAM " not in run
