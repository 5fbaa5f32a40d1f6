"""Readable leaderboards: the markdown report, and the tables it shares with the HTML page
(harness/reports/html.py), so both say the same thing in the same words. Every table is a header and
rows of plain strings; each format only decides how to lay them out."""

from __future__ import annotations

from harness.results.model import Comparison, GoldResult, Leaderboard, Result, Revision, Stat

GROUP = tuple[str, str, str]  # task, model, classifier
Table = tuple[list[str], list[list[str]]]

INTERVALS_DEFAULT = "over classifier seeds"


def groups(board: Leaderboard) -> dict[GROUP, list[Result]]:
    """Result rows per (task, generator model, classifier), in leaderboard order."""
    out: dict[GROUP, list[Result]] = {}
    for r in board.results:
        out.setdefault((r.task, r.model, r.classifier), []).append(r)
    return out


def gold_by_language(board: Leaderboard, task: str, classifier: str) -> dict[str, GoldResult]:
    return {g.language: g for g in board.gold if g.task == task and g.classifier == classifier}


def intervals_note(board: Leaderboard) -> str:
    """Which variance the intervals cover, as the manifest states it."""
    note = board.manifest.intervals
    return INTERVALS_DEFAULT if note is None else note


def unit(stat: Stat) -> str:
    """What one value behind a stat is: a generation replicate or a classifier seed."""
    return "replicate" if stat.over == "generation replicates" else "seed"


def replicates(board: Leaderboard) -> int:
    """Generation replicates per cell, as the manifest states it (1 where it does not)."""
    return board.manifest.replicates or 1


def pairing(board: Leaderboard) -> str:
    """What differences are paired by, for the captions."""
    if replicates(board) >= 2:
        return "paired by generation replicate (by classifier seed where only one replicate is finished)"
    return "paired by classifier seed"


def spread(board: Leaderboard) -> str:
    """What a row's ± is over, for the captions."""
    m = board.manifest
    if replicates(board) >= 2:
        return f"mean ± std over {m.replicates} generation replicates (each the mean over classifier seeds {m.seeds})"
    return f"mean ± std over classifier seeds {m.seeds}"


def interval(stat: Stat, digits: int = 1) -> str:
    """`[lo, hi]` of a stat in points, or why there is none."""
    ci = stat.ci95
    if ci is None:
        return f"no interval: 1 {unit(stat)}" if stat.n == 1 else f"no interval: {stat.no_interval or 'none given'}"
    return f"[{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]"


def strategy_table(board: Leaderboard, key: GROUP, rows: list[Result]) -> Table:
    """Header and cells: strategies as rows, languages as columns; the best strategy per language
    is marked with a star."""
    task, model, clf = key
    langs = list(dict.fromkeys(r.language for r in rows))
    strategies = list(dict.fromkeys(r.strategy for r in rows))
    cell = {(r.strategy, r.language): r for r in rows}
    best: dict[str, set[str]] = {}
    for b in board.summaries.by_language:
        if (b.task, b.model, b.classifier) == key:
            best[b.language] = set(b.best_strategies)
    header = ["strategy"] + langs
    body = []
    for s in strategies:
        line = [s]
        for lang in langs:
            r = cell.get((s, lang))
            if r is None:
                line.append("-")
            elif not r.scores:
                floor = r.floor.macro_f1 if r.floor else None
                line.append("not scored" + (f" (floor {100 * floor:.1f})" if floor is not None else "")
                            + (" ★" if s in best.get(lang, set()) else ""))
            else:
                text = mean_std(r.scores.macro_f1)
                if r.gap_to_gold:
                    text += f" (gap {r.gap_to_gold.points.mean:+.1f})"
                if s in best.get(lang, set()):
                    text = "★ " + text
                line.append(text)
        body.append(line)
    gold = gold_by_language(board, task, clf)
    gold_line = ["gold"]
    for lang in langs:
        g = gold.get(lang)
        gold_line.append(mean_std(g.scores.macro_f1) if g else "unavailable")
    body.append(gold_line)
    return header, body


