"""Quality against cost: each row's cost, the Pareto frontier over (gap, cost) with the unit named,
a model's declared price, and the diagnostics that may explain a score."""

import json

import numpy as np
import pytest
from boards import leaderboard
from fake_runs import fake_run, result_row

from conftest import bench, write_suite
from harness.config.suite import PRICE
from harness.pipeline.diagnostics import diagnose, kid, mean_pairwise_cosine_distance
from harness.records import GenerationStats
from harness.reports.html import html_page
from harness.reports.markdown import markdown
from harness.reports.plots import FRONTIER_LINE
from harness.results.explain import correlations
from harness.results.frontier import frontiers, row_cost
from harness.results.model import Cost, Diagnostics, Leaderboard, to_json


def _row(strategy, f1s, seconds, tokens=None, model="m", language="sw", price=None):
    """A row whose generation took `seconds` of engine time and, unless given, 10 prompt tokens plus
    that many times 10 completion tokens, so its token cost orders as its time does."""
    row = result_row(strategy, f1s, language=language)
    row.model = model
    tokens = int(10 * seconds) - 10 if tokens is None else tokens
    row.cost = row_cost([GenerationStats(prompt_tokens=10, completion_tokens=tokens, engine_seconds=seconds,
                                         model_identity={"device_kind": "cpu"})], None, price)
    return row


def test_the_frontier_keeps_what_no_other_point_beats_on_both():
    rows = [_row("zero-shot", [0.3, 0.32, 0.31], 1.0), _row("target-demos", [0.6, 0.62, 0.61], 2.0),
            _row("target-demos+revision", [0.61, 0.63, 0.6], 20.0), _row("sl", [0.2, 0.21, 0.22], 3.0)]
    (f,) = [f for f in frontiers(rows) if f.language == "sw"]
    by = {p.strategy: p for p in f.points}
    assert f.unit == "tokens" and [p.strategy for p in f.points] == ["zero-shot", "target-demos", "sl",
                                                                            "target-demos+revision"]
    assert by["zero-shot"].on_frontier and by["target-demos"].on_frontier and by["target-demos+revision"].on_frontier
    assert not by["sl"].on_frontier  # worse gap than zero-shot at a higher cost
    assert by["target-demos+revision"].times_cheapest == 20.0 and by["target-demos"].gap_ci95 is not None
    text = markdown(leaderboard(results=[to_json(r) for r in rows], frontiers=[to_json(f)]))
    assert "## Quality against cost" in text and "The smallest gap costs 20x the cheapest point" in text


def test_the_unit_is_price_where_every_model_has_one_else_tokens():
    priced = [_row("a", [0.5, 0.5, 0.6], 3600.0, price={"gpu_hour": 2.0}),
              _row("b", [0.4, 0.5, 0.4], 0.0, tokens=1_000_000, price={"input_per_mtok": 1.0, "output_per_mtok": 3.0})]
    assert priced[0].cost.price == 2.0 and priced[0].cost.price_basis == "gpu_hour"
    assert priced[1].cost.price == pytest.approx(3.0 + 10 / 1e6) and priced[1].cost.price_basis == "tokens"
    assert frontiers(priced)[0].unit == "price"
    mixed = [_row("a", [0.5, 0.5, 0.6], 0.0, tokens=40, price={"gpu_hour": 1.0}), _row("b", [0.4, 0.5, 0.4], 1.0, tokens=20)]
    (f,) = frontiers(mixed)
    assert f.unit == "tokens" and {p.strategy: p.cost for p in f.points} == {"a": 50.0, "b": 30.0}


def test_a_tier_pools_its_languages_and_a_single_point_has_no_frontier():
    rows = [_row("a", [0.5, 0.5, 0.6], 1.0, language="sw"), _row("b", [0.6, 0.6, 0.7], 2.0, language="sw"),
            _row("a", [0.4, 0.5, 0.5], 1.0, language="am"), _row("b", [0.3, 0.3, 0.4], 4.0, language="am")]
    pooled = next(f for f in frontiers(rows) if f.language == "tier:high")
    assert {p.languages for p in pooled.points} == {2}
    assert next(p for p in pooled.points if p.strategy == "b").cost == 30.0  # 20 and 40 tokens
    assert frontiers([_row("a", [0.5, 0.5, 0.6], 1.0)]) == []


