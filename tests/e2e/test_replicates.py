"""Generation replicates: R independent repetitions of every cell (own demonstrations, sampling and
classifier seeds, optionally own gold draw), intervals over replicate means checked against scipy,
and replicate 0 equal to a run without replicates."""

from __future__ import annotations

import json
import statistics

import pytest
from scipy import stats

from conftest import bench, fresh_cache, shared_data, write_suite
from harness.config.suite import Suite, load_suite
from harness.contracts import Example
from harness.errors import BenchError
from harness.kits.strategies import demos
from harness.pipeline.plan import GOLD, build_plan
from harness.pipeline.runner import gold_subset, random_gold_subset
from harness.registry.discovery import load_registry
from harness.results.metrics import REPLICATES, SEEDS, paired_difference, paired_units, summary, units


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def per_seed(values: dict[int, list[float]]) -> list[dict]:
    """{replicate: [f1 per seed]} as a row's per_seed entries."""
    return [{"replicate": r, "seed": s, "macro_f1": v, "accuracy": v} for r, vs in values.items() for s, v in enumerate(vs)]


def test_interval_is_over_replicate_means_and_matches_scipy():
    data = {0: [0.70, 0.72, 0.71], 1: [0.61, 0.63, 0.62], 2: [0.78, 0.80, 0.79]}
    vals, over = units(per_seed(data))
    assert over == REPLICATES and vals == pytest.approx({r: statistics.fmean(v) for r, v in data.items()})
    out = summary(list(vals.values()))
    means = list(vals.values())
    ref = stats.t.interval(0.95, len(means) - 1, loc=statistics.fmean(means), scale=stats.sem(means))
    assert out["ci95"] == pytest.approx(list(ref)) and out["n"] == 3
    assert out["mean"] == pytest.approx(statistics.fmean(v for vs in data.values() for v in vs))  # mean of R x S
    # the seed-only interval of one replicate is far narrower: it ignores which set was generated
    seeds_only = summary(data[0])
    assert seeds_only["ci95"][1] - seeds_only["ci95"][0] < (out["ci95"][1] - out["ci95"][0]) / 5


def test_one_replicate_falls_back_to_seeds():
    vals, over = units(per_seed({0: [0.5, 0.6, 0.7]}))
    assert over == SEEDS and vals == {0: 0.5, 1: 0.6, 2: 0.7}


def test_differences_pair_by_replicate_and_match_scipy():
    a = per_seed({0: [0.70, 0.72], 1: [0.66, 0.64], 2: [0.75, 0.77], 3: [0.71, 0.69]})
    b = per_seed({0: [0.60, 0.61], 1: [0.62, 0.60], 2: [0.64, 0.66]})  # replicate 3 not finished
    ua, ub, over = paired_units(a, b)
    assert over == REPLICATES and sorted(ua) == sorted(ub) == [0, 1, 2]
    out = paired_difference(ua, ub, over)
    ref = stats.ttest_rel([100 * ua[r] for r in ua], [100 * ub[r] for r in ua]).confidence_interval(0.95)
    assert out["points"]["ci95"] == pytest.approx([ref.low, ref.high])
    assert out["paired_over"] == REPLICATES and out["points"]["over"] == REPLICATES and out["paired"] == [0, 1, 2]
    # one shared replicate: paired by classifier seed within it
    ua, ub, over = paired_units(per_seed({0: [0.7, 0.8]}), b)
    assert over == SEEDS and ua == {0: 0.7, 1: 0.8} and ub == {0: 0.60, 1: 0.61}


def test_random_gold_subset_is_seeded_per_class_and_in_dataset_order():
    train = [Example(f"t{i}", "ab"[i % 2] if i < 40 else "a") for i in range(60)] + [Example("c0", "c")]
    out, counts = random_gold_subset(train, ["a", "b", "c"], 10, seed=7)
    assert counts == {"a": 10, "b": 10, "c": 1}
    assert out == [e for e in train if e in out]  # dataset order kept
    assert random_gold_subset(train, ["a", "b", "c"], 10, seed=7)[0] == out
    other, _ = random_gold_subset(train, ["a", "b", "c"], 10, seed=8)
    assert other != out and [e.text for e in out] != [e.text for e in gold_subset(train, ["a", "b", "c"], 10)[0]]


def test_demos_are_drawn_per_replicate_and_replicate_0_is_the_old_draw(data_dir):
    reg = load_registry()
    task = reg.task("massive10")
    first = demos.draw(task, "sw", "target", 4, 0)
    assert demos.draw(task, "sw", "target", 4, 0, replicate=0) == first
    again = demos.draw(task, "sw", "target", 4, 0, replicate=1)
    assert again != first and demos.draw(task, "sw", "target", 4, 0, replicate=1) == again


