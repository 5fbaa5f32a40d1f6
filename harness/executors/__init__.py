"""Executors schedule a plan's pending cells; the runner computes and writes each one.

An executor is a function `(runner, generation cells, evaluation cells) -> None` that gets every
cell computed (`Runner.generation_payloads`, `Runner.evaluation_payload`) and hands each result to
`Runner.save_generation` / `Runner.save_scores`, which write it. `local` runs them in this process;
`ray` on a cluster (harness/executors/ray_cluster.py). The runner knows neither, and neither writes
the leaderboard: the orchestrator (harness/pipeline/run.py) does, once the executor has returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.errors import BenchError, unknown

if TYPE_CHECKING:
    from harness.pipeline.plan import EvalCell, GenCell
    from harness.pipeline.runner import Runner

Executor = Callable[["Runner", "list[GenCell]", "list[EvalCell]"], None]
NAMES = ("local", "ray")


def named(name: str, ray_address: str | None = None) -> Executor:
    """The executor `bench run --executor NAME` means."""
    if ray_address and name != "ray":
        raise BenchError("--ray-address needs --executor ray")
    if name == "local":
        from harness.executors.local import local

        return local
    if name == "ray":
        from harness.executors.ray_cluster import run_on_ray

        return lambda runner, gen, ev: run_on_ray(runner, gen, ev, ray_address)
    raise unknown("executor", name, NAMES)
