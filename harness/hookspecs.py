"""Hook specifications: the only way plugins, built-in or third-party, add things to the harness.

Every hook receives a `register` callback (the pattern of simonw/llm), so one plugin module can
add any number of items and the harness can attribute each one to the plugin that added it.

When they run: once per process, when the registry is loaded (`load_registry`, at the start of
every `bench` command and of `harness.api.run`), in this order: tasks, strategies, models,
classifiers, trackers (each plugin's items all or none: a plugin whose hook raises is skipped whole), then
languages, which may add to tasks any plugin registered. Built-in plugins load first and keep
their names; a later registration of a taken name is reported and skipped.

Plugins import what they need from `harness.api`; see docs/plugins.md for a worked example of each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

#: the project name pluggy and the entry-point group share: unique to this project, as pluggy asks
PROJECT = "lowres_bench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def bench_register_tasks(register: Callable[[Any], None]) -> None:
    """Add classification tasks.

    :param register: call `register(task)` with a `harness.api.Task` instance (a `FileTask` for
        CSV/JSONL files) once per task; its `name` must be new.

    Example::

        @hookimpl
        def bench_register_tasks(register):
            register(FileTask(name="news", labels=("sport", "politics"), description="Topic of Yoruba news headlines.",
                              languages={"yo": Language("yo", "Yoruba", "yor_Latn")},
                              files={"yo": (str(DATA / "yo-train.csv"), str(DATA / "yo-test.csv"))}))
    """


@hookspec
def bench_register_strategies(register: Callable[[Any], None]) -> None:
    """Add data-generation strategies.

    :param register: call `register(strategy)` with a `harness.api.Strategy`; the usual way is a
        `ComposedStrategy(name, Recipe(...))` made of the built-in ingredients (demonstrations,
        label summaries, revision, language filter, extra filters). A `Strategy` of one's own declares
        what it reads from `[strategies."<name>"]` in `options` and finds the values in `ctx.options`.

    Example::

        @hookimpl
        def bench_register_strategies(register):
            register(ComposedStrategy("target-demos+k5", Recipe(demos="target", k=5)))
    """


@hookspec
def bench_register_models(register: Callable[[Any], None]) -> None:
    """Add model engines.

    :param register: call `register(ModelSpec(name, load, description, prefix=False, options=None,
        check=None))`. `load(arg, options)` returns a `harness.api.Engine` and is called once per
        run for each model of the grid, after the plan is built; `options` (name -> `Option`)
        declares what it reads from `[models."<name>"]`, so mistakes fail `--dry-run`; `check(arg)`
        validates the argument without loading. With `prefix=True` the name is a scheme (`hf`
        serves `hf:<id>`).

    Example::

        @hookimpl
        def bench_register_models(register):
            register(ModelSpec("echo", lambda arg, options: EchoEngine(), "repeats the prompt",
                               options={"batch_size": COMMON_OPTIONS["batch_size"]}))
    """


@hookspec
def bench_register_classifiers(register: Callable[[Any], None]) -> None:
    """Add downstream classifiers.

    :param register: call `register(classifier)` with a `harness.api.Classifier`; its
        `fit_predict(train, texts, labels, ctx)` is called once per evaluation cell and seed, with
        `ctx.seed`, `ctx.cache` (for embeddings), `ctx.device`, `ctx.options` (its suite table,
        checked against the classifier's declared `options`) and `ctx.embed(texts)` (the text
        embeddings classifiers share, e5-logreg's, cached); it returns a `Fit` (the predictions and
        what to record about the fit) or the predictions alone.

    Example::

        @hookimpl
        def bench_register_classifiers(register):
            register(MajorityClass())
    """


@hookspec
def bench_register_trackers(register: Callable[[Any], None]) -> None:
    """Add experiment trackers, which `bench run --track NAME[:URI]` reports a run to.

    :param register: call `register(tracker)` with a `harness.api.Tracker`: its `start(settings,
        uri)` is called when the run's pending cells are about to be computed, `cell(record)` as each
        one is saved, `finish(leaderboard, files)` once the leaderboard is written (and `abort(reason)`
        if the run stops before). A tracker that raises is reported in one line and dropped; the run
        goes on. Each run gets its own copy of the registered object.

    Example::

        @hookimpl
        def bench_register_trackers(register):
            register(JsonLines())  # `bench run --track jsonl:runs.jsonl`
    """


@hookspec
def bench_register_languages(register: Callable[..., None]) -> None:
    """Add languages to tasks registered elsewhere.

    :param register: call `register(task_name, Language(...), **options)`; the options are the
        task's `add_language` arguments (for file tasks and the built-in tasks: where the language's
        train and test files are, `train=` and `test=`; `massive10` and `sentiment` need `test=` or
        `hub=HubSource(...)`, `sib200` takes any of SIB-200's own 205 languages with none). Runs after
        every task is registered, so a small package can add, say, Yoruba to SIB-200 without touching
        the task's code.

    Example::

        @hookimpl
        def bench_register_languages(register):
            register("sib200", Language("yo", "Yoruba", "yor_Latn", "low", "yor_Latn"))  # FLORES code
            register("massive10", Language("gsw", "Swiss German", "gsw_Latn"),
                     train=str(DATA / "gsw-train.csv"), test=str(DATA / "gsw-test.csv"))
    """
