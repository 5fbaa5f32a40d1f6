"""The run directory: a manifest written first, then one file per finished cell, each written
atomically (temporary file, fsync, rename), so a killed run never leaves a half-written result and a
rerun of the same command resumes where it stopped."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import BenchError
from harness.records import Candidates, EarlierAttempts, GenerationRecord, ScoresRecord, UsageLine
from harness.store.paths import directory

MANIFEST = "manifest.json"


def slug(text: str) -> str:
    """A name safe in a cell id and a file name of the run directory."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_")[:60] or "x"


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: Path, text: str) -> None:
    """Write a whole file atomically: temporary file, fsync, rename, fsync of the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path, data: Any) -> None:
    """Write `data` as UTF-8 JSON atomically (`write_text`): a reader never sees half a file, and a
    file that exists is whole, which is what a resumed run trusts.

        write_json(out / "info.json", {"converted": True})
    """
    write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def read_json(path: Path) -> Any:
    """The JSON document of a UTF-8 file, such as a run directory's results.

        read_json(RunDir("runs/ci").leaderboard)["results"]
    """
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _check_provenance(root: Path, old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> None:
    """Refuse to resume a run whose gold data or method code changed since its cells were made."""
    from harness.pipeline.provenance import changed

    what = {"data": "gold data", "methods": "strategy prompts or code"}
    for part, label in what.items():
        diff = changed(old.get(part, {}), new.get(part, {}))
        if diff:
            shown = ", ".join(diff[:3]) + (f" and {len(diff) - 3} more" if len(diff) > 3 else "")
            raise BenchError(f"{root} was made from other {label}: {shown} changed since; its finished cells would "
                             f"mix two versions. Use another --out, or delete that directory to start over")


class CellArtifacts:
    """The `Artifacts` handle a strategy gets (harness.contracts): its cell's files and the files
    shared by the run, all written here, atomically. `cell_id` None: only the shared ones (the
    work a strategy prepares for every cell of a task)."""

    SHARED = ("summaries", "demos")

    def __init__(self, run: RunDir, cell_id: str | None):
        self.run = run
        self.cell_id = cell_id

    def _own(self, name: str) -> Path:
        if self.cell_id is None:
            raise ValueError(f"no cell to keep {name!r} for: work shared by a task's cells goes in save_shared")
        return self.run.artefacts(self.cell_id) / _plain(name)

    def _shared(self, kind: str, name: str) -> Path:
        if kind not in self.SHARED:
            raise ValueError(f"no shared artefact kind {kind!r}; valid: {', '.join(self.SHARED)}")
        return (self.run.summary if kind == "summaries" else self.run.demos)(_plain(name))

    def save(self, name: str, data: Any) -> Path:
        path = self._own(name)
        write_json(path, data)
        return path

    def load(self, name: str) -> Any | None:
        return _read_or_none(self._own(name))

    def save_shared(self, kind: str, name: str, data: Any) -> Path:
        path = self._shared(kind, name)
        write_json(path, data)
        return path

    def load_shared(self, kind: str, name: str) -> Any | None:
        return _read_or_none(self._shared(kind, name))


def _plain(name: str) -> str:
    """A file name of the artefact folder itself: a strategy cannot write outside it."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"artefact name {name!r} must be a plain file name")
    return name


def _read_or_none(path: Path) -> Any | None:
    """The file's JSON; None when it is missing or unreadable (then it is made again)."""
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


