"""Distances are computed so that equal pairs give bit-equal numbers wherever they sit."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.metrics import pairwise_distances
from supviz.metrics.distances import DistanceSource


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8, 17, 60])
def test_distances_do_not_depend_on_position(d):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(97, d))
    perm = rng.permutation(97)
    D = pairwise_distances(X)
    assert np.array_equal(pairwise_distances(X[perm]), D[np.ix_(perm, perm)])
    assert np.array_equal(D, D.T)
    src = DistanceSource("X", X)
    # the source works at unit scale, divided by an exact power of two
    assert np.array_equal(np.ldexp(np.vstack([src.rows(a, b) for a, b in src.blocks(entries=500)]), src.exponent), D)


def test_orthogonal_baseline_distances_all_tie():
    D = pairwise_distances(np.eye(40))
    off = D[~np.eye(40, dtype=bool)]
    assert np.all(off == off[0]) and off[0] == pytest.approx(np.sqrt(2.0), abs=0)


def test_precomputed_rows_and_condensed():
    X = np.random.default_rng(0).normal(size=(12, 3))
    D = pairwise_distances(X)
    src = DistanceSource("X", D, precomputed=True)
    assert np.array_equal(np.ldexp(src.rows(0, 12), src.exponent), D)
    points = DistanceSource("X", X)
    assert np.array_equal(np.ldexp(src.condensed(), src.exponent), np.ldexp(points.condensed(), points.exponent))


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e155, 1e300])
def test_extreme_scales_keep_ties_and_values(scale):
    # Issue 8, case 6: distances of points at 1e300 overflowed, at 1e-300 underflowed to zero.
    X = np.vstack([np.eye(6), np.zeros((2, 6))])
    D = pairwise_distances(X * scale)
    assert np.isfinite(D).all()
    np.testing.assert_allclose(D, pairwise_distances(X) * scale, rtol=1e-15)
    off = D[:6, :6][~np.eye(6, dtype=bool)]
    assert np.all(off == off[0])  # the ties of diag(N) survive the scaling
    src = DistanceSource("X", X * scale)
    rows = src.rows(0, 8)
    assert np.array_equal(np.ldexp(rows, src.exponent), D)
    assert np.all(rows[:6, :6][~np.eye(6, dtype=bool)] == rows[0, 1])


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "finite"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "finite"),
        (np.zeros(3), "rank 2"),
        (np.zeros((3, 0)), "at least one coordinate"),
    ],
)
def test_point_errors(value, match):
    with pytest.raises(SupvizError, match=match):
        DistanceSource("X", value)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.zeros((3, 4)), "square"),
        (np.array([[0.0, 1.0], [2.0, 0.0]]), "symmetric"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), "non-negative"),
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), "finite"),
    ],
)
def test_precomputed_errors(value, match):
    with pytest.raises(SupvizError, match=match):
        DistanceSource("X", value, precomputed=True)
