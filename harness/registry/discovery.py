"""Discovers plugins through the `lowres_bench` entry-point group and collects what they register.

A plugin that fails in any way is recorded with its error and skipped, so one broken third-party
package cannot take the others down. "Any way" is: an exception on import or in a hook, including
`SystemExit` and other `BaseException`s (only `KeyboardInterrupt` still ends the program); a
registration of the wrong type or without a name; a function marked `@hookimpl` whose name is no
hook (a typo, reported with the nearest hook name); an entry-point name already taken. A skipped
plugin contributes nothing: what it registered before failing is withdrawn, except languages
already added to a task.

A name registered twice (a strategy 'zero-shot' from a second plugin) is not a failure of the whole
plugin: the first registrant keeps it, the duplicate item alone is skipped and listed in that
plugin's `conflicts`, and the rest of the plugin is used. Built-in plugins (the lowres-bench
distribution) load first, so they always win over third-party ones.

`BENCH_STRICT_PLUGINS=1` (or `--strict-plugins`) turns any failure or conflict into a hard error
for CI.
"""

from __future__ import annotations

import os
import re
import traceback
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from harness import hookspecs
from harness.contracts import Classifier, Language, ModelSpec, Strategy, Task, Tracker
from harness.errors import PluginError, nearest, unknown

GROUP = hookspecs.PROJECT  # the entry-point group plugins declare
#: the group plugins used before it was made unique: found there, a plugin is named, not loaded
OLD_GROUP = "bench"
KINDS = ("tasks", "strategies", "models", "classifiers", "trackers")
#: the distribution whose entry points are the built-in plugins; they load (and win) first
BUILTIN_DISTRIBUTION = "lowres-bench"


@dataclass
class PluginInfo:
    name: str  # entry-point name
    module: str
    distribution: str
    version: str
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None  # set: the plugin was skipped
    conflicts: list[str] = field(default_factory=list)  # items skipped because another plugin has the name

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "registered": self.registered,
            "error": self.error,
            "conflicts": self.conflicts,
        }


@dataclass
class Registry:
    """Everything the installed plugins registered, by name, with look-ups that answer an unknown
    name with the nearest one ("did you mean"), and `plugins`: each plugin's distribution, version,
    what it registered and why it failed, if it did (what `bench plugins` shows).

        reg = load_registry()
        reg.task("massive10").languages()["sw"].name  # "Swahili"
        reg.classifier("e5-logreg").fingerprint()
    """

    tasks: dict[str, Task] = field(default_factory=dict)
    strategies: dict[str, Strategy] = field(default_factory=dict)
    models: dict[str, ModelSpec] = field(default_factory=dict)
    classifiers: dict[str, Classifier] = field(default_factory=dict)
    trackers: dict[str, Tracker] = field(default_factory=dict)
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

    def tracker(self, name: str) -> Tracker:
        if name not in self.trackers:
            raise unknown("tracker", name, self.trackers)
        return self.trackers[name]

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


