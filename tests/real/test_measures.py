"""Measures without ground truth: against scikit-learn (exact), hand-worked cases, undefined -> NaN with a reason."""

import math

import numpy as np
import pytest

from supviz.core.seeding import int_seed
from supviz.errors import SupvizError
from supviz.real.data import load_digits_split
from supviz.real.measures import (
    PICTURE_KEYS,
    SPACE_KEYS,
    dictionary_mmcs,
    effective_features,
    knn_label_accuracy,
    picture_measures,
    seed_stability,
    silhouette,
    space_measures,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(seed=0)


def test_identity_picture_of_the_pixels_agrees_exactly_with_sklearn(digits):
    """k-NN label accuracy of the pixels (the identity picture) is scikit-learn's cross-validated
    KNeighborsClassifier accuracy, exactly (the pixels are multiples of 1/16: distance ties abound)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from threadpoolctl import threadpool_limits

    X, y = digits.X_test, digits.y_test
    with threadpool_limits(limits=1):  # scikit-learn's k-NN spins on OpenMP barriers on a busy machine
        for k, folds, seed in ((10, 5, 0), (3, 4, 11)):
            ours, why = knn_label_accuracy(X, y, k=k, folds=folds, seed=seed)
            cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int_seed(seed))
            ref = cross_val_score(KNeighborsClassifier(n_neighbors=k), X, y, cv=cv).mean()
            assert why is None and ours == ref
    # the space measure and a picture that is the space itself say the same
    assert space_measures(X, y, seed=0)["knn_accuracy"] == knn_label_accuracy(X, y, seed=0)[0]


def test_silhouette_is_sklearns_and_identity_picture_is_faithful(digits):
    from sklearn.metrics import silhouette_score

    X, y = digits.X_test, digits.y_test
    assert silhouette(X, y)[0] == silhouette_score(X.astype(np.float64), y)  # computed in float64
    # a 2-D space pictured by itself keeps every neighbourhood: T = C = 1 against its own space
    # tie-free 2-D points (an offset of i * 1e-3 on both axes left ties: i +- d are equidistant
    # from i where the pixels agree, and a tied block's neighbourhood is undetermined, so below 1)
    Y = X[:, :2] + np.random.default_rng(0).uniform(0, 1e-3, size=(len(X), 2))
    pm = picture_measures(Y, Y, y, reference=X, k=5)
    assert list(pm) == list(PICTURE_KEYS)
    assert pm["trustworthiness"] == 1.0 and pm["continuity"] == 1.0
    assert pm["trustworthiness_pixels"] < 1.0 and not pm.reasons


def test_undefined_is_nan_with_a_reason(digits):
    X, y = digits.X_test, digits.y_test
    assert knn_label_accuracy(X, None)[1] == "no labels given"
    v, why = knn_label_accuracy(X, np.zeros(len(X), dtype=int))
    assert math.isnan(v) and "fewer than 2 classes" in why
    few = y.copy()
    few[:3] = 99  # a class of 3 members cannot fill 5 folds
    v, why = knn_label_accuracy(X, few)
    assert math.isnan(v) and "99" in why and "fewer than the 5 folds" in why
    v, why = knn_label_accuracy(X[:20], y[:20] % 2, k=17)
    assert math.isnan(v) and "exceeds" in why
    collapsed = np.zeros((len(X), 2))
    v, why = knn_label_accuracy(collapsed, y)
    assert math.isnan(v) and "collapsed" in why
    v, why = silhouette(collapsed, y)
    assert math.isnan(v) and "collapsed" in why
    v, why = silhouette(X[:5], np.arange(5))
    assert math.isnan(v) and "2 to N - 1" in why
    pm = picture_measures(X, collapsed, y, reference=X)
    assert all(math.isnan(pm[k]) for k in PICTURE_KEYS) and set(pm.reasons) == set(PICTURE_KEYS)
    sm = space_measures(X)  # no labels, no reference
    assert list(sm) == list(SPACE_KEYS) and all(math.isnan(v) for v in sm.values())
    assert sm.reasons["knn_accuracy"] == "no labels given" and "no reference" in sm.reasons["trustworthiness_pixels"]


def test_bad_inputs_are_errors(digits):
    X, y = digits.X_test, digits.y_test
    with pytest.raises(SupvizError, match="one label per row"):
        knn_label_accuracy(X, y[:-1])
    with pytest.raises(SupvizError, match="non-integer"):
        silhouette(X, y + 0.5)
    with pytest.raises(SupvizError, match="same points"):
        picture_measures(X, X[:-1, :2], y)
    with pytest.raises(SupvizError, match="finite"):
        space_measures(np.full((5, 2), np.nan))
    with pytest.raises(SupvizError, match="`folds` must be an int >= 2"):
        knn_label_accuracy(X, y, folds=1)


def test_effective_features_worked_cases():
    """F = exp(H(p)), p_j = mean|f_j| ||d_j|| / sum (Bereska et al. 2025): hand-worked values."""
    rng = np.random.default_rng(0)
    # s latents with equal mass: F = s exactly
    codes = np.zeros((42, 6))
    codes[np.arange(42), np.arange(42) % 6] = 2.0
    assert effective_features(codes)[0] == pytest.approx(6.0, rel=1e-12)
    # one latent carries everything: F = 1
    one = np.zeros((10, 4))
    one[:, 2] = rng.random(10) + 0.1
    assert effective_features(one)[0] == pytest.approx(1.0)
    # masses (1, 1, 2): H = -(2 * 1/4 ln 1/4 + 1/2 ln 1/2) = 1.5 ln 2, F = 2^1.5
    codes = np.array([[1.0, 1.0, 2.0]])
    assert effective_features(codes)[0] == pytest.approx(2**1.5)
    # decoder norms weight the mass: the same codes with row norms (2, 2, 1) give equal masses
    dec = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    assert effective_features(codes, decoder=dec)[0] == pytest.approx(3.0)
    # scale invariance and no mass at all
    assert effective_features(7.5 * codes)[0] == pytest.approx(effective_features(codes)[0])
    v, why = effective_features(np.zeros((5, 3)))
    assert math.isnan(v) and "no latent fires" in why
    with pytest.raises(SupvizError, match="one row per latent"):
        effective_features(codes, decoder=dec[:2])


def test_stability_measures_worked_cases():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(8, 5))
    assert dictionary_mmcs(W, W)[0] == pytest.approx(1.0)
    assert dictionary_mmcs(W, 3.0 * W[rng.permutation(8)])[0] == pytest.approx(1.0)  # order and scale free
    E = np.eye(4)
    assert dictionary_mmcs(E[:2], E[2:])[0] == pytest.approx(0.0)  # orthogonal sets
    # symmetrised: a 2-row dictionary inside a 4-row one is 1 one way and 0.5 the other
    assert seed_stability([E[:2], E])[0] == pytest.approx(0.75)
    assert seed_stability([E, E, E])[0] == pytest.approx(1.0)
    v, why = seed_stability([E])
    assert math.isnan(v) and "fewer than 2" in why
    v, why = dictionary_mmcs(np.zeros((3, 4)), E)
    assert math.isnan(v) and "without any direction" in why
    with pytest.raises(SupvizError, match="share the input dimension"):
        dictionary_mmcs(E, np.eye(3))
