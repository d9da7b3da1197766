"""Classical (Torgerson) MDS: exact recovery, eigen-structure, batching, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import procrustes
from scipy.spatial.distance import cdist

from supviz.dr.classical import classical_mds
from supviz.errors import SupvizError


def dist(points: np.ndarray) -> np.ndarray:
    return cdist(points, points)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_euclidean_configuration_is_recovered_exactly(dim):
    points = np.random.default_rng(dim).normal(size=(25, dim))
    y = classical_mds(dist(points), n_components=dim)
    assert y.shape == (25, dim) and y.dtype == np.float64
    np.testing.assert_allclose(dist(y), dist(points), atol=1e-10)
    assert procrustes(points, y)[2] < 1e-12 if dim > 1 else True
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)


def test_equilateral_triangle():
    y = classical_mds(np.ones((3, 3)) - np.eye(3))
    np.testing.assert_allclose(dist(y)[np.triu_indices(3, 1)], 1.0, atol=1e-12)


def test_columns_are_principal_axes_in_order():
    # A long thin cloud: the first coordinate carries the larger variance, the columns are uncorrelated.
    rng = np.random.default_rng(0)
    points = rng.normal(size=(200, 3)) * np.array([5.0, 2.0, 0.5])
    y = classical_mds(dist(points), n_components=3)
    var = y.var(axis=0)
    assert var[0] > var[1] > var[2]
    cov = np.cov(y.T)
    assert np.abs(cov - np.diag(np.diag(cov))).max() < 1e-8 * var[0]


def test_truncation_is_the_best_low_rank_fit():
    points = np.random.default_rng(1).normal(size=(30, 4))
    full = classical_mds(dist(points), n_components=4)
    two = classical_mds(dist(points), n_components=2)
    assert procrustes(full[:, :2], two)[2] < 1e-10


def test_extra_dimensions_are_zero_and_signs_deterministic():
    points = np.random.default_rng(2).normal(size=(6, 2))
    y = classical_mds(dist(points), n_components=8)
    assert y.shape == (6, 8)
    np.testing.assert_allclose(y[:, 6:], 0.0)
    np.testing.assert_allclose(y[:, 2:], 0.0, atol=1e-6)
    top = np.abs(y[:, :2]).argmax(axis=0)
    assert np.all(y[top, [0, 1]] > 0)
    np.testing.assert_array_equal(classical_mds(dist(points)), classical_mds(dist(points)))


def test_large_n_partial_eigensolver_matches_full():
    points = np.random.default_rng(3).normal(size=(250, 5))
    y = classical_mds(dist(points), n_components=2)
    ref = classical_mds(dist(points[:250]), n_components=5)[:, :2]
    assert procrustes(ref, y)[2] < 1e-10
    np.testing.assert_allclose(np.abs(y).max(axis=0), np.abs(ref).max(axis=0), rtol=1e-8)


def test_batched_equals_one_at_a_time():
    rng = np.random.default_rng(4)
    deltas = np.stack([dist(rng.normal(size=(10, 3))) for _ in range(4)])
    batch = classical_mds(deltas)
    assert batch.shape == (4, 10, 2)
    for b in range(4):
        np.testing.assert_allclose(batch[b], classical_mds(deltas[b]), atol=1e-12)


def test_degenerate_inputs():
    np.testing.assert_array_equal(classical_mds(np.zeros((4, 4))), np.zeros((4, 2)))
    assert classical_mds(np.zeros((1, 1))).shape == (1, 2)
    two = classical_mds(np.array([[0.0, 2.0], [2.0, 0.0]]))
    assert np.isclose(np.linalg.norm(two[0] - two[1]), 2.0)


@pytest.mark.parametrize(
    ("delta", "kwargs", "match"),
    [
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), {}, "only finite values"),
        (np.zeros((2, 3)), {}, "must be square"),
        (np.array([[0.0, 1.0], [3.0, 0.0]]), {}, "must be symmetric"),
        (-(np.ones((2, 2)) - np.eye(2)), {}, "non-negative"),
        (np.zeros((0, 0)), {}, "at least 1 point;"),
        (np.zeros((3, 3)), {"n_components": 0}, "`n_components` must be an int >= 1"),
    ],
)
def test_errors(delta, kwargs, match):
    with pytest.raises(SupvizError, match=match):
        classical_mds(delta, **kwargs)
