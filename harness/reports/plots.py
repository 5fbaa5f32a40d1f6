"""The report's plots, drawn with matplotlib and returned as inline SVG text. Every figure is drawn
from plain data (`GapBar`s, rows of the leaderboard), so tests can check what a chart shows without
reading pixels, and the same leaderboard always gives the same bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass

from harness.results.model import GoldResult, Result

TIERS = {"high": "mid/high resource", "low": "low resource"}
#: the SVG group id prefix of the whiskers: one path per bar that has an interval
WHISKERS = "gap-whiskers"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def svg(fig) -> str:
    """The figure as an `<svg>` element with stable ids and no date, so the page is reproducible."""
    import matplotlib as mpl

    mpl.rcParams["svg.hashsalt"] = "lowres-bench"
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    _pyplot().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


@dataclass(frozen=True)
class GapBar:
    """One bar of the overview: a strategy's gap to gold in one language, in F1 points."""

    language: str
    tier: str
    strategy: str
    mean: float
    interval: tuple[float, float] | None  # the 95% interval; None draws no whisker
    why_no_interval: str | None = None  # "1 value", "identical values", "floored": said in the caption instead
    covers: str | None = None  # what the interval covers, where the leaderboard says so per stat


def gap_bars(rows: list[Result]) -> list[GapBar]:
    """A bar for every row with a gap to gold: its paired gap and interval, or, for a cell that could
    not be scored, the gap of its majority-class floor (no interval: nothing was trained). Rows
    without a gold baseline get no bar."""
    out = []
    for r in rows:
        block = r.gap_to_gold
        if block:
            stat = block.points
            ci = stat.ci95
            why = None if ci else ("1 value" if stat.n == 1 else "identical values" if stat.no_interval else "none given")
            out.append(GapBar(r.language, r.tier, r.strategy, stat.mean, (ci[0], ci[1]) if ci else None, why,
                              stat.over))
        elif not r.scores and r.gold and r.floor:
            mean = 100.0 * (r.gold.macro_f1.mean - r.floor.macro_f1)
            out.append(GapBar(r.language, r.tier, r.strategy, mean, None, "floored"))
    return out


def gap_overview(bars: list[GapBar], strategies: list[str], title: str, fig_id: str) -> str | None:
    """Grouped bars per language, one panel per resource tier, a whisker on every bar that has an
    interval; hatched bars are cells counted at their majority-class floor."""
    if not bars:
        return None
    plt = _pyplot()
    tiers = [t for t in TIERS if any(b.tier == t for b in bars)]
    langs = {t: list(dict.fromkeys(b.language for b in bars if b.tier == t)) for t in tiers}
    fig, axes = plt.subplots(1, len(tiers), sharey=True, squeeze=False,
                             figsize=(max(4.5, 1.4 + 0.45 * len(strategies) * sum(map(len, langs.values()))
                                          + 0.8 * len(tiers)), 3.4),
                             gridspec_kw={"width_ratios": [len(langs[t]) for t in tiers]})
    colors = {s: plt.get_cmap("tab10")(i % 10) for i, s in enumerate(strategies)}
    width = 0.8 / max(1, len(strategies))
    for ax, tier in zip(axes[0], tiers):
        xs, lows, highs, means = [], [], [], []
        for b in bars:
            if b.tier != tier:
                continue
            x = langs[tier].index(b.language) + (strategies.index(b.strategy) - (len(strategies) - 1) / 2) * width
            ax.bar(x, b.mean, width=width, color=colors[b.strategy], edgecolor="#333", linewidth=0.5,
                   hatch="///" if b.why_no_interval == "floored" else None)
            if b.interval:
                xs.append(x)
                means.append(b.mean)
                lows.append(b.mean - b.interval[0])
                highs.append(b.interval[1] - b.mean)
        if xs:
            eb = ax.errorbar(xs, means, yerr=[lows, highs], fmt="none", ecolor="#111", elinewidth=1, capsize=3)
            eb.lines[2][0].set_gid(f"{WHISKERS}-{fig_id}-{tier}")
        ax.axhline(0, color="#555", linewidth=0.8)
        ax.set_xticks(range(len(langs[tier])), langs[tier])
        ax.set_title(TIERS[tier], fontsize=9)
    axes[0][0].set_ylabel("gap to gold (F1 points)\n+ : synthetic worse", fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[s]) for s in strategies]
    fig.legend(handles, strategies, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(4, len(strategies)), frameon=False)
    fig.suptitle(title, fontsize=9)
    return svg(fig)


