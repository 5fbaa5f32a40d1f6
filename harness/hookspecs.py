"""Hook specifications: the only way plugins, built-in or third-party, add things to the harness.

Every hook receives a `register` callback (the pattern of simonw/llm), so one plugin module can
add any number of items and the harness can attribute each one to the plugin that added it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("bench")
hookimpl = pluggy.HookimplMarker("bench")


@hookspec
def bench_register_tasks(register: Callable[[Any], None]) -> None:
    """Register `harness.types.Task` objects: `register(task)`."""


@hookspec
def bench_register_strategies(register: Callable[[Any], None]) -> None:
    """Register `harness.types.Strategy` objects: `register(strategy)`."""


@hookspec
def bench_register_models(register: Callable[[Any], None]) -> None:
    """Register `harness.types.ModelSpec` objects: `register(ModelSpec(...))`."""


@hookspec
def bench_register_classifiers(register: Callable[[Any], None]) -> None:
    """Register `harness.types.Classifier` objects: `register(classifier)`."""


@hookspec
def bench_register_languages(register: Callable[..., None]) -> None:
    """Add languages to tasks registered elsewhere: `register("sib200", Language(...), **options)`.

    Runs after every task is registered, so a small package can add, say, Yoruba to SIB-200
    without touching the task's code."""
