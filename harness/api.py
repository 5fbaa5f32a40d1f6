"""The public interface: everything a plugin needs, and `run` to benchmark a suite from Python.

Plugin authors import from here only (`from harness.api import hookimpl, Task, Language, ...`); the
modules behind these names may move, this list stays. `run` is what `bench run` does, in-process,
for notebooks, scripts and tests that want the leaderboard as a dict (lm-eval's `simple_evaluate`
plays the same part there).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.config import datadir
from harness.config.suite import COMMON_OPTIONS, REMOTE_DATA, Suite, check, load_suite, resolve_data_dir
from harness.contracts import (
    Classifier,
    ClassifierContext,
    Completion,
    Engine,
    Example,
    GenerationContext,
    GenerationRequest,
    GenerationResult,
    Language,
    Message,
    ModelSpec,
    Option,
    SamplingParams,
    Split,
    Strategy,
    Task,
)
from harness.errors import BenchError, DataError, nearest
from harness.hookspecs import hookimpl
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
from harness.kits.tasks.remote import remote_root
from harness.pipeline.plan import slug
from harness.registry.discovery import Registry, load_registry
from harness.store.cache import default_cache_dir, digest, provision_once
from harness.store.rundir import RunDir, read_json, write_json

__all__ = [
    # contracts and hooks
    "COMMON_OPTIONS", "Classifier", "ClassifierContext", "Completion", "Engine", "Example", "GenerationContext",
    "GenerationRequest", "GenerationResult", "Language", "Message", "ModelSpec", "Option", "SamplingParams", "Split",
    "Strategy", "Task", "hookimpl",
    # the building blocks (harness/kits): tasks from files or hub datasets, recipes, the transformers engine
    "ComposedStrategy", "FileTask", "HubSource", "HubTask", "Recipe", "TransformersEngine",
    "gold_root", "read_header", "read_jsonl", "read_rows", "require_file",
    "context_overflow", "device_kind", "engine_identity", "identity_label", "prompt_ids", "quantization_of",
    "quiet_transformers", "weights_identity",
    # errors, and helpers the built-in plugins share
    "BenchError", "DataError", "REMOTE_DATA", "RunDir", "default_cache_dir", "digest", "gold_data_dir", "nearest",
    "provision_once", "read_json", "slug", "write_json",
    # running
    "Registry", "Suite", "execute", "load_registry", "load_suite", "run",
]


def run(suite: Suite | str | Path, *, out: str | Path | None = None, data_dir: str | Path | None = None,
        cache_dir: str | Path | None = None, registry: Registry | None = None, executor: str = "local",
        ray_address: str | None = None, shard: tuple[int, int] | None = None, progress: bool = False,
        log_samples: bool = False, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run a suite (a `Suite`, or the path of a suite file) and return its leaderboard.

    `overrides` sets suite fields as the command-line options do (`{"per_class": 5, "seeds": [0]}`)
    and goes through the same checks; `out` defaults to runs/<suite name> and, as with `bench run`,
    an existing run directory with the same settings is resumed. Raises BenchError for bad input.
    """
    from harness.pipeline.plan import build_plan, shard_plan

    if not isinstance(suite, Suite):
        suite = load_suite(Path(suite))
    for key, value in (overrides or {}).items():
        if not hasattr(suite, key):
            raise BenchError(f"unknown suite setting {key!r}")
        setattr(suite, key, value)
    if problems := check(suite):
        raise BenchError(problems[0][2])
    if note := use_data_dir(suite, data_dir):
        print(note, file=sys.stderr)
    reg = registry or load_registry()
    plan = build_plan(suite, reg)
    if shard is not None:
        plan = shard_plan(plan, *shard)
    path = execute(plan, reg, out=out, cache_dir=cache_dir, executor=executor, ray_address=ray_address,
                   progress=progress, log_samples=log_samples)
    return read_json(path)


def gold_data_dir() -> str | None:
    """The gold data directory (or `remote`) of this process, for tasks that read files."""
    return datadir.current()


def use_data_dir(suite: Suite, given: str | Path | None) -> str | None:
    """Where the gold data is read from: `given` (the command line), else $BENCH_DATA_DIR, else the
    suite's data_dir; the nearest word wins. A directory the user named must exist; where only the
    suite names one (a checkout without the offline copy beside it) or none is named, the files come
    from their pinned public sources instead, and the line returned says so, to be logged."""
    if given:
        datadir.use(resolve_data_dir(str(given), Path.cwd()))
        return None
    if os.environ.get(datadir.ENV):
        datadir.use(os.environ[datadir.ENV])
        return None
    chosen = resolve_data_dir(str(suite.data_dir), Path.cwd()) if suite.data_dir else None
    if chosen is not None and (chosen == REMOTE_DATA or Path(chosen).is_dir()):
        datadir.use(chosen)
        return None
    datadir.use(REMOTE_DATA)
    return (f"gold data: {chosen or 'no data_dir'} {'does not exist' if chosen else 'is set'}; reading the files "
            f"from their pinned public sources into {remote_root()} (each fetched once and checked against its "
            "SHA-256; --data-dir names a local copy)")


def execute(plan: Any, reg: Registry, *, out: str | Path | None = None, cache_dir: str | Path | None = None,
            executor: str = "local", ray_address: str | None = None, progress: bool = False,
            log_samples: bool = False) -> Path:
    """Run a built plan into its run directory and write the leaderboard; returns its path."""
    from harness.environment import torch_device
    from harness.executors.local import named
    from harness.pipeline.progress import Reporter
    from harness.pipeline.runner import Runner, check_ready
    from harness.store.cache import Store

    schedule = named(executor, ray_address)
    check_ready(plan)
    target = Path(out or Path("runs") / plan.suite.name)
    store = Store(Path(cache_dir or default_cache_dir()) / "cache.sqlite")
    with Reporter(enabled=progress) as rep:
        rep.log(f"suite {plan.suite.name}: {len(plan.gen_cells)} generation cells, {len(plan.eval_cells)} evaluation "
                f"cells, {len(plan.unavailable)} unavailable; out {target}")
        path = Runner(plan, reg, target, store, rep, device=torch_device(),
                      log_samples=log_samples).execute(schedule)
        rep.log(f"leaderboard written to {path}")
    return path
