"""The same generation workload through two engines, both behind the harness (cache off):
transformers vs vLLM, by default on the offline Gemma 3 270M.

    .venv-vllm/bin/python benchmarks/engines.py --prompts 64 --n 2 --max-new-tokens 64
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

LABELS = ["alarm_query", "weather_query", "play_audiobook", "cooking_recipe", "email_sendemail"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="gemma-3-270m,vllm:gemma-3-270m")
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--n", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    reg = load_registry()
    params = SamplingParams(temperature=0.7, top_p=0.9, repetition_penalty=1.2, max_new_tokens=args.max_new_tokens)
    reqs = [GenerationRequest(params, seed=i, n=args.n, prompt=prompts.generation_base(
        description="Intent classification of requests to a voice assistant.", text_kind="requests to a voice assistant",
        language="German", label=LABELS[i % len(LABELS)], summary=None, demos=[])) for i in range(args.prompts)]
    report = {}
    for name in args.models.split(","):
        spec, arg = reg.model(name)
        opts = {"batch_size": args.batch_size}
        if name.startswith("vllm:"):
            opts.update(max_model_len=1024, kv_cache_memory_bytes=1 << 30, batch_size=256)
        start = time.perf_counter()
        engine = spec.load(arg, opts)
        load_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            cached = CachedEngine(engine, Store(Path(tmp) / "c.sqlite"), name)
            start = time.perf_counter()
            out = cached.generate(reqs)
            gen_s = time.perf_counter() - start
        tokens = sum(c.completion_tokens for r in out for c in r)
        report[name] = {"load_s": round(load_s, 1), "generate_s": round(gen_s, 1), "tokens": tokens,
                        "tok_per_s": round(tokens / gen_s, 1)}
        print(json.dumps({name: report[name]}), flush=True)  # each engine as soon as it is measured
        engine.close()
    print(json.dumps({"prompts": args.prompts, "n": args.n, "max_new_tokens": args.max_new_tokens, **report}, indent=1))


if __name__ == "__main__":
    main()
