"""Experiment trackers: a tracker hears of the run's start, of every cell as it is saved and of the
leaderboard at the end; one that fails in any way (a bad address, an exception at any step) is one
warning line and the run finishes as it would have without it."""

from __future__ import annotations

import json
import time
import types
from collections import Counter

import pytest
from fakes import FakeEngine, prompt_text

from harness.api import Classifier, ModelSpec, Suite, Tracker, hookimpl
from harness.errors import BenchError
from harness.pipeline import run as pipeline
from harness.registry.discovery import load_registry
from harness.results.leaderboard import validate_file
from harness.store.cache import digest
from harness.tracking import parse_track


def scripted():
    """Replies that depend on the request alone, each a fresh Swahili-ish line."""
    def reply(r, i):
        return "\n".join(f"Sentensi {digest([prompt_text(r), r.seed, i, j])[:6]} ya leo" for j in range(3))

    return FakeEngine(reply, fingerprint="scripted@1", batch_size=8)


class Majority(Classifier):
    """The most frequent training label for every text: a fit in no time, so a whole run takes seconds."""

    name = "majority"
    deterministic = True

    def fit_predict(self, train, test_texts, labels, ctx):
        return [Counter(e.label for e in train).most_common(1)[0][0]] * len(test_texts)


class Recorder(Tracker):
    """Keeps what it is told, in the class (each run works on a copy)."""

    name = "recorder"
    calls: list = []

    def start(self, settings, uri):
        Recorder.calls.append(("start", settings, uri))

    def cell(self, record):
        Recorder.calls.append(("cell", record))

    def finish(self, leaderboard, files):
        Recorder.calls.append(("finish", leaderboard, files))

    def abort(self, reason):
        Recorder.calls.append(("abort", reason))


class Failing(Tracker):
    """Raises at one step (`SystemExit` at finish: a plugin calling sys.exit must not end the run)."""

    description = "fails on purpose"

    def __init__(self, name, at, exc=RuntimeError):
        self.name, self.at, self.exc = name, at, exc
        self.cells = 0

    def _maybe(self, step):
        if step == self.at:
            raise self.exc(f"{self.name} broke at {step}")

    def start(self, settings, uri):
        self._maybe("start")

    def cell(self, record):
        self.cells += 1
        self._maybe("cell")

    def finish(self, leaderboard, files):
        self._maybe("finish")


def plugin(*trackers):
    mod = types.ModuleType("tracker_test_plugin")
    mod.bench_register_models = hookimpl(lambda register: register(ModelSpec("scripted", lambda arg, o: scripted(),
                                                                             "scripted replies")))
    mod.bench_register_classifiers = hookimpl(lambda register: register(Majority()))
    mod.bench_register_trackers = hookimpl(lambda register: [register(t) for t in trackers])
    return mod


def suite():
    return Suite(name="tracked", tasks=["massive10"], languages=["sw"], strategies=["zero-shot"], models=["scripted"],
                 classifiers=["majority"], per_class=4, seeds=[0, 1], calls_per_class=2)


@pytest.fixture
def reg():
    return load_registry(extra=[("tracked", plugin(Recorder(), Failing("bad-start", "start"),
                                                   Failing("bad-cell", "cell"),
                                                   Failing("bad-finish", "finish", SystemExit)))])


def warnings_in(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("bench: warning: tracker")]


