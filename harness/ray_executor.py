"""Runs a plan's cells on a Ray cluster, writing every result from the driver.

Each model becomes one Ray actor holding that model's engine for all its generation cells (one load
per model, as locally), with the GPUs the model needs; every evaluation cell is a Ray task with the
CPUs (and GPUs) its classifier needs, submitted as soon as the generation it trains on is back.
Workers only compute: results come back to the driver, which writes them with the same atomic
writes as a local run, so an interrupted Ray run resumes like any other.

Workers import the harness and its plugins, read the gold data and open the generation cache at
the same paths as the driver: on a multi-node cluster the package must be installed on every node
and the data, cache and run directories must be on a shared filesystem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.environment import torch_device
from harness.errors import BenchError
from harness.plan import GOLD, EvalCell, GenCell, Plan, by_model

_WORKER: dict[str, Any] = {}  # one runner per worker process, reused across tasks (loaded classifiers stay warm)


class _QuietReporter:
    """Workers have no terminal: their log lines go to the worker log, progress is the driver's."""

    def log(self, msg: str) -> None:
        print(msg, flush=True)

    def cell(self, description: str, total: int) -> None:
        pass

    def cell_progress(self, done: int, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


def _worker_runner(plan: Plan, out: str, cache_path: str, device: str, data_dir: str | None):
    from harness.cache import Store
    from harness.plugins import load_registry
    from harness.runner import Runner

    key = f"{out}|{plan.plan_hash}"
    if _WORKER.get("key") != key:
        if data_dir:
            os.environ["BENCH_DATA_DIR"] = data_dir
        _WORKER["key"] = key
        _WORKER["runner"] = Runner(plan, load_registry(), out, Store(Path(cache_path)), _QuietReporter(), device=device)
    return _WORKER["runner"]


class ModelWorker:
    """Holds one model's engine; `generate` runs one cell (calls are executed in submission order)."""

    def __init__(self, plan: Plan, out: str, cache_path: str, data_dir: str | None, model: str, cells: list[GenCell]):
        self.runner = _worker_runner(plan, out, cache_path, torch_device(), data_dir)
        self.stream = self.runner.generation_payloads(model, cells)

    def generate(self, cell_id: str) -> dict:
        cell, payload = next(self.stream)
        assert cell.id == cell_id, (cell.id, cell_id)
        return payload

    def close(self) -> None:
        self.stream.close()  # releases the engine


def _prepare(plan: Plan, out: str, cache_path: str, data_dir: str | None, cells: list[GenCell]) -> None:
    _worker_runner(plan, out, cache_path, torch_device(), data_dir).prepare(cells)


def _evaluate(plan: Plan, out: str, cache_path: str, data_dir: str | None, cell: EvalCell,
              generation: dict | None, log_samples: bool = False) -> dict:
    runner = _worker_runner(plan, out, cache_path, torch_device(), data_dir)
    runner.log_samples = log_samples  # the driver writes the predictions it returns
    return runner.evaluation_payload(cell, generation)


def _resources(options: dict[str, Any], default_cpus: float, default_gpus: float) -> dict[str, float]:
    return {"num_cpus": float(options.get("cpus", default_cpus)), "num_gpus": float(options.get("gpus", default_gpus))}


def run_on_ray(runner, gen_cells: list[GenCell], eval_cells: list[EvalCell], address: str | None) -> None:
    try:
        import ray
    except ImportError:
        raise BenchError("--executor ray needs the package ray: pip install -e '.[ray]'") from None
    if not gen_cells and not eval_cells:
        return
    plan: Plan = runner.plan
    suite = plan.suite
    out = str(runner.run.root.resolve())
    cache_path = str(Path(runner.store.path).resolve())
    data_dir = os.environ.get("BENCH_DATA_DIR")
    if address:
        _check_reachable(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 configure_logging=True)
    except Exception as exc:  # ConnectionError and friends: an address that is wrong or down
        raise BenchError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: {exc}") from None
    try:
        resources = ray.cluster_resources()
        gpus_available = resources.get("GPU", 0) > 0
        runner.rep.log(f"ray: {resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs")
        plan_ref = ray.put(plan)
        evaluate = ray.remote(_evaluate)
        actor_cls = ray.remote(ModelWorker)
        pending: dict[Any, tuple[str, Any]] = {}
        evals_of: dict[str, list[EvalCell]] = {}
        for e in eval_cells:
            evals_of.setdefault(e.source, []).append(e)
        pending_sources = {g.id for g in gen_cells}

        def submit_eval(cell: EvalCell, generation: dict | None) -> None:
            opts = _resources(suite.classifier_options.get(cell.classifier, {}), 1, 0)
            ref = evaluate.options(**opts).remote(plan_ref, out, cache_path, data_dir, cell, generation,
                                                  runner.log_samples)
            pending[ref] = ("eval", cell)

        def model_resources(model: str) -> dict[str, float]:
            opts = suite.model_options.get(model, {})
            return _resources(opts, 1, opts.get("tensor_parallel_size", 1) if gpus_available else 0)

        if suite.summarizer and gen_cells:  # label summaries first, with the summarizer's resources
            try:
                ray.get(ray.remote(_prepare).options(**model_resources(suite.summarizer)).remote(
                    plan_ref, out, cache_path, data_dir, gen_cells))
            except ray.exceptions.RayError as exc:
                raise BenchError(f"label summaries by {suite.summarizer} failed on the Ray cluster: {_cause(exc)}") from None
        actors: dict[str, Any] = {}
        left: dict[str, int] = {}
        for model, cells in by_model(gen_cells).items():
            actor = actor_cls.options(**model_resources(model)).remote(plan_ref, out, cache_path, data_dir, model, cells)
            actors[model], left[model] = actor, len(cells)
            for cell in cells:
                pending[actor.generate.remote(cell.id)] = ("gen", cell)
        for source, cells in evals_of.items():
            if source == GOLD or source not in pending_sources:
                for cell in cells:  # gold cells, and synthetic cells whose generation finished earlier
                    submit_eval(cell, None)

        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            kind, cell = pending.pop(ref)
            try:
                payload = ray.get(ref)
            except ray.exceptions.RayError as exc:
                raise BenchError(f"cell {cell.id} failed on the Ray cluster: {_cause(exc)} "
                                 f"(finished cells are kept; rerun to resume)") from None
            if kind == "gen":
                runner.save_generation(cell, payload)
                for e in evals_of.get(cell.id, []):
                    submit_eval(e, payload)
                left[cell.model] -= 1
                if left[cell.model] == 0:  # free its GPUs for the next model
                    ray.get(actors[cell.model].close.remote())
                    ray.kill(actors.pop(cell.model))
            else:
                runner.save_scores(cell, payload)
    finally:
        ray.shutdown()


def _cause(exc: Exception) -> str:
    cause = getattr(exc, "cause", None)
    text = str(cause if cause is not None else exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _check_reachable(address: str) -> None:
    """Ray retries an unreachable head node for minutes; a plain TCP connect answers in seconds."""
    import socket

    hostport = address.split("://", 1)[-1]
    if hostport in ("auto", "local") or ":" not in hostport:
        return
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=10):
            pass
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot connect to the Ray cluster at {address}: {exc}; check --ray-address "
                         f"(the head node's GCS address, e.g. 10.0.0.1:6379, or 'auto' on a cluster node)") from None
