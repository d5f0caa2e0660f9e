"""Section 8. Call stacks (--stacks): overhead, BPF cost, bytes and the user side."""
import os
import re
import statistics

from benchlib import log, BenchError, summary, fmt_stat, run, parse_storm, STATS_GUARD


class Stacks:
    """Bench's section (a mixin: self is the Bench, see bench.py)."""

    # 8. call stacks (--stacks) -----------------------------------------

    S8_ROWS = [("8.overhead", "storm: concscope run --stacks / untraced"),
               ("8.bpf", "BPF ns per blocking switch, --stacks on vs off"),
               ("8.bytes", "Perfetto bytes per sched event with --stacks"),
               ("8.user", "user side: stacks handled per second on one CPU")]

    def s8_stacks(self):
        runs = 3 if self.quick else 7
        rounds = 20000 if self.quick else 100000
        storm = self.storm_cmd(["-n", str(rounds), "-c", "0"])
        variants = [("untraced", storm), ("cs", [self.cs, "run", "--quiet", "--"] + storm),
                    ("stacks", [self.cs, "run", "--quiet", "--stacks", "--"] + storm)]
        times = {v: [] for v, _ in variants}
        log("8. stacks: overhead, %d runs x 3 variants" % runs)
        for i in range(runs):
            for name, cmd in variants:
                rc, out, err = run(cmd, timeout=300)
                if rc != 0:
                    raise BenchError("8. %s failed (exit %d): %s" % (name, rc, err.strip()[-300:]))
                times[name].append(parse_storm(out, name)["us_per_rt"])
        base = statistics.median(times["untraced"])
        ratios = {n: summary([t / base for t in times[n]]) for n in times}
        off, on = ratios["cs"]["median"], ratios["stacks"]["median"]
        self.details["stacks_overhead_us_per_rt"] = times
        self.row("8.overhead", "storm: concscope run --stacks / untraced", ratios["stacks"], "ratio",
                 target="<= without (%.3f) + 0.05: on by default" % off,
                 status="PASS" if on <= off + 0.05 else "MISS",
                 note="without --stacks: %s; +%.3f" % (fmt_stat(ratios["cs"], "ratio"), on - off))
        self.s8_bpf(storm)
        self.s8_bytes_user(rounds)

    def s8_bpf(self, storm):
        runs = 2 if self.quick else 5
        seconds = 2.0 if self.quick else 4.0
        storm = self.storm_cmd(["-t", str(seconds), "-c", "0"])
        cs_re = re.compile(r"concscope: bpf ids: progs ([\d ]+?) links")
        per = {"off": [], "on": []}
        with STATS_GUARD:
            for i in range(runs):
                for name, extra in (("off", []), ("on", ["--stacks"])):
                    res = self.traced_with_ids([self.cs, "run", "--quiet", "-v"] + extra + ["--"] + storm,
                                               cs_re, seconds)
                    ns, cnt = res.get("cs_sched_switch", (0, 0))
                    if cnt:
                        per[name].append(ns / cnt)
        off, on = summary(per["off"]), summary(per["on"])
        self.details["stacks_bpf_ns_per_switch"] = per
        if off is None or on is None:
            raise BenchError("no sched_switch runs counted")
        # the storm's switches are (nearly) all blocking ones: each side blocks in read()
        self.row("8.bpf", "BPF ns per blocking switch, --stacks on vs off", on, "ns",
                 note="off %s; +%.0f ns: kernel stack, user unwinding (5 frames), dedup" % (
                     fmt_stat(off, "ns"), on["median"] - off["median"]))

    def s8_bytes_user(self, rounds):
        dump, pf = os.path.join(self.tmp, "stk.raw"), os.path.join(self.tmp, "stk.pftrace")
        r = self.cs_json_run(["-n", str(rounds), "-c", "0"],
                             extra=["--stacks", "--dump-raw", dump, "-o", pf])
        counts, _ = self.count_kinds(dump)
        sched = max(1, counts.get(1, 0) + counts.get(2, 0))
        stacks = counts.get(80, 0)
        v = os.path.getsize(pf) / sched
        self.row("8.bytes", "Perfetto bytes per sched event with --stacks", value=v, unit="B/ev",
                 note="%d bytes / %d switch+waking records; %d stacks (%d distinct), %d lost" % (
                     os.path.getsize(pf), sched, stacks, counts.get(81, 0), r["lost"]))
        rc, out, err = run([self.replay, "-c", "1", "-k", "20", dump], timeout=600)
        m = re.search(r"records=(\d+) .*events_per_s=([\d.]+)", out)
        if rc != 0 or not m:
            raise BenchError("replay failed (exit %d): %s" % (rc, err.strip()[-300:]))
        rate = float(m.group(2)) * stacks / max(1, int(m.group(1)))
        self.row("8.user", "user side: stacks handled per second on one CPU", value=rate, unit="/s",
                 target=">= 200k/s", status="PASS" if rate >= 2e5 else "MISS",
                 note="replay of the storm's --stacks dump through decode+reorder+core: every "
                      "capture summed under its stack (unwinding is in BPF; naming is per "
                      "distinct address, after the recording)")
