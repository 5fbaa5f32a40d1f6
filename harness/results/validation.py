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

from harness.results.metrics import gap, paired_units, summary, units
from harness.store.cache import digest

#: how far a stored aggregate may be from the one recomputed from its per-seed values
TOLERANCE = 1e-9
METRICS = ("macro_f1", "accuracy")

Key = tuple[str, str, str, str, str]


def result_key(row: dict) -> Key:
    """What identifies a result: (task, language, strategy, model, classifier); a gold baseline is
    strategy `gold` with no model."""
    return (row["task"], row["language"], row.get("strategy", "gold"), row.get("model", ""), row["classifier"])


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


def _check_stat(stored: dict, expected: dict, where: str) -> str | None:
    for field in ("n", "mean", "std", "ci95"):
        if not _close(stored.get(field), expected.get(field)):
            return (f"{where}.{field} is {stored.get(field)!r} but its per_seed values give {expected.get(field)!r}; "
                    f"the aggregate does not match the values it summarises (rebuild the leaderboard with `bench run`)")
    if "over" in stored and "over" in expected and stored["over"] != expected["over"]:
        return f"{where}.over is {stored['over']!r} but its per_seed values are over {expected['over']}"
    return None


def _check_scores(scores: dict, where: str) -> str | None:
    per_seed = scores["per_seed"]
    for i, entry in enumerate(per_seed):
        for metric in METRICS:
            v = entry[metric]
            if not 0 <= v <= 1:
                return f"{where}.per_seed[{i}].{metric} is {v!r}; a score must be between 0 and 1"
    for metric in METRICS:
        values, over = units(per_seed, metric)
        expected = {**summary(list(values.values())), "over": over}
        if problem := _check_stat(scores[metric], expected, f"{where}.{metric}"):
            return problem
        mean = scores[metric]["mean"]
        if not 0 <= mean <= 1:
            return f"{where}.{metric}.mean is {mean!r}; a score must be between 0 and 1"
    return None


def problems(board: dict) -> list[str]:
    """Every semantic problem of a schema-valid leaderboard, each as `$.path: what is wrong`."""
    out: list[str] = []
    for parts, v in _numbers(board):
        if not math.isfinite(v):
            out.append(f"{json_path(parts)} is {v!r}; every number in a leaderboard must be finite")
    for parts, v in _not_text(board):
        out.append(f"{json_path(parts)} holds {v!r}, an unpaired surrogate escape that is not valid Unicode text")
    if out:  # the recomputations below would only repeat the same NaN
        return out

    m = board["manifest"]
    expected_hash = digest(m["settings"])[:16]
    if m["settings_hash"] != expected_hash:
        out.append(f"$.manifest.settings_hash is {m['settings_hash']!r} but the recorded settings hash to "
                   f"{expected_hash!r}; the settings were edited after the run")

    gold_by: dict[tuple[str, str, str], dict] = {}
    for section in ("gold", "results"):
        seen: dict[Key, int] = {}
        for i, row in enumerate(board[section]):
            where = f"$.{section}[{i}]"
            key = result_key(row)
            if key in seen:
                out.append(f"{where} repeats {section}[{seen[key]}] (task, language, strategy, model, classifier = "
                           f"{', '.join(key)}); each result may appear once")
            seen.setdefault(key, i)
            if row["scores"] and (problem := _check_scores(row["scores"], f"{where}.scores")):
                out.append(problem)
            if section == "gold":
                gold_by.setdefault((row["task"], row["language"], row["classifier"]), row)
                continue
            gold = gold_by.get((row["task"], row["language"], row["classifier"]))
            if gold is None or not row["scores"] or not row.get("gap_to_gold"):
                continue
            g_units, s_units, over = paired_units(gold["scores"]["per_seed"], row["scores"]["per_seed"])
            expected_gap = gap(g_units, s_units, over)
            if expected_gap is not None and (problem := _check_stat(row["gap_to_gold"]["points"], expected_gap["points"],
                                                                     f"{where}.gap_to_gold.points")):
                out.append(problem.replace("its per_seed values give", "its per_seed values and its gold baseline's give"))
    return out
