"""How much work a cell can do, bounded as the run bounds it: one rule for the plan's expected LLM
calls and the dry run's bill, so the two never disagree.

A strategy's own estimate assumes the model delivers; the run stops asking for a label after the
suite's budget of requests (`calls_per_class`, or the generous default), so generation never costs
more than that however large `per_class` is. Likewise a training set holds no more examples than
generation can yield and the gold split holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.config.suite import LINES_PER_SAMPLE, Suite
from harness.contracts import Strategy, Task


def bounded_work(strategy: Strategy, task: Task, suite: Suite) -> dict[str, int]:
    """The strategy's expected LLM calls per phase for one cell, generation capped at the budget
    of requests per label."""
    work = dict(strategy.expected_work(task, suite.per_class, suite.samples_per_request))
    if "generation" in work:
        work["generation"] = min(work["generation"], most_generation_calls(task, suite))
    return work


def most_generation_calls(task: Task, suite: Suite) -> int:
    return len(task.labels) * suite.budget()


def cell_calls(strategy: Strategy, task: Task, suite: Suite) -> int:
    """A generation cell's own expected LLM calls (generation and revision; label summaries are
    shared by every cell of a task and model, and billed once)."""
    return sum(n for phase, n in bounded_work(strategy, task, suite).items() if phase != "label summaries")


def synthetic_per_class(suite: Suite) -> int:
    """The most examples of one class a generation cell is planned to yield: `per_class`, unless the
    budget of requests cannot ask for that many."""
    return min(suite.per_class, suite.budget() * suite.samples_per_request * LINES_PER_SAMPLE)


def training_size(labels: tuple[str, ...] | list[str], per_class: int, gold_counts: Mapping[str, int] | None) -> int:
    """Examples in a training set of at most `per_class` per label, each label also capped at its
    count in the gold split where that caps it (a gold cell, or a synthetic one matched to gold size)."""
    if gold_counts is None:
        return per_class * len(labels)
    return sum(min(per_class, gold_counts.get(lab, 0)) for lab in labels)