def mean_std(stat: Stat) -> str:
    if stat.std is None:
        return f"{100 * stat.mean:.1f} (1 {unit(stat)})"
    if stat.no_interval:  # n identical values: a ± 0.0 would read as certainty
        return f"{100 * stat.mean:.1f} (all {stat.n} the same)"
    return f"{100 * stat.mean:.1f} ± {100 * stat.std:.1f}"


def tier_table(board: Leaderboard, key: GROUP) -> Table | None:
    """The leaderboard's own per-tier means (complete case) of one group: strategies as rows, tiers
    as columns. Means over languages, so no interval of their own."""
    rows = [s for s in board.summaries.by_strategy if (s.task, s.model, s.classifier) == key]
    if not rows:
        return None
    tiers = [t for t in ("all", "high", "low") if any(s.tier == t for s in rows)]
    names = {"all": "all languages", "high": "mid/high-resource", "low": "low-resource"}
    by = {(s.strategy, s.tier): s for s in rows}
    body = []
    for strategy in dict.fromkeys(s.strategy for s in rows):
        line = [strategy]
        for t in tiers:
            s = by.get((strategy, t))
            if s is None:
                line.append("-")
                continue
            gap = "no gold" if s.mean_gap_points is None else f"{s.mean_gap_points:+.1f}"
            extra = f"{s.languages} lang."
            if s.floored:
                extra += f", {s.floored} floored"
            line.append(f"{gap} ({extra})")
        body.append(line)
    return ["strategy"] + [names[t] for t in tiers], body


def held_fixed(c: Comparison) -> str | None:
    """The model a strategy comparison holds fixed, or the strategy a model comparison does."""
    return c.model if c.compared == "strategy" else c.strategy


def comparison_table(board: Leaderboard) -> Table | None:
    rows = board.comparisons
    if not rows:
        return None
    header = ["task", "language", "classifier", "compared", "held fixed", "a", "b", "a - b (points)", "95% interval",
              "verdict"]
    body = []
    for c in rows:
        d = c.difference_points
        verdict = c.verdict + (f" (floored: {', '.join(c.floored)})" if c.floored else "")
        body.append([c.task, c.language, c.classifier, c.compared, str(held_fixed(c)), c.a, c.b,
                     f"{d.mean:+.1f}", interval(d), verdict])
    return header, body


def best_table(board: Leaderboard) -> Table | None:
    rows = board.summaries.by_language
    if not rows:
        return None
    header = ["task", "language", "model", "classifier", "best strategies", "top macro-F1", "gold macro-F1",
              "gap (points)"]
    body = []
    for b in rows:
        top = f"{100 * b.best_macro_f1:.1f}" + (" (floor)" if b.floored else "")
        gold = "-" if b.gold_macro_f1 is None else f"{100 * b.gold_macro_f1:.1f}"
        gap = "-" if b.gap_points is None else f"{b.gap_points:+.1f}"
        body.append([b.task, b.language, b.model, b.classifier, ", ".join(b.best_strategies), top, gold, gap])
    return header, body


def generation_cells(board: Leaderboard) -> list[Result]:
    """One result row per generation cell: cells scored by several classifiers share one generated set."""
    seen: dict[str, Result] = {}
    for r in board.results:
        seen.setdefault(r.cell_id, r)
    return list(seen.values())


