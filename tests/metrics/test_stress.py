"""stress-1 after optimal scaling and the Shepard rank correlation."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

from supviz.errors import SupvizError
from supviz.metrics import pairwise_distances, shepard_correlation, stress1_ratio
from supviz.metrics.ranks import spearman_tie_expected

TOL = 1e-12


def test_hand_worked_stress():
    # Equilateral triangle (all dissimilarities 1) drawn as three points on a line (1, 2, 1):
    # sum delta d = 4, sum delta^2 = 3, sum d^2 = 6 -> stress1_ratio = sqrt(1 - 16 / 18) = 1/3.
    D = np.ones((3, 3)) - np.eye(3)
    Y = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    assert stress1_ratio(D, Y, precomputed=True) == pytest.approx(1 / 3, abs=TOL)
    # ... and as points: an equilateral triangle is exact
    tri = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    assert stress1_ratio(D, 5.0 * tri, precomputed=True) == pytest.approx(0.0, abs=1e-7)


def test_stress_is_zero_for_a_similar_copy_and_undefined_for_a_collapse():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(30, 2))
    X = np.hstack([0.2 * Y @ np.array([[0.0, -1.0], [1.0, 0.0]]), np.zeros((30, 3))]) + 1.0
    assert stress1_ratio(X, Y) == pytest.approx(0.0, abs=1e-7)
    # a collapsed layout has no distances to scale (0 / 0): NaN, as every metric of it
    assert np.isnan(stress1_ratio(X, np.zeros((30, 2))))
    assert np.isnan(shepard_correlation(X, np.zeros((30, 2))))


def test_stress_scale_invariant_and_in_unit_interval():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(40, 6)), rng.normal(size=(40, 2))
    s = stress1_ratio(X, Y)
    assert 0.0 <= s <= 1.0
    assert stress1_ratio(7.0 * X, Y) == pytest.approx(s, abs=TOL)
    assert stress1_ratio(X, 0.01 * Y) == pytest.approx(s, abs=TOL)
    assert stress1_ratio(pairwise_distances(X), Y, precomputed=True) == pytest.approx(s, abs=TOL)
    perm = rng.permutation(40)
    assert stress1_ratio(X[perm], Y[perm]) == pytest.approx(s, abs=TOL)


def test_stress_equals_smacof_ratio_stress_at_convergence():
    from supviz.dr import mds_layout

    X = np.random.default_rng(2).normal(size=(15, 5))
    layout = mds_layout(X, metric_type="ratio", eps=1e-12, max_iter=5000)
    assert stress1_ratio(X, layout.embedding) == pytest.approx(layout.info["smacof_stress"], abs=1e-5)


@pytest.mark.parametrize("metric_type", ["interval", "ordinal"])
def test_smacof_stress_and_stress1_ratio_differ_only_in_the_disparities(metric_type):
    # Issue 14 item 4: README printed 0.2229 (SMACOF's interval stress) beside 0.2243 (ratio
    # stress-1 of the same layout). Each name is one formula: smacof_stress is layout_stress under
    # the layout's own metric_type, stress1_ratio is layout_stress under "ratio", and ratio fits are
    # interval/ordinal fits too, so smacof_stress <= stress1_ratio (up to eps = 1e-10 here).
    from supviz.dr import mds_layout
    from supviz.dr.smacof import layout_stress
    from supviz.metrics import layout_metrics

    W = np.random.default_rng(20).normal(size=(20, 5)) * 0.7 ** np.arange(20)[:, None]
    D = pairwise_distances(W)
    layout = mds_layout(W, metric_type=metric_type, eps=1e-10, max_iter=5000)
    own = layout_stress(D, layout.embedding, metric_type=metric_type)
    ratio = layout_stress(D, layout.embedding, metric_type="ratio")
    assert layout.info["smacof_stress"] == pytest.approx(own, abs=1e-4)
    assert layout_metrics(W, layout, k=5)["stress1_ratio"] == pytest.approx(ratio, abs=1e-10)
    assert stress1_ratio(W, layout.embedding) == pytest.approx(ratio, abs=1e-10)
    assert layout.info["smacof_stress"] < ratio  # a strictly better fit on this input: a real difference
    assert "stress" not in layout.info  # the ambiguous name is gone


def test_stress_of_orthogonal_baseline_grows_with_n():
    # The same fixed shape (a ring) scored against diag(N): a sanity check that stress1_ratio is
    # defined on all-tied dissimilarities.
    values = []
    for n in (4, 8, 20):
        ring = np.c_[np.cos(2 * np.pi * np.arange(n) / n), np.sin(2 * np.pi * np.arange(n) / n)]
        values.append(stress1_ratio(np.eye(n), ring))
    assert all(0 < v < 1 for v in values)


def test_shepard_gives_ties_their_expectation_over_random_orders():
    rng = np.random.default_rng(3)
    X = np.round(rng.normal(size=(30, 2)), 0)  # many tied distances
    Y = np.round(rng.normal(size=(30, 2)), 1)
    # The reference ranks the exact distances: Y's tenths are not exact in binary, so pdist(Y) has
    # meant-equal distances 1 ulp apart (1.3 - 0.2 vs 1.2 - 0.1), which the tie rule ties and
    # scipy's exact equality does not; 10 Y is integral and its distances are exact.
    # Ties get their expectation over random orders (ranks.spearman_tie_expected, brute-force tested), which is
    # smaller in size than scipy's midrank correlation: scipy credits the tied pairs.
    expected = spearman_tie_expected(pdist(X), pdist(np.round(10 * Y)))[0]
    # (here rho is near 0: -0.0022213 against scipy's -0.0022471)
    assert abs(expected) < abs(spearmanr(pdist(X), pdist(np.round(10 * Y))).statistic) - 2e-5
    assert shepard_correlation(X, Y) == pytest.approx(expected, abs=1e-12)
    perm = rng.permutation(30)
    assert shepard_correlation(X[perm], Y[perm]) == pytest.approx(expected, abs=1e-12)


def test_shepard_is_one_for_a_monotone_picture_and_nan_when_constant():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20, 2))
    assert shepard_correlation(X, 3.0 * X[:, ::-1]) == pytest.approx(1.0, abs=TOL)
    assert np.isnan(shepard_correlation(np.eye(20), X))  # diag(N): nothing to rank
    assert np.isnan(shepard_correlation(X, np.zeros((20, 2))))


@pytest.mark.parametrize("f", [stress1_ratio, shepard_correlation])
def test_errors(f):
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(SupvizError, match="finite"):
        f(np.where(X > 0, np.nan, X), X[:, :2])
    with pytest.raises(SupvizError, match="same number of points"):
        f(X, X[:4, :2])
    with pytest.raises(SupvizError, match="at least 2 points"):
        f(X[:1], X[:1, :2])
    with pytest.raises(SupvizError, match="square"):
        f(X, X[:, :2], precomputed=True)


def test_stress_of_identical_points_is_undefined(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="supviz.metrics.stress"):
        assert np.isnan(stress1_ratio(np.zeros((4, 3)), np.random.default_rng(0).normal(size=(4, 2))))
    assert "all points of X coincide" in caplog.text


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_stress_and_shepard_at_extreme_scales(scale):
    # Issue 8, case 6: stress NaN at 1e300 (overflow) beside a "perfect" trustworthiness.
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(20, 5)), rng.normal(size=(20, 2))
    for f in (stress1_ratio, shepard_correlation):
        assert f(X * scale, Y) == pytest.approx(f(X, Y), rel=1e-12)
        assert f(X, Y * scale) == pytest.approx(f(X, Y), rel=1e-12)


def test_similar_copy_has_stress_zero_to_rounding():
    # Was 3.7e-8 for layout_metrics(X, 3 X): sqrt(1 - cos^2) cancels to sqrt(rounding). Now the
    # residual of the optimal scaling is summed directly (issue 8 follow-up, finding 11).
    from supviz.metrics import layout_metrics

    X = np.random.default_rng(0).normal(size=(20, 5))
    assert layout_metrics(X, 3 * X)["stress1_ratio"] < 1e-14
    assert stress1_ratio(X, -0.5 * X) < 1e-14
    # and a generic layout keeps its value (equal to the closed form to 1e-12)
    Y = np.random.default_rng(1).normal(size=(20, 2))
    dx, dy = pdist(X), pdist(Y)
    closed = np.sqrt(1 - (dx @ dy) ** 2 / ((dx @ dx) * (dy @ dy)))
    assert stress1_ratio(X, Y) == pytest.approx(closed, abs=1e-12)


def test_shepard_of_a_picture_that_piles_points_on_one_spot_gets_no_credit_for_the_pile():
    # 12 points in a line; the picture keeps their order but piles the first 8 on one spot: of the 66 pairs, 28
    # tie at distance 0 in Y. Midranks (scipy) score 0.590; the expectation over the pile's orders 0.560.
    X = np.arange(12.0)[:, None]
    Y = np.where(X < 8, 0.0, X)
    d, e = pdist(X), pdist(Y)
    assert spearmanr(d, e).statistic == pytest.approx(0.5896, abs=1e-4)
    rho = shepard_correlation(X, Y)
    assert rho == pytest.approx(spearman_tie_expected(d, e)[0], abs=1e-12) and rho == pytest.approx(0.5602, abs=1e-4)
