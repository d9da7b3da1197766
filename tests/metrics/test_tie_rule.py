"""The one tie rule (issue 19's break test): relative to the distances compared, from the input's
precision, the same for coordinates and precomputed matrices, transitive (chains), and the same in
Spearman's midranks; the false-neighbour pair count is the random-tie-order expectation.

Each case is a finding of the break test (``/work/runs/break1``) with the value it should have had.
"""

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import rankdata

from supviz.datapoints.distortion import false_neighbours, measure_distortion, shepard_rho
from supviz.metrics import allpairs, continuity, knn_recall, pairwise_distances, shepard_correlation, trustworthiness
from supviz.metrics.approximate import approximate_neighbourhood_scores
from supviz.metrics.distances import DistanceSource
from supviz.metrics.ranks import average_ranks, knn_weights, sorted_rows_without_self, spearman_tie_expected, tie_blocks
from supviz.metrics.undefined import TIE_RTOL, TIE_ULPS, tie_rtol

TOL = 1e-12


def _glued_false_pairs_case():
    n = 12
    active = np.zeros((n, 6), bool)
    active[np.arange(n), np.arange(n) % 6] = True
    Y = np.random.default_rng(7).normal(size=(n, 2))
    Y[:8] = Y[0]  # 8 points glued: a tie of 7 around each of them
    return Y, active


def test_false_pair_count_is_the_expected_number_of_unique_false_pairs():
    Y, active = _glued_false_pairs_case()
    k = 2
    res = false_neighbours(Y, active, k=k)
    # the old count took every pair with any tie weight: 45 pairs where only N k = 24 edges exist
    assert res.count <= len(Y) * k
    # reference: each point orders its own tied block at random; count unique false pairs per draw
    D = pairwise_distances(Y)
    np.fill_diagonal(D, -1.0)
    shares = (active.astype(int) @ active.T.astype(int)) > 0
    rng = np.random.default_rng(0)
    draws = np.empty(4000)
    for d in range(len(draws)):
        order = np.lexsort((rng.random(D.shape), D), axis=1)  # column 0: the point itself
        nb = np.zeros(D.shape, bool)
        np.put_along_axis(nb, order[:, 1 : k + 1], True, axis=1)
        false = nb & ~shares
        draws[d] = np.count_nonzero(np.triu(false | false.T, 1))
    se = draws.std(ddof=1) / np.sqrt(len(draws))
    assert se > 0
    assert abs(res.count - draws.mean()) <= 5 * se, (res.count, draws.mean(), se)
    # and in the points table
    m = measure_distortion(np.random.default_rng(1).normal(size=(12, 3)), Y, active=active, k=k)
    assert m.metrics()["false_neighbour_pairs"] == pytest.approx(res.count, abs=TOL)


def test_false_pair_count_without_ties_is_the_number_of_pairs():
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(30, 2))
    active = rng.random((30, 5)) < 0.3
    res = false_neighbours(Y, active, k=4)
    assert res.count == len(res.pairs) and res.count > 0


def test_tolerance_follows_the_input_precision():
    assert tie_rtol(np.float64) == TIE_RTOL
    assert tie_rtol(np.float32) == TIE_ULPS * np.finfo(np.float32).eps
    assert tie_rtol(np.int64) == TIE_RTOL
    assert tie_rtol("torch.float32") == tie_rtol(np.float32)


def test_float32_orthogonal_data_has_all_distances_tied():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(40, 40)))  # all distances sqrt(2)
    Y = rng.normal(size=(40, 2))
    Q32 = Q.astype(np.float32)
    assert np.isnan(trustworthiness(Q, Y, k=5))
    assert np.isnan(trustworthiness(Q32, Y, k=5))  # float32 rounding (2.7e-8) was above the old 1e-9 of the size
    assert np.isnan(continuity(Q32, Y, k=5))
    approx = approximate_neighbourhood_scores(DistanceSource("X", Q32), DistanceSource("Y", Y), k=5)
    assert np.isnan(approx.trustworthiness) and "tie" in approx.reasons["trustworthiness"]


def _grid_case():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    G = np.array([(i, j) for i in range(5) for j in range(8)], float)  # many exactly equal distances
    c, s = np.cos(1.0), np.sin(1.0)
    R = np.array([[c, -s], [s, c]])
    return X, G, R


def test_float32_grid_scores_as_the_float64_grid():
    X, G, R = _grid_case()
    want = trustworthiness(X, G, k=3)
    assert trustworthiness(X, (G @ R.T).astype(np.float32), k=3) == pytest.approx(want, abs=TOL)


def test_a_far_outlier_does_not_tie_the_distances_of_the_others():
    X = np.random.default_rng(0).normal(size=(200, 2))
    Xo = np.vstack([X, [[1e8, 0.0]]])
    assert knn_recall(Xo, Xo, k=5) == 1.0  # the old diameter-scale tolerance gave 0.476
    assert trustworthiness(Xo, Xo, k=5) == 1.0
    assert knn_recall(Xo, Xo, k=5, precomputed=False) == knn_recall(pairwise_distances(Xo), Xo, k=5, precomputed=True)
    approx = approximate_neighbourhood_scores(DistanceSource("X", Xo), DistanceSource("Y", Xo), k=5)
    assert approx.knn_recall == 1.0 and approx.trustworthiness == 1.0


