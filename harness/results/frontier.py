"""Quality against cost: what each row's data cost to make, and per task, language (and tier,
pooled) and classifier the Pareto set of (strategy, model) over (gap to gold, cost).

The paper's second finding is a trade-off: good prompting narrows the advantage of larger models. A
leaderboard that only ranks by score hides it; the frontier shows which data is worth making at each
budget, and how many times the cheapest frontier point a better one costs.

Cost is counted in one unit per frontier: a price where every model of it declares one
(`[models."X"] price`, per million tokens or per GPU-hour of engine time), else tokens (prompt plus
completion). Not engine-seconds, although they are recorded: they are a clock, zero for generations the
cache answered and different on another machine, so a frontier drawn in them would change with a rerun;
tokens are counted whether the cache answered or not, and the same command gives the same frontier.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harness.records import GenerationStats
from harness.results.model import Cost, Frontier, FrontierPoint, Result

_SHARE_KEYS = ("llm_calls", "prompt_tokens", "completion_tokens", "engine_seconds")


def row_cost(gens: Sequence[GenerationStats], summaries: Mapping[str, float] | None,
             price: Mapping[str, float] | None) -> Cost:
    """A row's cost from its replicates' generation statistics, its share of the label summaries it
    showed, and its model's declared price."""
    tokens_in = sum(g.prompt_tokens for g in gens) + int((summaries or {}).get("prompt_tokens", 0))
    tokens_out = sum(g.completion_tokens for g in gens) + int((summaries or {}).get("completion_tokens", 0))
    seconds = sum(float(g.engine_seconds) for g in gens) + float((summaries or {}).get("engine_seconds", 0))
    revision = {k: sum(float(getattr(g.revision, k)) for g in gens if g.revision is not None) for k in _SHARE_KEYS}
    kinds = sorted({kind for kind in (g.device_kind for g in gens) if kind})
    cost = Cost(prompt_tokens=tokens_in, completion_tokens=tokens_out, engine_seconds=round(seconds, 3),
                device_kinds=kinds, revision={k: round(v, 3) for k, v in revision.items()} if revision["llm_calls"] else None,
                label_summaries=dict(summaries) if summaries else None)
    if price:
        if "gpu_hour" in price:
            cost.price, cost.price_basis = round(seconds / 3600 * float(price["gpu_hour"]), 6), "gpu_hour"
        else:
            cost.price = round((tokens_in * float(price.get("input_per_mtok", 0))
                                + tokens_out * float(price.get("output_per_mtok", 0))) / 1e6, 6)
            cost.price_basis = "tokens"
    return cost


def summary_shares(shared: Iterable[Mapping[str, Any]], users: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], dict]:
    """(task, summarizer) -> each showing generation cell's share of that task's label summaries:
    their work split evenly over the `users` (generation cells that showed them)."""
    out = {}
    for work in shared:
        key = (str(work.get("task")), str(work.get("model")))
        if users.get(key):
            out[key] = {k: round(float(work.get(k) or 0) / users[key], 3) for k in _SHARE_KEYS}
    return out


def _unit(rows: Sequence[Result]) -> str:
    return "price" if all(r.cost and r.cost.price is not None for r in rows) else "tokens"


def _value(row: Result, unit: str) -> float:
    assert row.cost is not None
    if unit == "price":
        return float(row.cost.price or 0.0)
    return float(row.cost.prompt_tokens + row.cost.completion_tokens)


def pareto(points: list[FrontierPoint]) -> list[FrontierPoint]:
    """Marks the points no other point dominates (a gap no larger at a cost no larger, one of them
    smaller), and each point's cost against the cheapest frontier point."""
    for p in points:
        p.on_frontier = not any(q is not p and q.gap_points <= p.gap_points and q.cost <= p.cost
                                and (q.gap_points < p.gap_points or q.cost < p.cost) for q in points)
    cheapest = min(p.cost for p in points if p.on_frontier)
    for p in points:
        p.times_cheapest = round(p.cost / cheapest, 2) if cheapest > 0 else None
    return sorted(points, key=lambda p: (p.cost, p.gap_points, p.strategy, p.model))


def _point(strategy: str, model: str, rows: Sequence[Result], unit: str) -> FrontierPoint:
    gaps = [r.gap_to_gold.points for r in rows if r.gap_to_gold]
    ci = gaps[0].ci95 if len(rows) == 1 and gaps[0].ci95 else None
    return FrontierPoint(strategy=strategy, model=model, gap_points=round(statistics.fmean(g.mean for g in gaps), 3),
                         gap_ci95=[round(ci[0], 3), round(ci[1], 3)] if ci else None,
                         cost=round(statistics.fmean(_value(r, unit) for r in rows), 6), on_frontier=False,
                         times_cheapest=None, languages=len(rows))


def frontiers(results: Sequence[Result]) -> list[Frontier]:
    """Per task, language and classifier, then per task, tier and classifier (languages pooled: mean
    gap and mean cost per language), a frontier over every row with a gap to gold and a cost; groups
    with fewer than two points have no trade-off to show and are left out."""
    rows = [r for r in results if r.gap_to_gold and r.cost]
    out: list[Frontier] = []
    groups: dict[tuple[str, str, str], list[Result]] = {}
    for r in rows:
        groups.setdefault((r.task, r.language, r.classifier), []).append(r)
        groups.setdefault((r.task, f"tier:{r.tier}", r.classifier), []).append(r)
    for (task, where, clf), members in sorted(groups.items()):
        by_pair: dict[tuple[str, str], list[Result]] = {}
        for r in members:
            by_pair.setdefault((r.strategy, r.model), []).append(r)
        if len(by_pair) < 2 or (where.startswith("tier:") and len({r.language for r in members}) < 2):
            continue  # one language's tier repeats that language's frontier
        unit = _unit(members)
        points = pareto([_point(s, m, rs, unit) for (s, m), rs in by_pair.items()])
        out.append(Frontier(task=task, language=where, classifier=clf, unit=unit, points=points))
    return out
