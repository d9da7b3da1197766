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
    tied_counts,
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
