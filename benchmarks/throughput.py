"""Generation throughput: the harness (cache off, strategy-shaped requests) against a raw batched
`model.generate` loop over the same prompts, model and batch size.

    python benchmarks/throughput.py --model gemma-3-270m --prompts 64 --batch-size 32 --max-new-tokens 64
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from harness.contracts import GenerationRequest, SamplingParams
from harness.kits.strategies import prompts
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, Store

LABELS = ["alarm_query", "weather_query", "play_audiobook", "cooking_recipe", "email_sendemail", "transport_ticket",
          "calendar_remove", "recommendation_movies"]


def workload(n: int) -> list[str]:
    return [prompts.generation_base(description="Intent classification of requests to a voice assistant.",
                                    text_kind="requests to a voice assistant", language="German",
                                    label=LABELS[i % len(LABELS)], summary=None, demos=[f"Beispiel {i}"])
            for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    args = ap.parse_args()
    reg = load_registry()
    spec, arg = reg.model(args.model)
    engine = spec.load(arg, {"batch_size": args.batch_size})
    texts = workload(args.prompts)
    params = SamplingParams(temperature=0.7, top_p=0.9, repetition_penalty=1.2, max_new_tokens=args.max_new_tokens)

    # raw: the same prompts in the same batches through model.generate, min_new_tokens pinned so
    # both sides produce exactly the same number of tokens
    import torch

    tok, model = engine.tokenizer, engine.model
    start = time.perf_counter()
    raw_tokens = 0
    for i in range(0, len(texts), args.batch_size):
        enc = tok(texts[i : i + args.batch_size], return_tensors="pt", padding=True).to(engine.device)
        torch.manual_seed(i)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens,
                                 do_sample=True, temperature=0.7, top_p=0.9, repetition_penalty=1.2,
                                 pad_token_id=tok.pad_token_id)
        raw_tokens += (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
    raw_s = time.perf_counter() - start

    # harness: same prompts as requests through a fresh cache (every request reaches the engine)
    engine.model.generation_config.min_new_tokens = args.max_new_tokens
    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedEngine(engine, Store(Path(tmp) / "c.sqlite"), args.model)
        reqs = [GenerationRequest(params, seed=i, prompt=t) for i, t in enumerate(texts)]
        start = time.perf_counter()
        res = cached.generate(reqs)
        harness_s = time.perf_counter() - start
    harness_tokens = sum(c.completion_tokens for r in res for c in r)
    print(json.dumps({
        "model": args.model, "engine": engine.info(), "prompts": len(texts), "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
        "raw": {"seconds": round(raw_s, 2), "tokens": int(raw_tokens), "tok_per_s": round(raw_tokens / raw_s, 1)},
        "harness": {"seconds": round(harness_s, 2), "tokens": harness_tokens,
                    "tok_per_s": round(harness_tokens / harness_s, 1)},
        "ratio": round((harness_tokens / harness_s) / (raw_tokens / raw_s), 3),
    }, indent=1))


if __name__ == "__main__":
    main()