def _rate(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def quality_values(row: Result) -> dict[str, object]:
    """The generation-quality figures of one cell, straight from its leaderboard row."""
    g = row.generation
    return {
        "accepted": g.accepted, "requested": g.requested, "acceptance_rate": g.acceptance_rate,
        "rejected": g.rejected, "revision": g.revision, "duplicates": g.duplicates,
        "off_language_rate": g.off_language_rate, "distinct_1": g.distinct_1,
        "distinct_2": g.distinct_2, "mean_length": g.mean_length,
        "gold_mean_length": g.gold_mean_length, "shortfall": g.shortfall or {},
        "diagnostics": row.diagnostics,
    }


QUALITY_HEADER = ["task", "language", "strategy", "model", "accepted", "acceptance rate", "rejected",
                  "rejected by revision", "duplicates", "off-language rate", "distinct-1", "distinct-2",
                  "mean length (gold)", "shortfall", "label fidelity (gold ceiling)", "diversity (gold)",
                  "distance to gold"]


def quality_cells(v: dict[str, object]) -> list[str]:
    """The formatted cells (after the first four) of one cell's quality row."""
    rev = v["revision"]
    revision = "-" if not isinstance(rev, Revision) or not rev.judged else f"{rev.rejected} of {rev.judged} judged"

    def num(x, fmt):
        return "n/a" if x is None else format(x, fmt)

    short = v["shortfall"]
    return [f"{v['accepted']} / {v['requested']}", _rate(v["acceptance_rate"]), str(v["rejected"]), revision,
            str(v["duplicates"]), _rate(v["off_language_rate"]), num(v["distinct_1"], ".2f"), num(v["distinct_2"], ".2f"),
            f"{num(v['mean_length'], '.1f')} ({num(v['gold_mean_length'], '.1f')})",
            f"{sum(short.values())} in {len(short)} classes" if short else "0", *diagnostic_cells(v["diagnostics"])]


def diagnostic_cells(d) -> list[str]:
    """Label fidelity with its gold ceiling, diversity with gold's, distance to gold (n/a: not computed)."""
    if d is None:
        return ["n/a", "n/a", "n/a"]

    def num(x, fmt):
        return "n/a" if x is None else format(x, fmt)

    return [f"{_rate(d.label_fidelity)} ({_rate(d.gold_label_fidelity)})",
            f"{num(d.diversity, '.3f')} ({num(d.gold_diversity, '.3f')})", num(d.distance_to_gold, ".4f")]


FRONTIER_HEADER = ["task", "language", "classifier", "strategy", "model", "gap to gold", "cost", "on the frontier"]


def frontier_table(board: Leaderboard) -> Table | None:
    """Every (strategy, model) of each frontier with its gap and cost; a point off the frontier names
    nothing, a point on it says how many times the cheapest frontier point it costs."""
    if not board.frontiers:
        return None
    body = []
    for f in board.frontiers:
        for p in f.points:
            gap = f"{p.gap_points:.1f}" + (f" [{p.gap_ci95[0]:.1f}, {p.gap_ci95[1]:.1f}]" if p.gap_ci95 else "")
            times = "" if p.times_cheapest is None else f", {p.times_cheapest:g}x the cheapest"
            body.append([f.task, f.language, f.classifier, p.strategy, p.model, gap, f"{p.cost:,.4g} {f.unit}",
                         f"yes{times}" if p.on_frontier else f"no{times}"])
    return FRONTIER_HEADER, body


def frontier_lines(board: Leaderboard) -> list[str]:
    """One line per frontier: its members from cheapest to best, and what the best costs over the cheapest."""
    out = []
    for f in board.frontiers or []:
        on = [p for p in f.points if p.on_frontier]
        members = ", ".join(f"{p.strategy} ({p.model}): gap {p.gap_points:.1f} at {p.cost:,.4g}" for p in on)
        line = f"- {f.task}/{f.language} [{f.classifier}], cost in {f.unit}: {members}"
        if len(on) > 1 and on[-1].times_cheapest:
            line += (f". The smallest gap costs {on[-1].times_cheapest:g}x the cheapest point for "
                     f"{on[0].gap_points - on[-1].gap_points:.1f} points less gap")
        out.append(line + ".")
    return out


CORRELATION_HEADER = ["diagnostic", "classifier", "Spearman rho with the gap", "p", "rows"]


def correlation_table(board: Leaderboard) -> Table | None:
    if not board.diagnostic_correlations:
        return None
    return CORRELATION_HEADER, [[c.diagnostic.replace("_", " "), c.classifier,
                                 "-" if c.rho is None else f"{c.rho:+.2f}", "-" if c.p_value is None else f"{c.p_value:.3f}",
                                 str(c.n) + (f" ({c.note})" if c.note else "")]
                                for c in board.diagnostic_correlations]


CORRELATION_NOTE = ("How each diagnostic ranks the run's rows against their gap to gold (Spearman). A negative rho: "
                    "rows with more of it have smaller gaps. With few rows this is weak evidence; p and the number "
                    "of rows say how weak.")


def quality_table(board: Leaderboard) -> Table | None:
    """One row per generation cell; the model column only when the run has more than one model (the
    page names a single one above the table)."""
    cells = generation_cells(board)
    if not cells:
        return None
    several = len({r.model for r in cells}) > 1
    header = [h for h in QUALITY_HEADER if several or h != "model"]
    return header, [[r.task, r.language, r.strategy, *([r.model] if several else []),
                     *quality_cells(quality_values(r))] for r in cells]


def quality_note(board: Leaderboard) -> str:
    """What the quality table's columns mean, and the generator when there is only one."""
    models = list(dict.fromkeys(r.model for r in board.results))
    return (f"Generator: {models[0]}. " if len(models) == 1 else "") + _QUALITY_NOTE


_QUALITY_NOTE = ("Per generation cell (shared by every classifier that trains on it). Label fidelity: share of the "
                "examples e5-logreg trained on the gold subset assigns to their intended label (its gold test accuracy "
                "in brackets, the ceiling); diversity: mean pairwise cosine distance of e5 embeddings within a class "
                "(gold's in brackets); distance to gold: per-class kernel distance (KID) to the gold embeddings, 0 "
                "for the same distribution. Acceptance rate: accepted over "
                "parsed candidates; rejected: every candidate a filter or the reviser turned down; rejected by "
                "revision: of the candidates the reviser judged (- where none were: the strategy has no revision, "
                "or nothing reached it); off-language rate: share of parsed candidates the language check flags, "
                "before any filter; mean length in characters, gold's in brackets; shortfall: examples missing "
                "from the requested count.")


def _md_table(table: Table) -> list[str]:
    header, body = table
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in body]


