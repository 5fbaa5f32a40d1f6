"""The public interface: one import for plugin authors, and `run` to benchmark a suite in-process
with the same result as `bench run`."""

from __future__ import annotations

import json

import pytest
from boards import without_clocks

import harness.api as api
from conftest import shared_data


def test_the_api_exports_what_a_plugin_needs():
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing
    for name in ("hookimpl", "Task", "FileTask", "HubTask", "HubSource", "Language", "Recipe", "ComposedStrategy", "ModelSpec", "Option",
                 "Engine", "Classifier", "GenerationContext", "ClassifierContext", "run"):
        assert name in api.__all__


def _without_timing(board: dict) -> list[dict]:
    """Rows without what the cache and the clock decide (the second run finds every generation cached)."""
    return without_clocks(json.loads(json.dumps(board["results"])), ("attempts", "engine_calls"))


def test_run_in_process_equals_the_command_line_run(tiny_run, tmp_path):
    suite = tiny_run.parent / "s.toml"
    board = api.run(suite, out=tmp_path / "run", cache_dir=tiny_run.parent / "cache", data_dir=shared_data())
    assert isinstance(board, api.Leaderboard)
    assert all(r.generation.engine_calls == 0 for r in board.results)  # the same cache answered
    cli = json.loads((tiny_run / "leaderboard.json").read_text())
    written = board.to_json()
    assert _without_timing(written) == _without_timing(cli) and written["gold"] == cli["gold"]


def test_run_checks_its_overrides_as_the_command_line_does(tiny_run, tmp_path):
    with pytest.raises(api.BenchError, match="per_class must be at least 1"):
        api.run(tiny_run.parent / "s.toml", out=tmp_path / "x", overrides={"per_class": 0})
    with pytest.raises(api.BenchError, match="unknown suite setting 'per_clas'"):
        api.run(tiny_run.parent / "s.toml", out=tmp_path / "x", overrides={"per_clas": 3})
    assert not (tmp_path / "x").exists()


def test_the_data_directory_travels_with_the_plan_not_the_environment(tmp_path, monkeypatch):
    import os

    from harness.config import datadir
    from harness.pipeline.run import choose_data_dir

    before = os.environ.get("BENCH_DATA_DIR")
    chosen, _ = choose_data_dir(api.Suite(), str(tmp_path))
    with datadir.reading(chosen):
        assert datadir.current() == str(tmp_path) and os.environ.get("BENCH_DATA_DIR") == before
    # without a flag, the environment is the user's word over the suite's data_dir
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "env"))
    assert choose_data_dir(api.Suite(data_dir=str(tmp_path / "suite")), None)[0] == str(tmp_path / "env")
