"""What the commands share: exit statuses, the registry as the flags ask for it, output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.results.model import Leaderboard

DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "default.toml"

#: exit statuses (README.md, "Errors and exit codes")
OK, REGRESSED, BAD_INPUT, INTERNAL_ERROR, INTERRUPTED = 0, 1, 2, 3, 130


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def registry(args):
    """The plugins, strict when `--strict-plugins` (or BENCH_STRICT_PLUGINS) says so."""
    from harness.registry.discovery import load_registry

    return load_registry(strict="--strict-plugins" if getattr(args, "strict_plugins", False) else None)


def leaderboard_arg(value: str) -> Path:
    """A run directory or a leaderboard file, as the user may name either."""
    from harness.store.rundir import RunDir

    path = Path(value)
    return RunDir(path).leaderboard if path.is_dir() else path


def console():
    """A console as wide as the terminal; piped into a file or a CI log, wide enough that tables
    are not folded into unreadable columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def strict_plugins_flag(p: argparse.ArgumentParser) -> None:
    """`--strict-plugins` after the command too (`bench run --strict-plugins`)."""
    p.add_argument("--strict-plugins", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def quiet_flag(p: argparse.ArgumentParser) -> None:
    """`--quiet`: no answer after the leaderboard is written (scripts that read the file themselves)."""
    p.add_argument("--quiet", action="store_true", help="do not print the results after writing the leaderboard")


def print_answer(leaderboard: Path, board: Leaderboard | None = None) -> None:
    """A finished run's answer on stdout (harness/reports/answer.py): a table per task and language
    on a terminal, plain lines when stdout is a file or a pipe. `board`: the leaderboard written to
    `leaderboard`, when the caller holds it (else the file is read)."""
    from harness.reports.answer import answer, rich_answer
    from harness.results.leaderboard import validate_file

    board = board if board is not None else validate_file(leaderboard)
    if sys.stdout.isatty():
        out = console()
        for part in rich_answer(board, leaderboard.parent):
            out.print(part)
    else:
        sys.stdout.write("\n".join(answer(board, leaderboard.parent)) + "\n")
        sys.stdout.flush()
