"""The leaderboard file: its schema, checked on every write and every read. The leaderboard itself is
built from a run directory by harness/results/builder.py."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from harness.errors import BenchError
from harness.results.model import SCHEMA_VERSION, Leaderboard
from harness.results.validation import json_path, problems
from harness.store.rundir import read_json, write_json


@cache
def schema() -> dict:
    """The committed schema (generated from harness/results/model.py; a test keeps them the same)."""
    return json.loads(files("harness.results").joinpath("schema/leaderboard.schema.json").read_text(encoding="utf-8"))


def validation_error(data: Any) -> str | None:
    """The first schema violation as `path: message`, or None when the document is valid."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return None
    err = errors[0]
    path = json_path(tuple(err.absolute_path))
    return f"{path}: {err.message}"


def validate_file(path: str | Path) -> Leaderboard:
    """A leaderboard file, read and checked (schema, then what the schema cannot say), or a one-line
    error that says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BenchError(f"{path} does not exist; pass a leaderboard.json (or a run directory holding one)")
    try:
        data = read_json(path)
    except ValueError as exc:
        raise BenchError(f"{path} is not valid JSON: {exc}") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, str) and version != SCHEMA_VERSION:
        from harness.results.versions import mismatch

        raise BenchError(mismatch(path, version))
    problem = validation_error(data)
    if problem:
        raise BenchError(f"{path} is not a valid leaderboard: {problem}")
    found = problems(data)
    if found:
        more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
        raise BenchError(f"{path} is not a valid leaderboard: {found[0]}{more}")
    return Leaderboard.from_json(data)


def write_leaderboard(path: Path, board: Leaderboard) -> None:
    data = board.to_json()
    problem = validation_error(data) or next(iter(problems(data)), None)
    if problem:  # a bug in the harness or a plugin (a NaN score, say), never written to disk
        raise RuntimeError(f"refusing to write an invalid leaderboard: {problem}")
    write_json(path, data)