def logged_samples(board: Leaderboard) -> list[Result | GoldResult]:
    """The result and gold rows scored with --log-samples (their `samples` file), results first."""
    return [r for r in [*board.results, *board.gold] if r.samples]


def markdown(board: Leaderboard) -> str:
    m = board.manifest
    out = [f"# Leaderboard: {m.suite}", "",
           f"Macro-F1 ({spread(board)}, in points); gap to gold in F1 points (positive: synthetic "
           f"data is worse than the same amount of gold data); ★ best strategies per language: the top mean and every "
           f"strategy it is not better than at 95%.", "", f"Intervals: {intervals_note(board)}.", "",
           f"harness {m.harness_version}, {m.device}, settings {m.settings_hash}, commit {m.git_commit or '-'}", ""]
    for key, rows in groups(board).items():
        out += [f"## {key[0]} — generator {key[1]}, classifier {key[2]}", ""]
        out += _md_table(strategy_table(board, key, rows))
        out.append("")
    comparisons = comparison_table(board)
    if comparisons:
        out += ["## Comparisons", "", f"a minus b in macro-F1 points, {pairing(board)}, 95% interval.", ""]
        out += _md_table(comparisons) + [""]
    frontier = frontier_table(board)
    if frontier:
        out += ["## Quality against cost", "", "The Pareto frontier of (strategy, model) over (gap to gold, cost): no "
                "other point has a smaller gap at a smaller cost.", ""] + frontier_lines(board) + [""]
        out += _md_table(frontier) + [""]
    quality = quality_table(board)
    if quality:
        out += ["## Generation quality", "", quality_note(board), ""] + _md_table(quality) + [""]
    correlation = correlation_table(board)
    if correlation:
        out += ["## What predicts the gap", "", CORRELATION_NOTE, ""] + _md_table(correlation) + [""]
    logged = logged_samples(board)
    if logged:
        out += ["## Per-example predictions", "", "Every test example's gold label and prediction per seed "
                "(`--log-samples`), relative to the run directory:", ""]
        out += [f"- {r.task}/{r.language} {r.strategy} [{r.classifier}]: [{r.samples}]({r.samples})" for r in logged]
        out.append("")
    if board.unavailable:
        out += ["## Unavailable", ""]
        out += [f"- {u.task}/{u.language} {u.strategy} {u.model}: {u.reason}" for u in board.unavailable]
        out.append("")
    return "\n".join(out)
