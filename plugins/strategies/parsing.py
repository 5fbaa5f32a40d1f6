"""Turning an LLM reply into candidate examples, and the checks every candidate goes through.

Built to survive what models actually write: numbering, bullets, quotes, code fences, a
"Here are ..." preamble, a cut-off last line, echoed instructions. Quotes are removed only when
they wrap the whole line, so apostrophes inside words (Welsh "i'r", English "don't") survive.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

_NUMBER = re.compile(r"^\s*(?:\(?\d{1,3}[.)\]:]|\d{1,3}\s+-|[-*•·▪►–—+]|#{1,3})\s*")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PAIRS = [('"', '"'), ("'", "'"), ("“", "”"), ("„", "“"), ("‘", "’"), ("«", "»"), ("»", "«"), ("「", "」"), ("`", "`")]
_PREAMBLE = re.compile(r"^(here\s+(are|is)|sure\b|okay\b|certainly\b|of course\b|examples?\b|below\b|the following\b)",
                       re.IGNORECASE)


def _loose_quotes(text: str, q: str) -> int:
    return sum(1 for i, ch in enumerate(text)
               if ch == q and not (0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()))


def strip_wrapping_quotes(text: str) -> str:
    text = text.strip()
    changed = True
    while changed and len(text) >= 2:
        changed = False
        for left, right in _PAIRS:
            if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
                inner = text[len(left) : len(text) - len(right)].strip()
                # 'quoted' and "quoted" only when the inner text has no unmatched quote of the same
                # kind; an apostrophe between two letters (don't, i'r) is not a quote
                if left == right and _loose_quotes(inner, left) % 2 == 1:
                    continue
                text, changed = inner, True
                break
    return text


def clean_line(line: str) -> str:
    line = line.strip()
    for _ in range(2):  # "2) - text" carries two markers
        line = _NUMBER.sub("", line, count=1)
    line = re.sub(r"^\*\*(.+?)\*\*:?\s*", r"\1 ", line).strip()  # markdown bold lead-ins
    line = strip_wrapping_quotes(line)
    return re.sub(r"\s+", " ", line).strip()


def split_reply(reply: str, *, continuation: bool, truncated: bool) -> list[str]:
    """Candidate lines of a reply.

    `continuation`: the reply continues a numbered list whose next number the prompt opened, so
    its first line is an item and the list ends at the first line that is not a numbered item.
    `truncated`: the reply hit the token limit, so its last line is probably cut off and dropped.
    """
    raw = reply.replace("\r\n", "\n").split("\n")
    if truncated and raw:
        raw = raw[:-1]
    lines: list[str] = []
    in_fence = False
    for i, line in enumerate(raw):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not line.strip():
            continue
        if continuation and i > 0 and not _NUMBER.match(line):
            break
        lines.append(line)
    out = []
    for line in lines:
        text = clean_line(line)
        if not text:
            continue
        if not continuation and text.endswith(":") and (_PREAMBLE.match(text) or len(out) == 0):
            continue  # "Here are 10 examples:" and similar lead-ins
        out.append(text)
    return out


def faithful_lines(reply: str) -> list[str]:
    """The reference code's parsing: drop the first line and a last line without final punctuation,
    strip numbering, and delete every quote character (apostrophes inside words included)."""
    lines = [ln for ln in reply.split("\n") if ln.strip()]
    lines = lines[1:]
    if lines and not lines[-1].rstrip().endswith((".", "?", "!")):
        lines = lines[:-1]
    out = []
    for ln in lines:
        ln = re.sub(r"^\s*\d+[.)]\s*", "", ln).strip()
        ln = ln.replace('"', "").replace("'", "").strip()
        if ln:
            out.append(ln)
    return out


def normalise(text: str) -> str:
    """The key for deduplication: case, width, spacing and end punctuation do not make a new example."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(" .!?。؟")


def echoes(text: str, prompt_text: str) -> bool:
    """True when a line repeats the instruction (or a long part of it) instead of being an example."""
    norm = normalise(text)
    return len(norm) >= 20 and norm in normalise(prompt_text)


def length_window(lengths: Sequence[int]) -> tuple[int, int]:
    """Accepted lengths for a task, from its gold train texts: the 1st-99th percentile range,
    widened by a fifth on each side (the reference's fixed 10-100 cuts most SIB-200 sentences)."""
    if not lengths:
        return (3, 1000)
    xs = sorted(lengths)

    def pct(p: float) -> int:
        return xs[min(len(xs) - 1, max(0, int(math.floor(p * (len(xs) - 1)))))]

    return (max(2, int(pct(0.01) * 0.8)), int(math.ceil(pct(0.99) * 1.2)))


_SCRIPT_NAMES = {"Latn": "LATIN", "Thai": "THAI", "Hebr": "HEBREW", "Telu": "TELUGU", "Cyrl": "CYRILLIC",
                 "Arab": "ARABIC", "Deva": "DEVANAGARI", "Grek": "GREEK", "Beng": "BENGALI", "Taml": "TAMIL",
                 "Geor": "GEORGIAN", "Armn": "ARMENIAN", "Ethi": "ETHIOPIC", "Hang": "HANGUL", "Knda": "KANNADA",
                 "Mlym": "MALAYALAM", "Gujr": "GUJARATI", "Guru": "GURMUKHI", "Orya": "ORIYA", "Sinh": "SINHALA",
                 "Khmr": "KHMER", "Laoo": "LAO", "Mymr": "MYANMAR", "Tibt": "TIBETAN"}


def in_script(text: str, script: str) -> bool | None:
    """Whether most letters of `text` are in the ISO 15924 `script`; None when we cannot tell."""
    name = _SCRIPT_NAMES.get(script)
    if name is None:
        return None
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    hits = sum(1 for ch in letters if unicodedata.name(ch, "").startswith(name))
    return hits / len(letters) >= 0.5


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Unique n-grams over all n-grams of the (whitespace-tokenised) texts: a cheap diversity measure."""
    grams: list[tuple[str, ...]] = []
    for t in texts:
        toks = t.split()
        grams.extend(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0


def verdict(reply: str, faithful: bool = False) -> str:
    """'yes', 'no' or 'unclear': the first word of the reply decides, not a 'yes' anywhere in it
    ("Not yes" and "yesterday" are not approvals). The faithful mode keeps the reference's
    substring test."""
    if faithful:
        return "yes" if "yes" in reply.lower() else "no"
    m = re.match(r"^[\W_]*([^\W\d_]+)", reply.strip())
    if not m:
        return "unclear"
    word = m.group(1).casefold()
    if word in {"yes", "ja", "oui", "sí", "si", "da", "ndiyo", "evet", "ya", "iya"}:
        return "yes"
    if word in {"no", "nein", "non", "nie", "hapana", "tidak", "nu", "ne", "yok", "nope"}:
        return "no"
    return "unclear"


def char_ngrams(text: str, n: int = 3) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + n] for i in range(max(1, len(padded) - n + 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
