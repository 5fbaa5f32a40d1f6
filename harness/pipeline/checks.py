"""Checks on what plugins hand back: a strategy's examples, a classifier's predictions, a task's
gold rows.

The harness scores whatever it is given, so a plugin that returns a label outside the task, an empty
text or a short list of predictions would otherwise produce a ranked number that means nothing
(a third "class" trained on, a score over misaligned predictions). Each check fails in one line
that names the plugin and the first bad item, so the plugin's author knows what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.contracts import Example, Fit
from harness.errors import PluginError


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _example_problem(item: Any, known: set[str], labels: Sequence[str]) -> str | None:
    if not isinstance(item, Example):
        return f"{_show(item)}, a {type(item).__name__}, not an Example(text, label)"
    if not isinstance(item.text, str) or not item.text.strip():
        return f"{_show(item)}, whose text is empty or not a string"
    if not isinstance(item.label, str) or item.label not in known:
        return f"{_show(item)}, whose label {_show(item.label)} is not one of the task's labels {list(labels)}"
    return None


def examples(items: Any, labels: Sequence[str], plugin: str) -> list[Example]:
    """`items` (what strategy `plugin` returned as its accepted examples), checked: a list of
    Example, each with a non-empty text and one of `labels`."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise PluginError(f"strategy {plugin!r} returned examples as a {type(items).__name__}; return a list of "
                          "Example(text, label)")
    known = set(labels)
    for i, item in enumerate(items):
        if why := _example_problem(item, known, labels):
            raise PluginError(f"strategy {plugin!r} returned example {i} {why}")
    return list(items)


def predictions(fit: Any, count: int, labels: Sequence[str], plugin: str) -> Fit:
    """One fit of classifier `plugin` (a Fit or a list of labels), checked: exactly `count`
    predictions (one per test text), each one of `labels`."""
    preds = fit.predictions if isinstance(fit, Fit) else fit
    if isinstance(preds, (str, bytes)) or not isinstance(preds, Sequence):
        try:
            preds = list(preds)
        except TypeError:
            raise PluginError(f"classifier {plugin!r} returned {_show(preds)} as predictions; return one label per "
                              "test text") from None
    if len(preds) != count:
        raise PluginError(f"classifier {plugin!r} returned {len(preds)} predictions for {count} test texts; return "
                          "one label per test text, in order")
    known = set(labels)
    for i, p in enumerate(preds):
        if not isinstance(p, str) or p not in known:
            raise PluginError(f"classifier {plugin!r} predicted {_show(p)} for test text {i}, which is not one of the "
                              f"task's labels {list(labels)}")
    return Fit(list(preds), dict(fit.details)) if isinstance(fit, Fit) else Fit(list(preds))


def gold_rows(items: Any, labels: Sequence[str], plugin: str, language: str, split: str) -> list[Example]:
    """The rows task `plugin` loaded for `language`/`split`, checked like a strategy's examples;
    a train split must also hold every label, since the gold baseline is trained on it and a class
    it never saw leaves the gold row without a score for that class."""
    where = f"task {plugin!r} ({language}/{split})"
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise PluginError(f"{where} loaded a {type(items).__name__}; return a list of Example(text, label)")
    if not items:
        raise PluginError(f"{where} loaded no rows")
    known = set(labels)
    for i, item in enumerate(items):
        if why := _example_problem(item, known, labels):
            raise PluginError(f"{where} loaded row {i}: {why}")
    if split == "train":
        missing = [lab for lab in labels if not any(e.label == lab for e in items)]
        if missing:
            raise PluginError(f"{where} has no example of {missing}; every class needs gold training examples "
                              f"(add some, or leave the language out with --languages)")
    return list(items)
