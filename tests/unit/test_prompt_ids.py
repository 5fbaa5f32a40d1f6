"""Prompts reach both local engines as token ids with exactly one BOS, and the engines say when a
prompt and its generation budget do not fit the model's context."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.contracts import GenerationRequest, Message, SamplingParams
from harness.kits.engines.prompt_ids import prompt_ids

MESSAGES = (Message("system", "You write requests in Swahili."), Message("user", "Sema jambo kwa rafiki yako"))


def chat_ids(tok, messages=MESSAGES) -> list[int]:
    out = tok.apply_chat_template([{"role": m.role, "content": m.content} for m in messages],
                                  add_generation_prompt=True, tokenize=True)
    return list(out if isinstance(out, list) else out["input_ids"])


@pytest.fixture(scope="module")
def tok(tiny_chat_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_chat_model)


@pytest.fixture(scope="module")
def engine(tiny_chat_model):
    from harness.api import TransformersEngine

    eng = TransformersEngine(str(tiny_chat_model), {"device": "cpu", "batch_size": 8})
    yield eng
    eng.close()


def one_bos(ids, bos):
    return ids[0] == bos and ids[1] != bos


def test_the_chat_text_tokenized_again_would_have_two_bos(tok):
    # the mistake this guards against: render the template to text, then let the tokenizer add its BOS
    text = tok.apply_chat_template([{"role": m.role, "content": m.content} for m in MESSAGES],
                                   add_generation_prompt=True, tokenize=False)
    assert tok(text)["input_ids"][:2] == [tok.bos_token_id] * 2


def test_chat_prompt_ids_have_one_bos_and_are_the_templates_tokens(tok):
    req = GenerationRequest(SamplingParams(max_new_tokens=4), seed=1, messages=MESSAGES)
    ids = prompt_ids(tok, req, is_chat=True)
    assert ids == chat_ids(tok) and one_bos(ids, tok.bos_token_id)


def test_plain_prompts_keep_one_bos(tok):
    plain = GenerationRequest(SamplingParams(max_new_tokens=4), seed=1, prompt="1. Sema jambo")
    assert prompt_ids(tok, plain, is_chat=True) == tok("1. Sema jambo")["input_ids"]
    assert one_bos(prompt_ids(tok, plain, is_chat=True), tok.bos_token_id)
    spelled = GenerationRequest(SamplingParams(max_new_tokens=4), seed=1, prompt="<s>1. Sema jambo")
    assert one_bos(prompt_ids(tok, spelled, is_chat=False), tok.bos_token_id)
    # messages to a base model are joined as plain text, with the tokenizer's one BOS
    joined = prompt_ids(tok, GenerationRequest(SamplingParams(), seed=1, messages=MESSAGES), is_chat=False)
    assert joined == tok("\n\n".join(m.content for m in MESSAGES))["input_ids"] and one_bos(joined, tok.bos_token_id)


def test_hf_engine_generates_from_left_padded_ids_with_one_bos(engine, tok):
    seen = []
    generate = engine.model.generate

    def spy(**kwargs):
        seen.append((kwargs["input_ids"].clone(), kwargs["attention_mask"].clone()))
        return generate(**kwargs)

    engine.model.generate = spy
    try:
        short = (Message("user", "Jambo"),)
        reqs = [GenerationRequest(SamplingParams(temperature=0.9, max_new_tokens=6), seed=3, n=2, messages=MESSAGES),
                GenerationRequest(SamplingParams(temperature=0.9, max_new_tokens=6), seed=4, n=1, messages=short)]
        out = engine.generate(reqs)
    finally:
        engine.model.generate = generate
    assert engine.is_chat and [len(r) for r in out] == [2, 1]
    (input_ids, mask), = seen
    rows = [ids[m.bool()].tolist() for ids, m in zip(input_ids, mask)]
    assert rows == [chat_ids(tok)] * 2 + [chat_ids(tok, short)]
    assert all(one_bos(r, tok.bos_token_id) for r in rows)
    assert mask[2, 0] == 0 and mask[2, -1] == 1  # the shorter prompt is padded on the left
    assert out[0][0].prompt_tokens == len(chat_ids(tok)) and out[1][0].prompt_tokens == len(chat_ids(tok, short))


def test_vllm_engine_passes_token_ids(tok):
    """vLLM itself is not needed: the engine's `generate` with a stand-in for `vllm.LLM`."""
    from plugins.models.vllm_engine import VLLMEngine

    class FakeLLM:
        def generate(self, prompts, params, use_tqdm=False):
            self.prompts = prompts
            return [SimpleNamespace(prompt_token_ids=p["prompt_token_ids"],
                                    outputs=[SimpleNamespace(index=k, text="x", token_ids=[5], finish_reason="stop")
                                             for k in range(sp["n"])]) for p, sp in zip(prompts, params)]

    eng = VLLMEngine.__new__(VLLMEngine)
    eng.llm, eng.tokenizer, eng.is_chat, eng.max_context = FakeLLM(), tok, True, 100
    eng._vllm = SimpleNamespace(SamplingParams=lambda **kw: kw)
    chat = GenerationRequest(SamplingParams(max_new_tokens=4), seed=1, n=2, messages=MESSAGES)
    plain = GenerationRequest(SamplingParams(max_new_tokens=4), seed=2, n=1, prompt="1. Sema")
    out = eng.generate([chat, plain])
    assert eng.llm.prompts == [{"prompt_token_ids": chat_ids(tok)}, {"prompt_token_ids": tok("1. Sema")["input_ids"]}]
    assert out[0][0].prompt_tokens == len(chat_ids(tok)) and [len(r) for r in out] == [2, 1]
    long = GenerationRequest(SamplingParams(max_new_tokens=100 - len(chat_ids(tok)) + 1), seed=1, messages=MESSAGES)
    assert eng.context_overflow(chat) is None and "exceeds the model's context of 100" in eng.context_overflow(long)


def test_hf_context_comes_from_the_config_or_the_option(tiny_model, tiny_chat_model, tmp_path):
    from conftest import build_tiny_chat_model
    from harness.api import TransformersEngine

    small = build_tiny_chat_model(tiny_model, tmp_path / "small", max_position_embeddings=100)
    eng = TransformersEngine(str(small), {"device": "cpu"})
    n = len(chat_ids(eng.tokenizer))
    assert eng.max_context == 100 and eng.info()["max_context"] == 100
    assert eng.context_overflow(GenerationRequest(SamplingParams(max_new_tokens=100 - n), seed=1, messages=MESSAGES)) is None
    why = eng.context_overflow(GenerationRequest(SamplingParams(max_new_tokens=101 - n), seed=1, messages=MESSAGES))
    assert why == f"prompt of {n} tokens + {101 - n} new tokens exceeds the model's context of 100 tokens"
    assert TransformersEngine(str(tiny_chat_model), {"device": "cpu", "max_model_len": 300}).max_context == 300
