#!/usr/bin/python3
"""concscope's figures beside Perfetto's, thread by thread, for one trace.

    export TRACE_PROCESSOR=../shared/perfetto/trace_processor_shell
    tools/perfetto_table.py [--sql] [--attach] TRACE.pftrace SUMMARY.json

TRACE and SUMMARY are one recording's -o and --json. The trace is imported with
Perfetto's trace processor (the importer ui.perfetto.dev runs) and read with the SQL
of tests/integration/test_perfetto_tp.py (printed with --sql); each thread's time in
each state inside the recording window is shown as concscope counted it and as
Perfetto's thread_state table has it, in ms. A thread whose figures differ by more
than max(0.5%, 0.5 ms) is marked '!'.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import test_perfetto_tp as tp  # noqa: E402  (the test's own SQL and arithmetic)

COLS = [("Running", "running_ns", lambda a: a["Running"]),
        ("ready", "ready_ns", lambda a: a["R"] + a["R+"]),
        ("S", None, lambda a: a["S"]), ("D", None, lambda a: a["D"]),
        ("untraced", "untraced_ns", lambda a: a["untraced"])]


def ours(t, key, name):
    return t[key] if key else t["blocked_ns_by_state"].get(name, 0)


def table(trace, js, attach=False):
    imp = tp.Imported(trace)
    print(f"error stats: {len(imp.errors)}; windows: {len(imp.windows)}")
    head = " ".join(f"{n:>19}" for n, _, _ in COLS)
    print(f"{'model':<12} {'tid':>7} {'comm':<15} {head}")
    print(f"{'':<36}" + " ".join(f"{'ours / Perfetto':>19}" for _ in COLS))
    for seg, (wb, we) in zip(tp.segments(js), imp.windows):
        for p in seg["processes"]:
            for t in p["threads"]:
                acc, _, first = imp.thread(p["pid"], t["tid"], wb, we)
                if first is None:
                    continue
                cells = []
                for name, key, theirs in COLS:
                    cells.append(f"{ours(t, key, name) / 1e6:9.2f}/{theirs(acc) / 1e6:9.2f}")
                off = "!" if tp.compare(t, acc, wb, first, attach) else " "
                print(f"{seg.get('model', '')[:12]:<12} {t['tid']:>7} {t['comm'][:15]:<15} "
                      + " ".join(f"{c:>19}" for c in cells) + f" {off}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--sql" in sys.argv:
        for q in (tp.WINDOWS, tp.STATES, tp.UNTRACED, tp.ERRORS):
            print(q.strip() + ";\n")
    if len(args) != 2:
        sys.exit(__doc__.strip())
    if tp.tp_unavailable():
        sys.exit("perfetto_table: " + tp.tp_unavailable())
    with open(args[1]) as f:
        js = json.load(f)
    table(args[0], js, attach="--attach" in sys.argv)


if __name__ == "__main__":
    main()
