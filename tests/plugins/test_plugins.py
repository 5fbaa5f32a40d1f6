"""Plugin discovery: built-ins through entry points, a broken plugin, duplicates, strict mode, and a
third-party package installed into the environment."""

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from conftest import bench_process, write_suite
from harness.api import ComposedStrategy, FileTask, Recipe
from harness.contracts import Language
from harness.errors import PluginError
from harness.hookspecs import hookimpl
from harness.registry.discovery import load_registry

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


def test_duplicate_name_keeps_the_first_and_skips_only_that_item():
    def dup(register):
        register(ComposedStrategy("zero-shot", Recipe()))
        register(ComposedStrategy("copycat-own", Recipe()))

    with pytest.warns(UserWarning, match="plugin 'copycat': strategy 'zero-shot' already registered by plugin "
                                         "'strategies'; this one skipped"):
        reg = load_registry(extra=[("copycat", _module("copycat", bench_register_strategies=dup))])
    copycat = next(p for p in reg.plugins if p.name == "copycat")
    assert copycat.error is None and copycat.registered == {"strategies": ["copycat-own"]}
    assert copycat.conflicts == ["strategy 'zero-shot' already registered by plugin 'strategies'; this one skipped"]
    assert reg.plugin_of("strategies", "zero-shot") == "strategies" and "copycat-own" in reg.strategies
    with pytest.raises(PluginError, match="plugin 'copycat'.*strategy 'zero-shot' already registered"):
        load_registry(strict=True, extra=[("copycat", _module("copycat", bench_register_strategies=dup))])


def test_duplicate_language_is_a_conflict_not_a_failure():
    def yo(register):
        register("sib200", Language("yo", "Yoruba", "yor_Latn", "low", "yor_Latn"))

    def tasks(register):
        register(FileTask(name="mine", labels=("a", "b"), description="", languages={}, files={}))

    with pytest.warns(UserWarning, match="language 'sib200:yo' already registered by plugin 'first'"):
        reg = load_registry(extra=[("first", _module("first", bench_register_languages=yo)),
                                   ("second", _module("second", bench_register_languages=yo,
                                                      bench_register_tasks=tasks))])
    second = next(p for p in reg.plugins if p.name == "second")
    assert second.error is None and "mine" in reg.tasks and second.conflicts
    assert "yo" in reg.tasks["sib200"].languages()


@pytest.mark.parametrize("exc", [SystemExit(3), SystemExit("bye"), GeneratorExit()])
def test_system_exit_in_a_hook_is_that_plugins_failure(exc):
    def leave(register):
        raise exc

    with pytest.warns(UserWarning, match="skipping plugin 'quitter'"):
        reg = load_registry(extra=[("quitter", _module("quitter", bench_register_strategies=leave))])
    quitter = next(p for p in reg.plugins if p.name == "quitter")
    assert quitter.error.startswith(f"register strategies: {type(exc).__name__}")
    assert "zero-shot" in reg.strategies
    with pytest.raises(PluginError, match=f"plugin 'quitter'.*failed to register strategies: {type(exc).__name__}"):
        load_registry(strict=True, extra=[("quitter", _module("quitter", bench_register_strategies=leave))])


def test_keyboard_interrupt_is_never_swallowed():
    def stop(register):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_registry(extra=[("stopper", _module("stopper", bench_register_tasks=stop))])


def test_a_failed_plugin_contributes_nothing():
    def tasks(register):
        register(FileTask(name="half-done", labels=("a", "b"), description="", languages={}, files={}))

    def strategies(register):
        raise RuntimeError("broken after the tasks")

    with pytest.warns(UserWarning, match="skipping plugin 'half'"):
        reg = load_registry(extra=[("half", _module("half", bench_register_tasks=tasks,
                                                    bench_register_strategies=strategies))])
    half = next(p for p in reg.plugins if p.name == "half")
    assert half.error and half.registered == {} and "half-done" not in reg.tasks


