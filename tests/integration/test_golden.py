"""Golden tests: saved traces whose `report` output is pinned byte for byte.

tests/golden/ holds traces recorded on the test machine with `run`,
`attach -p`, `attach -a`, `--futex-syscalls` and `--model=all` (format
version 2; NAME3: version 3), a run with a chain break and a run that lost
events in version 4 (run4, lost4), and, for each, what `concscope report`
printed (100 columns, no colour) and its --json. Replaying needs no privileges. When an output changes on purpose,
tools/golden.sh rewrites the expected files and the commit says why.
"""
import os
import subprocess
import tempfile

import pytest

from conftest import CONCSCOPE, ROOT

GOLDEN = os.path.join(ROOT, "tests", "golden")
TRACES = sorted(f[:-len(".pftrace")] for f in os.listdir(GOLDEN) if f.endswith(".pftrace"))


def test_every_kind_of_recording_is_pinned():
    assert {"run", "attach", "all", "futex", "models"} <= set(TRACES)
    # format version 4 (links): a run with a chain break, a run that lost events
    assert {"run4", "lost4"} <= set(TRACES)


@pytest.mark.parametrize("name", TRACES)
def test_report_output_is_unchanged(name):
    if not os.path.exists(CONCSCOPE):
        pytest.skip("build/concscope is not built (run make)")
    trace = os.path.join(GOLDEN, name + ".pftrace")
    env = dict(os.environ, COLUMNS="100", NO_COLOR="1")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.json")
        p = subprocess.run([CONCSCOPE, "report", trace, "--color", "never", "--json", out],
                           capture_output=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        with open(os.path.join(GOLDEN, name + ".txt"), "rb") as f:
            assert p.stdout == f.read(), "terminal output differs: see tools/golden.sh"
        with open(out, "rb") as got, open(os.path.join(GOLDEN, name + ".json"), "rb") as f:
            assert got.read() == f.read(), "--json differs: see tools/golden.sh"
