"""Where this process reads the gold data from.

The user says it with `--data-dir`, `BENCH_DATA_DIR` or a suite's `data_dir` (harness.api.use_data_dir
picks one); inside the process the choice is held here, never written back into the environment,
so a run started from Python does not change what another one (or a later test) reads.
"""

from __future__ import annotations

import os
from pathlib import Path

_chosen: str | None = None
ENV = "BENCH_DATA_DIR"


def use(value: str | None) -> None:
    """Read the gold data from `value` (a directory, or `remote`) from now on in this process."""
    global _chosen
    _chosen = value


def current() -> str | None:
    """The directory (or `remote`) chosen for this process, else what $BENCH_DATA_DIR says."""
    return _chosen if _chosen is not None else os.environ.get(ENV) or None


def record() -> str | None:
    """The chosen gold data as a run's manifest keeps it (an absolute path, or `remote`), so that
    `bench merge` reads the data its shards read."""
    value = current()
    if value is None or value == "remote":
        return value
    return str(Path(value).resolve())
