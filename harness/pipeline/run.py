"""The one orchestrator: suite -> checks -> plan -> executor(generate, evaluate) -> leaderboard.

`bench run` (harness/cli) and `harness.api.run` both come here: the command line only turns its
flags into `overrides` and prints, so the two can never disagree about what a run does. A run is
two calls, `prepare` (everything that can fail on the user's input, and the plan: `--dry-run` stops
there) and `execute` (the expensive part), so that every mistake is found before a model loads.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import datadir
from harness.config.suite import REMOTE_DATA, Suite, check, load_suite, resolve_data_dir
from harness.environment import torch_device
from harness.errors import BenchError
from harness.executors import Executor, named
from harness.kits.tasks.remote import remote_root
from harness.pipeline.estimate import Estimate, Rates, estimate, refusal
from harness.pipeline.plan import GOLD, Plan, build_plan, shard_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.registry.discovery import Registry, load_registry
from harness.results.builder import build
from harness.results.leaderboard import write_leaderboard
from harness.results.model import Leaderboard
from harness.store.cache import Store, default_cache_dir
from harness.store.paths import directory
from harness.store.rundir import RunDir, write_json, write_text
from harness.tracking import Tracker, Tracking, resolve


@dataclass
class Prepared:
    """A checked plan, the registry it was built from, the executor that will run it and the trackers
    (each a fresh copy, with its URI) it will be reported to."""

    plan: Plan
    registry: Registry
    executor: Executor
    trackers: list[tuple[Tracker, str | None]] = field(default_factory=list)


def prepare(suite: Suite | str | Path, *, overrides: Mapping[str, Any] | None = None,
            named_by: Mapping[str, str] | None = None, data_dir: str | Path | None = None,
            registry: Registry | None = None, shard: tuple[int, int] | None = None, executor: str = "local",
            ray_address: str | None = None, track: Sequence[str] = ()) -> Prepared:
    """Apply `overrides` (suite settings, as the command-line options set them) and check them, choose
    the gold data directory, load the plugins and build the plan. `named_by` says how the user wrote
    an override (`{"per_class": "--per-class 0"}`), so that a problem names what the user typed.
    `track` names trackers as `--track` does (`"mlflow:http://host:5000"`); an unknown name fails here.
    Raises BenchError for any mistake in the input."""
    if not isinstance(suite, Suite):
        suite = load_suite(Path(suite), given=set(overrides or {}))
    suite = suite.with_overrides(overrides or {})  # the caller's suite stays as it was
    if problems := check(suite):
        key, _, msg = problems[0]
        raise BenchError(f"{named_by[key]}: {msg}" if named_by and key in named_by else msg)
    schedule = named(executor, ray_address)  # an executor mistake fails the dry run too
    chosen, note = choose_data_dir(suite, data_dir)
    if note:
        print(note, file=sys.stderr, flush=True)
    reg = registry or load_registry()
    with datadir.reading(chosen):
        plan = build_plan(suite, reg)
    plan.data_dir = chosen
    if shard is not None:
        plan = shard_plan(plan, *shard)
    return Prepared(plan, reg, schedule, resolve(track, reg.tracker))


def out_dir(plan: Plan, out: str | Path | None) -> Path:
    """Where a run of `plan` is written: `out`, or runs/<suite name>."""
    return Path(out) if out else Path("runs") / plan.suite.name


def execute(prepared: Prepared, *, out: str | Path | None = None, cache_dir: str | Path | None = None,
            progress: bool = False, log_samples: bool = False, yes: bool = False) -> Leaderboard:
    """Run every pending cell of the plan into its run directory (finished ones are kept), then
    write the leaderboard from the files (`RunDir(out).leaderboard`) and return it: the document
    written was checked against the schema on the way out, so it is not read back. A plan whose estimate is
    above the thresholds (harness/pipeline/estimate.py) is refused unless `yes`."""
    with datadir.reading(prepared.plan.data_dir):
        return _execute(prepared, out=out, cache_dir=cache_dir, progress=progress, log_samples=log_samples, yes=yes)


def _execute(prepared: Prepared, *, out: str | Path | None, cache_dir: str | Path | None, progress: bool,
             log_samples: bool, yes: bool) -> Path:
    plan = prepared.plan
    if not plan.gen_cells and not plan.eval_cells:
        raise BenchError("the plan has no runnable cell (every selected pair is unavailable); see `bench run --dry-run`")
    target = directory(out_dir(plan, out), "--out", writable=True)  # before any line is logged
    store = Store(cache_folder(cache_dir, create=True) / "cache.sqlite")
    estimated = bill(prepared, store.rates())
    if not yes and (why := refusal(estimated)):
        store.close()
        raise BenchError(why)
    with Reporter(enabled=progress) as rep:
        rep.log(f"suite {plan.suite.name}: {len(plan.gen_cells)} generation cells, {len(plan.eval_cells)} evaluation "
                f"cells, {len(plan.unavailable)} unavailable; out {target}")
        tracking = Tracking(prepared.trackers, rep.warn)
        runner = Runner(plan, prepared.registry, target, store, rep, device=torch_device(), log_samples=log_samples,
                        on_saved=tracking.cell if tracking else None)
        try:
            runner.run_pending(tracked(prepared.executor, tracking, tracked_settings(plan, target)))
            if not runner.run.estimate.is_file():  # the bill of the plan, made before it ran; a rerun keeps the first
                write_json(runner.run.estimate, estimated.as_dict())
            board = build(plan, prepared.registry, runner.run)
            write_leaderboard(runner.run.leaderboard, board)
        except BaseException as exc:
            tracking.abort(exc)
            if not isinstance(exc, OSError) or (said := disk_problem(exc, target)) is None:
                raise
            raise said from None
        rep.log(f"leaderboard written to {runner.run.leaderboard}")
        if prepared.trackers:  # a run with --track keeps report.md, whether or not its trackers held up
            files = tracked_files(runner.run, board, rep)
            tracking.finish(board, files)
    return board


def tracked(executor: Executor, tracking: Tracking, settings: dict[str, Any]) -> Executor:
    """The executor, with the trackers started first: once the run directory is open, so that a run it
    refuses (other settings, changed gold data) starts no tracker run."""
    def run_cells(runner: Runner, gen_cells: list, eval_cells: list) -> None:
        tracking.start(settings)
        executor(runner, gen_cells, eval_cells)

    return run_cells


def tracked_settings(plan: Plan, target: Path) -> dict[str, Any]:
    """What a tracker's `start` is told: the settings that decide the numbers, their hashes, where the
    run is written, and the grid the plan resolved (names, not the suite's globs)."""
    cells = [*plan.gen_cells, *plan.eval_cells]
    grid = {axis: sorted({getattr(c, attr) for c in cells} - {"", GOLD}) for axis, attr in
            (("tasks", "task"), ("languages", "language"), ("strategies", "strategy"), ("models", "model"))}
    grid["classifiers"] = sorted({c.classifier for c in plan.eval_cells})
    return {"suite": plan.suite.name, "settings": plan.suite.settings(), "settings_hash": plan.settings_hash,
            "plan_hash": plan.plan_hash, "out": str(target.resolve()), "harness_version": __version__,
            "shard": None if plan.shard is None else f"{plan.shard[0]}/{plan.shard[1]}", "grid": grid,
            "cells": {"generation": len(plan.gen_cells), "evaluation": len(plan.eval_cells),
                      "unavailable": len(plan.unavailable)}}


def tracked_files(run: RunDir, board: Leaderboard, rep: Reporter) -> dict[str, Path]:
    """The files a tracker keeps: the leaderboard, and the markdown report, written to the run
    directory for them (a report that cannot be made is one warning; the leaderboard still goes)."""
    from harness.reports.markdown import markdown

    files = {"leaderboard": run.leaderboard}
    try:
        write_text(run.report, markdown(board) + "\n")
        files["report"] = run.report
    except Exception as exc:  # the leaderboard is written: nothing here may fail the run
        rep.warn(f"the report for the trackers could not be written to {run.report}: {type(exc).__name__}: {exc}")
    return files


#: what the disk says when the run cannot write there: the user's to fix, and the run resumes after
_DISK = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded",
         errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
         errno.EPERM: "permission denied"}


