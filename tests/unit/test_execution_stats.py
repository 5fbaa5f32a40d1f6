"""Generation statistics do not depend on how a run was executed: in one go, interrupted and
resumed, or in shards merged afterwards, every cell reports the same counts, and work the cells
share (label summaries) is counted once, beside them."""

from __future__ import annotations

import json

import pytest
from fakes import FakeEngine, prompt_text

from harness.config.suite import Suite
from harness.contracts import Completion
from harness.executors.local import local
from harness.pipeline.plan import build_plan, shard_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.results.builder import build
from harness.results.cost import run_cost
from harness.results.merge import merge
from harness.results.model import Leaderboard
from harness.results.reader import finished
from harness.store.cache import CachedEngine, Store, digest

#: what legitimately differs between executions: clocks, and how many attempts a cell took
TIMING = ("seconds", "engine_seconds", "attempts")


def Scripted(fail_after=None):  # noqa: N802
    """A chat engine whose reply is a function of the prompt and seed alone; it can be told to fail
    after some batches, as a run that is killed part-way."""
    def reply(r, i):
        text = prompt_text(r)
        return Completion("\n".join(f"Sentensi {digest([text, r.seed, i, j])[:6]} ya leo" for j in range(3)), 11, 9)

    return FakeEngine(reply, fingerprint="scripted@1", batch_size=3, tokens=(7, 6), fail_after=fail_after)


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def plan_for(reg):
    suite = Suite(tasks=["massive10"], languages=["sw"], strategies=["zero-shot", "sl", "target-demos+sl"],
                  models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=4, seeds=[0], calls_per_class=2)
    return build_plan(suite, reg)


def execute(reg, plan, out, store, engine):
    runner = Runner(plan, reg, out, store, Reporter(enabled=False),
                    load_engine=lambda name: CachedEngine(engine, store, name))
    runner.run_pending(local)
    return build(plan, reg, runner.run).to_json()  # compared as written, like the merged file


def generation(board):
    return {r["cell_id"]: {k: v for k, v in r["generation"].items() if k not in TIMING} for r in board["results"]}


def shared(board):
    return [{k: v for k, v in w.items() if k != "engine_seconds"} for w in board["manifest"]["shared_work"]]


def test_statistics_are_the_same_in_one_go_after_a_resume_and_after_a_merge(reg, tmp_path):
    plan = plan_for(reg)
    whole = execute(reg, plan, tmp_path / "whole", Store(tmp_path / "a.sqlite"), Scripted())
    # the summary is counted once, beside the cells, and in none of them
    (work,) = whole["manifest"]["shared_work"]
    assert work["kind"] == "label summaries" and work["llm_calls"] == 10 and work["engine_calls"] >= 1
    assert all(r["generation"]["attempts"] == 1 for r in whole["results"])

    # interrupted part-way through a cell, then resumed with the same cache
    store = Store(tmp_path / "b.sqlite")
    with pytest.raises(RuntimeError, match="engine lost"):
        execute(reg, plan, tmp_path / "resumed", store, Scripted(fail_after=7))
    resumed = execute(reg, plan, tmp_path / "resumed", store, Scripted())
    assert generation(resumed) == generation(whole)
    assert shared(resumed) == shared(whole)
    assert max(r["generation"]["attempts"] for r in resumed["results"]) == 2  # the cell that was cut

    # two shards, each with its own cache, merged
    dirs = []
    for i in range(2):
        dirs.append(tmp_path / f"shard{i}")
        execute(reg, shard_plan(plan, i, 2), dirs[-1], Store(tmp_path / f"s{i}.sqlite"), Scripted())
    path, _ = merge(dirs, tmp_path / "merged", reg)
    merged = json.loads(path.read_text())
    assert json.dumps(Leaderboard.from_json(merged).to_json()) == json.dumps(merged)  # a real file read into the types writes back the same
    assert generation(merged) == generation(whole)
    assert shared(merged) == shared(whole)


def test_the_manifest_bills_each_phase_once(reg, tmp_path):
    """Label summaries, generation, revision and evaluation, summed over the finished cells: a
    generation cell scored by two classifiers counted once, revision's share apart from generation's,
    and the dry run's estimate beside them when the run saved one."""
    suite = Suite(tasks=["massive10"], languages=["sw"], strategies=["zero-shot", "target-demos+sl+revision"],
                  models=["gemma-3-270m"], classifiers=["tfidf-logreg"], per_class=3, seeds=[0, 1], calls_per_class=2)
    plan = build_plan(suite, reg)
    store = Store(tmp_path / "c.sqlite")
    runner = Runner(plan, reg, tmp_path / "run", store, Reporter(enabled=False),
                    load_engine=lambda name: CachedEngine(Scripted(), store, name))
    runner.run_pending(local)
    runner.run.estimate.write_text(json.dumps({"phases": [], "llm_calls": 1, "seconds": 2.0, "unpriced": []}))
    board = build(plan, reg, runner.run)
    cost = {p["phase"]: p for p in board.manifest.cost["phases"]}
    gens = {r.cell_id: r.generation for r in board.results}
    revised = json.loads(runner.run.generation(next(c for c in gens if "revision" in c)).read_text())["stats"]["revision"]
    assert cost["revision"]["llm_calls"] == revised["llm_calls"] > 0
    assert cost["generation"]["llm_calls"] + cost["revision"]["llm_calls"] == sum(g.llm_calls for g in gens.values())
    assert cost["generation"]["completion_tokens"] + cost["revision"]["completion_tokens"] == \
        sum(g.completion_tokens for g in gens.values())
    assert cost["label summaries"]["llm_calls"] == board.manifest.shared_work[0]["llm_calls"]
    scored = [c for c in plan.eval_cells if json.loads(runner.run.scores(c.id).read_text())["per_seed"]]
    assert cost["evaluation"]["fits"] == 2 * len(scored) > 0 and cost["evaluation"]["device_kinds"] == ["cpu"]
    assert cost["evaluation"]["classifier_seconds"] > 0
    assert board.manifest.cost["estimate"]["llm_calls"] == 1
    assert Leaderboard.from_json(board.to_json()).manifest.cost == board.manifest.cost
    # the same generation cell read for a second classifier adds its fits, not its generation again
    parts = [part for row in finished(plan, runner.run).values() for part in row]
    twice = {p["phase"]: p for p in run_cost(parts + parts, [], None)["phases"]}
    assert twice["generation"]["llm_calls"] == cost["generation"]["llm_calls"]
    assert twice["evaluation"]["fits"] == 2 * cost["evaluation"]["fits"]
