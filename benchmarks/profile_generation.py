"""Where the time of one default generation cell goes: a profile of the transformers engine on CPU.

Runs one cell of benchmarks/default.toml (massive10, German, target-demos, gemma-3-270m, with the
suite's sampling, per-class count, rounds and batch size) through the strategy exactly as a run does,
except that the generations cache is an empty in-memory store, so every request reaches the engine
(the converted model is still read from BENCH_CACHE_DIR; nothing is downloaded or converted when it
is there). It prints one table of shares of the cell's wall time and the token accounting:

    python benchmarks/profile_generation.py [--quick] [--json out.json]

How each part is measured (from one run, no sampling profiler: on a CPU every op is synchronous, so
`time.perf_counter` around a module's forward is its cost):
- forward hooks on each decoder layer's attention and MLP, on the layers themselves (norms and
  residuals are the rest of a layer), on the embedding and on the output projection (`lm_head`);
  prefill (the prompt pass) and decode steps are told apart by the width of the forward's input;
- sampling: the engine's nucleus (top-k then top-p) processor, and the softmax and multinomial draw
  that transformers runs on the full vocabulary outside the model;
- stop strings: transformers' `StopStringCriteria`;
- generate's own loop (cache bookkeeping, masks, Python) is `model.generate` less all of the above;
  the harness is the cell's wall time less `model.generate` (prompts, tokenising, decoding the
  completions, parsing, language checks, the cache).
Tokens: each `generate` call's output gives the slots computed (rows x decode steps), the tokens a
row kept (up to and including its end-of-sequence or stop) and the slots of rows that rode along after
they had finished; the prompt pass gives the left padding. The kept tokens are split by what the
strategy did with them (its candidates' final status), in proportion to the characters of each
completion that went into accepted, rejected (or duplicate or surplus) candidates, or no candidate.

`--quick` profiles the first two labels only (a smaller cell, the same shape). Nothing in the harness
is changed: the hooks are removed and the patched functions restored before the script exits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUITE, TASK, LANGUAGE, STRATEGY, MODEL = ROOT / "benchmarks" / "default.toml", "massive10", "de", "target-demos", "gemma-3-270m"


class Clock:
    """Seconds and calls per named part, and whether the model's forward is running (the softmax
    inside attention is the model's, the one outside it is sampling)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.in_forward = 0

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds
        self.calls[name] += 1

    def timed(self, name: str, fn: Callable, only_outside_forward: bool = False) -> Callable:
        def wrapper(*args, **kwargs):
            if only_outside_forward and self.in_forward:
                return fn(*args, **kwargs)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - start)
        return wrapper


