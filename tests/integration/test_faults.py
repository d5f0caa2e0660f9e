"""Faults: signals, concurrent instances, loss, descendants, privileges, cleanup."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import CONCSCOPE, prog, run_concscope, threads_of

pytestmark = pytest.mark.usefixtures("needs_bpf")


def bpf_ids(stderr):
    m = re.search(r"bpf ids: progs ([\d ]*) links ([\d ]*) maps ([\d ]*)", stderr)
    assert m, stderr
    return {kind: [int(x) for x in m.group(i).split()]
            for i, kind in ((1, "prog"), (2, "link"), (3, "map"))}


def assert_released(ids, seconds=5.0):
    """None of this instance's programs, links or maps is left (the kernel frees lazily)."""
    deadline = time.monotonic() + seconds
    for kind, lst in ids.items():
        for i in lst:
            while True:
                r = subprocess.run(["bpftool", kind, "show", "id", str(i)], capture_output=True)
                if r.returncode != 0:
                    break
                assert time.monotonic() < deadline, f"{kind} {i} still in the kernel"
                time.sleep(0.1)


class Started(subprocess.Popen):
    """concscope with -v, its stderr in a file: libbpf's messages alone can fill a
    pipe before tracing is ready, and nobody reads the pipe until then."""

    def communicate(self, input=None, timeout=None):
        so, _ = super().communicate(input, timeout)
        self.errfile.seek(0)
        se = self.errfile.read()
        self.errfile.close()
        return so, se


def start(args, **kw):
    r, w = os.pipe()
    err = tempfile.TemporaryFile(mode="w+")
    p = Started([CONCSCOPE, args[0], "-v", "--color", "never", "--ready-fd", str(w),
                 *args[1:]], pass_fds=(w,), stdout=subprocess.PIPE, stderr=err, text=True, **kw)
    p.errfile = err
    os.close(w)
    assert os.read(r, 16) == b"ready\n"
    os.close(r)
    return p


