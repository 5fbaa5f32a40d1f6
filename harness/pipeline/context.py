"""A strategy's context outside a run: for a plugin's own tests and for scripts that drive one
strategy by hand (benchmarks/gpu_reference.py), with the files in a run directory of their choosing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts import Engine, GenerationContext, GenerationEngine, Language, SamplingParams, Task
from harness.errors import unknown
from harness.store.cache import CachedEngine, Store
from harness.store.rundir import RunDir


@dataclass
class FixedModels:
    """`Models` from engines already loaded: the other models a strategy may call, by name. A model
    plugin's `Engine` is put behind an in-memory cache, as `standalone_context` does the generator."""

    engines: Mapping[str, Engine | GenerationEngine] = field(default_factory=dict)
    samplings: Mapping[str, SamplingParams] = field(default_factory=dict)
    default_sampling: SamplingParams = field(default_factory=SamplingParams)

    def __post_init__(self) -> None:
        self.engines = {name: cached(engine, name) for name, engine in self.engines.items()}

    def engine(self, name: str) -> GenerationEngine:
        if name not in self.engines:
            raise unknown("model", name, list(self.engines))
        return self.engines[name]


def cached(engine: Engine | GenerationEngine, name: str = "", store: Store | None = None) -> GenerationEngine:
    """`engine` as a strategy gets it in a run: a model plugin's `Engine` behind a cache (`store`, else
    one in memory, so nothing is left on disk), named `name` (else its fingerprint); an engine already
    cached as it is."""
    if isinstance(engine, Engine):
        return CachedEngine(engine, store or Store.in_memory(), name or engine.fingerprint)
    return engine

    def sampling(self, name: str) -> SamplingParams:
        return self.samplings.get(name, self.default_sampling)


def standalone_context(task: Task, language: Language, engine: Engine | GenerationEngine, run_dir: str | Path, *,
                       cell: str = "cell", per_class: int = 10, seed: int = 0, sampling: SamplingParams | None = None,
                       calls_per_class: int = 4, samples_per_request: int = 4,
                       options: Mapping[str, Any] | None = None, models: Any = None, run_seed: int = 0,
                       replicate: int = 0, log: Any = None, store: Store | None = None) -> GenerationContext:
    """A `GenerationContext` for one cell named `cell`, its files under `run_dir` as a run keeps them
    (artefacts/<cell>/, summaries/, demos/). A model plugin's `Engine` is put behind the cache as in a
    run (`store`, else one in memory), so the strategy batches, bills (`phase`, `account`, `counters`)
    and checks contexts exactly as it does in a run; an engine already cached is used as it is."""
    sampling = sampling or SamplingParams()
    return GenerationContext(
        task=task, language=language, engine=cached(engine, store=store), per_class=per_class, seed=seed,
        sampling=sampling,
        calls_per_class=calls_per_class, samples_per_request=samples_per_request,
        artifacts=RunDir(run_dir).artifacts(cell), models=models or FixedModels(default_sampling=sampling),
        options=dict(options or {}), run_seed=run_seed, replicate=replicate, log=log or (lambda message: None))
