"""The transformers engine on a CUDA device: one BOS in every prompt, bf16 and float32, and the time of
a batched generation, printed as JSON (and written to $OUT/gpu_check.json where OUT is set).

    python benchmarks/gpu_check.py [--model DIR] [--prompts 64] [--n 2] [--max-new-tokens 64]

DIR is a chat model whose template renders the BOS (default: the tiny random-weight test model,
built from tests/conftest.py, which needs the gold data for its tokenizer). With the tiny model the
timings measure the engine's per-step cost (tokenizing, padding, sampling, decoding), not model compute.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness.api import TransformersEngine  # noqa: E402
from harness.contracts import GenerationRequest, Message, SamplingParams  # noqa: E402

LABELS = ["alarm_query", "weather_query", "play_audiobook", "cooking_recipe", "email_sendemail"]


def tiny_chat_model() -> Path:
    from conftest import build_tiny_chat_model, build_tiny_model

    root = Path(tempfile.mkdtemp(prefix="gpu-check."))
    return build_tiny_chat_model(build_tiny_model(root / "tiny"), root / "tiny-chat")


def requests(count: int, n: int, max_new_tokens: int) -> list[GenerationRequest]:
    params = SamplingParams(temperature=0.9, top_p=0.95, repetition_penalty=1.0, max_new_tokens=max_new_tokens)
    out = []
    for i in range(count):
        lab = LABELS[i % len(LABELS)]
        msgs = (Message("system", "You are an excellent text generator in Swahili."),
                Message("user", f"Generate {i % 7 + 3} examples in Swahili that can have the label: {lab}"))
        out.append(GenerationRequest(params, seed=i, n=n, messages=msgs))
    return out


def check(model: Path, dtype: str, reqs: list[GenerationRequest], batch_size: int, device: str = "cuda",
          repeats: int = 3) -> dict:
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    engine = TransformersEngine(str(model), {"device": device, "dtype": dtype, "batch_size": batch_size})
    tok = engine.tokenizer
    assert engine.device == device and engine.dtype == dtype and engine.is_chat, engine.info()
    assert next(engine.model.parameters()).device.type == device
    bos = tok.bos_token_id
    expected = []
    for r in reqs:
        ids = tok.apply_chat_template([{"role": m.role, "content": m.content} for m in r.messages],
                                      add_generation_prompt=True, tokenize=True)
        expected.append(list(ids if isinstance(ids, list) else ids["input_ids"]))
    seen = []
    generate = engine.model.generate

    def spy(**kwargs):
        seen.append((kwargs["input_ids"], kwargs["attention_mask"]))
        return generate(**kwargs)

    engine.model.generate = spy
    engine.generate(reqs[:4])  # warm-up: CUDA context, kernels
    ids, mask = seen[-1]
    assert ids.device.type == device
    rows = [row[m.bool()].tolist() for row, m in zip(ids, mask)]
    want = [e for e, r in zip(expected[:4], reqs[:4]) for _ in range(r.n)]
    assert rows == want, "prompt ids differ from apply_chat_template(tokenize=True)"
    assert all(r[0] == bos and r[1] != bos for r in rows), "not exactly one BOS"

    per_call = max(1, batch_size // reqs[0].n)
    chunks = [reqs[i:i + per_call] for i in range(0, len(reqs), per_call)]
    engine.generate(chunks[0])  # a full batch once more, so the timed runs reuse its kernels
    times, outputs = [], []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        outputs.append([c for chunk in chunks for c in engine.generate(chunk)])
        sync()
        times.append(time.perf_counter() - start)
    first, again = outputs[0], outputs[-1]
    seconds = sorted(times)[len(times) // 2]
    tokens = sum(c.completion_tokens for r in first for c in r)
    prompt_tokens = sum(r[0].prompt_tokens for r in first)
    one_bos = all(row[m.bool()].tolist()[0] == bos and row[m.bool()].tolist()[1] != bos
                  for ids, mask in seen for row, m in zip(ids, mask))
    long = GenerationRequest(SamplingParams(max_new_tokens=engine.max_context), seed=0, messages=reqs[0].messages)
    result = {
        "dtype": dtype, "device_name": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "batch_size": batch_size,
        "requests": len(reqs), "samples_per_request": reqs[0].n, "engine_calls": len(chunks),
        "prompt_tokens": prompt_tokens, "completion_tokens": tokens, "seconds_median": round(seconds, 3),
        "seconds_each": [round(t, 3) for t in times],
        "tokens_per_s": round(tokens / seconds, 1), "same_text_every_run": [[c.text for c in r] for r in first] ==
        [[c.text for c in r] for r in again], "one_bos_in_every_prompt": one_bos,
        "first_prompt_ids_head": rows[0][:6], "bos_token_id": bos, "max_context": engine.max_context,
        "context_overflow_of_a_too_long_request": engine.context_overflow(long),
        "peak_memory_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else None,
    }
    engine.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path)
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--n", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of the whole workload; the median is reported")
    ap.add_argument("--device", default="cuda", help="cpu: a dry run of the script where there is no GPU")
    args = ap.parse_args()
    import torch
    import transformers

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device")
    model = args.model or tiny_chat_model()
    reqs = requests(args.prompts, args.n, args.max_new_tokens)
    report = {"torch": torch.__version__, "transformers": transformers.__version__, "cuda": torch.version.cuda,
              "model": model.name, "runs": [check(model, dt, reqs, args.batch_size, args.device, args.repeats) for dt in ("bfloat16", "float32")]}
    text = json.dumps(report, indent=1)
    print(text)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_check.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
