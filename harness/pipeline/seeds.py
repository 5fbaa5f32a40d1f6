"""Every seed of a run is derived here, from the run seed and what the random choice depends on.

A seed is the first 32 bits of the digest of its parts, so it depends on those parts and nothing
else: the same cell gets the same seed in any order, on any executor, resumed or not, and a
setting that cannot change an output (GPUs, batch size, concurrency) never changes a sample.
Replicate 0 derives exactly what a run without replicates does, so adding replicates keeps the
first one's results.
"""

from __future__ import annotations

from harness.store.cache import digest


def derive(*parts: object) -> int:
    """The seed of a random choice that depends on exactly `parts` (JSON-serialisable values)."""
    return int(digest(list(parts))[:8], 16)


def _with_replicate(replicate: int) -> list[int]:
    return [replicate] if replicate else []


def replicate_key(key: str, replicate: int) -> str:
    """`key` for replicate 0 (so a run with one replicate keeps its seeds), `key.rN` for the others."""
    return f"{key}.r{replicate}" if replicate else key


def classifier_seed(seed: int, task: str, language: str, replicate: int = 0) -> int:
    """A classifier's randomness for one evaluation seed: the same for gold and synthetic training
    data of a task and language, so the paired difference compares data, not initialisations; each
    replicate has its own, so replicates are independent repetitions of the whole experiment."""
    return derive(seed, replicate_key(f"{task}.{language}", replicate))


def gold_subset_seed(run_seed: int, task: str, language: str, replicate: int = 0) -> int:
    """The draw of a random gold subset (`gold = "random"`), afresh per replicate."""
    return derive(run_seed, replicate_key(f"gold.{task}.{language}", replicate))


def gold_label_seed(subset_seed: int, label: str) -> int:
    """One label's draw within a gold subset: one class's size never shifts another's draw."""
    return derive("gold", subset_seed, label)


def sampling_seed(run_seed: int, task: str, language: str, strategy: str, model: str, replicate: int = 0) -> int:
    """The seed of a generation cell's sampling: its factors and nothing else."""
    return derive("sampling", run_seed, task, language, strategy, model, *_with_replicate(replicate))


def request_seed(cell_seed: int, label: str, round_no: int) -> int:
    """One generation request of a cell: its label and round."""
    return derive(cell_seed, label, round_no)


def revision_seed(cell_seed: int, label: str, text: str) -> int:
    """The revision of one candidate: the same text judged twice gets the same draw."""
    return derive(cell_seed, "revision", label, text)


def demo_seed(run_seed: int, task: str, language: str, source: str, label: str, replicate: int = 0) -> int:
    """The demonstration draw of one label: shared by every strategy and model of the run."""
    return derive("demos", run_seed, task, language, source, label, *_with_replicate(replicate))


def summary_examples_seed(task: str) -> int:
    """Which English examples the label summarizer is shown: a property of the task."""
    return derive("summaries", task)


def summary_seed(task: str, label: str) -> int:
    """The summarizer's sampling for one label."""
    return derive("summary", task, label)
