"""Intervals respect the metric's range: a score's within [0, 1], a difference's within [-100, 100]
points; `bench validate` refuses one that leaves it."""

from __future__ import annotations

import json

from fake_runs import fake_run
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import bench
from harness.results.metrics import paired_difference, summary


def test_a_score_near_zero_gets_an_interval_that_stays_in_range():
    s = summary([0.0, 0.052, 0.026])  # the CI suite's 2.6 [-0.1, 5.2] case
    low, high = s["ci95"]
    assert low == 0.0 and 0.026 < high <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=6),
       st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=6))
def test_intervals_stay_in_range_and_contain_the_mean(a, b):
    s = summary(a)
    if s["ci95"] is not None:
        assert 0.0 <= s["ci95"][0] <= s["mean"] <= s["ci95"][1] <= 1.0
    d = paired_difference(dict(enumerate(a)), dict(enumerate(b)))
    ci = d["points"]["ci95"]
    if ci is not None:
        assert -100.0 <= ci[0] <= d["points"]["mean"] <= ci[1] <= 100.0


def test_validate_refuses_an_interval_outside_the_range(tmp_path):
    assert fake_run(tmp_path).returncode == 0
    path = tmp_path / "run" / "leaderboard.json"
    assert bench("validate", str(path)).returncode == 0
    board = json.loads(path.read_text(encoding="utf-8"))
    stat = board["gold"][0]["scores"]["macro_f1"]
    stat["ci95"] = [-0.001, stat["mean"] + 0.01]  # checked for its range before it is recomputed
    path.write_text(json.dumps(board), encoding="utf-8")
    out = bench("validate", str(path))
    assert out.returncode == 2 and "outside the metric's range [0, 1]" in out.stderr