def disk_problem(exc: OSError, target: Path) -> BenchError | None:
    """A full disk, a quota, a read-only file system or a permission as one line that says what to do;
    None for any other error, which is not the user's and must not be dressed as theirs. Files are
    written whole or not at all (harness/store/rundir.py), so what finished is kept."""
    what = _DISK.get(exc.errno or 0)
    if what is None:
        return None
    where = f" writing {exc.filename}" if exc.filename else ""
    return BenchError(f"--out {target}: {what}{where}; free space (or fix the permission) and rerun the same command "
                      "to resume: finished cells are kept")


def cache_folder(given: str | Path | None, *, create: bool = False) -> Path:
    """The cache directory (`given`, else $BENCH_CACHE_DIR, else the user's cache), checked as a path
    the user named: a loop, a dangling link or a file there is one line naming where it came from."""
    if given:
        return directory(given, "--cache-dir", create=create)
    return directory(default_cache_dir(), "BENCH_CACHE_DIR" if os.environ.get("BENCH_CACHE_DIR") else
                     "the cache directory", create=create)


def bill(prepared: Prepared, rates: Rates | None = None, cache_dir: str | Path | None = None,
         device: str | None = None) -> Estimate:
    """The plan's estimate at `rates`, or at those kept in the cache (`cache_dir`, else the default),
    read without creating a cache that does not exist; priced on `device` (default: this machine's),
    so a plan meant for a GPU node can be priced from a laptop."""
    if rates is None:
        path = cache_folder(cache_dir) / "cache.sqlite"
        rates = {}
        if path.is_file():
            store = Store(path)
            try:
                rates = store.rates()
            finally:
                store.close()
    with datadir.reading(prepared.plan.data_dir):
        return estimate(prepared.plan, prepared.registry, rates, device or torch_device())


