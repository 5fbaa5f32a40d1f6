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
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import BenchError

if TYPE_CHECKING:
    from harness.pipeline.plan import EvalCell, GenCell
    from harness.results.model import Leaderboard
    from harness.store.rundir import GenerationRecord, ScoresRecord


class Tracker(ABC):
    """Reports a run to an experiment tracker. Registered once per process (`bench_register_trackers`);
    each run works on its own copy (`copy.copy`), so what `start` keeps on `self` belongs to that run
    and `--track mlflow:A --track mlflow:B` reports to both.

    - `start(settings, uri)`: the run is about to compute its pending cells. `settings` holds `suite`,
      `settings` (the suite settings that decide the numbers), `settings_hash`, `plan_hash`, `out` (the
      run directory), `shard`, `harness_version`, `grid` (the tasks, languages, strategies, models and
      classifiers of the plan) and `cells` (how many of each kind); `uri` is what followed the name in
      `--track NAME:URI`, or None.
    - `cell(record)`: a cell's result was just saved: `{"kind": "generation", "id", "task",
      "language", "strategy", "model", "replicate", "stats"}` (the generation statistics) or `{"kind":
      "evaluation", ..., "classifier", "source", "train_size", "per_seed", "note"}` (`per_seed`: one
      `{"seed", "macro_f1", "accuracy", ...}` per classifier seed; empty, with `floor`, for a cell that
      could not be trained). Cells finished by an earlier invocation of a resumed run are not sent
      again; the leaderboard at `finish` has them all. Called in the process that writes the run
      directory, whichever executor computed the cell.
    - `finish(leaderboard, files)`: the leaderboard is written; `files` maps `"leaderboard"` and
      `"report"` to leaderboard.json and report.md in the run directory.
    - `abort(reason)`: the run stopped with an error or was interrupted before `finish` (optional).

    An exception out of any of them is reported as one line and the tracker is not called again.

        class Printer(Tracker):
            name = "print"

            def start(self, settings, uri):
                print("run", settings["suite"], settings["settings_hash"])

            def finish(self, leaderboard, files):
                print(len(leaderboard.results), "rows; report at", files["report"])
    """

    name: str
    description: str = ""

    @abstractmethod
    def start(self, settings: dict[str, Any], uri: str | None) -> None:
        """Open the tracker's run (connect, create it, log the settings)."""

    def cell(self, record: dict[str, Any]) -> None:
        """One finished cell; the default ignores it."""
        return None

    @abstractmethod
    def finish(self, leaderboard: Leaderboard, files: dict[str, Path]) -> None:
        """Log the final results and close the tracker's run."""

    def abort(self, reason: str) -> None:
        """The run ended without a leaderboard (`reason`: the error, or "interrupted"); the default
        does nothing."""
        return None


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

    def cell(self, record: dict[str, Any]) -> None:
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


def generation_record(cell: GenCell, payload: GenerationRecord) -> dict[str, Any]:
    """What a tracker's `cell` gets for a saved generation cell: its place in the grid and its statistics."""
    return {"kind": "generation", "id": cell.id, "task": cell.task, "language": cell.language,
            "strategy": cell.strategy, "model": cell.model, "replicate": cell.replicate, "stats": payload["stats"]}


def evaluation_record(cell: EvalCell, payload: ScoresRecord) -> dict[str, Any]:
    """What a tracker's `cell` gets for a saved evaluation cell: its place in the grid and its per-seed scores."""
    out = {"kind": "evaluation", "id": cell.id, "task": cell.task, "language": cell.language,
           "strategy": cell.strategy, "model": cell.model, "classifier": cell.classifier, "source": cell.source,
           "replicate": cell.replicate, "train_size": payload["train_size"], "per_seed": payload["per_seed"],
           "note": payload["note"]}
    if "floor" in payload:
        out["floor"] = payload["floor"]
    return out