class RunDir:
    """The layout of one run directory (README.md, "The run directory"): the only code that spells its
    paths, so readers ask it where a cell's files are instead of building paths of their own.

        run = RunDir("runs/ci")
        run.generation("massive10.sw.zero-shot.gemma-3-270m.7170b94538")  # generations/<cell>.json
        run.demo_files()  # demos/*.json
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def artifacts(self, cell_id: str | None) -> CellArtifacts:
        """The handle a strategy writes its files through, for one cell (None: the run's shared files)."""
        return CellArtifacts(self, cell_id)

    def generation(self, cell_id: str) -> Path:
        return self.root / "generations" / f"{cell_id}.json"

    def artefacts(self, cell_id: str) -> Path:
        return self.root / "artefacts" / cell_id

    def usage(self, cell_id: str) -> Path:
        """The engine work of a generation cell's attempts, one line per batch that reached the
        engine: an interrupted attempt's work is counted when a later attempt finishes the cell."""
        return self.artefacts(cell_id) / "usage.jsonl"

    def add_usage(self, cell_id: str, line: UsageLine) -> None:
        """Append one batch of engine work to a generation cell's usage ledger (`usage`)."""
        path = self.usage(cell_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line.to_json()) + "\n")

    def earlier_attempts(self, cell_id: str) -> EarlierAttempts:
        """The engine work of a cell's interrupted attempts, from its usage ledger (a line cut short
        by the interruption is skipped: at most that batch is counted again)."""
        per: dict[str, EarlierAttempts] = {}
        path = self.usage(cell_id)
        if path.is_file():
            for text in path.read_text(encoding="utf-8").splitlines():
                try:
                    line = UsageLine.from_json(json.loads(text))
                except (ValueError, KeyError, TypeError):
                    continue
                mine = per.setdefault(line.attempt, EarlierAttempts())
                mine.engine_calls += line.engine_calls
                mine.engine_seconds += line.engine_seconds
                mine.elapsed = max(mine.elapsed, line.elapsed)
        return EarlierAttempts(attempts=len(per), engine_calls=sum(a.engine_calls for a in per.values()),
                               engine_seconds=sum(a.engine_seconds for a in per.values()),
                               elapsed=sum(a.elapsed for a in per.values()))

    def candidates(self, cell_id: str) -> Path:
        """Every parsed candidate of a generation cell with its status, kept by the composed strategies."""
        return self.artefacts(cell_id) / "candidates.json"

    def read_candidates(self, cell_id: str) -> Candidates | None:
        """A generation cell's candidates, when its strategy kept them."""
        path = self.candidates(cell_id)
        return Candidates.from_json(read_json(path)) if path.is_file() else None

    def write_generation(self, record: GenerationRecord) -> None:
        write_json(self.generation(record.id), record.to_json())

    def read_generation(self, cell_id: str) -> GenerationRecord:
        return GenerationRecord.from_json(read_json(self.generation(cell_id)))

    def write_scores(self, record: ScoresRecord) -> None:
        """The scores, after the predictions beside them: a cell counts as finished only when both exist."""
        if record.predictions:
            write_text(self.samples(record.id),
                       "".join(json.dumps(p.to_json(), ensure_ascii=False) + "\n" for p in record.predictions))
        write_json(self.scores(record.id), record.to_json())

    def read_scores(self, cell_id: str) -> ScoresRecord:
        return ScoresRecord.from_json(read_json(self.scores(cell_id)))

    def scores(self, cell_id: str) -> Path:
        return self.root / "scores" / f"{cell_id}.json"

    def samples(self, cell_id: str) -> Path:
        return self.root / "samples" / f"{cell_id}.jsonl"

    def summary(self, name: str) -> Path:
        """A task's label summaries by one summarizer, shared by every cell that shows them."""
        return self.root / "summaries" / name

    def summaries(self) -> list[Path]:
        folder = self.root / "summaries"
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def demos(self, name: str) -> Path:
        """One draw of demonstrations, shared by every strategy and model of a task and language."""
        return self.root / "demos" / name

    def demo_files(self) -> list[Path]:
        folder = self.root / "demos"
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def generation_ids(self) -> list[str]:
        """The ids of the generation cells with a result file (finished or not: see `done`)."""
        folder = self.root / "generations"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    @property
    def plan(self) -> Path:
        return self.root / "plan.json"

    @property
    def estimate(self) -> Path:
        """What the dry run's bill said for this run's plan, saved when it started, for the manifest
        to put beside what the run really cost."""
        return self.root / "estimate.json"

    @property
    def leaderboard(self) -> Path:
        return self.root / "leaderboard.json"

    @property
    def report(self) -> Path:
        """The markdown report a run with trackers writes beside its leaderboard, for them to keep."""
        return self.root / "report.md"

    def done(self, path: Path) -> bool:
        """A result counts as finished only if it parses: a file cut short by a crash of the disk
        itself (not possible with our rename) or edited by hand is redone, not trusted."""
        if not path.is_file():
            return False
        try:
            data = read_json(path)
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("complete") is True

    def open(self, settings: dict[str, Any], settings_hash: str, extra: dict[str, Any]) -> None:
        """Create the directory and its manifest, or check that an existing one holds the same settings."""
        directory(self.root, "--out")
        manifest = self.root / MANIFEST
        if manifest.exists():
            try:
                old = read_json(manifest)
            except (OSError, ValueError) as exc:
                raise BenchError(f"{manifest} is unreadable ({exc}); choose another --out") from None
            if old.get("settings_hash") != settings_hash:
                diff = [k for k in settings if old.get("settings", {}).get(k) != settings[k]]
                raise BenchError(
                    f"{self.root} holds a run with different settings ({', '.join(diff) or 'settings hash'} differ); "
                    f"use another --out, or delete that directory to start over"
                )
            _check_provenance(self.root, old.get("provenance") or {}, extra.get("provenance") or {})
            if old.get("shard") != extra.get("shard"):
                def name(s):
                    return "the whole plan" if s is None else f"shard {s[0]}/{s[1]}"
                raise BenchError(f"{self.root} holds {name(old.get('shard'))}, not {name(extra.get('shard'))}; "
                                 f"give each shard its own --out")
            # the latest plan run here is the one `bench merge` rebuilds
            merged = dict(extra)
            if "provenance" in extra:
                merged["provenance"] = {part: {**(old.get("provenance") or {}).get(part, {}), **values}
                                        for part, values in extra["provenance"].items()}
            write_json(manifest, {**old, **merged, "settings_hash": settings_hash, "settings": settings})
            return
        if self.root.exists() and any(self.root.iterdir()):
            raise BenchError(f"{self.root} is not empty and holds no run manifest; choose an empty or new --out")
        try:
            write_json(manifest, {"settings_hash": settings_hash, "settings": settings, **extra})
        except OSError as exc:  # no permission, a full disk, a read-only file system
            raise BenchError(f"--out {self.root}: cannot create the run there ({exc.strerror or exc}); "
                             "choose another --out") from None
