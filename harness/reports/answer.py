"""The answer a run ends with: per task and language, each row's macro-F1 with its interval, the
gold score, the gap to gold and the verdict against zero-shot, then the commands that show more.
A finished `bench run` (and `bench merge`) prints it, as lm-eval and inspect print their results
table, so the result is on the screen without a second command. Plain lines for logs and pipes, a
rich table on a terminal: both from the same `Block`s, in the words of the markdown report."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.reports.markdown import unit
from harness.results.frame import baseline, baseline_comparison, in_best_set
from harness.results.model import Leaderboard, Result, Stat


def header(board: Leaderboard) -> list[str]:
    """The table's column names; the last names the strategy the rows are compared with."""
    return ["best", "strategy", "model", "classifier", "macro-F1 [95% interval]", "gold", "gap", f"vs {baseline(board)}"]


@dataclass
class Block:
    """One task and language: its title, one line of cells per result row, and notes under it."""

    title: str
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def score(r: Result) -> str:
    """A row's macro-F1 in points with its interval, or why it has none (the report's wording)."""
    if not r.scores:
        floor = r.floor.macro_f1 if r.floor else None
        return "not scored" + (f" (floor {100 * floor:.1f})" if floor is not None else "")
    return with_interval(r.scores.macro_f1)


def with_interval(stat: Stat) -> str:
    mean = f"{100 * stat.mean:.1f}"
    if stat.ci95 is not None:
        return f"{mean} [{100 * stat.ci95[0]:.1f}, {100 * stat.ci95[1]:.1f}]"
    if stat.std is None:
        return f"{mean} (no interval: 1 {unit(stat)})"
    return f"{mean} (all {stat.n} the same)"


def points(x: float) -> str:
    """Signed points to one decimal, never `-0.0`."""
    return f"{round(x, 1) + 0.0:+.1f}"


def difference(stat: Stat, sign: int = 1) -> str:
    """A difference in points with its interval, or why it has none (`sign` -1 reads it b minus a)."""
    text = points(sign * stat.mean)
    if stat.ci95 is not None:
        lo, hi = sorted(sign * x for x in stat.ci95)
        return f"{text} [{points(lo)}, {points(hi)}]"
    return f"{text}, no interval: 1 {unit(stat)}" if stat.n == 1 else f"{text}, all {stat.n} the same"


_FLIPPED = {"better": "worse", "worse": "better"}


def verdict(board: Leaderboard, r: Result) -> str:
    """The row minus the baseline strategy in points, its interval and the verdict; `-` where there is
    none."""
    if r.strategy == baseline(board):
        return "(baseline)"
    c = baseline_comparison(board, r)
    if c is None:
        return "-"
    if c.a == r.strategy:
        return f"{c.verdict} ({difference(c.difference_points)})"
    # stored as the baseline minus this row: read the other way round
    return f"{_FLIPPED.get(c.verdict, c.verdict)} ({difference(c.difference_points, -1)})"


def _gap(r: Result) -> str:
    if r.gap_to_gold:
        return points(r.gap_to_gold.points.mean)
    if r.gold and r.floor and not r.scores:
        return f"{points(100 * (r.gold.macro_f1.mean - r.floor.macro_f1))} (floor)"
    return "-"


def blocks(board: Leaderboard) -> list[Block]:
    """One block per task and language, in leaderboard order; rows grouped by classifier and model."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in board.results:
        groups.setdefault((r.task, r.language), []).append(r)
    fronts = frontiers(board)
    out = []
    for (task, language), rows in groups.items():
        order = {k: i for i, k in enumerate(dict.fromkeys((r.classifier, r.model) for r in rows))}
        rows = sorted(rows, key=lambda r: order[(r.classifier, r.model)])
        first = rows[0]
        tier = "low-resource" if first.tier == "low" else "mid/high-resource"
        cells = [["★" if in_best_set(board, r) else "", r.strategy, r.model, r.classifier, score(r),
                  f"{100 * r.gold.macro_f1.mean:.1f}" if r.gold else "-", _gap(r), verdict(board, r)] for r in rows]
        out.append(Block(f"{task} / {language} ({first.language_name}, {tier})", cells,
                         fronts.get((task, language), [])))
    return out


def pooled_frontiers(board: Leaderboard) -> list[str]:
    """Frontiers of no single task and language in the table (a resource tier pooled), one line each."""
    shown = {(r.task, r.language) for r in board.results}
    return [f"{task} / {language}: {line}" for (task, language), lines in frontiers(board).items()
            if (task, language) not in shown for line in lines]


def caption(board: Leaderboard) -> str:
    overs = sorted({s.over for r in board.results if r.scores for s in (r.scores.macro_f1,) if s.over})
    over = f" over {' or '.join(overs)}" if overs else ""
    base = baseline(board)
    return (f"macro-F1, gold and gap in F1 points; [95% interval]{over}; gap: gold minus synthetic; "
            f"vs {base}: this row minus {base}, paired, verdict at 95%; ★ best set of the task and language")


def commands(run_dir: str | Path) -> list[str]:
    """What to run next on this run directory: the full report, and the data as a dataset."""
    where = shlex.quote(str(run_dir))
    return [f"report: bench report {where}", f"export: bench export {where} --format jsonl"]


def answer(board: Leaderboard, run_dir: str | Path) -> list[str]:
    """The answer as plain lines (what a log or a pipe gets)."""
    out = [caption(board)]
    head = header(board)
    for b in blocks(board):
        out += ["", b.title]
        widths = [max(len(line[i]) for line in [head, *b.rows]) for i in range(len(head))]
        for line in [head, *b.rows]:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        out += [f"  {note}" for note in b.notes]
    if pooled := pooled_frontiers(board):
        out += ["", *pooled]
    if board.unavailable:
        out += ["", f"{len(board.unavailable)} unavailable cell{'s' if len(board.unavailable) > 1 else ''} "
                    f"(the report lists each with its reason)"]
    return [*out, "", *commands(run_dir)]


def rich_answer(board: Leaderboard, run_dir: str | Path) -> list[Any]:
    """The same answer as rich renderables, for a terminal: a table per task and language."""
    from rich.table import Table
    from rich.text import Text

    out: list[Any] = [Text(caption(board), style="dim")]
    head = header(board)
    for b in blocks(board):
        # Text, not str: names and intervals in brackets are data, never rich markup
        table = Table(title=Text(b.title, style="bold"), title_justify="left",
                      caption=Text("\n".join(b.notes)) if b.notes else None, caption_justify="left")
        for name in head:
            table.add_column(name, justify="right" if name in ("gold", "gap") else "left", no_wrap=name != head[-1])
        for line in b.rows:
            table.add_row(*(Text(c) for c in line))
        out.append(table)
    out += [Text(line) for line in pooled_frontiers(board)]
    if board.unavailable:
        out.append(Text(f"{len(board.unavailable)} unavailable cells (the report lists each with its reason)"))
    out += [Text(line) for line in commands(run_dir)]
    return out


# -- Pareto frontiers, where the leaderboard has them ---------------------------------------------

def frontiers(board: Leaderboard) -> dict[tuple[str, str], list[str]]:
    """Per task and language (or pooled tier), one line per frontier listing the (strategy, model)
    points on it, cheapest first; nothing where the leaderboard has no frontiers."""
    out: dict[tuple[str, str], list[str]] = {}
    for f in board.frontiers or []:
        members = ", ".join(f"{p.strategy} {p.model}" for p in f.points if p.on_frontier)
        out.setdefault((f.task, f.language), []).append(
            f"Pareto frontier (gap to gold against {f.unit}) [{f.classifier}]: {members}")
    return out
