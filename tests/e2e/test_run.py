"""`bench run` end to end with a tiny random-weight model: the run directory, resume after kill -9,
determinism, the leaderboard schema, and the bad inputs a user will hit."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from boards import without_clocks

from conftest import ROOT, bench, fresh_cache, write_suite
from harness.results.leaderboard import validation_error


@pytest.fixture
def suite(tmp_path, tiny_model):
    return write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", tasks=["sentiment", "massive10"], languages=["sw", "sl"],
                       strategies=["zero-shot", "target-demos"], per_class=3)


def results(path):
    """A leaderboard's rows without clocks and attempt counts, the only execution-dependent numbers."""
    board = json.loads(path.read_text())
    return without_clocks(board["results"], ("attempts",)), board["gold"], board["unavailable"]


def test_run_writes_a_valid_leaderboard_with_gaps(suite, tmp_path):
    out = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress")
    assert out.returncode == 0, out.stderr
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert validation_error(board) is None
    keyed = {(r["task"], r["language"], r["strategy"]): r for r in board["results"]}
    # Slovenian sentiment: no gold train, so no demos and no baseline, but zero-shot still runs
    assert ("sentiment", "sl", "zero-shot") in keyed and ("sentiment", "sl", "target-demos") not in keyed
    assert keyed[("sentiment", "sl", "zero-shot")]["gap_to_gold"] is None
    assert any(u["language"] == "sl" and u["strategy"] == "gold" for u in board["unavailable"])
    r = keyed[("massive10", "sw", "target-demos")]
    assert r["language_iso"] == "swh_Latn" and r["gold"]["train_size"] == 30
    if r["scores"]:
        assert len(r["scores"]["per_seed"]) == 2
        expected = 100 * (r["gold"]["macro_f1"]["mean"] - r["scores"]["macro_f1"]["mean"])
        assert r["gap_to_gold"]["points"]["mean"] == pytest.approx(expected)
    assert r["generation"]["llm_calls"] >= 1 and r["generation"]["requested"] == 30
    assert board["summaries"]["by_strategy"] and board["manifest"]["seeds"] == [0, 1]
    # plain log lines, no progress-bar escape codes, in a non-TTY
    assert "\x1b[" not in out.stderr and "leaderboard written" in out.stderr
    assert bench("validate", str(tmp_path / "run")).returncode == 0


def test_kill_9_then_resume_matches_an_uninterrupted_run(suite, tmp_path):
    env = {**os.environ, "BENCH_CACHE_DIR": str(fresh_cache(tmp_path / "cache-a"))}
    run_dir = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(suite), "--out", str(run_dir),
                             "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and not list((run_dir / "generations").glob("*.json")):
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of the next cell
    proc.wait()
    done_before = sorted(p.name for p in (run_dir / "generations").glob("*.json"))
    assert not (run_dir / "leaderboard.json").exists()
    resumed = bench("run", str(suite), "--out", str(run_dir), "--no-progress",
                    env={"BENCH_CACHE_DIR": str(fresh_cache(tmp_path / "cache-a"))})
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: " in resumed.stderr
    assert not list(run_dir.rglob("*.tmp"))
    assert set(done_before) <= {p.name for p in (run_dir / "generations").glob("*.json")}

    fresh = bench("run", str(suite), "--out", str(tmp_path / "fresh"), "--no-progress",
                  env={"BENCH_CACHE_DIR": str(fresh_cache(tmp_path / "cache-b"))})
    assert fresh.returncode == 0, fresh.stderr
    a, b = results(run_dir / "leaderboard.json"), results(tmp_path / "fresh" / "leaderboard.json")
    assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2]
    ids = [r["eval_id"] for r in a[0]]
    assert len(ids) == len(set(ids))


def test_rerun_of_a_finished_run_makes_no_llm_call(suite, tmp_path, tiny_model):
    first = bench("run", str(suite), "--out", str(tmp_path / "r1"), "--no-progress")
    assert first.returncode == 0, first.stderr
    second = bench("run", str(suite), "--out", str(tmp_path / "r2"), "--no-progress")  # same cache, new dir
    board = json.loads((tmp_path / "r2" / "leaderboard.json").read_text())
    assert second.returncode == 0 and all(r["generation"]["engine_calls"] == 0 for r in board["results"])
    # provenance: what generated the cells, the same identity in both runs
    ident = board["manifest"]["models"][f"hf:{tiny_model}"]
    assert ident["backend"] == "transformers" and ident["device_kind"] == "cpu" and ident["dtype"] == "float32"
    assert ident["weights"]["source"] == "local" and ident["quantization"] is None
    assert json.loads((tmp_path / "r1" / "leaderboard.json").read_text())["manifest"]["models"] == board["manifest"]["models"]
    assert all(r["generation"]["model_identity"] == ident for r in board["results"] if r.get("generation"))
    assert results(tmp_path / "r1" / "leaderboard.json")[0][0]["scores"] == board["results"][0]["scores"]


