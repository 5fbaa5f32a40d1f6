"""Nothing wrong passes the gate: `bench compare` and `bench validate` refuse tolerances, scores,
duplicates, aggregates and settings that would let a regression through, each with one line."""

from __future__ import annotations

import copy
import json

import pytest

from conftest import bench
from harness.errors import BenchError
from harness.results.aggregate import comparisons, summaries
from harness.results.leaderboard import SCHEMA_VERSION, validation_error
from harness.results.metrics import gap, paired_units, summary, units
from harness.results.model import Leaderboard, Result
from harness.results.typed import from_json, to_json
from harness.results.validation import problems
from harness.store.cache import digest

SETTINGS = {"per_class": 3, "seeds": [0, 1, 2], "seed": 0, "gold": "first"}


def _scores(values: list[float]) -> dict:
    per_seed = [{"replicate": 0, "seed": i, "macro_f1": v, "accuracy": v} for i, v in enumerate(values)]
    out: dict = {"per_seed": per_seed}
    for metric in ("macro_f1", "accuracy"):
        u, over = units(per_seed, metric)
        out[metric] = {**summary(list(u.values())), "over": over}
    return out


def _gold_row(task: str, language: str, values: list[float]) -> dict:
    return {"task": task, "language": language, "language_iso": "swh_Latn", "classifier": "c", "eval_id": f"g-{task}",
            "train_size": 6, "per_class": {"a": 3, "b": 3}, "scores": _scores(values),
            "replicates": [{"replicate": 0, "eval_id": f"g-{task}", "train_size": 6,
                            "macro_f1": sum(values) / len(values)}]}


def _result_row(task: str, language: str, strategy: str, values: list[float], gold: dict) -> dict:
    scores = _scores(values)
    g, s, over = paired_units(gold["scores"]["per_seed"], scores["per_seed"])
    gen = {"requested": 6, "accepted": 6, "rejected": 0, "duplicates": 0, "llm_calls": 2, "engine_calls": 1,
           "prompt_tokens": 10, "completion_tokens": 10, "seconds": 1.0, "off_language_rate": None, "per_class": {},
           "demos": None}
    return {"task": task, "language": language, "language_iso": "swh_Latn", "language_name": "Swahili", "tier": "low",
            "strategy": strategy, "model": "m", "classifier": "c", "cell_id": f"x-{strategy}", "eval_id": f"e-{strategy}",
            "train_size": 6, "scores": scores, "generation": gen,
            "gold": {"macro_f1": gold["scores"]["macro_f1"], "accuracy": gold["scores"]["accuracy"], "train_size": 6,
                     "per_class": {"a": 3, "b": 3}},
            "gap_to_gold": gap(g, s, over),
            "replicates": [{"replicate": 0, "eval_id": f"e-{strategy}", "train_size": 6, "cell_id": f"x-{strategy}",
                            "accepted": 6, "demos": None, "macro_f1": sum(values) / len(values)}]}


def make_board(settings: dict | None = None, zero_shot=(0.5, 0.6, 0.55)) -> dict:
    settings = dict(settings or SETTINGS)
    gold = _gold_row("t", "sw", [0.8, 0.82, 0.81])
    results = [_result_row("t", "sw", "zero-shot", list(zero_shot), gold),
               _result_row("t", "sw", "target-demos", [0.7, 0.72, 0.71], gold)]
    board = {"schema_version": SCHEMA_VERSION,
             "manifest": {"harness_version": "0", "plugins": [], "libraries": {}, "device": "cpu: test", "python": "3",
                          "suite": "test", "settings": settings, "settings_hash": digest(settings)[:16],
                          "seeds": [0, 1, 2], "generation_seed": 0, "git_commit": None, "created": "now"},
             "results": results, "gold": [gold], "unavailable": [],
             "summaries": to_json(summaries(from_json(list[Result], results))),
             "comparisons": to_json(comparisons(from_json(list[Result], results)))}
    assert validation_error(board) is None and problems(board) == []
    return board


def _write(tmp_path, name: str, board: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(board), encoding="utf-8")  # NaN and Infinity are written as Python's json does
    return str(path)


