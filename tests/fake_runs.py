"""A tiny `bench run` in this process with a scripted fake generator, and result rows made by hand:
for the tests of what reads a finished run (the results table, the answer a run prints)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fakes import FakeEngine, prompt_text

from conftest import UNIT_GOLD, bench, fresh_cache, write_suite
from harness.contracts import Completion
from harness.pipeline.runner import Runner
from harness.results.metrics import summary
from harness.results.model import Floor, Gap, Generation, GoldRef, Replicate, Result, Scores, SeedScore, Stat
from harness.store.cache import CachedEngine, digest


def scripted(request, i):
    """Replies that are a function of the prompt and seed alone."""
    text = prompt_text(request)
    return Completion("\n".join(f"Sentensi {digest([text, request.seed, i, j])[:6]} ya leo" for j in range(3)), 11, 9)


def fake_run(root: Path, *args: str, command: tuple[str, ...] | None = None) -> subprocess.CompletedProcess:
    """`bench run` on the gold miniature (Swahili sentiment, zero-shot and target-demos, tf-idf, two
    replicates of two seeds) into root/run, its generator a scripted fake engine; `command` runs
    another command in the same setting instead (`("merge", ...)`)."""
    suite = write_suite(root / "s.toml", "gemma-3-270m", tasks=["sentiment"], languages=["sw"],
                        strategies=["zero-shot", "target-demos"], classifiers=["tfidf-logreg"], per_class=3, seeds=2)
    argv = command or ("run", str(suite), "--replicates", "2", "--out", str(root / "run"), "--no-progress", *args)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Runner, "_load", lambda self, model: CachedEngine(
            FakeEngine(scripted, fingerprint="scripted@1", batch_size=3, tokens=(7, 6)), self.store, model))
        return bench(*argv, env={"BENCH_CACHE_DIR": str(fresh_cache(root / "cache")), "BENCH_DATA_DIR": str(UNIT_GOLD)})


def stat(values: list[float]) -> Stat:
    return Stat(**summary(values))


def result_row(strategy: str, f1s: list[float], *, gold: float = 0.8, floor: float | None = None,
               language: str = "sw", tier: str = "high", model: str = "m") -> Result:
    """A row of task `t` and classifier `c` with these per-seed macro-F1s (none: not scored, at
    `floor`), against a gold of `gold` on every seed."""
    per_seed = [SeedScore(replicate=0, seed=i, macro_f1=v, accuracy=v) for i, v in enumerate(f1s)]
    return Result(
        task="t", language=language, language_iso="swh_Latn", language_name="Swahili", tier=tier, strategy=strategy,
        model=model, classifier="c", cell_id=f"g-{strategy}-{language}", eval_id=f"e-{strategy}-{language}",
        train_size=4,
        scores=Scores(per_seed=per_seed, macro_f1=stat(f1s), accuracy=stat(f1s)) if f1s else None,
        generation=Generation(requested=4, accepted=4, rejected=0, duplicates=0, llm_calls=2, engine_calls=2,
                              prompt_tokens=30, completion_tokens=20, seconds=1.0, per_class={}),
        gold=GoldRef(macro_f1=stat([gold] * 3), accuracy=stat([gold] * 3), train_size=4),
        gap_to_gold=Gap(points=stat([100 * (gold - v) for v in f1s]), relative=None, paired_over="classifier seeds",
                        paired=list(range(len(f1s)))) if f1s else None,
        replicates=[Replicate(replicate=0, eval_id=f"e-{strategy}-{language}", train_size=4, macro_f1=None)],
        floor=Floor(macro_f1=floor, accuracy=0.5) if floor is not None else None)
