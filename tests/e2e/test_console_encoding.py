"""`bench report` prints under a stdout that cannot encode the report's characters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from fake_runs import fake_run

    root = tmp_path_factory.mktemp("enc")
    assert fake_run(root).returncode == 0
    return root / "run"


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_report_prints_under_a_narrow_stdout_encoding(run, encoding):
    out = subprocess.run([sys.executable, "-m", "harness.cli", "report", str(run)], capture_output=True, cwd=ROOT,
                         env={**os.environ, "PYTHONIOENCODING": encoding}, timeout=300)
    assert out.returncode == 0, out.stderr.decode(encoding, "replace")
    assert b"UnicodeEncodeError" not in out.stderr and b"sentiment" in out.stdout
    out.stdout.decode(encoding)  # every byte is one the stream's encoding holds
