"""Commands that write never overwrite what they do not own: a user's folder, another export's
files, or a file of a run they read."""

from __future__ import annotations

import pytest
from fake_runs import fake_run

from conftest import bench


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    assert fake_run(root).returncode == 0
    return root / "run"


def test_export_refuses_a_folder_of_the_users_files(run, tmp_path):
    mine = tmp_path / "mydata"
    mine.mkdir()
    (mine / "README.md").write_text("my notes\n")
    out = bench("export", str(run), "--format", "jsonl", "--out", str(mine))
    assert out.returncode == 2 and "holds no earlier export" in out.stderr and len(out.stderr.splitlines()) == 1
    assert (mine / "README.md").read_text() == "my notes\n"


def test_a_re_export_replaces_the_whole_previous_export(run, tmp_path):
    dest = tmp_path / "data"
    assert bench("export", str(run), "--format", "jsonl", "--out", str(dest)).returncode == 0
    first = {p.name for p in dest.iterdir()}
    assert any("zero-shot" in n for n in first) and "README.md" in first
    again = bench("export", str(run), "--format", "jsonl", "--out", str(dest), "--cells", "*target-demos*")
    assert again.returncode == 0, again.stderr
    names = {p.name for p in dest.iterdir()}
    assert not any("zero-shot" in n for n in names) and any("target-demos" in n for n in names)
    zero_shot = [p.stem for p in (run / "generations").glob("*zero-shot*.json")]
    assert zero_shot and not any(cell in (dest / "README.md").read_text() for cell in zero_shot)


def test_export_writes_into_a_run_only_under_its_export_folder(run):
    out = bench("export", str(run), "--format", "csv", "--out", str(run / "scores" / "x"))
    assert out.returncode == 2 and "inside the run directory" in out.stderr
    assert not (run / "scores" / "x").exists()
    assert bench("export", str(run), "--format", "csv").returncode == 0  # the default, RUN/export/csv
    assert (run / "export" / "csv" / "README.md").is_file()


@pytest.mark.parametrize("target", ["manifest.json", "leaderboard.json", "scores/new.md", "report.md"])
def test_report_never_writes_into_a_run(run, target):
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    out = bench("report", str(run), "--out", str(run / target))
    assert out.returncode == 2 and "inside the run directory" in out.stderr
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_report_outside_the_run_is_written(run, tmp_path):
    out = bench("report", str(run), "--out", str(tmp_path / "r.md"))
    assert out.returncode == 0 and (tmp_path / "r.md").read_text().strip()
