"""Bad input: one clear line on stderr, a documented exit code, nothing left behind."""
import os
import re
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, ROOT, bpf_unavailable, prog

USAGE, ENV, TARGET = 2, 3, 4


def cs(*args, **kw):
    return subprocess.run([CONCSCOPE, *args], capture_output=True, text=True, timeout=60, **kw)


def one_line(p):
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("concscope: ")
    return lines[0]


@pytest.mark.parametrize("args,code,words", [
    (["frobnicate"], USAGE, "unknown command"),
    (["run", "--frob", "--", "true"], USAGE, "unknown option"),
    (["run", "--json"], USAGE, "needs a value"),
    (["attach"], USAGE, "needs -p"),
    (["attach", "-p", "0"], USAGE, "process id"),
    (["attach", "-p", "-5"], USAGE, "process id"),
    (["attach", "-p", "abc"], USAGE, "process id"),
    (["attach", "-p", "1", "-d", "0"], USAGE, "duration"),
    (["attach", "-p", "1", "-d", "-3"], USAGE, "duration"),
    (["attach", "-p", "1", "-d", "soon"], USAGE, "duration"),
    (["run", "--model=quantum"], USAGE, "unknown model"),
    (["run", "--model=threads", "--work=gpu"], USAGE, "unknown work"),
    (["run", "--model=threads", "--tasks=0"], USAGE, "--tasks"),
    (["run", "--model=threads", "--tasks=65"], USAGE, "--tasks"),
    (["run", "--model=threads", "--lang=rust"], USAGE, "unknown language"),
    (["run", "--model=threads-gil", "--lang=python"], USAGE, "GIL"),
    (["run", "--buffer-size=1000", "--", "true"], USAGE, "power of two"),
    (["run", "--color=sometimes", "--", "true"], USAGE, "--color"),
    (["run", "--", "/no/such/program"], TARGET, "no such program"),
    (["run", "--", "no-such-program-anywhere"], TARGET, "no such program"),
    (["run", "--", "/etc/passwd"], TARGET, "'/etc/passwd': not executable"),
    (["run", "--", "/tmp"], TARGET, "is a directory"),
])
def test_bad_input(args, code, words):
    p = cs(*args)
    assert p.returncode == code, (p.returncode, p.stderr)
    assert words in one_line(p)
    assert p.stdout == ""


def test_a_program_in_path_that_is_not_executable():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "notexec")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(path, 0o644)
        p = cs("run", "--", "notexec", env=dict(os.environ, PATH=d))
        assert p.returncode == TARGET
        assert "'notexec': not executable" in one_line(p)


def test_a_program_behind_a_closed_directory():
    # checked before privileges: an unprivileged user hears what is wrong with the command
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o700)
        path = os.path.join(d, "prog")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(path, 0o755)
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", CONCSCOPE, "run", "--", path],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == TARGET
        assert "permission denied" in one_line(p)


def test_pid_that_does_not_exist():
    pid = 4194303  # above any pid this machine hands out (pid_max is lower or equal)
    with open("/proc/sys/kernel/pid_max") as f:
        pid = int(f.read()) - 1
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    p = cs("attach", "-p", str(pid), "-d", "1")
    assert p.returncode == TARGET
    assert "no process" in one_line(p)


def test_kernel_thread_pid():
    p = cs("attach", "-p", "2", "-d", "1")  # kthreadd
    assert p.returncode == TARGET
    assert "kernel thread" in one_line(p)


@pytest.mark.parametrize("where", ["missing-dir", "is-a-dir", "unwritable"])
def test_bad_output_paths(where):
    if bpf_unavailable():
        pytest.skip(bpf_unavailable())
    with tempfile.TemporaryDirectory() as d:
        if where == "missing-dir":
            path = os.path.join(d, "nope", "out.json")
        elif where == "is-a-dir":
            path = d
        else:
            path = "/sys/out.json"  # root may write almost anywhere, but not in sysfs
        p = cs("run", "--json", path, "--", "true")
        assert p.returncode == USAGE
        assert path in one_line(p) or d in one_line(p)
        leftovers = [f for f in os.listdir(d) if f.startswith(".")]
        assert leftovers == []


def test_not_privileged_says_what_is_missing():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", CONCSCOPE, "run", "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == ENV
    line = one_line(p)
    assert "root" in line and "CAP_BPF" in line and "CAP_PERFMON" in line and "sudo" in line


def test_missing_btf_file():
    p = cs("run", "--btf", "/no/such/vmlinux", "--", "true")
    assert p.returncode == ENV
    assert "BTF" in one_line(p)


def test_unusable_btf_file():
    if bpf_unavailable():
        pytest.skip(bpf_unavailable())
    p = cs("run", "--btf", "/etc/passwd", "--", "true")
    assert p.returncode == ENV
    assert "BTF" in one_line(p) and "/etc/passwd" in one_line(p)


def test_help_and_version():
    p = cs("--help")
    assert p.returncode == 0 and "Examples" in p.stdout and "Exit status" in p.stdout
    for sub in ("run", "attach"):
        p = cs(sub, "--help")
        assert p.returncode == 0 and "Examples" in p.stdout
    p = cs("--version")
    assert p.returncode == 0 and p.stdout.startswith("concscope ")


def test_no_color_and_not_a_terminal():
    if bpf_unavailable():
        pytest.skip(bpf_unavailable())
    p = cs("run", "--quiet", "--", prog("sleeper"), "2", "10")
    assert p.returncode == 0 and "\033[" not in p.stdout
    env = dict(os.environ, NO_COLOR="1")
    p = cs("run", "--quiet", "--color=auto", "--", prog("sleeper"), "2", "10", env=env)
    assert p.returncode == 0 and "total: parallelism" in p.stdout and "\033[" not in p.stdout
    p = cs("run", "--quiet", "--color=always", "--", prog("sleeper"), "2", "10")
    assert p.returncode == 0 and "total: parallelism" in p.stdout and "\033[" in p.stdout


def options_in_help(cmd):
    """The options a command's --help lists (its parser is held against it in test_help.c)."""
    text = cs(cmd, "--help").stdout
    section = text.split("Options:\n", 1)[1].split("Examples:", 1)[0]
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", section))


@pytest.mark.parametrize("cmd", ["run", "attach", "report"])
def test_completion_and_man_page_list_every_option(cmd):
    opts = options_in_help(cmd)
    assert "--help" in opts and len(opts) > 3
    script = ("source tools/concscope.bash-completion; COMP_WORDS=(concscope %s -); "
              "COMP_CWORD=2; _concscope; echo \"${COMPREPLY[@]}\"" % cmd)
    p = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)
    completed = set(p.stdout.split())
    assert opts <= completed, "bash completion misses %s" % sorted(opts - completed)
    with open(os.path.join(ROOT, "doc", "concscope.1")) as f:
        man = f.read().replace("\\-", "-")
    missing = [o for o in opts if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), man)]
    assert not missing, "the man page misses %s" % sorted(missing)
