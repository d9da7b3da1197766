"""Per-point trustworthiness / continuity (supviz.metrics.pointwise): shares of the global scores."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from supviz.errors import SupvizError
from supviz.metrics import continuity, trustworthiness
from supviz.metrics.pointwise import pointwise_trust
from supviz.metrics.ranks import worst_penalty


def _tie_free(n: int = 60, d: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = X[:, :2] + 0.3 * rng.normal(size=(n, 2))
    return X, Y


@pytest.mark.parametrize("k", [1, 5, 12])
def test_means_equal_the_global_scores_and_sklearn_without_ties(k: int) -> None:
    from sklearn.manifold import trustworthiness as sk_trust

    X, Y = _tie_free()
    pt = pointwise_trust(X, Y, k=k)
    assert pt.trustworthiness.shape == pt.continuity.shape == (len(X),)
    assert abs(pt.trustworthiness.mean() - trustworthiness(X, Y, k=k)) <= 1e-12
    assert abs(pt.continuity.mean() - continuity(X, Y, k=k)) <= 1e-12
    assert abs(pt.trustworthiness.mean() - sk_trust(X, Y, n_neighbors=k)) <= 1e-12
    assert abs(pt.continuity.mean() - sk_trust(Y, X, n_neighbors=k)) <= 1e-12  # continuity = T with roles swapped
    assert ((pt.trust >= 0) & (pt.trust <= 1)).all()


def _reference_one_point(X: np.ndarray, Y: np.ndarray, i: int, k: int) -> tuple[float, int]:
    """Slow, obvious: t_i and the false-neighbour count of point i without ties (argsort ranks)."""
    dx, dy = cdist(X[i : i + 1], X)[0], cdist(Y[i : i + 1], Y)[0]
    order_x = [j for j in np.argsort(dx) if j != i]
    rank_x = {j: r + 1 for r, j in enumerate(order_x)}
    nn_y = [j for j in np.argsort(dy) if j != i][:k]
    penalty = sum(max(rank_x[j] - k, 0) for j in nn_y)
    return 1.0 - penalty / worst_penalty(len(X), k), sum(rank_x[j] > k for j in nn_y)


def test_each_point_matches_a_slow_reference() -> None:
    X, Y = _tie_free(n=30, seed=3)
    k = 4
    pt = pointwise_trust(X, Y, k=k)
    for i in range(len(X)):
        t_ref, false_ref = _reference_one_point(X, Y, i, k)
        assert pt.trustworthiness[i] == pytest.approx(t_ref, abs=1e-12)
        assert pt.false_neighbours[i] == pytest.approx(false_ref, abs=1e-12)
        c_ref, missing_ref = _reference_one_point(Y, X, i, k)
        assert pt.continuity[i] == pytest.approx(c_ref, abs=1e-12)
        assert pt.missing_neighbours[i] == pytest.approx(missing_ref, abs=1e-12)


def test_the_scrambled_half_has_the_lower_trust() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 2))
    Y = X.copy()
    scrambled = rng.permutation(120)[:60]
    Y[scrambled] = Y[rng.permutation(scrambled)]  # those points trade places among themselves
    kept = np.setdiff1d(np.arange(120), scrambled)
    pt = pointwise_trust(X, Y, k=8)
    for scores in (pt.trustworthiness, pt.continuity, pt.trust):
        assert scores[scrambled].mean() < scores[kept].mean()
    assert pt.false_neighbours[scrambled].mean() > pt.false_neighbours[kept].mean()
    # an exact picture: every point fully trusted, no false or missing neighbour
    exact = pointwise_trust(X, X, k=8)
    assert (exact.trust == 1.0).all() and (exact.false_neighbours == 0).all() and (exact.missing_neighbours == 0).all()


def _tied_with_a_collapsed_half(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer coordinates in X (many tied distances) and a picture whose first half sits on one spot."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(40, 3)).astype(float)
    X[0] += [10.0, 0.0, 0.0]  # not all distances tie
    Y = rng.integers(0, 4, size=(40, 2)).astype(float)
    Y[:20] = [1.5, 1.5]
    return X, Y


@pytest.mark.parametrize(("seed", "k"), [(0, 1), (1, 4), (2, 9), (3, 19)])
def test_means_equal_the_global_scores_on_tied_input(seed: int, k: int) -> None:
    X, Y = _tied_with_a_collapsed_half(seed)
    pt = pointwise_trust(X, Y, k=k)
    assert not pt.reasons
    assert abs(pt.trustworthiness.mean() - trustworthiness(X, Y, k=k)) <= 1e-12
    assert abs(pt.continuity.mean() - continuity(X, Y, k=k)) <= 1e-12
    # the false / missing counts are the global k-NN recall's complement, point by point averaged
    from supviz.metrics import knn_recall

    assert abs(k - pt.missing_neighbours.mean() - k * knn_recall(X, Y, k=k)) <= 1e-12
    assert ((pt.false_neighbours >= 0) & (pt.false_neighbours <= k)).all()


def _random_order_scores(X: np.ndarray, Y: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Per-point t_i and c_i with every tie of each space broken by its own random order of the points."""
    n = len(X)
    dx, dy = cdist(X, X), cdist(Y, Y)
    px, py = rng.permutation(n), rng.permutation(n)  # independent tie orders of X and of Y

    def ranks(d: np.ndarray, p: np.ndarray) -> np.ndarray:
        r = np.full((n, n), n + 1, dtype=np.int64)  # the point itself: never its own neighbour
        for i in range(n):
            order = [j for j in np.lexsort((p, d[i])) if j != i]
            r[i, order] = np.arange(1, n)
        return r

    rx, ry = ranks(dx, px), ranks(dy, py)
    g = worst_penalty(n, k)
    t = 1 - np.array([np.maximum(rx[i][ry[i] <= k] - k, 0).sum() for i in range(n)]) / g
    c = 1 - np.array([np.maximum(ry[i][rx[i] <= k] - k, 0).sum() for i in range(n)]) / g
    return t, c


