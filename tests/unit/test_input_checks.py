"""Command-line values go through the same checks as suite files, and every mistake in a suite, a
flag or a gold file is one line that names it (exit 2), never a traceback or a silent default."""

from __future__ import annotations

import json

import pytest

from conftest import bench, write_suite
from harness.cli.run import parse_seeds as _parse_seeds
from harness.config.suite import Suite, check, load_suite
from harness.errors import BenchError, DataError
from harness.kits.tasks.files import read_jsonl, read_rows
from harness.pipeline.plan import apply_filters


def _one_line_error(out, *needles: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


# -- command-line values -------------------------------------------------------------------------

@pytest.mark.parametrize("text", [",", " , ", "1,,2", "0,x"])
def test_seed_lists_with_empty_or_bad_items_are_refused(text):
    with pytest.raises(BenchError, match=r"--seeds .* must be a count"):
        _parse_seeds(text)
    assert _parse_seeds("0,1,7") == [0, 1, 7] and _parse_seeds("3") == [0, 1, 2]


def test_empty_seeds_fail_the_shared_check():
    assert any(key == "seeds" for key, _, _ in check(Suite(seeds=[])))


@pytest.mark.parametrize("args, needles", [
    (["--seeds", ","], ["--seeds ','", "comma list"]),
    (["--per-class", "0"], ["--per-class 0: per_class must be at least 1"]),
    (["--replicates", "0"], ["--replicates 0: replicates must be at least 1"]),
    (["--seeds", "1,1"], ["--seeds '1,1': seeds must not repeat"]),
    (["--tasks", ""], ["--tasks ''", "names no tasks"]),
    (["--classifiers", ","], ["--classifiers ','", "names no classifiers"]),
])
def test_bad_run_options_fail_at_once_naming_the_option(args, needles, tmp_path):
    suite = write_suite(tmp_path / "s.toml", "gemma-3-270m")
    _one_line_error(bench("run", str(suite), *args, "--dry-run", "--out", str(tmp_path / "run")), *needles)
    assert not (tmp_path / "run").exists()


def test_an_empty_axis_is_not_the_suites_list():
    for axis, value in (("tasks", ""), ("classifiers", ","), ("languages", " , ")):
        with pytest.raises(BenchError, match=f"--{axis} .* names no {axis}"):
            apply_filters(Suite(), {axis: value})
    assert apply_filters(Suite(), {"tasks": None}).tasks == ["*"]  # an option left out keeps the suite's


def test_the_default_suite_still_runs_with_no_argument(data_dir):
    out = bench("run", "--dry-run", "--json", "--data-dir", str(data_dir))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["evaluation_cells"]


# -- suite files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", '[suite]\nname = "x"\n', "[generation]\nper_class = 5\n"])
def test_a_suite_without_a_grid_is_refused_rather_than_running_everything(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BenchError, match=r"s.toml:1: no \[grid\] section"):
        load_suite(path)
    _one_line_error(bench("run", str(path), "--dry-run"), "no [grid] section")


def test_a_suite_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b'[suite]\nname = "caf\xe9"\n')
    with pytest.raises(BenchError, match=r"suite file .*s.toml is not valid UTF-8"):
        load_suite(path)
    _one_line_error(bench("run", str(path), "--dry-run"), "s.toml is not valid UTF-8")


@pytest.mark.parametrize("option, value, says", [
    ("batch_size", '"big"', "batch_size must be a positive integer, not str 'big'"),
    ("batch_size", "0", "batch_size must be a positive integer"),
    ("max_model_len", "4096.5", "max_model_len must be a positive integer"),
    ("gpus", '"one"', "gpus must be a number of GPUs"),
    ("cpus", "-1", "cpus must be a number of CPUs"),
])
def test_a_model_option_of_the_wrong_type_is_one_line(tmp_path, option, value, says):
    path = write_suite(tmp_path / "s.toml", "gemma-3-270m", extra=f'\n[models."gemma-3-270m"]\n{option} = {value}\n')
    line = path.read_text().splitlines().index(f"{option} = {value}") + 1
    with pytest.raises(BenchError, match=rf"s.toml:{line}: \[models.\"gemma-3-270m\"\] {says}"):
        load_suite(path)


@pytest.mark.parametrize("option, value, says", [
    ("timeout", "true", "timeout must be a number of seconds"),
    ("connect_timeout", "0", "connect_timeout must be a number of seconds, more than 0"),
    ("max_retries", "-1", "max_retries must be an integer, 0 or more"),
])
def test_an_engines_own_option_of_the_wrong_type_fails_the_dry_run(tmp_path, option, value, says):
    model = "openai:m@http://localhost:8000/v1"  # declared by the engine (plugins/models/options.py), not the core
    path = write_suite(tmp_path / "s.toml", model, extra=f'\n[models."{model}"]\n{option} = {value}\n')
    line = path.read_text().splitlines().index(f"{option} = {value}") + 1
    _one_line_error(bench("run", str(path), "--dry-run"), f's.toml:{line}: [models."{model}"] {option} {says[len(option) + 1:]}')


