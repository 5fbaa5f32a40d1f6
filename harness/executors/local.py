"""Executors schedule a plan's pending cells; the runner computes and writes each one.

An executor is a function `(runner, generation cells, evaluation cells) -> None` that gets every
cell computed (`Runner.generation_payloads`, `Runner.evaluation_payload`) and hands each result to
`Runner.save_generation` / `Runner.save_scores`, which write it. The local executor runs them in
this process; the Ray executor (harness/executors/ray_cluster.py) on a cluster. The runner knows neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.errors import BenchError, unknown
from harness.pipeline.plan import EvalCell, GenCell, by_model

if TYPE_CHECKING:
    from harness.pipeline.runner import Runner

Executor = Callable[["Runner", list[GenCell], list[EvalCell]], None]
NAMES = ("local", "ray")


def local(runner: Runner, gen_cells: list[GenCell], eval_cells: list[EvalCell]) -> None:
    """Every cell in this process: shared work first, then each model's generation cells with one
    engine load, then the evaluations."""
    runner.prepare(gen_cells)
    for model, group in by_model(gen_cells).items():
        for cell, payload in runner.generation_payloads(model, group):
            runner.save_generation(cell, payload)
    for cell in eval_cells:
        runner.save_scores(cell, runner.evaluation_payload(cell))


def named(name: str, ray_address: str | None = None) -> Executor:
    """The executor `bench run --executor NAME` means."""
    if ray_address and name != "ray":
        raise BenchError("--ray-address needs --executor ray")
    if name == "local":
        return local
    if name == "ray":
        from harness.executors.ray_cluster import run_on_ray

        return lambda runner, gen, ev: run_on_ray(runner, gen, ev, ray_address)
    raise unknown("executor", name, NAMES)