def test_ties_are_the_expectation_over_random_tie_orders() -> None:
    # half the points collapsed onto one spot in the picture, and integer coordinates in X (many ties in both)
    rng = np.random.default_rng(11)
    X = rng.integers(0, 3, size=(14, 2)).astype(float)
    X[0] += [10.0, 0.0]  # not all distances tie
    Y = rng.normal(size=(14, 2))
    Y[:7] = 0.0
    k = 3
    draws = [_random_order_scores(X, Y, k, rng) for _ in range(4000)]
    t_mc = np.mean([d[0] for d in draws], axis=0)
    c_mc = np.mean([d[1] for d in draws], axis=0)
    pt = pointwise_trust(X, Y, k=k)
    # Monte Carlo over 4000 draws: each t_i, c_i is a mean of values in [0, 1]; 0.02 is > 4 standard errors
    np.testing.assert_allclose(pt.trustworthiness, t_mc, atol=0.02)
    np.testing.assert_allclose(pt.continuity, c_mc, atol=0.02)


def test_undefined_cases_are_nan_with_the_reason() -> None:
    X, _ = _tie_free(n=12)
    collapsed = pointwise_trust(X, np.zeros((12, 2)), k=3)
    assert np.isnan(collapsed.trust).all() and "collapsed" in collapsed.reasons["trustworthiness"]
    tied = pointwise_trust(np.eye(12), X[:, :2], k=3)
    assert np.isnan(tied.trustworthiness).all() and "tie" in tied.reasons["continuity"]


def test_bad_input_is_refused() -> None:
    X, Y = _tie_free(n=12)
    with pytest.raises(SupvizError, match="same number of points"):
        pointwise_trust(X, Y[:10])
    with pytest.raises(SupvizError, match="`k` must be"):
        pointwise_trust(X, Y, k=11)


def test_panel_point_trust_never_refuses_a_small_or_collapsed_panel():
    """A figure's panel of fewer than k + 2 points or one its method saw collapse: NaN at every point with the reason
    (k never shrunk); otherwise exactly pointwise_trust."""
    from supviz.metrics.pointwise import POINT_COLUMNS, panel_point_trust

    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(20, 4)), rng.normal(size=(20, 2))
    same = panel_point_trust(X, Y, k=5)
    np.testing.assert_array_equal(same.trust, pointwise_trust(X, Y, k=5).trust)
    small = panel_point_trust(X[:6], Y[:6], k=5)
    assert small.reasons == {"trustworthiness": "k = 5 needs at least k + 2 = 7 points; got 6"} | {
        "continuity": "k = 5 needs at least k + 2 = 7 points; got 6"
    }
    assert all(np.isnan(v).all() for v in small.columns().values()) and list(small.columns()) == list(POINT_COLUMNS)
    flat = panel_point_trust(X, Y, k=5, collapsed=True)
    assert flat.reasons["trustworthiness"].startswith("layout collapsed") and np.isnan(flat.trust).all()