def _normal(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _load_order(eps: Iterable[EntryPoint]) -> list[EntryPoint]:
    """Built-in plugins first, then the others by name: the first registrant of a name keeps it."""
    return sorted(eps, key=lambda e: (_normal(_dist_of(e)[0]) != BUILTIN_DISTRIBUTION, e.name, e.value))


def strict_from_env() -> bool:
    return os.environ.get("BENCH_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def _short_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _plugin_failure(exc: BaseException) -> bool:
    """Whether an exception out of plugin code is that plugin's failure. Everything is, `SystemExit`
    included (a plugin calling sys.exit() must not end the harness silently with its status), except
    `KeyboardInterrupt`: the user asked to stop, so it goes on up."""
    return not isinstance(exc, KeyboardInterrupt)


def _singular(kind: str) -> str:
    return "strategy" if kind == "strategies" else kind[:-1]


class _Skip(Exception):
    """Raised inside load_registry to skip a plugin with a message that is already worded."""


#: how to leave strict mode, by what turned it on (named in the error, so the user undoes the right thing)
_UNDO = {"--strict-plugins": "drop --strict-plugins", "BENCH_STRICT_PLUGINS": "unset BENCH_STRICT_PLUGINS",
         "strict=True": "call load_registry(strict=False)"}


def load_registry(strict: bool | str | None = None, extra: Iterable[tuple[str, Any]] = ()) -> Registry:
    """Load every `lowres_bench` entry point, call its hooks and build the registry.

    `extra` takes (name, module-or-object) pairs registered as if they came from entry points, after
    them; tests and `harness.api.run(registry=...)` callers use it to add plugins without installing
    a package. `strict` may name what asked for it (`"--strict-plugins"`), for the error to say.
    """
    if strict is None:
        by = "BENCH_STRICT_PLUGINS" if strict_from_env() else None
    else:
        by = (strict if isinstance(strict, str) else "strict=True") if strict else None
    loader = _Loader(by)
    loader.discover(extra)
    loader.register_hooks()
    loader.register_items()
    loader.register_languages()
    return loader.reg


#: the item hooks, in the order they are called: (registry kind, hook, what it must register)
ITEM_HOOKS = (
    ("tasks", "bench_register_tasks", Task),
    ("strategies", "bench_register_strategies", Strategy),
    ("models", "bench_register_models", ModelSpec),
    ("classifiers", "bench_register_classifiers", Classifier),
    ("trackers", "bench_register_trackers", Tracker),
)


class _Guard:
    """`with loader.guard(info, stage) as g:` runs plugin code; a failure of the plugin (anything but
    Ctrl-C and the harness's own errors) is reported and skipped, and `g.failed` says so."""

    def __init__(self, loader: _Loader, info: PluginInfo, stage: str):
        self.loader, self.info, self.stage, self.failed = loader, info, stage, False

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not _plugin_failure(exc):
            return False
        self.loader.fail(self.info, self.stage, exc)
        self.failed = True
        return True


class _Collector:
    """The `register` callback a plugin's item hook gets: checks each item and keeps it pending, so
    that a plugin whose hook fails part-way registers none of its items."""

    def __init__(self, kind: str, kind_type: type, pending: list[tuple[str, str, Any]]):
        self.kind, self.kind_type, self.pending = kind, kind_type, pending

    def __call__(self, item: Any) -> None:
        if not isinstance(item, self.kind_type):
            raise TypeError(f"{self.kind} must be {self.kind_type.__name__} objects, got {type(item).__name__}")
        name = getattr(item, "name", "")
        if not isinstance(name, str) or not name:
            raise TypeError(f"a registered {_singular(self.kind)} has no name")
        self.pending.append((self.kind, name, item))


class _LanguageCollector:
    """The `register` callback of `bench_register_languages`: languages are added once every task is known."""

    def __init__(self, reg: Registry):
        self.reg = reg
        self.added: list[tuple[Task, Language, dict[str, Any]]] = []

    def __call__(self, task: str, language: Language, **options: Any) -> None:
        if not isinstance(language, Language):
            raise TypeError(f"languages must be Language objects, got {type(language).__name__}")
        self.added.append((self.reg.task(task), language, options))


class _Loader:
    """One load of the registry, step by step: discover the entry points (and `extra`), register
    them with pluggy (refusing hooks that do not exist), collect their items, then their languages.
    Every step isolates each plugin's failure."""

    def __init__(self, strict_by: str | None):
        self.strict = strict_by is not None
        self.undo = _UNDO.get(strict_by or "", f"turn off {strict_by}")
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.hook_names = sorted(n for n in dir(hookspecs) if n.startswith("bench_") and callable(getattr(hookspecs, n)))
        self.reg = Registry()
        self.infos: dict[str, PluginInfo] = {}  # the plugins that loaded, by entry-point name
        self.sources: list[tuple[PluginInfo, Any]] = []
        self.active: list[PluginInfo] = []
        self.targets: dict[str, dict[str, Any]] = {"tasks": self.reg.tasks, "strategies": self.reg.strategies,
                                                   "models": self.reg.models, "classifiers": self.reg.classifiers,
                                                   "trackers": self.reg.trackers}

    # -- reporting -------------------------------------------------------------------------------
    @staticmethod
    def where(info: PluginInfo) -> str:
        return info.distribution or info.module

    def fail(self, info: PluginInfo, stage: str, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, _Skip) else _short_error(exc)
        info.error = f"{stage}: {text}"
        if self.strict:
            raise PluginError(f"plugin {info.name!r} ({self.where(info)}) failed to {stage}: {text} "
                              f"(strict plugins are on: {self.undo} to skip it)") from (None if isinstance(exc, _Skip) else exc)
        warnings.warn(f"skipping plugin {info.name!r}: {info.error}", stacklevel=4)

    def conflict(self, info: PluginInfo, message: str) -> None:
        if self.strict:
            raise PluginError(f"plugin {info.name!r} ({self.where(info)}): {message} (strict plugins are on: {self.undo} to "
                              "skip the duplicate)")
        info.conflicts.append(message + "; this one skipped")
        warnings.warn(f"plugin {info.name!r}: {info.conflicts[-1]}", stacklevel=4)

    def guard(self, info: PluginInfo, stage: str) -> _Guard:
        return _Guard(self, info, stage)

    # -- import ----------------------------------------------------------------------------------
    def discover(self, extra: Iterable[tuple[str, Any]]) -> None:
        seen: set[tuple[str, str, str]] = set()
        for ep in _load_order(entry_points(group=GROUP)):
            dist, version = _dist_of(ep)
            if (ep.name, ep.value, _normal(dist)) in seen:  # the same distribution found twice on the path
                continue
            seen.add((ep.name, ep.value, _normal(dist)))
            self.add_source(PluginInfo(ep.name, ep.value, dist, version), ep.load)
        for ep in entry_points(group=OLD_GROUP):
            dist, _ = _dist_of(ep)
            warnings.warn(f"plugin {ep.name!r} ({dist or ep.value}) declares the entry-point group {OLD_GROUP!r}; "
                          f"it is now {GROUP!r}: rename [project.entry-points.{OLD_GROUP}] in its pyproject.toml "
                          "and reinstall it", stacklevel=3)
        for name, obj in extra:
            self.add_source(PluginInfo(name, getattr(obj, "__name__", repr(obj)), "", ""), lambda obj=obj: obj)

    def add_source(self, info: PluginInfo, load: Any) -> None:
        self.reg.plugins.append(info)
        if info.name in self.infos:
            other = self.infos[info.name]
            self.fail(info, "load", _Skip(f"the entry-point name {info.name!r} is already used by "
                                          f"{self.where(other)}; this one skipped (rename one)"))
            return
        self.infos[info.name] = info
        with self.guard(info, "import"):  # a broken plugin must not take the others down
            self.sources.append((info, load()))

    # -- register with pluggy, and refuse hooks that do not exist -------------------------------
    def register_hooks(self) -> None:
        for info, obj in self.sources:
            with self.guard(info, "register") as g:
                self.pm.register(obj, name=info.name)
            if g.failed:
                continue
            # pluggy keeps a hookimpl with no matching spec and would only complain in check_pending()
            typos = sorted({caller.name for caller in self.pm.get_hookcallers(obj) or [] if not caller.has_spec()
                            for impl in caller.get_hookimpls() if impl.plugin_name == info.name and not impl.optionalhook})
            if typos:
                self.pm.unregister(name=info.name)
                hints = [f"{typo!r}" + (f" (did you mean {hint!r}?)" if (hint := nearest(typo, self.hook_names)) else "")
                         for typo in typos]
                self.fail(info, "register", _Skip(f"unknown hook {', '.join(hints)}; the hooks are "
                                                  f"{', '.join(self.hook_names)}"))
                continue
            self.active.append(info)

    def call_hook(self, hook_name: str, info: PluginInfo, register: Any) -> None:
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if impl.plugin_name == info.name:
                impl.function(**{arg: register for arg in impl.argnames})

    # -- tasks, strategies, models, classifiers, trackers: a plugin's items all or none --------
    def register_items(self) -> None:
        for info in self.active:
            pending: list[tuple[str, str, Any]] = []
            with self.guard(info, "") as g:
                for kind, hook_name, kind_type in ITEM_HOOKS:
                    g.stage = "register " + kind
                    self.call_hook(hook_name, info, _Collector(kind, kind_type, pending))
            if not g.failed:
                self.accept(info, pending)

    def accept(self, info: PluginInfo, pending: list[tuple[str, str, Any]]) -> None:
        for kind, name, item in pending:
            owner = self.reg.owners.get((kind, name))
            if owner is not None:
                again = " (a second time)" if owner == info.name else ""
                self.conflict(info, f"{_singular(kind)} {name!r} already registered by plugin {owner!r}{again}")
                continue
            self.targets[kind][name] = item
            self.reg.owners[(kind, name)] = info.name
            info.registered.setdefault(kind, []).append(name)

    def withdraw(self, info: PluginInfo) -> None:
        """Take back what a plugin that has just failed registered (languages cannot be taken back)."""
        for kind, names in list(info.registered.items()):
            if kind in self.targets:
                for name in names:
                    if self.reg.owners.get((kind, name)) == info.name:
                        del self.targets[kind][name], self.reg.owners[(kind, name)]
                del info.registered[kind]

    # -- languages, once every task is known -----------------------------------------------------
    def register_languages(self) -> None:
        for info in self.active:
            if info.error:
                continue
            collector = _LanguageCollector(self.reg)
            with self.guard(info, "register languages") as g:
                self.call_hook("bench_register_languages", info, collector)
            if g.failed:
                self.withdraw(info)
                continue
            self.add_languages(info, collector.added)

    def add_languages(self, info: PluginInfo, added: list[tuple[Task, Language, dict[str, Any]]]) -> None:
        for task, language, options in added:
            key = f"{task.name}:{language.code}"
            if language.code in task.languages():
                by = self.reg.owners.get(("languages", key))
                self.conflict(info, f"language {key!r} already registered by "
                                    f"{f'plugin {by!r}' if by else f'task {task.name!r}'}")
                continue
            with self.guard(info, "register languages") as g:
                task.add_language(language, **options)
            if g.failed:
                self.withdraw(info)
                return
            self.reg.owners[("languages", key)] = info.name
            info.registered.setdefault("languages", []).append(key)
