"""The text embeddings classifiers share (`ClassifierContext.embed`): a run gives every context the
e5 embedder, each text is encoded once per cache, and e5-logreg trains on the same vectors a plugin
classifier gets. The encoder here is a stand-in (a vector from each text's digest); the real e5 is
tested in tests/e2e/test_e5_embeddings.py."""

from __future__ import annotations

import types

import numpy as np
import pytest
from test_execution_stats import Scripted

import harness.api as api
from harness.api import Classifier, ClassifierContext, e5_embeddings, hookimpl
from harness.config.suite import Suite
from harness.executors.local import local
from harness.kits import embeddings
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, Store, digest
from plugins.classifiers.logreg import E5LogReg


class FakeE5:
    """Unit-length vectors that depend on the text alone, and every text it was asked to encode."""

    def __init__(self):
        self.encoded: list[str] = []

    def query(self, texts):
        self.encoded += texts
        rows = [np.frombuffer(bytes.fromhex(digest(["query: " + t])), dtype=np.uint8)[:24] for t in texts]
        vecs = np.stack([np.resize(r.astype(np.float32) - 127.5, embeddings.E5_DIM) for r in rows])
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


@pytest.fixture
def encoder(monkeypatch):
    fake = FakeE5()
    monkeypatch.setattr(embeddings, "_encoder", lambda: fake)
    return fake


def test_embed_hands_the_texts_and_the_contexts_cache_to_its_embedder():
    seen = []
    ctx = ClassifierContext(seed=0, cache="the store", embedder=lambda texts, cache: seen.append((texts, cache)) or 7)
    assert ctx.embed(["a", "b"]) == 7 and seen == [(["a", "b"], "the store")]


def test_a_context_built_without_an_embedder_says_how_to_give_it_one():
    with pytest.raises(RuntimeError, match=r"embedder=harness.api.e5_embeddings"):
        ClassifierContext(seed=0, cache=None).embed(["a"])


def test_each_text_is_encoded_once_per_cache_and_read_back_the_same(encoder, tmp_path):
    store = Store(tmp_path / "c.sqlite")
    first = e5_embeddings(["habari", "washa taa", "habari"], store)
    assert first.shape == (3, embeddings.E5_DIM) and first.dtype == np.float32
    assert encoder.encoded == ["habari", "washa taa"]  # a repeated text is encoded once
    assert np.array_equal(first[0], first[2])
    again = e5_embeddings(["washa taa", "habari", "zima taa"], store)
    assert encoder.encoded == ["habari", "washa taa", "zima taa"]  # the second call read the first two back
    assert np.array_equal(again[:2], first[[1, 0]])
    assert np.array_equal(e5_embeddings(["zima taa"], Store(tmp_path / "c.sqlite"))[0], again[2])  # another process
    assert len(encoder.encoded) == 3
    assert e5_embeddings([], store).shape == (0, embeddings.E5_DIM)


def test_e5_logreg_trains_on_the_vectors_a_plugin_classifier_gets(encoder, tmp_path):
    texts = ["je nitahitaji mwavuli leo", "ondoa miadi yangu"]
    ctx = ClassifierContext(seed=0, cache=Store(tmp_path / "c.sqlite"), embedder=e5_embeddings)
    shared = ctx.embed(texts)
    assert np.array_equal(E5LogReg().features(texts, ctx, fit=True), shared)
    assert encoder.encoded == texts  # e5-logreg's features came from the cache the plugin filled
    assert set(ctx.cache.get_embeddings(api.e5_identity() + ":query", texts)) == set(texts)


class Centroid(Classifier):
    """Nearest class centroid over the shared embeddings; it records the embedder it was given."""

    name = "e5-centroid"
    embedders: list = []

    def fit_predict(self, train, test_texts, labels, ctx):
        from sklearn.neighbors import NearestCentroid

        Centroid.embedders.append(ctx.embedder)
        model = NearestCentroid().fit(ctx.embed([e.text for e in train]), [e.label for e in train])
        return [str(p) for p in model.predict(ctx.embed(list(test_texts)))]


def test_a_run_gives_every_classifier_the_shared_embeddings_and_encodes_each_text_once(encoder, tmp_path):
    plugin = types.ModuleType("centroid_plugin")
    plugin.bench_register_classifiers = hookimpl(lambda register: register(Centroid()))
    reg = load_registry(extra=[("centroid", plugin)])
    suite = Suite(tasks=["massive10"], languages=["sw"], strategies=["zero-shot"], models=["gemma-3-270m"],
                  classifiers=["e5-centroid", "e5-logreg"], per_class=3, seeds=[0, 1], calls_per_class=1)
    plan = build_plan(suite, reg)
    store = Store(tmp_path / "c.sqlite")
    runner = Runner(plan, reg, tmp_path / "run", store, Reporter(enabled=False),
                    load_engine=lambda name: CachedEngine(Scripted(), store, name))
    Centroid.embedders = []
    runner.run_pending(local)
    assert Centroid.embedders and all(e is e5_embeddings for e in Centroid.embedders)
    assert len(encoder.encoded) == len(set(encoder.encoded))  # two classifiers, two seeds: one encoding per text
    test = [e.text for e in reg.task("massive10").load("sw", "test")]
    assert set(test) <= set(encoder.encoded)
