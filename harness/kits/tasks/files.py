"""Reading gold files with checks that name the file and line of every problem.

The harness never hard-codes where the data lives: the directory is the one the plan being read chose
from `--data-dir`, `BENCH_DATA_DIR` or the suite's `data_dir` (Plan.data_dir, read through
harness.config.datadir).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.config.datadir import current as gold_data_dir
from harness.config.suite import REMOTE_DATA
from harness.contracts import Example
from harness.errors import DataError
from harness.kits.tasks import remote

csv.field_size_limit(1 << 24)


def gold_root() -> Path:
    """The chosen gold data directory (the fetched copy for `remote`); one line when none is usable."""
    env = gold_data_dir()
    if not env:
        raise DataError("no gold data directory: pass --data-dir, set data_dir in the suite, or export BENCH_DATA_DIR "
                        "(the offline copy is the shared/data folder beside the checkout; `remote` fetches it)")
    if env == REMOTE_DATA:
        return remote.remote_root()
    path = Path(env)
    if not path.is_dir():
        what = "is a file, not a directory" if path.is_file() else "does not exist"
        raise DataError(f"gold data directory {path} {what} (from BENCH_DATA_DIR / --data-dir / the suite's data_dir); "
                        "name the folder that holds the task folders (e.g. ../shared/data)")
    return path


def require_file(path: Path, how: str) -> Path:
    """`path`, fetched first when the data is read from its public sources; `how` tells the user how to get it."""
    if not path.is_file() and gold_data_dir() == REMOTE_DATA:
        return remote.fetch(path, remote.remote_root())
    if not path.is_file():
        raise DataError(f"missing gold data file {path}; {how}")
    return path


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    """The column names of a CSV/TSV file (empty for an empty file)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh, delimiter=delimiter), [])
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8(path, exc)) from None
    check_header(path, header)
    return header


def read_rows(path: Path, text_col: str, label_col: str, labels: Sequence[str], delimiter: str = ",",
              order_col: str | None = None, label_map: Callable[[str], str] | None = None) -> list[Example]:
    """Rows of a CSV/TSV file as examples, checked: every row has its text and a known label.

    `order_col` sorts the rows by that integer column (stable), recovering a dataset's original
    order from a shuffled copy."""
    try:
        return _read_rows(path, text_col, label_col, labels, delimiter, order_col, label_map)
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8(path, exc)) from None


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> str:
    """The message for the first undecodable byte, at its physical line.

    The exception's offset is inside the text reader's buffer, not the file, so the file is read
    again as bytes and decoded line by line."""
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                return f"{path}:{line_no}: not valid UTF-8 ({bad.reason}); save the file as UTF-8"
    return f"{path}: not valid UTF-8 ({exc.reason}); save the file as UTF-8"


def check_header(path: Path, header: Sequence[str]) -> None:
    """Refuse a header that names a column twice (or twice up to surrounding spaces): a CSV reader
    keeps only the last column of a name, so the harness would silently score the wrong column.
    Unnamed columns (a spreadsheet's trailing commas) are never read and stay allowed."""
    dupes = sorted(name for name, n in Counter(c.strip() for c in header if c.strip()).items() if n > 1)
    if dupes:
        raise DataError(f"{path}:1: column name(s) {dupes} appear more than once in the header {list(header)}; "
                        "give every column a distinct name")


def _read_rows(path: Path, text_col: str, label_col: str, labels: Sequence[str], delimiter: str,
               order_col: str | None, label_map: Callable[[str], str] | None) -> list[Example]:
    out: list[tuple[int, int, Example]] = []
    known = set(labels)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        check_header(path, reader.fieldnames or [])
        missing = [c for c in (text_col, label_col, order_col) if c and c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}:1: missing column(s) {missing}; header is {reader.fieldnames}")
        for i, row in enumerate(reader):
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise DataError(f"{path}:{line}: malformed row (expected {len(reader.fieldnames)} fields)")
            text = (row[text_col] or "").strip()
            label = (row[label_col] or "").strip()
            if label_map:
                label = label_map(label)
            if not text:
                raise DataError(f"{path}:{line}: empty text")
            if label not in known:
                raise DataError(f"{path}:{line}: label {label!r} is not in the task's label set {sorted(known)}")
            key = i
            if order_col:
                try:
                    key = int(row[order_col])
                except ValueError:
                    raise DataError(f"{path}:{line}: {order_col} {row[order_col]!r} is not an integer") from None
            out.append((key, i, Example(text, label)))
    if not out:
        raise DataError(f"{path}: no rows")
    if order_col:
        out.sort(key=lambda t: (t[0], t[1]))
    return [e for _, _, e in out]


def read_jsonl(path: Path, text_col: str, label_col: str, labels: Sequence[str]) -> list[Example]:
    """Lines of a JSON Lines file as examples, checked as `read_rows` checks a CSV: every line an
    object with a non-empty text and a known label (a null is missing, never the string "None")."""
    try:
        return _read_jsonl(path, text_col, label_col, labels)
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8(path, exc)) from None


def _field(row: dict, col: str, path: Path, line_no: int) -> str:
    value = row[col]
    if value is None:
        raise DataError(f"{path}:{line_no}: {col!r} is null")
    if isinstance(value, (dict, list)):
        raise DataError(f"{path}:{line_no}: {col!r} must be a string, not {type(value).__name__}")
    text = str(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate escape such as "\ud800": valid JSON, not text
        raise DataError(f"{path}:{line_no}: {col!r} holds {text[exc.start]!r} at character {exc.start}, an unpaired "
                        "surrogate escape that is not valid Unicode text; fix or remove it") from None
    return text


def _read_jsonl(path: Path, text_col: str, label_col: str, labels: Sequence[str]) -> list[Example]:
    out = []
    known = set(labels)
    with open(path, encoding="utf-8-sig") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise TypeError(f"a JSON {type(row).__name__}")
                missing = [c for c in (text_col, label_col) if c not in row]
                if missing:
                    raise KeyError(", ".join(missing))
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}:{line_no}: malformed row ({exc}); expected an object with "
                                f"{text_col!r} and {label_col!r}") from None
            text, label = _field(row, text_col, path, line_no), _field(row, label_col, path, line_no)
            if not text:
                raise DataError(f"{path}:{line_no}: empty text")
            if label not in known:
                raise DataError(f"{path}:{line_no}: label {label!r} is not in the task's label set {sorted(known)}")
            out.append(Example(text, label))
    if not out:
        raise DataError(f"{path}: no rows")
    return out

