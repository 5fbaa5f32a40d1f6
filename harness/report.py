"""Readable leaderboards: a markdown report, and one self-contained HTML page with the same tables
and plots (drawn with matplotlib, embedded as SVG: no network needed to view it)."""

from __future__ import annotations

import html
import io
from collections.abc import Iterable

GROUP = tuple[str, str, str]  # task, model, classifier


def _groups(board: dict) -> dict[GROUP, list[dict]]:
    out: dict[GROUP, list[dict]] = {}
    for r in board["results"]:
        out.setdefault((r["task"], r["model"], r["classifier"]), []).append(r)
    return out


def _gold(board: dict, task: str, classifier: str) -> dict[str, dict]:
    return {g["language"]: g for g in board["gold"] if g["task"] == task and g["classifier"] == classifier}


def _table(board: dict, key: GROUP, rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells: strategies as rows, languages as columns; the best strategy per language
    is marked with a star."""
    task, model, clf = key
    langs = list(dict.fromkeys(r["language"] for r in rows))
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    cell = {(r["strategy"], r["language"]): r for r in rows}
    best: dict[str, set[str]] = {}
    for b in board["summaries"]["by_language"]:
        if (b["task"], b["model"], b["classifier"]) == key:
            best[b["language"]] = set(b["best_strategies"])
    header = ["strategy"] + langs
    body = []
    for s in strategies:
        line = [s]
        for lang in langs:
            r = cell.get((s, lang))
            if r is None:
                line.append("-")
            elif not r["scores"]:
                floor = (r.get("floor") or {}).get("macro_f1")
                line.append("not scored" + (f" (floor {100 * floor:.1f})" if floor is not None else "")
                            + (" ★" if s in best.get(lang, set()) else ""))
            else:
                text = _mean_std(r["scores"]["macro_f1"])
                if r["gap_to_gold"]:
                    text += f" (gap {r['gap_to_gold']['points']['mean']:+.1f})"
                if s in best.get(lang, set()):
                    text = "★ " + text
                line.append(text)
        body.append(line)
    gold = _gold(board, task, clf)
    gold_line = ["gold"]
    for lang in langs:
        g = gold.get(lang)
        gold_line.append(_mean_std(g["scores"]["macro_f1"]) if g else "unavailable")
    body.append(gold_line)
    return header, body


def _mean_std(stat: dict) -> str:
    if stat["std"] is None:
        return f"{100 * stat['mean']:.1f} (1 seed)"
    return f"{100 * stat['mean']:.1f} ± {100 * stat['std']:.1f}"


def _comparison_lines(board: dict) -> list[str]:
    rows = board.get("comparisons", [])
    if not rows:
        return []
    out = ["## Comparisons", "", "a minus b in macro-F1 points, paired by classifier seed, 95% interval.", "",
           "| task | language | classifier | held fixed | a | b | a - b | verdict |", "|---|---|---|---|---|---|---|---|"]
    for c in rows:
        held = c.get("model") if c["compared"] == "strategy" else c.get("strategy")
        d = c["difference_points"]
        ci = "" if d["ci95"] is None else f" [{d['ci95'][0]:+.1f}, {d['ci95'][1]:+.1f}]"
        out.append(f"| {c['task']} | {c['language']} | {c['classifier']} | {held} | {c['a']} | {c['b']} | "
                   f"{d['mean']:+.1f}{ci} | {c['verdict']} |")
    return out + [""]


def markdown(board: dict) -> str:
    m = board["manifest"]
    out = [f"# Leaderboard: {m['suite']}", "",
           f"Macro-F1 (mean ± std over seeds {m['seeds']}, in points); gap to gold in F1 points (positive: synthetic "
           f"data is worse than the same amount of gold data); ★ best strategies per language: the top mean and every "
           f"strategy it is not better than at 95%.", "", f"Intervals: {m.get('intervals', 'over classifier seeds')}.", "",
           f"harness {m['harness_version']}, {m['device']}, settings {m['settings_hash']}, commit {m['git_commit'] or '-'}", ""]
    for key, rows in _groups(board).items():
        header, body = _table(board, key, rows)
        out += [f"## {key[0]} — generator {key[1]}, classifier {key[2]}", "",
                "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(line) + " |" for line in body]
        out.append("")
    out += _comparison_lines(board)
    logged = [(r.get("strategy", "gold"), r) for r in board["results"] + board["gold"] if r.get("samples")]
    if logged:
        out += ["## Per-example predictions", "", "Every test example's gold label and prediction per seed "
                "(`--log-samples`), relative to the run directory:", ""]
        out += [f"- {r['task']}/{r['language']} {name} [{r['classifier']}]: [{r['samples']}]({r['samples']})"
                for name, r in logged]
        out.append("")
    if board["unavailable"]:
        out += ["## Unavailable", ""]
        out += [f"- {u['task']}/{u['language']} {u['strategy']} {u['model']}: {u['reason']}" for u in board["unavailable"]]
        out.append("")
    return "\n".join(out)


def _svg(fig) -> str:
    buf = io.StringIO()
    import matplotlib as mpl

    mpl.rcParams["svg.hashsalt"] = "lowres-bench"  # stable element ids: the same leaderboard gives the same page
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _heatmap(key: GROUP, rows: list[dict]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    langs = list(dict.fromkeys(r["language"] for r in rows))
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    grid = np.full((len(strategies), len(langs)), np.nan)
    for r in rows:
        if r["gap_to_gold"]:
            grid[strategies.index(r["strategy"]), langs.index(r["language"])] = r["gap_to_gold"]["points"]["mean"]
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
    ax.set_title(f"gap to gold (F1 points): {key[0]}, {key[1]}", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.04)
    return _svg(fig)


def _bars(board: dict, key: GROUP, rows: list[dict]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gold = _gold(board, key[0], key[2])
    langs = [lang for lang in dict.fromkeys(r["language"] for r in rows)]
    best, gold_v = [], []
    for lang in langs:
        scored = [r["scores"]["macro_f1"]["mean"] for r in rows if r["language"] == lang and r["scores"]]
        best.append(100 * max(scored) if scored else 0.0)
        gold_v.append(100 * gold[lang]["scores"]["macro_f1"]["mean"] if lang in gold else 0.0)
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
    ax.set_title(f"gold vs best synthetic: {key[0]}, {key[1]}", fontsize=9)
    return _svg(fig)


def _html_table(header: Iterable[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in line) + "</tr>" for line in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def html_page(board: dict) -> str:
    m = board["manifest"]
    parts = [f"<h1>Leaderboard: {html.escape(m['suite'])}</h1>",
             f"<p>Macro-F1 in points (mean ± std over seeds {html.escape(str(m['seeds']))}); gap to gold in F1 points "
             f"(positive: synthetic worse than gold); ★ best strategy per language. harness {html.escape(m['harness_version'])}, "
             f"{html.escape(m['device'])}, settings {html.escape(m['settings_hash'])}.</p>"]
    for key, rows in _groups(board).items():
        header, body = _table(board, key, rows)
        parts.append(f"<section><h2>{html.escape(key[0])} — generator {html.escape(key[1])}, classifier {html.escape(key[2])}</h2>")
        parts.append(_html_table(header, body))
        for plot in (_heatmap(key, rows), _bars(board, key, rows)):
            if plot:
                parts.append(f'<figure class="plot">{plot}</figure>')
        parts.append("</section>")
    if board["unavailable"]:
        items = "".join(f"<li>{html.escape(u['task'])}/{html.escape(u['language'])} {html.escape(u['strategy'])} "
                        f"{html.escape(u['model'])}: {html.escape(u['reason'])}</li>" for u in board["unavailable"])
        parts.append(f"<section><h2>Unavailable</h2><ul>{items}</ul></section>")
    style = ("body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px}table{border-collapse:collapse;"
             "margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}th{background:#f3f3f3}"
             "figure.plot{display:inline-block;margin:0 1rem 1rem 0}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Leaderboard: {html.escape(m['suite'])}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")
