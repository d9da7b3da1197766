"""Data-point layouts: out-of-sample placement, landmark SMACOF, the method front door."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from supviz.datapoints.layouts import datapoint_layout, landmark_mds, place_points
from supviz.dr import mds_layout
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


# --- issue 8 follow-up, finding 3: landmark MDS with coincident points ---------------------------------


def test_landmark_mds_of_identical_points_is_one_spot():
    # Was: 20 of 30 rows NaN, placement stress 0.0, no error (SMACOF of the all-zero landmarks).
    layout = landmark_mds(np.zeros((30, 3)), n_landmarks=10, random_state=0)
    assert np.array_equal(layout.embedding, np.zeros((30, 2))) and layout.info["collapsed"]
    assert np.isnan(layout.info["smacof_stress"]) and np.isnan(layout.info["placement_stress"])
    assert any("identical" in note for note in layout.notes)
    # and through the front door (300 identical non-zero points, landmarks above 100)
    X = np.zeros((300, 4))
    X[:, 0] = 1.0
    lay = datapoint_layout(X, "mds", random_state=0, mds_max_points=100, n_landmarks=20)
    assert np.array_equal(lay.embedding, np.zeros((300, 2))) and lay.info["collapsed"]


@pytest.mark.parametrize("metric_type", ["ratio", "interval"])
def test_landmark_mds_with_most_points_at_the_origin(metric_type, capfd):
    # Was: ratio, 180 of 200 rows NaN; interval, a raw LinAlgError and LAPACK "DLASCL" lines on
    # stderr. With 11 distinct points and 20 landmarks: SMACOF of the distinct points weighted by
    # their copies (ratio: the full SMACOF's objective, from another start; interval: without the
    # zero pairs within the copies).
    from supviz.metrics import stress1_ratio

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    X[:190] = 0.0
    layout = landmark_mds(X, n_landmarks=20, random_state=0, metric_type=metric_type)
    assert "DLASCL" not in capfd.readouterr().err
    Y = layout.embedding
    assert np.isfinite(Y).all() and not layout.info["collapsed"]
    assert np.array_equal(Y[:190], np.repeat(Y[:1], 190, axis=0))
    full = mds_layout(X, metric_type=metric_type, max_iter=300)
    if metric_type == "ratio":  # measured 0.0374 against the full SMACOF's 0.0368
        assert layout.info["smacof_stress"] == pytest.approx(full.info["smacof_stress"], abs=0.002)
    assert stress1_ratio(X, Y) < 0.08  # measured 0.037 (ratio), 0.071 (interval); a random picture: ~0.5


def test_landmark_mds_with_many_copies_and_more_distinct_points_than_landmarks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 3))
    X[:400] = 0.0  # 201 distinct points, 30 landmarks: landmarks drawn by multiplicity, copies together
    layout = landmark_mds(X, n_landmarks=30, random_state=0, metric_type="interval")
    Y = layout.embedding
    assert np.isfinite(Y).all() and np.isfinite(layout.info["placement_stress"])
    assert np.array_equal(Y[:400], np.repeat(Y[:1], 400, axis=0))
    assert 0 in layout.info["landmarks"]  # the origin (2/3 of the mass) is a landmark
    assert any("400 points coincide" in n or "399 of the 600 points coincide" in n for n in layout.notes)
