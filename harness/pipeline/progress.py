"""Progress for people on a terminal, plain log lines for CI logs and pipes."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    """Two bars on a TTY (overall, current cell); otherwise timestamped lines on stderr."""

    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.rich = (enabled if enabled is not None else True) and self.stream.isatty()
        self.start = time.monotonic()
        self._progress: Progress | None = None
        self._overall = None
        self._cell = None

    def __enter__(self) -> Reporter:
        if self.rich:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress:
            self._progress.stop()

    def log(self, msg: str) -> None:
        if self._progress:
            self._progress.console.print(msg, markup=False, highlight=False)
        else:
            print(f"[{time.monotonic() - self.start:7.1f}s] {msg}", file=self.stream, flush=True)

    def warn(self, msg: str) -> None:
        """One `bench: warning:` line, as the command line words warnings, above the bars on a terminal."""
        line = f"bench: warning: {msg}"
        if self._progress:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def overall(self, description: str, total: int) -> None:
        if self._progress:
            if self._overall is not None:
                self._progress.remove_task(self._overall)
            self._overall = self._progress.add_task(description, total=total)
        else:
            self.log(f"{description}: {total} to do")

    def advance(self) -> None:
        if self._progress and self._overall is not None:
            self._progress.advance(self._overall)

    def cell(self, description: str, total: int) -> None:
        if self._progress:
            if self._cell is not None:
                self._progress.remove_task(self._cell)
            self._cell = self._progress.add_task("  " + description, total=max(total, 1))
        else:
            self.log(description)

    def cell_progress(self, done: int, total: int) -> None:
        if self._progress and self._cell is not None:
            self._progress.update(self._cell, completed=min(done, total), total=max(total, 1))