def heatmap(title: str, rows: list[Result]) -> str | None:
    """Mean gap to gold per strategy (rows) and language (columns)."""
    import numpy as np

    plt = _pyplot()
    langs = list(dict.fromkeys(r.language for r in rows))
    strategies = list(dict.fromkeys(r.strategy for r in rows))
    grid = np.full((len(strategies), len(langs)), np.nan)
    for r in rows:
        if r.gap_to_gold:
            grid[strategies.index(r.strategy), langs.index(r.language)] = r.gap_to_gold.points.mean
    if np.isnan(grid).all():
        return None
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(langs), 1.0 + 0.45 * len(strategies)))
    lim = float(np.nanmax(np.abs(grid))) or 1.0
    im = ax.imshow(grid, cmap="RdYlGn_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(strategies)), strategies)
    for i in range(len(strategies)):
        for j in range(len(langs)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.1f}", ha="center", va="center", fontsize=8)
    ax.set_title(f"gap to gold (F1 points): {title}", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.04)
    return svg(fig)


def gold_vs_best(title: str, rows: list[Result], gold: dict[str, GoldResult]) -> str | None:
    """Per language, the gold macro-F1 beside the best synthetic one."""
    plt = _pyplot()
    langs = list(dict.fromkeys(r.language for r in rows))
    best, gold_v = [], []
    for lang in langs:
        scored = [r.scores.macro_f1.mean for r in rows if r.language == lang and r.scores]
        best.append(100 * max(scored) if scored else 0.0)
        gold_v.append(100 * gold[lang].scores.macro_f1.mean if lang in gold else 0.0)
    if not any(best) and not any(gold_v):
        return None
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * len(langs), 2.6))
    xs = range(len(langs))
    ax.bar([x - 0.2 for x in xs], gold_v, width=0.4, label="gold", color="#4c72b0")
    ax.bar([x + 0.2 for x in xs], best, width=0.4, label="best synthetic", color="#dd8452")
    ax.set_xticks(list(xs), langs)
    ax.set_ylabel("macro-F1")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title(f"gold vs best synthetic: {title}", fontsize=9)
    return svg(fig)


#: the SVG id prefix of a frontier chart's frontier line (one per chart)
FRONTIER_LINE = "frontier-line"


def frontier_chart(frontier, fig_id: str) -> str | None:
    """Gap to gold against cost, one point per (strategy, model) with its interval as a whisker, the
    frontier's points joined by a step line (the best gap reachable at each budget)."""
    points = frontier.points
    if not points:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for p in points:
        ax.scatter([p.cost], [p.gap_points], s=36, zorder=3, color="#1f77b4" if p.on_frontier else "#bbbbbb",
                   edgecolor="#333", linewidth=0.5)
        if p.gap_ci95:
            ax.errorbar([p.cost], [p.gap_points], yerr=[[p.gap_points - p.gap_ci95[0]], [p.gap_ci95[1] - p.gap_points]],
                        fmt="none", ecolor="#555", elinewidth=1, capsize=3)
        ax.annotate(f"{p.strategy}\n{p.model}" if len({q.model for q in points}) > 1 else p.strategy,
                    (p.cost, p.gap_points), textcoords="offset points", xytext=(5, 4), fontsize=7)
    on = sorted((p for p in points if p.on_frontier), key=lambda p: p.cost)
    (line,) = ax.step([p.cost for p in on], [p.gap_points for p in on], where="post", color="#1f77b4", linewidth=1.2,
                      zorder=2)
    line.set_gid(f"{FRONTIER_LINE}-{fig_id}")
    ax.axhline(0, color="#555", linewidth=0.8)
    ax.set_xlabel(f"cost ({frontier.unit})", fontsize=8)
    ax.set_ylabel("gap to gold (F1 points)\n+ : synthetic worse", fontsize=8)
    where = frontier.language.replace("tier:", "") + (" resource, pooled" if frontier.language.startswith("tier:") else "")
    ax.set_title(f"quality against cost: {frontier.task}, {where} [{frontier.classifier}]", fontsize=9)
    return svg(fig)
