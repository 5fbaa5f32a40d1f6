"""Where gold data is read from while a plan is built and run.

The user says it with `--data-dir`, `BENCH_DATA_DIR` or a suite's `data_dir`; the choice travels
with the plan (`Plan.data_dir`), and whoever builds, runs or scores a plan reads inside
`reading(plan.data_dir)`. The choice lives in a context variable, never in the environment or a
module global, so two plans in one process (or a run and a later test) each read their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

ENV = "BENCH_DATA_DIR"
_reading: ContextVar[str | None] = ContextVar("gold_data_dir", default=None)


@contextmanager
def reading(value: str | None) -> Iterator[None]:
    """Gold files read inside this block come from `value` (a directory, or `remote`); None leaves
    the choice to $BENCH_DATA_DIR. What was chosen before is back after the block."""
    token = _reading.set(value or None)
    try:
        yield
    finally:
        _reading.reset(token)


def current() -> str | None:
    """The directory (or `remote`) of the plan being read, else what $BENCH_DATA_DIR says."""
    return _reading.get() or os.environ.get(ENV) or None


def record(chosen: str | None) -> str | None:
    """A plan's gold data (`chosen`, else what is read now) as a run's manifest keeps it (an absolute
    path, or `remote`), so that `bench merge` reads the data its shards read."""
    value = chosen or current()
    if value is None or value == "remote":
        return value
    return str(Path(value).resolve())
