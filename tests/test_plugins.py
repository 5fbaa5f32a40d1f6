"""Plugin discovery: built-ins through entry points, a broken plugin, duplicates, strict mode, and a
third-party package installed into the environment."""

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from conftest import bench, write_suite
from harness.errors import PluginError
from harness.hookspecs import hookimpl
from harness.plugins import load_registry
from plugins.strategies import ComposedStrategy, Recipe

EXAMPLE = Path(__file__).parent / "example_plugin"


def test_builtins_come_through_entry_points():
    reg = load_registry()
    by_name = {p.name: p for p in reg.plugins}
    assert by_name["tasks"].distribution == "lowres-bench"
    assert set(by_name["tasks"].registered["tasks"]) == {"massive10", "sib200", "sentiment"}
    assert len(reg.strategies) >= 8 and "hf" in reg.models and "e5-logreg" in reg.classifiers


def _module(name, **hooks):
    mod = types.ModuleType(name)
    for k, v in hooks.items():
        setattr(mod, k, hookimpl(v))
    return mod


def test_failing_plugin_is_skipped_and_reported():
    def boom(register):
        raise RuntimeError("cannot reach my data")

    with pytest.warns(UserWarning, match="skipping plugin 'bad'"):
        reg = load_registry(extra=[("bad", _module("bad", bench_register_tasks=boom))])
    bad = next(p for p in reg.plugins if p.name == "bad")
    assert "cannot reach my data" in bad.error
    assert "massive10" in reg.tasks  # the others keep working


def test_strict_mode_makes_it_fatal(monkeypatch):
    def boom(register):
        raise RuntimeError("nope")

    with pytest.raises(PluginError, match="plugin 'bad'.*failed to register tasks.*nope"):
        load_registry(strict=True, extra=[("bad", _module("bad", bench_register_tasks=boom))])


def test_duplicate_names_name_both_plugins():
    def dup(register):
        register(ComposedStrategy("zero-shot", Recipe()))

    with pytest.raises(PluginError, match="strategy 'zero-shot' is registered twice: by plugin 'strategies' and by plugin 'copycat'"):
        load_registry(extra=[("copycat", _module("copycat", bench_register_strategies=dup))])


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    """pip-installs the example package into its own target directory: nothing in this
    repository or its environment changes."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(EXAMPLE)], check=True, capture_output=True)
    return {"PYTHONPATH": str(target)}


def test_example_package_appears_in_plugins_and_lists(installed_example):
    out = bench("plugins", "--json", env=installed_example)
    assert out.returncode == 0, out.stderr
    rows = {p["name"]: p for p in json.loads(out.stdout)}
    assert rows["example"]["distribution"] == "bench-example-plugin" and rows["example"]["version"] == "0.3.1"
    assert rows["example"]["registered"]["strategies"] == ["target-demos+nodigits"]
    assert rows["example"]["registered"]["languages"] == ["sib200:yo"]
    assert "ModuleNotFoundError" in rows["example_broken"]["error"]
    assert "bench: warning: skipping plugin 'example_broken'" in out.stderr

    langs = json.loads(bench("list", "languages", "--json", env=installed_example).stdout)
    assert {"task": "sib200", "language": "yo", "iso": "yor_Latn"}.items() <= next(
        r for r in langs if r["language"] == "yo").items()
    strict = bench("list", "tasks", env={**installed_example, "BENCH_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2
    assert strict.stderr.strip().startswith("bench: error: plugin 'example_broken'") and "Traceback" not in strict.stderr
    for flag_first in (["--strict-plugins", "list", "tasks"], ["list", "tasks", "--strict-plugins"]):
        assert bench(*flag_first, env=installed_example).returncode == 2


def test_example_task_and_strategy_run_end_to_end(installed_example, tiny_model, tmp_path):
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", tasks=["toy-sentiment"], languages=["sw"],
                        strategies=["target-demos+nodigits"], per_class=2)
    out = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress", env=installed_example)
    assert out.returncode == 0, out.stderr
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert [(r["task"], r["strategy"]) for r in board["results"]] == [("toy-sentiment", "target-demos+nodigits")]
    assert board["gold"][0]["train_size"] == 4
    names = {p["name"] for p in board["manifest"]["plugins"]}
    assert "example" in names and "example_broken" not in names
