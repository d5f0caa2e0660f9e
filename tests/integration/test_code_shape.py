"""The shape of the code: short functions and files that hold one job.

pmccabe (Debian's package, installed by tools/setup.sh) counts the lines of
every C function; none in user/, bpf/, workloads/, tools/ (the benchmark's
programs) or tests/progs/ may be over 80 lines, nor any Python function in
tools/ (counted with Python's own parser); no source file in user/ may be
over 1,200 lines.
"""
import ast
import fnmatch
import glob
import os
import shutil
import subprocess

from conftest import ROOT

MAX_FUNCTION_LINES = 80
MAX_FILE_LINES = 1200
C_DIRS = ("user", "bpf", "workloads", "tools", "tests/progs")
PY_DIRS = ("tools",)


def files(dirs, exts):
    return sorted(f for d in dirs for e in exts
                  for f in glob.glob(os.path.join(ROOT, d, "**", "*" + e), recursive=True))


def sources(exts=(".c", ".h")):
    return files(C_DIRS, exts)


def test_the_check_covers_the_tree():
    got = {os.path.relpath(f, ROOT) for f in sources()}
    # one file of each place, and the ones that were long once
    for f in ("user/core.c", "bpf/concscope.bpf.c", "bpf/arch.h", "workloads/cs-ioserver.c",
              "tools/bench/replay.c", "tools/bench/bare.c", "tests/progs/mixer.c"):
        assert f in got, f
    py = {os.path.relpath(f, ROOT) for f in files(PY_DIRS, (".py",))}
    assert {"tools/bench/bench.py", "tools/accuracy.py"} <= py


def test_no_function_over_80_lines():
    assert shutil.which("pmccabe"), "pmccabe is missing: run tools/setup.sh"
    p = subprocess.run(["pmccabe"] + sources(), capture_output=True, text=True, check=True)
    rows = [l.split("\t") for l in p.stdout.splitlines() if l.strip()]
    assert len(rows) > 100  # it really parsed the tree
    long = ["%s: %s lines" % (r[5], r[4]) for r in rows if int(r[4]) > MAX_FUNCTION_LINES]
    assert not long, "functions over %d lines:\n%s" % (MAX_FUNCTION_LINES, "\n".join(long))


def python_functions(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield n.name, n.lineno, n.end_lineno - n.lineno + 1


def test_no_python_function_over_80_lines():
    fns = [(os.path.relpath(f, ROOT), name, line, n)
           for f in files(PY_DIRS, (".py",)) for name, line, n in python_functions(f)]
    assert len(fns) > 50  # it really parsed them
    long = ["%s:%d: %s, %d lines" % (f, line, name, n) for f, name, line, n in fns
            if n > MAX_FUNCTION_LINES]
    assert not long, "functions over %d lines:\n%s" % (MAX_FUNCTION_LINES, "\n".join(long))


def test_no_user_file_over_1200_lines():
    big = []
    for f in sources():
        if f.startswith(os.path.join(ROOT, "user")):
            with open(f) as fh:
                n = sum(1 for _ in fh)
            if n > MAX_FILE_LINES:
                big.append("%s: %d lines" % (os.path.relpath(f, ROOT), n))
    assert not big, "files over %d lines:\n%s" % (MAX_FILE_LINES, "\n".join(big))


def layout_patterns():
    """The paths README's Layout lists: the first column, 'a.[ch]' for a.c and a.h,
    'dir/a.c, b.c' for two files, a glob, or a directory (ending in /) for all in it."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = text.split("\n## Layout\n", 1)[1].split("```\n", 2)[1]
    pats = []
    for line in block.splitlines():
        if not line.strip():
            continue
        first = line.split("  ")[0].strip()
        d = os.path.dirname(first.split(",")[0])
        for i, item in enumerate(p.strip() for p in first.split(",")):
            path = item if i == 0 else os.path.join(d, item)
            pats += [path.replace(".[ch]", e) for e in (".c", ".h")] if ".[ch]" in path else [path]
    return pats


def test_layout_lists_every_file():
    p = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True)
    if p.returncode != 0:
        import pytest
        pytest.skip("not a git checkout: the file list comes from git ls-files")
    pats = layout_patterns()
    assert len(pats) > 100
    missing = [f for f in p.stdout.split()
               if not any(fnmatch.fnmatch(f, x) or (x.endswith("/") and f.startswith(x))
                          for x in pats)]
    assert not missing, "README's Layout does not list:\n" + "\n".join(missing)
    # and lists nothing that is not there
    gone = [x for x in pats if not x.endswith("/") and not glob.glob(os.path.join(ROOT, x))]
    assert not gone, "README's Layout lists files that do not exist:\n" + "\n".join(gone)
