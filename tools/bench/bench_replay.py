"""Section 4 and 5. User-side throughput (a raw dump replayed) and Perfetto bytes per event."""
import json
import os
import re
import struct

from benchlib import T_BYTES_PER_EVENT, T_REPLAY_RATE, log, BenchError, summary, fmt_num, run


class Replay:
    """Bench's section (a mixin: self is the Bench, see bench.py)."""

    # 4 + 5. user-side throughput, bytes per event ------------------------

    S4_ROWS = [("4.core", "replay: decode+reorder+core, events/s on one CPU"),
               ("4.core_pf", "replay: ... + Perfetto writer, events/s"),
               ("4.core_many", "replay of a 64-pair storm (long run queues), events/s")]
    S5_ROWS = [("5.o", "Perfetto file bytes per sched event (concscope -o)"),
               ("5.writer", "Perfetto writer bytes per sched event (replay)")]

    @staticmethod
    def count_kinds(path):
        counts = {}
        with open(path, "rb") as f:
            data = f.read()
        off = 0
        while off + 24 <= len(data):
            size, kind = struct.unpack_from("<HB", data, off + 8)
            if size < 24:
                break
            counts[kind] = counts.get(kind, 0) + 1
            off += size
        return counts, len(data)

    def make_dump(self):
        """One recording of the storm with --dump-raw (and -o when it exists)."""
        rounds = 20000 if self.quick else 100000
        self.dump = os.path.join(self.tmp, "storm.raw")
        pf = os.path.join(self.tmp, "storm.pftrace")
        extra = ["--dump-raw", self.dump]
        if self.check_o():
            extra += ["-o", pf]
        r = self.cs_json_run(["-n", str(rounds), "-c", "0"], extra=extra)
        counts, size = self.count_kinds(self.dump)
        self.dump_sched = counts.get(1, 0) + counts.get(2, 0)
        self.dump_info = {"bytes": size, "records": sum(counts.values()), "sched": self.dump_sched,
                          "kinds": counts, "lost": r["lost"]}
        self.pf_size = os.path.getsize(pf) if self.have_o and os.path.exists(pf) else None
        log("dump: %d records (%d switch+waking), %d bytes" % (
            self.dump_info["records"], self.dump_sched, size))

    def make_dump_many(self):
        """A storm of 64 unpinned pairs: long run queues of tracked threads.
        Recorded with a big buffer and concscope at a higher priority than
        the storm (nice -19 vs 0), so the recording itself loses nothing."""
        path = os.path.join(self.tmp, "storm64.raw")
        j = os.path.join(self.tmp, "many.json")
        cmd = ["nice", "-n", "-19", self.cs, "run", "--quiet", "--json", j, "--dump-raw", path,
               "--buffer-size", "128M", "--", "nice", "-n", "19"] + \
            self.storm_cmd(["-p", "64", "-u", "-t", "0.3" if self.quick else "1"])
        rc, out, err = run(cmd, timeout=120)
        if rc != 0:
            raise BenchError("concscope failed (exit %d): %s" % (rc, err.strip()[-300:]))
        with open(j) as f:
            lost = json.load(f)["lost_events"]
        counts, size = self.count_kinds(path)
        self.dump_many_info = {"bytes": size, "records": sum(counts.values()), "lost": lost}
        log("dump (64 pairs): %d records, %d lost" % (self.dump_many_info["records"], lost))
        return path

    def s4_replay(self):
        if self.dump is None:
            self.make_dump()
        dump_many = self.make_dump_many()
        runs = 2 if self.quick else 7
        target_s = 0.3 if self.quick else 1.0
        have_pf = os.access(self.replay_pf, os.X_OK)
        trace = os.path.join(self.tmp, "replay.pftrace")
        rx = re.compile(r"records=(\d+) sched=(\d+) reps=(\d+) seconds=([\d.]+) events_per_s=([\d.]+)"
                        r"(?: pf_bytes=(\d+))?")

        def once(binary, reps, write, dump):
            cmd = [binary, "-c", "1", "-k", str(reps)] + (["-w", trace] if write else []) + [dump]
            rc, out, err = run(cmd, timeout=600)
            m = rx.search(out)
            if rc != 0 or not m:
                raise BenchError("replay failed (exit %d): %s" % (rc, err.strip()[-300:]))
            return {"rate": float(m.group(5)), "seconds": float(m.group(4)),
                    "pf_bytes": int(m.group(6)) if m.group(6) else None}

        variants = [("core", self.replay, False, self.dump)]
        if have_pf:
            variants.append(("core_pf", self.replay_pf, True, self.dump))
        variants.append(("core_many", self.replay, False, dump_many))
        reps = {}
        for name, binary, write, dump in variants:  # calibrate: about target_s per run
            r = once(binary, 1, write, dump)
            reps[name] = max(1, int(round(target_s / max(r["seconds"], 1e-6))))
        log("4. replay: %d runs x %d variants (reps %s)" % (runs, len(variants), reps))
        rates = {name: [] for name, _, _, _ in variants}
        pf_bytes = None
        for i in range(runs):
            for name, binary, write, dump in variants:
                r = once(binary, reps[name], write, dump)
                rates[name].append(r["rate"])
                if r["pf_bytes"]:
                    pf_bytes = r["pf_bytes"]
        self.details["replay"] = {"rates": rates, "reps": reps, "dump": self.dump_info,
                                  "dump_16_pairs": self.dump_many_info}
        tgt = ">= %s" % fmt_num(T_REPLAY_RATE, "/s")
        st = summary(rates["core"])
        self.row("4.core", "replay: decode+reorder+core, events/s on one CPU", st, "/s",
                 target=tgt, status="PASS" if st["median"] >= T_REPLAY_RATE else "MISS",
                 note="the storm's dump: %d records x %d reps per run" % (
                     self.dump_info["records"], reps["core"]))
        if have_pf:
            st = summary(rates["core_pf"])
            self.row("4.core_pf", "replay: decode+reorder+core+Perfetto writer, events/s", st, "/s",
                     target=tgt, status="PASS" if st["median"] >= T_REPLAY_RATE else "MISS",
                     note="writer output discarded in the timed passes")
        else:
            self.row("4.core_pf", "replay: ... + Perfetto writer, events/s", status="n/a",
                     note="n/a (the Perfetto writer does not build: %s)" % (self.replay_pf + ".log"))
        st = summary(rates["core_many"])
        self.row("4.core_many", "replay of a 64-pair storm (long run queues), events/s", st, "/s",
                 target=tgt, status="PASS" if st["median"] >= T_REPLAY_RATE else "MISS",
                 note="%d records (%d lost while recording) x %d reps per run" % (
                     self.dump_many_info["records"], self.dump_many_info["lost"], reps["core_many"]))
        self.replay_pf_bytes = pf_bytes

    def s5_bytes(self):
        if self.dump is None:
            self.make_dump()
        tgt = "<= %.0f B/ev" % T_BYTES_PER_EVENT
        sched = max(1, self.dump_sched)
        if self.pf_size is not None:
            v = self.pf_size / sched
            self.row("5.o", "Perfetto file bytes per sched event (concscope -o)", value=v, unit="B/ev",
                     target=tgt, status="PASS" if v <= T_BYTES_PER_EVENT else "MISS",
                     note="%d bytes / %d switch+waking records" % (self.pf_size, sched))
        else:
            self.row("5.o", "Perfetto file bytes per sched event (concscope -o)", target=tgt,
                     status="n/a", note="n/a (no -o yet)")
        pb = getattr(self, "replay_pf_bytes", None)
        if pb is None and os.access(self.replay_pf, os.X_OK):  # section 4 did not run
            trace = os.path.join(self.tmp, "replay.pftrace")
            rc, out, err = run([self.replay_pf, "-k", "1", "-w", trace, self.dump], timeout=300)
            m = re.search(r"pf_bytes=(\d+)", out)
            if rc != 0 or not m:
                raise BenchError("replay-pf failed (exit %d): %s" % (rc, err.strip()[-300:]))
            pb = int(m.group(1))
        if pb:
            v = pb / sched
            self.row("5.writer", "Perfetto writer bytes per sched event (replay of the dump)",
                     value=v, unit="B/ev", target=tgt,
                     status="PASS" if v <= T_BYTES_PER_EVENT else "MISS",
                     note="%d bytes / %d switch+waking records" % (pb, sched))
        else:
            self.row("5.writer", "Perfetto writer bytes per sched event (replay of the dump)",
                     target=tgt, status="n/a", note="n/a (no replay-pf)")
