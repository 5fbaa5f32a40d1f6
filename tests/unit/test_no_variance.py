"""No claim without variance: identical values (a classifier that ignores its seed, seeds that tie)
are one measurement, so they carry no interval and decide no verdict; a classifier that says it is
deterministic is fitted once per training set."""

from __future__ import annotations

import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_execution_stats import Scripted

from harness.api import Classifier, Fit, hookimpl
from harness.config.suite import Suite
from harness.executors.local import local
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.reports.markdown import markdown
from harness.results.builder import build
from harness.results.metrics import paired_difference, summary
from harness.results.model import Leaderboard
from harness.results.validation import problems
from harness.store.cache import CachedEngine, Store

#: few distinct values, so that ties and all-equal vectors are common
SCORE = st.sampled_from([0.0, 0.25, 0.5, 0.7, 1.0]) | st.floats(0, 1, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(SCORE, min_size=1, max_size=6))
def test_an_interval_only_where_the_values_vary(values):
    s = summary(values)
    if len(values) > 1 and len(set(values)) == 1:
        assert s["ci95"] is None and "identical" in s["no_interval"]
    if s["ci95"] is None:  # one value, or none apart (also by less than floating point resolves)
        assert len(values) == 1 or "identical" in s["no_interval"]
    else:
        assert s["ci95"][0] < s["ci95"][1] and "no_interval" not in s


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(SCORE, SCORE), min_size=1, max_size=6))
def test_a_verdict_only_from_measured_variance(pairs):
    a = {i: x for i, (x, _) in enumerate(pairs)}
    b = {i: y for i, (_, y) in enumerate(pairs)}
    d = paired_difference(a, b)
    diffs = {100.0 * (x - y) for x, y in pairs}
    if len(pairs) == 1 or len(diffs) == 1:
        assert d["verdict"] == "not distinguishable" and d["points"]["ci95"] is None
    if d["verdict"] != "not distinguishable":
        lo, hi = d["points"]["ci95"]
        assert lo < hi and (lo > 0 if d["verdict"] == "better" else hi < 0)


class Centroid(Classifier):
    """Nearest class centroid of word counts: the same fit whatever the seed."""

    name = "centroid"
    deterministic = True
    fits = 0

    def fit_predict(self, train, test_texts, labels, ctx):
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.neighbors import NearestCentroid

        Centroid.fits += 1
        vec = CountVectorizer().fit([e.text for e in train])
        model = NearestCentroid().fit(vec.transform([e.text for e in train]).toarray(), [e.label for e in train])
        return Fit(list(model.predict(vec.transform(test_texts).toarray())))


def test_a_deterministic_classifier_is_fitted_once_and_claims_no_interval(tmp_path):
    plugin = types.ModuleType("centroid_plugin")
    plugin.bench_register_classifiers = hookimpl(lambda register: register(Centroid()))
    reg = load_registry(extra=[("centroid", plugin)])
    suite = Suite(tasks=["massive10"], languages=["sw"], strategies=["zero-shot", "target-demos"],
                  models=["gemma-3-270m"], classifiers=["centroid", "tfidf-logreg"], per_class=3, seeds=[0, 1, 2])
    plan = build_plan(suite, reg)
    store = Store(tmp_path / "c.sqlite")
    runner = Runner(plan, reg, tmp_path / "run", store, Reporter(enabled=False),
                    load_engine=lambda name: CachedEngine(Scripted(), store, name))
    Centroid.fits = 0
    runner.run_pending(local)
    assert Centroid.fits == 3  # gold and two strategies, once each: not once per seed
    board = build(plan, reg, runner.run)
    assert problems(board.to_json()) == []
    rows = [r for r in board.results if r.classifier == "centroid"]
    gold = board.gold_for("massive10", "sw", "centroid")
    for stat in [gold.scores.macro_f1] + [r.scores.macro_f1 for r in rows]:
        assert stat.ci95 is None and stat.std == 0.0 and "does not depend" not in stat.no_interval
        assert "identical" in stat.no_interval and "whatever its seed" in stat.no_interval
    assert all(s.fit == {"fitted_once": "deterministic classifier"} for s in gold.scores.per_seed)
    (cmp,) = [c for c in board.comparisons if c.classifier == "centroid"]
    assert cmp.verdict == "not distinguishable" and cmp.difference_points.ci95 is None
    assert cmp.difference_points.no_interval
    (best,) = [b for b in board.summaries.by_language if b.classifier == "centroid"]
    assert sorted(best.best_strategies) == ["target-demos", "zero-shot"]  # not narrowed by a non-verdict
    assert "(all 3 the same)" in markdown(board)
    # the manifest names the rows whose seeds measured no classifier variance, and only those
    flat = board.manifest.without_classifier_variance
    assert {"massive10/sw gold [centroid]", "massive10/sw zero-shot gemma-3-270m [centroid]",
            "massive10/sw target-demos gemma-3-270m [centroid]"} <= set(flat)
    varied = [r for r in board.results if r.classifier == "tfidf-logreg" and len({s.macro_f1 for s in r.scores.per_seed}) > 1]
    assert varied and not any(f"massive10/sw {r.strategy} gemma-3-270m [tfidf-logreg]" in flat for r in varied)
    assert f"{len(flat)} rows without classifier variance" in board.manifest.intervals
    # the tf-idf rows beside it keep their intervals
    assert all(r.scores.macro_f1.ci95 for r in board.results if r.classifier == "tfidf-logreg" and
               len({s.macro_f1 for s in r.scores.per_seed}) > 1)


@pytest.mark.parametrize("claim", ["scores", "comparison"])
def test_a_leaderboard_claiming_a_zero_width_interval_is_refused(claim):
    from test_gate import make_board

    doc = make_board()
    if claim == "scores":  # three identical seeds reported with an interval, as an older harness wrote them
        stat = doc["results"][0]["scores"]
        for s in stat["per_seed"]:
            s["macro_f1"] = 0.5
        stat["macro_f1"].update(mean=0.5, std=0.0, ci95=[0.5, 0.5])
        assert any("$.results[0].scores.macro_f1.ci95" in p for p in problems(doc))
    else:
        c = doc["comparisons"][0]
        c["difference_points"].update(mean=7.3, std=0.0, ci95=[7.3, 7.3])
        c["verdict"] = "better"
        assert any("$.comparisons[0].difference_points.ci95" in p and "width zero" in p for p in problems(doc))
    Leaderboard.from_json(doc)  # the schema still reads it: the refusal is the semantic check's
