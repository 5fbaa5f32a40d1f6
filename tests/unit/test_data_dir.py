"""One rule for where the gold data is read from, the same for every suite: --data-dir, then
BENCH_DATA_DIR, then the suite's data_dir, then shared/data beside the checkout, then the public sources."""

from __future__ import annotations

import pytest

from conftest import UNIT_GOLD, bench, write_suite
from harness.config.suite import REMOTE_DATA, Suite
from harness.pipeline.run import BESIDE_CHECKOUT, choose_data_dir


@pytest.fixture
def beside(monkeypatch, tmp_path):
    """No BENCH_DATA_DIR, and a stand-in for shared/data beside the checkout."""
    monkeypatch.delenv("BENCH_DATA_DIR")
    monkeypatch.setattr("harness.pipeline.run.BESIDE_CHECKOUT", UNIT_GOLD)
    return UNIT_GOLD


def test_the_checkout_copy_is_beside_the_checkout():
    from conftest import ROOT

    assert BESIDE_CHECKOUT == ROOT.resolve().parent / "shared" / "data"  # ../shared/data from the checkout's root


def test_a_suite_without_data_dir_reads_the_copy_beside_the_checkout(beside, tmp_path):
    suite = write_suite(tmp_path / "s.toml", "gemma-3-270m")
    assert "data_dir" not in suite.read_text()
    out = bench("run", str(suite), "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "gold data:" not in out.stderr  # nothing to say: the rule found the offline copy
    assert choose_data_dir(Suite(), None) == (str(beside), None)


def test_each_rule_wins_over_the_ones_after_it(beside, tmp_path, monkeypatch):
    own, env, suites = (tmp_path / n for n in ("own", "env", "suites"))
    for folder in (own, env, suites):
        folder.mkdir()
    assert choose_data_dir(Suite(data_dir=str(suites)), str(own)) == (str(own), None)
    monkeypatch.setenv("BENCH_DATA_DIR", str(env))
    assert choose_data_dir(Suite(data_dir=str(suites)), None) == (str(env), None)
    monkeypatch.delenv("BENCH_DATA_DIR")
    assert choose_data_dir(Suite(data_dir=str(suites)), None) == (str(suites), None)
    chosen, note = choose_data_dir(Suite(data_dir=str(tmp_path / "moved")), None)  # a suite's copy that is not there
    assert chosen == str(beside) and "moved does not exist" in note and "beside the checkout" in note


def test_without_any_copy_the_public_sources_are_read_and_said(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCH_DATA_DIR")
    monkeypatch.setattr("harness.pipeline.run.BESIDE_CHECKOUT", tmp_path / "none")
    chosen, note = choose_data_dir(Suite(), None)
    assert chosen == REMOTE_DATA and "no shared/data beside the checkout" in note


def test_two_plans_in_one_process_each_read_their_own_data_directory(tmp_path, monkeypatch):
    """The directory travels with the plan: preparing a second plan does not change what the first
    reads, and nothing is left chosen for the process afterwards."""
    import shutil

    from harness.config import datadir
    from harness.kits.tasks.files import gold_root
    from harness.pipeline.run import prepare

    monkeypatch.delenv("BENCH_DATA_DIR")
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(UNIT_GOLD, first)
    shutil.copytree(UNIT_GOLD, second)
    suite = Suite(tasks=["sib200"], languages=["eng_Latn"], strategies=["zero-shot"], models=["gemma-3-270m"],
                  classifiers=["e5-logreg"], per_class=2, seeds=[0])
    a, b = prepare(suite, data_dir=first), prepare(suite, data_dir=second)
    assert (a.plan.data_dir, b.plan.data_dir) == (str(first), str(second))
    assert datadir.current() is None  # nothing stays chosen for the process
    with datadir.reading(a.plan.data_dir):
        assert gold_root() == first
        with datadir.reading(b.plan.data_dir):
            assert gold_root() == second
        assert gold_root() == first