def test_a_tracker_hears_the_start_every_cell_and_the_leaderboard_and_failing_ones_cost_one_line(reg, tmp_path, capsys):
    Recorder.calls = []
    track = ["recorder", "bad-start:http://nowhere", "bad-cell", "bad-finish"]
    prepared = pipeline.prepare(suite(), registry=reg, track=track)
    returned = pipeline.execute(prepared, out=tmp_path / "run", cache_dir=tmp_path / "cache")
    path = tmp_path / "run" / "leaderboard.json"
    board = validate_file(path)  # the run is whole whatever the trackers did
    assert returned.to_json() == board.to_json()  # what execute returns is what it wrote
    assert board.results and board.gold
    lines = warnings_in(capsys.readouterr().err)
    assert len(lines) == 3, lines
    assert "'bad-start' failed to start (http://nowhere): RuntimeError: bad-start broke at start" in lines[0]
    assert "'bad-cell' failed to record a cell" in lines[1] and "'bad-finish' failed to finish: SystemExit" in lines[2]
    assert all(line.endswith("the run goes on without it") for line in lines)
    bad_cell = next(t for t, _ in prepared.trackers if t.name == "bad-cell")
    assert bad_cell.cells == 1  # dropped after its first failure: not called for every cell

    (_, settings, uri), *cells, (_, finished, files) = Recorder.calls
    assert uri is None
    assert settings["suite"] == "tracked" and settings["settings"]["per_class"] == 4
    assert settings["settings_hash"] == board.manifest.settings_hash and settings["plan_hash"] == prepared.plan.plan_hash
    assert settings["out"] == str((tmp_path / "run").resolve())
    assert settings["grid"] == {"tasks": ["massive10"], "languages": ["sw"], "strategies": ["zero-shot"],
                                "models": ["scripted"], "classifiers": ["majority"]}
    kinds = [c[1].kind for c in cells]
    assert kinds.count("generation") == len(prepared.plan.gen_cells) == 1
    assert kinds.count("evaluation") == len(prepared.plan.eval_cells) == 2
    gen = next(c[1] for c in cells if c[1].kind == "generation")
    assert gen.stats.accepted == board.results[0].generation.accepted
    ev = next(c[1] for c in cells if c[1].kind == "evaluation" and c[1].strategy == "zero-shot")
    assert [s.seed for s in ev.per_seed] == [0, 1]
    assert ev.per_seed[0].macro_f1 == board.results[0].scores.per_seed[0].macro_f1
    assert finished.to_json() == board.to_json()
    assert files == {"leaderboard": path, "report": tmp_path / "run" / "report.md"}
    assert files["report"].read_text(encoding="utf-8").startswith("# Leaderboard: tracked")


def test_without_a_tracker_no_report_is_written(reg, tmp_path):
    pipeline.execute(pipeline.prepare(suite(), registry=reg), out=tmp_path / "run", cache_dir=tmp_path / "c")
    assert (tmp_path / "run" / "leaderboard.json").is_file() and not (tmp_path / "run" / "report.md").exists()


def test_a_run_that_fails_aborts_its_trackers_and_one_refused_before_it_starts_tells_them_nothing(reg, tmp_path):
    Recorder.calls = []
    broken = types.ModuleType("broken_engine")
    broken.bench_register_models = hookimpl(lambda register: register(ModelSpec(
        "broken", lambda arg, o: FakeEngine("x", fail_after=0), "fails at once")))
    reg2 = load_registry(extra=[("tracked", plugin(Recorder())), ("broken", broken)])
    failing = suite()
    failing.models = ["broken"]
    with pytest.raises(RuntimeError, match="engine lost"):
        pipeline.execute(pipeline.prepare(failing, registry=reg2, track=["recorder"]), out=tmp_path / "run",
                         cache_dir=tmp_path / "c")
    assert [c[0] for c in Recorder.calls] == ["start", "abort"]
    assert Recorder.calls[1][1] == "RuntimeError: engine lost"

    Recorder.calls = []
    other = suite()
    other.per_class = 5  # other settings into the same directory: refused before anything runs
    with pytest.raises(BenchError):
        pipeline.execute(pipeline.prepare(other, registry=reg2, track=["recorder"]), out=tmp_path / "run",
                         cache_dir=tmp_path / "c")
    assert Recorder.calls == []


def test_an_unknown_tracker_is_one_line_with_the_nearest_name(reg):
    with pytest.raises(BenchError, match=r"unknown tracker 'mlfow'; did you mean 'mlflow'\?") as err:
        pipeline.prepare(suite(), registry=reg, track=["mlfow:http://localhost:5000"])
    assert "\n" not in str(err.value)
    with pytest.raises(BenchError, match="names no tracker"):
        pipeline.prepare(suite(), registry=reg, track=[":http://localhost:5000"])


