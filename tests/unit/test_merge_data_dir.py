"""`bench merge` reads the gold data its shards read: they record it, and it takes --data-dir."""

from __future__ import annotations

import json

from fake_runs import fake_run

from conftest import UNIT_GOLD, bench


def test_merge_finds_the_shards_data_and_accepts_data_dir(tmp_path, monkeypatch):
    assert fake_run(tmp_path).returncode == 0
    run = tmp_path / "run"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data_dir"] == str(UNIT_GOLD.resolve())
    monkeypatch.delenv("BENCH_DATA_DIR")
    found = bench("merge", str(run), "--out", str(tmp_path / "m1"), "--quiet")
    assert found.returncode == 0, found.stderr
    manifest["data_dir"] = str(tmp_path / "moved-away")
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    named = bench("merge", str(run), "--out", str(tmp_path / "m2"), "--quiet", "--data-dir", str(UNIT_GOLD))
    assert named.returncode == 0, named.stderr
    assert json.loads((tmp_path / "m2" / "manifest.json").read_text())["data_dir"] == str(UNIT_GOLD.resolve())
