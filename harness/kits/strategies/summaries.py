"""Label summaries: one short English description per label, written by an LLM from English gold
examples, once per task and summarizer model, stored in the run directory (and, through the
generation cache, never asked for twice)."""

from __future__ import annotations

import random
from collections.abc import Mapping

from harness.contracts import GenerationContext, GenerationEngine, GenerationRequest, SamplingParams
from harness.kits.strategies import prompts
from harness.pipeline import seeds
from harness.store.cache import digest
from harness.store.rundir import slug

SUMMARY_TOKENS = 64  # as the reference's summarizer


def clean_summary(text: str, chat: bool) -> str:
    """The reference's clean-up: one line, no double quotes, cut after the last full stop, and
    anything up to a colon ("Description:") dropped. A base model continued "This intent involves",
    so those words are put back in front."""
    out = text.replace("\n", " ").replace('"', "")
    if "." in out:
        out = out[: out.rindex(".") + 1]
    if ":" in out:
        out = out[out.index(":") + 1 :]
    out = " ".join(out.split())
    if not chat:
        out = f"This intent involves {out}"
    return out[:500]


def label_summaries(ctx: GenerationContext, engine: GenerationEngine, sampling: SamplingParams,
                    examples_per_label: int) -> Mapping[str, str]:
    """The task's label summaries by `engine` (the recipe's summarizer, or the generator itself),
    kept among the run's shared artefacts: every cell and strategy of the task reads the same file."""
    task = ctx.task
    if task.label_summaries:
        return dict(task.label_summaries)
    # the digest keeps two summarizers with long, similar names apart
    key = digest([engine.name, prompts.templates_digest(), examples_per_label])[:8]
    name = f"{slug(task.name)}.{slug(engine.name)[:40]}.{key}.json"
    kept = ctx.artifacts.load_shared("summaries", name)
    if kept is not None:
        return kept["summaries"]
    rng = random.Random(seeds.summary_examples_seed(task.name))
    english = task.load("en", "train")
    by_label: dict[str, list[str]] = {lab: [] for lab in task.labels}
    for ex in english:
        by_label[ex.label].append(ex.text)
    params = SamplingParams(temperature=sampling.temperature, top_p=sampling.top_p,
                            repetition_penalty=sampling.repetition_penalty, max_new_tokens=SUMMARY_TOKENS)
    reqs, shown = [], {}
    for lab in task.labels:
        examples = rng.sample(by_label[lab], min(examples_per_label, len(by_label[lab])))
        shown[lab] = examples
        p = prompts.summary(engine.is_chat, label=lab, examples=examples)
        seed = seeds.summary_seed(task.name, lab)
        reqs.append(GenerationRequest(params, seed, n=1, messages=p) if engine.is_chat
                    else GenerationRequest(params, seed, n=1, prompt=p, stop=("\n",)))
    # work every cell of the task shares: counted once, in the summary file, never in the statistics
    # of whichever cell happened to need it first (that depends on order, shards and resumes)
    before = engine.counters("shared")
    with engine.account("shared"):
        replies = engine.generate(reqs)
    after = engine.counters("shared")
    usage = {k: round(after[k] - before[k], 3) for k in after}
    out = {lab: clean_summary(c[0].text, engine.is_chat) for lab, c in zip(task.labels, replies)}
    ctx.artifacts.save_shared("summaries", name, {"task": task.name, "model": engine.name, "summaries": out,
                                                  "examples": shown, "usage": usage})
    return out
