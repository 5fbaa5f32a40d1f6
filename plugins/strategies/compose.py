"""Strategies as combinations of ingredients: demonstrations (none, English or target language),
a label summary, and LLM revision. The paper's seven strategies and zero-shot are recipes; a
contributor builds a new one the same way (see README: "Adding a strategy")."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.cache import digest
from harness.rundir import write_json
from harness.types import (
    Example,
    GenerationContext,
    GenerationRequest,
    GenerationResult,
    Language,
    SamplingParams,
    Strategy,
    Task,
)
from plugins.strategies import parsing, prompts
from plugins.strategies.summaries import label_summaries

DemoSelector = Callable[[Sequence[str], int, random.Random], list[str]]
Filter = Callable[[str, str, GenerationContext], str | None]  # (text, label, ctx) -> rejection reason or None

DEMO_TOKENS = 128  # demos are cut to this many whitespace tokens, as in the reference code


def random_demos(pool: Sequence[str], k: int, rng: random.Random) -> list[str]:
    return rng.sample(list(pool), min(k, len(pool)))


@dataclass(frozen=True)
class Recipe:
    demos: Literal["none", "english", "target"] = "none"
    summary: bool = False
    revision: bool = False
    k: int | None = None  # demos per class; None: the suite's demos_per_class
    select: DemoSelector = random_demos
    filters: tuple[Filter, ...] = field(default=())
    near_duplicates: float = 0.0  # > 0: reject a text whose char-3-gram Jaccard similarity to an accepted one reaches this


class ComposedStrategy(Strategy):
    def __init__(self, name: str, recipe: Recipe, description: str = ""):
        self.name = name
        self.recipe = recipe
        self.description = description or self._describe()

    def _describe(self) -> str:
        r = self.recipe
        parts = [{"none": "no demonstrations", "english": "English demonstrations",
                  "target": "target-language demonstrations"}[r.demos]]
        parts.append("label summary" if r.summary else "no label summary")
        parts.append("LLM revision" if r.revision else "no revision")
        return ", ".join(parts)

    # -- planning ------------------------------------------------------------------------------
    def unavailable(self, task: Task, language: Language) -> str | None:
        if self.recipe.demos == "target":
            why = task.unavailable(language.code, "train")
            if why:
                return f"needs target-language demonstrations: {why}"
        if self.recipe.demos == "english" or (self.recipe.summary and not task.label_summaries):
            if "en" not in task.languages() or task.unavailable("en", "train"):
                return "needs English gold train examples (demonstrations or label summaries)"
        return None

    def expected_calls(self, task: Task, per_class: int, samples_per_request: int) -> int:
        lines_per_sample = 5
        rounds = -(-per_class // (samples_per_request * lines_per_sample))
        calls = len(task.labels) * rounds
        if self.recipe.revision:
            calls += int(len(task.labels) * per_class * 1.5)
        return calls

    # -- generation ----------------------------------------------------------------------------
    def prepare(self, ctx: GenerationContext) -> None:
        if self.recipe.summary:
            label_summaries(ctx)

    def generate(self, ctx: GenerationContext) -> GenerationResult:
        task, lang, r = ctx.task, ctx.language, self.recipe
        labels = list(task.labels)
        rng = random.Random(ctx.seed)
        chat = ctx.engine.is_chat
        k = r.k or ctx.demos_per_class

        demos: dict[str, list[str]] = {lab: [] for lab in labels}
        if r.demos != "none":
            pool = task.load(lang.code if r.demos == "target" else "en", "train")
            by_label: dict[str, list[str]] = {lab: [] for lab in labels}
            for ex in pool:
                by_label[ex.label].append(ex.text)
            for lab in labels:
                demos[lab] = [" ".join(d.split()[:DEMO_TOKENS]) for d in r.select(by_label[lab], k, rng)]
        summaries: Mapping[str, str] = label_summaries(ctx) if r.summary else {}

        gold_src = lang.code if not task.unavailable(lang.code, "train") else "en"
        gold_lengths = [len(e.text) for e in task.load(gold_src, "train")] if not task.unavailable(gold_src, "train") else []
        window = (10, 100) if ctx.faithful else parsing.length_window(gold_lengths)

        accepted: dict[str, list[str]] = {lab: [] for lab in labels}
        seen: set[str] = {parsing.normalise(d) for ds in demos.values() for d in ds}
        calls = dict.fromkeys(labels, 0)
        grams: dict[str, list[set[str]]] = {lab: [] for lab in labels}
        candidates: list[dict[str, Any]] = []
        counts = {"parsed": 0, "duplicates": 0, "rejected": 0}  # copies of demos count as duplicates
        target_total = ctx.per_class * len(labels)
        round_no = 0
        while True:
            batch: list[tuple[str, GenerationRequest, str]] = []
            for lab in labels:
                need = ctx.per_class - len(accepted[lab])
                if need <= 0 or calls[lab] >= ctx.calls_per_class:
                    continue
                req, prompt_text = self._request(ctx, lab, demos[lab], summaries.get(lab), need, chat, round_no)
                batch.append((lab, req, prompt_text))
                calls[lab] += 1
            if not batch:
                break
            replies = ctx.engine.generate([b[1] for b in batch])
            fresh: list[dict[str, Any]] = []
            for (lab, req, prompt_text), comps in zip(batch, replies):
                for comp in comps:
                    truncated = (comp.truncated if comp.truncated is not None
                                 else comp.completion_tokens >= req.params.max_new_tokens)
                    lines = (parsing.faithful_lines(comp.text) if ctx.faithful
                             else parsing.split_reply(comp.text, continuation=not chat, truncated=truncated))
                    for text in lines:
                        counts["parsed"] += 1
                        cand = {"round": round_no, "label": lab, "text": text}
                        candidates.append(cand)
                        reason = self._check(text, lab, prompt_text, window, seen, ctx, grams[lab])
                        if reason:
                            cand["status"] = reason
                            key = "duplicates" if reason == "duplicate" else "rejected"
                            counts[key] += 1
                            continue
                        seen.add(parsing.normalise(text))
                        if r.near_duplicates > 0:
                            grams[lab].append(parsing.char_ngrams(parsing.normalise(text)))
                        fresh.append(cand)
            if r.revision and fresh:
                self._revise(ctx, fresh, summaries, chat)
            for cand in fresh:
                lab = cand["label"]
                if cand.get("verdict", "yes") != "yes":
                    cand["status"] = "rejected by revision"
                    counts["rejected"] += 1
                elif len(accepted[lab]) >= ctx.per_class:
                    cand["status"] = "surplus"
                else:
                    cand["status"] = "accepted"
                    accepted[lab].append(cand["text"])
            ctx.progress(sum(len(v) for v in accepted.values()), target_total)
            round_no += 1

        ctx.workdir.mkdir(parents=True, exist_ok=True)
        write_json(ctx.workdir / "candidates.json", {"strategy": self.name, "window": list(window),
                                                     "demos": demos, "summaries": dict(summaries),
                                                     "candidates": candidates})
        examples = [Example(t, lab) for lab in labels for t in accepted[lab]]
        return GenerationResult(examples, self._stats(ctx, examples, counts, calls, gold_lengths, labels))

    def _request(self, ctx: GenerationContext, label: str, demos: list[str], summary: str | None, need: int,
                 chat: bool, round_no: int) -> tuple[GenerationRequest, str]:
        task, lang = ctx.task, ctx.language
        seed = int(digest([ctx.seed, label, round_no])[:8], 16)
        if chat:
            count = min(need + 2, 50)
            messages = prompts.generation_chat(description=task.description, text_kind=task.text_kind,
                                               language=lang.name, label=label, count=count, summary=summary, demos=demos)
            return (GenerationRequest(ctx.sampling, seed, n=ctx.samples_per_request, messages=messages),
                    "\n".join(m.content for m in messages))
        prompt = prompts.generation_base(description=task.description, text_kind=task.text_kind, language=lang.name,
                                         label=label, summary=summary, demos=demos)
        return GenerationRequest(ctx.sampling, seed, n=ctx.samples_per_request, prompt=prompt), prompt

    def _check(self, text: str, label: str, prompt_text: str, window: tuple[int, int], seen: set[str],
               ctx: GenerationContext, accepted_grams: list[set[str]] = ()) -> str | None:
        if not window[0] <= len(text) <= window[1]:
            return f"length {len(text)} outside {window[0]}-{window[1]}"
        norm = parsing.normalise(text)
        if norm in seen:
            return "duplicate"
        if not ctx.faithful and parsing.echoes(text, prompt_text):
            return "echoes the prompt"
        if self.recipe.near_duplicates > 0:
            grams = parsing.char_ngrams(norm)
            for other in accepted_grams:
                if parsing.jaccard(grams, other) >= self.recipe.near_duplicates:
                    return "near duplicate"
        for f in self.recipe.filters:
            reason = f(text, label, ctx)
            if reason:
                return reason
        return None

    def _revise(self, ctx: GenerationContext, cands: list[dict[str, Any]], summaries: Mapping[str, str],
                chat: bool) -> None:
        task, lang = ctx.task, ctx.language
        params = SamplingParams(temperature=ctx.sampling.temperature, top_p=ctx.sampling.top_p,
                                repetition_penalty=ctx.sampling.repetition_penalty,
                                max_new_tokens=ctx.revision_max_new_tokens)
        reqs = []
        for c in cands:
            p = prompts.revision(chat, description=task.description, language=lang.name, label=c["label"],
                                 summary=summaries.get(c["label"]), text=c["text"])
            seed = int(digest([ctx.seed, "revision", c["label"], c["text"]])[:8], 16)
            reqs.append(GenerationRequest(params, seed, n=1, messages=p) if chat
                        else GenerationRequest(params, seed, n=1, prompt=p, stop=("\n",)))
        for c, comps in zip(cands, ctx.engine.generate(reqs)):
            reply = comps[0].text.strip()
            c["verdict"] = parsing.verdict(reply, ctx.faithful)
            c["reason"] = reply[:300]

    def _stats(self, ctx: GenerationContext, examples: list[Example], counts: dict[str, int], calls: dict[str, int],
               gold_lengths: list[int], labels: list[str]) -> dict[str, Any]:
        texts = [e.text for e in examples]
        per_class = {lab: {"requested": ctx.per_class, "accepted": sum(e.label == lab for e in examples),
                           "calls": calls[lab]} for lab in labels}
        off = [t for t in texts if parsing.in_script(t, ctx.language.script) is False]
        parsed = counts["parsed"]
        return {
            "requested": ctx.per_class * len(labels),
            "accepted": len(examples),
            "rejected": counts["rejected"],
            "duplicates": counts["duplicates"],
            "parsed": parsed,
            "per_class": per_class,
            "shortfall": {lab: v["requested"] - v["accepted"] for lab, v in per_class.items() if v["accepted"] < v["requested"]},
            "acceptance_rate": round(len(examples) / parsed, 4) if parsed else 0.0,
            "duplicate_rate": round(counts["duplicates"] / parsed, 4) if parsed else 0.0,
            "mean_length": round(sum(map(len, texts)) / len(texts), 1) if texts else 0.0,
            "gold_mean_length": round(sum(gold_lengths) / len(gold_lengths), 1) if gold_lengths else 0.0,
            "distinct_1": round(parsing.distinct_n(texts, 1), 4),
            "distinct_2": round(parsing.distinct_n(texts, 2), 4),
            "off_script": len(off),
        }


PAPER = [
    ("zero-shot", Recipe()),
    ("sl", Recipe(summary=True)),
    ("english-demos+sl", Recipe(demos="english", summary=True)),
    ("english-demos+revision", Recipe(demos="english", revision=True)),
    ("target-demos", Recipe(demos="target")),
    ("target-demos+sl", Recipe(demos="target", summary=True)),
    ("target-demos+revision", Recipe(demos="target", revision=True)),
    ("target-demos+sl+revision", Recipe(demos="target", summary=True, revision=True)),
]