def test_normal_exit_leaves_nothing_attached():
    p = subprocess.run([CONCSCOPE, "run", "-v", "--", "true"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0
    ids = bpf_ids(p.stderr)
    assert ids["prog"] and ids["link"] and ids["map"]
    assert_released(ids)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_during_attach_end_with_a_summary(sig):
    child = subprocess.Popen([prog("mixer"), "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.json")
            p = start(["attach", "-p", str(child.pid), "--json", out])
            p.send_signal(sig)
            so, se = p.communicate(timeout=30)
            assert p.returncode == 0, se
            assert "total: parallelism" in so
            with open(out) as f:
                js = json.load(f)
            assert len(threads_of(js)) == 3
            assert js["end_reason"] == "interrupted" and ": interrupted  (" in so
            assert [f for f in os.listdir(d) if f.startswith(".")] == []
            assert_released(bpf_ids(se))
        assert child.poll() is None  # attach never harms its target
    finally:
        child.kill()
        child.wait()


def test_signal_before_tracing_starts_still_summarises():
    # SIGTERM arrives while the BPF programs load (after the handlers are in place: -v
    # prints libbpf's messages only from then on): the run ends cleanly, with an empty
    # summary, and the command never starts.
    with tempfile.TemporaryDirectory() as d:
        trace = os.path.join(d, "t.pftrace")
        p = subprocess.Popen([CONCSCOPE, "run", "-v", "--color", "never", "-o", trace, "--",
                              prog("sleeper"), "1", "10"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = p.stderr.readline()
        assert first.startswith("libbpf:"), first
        p.send_signal(signal.SIGTERM)
        so, se = p.communicate(timeout=30)
        assert p.returncode == 128 + signal.SIGTERM, se  # the command never ran: its code
        assert "total: parallelism" in so and "SNAP" not in so
        title = "%s: not started (interrupted before tracing began)" % prog("sleeper")
        assert so.startswith(title), so
        assert_released(bpf_ids(se))
        # the trace is whole, and report names the command as the run did
        r = subprocess.run([CONCSCOPE, "report", "--color", "never", trace],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(title), r.stdout


def test_signal_before_the_models_start_says_so():
    # the same moment for run --model=all: it printed nothing at all (and exited 0)
    with tempfile.TemporaryDirectory() as d:
        trace, out = os.path.join(d, "t.pftrace"), os.path.join(d, "o.json")
        p = subprocess.Popen([CONCSCOPE, "run", "-v", "--color", "never", "--model=all",
                              "-o", trace, "--json", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = p.stderr.readline()
        assert first.startswith("libbpf:"), first
        p.send_signal(signal.SIGTERM)
        so, se = p.communicate(timeout=60)
        assert p.returncode == 0, se  # as attach: a recording that ended when asked
        assert so == "--model=all: not started (interrupted before tracing began)\n", so
        assert_released(bpf_ids(se))
        with open(out) as f:
            assert json.load(f)["models"] == []
        # the trace is whole: report reads it and says that it holds no recording
        r = subprocess.run([CONCSCOPE, "report", trace], capture_output=True, text=True,
                           timeout=60)
        assert "holds no recording" in r.stderr, r.stderr


def test_a_command_that_ignores_ctrl_c_is_left_running_after_the_grace():
    # (it lets go of concscope's stdout and stderr, so they end when concscope does)
    script = "trap '' INT TERM; echo trapped; exec >/dev/null 2>&1; sleep 23.4567"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "o.json")
        p = start(["run", "--json", out, "--", "sh", "-c", script])
        try:
            assert p.stdout.readline().strip() == "trapped"
            p.send_signal(signal.SIGINT)
            start_t = time.monotonic()
            so, se = p.communicate(timeout=30)
            waited = time.monotonic() - start_t
            assert p.returncode == 128 + signal.SIGINT, se  # left running: the signal's code
            assert "did not exit within 2000 ms of the signal" in se
            assert ": left running" in so and "total: parallelism" in so
            assert 1.5 <= waited <= 10, waited
            with open(out) as f:
                js = json.load(f)
            assert js["exit_status"] == -1 and js["processes"]
            assert_released(bpf_ids(se))
        finally:
            for pid in (x for x in os.listdir("/proc") if x.isdigit()):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if b"23.4567" in f.read():
                            os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass


def test_two_instances_at_once_work_independently():
    a = start(["run", "--", prog("sleeper"), "10", "50"])
    b = start(["run", "--", prog("spinner"), "0.5", "1"])
    oa, ea = a.communicate(timeout=60)
    ob, eb = b.communicate(timeout=60)
    assert a.returncode == 0 and b.returncode == 0, (ea, eb)
    # each traced only its own command (the other may appear as a waker or CPU holder)
    assert "sleeper (pid" in oa and "spinner (pid" not in oa
    assert "spinner (pid" in ob and "sleeper (pid" not in ob
    assert set(bpf_ids(ea)["prog"]).isdisjoint(bpf_ids(eb)["prog"])
    assert_released(bpf_ids(ea))
    assert_released(bpf_ids(eb))


def test_ring_buffer_overflow_is_counted_and_shown():
    # the reader keeps up with a 4K ring under ordinary loads (it is woken as the
    # ring fills, at a real-time priority): real-time threads above it starve it
    p, js = run_concscope(["run", "--buffer-size=4096", "--", prog("rtpingpong"), "2", "0.5", "99"])
    assert p.returncode == 0, p.stderr
    assert js["lost_events"] > 0
    assert re.search(r"[1-9]\d* lost", p.stdout)
    assert "WARNING: " in p.stdout.split("timeline", 1)[0]


def test_descendants_exiting_mid_recording_are_kept():
    script = f"{prog('spinner')} 0.2 1 & {prog('sleeper')} 10 40; wait"
    p, js = run_concscope(["run", "--", "sh", "-c", script])
    assert p.returncode == 0, p.stderr
    comms = {pr["comm"] for pr in js["processes"]}
    assert {"sh", "spinner", "sleeper"} <= comms, comms
    spinner = [pr for pr in js["processes"] if pr["comm"] == "spinner"][0]
    assert len(spinner["threads"]) == 2
    assert max(t["running_ns"] + t["ready_ns"] for t in spinner["threads"]) >= 0.15e9


def test_under_sudo_the_command_runs_as_the_invoking_user():
    env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        out = os.path.join(d, "o.json")
        p = subprocess.run([CONCSCOPE, "run", "--json", out, "--", "id", "-u"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines()[0].strip() == "65534"
        st = os.stat(out)
        assert (st.st_uid, st.st_gid) == (65534, 65534)
