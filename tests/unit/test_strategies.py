"""Strategies with scripted replies (unit tests only) and with a tiny random-weight model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fakes import FakeEngine

from harness.api import SamplingParams, standalone_context
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, Store


class Scripted(FakeEngine):
    """Replies from a function of the request; label summaries get a fixed one unless the reply
    function is the test's own summary writer."""

    def __init__(self, reply, chat=True):
        summary = None if reply.__name__ == "reply_with_summary" else "This intent involves what the examples ask for."
        super().__init__(reply, chat=chat, fingerprint="scripted@1", summary=summary)


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def context(reg, engine, tmp_path, strategy_task="massive10", lang="de", per_class=3, budget=4, faithful=False,
            sampling=None):
    task = reg.task(strategy_task)
    return standalone_context(
        task, task.languages()[lang], CachedEngine(engine, Store(tmp_path / "c.sqlite"), "m"), tmp_path,
        per_class=per_class, seed=7, sampling=sampling or SamplingParams(max_new_tokens=200), calls_per_class=budget,
        samples_per_request=2, options={"summary_examples": 3, "demos_per_class": 2, "revision_max_new_tokens": 16,
                                        "faithful": faithful, "summarizer": ""})


def candidates(tmp_path):
    return json.loads((tmp_path / "artefacts" / "cell" / "candidates.json").read_text())


def label_of(req):
    text = req.messages[-1].content if req.messages else req.prompt
    return re.search(r"can have the label: (\S+)", text).group(1)


def is_revision(req):
    return "excellent classifier" in req.messages[0].content


def revised_text(req):
    return req.messages[-1].content.split("Input: ")[1].rsplit(" Answer:", 1)[0]


def test_budget_bounds_a_model_that_never_delivers(reg, tmp_path):
    eng = Scripted(lambda r, i: "Sure!")
    ctx = context(reg, eng, tmp_path, budget=3)
    res = reg.strategy("zero-shot").generate(ctx)
    assert res.examples == []
    assert len(eng.requests) == 3 * 10  # three rounds of one request per class, then it stops
    assert res.stats.shortfall == dict.fromkeys(ctx.task.labels, 3)
    assert all(v.calls == 3 for v in res.stats.per_class.values())


def test_batches_cover_all_classes_and_dedup_is_stable(reg, tmp_path):
    def reply(r, i):
        lab = label_of(r)
        return f"Here are examples:\n1. {lab} eins bitte jetzt\n2. {lab} zwei bitte jetzt\n3. {lab} eins bitte jetzt"

    eng = Scripted(reply)
    ctx = context(reg, eng, tmp_path, per_class=2)
    res = reg.strategy("zero-shot").generate(ctx)
    assert len(eng.requests) == 10  # one batched round served every class
    assert len(res.examples) == 20
    assert res.stats.duplicates >= 10
    cands = candidates(tmp_path)["candidates"]
    assert {c["status"] for c in cands} >= {"accepted", "duplicate"}


def test_revision_keeps_only_first_word_yes(reg, tmp_path):
    def reply(r, i):
        if is_revision(r):
            return "Yes, fits." if "gut" in revised_text(r) else "Not yes: wrong label"
        lab = label_of(r)
        return f"{lab} gut gemacht heute\n{lab} schlecht gemacht heute" if i == 0 else f"{lab} gut nochmal heute"

    eng = Scripted(reply)
    res = reg.strategy("target-demos+revision").generate(context(reg, eng, tmp_path, per_class=2))
    assert len(res.examples) == 20 and all("gut" in e.text for e in res.examples)
    cands = candidates(tmp_path)["candidates"]
    rejected = [c for c in cands if c["status"] == "rejected by revision"]
    assert rejected and all(c["verdict"] == "unclear" and c["reason"].startswith("Not yes") for c in rejected)


def test_target_demos_come_from_the_target_language(reg, tmp_path):
    eng = Scripted(lambda r, i: "")
    reg.strategy("target-demos").generate(context(reg, eng, tmp_path, budget=1))
    record = candidates(tmp_path)["demos"]
    demos = json.loads((tmp_path / record["file"]).read_text())["demos"]
    german = {e.text for e in reg.task("massive10").load("de", "train")}
    assert all(d in german for ds in demos.values() for d in ds) and all(len(ds) == 2 for ds in demos.values())


