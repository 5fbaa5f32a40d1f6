"""A result made from other data or other prompts is never reused: data fingerprints in cell
identity, in the manifest and the leaderboard, and a run directory that refuses to resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import bench, write_suite
from harness.config.suite import Suite
from harness.errors import BenchError
from harness.pipeline.plan import build_plan
from harness.registry.discovery import load_registry
from harness.store.rundir import RunDir


def copy_sentiment(src: Path, dst: Path) -> Path:
    (dst / "kinit" / "sentiment").mkdir(parents=True)
    for name in ("sw-train_human_parsed.csv", "sw-test.csv", "en-train_human_parsed.csv"):
        shutil.copy(src / "kinit" / "sentiment" / name, dst / "kinit" / "sentiment" / name)
    return dst


def edit_first_text(path: Path) -> None:
    """One word more in the first example's text (its first row's text is not quoted)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    col = lines[0].split(",").index("text")
    cells = lines[1].split(",", col)
    cells[col] = "edited " + cells[col]
    lines[1] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")


def _plan(monkeypatch, data: Path, strategies=("zero-shot", "english-demos+sl")):
    monkeypatch.setenv("BENCH_DATA_DIR", str(data))
    suite = Suite(tasks=["sentiment"], languages=["sw"], strategies=list(strategies), models=["gemma-3-270m"],
                  classifiers=["tfidf-logreg"], per_class=4, seeds=[0])
    return build_plan(suite, load_registry())


def test_a_gold_edit_changes_exactly_the_cells_that_read_it(tmp_path, monkeypatch, data_dir):
    a = _plan(monkeypatch, copy_sentiment(data_dir, tmp_path / "a"))
    edited = copy_sentiment(data_dir, tmp_path / "b")
    edit_first_text(edited / "kinit" / "sentiment" / "sw-test.csv")
    b = _plan(monkeypatch, edited)
    assert a.provenance["data"]["sentiment/sw/train"] == b.provenance["data"]["sentiment/sw/train"]
    assert a.provenance["data"]["sentiment/sw/test"] != b.provenance["data"]["sentiment/sw/test"]
    assert "sentiment/en/train" in a.provenance["data"]  # english-demos+sl reads English train
    # every cell depends on the test split (gold and synthetic are scored on it)
    assert not {c.id for c in a.eval_cells} & {c.id for c in b.eval_cells}
    english = copy_sentiment(data_dir, tmp_path / "c")
    edit_first_text(english / "kinit" / "sentiment" / "en-train_human_parsed.csv")
    c = _plan(monkeypatch, english)
    moved = {g.strategy for g in c.gen_cells} - {g.strategy for g in a.gen_cells if g.id in {x.id for x in c.gen_cells}}
    assert moved == {"english-demos+sl"}  # zero-shot does not read English train: its cell keeps its id


def test_resume_after_a_method_change_is_refused(tmp_path):
    run = RunDir(tmp_path / "run")
    run.open({"x": 1}, "h", {"provenance": {"data": {"t/sw/test": "aaa"}, "methods": {"zero-shot": "m1"}}})
    run.open({"x": 1}, "h", {"provenance": {"data": {"t/sw/test": "aaa", "t/de/test": "ccc"},
                                            "methods": {"zero-shot": "m1"}}})  # a larger plan is fine
    with pytest.raises(BenchError, match=r"made from other strategy prompts or code: zero-shot changed"):
        run.open({"x": 1}, "h", {"provenance": {"data": {"t/sw/test": "aaa"}, "methods": {"zero-shot": "m2"}}})
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["provenance"]["data"] == {"t/sw/test": "aaa", "t/de/test": "ccc"}


def test_resume_after_editing_a_gold_file_refuses_and_names_it(tmp_path, tiny_model, data_dir):
    data = copy_sentiment(data_dir, tmp_path / "data")
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", per_class=2, seeds=1)
    env = {"BENCH_DATA_DIR": str(data)}
    first = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress", env=env)
    assert first.returncode == 0, first.stderr
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert set(board["manifest"]["data_fingerprints"]) == {"sentiment/sw/train", "sentiment/sw/test"}
    edit_first_text(data / "kinit" / "sentiment" / "sw-train_human_parsed.csv")
    again = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress", env=env)
    assert again.returncode == 2
    last = again.stderr.strip().splitlines()[-1]
    assert "made from other gold data: sentiment/sw/train changed" in last and "Traceback" not in again.stderr
    assert not list((tmp_path / "run" / "generations").glob("*.tmp"))
