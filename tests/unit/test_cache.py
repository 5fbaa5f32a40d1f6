import json

from fakes import FakeEngine

from harness.contracts import Completion, GenerationRequest, SamplingParams
from harness.errors import BenchError
from harness.store.cache import CachedEngine, Store, digest


def CountingEngine():  # noqa: N802 - reads as the engine it stands for
    """Replies that name their prompt, seed and sample; 4 sequences a batch."""
    return FakeEngine(lambda r, i: Completion(f"{r.prompt}#{r.seed}#{i}", 3, 2), chat=False, fingerprint="counting@1",
                      batch_size=4, summary=None)


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
    from harness.contracts import Completion
    from harness.store.cache import Store

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


# -- engine identity: the cache key is a digest of it ---------------------------------------------


def IdentifiedEngine(**identity):  # noqa: N802
    engine = CountingEngine()
    engine.identity = {"backend": "transformers", "backend_version": "1", "dtype": "float32", "device_kind": "cpu",
                         "quantization": None, "weights": {"source": "local", "name": "m", "hash": "abc"}, **identity}
    return engine


def test_any_identity_field_changes_the_key_and_the_same_one_hits(tmp_path):
    store = Store(tmp_path / "c.sqlite")
    base = IdentifiedEngine()
    CachedEngine(base, store, "m").generate(reqs(4))
    for change in ({"backend": "vllm"}, {"backend_version": "2"}, {"dtype": "bfloat16"}, {"device_kind": "cuda"},
                   {"quantization": {"quant_method": "gptq", "bits": 4}},
                   {"weights": {"source": "local", "name": "m", "hash": "abd"}}):
        other = CachedEngine(IdentifiedEngine(**change), store, "m")
        other.generate(reqs(4))
        assert other.counters()["engine_calls"] == 4, change
    again = CachedEngine(IdentifiedEngine(), Store(tmp_path / "c.sqlite"), "m")
    again.generate(reqs(4))
    assert again.counters()["engine_calls"] == 0


def test_transformers_float32_and_bfloat16_never_share_an_entry(tmp_path, tiny_model):
    from harness.api import TransformersEngine

    store = Store(tmp_path / "c.sqlite")
    params = SamplingParams(temperature=0.9, max_new_tokens=6)
    ask = [GenerationRequest(params, seed=i, n=2, prompt=f"{i}. habari") for i in range(3)]
    f32 = TransformersEngine(str(tiny_model), {"dtype": "float32", "device": "cpu"})
    bf16 = TransformersEngine(str(tiny_model), {"dtype": "bfloat16", "device": "cpu"})
    assert {k: v for k, v in f32.identity.items() if k != "dtype"} == {k: v for k, v in bf16.identity.items() if k != "dtype"}
    assert (f32.identity["dtype"], bf16.identity["dtype"]) == ("float32", "bfloat16")
    assert f32.identity["backend"] == "transformers" and f32.identity["device_kind"] == "cpu"
    assert f32.identity["weights"]["source"] == "local" and f32.identity["weights"]["hash"]
    a, b = CachedEngine(f32, store, "tiny"), CachedEngine(bf16, store, "tiny")
    a.generate(ask)
    b.generate(ask)  # the other dtype is another key: its engine is called, not a's answers
    assert a.counters()["engine_calls"] == 3 and b.counters()["engine_calls"] == 3
    # a fresh load with the same settings has the same identity and hits the cache
    again = CachedEngine(TransformersEngine(str(tiny_model), {"dtype": "float32", "device": "cpu"}), store, "tiny")
    assert again.identity == f32.identity
    again.generate(ask)
    assert again.counters()["engine_calls"] == 0


