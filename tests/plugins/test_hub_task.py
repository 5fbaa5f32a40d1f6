"""Tasks from hub datasets through `datasets`, checked offline against a local copy laid out as a hub
dataset repository and built here from the real gold files of the sentiment task."""

import json
import shutil
import subprocess
import sys
import types
import warnings

import pytest

from conftest import ROOT, write_suite
from harness.api import HubSource, HubTask
from harness.config.suite import Suite
from harness.contracts import Language
from harness.errors import DataError
from harness.hookspecs import hookimpl
from harness.kits.tasks import hub_task
from harness.pipeline.plan import build_plan
from harness.registry.discovery import load_registry
from plugins.tasks.gold import Sentiment

DATASET = "sepidmnorozy/German_sentiment"  # where the German gold set comes from (SOURCES.md)
COMMIT = "0123456789abcdef0123456789abcdef01234567"
DE = Language("de", "German", "deu_Latn", "high")
README = """---
configs:
- config_name: de
  data_files:
  - split: train
    path: de/train.csv
  - split: test
    path: de/test.csv
- config_name: bad
  data_files:
  - split: test
    path: bad/test.csv
---
# a copy of a hub dataset repository
"""


@pytest.fixture
def hub_dir(tmp_path, data_dir, monkeypatch):
    """`<dir>/<DATASET>` with the German sentiment files, unchanged, as config `de`."""
    repo = tmp_path / "hub" / DATASET
    (repo / "de").mkdir(parents=True)
    (repo / "bad").mkdir()
    src = data_dir / "kinit" / "sentiment"
    shutil.copy(src / "de-train_human_parsed.csv", repo / "de" / "train.csv")
    shutil.copy(src / "de-test.csv", repo / "de" / "test.csv")
    (repo / "bad" / "test.csv").write_text("id,text,intent,label\n1,gut,positive,1\n2,naja,neutral,2\n", encoding="utf-8")
    (repo / "README.md").write_text(README, encoding="utf-8")
    monkeypatch.setenv("BENCH_HUB_DIR", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_task, "_warned", set())
    monkeypatch.setattr(hub_task, "_resolved", {})
    return repo


def german(revision=COMMIT, **kw):
    options = {"text_column": "text", "label_column": "intent", "train_order": "id", **kw}
    return HubTask("german-sentiment", ("negative", "positive"), "Sentiment of German posts.", DATASET,
                   {"de": DE}, {"de": "de"}, revision=revision, **options)


def test_records_equal_the_builtin_tasks(hub_dir):
    task = german()
    for split in ("train", "test"):
        assert task.load("de", split) == Sentiment().load("de", split), split
    # class ids mapped to names read the same records
    by_id = german(label_column="label", label_map={0: "negative", 1: "positive"})
    assert by_id.load("de", "test") == Sentiment().load("de", "test")


def test_revision_config_and_id_are_in_cell_identity_and_results(hub_dir):
    def plan(task):
        reg = load_registry(extra=[("hub", _tasks(task))])
        return build_plan(Suite(tasks=["german-sentiment"], languages=["de"], strategies=["zero-shot"],
                                models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=5, seeds=[0]), reg)

    fp = german().data_fingerprint()
    assert DATASET in fp and COMMIT in fp and '"config": "de"' in fp
    first = plan(german())
    assert first.provenance["sources"] == {"german-sentiment/de": f"hf:{DATASET}@{COMMIT} config=de"}
    other = plan(german(revision="f" * 40))
    assert {c.id for c in first.gen_cells}.isdisjoint({c.id for c in other.gen_cells})


def test_unpinned_revision_offline_is_warned_once_and_stays_unresolved(hub_dir):
    task = german(revision=None)
    with pytest.warns(UserWarning, match=f"hub dataset {DATASET} has no revision pinned.*offline.*unresolved"):
        fp = task.data_fingerprint()
    assert '"revision": "unresolved"' in fp
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        task.data_fingerprint()
        assert task.load("de", "test")  # the local copy still loads


def test_unpinned_revision_online_resolves_to_its_commit(hub_dir, monkeypatch):
    import huggingface_hub

    asked = []

    def dataset_info(self, repo_id, *, revision=None, timeout=None, **kw):
        asked.append((repo_id, revision, timeout))
        return types.SimpleNamespace(sha=COMMIT)

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info", dataset_info)
    with pytest.warns(UserWarning, match=f"resolves to commit {COMMIT}"):
        assert german(revision="main").source_for("de").describe() == f"hf:{DATASET}@{COMMIT} config=de"
    assert asked == [(DATASET, "main", hub_task.RESOLVE_TIMEOUT)]


