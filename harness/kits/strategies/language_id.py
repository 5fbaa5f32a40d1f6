"""Is a candidate written in the language it was asked for?

A script check alone lets English through for Swahili, Welsh or Indonesian. The detector is
lingua (`lingua-language-detector`, offline models inside the wheel), which knows all 11 languages
of the paper. It chooses among the paper's languages (and the target, for a contributed one): over
all 75 of lingua's languages a three-word request spreads its confidence so thin that real gold
texts are rejected as Tswana or Latin. A text is off-language when the target is not the first
choice and its confidence is under `MIN_CONFIDENCE`, so the check answers "does this read more
like English (or German, Thai, ...) than like the language asked for?". Languages lingua does not
know fall back to the script check.

The rule's false rejections were measured on the real gold test sets (benchmarks/README.md,
`benchmarks/language_id.py`); the rejecting filter is used only for the languages in
`FILTER_LANGUAGES`, where fewer than 2% of real gold texts would be rejected. Elsewhere the rate
is reported, never used to drop data.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from harness.kits.strategies.parsing import in_script, knows_script

MIN_CONFIDENCE = 0.1
#: the languages the detector chooses among (ISO 639-1), besides the target
CANDIDATES = ("en", "de", "th", "he", "id", "sw", "ro", "az", "sl", "te", "cy")

#: languages (short codes) whose false-rejection rate on every gold test set is at most 2%
#: (measured by benchmarks/language_id.py; the table is in benchmarks/README.md)
FILTER_LANGUAGES: frozenset[str] = frozenset({"en", "de", "th", "he", "id", "sw", "ro", "az", "sl", "te", "cy"})

_LOCK = threading.Lock()


class LanguageIdUnavailable(RuntimeError):
    pass


@lru_cache(maxsize=16)
def _detector(target):
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError as exc:  # pragma: no cover - the offline extra installs it
        raise LanguageIdUnavailable("language identification needs lingua-language-detector: "
                                    "pip install -e '.[offline]'") from exc
    langs = {lingua_language(c) for c in CANDIDATES} | {target}
    return LanguageDetectorBuilder.from_languages(*sorted((x for x in langs if x is not None), key=str)).build()


@lru_cache(maxsize=256)
def lingua_language(code: str, iso: str = ""):
    """The lingua Language for a short code (ISO 639-1) or an ISO 639-3 code, or None."""
    try:
        from lingua import IsoCode639_1, IsoCode639_3, Language
    except ImportError:
        return None
    for attempt in (lambda: Language.from_iso_code_639_1(IsoCode639_1.from_str(code)),
                    lambda: Language.from_iso_code_639_3(IsoCode639_3.from_str(iso.split("_")[0]))):
        try:
            return attempt()
        except (ValueError, AttributeError, KeyError):
            continue
    return None


def known(code: str, iso: str = "") -> bool:
    return lingua_language(code, iso) is not None


def check_kind(code: str, iso: str, script: str) -> str | None:
    """Which check `off_language` applies to this language: "lingua", "script", or None (neither)."""
    if known(code, iso):
        return "lingua"
    return "script" if knows_script(script) else None


def off_language(text: str, code: str, iso: str = "", script: str = "") -> bool | None:
    """True when `text` is probably not in the language; None when nothing can tell."""
    target = lingua_language(code, iso)
    if target is None:
        ok = in_script(text, script) if script else None
        return None if ok is None else not ok
    with _LOCK:  # lingua's detector is not documented as thread-safe
        det = _detector(target)
        if det.detect_language_of(text) == target:
            return False
        return det.compute_language_confidence(text, target) < MIN_CONFIDENCE


def used_as_filter(code: str) -> bool:
    return code in FILTER_LANGUAGES
