"""One `bench run` of a generated suite, from an empty generation cache, timed: what the benchmark
scripts measure is exactly what users run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed_run(name: str, suite_text: str, workdir: Path, model_cache: str | None) -> tuple[Path, float]:
    """Write the suite, run it into `workdir/run-<name>` and return the leaderboard path and wall
    seconds. `model_cache` is a cache `models` folder holding converted offline models, linked in so
    the one-time conversion is not timed; everything else starts empty."""
    suite = workdir / f"{name}.toml"
    suite.write_text(suite_text, encoding="utf-8")
    cache = workdir / f"cache-{name}"
    cache.mkdir()
    if model_cache:
        (cache / "models").symlink_to(Path(model_cache).resolve())
    out = workdir / f"run-{name}"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(suite), "--out", str(out), "--no-progress"],
                          cwd=ROOT, env={**os.environ, "BENCH_CACHE_DIR": str(cache)}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{name} run failed:\n{proc.stderr[-3000:]}")
    return out / "leaderboard.json", wall
