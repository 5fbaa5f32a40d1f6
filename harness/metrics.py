"""Scores and the statistics reported for them: macro-F1 and accuracy per seed; mean, sample
standard deviation and a Student-t 95% interval over seeds; the gap to gold paired by seed."""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def summary(values: Sequence[float]) -> dict[str, float | list[float] | int | None]:
    """Mean, sample standard deviation and a Student-t 95% interval. One value has no spread to
    estimate: its std and interval are null, never a zero-width interval that claims certainty."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "std": None, "ci95": None, "n": 1}
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": n}


def paired_difference(a_by_seed: dict[int, float], b_by_seed: dict[int, float]) -> dict | None:
    """a minus b in F1 points (0-100), paired over the classifier seeds both have (they share the
    classifier's randomness), with a verdict: `better` or `worse` when the 95% interval excludes
    zero, otherwise `not distinguishable` (also with fewer than two seeds)."""
    seeds = sorted(set(a_by_seed) & set(b_by_seed))
    if not seeds:
        return None
    out = summary([100.0 * (a_by_seed[s] - b_by_seed[s]) for s in seeds])
    ci = out["ci95"]
    if ci is not None and ci[0] > 0:
        verdict = "better"
    elif ci is not None and ci[1] < 0:
        verdict = "worse"
    else:
        verdict = "not distinguishable"
    return {"points": out, "verdict": verdict, "paired_seeds": seeds}


def gap(gold_by_seed: dict[int, float], synth_by_seed: dict[int, float]) -> dict | None:
    """Gold minus synthetic macro-F1 in F1 points (0-100), paired over the seeds both have, and
    relative to gold. Positive = synthetic data is worse than the same amount of real data."""
    diff = paired_difference(gold_by_seed, synth_by_seed)
    if diff is None:
        return None
    seeds, out = diff["paired_seeds"], diff["points"]
    gold_mean = sum(gold_by_seed[s] for s in seeds) / len(seeds)
    return {
        "points": out,
        "relative": (out["mean"] / (100.0 * gold_mean)) if gold_mean > 0 else None,
        "paired_seeds": seeds,
    }