def test_label_summaries_written_once_and_used(reg, tmp_path):
    def reply_with_summary(r, i):
        content = r.messages[-1].content
        if "generate a short description of the intent" in content:
            return "Description: This intent involves asking for a thing. Extra sentence"
        return f"{label_of(r)} erste Zeile hier"

    eng = Scripted(reply_with_summary)
    reg.strategy("sl").generate(context(reg, eng, tmp_path, per_class=1))
    summary = json.loads(next((tmp_path / "summaries").glob("massive10.*.json")).read_text())["summaries"]
    assert summary["alarm_query"] == "This intent involves asking for a thing."  # the reference's clean-up
    clause = "which has the following meaning: This intent involves asking for a thing."
    gen = [r for r in eng.requests if clause in r.messages[-1].content]
    assert len(gen) == 10


def test_faithful_mode_window_and_loose_yes(reg, tmp_path):
    def reply(r, i):
        if is_revision(r):
            return "Not yes"
        lab = label_of(r)
        return f"Here you go\n1. {lab} ok.\n2. {lab} kurz und gut genug hier.\n3. " + "x" * 150 + "."

    eng = Scripted(reply)
    res = reg.strategy("target-demos+revision").generate(context(reg, eng, tmp_path, per_class=5, budget=1, faithful=True))
    assert res.examples and all(10 <= len(e.text) <= 100 for e in res.examples)  # loose "yes" accepted them


@pytest.mark.parametrize("strategy", ["zero-shot", "target-demos+sl"])
def test_same_seed_same_data_with_a_real_tiny_model(reg, tiny_model, tmp_path, strategy):
    from harness.api import TransformersEngine

    engine = TransformersEngine(str(tiny_model), {"batch_size": 8})
    runs = []
    for k in range(2):
        ctx = context(reg, engine, tmp_path / str(k), strategy_task="sentiment", lang="sw", per_class=2, budget=2,
                      sampling=SamplingParams(temperature=0.9, max_new_tokens=20))
        runs.append(reg.strategy(strategy).generate(ctx))
    assert runs[0].examples == runs[1].examples
    assert runs[0].stats.parsed == runs[1].stats.parsed > 0
    assert Path(tmp_path / "0" / "artefacts" / "cell" / "candidates.json").is_file()


def test_optional_near_duplicate_removal(reg, tmp_path):
    from harness.api import ComposedStrategy, Recipe

    def reply(r, i):
        lab = label_of(r)
        return f"{lab} bitte den Wecker stellen\n{lab} bitte den Wecker stellen, danke\n{lab} etwas ganz anderes sagen"

    plain = ComposedStrategy("p", Recipe()).generate(context(reg, Scripted(reply), tmp_path / "a", per_class=5, budget=1))
    near = ComposedStrategy("n", Recipe(near_duplicates=0.8)).generate(
        context(reg, Scripted(reply), tmp_path / "b", per_class=5, budget=1))
    assert len(plain.examples) == 30 and len(near.examples) == 20


class Bounded(Scripted):
    """A scripted model with a context: a label's generation prompt fits with at most `allowed[label]`
    demonstrations (-1: not even without them); a revision of a text containing "LONG" never fits."""

    def __init__(self, reply, allowed):
        super().__init__(reply)
        self.allowed = allowed

    def context_overflow(self, r):
        if is_revision(r):
            return "revision too long" if "LONG" in revised_text(r) else None
        allowed = self.allowed.get(label_of(r), 2)
        return "too long" if allowed < 0 or demo_count(r) > allowed else None


def demo_count(req):
    text = req.messages[-1].content
    return text.split("Examples:\n")[1].split("\nNow generate")[0].count("\n") + 1 if "Examples:\n" in text else 0