def test_dry_run_prints_the_plan_without_loading_a_model(tmp_path):
    out = bench("run", "--models", "hf:/no/such/model", "--languages", "sl,cy", "--tasks", "sentiment", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "sentiment/cy strategy=* model=*: Welsh has no sentiment data" in out.stdout
    assert "expected LLM calls" in out.stdout
    plan = json.loads(bench("run", "--dry-run", "--json", "--all").stdout)
    assert len(plan["generation_cells"]) > 100 and plan["unavailable"]


@pytest.mark.parametrize("args, message", [
    (["--tasks", "sentimnt"], "unknown task 'sentimnt'; did you mean 'sentiment'?"),
    (["--languages", "xx-YY"], "unknown language 'xx-YY'"),
    (["--classifiers", "e5-logres"], "did you mean 'e5-logreg'?"),
    (["--models", "gemma-3-270"], "did you mean 'gemma-3-270m'?"),
    (["--seeds", "a,b"], "--seeds 'a,b' must be a count"),
    (["--per-class", "0"], "per_class must be at least 1"),
])
def test_bad_input_is_one_clear_line(args, message):
    out = bench("run", "--dry-run", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr


def test_out_dir_with_other_settings_is_refused_and_left_intact(suite, tmp_path):
    run_dir = tmp_path / "run"
    assert bench("run", str(suite), "--out", str(run_dir), "--no-progress").returncode == 0
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    out = bench("run", str(suite), "--out", str(run_dir), "--per-class", "4", "--no-progress")
    assert out.returncode == 2 and "holds a run with different settings (per_class differ)" in out.stderr
    assert before == {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def test_missing_data_is_one_line(suite, tmp_path):
    out = bench("run", str(suite), "--out", str(tmp_path / "r"), "--data-dir", str(tmp_path / "nowhere"), "--no-progress")
    assert out.returncode == 2 and "gold data directory" in out.stderr and "Traceback" not in out.stderr


def test_validate_points_at_the_failing_path(suite, tmp_path):
    assert bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress").returncode == 0
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    board["gold"][0]["scores"]["per_seed"][0]["macro_f1"] = 1.7
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(board))
    out = bench("validate", str(bad))
    assert out.returncode == 2
    assert "$.gold[0].scores.per_seed[0].macro_f1: 1.7 is greater than the maximum of 1" in out.stderr


def test_summarizer_writes_summaries_first_and_loads_only_when_needed(tmp_path, tiny_model):
    import shutil

    other = tmp_path / "summarizer-model"
    shutil.copytree(tiny_model, other)
    suite = write_suite(tmp_path / "s.toml", f"hf:{tiny_model}", strategies=["sl", "zero-shot"])
    text = suite.read_text().replace("[generation]", f'[generation]\nsummarizer = "hf:{other}"')
    suite.write_text(text)
    out = bench("run", str(suite), "--out", str(tmp_path / "run"), "--no-progress")
    assert out.returncode == 0, out.stderr
    loads = [line.split("loading model ")[1] for line in out.stderr.splitlines() if "loading model " in line]
    assert loads == [f"hf:{other}", f"hf:{tiny_model}"]  # the summarizer first, alone, once
    summaries = list((tmp_path / "run" / "summaries").glob("*.json"))
    assert len(summaries) == 1 and json.loads(summaries[0].read_text())["model"] == f"hf:{other}"
    # without a strategy that uses summaries, the summarizer is never loaded
    zs = suite.read_text().replace('strategies = ["sl", "zero-shot"]', 'strategies = ["zero-shot"]')
    suite.write_text(zs)
    out = bench("run", str(suite), "--out", str(tmp_path / "run2"), "--no-progress")
    assert out.returncode == 0, out.stderr
    assert f"loading model hf:{other}" not in out.stderr
