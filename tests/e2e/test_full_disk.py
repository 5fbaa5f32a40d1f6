"""A run whose disk fills up: it stops with one line that says what to do, leaves nothing
half-written, and once space is freed the same command resumes it to the leaderboard an uninterrupted
run writes. Needs a small tmpfs (root, or a user who may mount); skipped where the machine has none."""

from __future__ import annotations

import errno
import json
import subprocess
from pathlib import Path

import pytest
from boards import without_clocks
from unit.test_execution_stats import TIMING, Scripted, plan_for

from harness.errors import BenchError
from harness.executors.local import local
from harness.pipeline.progress import Reporter
from harness.pipeline.run import disk_problem
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.results.builder import build
from harness.store.cache import CachedEngine, Store


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"no tmpfs can be mounted here ({done.stderr.decode().strip() or 'mount failed'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _run(plan, reg, out: Path, store: Store):
    runner = Runner(plan, reg, out, store, Reporter(enabled=False), load_engine=lambda n: CachedEngine(Scripted(), store, n))
    runner.run_pending(local)
    return build(plan, reg, runner.run).to_json()


def _comparable(board):
    without_clocks(board["results"], TIMING)
    for w in board["manifest"].get("shared_work", []):
        w.pop("engine_seconds", None)
    return {k: v for k, v in board.items() if k != "manifest"}


def test_a_full_disk_stops_cleanly_and_the_run_resumes_once_space_is_freed(small_disk, tmp_path):
    reg = load_registry()
    plan = plan_for(reg)
    whole = _run(plan, reg, tmp_path / "whole", Store(tmp_path / "a.sqlite"))

    out = small_disk / "run"
    filler = small_disk / "filler"
    with open(filler, "wb") as f:  # leave room for the manifest and a cell or two, not the whole run
        try:
            f.write(b"\0" * (1024 * 1024 - 64 * 1024))
        except OSError:
            pass
    store = Store(tmp_path / "b.sqlite")
    with pytest.raises(OSError) as err:
        _run(plan, reg, out, store)
    assert err.value.errno == errno.ENOSPC
    line = str(disk_problem(err.value, out))
    assert "\n" not in line and "no space left" in line.lower() and "rerun the same command" in line
    # nothing half-written: every file there is whole JSON (or a ledger of whole lines), no temporary file
    for path in out.rglob("*"):
        if path.is_file():
            assert not path.name.startswith(".") and not path.name.endswith(".tmp"), path
            if path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
    kept = list((out / "generations").glob("*.json"))
    assert 0 < len(kept) < len(plan.gen_cells), kept  # the disk filled up part-way, not before the first cell
    filler.unlink()
    resumed = _run(plan, reg, out, store)
    assert _comparable(resumed) == _comparable(whole)


def test_a_disk_problem_is_one_line_and_anything_else_is_not_hidden(tmp_path):
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "run" / "generations" / "x.json"))
    said = disk_problem(full, tmp_path / "run")
    assert isinstance(said, BenchError) and "x.json" in str(said) and "--out" in str(said)
    assert disk_problem(OSError(errno.EIO, "Input/output error"), tmp_path) is None  # a real failure stays one


def test_a_healthy_cache_on_a_full_disk_is_not_called_corrupt(small_disk):
    store = Store(small_disk / "c.sqlite")
    store.add_rate("engine", "m", "cpu", 1, 1)
    store.close()  # the last connection checkpoints the WAL and removes -wal/-shm
    try:
        with open(small_disk / "fill", "wb") as fh:
            while True:
                fh.write(b"0" * 65536)
    except OSError:
        pass
    with pytest.raises(BenchError) as exc:
        Store(small_disk / "c.sqlite")
    assert "cannot use cache file" in str(exc.value) and "not damaged" in str(exc.value)
    assert "is corrupt" not in str(exc.value)
    (small_disk / "fill").unlink()
    Store(small_disk / "c.sqlite").close()  # space freed: the same file opens
