"""Experiment trackers: where a run is reported as it goes (MLflow, a plugin's own), beside the run
directory that stays the record.

A tracker is told three things: the run's settings when it starts, each cell as it finishes, and the
leaderboard with the paths of its files at the end. A tracker is a spectator: whatever goes wrong in
one (a bad URI, a server that is down, a bug) is one warning line and that tracker is dropped for the
rest of the run; the run itself finishes, writes its leaderboard and exits as it would have without
it. Plugins add trackers with `bench_register_trackers`; `bench run --track NAME[:URI]` turns one on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contracts import Tracker
from harness.errors import BenchError
from harness.records import CellSaved, EvaluationSaved, GenerationRecord, GenerationSaved, ScoresRecord

if TYPE_CHECKING:
    from harness.pipeline.plan import EvalCell, GenCell
    from harness.results.model import Leaderboard

__all__ = ["Tracker", "Tracking", "evaluation_record", "generation_record", "parse_track", "resolve"]


def parse_track(spec: str) -> tuple[str, str | None]:
    """`NAME[:URI]` as `(name, uri or None)`: everything after the first colon is the URI, so
    `mlflow:http://host:5000` and `mlflow:file:///tmp/mlruns` keep theirs whole."""
    name, _, uri = spec.strip().partition(":")
    if not name:
        raise BenchError(f"--track {spec!r} names no tracker; write NAME or NAME:URI, e.g. mlflow:http://localhost:5000")
    return name, uri or None


def resolve(specs: Iterable[str], lookup: Callable[[str], Tracker]) -> list[tuple[Tracker, str | None]]:
    """Each `NAME[:URI]` as a fresh copy of its registered tracker and the URI; an unknown name fails
    through `lookup` (the registry's, with the nearest name)."""
    chosen = []
    for spec in specs:
        name, uri = parse_track(spec)
        chosen.append((copy.copy(lookup(name)), uri))
    return chosen


def _one_line(exc: BaseException, limit: int = 600) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Tracking:
    """The trackers of one run, each called in isolation: the first exception out of a tracker
    (`KeyboardInterrupt` aside: the user asked to stop) is one line through `warn` and the tracker
    is dropped, so a tracker can never cost the run, nor flood its log with one line per cell."""

    def __init__(self, chosen: Sequence[tuple[Tracker, str | None]], warn: Callable[[str], None]):
        self.active = list(chosen)
        self.warn = warn
        self.started = False

    def __bool__(self) -> bool:
        return bool(self.active)

    def _each(self, stage: str, call: Callable[[Tracker, str | None], None]) -> None:
        for pair in list(self.active):
            tracker, uri = pair
            try:
                call(tracker, uri)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit from a plugin too: a tracker never ends the run
                self.active.remove(pair)
                where = f" ({uri})" if uri and stage == "start" else ""
                self.warn(f"tracker {tracker.name!r} failed to {stage}{where}: {_one_line(exc)}; "
                          "the run goes on without it")

    def start(self, settings: dict[str, Any]) -> None:
        self.started = True
        self._each("start", lambda t, uri: t.start(settings, uri))

    def cell(self, record: CellSaved) -> None:
        self._each("record a cell", lambda t, _: t.cell(record))

    def finish(self, leaderboard: Leaderboard, files: dict[str, Path]) -> None:
        self._each("finish", lambda t, _: t.finish(leaderboard, files))
        self.active = []

    def abort(self, exc: BaseException) -> None:
        """Tell the started trackers that the run failed (a run refused before it started tells none)."""
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else _one_line(exc)
        if self.started:
            self._each("abort", lambda t, _: t.abort(reason))
        self.active = []


def generation_record(cell: GenCell, payload: GenerationRecord) -> GenerationSaved:
    """What a tracker's `cell` gets for a saved generation cell."""
    return GenerationSaved(cell.id, cell.task, cell.language, cell.strategy, cell.model, cell.replicate, payload.stats)


def evaluation_record(cell: EvalCell, payload: ScoresRecord) -> EvaluationSaved:
    """What a tracker's `cell` gets for a saved evaluation cell."""
    return EvaluationSaved(cell.id, cell.task, cell.language, cell.strategy, cell.model, cell.classifier, cell.source,
                           cell.replicate, payload.train_size, payload.per_seed, payload.note, payload.floor)
