"""The public interface: everything a plugin needs, and `run` to benchmark a suite from Python.

Plugin authors import from here only (`from harness.api import hookimpl, Task, Language, ...`); the
modules behind these names may move, this list stays. `run` is what `bench run` does, in-process,
for notebooks, scripts and tests that want the leaderboard as typed objects (`Leaderboard`, whose
`to_json()` is the file; lm-eval's `simple_evaluate` plays the same part there).

Every class and function here has its own docstring (`help(Recipe)`, `help(Language)`); the
values that cannot carry one are:

- `hookimpl`: the decorator that marks a plugin's hook functions (`@hookimpl def
  bench_register_tasks(register): ...`); the hooks, each with an example, are in harness/hookspecs.py.
- `Split`: the name of a gold split, `"train"` or `"test"` (`Task.load(language, split)`).
- `COMMON_OPTIONS`: the engine options most models share (`batch_size`, `dtype`, `device`, ...), by
  name, as `Option`s; a `ModelSpec` declares the ones its engine reads:
  `options={k: COMMON_OPTIONS[k] for k in ("batch_size", "dtype")}`.
- `REMOTE_DATA`: `"remote"`, the data directory that means "fetch the gold files from their pinned
  public sources" (`--data-dir remote`; `gold_data_dir()` returns it when chosen).
- `CellSaved`: what `Tracker.cell` is told of a saved cell, a `GenerationSaved` or an
  `EvaluationSaved` (harness/records.py); `record.kind` says which.

A classifier embeds text with `ctx.embed(texts)` (`ClassifierContext`): e5-logreg's embeddings,
`e5_embeddings`, cached in the store; `e5_identity()` names the encoder for a fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config import datadir
from harness.config.suite import COMMON_OPTIONS, REMOTE_DATA, Suite, load_suite
from harness.contracts import (
    Artifacts,
    Classifier,
    ClassifierContext,
    Completion,
    Engine,
    Example,
    Fit,
    GenerationContext,
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
from harness.errors import BenchError, DataError, nearest
from harness.hookspecs import hookimpl
from harness.kits.embeddings import e5_embeddings, e5_identity
from harness.kits.engines.identity import (
    device_kind,
    engine_identity,
    identity_label,
    quantization_of,
    weights_identity,
)
from harness.kits.engines.prompt_ids import context_overflow, prompt_ids
from harness.kits.engines.transformers import TransformersEngine, quiet_transformers
from harness.kits.strategies.compose import ComposedStrategy, Recipe
from harness.kits.tasks.file_task import FileTask
from harness.kits.tasks.files import gold_root, read_header, read_jsonl, read_rows, require_file
from harness.kits.tasks.hub_task import HubSource, HubTask
from harness.pipeline import run as pipeline
from harness.pipeline.context import FixedModels, standalone_context
from harness.pipeline.run import use_data_dir
from harness.records import CellSaved, GenerationStats
from harness.registry.discovery import Registry, load_registry
from harness.results import frame
from harness.results.leaderboard import validate_file
from harness.results.model import Comparison, GoldResult, Leaderboard, Result, Scores, SeedScore, Stat
from harness.store.cache import default_cache_dir, digest, provision_once
from harness.store.rundir import RunDir, read_json, slug, write_json

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    # contracts and hooks
    "COMMON_OPTIONS", "Artifacts", "Classifier", "ClassifierContext", "Completion", "Engine", "Example", "Fit",
    "GenerationContext", "GenerationRequest", "GenerationResult", "Language", "Message", "ModelSpec", "Models", "Option",
    "SamplingParams", "Split", "Strategy", "Task", "Tracker", "hookimpl",
    # the records a strategy returns and a tracker is told of (harness/records.py)
    "CellSaved", "GenerationStats",
    # a strategy driven outside a run (its own tests, scripts)
    "FixedModels", "standalone_context",
    # the building blocks (harness/kits): tasks from files or hub datasets, recipes, the transformers engine,
    # the text embeddings classifiers share (ClassifierContext.embed)
    "ComposedStrategy", "FileTask", "HubSource", "HubTask", "Recipe", "TransformersEngine", "e5_embeddings",
    "e5_identity",
    "gold_root", "read_header", "read_jsonl", "read_rows", "require_file",
    "context_overflow", "device_kind", "engine_identity", "identity_label", "prompt_ids", "quantization_of",
    "quiet_transformers", "weights_identity",
    # errors, and helpers the built-in plugins share
    "BenchError", "DataError", "REMOTE_DATA", "RunDir", "default_cache_dir", "digest", "gold_data_dir", "nearest",
    "provision_once", "read_json", "slug", "write_json",
    # running
    "Registry", "Suite", "load_registry", "load_suite", "run", "use_data_dir",
    # the results as a table, for notebooks (pandas)
    "results",
    # the leaderboard, typed (harness/results/model.py): what `run` returns and `validate_file` reads
    "Comparison", "GoldResult", "Leaderboard", "Result", "Scores", "SeedScore", "Stat", "validate_file",
]


def run(suite: Suite | str | Path, *, out: str | Path | None = None, data_dir: str | Path | None = None,
        cache_dir: str | Path | None = None, registry: Registry | None = None, executor: str = "local",
        ray_address: str | None = None, shard: tuple[int, int] | None = None, progress: bool = False,
        log_samples: bool = False, overrides: Mapping[str, Any] | None = None, yes: bool = False,
        track: Sequence[str] = ()) -> Leaderboard:
    """Run a suite (a `Suite`, or the path of a suite file) and return its leaderboard, as `bench run`
    does (both are harness.pipeline.run).

    `overrides` sets suite fields as the command-line options do (`{"per_class": 5, "seeds": [0]}`)
    and goes through the same checks; `out` defaults to runs/<suite name> and, as with `bench run`,
    an existing run directory with the same settings is resumed. A plan above the estimate's thresholds
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
    synthetic, F1 points), `vs_zero_shot` (the row against zero-shot at 95%) and `vs_zero_shot_points`,
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


def gold_data_dir() -> str | None:
    """The gold data directory (or `remote`) of this process, for tasks that read files."""
    return datadir.current()
