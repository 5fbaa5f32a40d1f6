"""The reference workload shape (German intent, target-demos+sl+revision) timed end to end with the
offline model, batched as the harness runs it and one request at a time as the reference code does
(engine batch 1, one sample per request), each from an empty cache.

    python benchmarks/reference_workload.py --per-class 100            # the full shape (hours on 2 CPU cores)
    python benchmarks/reference_workload.py --per-class 6 --max-new-tokens 160

Prints one JSON object: wall time, generation time, LLM calls, tokens and accepted examples for
both modes, and the speed-up. Uses `bench run` itself, so what is timed is what users run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from timed_run import ROOT, timed_run  # a sibling script module

SUITE = """
[suite]
name = "reference-{mode}"
data_dir = "{data_dir}"

[grid]
tasks = ["massive10"]
languages = ["de"]
strategies = ["target-demos+sl+revision"]
models = ["{model}"]
classifiers = ["tfidf-logreg"]

[generation]
per_class = {per_class}
samples_per_request = {samples}
calls_per_class = {calls}
demos_per_class = 10

[sampling]
temperature = 0.4
top_p = 0.9
repetition_penalty = 1.2
max_new_tokens = {max_new_tokens}

[evaluation]
seeds = 1

[models."{model}"]
batch_size = {batch_size}
"""


def run(mode: str, args, workdir: Path) -> dict:
    batched = mode == "batched"
    # the same number of sampled completions either way: n samples in one request, or n requests of one
    samples = args.samples if batched else 1
    calls = args.calls * (1 if batched else args.samples)
    text = SUITE.format(mode=mode, data_dir=args.data_dir, model=args.model, per_class=args.per_class,
                        samples=samples, calls=calls, max_new_tokens=args.max_new_tokens,
                        batch_size=args.batch_size if batched else 1)
    leaderboard, wall = timed_run(mode, text, workdir, args.model_cache)  # empty cache: every request reaches the engine
    board = json.loads(leaderboard.read_text())
    g = board["results"][0]["generation"]
    return {"wall_seconds": round(wall, 1), "generation_seconds": g["seconds"], "llm_calls": g["llm_calls"],
            "engine_calls": g["engine_calls"], "completion_tokens": g["completion_tokens"],
            "prompt_tokens": g["prompt_tokens"], "accepted": g["accepted"], "requested": g["requested"],
            "tokens_per_second": round(g["completion_tokens"] / max(g["seconds"], 1e-9), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--samples", type=int, default=4, help="samples per request in the batched mode")
    ap.add_argument("--calls", type=int, default=0, help="requests per class (0: derived from per-class)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=512)
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--model-cache", help="a cache 'models' directory holding the converted offline model")
    ap.add_argument("--modes", default="batched,one-at-a-time")
    args = ap.parse_args()
    if args.calls == 0:
        args.calls = max(2, -(-4 * args.per_class // (args.samples * 5)))
    result: dict = {"workload": {"task": "massive10", "language": "de", "strategy": "target-demos+sl+revision",
                                 "model": args.model, "per_class": args.per_class, "requests_per_class": args.calls,
                                 "samples_per_request": args.samples, "max_new_tokens": args.max_new_tokens}}
    with tempfile.TemporaryDirectory(prefix="refwl.") as tmp:
        for mode in args.modes.split(","):
            result[mode] = run(mode, args, Path(tmp))
            print(json.dumps({mode: result[mode]}), file=sys.stderr, flush=True)
    if "batched" in result and "one-at-a-time" in result:
        b, s = result["batched"], result["one-at-a-time"]
        result["speedup_generation"] = round(s["generation_seconds"] / b["generation_seconds"], 2)
        result["speedup_tokens_per_second"] = round(b["tokens_per_second"] / max(s["tokens_per_second"], 1e-9), 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
