"""Section 3. The highest event rate with no loss, what is lost above it, real-time overload."""
import json
import os
import signal
import subprocess
import time

from benchlib import log, BenchError, summary, fmt_num, CHILDREN, run, parse_storm
from kcounters import stopped_counters


class Rate:
    """Bench's section (a mixin: self is the Bench, see bench.py)."""

    # 3. event rate without loss ----------------------------------------

    S3_ROWS = [("3.storm_lost", "lost events at the storm's rate (1 pair pinned)"),
               ("3.max_rate", "highest event rate with 0 lost (default settings)"),
               ("3.above", "what is lost above it"),
               ("3.fifo", "SCHED_FIFO overload: 2 real-time pairs, one per CPU"),
               ("3.fifo_exact", "... per-thread totals against the kernel's counters"),
               ("3.prio", "the same, the reader at nice -10 instead of SCHED_FIFO (diagnostic)"),
               ("3.tiny", "tiny --buffer-size: losses happen and are counted")]

    def cs_json_run(self, storm_args, extra=(), timeout=300, nice=0):
        """concscope run --json on the storm. With nice=N concscope runs at
        nice -N and the storm (nice +N from there) at 0, as before."""
        j = os.path.join(self.tmp, "rate.json")
        if os.path.exists(j):
            os.unlink(j)
        pre, spre = ([], []) if not nice else (["nice", "-n", str(-nice)], ["nice", "-n", str(nice)])
        cmd = pre + [self.cs, "run", "--quiet", "--json", j] + list(extra) + ["--"] + spre + \
            self.storm_cmd(storm_args)
        rc, out, err = run(cmd, timeout=timeout)
        if rc != 0:
            raise BenchError("concscope failed (exit %d): %s" % (rc, err.strip()[-300:]))
        with open(j) as f:
            d = json.load(f)
        st = parse_storm(out, "storm")
        dur = d["duration_ns"] / 1e9
        return {"events": d["events"], "lost": d["lost_events"], "duration_s": dur,
                "rate": d["events"] / dur if dur > 0 else 0,
                "offered": (d["events"] + d["lost_events"]) / dur if dur > 0 else 0,
                "storm_rt_per_s": st["rt_per_s"]}

    def fifo_run(self, seconds, env=None):
        """rtpingpong: 2 SCHED_FIFO (priority 1) pairs, one per CPU, traced for `seconds`
        with the window bracketed by SIGSTOP, so the kernel's counters read while it is
        stopped cover exactly the window; then the totals against them."""
        j = os.path.join(self.tmp, "fifo.json")
        if os.path.exists(j):
            os.unlink(j)
        load = CHILDREN.popen([self.rtpingpong, "2", str(seconds + 30), "1"],
                              stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while len(os.listdir("/proc/%d/task" % load.pid)) < 5:
                if time.monotonic() > deadline:
                    raise BenchError("rtpingpong did not start its threads")
                time.sleep(0.01)
            before = stopped_counters(load.pid)
            r, w = os.pipe()
            tr = CHILDREN.popen([self.cs, "attach", "-p", str(load.pid), "--quiet", "--ready-fd",
                                 str(w), "--json", j], pass_fds=(w,), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            os.close(w)
            os.read(r, 16)
            os.close(r)
            os.kill(load.pid, signal.SIGCONT)
            time.sleep(seconds)
            after = stopped_counters(load.pid)
            tr.send_signal(signal.SIGINT)
            tr.communicate(timeout=60)
            CHILDREN.done(tr)
        finally:
            os.kill(load.pid, signal.SIGKILL)
            load.wait()
            CHILDREN.done(load)
        with open(j) as f:
            d = json.load(f)
        threads = {t["tid"]: t for p in d["processes"] for t in p["threads"]}
        worst_sw = worst_cpu = 0.0
        for tid, a in after.items():
            b, t = before[tid], threads.get(tid)
            if not t or a["run_ns"] - b["run_ns"] < 1e6:
                continue
            worst_sw = max(worst_sw, abs(t["voluntary_switches"] - (a["nvcsw"] - b["nvcsw"])),
                           abs(t["involuntary_switches"] - (a["nivcsw"] - b["nivcsw"])))
            k = a["run_ns"] - b["run_ns"]
            worst_cpu = max(worst_cpu, max(0.0, abs(t.get("cpu_time_ns", 0) - k) - 50e3) / k)
        return {"events": d["events"], "lost": d["lost_events"], "worst_switches": worst_sw,
                "worst_cpu": worst_cpu}

    def s3_fifo(self, runs, seconds):
        log("3. SCHED_FIFO overload: %d runs x %.0f s, and the reader at nice -10" % (runs, seconds))
        fifo, nice = [], []
        for i in range(runs):
            fifo.append(self.fifo_run(seconds))
            nice.append(self.fifo_run(seconds, env=dict(os.environ, CONCSCOPE_READER="nice")))
        self.details["fifo_overload"] = {"fifo": fifo, "nice": nice}
        for rid, name, rs in (("3.fifo", "SCHED_FIFO overload: 2 real-time pairs, one per CPU", fifo),
                              ("3.prio", "the same, the reader at nice -10 instead of SCHED_FIFO "
                                         "(diagnostic)", nice)):
            lost = sum(r["lost"] for r in rs)
            offered = lost + sum(r["events"] for r in rs)
            share = lost / max(1, offered)
            self.row(rid, name, value="%.3f%% lost" % (100 * share),
                     target="<= 0.1%" if rid == "3.fifo" else "",
                     status=("PASS" if share <= 0.001 else "MISS") if rid == "3.fifo" else "",
                     note="%d of %d events offered lost in %d runs, %d recorded" % (
                         lost, offered, len(rs), offered - lost))
        sw = max(r["worst_switches"] for r in fifo + nice)
        cpu = max(r["worst_cpu"] for r in fifo + nice)
        ok = sw <= 1 and cpu <= 0.005
        self.row("3.fifo_exact", "... per-thread totals against the kernel's counters",
                 value="switches within %d, CPU time within %.3f%%" % (sw, 100 * cpu),
                 target="switches within 1, CPU time within 0.5% (50 us floor)",
                 status="PASS" if ok else "MISS",
                 note="every run, both reader priorities (the totals are kept in the kernel)")

    def s3_rate(self):
        if self.quick:
            levels = [("1 pair pinned", ["-p", "1", "-c", "0"]), ("4 pairs", ["-p", "4", "-u"]),
                      ("16 pairs", ["-p", "16", "-u"])]
            runs, seconds = 1, 1.5
        else:
            levels = [("1 pair pinned", ["-p", "1", "-c", "0"]), ("1 pair", ["-p", "1", "-u"]),
                      ("2 pairs", ["-p", "2", "-u"]), ("4 pairs", ["-p", "4", "-u"]),
                      ("8 pairs", ["-p", "8", "-u"]), ("16 pairs", ["-p", "16", "-u"]),
                      ("64 pairs", ["-p", "64", "-u"])]
            runs, seconds = 3, 3.0
        log("3. event rate: %d levels x %d runs, %.1f s each" % (len(levels), runs, seconds))
        res = {name: [] for name, _ in levels}
        for i in range(runs):
            for name, args in levels:
                res[name].append(self.cs_json_run(args + ["-t", str(seconds)]))
        table = []
        for name, _ in levels:
            rs = res[name]
            table.append({"level": name, "rate": summary([r["rate"] for r in rs]),
                          "offered": summary([r["offered"] for r in rs]),
                          "lost": sum(r["lost"] for r in rs), "events": sum(r["events"] for r in rs),
                          "runs": rs})
        self.details["rate_levels"] = table
        storm = table[0]
        self.row("3.storm_lost", "lost events at the storm's rate (1 pair pinned)",
                 value=storm["lost"], target="0", status="PASS" if storm["lost"] == 0 else "MISS",
                 note="at %s, %d events in %d runs" % (
                     fmt_num(storm["rate"]["median"], "/s"), storm["events"], runs))
        clean = [t for t in table if t["lost"] == 0]
        lossy = [t for t in table if t["lost"] > 0]
        if clean:
            best = max(clean, key=lambda t: t["rate"]["median"])
            self.row("3.max_rate", "highest event rate with 0 lost (default settings)", best["rate"],
                     "/s", note="at '%s'; levels tried: %s" % (
                         best["level"], ", ".join(t["level"] for t in table)))
        else:
            self.row("3.max_rate", "highest event rate with 0 lost (default settings)", value="none",
                     note="every level lost events")
        if lossy:
            bits = ["%s: %d of %d lost (%.1f%%), %s offered, %s recorded" % (
                t["level"], t["lost"], t["events"] + t["lost"],
                100.0 * t["lost"] / max(1, t["events"] + t["lost"]), fmt_num(t["offered"]["median"], "/s"),
                fmt_num(t["rate"]["median"], "/s")) for t in lossy]
            self.row("3.above", "what is lost above it", value="; ".join(bits))
        else:
            top = max(table, key=lambda t: t["rate"]["median"])
            self.row("3.above", "what is lost above it",
                     value="nothing: no level lost (the storm, not concscope, is the limit: %s)" %
                     fmt_num(top["rate"]["median"], "/s"))
        self.s3_fifo(runs=1 if self.quick else 5, seconds=1 if self.quick else 2)
        # A tiny buffer shows that losses happen and are counted.
        tiny = []
        for size in ("4K", "8K"):
            r = self.cs_json_run(["-p", "2", "-u", "-t", "1"], extra=["--buffer-size", size])
            r["buffer"] = size
            tiny.append(r)
            if r["lost"] > 0:
                break
        self.details["tiny_buffer"] = tiny
        t = tiny[-1]
        self.row("3.tiny", "tiny --buffer-size: losses happen and are counted",
                 value="%d lost of %d (%.1f%%) with --buffer-size %s" % (
                     t["lost"], t["lost"] + t["events"], 100.0 * t["lost"] / max(1, t["lost"] + t["events"]),
                     t["buffer"]),
                 status="" if t["lost"] > 0 else "MISS",
                 note="" if t["lost"] > 0 else "no loss even with a tiny buffer")
