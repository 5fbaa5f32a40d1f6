"""What the report's sample browser shows of a generation cell: a few accepted and a few rejected
candidates per class, with the reason each was turned down, read from the cell's candidates.json.
The first ones in generation order are taken, so the same run always shows the same examples; a
reader sees what the model wrote and why the filters or the reviser kept or dropped it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.results.model import Result
from harness.store.rundir import RunDir, read_json

PER_CLASS = 3
#: neither kept nor rejected: valid candidates beyond the requested count
SURPLUS = "surplus"


@dataclass
class ClassSamples:
    label: str
    accepted: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # each with `status` (the reason) and, after revision, `reason`


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


def pick(candidates: list[dict], labels: list[str], per_class: int = PER_CLASS) -> list[ClassSamples]:
    """The first `per_class` accepted and the first `per_class` rejected candidates of every class;
    classes in `labels` order, then any the candidates name that `labels` lacks."""
    order = list(dict.fromkeys([*labels, *(c["label"] for c in candidates)]))
    out = {lab: ClassSamples(lab) for lab in order}
    for c in candidates:
        status = c.get("status", "")
        group = out[c["label"]].accepted if status == "accepted" else (
            None if status in ("", SURPLUS) else out[c["label"]].rejected)
        if group is not None and len(group) < per_class:
            group.append(c)
    return list(out.values())


def cell_samples(run_dir: Path, row: Result, per_class: int = PER_CLASS) -> CellSamples | None:
    """The browser's view of a result row's generation cell, or None when the strategy kept no
    candidates.json (strategies other than the composed ones may not)."""
    path = RunDir(run_dir).candidates(row.cell_id)
    if not path.is_file():
        return None
    candidates = read_json(path).get("candidates", [])
    labels = list(row.generation.per_class)
    statuses = Counter(status_kind(c.get("status", "unknown")) for c in candidates)
    return CellSamples(row.cell_id, len(candidates), statuses, pick(candidates, labels, per_class))
