import math

import pytest

from harness.results.metrics import gap, scores, summary


def test_scores_hand_computed():
    gold = ["a", "a", "b", "b"]
    pred = ["a", "b", "b", "b"]
    s = scores(gold, pred, ["a", "b", "c"])
    # a: p=1 r=.5 f=2/3; b: p=2/3 r=1 f=.8; c absent from the test set is not averaged in
    assert s["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert s["accuracy"] == 0.75


def test_summary_t_interval():
    out = summary([0.5, 0.7, 0.9])
    assert out["mean"] == pytest.approx(0.7)
    assert out["std"] == pytest.approx(0.2)
    half = 4.302652729911275 * 0.2 / math.sqrt(3)
    assert out["ci95"] == pytest.approx([0.7 - half, 1.0])  # the t interval, within the score's range
    assert summary([0.5, 0.7, 0.9], bounds=(-math.inf, math.inf))["ci95"] == pytest.approx([0.7 - half, 0.7 + half])
    assert summary([0.4])["ci95"] is None and summary([0.4])["std"] is None  # one seed: no interval


def test_gap_is_paired_by_seed_in_points():
    g = gap({0: 0.9, 1: 0.8, 2: 0.7}, {0: 0.6, 1: 0.6, 3: 0.1})
    assert g["paired"] == [0, 1] and g["paired_over"] == "classifier seeds"
    assert g["points"]["mean"] == pytest.approx(25.0)
    assert g["relative"] == pytest.approx(25.0 / 85.0)
    assert gap({0: 0.9}, {1: 0.5}) is None
