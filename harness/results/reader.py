"""Reading a run directory for the leaderboard: the finished evaluation cells with their scores, the
generation each trained on and the candidates it kept, grouped by the row they belong to; the work
cells share (label summaries); the bill saved when the run started."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from harness.pipeline.plan import GOLD, EvalCell, Plan
from harness.records import Candidates, GenerationStats, ScoresRecord
from harness.store.rundir import RunDir, read_json


class RowKey(NamedTuple):
    """The row of the leaderboard an evaluation cell belongs to (`Result.key`)."""

    task: str
    language: str
    strategy: str
    model: str
    classifier: str


@dataclass
class FinishedCell:
    """One finished evaluation cell: its scores, and for a synthetic cell the statistics of the
    generation it trained on and the candidates that generation kept (None where its strategy keeps none)."""

    cell: EvalCell
    scores: ScoresRecord
    generation: GenerationStats | None
    candidates: Candidates | None = None

    @property
    def showed_summaries(self) -> bool:
        """Whether the generation's prompts showed label summaries."""
        return self.candidates is not None and bool(self.candidates.summaries)


def finished(plan: Plan, run: RunDir) -> dict[RowKey, list[FinishedCell]]:
    """The finished evaluation cells (and their generations), by row, each row's replicates in plan order."""
    out: dict[RowKey, list[FinishedCell]] = {}
    for cell in plan.eval_cells:
        synthetic = cell.strategy != GOLD
        if not run.done(run.scores(cell.id)) or (synthetic and not run.done(run.generation(cell.source))):
            continue
        key = RowKey(cell.task, cell.language, cell.strategy, cell.model, cell.classifier)
        out.setdefault(key, []).append(FinishedCell(
            cell, run.read_scores(cell.id),
            run.read_generation(cell.source).stats if synthetic else None,
            run.read_candidates(cell.source) if synthetic else None))
    return out


def samples_file(run: RunDir, cell_id: str) -> str | None:
    """A cell's per-example predictions file, when it was scored with --log-samples."""
    path = run.samples(cell_id)
    return str(path.relative_to(run.root)) if path.is_file() else None


def saved_estimate(run: RunDir) -> dict[str, Any] | None:
    """The bill the run saved when it started (absent for runs made before, or by hand)."""
    try:
        data = read_json(run.estimate)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def shared_work(run: RunDir) -> list[dict[str, Any]]:
    """Work that several cells share (a task's label summaries), counted once here from the file
    that holds it, and in no cell's generation statistics."""
    out = []
    for path in run.summaries():
        try:
            data = read_json(path)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("usage"), dict):
            out.append({"kind": "label summaries", "task": data.get("task"), "model": data.get("model"),
                        "file": str(path.relative_to(run.root)), **data["usage"]})
    return out
