"""The results as a DataFrame (`harness.api.results`) say what leaderboard.json says: every per-seed
score once under its keys, each row's mean and gap, gold as strategy `gold`; `bench report --format
csv` is the same table; a bad source or level is one line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from boards import leaderboard
from fake_runs import fake_run
from fake_runs import result_row as _row

from conftest import bench
from harness.api import BenchError, results
from harness.results.aggregate import comparisons, summaries
from harness.results.typed import to_json

KEYS = ["task", "language", "strategy", "model", "classifier"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("frame")
    out = fake_run(root, "--quiet")
    assert out.returncode == 0, out.stderr
    return root / "run"


def test_every_per_seed_score_appears_once_under_its_keys(run):
    data = json.loads((run / "leaderboard.json").read_text())
    df = results(run)
    expected = []
    for r in data["results"]:
        expected += [(*(r[k] for k in KEYS), s["replicate"], s["seed"], s["macro_f1"], s["accuracy"])
                     for s in r["scores"]["per_seed"]]
    for g in data["gold"]:
        expected += [(g["task"], g["language"], "gold", "", g["classifier"], s["replicate"], s["seed"], s["macro_f1"],
                      s["accuracy"]) for s in g["scores"]["per_seed"]]
    got = list(df[[*KEYS, "replicate", "seed", "macro_f1", "accuracy"]].itertuples(index=False, name=None))
    assert sorted(got) == sorted(expected) and len(got) == len(set(got)) == 3 * 2 * 2  # 3 rows x 2 replicates x 2 seeds
    assert set(df.replicate) == {0, 1}
    gold = df[df.strategy == "gold"]
    assert (gold.gap_points == 0).all() and (gold.gold_macro_f1 == gold.macro_f1.mean()).all()
    # per seed, the gap is to the gold mean: the seeds' mean gap is the row's
    synthetic = df[df.strategy != "gold"]
    assert synthetic.gap_points.tolist() == pytest.approx(
        (100 * (synthetic.gold_macro_f1 - synthetic.macro_f1)).tolist())
    assert synthetic.prompt_tokens.notna().all() and synthetic.completion_tokens.notna().all()


def test_row_level_means_and_gaps_are_the_leaderboards(run):
    data = json.loads((run / "leaderboard.json").read_text())
    rows = results(run / "leaderboard.json", level="row").set_index(KEYS)
    assert len(rows) == len(data["results"]) + len(data["gold"])
    for r in data["results"]:
        row = rows.loc[tuple(r[k] for k in KEYS)]
        assert row.macro_f1 == r["scores"]["macro_f1"]["mean"] and row.accuracy == r["scores"]["accuracy"]["mean"]
        assert row.gold_macro_f1 == r["gold"]["macro_f1"]["mean"]
        assert row.gap_points == pytest.approx(r["gap_to_gold"]["points"]["mean"])
        assert row.gap_points == pytest.approx(100 * (row.gold_macro_f1 - row.macro_f1))
        assert row.over == "generation replicates" and row.n == 2
    (vs,) = rows.reset_index().query("strategy == 'target-demos'").vs_zero_shot
    (c,) = data["comparisons"]
    assert vs == c["verdict"]


def test_bench_report_csv_is_the_seed_level_table(run, tmp_path):
    out = bench("report", str(run), "--format", "csv")
    assert out.returncode == 0, out.stderr
    back = pd.read_csv(io.StringIO(out.stdout)).fillna({"model": ""})  # gold's model is empty, read back as NaN
    pd.testing.assert_frame_equal(back, results(run), check_dtype=False)
    saved = bench("report", str(run), "--format", "csv", "--out", str(tmp_path / "r.csv"))
    assert saved.returncode == 0 and saved.stdout == "" and (tmp_path / "r.csv").read_text() == out.stdout


def test_a_bad_level_or_source_is_one_line(run, tmp_path):
    for bad, says in ((lambda: results(run, level="cell"), 'pass level="seed"'),
                      (lambda: results(tmp_path / "nowhere"), "does not exist"),
                      (lambda: results(tmp_path), "holds no leaderboard.json"),
                      (lambda: results(42), "pass a run directory")):
        with pytest.raises(BenchError) as exc:
            bad()
        assert says in str(exc.value) and "\n" not in str(exc.value)


def test_a_floored_row_stands_at_its_floor_and_cost_and_diagnostics_become_columns():
    rows = [_row("zero-shot", [0.30, 0.32, 0.31]), _row("sl", [0.60, 0.65, 0.61]), _row("target-demos", [], floor=0.25)]
    board = leaderboard({"seeds": [0, 1, 2]}, results=[to_json(r) for r in rows],
                        comparisons=[to_json(c) for c in comparisons(rows)], summaries=to_json(summaries(rows)))
    # what another writer may add to a row: numbers become prefixed columns, anything else none
    board.results[1].cost = {"price": 0.5, "revision": {"llm_calls": 2}, "device_kinds": ["cpu"], "flag": True}
    board.results[1].diagnostics = {"label_fidelity": 0.8, "diversity": None}
    df = results(board)
    floored = df[df.strategy == "target-demos"]
    assert floored.floor.all() and floored.seed.tolist() == [0, 1, 2] and (floored.macro_f1 == 0.25).all()
    assert floored.vs_zero_shot.tolist() == ["worse"] * 3
    sl = df[df.strategy == "sl"]
    assert sl.vs_zero_shot.tolist() == ["better"] * 3 and sl.best.all() and not floored.best.any()
    assert (sl.cost_price == 0.5).all() and (sl.cost_revision_llm_calls == 2).all() and (sl.diag_label_fidelity == 0.8).all()
    assert df[df.strategy != "sl"].cost_price.isna().all()
    assert not {"cost_device_kinds", "cost_flag", "diag_diversity"} & set(df.columns)
    by_row = results(board, level="row").set_index("strategy")
    assert by_row.loc["target-demos", "floored"] and by_row.loc["target-demos", "macro_f1"] == 0.25
    assert by_row.loc["target-demos", "gap_points"] == pytest.approx(100 * (0.8 - 0.25))
    assert by_row.loc["sl", "macro_f1_ci95_low"] < by_row.loc["sl", "macro_f1"] < by_row.loc["sl", "macro_f1_ci95_high"]
    assert by_row.loc["sl", "vs_zero_shot_points"] == pytest.approx(100 * (0.62 - 0.31))
    plain = results(leaderboard(results=[to_json(_row("zero-shot", [0.3]))]))
    assert not [c for c in plain.columns if c.startswith(("cost_", "diag_"))]  # none where no row has them