def test_a_tracker_spec_keeps_everything_after_the_first_colon():
    assert parse_track("mlflow") == ("mlflow", None)
    assert parse_track("mlflow:") == ("mlflow", None)
    assert parse_track("mlflow:http://127.0.0.1:5000") == ("mlflow", "http://127.0.0.1:5000")
    assert parse_track("mlflow:file:///tmp/mlruns") == ("mlflow", "file:///tmp/mlruns")


def test_each_run_and_each_track_flag_gets_its_own_copy(reg):
    prepared = pipeline.prepare(suite(), registry=reg, track=["recorder:a", "recorder:b"])
    (one, a), (two, b) = prepared.trackers
    assert (a, b) == ("a", "b") and one is not two and reg.trackers["recorder"] not in (one, two)


def test_trackers_are_registered_like_everything_else_a_name_clash_and_a_broken_hook_skipped():
    clash = types.ModuleType("clash")
    clash.bench_register_trackers = hookimpl(lambda register: register(Recorder()) or register(Failing("mlflow", "x")))
    broken = types.ModuleType("broken")

    def boom(register):
        register(Failing("half", "x"))
        raise ValueError("no")

    broken.bench_register_trackers = hookimpl(boom)
    wrong = types.ModuleType("wrong")
    wrong.bench_register_trackers = hookimpl(lambda register: register(object()))
    with pytest.warns(UserWarning):
        reg = load_registry(extra=[("clash", clash), ("broken", broken), ("wrong", wrong)])
    info = {p.name: p for p in reg.plugins}
    assert reg.plugin_of("trackers", "mlflow") == "trackers"  # the built-in keeps its name
    assert info["clash"].registered == {"trackers": ["recorder"]}
    assert info["clash"].conflicts == ["tracker 'mlflow' already registered by plugin 'trackers'; this one skipped"]
    assert "half" not in reg.trackers and "register trackers: ValueError: no" in info["broken"].error
    assert "trackers must be Tracker objects, got object" in info["wrong"].error


def test_bench_run_with_an_mlflow_server_that_is_down_warns_once_and_exits_0(reg, tmp_path, monkeypatch, capsys):
    """Port 9 (discard) is closed: the tracker finds out in well under a second, not after MLflow's retries."""
    from harness.cli import common
    from harness.cli.main import main

    monkeypatch.setattr(common, "registry", lambda args: reg)
    (tmp_path / "suite.toml").write_text(
        '[suite]\nname = "tracked"\n[grid]\ntasks = ["massive10"]\nlanguages = ["sw"]\nstrategies = ["zero-shot"]\n'
        'models = ["scripted"]\nclassifiers = ["majority"]\n[generation]\nper_class = 4\ncalls_per_class = 2\n'
        '[evaluation]\nseeds = 1\n', encoding="utf-8")
    started = time.monotonic()
    code = main(["run", str(tmp_path / "suite.toml"), "--out", str(tmp_path / "run"), "--no-progress",
                 "--cache-dir", str(tmp_path / "c"), "--track", "mlflow:http://127.0.0.1:9"])
    assert code == 0
    err = capsys.readouterr().err
    (line,) = warnings_in(err)
    assert line.startswith("bench: warning: tracker 'mlflow' failed to start (http://127.0.0.1:9): ConnectionError: "
                           "cannot reach the MLflow server at http://127.0.0.1:9")
    assert json.loads((tmp_path / "run" / "leaderboard.json").read_text())["results"]
    assert (tmp_path / "run" / "report.md").is_file()
    assert time.monotonic() - started < 60


# -- the built-in MLflow tracker, against a real MLflow file store ----------------------------------

