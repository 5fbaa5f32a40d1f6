"""A run ends with its answer: per task and language each row's macro-F1 and interval, gold, gap and
verdict against zero-shot, then the commands that show more; `--quiet` leaves it out."""

from __future__ import annotations

import io
import json
import re

from boards import leaderboard
from fake_runs import fake_run, result_row
from rich.console import Console

from harness.reports.answer import answer, rich_answer
from harness.results.aggregate import comparisons, summaries
from harness.results.model import Frontier, FrontierPoint
from harness.results.typed import to_json


def small_board():
    rows = [result_row("zero-shot", [0.30, 0.32, 0.31]), result_row("sl", [0.60, 0.65, 0.61]),
            result_row("target-demos", [0.5, 0.5, 0.5]), result_row("target-demos+sl", [], floor=0.25)]
    return leaderboard({"seeds": [0, 1, 2]}, results=[to_json(r) for r in rows],
                       comparisons=[to_json(c) for c in comparisons(rows)], summaries=to_json(summaries(rows)))


def test_the_plain_answer_names_each_row_with_its_score_gold_and_verdict():
    lines = answer(small_board(), "runs/my run")
    text = "\n".join(lines)
    assert "t / sw (Swahili, mid/high-resource)" in lines
    row = {line.split()[1] if line.lstrip().startswith("★") else line.split()[0]: line
           for line in lines if line.startswith("  ") and " m " in line}
    assert set(row) == {"zero-shot", "sl", "target-demos", "target-demos+sl"}
    assert re.search(r"31\.0 \[\d+\.\d, \d+\.\d\]\s+80\.0\s+\+49\.0\s+\(baseline\)", row["zero-shot"])
    assert "62.0 [" in row["sl"] and "+18.0" in row["sl"] and "better (+31.0 [+" in row["sl"]
    assert row["sl"].lstrip().startswith("★") and not row["zero-shot"].lstrip().startswith("★")
    assert "50.0 (all 3 the same)" in row["target-demos"] and "better (+19.0 [" in row["target-demos"]
    assert "not scored (floor 25.0)" in row["target-demos+sl"] and "+55.0 (floor)" in row["target-demos+sl"]
    assert "worse (-6.0 [" in row["target-demos+sl"]
    assert lines[-2:] == ["report: bench report 'runs/my run'", "export: bench export 'runs/my run' --format jsonl"]
    assert "Pareto frontier" not in text


def test_frontiers_are_listed_where_the_leaderboard_has_them():
    board = small_board()
    def point(strategy, on):
        return FrontierPoint(strategy=strategy, model="m", gap_points=10.0, gap_ci95=None, cost=1.0, on_frontier=on,
                             times_cheapest=1.0, languages=1)

    board.frontiers = [  # points marked on_frontier, cheapest first
        Frontier(task="t", language="sw", classifier="c", unit="tokens",
                 points=[point("sl", True), point("zero-shot", True), point("target-demos", False)]),
        Frontier(task="t", language="tier:high", classifier="c", unit="tokens", points=[point("sl", True)])]
    lines = answer(board, "runs/x")
    assert "  Pareto frontier (gap to gold against tokens) [c]: sl m, zero-shot m" in lines
    assert "t / tier:high: Pareto frontier (gap to gold against tokens) [c]: sl m" in lines
    board.frontiers = []
    assert not [line for line in answer(board, "runs/x") if "frontier" in line]


def test_bench_run_and_merge_print_the_answer_and_quiet_leaves_it_out(tmp_path):
    out = fake_run(tmp_path)
    assert out.returncode == 0, out.stderr
    run = tmp_path / "run"
    board = json.loads((run / "leaderboard.json").read_text())
    assert "leaderboard written to" in out.stderr and "report:" not in out.stderr  # the answer is on stdout
    lines = out.stdout.splitlines()
    assert "sentiment / sw (Swahili, mid/high-resource)" in lines
    for r in board["results"]:
        (line,) = [x for x in lines if f" {r['strategy']} " in x and r["classifier"] in x and "frontier" not in x]
        assert f"{100 * r['scores']['macro_f1']['mean']:.1f}" in line
        assert f"{100 * r['gold']['macro_f1']['mean']:.1f}" in line
        assert ("(baseline)" if r["strategy"] == "zero-shot" else board["comparisons"][0]["verdict"]) in line
    assert lines[-2:] == [f"report: bench report {run}", f"export: bench export {run} --format jsonl"]

    again = fake_run(tmp_path, "--quiet")  # every cell finished: the rerun only rewrites the leaderboard
    assert again.returncode == 0 and again.stdout == ""

    merged = fake_run(tmp_path, command=("merge", str(run), "--out", str(tmp_path / "merged")))
    assert merged.returncode == 0, merged.stderr
    assert merged.stdout.splitlines()[-1] == f"export: bench export {tmp_path / 'merged'} --format jsonl"
    assert merged.stdout.splitlines()[:-2] == lines[:-2]  # the same results, another directory
    quiet = fake_run(tmp_path, command=("merge", str(run), "--out", str(tmp_path / "merged2"), "--quiet"))
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_on_a_terminal_the_answer_is_a_table_and_names_in_brackets_stay_text():
    board = small_board()
    board.frontiers = [Frontier(task="t", language="sw", classifier="c", unit="price", points=[FrontierPoint(
        strategy="sl", model="m", gap_points=10.0, gap_ci95=None, cost=1.0, on_frontier=True, times_cheapest=1.0,
        languages=1)])]
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    for part in rich_answer(board, "runs/x"):
        console.print(part)
    text = console.file.getvalue()
    assert "┃ strategy" in text and "Pareto frontier (gap to gold against price) [c]: sl m" in text
    assert "62.0 [" in text and "report: bench report runs/x" in text


def test_rows_are_compared_with_the_baseline_the_suite_named():
    board = small_board()
    board.manifest.settings = {**board.manifest.settings, "baseline": "target-demos"}
    lines = answer(board, "runs/x")
    assert "vs target-demos: this row minus target-demos" in lines[0]
    assert any(line.split()[:1] == ["best"] and line.endswith("vs target-demos") for line in lines)
    row = {line.split()[1] if line.lstrip().startswith("★") else line.split()[0]: line
           for line in lines if line.startswith("  ") and " m " in line}
    assert row["target-demos"].endswith("(baseline)")
    assert "better (+12.0 [" in row["sl"] and "worse (-19.0 [" in row["zero-shot"]
