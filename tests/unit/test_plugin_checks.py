"""What plugins hand back is checked before anything is scored: a strategy's examples, a
classifier's predictions, a task's gold rows; each failure is one line naming the plugin."""

from __future__ import annotations

import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_execution_stats import Scripted

from harness.api import Example, GenerationResult, Strategy, hookimpl
from harness.config.suite import Suite
from harness.errors import PluginError
from harness.executors.local import local
from harness.pipeline import checks
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, Store

LABELS = ("negative", "positive")


class Liar(Strategy):
    """Returns a label outside the task and an empty text, as a careless plugin might."""

    name = "liar"

    def generate(self, ctx):
        return GenerationResult([Example("habari njema", "positive"), Example("mbaya", "not-a-label"),
                                 Example("", "positive")], {"requested": 4})


def test_a_strategys_invalid_example_fails_the_cell_naming_the_strategy(tmp_path, data_dir):
    plugin = types.ModuleType("liar_plugin")
    plugin.bench_register_strategies = hookimpl(lambda register: register(Liar()))
    reg = load_registry(extra=[("liar", plugin)])
    suite = Suite(tasks=["sentiment"], languages=["sw"], strategies=["liar"], models=["gemma-3-270m"],
                  classifiers=["tfidf-logreg"], per_class=2, seeds=[0])
    plan = build_plan(suite, reg)
    store = Store(tmp_path / "c.sqlite")
    runner = Runner(plan, reg, tmp_path / "run", store, Reporter(enabled=False),
                    load_engine=lambda name: CachedEngine(Scripted(), store, name))
    with pytest.raises(PluginError, match=r"strategy 'liar' returned example 1 .*'not-a-label' is not one of"):
        runner.run_pending(local)
    assert not list((tmp_path / "run").glob("generations/*.json"))  # nothing saved as a complete cell


@pytest.mark.parametrize(("items", "says"), [
    ([Example("a", "positive"), ("b", "negative")], "a tuple, not an Example"),
    ([Example("  ", "positive")], "text is empty"),
    ([Example("a", "Positive")], "'Positive' is not one of"),
    ("positive", "as a str"),
])
def test_strategy_examples_are_checked(items, says):
    with pytest.raises(PluginError, match=says):
        checks.examples(items, LABELS, "s")


@pytest.mark.parametrize(("preds", "says"), [
    (["positive"], "1 predictions for 2 test texts"),
    (["positive", 1], "predicted 1 for test text 1"),
    (["positive", "neutral"], "'neutral' for test text 1"),
])
def test_classifier_predictions_are_checked(preds, says):
    with pytest.raises(PluginError, match=rf"classifier 'c' .*{says}"):
        checks.predictions(preds, 2, LABELS, "c")


def test_a_train_split_without_a_class_is_refused_naming_it():
    rows = [Example("a", "positive"), Example("b", "positive")]
    with pytest.raises(PluginError, match=r"task 't' \(sw/train\) has no example of \['negative'\]"):
        checks.gold_rows(rows, LABELS, "t", "sw", "train")
    assert checks.gold_rows(rows, LABELS, "t", "sw", "test") == rows  # a test split may lack a class


def test_a_gold_train_split_without_a_class_fails_the_plan_before_any_model(tmp_path, data_dir):
    import csv
    import shutil

    gold = tmp_path / "data"
    shutil.copytree(data_dir, gold)
    train = gold / "kinit" / "sentiment" / "sw-train_human_parsed.csv"
    with open(train, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    with open(train, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0]] + [r for r in rows[1:] if r[rows[0].index("intent")] == "negative"])
    from conftest import bench, write_suite

    suite = write_suite(tmp_path / "s.toml", "gemma-3-270m", tasks=["sentiment"], languages=["sw"])
    out = bench("run", str(suite), "--dry-run", "--data-dir", str(gold))
    assert out.returncode == 2 and "has no example of" in out.stderr and len(out.stderr.strip().splitlines()) == 1


_values = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.sampled_from(LABELS),
                    st.builds(Example, st.text(max_size=5), st.text(max_size=9)),
                    st.builds(Example, st.text(min_size=1, max_size=5), st.sampled_from(LABELS)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_values, max_size=5))
def test_fuzz_plugin_return_values_pass_only_when_valid(items):
    def valid_example(x):
        return isinstance(x, Example) and isinstance(x.text, str) and x.text.strip() and x.label in LABELS

    try:
        got = checks.examples(items, LABELS, "s")
    except PluginError as exc:
        assert "\n" not in str(exc) and "strategy 's'" in str(exc)
        assert not all(valid_example(x) for x in items)
    else:
        assert got == items and all(valid_example(x) for x in items)
    try:
        fit = checks.predictions(items, 3, LABELS, "c")
    except PluginError as exc:
        assert "\n" not in str(exc) and "classifier 'c'" in str(exc)
        assert len(items) != 3 or not all(x in LABELS for x in items)
    else:
        assert fit.predictions == items and len(items) == 3