def test_unknown_hook_is_reported_with_the_nearest_name():
    def typo(register):
        register(ComposedStrategy("never-seen", Recipe()))

    with pytest.warns(UserWarning, match="skipping plugin 'typo'"):
        reg = load_registry(extra=[("typo", _module("typo", bench_register_strategy=typo))])
    info = next(p for p in reg.plugins if p.name == "typo")
    assert "unknown hook 'bench_register_strategy' (did you mean 'bench_register_strategies'?)" in info.error
    assert "never-seen" not in reg.strategies and "zero-shot" in reg.strategies
    with pytest.raises(PluginError, match="plugin 'typo'.*unknown hook 'bench_register_strategy'"):
        load_registry(strict=True, extra=[("typo", _module("typo", bench_register_strategy=typo))])


def _dist(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str],
          group: str = "lowres_bench") -> Path:
    """A distribution installed by hand: a dist-info with entry points, and its modules."""
    info = root / f"{name.replace('-', '_')}-0.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.2\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    for mod, text in modules.items():
        (root / f"{mod}.py").write_text(text)
    return root


THIRD_PARTY = {
    # sorts before every built-in name, and takes the built-in 'zero-shot' and entry-point name 'strategies'
    "aaa_first": "aaa_copycat",
    "strategies": "aaa_copycat",
    "exits": "aaa_exits",
}
MODULES = {
    "aaa_copycat": (
        "from harness.hookspecs import hookimpl\n"
        "from harness.api import ComposedStrategy, Recipe\n"
        "@hookimpl\n"
        "def bench_register_strategies(register):\n"
        "    register(ComposedStrategy('zero-shot', Recipe(demos='target')))\n"
        "    register(ComposedStrategy('aaa-own', Recipe()))\n"
    ),
    "aaa_exits": "import sys\nsys.exit(7)\n",
}


def test_installed_conflicts_and_exits_leave_the_builtins_in_charge(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(_dist(tmp_path, "aaa-plugin", THIRD_PARTY, MODULES)))
    with pytest.warns(UserWarning):
        reg = load_registry()
    rows = [p for p in reg.plugins if p.distribution == "aaa-plugin"]
    by_name = {p.name: p for p in rows}
    assert reg.plugin_of("strategies", "zero-shot") == "strategies"  # the built-in won
    assert by_name["aaa_first"].registered == {"strategies": ["aaa-own"]} and by_name["aaa_first"].error is None
    assert by_name["aaa_first"].conflicts == [
        "strategy 'zero-shot' already registered by plugin 'strategies'; this one skipped"]
    assert "SystemExit: 7" in by_name["exits"].error and by_name["exits"].error.startswith("import:")
    assert "entry-point name 'strategies' is already used by lowres-bench" in by_name["strategies"].error
    builtin = next(p for p in reg.plugins if p.name == "strategies" and p.distribution == "lowres-bench")
    assert builtin.error is None and "zero-shot" in builtin.registered["strategies"]


