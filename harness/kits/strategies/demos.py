"""Demonstrations shown to the generator: drawn once per (run seed, task, language, source, label,
replicate).

A comparison between strategies or models is only fair when they see the same gold examples; a
draw seeded by the whole cell would confound "which strategy" with "which demos". So the draw
depends on nothing a strategy or model could change, and it is recorded once per run directory,
where every cell that used it points.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from harness.contracts import Artifacts, Task
from harness.pipeline.seeds import demo_seed
from harness.store.cache import digest

DemoSelector = Callable[[Sequence[str], int, random.Random], list[str]]

DEMO_TOKENS = 128  # demos are cut to this many whitespace tokens, as in the reference code


def random_demos(pool: Sequence[str], k: int, rng: random.Random) -> list[str]:
    return rng.sample(list(pool), min(k, len(pool)))


def draw(task: Task, language: str, source: str, k: int, run_seed: int,
         select: DemoSelector = random_demos, replicate: int = 0) -> dict[str, list[str]]:
    """k demonstrations per label from the gold train split of `source` ("target" or "english"),
    each cut to DEMO_TOKENS whitespace tokens; one seeded generator per label, so one label's pool
    never shifts another's draw. Each generation replicate draws afresh (replicate 0 is the draw a
    run without replicates makes)."""
    pool_lang = language if source == "target" else "en"
    by_label: dict[str, list[str]] = {lab: [] for lab in task.labels}
    for ex in task.load(pool_lang, "train"):
        by_label.setdefault(ex.label, []).append(ex.text)
    out = {}
    for lab in task.labels:
        rng = random.Random(demo_seed(run_seed, task.name, language, source, lab, replicate))
        out[lab] = [" ".join(d.split()[:DEMO_TOKENS]) for d in select(by_label[lab], k, rng)]
    return out


def shared(task: Task, language: str, source: str, k: int, run_seed: int, artifacts: Artifacts | None,
           select: DemoSelector = random_demos, replicate: int = 0) -> tuple[dict[str, list[str]], str, str]:
    """The draw for this run, recorded once among the run's shared artefacts: (demos, file name, digest).

    The draw is a pure function of its arguments, so two cells computing it at once write the same
    bytes; the file is what a reader checks to see that two rows were shown the same examples."""
    demos = draw(task, language, source, k, run_seed, select, replicate)
    dig = digest(demos)[:16]
    selector = "" if select is random_demos else f".{getattr(select, '__name__', 'custom')}"
    name = f"{task.name}.{language}.{source}.k{k}{selector}{f'.r{replicate}' if replicate else ''}.json"
    if artifacts is not None:
        kept = artifacts.load_shared("demos", name)
        if not (isinstance(kept, dict) and kept.get("digest") == dig):
            artifacts.save_shared("demos", name, {"task": task.name, "language": language, "source": source, "k": k,
                                                  "run_seed": run_seed, "replicate": replicate, "digest": dig,
                                                  "demos": demos})
    return demos, name, dig
