"""What only a real `bench` process shows: a reader that goes away before bench writes."""

import subprocess
import sys

from conftest import ROOT


def test_a_closed_pipe_ends_the_output_quietly(data_dir):
    """`bench run --dry-run | head -1`: the reader goes away before bench writes."""
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--dry-run", "--data-dir", str(data_dir)],
                            cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # closed before the interpreter has even imported the harness
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 0, err
    assert err == "", err
    shell = subprocess.run(f"'{sys.executable}' -m harness.cli run --dry-run --data-dir '{data_dir}' | head -1",
                           shell=True, cwd=str(ROOT),
                           capture_output=True, text=True, timeout=600)
    assert shell.stdout.startswith("estimate (") and shell.stderr == "", shell.stderr  # the bill comes first