def test_option_checks_apply_to_classifiers_and_to_suites_built_elsewhere(tmp_path):
    path = write_suite(tmp_path / "s.toml", "gemma-3-270m", extra='\n[classifiers."finetune"]\ngpus = "all"\n')
    with pytest.raises(BenchError, match=r'\[classifiers."finetune"\] gpus must be'):
        load_suite(path)
    suite = Suite(model_options={"hf:x": {"batch_size": "8"}})  # e.g. rebuilt from a dict on a worker
    assert [p[0] for p in check(suite)] == ["batch_size"]
    fine = write_suite(tmp_path / "ok.toml", "gemma-3-270m",
                       extra='\n[models."gemma-3-270m"]\nbatch_size = 8\ngpus = 0.5\nmy_plugin_option = "x"\n')
    assert load_suite(fine).model_options["gemma-3-270m"]["gpus"] == 0.5


@pytest.mark.parametrize("model, table, says", [
    ("gemma-3-270m", "batch_sise = 8", "has no option 'batch_sise'; did you mean 'batch_size'?"),
    ("gemma-3-270m", "timeout = 5", "has no option 'timeout'; valid: batch_size, cpus, device"),  # a server's option
    ("hf:some/model", "tensor_parallel_size = 2", "has no option 'tensor_parallel_size'"),  # vLLM's, not hf's
    ("openai:m@http://localhost:8000/v1", "max_retrys = 3", "has no option 'max_retrys'; did you mean 'max_retries'?"),
])
def test_an_option_the_engine_does_not_declare_fails_the_dry_run(tmp_path, model, table, says):
    path = write_suite(tmp_path / "s.toml", model, extra=f'\n[models."{model}"]\n{table}\n')
    line = path.read_text().splitlines().index(table) + 1
    _one_line_error(bench("run", str(path), "--dry-run"), f"s.toml:{line}: [models.\"{model}\"] {says}")


def test_options_every_engine_declares_or_takes_pass(tmp_path):
    model = "vllm:some/model"
    path = write_suite(tmp_path / "s.toml", model, extra=f'\n[models."{model}"]\ntensor_parallel_size = 2\n'
                       'gpus = 2\nreplicas = 3\nquantization = "gptq"\n')
    assert bench("run", str(path), "--dry-run").returncode == 0


def test_an_option_table_for_an_unknown_model_names_the_nearest(tmp_path):
    path = write_suite(tmp_path / "s.toml", "gemma-3-270m", extra='\n[models."gemma-3-27m"]\nbatch_size = 8\n')
    line = path.read_text().splitlines().index('[models."gemma-3-27m"]') + 1
    _one_line_error(bench("run", str(path), "--dry-run"), f"s.toml:{line}:", "did you mean 'gemma-3-270m'?")


@pytest.mark.parametrize("address, says", [
    ("openai:m@localhost:8000/v1", "must look like openai:<model>@http://host:port/v1"),
    ("openai:m@http://localhost:99999/v1", "out of range"),
    ("openai:m@http://:8000/v1", "no host"),
    ("openai:@http://localhost:8000/v1", "must look like"),
])
def test_a_malformed_server_address_fails_the_dry_run(address, says):
    _one_line_error(bench("run", "--dry-run", "--models", address), says)


# -- gold files ----------------------------------------------------------------------------------

LABELS = ["pos", "neg"]


def _jsonl(tmp_path, *lines: str):
    path = tmp_path / "g.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("bad, says", [
    ('{"text": null, "label": "pos"}', "'text' is null"),
    ('{"text": "   ", "label": "pos"}', "empty text"),
    ('{"text": "", "label": "pos"}', "empty text"),
    ('{"text": "fine", "label": null}', "'label' is null"),
    ('{"text": ["a"], "label": "pos"}', "'text' must be a string"),
    ('["fine", "pos"]', "malformed row"),
    ('{"label": "pos"}', "malformed row"),
])
def test_the_jsonl_loader_rejects_what_the_csv_loader_rejects(tmp_path, bad, says):
    path = _jsonl(tmp_path, '{"text": "good", "label": "pos"}', bad)
    with pytest.raises(DataError, match=rf"g.jsonl:2: .*{says}" if says == "malformed row" else rf"g.jsonl:2: {says}"):
        read_jsonl(path, "text", "label", LABELS)
    assert read_jsonl(_jsonl(tmp_path, '{"text": "good", "label": "pos"}'), "text", "label", LABELS)[0].text == "good"


