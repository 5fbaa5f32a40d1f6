"""Runs a plan's cells on a Ray cluster, writing every result (and every cache entry) from the driver.

Generation: each model gets `replicas` actors (default: as many as the cluster's GPUs hold at the
model's `gpus` each, or one for a model that needs no GPU), each loading the engine once. A model's
cells wait in one queue and each goes to the next replica that is free, so replicas finish together
however uneven the cells are. A cell's output depends only on the cell (its seeds are its own), never
on which replica ran it or what that replica ran before, so the results equal a local run's.

Evaluation: every evaluation cell is a Ray task with the CPUs (and GPUs) its classifier needs,
submitted as soon as the generation it trains on is back.

Faults: a replica whose process or node dies is restarted (`max_restarts`) and the call it was
running is retried there (`max_task_retries`); a replica that cannot be restarted is dropped and its
cell goes back to the queue for another. Evaluation tasks are retried (`max_retries`) the same way.
Only system failures are retried: an exception raised by harness or plugin code (a BenchError, a
bug) fails the run at once, since running it again would fail again. Results come back to the driver,
which writes each cell exactly once with the same atomic writes as a local run, so a lost worker
costs a retry and an interrupted run resumes like any other.

Cache: workers never open the shared cache file. SQLite's WAL mode needs memory shared between the
processes that open a file, which a network filesystem does not give across nodes, and concurrent
writers to one file there can corrupt it. So the driver copies the cache to `<cache dir>/ray/` once
per run; workers read that snapshot immutable (no locks, no writes) behind their own new entries,
which they keep in memory and return with each cell; the driver, the only writer, merges them into
the cache file as each cell comes back. Entries one worker creates during a run are not seen by the
others until the next run (a repeated embedding is computed twice, never wrong).

Logs: worker log lines are forwarded to the driver's stderr by Ray, prefixed with the replica
(`(gemma-3-270m replica 2 pid=...)`) or task and with the cell they belong to; without progress
bars (`--no-progress`, or no terminal) they carry no colour codes.

Workers get the driver's registry (the plugins it loaded, and any it was handed in-process through
`harness.api.run(registry=...)`), pickled by Ray, instead of discovering plugins themselves. They
import the harness and the plugins' modules, and read the gold data, the cache snapshot and the run
directory at the same paths as the driver: on a multi-node cluster the package must be installed on
every node and the data, cache and run directories must be on a shared filesystem.
"""

from __future__ import annotations

import os
import sys
import uuid
import warnings
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.config import datadir
from harness.environment import torch_device
from harness.errors import BenchError
from harness.pipeline.models import ModelSession
from harness.pipeline.plan import GOLD, EvalCell, GenCell, Plan, by_model
from harness.records import GenerationRecord

#: restarts of a dead replica, and retries of the call it was running, before the cell moves on
MAX_RESTARTS = 2
MAX_TASK_RETRIES = 2
#: retries of an evaluation task whose worker died
EVAL_MAX_RETRIES = 2
#: for the fault-tolerance test: the first replica to find this file, after it finished a cell,
#: deletes it and exits mid-cell, as a worker on a lost node would
KILL_MARKER_ENV = "BENCH_RAY_KILL_MARKER"

_WORKER: dict[str, Any] = {}  # one runner per worker process, reused across tasks (loaded classifiers stay warm)


@dataclass(frozen=True)
class _Job:
    """What every worker needs besides the plan (which travels once, through the object store)."""

    out: str
    cache_path: str
    snapshot: str | None
    registry: Any  # an object-store reference to the caller's registry: workers use it, never their own
    kill_marker: str | None = None