def test_approximate_path_follows_the_chain_rule():
    X, G, R = _grid_case()
    Y = (G @ R.T).astype(np.float32)  # the grid's exact ties, up to float32 rounding
    for k in (13, 20):  # from k = 13 the lists hold every other point: equal to exact up to rounding
        approx = approximate_neighbourhood_scores(DistanceSource("X", X), DistanceSource("Y", Y), k=k)
        assert approx.trustworthiness == pytest.approx(trustworthiness(X, G, k=k), abs=1e-9)
        assert approx.knn_recall == pytest.approx(knn_recall(X, G, k=k), abs=1e-9)


def test_precomputed_and_coordinates_use_one_rule():
    X = np.array([[1.0], [0.0], [1e-3], [-(1e-3 + 1.2e-9)], [5e-4], [-5e-4]])
    Y = np.array([[10.0], [0.0], [1.0], [-2.0], [3.0], [-4.0]])
    D = np.abs(X - X.T)
    for k in (1, 2, 3):
        assert knn_recall(X, Y, k=k) == knn_recall(D, Y, k=k, precomputed=True)
        assert trustworthiness(X, Y, k=k) == trustworthiness(D, Y, k=k, precomputed=True)


def test_ties_are_chains_so_they_are_transitive():
    d = 0.6 * TIE_RTOL  # each step within the tolerance, the two ends (1.2 tol apart) not
    row = np.array([[0.0, 1.0, 1.0 + d, 1.0 + 2 * d, 5.0, 7.0]])
    block = row.copy()
    srt = sorted_rows_without_self(block, 0)
    first, last = tie_blocks(srt, TIE_RTOL)
    assert first[0].tolist() == [0, 1, 1, 1, 4, 5] and last[0].tolist() == [0, 3, 3, 3, 4, 5]
    rows, cols, w = knn_weights(block, srt, 1, TIE_RTOL)  # k = 1: one of the three at random
    assert cols.tolist() == [1, 2, 3] and np.allclose(w, 1 / 3, rtol=0, atol=TOL)
    rows, cols, w = knn_weights(block, srt, 3, TIE_RTOL)
    assert cols.tolist() == [1, 2, 3] and np.allclose(w, 1.0, rtol=0, atol=TOL)
    # the same chain gives the same midranks
    assert average_ranks(np.array([1.0, 1.0 + d, 1.0 + 2 * d, 5.0]), rtol=TIE_RTOL).tolist() == [2, 2, 2, 4]


def test_a_chain_scores_as_one_tied_block():
    d = 0.6 * TIE_RTOL
    X = np.array([[0.0], [1.0], [-(1.0 + d)], [1.0 + 2 * d], [9.0], [-9.5], [20.0]])
    Xt = np.array([[0.0], [1.0], [-1.0], [1.0], [9.0], [-9.5], [20.0]])  # the same ties, exactly
    Y = np.random.default_rng(2).normal(size=(7, 2))
    for k in (1, 2, 3):
        assert knn_recall(X, Y, k=k) == pytest.approx(knn_recall(Xt, Y, k=k), abs=TOL)
        assert trustworthiness(X, Y, k=k) == pytest.approx(trustworthiness(Xt, Y, k=k), abs=TOL)


def test_shepard_rho_is_invariant_under_isometries_and_scaling_of_a_tied_layout():
    X, G, R = _grid_case()
    want = spearman_tie_expected(pdist(X), pdist(G))[0]  # exact distances of the grid: exact ties
    for Y in (G, G @ R.T, 0.1 * G, (G @ R.T).astype(np.float32)):
        assert shepard_correlation(X, Y) == pytest.approx(want, abs=TOL)
        xs, ys = DistanceSource("X", X), DistanceSource("Y", Y)
        assert allpairs.shepard_rho_direct(xs, ys)[0] == pytest.approx(want, abs=TOL)
        assert shepard_rho(X, Y)[0] == pytest.approx(want, abs=TOL)


def test_blocked_shepard_merges_buckets_that_a_tie_crosses(monkeypatch):
    X, G, R = _grid_case()
    Y = G @ R.T
    want = spearman_tie_expected(pdist(X), pdist(G))[0]
    monkeypatch.setattr(allpairs, "BUCKET_PAIRS", 16)  # ~50 buckets over 780 pairs: ties cross boundaries
    for pass_pairs in (40, 10_000):
        rho, why = allpairs.shepard_rho_blocked(DistanceSource("X", X), DistanceSource("Y", Y), pass_pairs=pass_pairs)
        assert why is None and rho == pytest.approx(want, abs=TOL)


def test_average_ranks_with_tolerance_equal_scipy_on_snapped_values():
    rng = np.random.default_rng(5)
    base = rng.integers(1, 30, size=500).astype(float)
    noisy = base * (1 + rng.uniform(-1, 1, size=500) * 0.3 * TIE_RTOL)  # equal up to rounding
    assert np.array_equal(average_ranks(noisy, rtol=TIE_RTOL), rankdata(base))
