"""The public interface: what a plugin author needs, and `run` and `results` to benchmark a suite
from Python.

Plugin authors import from here (`from harness.api import hookimpl, Task, Language, ...`); the
modules behind these names may move, this list stays. It holds the contracts a plugin implements,
the building blocks most plugins are made of (`FileTask`, `HubTask`, `Recipe`, `ComposedStrategy`,
`TransformersEngine`), a strategy's context outside a run (`standalone_context`), and the suite, the
run and the results for notebooks and scripts. `run` is what `bench run` does, in-process, and
returns the leaderboard as typed objects (`Leaderboard`, whose `to_json()` is the file; lm-eval's
`simple_evaluate` plays the same part there). Helpers the built-in plugins share (engine identity,
gold-file readers, provisioning) are in harness/_builtin_kit.py: internal, they change with the
built-in plugins.

Every class and function here has its own docstring (`help(Recipe)`, `help(Language)`); the
values that cannot carry one are:

- `hookimpl`: the decorator that marks a plugin's hook functions (`@hookimpl def
  bench_register_tasks(register): ...`); the hooks, each with an example, are in harness/hookspecs.py.
- `Split`: the name of a gold split, `"train"` or `"test"` (`Task.load(language, split)`).
- `COMMON_OPTIONS`: the engine options most models share (`batch_size`, `dtype`, `device`, ...), by
  name, as `Option`s; a `ModelSpec` declares the ones its engine reads:
  `options={k: COMMON_OPTIONS[k] for k in ("batch_size", "dtype")}`.
- `CellSaved`: what `Tracker.cell` is told of a saved cell, a `GenerationSaved` or an
  `EvaluationSaved` (harness/records.py); `record.kind` says which.

A classifier embeds text with `ctx.embed(texts)` (`ClassifierContext`): e5-logreg's embeddings,
`e5_embeddings`, cached in the store; `e5_identity()` names the encoder for a fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config.suite import COMMON_OPTIONS, Suite, load_suite
from harness.contracts import (
    Artifacts,
    Classifier,
    ClassifierContext,
    Completion,
    EmbeddingStore,
    Engine,
    Example,
    Fit,
    GenerationContext,
    GenerationEngine,
    GenerationRequest,
    GenerationResult,
    Language,
    Message,
    Models,
    ModelSpec,
    Option,
    SamplingParams,
    Split,
    Strategy,
    Task,
    Tracker,
)
from harness.errors import BenchError, DataError
from harness.hookspecs import hookimpl
from harness.kits.code_fingerprint import code_fingerprint
from harness.kits.embeddings import e5_embeddings, e5_identity
from harness.kits.engines.transformers import TransformersEngine
from harness.kits.strategies.compose import ComposedStrategy, Recipe
from harness.kits.tasks.file_task import FileTask
from harness.kits.tasks.hub_task import HubSource, HubTask
from harness.pipeline import run as pipeline
from harness.pipeline.context import FixedModels, standalone_context
from harness.records import CellSaved, GenerationStats
from harness.registry.discovery import Registry, load_registry
from harness.results import frame
from harness.results.model import Leaderboard, Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    # the contracts a plugin implements, and the hooks that register it
    "COMMON_OPTIONS", "Artifacts", "Classifier", "ClassifierContext", "Completion", "EmbeddingStore", "Engine", "Example", "Fit",
    "GenerationContext", "GenerationEngine", "GenerationRequest", "GenerationResult", "Language", "Message", "ModelSpec", "Models", "Option",
    "SamplingParams", "Split", "Strategy", "Task", "Tracker", "hookimpl",
    # the records a strategy returns and a tracker is told of (harness/records.py)
    "CellSaved", "GenerationStats",
    # the building blocks (harness/kits): tasks from files or hub datasets, recipes, the transformers engine,
    # the text embeddings classifiers share (ClassifierContext.embed)
    "ComposedStrategy", "FileTask", "HubSource", "HubTask", "Recipe", "TransformersEngine", "e5_embeddings",
    "e5_identity", "code_fingerprint",
    # a strategy driven outside a run (its own tests, scripts)
    "FixedModels", "standalone_context",
    # errors a plugin raises for its user's mistakes
    "BenchError", "DataError",
    # running a suite from Python, and its results (typed, and as a pandas table)
    "Suite", "load_registry", "load_suite", "run", "results", "Leaderboard", "Result",
]


def run(suite: Suite | str | Path, *, out: str | Path | None = None, data_dir: str | Path | None = None,
        cache_dir: str | Path | None = None, registry: Registry | None = None, executor: str = "local",
        ray_address: str | None = None, shard: tuple[int, int] | None = None, progress: bool = False,
        log_samples: bool = False, overrides: Mapping[str, Any] | None = None, yes: bool = False,
        track: Sequence[str] = ()) -> Leaderboard:
    """Run a suite (a `Suite`, or the path of a suite file) and return its leaderboard, as `bench run`
    does (both are harness.pipeline.run).

    `overrides` sets suite fields as the command-line options do (`{"per_class": 5, "seeds": [0]}`)
    on a copy of the suite (the `Suite` given is left as it was) and goes through the same checks;
    `out` defaults to runs/<suite name> and, as with `bench run`, an existing run directory with the
    same settings is resumed. A plan above the estimate's thresholds
    (more than 1,000,000 LLM calls or a week of compute) is refused unless `yes`, as with `bench run
    --yes`. `track` names experiment trackers as `bench run --track` does (`["mlflow:http://host:5000"]`);
    a tracker that fails is one warning line, never a failed run. Raises BenchError for bad input.

    >>> board = run("benchmarks/ci.toml", overrides={"per_class": 2, "seeds": [0]})  # doctest: +SKIP
    >>> [(r.strategy, r.gap_to_gold.points.mean) for r in board.results if r.gap_to_gold]  # doctest: +SKIP
    """
    prepared = pipeline.prepare(suite, overrides=overrides, data_dir=data_dir, registry=registry, shard=shard,
                                executor=executor, ray_address=ray_address, track=track)
    return pipeline.execute(prepared, out=out, cache_dir=cache_dir, progress=progress, log_samples=log_samples,
                            yes=yes)


def results(source: str | Path | Leaderboard, level: frame.Level = "seed") -> pd.DataFrame:
    """A run's results as a long-form pandas DataFrame: `source` is a run directory, a
    leaderboard.json or a `Leaderboard` (what `run` returns); `level="seed"` gives one row per task,
    language, strategy, model, classifier, replicate and classifier seed, `level="row"` one per
    leaderboard row (mean, 95% interval). Gold baselines are rows of strategy "gold" (gap 0). Columns:
    the keys and tier, `macro_f1` and `accuracy` (in [0, 1]), `gold_macro_f1`, `gap_points` (gold minus
    synthetic, F1 points), `vs_zero_shot` (the row against the suite's `baseline` strategy, zero-shot
    unless it names another, at 95%) and `vs_zero_shot_points`,
    `best` (in the best set of its task and language), the generation cost (`llm_calls`,
    `prompt_tokens`, `completion_tokens`, `engine_seconds`, the row's, repeated on its seed rows) and
    the numbers of a row's `cost` and `diagnostics`, prefixed `cost_` and `diag_`, where rows have them.
    `bench report RUN --format csv` writes the seed level as CSV. Raises BenchError for a bad source or
    level (harness/results/frame.py says more).

    >>> df = results("runs/default")  # doctest: +SKIP
    >>> df.groupby(["language", "strategy"]).macro_f1.mean()  # doctest: +SKIP
    >>> results("runs/default", level="row")[["strategy", "macro_f1", "gap_points", "vs_zero_shot"]]  # doctest: +SKIP
    """
    return frame.results(source, level)

