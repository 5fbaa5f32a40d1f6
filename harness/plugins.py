"""Discovers plugins through the `bench` entry-point group and collects what they register.

A plugin that fails to import or to register is recorded with its error and skipped, so one broken
third-party package cannot take the others down; `BENCH_STRICT_PLUGINS=1` (or `--strict-plugins`)
turns such a failure into a hard error for CI.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from harness import hookspecs
from harness.errors import PluginError, unknown
from harness.types import Classifier, Language, ModelSpec, Strategy, Task

GROUP = "bench"
KINDS = ("tasks", "strategies", "models", "classifiers")


@dataclass
class PluginInfo:
    name: str  # entry-point name
    module: str
    distribution: str
    version: str
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "registered": self.registered,
            "error": self.error,
        }


@dataclass
class Registry:
    tasks: dict[str, Task] = field(default_factory=dict)
    strategies: dict[str, Strategy] = field(default_factory=dict)
    models: dict[str, ModelSpec] = field(default_factory=dict)
    classifiers: dict[str, Classifier] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> plugin

    # -- lookups with 'did you mean' -----------------------------------------------------------
    def task(self, name: str) -> Task:
        if name not in self.tasks:
            raise unknown("task", name, self.tasks)
        return self.tasks[name]

    def strategy(self, name: str) -> Strategy:
        if name not in self.strategies:
            raise unknown("strategy", name, self.strategies)
        return self.strategies[name]

    def classifier(self, name: str) -> Classifier:
        if name not in self.classifiers:
            raise unknown("classifier", name, self.classifiers)
        return self.classifiers[name]

    def model(self, name: str) -> tuple[ModelSpec, str]:
        """The spec serving a model name and the argument it is called with."""
        if name in self.models and not self.models[name].prefix:
            return self.models[name], name
        scheme, sep, rest = name.partition(":")
        if sep and scheme in self.models and self.models[scheme].prefix:
            if not rest:
                raise PluginError(f"model {name!r} names no model after '{scheme}:'; write {scheme}:<id or path>")
            return self.models[scheme], rest
        choices = [m.name + (":<id>" if m.prefix else "") for m in self.models.values()]
        raise unknown("model", name, choices)

    def plugin_of(self, kind: str, name: str) -> str:
        return self.owners.get((kind, name), "")


def _dist_of(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    return dist.metadata["Name"] or "", dist.version or ""


def strict_from_env() -> bool:
    return os.environ.get("BENCH_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def _short_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def load_registry(strict: bool | None = None, extra: Iterable[tuple[str, Any]] = ()) -> Registry:
    """Load every `bench` entry point, call its hooks and build the registry.

    `extra` takes (name, module-or-object) pairs registered as if they came from entry points;
    tests use it to add plugins without installing a package.
    """
    strict = strict_from_env() if strict is None else strict
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    reg = Registry()
    infos: dict[str, PluginInfo] = {}

    def fail(info: PluginInfo, exc: BaseException, stage: str) -> None:
        info.error = f"{stage}: {_short_error(exc)}"
        if strict:
            raise PluginError(f"plugin {info.name!r} ({info.distribution or info.module}) failed to {stage}: "
                              f"{_short_error(exc)} (unset BENCH_STRICT_PLUGINS to skip it)") from exc
        warnings.warn(f"skipping plugin {info.name!r}: {info.error}", stacklevel=2)

    eps = sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value))
    sources: list[tuple[PluginInfo, Any]] = []
    for ep in eps:
        dist, version = _dist_of(ep)
        info = PluginInfo(ep.name, ep.value, dist, version)
        if ep.name in infos:
            other = infos[ep.name]
            raise PluginError(f"two plugins use the entry-point name {ep.name!r}: {other.distribution or other.module} "
                              f"and {dist or ep.value}; rename one")
        infos[ep.name] = info
        reg.plugins.append(info)
        try:
            sources.append((info, ep.load()))
        except Exception as exc:  # a broken plugin must not take the others down
            fail(info, exc, "import")
    for name, obj in extra:
        info = PluginInfo(name, getattr(obj, "__name__", repr(obj)), "", "")
        infos[name] = info
        reg.plugins.append(info)
        sources.append((info, obj))

    for info, obj in sources:
        try:
            pm.register(obj, name=info.name)
        except Exception as exc:
            fail(info, exc, "register")

    order = [
        ("tasks", "bench_register_tasks", (Task,), reg.tasks),
        ("strategies", "bench_register_strategies", (Strategy,), reg.strategies),
        ("models", "bench_register_models", (ModelSpec,), reg.models),
        ("classifiers", "bench_register_classifiers", (Classifier,), reg.classifiers),
    ]
    for kind, hook_name, types, target in order:
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            info = infos[impl.plugin_name]
            if info.error:
                continue
            added: list[tuple[str, Any]] = []

            def register(item: Any, _added: list = added, _kind: str = kind, _types: tuple = types) -> None:
                if not isinstance(item, _types):
                    raise TypeError(f"{_kind} must be {_types[0].__name__} objects, got {type(item).__name__}")
                name = getattr(item, "name", "")
                if not isinstance(name, str) or not name:
                    raise TypeError(f"a registered {_kind[:-1]} has no name")
                _added.append((name, item))

            try:
                impl.function(register=register)
            except Exception as exc:
                fail(info, exc, "register " + kind)
                continue
            for name, item in added:
                owner = reg.owners.get((kind, name))
                if owner is not None:
                    raise PluginError(f"{kind[:-1] if kind != 'strategies' else 'strategy'} {name!r} is registered twice: "
                                      f"by plugin {owner!r} and by plugin {info.name!r}; uninstall or rename one")
                target[name] = item
                reg.owners[(kind, name)] = info.name
                info.registered.setdefault(kind, []).append(name)

    for impl in pm.hook.bench_register_languages.get_hookimpls():
        info = infos[impl.plugin_name]
        if info.error:
            continue

        def add_language(task: str, language: Language, _info: PluginInfo = info, **options: Any) -> None:
            reg.task(task).add_language(language, **options)
            _info.registered.setdefault("languages", []).append(f"{task}:{language.code}")

        try:
            impl.function(register=add_language)
        except Exception as exc:
            fail(info, exc, "register languages")
    return reg
