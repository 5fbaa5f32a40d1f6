import copy
import dataclasses
import html
import json
import re
import shutil
import subprocess

import pytest

from conftest import bench
from harness.results.leaderboard import validate_file, write_leaderboard
from harness.results.model import Gap, Leaderboard, Revision, Stat


def whisker_count(svg_text: str) -> int:
    """How many whiskers an overview SVG draws (one path per bar with an interval)."""
    from harness.reports.plots import WHISKERS

    return sum(g.group(1).count("<path") for g in re.finditer(rf'<g id="{WHISKERS}-[^"]*">(.*?)</g>', svg_text, re.S))


@pytest.fixture
def board(tiny_run) -> Leaderboard:
    return validate_file(tiny_run / "leaderboard.json")


def test_markdown_tables_languages_as_columns(tiny_run):
    out = bench("report", str(tiny_run))
    assert out.returncode == 0, out.stderr
    md = out.stdout
    assert "## massive10 — generator hf:" in md and "| strategy | sw | sl |" in md
    assert "| gold |" in md and "unavailable" in md  # Slovenian sentiment has no gold baseline
    assert "## Unavailable" in md and "Welsh" not in md
    assert "## Generation quality" in md and "| acceptance rate |" in md


def test_html_is_self_contained_with_plots(tiny_run, tmp_path):
    page = tmp_path / "r.html"
    assert bench("report", str(tiny_run), "--format", "html", "--out", str(page)).returncode == 0
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<table>" in text and "<svg" in text
    # nothing is fetched: no external scripts, styles, images or fonts
    import re

    assert not re.search(r"""(src|href)\s*=\s*["']https?:""", text) and "<link" not in text and "@import" not in text
    assert "<script" not in text and "<details" in text  # no script at all; the browser is plain HTML
    again = tmp_path / "r2.html"
    assert bench("report", str(tiny_run / "leaderboard.json"), "--format", "html", "--out", str(again)).returncode == 0
    assert again.read_text() == text  # byte for byte; the run directory is found beside its leaderboard.json


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
    assert "<details open" in dom.stdout and "<summary>" in dom.stdout and "rejected (first 3)" in dom.stdout
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    shot = tmp_path / "r.png"
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000
    from PIL import Image

    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colours) > 200  # text, tables and charts, not a blank or single-colour page
    count = {c: n for n, c in colours}
    assert count.get((31, 119, 180), 0) > 200  # the overview's bars of the first strategy (tab:blue) are on screen


def _write(tmp_path, name, board: Leaderboard):
    p = tmp_path / name
    write_leaderboard(p, board)
    return str(p)


def test_compare_identical_is_ok(board, tmp_path):
    out = bench("compare", _write(tmp_path, "a.json", board), _write(tmp_path, "b.json", board))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 regressed, 0 missing" in out.stdout


def _lowered(board: Leaderboard, by: float) -> Leaderboard:
    """The board with its first gold baseline's per-seed macro-F1 lowered and every aggregate that
    depends on it (its scores, the gold block and gap to gold of its results) recomputed as a run
    would: `bench compare` refuses aggregates that disagree with their per-seed values."""
    from harness.results.metrics import gap, paired_units
    from harness.results.pooling import scores_block

    worse = copy.deepcopy(board)
    gold = worse.gold[0]
    assert gold.scores.macro_f1.mean > by
    gold.scores = scores_block([dataclasses.replace(x, macro_f1=max(0.0, x.macro_f1 - by))
                                for x in gold.scores.per_seed])
    for row in worse.results:
        if (row.task, row.language, row.classifier) != (gold.task, gold.language, gold.classifier):
            continue
        if row.gold:
            row.gold.macro_f1, row.gold.accuracy = gold.scores.macro_f1, gold.scores.accuracy
        if row.gap_to_gold and row.scores:
            diff = gap(*paired_units(gold.scores.per_seed, row.scores.per_seed))
            assert diff is not None
            row.gap_to_gold = Gap(points=Stat(**diff["points"]), relative=diff["relative"],
                                  paired_over=diff["paired_over"], paired=diff["paired"])
    return worse


def test_compare_flags_a_drop_beyond_tolerance(board, tmp_path):
    worse = _lowered(board, 0.05)
    base = _write(tmp_path, "base.json", board)
    out = bench("compare", _write(tmp_path, "new.json", worse), base, "--tolerance", "1")
    assert out.returncode == 1 and "regressed" in out.stdout
    assert bench("compare", str(tmp_path / "new.json"), base, "--tolerance", "6").returncode == 0
    js = json.loads(bench("compare", str(tmp_path / "new.json"), base, "--json", "--tolerance", "1").stdout)
    assert js["regressions"] == 1 and not js["ok"]


