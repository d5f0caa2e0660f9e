"""The benchmark suite's shared pieces (tools/bench/bench.py): paths, targets,
running and stopping children, statistics and their formatting, the host's
load, the BPF statistics switch, /proc counters."""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"
PERF = "/usr/bin/perf"
BPFTOOL = shutil.which("bpftool") or "/usr/sbin/bpftool"
MIB = 1024 * 1024
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))  # kcounters, for the sections

# Targets from the issue.
T_OVERHEAD_ABS = 1.10
T_OVERHEAD_VS_BARE = 0.05
T_BPF_NS_VS_BARE = 50.0
T_BYTES_PER_EVENT = 10.0
T_REPLAY_RATE = 5e6
T_RSS = 64 * MIB
T_READY_S = 0.5

# ---------------------------------------------------------------- helpers


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def summary(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals), "values": vals}


def fmt_num(v, unit=""):
    if v is None:
        return "-"
    if unit == "ratio":
        return "%.3f" % v
    if unit == "B":
        if abs(v) >= MIB:
            return "%.1f MiB" % (v / MIB)
        if abs(v) >= 1024:
            return "%.0f KiB" % (v / 1024)
        return "%.0f B" % v
    if unit == "/s":
        if v >= 1e6:
            return "%.2fM/s" % (v / 1e6)
        if v >= 1e3:
            return "%.0fk/s" % (v / 1e3)
        return "%.0f/s" % v
    if unit == "s":
        return "%.3f s" % v
    if unit in ("us", "ns", "B/ev"):
        return "%.1f %s" % (v, unit)
    if isinstance(v, float):
        return "%.3g" % v
    return str(v)


def fmt_stat(st, unit):
    if st is None:
        return "-"
    if st["n"] == 1:
        return fmt_num(st["median"], unit)
    return "%s [%s..%s]" % (fmt_num(st["median"], unit), fmt_num(st["min"], unit),
                            fmt_num(st["max"], unit))


class Children:
    """Processes this script started, so they are stopped on error or Ctrl-C."""

    def __init__(self):
        self.procs = set()

    def popen(self, cmd, **kw):
        p = subprocess.Popen(cmd, **kw)
        self.procs.add(p)
        return p

    def done(self, p):
        self.procs.discard(p)

    def reap(self, p):
        """Kill p if it still runs, wait for it, and forget it."""
        if p.poll() is None:
            p.kill()
            p.wait()
        self.done(p)

    def stop_all(self):
        for p in list(self.procs):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGINT)
                    p.wait(timeout=3)
                except (subprocess.TimeoutExpired, OSError):
                    try:
                        p.kill()
                        p.wait(timeout=3)
                    except (subprocess.TimeoutExpired, OSError):
                        pass
            self.procs.discard(p)


CHILDREN = Children()


def run(cmd, timeout=300, **kw):
    """Run to completion; returns (rc, stdout, stderr) as text."""
    p = CHILDREN.popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        CHILDREN.done(p)
        raise BenchError("timed out after %ds: %s" % (timeout, " ".join(cmd)))
    CHILDREN.done(p)
    return p.returncode, out, err


STORM_RE = re.compile(r"storm: pairs=(\d+) rounds=(\d+) elapsed_s=([\d.]+) us_per_rt=([\d.]+) "
                      r"rt_per_s=([\d.]+)")


def parse_storm(text, what):
    m = STORM_RE.search(text)
    if not m:
        raise BenchError("%s: no storm line in its output" % what)
    return {"pairs": int(m.group(1)), "rounds": int(m.group(2)), "elapsed_s": float(m.group(3)),
            "us_per_rt": float(m.group(4)), "rt_per_s": float(m.group(5))}


def cpu_hogs(window=1.0, top=4):
    """Other processes' CPU use over a short window: the noise to expect."""
    def snap():
        d = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    s = f.read()
            except OSError:
                continue
            rp = s.rfind(")")
            comm = s[s.find("(") + 1:rp]
            fields = s[rp + 2:].split()
            d[int(pid)] = (comm, int(fields[11]) + int(fields[12]))
        return d

    hz = os.sysconf("SC_CLK_TCK")
    a = snap()
    time.sleep(window)
    b = snap()
    use = []
    for pid, (comm, t) in b.items():
        if pid in a and pid != os.getpid():
            pct = 100.0 * (t - a[pid][1]) / hz / window
            if pct >= 5:
                use.append((pct, comm, pid))
    use.sort(reverse=True)
    return [{"comm": c, "pid": p, "cpu_pct": round(x)} for x, c, p in use[:top]]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class BpfStats:
    """kernel.bpf_stats_enabled=1 while inside; the old value restored after."""

    def __init__(self):
        self.old = None

    def __enter__(self):
        with open(BPF_STATS) as f:
            self.old = f.read().strip()
        with open(BPF_STATS, "w") as f:
            f.write("1")
        return self

    def restore(self):
        if self.old is not None:
            with open(BPF_STATS, "w") as f:
                f.write(self.old)
            self.old = None

    def __exit__(self, *exc):
        self.restore()
        return False


STATS_GUARD = BpfStats()


# ---------------------------------------------------------------- the bench