def test_transformers_and_vllm_identities_differ_for_the_same_weights(tiny_model):
    from harness.kits.engines.transformers import hf_identity
    from plugins.models.vllm_engine import vllm_identity

    hf = hf_identity(str(tiny_model), {}, "bfloat16", "cuda:0")
    vl = vllm_identity(str(tiny_model), {}, "0.11.0", "torch.bfloat16", "cuda")
    assert hf["weights"] == vl["weights"] and hf["dtype"] == vl["dtype"] == "bfloat16"
    assert hf["device_kind"] == vl["device_kind"] == "cuda"  # the device index is no part of it
    assert (hf["backend"], vl["backend"]) == ("transformers", "vllm")
    assert digest(hf) != digest(vl)
    assert set(hf) == set(vl) == {"backend", "backend_version", "dtype", "device_kind", "quantization", "weights"}
    assert vllm_identity(str(tiny_model), {}, "0.11.0", "bfloat16", "cuda", quantization="fp8")["quantization"] == {
        "quant_method": "fp8"}


def _snapshot(root, repo, commit, config):
    snap = root / f"models--{repo.replace('/', '--')}" / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(config))
    return snap


def test_a_hub_snapshot_is_named_by_its_commit_and_quantization_read_from_its_config(tmp_path):
    from harness.kits.engines.transformers import hf_identity
    from plugins.models.vllm_engine import vllm_identity

    commit = "0123456789abcdef0123456789abcdef01234567"
    gptq = {"quant_method": "gptq", "bits": 4, "group_size": 128}
    snap = _snapshot(tmp_path / "hub", "org/model-gptq", commit, {"model_type": "llama", "quantization_config": gptq})
    vl = vllm_identity(str(snap), {}, "0.11.0", "float16", "cuda", quantization="gptq_marlin")
    assert vl["weights"] == {"source": "hub", "repo": "org/model-gptq", "commit": commit}
    assert vl["quantization"] == gptq
    plain = _snapshot(tmp_path / "hub", "org/model", commit, {"model_type": "llama"})
    hf = hf_identity(str(plain), {}, "float32", "cpu")
    assert hf["weights"]["commit"] == commit and hf["quantization"] is None


def test_an_unresolvable_hub_id_is_recorded_unresolved_with_one_warning(monkeypatch, tmp_path):
    import warnings

    from harness.kits.engines import identity

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(identity, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = identity.weights_identity("org/not-cached")
        second = identity.weights_identity("org/not-cached")
    assert first == second and first["commit"] == identity.UNRESOLVED and first["repo"] == "org/not-cached"
    assert "main" not in json.dumps(first)
    assert len([w for w in caught if "org/not-cached" in str(w.message)]) == 1
    # a cached snapshot resolves offline; a commit given as the revision is the commit
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    snap = _snapshot(tmp_path / "hub", "org/cached", commit, {})
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text(commit)
    assert identity.weights_identity("org/cached")["commit"] == commit
    assert identity.weights_identity("org/other", revision=commit)["commit"] == commit


def test_openai_identity_names_the_host_and_never_served_alone():
    from plugins.models.openai_http import openai_identity

    a = openai_identity("m", "http://10.0.0.1:8000/v1", {}, None)
    b = openai_identity("m", "http://10.0.0.2:8000/v1", {}, None)
    assert a["backend"] == "openai-http" and a["weights"] == {"source": "server", "model": "m", "host": "10.0.0.1:8000"}
    assert digest(a) != digest(b) and "served" not in json.dumps(a)
    served = {"id": "m", "object": "model", "created": 1700000000, "owned_by": "vllm", "root": "/models/m"}
    c = openai_identity("m", "http://10.0.0.1:8000/v1", {}, served)
    later = openai_identity("m", "http://10.0.0.1:8000/v1", {}, {**served, "created": 1800000000})
    assert c["weights"]["served"] == {"id": "m", "owned_by": "vllm", "root": "/models/m"} and c == later


def test_sqlite_corruption_codes_still_read_as_corrupt(tmp_path):
    import sqlite3

    from harness.store.failures import open_failure

    path = tmp_path / "c.sqlite"
    damaged = sqlite3.DatabaseError("database disk image is malformed")
    damaged.sqlite_errorcode = 11
    assert "is corrupt" in str(open_failure(path, damaged))
    locked = sqlite3.OperationalError("attempt to write a readonly database")
    locked.sqlite_errorcode = 8
    said = str(open_failure(path, locked))
    assert "read-only" in said and "is corrupt" not in said
