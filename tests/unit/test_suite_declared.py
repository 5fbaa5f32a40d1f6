"""The suite is declared once, by its fields: settings, parsing and checks follow them, and the
settings (so the settings hash, so every run directory's identity) are what they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config.suite import Suite, check, load_suite
from harness.contracts import SamplingParams
from harness.errors import BenchError
from harness.pipeline.run import prepare
from harness.store.cache import digest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

#: digest(load_suite(f"benchmarks/{name}.toml").settings())[:16], computed with the suite module as
#: it was before its fields declared it (commit c3e9676): a suite's settings hash must not move, or
#: every existing run directory would refuse to resume
BEFORE = {"default": "00e7533a10cd79f6", "ci": "7e6c5610c513cd8e", "paper": "6b144e71e62754d3"}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_the_settings_hash_of_each_shipped_suite_is_unchanged(name):
    assert digest(load_suite(BENCHMARKS / f"{name}.toml").settings())[:16] == BEFORE[name]


def test_the_settings_hash_of_a_suite_with_every_kind_of_setting_is_unchanged():
    s = Suite(per_class=8, seeds=[0, 1, 2], model_sampling={"b": {"top_p": 0.9}, "a": {"temperature": 0.5}},
              sampling=SamplingParams(temperature=0.7), gold="random", replicates=3, summarizer="x")
    assert digest(s.settings())[:16] == "975034f06fb85b96"  # computed the same way, at c3e9676


def test_settings_are_the_fields_that_decide_the_numbers():
    s = Suite()
    assert set(s.settings()) == {"per_class", "seeds", "seed", "summarizer", "faithful", "samples_per_request",
                                 "calls_per_class", "demos_per_class", "summary_examples", "revision_max_new_tokens",
                                 "match_gold_size", "gold", "sampling"}
    assert "model_sampling" in Suite(model_sampling={"m": {"top_p": 0.5}}).settings()


def test_a_setting_returned_is_a_copy():
    s = Suite()
    s.settings()["seeds"].append(99)
    assert 99 not in s.seeds


def test_the_baseline_enters_the_settings_only_when_changed(tmp_path):
    assert "baseline" not in Suite().settings()
    assert Suite(baseline="target-demos").settings()["baseline"] == "target-demos"
    p = tmp_path / "s.toml"
    p.write_text('[grid]\ntasks = ["*"]\nlanguages = ["*"]\nstrategies = ["*"]\nmodels = ["*"]\nclassifiers = ["*"]\n'
                 '[evaluation]\nbaseline = "target-demos"\n', encoding="utf-8")
    assert load_suite(p).baseline == "target-demos"


def test_checks_come_from_the_fields():
    problems = {key: msg for key, _, msg in check(Suite(per_class=0, gold="fist", baseline="", languages=[]))}
    assert problems["per_class"] == "per_class must be at least 1"
    assert "did you mean 'first'" in problems["gold"]
    assert problems["baseline"] == "[evaluation] baseline must name a strategy"
    assert problems["languages"] == "[grid] languages must be a non-empty list of names or globs"


def test_a_file_value_is_parsed_by_its_field(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[grid]\ntasks = "sib200"\n[evaluation]\nseeds = 3\n', encoding="utf-8")
    s = load_suite(p, given={"languages", "strategies", "models", "classifiers"})
    assert s.tasks == ["sib200"] and s.seeds == [0, 1, 2]
    p.write_text('[evaluation]\nseeds = 0\n', encoding="utf-8")
    with pytest.raises(BenchError, match=r"s.toml:2: \[evaluation\] seeds must be at least 1"):
        load_suite(p)


def test_overrides_give_a_new_suite_and_leave_the_callers_alone():
    mine = Suite(tasks=["massive10"], languages=["sw"], strategies=["zero-shot"], per_class=8, seeds=[0])
    other = mine.with_overrides({"per_class": 4, "seeds": [1, 2]})
    assert (other.per_class, other.seeds, other.tasks) == (4, [1, 2], ["massive10"])
    assert (mine.per_class, mine.seeds) == (8, [0])
    other.tasks.append("sib200")  # no list is shared either
    assert mine.tasks == ["massive10"]
    with pytest.raises(BenchError, match="unknown suite setting 'per_clas'"):
        mine.with_overrides({"per_clas": 1})


def test_prepare_does_not_change_the_suite_it_is_given(tmp_path):
    mine = Suite(tasks=["massive10"], languages=["sw"], strategies=["zero-shot"], models=["gemma-3-270m"],
                 classifiers=["e5-logreg"], per_class=8, seeds=[0])
    prepared = prepare(mine, overrides={"per_class": 2, "seeds": [0, 1], "baseline": "target-demos"},
                       data_dir=Path(__file__).parent / "data" / "gold")
    assert prepared.plan.suite.per_class == 2 and prepared.plan.suite.baseline == "target-demos"
    assert (mine.per_class, mine.seeds, mine.baseline) == (8, [0], "zero-shot")


def test_bench_run_baseline_flag_keeps_the_settings_hash_at_its_default(tmp_path):
    from conftest import bench, write_suite

    suite = str(write_suite(tmp_path / "s.toml", "gemma-3-270m"))

    def settings_hash(*flags: str) -> str:
        out = bench("run", suite, "--dry-run", "--json", *flags)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["settings_hash"]

    plain = settings_hash()
    assert settings_hash("--baseline", "zero-shot") == plain
    assert settings_hash("--baseline", "target-demos") != plain
    out = bench("run", suite, "--dry-run", "--baseline", "")
    assert out.returncode != 0 and "--baseline ''" in out.stderr and "must name a strategy" in out.stderr