def test_bench_plugins_shows_failures_and_strict_mode_is_one_line(tmp_path):
    """A package found on the path of a new process, as an installed one is (so `bench` runs as one)."""
    env = {"PYTHONPATH": str(_dist(tmp_path, "aaa-plugin", THIRD_PARTY, MODULES))}
    out = bench_process("plugins", "--json", env=env)
    assert out.returncode == 0, out.stderr
    rows = [r for r in json.loads(out.stdout) if r["distribution"] == "aaa-plugin"]
    assert {r["name"]: (r["version"], bool(r["error"]), len(r["conflicts"])) for r in rows} == {
        "aaa_first": ("0.2", False, 1), "exits": ("0.2", True, 0), "strategies": ("0.2", True, 0)}
    table = bench_process("plugins", env=env)
    assert table.returncode == 0 and "SystemExit: 7" in table.stdout and "already registered" in table.stdout
    listed = bench_process("list", "strategies", "--json", env=env)
    assert listed.returncode == 0 and "aaa-own" in {s["name"] for s in json.loads(listed.stdout)}
    strict = bench_process("plugins", "--strict-plugins", env=env)
    assert strict.returncode == 2 and len(strict.stderr.strip().splitlines()) == 1
    assert strict.stderr.startswith("bench: error: plugin 'exits' (aaa-plugin) failed to import: SystemExit: 7") and "Traceback" not in strict.stderr


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    """pip-installs the example package into its own target directory: nothing in this
    repository or its environment changes."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(EXAMPLE)], check=True, capture_output=True)
    return {"PYTHONPATH": str(target)}


def test_example_package_appears_in_plugins_and_lists(installed_example):
    out = bench_process("plugins", "--json", env=installed_example)
    assert out.returncode == 0, out.stderr
    rows = {p["name"]: p for p in json.loads(out.stdout)}
    assert rows["example"]["distribution"] == "bench-example-plugin" and rows["example"]["version"] == "0.3.1"
    assert rows["example"]["registered"]["strategies"] == ["target-demos+nodigits"]
    assert rows["example"]["registered"]["languages"] == ["sib200:yo"]
    assert "ModuleNotFoundError" in rows["example_broken"]["error"]
    assert "bench: warning: skipping plugin 'example_broken'" in out.stderr

    langs = json.loads(bench_process("list", "languages", "--json", env=installed_example).stdout)
    assert {"task": "sib200", "language": "yo", "iso": "yor_Latn"}.items() <= next(
        r for r in langs if r["language"] == "yo").items()
    strict = bench_process("list", "tasks", env={**installed_example, "BENCH_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2
    assert strict.stderr.strip().startswith("bench: error: plugin 'example_broken'") and "Traceback" not in strict.stderr
    for flag_first in (["--strict-plugins", "list", "tasks"], ["list", "tasks", "--strict-plugins"]):
        assert bench_process(*flag_first, env=installed_example).returncode == 2


def test_example_task_and_strategy_run_end_to_end(installed_example, tiny_model, tmp_path):
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", tasks=["toy-sentiment"], languages=["sw"],
                        strategies=["target-demos+nodigits"], per_class=2)
    out = bench_process("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress", env=installed_example)
    assert out.returncode == 0, out.stderr
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert [(r["task"], r["strategy"]) for r in board["results"]] == [("toy-sentiment", "target-demos+nodigits")]
    assert board["gold"][0]["train_size"] == 4
    names = {p["name"] for p in board["manifest"]["plugins"]}
    assert "example" in names and "example_broken" not in names


def test_a_plugin_in_the_old_entry_point_group_is_named_with_how_to_move_it(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(_dist(tmp_path, "old-plugin", {"old": "aaa_copycat"}, MODULES, group="bench")))
    with pytest.warns(UserWarning, match=r"'old' \(old-plugin\) declares the entry-point group 'bench'; it is now "
                                         r"'lowres_bench'"):
        reg = load_registry()
    assert "old" not in {p.name for p in reg.plugins} and "aaa-own" not in reg.strategies


@pytest.mark.parametrize("strict, env, undo", [("--strict-plugins", None, "drop --strict-plugins"),
                                               (None, "1", "unset BENCH_STRICT_PLUGINS"),
                                               (True, None, "call load_registry(strict=False)")])
def test_the_strict_mode_error_names_what_turned_it_on(monkeypatch, strict, env, undo):
    def leave(register):
        raise RuntimeError("broken")

    if env:
        monkeypatch.setenv("BENCH_STRICT_PLUGINS", env)
    else:
        monkeypatch.delenv("BENCH_STRICT_PLUGINS", raising=False)
    with pytest.raises(PluginError, match=f"strict plugins are on: {undo.replace('(', '.').replace(')', '.')} to skip it"):
        load_registry(strict=strict, extra=[("broken", _module("broken", bench_register_strategies=leave))])


def test_an_automatic_recipe_description_lists_every_ingredient():
    def no_digits(text, label, ctx):
        return "digits" if any(c.isdigit() for c in text) else None

    def longest_first(pool, k, rng):
        return pool[:k]

    text = ComposedStrategy("mine", Recipe(demos="target", k=3, select=longest_first, filters=(no_digits,),
                                           near_duplicates=0.8)).description
    for part in ("3 demonstrations per class", "chosen by longest_first", "filters: no_digits",
                 "near-duplicates rejected at char-3-gram Jaccard >= 0.8"):
        assert part in text, text