def test_the_csv_loader_rejects_an_empty_text(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("text,label\ngood,pos\n,neg\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"g.csv:3: empty text"):
        read_rows(path, "text", "label", LABELS)


def test_gold_files_that_are_not_utf8_are_named_with_their_line(tmp_path):
    csv_path = tmp_path / "g.csv"
    csv_path.write_bytes(b"text,label\ngood,pos\ncaf\xe9,neg\n")
    with pytest.raises(DataError, match=r"g.csv:3: not valid UTF-8"):
        read_rows(csv_path, "text", "label", LABELS)
    jsonl_path = tmp_path / "g.jsonl"
    jsonl_path.write_bytes(b'{"text": "good", "label": "pos"}\n{"text": "caf\xe9", "label": "neg"}\n')
    with pytest.raises(DataError, match=r"g.jsonl:2: not valid UTF-8"):
        read_jsonl(jsonl_path, "text", "label", LABELS)


def test_a_bug_exits_3_with_its_traceback_never_1(monkeypatch, capsys, tmp_path):
    """Exit 1 means "compare found a regression" to CI; an unexpected exception must not look like one."""
    import harness.results.leaderboard
    from harness.cli.main import main

    def broken(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(harness.results.leaderboard, "validate_file", broken)
    assert main(["validate", str(tmp_path / "x.json")]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err and "bench: internal error" in err
    monkeypatch.undo()
    assert main(["validate", str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_environment_overrides_the_suite_data_dir_and_the_flag_overrides_both(tmp_path, data_dir):
    missing = tmp_path / "nowhere"
    # the default suite names ../shared/data; BENCH_DATA_DIR is the nearer word
    _one_line_error(bench("run", "--dry-run", env={"BENCH_DATA_DIR": str(missing)}), f"{missing} does not exist")
    ok = bench("run", "--dry-run", "--data-dir", str(data_dir), env={"BENCH_DATA_DIR": str(missing)})
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("args, says", [
    (["run", "--bogus"], "unrecognized arguments: --bogus"),
    (["nope"], "invalid choice: 'nope'"),
    (["run", "--per-class", "x"], "invalid int value: 'x'"),
    (["compare"], "the following arguments are required"),
])
def test_a_command_line_argparse_refuses_is_one_line_too(args, says):
    _one_line_error(bench(*args), says, "--help`")


# -- explicit grids ------------------------------------------------------------------------------

_NO_STRATEGIES = '[suite]\nname = "two"\n\n[grid]\ntasks = ["sentiment"]\nlanguages = ["sw"]\nmodels = ["gemma-3-270m"]\n' \
                 'classifiers = ["tfidf-logreg"]\n'


def test_a_grid_without_an_axis_names_it_and_the_two_ways_to_say_all(tmp_path, data_dir):
    path = tmp_path / "s.toml"
    path.write_text(_NO_STRATEGIES, encoding="utf-8")
    with pytest.raises(BenchError, match=r's.toml:4: \[grid\] has no strategies line; .*strategies = \["\*"\].*'
                                         r"`bench run --all`"):
        load_suite(path)
    _one_line_error(bench("run", str(path), "--dry-run", "--data-dir", str(data_dir)), "has no strategies line")
    path.write_text('[grid]\ntasks = ["sentiment"]\n', encoding="utf-8")
    with pytest.raises(BenchError, match=r"has no languages line;.* also missing: strategies, models, classifiers"):
        load_suite(path)


def test_an_axis_given_on_the_command_line_or_as_star_completes_the_grid(tmp_path, data_dir):
    path = tmp_path / "s.toml"
    path.write_text(_NO_STRATEGIES, encoding="utf-8")
    given = bench("run", str(path), "--strategies", "zero-shot,sl", "--dry-run", "--json", "--data-dir", str(data_dir))
    assert given.returncode == 0, given.stderr
    assert {c["strategy"] for c in json.loads(given.stdout)["generation_cells"]} == {"zero-shot", "sl"}
    everything = bench("run", str(path), "--all", "--dry-run", "--json", "--data-dir", str(data_dir))
    assert everything.returncode == 0, everything.stderr
    path.write_text(_NO_STRATEGIES + 'strategies = ["*"]\n', encoding="utf-8")
    star = bench("run", str(path), "--dry-run", "--json", "--data-dir", str(data_dir))
    assert star.returncode == 0, star.stderr
    assert len(json.loads(star.stdout)["generation_cells"]) > 2  # "*" is every registered strategy
