"""Scores and the statistics reported for them: macro-F1 and accuracy per seed; mean, sample
standard deviation and a Student-t 95% interval over the independent units of a result (generation
replicates when there are two or more, classifier seeds otherwise); the gap to gold paired by unit.

Every interval is the Student-t interval intersected with the metric's range ([0, 1] for a score,
[-100, 100] points for a difference). The mean being estimated lies in that range, so the
intersection contains it exactly when the t interval does: the coverage is unchanged, and no
interval, whisker or verdict claims a value the metric cannot take (with 2-5 seeds a bootstrap
would under-cover and a logit transform breaks at scores of 0 or 1)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean
from typing import Any

from scipy import stats
from sklearn.metrics import accuracy_score, f1_score


def scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Macro-F1 over the labels present in the test set (a class absent from the test set would
    otherwise count as a zero), and accuracy."""
    present = [lab for lab in labels if lab in set(gold)]
    return {
        "macro_f1": float(f1_score(gold, pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(gold, pred)),
    }


#: the range of a score (macro-F1, accuracy as fractions) and of a paired difference in points
SCORE_RANGE = (0.0, 1.0)
POINTS_RANGE = (-100.0, 100.0)


def summary(values: Sequence[float], what: str = "values",
            bounds: tuple[float, float] = SCORE_RANGE) -> dict[str, Any]:
    """Mean, sample standard deviation and a Student-t 95% interval within `bounds`. One value has no spread to
    estimate: its std and interval are null, never a zero-width interval that claims certainty.
    Identical values are the same case: n equal numbers are one measurement (a classifier that
    ignores its seed scores every seed the same), so the interval is null and `no_interval` says
    why, naming the values as `what`."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "std": None, "ci95": None, "n": 1}
    if all(v == values[0] for v in values):
        return {"mean": float(values[0]), "std": 0.0, "ci95": None, "n": n,
                "no_interval": f"all {n} {what} are identical: no variance was measured"}
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    if not mean - half < mean + half:  # values apart by less than the arithmetic resolves
        return {"mean": mean, "std": std, "ci95": None, "n": n,
                "no_interval": f"all {n} {what} are identical to the precision of the arithmetic: no variance was "
                               "measured"}
    return {"mean": mean, "std": std, "ci95": [max(mean - half, bounds[0]), min(mean + half, bounds[1])], "n": n}


#: what the n values behind an interval are
SEEDS = "classifier seeds"
REPLICATES = "generation replicates"


def _value(row: Any, key: str) -> Any:
    """A per-seed value: rows are the dicts of a scores file or the leaderboard's SeedScore."""
    return row.get(key) if isinstance(row, Mapping) else getattr(row, key)


def _replicate(row: Any) -> int:
    return int(_value(row, "replicate") or 0)


def units(per_seed: Sequence[Any], key: str = "macro_f1",
          replicates: Iterable[int] | None = None) -> tuple[dict[int, float], str]:
    """The independent values an interval is computed over, and what they are.

    With two or more generation replicates, each replicate (its own generation, demonstrations,
    classifier seeds and, with `gold = "random"`, gold draw) is one value: its mean over classifier
    seeds. Seeds within a replicate share that replicate's generated set, so treating them as
    independent would understate the variance. With one replicate the values are the seeds, and
    the interval covers classifier randomness only. `replicates` restricts to those replicates."""
    keep = None if replicates is None else set(replicates)
    rows = [r for r in per_seed if keep is None or _replicate(r) in keep]
    reps = sorted({_replicate(r) for r in rows})
    if len(reps) >= 2:
        return {rep: fmean(_value(r, key) for r in rows if _replicate(r) == rep) for rep in reps}, REPLICATES
    return {int(_value(r, "seed")): _value(r, key) for r in rows}, SEEDS


def paired_units(a: Sequence[Any], b: Sequence[Any],
                 key: str = "macro_f1") -> tuple[dict[int, float], dict[int, float], str]:
    """The values of two results to pair: replicate means over the replicates both have when there
    are two or more, otherwise the seeds of their one shared replicate (seeds share the classifier's
    randomness, replicates share demonstrations and seeds: both pairings are fair)."""
    common = sorted({_replicate(r) for r in a} & {_replicate(r) for r in b})
    chosen = common if len(common) >= 2 else common[:1]
    ua, over = units(a, key, chosen)
    ub, _ = units(b, key, chosen)
    return ua, ub, over


def paired_difference(a_by_unit: dict[int, float], b_by_unit: dict[int, float], over: str = SEEDS) -> dict | None:
    """a minus b in F1 points (0-100), paired over the units both have (`over`: classifier seeds or
    generation replicates), with a verdict: `better` or `worse` when the 95% interval excludes zero,
    otherwise `not distinguishable` (also with fewer than two units, and when every paired
    difference is the same: no variance was measured, so there is no interval to exclude zero)."""
    paired = sorted(set(a_by_unit) & set(b_by_unit))
    if not paired:
        return None
    out = {**summary([100.0 * (a_by_unit[u] - b_by_unit[u]) for u in paired], f"paired differences over {over}",
                     POINTS_RANGE),
           "over": over}
    ci = out["ci95"]
    if ci is not None and ci[0] > 0:
        verdict = "better"
    elif ci is not None and ci[1] < 0:
        verdict = "worse"
    else:
        verdict = "not distinguishable"
    return {"points": out, "verdict": verdict, "paired_over": over, "paired": paired}


def gap(gold_by_unit: dict[int, float], synth_by_unit: dict[int, float], over: str = SEEDS) -> dict | None:
    """Gold minus synthetic macro-F1 in F1 points (0-100), paired over the units both have, and
    relative to gold. Positive = synthetic data is worse than the same amount of real data."""
    diff = paired_difference(gold_by_unit, synth_by_unit, over)
    if diff is None:
        return None
    paired, out = diff["paired"], diff["points"]
    gold_mean = sum(gold_by_unit[u] for u in paired) / len(paired)
    return {
        "points": out,
        "relative": (out["mean"] / (100.0 * gold_mean)) if gold_mean > 0 else None,
        "paired_over": over,
        "paired": paired,
    }
