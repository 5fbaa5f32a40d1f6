import copy
import json
import shutil
import subprocess

import pytest

from conftest import bench


@pytest.fixture
def board(tiny_run):
    return json.loads((tiny_run / "leaderboard.json").read_text())


def test_markdown_tables_languages_as_columns(tiny_run):
    out = bench("report", str(tiny_run))
    assert out.returncode == 0, out.stderr
    md = out.stdout
    assert "## massive10 — generator hf:" in md and "| strategy | sw | sl |" in md
    assert "| gold |" in md and "unavailable" in md  # Slovenian sentiment has no gold baseline
    assert "## Unavailable" in md and "Welsh" not in md


def test_html_is_self_contained_with_plots(tiny_run, tmp_path):
    page = tmp_path / "r.html"
    assert bench("report", str(tiny_run), "--format", "html", "--out", str(page)).returncode == 0
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<table>" in text and "<svg" in text
    # nothing is fetched: no external scripts, styles, images or fonts
    import re

    assert not re.search(r"""(src|href)\s*=\s*["']https?:""", text) and "<link" not in text and "@import" not in text
    again = tmp_path / "r2.html"
    assert bench("report", str(tiny_run), "--format", "html", "--out", str(again)).returncode == 0
    assert again.read_text() == text


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_renders_in_headless_chromium(tiny_run, tmp_path):
    page = tmp_path / "r.html"
    assert bench("report", str(tiny_run), "--format", "html", "--out", str(page)).returncode == 0
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<table>" in dom.stdout and "<svg" in dom.stdout and "gold" in dom.stdout
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    shot = tmp_path / "r.png"
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return str(p)


def test_compare_identical_is_ok(board, tmp_path):
    out = bench("compare", _write(tmp_path, "a.json", board), _write(tmp_path, "b.json", board))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 regressed, 0 missing" in out.stdout


def test_compare_flags_a_drop_beyond_tolerance(board, tmp_path):
    worse = copy.deepcopy(board)
    g = worse["gold"][0]["scores"]
    g["macro_f1"]["mean"] = max(0.0, g["macro_f1"]["mean"] - 0.05)
    base = _write(tmp_path, "base.json", board)
    out = bench("compare", _write(tmp_path, "new.json", worse), base, "--tolerance", "1")
    assert out.returncode == 1 and "regressed" in out.stdout
    assert bench("compare", str(tmp_path / "new.json"), base, "--tolerance", "6").returncode == 0
    js = json.loads(bench("compare", str(tmp_path / "new.json"), base, "--json", "--tolerance", "1").stdout)
    assert js["regressions"] == 1 and not js["ok"]


def test_compare_flags_missing_results(board, tmp_path):
    fewer = copy.deepcopy(board)
    fewer["results"] = fewer["results"][1:]
    out = bench("compare", _write(tmp_path, "new.json", fewer), _write(tmp_path, "base.json", board))
    assert out.returncode == 1 and "1 missing" in out.stdout


def test_report_and_compare_reject_invalid_leaderboards(board, tmp_path):
    bad = copy.deepcopy(board)
    del bad["schema_version"]
    path = _write(tmp_path, "bad.json", bad)
    for args in (["report", path], ["compare", path, path]):
        out = bench(*args)
        assert out.returncode == 2 and "'schema_version' is a required property" in out.stderr