def test_compare_flags_missing_results(board, tmp_path):
    fewer = copy.deepcopy(board)
    fewer.results = fewer.results[1:]
    out = bench("compare", _write(tmp_path, "new.json", fewer), _write(tmp_path, "base.json", board))
    assert out.returncode == 1 and "1 missing" in out.stdout


def test_report_and_compare_reject_invalid_leaderboards(board, tmp_path):
    bad = board.to_json()
    del bad["schema_version"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    path = str(path)
    for args in (["report", path], ["compare", path, path]):
        out = bench(*args)
        assert out.returncode == 2 and "'schema_version' is a required property" in out.stderr


# -- the HTML page's sections ------------------------------------------------------------------


def test_overview_draws_a_whisker_on_every_bar_with_an_interval(board):
    from harness.reports.markdown import groups
    from harness.reports.plots import gap_bars, gap_overview

    drawn = 0
    for i, rows in enumerate(groups(board).values()):
        bars = gap_bars(rows)
        for bar in bars:
            row = next(r for r in rows if (r.language, r.strategy) == (bar.language, bar.strategy))
            if row.gap_to_gold:  # the row's own paired gap and its 95% interval, nothing recomputed
                assert bar.mean == row.gap_to_gold.points.mean
                assert bar.interval == tuple(row.gap_to_gold.points.ci95)
            else:  # not scored: its floor, hatched, never a whisker
                assert bar.why_no_interval == "floored" and bar.interval is None
        plot = gap_overview(bars, list(dict.fromkeys(r.strategy for r in rows)), "t", f"g{i}")
        if plot:
            assert whisker_count(plot) == sum(1 for b in bars if b.interval)
            drawn += whisker_count(plot)
    assert drawn > 0  # massive10 has gold and two seeds in both languages: its bars have whiskers


def test_overview_says_what_the_intervals_cover_and_where_there_is_none(board):
    from harness.reports.html import html_page

    page = html_page(board)
    overview = page.split('id="verdicts"')[0]
    assert "Gap to gold by strategy and resource tier" in overview and "mid/high-resource" in overview
    assert "low-resource" in overview  # the leaderboard's own per-tier means, in a table under the chart
    assert html.escape(board.manifest.intervals) in overview
    one_seed = copy.deepcopy(board)
    row = next(r for r in one_seed.results if r.gap_to_gold)
    row.gap_to_gold.points = dataclasses.replace(row.gap_to_gold.points, std=None, ci95=None, n=1)
    other = next(r for r in one_seed.results if r.gap_to_gold and r is not row)
    other.gap_to_gold.points.over = "generation replicates"
    changed = html_page(one_seed)
    assert f"(a single seed or replicate): {row.language} {row.strategy}" in changed
    # each chart states its own intervals' units; together they name both kinds present
    stated = {u for part in changed.split("Stated per interval: ")[1:] for u in part.split(".")[0].split("; ")}
    assert stated == {"classifier seeds", "generation replicates"}
    assert whisker_count(changed) == whisker_count(page) - 1


def test_verdict_table_and_best_strategy_sets(board):
    from harness.reports.html import html_page
    from harness.reports.markdown import interval

    varied = copy.deepcopy(board)
    varied.comparisons[0].verdict = "better"
    page = html_page(varied)
    verdicts = page.split('id="verdicts"')[1].split("</section>")[0]
    for c in varied.comparisons:
        d = c.difference_points
        ci = interval(d)  # or why there is none: one seed, or identical paired differences
        assert (f"<td>{c.a}</td><td>{c.b}</td><td>{d.mean:+.1f}</td><td>{html.escape(ci)}</td>"
                f'<td class="{c.verdict.replace(" ", "-")}">{c.verdict}') in verdicts
    for verdict in ("better", "worse", "not distinguishable"):  # coloured by verdict
        assert verdicts.count(f'<td class="{verdict.replace(" ", "-")}">') == sum(
            c.verdict == verdict for c in varied.comparisons)
    assert "Best strategies per language" in verdicts
    for b in varied.summaries.by_language:
        assert f"<td>{html.escape(', '.join(b.best_strategies))}</td>" in verdicts


def test_quality_table_shows_the_leaderboards_generation_stats(board):
    from harness.reports.html import html_page
    from harness.reports.markdown import generation_cells, quality_table, quality_values

    header, body = quality_table(board)
    cells = generation_cells(board)
    assert len(body) == len(cells) == len({r.cell_id for r in board.results})
    for r, line in zip(cells, body):
        g, v = r.generation, quality_values(r)
        assert v["revision"] == Revision(judged=0, rejected=0)  # counted from candidates.json; these have no revision
        for key in ("accepted", "requested", "acceptance_rate", "rejected", "duplicates", "off_language_rate",
                    "distinct_1", "distinct_2", "mean_length", "gold_mean_length"):
            assert v[key] == getattr(g, key)
        cell = dict(zip(header, line))
        assert cell["accepted"] == f"{g.accepted} / {g.requested}"
        assert cell["acceptance rate"] == f"{100 * g.acceptance_rate:.1f}%"
        assert cell["duplicates"] == str(g.duplicates) and cell["rejected"] == str(g.rejected)
        assert cell["distinct-2"] == f"{g.distinct_2:.2f}"
        assert cell["mean length (gold)"] == f"{g.mean_length:.1f} ({g.gold_mean_length:.1f})"
        assert cell["shortfall"] == (f"{sum(g.shortfall.values())} in {len(g.shortfall)} classes"
                                     if g.shortfall else "0")
    page = html_page(board).split('id="quality"')[1]
    for line in body:
        assert "".join(f"<td>{html.escape(c)}</td>" for c in line) in page


def test_revision_verdicts_are_counted_from_the_candidates(tmp_path):
    from harness.results.pooling import revision_counts
    from harness.store.rundir import RunDir, write_json

    run = RunDir(tmp_path)
    write_json(run.candidates("c1"), {"candidates": [
        {"label": "a", "text": "x", "status": "length 1 outside 10-100"},
        {"label": "a", "text": "y", "verdict": "yes", "status": "accepted"},
        {"label": "a", "text": "z", "verdict": "no", "reason": "No.", "status": "rejected by revision"}]})
    write_json(run.candidates("c1.r1"), {"candidates": [
        {"label": "a", "text": "w", "verdict": "no", "reason": "No.", "status": "rejected by revision"}]})
    def counts(ids):
        return revision_counts([run.read_candidates(c) for c in ids])

    assert counts(["c1"]) == Revision(judged=2, rejected=1)
    assert counts(["c1", "c1.r1"]) == Revision(judged=3, rejected=2)  # summed over replicates
    assert counts(["absent"]) is None  # a strategy that keeps no candidates: nothing claimed


def _rejected_per_class(path):
    out = {}
    for c in json.loads(path.read_text())["candidates"]:
        if c["status"] not in ("accepted", "surplus"):
            out.setdefault(c["label"], []).append(c)
    return out


def test_sample_browser_shows_real_rejections_with_their_reasons(tiny_run, board):
    from harness.reports.html import html_page, text

    page = html_page(board, tiny_run)
    browser = page.split('id="samples"')[1].split("</section>")[0]
    assert browser.count("<details") == len({r.cell_id for r in board.results})
    shown = 0
    for r in board.results:
        path = tiny_run / "artefacts" / r.cell_id / "candidates.json"
        for rejected in _rejected_per_class(path).values():
            for c in rejected[:3]:  # the first three per class, in generation order
                assert f"<q>{text(c['text'])}</q>" in browser
                assert f'<span class="why">{text(c["status"])}</span>' in browser
                shown += 1
            for c in rejected[3:]:
                assert f"<q>{text(c['text'])}</q>" not in browser
    assert shown > 0  # the tiny model writes texts outside the length window: real rejections
    assert "length outside the window ×" in browser


def test_sample_browser_escapes_generated_text_and_shows_the_revisers_reply(tiny_run, board, tmp_path):
    from harness.reports.html import html_page

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("samples", "scores", "generations"))
    row = board.results[0]
    path = run / "artefacts" / row.cell_id / "candidates.json"
    data = json.loads(path.read_text())
    label = next(iter(row.generation.per_class))
    data["candidates"][:0] = [
        {"label": label, "text": "<script>alert('x')</script>", "verdict": "no",
         "reason": "No: <b>not</b> about this & that", "status": "rejected by revision"},
        {"label": label, "text": "<img src=x onerror=alert(1)>", "status": "accepted", "off_language": True}]
    path.write_text(json.dumps(data))
    page = html_page(board, run)
    assert "<script" not in page and "<img" not in page and "<b>not</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "reviser: “No: &lt;b&gt;not&lt;/b&gt; about this &amp; that”" in page
    assert "rejected by revision ×1" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_without_a_run_directory_the_browser_says_why_it_is_empty(board):
    from harness.reports.html import html_page

    page = html_page(board)
    assert "No run directory given" in page and "<details" not in page
    assert html_page(board) == page  # deterministic in-process too (the SVG ids are salted)
