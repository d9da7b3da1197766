"""The tie rules: average ranks and fractional k-neighbourhoods."""

import itertools

import numpy as np
import pytest
from scipy.stats import rankdata

from supviz.metrics.distances import pairwise_distances
from supviz.metrics.ranks import (
    average_ranks,
    expected_excess,
    knn_weights,
    sorted_rows_without_self,
    spearman_tie_expected,
    tied_counts,
    untied_rank_ss,
    within_probability,
    worst_penalty,
)


@pytest.mark.parametrize("direct_below", [10**9, 100])  # direct path and the bucketed path
def test_average_ranks_equal_scipy(direct_below):
    rng = np.random.default_rng(0)
    for values in (rng.normal(size=5000), np.round(rng.normal(size=5000), 1), np.ones(300), np.arange(7.0)[::-1]):
        got = average_ranks(values, direct_below=direct_below, buckets=16)
        assert np.array_equal(got, rankdata(values, method="average"))


def _weights_matrix(D, k):
    block = D.copy()
    s = sorted_rows_without_self(block, 0)
    rows, cols, w = knn_weights(block, s, k)
    out = np.zeros_like(D)
    out[rows, cols] = w
    return out


def test_knn_weights_sum_to_k_and_exclude_self():
    X = np.array([[0.0], [1.0], [-1.0], [5.0], [5.0]])
    D = pairwise_distances(X)
    for k in range(1, 5):
        W = _weights_matrix(D, k)
        assert np.allclose(W.sum(axis=1), k)
        assert np.all(np.diag(W) == 0)
        assert np.all((W >= 0) & (W <= 1))
    W = _weights_matrix(D, 1)
    assert W[0, 1] == W[0, 2] == 0.5  # points 1 and 2 tie at distance 1 from point 0
    assert W[3, 4] == 1.0  # duplicates are ordinary neighbours at distance 0


def test_knn_weights_are_membership_probabilities_under_random_tie_breaking():
    # Integer grid points: many tied distances. Enumerate every tie order of each row.
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [2, 0], [0, 2]], dtype=float)
    D = pairwise_distances(X)
    n, k = len(X), 2
    W = _weights_matrix(D, k)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        counts = np.zeros(n)
        perms = list(itertools.permutations(others))
        for perm in perms:
            pos = {j: p for p, j in enumerate(perm)}
            nearest = sorted(others, key=lambda j: (D[i, j], pos[j]))[:k]
            counts[nearest] += 1
        assert np.allclose(W[i], counts / len(perms))


@pytest.mark.parametrize("n", [3, 4, 5, 10, 11, 60])
def test_worst_penalty_is_reversed_ranking(n):
    for k in range(1, n - 1):
        brute = sum(max(r - k, 0) for r in range(n - k, n))
        assert worst_penalty(n, k) == brute
        if k < n / 2:
            assert worst_penalty(n, k) == k * (2 * n - 3 * k - 1) / 2


@pytest.mark.parametrize("k", [1, 3, 6])
def test_tie_block_expectations_equal_enumeration(k):
    # A rank uniform on L + 1 .. L + E: P(rank <= k) and E[max(rank - k, 0)] by listing the ranks.
    for less in range(0, 9):
        for tied in range(1, 7):
            ranks = np.arange(less + 1, less + tied + 1)
            assert within_probability(np.array([less]), np.array([tied]), k)[0] == pytest.approx(
                np.mean(ranks <= k), abs=1e-15
            )
            assert expected_excess(np.array([less]), np.array([tied]), k)[0] == pytest.approx(
                np.mean(np.maximum(ranks - k, 0)), abs=1e-12
            )


def test_tied_counts():
    X = np.array([[0.0], [1.0], [-1.0], [5.0], [5.0], [0.0]])
    block = pairwise_distances(X)[:1].copy()
    srt = sorted_rows_without_self(block, 0)
    less, tied = tied_counts(srt, np.zeros(4, dtype=np.int64), np.array([0.0, 1.0, 5.0, 3.0]))
    # around point 0: one duplicate at 0, two points at 1, two at 5 (the own entry is not counted)
    assert less.tolist() == [0, 1, 3, 3] and tied.tolist() == [1, 2, 2, 0]


def _tie_orders(values):
    """Every way of giving ``values`` distinct ranks 1..n consistent with their order (each tied block permuted)."""
    order = np.argsort(values, kind="stable")
    blocks = [list(order[values[order] == v]) for v in np.unique(values)]
    for perms in itertools.product(*(itertools.permutations(b) for b in blocks)):
        ranks = np.empty(len(values))
        ranks[np.concatenate(perms).astype(int)] = np.arange(1, len(values) + 1)
        yield ranks


def _brute_force_spearman(x, y):
    """Mean of Spearman's rho (the Pearson correlation of distinct ranks) over all tie orders of x and of y."""
    rhos = [np.corrcoef(rx, ry)[0, 1] for rx in _tie_orders(x) for ry in _tie_orders(y)]
    return float(np.mean(rhos))


@pytest.mark.parametrize(
    "x, y",
    [
        ([1, 1, 1, 1, 2], [1, 2, 3, 4, 5]),  # one block of 4 in x
        ([1, 1, 2, 2, 3, 3], [3, 1, 2, 2, 5, 4]),  # ties in both
        ([0, 0, 0, 1, 1, 2, 3], [2, 2, 1, 1, 1, 0, 0]),  # a falling trend, blocks of 3 and 2 in both
        ([5, 4, 3, 2, 1, 0], [0, 1, 2, 3, 4, 5]),  # no ties: scipy's rho, -1
        ([2, 1, 2, 1, 2, 1], [1, 1, 2, 2, 3, 3]),  # two blocks of 3 against three of 2
    ],
)
def test_spearman_is_its_expectation_over_every_tie_order(x, y):
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    rho, why = spearman_tie_expected(x, y)
    assert why is None
    assert rho == pytest.approx(_brute_force_spearman(x, y), abs=1e-12)
    # scipy's midranks credit the ties: never smaller in size, larger wherever there is a tie
    mid = spearmanr(x, y).statistic
    assert abs(rho) <= abs(mid) + 1e-12
    if len(np.unique(x)) < len(x) and rho != 0:
        assert abs(rho) < abs(mid)


def test_spearman_tie_expected_worked_example_and_undefined():
    # midranks (2.5 x4, 5) against 1..5: sum (mx - 3)(my - 3) = 5, over n (n^2 - 1) / 12 = 10 -> 0.5 (scipy: 0.707)
    assert spearman_tie_expected([1, 1, 1, 1, 2], [1, 2, 3, 4, 5]) == (0.5, None)
    assert untied_rank_ss(5) == 120
    # all values of one variable tie: NaN with the reason, not the expectation 0
    rho, why = spearman_tie_expected([3, 3, 3, 3], [1, 2, 3, 4])
    assert np.isnan(rho) and "all 4 values of x tie" in why
    rho, why = spearman_tie_expected([1, 2, 3], [np.nan, 7, 7])
    assert np.isnan(rho) and "all 2 values of y tie" in why
    rho, why = spearman_tie_expected([1.0, np.nan], [2.0, 3.0])
    assert np.isnan(rho) and "1 finite pair" in why
    from supviz.errors import SupvizError

    with pytest.raises(SupvizError, match="same length; got 3 and 2"):
        spearman_tie_expected([1, 2, 3], [1, 2])
