"""Scale-out: `--shard i/N` splits a plan into disjoint parts, `bench merge` puts them back into the
leaderboard of an unsharded run, and `--executor ray` runs a plan on a local Ray cluster."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from boards import without_clocks

from conftest import bench, fresh_cache, shared_data, write_suite
from harness.api import Tracker
from harness.config.suite import Suite, load_suite
from harness.errors import BenchError
from harness.pipeline.plan import build_plan, parse_shard, shard_plan
from harness.registry.discovery import load_registry
from harness.store.cache import OverlayStore, Store


def comparable(path):
    """The leaderboard without what legitimately differs between runs (timings, creation time)."""
    board = json.loads(path.read_text())
    without_clocks(board["results"])
    board.pop("manifest")
    return board


@pytest.fixture(scope="module")
def suite(tmp_path_factory, tiny_model):
    root = tmp_path_factory.mktemp("scale")
    return write_suite(root / "s.toml", f"hf:{tiny_model}", tasks=["sentiment", "massive10"], languages=["sw", "sl"],
                       strategies=["zero-shot", "target-demos"], per_class=3)


@pytest.fixture(scope="module")
def whole(suite, tmp_path_factory):
    root = tmp_path_factory.mktemp("whole")
    out = root / "run"
    res = bench("run", str(suite), "--out", str(out), "--no-progress",
                env={"BENCH_CACHE_DIR": str(fresh_cache(root / "cache")), "BENCH_DATA_DIR": str(shared_data())})
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 5, 40])
def test_shards_are_disjoint_complete_and_keep_generation_with_its_evaluations(n):
    reg = load_registry()
    s = Suite(tasks=["*"], languages=["sw", "de", "sl", "cy"], strategies=["*"], classifiers=["e5-logreg", "tfidf-logreg"],
              models=["gemma-3-270m", "hf:some/model"])
    plan = build_plan(s, reg)
    parts = [shard_plan(plan, i, n) for i in range(n)]
    gens = [c.id for p in parts for c in p.gen_cells]
    evals = [c.id for p in parts for c in p.eval_cells]
    assert sorted(gens) == sorted(c.id for c in plan.gen_cells) and len(gens) == len(set(gens))
    assert sorted(evals) == sorted(c.id for c in plan.eval_cells) and len(evals) == len(set(evals))
    for p in parts:
        mine = {c.id for c in p.gen_cells}
        assert all(e.source in mine or e.source == "gold" for e in p.eval_cells)
        assert p.plan_hash == plan.plan_hash and p.expected_llm_calls == sum(c.expected_calls for c in p.gen_cells)
    sizes = [len(p.gen_cells) + len(p.eval_cells) for p in parts]
    unit = 1 + 2  # the largest unit: a generation cell with its two evaluation cells
    assert max(sizes) - min(sizes) <= 2 * unit
    # deterministic: the same split on another machine
    again = shard_plan(build_plan(s, load_registry()), n - 1, n)
    assert [c.id for c in again.eval_cells] == [c.id for c in parts[-1].eval_cells]


@pytest.mark.parametrize("text", ["3/3", "-1/2", "1", "a/b", "0/0"])
def test_bad_shard_is_one_clear_line(text):
    from harness.errors import BenchError

    with pytest.raises(BenchError, match="must be i/N"):
        parse_shard(text)
    out = bench("run", "--dry-run", f"--shard={text}")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "must be i/N" in out.stderr


def test_shards_merged_equal_the_unsharded_run(suite, whole, tmp_path):
    shards = []
    for i in range(3):
        out = tmp_path / f"shard{i}"
        res = bench("run", str(suite), "--shard", f"{i}/3", "--out", str(out), "--no-progress")
        assert res.returncode == 0, res.stderr
        shards.append(out)
    assert bench("run", str(suite), "--shard", "1/3", "--out", str(shards[0])).returncode == 2  # wrong shard dir
    missing = bench("merge", str(shards[0]), str(shards[2]), "--out", str(tmp_path / "m"))
    assert missing.returncode == 2 and "shards 1/3 are missing" in missing.stderr
    assert not (tmp_path / "m").exists()  # nothing written on refusal
    res = bench("merge", *map(str, shards), "--out", str(tmp_path / "merged"))
    assert res.returncode == 0, res.stderr
    assert comparable(tmp_path / "merged" / "leaderboard.json") == comparable(whole / "leaderboard.json")
    assert bench("validate", str(tmp_path / "merged")).returncode == 0
    # resuming a merged directory runs nothing
    rerun = bench("run", str(suite), "--out", str(tmp_path / "merged"), "--no-progress")
    assert rerun.returncode == 0 and "resuming: " in rerun.stderr and "generated " not in rerun.stderr


def test_merge_refuses_shards_of_different_configurations(suite, whole, tmp_path, tiny_model):
    other = write_suite(tmp_path / "o.toml", f"hf:{tiny_model}", tasks=["sentiment"], languages=["sw"], per_class=4)
    res = bench("run", str(other), "--shard", "0/2", "--out", str(tmp_path / "o0"), "--no-progress", "--dry-run")
    assert res.returncode == 0
    assert bench("run", str(other), "--shard", "0/2", "--out", str(tmp_path / "o0"), "--no-progress").returncode == 0
    out = bench("merge", str(whole), str(tmp_path / "o0"), "--out", str(tmp_path / "m"))
    assert out.returncode == 2 and "ran different settings (per_class differ)" in out.stderr
    # an unfinished directory is refused unless --partial
    half = tmp_path / "half"
    shutil.copytree(whole, half)
    for f in list((half / "scores").glob("*.json"))[:2]:
        f.unlink()
    out = bench("merge", str(half), "--out", str(tmp_path / "m2"))
    assert out.returncode == 2 and "2 of" in out.stderr and "--partial" in out.stderr
    assert bench("merge", str(half), "--out", str(tmp_path / "m2"), "--partial").returncode == 0


def test_suite_round_trips_through_its_dict(suite):
    s = load_suite(suite)
    assert Suite.from_dict(json.loads(json.dumps(s.to_dict()))) == s


# a throw-away cluster on the loopback interface: no token authentication
RAY_ENV = {"RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0", "RAY_AUTH_MODE": "disabled"}


@pytest.fixture(scope="module")
def ray_cluster():
    """A real local Ray cluster (head node started with `ray start`), stopped afterwards."""
    pytest.importorskip("ray")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray_bin = Path(sys.executable).parent / "ray"
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay under 108 bytes
    env = {**os.environ, **RAY_ENV}
    started = subprocess.run([str(ray_bin), "start", "--head", f"--port={port}", "--num-cpus=2",
                              "--include-dashboard=false", f"--temp-dir={temp}", "--disable-usage-stats"],
                             capture_output=True, text=True, env=env, timeout=180)
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_ray_executor_on_a_local_cluster_matches_the_local_run(suite, whole, tmp_path, ray_cluster):
    out = tmp_path / "ray"
    res = bench("run", str(suite), "--executor", "ray", "--ray-address", ray_cluster, "--out", str(out),
                "--no-progress", env=RAY_ENV)
    assert res.returncode == 0, res.stderr
    assert "ray: 2 CPUs, 0 GPUs" in res.stderr
    assert comparable(out / "leaderboard.json") == comparable(whole / "leaderboard.json")
    assert not list(out.rglob("*.tmp"))
    # a second run into the same directory resumes: nothing left to do on the cluster
    again = bench("run", str(suite), "--executor", "ray", "--ray-address", ray_cluster, "--out", str(out),
                  "--no-progress", env=RAY_ENV)
    assert again.returncode == 0 and "generated " not in again.stderr and "scored " not in again.stderr


@pytest.fixture(scope="module")
def replicated(suite, tmp_path_factory, tiny_model):
    """The same suite with two replicas of its model: scheduling options, so the same cells. Half a
    CPU each, so both replicas fit on the 2-CPU cluster beside an evaluation task."""
    path = tmp_path_factory.mktemp("replicated") / "s.toml"
    path.write_text(suite.read_text() + f'\n[models."hf:{tiny_model}"]\nreplicas = 2\ncpus = 0.5\n',
                    encoding="utf-8")
    return path


def generated(run: Path) -> dict[str, list]:
    return {f.stem: json.loads(f.read_text())["examples"] for f in sorted((run / "generations").glob("*.json"))}


def cache_keys(cache_dir: Path) -> set[str]:
    with sqlite3.connect(cache_dir / "cache.sqlite") as db:
        return {k for (k,) in db.execute("SELECT key FROM generations")}


@pytest.mark.slow
def test_ray_replicas_share_a_models_cells_and_match_the_local_run(replicated, whole, tmp_path, ray_cluster):
    out = tmp_path / "ray"
    res = bench("run", str(replicated), "--executor", "ray", "--ray-address", ray_cluster, "--out", str(out),
                "--no-progress", env=RAY_ENV)
    assert res.returncode == 0, res.stderr
    ran = dict(re.findall(r"ray: (\S+) ran on \S+ replica (\d) ", res.stderr))
    assert sorted(ran) == sorted(generated(whole)) and set(ran.values()) == {"1", "2"}, res.stderr
    assert comparable(out / "leaderboard.json") == comparable(whole / "leaderboard.json")
    assert generated(out) == generated(whole)
    # every cache entry reached the shared cache file through the driver; the snapshot is gone
    cache = Path(os.environ["BENCH_CACHE_DIR"])
    assert cache_keys(cache) == cache_keys(whole.parent / "cache")
    assert not list((cache / "ray").iterdir())
    # the workers' log lines reach the driver, named by replica and cell, without colour codes
    for replica in ("replica 1", "replica 2"):
        assert re.search(rf"\(hf:\S+ {replica} pid=\d+\) loading model", res.stderr), res.stderr
        assert re.search(rf"\(hf:\S+ {replica} pid=\d+\) \S+: generate ", res.stderr), res.stderr
    assert re.search(r"\(_evaluate pid=\d+\) \S+: evaluate ", res.stderr), res.stderr
    assert "\x1b[" not in res.stderr + res.stdout


@pytest.mark.slow
def test_a_lost_replica_costs_a_retry_not_the_run(replicated, whole, tmp_path, ray_cluster):
    from harness.executors.ray_cluster import KILL_MARKER_ENV

    marker = tmp_path / "kill-one-replica"
    marker.touch()  # the first replica to start its second cell exits mid-cell
    out = tmp_path / "ray"
    res = bench("run", str(replicated), "--executor", "ray", "--ray-address", ray_cluster, "--out", str(out),
                "--no-progress", env={**RAY_ENV, KILL_MARKER_ENV: str(marker)})
    assert res.returncode == 0, res.stderr
    assert not marker.exists() and "exiting mid-cell" in res.stderr
    assert "was restarted after losing its worker" in res.stderr, res.stderr
    written = re.findall(r"\] generated (\S+):", res.stderr)
    scored = re.findall(r"\] scored (\S+):", res.stderr)
    assert sorted(written) == sorted(generated(whole))  # each cell written exactly once
    assert len(scored) == len(set(scored)) == len(list((whole / "scores").glob("*.json")))
    assert comparable(out / "leaderboard.json") == comparable(whole / "leaderboard.json")
    assert generated(out) == generated(whole)


class _OnlyHere:
    """A plugin handed to `harness.api.run` in-process: no entry point names it, so a worker that
    discovered plugins itself would not know its strategy."""

    from harness.api import hookimpl

    @staticmethod
    @hookimpl
    def bench_register_strategies(register):
        from harness.api import ComposedStrategy, Recipe

        register(ComposedStrategy("only-in-this-registry", Recipe()))

    @staticmethod
    @hookimpl
    def bench_register_trackers(register):
        register(_CellsHeard())


class _CellsHeard(Tracker):
    """Keeps the ids of the cells it is told of, in the class (the run works on a copy)."""

    name = "cells-heard"
    heard: list = []

    def start(self, settings, uri):
        _CellsHeard.heard = []

    def cell(self, record):
        _CellsHeard.heard.append(record.id)

    def finish(self, leaderboard, files):
        pass


@pytest.mark.slow
def test_ray_workers_use_the_registry_the_caller_passed(suite, tmp_path, ray_cluster, monkeypatch):
    import harness.api as api

    for k, v in RAY_ENV.items():
        monkeypatch.setenv(k, v)
    reg = api.load_registry(extra=[("only-here", _OnlyHere)])
    board = api.run(suite, out=tmp_path / "r", registry=reg, executor="ray", ray_address=ray_cluster,
                    overrides={"tasks": ["sentiment"], "languages": ["sw"], "strategies": ["only-in-this-registry"],
                               "seeds": [0]}, track=["cells-heard"])
    assert [r.strategy for r in board.results] == ["only-in-this-registry"]
    assert board.results[0].generation.llm_calls > 0  # generated on the workers, with that strategy
    # cells computed on the workers are saved by the driver, which tells the trackers of each one
    saved = {r.cell_id for r in board.results} | {r.eval_id for r in board.results} | {g.eval_id for g in board.gold}
    assert set(_CellsHeard.heard) == saved and len(_CellsHeard.heard) == len(saved)


@pytest.mark.slow
def test_an_error_in_harness_or_plugin_code_is_not_retried(tmp_path, ray_cluster):
    missing = tmp_path / "no-such-model"
    bad = write_suite(tmp_path / "s.toml", f"hf:{missing}", extra=f'\n[models."hf:{missing}"]\ncpus = 0.5\n')
    res = bench("run", str(bad), "--executor", "ray", "--ray-address", ray_cluster, "--out", str(tmp_path / "r"),
                "--no-progress", env=RAY_ENV)
    assert res.returncode == 2 and "replica 1 failed to start on the Ray cluster" in res.stderr, res.stderr
    assert res.stderr.count(") loading model") <= 1  # one attempt: a load that raised is not repeated


def test_workers_read_a_snapshot_and_the_driver_merges_what_they_add(tmp_path):
    from harness.contracts import Completion

    main = Store(tmp_path / "cache.sqlite")
    main.put_generations("m", [("old", Completion("before", 1, 2, False))])
    snap = main.snapshot(tmp_path / "ray" / "snap.sqlite")
    main.put_generations("m", [("later", Completion("after the snapshot", 1, 1, None))])
    worker = OverlayStore(main.path, snap)
    assert worker.path == main.path and set(worker.get_generations(["old", "later"])) == {"old"}
    worker.put_generations("m", [("new", Completion("from a worker", 3, 4, True))])
    worker.put_embeddings("enc", ["t"], [[0.5, 1.0]])
    assert worker.get_generations(["old", "new"])["new"].text == "from a worker"
    rows = worker.take_new()
    assert {t: len(r) for t, r in rows.items()} == {"generations": 1, "embeddings": 1}
    assert worker.take_new() == {}  # each entry is handed over once
    assert main.merge(rows) == 2
    assert main.get_generations(["new"])["new"] == Completion("from a worker", 3, 4, True)
    assert main.get_embeddings("enc", ["t"])["t"].tolist() == [0.5, 1.0]
    # the snapshot was never written: opened immutable, a write fails
    with pytest.raises(sqlite3.OperationalError):
        worker.base.put_generations("m", [("x", Completion("x", 1, 1, None))])
    worker.close()


def test_replicas_default_to_the_gpus_the_cluster_holds_and_are_checked(tmp_path):
    from harness.api import COMMON_OPTIONS
    from harness.config.suite import load_suite
    from harness.executors.ray_cluster import default_replicas

    assert default_replicas({}, 1, 8) == 8 and default_replicas({}, 2, 5) == 2 and default_replicas({}, 4, 2) == 1
    assert default_replicas({}, 0, 8) == 1 and default_replicas({"replicas": 3}, 1, 8) == 3
    assert COMMON_OPTIONS["replicas"].identity is False  # more replicas never change a cell
    bad = write_suite(tmp_path / "s.toml", "gemma-3-270m", extra='\n[models."gemma-3-270m"]\nreplicas = 0\n')
    with pytest.raises(BenchError, match="replicas must be a positive integer"):
        load_suite(bad)


def test_unreachable_ray_address_is_one_clear_line(tmp_path, suite):
    pytest.importorskip("ray")
    res = bench("run", str(suite), "--executor", "ray", "--ray-address", "127.0.0.1:1", "--out", str(tmp_path / "r"),
                "--no-progress", timeout=300)
    assert res.returncode == 2 and "cannot connect to the Ray cluster at 127.0.0.1:1" in res.stderr


def test_ray_address_without_ray_executor_is_refused():
    out = bench("run", "--dry-run", "--ray-address", "auto")
    assert out.returncode == 2 and "--ray-address needs --executor ray" in out.stderr


def test_paper_grid_dry_run_plans_the_whole_grid():
    out = bench("run", "benchmarks/paper.toml", "--dry-run", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    # 32 task-language pairs with a test set (Welsh sentiment has none) x 4 LLMs x 8 strategies, less the
    # 4 target-demo strategies x 4 LLMs that Slovenian sentiment (no gold train) cannot run
    assert len(plan["generation_cells"]) == 32 * 4 * 8 - 4 * 4 == 1008
    assert {c["classifier"] for c in plan["evaluation_cells"]} == {"finetune"} and plan["seeds"] == list(range(10))
    assert len(plan["evaluation_cells"]) == 1008 + 31  # one per generation cell, plus 31 gold baselines
    sharded = json.loads(bench("run", "benchmarks/paper.toml", "--dry-run", "--json", "--shard", "3/16").stdout)
    assert 0 < len(sharded["evaluation_cells"]) < 100 and sharded["shard"] == "3/16"
