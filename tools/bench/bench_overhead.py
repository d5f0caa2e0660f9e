"""Section 1. Overhead on a context-switch storm: untraced, bare, concscope (with and without -o), perf."""
import os
import statistics

from benchlib import (PERF, T_OVERHEAD_ABS, T_OVERHEAD_VS_BARE, log, BenchError, summary, run,
                      parse_storm)


class Overhead:
    """Bench's section (a mixin: self is the Bench, see bench.py)."""

    # 1. overhead -------------------------------------------------------

    S1_ROWS = [("1.untraced", "storm untraced, us per round trip"),
               ("1.bare", "bare recorder / untraced"),
               ("1.cs", "concscope run / untraced"),
               ("1.cs_o", "concscope run -o / untraced"),
               ("1.cs_nolocks", "concscope run --no-locks / untraced (diagnostic)"),
               ("1.perf", "perf sched record / untraced")]

    def s1_overhead(self):
        runs = 3 if self.quick else 7
        rounds = 20000 if self.quick else 100000
        storm = self.storm_cmd(["-n", str(rounds), "-c", "0"])
        have_o = self.check_o()
        have_perf = os.access(PERF, os.X_OK)
        pf = os.path.join(self.tmp, "s1.pftrace")
        perf_out = os.path.join(self.tmp, "s1.perf.data")
        variants = [("untraced", lambda: storm),
                    ("bare", lambda: [self.bare, "--"] + storm),
                    ("cs", lambda: [self.cs, "run", "--quiet", "--"] + storm),
                    ("cs_nolocks", lambda: [self.cs, "run", "--quiet", "--no-locks", "--"] + storm)]
        if have_o:
            variants.append(("cs_o", lambda: [self.cs, "run", "--quiet", "-o", pf, "--"] + storm))
        if have_perf:
            variants.append(("perf", lambda: [PERF, "sched", "record", "-o", perf_out, "--"] + storm))
        times = {v: [] for v, _ in variants}
        log("1. overhead: %d runs x %d variants, %d round trips each" % (runs, len(variants), rounds))
        for i in range(runs):
            for name, cmd in variants:
                rc, out, err = run(cmd(), timeout=300)
                if rc != 0:
                    raise BenchError("1. %s failed (exit %d): %s" % (name, rc, err.strip()[-300:]))
                times[name].append(parse_storm(out, name)["us_per_rt"])
                for f in (pf, perf_out):
                    if os.path.exists(f):
                        os.unlink(f)
        base = statistics.median(times["untraced"])
        self.details["overhead_us_per_rt"] = times
        self.row("1.untraced", "storm untraced, us per round trip", summary(times["untraced"]),
                 "us", note="pinned to CPU 0; 2 switches + 1-2 wake-ups per round trip")
        ratios = {n: summary([t / base for t in times[n]]) for n in times}
        bare = ratios["bare"]["median"]
        self.row("1.bare", "bare recorder / untraced", ratios["bare"], "ratio",
                 note="reference: 2 tp_btf programs, 24-byte records")
        for rid, label in (("cs", "concscope run / untraced"), ("cs_o", "concscope run -o / untraced")):
            # "<= 1.10 where the bare recorder allows it": not when the bare one is above it
            target = "<= bare+%.2f (%.3f)%s" % (T_OVERHEAD_VS_BARE, bare + T_OVERHEAD_VS_BARE,
                                                 " and <= %.2f" % T_OVERHEAD_ABS
                                                 if bare <= T_OVERHEAD_ABS else "")
            if rid not in ratios:
                self.row("1." + rid, label, target=target, status="n/a",
                         note="n/a (no -o yet: %s)" % self.o_why)
                continue
            m = ratios[rid]["median"]
            ok = m <= bare + T_OVERHEAD_VS_BARE and (m <= T_OVERHEAD_ABS or bare > T_OVERHEAD_ABS)
            self.row("1." + rid, label, ratios[rid], "ratio", target=target,
                     status="PASS" if ok else "MISS",
                     note="" if rid == "cs_o" else "(the target is for -o; shown for reference)")
        self.row("1.cs_nolocks", "concscope run --no-locks / untraced (diagnostic)", ratios["cs_nolocks"],
                 "ratio", note="without lock contention and futex-wait tracing")
        if "perf" in ratios:
            self.row("1.perf", "perf sched record / untraced", ratios["perf"], "ratio",
                     note="perf 6.1, system-wide, to a file")
        else:
            self.row("1.perf", "perf sched record / untraced", status="n/a",
                     note="n/a (no %s)" % PERF)