#: the offline gold data as the project lays it out: shared/data beside the checkout
BESIDE_CHECKOUT = Path(__file__).resolve().parents[3] / "shared" / "data"


def choose_data_dir(suite: Suite, given: str | Path | None) -> tuple[str, str | None]:
    """Where the plan of `suite` reads its gold data, and a line to log or None. One rule for every
    suite: `given` (--data-dir), else
    $BENCH_DATA_DIR, else the suite's data_dir, else shared/data beside the checkout when it is there,
    else the pinned public sources. A directory named on the command line or in the environment must
    exist; a suite's data_dir that is missing (a checkout without the offline copy where the suite
    expects it) passes to the next rule, and the line returned says so."""
    if given:
        if str(given) != REMOTE_DATA:
            directory(given, "--data-dir")
        return resolve_data_dir(str(given), Path.cwd()), None
    if os.environ.get(datadir.ENV):
        if os.environ[datadir.ENV] != REMOTE_DATA:
            directory(os.environ[datadir.ENV], datadir.ENV)
        return os.environ[datadir.ENV], None
    chosen = resolve_data_dir(str(suite.data_dir), Path.cwd()) if suite.data_dir else None
    if chosen is not None and (chosen == REMOTE_DATA or Path(chosen).is_dir()):
        return chosen, None
    missing = (f"the suite's data_dir {chosen} " + ("is not a directory" if Path(chosen).exists() else "does not exist")
               if chosen else "")
    if BESIDE_CHECKOUT.is_dir():
        return str(BESIDE_CHECKOUT), (f"gold data: {missing}; reading {BESIDE_CHECKOUT} beside the checkout"
                                      if missing else None)
    return REMOTE_DATA, (f"gold data: {missing or 'no --data-dir, BENCH_DATA_DIR or data_dir, and no shared/data beside the checkout'}; "
            f"reading the files from their pinned public sources into {remote_root()} (each fetched once and checked "
            "against its SHA-256; --data-dir names a local copy)")
