from harness.cache import CachedEngine, Store
from harness.errors import BenchError
from harness.types import Completion, Engine, GenerationRequest, SamplingParams


class CountingEngine(Engine):
    """Scripted replies for unit tests of the cache; never used outside tests."""

    fingerprint = "counting@1"
    is_chat = False
    batch_size = 4

    def __init__(self):
        self.batches = []

    def generate(self, requests):
        self.batches.append(len(requests))
        return [[Completion(f"{r.prompt}#{r.seed}#{i}", 3, 2) for i in range(r.n)] for r in requests]


def reqs(k, n=1):
    return [GenerationRequest(SamplingParams(), seed=i, n=n, prompt=f"p{i}") for i in range(k)]


def test_rerun_makes_zero_engine_calls(tmp_path):
    store = Store(tmp_path / "c.sqlite")
    eng = CountingEngine()
    first = CachedEngine(eng, store, "m").generate(reqs(10, n=2))
    assert eng.batches == [2, 2, 2, 2, 2]  # 4 sequences per batch, n=2 each
    again = CachedEngine(eng, Store(tmp_path / "c.sqlite"), "m")
    assert again.generate(reqs(10, n=2)) == first
    assert eng.batches == [2, 2, 2, 2, 2] and again.counters()["engine_calls"] == 0


def test_key_covers_sampling_parameters(tmp_path):
    store = Store(tmp_path / "c.sqlite")
    eng = CountingEngine()
    ce = CachedEngine(eng, store, "m")
    ce.generate([GenerationRequest(SamplingParams(temperature=0.4), 1, prompt="p")])
    ce.generate([GenerationRequest(SamplingParams(temperature=0.5), 1, prompt="p")])
    ce.generate([GenerationRequest(SamplingParams(temperature=0.4), 2, prompt="p")])
    assert len(eng.batches) == 3


def test_corrupt_cache_is_reported_with_recovery(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    try:
        Store(path)
    except BenchError as exc:
        assert "corrupt" in str(exc) and "delete it" in str(exc)
    else:
        raise AssertionError("a corrupt cache must be reported")


def test_embeddings_roundtrip(tmp_path):
    import numpy as np

    store = Store(tmp_path / "c.sqlite")
    store.put_embeddings("enc", ["a", "b"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    got = store.get_embeddings("enc", ["a", "b", "c"])
    assert set(got) == {"a", "b"} and got["b"].tolist() == [3.0, 4.0]


def _writer(path, start):
    from harness.cache import Store
    from harness.types import Completion

    store = Store(path)
    for i in range(start, start + 200, 10):
        store.put_generations("m", [(f"k{j}", Completion(f"text {j}", 1, 1)) for j in range(i, i + 10)])
    store.close()


def test_concurrent_processes_share_one_cache(tmp_path):
    import multiprocessing as mp

    path = tmp_path / "c.sqlite"
    Store(path).close()
    procs = [mp.get_context("spawn").Process(target=_writer, args=(str(path), k * 1000)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = Store(path)
    keys = [f"k{k * 1000 + j}" for k in range(3) for j in range(200)]
    got = store.get_generations(keys)
    assert len(got) == 600 and got["k2005"].text == "text 2005"
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
