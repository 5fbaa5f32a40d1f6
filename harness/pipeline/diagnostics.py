"""Properties of a cell's synthetic data that may explain its score, in the terms the synthetic-data
literature explains usefulness with: do the examples carry the label they were generated for, how
varied are they, how close are they to the real distribution.

All three read the shared e5 embeddings (`harness.kits.embeddings`, cached in the store):

- *label fidelity*: the share of synthetic examples that the label-fidelity reader (the classifier
  that declares `reads_label_fidelity`; e5-logreg among the built-ins) trained on the gold subset of
  the same replicate and seed assigns to the label they were generated for, averaged over the seeds;
  the same classifier's accuracy on the gold test set is its ceiling (a classifier that reads gold
  test data at 60% cannot be expected to confirm synthetic labels at 90%). One reader rather than the
  row's classifier: one measure for every row, cheap because the gold vectors are cached.
- *diversity*: the mean pairwise cosine distance of a class's examples, averaged over classes, beside
  the gold subset's.
- *distance to gold*: per class, the kernel distance of the synthetic and gold embeddings, averaged
  over classes. KID (the unbiased squared MMD with the cubic polynomial kernel k(x, y) = (x.y/d + 1)^3,
  Binkowski et al., 2018) rather than the Frechet distance: with 8 to 100 examples of a class in 384
  dimensions a covariance cannot be estimated, so a Frechet distance would measure its estimation
  noise; KID needs no covariance, is unbiased at any sample size, and its kernel is fixed, so values
  compare across cells.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.contracts import Example

#: fit the label-fidelity reader on the first argument, predict the texts of the second, under the given seed
FitPredict = Callable[[Sequence[Example], Sequence[str], int], Sequence[str]]


def _by_class(examples: Sequence[Example], vectors: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        out.setdefault(e.label, []).append(i)
    return {lab: vectors[idx] for lab, idx in out.items()}


def mean_pairwise_cosine_distance(x: np.ndarray) -> float | None:
    """Over all pairs of rows (unit-normalised here); None below two rows."""
    n = len(x)
    if n < 2:
        return None
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit.T
    return float(1.0 - (sims.sum() - np.trace(sims)) / (n * (n - 1)))


def kid(x: np.ndarray, y: np.ndarray) -> float | None:
    """Unbiased squared MMD between the rows of x and y, kernel (a.b/d + 1)^3; None below two rows in either."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        return None
    d = x.shape[1]
    kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def _per_class_mean(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.fmean(got), 6) if got else None


def diagnose(synthetic: Sequence[Example], gold: Sequence[Example], test: Sequence[Example], seeds: Sequence[int],
             embed: Callable[[list[str]], np.ndarray], fit_predict: FitPredict | None) -> dict[str, Any]:
    """The diagnostics of one evaluation cell's synthetic training data against its gold subset and
    test set; `fit_predict` None (no classifier reads label fidelity) leaves the fidelities null."""
    syn = _by_class(synthetic, embed([e.text for e in synthetic]))
    real = _by_class(gold, embed([e.text for e in gold]))
    out: dict[str, Any] = {
        "diversity": _per_class_mean([mean_pairwise_cosine_distance(v) for v in syn.values()]),
        "gold_diversity": _per_class_mean([mean_pairwise_cosine_distance(v) for v in real.values()]),
        "distance_to_gold": _per_class_mean([kid(syn[lab], real[lab]) for lab in syn if lab in real]),
        "label_fidelity": None, "gold_label_fidelity": None,
    }
    if fit_predict is not None and len({e.label for e in gold}) >= 2 and synthetic:
        fidelity, ceiling = [], []
        texts = [e.text for e in synthetic] + [e.text for e in test]
        for seed in seeds:
            pred = list(fit_predict(gold, texts, seed))
            fidelity.append(statistics.fmean(p == e.label for p, e in zip(pred, synthetic)))
            ceiling.append(statistics.fmean(p == e.label for p, e in zip(pred[len(synthetic):], test)))
        out["label_fidelity"] = round(statistics.fmean(fidelity), 6)
        out["gold_label_fidelity"] = round(statistics.fmean(ceiling), 6)
    return out