def hook_modules(model: Any, clock: Clock) -> list[Any]:
    """Pre and post forward hooks timing the model's parts; returns the handles to remove."""
    handles = []

    def timing(module: Any, name: str, on_enter: Callable | None = None) -> None:
        start: list[float] = []

        def pre(mod, args, kwargs):
            if on_enter is not None:
                on_enter(args, kwargs)
            start.append(time.perf_counter())

        def post(mod, args, kwargs, output):
            clock.add(name, time.perf_counter() - start.pop())

        handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(module.register_forward_hook(post, with_kwargs=True))

    phase = ["decode"]

    def enter_forward(args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        phase[0] = "prefill" if ids is not None and ids.shape[1] > 1 else "decode"
        clock.in_forward += 1

    def leave_forward(mod, args, kwargs, output):
        clock.in_forward -= 1
        clock.add(f"forward/{phase[0]}", time.perf_counter() - forward_start.pop())

    forward_start: list[float] = []

    def pre_forward(mod, args, kwargs):
        enter_forward(args, kwargs)
        forward_start.append(time.perf_counter())

    handles.append(model.register_forward_pre_hook(pre_forward, with_kwargs=True))
    handles.append(model.register_forward_hook(leave_forward, with_kwargs=True))
    inner = model.model
    timing(inner.embed_tokens, "embedding")
    for layer in inner.layers:
        timing(layer, "layers")
        timing(layer.self_attn, "attention")
        timing(layer.mlp, "mlp")
    timing(model.lm_head, "lm_head")
    return handles


@contextlib.contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def end_ids(engine: Any) -> set[int]:
    """The ids that end a row, as the engine reads its output (end of sequence, and the padding
    transformers writes into a row that has finished)."""
    eos = engine.model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    ids.add(engine.tokenizer.pad_token_id)
    return ids


def flops_per_token(model: Any) -> dict[str, float]:
    """2 FLOP per weight of every matrix a generated token passes through: the decoder layers'
    projections and the output projection (the embedding is a lookup, not a product)."""
    import torch

    layers = sum(m.weight.numel() for m in model.model.layers.modules() if isinstance(m, torch.nn.Linear))
    head = model.lm_head.weight.numel()
    return {"layer_weights": layers, "lm_head_weights": head, "gflop_per_token": 2 * (layers + head) / 1e9}


def gemm_peak(threads: int, n: int = 2048, repeats: int = 5) -> float:
    """The best of `repeats` fp32 n x n matmuls on `threads` threads, in GFLOP/s (2 n^3 / t)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    torch.set_num_threads(before)
    return 2 * n**3 / best / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the first two labels only")
    ap.add_argument("--json", help="also write the numbers here")
    ap.add_argument("--gemm-size", type=int, default=2048)
    args = ap.parse_args()

    from harness.api import load_registry, load_suite
    from harness.config import datadir
    from harness.pipeline.plan import build_plan
    from harness.pipeline.run import choose_data_dir

    reg = load_registry()
    suite = load_suite(SUITE)
    data_dir, line = choose_data_dir(suite, None)
    if line:
        print(line, file=sys.stderr)
    with datadir.reading(data_dir):
        profile(args, reg, suite, build_plan(suite, reg))


def profile(args: argparse.Namespace, reg: Any, suite: Any, plan: Any) -> None:
    """Generate the cell with every part timed, then print (and with --json write) the shares."""
    import torch
    import transformers.generation.stopping_criteria as stopping

    import harness.kits.engines.transformers as hf_engine
    from harness.api import standalone_context
    from harness.pipeline import seeds

    task = reg.task(TASK)
    strategy = reg.strategy(STRATEGY)
    spec, arg = reg.model(MODEL)
    engine = spec.load(arg, suite.model_options.get(MODEL, {}))
    model, clock, calls = engine.model, Clock(), []
    ends = end_ids(engine)
    generate = model.generate

    def counted_generate(*a, **kw):
        """model.generate, timed, with the rows, steps, kept tokens and padding of its batch."""
        mask = kw["attention_mask"]
        start = time.perf_counter()
        out = generate(*a, **kw)
        seconds = time.perf_counter() - start
        clock.add("generate", seconds)
        width = kw["input_ids"].shape[1]
        new = out[:, width:].tolist()
        steps = len(new[0]) if new else 0
        kept = 0
        for row in new:
            stop = next((j for j, t in enumerate(row) if t in ends), None)
            kept += steps if stop is None else stop + 1
        calls.append({"rows": len(new), "steps": steps, "seconds": round(seconds, 2), "slots": len(new) * steps, "kept": kept,
                      "prompt_width": width, "prompt_tokens": int(mask.sum()), "prompt_slots": int(mask.numel())})
        return out

    # the strategy's candidates with the completions they came from, to split kept tokens by fate
    buckets: list[dict[str, Any]] = []
    own_candidates = strategy._candidates

    def candidates(ctx, state, batch, replies):
        first = len(state.candidates)
        fresh = own_candidates(ctx, state, batch, replies)
        new = state.candidates[first:]
        for (lab, _req, _prompt), comps in zip(batch, replies):
            buckets.append({"tokens": sum(c.completion_tokens for c in comps),
                            "chars": sum(len(c.text) for c in comps),
                            "cands": [c for c in new if c["label"] == lab]})
        return fresh

    handles = hook_modules(model, clock)
    nucleus = hf_engine.nucleus_processor

    def timed_nucleus(*a, **kw):
        proc = nucleus(*a, **kw)
        call = clock.timed("sampling/top-k top-p", proc.__call__)

        class Timed(type(proc)):
            def __call__(self, input_ids, scores):
                return call(input_ids, scores)

        proc.__class__ = Timed
        return proc

    stop_call = stopping.StopStringCriteria.__call__
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        stack.enter_context(patched(model, "generate", counted_generate))
        stack.enter_context(patched(strategy, "_candidates", candidates))
        if args.quick:  # the rounds ask for the first two labels only
            own_round = strategy._round_requests
            stack.enter_context(patched(strategy, "_round_requests", lambda ctx, state: [
                b for b in own_round(ctx, state) if b[0] in task.labels[:2]]))
        stack.enter_context(patched(hf_engine, "nucleus_processor", timed_nucleus))
        stack.enter_context(patched(torch.nn.functional, "softmax",
                                    clock.timed("sampling/softmax", torch.nn.functional.softmax, True)))
        stack.enter_context(patched(torch, "multinomial", clock.timed("sampling/multinomial", torch.multinomial, True)))
        stack.enter_context(patched(stopping.StopStringCriteria, "__call__",
                                    lambda self, ids, scores, **kw: clock.timed("stop strings", stop_call)(self, ids, scores, **kw)))
        ctx = standalone_context(
            task, plan.languages[(TASK, LANGUAGE)], engine, tmp, per_class=suite.per_class,
            seed=seeds.sampling_seed(suite.seed, TASK, LANGUAGE, STRATEGY, MODEL), sampling=suite.sampling_for(MODEL),
            calls_per_class=suite.budget(), samples_per_request=suite.samples_per_request,
            options=plan.strategy_options[STRATEGY], run_seed=suite.seed)
        start = time.perf_counter()
        result = strategy.generate(ctx)
        wall = time.perf_counter() - start
    for h in handles:
        h.remove()

    s = clock.seconds
    forward = s["forward/prefill"] + s["forward/decode"]
    sampling = sum(v for k, v in s.items() if k.startswith("sampling/"))
    parts = {
        "attention (18 layers)": s["attention"],
        "MLP (18 layers)": s["mlp"],
        "layers' norms and residuals": s["layers"] - s["attention"] - s["mlp"],
        "output projection (lm_head)": s["lm_head"],
        "embedding, rotary, masks (rest of forward)": forward - s["layers"] - s["lm_head"],
        "sampling: top-k/top-p": s["sampling/top-k top-p"],
        "sampling: softmax + multinomial": s["sampling/softmax"] + s["sampling/multinomial"],
        "stop strings": s["stop strings"],
        "generate loop (cache, Python)": s["generate"] - forward - sampling - s["stop strings"],
        "harness outside generate": wall - s["generate"],
    }
    slots = sum(c["slots"] for c in calls)
    kept = sum(c["kept"] for c in calls)
    fate: dict[str, float] = defaultdict(float)
    for b in buckets:
        if not b["tokens"]:
            continue
        chars = max(b["chars"], 1)
        acc = sum(len(c["text"]) for c in b["cands"] if c.get("status") == "accepted")
        other = sum(len(c["text"]) for c in b["cands"] if c.get("status") != "accepted")
        acc, other = min(acc, chars), min(other, chars - min(acc, chars))
        fate["accepted"] += b["tokens"] * acc / chars
        fate["rejected, duplicate or surplus"] += b["tokens"] * other / chars
        fate["in no candidate"] += b["tokens"] * (chars - acc - other) / chars
    completion = sum(b["tokens"] for b in buckets)
    fpt = flops_per_token(model)
    threads = torch.get_num_threads()
    peak = gemm_peak(threads, args.gemm_size)
    report = {
        "cell": f"{TASK}/{LANGUAGE} {STRATEGY} [{MODEL}]" + (" (first 2 labels)" if args.quick else ""),
        "wall_s": round(wall, 2), "threads": threads, "accepted_examples": len(result.examples),
        "shares": {k: round(v / wall, 4) for k, v in parts.items()},
        "prefill_share": round(s["forward/prefill"] / wall, 4), "decode_forward_share": round(s["forward/decode"] / wall, 4),
        "engine_calls": [{k: c[k] for k in ("rows", "steps", "prompt_width", "seconds")} for c in calls],
        "tokens": {"decode_slots": slots, "kept": kept, "ride_along": slots - kept,
                   "ride_along_share": round((slots - kept) / max(slots, 1), 4),
                   "prompt_tokens": sum(c["prompt_tokens"] for c in calls),
                   "prompt_padding": sum(c["prompt_slots"] - c["prompt_tokens"] for c in calls),
                   "completion_tokens": completion,
                   "completion_by_fate": {k: round(v / max(completion, 1), 4) for k, v in fate.items()}},
        "tokens_per_s": {"kept_per_wall_s": round(kept / wall, 1), "completion_per_wall_s": round(completion / wall, 1),
                         "slots_per_generate_s": round(slots / s["generate"], 1)},
        "flops": {**fpt, "achieved_gflops_kept": round(kept * fpt["gflop_per_token"] / wall, 1),
                  "achieved_gflops_slots_in_forward": round(slots * fpt["gflop_per_token"] / forward, 1),
                  "gemm_peak_gflops": round(peak, 1), "gemm_size": args.gemm_size},
        "nice": os.nice(0),
    }
    print(f"{report['cell']}: {wall:.1f} s wall, {kept} kept tokens ({kept / wall:.1f}/s), "
          f"{slots} decode slots, {len(calls)} generate calls, {threads} threads, nice {report['nice']}")
    print(f"{'part':46s} share")
    for k, v in parts.items():
        print(f"{k:46s} {v / wall:6.1%}")
    print(f"{'(forward: prefill / decode)':46s} {s['forward/prefill'] / wall:6.1%} / {s['forward/decode'] / wall:6.1%}")
    print("generate calls (rows x steps: seconds per step): " + ", ".join(
        f"{c['rows']} x {c['steps']}: {c['seconds'] / max(c['steps'], 1):.2f}" for c in calls))
    t = report["tokens"]
    print(f"ride-along slots: {t['ride_along']} of {slots} ({t['ride_along_share']:.1%}); "
          f"prompt padding: {t['prompt_padding']} of {t['prompt_tokens'] + t['prompt_padding']} prompt positions")
    print("completion tokens by fate: " + ", ".join(f"{k} {v:.1%}" for k, v in t["completion_by_fate"].items()))
    f = report["flops"]
    print(f"{f['gflop_per_token']:.3f} GFLOP/token: {f['achieved_gflops_kept']} GFLOP/s kept over wall, "
          f"{f['achieved_gflops_slots_in_forward']} GFLOP/s of all slots over forward time; "
          f"fp32 GEMM peak {f['gemm_peak_gflops']} GFLOP/s ({args.gemm_size}^2, {threads} threads)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
