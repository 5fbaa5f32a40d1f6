"""The paths a user names (`--out`, `--data-dir`, `BENCH_DATA_DIR`, `--cache-dir`, `BENCH_CACHE_DIR`,
`report --out`, `export --out`), checked before anything is written.

A symbolic-link loop, a link to nothing, a file where a folder belongs or a folder that cannot be
written would otherwise fail deep inside mkdir or SQLite, with an error that reads like the harness's
bug. They are the user's mistakes, so each is one line that names the option and the path.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import BenchError


def _links(path: Path, named: str) -> None:
    try:
        path.resolve()
    except (RuntimeError, OSError) as exc:  # Python 3.11 raises RuntimeError for a loop, later ones OSError
        raise BenchError(f"{named} {path} is a symbolic-link loop ({exc}); name another path") from None
    if path.is_symlink() and not path.exists():
        raise BenchError(f"{named} {path} is a symbolic link to {os.readlink(path)}, which does not exist; create that "
                         "directory or name another path")


def _ancestors(path: Path, named: str) -> None:
    for parent in path.parents:  # a file as an ancestor (`--out results.json/run`)
        if parent.exists() and not parent.is_dir():
            raise BenchError(f"{named} {path}: {parent} is a file, not a directory; name another path")
        if parent.is_dir():
            break


def directory(path: str | Path, named: str, *, create: bool = False, writable: bool = False) -> Path:
    """`path` as a directory `named` (the option or variable the user set), checked; with `writable`
    (or `create`) the directory, or the nearest folder above it that exists, must be writable by this
    user; with `create` it is made, parents too. A missing one that need not be written is left to
    the caller, which knows what belongs there."""
    path = Path(path)
    _links(path, named)
    _ancestors(path, named)
    if path.exists() and not path.is_dir():
        raise BenchError(f"{named} {path} is a file, not a directory; name a directory")
    if writable or create:
        existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
        if not os.access(existing, os.W_OK | os.X_OK):
            where = "" if existing == path else f" ({existing} is not)"
            raise BenchError(f"{named} {path} is not writable by this user{where}; name another path or change its "
                             "permissions")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BenchError(f"{named} {path} cannot be created ({exc.strerror or exc}); name another path") from None
    return path


def file_target(path: str | Path, named: str) -> Path:
    """`path` as a file to be written (`report --out`): not a directory, not a dangling link, and its
    folder a directory that can be made and written."""
    path = Path(path)
    _links(path, named)
    if path.is_dir():
        raise BenchError(f"{named} {path} is a directory; name a file")
    _ancestors(path, named)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchError(f"{named} {path}: its folder cannot be created ({exc.strerror or exc}); name another path") from None
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise BenchError(f"{named} {path}: its folder is not writable by this user; name another path or change its "
                         "permissions")
    return path
