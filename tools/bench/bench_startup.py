"""Section 7. Start-up: from launch to the "ready" line."""
import os
import subprocess
import time

from benchlib import T_READY_S, log, BenchError, summary, CHILDREN


class Startup:
    """Bench's section (a mixin: self is the Bench, see bench.py)."""

    # 7. start-up --------------------------------------------------------

    S7_ROWS = [("7.cs", "start-up: launch to 'ready' (concscope)"),
               ("7.bare", "start-up: launch to 'ready' (bare, reference)")]

    def ready_time(self, argv_fn):
        r, w = os.pipe()
        try:
            t0 = time.monotonic()
            p = CHILDREN.popen(argv_fn(w), pass_fds=(w,), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
            os.close(w)
            w = -1
            buf = b""
            while not buf.endswith(b"\n"):
                c = os.read(r, 64)
                if not c:
                    break
                buf += c
            t1 = time.monotonic()
            _, err = p.communicate(timeout=60)
            CHILDREN.done(p)
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)
        if buf.strip() != b"ready" or p.returncode != 0:
            raise BenchError("no 'ready' line (got %r, exit %s): %s" % (buf, p.returncode,
                                                                      err.decode()[-300:]))
        return t1 - t0

    def s7_startup(self):
        runs = 3 if self.quick else 10
        log("7. start-up: %d runs x 2" % runs)
        t = {"cs": [], "bare": []}
        for i in range(runs):
            t["cs"].append(self.ready_time(
                lambda fd: [self.cs, "run", "--quiet", "--ready-fd", str(fd), "--", "true"]))
            t["bare"].append(self.ready_time(
                lambda fd: [self.bare, "--ready-fd", str(fd), "--", "true"]))
        self.details["startup_s"] = t
        st = summary(t["cs"])
        self.row("7.cs", "start-up: launch to 'ready' (concscope)", st, "s",
                 target="<= %.1f s" % T_READY_S, status="PASS" if st["median"] <= T_READY_S else "MISS")
        self.row("7.bare", "start-up: launch to 'ready' (bare, reference)", summary(t["bare"]), "s")
