"""A strategy's own options: its `[strategies."X"]` table, checked when the plan is built, resolved
over the suite's [generation] defaults, part of that strategy's cells only, and what the strategy
reads; the models it names (a summarizer) are loaded for it, first and alone."""

from __future__ import annotations

import pytest
from fakes import FakeEngine

from conftest import write_suite
from harness.api import BenchError, Option, Strategy, load_suite
from harness.config.suite import Suite
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, Store
from harness.store.rundir import RunDir


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def _suite(**kw) -> Suite:
    defaults = dict(tasks=["massive10"], languages=["de"], strategies=["target-demos", "target-demos+sl"],
                    models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=1, seeds=[0])
    defaults.update(kw)
    return Suite(**defaults)


def test_a_table_overrides_the_generation_default_for_its_strategy_only(reg):
    plan = build_plan(_suite(demos_per_class=4, strategy_options={"target-demos": {"demos_per_class": 2}}), reg)
    assert plan.strategy_options["target-demos"]["demos_per_class"] == 2
    assert plan.strategy_options["target-demos+sl"]["demos_per_class"] == 4  # the suite's [generation] value
    assert plan.strategy_options["target-demos+sl"]["summarizer"] == ""
    plain = build_plan(_suite(demos_per_class=4), reg)
    changed = {c.id for c in plan.gen_cells} - {c.id for c in plain.gen_cells}
    assert changed and all(".target-demos.gemma" in i for i in changed)  # the other strategy's cells keep their ids
    assert plan.settings_hash == plain.settings_hash  # one run directory holds both


@pytest.mark.parametrize("table, says", [
    ("demos_per_clas = 2", "has no option 'demos_per_clas'; did you mean 'demos_per_class'?"),
    ("demos_per_class = 0", "demos_per_class must be a positive integer, not int 0"),
    ('faithful = "yes"', "faithful must be true or false, not str 'yes'"),
    ("gpus = 1", "has no option 'gpus'"),  # strategies run where their model does
])
def test_a_wrong_table_fails_the_plan_with_its_line(reg, tmp_path, table, says):
    path = write_suite(tmp_path / "s.toml", "gemma-3-270m", strategies=("target-demos",),
                       extra=f'\n[strategies."target-demos"]\n{table}\n')
    line = path.read_text().splitlines().index(table) + 1
    with pytest.raises(BenchError, match=rf's.toml:{line}: \[strategies."target-demos"\] {says}'):
        build_plan(load_suite(path), reg)


def test_a_table_for_an_unknown_strategy_or_model_suggests_the_nearest(reg):
    with pytest.raises(BenchError, match=r"unknown strategy 'target-demo'; did you mean 'target-demos'"):
        build_plan(_suite(strategy_options={"target-demo": {"demos_per_class": 2}}), reg)
    with pytest.raises(BenchError, match=r"unknown model 'gemma-3-27m'; did you mean 'gemma-3-270m'"):
        build_plan(_suite(strategy_options={"target-demos+sl": {"summarizer": "gemma-3-27m"}}), reg)


class _Echo(Strategy):
    """A plugin strategy that declares one option of its own and reports what it was given."""

    name = "echo"
    options = {"words": Option(int, "a positive integer", 1, default=3)}

    def generate(self, ctx):
        from harness.api import Example, GenerationResult

        return GenerationResult([Example("x " * ctx.options["words"], lab) for lab in ctx.task.labels],
                                {"options": dict(ctx.options)})


def _runner(reg, suite, tmp_path, loads):
    store = Store(tmp_path / "c.sqlite")
    engines = {}

    def load(name):
        loads.append(name)
        engines[name] = FakeEngine("1. Ein Beispiel, das lang genug ist\n2. Noch ein anderes Beispiel hier",
                                   fingerprint=f"{name}@1")
        return CachedEngine(engines[name], store, name)

    plan = build_plan(suite, reg)
    return plan, Runner(plan, reg, tmp_path / "run", store, Reporter(enabled=False), load_engine=load)


def test_the_strategy_reads_its_resolved_options(reg, tmp_path):
    reg.strategies["echo"] = _Echo()
    try:
        plan, runner = _runner(reg, _suite(strategies=["echo", "target-demos"],
                                           strategy_options={"echo": {"words": 5}}), tmp_path, [])
        payloads = {c.strategy: p for c, p in runner.generation_payloads("gemma-3-270m", plan.gen_cells)}
    finally:
        del reg.strategies["echo"]
    assert payloads["echo"].stats.extra["options"] == {"words": 5}
    assert payloads["target-demos"].stats.demos.k == 10  # the suite's default, not echo's table


def test_a_summarizer_named_in_a_table_writes_the_summaries_first_and_alone(reg, tmp_path):
    loads: list[str] = []
    suite = _suite(strategies=["target-demos", "target-demos+sl"],
                   strategy_options={"target-demos+sl": {"summarizer": "hf:summarizer"}})
    plan, runner = _runner(reg, suite, tmp_path, loads)
    assert plan.helper_models == ["hf:summarizer"]
    runner.prepare(plan.gen_cells)
    assert loads == ["hf:summarizer"]  # the generator is not loaded to prepare
    files = RunDir(tmp_path / "run").summaries()
    assert len(files) == 1 and "hf_summarizer" in files[0].name
    payloads = {c.strategy: p for c, p in runner.generation_payloads("gemma-3-270m", plan.gen_cells)}
    assert loads == ["hf:summarizer", "gemma-3-270m"]  # summaries kept: the summarizer is not loaded again
    assert payloads["target-demos+sl"].stats.accepted > 0


def test_artefact_names_stay_inside_the_run_directory(tmp_path):
    art = RunDir(tmp_path).artifacts("cell")
    assert art.save("candidates.json", {"a": 1}) == tmp_path / "artefacts" / "cell" / "candidates.json"
    assert art.load("candidates.json") == {"a": 1} and art.load("missing.json") is None
    for bad in ("../x.json", "", "a/b.json"):
        with pytest.raises(ValueError, match="plain file name"):
            art.save(bad, {})
    with pytest.raises(ValueError, match="valid: summaries, demos"):
        art.save_shared("generations", "x.json", {})
    with pytest.raises(ValueError, match="save_shared"):
        RunDir(tmp_path).artifacts(None).save("candidates.json", {})
