"""Section 2. BPF cost per event: run_time_ns / run_cnt of concscope's and the bare recorder's programs."""
import json
import re
import subprocess
import threading
import time

from benchlib import (BPFTOOL, T_BPF_NS_VS_BARE, log, BenchError, summary, fmt_stat, CHILDREN,
                      run, STATS_GUARD)


class BpfCost:
    """Bench's section (a mixin: self is the Bench, see bench.py)."""

    # 2. BPF cost per event --------------------------------------------

    S2_ROWS = [("2.switch", "BPF ns per run, sched_switch (cs vs bare)"),
               ("2.waking", "BPF ns per run, sched_waking (cs vs bare)"),
               ("2.per_event", "BPF ns per scheduler event (cs - bare)")]

    @staticmethod
    def prog_stats(ids):
        rc, out, err = run([BPFTOOL, "-j", "prog", "show"], timeout=30)
        if rc != 0:
            raise BenchError("bpftool prog show failed: %s" % err.strip())
        res = {}
        for p in json.loads(out or "[]"):
            if p.get("id") in ids:
                res[p["id"]] = (p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
        return res

    def traced_with_ids(self, cmd, id_re, seconds):
        """Start cmd (which prints its program IDs on stderr), sample the
        programs' statistics twice while the storm runs; returns
        {name: (delta_ns, delta_cnt)}."""
        p = CHILDREN.popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ids, lines, got = [], [], threading.Event()

        def reader():
            for line in p.stderr:
                lines.append(line)
                m = id_re.search(line)
                if m and not got.is_set():
                    ids.extend(int(x) for x in m.group(1).split())
                    got.set()
            got.set()

        out_box = []
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        to = threading.Thread(target=lambda: out_box.append(p.stdout.read()), daemon=True)
        to.start()
        try:
            if not got.wait(30) or not ids:
                raise BenchError("%s printed no program IDs: %s" % (cmd[0], "".join(lines[-5:])))
            time.sleep(0.4)
            a = self.prog_stats(set(ids))
            time.sleep(max(0.5, seconds - 1.0))
            b = self.prog_stats(set(ids))
            p.wait(timeout=seconds + 60)
        finally:
            CHILDREN.reap(p)
        th.join(5)
        to.join(5)
        if p.returncode != 0:
            raise BenchError("%s failed (exit %d): %s" % (cmd[0], p.returncode, "".join(lines[-5:])))
        res = {}
        for pid, (name, ns, cnt) in b.items():
            if pid in a:
                res[name] = (ns - a[pid][1], cnt - a[pid][2])
        if not res:
            raise BenchError("no statistics for %s's programs" % cmd[0])
        return res

    def s2_bpf_cost(self):
        runs = 2 if self.quick else 5
        seconds = 2.0 if self.quick else 4.0
        storm = self.storm_cmd(["-t", str(seconds), "-c", "0"])
        cs_re = re.compile(r"concscope: bpf ids: progs ([\d ]+?) links")
        bare_re = re.compile(r"bare: bpf ids: progs ([\d ]+?) maps")
        per = {"bare": {}, "cs": {}}  # name -> [ns/run per run]
        per_event = {"bare": [], "cs": []}
        log("2. BPF cost: %d runs x 2 variants, %.0f s storms, bpf_stats_enabled=1" % (runs, seconds))
        with STATS_GUARD:
            for i in range(runs):
                for name, cmd, rx in (("bare", [self.bare, "-v", "--"] + storm, bare_re),
                                      ("cs", [self.cs, "run", "--quiet", "-v", "--"] + storm, cs_re)):
                    res = self.traced_with_ids(cmd, rx, seconds)
                    sched_ns = sched_cnt = 0
                    for prog, (ns, cnt) in res.items():
                        if cnt > 0:
                            per[name].setdefault(prog, []).append(ns / cnt)
                        if prog.endswith("_switch") or prog.endswith("_waking"):
                            sched_ns += ns
                            sched_cnt += cnt
                    if sched_cnt:
                        per_event[name].append(sched_ns / sched_cnt)
        self.details["bpf_ns_per_run"] = per
        self.details["bpf_ns_per_sched_event"] = per_event

        def pair(rid, label, cs_name, bare_name):
            c, b = summary(per["cs"].get(cs_name, [])), summary(per["bare"].get(bare_name, []))
            if c is None or b is None:
                self.row(rid, label, status="MISSING", note="no runs counted")
                return
            self.row(rid, label, c, "ns", note="bare %s" % fmt_stat(b, "ns"))

        pair("2.switch", "BPF ns per run, sched_switch (cs vs bare)", "cs_sched_switch", "bare_switch")
        pair("2.waking", "BPF ns per run, sched_waking (cs vs bare)", "cs_sched_waking", "bare_waking")
        c, b = summary(per_event["cs"]), summary(per_event["bare"])
        if c is None or b is None:
            self.row("2.per_event", "BPF ns per scheduler event", status="MISSING", note="no events")
            return
        ok = c["median"] <= b["median"] + T_BPF_NS_VS_BARE
        self.row("2.per_event", "BPF ns per scheduler event (switch+waking)", c, "ns",
                 target="<= bare+%.0f (%.0f ns)" % (T_BPF_NS_VS_BARE, b["median"] + T_BPF_NS_VS_BARE),
                 status="PASS" if ok else "MISS",
                 note="bare %s; +%.0f ns (run_time_ns of the programs only)" % (
                          fmt_stat(b, "ns"), c["median"] - b["median"]))
