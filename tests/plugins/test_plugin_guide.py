"""docs/plugins.md is a working plugin: its code blocks, put together in order, make a package that
adds a language to massive10, a task from files, a task from a (local) hub dataset, a strategy, a
model, a classifier and a tracker, and a run over all of them finishes and is tracked."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

import harness.api as api
from conftest import shared_data
from harness.pipeline.plan import build_plan

README = """---
configs:
- config_name: de
  data_files:
  - split: train
    path: de/train.csv
  - split: test
    path: de/test.csv
---
"""


def guide_source() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
    return "\n\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.S))


def _head(src: Path, dst: Path, rows: int = 150) -> None:
    """The first `rows` records of a CSV test split: the guide's classifier embeds every test text,
    and the whole German sentiment test set (1,490 posts) would cost minutes of e5 encoding."""
    with open(src, encoding="utf-8", newline="") as f_in, open(dst, "w", encoding="utf-8", newline="") as f_out:
        reader, writer = csv.reader(f_in), csv.writer(f_out)
        for i, record in enumerate(reader):
            if i > rows:
                break
            writer.writerow(record)


@pytest.fixture
def plugin(tmp_path, tiny_model):
    """The guide's package, with its data files made from the real gold data (Swahili intents stand in
    for Swiss German; SIB-200's Yoruba for the topic files; the German sentiment set as the hub copy)."""
    data_dir = shared_data()
    pkg = tmp_path / "my_bench_plugin"
    data = pkg / "data"
    (data / "topics").mkdir(parents=True)
    (data / "reviews" / "de").mkdir(parents=True)
    shutil.copy(data_dir / "kinit" / "intent" / "sw-train_human_parsed.csv", data / "gsw-train.csv")
    _head(data_dir / "kinit" / "intent" / "sw-test.csv", data / "gsw-test.csv")
    for split in ("train", "test"):
        shutil.copy(data_dir / "sib200" / "annotated" / "yor_Latn" / f"{split}.tsv", data / "topics" / f"yo-{split}.tsv")
    shutil.copy(data_dir / "kinit" / "sentiment" / "de-train_human_parsed.csv", data / "reviews" / "de" / "train.csv")
    _head(data_dir / "kinit" / "sentiment" / "de-test.csv", data / "reviews" / "de" / "test.csv")
    (data / "reviews" / "README.md").write_text(README, encoding="utf-8")
    (pkg / "__init__.py").write_text(guide_source(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("my_bench_plugin", pkg / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["my_bench_plugin"] = module
    spec.loader.exec_module(module)
    module.LOCAL_MODEL = tiny_model  # the guide's local model directory
    yield module
    sys.modules.pop("my_bench_plugin", None)


def suite():
    return api.Suite(name="mine", tasks=["massive10", "yo-topics", "de-reviews"], languages=["gsw", "yo", "de"],
                     strategies=["zero-shot", "target-demos+short", "one-line"], models=["my-gemma"],
                     classifiers=["e5-centroid"], per_class=2, seeds=[0], calls_per_class=1,
                     strategy_options={"one-line": {"words": 8}})


def test_the_guide_is_a_plugin_that_registers_one_item_per_hook(plugin):
    reg = api.load_registry(extra=[("mine", plugin)])
    (info,) = [p for p in reg.plugins if p.name == "mine"]
    assert info.error is None and not info.conflicts
    assert info.registered == {"tasks": ["yo-topics", "de-reviews"], "strategies": ["target-demos+short", "one-line"],
                               "models": ["my-gemma"], "classifiers": ["e5-centroid"], "trackers": ["jsonl"],
                               "languages": ["massive10:gsw"]}
    plan = build_plan(suite(), reg)
    pairs = {(c.task, c.language) for c in plan.gen_cells}
    assert {("massive10", "gsw"), ("yo-topics", "yo"), ("de-reviews", "de")} <= pairs
    assert not plan.unavailable
    assert reg.task("de-reviews").load("de", "test")[0].label in {"negative", "positive"}


@pytest.mark.slow
def test_the_guides_plugin_runs_end_to_end(plugin, tmp_path):
    reg = api.load_registry(extra=[("mine", plugin)])
    board = api.run(suite(), out=tmp_path / "run", registry=reg, track=[f"jsonl:{tmp_path / 'runs.jsonl'}"])
    rows = {(r.task, r.language, r.strategy) for r in board.results}
    assert {("massive10", "gsw", "zero-shot"), ("yo-topics", "yo", "target-demos+short"),
            ("de-reviews", "de", "zero-shot"), ("de-reviews", "de", "one-line")} <= rows
    asked = (tmp_path / "run" / "artefacts").glob("de-reviews.de.one-line.*/replies.json")
    assert next(asked).is_file()  # the strategy's file, through its artefacts handle
    assert (tmp_path / "run" / "demos" / "massive10.gsw.target.k5.shortest.json").is_file()  # the selector's own draw
    assert {g.task for g in board.gold} == {"massive10", "yo-topics", "de-reviews"}
    assert all(r.classifier == "e5-centroid" and r.model == "my-gemma" for r in board.results)
    events = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert events[0]["event"] == "start" and events[-1]["event"] == "finish"  # the guide's tracker, section 7
    assert sum(e["event"] == "row" for e in events) == len(board.results) and any(e["event"] == "cell" for e in events)
