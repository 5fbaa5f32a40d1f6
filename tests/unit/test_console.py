"""Output survives a stdout that cannot encode the report's characters."""

from __future__ import annotations

import pytest
from fake_runs import fake_run

from conftest import ROOT
from harness.cli import console


def test_unencodable_characters_take_their_ascii_form():
    text = "2.6 ± 1.0 — ★ best; Kiswahili ≥ 3; አማርኛ"
    assert text.encode("ascii", console.ERRORS) == b"2.6 +/- 1.0 -- * best; Kiswahili >= 3; \\u12a0\\u121b\\u122d\\u129b"
    assert text.encode("latin-1", console.ERRORS).decode("latin-1").startswith("2.6 ± 1.0 -- * best")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("enc")
    assert fake_run(root).returncode == 0
    return root / "run"


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_report_prints_under_a_narrow_stdout_encoding(run, encoding):
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "harness.cli", "report", str(run)], capture_output=True, cwd=ROOT,
                         env={**os.environ, "PYTHONIOENCODING": encoding}, timeout=300)
    assert out.returncode == 0, out.stderr.decode(encoding, "replace")
    assert b"UnicodeEncodeError" not in out.stderr and b"sentiment" in out.stdout
    out.stdout.decode(encoding)  # every byte is one the stream's encoding holds
