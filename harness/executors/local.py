"""The local executor: every cell in this process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.pipeline.plan import EvalCell, GenCell, by_model

if TYPE_CHECKING:
    from harness.pipeline.runner import Runner


def local(runner: Runner, gen_cells: list[GenCell], eval_cells: list[EvalCell]) -> None:
    """Shared work first, then each model's generation cells with one engine load, then the
    evaluations."""
    runner.prepare(gen_cells)
    for model, group in by_model(gen_cells).items():
        for cell, payload in runner.generation_payloads(model, group):
            runner.save_generation(cell, payload)
    for cell in eval_cells:
        runner.save_scores(cell, runner.evaluation_payload(cell))
