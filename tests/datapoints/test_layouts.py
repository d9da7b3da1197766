"""Data-point layouts: out-of-sample placement, landmark SMACOF, the method front door."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from supviz.datapoints.layouts import datapoint_layout, landmark_mds, place_points
from supviz.errors import SupvizError


def test_place_points_recovers_exact_positions():
    rng = np.random.default_rng(0)
    land = rng.normal(size=(30, 2))
    new = rng.normal(size=(50, 2))
    got = place_points(land, cdist(new, land), max_iter=500, tol=1e-12)
    np.testing.assert_allclose(got, new, atol=1e-6)


def test_place_points_never_increases_stress():
    rng = np.random.default_rng(1)
    land = rng.normal(size=(20, 2))
    target = rng.random((40, 20)) * 3  # not realisable in 2-D
    def stress(y):
        return ((cdist(y, land) - target) ** 2).sum(axis=1)
    prev = stress(place_points(land, target, max_iter=0))
    for it in (1, 2, 5, 20, 100):
        cur = stress(place_points(land, target, max_iter=it, tol=0.0))
        assert (cur <= prev + 1e-9).all()
        prev = cur


def _procrustes_residual(A, B):
    """Relative residual of the best similarity transform of B onto A."""
    A = A - A.mean(0)
    B = B - B.mean(0)
    U, s, Vt = np.linalg.svd(B.T @ A)
    R = U @ Vt
    scale = s.sum() / (B**2).sum()
    return np.linalg.norm(A - scale * B @ R) / np.linalg.norm(A)


@pytest.mark.parametrize("metric_type", ["ratio", "interval"])
def test_landmark_mds_of_planar_points_is_exact(metric_type):
    # Points that already lie in a plane: SMACOF finds them (stress ~0), the placement is exact.
    rng = np.random.default_rng(2)
    P = rng.normal(size=(600, 2))
    X = np.c_[P, np.zeros((600, 3))] @ np.linalg.qr(rng.normal(size=(5, 5)))[0]
    lay = landmark_mds(X, n_landmarks=80, metric_type=metric_type, random_state=3)
    assert lay.method == "mds" and lay.embedding.shape == (600, 2)
    assert lay.info["landmarks"].size == 80
    assert lay.info["smacof_stress"] < 1e-3 and lay.info["placement_stress"] < 1e-3
    assert _procrustes_residual(P, lay.embedding) < 1e-3
    assert lay.notes and "landmark SMACOF" in lay.notes[0]


def test_landmark_mds_close_to_full_smacof_on_sparse_inputs():
    from supviz.datapoints import sample_inputs
    from supviz.dr import smacof
    from supviz.metrics import stress1_ratio

    x = sample_inputs(20, probability=0.2, n_points=400, random_state=0).x
    full = smacof(np.asarray(cdist(x, x)), metric_type="ratio", max_iter=300, random_state=0)
    lay = landmark_mds(x, n_landmarks=150, metric_type="ratio", random_state=0)
    s_full = stress1_ratio(x, full.embedding)
    s_land = stress1_ratio(x, lay.embedding)
    assert s_land < s_full * 1.15 + 0.01  # the landmark picture is nearly as faithful
    again = landmark_mds(x, n_landmarks=150, metric_type="ratio", random_state=0)
    np.testing.assert_array_equal(lay.embedding, again.embedding)


def test_front_door_switches_to_landmarks_and_checks():
    x = np.random.default_rng(0).random((60, 4))
    small = datapoint_layout(x, "mds", random_state=0, mds_max_points=100)
    big = datapoint_layout(x, "mds", random_state=0, mds_max_points=50, n_landmarks=30)
    assert "landmarks" not in small.info and big.info["landmarks"].size == 30
    with pytest.raises(SupvizError, match="`method` must be one of"):
        datapoint_layout(x, "pca")
    assert pdist(big.embedding).min() >= 0
