"""Turning an LLM reply into candidate examples, and the checks every candidate goes through.

Built to survive what models actually write: numbering, bullets, quotes, code fences, a
"Here are ..." preamble, a cut-off last line, echoed instructions. Quotes are removed only when
they wrap the whole line, so apostrophes inside words (Welsh "i'r", English "don't") survive.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

_NUMBER = re.compile(r"^\s*(?:\(?\d{1,3}[.)\]:]|\d{1,3}\s+-|[-*•·▪►–—+](?=\s)|#{1,3})\s*")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PAIRS = [('"', '"'), ("'", "'"), ("“", "”"), ("„", "“"), ("‘", "’"), ("«", "»"), ("»", "«"), ("「", "」"), ("`", "`")]
_PREAMBLE = re.compile(r"^(here\s+(are|is|you go)|sure\b|okay\b|ok\b|certainly\b|of course\b|absolutely\b|great\b|"
                       r"alright\b|examples?\b|below\b|the following\b|i('ll| will| have|'ve)\b|as requested\b)",
                       re.IGNORECASE)
_ABOUT_THE_LIST = re.compile(r"\b(examples?|samples?|sentences?|utterances?|requests?|texts?|list|phrases?)\b", re.IGNORECASE)
_CHATTER = re.compile(
    r"^(i hope|hope (this|these|that)|let me know|do you (want|need)|would you like|want me to|shall i|should i|"
    r"feel free|if you (need|want|would|have)|i can (also )?(generate|provide|create|write|give|make)|"
    r"(please )?note\b|these (examples|sentences|samples)|this list|enjoy\b|thanks?\b|thank you|happy to|"
    r"i('ve| have) (generated|written|created|provided|tried)|is there anything|anything else|good luck)",
    re.IGNORECASE)
_TRAILING_GLOSS = re.compile(r"\s*[\(\[](translation|translated|meaning|english|in english|literally|lit\.)\b[^\)\]]*[\)\]]\s*$",
                             re.IGNORECASE)
_QUOTED_THEN_GLOSS = re.compile(r'^(["“„«])(.+?)(["”“»])\s*(?:[-–—:(\[].*)$')


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
    line = re.sub(r"^\*\*(?:example|sample|text|utterance|sentence)?\s*\d*\s*[:.]?\*\*:?\s*", "", line, flags=re.I)
    line = re.sub(r"^\*\*[^*]+?(?::\*\*|\*\*:)\s*(?=\S)", "", line)  # "**Label:** text": the label goes
    line = re.sub(r"^\*\*(.+?)\*\*\s*", r"\1 ", line).strip()  # "**Bold** text": the words stay
    line = re.sub(r"^(\*{1,2}|_)(.+)\1$", r"\2", line).strip()  # *emphasised* or **bold** whole line
    m = _QUOTED_THEN_GLOSS.match(line)  # "Weka kengele" - (Set an alarm)
    if m:
        line = m.group(2)
    line = _TRAILING_GLOSS.sub("", line)  # text (Translation: ...)
    line = strip_wrapping_quotes(line)
    return re.sub(r"\s+", " ", line).strip()


def _one_line_list(reply: str) -> list[str] | None:
    """A reply written as one Python-style list (`['a', 'b']`), which chat models produce when the
    prompt shows its demonstrations that way; None for any other reply."""
    text = reply.strip()
    if "\n" in text or not text.startswith(("['", '["')):
        return None
    try:
        value = ast.literal_eval(text if text.endswith(("']", '"]')) else text + text[1] + "]")
    except (ValueError, SyntaxError):
        sep = "', '" if text.startswith("['") else '", "'
        value = text.strip("[]").strip("'\"").split(sep)
    if not isinstance(value, list):
        return None
    return [str(x) for x in value]


def is_chatter(text: str) -> bool:
    """A line that talks about the examples instead of being one: offers, thanks, notes."""
    return bool(_CHATTER.match(text))


def is_preamble(text: str) -> bool:
    """A lead-in ("Here are 10 examples in Swahili", "Sure!"), with or without a colon."""
    if text.endswith(":"):
        return True
    return bool(_PREAMBLE.match(text)) and (text.endswith(("!", ":")) or bool(_ABOUT_THE_LIST.search(text)))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def split_reply(reply: str, *, continuation: bool, truncated: bool) -> list[str]:
    """Candidate lines of a reply: only the examples, not what the model says around them.

    `continuation`: the reply continues a numbered list whose next number the prompt opened, so
    its first line is an item and the list ends at the first line that is not a numbered item.
    Otherwise, when the reply holds a list (two or more numbered or bulleted lines), only the
    list's top-level items are kept: preambles, headings, explanations under an item and closing
    offers are not examples. A reply of plain lines loses its lead-in and its chatter.
    `truncated`: the reply hit the token limit, so its last line is probably cut off and dropped.
    """
    listed = _one_line_list(reply)
    if listed is not None:
        return [t for t in (clean_line(x) for x in listed) if t]
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
    if not continuation:
        items = [ln for ln in lines if _NUMBER.match(ln)]
        if len(items) >= 2:
            top = min(_indent(ln) for ln in items)
            lines = [ln for ln in items if _indent(ln) == top]
    out = []
    for line in lines:
        text = clean_line(line)
        if not text or is_chatter(text):
            continue
        if not continuation and is_preamble(text):
            continue
        out.append(text)
    return out


_REF_QUOTES = ("‘", "’", "”", "“", "„", '"', "'", "*")
_REF_NUMBER = re.compile(r"^(\d+)(?:\.|\))\s")


def faithful_lines(reply: str) -> list[str]:
    """The reference code's parsing, quirk for quirk: split on newlines (or, for a one-line list,
    on `', '` or `", "`), delete every quote character and `*` (apostrophes inside words too),
    always drop the first line ("Here are ..."), strip one leading "12. " or "3) ", keep lines of
    10-100 characters (measured before stripping spaces), and always drop the last line."""
    if "\n" in reply:
        items = reply.split("\n")
    elif "', '" in reply:
        items = reply.split("', '")
    elif '", "' in reply:
        items = reply.split('", "')
    else:
        items = list(reply)  # the reference iterates the string's characters: nothing survives the window
    cleaned = []
    for item in items:
        if len(item) > 0:
            for q in _REF_QUOTES:
                item = item.replace(q, "")
            cleaned.append(item)
    if len(cleaned) > 1:
        cleaned = cleaned[1:]
    numbered = []
    for item in cleaned:
        m = _REF_NUMBER.match(item)
        numbered.append(item[m.end():] if m else item)
    kept = [item.strip() for item in numbered if 10 <= len(item) <= 100]
    if len(set(kept)) > 1:
        kept = kept[:-1]
    return kept


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


def knows_script(script: str) -> bool:
    return script in _SCRIPT_NAMES


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
    substring test ("eyes" and "no, not yes" approve)."""
    if faithful:
        return "yes" if "yes" in reply.lower() else "no"
    reply = re.sub(r"^[\W_]*(answer|verdict|output)\s*:\s*", "", reply.strip(), flags=re.IGNORECASE)
    m = re.match(r"^[\W_]*([^\W\d_]+)", reply)
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
