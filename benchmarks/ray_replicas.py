"""Replica scaling of the Ray executor: the same suite on a local Ray instance with 1 and with 2
replicas of its model, each from an empty generation cache, and the leaderboards compared.

    python benchmarks/ray_replicas.py --model-cache ~/.cache/lowres-bench/models

A local Ray instance takes every core of the machine; each replica gets `--cpus` of them (Ray sets
its torch threads to that), so on a machine with N cores, N/cpus replicas can generate at once.
Prints one JSON object: per replica count the wall time of the whole run and the generation span
(from the replicas being requested to the last generation written, read from the run's log
timestamps), and whether the two leaderboards are equal apart from timings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SUITE = """
[suite]
name = "ray-replicas"
data_dir = "{data_dir}"

[grid]
tasks = ["sentiment"]
languages = {languages}
strategies = ["zero-shot", "target-demos"]
models = ["{model}"]
classifiers = ["tfidf-logreg"]

[generation]
per_class = {per_class}
samples_per_request = 2
calls_per_class = 2
demos_per_class = 2

[sampling]
temperature = 0.7
max_new_tokens = {max_new_tokens}

[evaluation]
seeds = 2

[models."{model}"]
replicas = {replicas}
cpus = {cpus}
"""


def comparable(path: Path) -> dict:
    board = json.loads(path.read_text())
    for r in board["results"]:
        r["generation"].pop("seconds")
    board.pop("manifest")
    return board


def run(replicas: int, args: argparse.Namespace, workdir: Path) -> dict:
    name = f"r{replicas}"
    suite = workdir / f"{name}.toml"
    suite.write_text(SUITE.format(data_dir=args.data_dir, languages=json.dumps(args.languages), model=args.model,
                                  per_class=args.per_class, max_new_tokens=args.max_new_tokens, replicas=replicas,
                                  cpus=args.cpus), encoding="utf-8")
    cache = workdir / f"cache-{name}"
    cache.mkdir()
    if args.model_cache:
        (cache / "models").symlink_to(Path(args.model_cache).expanduser().resolve())
    out = workdir / f"run-{name}"
    env = {**os.environ, "BENCH_CACHE_DIR": str(cache), "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(suite), "--out", str(out), "--no-progress",
                           "--executor", "ray"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{name} run failed:\n{proc.stderr[-3000:]}")
    stamps = [(float(t), msg) for t, msg in re.findall(r"^\[\s*([\d.]+)s\] (.*)$", proc.stderr, re.M)]
    requested = next(t for t, msg in stamps if re.match(r"ray: \S+: \d+ generation cells on", msg))
    last_gen = max(t for t, msg in stamps if msg.startswith("generated "))
    ran = re.findall(r"ray: \S+ ran on \S+ replica (\d+)", proc.stderr)
    return {"replicas": replicas, "wall_s": round(wall, 1), "generation_span_s": round(last_gen - requested, 1),
            "cells_per_replica": {r: ran.count(r) for r in sorted(set(ran))},
            "leaderboard": str(out / "leaderboard.json")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--model-cache", help="a cache `models` folder with the converted offline model")
    ap.add_argument("--data-dir", default=os.environ.get("BENCH_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--languages", nargs="+", default=["sw", "de"])
    ap.add_argument("--per-class", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--cpus", type=float, default=1, help="CPUs per replica")
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run(n, args, Path(tmp)) for n in args.replicas]
        boards = [comparable(Path(r.pop("leaderboard"))) for r in runs]
        equal = all(b == boards[0] for b in boards)
    print(json.dumps({"model": args.model, "languages": args.languages, "per_class": args.per_class,
                      "max_new_tokens": args.max_new_tokens, "cpus_per_replica": args.cpus, "runs": runs,
                      "leaderboards_equal": equal}, indent=2))


if __name__ == "__main__":
    main()
