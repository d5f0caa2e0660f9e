"""Call stacks (--stacks): where threads block and wait, unwound without frame pointers."""
import json
import os
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, TRACE_PROCESSOR, prog, redis_server, run_concscope, threads_of, \
    tp_query

pytestmark = pytest.mark.usefixtures("needs_bpf")


def frames(js, index):
    return [f["name"] for f in js["stacks"][index]["frames"]]


def blocked_ns(js):
    return sum(t["sleep_ns"] + t["io_ns"] + t["lock_ns"] for t in threads_of(js).values())


def folded_lines(path):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    out = []
    for l in lines:
        stack, us = l.rsplit(" ", 1)
        out.append((stack.split(";"), int(us)))
    return out


def test_mutex_waits_are_at_the_programs_own_function_and_its_caller():
    # stackhot is built -O2 -fomit-frame-pointer: only .eh_frame can unwind it. Its frames
    # are named from its mappings, read while it lives: the sanitizer build's stackhot
    # (clang) ran 3 x 300 in 44 ms, over before concscope read them (gcc's: 0.4 s); 3 x 1500
    # runs about 0.2 s there and 1.4 s here
    with tempfile.TemporaryDirectory() as d:
        folded = os.path.join(d, "f.txt")
        p, js = run_concscope(["run", "--stacks", "--folded", folded, "--",
                               prog("stackhot"), "3", "1500"])
        assert p.returncode == 0, p.stderr
        hot = [l for l in js["locks"] if l["symbol"] == "hot_lock"][0]
        assert hot["waits"] >= 50
        at = {}
        for w in hot["waiters_at"]:
            names = frames(js, w["stack"])
            at[tuple(names)] = at.get(tuple(names), 0) + w["ns"]
        # most of the lock's wait time is at take_hot, called by contend_loop
        good = sum(ns for names, ns in at.items()
                   if "take_hot" in names and "contend_loop" in names and
                   names.index("contend_loop") == names.index("take_hot") + 1)
        assert good >= 0.8 * hot["wait_ns"], at
        # ... under the thread's start, through libc (no frame pointers there either)
        full = [n for n in at if "take_hot" in n]
        assert any("worker" in n for n in full), full
        assert "take_hot" in p.stdout.split("contended locks", 1)[1]
        assert "blocked at:" in p.stdout
        lines = folded_lines(folded)
    # the folded total is the JSON's blocked time (rounded once, to microseconds)
    assert sum(us for _, us in lines) == (blocked_ns(js) + 500) // 1000
    assert all(stack[0] == "stackhot" for stack, _ in lines)
    assert any(stack[-1] == "__schedule_[k]" for stack, _ in lines)
    for t in threads_of(js).values():
        assert sum(b["ns"] for b in t["blocked_at"]) == t["sleep_ns"] + t["io_ns"] + t["lock_ns"]


def test_without_stacks_nothing_changes():
    p, js = run_concscope(["run", "--", prog("stackhot"), "2", "50"])
    assert p.returncode == 0, p.stderr
    assert "stacks" not in js and "blocked at:" not in p.stdout
    assert all("blocked_at" not in t for t in threads_of(js).values())
    q = subprocess.run([CONCSCOPE, "run", "--folded", "/tmp/x", "--", "true"],
                       capture_output=True, text=True)
    assert q.returncode == 2 and "--stacks" in q.stderr


def test_report_shows_the_same_stacks():
    with tempfile.TemporaryDirectory() as d:
        trace, f1, f2, j2 = (os.path.join(d, n) for n in ("t.pftrace", "f1", "f2", "r.json"))
        p, js = run_concscope(["run", "--stacks", "-o", trace, "--folded", f1, "--",
                               prog("stackhot"), "2", "200"])
        assert p.returncode == 0, p.stderr
        r = subprocess.run([CONCSCOPE, "report", trace, "--json", j2, "--folded", f2],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        with open(j2) as f:
            rj = json.load(f)
        assert rj["stacks"] == js["stacks"]
        assert open(f1).read() == open(f2).read()


def test_attach_to_redis_shows_where_it_blocks():
    port = 6490 + os.getpid() % 100
    with redis_server(port) as srv:
        load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-n", "200000", "-c", "10", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            p, js = run_concscope(["attach", "-p", str(srv.pid), "-d", "2", "--stacks"])
        finally:
            load.kill()
            load.wait()
    assert p.returncode == 0, p.stderr
    main = [t for t in threads_of(js).values() if t["comm"] == "redis-server"][0]
    top = max(main["blocked_at"], key=lambda b: b["ns"])
    names = frames(js, top["stack"])
    # redis's event loop waits in epoll_wait, under aeMain (exported) and main
    assert "aeMain" in names and "main" in names, names
    assert "aeMain" in p.stdout


STACKS_SQL = """
with recursive waits as (
  select s.id wait_id, s.name lock_name, t.callsite_id
  from slice s
  join slice i on i.track_id = s.track_id and i.ts = s.ts and i.dur = 0
    and i.name in ('blocked', 'lock wait')
  join __intrinsic_track_event_callstacks t on t.slice_id = i.id
  where s.dur != 0),
frames(wait_id, lock_name, callsite_id, depth, name) as (
  select w.wait_id, w.lock_name, c.parent_id, c.depth, f.name
  from waits w join stack_profile_callsite c on c.id = w.callsite_id
  join stack_profile_frame f on f.id = c.frame_id
  union all
  select fr.wait_id, fr.lock_name, c.parent_id, c.depth, f.name
  from frames fr join stack_profile_callsite c on c.id = fr.callsite_id
  join stack_profile_frame f on f.id = c.frame_id)
select lock_name, group_concat(name, ';') stack
from (select * from frames order by wait_id, depth) group by wait_id;
"""
# the stacks of the threads' switch-outs, heaviest first
BLOCKED_SQL = STACKS_SQL.split("select lock_name,")[0].replace("where s.dur != 0", "where 1") \
    .replace("from slice s\n  join slice i on i.track_id = s.track_id and i.ts = s.ts and i.dur = 0\n"
             "    and i.name in ('blocked', 'lock wait')", "from slice s join slice i on i.id = s.id") + """
select group_concat(name, ';') stack from (select * from frames order by wait_id, depth)
group by wait_id;
"""


@pytest.mark.skipif(not TRACE_PROCESSOR, reason="set TRACE_PROCESSOR to a trace_processor_shell "
                    "to check the trace with Perfetto's own importer")
def test_perfetto_shows_the_stack_of_a_lock_wait():
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "t.pftrace")
        p, js = run_concscope(["run", "--stacks", "-o", trace, "--", prog("stackhot"), "3",
                               "1500"])  # long enough to be named (see above)
        assert p.returncode == 0, p.stderr
        out = tp_query(trace, STACKS_SQL)
        # the lock-wait slices of hot_lock, joined to their stacks on thread and time
        rows = [l for l in out.splitlines() if l.startswith('"hot_lock"')]
        assert rows, out
        assert all("__schedule" in r and "bpf_prog" not in r for r in rows), rows[:3]
        rows = tp_query(trace, BLOCKED_SQL).splitlines()
        # every switch-out's stack: the waits at take_hot under contend_loop among them
        assert sum("contend_loop;take_hot;" in r for r in rows) >= 20, rows[:5]