def test_demos_dropped_from_the_end_until_the_prompt_fits(reg, tmp_path):
    def reply(r, i):
        if is_revision(r):
            return "Yes"
        lab = label_of(r)
        return f"{lab} gut gemacht heute {i}\n{lab} LONG gemacht heute {i}"

    eng = Bounded(reply, {"alarm_query": 1, "audio_volume_down": 0, "weather_query": -1})
    ctx = context(reg, eng, tmp_path, per_class=2, budget=2)
    res = reg.strategy("target-demos+revision").generate(ctx)
    generation = [r for r in eng.requests if "can have the label:" in r.messages[-1].content]
    shown = {label_of(r): demo_count(r) for r in generation}
    record = candidates(tmp_path)["demos"]
    demos = json.loads((tmp_path / record["file"]).read_text())["demos"]
    # the first demo is kept, the last dropped; the other labels keep both; one label is never asked
    alarm = next(r for r in generation if label_of(r) == "alarm_query").messages[-1].content
    assert demos["alarm_query"][0] in alarm and demos["alarm_query"][1] not in alarm
    assert shown["alarm_query"] == 1 and shown["audio_volume_down"] == 0 and "weather_query" not in shown
    assert all(n == 2 for lab, n in shown.items() if lab not in ("alarm_query", "audio_volume_down"))
    assert res.stats.demos_dropped == {"alarm_query": 1, "audio_volume_down": 2, "weather_query": 2}
    assert res.stats.context_rejected == {"weather_query": "too long"}
    assert res.stats.shortfall == {"weather_query": 2} and res.stats.per_class["weather_query"].calls == 0
    assert len(res.examples) == 18 and not any("LONG" in e.text for e in res.examples)
    # a revision prompt that does not fit rejects its candidate; the rest of the batch is judged
    cands = candidates(tmp_path)["candidates"]
    skipped = [c for c in cands if "LONG" in c["text"]]
    assert skipped and all(c["status"] == "not revised: revision too long" for c in skipped)
    assert all(not is_revision(r) or "LONG" not in revised_text(r) for r in eng.requests)


def test_tiny_context_on_a_real_model(reg, tiny_model, tiny_chat_model, tmp_path):
    """The tiny chat model with a small max_position_embeddings: demonstrations are dropped until each
    prompt and its generation budget fit, labels whose prompt never fits are not asked, the rest generate."""
    from conftest import build_tiny_chat_model
    from harness.api import TransformersEngine
    from harness.kits.strategies import demos as demo_draws

    budget = 8
    strategy = reg.strategy("target-demos")
    probe = TransformersEngine(str(tiny_chat_model), {"device": "cpu"})
    ctx = context(reg, probe, tmp_path / "probe", per_class=1, budget=1)
    draw, _, _ = demo_draws.shared(ctx.task, "de", "target", 2, ctx.run_seed, None)
    lengths = {lab: [len(probe.prompt_ids(strategy.request(ctx, lab, ds[:k], None, True, 0, "")[0])) for k in range(3)]
               for lab, ds in draw.items()}
    probe.close()
    # a context that holds every label's prompt with one demonstration but the longest without none
    limit = sorted(n[1] for n in lengths.values())[-1] + budget
    limit = min(limit, max(n[0] for n in lengths.values()) + budget - 1)
    small = TransformersEngine(str(build_tiny_chat_model(tiny_model, tmp_path / "small", max_position_embeddings=limit)),
                     {"device": "cpu", "batch_size": 16})
    assert small.max_context == limit
    ctx = context(reg, small, tmp_path / "run", per_class=1, budget=1,
                  sampling=SamplingParams(temperature=0.9, max_new_tokens=budget))
    res = strategy.generate(ctx)
    keep = {lab: max((k for k in range(3) if n[k] + budget <= limit), default=None) for lab, n in lengths.items()}
    assert res.stats.demos_dropped == {lab: 2 - (k or 0) for lab, k in keep.items() if k != 2}
    rejected = {lab for lab, k in keep.items() if k is None}
    assert rejected and set(res.stats.context_rejected) == rejected
    assert all(res.stats.per_class[lab].calls == (0 if lab in rejected else 1) for lab in keep)
    small.close()


def test_leaderboard_rows_keep_the_context_cuts_of_every_replicate():
    from harness.records import GenerationStats
    from harness.results.pooling import pool_generation

    counts = dict.fromkeys(("requested", "accepted", "rejected", "duplicates", "llm_calls", "engine_calls",
                            "prompt_tokens", "completion_tokens", "seconds"), 0)
    pooled = pool_generation([GenerationStats.from_json(st) for st in (
        {**counts, "per_class": {}, "demos_dropped": {"a": 1}, "context_rejected": {"b": "too long"}},
        {**counts, "per_class": {}, "demos_dropped": {"a": 2, "c": 1}})])
    assert pooled.demos_dropped == {"a": 3, "c": 1} and pooled.context_rejected == {"b": "too long"}