def test_plan_has_r_replicates_and_replicate_0_keeps_its_ids(reg, data_dir):
    base = dict(models=["gemma-3-270m"], classifiers=["tfidf-logreg", "e5-logreg"], tasks=["massive10"], languages=["sw"],
                strategies=["zero-shot", "target-demos"], per_class=5, seeds=[0, 1])
    one = build_plan(Suite(**base), reg)
    three = build_plan(Suite(**base, replicates=3), reg)
    assert len(three.gen_cells) == 3 * len(one.gen_cells) and len(three.eval_cells) == 3 * len(one.eval_cells)
    assert {c.id for c in one.gen_cells + one.eval_cells} == {c.id for c in three.gen_cells + three.eval_cells
                                                             if c.replicate == 0}
    assert sorted({c.replicate for c in three.eval_cells if c.strategy == GOLD}) == [0, 1, 2]
    assert three.settings_hash == one.settings_hash  # the count says which cells exist: raising it resumes
    rnd = build_plan(Suite(**base, gold="random"), reg)
    assert [c.id for c in rnd.gen_cells] == [c.id for c in one.gen_cells]
    gold_ids = {c.id for c in one.eval_cells if c.strategy == GOLD}
    assert gold_ids.isdisjoint(c.id for c in rnd.eval_cells if c.strategy == GOLD)
    assert rnd.settings_hash != one.settings_hash


def test_suite_checks_replicates_and_gold(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[generation]\nreplicates = 0\n", encoding="utf-8")
    with pytest.raises(BenchError, match=r"s.toml:2: replicates must be at least 1"):
        load_suite(path)
    path.write_text("[generation]\nreplicates = 3\n\n[evaluation]\ngold = \"randm\"\n", encoding="utf-8")
    with pytest.raises(BenchError, match=r"s.toml:5: \[evaluation\] gold must be one of \['first', 'random'\], not "
                                         r"'randm'; did you mean 'random'\?"):
        load_suite(path)
    path.write_text("[grid]\ntasks = [\"sib200\"]\nlanguages = [\"*\"]\nstrategies = [\"*\"]\nmodels = [\"*\"]\n"
                    "classifiers = [\"*\"]\n\n[generation]\nreplicates = 3\n\n[evaluation]\ngold = \"random\"\n",
                    encoding="utf-8")
    s = load_suite(path)
    assert (s.replicates, s.gold) == (3, "random")


@pytest.mark.slow
def test_a_run_with_replicates_pools_them_and_resumes_replicate_0(tmp_path, tiny_model):
    env = {"BENCH_CACHE_DIR": str(fresh_cache(tmp_path / "cache")), "BENCH_DATA_DIR": str(shared_data())}
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", tasks=["massive10"], strategies=["zero-shot", "target-demos"],
                        per_class=3, seeds=2, extra='gold = "random"')
    out = tmp_path / "run"
    first = bench("run", str(suite), "--out", str(out), "--no-progress", env=env)
    assert first.returncode == 0, first.stderr
    one = json.loads((out / "leaderboard.json").read_text())
    assert all(r["scores"]["macro_f1"]["over"] == SEEDS for r in one["results"] if r["scores"])
    again = bench("run", str(suite), "--out", str(out), "--no-progress", "--replicates", "2", env=env)
    assert again.returncode == 0, again.stderr
    assert "resuming: 5 finished cells kept" in again.stderr  # replicate 0: 2 generations, 2 evaluations, 1 gold
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["manifest"]["replicates"] == 2 and "over 2 generation replicates" in board["manifest"]["intervals"]
    (gold,) = board["gold"]
    assert [r["replicate"] for r in gold["replicates"]] == [0, 1] and len(gold["scores"]["per_seed"]) == 4
    for row in board["results"]:
        assert [r["replicate"] for r in row["replicates"]] == [0, 1]
        assert row["replicates"][0]["cell_id"] == next(r["cell_id"] for r in one["results"] if r["strategy"] == row["strategy"])
        if not row["scores"]:
            continue
        means = [statistics.fmean(x["macro_f1"] for x in row["scores"]["per_seed"] if x["replicate"] == r) for r in (0, 1)]
        stat = row["scores"]["macro_f1"]
        assert stat["over"] == REPLICATES and stat["n"] == 2 and stat["mean"] == pytest.approx(statistics.fmean(means))
        low, high = stats.t.interval(0.95, 1, loc=statistics.fmean(means), scale=stats.sem(means))
        assert stat["ci95"] == pytest.approx([max(low, 0.0), min(high, 1.0)])  # within the metric's range
        assert row["gap_to_gold"]["paired_over"] == REPLICATES and row["gap_to_gold"]["paired"] == [0, 1]
        assert row["generation"]["requested"] == 2 * 3 * 10  # summed over replicates
    demo_files = {r["replicate"]: r["demos"]["file"] for row in board["results"] if row["strategy"] == "target-demos"
                  for r in row["replicates"]}
    assert demo_files[0].endswith(".k2.json") and demo_files[1].endswith(".k2.r1.json")
    assert (out / demo_files[1]).is_file()
    valid = bench("validate", str(out / "leaderboard.json"))
    assert valid.returncode == 0, valid.stderr
