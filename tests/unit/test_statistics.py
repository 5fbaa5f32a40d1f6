"""Comparisons that say when they know: paired differences checked against scipy, the best
strategy as a set, complete-case summaries per tier with floored cells, and schema versions."""

from __future__ import annotations

import json

import pytest
from fake_runs import result_row
from scipy import stats

from harness.errors import BenchError
from harness.results.aggregate import comparisons, summaries
from harness.results.leaderboard import validate_file
from harness.results.metrics import paired_difference, summary
from harness.results.model import Result, Stat


def test_paired_difference_matches_scipy_paired_t():
    a = {0: 0.71, 1: 0.74, 2: 0.69, 3: 0.75, 4: 0.72}
    b = {0: 0.66, 1: 0.70, 2: 0.68, 3: 0.69, 4: 0.70}
    out = paired_difference(a, b)
    ref = stats.ttest_rel([100 * a[s] for s in a], [100 * b[s] for s in a]).confidence_interval(0.95)
    assert out["points"]["ci95"] == pytest.approx([ref.low, ref.high])
    assert out["verdict"] == "better" and paired_difference(b, a)["verdict"] == "worse"
    noisy = paired_difference({0: 0.7, 1: 0.6}, {0: 0.65, 1: 0.66})
    assert noisy["verdict"] == "not distinguishable"


def test_single_seed_has_no_interval_and_decides_nothing():
    assert summary([0.5]) == {"mean": 0.5, "std": None, "ci95": None, "n": 1}
    assert paired_difference({0: 0.9}, {0: 0.1})["verdict"] == "not distinguishable"


def _stat(values):
    return Stat(**summary(values))


def row(strategy, language, f1s, *, tier="high", model="m", gold=0.9, floor=None) -> Result:
    """A result with the fields the summaries read (tests/fake_runs.result_row's)."""
    return result_row(strategy, f1s, gold=gold, floor=floor, language=language, tier=tier, model=model)


def test_best_strategy_is_a_set_when_the_top_ones_tie():
    rows = [row("a", "sw", [0.70, 0.72, 0.71]), row("b", "sw", [0.71, 0.70, 0.72]), row("c", "sw", [0.40, 0.41, 0.42])]
    (lang,) = summaries(rows).by_language
    assert lang.best_strategies == ["a", "b"] and lang.best_strategy in {"a", "b"}
    verdicts = {(c.a, c.b): c.verdict for c in comparisons(rows)}
    assert verdicts[("a", "c")] == "better" and verdicts[("b", "c")] == "better"
    assert verdicts[("a", "b")] == "not distinguishable"


def test_by_strategy_is_complete_case_per_tier_and_counts_floors():
    rows = [row("a", "sw", [0.6, 0.6, 0.6]), row("a", "cy", [0.5, 0.5, 0.5], tier="low"),
            row("a", "de", [0.9, 0.9, 0.9]),  # only "a" covers German: left out of the comparison
            row("b", "sw", [0.7, 0.7, 0.7]), row("b", "cy", [], tier="low", floor=0.1)]
    out = {(r.strategy, r.tier): r for r in summaries(rows).by_strategy}
    assert out[("a", "all")].mean_macro_f1 == pytest.approx(0.55) and out[("a", "all")].left_out == ["de"]
    assert out[("b", "all")].mean_macro_f1 == pytest.approx(0.4) and out[("b", "all")].floored == 1
    assert out[("b", "low")].languages == 1 and out[("b", "low")].mean_gap_points == pytest.approx(80.0)
    assert out[("a", "high")].mean_macro_f1 == pytest.approx(0.6)


def test_an_older_leaderboard_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": "1.0", "results": []}), encoding="utf-8")
    with pytest.raises(BenchError, match=r"schema 1.0; this harness reads 1.2\. Rebuild it by rerunning"):
        validate_file(path)


@pytest.mark.parametrize("version", ["9.0", "1.10", "2.0"])
def test_a_newer_leaderboard_is_answered_with_upgrading_the_harness(tmp_path, version):
    path = tmp_path / "new.json"
    path.write_text(json.dumps({"schema_version": version, "results": []}), encoding="utf-8")
    with pytest.raises(BenchError, match=r"written by a newer harness: upgrade this one") as exc:
        validate_file(path)
    assert "rerunning" not in str(exc.value)


def test_an_older_leaderboard_below_one_is_still_rebuilt(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": "0.9", "results": []}), encoding="utf-8")
    with pytest.raises(BenchError, match=r"Rebuild it by rerunning"):
        validate_file(path)
