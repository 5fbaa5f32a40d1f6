"""Per-example predictions (--log-samples) and synthetic classes capped at their gold sizes."""

from __future__ import annotations

import json
from collections import Counter

from conftest import bench, write_suite
from harness.config.suite import Suite
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.records import Example, GenerationRecord, GenerationStats
from harness.registry.discovery import load_registry
from harness.results.leaderboard import validate_file
from harness.results.metrics import scores
from harness.store.cache import Store


def test_log_samples_writes_every_prediction_and_the_scores_follow_from_them(tmp_path, tiny_model):
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", per_class=2, seeds=2)
    out = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress", "--log-samples")
    assert out.returncode == 0, out.stderr
    board = validate_file(tmp_path / "run" / "leaderboard.json")
    rows = [r for r in [*board.results, *board.gold] if r.scores]
    assert rows and all(r.samples for r in rows)
    test_size = len(load_registry().task("sentiment").load("sw", "test"))
    for r in rows:
        lines = [json.loads(x) for x in (tmp_path / "run" / r.samples).read_text().splitlines()]
        assert len(lines) == 2 * test_size and set(lines[0]) == {"seed", "index", "text", "gold", "prediction"}
        for seed_row in r.scores.per_seed:  # significance can be recomputed from the file
            mine = [x for x in lines if x["seed"] == seed_row.seed]
            again = scores([x["gold"] for x in mine], [x["prediction"] for x in mine], ["positive", "negative"])
            assert again["macro_f1"] == seed_row.macro_f1
    md = bench("report", str(tmp_path / "run"), "--format", "md").stdout
    assert "## Per-example predictions" in md and "samples/" in md
    score_file = json.loads(next((tmp_path / "run" / "scores").glob("*.json")).read_text())
    assert "predictions" not in score_file  # kept beside the scores, not inside them


def test_match_gold_size_caps_each_synthetic_class_at_its_gold_count(tmp_path):
    reg = load_registry()
    suite = Suite(tasks=["massive10"], languages=["de"], strategies=["zero-shot"], models=["gemma-3-270m"],
                  classifiers=["tfidf-logreg"], per_class=3, seeds=[0], match_gold_size=True)
    plan = build_plan(suite, reg)
    plain = build_plan(Suite(**{**suite.__dict__, "match_gold_size": False}), reg)
    assert [c.id for c in plan.gen_cells] == [c.id for c in plain.gen_cells]  # generation is not affected
    assert {c.id for c in plan.eval_cells if c.strategy != "gold"} != {c.id for c in plain.eval_cells
                                                                      if c.strategy != "gold"}
    runner = Runner(plan, reg, tmp_path / "run", Store(tmp_path / "c.sqlite"), Reporter(enabled=False))
    labels = reg.task("massive10").labels
    examples = [{"text": f"{lab} beispiel nummer {i}", "label": lab} for lab in labels for i in range(5)]
    cell = next(c for c in plan.eval_cells if c.strategy != "gold")
    generation = GenerationRecord(True, {}, cell.source, [Example(e["text"], e["label"]) for e in examples],
                                  GenerationStats())
    payload = runner.evaluation_payload(cell, generation)
    assert payload.per_class == dict.fromkeys(labels, 3) and payload.train_size == 30
    assert "capped at their gold sizes: 50 -> 30" in payload.note
    assert Counter(e["label"] for e in examples) == Counter(dict.fromkeys(labels, 5))
