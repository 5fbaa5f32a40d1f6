"""What a failure to open or write the SQLite cache means, in one line the user can act on.

SQLite raises `DatabaseError` both for a damaged file and for an environment that cannot take a
write (a full disk, a read-only or foreign-owned directory where the -wal/-shm files must be
created). Telling a user to delete a healthy cache because their disk is full destroys good data,
so only a file SQLite itself calls damaged, or one whose `quick_check` fails when read without
writing, is reported as corrupt.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from harness.errors import BenchError

#: primary SQLite result codes (https://sqlite.org/rescode.html)
_CORRUPT, _NOTADB = 11, 26
_ENVIRONMENT = {3: "permission denied", 5: "the file is locked by another process",
                6: "the file is locked by another process", 8: "the file or its directory is read-only",
                10: "the disk may be full or failing", 13: "the disk is full", 14: "the file or its -wal/-shm files cannot be created"}


def open_failure(path: Path, exc: sqlite3.DatabaseError) -> BenchError:
    """The user's error for `exc`, raised opening or writing the cache file at `path`."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_CORRUPT, _NOTADB) or (code not in _ENVIRONMENT and not isinstance(exc, sqlite3.OperationalError)):
        return corrupt(path, str(exc))
    if code not in _ENVIRONMENT or code == 10:  # an I/O error may be either: ask the file, reading only
        verdict = _check_read_only(path)
        if verdict not in ("ok", None):
            return corrupt(path, verdict)
    return BenchError(f"cannot use cache file {path} ({exc}; {_ENVIRONMENT.get(code, 'the environment refused it')}"
                      f"{_space(path)}); the file itself is not damaged: free space or fix the directory's permissions, "
                      "or point BENCH_CACHE_DIR at a writable disk")


def corrupt(path: Path, detail: str) -> BenchError:
    return BenchError(f"cache file {path} is corrupt ({detail}); move it away or delete it (with its -wal/-shm files) "
                      "to start an empty cache: run results are not stored there")


def _check_read_only(path: Path) -> str | None:
    """`PRAGMA quick_check` of the file opened read-only (nothing written, no -wal/-shm created);
    None when even that cannot run, which says nothing about the file."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            return str(db.execute("PRAGMA quick_check").fetchone()[0])
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        return str(exc) if code in (_CORRUPT, _NOTADB) else None


def _space(path: Path) -> str:
    folder = path.parent if path.parent.is_dir() else Path(os.sep)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    return f", {free // 2**20} MiB free on that disk" if free < 64 * 2**20 else ""
