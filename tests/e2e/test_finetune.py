"""The `finetune` classifier on a tiny random-weight BERT: the paper's protocol (held-out early
stopping, patience, max length), determinism, option checking and the run-level integration."""

import json

import pytest

from conftest import bench, finetune_toy_data, write_suite
from harness.contracts import ClassifierContext, Example
from harness.errors import BenchError
from plugins.classifiers.finetune import FineTune


class _Store:
    path = None


def toy_data():
    return finetune_toy_data()


def fit(tiny_bert, seed=1, **opts):
    clf = FineTune()
    train, test = toy_data()
    ctx = ClassifierContext(seed=seed, cache=_Store(), options={"model": str(tiny_bert), "lr": 1e-3, **opts},
                            log=lambda m: None)
    return clf.fit_predict(train, test, ["negative", "positive"], ctx)


def test_finetune_learns_and_stops_on_the_held_out_split(tiny_bert):
    result = fit(tiny_bert, max_epochs=30, patience=3)
    pred, d = result.predictions, result.details
    assert len(pred) == 4 and set(pred) <= {"negative", "positive"}
    assert d["held_out"] == 2  # 10% of 20 examples, really held out
    assert 1 <= d["best_epoch"] <= d["epochs"] <= 30
    assert d["epochs"] == 30 or d["epochs"] - d["best_epoch"] == 3  # stopped by patience, not before
    assert d["seconds_per_epoch"] > 0


def test_finetune_is_deterministic_per_seed(tiny_bert):
    a = fit(tiny_bert, seed=3, max_epochs=4)
    b = fit(tiny_bert, seed=3, max_epochs=4)
    assert a.predictions == b.predictions and a.details["epochs"] == 4
    c = fit(tiny_bert, seed=4, max_epochs=4)
    assert c.details["epochs"] == 4 and isinstance(c.predictions, list)


def test_pruned_vocabulary_changes_no_result(tiny_bert):
    pruned = fit(tiny_bert, seed=2, max_epochs=5)
    full = fit(tiny_bert, seed=2, max_epochs=5, prune_vocab=False)
    assert pruned.predictions == full.predictions
    keep = ("epochs", "best_epoch", "held_out_macro_f1")
    assert {k: pruned.details[k] for k in keep} == {k: full.details[k] for k in keep}


def test_max_length_cuts_long_inputs(tiny_bert):
    clf = FineTune()
    train, _ = toy_data()
    long = " ".join(["nzuri"] * 600)  # beyond the tiny model's 160 positions: must be cut at max_length
    ctx = ClassifierContext(seed=0, cache=_Store(), options={"model": str(tiny_bert), "max_epochs": 1, "max_length": 128},
                            log=lambda m: None)
    assert len(clf.fit_predict(train + [Example(long, "positive")], [long], ["negative", "positive"], ctx).predictions) == 1


@pytest.mark.parametrize("opts, message", [
    ({"max_epoch": 1}, "did you mean 'max_epochs'"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"holdout": 1.5}, "holdout must be a number in [0, 1)"),
    ({"model": 3}, "model must be"),
])
def test_bad_options_are_one_clear_line(opts, message, tmp_path):
    """Declared options, checked when the plan is built (a dry run fails on them)."""
    from harness.config.suite import Suite
    from harness.pipeline.plan import build_plan
    from harness.registry.discovery import load_registry

    suite = Suite(tasks=["sentiment"], languages=["sw"], strategies=["zero-shot"], classifiers=["finetune"],
                  classifier_options={"finetune": opts})
    with pytest.raises(BenchError) as err:
        build_plan(suite, load_registry())
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_model_is_a_clear_error(tmp_path):
    clf = FineTune()
    train, test = toy_data()
    ctx = ClassifierContext(seed=0, cache=_Store(), options={"model": str(tmp_path / "nope")}, log=lambda m: None)
    with pytest.raises(BenchError, match="cannot be loaded"):
        clf.fit_predict(train, test, ["negative", "positive"], ctx)


def test_run_with_finetune_records_epochs_and_rejects_typos(tmp_path, tiny_model, tiny_bert):
    extra = f'\n[classifiers."finetune"]\nmodel = "{tiny_bert}"\nmax_epochs = 2\nlr = 0.001\n'
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", classifiers=["finetune"], per_class=3, extra=extra)
    out = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress")
    assert out.returncode == 0, out.stderr
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    fits = [r["fit"] for g in board["gold"] for r in g["scores"]["per_seed"]]
    assert fits and all(f["epochs"] <= 2 and f["seconds_per_epoch"] > 0 for f in fits)
    bad = write_suite(tmp_path / "b.toml", f"hf:{tiny_model}", classifiers=["finetune"],
                      extra='\n[classifiers."finetune"]\npatiense = 3\n')
    out = bench("run", str(bad), "--dry-run")
    assert out.returncode == 2 and "did you mean 'patience'" in out.stderr
