"""What to tell a user whose leaderboard file has another schema version than this harness reads.

An older file is rebuilt by rerunning its run with this harness; a newer one was written by a newer
harness, and rerunning with this one would only rewrite it in the older form, so the remedy there is
upgrading the harness.
"""

from __future__ import annotations

from pathlib import Path

from harness.results.model import SCHEMA_VERSION


def _parts(version: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return None


def mismatch(path: Path, version: str) -> str:
    """The one-line advice for leaderboard `path` of schema `version` (not this harness's)."""
    said = f"{path} has leaderboard schema {version}; this harness reads {SCHEMA_VERSION}. "
    theirs, ours = _parts(version), _parts(SCHEMA_VERSION)
    if theirs is not None and ours is not None and theirs > ours:
        return said + ("It was written by a newer harness: upgrade this one (pip install -U the harness, or pull the "
                       "checkout) to read it; do not rebuild it with this version")
    if theirs is None:
        return said + "That is not a schema version this project has written; check the file"
    return said + "Rebuild it by rerunning the `bench run` that made it (finished cells are kept, or refused with the reason)"