class _WorkerReporter:
    """Workers have no terminal: log lines go to stderr, which Ray forwards to the driver's (each
    naming the cell it belongs to, after Ray's prefix naming the replica); progress is the driver's."""

    def __init__(self) -> None:
        self.cell_id = ""

    def log(self, msg: str) -> None:
        print(f"{self.cell_id}: {msg}" if self.cell_id else msg, file=sys.stderr, flush=True)

    def cell(self, description: str, total: int) -> None:
        self.log(description)  # as a local run without progress bars: which cell starts where

    def cell_progress(self, done: int, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


def _worker_runner(plan: Plan, job: _Job):
    from harness.store.cache import OverlayStore

    key = f"{job.out}|{plan.plan_hash}|{job.snapshot}"
    if _WORKER.get("key") != key:
        # progress bars of downloads and loops would flood the driver's log with carriage returns
        os.environ.setdefault("TQDM_DISABLE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import ray

        from harness.pipeline.runner import Runner

        if "runner" in _WORKER:
            _WORKER["runner"].store.close()
        store = OverlayStore(job.cache_path, job.snapshot)
        _WORKER["key"] = key
        _WORKER["runner"] = Runner(plan, ray.get(job.registry), job.out, store, _WorkerReporter(),
                                   device=torch_device())
    return _WORKER["runner"]


class ModelWorker:
    """One replica of a model: loads the engine once, then generates whichever cells it is sent.

    The plan comes with each call rather than to the constructor: a restarted replica (a new
    process, same constructor arguments) loads the engine again from the plan of the call that is
    retried, and Ray need not keep constructor arguments alive for restarts."""

    def __init__(self, job: _Job, model: str, replica: int):
        self.name = f"{model} replica {replica}"
        self.job = job
        self.model = model
        self.done = 0
        self.runner: Any = None
        self.session: ModelSession | None = None  # the model's CachedEngine over this worker's OverlayStore

    def __repr__(self) -> str:  # Ray prefixes this actor's log lines with it
        return self.name

    def _open(self, plan: Plan) -> None:
        if self.session is None:
            self.runner = _worker_runner(plan, self.job)
            self.session = self.runner.open_model(self.model)

    def ready(self, plan: Plan) -> str:
        """Loads the engine and answers: the driver sends cells only to replicas that are up, so a
        cell never waits behind a replica that the cluster has no room for yet."""
        with datadir.reading(plan.data_dir):
            self._open(plan)
        return self.name

    def generate(self, plan: Plan, cell: GenCell) -> dict:
        import ray

        with datadir.reading(plan.data_dir):
            self._open(plan)
            self.runner.rep.cell_id = cell.id
            marker = self.job.kill_marker
            if marker and self.done and _claim(marker):
                self.runner.rep.log("exiting mid-cell (kill marker)")
                os._exit(1)
            payload = self.session.generate(cell)
        self.done += 1
        self.runner.rep.cell_id = ""
        with warnings.catch_warnings():  # Ray's own use of a deprecated call inside this property
            warnings.simplefilter("ignore")
            restarted = ray.get_runtime_context().was_current_actor_reconstructed
        return {"payload": payload, "cache": self.runner.store.take_new(), "worker": self.name,
                "pid": os.getpid(), "restarted": restarted}

    def close(self) -> None:
        if self.session is not None:
            self.session.close()  # releases the engine


def _claim(path: str) -> bool:
    try:
        os.unlink(path)  # only one process can remove it
        return True
    except FileNotFoundError:
        return False


def _prepare(plan: Plan, job: _Job, cells: list[GenCell]) -> dict:
    with datadir.reading(plan.data_dir):
        runner = _worker_runner(plan, job)
        runner.prepare(cells)
    return runner.store.take_new()


def _evaluate(plan: Plan, job: _Job, cell: EvalCell, generation: GenerationRecord | None,
              log_samples: bool = False) -> dict:
    with datadir.reading(plan.data_dir):
        runner = _worker_runner(plan, job)
        runner.log_samples = log_samples  # the driver writes the predictions it returns
        runner.rep.cell_id = cell.id
        try:
            payload = runner.evaluation_payload(cell, generation)
        finally:
            runner.rep.cell_id = ""
    return {"payload": payload, "cache": runner.store.take_new()}


def _resources(options: dict[str, Any], default_cpus: float, default_gpus: float) -> dict[str, float]:
    return {"num_cpus": float(options.get("cpus", default_cpus)), "num_gpus": float(options.get("gpus", default_gpus))}


def default_replicas(options: dict[str, Any], num_gpus: float, cluster_gpus: float) -> int:
    """`replicas` from the model's options, else as many as the cluster's GPUs hold at `num_gpus`
    each (at least one), else one: a CPU-only model gains nothing from copies competing for cores."""
    if "replicas" in options:
        return int(options["replicas"])
    if num_gpus <= 0:
        return 1
    return max(1, int(cluster_gpus // num_gpus))


@dataclass
class _Replica:
    model: str
    index: int
    handle: Any
    ready: bool = False
    alive: bool = True
    busy: GenCell | None = None
    ran: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.model} replica {self.index}"


def run_on_ray(runner, gen_cells: list[GenCell], eval_cells: list[EvalCell], address: str | None) -> None:
    # read when ray is imported: repeated log lines from several workers would be folded into one
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    try:
        import ray
    except ImportError:
        raise BenchError("--executor ray needs the package ray: pip install -e '.[ray]'") from None
    if not gen_cells and not eval_cells:
        return
    if not getattr(runner.rep, "rich", False):
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")  # plain lines for logs and pipes
    out = str(runner.run.root.resolve())
    cache_path = Path(runner.store.path).resolve()
    if address:
        _check_reachable(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=True, logging_level="ERROR",
                 configure_logging=True)
    except Exception as exc:  # ConnectionError and friends: an address that is wrong or down
        raise BenchError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: {exc}") from None
    snapshot: Path | None = None
    try:
        resources = ray.cluster_resources()
        cluster_gpus = resources.get("GPU", 0)
        runner.rep.log(f"ray: {resources.get('CPU', 0):g} CPUs, {cluster_gpus:g} GPUs")
        snapshot = runner.store.snapshot(cache_path.parent / "ray" / f"snapshot-{uuid.uuid4().hex}.sqlite")
        # the workers compute cells and never report them (the driver saves and tracks each one), so
        # the trackers stay here: a tracker defined where workers cannot import it cannot fail them
        job = _Job(out, str(cache_path), str(snapshot), ray.put(replace(runner.reg, trackers={})),
                   os.environ.get(KILL_MARKER_ENV) or None)
        _Scheduler(ray, runner, job, cluster_gpus, gen_cells, eval_cells).run()
    finally:
        ray.shutdown()
        if snapshot is not None:
            snapshot.unlink(missing_ok=True)


class _Scheduler:
    """The driver's loop: one queue of generation cells per model, served by its replicas; evaluation
    tasks as their generations come back; every result and cache entry written here, once."""

    def __init__(self, ray: Any, runner, job: _Job, cluster_gpus: float, gen_cells: list[GenCell],
                 eval_cells: list[EvalCell]):
        self.ray = ray
        self.runner = runner
        self.job = job
        self.suite = runner.plan.suite
        self.cluster_gpus = cluster_gpus
        self.gen_cells = gen_cells
        self.plan_ref = ray.put(runner.plan)
        self.pending: dict[Any, tuple[str, Any, _Replica | None]] = {}
        self.evals_of: dict[str, list[EvalCell]] = {}
        for e in eval_cells:
            self.evals_of.setdefault(e.source, []).append(e)
        self.queues: dict[str, deque[GenCell]] = {}
        self.left: dict[str, int] = {}
        self.replicas: dict[str, list[_Replica]] = {}
        self.saved: set[str] = set()
        self.evaluate = ray.remote(_evaluate)

    def model_resources(self, model: str) -> dict[str, float]:
        opts = self.suite.model_options.get(model, {})
        return _resources(opts, 1, opts.get("tensor_parallel_size", 1) if self.cluster_gpus > 0 else 0)

    def run(self) -> None:
        ray, suite = self.ray, self.suite
        helpers = self.runner.plan.helper_models
        if self.gen_cells:  # work shared by a task's cells (label summaries) first, with its models' resources
            res = [self.model_resources(m) for m in helpers] or [{"num_cpus": 1.0, "num_gpus": 0.0}]
            need = {k: max(r[k] for r in res) for k in res[0]}
            try:
                rows = ray.get(ray.remote(_prepare).options(**need, max_retries=EVAL_MAX_RETRIES, retry_exceptions=False)
                               .remote(self.plan_ref, self.job, self.gen_cells))
            except ray.exceptions.RayError as exc:
                raise BenchError(f"the strategies' shared work ({', '.join(helpers) or 'no model'}) failed on the Ray cluster: "
                                 f"{_cause(exc)}") from None
            self.runner.store.merge(rows)
        actor_cls = ray.remote(ModelWorker)
        for model, cells in by_model(self.gen_cells).items():
            res = self.model_resources(model)
            n = min(len(cells), default_replicas(suite.model_options.get(model, {}), res["num_gpus"], self.cluster_gpus))
            self.queues[model], self.left[model], self.replicas[model] = deque(cells), len(cells), []
            opts = {**res, "max_restarts": MAX_RESTARTS, "max_task_retries": MAX_TASK_RETRIES}
            for i in range(1, n + 1):
                handle = actor_cls.options(**opts).remote(self.job, model, i)
                replica = _Replica(model, i, handle)
                self.replicas[model].append(replica)
                self.pending[handle.ready.remote(self.plan_ref)] = ("ready", None, replica)
            self.runner.rep.log(f"ray: {model}: {len(cells)} generation cells on {n} replica{'s' * (n > 1)} "
                                f"({res['num_gpus']:g} GPUs, {res['num_cpus']:g} CPUs each)")
        sources = {g.id for g in self.gen_cells}
        for source, cells in self.evals_of.items():
            if source == GOLD or source not in sources:
                for cell in cells:  # gold cells, and synthetic cells whose generation finished earlier
                    self.submit_eval(cell, None)
        while self.pending:
            done, _ = ray.wait(list(self.pending), num_returns=1)
            ref = done[0]
            kind, cell, replica = self.pending.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayActorError as exc:  # the replica died and could not be restarted
                if exc.actor_init_failed:
                    raise BenchError(f"model {replica.model} failed to load on the Ray cluster: {_cause(exc)}") from None
                self.lost(replica, cell, exc)
                continue
            except ray.exceptions.RayError as exc:
                what = f"cell {cell.id} failed" if cell is not None else f"{replica.name} failed to start"
                raise BenchError(f"{what} on the Ray cluster: {_cause(exc)} "
                                 f"(finished cells are kept; rerun to resume)") from None
            if kind == "ready":
                replica.ready = True
                self.dispatch(replica.model)
            elif kind == "gen":
                self.generated(replica, cell, result)
            else:
                self.store_rows(result["cache"])
                if cell.id not in self.saved:
                    self.saved.add(cell.id)
                    self.runner.save_scores(cell, result["payload"])

    def submit_eval(self, cell: EvalCell, generation: GenerationRecord | None) -> None:
        opts = _resources(self.suite.classifier_options.get(cell.classifier, {}), 1, 0)
        ref = self.evaluate.options(**opts, max_retries=EVAL_MAX_RETRIES, retry_exceptions=False).remote(
            self.plan_ref, self.job, cell, generation, self.runner.log_samples)
        self.pending[ref] = ("eval", cell, None)

    def dispatch(self, model: str) -> None:
        """Send queued cells to the replicas of `model` that are up and idle."""
        queue = self.queues[model]
        for replica in self.replicas[model]:
            if not queue:
                return
            if replica.ready and replica.alive and replica.busy is None:
                cell = queue.popleft()
                replica.busy = cell
                ref = replica.handle.generate.options(retry_exceptions=False).remote(self.plan_ref, cell)
                self.pending[ref] = ("gen", cell, replica)

    def generated(self, replica: _Replica, cell: GenCell, result: dict) -> None:
        replica.busy = None
        replica.ran.append(cell.id)
        self.store_rows(result["cache"])
        if result.get("restarted"):
            self.runner.rep.log(f"ray: {replica.name} was restarted after losing its worker; {cell.id} retried there")
        self.runner.rep.log(f"ray: {cell.id} ran on {result['worker']} (pid {result['pid']})")
        if cell.id not in self.saved:  # a cell is written once, whatever was retried on the way
            self.saved.add(cell.id)
            payload = result["payload"]
            self.runner.save_generation(cell, payload)
            for e in self.evals_of.get(cell.id, []):
                self.submit_eval(e, payload)
            self.left[cell.model] -= 1
        if self.left[cell.model] == 0:
            self.release(cell.model)
        else:
            self.dispatch(cell.model)

    def lost(self, replica: _Replica, cell: GenCell | None, exc: Exception) -> None:
        """A replica is gone for good: its cell goes back to the queue for the others."""
        replica.alive, replica.busy = False, None
        model = replica.model
        if cell is not None and cell.id not in self.saved:
            self.queues[model].appendleft(cell)
        self.runner.rep.log(f"ray: {replica.name} lost ({_cause(exc)})"
                            + (f"; {cell.id} goes to another replica" if cell is not None else ""))
        if self.left[model] and not any(r.alive for r in self.replicas[model]):
            raise BenchError(f"every replica of {model} was lost on the Ray cluster: {_cause(exc)} "
                             f"(finished cells are kept; rerun to resume)")
        self.dispatch(model)

    def release(self, model: str) -> None:
        """All of `model`'s cells are written: free its replicas' GPUs for the next model."""
        for replica in self.replicas.pop(model, []):
            if replica.ready and replica.alive:
                try:
                    self.ray.get(replica.handle.close.remote())
                except self.ray.exceptions.RayError:
                    pass  # it is being killed anyway
            self.ray.kill(replica.handle, no_restart=True)
            replica.alive = False
        for ref, (kind, _, replica) in list(self.pending.items()):
            if kind == "ready" and replica is not None and replica.model == model:
                del self.pending[ref]  # replicas that never started: nothing to wait for

    def store_rows(self, rows: dict) -> None:
        if rows:
            self.runner.store.merge(rows)


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
