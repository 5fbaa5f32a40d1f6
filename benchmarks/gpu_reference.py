"""The reference workload's LLM work on a GPU, batched as the harness runs it and one request at a
time as the reference code does, through the transformers engine.

A GPU machine need not hold the gold data, lingua or the rest of the plugin stack, so this runs in
two steps. Where the harness is installed, `requests` writes the workload's requests (German intent,
target-demos+sl+revision: the run's demonstration draw, label summaries written by the model, one
generation request per label and round, and revision requests). On the GPU machine, `time` runs
them through `CachedEngine` in front of `TransformersEngine` twice, from an empty cache: in engine calls of up
to `--batch-size` rows, as a run sends them, and one row per call (each sample its own request), and
prints JSON.

    python benchmarks/gpu_reference.py requests --out requests.json [--per-class 100] [--rounds 2]
    python benchmarks/gpu_reference.py time requests.json --gguf gemma-3-270m-Q4_K_M.gguf [--device cuda]

`--gguf` converts the offline model's GGUF file as the harness does (dequantized to bfloat16, its
tokenizer checked); `--model` takes a converted directory. The revision requests judge real German training texts: what a run
judges are the generated lines, which depend on the sampled output; the prompts have the same shape.
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
sys.path.insert(0, str(ROOT))

TASK, LANGUAGE, STRATEGY = "massive10", "de", "target-demos+sl+revision"
SAMPLING = {"temperature": 0.4, "top_p": 0.9, "repetition_penalty": 1.2}


def write_requests(args) -> None:
    from harness.api import SamplingParams, load_registry, standalone_context
    from harness.kits.strategies import demos as demo_draws
    from harness.kits.strategies.summaries import label_summaries
    from harness.store.cache import digest

    reg = load_registry()
    task, strategy = reg.task(TASK), reg.strategy(STRATEGY)
    language = task.languages()[LANGUAGE]
    spec, arg = reg.model("gemma-3-270m")
    engine = spec.load(arg, {"batch_size": 16})
    options = {"summary_examples": 10, "demos_per_class": 10, "revision_max_new_tokens": 64}
    with tempfile.TemporaryDirectory() as tmp:
        ctx = standalone_context(task, language, engine, tmp, per_class=args.per_class,
                                 seed=int(digest(["gpu-reference", args.seed])[:8], 16),
                                 sampling=SamplingParams(max_new_tokens=args.max_new_tokens, **SAMPLING),
                                 calls_per_class=args.rounds, samples_per_request=args.samples, options=options,
                                 run_seed=args.seed)
        summaries = label_summaries(ctx, ctx.engine, ctx.sampling, options["summary_examples"])
    engine.close()
    # the strategy's own request builders, so the prompts, seeds and sampling are a run's
    demos = demo_draws.draw(task, LANGUAGE, "target", options["demos_per_class"], args.seed)
    generation = [strategy._request(ctx, lab, demos[lab], summaries[lab], False, r, "")[0]
                  for r in range(args.rounds) for lab in task.labels]
    gold = task.load(LANGUAGE, "train")
    revision = [strategy._revision_request(ctx, lab, summaries[lab], text, False, "")
                for lab in task.labels for text in [e.text for e in gold if e.label == lab][: args.revisions_per_label]]
    out = {"workload": {"task": TASK, "language": LANGUAGE, "strategy": STRATEGY, "model": "gemma-3-270m",
                        "per_class": args.per_class, "rounds": args.rounds, "samples_per_request": args.samples,
                        "labels": list(task.labels), "summaries": dict(summaries)},
           "generation": [as_json(r) for r in generation], "revision": [as_json(r) for r in revision]}
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(generation)} generation and {len(revision)} revision requests -> {args.out}")


def as_json(r) -> dict:
    return {"prompt": r.prompt, "n": r.n, "seed": r.seed, "params": r.params.as_dict(), "stop": list(r.stop)}


def timed(engine, requests: list, batch_size: int, sync) -> dict:
    """The requests through `CachedEngine` (an empty cache), which cuts them into engine calls of
    at most `batch_size` rows, as a run does."""
    from harness.store.cache import CachedEngine, Store

    calls = []
    generate = engine.generate

    def counted(batch):
        calls.append(len(batch))
        return generate(batch)

    engine.batch_size, engine.generate = batch_size, counted
    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedEngine(engine, Store(Path(tmp) / "cache.sqlite"), "gpu-reference")
        sync()
        start = time.perf_counter()
        outs = cached.generate(requests)
        sync()
        seconds = time.perf_counter() - start
    engine.generate = generate
    comps = [c for r in outs for c in r]
    tokens = sum(c.completion_tokens for c in comps)
    return {"engine_calls": len(calls), "rows": len(comps), "completion_tokens": tokens,
            "seconds": round(seconds, 2), "tokens_per_s": round(tokens / seconds, 1),
            "rows_per_s": round(len(comps) / seconds, 2), "sample": comps[0].text[:200]}


def time_requests(args) -> None:
    import torch
    import transformers

    from harness.api import TransformersEngine
    from harness.contracts import GenerationRequest, SamplingParams

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device")
    data = json.loads(Path(args.requests).read_text(encoding="utf-8"))
    model = args.model
    if model is None:
        start = time.perf_counter()
        from plugins.models.offline import convert_gguf

        model = convert_gguf(Path(args.gguf), Path(tempfile.mkdtemp(prefix="gemma-3-270m.")) / "model")
        print(f"converted {args.gguf} in {time.perf_counter() - start:.0f} s", file=sys.stderr)

    def req(d, n=None, seed=None):
        return GenerationRequest(SamplingParams(**d["params"]), d["seed"] if seed is None else seed,
                                 n=d["n"] if n is None else n, prompt=d["prompt"], stop=tuple(d["stop"]))

    def one_by_one(ds):
        # each sample its own request with its own seed, as the reference asks one completion per call
        return [req(d, 1, d["seed"] + k) for d in ds for k in range(d["n"])]

    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    engine = TransformersEngine(str(model), {"device": args.device, "dtype": args.dtype, "batch_size": args.batch_size})
    assert engine.device == args.device and not engine.is_chat, engine.info()
    gen = [req(d) for d in data["generation"]]
    timed(engine, gen[: max(1, args.batch_size // gen[0].n)], args.batch_size, sync)  # warm-up at the full batch shape
    timed(engine, one_by_one(data["generation"][:1])[:1], 1, sync)
    report = {"torch": torch.__version__, "transformers": transformers.__version__, "cuda": torch.version.cuda,
              "device_name": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu", "dtype": args.dtype,
              "batch_size": args.batch_size, "workload": data["workload"], "runs": {}}
    for kind in ("generation", "revision"):
        raw = data[kind]
        batched = timed(engine, [req(d) for d in raw], args.batch_size, sync)
        sequential = timed(engine, one_by_one(raw)[: args.sequential_rows], 1, sync)
        report["runs"][kind] = {"batched": batched, "one_at_a_time": sequential,
                                "speedup_tokens_per_s": round(batched["tokens_per_s"] / sequential["tokens_per_s"], 1),
                                "speedup_rows_per_s": round(batched["rows_per_s"] / sequential["rows_per_s"], 1)}
        print(json.dumps({kind: report["runs"][kind]}), file=sys.stderr, flush=True)
    report["peak_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1) if args.device == "cuda" else None
    engine.close()
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_reference.json").write_text(text + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="step", required=True)
    r = sub.add_parser("requests", help="write the workload's requests (needs the harness and the gold data)")
    r.add_argument("--out", required=True)
    r.add_argument("--per-class", type=int, default=100)
    r.add_argument("--rounds", type=int, default=2, help="generation rounds (requests per label)")
    r.add_argument("--samples", type=int, default=4, help="samples per generation request")
    r.add_argument("--revisions-per-label", type=int, default=20)
    r.add_argument("--max-new-tokens", type=int, default=160)
    r.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("time", help="time the requests batched and one at a time (needs torch and transformers)")
    t.add_argument("requests")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="a converted model directory")
    src.add_argument("--gguf", help="the offline model's GGUF file, converted first")
    t.add_argument("--device", default="cuda")
    t.add_argument("--dtype", default="bfloat16")
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--sequential-rows", type=int, default=16,
                   help="rows (samples) of each kind timed one at a time: the first requests', as a sample")
    args = ap.parse_args()
    write_requests(args) if args.step == "requests" else time_requests(args)


if __name__ == "__main__":
    main()
