"""The vLLM engine, for real: its CPU build here (scripts/setup-vllm.sh), a GPU build elsewhere.
Skipped where vLLM is not installed."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("vllm")

from conftest import bench, build_tiny_chat_model, build_tiny_model, write_suite  # noqa: E402
from harness.contracts import GenerationRequest, Message, SamplingParams  # noqa: E402

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

OPTIONS = {"max_model_len": 1024, "enforce_eager": True, "kv_cache_memory_bytes": 1 << 30}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    import os

    os.environ.setdefault("BENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    from harness.api import load_registry

    spec, arg = load_registry().model("vllm:gemma-3-270m")  # the engine as a suite names it
    eng = spec.load(arg, OPTIONS)
    yield eng
    eng.close()


def test_batched_n_samples_and_per_request_seeds(engine):
    p = SamplingParams(temperature=0.8, top_p=0.9, repetition_penalty=1.2, max_new_tokens=24)
    reqs = [GenerationRequest(p, seed=s, n=3, prompt=f"Requests to a voice assistant in German:\n{s}.") for s in range(4)]
    out = engine.generate(reqs)
    assert [len(c) for c in out] == [3, 3, 3, 3]
    assert all(c.completion_tokens > 0 for r in out for c in r) and out[0][0].prompt_tokens > 0
    # vLLM seeds each request: the same request gives the same text alone or in another batch
    assert engine.generate([reqs[2]])[0] == out[2]
    assert engine.generate(list(reversed(reqs)))[1] == out[2]


def test_messages_on_a_base_model_fall_back_to_plain_text(engine):
    req = GenerationRequest(SamplingParams(max_new_tokens=8), seed=1, n=1, messages=(Message("user", "Sema jambo"),))
    assert not engine.is_chat and isinstance(engine.generate([req])[0][0].text, str)


def test_bench_run_through_vllm(tmp_path):
    options = "\n".join(f"{k} = {json.dumps(v)}" for k, v in OPTIONS.items())
    suite = write_suite(tmp_path / "s.toml", "vllm:gemma-3-270m", tasks=["sentiment"], languages=["sw"],
                        strategies=["target-demos"], per_class=3,
                        extra=f'\n[models."vllm:gemma-3-270m"]\n{options}\n')
    out = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress")
    assert out.returncode == 0, out.stderr[-3000:]
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert board["results"][0]["model"] == "vllm:gemma-3-270m"
    assert board["results"][0]["generation"]["engine_calls"] >= 1
    assert "vllm" in board["manifest"]["libraries"]


@pytest.fixture(scope="module")
def tiny_chat_model(tmp_path_factory):
    """The tiny chat model with heads 32 wide, the narrowest the CPU build's attention runs."""
    root = tmp_path_factory.mktemp("models")
    return build_tiny_chat_model(build_tiny_model(root / "tiny-llama-32", head_dim=32), root / "tiny-chat-32")


def test_vllm_sees_the_chat_prompt_with_exactly_one_bos(tiny_chat_model):
    """The real engine on a model whose chat template emits BOS: what vLLM tokenized and ran is the
    template's own encoding, one BOS, not the rendered text tokenized again (two)."""
    from transformers import AutoTokenizer

    from plugins.models.vllm_engine import VLLMEngine

    tok = AutoTokenizer.from_pretrained(tiny_chat_model)
    messages = (Message("system", "You write requests in Swahili."), Message("user", "Sema jambo kwa rafiki yako"))
    chat = [{"role": m.role, "content": m.content} for m in messages]
    template = tok.apply_chat_template(chat, add_generation_prompt=True, tokenize=True)
    template = list(template if isinstance(template, list) else template["input_ids"])
    rendered = tok.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    assert tok(rendered)["input_ids"][:2] == [tok.bos_token_id] * 2  # the defect this guards against is real here
    eng = VLLMEngine(str(tiny_chat_model), {**OPTIONS, "max_model_len": 256})
    seen = []
    real = eng.llm.generate

    def spy(prompts, params, **kw):
        outs = real(prompts, params, **kw)
        seen.extend(list(o.prompt_token_ids) for o in outs)
        return outs

    eng.llm.generate = spy
    try:
        assert eng.is_chat
        out = eng.generate([GenerationRequest(SamplingParams(max_new_tokens=4), seed=1, n=1, messages=messages)])
    finally:
        eng.close()
    assert seen == [template] and seen[0].count(tok.bos_token_id) == 1 and seen[0][0] == tok.bos_token_id
    assert out[0][0].prompt_tokens == len(template)
