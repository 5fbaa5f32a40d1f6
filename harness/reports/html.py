"""The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched) that
answers, in order, how far each strategy is from gold and how sure we are, which differences the
seeds can tell apart, what the generated data looks like in numbers, and what it looks like as text.
Every string from the run (generated text above all) is escaped; the same inputs give the same bytes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.records import Candidate
from harness.reports import plots as report_plots
from harness.reports.markdown import (
    CORRELATION_NOTE,
    best_table,
    comparison_table,
    correlation_table,
    frontier_lines,
    frontier_table,
    generation_cells,
    gold_by_language,
    groups,
    intervals_note,
    logged_samples,
    pairing,
    quality_note,
    quality_table,
    replicates,
    spread,
    strategy_table,
    tier_table,
)
from harness.reports.samples import PER_CLASS, CellSamples, cell_samples
from harness.results.model import Leaderboard, Result

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;line-height:1.4}"
    "h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}h3{margin-top:1.8rem}"
    "nav a{margin-right:1rem}.note{color:#555;font-size:14px;max-width:900px}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;margin:.8rem 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;vertical-align:top;text-align:left}"
    "th{background:#f3f3f3}td.better{background:#dff3df}td.worse{background:#f8dddd}"
    "td.not-distinguishable{color:#666}figure{margin:1rem 0}figure.plot{display:inline-block;margin:0 1rem 1rem 0}"
    "figcaption{font-size:13px;color:#444;max-width:900px}"
    "details{border:1px solid #ddd;border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}"
    "summary{cursor:pointer;font-size:14px}details table{font-size:13px}details ul{margin:0;padding-left:1.1rem}"
    "q{font-family:ui-monospace,monospace;font-size:12px}.why{color:#a33;font-size:12px}"
    ".tag{background:#eee;border-radius:3px;font-size:11px;padding:0 3px;margin-left:3px}"
)


def text(value: object) -> str:
    """Escaped text; control characters (random-weight models write them) shown as \\xNN."""
    return html.escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value)))


def table(header: Iterable[str], body: list[list[str]], cell_class: Callable[[str, str], str | None] | None = None) -> str:
    header = list(header)
    head = "".join(f"<th>{text(h)}</th>" for h in header)
    rows = []
    for line in body:
        cells = []
        for h, c in zip(header, line):
            cls = cell_class(h, c) if cell_class else None
            cells.append(f'<td class="{text(cls)}">{text(c)}</td>' if cls else f"<td>{text(c)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _title(key: tuple[str, str, str]) -> str:
    return f"{key[0]} — generator {key[1]}, classifier {key[2]}"


def _list(items: list[str]) -> str:
    return ", ".join(items)


def _overview_caption(board: Leaderboard, bars: list[report_plots.GapBar], rows: list[Result]) -> str:
    parts = ["Bars: mean gap to gold per language and strategy, in macro-F1 points (positive: the synthetic data "
             "is worse than the same amount of gold data). Whiskers: the 95% interval of the gap, "
             f"{pairing(board)}. What the intervals cover: {intervals_note(board)}."]
    covers = list(dict.fromkeys(b.covers for b in bars if b.covers))
    if covers:
        parts.append("Stated per interval: " + "; ".join(covers) + ".")
    one_seed = [f"{b.language} {b.strategy}" for b in bars if b.why_no_interval in ("1 value", "none given")]
    if one_seed:
        parts.append(f"No whisker where there is no interval (a single seed or replicate): {_list(one_seed)}.")
    same = [f"{b.language} {b.strategy}" for b in bars if b.why_no_interval == "identical values"]
    if same:
        parts.append("No whisker where every paired difference was the same (no variance was measured, so no "
                     f"interval and no verdict): {_list(same)}.")
    floored = [f"{b.language} {b.strategy}" for b in bars if b.why_no_interval == "floored"]
    if floored:
        parts.append("Hatched, no interval: not scored (its data has fewer than two classes), counted at the "
                     f"majority-class floor: {_list(floored)}.")
    drawn = {(b.language, b.strategy) for b in bars}
    missing = [r for r in rows if (r.language, r.strategy) not in drawn]
    no_gold = [f"{r.language} {r.strategy}" for r in missing if r.gold is None]
    if no_gold:
        parts.append(f"No bar (no gold baseline to compare with): {_list(no_gold)}.")
    other = [f"{r.language} {r.strategy}" for r in missing if r.gold is not None]
    if other:
        parts.append(f"No bar (not scored, and no floor recorded): {_list(other)}.")
    return " ".join(text(p) for p in parts)


def _overview(board: Leaderboard) -> list[str]:
    out = ['<section id="overview"><h2>Gap to gold by strategy and resource tier</h2>']
    for i, (key, rows) in enumerate(groups(board).items()):
        out.append(f"<h3>{text(_title(key))}</h3>")
        bars = report_plots.gap_bars(rows)
        strategies = list(dict.fromkeys(r.strategy for r in rows))
        plot = report_plots.gap_overview(bars, strategies, f"gap to gold: {key[0]}, {key[1]}, {key[2]}", f"g{i}")
        if plot:
            out.append(f"<figure>{plot}<figcaption>{_overview_caption(board, bars, rows)}</figcaption></figure>")
        else:
            out.append('<p class="note">No gap to gold to draw: no language of this group has a gold baseline.</p>')
        tiers = tier_table(board, key)
        if tiers:
            out.append(table(*tiers))
            out.append('<p class="note">Mean gap to gold per resource tier (the leaderboard\'s summaries: the '
                       "languages every strategy of the group covers; an unscored cell counts at its majority-class "
                       "floor). A mean over languages: no interval of its own.</p>")
    out.append("</section>")
    return out


def _verdict_class(header: str, value: str) -> str | None:
    if header != "verdict":
        return None
    return value.split(" (")[0].replace(" ", "-")


def _verdicts(board: Leaderboard) -> list[str]:
    out = ['<section id="verdicts"><h2>Verdicts</h2>']
    comparisons = comparison_table(board)
    if comparisons:
        covers = list(dict.fromkeys(c.difference_points.over for c in board.comparisons
                                    if c.difference_points.over))
        note = (f"a minus b in macro-F1 points, {pairing(board)}; better or worse when the 95% interval "
                f"excludes zero, otherwise not distinguishable. What the intervals cover: {intervals_note(board)}.")
        if covers:
            note += " Stated per interval: " + "; ".join(covers) + "."
        out += [f'<p class="note">{text(note)}</p>', table(*comparisons, cell_class=_verdict_class)]
    else:
        out.append('<p class="note">No comparisons: every group has a single strategy and model.</p>')
    best = best_table(board)
    if best:
        out += ["<h3>Best strategies per language</h3>",
                '<p class="note">A set: the strategy with the top mean and every strategy it is not better than at '
                "95%. A floored top is a cell that could not be scored, counted at its majority-class floor.</p>",
                table(*best)]
    out.append("</section>")
    return out


def _tables(board: Leaderboard) -> list[str]:
    out = ['<section id="tables"><h2>Scores per task</h2>',
           f'<p class="note">Macro-F1 in points, {text(spread(board))}; gap to gold in brackets; ★ best '
           "strategies per language.</p>"]
    for key, rows in groups(board).items():
        out.append(f"<h3>{text(_title(key))}</h3>")
        out.append(table(*strategy_table(board, key, rows)))
        gold = gold_by_language(board, key[0], key[2])
        for plot in (report_plots.heatmap(f"{key[0]}, {key[1]}", rows),
                     report_plots.gold_vs_best(f"{key[0]}, {key[1]}", rows, gold)):
            if plot:
                out.append(f'<figure class="plot">{plot}</figure>')
    out.append("</section>")
    return out


def _frontiers(board: Leaderboard) -> list[str]:
    """Gap against cost per frontier, with its table: a strategy that is better but costs ten times
    more says so."""
    table_ = frontier_table(board)
    if not table_:
        return []
    out = ['<section id="cost"><h2>Quality against cost</h2>', '<p class="note">Each point is a (strategy, '
           'model): its gap to gold (whisker: 95% interval) against what its data cost to make. Blue points are on '
           'the frontier (no other point has a smaller gap at a smaller cost), joined by the best gap reachable at '
           'each budget.</p>']
    out += [f"<p>{text(line.removeprefix('- '))}</p>" for line in frontier_lines(board)]
    for i, f in enumerate(board.frontiers or []):
        if plot := report_plots.frontier_chart(f, f"f{i}"):
            out.append(f'<figure class="plot">{plot}</figure>')
    out.append(table(*table_))
    return out + ["</section>"]


def _quality(board: Leaderboard) -> list[str]:
    quality = quality_table(board)
    if not quality:
        return []
    out = ['<section id="quality"><h2>Generation quality</h2>', f'<p class="note">{text(quality_note(board))}</p>',
           table(*quality)]
    correlation = correlation_table(board)
    if correlation:
        out += ["<h3>What predicts the gap</h3>", f'<p class="note">{text(CORRELATION_NOTE)}</p>', table(*correlation)]
    return out + ["</section>"]


def _candidate(c: Candidate, rejected: bool) -> str:
    out = f"<li><q>{text(c.text)}</q>"
    if c.off_language is True:
        out += '<span class="tag">off-language</span>'
    if rejected:
        out += f' <span class="why">{text(c.status or "")}</span>'
        if c.reason:
            out += f' <span class="why">reviser: “{text(c.reason)}”</span>'
    return out + "</li>"


def _cell_details(row: Result, samples: CellSamples | None, is_open: bool) -> str:
    g = row.generation
    head = (f"<b>{text(row.task)}/{text(row.language)}</b> {text(row.strategy)} · {text(row.model)}: "
            f"{g.accepted} of {g.requested} accepted")
    if samples is None:
        return f"<details><summary>{head}</summary><p class='note'>This strategy kept no candidates.json.</p></details>"
    kinds = [(k, n) for k, n in sorted(samples.statuses.items(), key=lambda kv: (-kv[1], kv[0])) if k != "accepted"]
    if kinds:
        head += "; not kept: " + text(", ".join(f"{k} ×{n}" for k, n in kinds))
    rows = []
    for cls in samples.classes:
        acc = "".join(_candidate(c, False) for c in cls.accepted) or "<li>none</li>"
        rej = "".join(_candidate(c, True) for c in cls.rejected) or "<li>none</li>"
        rows.append(f"<tr><td>{text(cls.label)}</td><td><ul>{acc}</ul></td><td><ul>{rej}</ul></td></tr>")
    body = (f"<p class='note'>{samples.candidates} parsed candidates.</p><div class='scroll'><table><thead><tr>"
            f"<th>class</th><th>accepted (first {PER_CLASS})</th><th>rejected (first {PER_CLASS}), with the reason"
            f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
    return f"<details{' open' if is_open else ''}><summary>{head}</summary>{body}</details>"


def _browser(board: Leaderboard, run_dir: Path | None) -> list[str]:
    out = ['<section id="samples"><h2>Samples</h2>']
    if run_dir is None:
        out.append('<p class="note">No run directory given (the report was made from a leaderboard file alone), so '
                   "no generated examples are shown: pass the run directory to <code>bench report</code>.</p>")
        return out + ["</section>"]
    out.append(f'<p class="note">Per generation cell, the first {PER_CLASS} accepted and the first {PER_CLASS} '
               "rejected candidates of every class in generation order, with the reason each was rejected (from the "
               "cell's candidates.json; candidates beyond the requested count, surplus, are not shown). Open a cell "
               "to read them.</p>")
    cells = [(row, cell_samples(run_dir, row)) for row in generation_cells(board)]
    # open the first cell that shows both kinds, so the page opens on what the filters do
    first = next((i for i, (_, s) in enumerate(cells)
                  if s and any(c.accepted for c in s.classes) and any(c.rejected for c in s.classes)), 0)
    for i, (row, samples) in enumerate(cells):
        out.append(_cell_details(row, samples, is_open=i == first))
    return out + ["</section>"]


def _predictions(board: Leaderboard) -> list[str]:
    logged = logged_samples(board)
    if not logged:
        return []
    items = "".join(f"<li>{text(r.task)}/{text(r.language)} {text(r.strategy)} "
                    f"[{text(r.classifier)}]: <code>{text(r.samples)}</code></li>" for r in logged)
    return ['<section id="predictions"><h2>Per-example predictions</h2><p class="note">Every test example\'s gold '
            "label and prediction per seed (<code>--log-samples</code>), relative to the run directory:</p>"
            f"<ul>{items}</ul></section>"]


def html_page(board: Leaderboard, run_dir: Path | None = None) -> str:
    """The whole page. `run_dir` lets the sample browser read each cell's candidates; without it the
    page says why there are no examples."""
    m = board.manifest
    sections = [("overview", "Gap to gold"), ("verdicts", "Verdicts"), ("tables", "Scores"),
                ("cost", "Quality against cost"), ("quality", "Generation quality"), ("samples", "Samples")]
    parts = [f"<h1>Leaderboard: {text(m.suite)}</h1>",
             "<nav>" + "".join(f'<a href="#{a}">{text(t)}</a>' for a, t in sections) + "</nav>",
             f"<p class='note'>Macro-F1 in points; gap to gold in F1 points (positive: synthetic worse than gold); "
             f"classifier seeds {text(m.seeds)}, generation replicates {text(replicates(board))}. harness "
             f"{text(m.harness_version)}, {text(m.device)}, settings {text(m.settings_hash)}, commit "
             f"{text(m.git_commit or '-')}.</p>"]
    parts += _overview(board) + _verdicts(board) + _tables(board) + _frontiers(board) + _quality(board)
    parts += _browser(board, run_dir)
    parts += _predictions(board)
    if board.unavailable:
        items = "".join(f"<li>{text(u.task)}/{text(u.language)} {text(u.strategy)} {text(u.model)}: "
                        f"{text(u.reason)}</li>" for u in board.unavailable)
        parts.append(f'<section id="unavailable"><h2>Unavailable</h2><ul>{items}</ul></section>')
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Leaderboard: {text(m.suite)}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