def test_data_errors_are_one_line_naming_dataset_config_split_and_row(hub_dir):
    task = german()
    task.add_language(Language("xx", "Examplish", "xxx_Latn"), config="bad")
    with pytest.raises(DataError) as err:
        task.load("xx", "test")
    text = str(err.value)
    assert "\n" not in text and f"hub dataset {DATASET} config bad split test" in text and "bad/test.csv" in text
    assert "row 1 (counting from 0): 'intent' 'neutral' is not in the task's label set" in text
    with pytest.raises(DataError, match=r"config de split test .*missing column\(s\) \['sentence'\]"):
        german(text_column="sentence").load("de", "test")
    by_id = german(label_column="label", label_map={0: "negative", 1: "positive"})
    by_id.add_language(Language("yy", "Y", "yyy_Latn"), config="bad")
    with pytest.raises(DataError, match=r"row 1 \(counting from 0\): 'label' 2 is not in the label map"):
        by_id.load("yy", "test")
    with pytest.raises(DataError, match="config nope.*cannot load"):
        HubTask("t", ("negative", "positive"), "", DATASET, {"de": DE}, {"de": "nope"}, revision=COMMIT).load("de", "test")


def test_a_hub_dataset_gives_a_builtin_task_a_language(hub_dir):
    source = HubSource(DATASET, "de", COMMIT, text_column="text", label_column="intent", train_order="id")
    xx = Language("xx", "Examplish", "xxx_Latn")
    mod = types.ModuleType("hubxx")
    mod.bench_register_languages = hookimpl(lambda register: register("sentiment", xx, hub=source))
    reg = load_registry(strict=True, extra=[("hubxx", mod)])
    assert reg.task("sentiment").load("xx", "train") == Sentiment().load("de", "train")
    plan = build_plan(Suite(tasks=["sentiment"], languages=["xx"], strategies=["zero-shot"], models=["gemma-3-270m"],
                            classifiers=["tfidf-logreg"], per_class=5, seeds=[0]), reg)
    assert plan.provenance["sources"] == {"sentiment/xx": f"hf:{DATASET}@{COMMIT} config=de"}
    assert plan.gen_cells[0].config["data"]["source"] == plan.provenance["sources"]["sentiment/xx"]
    from harness.results.manifest import manifest

    assert manifest(plan, reg).data_sources == plan.provenance["sources"]


@pytest.mark.slow
def test_hub_task_runs_end_to_end(hub_dir, tiny_model, tmp_path, monkeypatch):
    import harness.cli.main as cli
    from harness.results.leaderboard import validation_error

    monkeypatch.setattr("harness.cli.common.registry", lambda args: load_registry(extra=[("hub", _tasks(german()))]))
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", tasks=["german-sentiment"], languages=["de"],
                        strategies=["zero-shot"], per_class=2, seeds=1)
    assert cli.main(["run", str(suite), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert validation_error(board) is None
    assert [(r["task"], r["language"]) for r in board["results"]] == [("german-sentiment", "de")]
    assert board["manifest"]["data_sources"] == {"german-sentiment/de": f"hf:{DATASET}@{COMMIT} config=de"}


def test_datasets_is_imported_only_when_a_hub_task_loads():
    code = ("import sys; from harness.registry.discovery import load_registry; from harness.cli.main import parser; "
            "load_registry(); import harness.kits.tasks.hub_task; assert 'datasets' not in sys.modules, 'imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr


def _tasks(task):
    mod = types.ModuleType("hub")
    mod.bench_register_tasks = hookimpl(lambda register: register(task))
    return mod


def test_a_local_folder_is_identified_by_its_content_not_its_path(hub_dir, tmp_path):
    """Moving a plugin's local hub-style folder keeps every cell id, and no absolute path of this
    machine reaches the results; changing a byte of its data changes them."""
    def plan(folder):
        task = HubTask("german-sentiment", ("negative", "positive"), "Sentiment of German posts.", str(folder),
                       {"de": DE}, {"de": "de"}, text_column="text", label_column="intent", train_order="id")
        reg = load_registry(extra=[("hub", _tasks(task))])
        return build_plan(Suite(tasks=["german-sentiment"], languages=["de"], strategies=["zero-shot"],
                                models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=5, seeds=[0]), reg)

    here = plan(hub_dir)
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(hub_dir, moved)
    shutil.rmtree(hub_dir)
    there = plan(moved)
    assert [c.id for c in there.gen_cells + there.eval_cells] == [c.id for c in here.gen_cells + here.eval_cells]
    shown = json.dumps({"sources": there.provenance.get("sources"), "data": there.provenance.get("data")})
    assert str(tmp_path) not in shown and "hf:local-folder@" in shown and " at copy" in shown
    (moved / "de" / "test.csv").write_text((moved / "de" / "test.csv").read_text(encoding="utf-8") + "\n",
                                           encoding="utf-8")
    changed = plan(moved)
    assert {c.id for c in changed.gen_cells + changed.eval_cells}.isdisjoint({c.id for c in here.gen_cells + here.eval_cells})
