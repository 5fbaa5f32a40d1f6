"""The logistic-regression classifiers give the same numbers on any CPU: the regularisation choice
is a stated rule, and the fit is the unique L2 optimum, not a point that depends on the order of
the floating-point sums (which differs between BLAS kernels, i.e. between CPU vendors)."""

import numpy as np
import pytest

from harness.api import code_fingerprint
from plugins.classifiers import logreg


def clusters(n=72, k=10, d=384, seed=0):
    """Unit-norm float32 vectors around k random centres, like e5 embeddings of a gold subset."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    x = (rng.standard_normal((k, d))[y] + 3 * rng.standard_normal((n, d))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.array([f"c{i}" for i in y])


@pytest.mark.parametrize("scores, chosen", [
    ({0.1: 0.5, 1.0: 0.75, 10.0: 0.75}, 1.0),  # a tie goes to the stronger regularisation
    ({10.0: 0.75, 1.0: 0.75, 0.1: 0.5}, 1.0),  # whatever order the grid is searched in
    ({0.1: 0.75 - 1e-12, 1.0: 0.75, 10.0: 0.75 + 1e-12}, 0.1),  # rounding-level differences are ties
    ({0.1: 0.2, 1.0: 0.75, 10.0: 0.8}, 10.0),  # a real difference wins
])
def test_choose_c_is_tie_tolerant_and_order_free(scores, chosen):
    assert logreg.choose_c(scores) == chosen


def test_choose_c_chain_of_tiny_steps_is_one_tie():
    # each step is below the tie threshold, and so is the whole chain: all three are one score
    steps = {0.1: 0.5, 1.0: 0.5 + 0.4 * logreg.TIE, 10.0: 0.5 + 0.8 * logreg.TIE}
    assert logreg.choose_c(steps) == 0.1


def test_fit_is_float64_and_independent_of_the_summation_order():
    x, y = clusters()
    perm = np.random.default_rng(1).permutation(len(y))
    a = logreg.fit(x, y, 10.0, seed=0)
    b = logreg.fit(x[perm], y[perm], 10.0, seed=0)  # another order of every sum over examples
    assert a.coef_.dtype == np.float64
    # a float32 fit stopped at sklearn's default tolerance moves by ~4e-7 here
    assert np.abs(a.coef_ - b.coef_).max() < 1e-10


def test_fit_reaches_the_optimum_not_a_stopping_point():
    x, y = clusters(seed=2)
    fitted = logreg.fit(x, y, 10.0, seed=0)
    tighter = logreg.LogisticRegression(C=10.0, tol=1e-14, max_iter=100000).fit(x.astype(np.float64), y)
    assert np.abs(fitted.coef_ - tighter.coef_).max() < 1e-7


def test_one_ulp_feature_noise_moves_the_fit_by_about_one_ulp():
    x, y = clusters(seed=3)
    bumped = np.nextafter(x, np.float32(np.inf))  # every feature one float32 step up
    a, b = logreg.fit(x, y, 10.0, seed=0), logreg.fit(bumped, y, 10.0, seed=0)
    assert np.abs(a.coef_ - b.coef_).max() < 1e-6 * np.abs(a.coef_).max()
    assert (a.predict(x.astype(np.float64)) == b.predict(bumped.astype(np.float64))).all()


def test_fingerprints_name_the_code_but_embeddings_stay_cached():
    e5, tfidf = logreg.E5LogReg(), logreg.TfidfLogReg()
    code = code_fingerprint(logreg)
    assert e5.fingerprint() == f"{e5.encoder_id()}+{code}"
    assert tfidf.fingerprint() == f"tfidf-logreg+{code}"
    assert code not in e5.encoder_id()  # the embedding cache key depends on the encoder only
