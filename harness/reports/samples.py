"""What the report's sample browser shows of a generation cell: a few accepted and a few rejected
candidates per class, with the reason each was turned down, read from the cell's candidates.json.
The first ones in generation order are taken, so the same run always shows the same examples; a
reader sees what the model wrote and why the filters or the reviser kept or dropped it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.records import Candidate, CandidateStatus
from harness.results.model import Result
from harness.store.rundir import RunDir

PER_CLASS = 3


@dataclass
class ClassSamples:
    label: str
    accepted: list[Candidate] = field(default_factory=list)
    rejected: list[Candidate] = field(default_factory=list)  # each with `status` (the reason) and, after revision, `reason`


@dataclass
class CellSamples:
    cell_id: str
    candidates: int
    statuses: Counter  # rejection kinds (numbers masked) -> count, accepted and surplus included
    classes: list[ClassSamples]


def status_kind(status: str) -> str:
    """A rejection reason without its numbers, so that reasons can be counted by kind: "length 5
    outside 10-100" -> "length outside the window"; other reasons with numbers have them masked (N)."""
    if re.fullmatch(r"length \d+ outside \d+-\d+", status):
        return "length outside the window"
    return re.sub(r"\d+", "N", status)


def pick(candidates: list[Candidate], labels: list[str], per_class: int = PER_CLASS) -> list[ClassSamples]:
    """The first `per_class` accepted and the first `per_class` rejected candidates of every class
    (surplus ones are neither, unsettled ones are left out); classes in `labels` order, then any the
    candidates name that `labels` lacks."""
    order = list(dict.fromkeys([*labels, *(c.label for c in candidates)]))
    out = {lab: ClassSamples(lab) for lab in order}
    for c in candidates:
        kind = c.kind
        group = out[c.label].accepted if kind is CandidateStatus.ACCEPTED else (
            None if kind in (CandidateStatus.UNKNOWN, CandidateStatus.SURPLUS) else out[c.label].rejected)
        if group is not None and len(group) < per_class:
            group.append(c)
    return list(out.values())


def cell_samples(run_dir: Path, row: Result, per_class: int = PER_CLASS) -> CellSamples | None:
    """The browser's view of a result row's generation cell, or None when the strategy kept no
    candidates.json (strategies other than the composed ones may not)."""
    kept = RunDir(run_dir).read_candidates(row.cell_id)
    if kept is None:
        return None
    candidates = kept.candidates
    labels = list(row.generation.per_class)
    statuses = Counter(status_kind(c.status if c.status is not None else "unknown") for c in candidates)
    return CellSamples(row.cell_id, len(candidates), statuses, pick(candidates, labels, per_class))
