"""The one rule for every command that writes (`bench run`, `merge`, `export`, `report`): it writes
only into what it owns, and never into a run directory it did not create.

A run directory is recognised by its manifest; anything beneath it is the run's (a report written
over `manifest.json` leaves a run that can never resume). An export directory is recognised by the
mark `bench export` leaves in it, so a folder of the user's own files is never mistaken for one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.errors import BenchError
from harness.store.rundir import MANIFEST, write_json

#: the file `bench export` writes into its --out, naming the run and format it came from
EXPORT_MARK = ".bench-export.json"
#: the folder of a run directory that holds its exports (`bench export`'s default --out)
EXPORTS = "export"


def enclosing_run(path: str | Path) -> Path | None:
    """The run directory `path` is or lies in (the nearest folder holding a manifest), else None."""
    try:
        path = Path(path).resolve()
    except (RuntimeError, OSError):  # a symbolic-link loop: the path checks (store/paths.py) name it
        path = Path(path).absolute()
    return next((p for p in (path, *path.parents) if (p / MANIFEST).is_file()), None)


def refuse_inside_run(path: str | Path, named: str, command: str) -> None:
    """One line when `path` is or lies inside a run directory: `command` writes none of a run's files."""
    run = enclosing_run(path)
    if run is not None:
        raise BenchError(f"{named} {path} is inside the run directory {run}, whose files `{command}` never writes "
                         "(overwriting them would break the run); name a path outside it")


def check_export_target(out: Path, named: str) -> None:
    """`out` may receive an export: new or empty, or an earlier export (it holds the mark); never a
    folder of other files, nor a run directory other than its own export folder."""
    run = enclosing_run(out)
    if run is not None:
        rel = out.resolve().relative_to(run)
        if not rel.parts or rel.parts[0] != EXPORTS:
            raise BenchError(f"{named} {out} is inside the run directory {run}; `bench export` writes only under "
                             f"{run / EXPORTS} there; name that or a path outside the run")
    if out.is_dir() and any(out.iterdir()) and not (out / EXPORT_MARK).is_file():
        raise BenchError(f"{named} {out} is not empty and holds no earlier export ({EXPORT_MARK}); choose an empty or "
                         "new directory, so nothing of yours is overwritten")


def replace_export(out: Path, staged: Path, source: dict[str, str]) -> None:
    """Make `out` hold exactly what `staged` holds (a re-export leaves no file of the previous one
    beside a card that no longer describes it), then mark it; `staged` is removed. The mark is kept
    until the end, so an interrupted replacement is still recognised as an export and redone."""
    for entry in list(out.iterdir()):
        if entry.name in (EXPORT_MARK, staged.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in list(staged.iterdir()):
        entry.rename(out / entry.name)
    staged.rmdir()
    write_json(out / EXPORT_MARK, source)