@pytest.mark.parametrize("value, message", [
    ({"input_per_mtk": 1.0}, "did you mean 'input_per_mtok'"),
    ({"gpu_hour": -1}, "gpu_hour must be a number, 0 or more"),
    ({"gpu_hour": 1, "input_per_mtok": 1}, "not both"),
    (3, "must be a table"),
])
def test_a_price_is_checked(value, message):
    assert message in PRICE.problem(value)


def test_a_price_stays_out_of_identity_and_a_bad_one_fails_the_dry_run(tmp_path):
    plain = write_suite(tmp_path / "a.toml", "gemma-3-270m", per_class=2)
    priced = write_suite(tmp_path / "b.toml", "gemma-3-270m", per_class=2,
                         extra='\n[models."gemma-3-270m"]\nprice = {gpu_hour = 2.5}\n')
    ids = [json.loads(bench("run", str(s), "--dry-run", "--json").stdout)["generation_cells"] for s in (plain, priced)]
    assert ids[0] == ids[1]
    bad = write_suite(tmp_path / "c.toml", "gemma-3-270m", extra='\n[models."gemma-3-270m"]\nprice = {gpu_hr = 2.5}\n')
    out = bench("run", str(bad), "--dry-run")
    assert out.returncode == 2 and "did you mean 'gpu_hour'" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_run_writes_each_rows_cost_and_its_frontier(tmp_path):
    assert fake_run(tmp_path).returncode == 0
    board = Leaderboard.from_json(json.loads((tmp_path / "run" / "leaderboard.json").read_text()))
    for r in board.results:
        assert r.cost.completion_tokens == r.generation.completion_tokens and r.cost.prompt_tokens == r.generation.prompt_tokens
    (f,) = [f for f in board.frontiers if f.language == "sw"]
    assert {p.strategy for p in f.points} == {"zero-shot", "target-demos"} and any(p.on_frontier for p in f.points)
    page = html_page(board)
    assert f'id="{FRONTIER_LINE}-f0"' in page and "Quality against cost" in page


def test_kernel_distance_and_diversity_move_the_right_way():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 16)), rng.normal(size=(40, 16))
    assert abs(kid(a, b)) < 0.05 < kid(a, b + 1.0)
    assert mean_pairwise_cosine_distance(np.ones((3, 4))) == pytest.approx(0.0, abs=1e-9)
    assert mean_pairwise_cosine_distance(np.eye(4)) == pytest.approx(1.0)
    assert kid(a[:1], b) is None


def test_diagnose_measures_fidelity_against_its_gold_ceiling():
    from harness.contracts import Example

    vec = {"a1": [1, 0], "a2": [0.9, 0.1], "b1": [0, 1], "b2": [0.1, 0.9], "x": [1, 0.05], "y": [0.05, 1]}
    gold = [Example("a1", "a"), Example("a2", "a"), Example("b1", "b"), Example("b2", "b")]
    synthetic = [Example("x", "a"), Example("y", "a")]  # one of two carries its label

    def fit_predict(train, texts, seed):
        return ["a" if vec[t][0] > vec[t][1] else "b" for t in texts]

    out = diagnose(synthetic, gold, gold, [0, 1], lambda texts: np.array([vec[t] for t in texts], float), fit_predict)
    assert out["label_fidelity"] == 0.5 and out["gold_label_fidelity"] == 1.0
    assert out["gold_diversity"] is not None and out["distance_to_gold"] is not None


def test_correlations_need_three_rows_and_variation():
    rows = [result_row(s, [v, v + 0.01, v + 0.02]) for s, v in (("a", 0.2), ("b", 0.4), ("c", 0.6))]
    for r, fid in zip(rows, (0.3, 0.6, 0.9)):
        r.diagnostics = Diagnostics(label_fidelity=fid, gold_label_fidelity=0.9, diversity=0.1, gold_diversity=0.2,
                                    distance_to_gold=0.5)
    by = {c.diagnostic: c for c in correlations(rows)}
    assert by["label_fidelity"].rho == -1.0 and by["label_fidelity"].n == 3  # more fidelity, smaller gap
    assert by["diversity"].rho is None and by["diversity"].note == "no variation to rank"
    assert correlations(rows[:2])[0].note == "2 rows: too few to rank"
    assert isinstance(rows[0].cost, Cost | None)
