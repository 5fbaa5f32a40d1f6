"""Console streams that can print anything the harness writes, whatever their encoding.

Reports use a few characters outside ASCII (±, —, ★, ≥, …). A stdout that cannot encode them (a
latin-1 or ASCII locale, `PYTHONIOENCODING`, a Windows pipe) would otherwise raise
`UnicodeEncodeError` after the work is done, losing the answer. The streams are set, once, to write
each such character's ASCII form (`+/-` for ±); any other (a language name in its own script) is
written as a backslash escape, so nothing is silently dropped.
"""

from __future__ import annotations

import codecs
import sys

#: ASCII forms of the characters the harness itself prints
ASCII_FORMS = {"±": "+/-", "—": "--", "–": "-", "★": "*", "≥": ">=", "≤": "<=", "…": "...", "→": "->",
               "←": "<-", "×": "x", "·": ".", "✓": "ok", "✗": "x", "≈": "~", "−": "-", "‘": "'", "’": "'",
               "“": '"', "”": '"', "•": "*", "Δ": "delta "}
ERRORS = "bench-ascii"


def _ascii_form(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(ASCII_FORMS.get(c) or c.encode("ascii", "backslashreplace").decode("ascii") for c in bad), exc.end


codecs.register_error(ERRORS, _ascii_form)


def setup() -> None:
    """Make stdout and stderr write an ASCII form of what their encoding cannot hold."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors=ERRORS)
            except (ValueError, OSError):  # a closed or detached stream: nothing will be printed on it
                pass
