"""The engines of a run's generation: one model's for its cells (`ModelSession`), the other models
its strategies call (`ModelPool`), each loaded on first use (`LazyEngine`). They are handed what
they need (a loader, a cell generator), so they work the same for the runner, a Ray replica or a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from harness.contracts import Completion, GenerationRequest, SamplingParams
from harness.pipeline.plan import GenCell
from harness.store.cache import CachedEngine
from harness.store.rundir import GenerationRecord

#: loads a registered model by name, behind the cache
LoadEngine = Callable[[str], CachedEngine]


class LazyEngine:
    """A `GenerationEngine` that stands for a model until it is really used: a model a strategy calls
    beside its generator (a summarizer) is loaded only when its work is missing from the run
    directory, never just in case. Any call but `name` loads it."""

    def __init__(self, name: str, load: LoadEngine):
        self.name = name
        self._load = load
        self._engine: CachedEngine | None = None

    def loaded(self) -> CachedEngine:
        """The engine, loaded now if it was not yet."""
        if self._engine is None:
            self._engine = self._load(self.name)
        return self._engine

    @property
    def is_chat(self) -> bool:
        return self.loaded().is_chat

    @property
    def identity(self) -> dict[str, Any] | None:
        return self.loaded().identity

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        return self.loaded().generate(requests)

    def context_overflow(self, request: GenerationRequest) -> str | None:
        return self.loaded().context_overflow(request)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        with self.loaded().phase(name):
            yield

    @contextmanager
    def account(self, name: str) -> Iterator[None]:
        with self.loaded().account(name):
            yield

    def counters(self, account: str = "cell") -> dict[str, float]:
        return self.loaded().counters(account)

    def close(self) -> None:
        """Free the engine if it was loaded; a later call loads it again."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None


class ModelPool:
    """The `Models` a strategy may call (harness.contracts): the cell's own model as it is, any other
    loaded on first use; `close` releases what was loaded.

    `check` refuses an unknown model name at once (the registry's `model`, which suggests a near
    name); `sampling_for` is the suite's sampling of a model."""

    def __init__(self, load: LoadEngine, check: Callable[[str], Any], sampling_for: Callable[[str], SamplingParams],
                 own: str = "", engine: CachedEngine | None = None):
        self._load = load
        self._check = check
        self._sampling_for = sampling_for
        self._engines: dict[str, CachedEngine | LazyEngine] = {own: engine} if engine is not None else {}
        self._lazy: list[LazyEngine] = []

    def engine(self, name: str) -> CachedEngine | LazyEngine:
        if name not in self._engines:
            self._check(name)
            lazy = LazyEngine(name, self._load)
            self._lazy.append(lazy)
            self._engines[name] = lazy
        return self._engines[name]

    def sampling(self, name: str) -> SamplingParams:
        return self._sampling_for(name)

    def close(self) -> None:
        for lazy in self._lazy:
            lazy.close()


class ModelSession:
    """One model's engine for any number of its cells, and the other models its strategies call,
    each loaded only when used; `close` releases them all. `generate_cell(cell, engine, models)`
    makes one cell's payload."""

    def __init__(self, engine: CachedEngine, models: ModelPool,
                 generate_cell: Callable[[GenCell, CachedEngine, ModelPool], GenerationRecord]):
        self.engine = engine
        self.models = models
        self._generate_cell = generate_cell

    def generate(self, cell: GenCell) -> GenerationRecord:
        """The payload of one generation cell of this model (what `Runner.save_generation` writes)."""
        return self._generate_cell(cell, self.engine, self.models)

    def close(self) -> None:
        try:
            self.models.close()
        finally:
            self.engine.close()