@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    """A file store in a temporary directory (MLflow 3 asks for MLFLOW_ALLOW_FILE_STORE to use one),
    with nothing of the environment's MLflow settings."""
    pytest.importorskip("mlflow")
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    return (tmp_path / "mlruns").as_uri()


def test_mlflow_gets_the_settings_a_metric_set_per_row_and_the_files(reg, tmp_path, mlflow_store, capsys):
    from mlflow import MlflowClient

    pipeline.execute(pipeline.prepare(suite(), registry=reg, track=[f"mlflow:{mlflow_store}"]),
                     out=tmp_path / "run", cache_dir=tmp_path / "c")
    path = tmp_path / "run" / "leaderboard.json"
    assert not warnings_in(capsys.readouterr().err)
    board = validate_file(path)
    client = MlflowClient(tracking_uri=mlflow_store)
    experiment = client.get_experiment_by_name("lowres-bench/tracked")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    params, metrics = run.data.params, run.data.metrics
    assert params["settings.per_class"] == "4" and params["settings.sampling.temperature"] == str(suite().sampling.temperature)
    assert params["settings_hash"] == board.manifest.settings_hash and params["grid.models"] == '["scripted"]'
    assert params["out"] == str((tmp_path / "run").resolve()) and run.data.tags["bench.suite"] == "tracked"
    row, gold = board.results[0], board.gold[0]
    key = "massive10.sw.zero-shot.scripted.majority"
    assert metrics[f"{key}/macro_f1"] == pytest.approx(row.scores.macro_f1.mean)
    assert metrics[f"{key}/accuracy"] == pytest.approx(row.scores.accuracy.mean)
    assert metrics[f"{key}/gap_to_gold_points"] == pytest.approx(row.gap_to_gold.points.mean)
    assert metrics["massive10.sw.gold.majority/macro_f1"] == pytest.approx(gold.scores.macro_f1.mean)
    assert "massive10.sw.gold.majority/gap_to_gold_points" not in metrics
    assert metrics["massive10.sw.zero-shot.scripted/accepted"] == row.generation.accepted
    seeds = client.get_metric_history(run.info.run_id, f"{key}/seed_macro_f1")
    assert sorted(m.step for m in seeds) == [0, 1]
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"leaderboard.json", "report.md"}
    copy = client.download_artifacts(run.info.run_id, "leaderboard.json", str(tmp_path / "down"))
    assert json.loads(open(copy, encoding="utf-8").read()) == json.loads(path.read_text(encoding="utf-8"))


def test_mlflow_names_are_made_safe_and_long_values_cut(tmp_path, mlflow_store):
    from mlflow import MlflowClient

    from plugins.trackers.mlflow_tracker import MlflowTracker, flatten, safe

    assert safe("target-demos+sl") == "target-demos_sl" and safe("hf:org/model@x") == "hf_org_model_x"
    assert flatten({"a": {"b": 1, "c": [0, 1], "d": {}}, "e": None, "f": "x"}) == \
        {"a.b": "1", "a.c": "[0, 1]", "a.d": "{}", "e": "null", "f": "x"}
    tracker = MlflowTracker()
    tracker.start({"suite": "s", "settings_hash": "h", "plan_hash": "p", "out": str(tmp_path / "o"),
                   "settings": {"model_sampling": {"openai:gpt@http://h:1/v1": {"top_p": 0.5}}, "long": "x" * 9000}},
                  mlflow_store)
    assert tracker.key("t", "l", "s+1", "m") != tracker.key("t", "l", "s:1", "m")  # both "t.l.s_1.m" at first
    tracker.abort("interrupted")
    run = MlflowClient(tracking_uri=mlflow_store).get_run(tracker.run_id)
    assert run.info.status == "KILLED" and run.data.tags["bench.error"] == "interrupted"
    assert run.data.params["settings.model_sampling.openai_gpt_http___h_1_v1.top_p"] == "0.5"
    long = run.data.params["settings.long"]
    assert long.endswith("…") and 500 <= len(long) <= 6000 and set(long[:-1]) == {"x"}
