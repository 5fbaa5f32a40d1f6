"""What a leaderboard must satisfy beyond its JSON schema, checked wherever one is read (`bench
validate`, `bench compare`, `bench report`).

The schema cannot say that a number is finite (NaN passes every `minimum`/`maximum`), that an
aggregate agrees with the per-seed values it summarises, that a result appears once, or that the
settings hash is the hash of the settings. A leaderboard edited by hand, merged wrongly or
truncated can break any of these, and `bench compare` would then compare the wrong numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from harness.results.metrics import POINTS_RANGE, SCORE_RANGE, gap, paired_units, summary, units
from harness.results.model import Comparison, GoldResult, Leaderboard, Result, Scores, Stat
from harness.store.cache import digest

#: how far a stored aggregate may be from the one recomputed from its per-seed values
TOLERANCE = 1e-9
METRICS = ("macro_f1", "accuracy")

Key = tuple[str, str, str, str, str]


def json_path(parts: tuple) -> str:
    """`$.a[0].b`: where in a leaderboard a problem is, as schema errors and these checks both name it."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _numbers(value: Any, parts: tuple = ()) -> Iterator[tuple[tuple, float]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, (*parts, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, (*parts, i))
    elif isinstance(value, float):
        yield parts, value


def _not_text(value: Any, parts: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Strings (keys included) that cannot be written as UTF-8: JSON's `\\ud800` escapes an unpaired
    surrogate, which Python reads but no report or terminal can print."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _not_text(k, parts)
            yield from _not_text(v, (*parts, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _not_text(v, (*parts, i))
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            yield parts, value


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    return abs(float(a) - float(b)) <= TOLERANCE


def _check_stat(stored: Stat, expected: dict, where: str, bounds: tuple[float, float] = SCORE_RANGE) -> str | None:
    ci = stored.ci95
    if ci is not None and not bounds[0] <= ci[0] <= ci[1] <= bounds[1]:
        return (f"{where}.ci95 is {ci!r}, outside the metric's range [{bounds[0]:g}, {bounds[1]:g}]; an interval "
                "must be a statement about values the metric can take")
    for field in ("n", "mean", "std", "ci95"):
        if not _close(getattr(stored, field), expected.get(field)):
            return (f"{where}.{field} is {getattr(stored, field)!r} but its per_seed values give "
                    f"{expected.get(field)!r}; the aggregate does not match the values it summarises (rebuild the "
                    f"leaderboard with `bench run`)")
    if stored.over is not None and "over" in expected and stored.over != expected["over"]:
        return f"{where}.over is {stored.over!r} but its per_seed values are over {expected['over']}"
    return None


def _check_scores(scores: Scores, where: str) -> str | None:
    for i, entry in enumerate(scores.per_seed):
        for metric in METRICS:
            v = getattr(entry, metric)
            if not 0 <= v <= 1:
                return f"{where}.per_seed[{i}].{metric} is {v!r}; a score must be between 0 and 1"
    for metric in METRICS:
        values, over = units(scores.per_seed, metric)
        expected = {**summary(list(values.values())), "over": over}
        stored = getattr(scores, metric)
        if problem := _check_stat(stored, expected, f"{where}.{metric}"):
            return problem
        if not 0 <= stored.mean <= 1:
            return f"{where}.{metric}.mean is {stored.mean!r}; a score must be between 0 and 1"
    return None


def problems(data: dict) -> list[str]:
    """Every semantic problem of a schema-valid leaderboard document, each as `$.path: what is wrong`."""
    out: list[str] = []
    for parts, v in _numbers(data):
        if not math.isfinite(v):
            out.append(f"{json_path(parts)} is {v!r}; every number in a leaderboard must be finite")
    for parts, v in _not_text(data):
        out.append(f"{json_path(parts)} holds {v!r}, an unpaired surrogate escape that is not valid Unicode text")
    if out:  # the recomputations below would only repeat the same NaN
        return out

    board = Leaderboard.from_json(data)
    m = board.manifest
    expected_hash = digest(m.settings)[:16]
    if m.settings_hash != expected_hash:
        out.append(f"$.manifest.settings_hash is {m.settings_hash!r} but the recorded settings hash to "
                   f"{expected_hash!r}; the settings were edited after the run")
    out += _repeats("gold", board.gold) + _repeats("results", board.results)
    for i, gold in enumerate(board.gold):
        if problem := _check_scores(gold.scores, f"$.gold[{i}].scores"):
            out.append(problem)
    for i, row in enumerate(board.results):
        where = f"$.results[{i}]"
        if row.scores and (problem := _check_scores(row.scores, f"{where}.scores")):
            out.append(problem)
        gold = board.gold_for(row.task, row.language, row.classifier)
        if gold is None or not row.scores or not row.gap_to_gold:
            continue
        expected_gap = gap(*paired_units(gold.scores.per_seed, row.scores.per_seed))
        if expected_gap is not None and (problem := _check_stat(row.gap_to_gold.points, expected_gap["points"],
                                                                 f"{where}.gap_to_gold.points", POINTS_RANGE)):
            out.append(problem.replace("its per_seed values give", "its per_seed values and its gold baseline's give"))
    out += [p for i, c in enumerate(board.comparisons) if (p := _check_verdict(c, f"$.comparisons[{i}]"))]
    return out


def _check_verdict(c: Comparison, where: str) -> str | None:
    """A verdict must follow from its interval: `better` and `worse` need one that excludes zero,
    and an interval of width zero (identical paired differences) measured no variance at all."""
    ci = c.difference_points.ci95
    low, high = POINTS_RANGE
    if ci is not None and not low <= ci[0] <= ci[1] <= high:
        return (f"{where}.difference_points.ci95 is {ci!r}, outside the range of a difference [{low:g}, {high:g}] "
                "points; an interval must be a statement about values the metric can take")
    if ci is not None and ci[0] == ci[1] and c.difference_points.n > 1:
        return (f"{where}.difference_points.ci95 is {ci!r}, an interval of width zero: its {c.difference_points.n} "
                "paired differences are identical, so no variance was measured and no interval or verdict can be "
                "claimed (rebuild the leaderboard with `bench run`)")
    follows = ("better" if ci and ci[0] > 0 else "worse" if ci and ci[1] < 0 else "not distinguishable")
    if c.verdict != follows:
        return (f"{where}.verdict is {c.verdict!r} but its interval {ci!r} gives {follows!r}; a verdict must "
                "follow from the interval it reports")
    return None


def _repeats(section: str, rows: list[Result] | list[GoldResult]) -> list[str]:
    out = []
    seen: dict[Key, int] = {}
    for i, row in enumerate(rows):
        if row.key in seen:
            out.append(f"$.{section}[{i}] repeats {section}[{seen[row.key]}] (task, language, strategy, model, "
                       f"classifier = {', '.join(row.key)}); each result may appear once")
        seen.setdefault(row.key, i)
    return out
