"""User-facing errors.

A `BenchError` is a mistake the user can fix (a name, a file, a flag). The CLI prints its message as
one line on stderr and exits non-zero, without a traceback; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BenchError(Exception):
    """A problem with the user's input, data or environment, explained in one line."""


class DataError(BenchError):
    """Gold data is missing or malformed."""


class PluginError(BenchError):
    """A plugin failed to load, registered something invalid, or handed back what its contract forbids."""


def nearest(name: str, choices: Iterable[str]) -> str | None:
    """The closest valid name, for 'did you mean' hints."""
    choices = list(choices)
    hits = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    if hits:
        return hits[0]
    lowered = {c.lower(): c for c in choices}
    return lowered.get(name.lower())


#: the `bench list` argument of each kind of name
PLURALS = {"strategy": "strategies"}


def unknown(kind: str, name: str, choices: Iterable[str]) -> BenchError:
    choices = sorted(set(choices))
    hint = nearest(name, choices)
    msg = f"unknown {kind} {name!r}"
    if hint:
        msg += f"; did you mean {hint!r}?"
    else:
        shown = ", ".join(choices[:12]) + (" ..." if len(choices) > 12 else "")
        msg += f"; valid: {shown}" if choices else f"; no {kind} is registered"
    msg += f" (see `bench list {PLURALS.get(kind, kind + 's')}`)"
    return BenchError(msg)
