"""The gold files from their public sources, for users without the offline copy.

`--data-dir remote` (or BENCH_DATA_DIR=remote) reads the same files that `shared/data` holds, fetched
on first use from the repositories and commits SOURCES.md names, into the cache directory. Files
are addressed by commit and each download is checked against the SHA-256 of the offline copy's file,
so every user gets the same bytes, and the same readers turn them into the same records. `BENCH_DATA_MIRROR` points at a mirror with the offline copy's
layout (an internal server, or a copy of `shared/data` served over HTTP).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

from harness.errors import DataError

# offline-copy folder -> the pinned public source of the files under it
SOURCES = {
    "sib200/annotated/": "https://raw.githubusercontent.com/dadelani/sib-200/"
                         "593cea88519930f776c1a4a1980b6a35b39dca57/data/annotated/",
    "kinit/": "https://raw.githubusercontent.com/kinit-sk/multilingual-classifiers-not-generators/13dd578/data/",
}


@cache
def checksums() -> dict[str, str]:
    """SHA-256 of every file of the offline copy (scripts/gold_checksums.py writes it)."""
    return json.loads((Path(__file__).parent / "gold_checksums.json").read_text(encoding="utf-8"))


def remote_root() -> Path:
    from harness.store.cache import default_cache_dir

    root = default_cache_dir() / "gold-data"
    root.mkdir(parents=True, exist_ok=True)
    return root


def url_for(relative: str) -> str:
    mirror = os.environ.get("BENCH_DATA_MIRROR")
    if mirror:
        return mirror.rstrip("/") + "/" + relative
    for prefix, base in SOURCES.items():
        if relative.startswith(prefix):
            return base + relative[len(prefix):]
    raise DataError(f"no public source is known for gold file {relative}; use a local --data-dir")


def _read(resp, name: str) -> bytes:
    """The body, with a progress bar on a terminal (SIB-200's files run to megabytes); piped or in
    CI, nothing is drawn: the run already said in one line where the data comes from."""
    if not sys.stderr.isatty():
        return resp.read()
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    total = int(resp.headers.get("Content-Length") or 0) or None
    chunks = []
    with Progress(TextColumn("fetching {task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  transient=True) as bar:
        task = bar.add_task(name, total=total)
        while chunk := resp.read(1 << 16):
            chunks.append(chunk)
            bar.advance(task, len(chunk))
    return b"".join(chunks)


def fetch(path: Path, root: Path) -> Path:
    """Download one gold file into the cache (atomically: a partial download is never read)."""
    relative = path.relative_to(root).as_posix()
    url = url_for(relative)
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            data = _read(resp, relative)
    except urllib.error.HTTPError as exc:
        raise DataError(f"gold file {relative} is not at {url} (HTTP {exc.code}); check the name, or use the "
                        f"offline copy with --data-dir") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"cannot download gold file {url} ({reason}); without network, use the offline copy with "
                        f"--data-dir") from None
    expected = checksums().get(relative)
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise DataError(f"gold file {url} does not have the bytes of the pinned copy (SHA-256 "
                        f"{hashlib.sha256(data).hexdigest()[:16]}..., expected {expected[:16]}...); the source or "
                        f"mirror changed it: use the offline copy with --data-dir, or another BENCH_DATA_MIRROR")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return path
