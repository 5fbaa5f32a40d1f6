"""A plugin adds a language to a built-in task with its own files (or a hub dataset), and the language
runs as a built-in one does: coverage, unavailable cells, fingerprints, strategies, results."""

import csv
import json
import re
import types
import warnings
from collections import Counter

import pytest

from conftest import write_suite
from harness.config.suite import Suite
from harness.contracts import Language
from harness.errors import DataError
from harness.hookspecs import hookimpl
from harness.pipeline.plan import build_plan
from harness.registry.discovery import load_registry

XX = Language("xx", "Examplish", "xxx_Latn", "low")


def draw(src, dst, label_col, per_label):
    """The first `per_label` rows of every label of a gold file, written in the same layout."""
    with open(src, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        at = header.index(label_col)
        counts: Counter = Counter()
        rows = []
        for row in reader:
            if counts[row[at]] < per_label:
                counts[row[at]] += 1
                rows.append(row)
    with open(dst, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return dst


@pytest.fixture
def xx_files(tmp_path, data_dir):
    intent = data_dir / "kinit" / "intent"
    train = draw(intent / "sw-train_human_parsed.csv", tmp_path / "xx-train.csv", "intent", 10)
    test = draw(intent / "sw-test.csv", tmp_path / "xx-test.csv", "intent", 10)
    return train, test


def plugin(*languages):
    """A plugin module registering (task, language, options) triples."""
    mod = types.ModuleType("xx_plugin")

    def bench_register_languages(register):
        for task, lang, options in languages:
            register(task, lang, **options)

    mod.bench_register_languages = hookimpl(bench_register_languages)
    return mod


def registry(*languages):
    return load_registry(strict=True, extra=[("xx", plugin(*languages))])


def test_massive10_language_from_files(xx_files):
    train, test = xx_files
    reg = registry(("massive10", XX, {"train": str(train), "test": str(test)}))
    task = reg.task("massive10")
    assert task.languages()["xx"] == XX and "xx" in reg.task("massive10").languages()
    got = task.load("xx", "train")
    assert len(got) == 100 and Counter(e.label for e in got) == {lab: 10 for lab in task.labels}
    assert len(task.load("xx", "test")) == 100 and task.unavailable("xx", "train") is None
    # the train file keeps the task's layout, so it is read in MASSIVE id order as the built-in files are
    with open(train, encoding="utf-8") as fh:
        first = min(csv.DictReader(fh), key=lambda r: int(r["id"]))
    assert got[0].text == first["text"].strip()
    assert reg.plugins[-1].registered == {"languages": ["massive10:xx"]}

    from harness.cli.listing import coverage as _coverage

    row = next(r for r in _coverage(reg) if r["task"] == "massive10" and r["language"] == "xx")
    assert (row["iso"], row["train"], row["test"]) == ("xxx_Latn", "ok", "ok")

    plan = build_plan(Suite(tasks=["massive10"], languages=["xxx_Latn"], strategies=["zero-shot", "target-demos"],
                            models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=5, seeds=[0]), reg)
    assert {(c.language, c.strategy) for c in plan.gen_cells} == {("xx", "zero-shot"), ("xx", "target-demos")}
    assert {(c.language, c.strategy) for c in plan.eval_cells} >= {("xx", "gold")} and not plan.unavailable
    assert set(plan.provenance["data"]) == {"massive10/xx/train", "massive10/xx/test"}
    assert "sources" not in plan.provenance  # the file's rows are the whole story


def test_a_changed_file_changes_the_cell_ids(xx_files):
    train, test = xx_files
    suite = Suite(tasks=["massive10"], languages=["xx"], strategies=["zero-shot"], models=["gemma-3-270m"],
                  classifiers=["tfidf-logreg"], per_class=5, seeds=[0])
    before = {c.id for c in build_plan(suite, registry(("massive10", XX, {"train": str(train), "test": str(test)}))).gen_cells}
    lines = test.read_text(encoding="utf-8").splitlines()
    test.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    after = {c.id for c in build_plan(suite, registry(("massive10", XX, {"train": str(train), "test": str(test)}))).gen_cells}
    assert before and after and before.isdisjoint(after)


def test_without_train_there_is_no_gold_baseline_and_no_demos(xx_files):
    _, test = xx_files
    reg = registry(("massive10", XX, {"test": str(test)}))
    task = reg.task("massive10")
    assert "no train file" in task.unavailable("xx", "train")
    plan = build_plan(Suite(tasks=["massive10"], languages=["xx"], strategies=["zero-shot", "target-demos"],
                            models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=5, seeds=[0]), reg)
    assert [c.strategy for c in plan.gen_cells] == ["zero-shot"]
    assert {u.strategy for u in plan.unavailable} == {"gold", "target-demos"}
    with pytest.raises(DataError, match="massive10/xx train: the plugin that added xx gave no train file"):
        task.load("xx", "train")


def test_sentiment_and_sib200_take_files_in_their_own_format(tmp_path, data_dir):
    pos_neg = draw(data_dir / "kinit" / "sentiment" / "sw-test.csv", tmp_path / "s.csv", "intent", 5)
    sib = tmp_path / "sib.tsv"
    rows = (data_dir / "sib200" / "annotated" / "swh_Latn" / "test.tsv").read_text(encoding="utf-8").splitlines()[:30]
    sib.write_text("\n".join(rows) + "\n", encoding="utf-8")
    reg = registry(("sentiment", XX, {"test": str(pos_neg)}), ("sib200", XX, {"test": str(sib)}),
                   ("sib200", Language("yo", "Yoruba", "yor_Latn"), {}))
    assert Counter(e.label for e in reg.task("sentiment").load("xx", "test")) == {"negative": 5, "positive": 5}
    assert len(reg.task("sib200").load("xx", "test")) == 29
    assert len(reg.task("sib200").load("yo", "train")) == 701  # a FLORES code still reads SIB-200's own files


def test_data_errors_name_the_file_and_line(xx_files):
    train, test = xx_files
    lines = test.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[2], "greeting")
    test.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = registry(("massive10", XX, {"train": str(train), "test": str(test)})).task("massive10")
    with pytest.raises(DataError, match=r"xx-test.csv:4: label 'greeting' is not in the task's label set"):
        task.load("xx", "test")


@pytest.mark.parametrize("options, message", [
    ({"train": "a.csv"}, "needs its data: test="),
    ({}, "needs its data"),
    ({"test": "a.csv", "dev": "b.csv"}, r"unknown language option\(s\) \['dev'\]"),
])
def test_a_language_without_usable_data_is_that_plugins_failure(options, message):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        reg = load_registry(extra=[("xx", plugin(("massive10", XX, options)))])
    info = next(p for p in reg.plugins if p.name == "xx")
    assert info.error and re.search(message, info.error), info.error
    assert "xx" not in reg.task("massive10").languages() and seen


@pytest.mark.slow
def test_plugin_language_runs_end_to_end(xx_files, tiny_model, tmp_path, monkeypatch, capsys):
    import harness.cli.main as cli

    train, test = xx_files
    monkeypatch.setattr("harness.cli.common.registry", lambda args: registry(("massive10", XX, {"train": str(train),
                                                                                   "test": str(test)})))
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", tasks=["massive10"], languages=["xx"],
                        strategies=["zero-shot", "target-demos"], per_class=2, seeds=1)
    assert cli.main(["run", str(suite), "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert "massive10.xx.zero-shot" in shown and "massive10.xx.target-demos" in shown
    assert cli.main(["run", str(suite), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert {(r["task"], r["language"], r["strategy"]) for r in board["results"]} == {
        ("massive10", "xx", "zero-shot"), ("massive10", "xx", "target-demos")}
    assert {r["language_iso"] for r in board["results"]} == {"xxx_Latn"}
    assert board["gold"][0]["language"] == "xx" and board["gold"][0]["train_size"] == 20
    assert "massive10/xx/test" in board["manifest"]["data_fingerprints"]
