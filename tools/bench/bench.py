#!/usr/bin/python3
"""concscope's benchmark suite (issue #6).

    make bench          full run, about 4-5 minutes (as root)
    make bench-quick    CI run, under 2 minutes: checks that every row is
                        produced, never fails on a target

or directly, after `make bench-build` (see tools/bench/bench.mk):

    /usr/bin/python3 tools/bench/bench.py [--quick] [--json FILE]

What is measured (numbers in the table are "median [min..max]" of several
runs; variants run alternately, A B C A B C ..., so drift hits them alike):

 1. Overhead on a context-switch storm (tools/bench/storm.c: two processes
    ping-ponging a byte through two pipes, pinned to CPU 0): the storm's own
    microseconds per round trip untraced, and as a ratio to the untraced
    median of the same run under the bare reference recorder
    (tools/bench/bare.bpf.c), `concscope run --quiet`, `concscope run -o`,
    and `perf sched record`.
 2. BPF cost per event (kernel.bpf_stats_enabled=1 during that section, the
    old value restored after, also on error or Ctrl-C): run_time_ns/run_cnt
    of each program, found by the IDs the process prints with -v, sampled
    twice while the storm runs.
 3. Event rate without loss: storms at increasing rates under concscope's
    default settings; events/s and lost_events from --json. A run with a
    tiny --buffer-size shows that losses happen and are counted.
 4. User-side throughput: tools/bench/replay.c feeds a raw dump (--dump-raw)
    through decode, reorder and the core (and the Perfetto writer, when
    it builds) on one CPU.
 5. Bytes per scheduler event in the Perfetto file.
 6. Peak and steady RSS of concscope over a long storm recording.
 7. Start-up: from launch to the "ready" line on --ready-fd.
 8. Call stacks (--stacks): the storm's overhead, BPF cost, bytes per event
    and the user side's rate with them.

The code: this file runs the sections and prints the table; benchlib.py
holds what they share (running children, statistics, formatting, the BPF
statistics switch); each section is a mixin of Bench in a module of its
own: bench_overhead.py (1), bench_bpf.py (2), bench_rate.py (3),
bench_replay.py (4 and 5), bench_rss.py (6), bench_startup.py (7),
bench_stacks.py (8).

The targets are printed next to the measurements as PASS/MISS; they never
make the run fail. The exit status is non-zero only when a row could not be
produced. The machine is shared: the load seen before and after is printed
with the table, to read the numbers against.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import (ROOT, log, BenchError, summary, fmt_num, fmt_stat, CHILDREN, run, cpu_hogs,
                      loadavg, STATS_GUARD)
from bench_overhead import Overhead
from bench_bpf import BpfCost
from bench_rate import Rate
from bench_replay import Replay
from bench_rss import Rss
from bench_startup import Startup
from bench_stacks import Stacks


class Bench(Overhead, BpfCost, Rate, Replay, Rss, Startup, Stacks):
    """The suite: shared state and rows here, one mixin per section (bench_*.py)."""

    def __init__(self, args):
        self.a = args
        self.quick = args.quick
        b = os.path.abspath(args.build)
        self.cs = os.path.join(b, "concscope")
        self.storm = os.path.join(b, "bench", "storm")
        self.bare = os.path.join(b, "bench", "bare")
        self.replay = os.path.join(b, "bench", "replay")
        self.replay_pf = os.path.join(b, "bench", "replay-pf")
        self.rtpingpong = os.path.join(b, "tests", "progs", "rtpingpong")
        self.tmp = tempfile.mkdtemp(prefix="concscope-bench.")
        self.rows = []
        self.details = {}
        self.have_o = None
        self.dump = None

    # Rows --------------------------------------------------------------

    def row(self, rid, name, stat=None, unit="", target="", status="", note="", value=None):
        r = {"id": rid, "name": name, "unit": unit, "target": target, "status": status,
             "note": note}
        if stat is not None:
            r.update({k: stat[k] for k in ("median", "min", "max", "n")})
            r["values"] = stat["values"]
            r["text"] = fmt_stat(stat, unit)
        elif value is not None:
            r["median"] = value
            r["text"] = fmt_num(value, unit) if not isinstance(value, str) else value
        else:
            r["text"] = note or "-"
        self.rows.append(r)
        return r

    def missing(self, ids, why):
        for rid, name in ids:
            if not any(r["id"] == rid for r in self.rows):
                self.rows.append({"id": rid, "name": name, "status": "MISSING", "text": "-",
                                  "note": why, "unit": "", "target": ""})

    # Shared pieces -----------------------------------------------------

    def storm_cmd(self, extra):
        return [self.storm] + extra

    def check_o(self):
        if self.have_o is None:
            out = os.path.join(self.tmp, "probe.pftrace")
            rc, _, err = run([self.cs, "run", "--quiet", "-o", out, "--", "true"], timeout=60)
            self.have_o = rc == 0 and os.path.exists(out)
            self.o_why = "" if self.have_o else (err.strip().splitlines() or ["failed"])[-1]
            log("concscope -o: %s" % ("available" if self.have_o else
                                       "not available (%s)" % self.o_why))
        return self.have_o


    # Driver -------------------------------------------------------------

    SECTIONS = [("1", "s1_overhead", Overhead.S1_ROWS), ("2", "s2_bpf_cost", BpfCost.S2_ROWS),
                ("3", "s3_rate", Rate.S3_ROWS), ("4", "s4_replay", Replay.S4_ROWS),
                ("5", "s5_bytes", Replay.S5_ROWS), ("6", "s6_rss", Rss.S6_ROWS),
                ("7", "s7_startup", Startup.S7_ROWS), ("8", "s8_stacks", Stacks.S8_ROWS)]

    def run_all(self):
        only = set(self.a.only.split(",")) if self.a.only else None
        for num, method, rows in self.SECTIONS:
            if only and num not in only:
                continue
            t0 = time.monotonic()
            try:
                getattr(self, method)()
            except BenchError as e:
                log("section %s: %s" % (num, e))
                self.missing(rows, str(e))
            except (OSError, ValueError, KeyError, json.JSONDecodeError, subprocess.SubprocessError) as e:
                log("section %s: %s: %s" % (num, type(e).__name__, e))
                self.missing(rows, "%s: %s" % (type(e).__name__, e))
            self.missing(rows, "not produced")
            log("section %s done in %.0f s" % (num, time.monotonic() - t0))

    def print_table(self, env, f=sys.stdout):
        print("", file=f)
        print("concscope benchmark (%s mode) on %s, %d CPUs, kernel %s" % (
            "quick" if self.quick else "full", env["host"], env["ncpus"], env["kernel"]), file=f)
        print("load average before: %s, after: %s" % (env["load_before"], env["load_after"]), file=f)
        for when in ("before", "after"):
            hogs = env["cpu_hogs_" + when]
            if hogs:
                print("other CPU users %s: %s" % (when, ", ".join(
                    "%s (pid %d) %d%%" % (h["comm"], h["pid"], h["cpu_pct"]) for h in hogs)), file=f)
        if any(env["cpu_hogs_" + w] for w in ("before", "after")):
            print("NOTE: the machine was shared; timings carry that noise.", file=f)
        d = self.details
        if "rate_levels" in d:
            print("\nevent rate by storm level (concscope, default settings; offered = recorded + lost):",
                  file=f)
            for t in d["rate_levels"]:
                print("  %-14s recorded %-30s offered %-30s lost %d of %d" % (
                    t["level"], fmt_stat(t["rate"], "/s"), fmt_stat(t["offered"], "/s"),
                    t["lost"], t["events"] + t["lost"]), file=f)
        if "bpf_ns_per_run" in d:
            print("\nBPF ns per run by program (median over runs; run_cnt > 0 only):", file=f)
            per = d["bpf_ns_per_run"]
            for side in ("bare", "cs"):
                for prog, vals in sorted(per[side].items()):
                    print("  %-6s %-24s %s" % (side, prog, fmt_stat(summary(vals), "ns")), file=f)
        print("", file=f)
        w1 = max(len(r["name"]) for r in self.rows) if self.rows else 20
        w2 = max([len(r["text"]) for r in self.rows if len(r["text"]) < 60] + [10])
        hdr = "%-11s %-*s  %-*s  %-28s %s" % ("row", w1, "measurement", w2, "median [min..max]",
                                              "target", "result")
        print(hdr, file=f)
        print("-" * len(hdr), file=f)
        for r in self.rows:
            text = r["text"]
            line = "%-11s %-*s  %-*s  %-28s %s" % (r["id"], w1, r["name"], w2,
                                                   text if len(text) < 60 else "(below)",
                                                   r.get("target", ""), r.get("status", ""))
            print(line.rstrip(), file=f)
            if len(text) >= 60:
                print("%-11s   %s" % ("", text), file=f)
            if r.get("note") and r["note"] != text:
                print("%-11s   %s" % ("", r["note"]), file=f)
        print("", file=f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI mode: short runs, checks rows only")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory")
    ap.add_argument("--only", metavar="N,N", help="only these sections (1-8)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("bench: needs root (BPF, perf, sysctl)", file=sys.stderr)
        return 2
    b = Bench(args)
    for path in (b.cs, b.storm, b.bare, b.replay):
        if not os.access(path, os.X_OK):
            print("bench: %s is not built (make bench-build)" % path, file=sys.stderr)
            return 2

    def on_term(sig, frame):
        raise KeyboardInterrupt()

    # also SIGINT: a shell starts background jobs with it ignored
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_term)
    env = {"host": os.uname().nodename, "kernel": os.uname().release, "ncpus": os.cpu_count(),
           "mode": "quick" if args.quick else "full", "load_before": loadavg()}
    env["cpu_hogs_before"] = cpu_hogs()
    t0 = time.monotonic()
    try:
        b.run_all()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        CHILDREN.stop_all()
        STATS_GUARD.restore()
        if not args.keep:
            shutil.rmtree(b.tmp, ignore_errors=True)
        else:
            log("kept %s" % b.tmp)
    env["cpu_hogs_after"] = cpu_hogs()
    env["load_after"] = loadavg()
    env["seconds"] = round(time.monotonic() - t0, 1)
    b.print_table(env)
    produced = [r for r in b.rows if r["status"] != "MISSING"]
    missing = [r for r in b.rows if r["status"] == "MISSING"]
    targets = [r for r in b.rows if r["status"] in ("PASS", "MISS")]
    if not args.quick:
        print("targets: %d PASS, %d MISS (targets are reported, never enforced); %.0f s" % (
            sum(r["status"] == "PASS" for r in targets), sum(r["status"] == "MISS" for r in targets),
            env["seconds"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"env": env, "rows": b.rows, "details": b.details}, f, indent=1)
            f.write("\n")
    for r in missing:
        print("missing row %s (%s): %s" % (r["id"], r["name"], r["note"]))
    print("%d passed, %d failed" % (len(produced), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
