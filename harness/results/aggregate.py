"""Across a leaderboard's rows: the paired comparisons of strategies and of models, and the summaries
by language, strategy and model, from the rows the builder made (harness/results/builder.py)."""

from __future__ import annotations

from harness.results.metrics import paired_difference, paired_units
from harness.results.model import (
    Comparison,
    LanguageSummary,
    ModelSummary,
    Result,
    SeedScore,
    Stat,
    StrategySummary,
    Summaries,
)


def _f1(r: Result) -> float:
    """A row's mean macro-F1; a cell that could not be scored counts at its majority-class floor."""
    return r.scores.macro_f1.mean if r.scores else (r.floor.macro_f1 if r.floor else 0.0)


def _per_seed(r: Result, like: Result) -> list[SeedScore]:
    """A row's per-seed values; an unscored row stands at its floor for the seeds `like` has."""
    if r.scores:
        return r.scores.per_seed
    if not like.scores:
        return []
    accuracy = r.floor.accuracy if r.floor else 0.0
    return [SeedScore(replicate=x.replicate, seed=x.seed, macro_f1=_f1(r), accuracy=accuracy, floor=True)
            for x in like.scores.per_seed]


def _compare(a: Result, b: Result) -> dict | None:
    ua, ub, over = paired_units(_per_seed(a, b), _per_seed(b, a))
    return paired_difference(ua, ub, over)


def gap_points(r: Result) -> float | None:
    """A row's gap to gold in points; an unscored row's from its floor."""
    if r.gap_to_gold:
        return r.gap_to_gold.points.mean
    if not r.scores and r.gold:
        return 100.0 * (r.gold.macro_f1.mean - _f1(r))
    return None


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def comparisons(results: list[Result]) -> list[Comparison]:
    """Every pair of strategies (same task, language, model, classifier) and of models (same task,
    language, strategy, classifier): the paired difference (over replicates, or seeds with one
    replicate) and a verdict."""
    out = []
    for kind, fixed in (("strategy", "model"), ("model", "strategy")):
        groups: dict[tuple, list[Result]] = {}
        for r in results:
            groups.setdefault((r.task, r.language, getattr(r, fixed), r.classifier), []).append(r)
        for (task, language, held, clf), rows in groups.items():
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    diff = _compare(a, b)
                    if diff is None:
                        continue
                    out.append(Comparison(task=task, language=language, classifier=clf, compared=kind,
                                          **{fixed: held}, a=getattr(a, kind), b=getattr(b, kind),
                                          difference_points=Stat(**diff["points"]), verdict=diff["verdict"],
                                          floored=[getattr(x, kind) for x in (a, b) if not x.scores]))
    return out


def summaries(results: list[Result]) -> Summaries:
    return Summaries(by_language=_by_language(results), by_strategy=_by_strategy(results),
                     by_model=_by_model(results))


def _by_language(results: list[Result]) -> list[LanguageSummary]:
    groups: dict[tuple, list[Result]] = {}
    for r in results:
        groups.setdefault((r.task, r.language, r.model, r.classifier), []).append(r)
    out = []
    for (task, language, model, clf), rows in groups.items():
        top = max(rows, key=lambda r: (_f1(r), r.strategy))
        # the best is a set: every strategy the top one is not distinguishably better than
        best = sorted(r.strategy for r in rows
                      if r is top or ((_compare(top, r) or {}).get("verdict") != "better"))
        out.append(LanguageSummary(
            task=task, language=language, model=model, classifier=clf, best_strategy=top.strategy,
            best_strategies=best, best_macro_f1=_f1(top),
            gold_macro_f1=top.gold.macro_f1.mean if top.gold else None,
            gap_points=gap_points(top), floored=not top.scores))
    return out


def _by_strategy(results: list[Result]) -> list[StrategySummary]:
    groups: dict[tuple, list[Result]] = {}
    for r in results:
        groups.setdefault((r.task, r.model, r.classifier), []).append(r)
    out = []
    for (task, model, clf), rows in groups.items():
        strategies = list(dict.fromkeys(r.strategy for r in rows))
        langs = {s: {r.language for r in rows if r.strategy == s} for s in strategies}
        common = set.intersection(*langs.values())  # complete case: languages every strategy covers
        tiers = {r.language: r.tier for r in rows}
        for tier in ("all", "high", "low"):
            chosen = {lang for lang in common if tier == "all" or tiers[lang] == tier}
            if not chosen:
                continue
            for s in strategies:
                sel = [r for r in rows if r.strategy == s and r.language in chosen]
                gaps = [g for g in (gap_points(r) for r in sel) if g is not None]
                out.append(StrategySummary(
                    task=task, strategy=s, model=model, classifier=clf, tier=tier,
                    mean_macro_f1=_mean([_f1(r) for r in sel]), mean_gap_points=_mean(gaps),
                    languages=len(sel), floored=sum(1 for r in sel if not r.scores),
                    left_out=sorted(langs[s] - common)))
    return out


def _by_model(results: list[Result]) -> list[ModelSummary]:
    groups: dict[tuple, list[Result]] = {}
    for r in results:
        groups.setdefault((r.model, r.classifier), []).append(r)
    out = []
    for (model, clf), rows in groups.items():
        gaps = [g for g in (gap_points(r) for r in rows) if g is not None]
        out.append(ModelSummary(model=model, classifier=clf, mean_macro_f1=_mean([_f1(r) for r in rows]),
                                mean_gap_points=_mean(gaps), cells=len(rows),
                                floored=sum(1 for r in rows if not r.scores)))
    return out
