"""The `bench` command: one module per subcommand (harness/cli/<command>.py), each adding its
parser and the function it runs; this module parses, dispatches and turns exceptions into exit
statuses and one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from harness.cli import compare, console, export, listing, merge, plugins, report, run, validate
from harness.cli.common import BAD_INPUT, INTERNAL_ERROR, INTERRUPTED
from harness.errors import BenchError

#: in the order `bench --help` lists them
COMMANDS = (run, merge, plugins, listing, report, compare, export, validate)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line, as every other input error is, instead of the
    usage block followed by the error (subcommand parsers are made of the same class)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bench", description="Benchmark LLM data-generation strategies for low-resource languages.")
    p.add_argument("--strict-plugins", action="store_true", help="fail when any plugin fails to load (also BENCH_STRICT_PLUGINS=1)")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(sub)
    return p


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"bench: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Exit 0: done (or compare found nothing worse); 1: compare found a regression or a missing
    result; 2: a mistake in the input (a BenchError, or a usage error from argparse), one line on
    stderr; 3: a bug (with its traceback); 130: interrupted."""
    console.setup()
    args = parser().parse_args(argv)
    warnings.showwarning = _warning_line
    try:
        return args.func(args)
    except BenchError as exc:  # one line, even when the input it quotes holds a line break
        print("bench: error: " + str(exc).replace("\r", "\\r").replace("\n", "\\n"), file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("bench: interrupted; finished cells are kept, rerun the same command to resume", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        return _closed_pipe()
    except Exception:  # a bug, not the user's input: keep the traceback, and never exit 1 (a regression)
        import traceback

        traceback.print_exc()
        print("bench: internal error: the traceback above is a bug in the harness or a plugin, not a problem with "
              "the input", file=sys.stderr)
        return INTERNAL_ERROR


def _closed_pipe() -> int:
    """The reader of stdout went away (`bench run --dry-run | head -1`): end quietly, as `cat` does.
    Python would otherwise complain again when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0
