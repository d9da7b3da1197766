"""Procrustes distance, with and without a known correspondence."""

import numpy as np
import pytest
from scipy.spatial import procrustes as scipy_procrustes

from supviz.errors import SupvizError
from supviz.metrics import procrustes_distance


def _similar(Y, rng):
    theta = rng.uniform(0, 2 * np.pi)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return 2.5 * (Y @ R) @ np.diag([1.0, -1.0]) + rng.normal(size=2)


def test_matches_scipy_disparity_and_is_symmetric():
    rng = np.random.default_rng(0)
    for _ in range(5):
        A, B = rng.normal(size=(12, 2)), rng.normal(size=(12, 2))
        d = procrustes_distance(A, B)
        assert d**2 == pytest.approx(scipy_procrustes(A, B)[2], abs=1e-12)
        assert procrustes_distance(B, A) == pytest.approx(d, abs=1e-12)
        assert 0.0 <= d <= 1.0


def test_hand_worked():
    # A right isoceles triangle against three collinear equally spaced points.
    # Centred: A = [[-1,-1],[2,-1],[-1,2]] / 3 (|A|^2 = 4/3), B = [[-1,0],[0,0],[1,0]] (|B|^2 = 2);
    # A^T B = [[0, 0], [1, 0]], singular values 1 and 0; after normalising, their sum is
    # 1 / sqrt(8/3) = sqrt(3/8), so the distance is sqrt(1 - 3/8) = sqrt(5/8).
    A = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    B = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    expected = np.sqrt(scipy_procrustes(A, B)[2])
    assert procrustes_distance(A, B) == pytest.approx(expected, abs=1e-12)
    assert procrustes_distance(A, B) == pytest.approx(np.sqrt(5 / 8), abs=1e-12)


def test_zero_for_similar_layouts():
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(40, 2))
    assert procrustes_distance(Y, _similar(Y, rng)) < 1e-12


def test_matching_recovers_an_unknown_correspondence():
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(30, 2))
    Z = _similar(Y, rng)[rng.permutation(30)]
    assert procrustes_distance(Y, Z) > 0.3
    assert procrustes_distance(Y, Z, match=True) < 1e-9


def test_matching_never_worse_and_invariant_to_relabelling():
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(25, 2)), rng.normal(size=(25, 2))
    matched = procrustes_distance(A, B, match=True)
    assert matched <= procrustes_distance(A, B) + 1e-12
    for seed in range(3):
        p = np.random.default_rng(seed).permutation(25)
        assert procrustes_distance(A[p], B, match=True) == pytest.approx(matched, abs=1e-6)
    # a ring against the diag(N) baseline picture: exchangeable points on both sides
    ring = np.c_[
        np.cos(np.linspace(0, 2 * np.pi, 25, endpoint=False)), np.sin(np.linspace(0, 2 * np.pi, 25, endpoint=False))
    ]
    assert procrustes_distance(ring, ring[rng.permutation(25)] * 3.0, match=True) < 1e-9


def test_errors():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 2))
    with pytest.raises(SupvizError, match="same number of points"):
        procrustes_distance(A, A[:4])
    # a collapsed layout is undefined (issue 8): NaN, not the distance of its rounding noise
    assert np.isnan(procrustes_distance(A, np.ones((5, 2))))
    assert np.isnan(procrustes_distance(1.0 + 1e-15 * A, A, match=True))
    with pytest.raises(SupvizError, match="finite"):
        procrustes_distance(np.where(A > 0, np.inf, A), A)
    with pytest.raises(SupvizError, match="at least 2 points"):
        procrustes_distance(A[:1], A[:1])
    with pytest.raises(SupvizError, match="n_starts"):
        procrustes_distance(A, A, match=True, n_starts=0)
