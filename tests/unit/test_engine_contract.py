"""The engine a strategy is given (`GenerationEngine`): the same cached engine in a run and under
`standalone_context`, refused at the boundary when incomplete, never probed for what it offers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fakes import FakeEngine

from harness.api import FixedModels, SamplingParams, standalone_context
from harness.contracts import Completion, GenerationEngine, GenerationRequest, missing_members
from harness.pipeline.models import LazyEngine, ModelPool, ModelSession
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def task():
    return load_registry().task("massive10")


def requests(count: int, n: int = 2) -> list[GenerationRequest]:
    return [GenerationRequest(SamplingParams(), seed=i, n=n, prompt=f"p{i}") for i in range(count)]


def test_standalone_context_gives_a_cached_engine_that_bills_as_a_run(task, tmp_path):
    engine = FakeEngine("hello", chat=False, batch_size=4)
    ctx = standalone_context(task, task.languages()["sw"], engine, tmp_path)
    assert isinstance(ctx.engine, CachedEngine) and ctx.engine.name == "fake@1"
    ctx.engine.generate(requests(2))
    with ctx.engine.phase("revision"):
        ctx.engine.generate(requests(3, n=1) + requests(1, n=1))  # the repeated request is served by the cache
    with ctx.engine.account("shared"):
        ctx.engine.generate(requests(1))
    cell, revision = ctx.engine.counters(), ctx.engine.counters("cell/revision")
    assert (cell["llm_calls"], cell["completion_tokens"]) == (4 + 2, 5 * (4 + 4))
    assert (revision["llm_calls"], revision["engine_calls"]) == (4, 4)
    assert ctx.engine.counters("shared")["llm_calls"] == 1
    assert engine.batches == [2, 4]  # in the engine's batches, as a run sends them; nothing written to run_dir
    assert not list(tmp_path.glob("*.sqlite"))


def test_standalone_context_keeps_an_engine_already_cached(task, tmp_path):
    cached = CachedEngine(FakeEngine("x"), Store(tmp_path / "c.sqlite"), "m")
    assert standalone_context(task, task.languages()["sw"], cached, tmp_path).engine is cached


def test_fixed_models_put_a_plugin_engine_behind_the_cache():
    models = FixedModels({"summarizer": FakeEngine("x")})
    assert isinstance(models.engine("summarizer"), CachedEngine)
    assert models.engine("summarizer").name == "summarizer"


class Incomplete:
    """Generates, but offers no phase, accounts or context check."""

    name, is_chat, identity = "half", False, None

    def generate(self, requests):
        return [[Completion("x")] * r.n for r in requests]


def test_a_context_refuses_an_engine_lacking_part_of_the_interface(task, tmp_path):
    with pytest.raises(TypeError, match=r"GenerationContext.engine must be a GenerationEngine: Incomplete has no "
                                        r"account, context_overflow, counters, phase"):
        standalone_context(task, task.languages()["sw"], Incomplete(), tmp_path)


def test_the_cache_refuses_a_raw_engine_lacking_part_of_the_interface(tmp_path):
    class NoCheck:
        fingerprint, is_chat, batch_size, identity = "nc@1", False, 4, None

        def generate(self, requests):
            return []

        def close(self):
            pass

    with pytest.raises(TypeError, match="the engine of model nc must be a Engine: NoCheck has no context_overflow, info"):
        CachedEngine(NoCheck(), Store.in_memory(), "nc")


def test_a_lazy_engine_is_complete_without_loading_and_loads_once_used(tmp_path):
    loaded: list[str] = []

    def load(name: str) -> CachedEngine:
        loaded.append(name)
        return CachedEngine(FakeEngine("x", chat=False), Store.in_memory(), name)

    lazy = LazyEngine("m", load)
    assert missing_members(lazy, GenerationEngine) == [] and lazy.name == "m" and loaded == []
    with lazy.phase("revision"):
        lazy.generate(requests(1))
    assert loaded == ["m"] and lazy.counters("cell/revision")["llm_calls"] == 1 and not lazy.is_chat
    lazy.close()
    assert loaded == ["m"]


class Closing(FakeEngine):
    closed = 0

    def close(self):
        Closing.closed += 1


def test_a_pool_checks_names_at_once_loads_on_use_and_closes_what_it_loaded():
    loads: list[str] = []

    def load(name: str) -> CachedEngine:
        loads.append(name)
        return CachedEngine(Closing("x"), Store.in_memory(), name)

    def check(name: str) -> None:
        if name == "nope":
            raise KeyError(name)

    own = load("own")
    pool = ModelPool(load, check, lambda name: SamplingParams(temperature=0.5 if name == "other" else 1.0), "own", own)
    assert pool.engine("own") is own
    with pytest.raises(KeyError):
        pool.engine("nope")
    other = pool.engine("other")
    assert loads == ["own"] and pool.sampling("other").temperature == 0.5
    other.generate(requests(1))
    session = ModelSession(own, pool, lambda cell, engine, models: {"cell": cell, "engine": engine.name})
    assert session.generate("c") == {"cell": "c", "engine": "own"}
    Closing.closed = 0
    session.close()
    assert loads == ["own", "other"] and Closing.closed == 2  # the other model, then the cell's own


#: a call that asks an engine whether it has something, instead of relying on its type
PROBE = re.compile(r"\b(?:getattr|hasattr)\(\s*[\w.\[\]\"']*engine\b|\.engine\.engine\b")


def test_no_module_probes_an_engine_for_what_it_offers():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for top in ("harness", "plugins") for path in sorted((ROOT / top).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if PROBE.search(line)]
    assert found == []
