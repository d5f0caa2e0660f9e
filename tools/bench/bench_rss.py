"""Section 6. Peak and steady RSS of concscope over a long storm recording."""
import os
import re
import subprocess
import time

from benchlib import MIB, T_RSS, log, BenchError, fmt_num, CHILDREN


class Rss:
    """Bench's section (a mixin: self is the Bench, see bench.py)."""

    # 6. RSS -------------------------------------------------------------

    S6_ROWS = [("6.peak", "concscope peak RSS (VmHWM) over the recording"),
               ("6.flat", "RSS growth after warm-up (flat?)"),
               ("6.ringbuf", "is the ring buffer mapping counted in RSS?")]

    @staticmethod
    def read_status(pid):
        vals = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    vals[k] = int(v.split()[0]) * 1024
        return vals

    @staticmethod
    def read_bpf_maps(pid):
        """Resident bytes of the BPF map mappings (the ring buffer's among them)."""
        maps, cur = [], None
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    parts = line.split()
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    cur = {"name": parts[5] if len(parts) > 5 else "", "size": hi - lo,
                           "perms": parts[1], "rss": 0}
                    if cur["name"] == "anon_inode:bpf-map":
                        maps.append(cur)
                elif cur is not None and line.startswith("Rss:"):
                    cur["rss"] = int(line.split()[1]) * 1024
        return maps

    def s6_rss(self):
        seconds = 3 if self.quick else 60
        use_o = self.check_o()
        args = ["run", "--quiet"]
        pf = os.path.join(self.tmp, "rss.pftrace")
        if use_o:
            args += ["-o", pf]
        cmd = [self.cs] + args + ["--"] + self.storm_cmd(["-t", str(seconds), "-c", "0"])
        log("6. RSS: %d s storm under concscope%s" % (seconds, " -o" if use_o else ""))
        p = CHILDREN.popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        samples, final_hwm = [], 0
        t0 = time.monotonic()
        try:
            while p.poll() is None:
                try:
                    t = time.monotonic() - t0
                    s = self.read_status(p.pid)
                    final_hwm = max(final_hwm, s.get("VmHWM", 0))
                    # only while the storm runs: the tracer is torn down after it
                    if 0.5 < t < seconds - 0.2:
                        s["t"] = round(t, 2)
                        s["bpf_maps"] = self.read_bpf_maps(p.pid)
                        samples.append(s)
                except (OSError, ValueError):
                    break
                time.sleep(1.0 if not self.quick else 0.25)
            err = p.stderr.read()
            p.wait(timeout=seconds + 120)
        finally:
            CHILDREN.reap(p)
        if p.returncode != 0:
            raise BenchError("concscope failed (exit %d): %s" % (p.returncode, err.strip()[-300:]))
        samples = [s for s in samples if "VmRSS" in s]
        if len(samples) < 3:
            raise BenchError("too few RSS samples (%d)" % len(samples))
        self.details["rss_samples"] = samples
        peak = max(final_hwm, max(s["VmHWM"] for s in samples))
        # warm-up: the first quarter; flat means the rest does not grow
        rest = samples[len(samples) // 4:]
        growth = rest[-1]["VmRSS"] - rest[0]["VmRSS"]
        spread = max(s["VmRSS"] for s in rest) - min(s["VmRSS"] for s in rest)
        last = samples[-1]
        self.row("6.peak", "concscope peak RSS (VmHWM) over the recording", value=peak, unit="B",
                 target="<= 64 MiB", status="PASS" if peak <= T_RSS else "MISS",
                 note="%d s storm%s; while tracing: VmRSS %s = RssAnon %s + RssFile %s + RssShmem %s" % (
                     seconds, " with -o" if use_o else " (no -o)", fmt_num(last["VmRSS"], "B"),
                     fmt_num(last.get("RssAnon"), "B"), fmt_num(last.get("RssFile"), "B"),
                     fmt_num(last.get("RssShmem"), "B")))
        flat = growth <= MIB and spread <= 2 * MIB
        self.row("6.flat", "RSS growth while tracing, after warm-up", value=growth, unit="B",
                 target="flat (<= 1 MiB)", status="PASS" if flat else "MISS",
                 note="VmRSS %s -> %s over %d samples (t=%.0f..%.0f s), spread %s; RssAnon %s -> %s" % (
                     fmt_num(rest[0]["VmRSS"], "B"), fmt_num(rest[-1]["VmRSS"], "B"), len(rest),
                     rest[0]["t"], rest[-1]["t"], fmt_num(spread, "B"),
                     fmt_num(rest[0].get("RssAnon"), "B"), fmt_num(rest[-1].get("RssAnon"), "B")))
        maps = last["bpf_maps"]
        rb_rss = sum(m["rss"] for m in maps)
        rb_size = sum(m["size"] for m in maps)
        if rb_rss:
            where = "RssFile" if last.get("RssFile", 0) >= rb_rss else \
                "RssShmem" if last.get("RssShmem", 0) >= rb_rss else "RssAnon?"
            text = "yes: %s resident in %d anon_inode:bpf-map mappings (%s mapped), counted in %s" % (
                fmt_num(rb_rss, "B"), len(maps), fmt_num(rb_size, "B"), where)
        else:
            text = "no: its %d mappings (%s) show 0 resident" % (len(maps), fmt_num(rb_size, "B"))
        self.row("6.ringbuf", "is the ring buffer mapping counted in RSS?", value=text,
                 note="the data pages are mapped twice (wrap-around), so a 16 MiB buffer shows as "
                      "~32 MiB; heap (RssAnon) %s" % fmt_num(last.get("RssAnon"), "B"))