def _one_line_error(out, *needles: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


def test_the_synthetic_board_compares_clean(tmp_path):
    board = make_board()
    out = bench("compare", _write(tmp_path, "a.json", board), _write(tmp_path, "b.json", board))
    assert out.returncode == 0, out.stdout + out.stderr
    assert bench("validate", str(tmp_path / "a.json")).returncode == 0


@pytest.mark.parametrize("tolerance", ["nan", "inf", "-1", "-0.5"])
def test_a_tolerance_that_is_not_finite_or_is_negative_is_refused(tmp_path, tolerance):
    base = _write(tmp_path, "base.json", make_board())
    worse = _write(tmp_path, "new.json", make_board(zero_shot=(0.1, 0.1, 0.1)))
    assert bench("compare", worse, base, "--tolerance", "1").returncode == 1
    _one_line_error(bench("compare", worse, base, f"--tolerance={tolerance}"), "--tolerance", "finite")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_scores_are_refused(tmp_path, value):
    board = make_board()
    assert validation_error(json.loads(json.dumps(_with_nan(board, value)))) is None  # the schema alone lets it through
    path = _write(tmp_path, "nan.json", _with_nan(board, value))
    _one_line_error(bench("validate", path), "nan.json", "must be finite")
    _one_line_error(bench("compare", path, _write(tmp_path, "base.json", board)), "nan.json", "must be finite")
    _one_line_error(bench("report", path), "must be finite")


def _with_nan(board: dict, value: float) -> dict:
    bad = copy.deepcopy(board)
    bad["results"][0]["scores"]["macro_f1"]["mean"] = value
    if value != value:  # NaN: also in a per-seed value, which the schema's 0..1 bounds do not catch
        bad["results"][0]["scores"]["per_seed"][0]["macro_f1"] = value
    return bad


def test_a_duplicated_row_cannot_mask_a_regressed_one(tmp_path):
    base = make_board()
    new = make_board(zero_shot=(0.1, 0.1, 0.1))  # zero-shot regressed ...
    new["results"].append(copy.deepcopy(base["results"][0]))  # ... and a copy of its old row follows it
    path = _write(tmp_path, "new.json", new)
    _one_line_error(bench("compare", path, _write(tmp_path, "base.json", base)), "repeats results[0]", "zero-shot")
    _one_line_error(bench("compare", _write(tmp_path, "b2.json", base), path), "repeats results[0]")
    _one_line_error(bench("validate", path), "each result may appear once")
    twice_gold = make_board()
    twice_gold["gold"].append(copy.deepcopy(twice_gold["gold"][0]))
    _one_line_error(bench("validate", _write(tmp_path, "g.json", twice_gold)), "repeats gold[0]")


def test_compare_itself_refuses_duplicates_and_bad_tolerances():
    from harness.results.compare import compare

    board = make_board()
    dup = copy.deepcopy(board)
    dup["results"].append(dup["results"][0])
    with pytest.raises(BenchError, match="twice"):
        compare(Leaderboard.from_json(dup), Leaderboard.from_json(board), 0.0)
    with pytest.raises(BenchError, match="finite"):
        compare(Leaderboard.from_json(board), Leaderboard.from_json(board), float("nan"))


@pytest.mark.parametrize("where", ["mean", "std", "ci95", "n", "per_seed"])
def test_an_aggregate_must_match_its_per_seed_values(tmp_path, where):
    board = make_board()
    scores = board["results"][0]["scores"]
    if where == "per_seed":  # the per-seed values were edited, the aggregate kept
        scores["per_seed"][0]["macro_f1"] = 0.95
    elif where == "ci95":
        scores["macro_f1"]["ci95"] = [0.0, 1.0]
    elif where == "n":
        scores["macro_f1"]["n"] = 7
    else:
        scores["macro_f1"][where] += 0.01
    assert validation_error(board) is None
    _one_line_error(bench("validate", _write(tmp_path, "b.json", board)), "$.results[0].scores.macro_f1",
                    "does not match")


def test_the_gap_to_gold_must_match_the_per_seed_values(tmp_path):
    board = make_board()
    board["results"][0]["gap_to_gold"]["points"]["mean"] -= 5
    _one_line_error(bench("validate", _write(tmp_path, "b.json", board)), "$.results[0].gap_to_gold.points.mean")


def test_accuracy_aggregates_are_checked_too():
    board = make_board()
    board["gold"][0]["scores"]["accuracy"]["mean"] = 0.1
    assert any("$.gold[0].scores.accuracy.mean" in p for p in problems(board))


def test_the_settings_hash_must_be_the_hash_of_the_settings(tmp_path):
    board = make_board()
    board["manifest"]["settings"]["per_class"] = 100  # edited after the run
    _one_line_error(bench("validate", _write(tmp_path, "b.json", board)), "settings_hash", "edited")


def test_runs_with_different_settings_are_refused_unless_allowed(tmp_path):
    base = _write(tmp_path, "base.json", make_board())
    new = _write(tmp_path, "new.json", make_board({**SETTINGS, "per_class": 100, "faithful": True}))
    _one_line_error(bench("compare", new, base), "different settings", "per_class: 3 -> 100",
                    "faithful: (absent) -> True", "--allow-different-settings")
    out = bench("compare", new, base, "--allow-different-settings")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "settings differ" in out.stdout and "per_class: 3 -> 100" in out.stdout
    js = json.loads(bench("compare", new, base, "--allow-different-settings", "--json").stdout)
    assert js["settings_differ"] == ["faithful: (absent) -> True", "per_class: 3 -> 100"]


def test_the_harness_never_writes_a_leaderboard_that_would_be_refused(tmp_path):
    from harness.results.leaderboard import write_leaderboard

    board = make_board()
    board["results"][0]["scores"]["macro_f1"]["mean"] = float("nan")  # a bug upstream, not user input
    target = tmp_path / "leaderboard.json"
    with pytest.raises(RuntimeError, match="refusing to write an invalid leaderboard"):
        write_leaderboard(target, Leaderboard.from_json(board))
    assert not target.exists()
    write_leaderboard(target, Leaderboard.from_json(make_board()))
    assert target.is_file()
