"""Label summaries: one short English description per label, written by an LLM from English gold
examples, once per task and summarizer model, stored in the run directory (and, through the
generation cache, never asked for twice)."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping

from harness.cache import digest
from harness.plan import slug
from harness.rundir import read_json, write_json
from harness.types import GenerationContext, GenerationRequest, SamplingParams
from plugins.strategies import prompts


def _first_sentence(text: str, label: str, chat: bool) -> str:
    text = text.strip().split("\n")[0].strip()
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = (m.group(1) if m else text).strip().strip('"')
    if not chat:
        sentence = f'Texts with the label "{prompts.show_label(label)}" are {sentence}'
    return sentence[:300]


def label_summaries(ctx: GenerationContext) -> Mapping[str, str]:
    task = ctx.task
    if task.label_summaries:
        return dict(task.label_summaries)
    engine = ctx.summarizer or ctx.engine
    path = None
    if ctx.run_dir is not None:
        # the digest keeps two summarizers with long, similar names apart
        path = ctx.run_dir / "summaries" / f"{slug(task.name)}.{slug(engine.name)[:40]}.{digest(engine.name)[:8]}.json"
        if path.is_file():
            return read_json(path)["summaries"]
    rng = random.Random(int(digest(["summaries", task.name])[:8], 16))
    english = task.load("en", "train")
    by_label: dict[str, list[str]] = {lab: [] for lab in task.labels}
    for ex in english:
        by_label[ex.label].append(ex.text)
    params = SamplingParams(temperature=ctx.sampling.temperature, top_p=ctx.sampling.top_p,
                            repetition_penalty=ctx.sampling.repetition_penalty, max_new_tokens=60)
    reqs, shown = [], {}
    for lab in task.labels:
        examples = rng.sample(by_label[lab], min(ctx.summary_examples, len(by_label[lab])))
        shown[lab] = examples
        p = prompts.summary(engine.is_chat, description=task.description, label=lab, examples=examples)
        seed = int(digest(["summary", task.name, lab])[:8], 16)
        reqs.append(GenerationRequest(params, seed, n=1, messages=p) if engine.is_chat
                    else GenerationRequest(params, seed, n=1, prompt=p, stop=("\n",)))
    out = {lab: _first_sentence(c[0].text, lab, engine.is_chat) for lab, c in zip(task.labels, engine.generate(reqs))}
    if path is not None:
        write_json(path, {"task": task.name, "model": engine.name, "summaries": out, "examples": shown})
    return out
