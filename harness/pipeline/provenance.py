"""What a result was made from: the gold data actually read, per task, language and split.

A score is a claim about a dataset; when the files behind it change, the claim no longer holds.
The fingerprint is a digest of every example the task returned (text and label, in order), so it
works for any task plugin, whatever its storage, and changes with any edit that changes what the
harness reads. Cell ids include the fingerprints they depend on, and a run directory refuses to
resume after one changed, naming it, instead of quietly mixing results from two datasets.
"""

from __future__ import annotations

from harness.contracts import Task
from harness.pipeline import checks
from harness.store.cache import digest


def split_fingerprint(task: Task, language: str, split: str) -> str | None:
    """Digest of the examples of one split, checked (harness.pipeline.checks), or None when the split
    is unavailable. The plan reads every split here, so a bad row fails before any model loads."""
    if language not in task.languages() or task.unavailable(language, split):
        return None
    rows = checks.gold_rows(task.load(language, split), task.labels, task.name, language, split)
    return digest([[e.text, e.label] for e in rows])[:16]


def key(task: str, language: str, split: str) -> str:
    return f"{task}/{language}/{split}"


def changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Keys present in both with different fingerprints (a plan may add new keys freely)."""
    return sorted(k for k in new if k in old and old[k] != new[k])
