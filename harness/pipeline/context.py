"""A strategy's context outside a run: for a plugin's own tests and for scripts that drive one
strategy by hand (benchmarks/gpu_reference.py), with the files in a run directory of their choosing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts import Engine, GenerationContext, Language, SamplingParams, Task
from harness.errors import unknown
from harness.store.rundir import RunDir


@dataclass
class FixedModels:
    """`Models` from engines already loaded: the other models a strategy may call, by name."""

    engines: Mapping[str, Any] = field(default_factory=dict)
    samplings: Mapping[str, SamplingParams] = field(default_factory=dict)
    default_sampling: SamplingParams = field(default_factory=SamplingParams)

    def engine(self, name: str) -> Any:
        if name not in self.engines:
            raise unknown("model", name, list(self.engines))
        return self.engines[name]

    def sampling(self, name: str) -> SamplingParams:
        return self.samplings.get(name, self.default_sampling)


def standalone_context(task: Task, language: Language, engine: Engine, run_dir: str | Path, *, cell: str = "cell",
                       per_class: int = 10, seed: int = 0, sampling: SamplingParams | None = None,
                       calls_per_class: int = 4, samples_per_request: int = 4,
                       options: Mapping[str, Any] | None = None, models: Any = None, run_seed: int = 0,
                       replicate: int = 0, log: Any = None) -> GenerationContext:
    """A `GenerationContext` for one cell named `cell`, its files under `run_dir` as a run keeps them
    (artefacts/<cell>/, summaries/, demos/)."""
    sampling = sampling or SamplingParams()
    return GenerationContext(
        task=task, language=language, engine=engine, per_class=per_class, seed=seed, sampling=sampling,
        calls_per_class=calls_per_class, samples_per_request=samples_per_request,
        artifacts=RunDir(run_dir).artifacts(cell), models=models or FixedModels(default_sampling=sampling),
        options=dict(options or {}), run_seed=run_seed, replicate=replicate, log=log or (lambda message: None))
