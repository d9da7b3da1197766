"""Equidistance of represented features and the ring measure."""

import numpy as np
import pytest

from supviz.datapoints import UNIFORM_DISC_RADIAL_CV, distance_spread, equidistance, radial_spread
from supviz.errors import SupvizError


def test_orthogonal_rows_are_exactly_equidistant():
    r = equidistance(np.eye(20))
    assert r.cv == pytest.approx(0.0, abs=1e-12)
    assert r.cv_unit == pytest.approx(0.0, abs=1e-12)
    assert r.mean_distance == pytest.approx(np.sqrt(2))
    assert r.min_distance == pytest.approx(np.sqrt(2)) and r.max_distance == pytest.approx(np.sqrt(2))
    assert r.cv_gaussian > 0.1 and r.cv_ratio == pytest.approx(0.0, abs=1e-12)


def test_regular_simplex_and_hand_example():
    # Three points with distances 3, 4, 5: mean 4, population std sqrt(2/3).
    P = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    assert distance_spread(P) == pytest.approx(np.sqrt(2 / 3) / 4)
    # A regular simplex in its own span: centred diag(N) is equidistant after any rotation.
    N = 8
    S = np.eye(N) - 1.0 / N
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(N, N)))
    assert distance_spread(S @ Q) == pytest.approx(0.0, abs=1e-12)


def test_mask_and_gaussian_reference_depend_on_dimension():
    rng = np.random.default_rng(1)
    W = np.vstack([np.eye(10, 30), 1e-3 * rng.normal(size=(5, 30))])
    mask = np.r_[np.ones(10, bool), np.zeros(5, bool)]
    assert equidistance(W, represented=mask).cv == pytest.approx(0.0, abs=1e-12)
    assert equidistance(W).cv > 0.1  # the dropped rows sit near the origin
    low = equidistance(rng.normal(size=(40, 3)), random_state=0)
    high = equidistance(rng.normal(size=(40, 40)), random_state=0)
    assert high.cv_gaussian < low.cv_gaussian  # concentration of measure
    assert 0.5 < low.cv_ratio < 1.5 and 0.5 < high.cv_ratio < 1.5  # Gaussian rows are chance-like
    a = equidistance(W, random_state=3)
    b = equidistance(W, random_state=3)
    assert a.as_dict() == b.as_dict()
    few = equidistance(np.eye(4)[:2])
    assert few.n_represented == 2 and np.isnan(few.cv)
    with pytest.raises(SupvizError, match="`represented` must be a bool mask of 15 entries"):
        equidistance(W, represented=mask[:3])


def test_radial_spread():
    t = np.linspace(0, 2 * np.pi, 100, endpoint=False)
    assert radial_spread(np.c_[np.cos(t), np.sin(t)] + 5.0) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    r = np.sqrt(rng.random(200_000))
    a = rng.random(200_000) * 2 * np.pi
    assert radial_spread(np.c_[r * np.cos(a), r * np.sin(a)]) == pytest.approx(UNIFORM_DISC_RADIAL_CV, abs=0.005)


def test_ring_measures_of_orthogonal_rows_equal_the_baseline():
    from supviz.datapoints import ring_measures

    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    W_orth = np.eye(12, 20)  # 12 orthonormal rows in 20 dims: exactly diag(12)'s distances
    W_rot = Q[:12]  # the same up to rounding (all distances tie, so SMACOF may pick another optimum)
    W_low = rng.normal(size=(12, 2))  # a plane: its MDS is the plane itself, no ring
    mask = np.ones(12, bool)
    few = np.r_[np.ones(2, bool), np.zeros(10, bool)]
    out = ring_measures([W_orth, W_rot, W_low, W_low], [mask, mask, mask, few])
    assert out[0]["radial_cv"] == pytest.approx(out[0]["radial_cv_orthogonal"], abs=1e-9)
    assert out[0]["mds_stress"] == pytest.approx(out[0]["mds_stress_orthogonal"], abs=1e-9)
    # Rounded ties let interval MDS fit an intercept that exact ties refuse: never a worse fit.
    assert out[1]["mds_stress"] <= out[1]["mds_stress_orthogonal"] + 1e-6
    assert out[2]["mds_stress"] < 1e-3
    assert np.isnan(out[3]["radial_cv"])


# --- issue 8 follow-up, finding 4: spreads are scale-free and undefined on coinciding points ---------


@pytest.mark.parametrize("spread", [radial_spread, distance_spread])
def test_spreads_are_scale_invariant_and_nan_when_points_coincide(spread):
    # Was: radial_spread(1 + 1e-15 Y) = 0.58 and distance_spread 0.536 (rounding noise measured),
    # yet both NaN at Y * 1e-200 (underflow) and Y * 1e300 (overflow).
    Y = np.random.default_rng(0).normal(size=(20, 2))
    ref = spread(Y)
    assert np.isfinite(ref)
    for scale in (1e-200, 1e-300, 1e300):
        assert spread(Y * scale) == pytest.approx(ref, rel=1e-12)
    for collapsed in (1.0 + 1e-15 * Y, np.zeros((20, 2)), 5.0 + 0.0 * Y):
        assert np.isnan(spread(collapsed))


def test_study_radius_stats_follow_the_same_rule():
    from supviz.study.common import radial_stats, ring_stats

    Y = np.random.default_rng(1).normal(size=(20, 2))
    assert radial_stats(Y * 1e300)["radius_cv"] == pytest.approx(radial_stats(Y)["radius_cv"], rel=1e-12)
    assert np.isnan(radial_stats(1.0 + 1e-15 * Y)["radius_cv"])
    rep = np.arange(20) < 10
    assert np.isnan(ring_stats(1.0 + 1e-15 * Y, rep)["ring_cv"])
    assert ring_stats(Y * 1e-300, rep)["ring_cv"] == pytest.approx(ring_stats(Y, rep)["ring_cv"], rel=1e-12)


# ----------------------------------------------------------------------------- the ring control


def _ring_around_cluster(n_rep=20, n_drop=40, seed=0):
    """diag(n_rep) (equidistant, unit norms) with n_drop rows near the origin: the study's C2 shape."""
    rng = np.random.default_rng(seed)
    W = np.vstack([np.eye(n_rep, 30), rng.normal(scale=0.01, size=(n_drop, 30))])
    return W, np.r_[np.ones(n_rep, bool), np.zeros(n_drop, bool)]


def test_ring_control_known_answers_ring_around_a_cluster_and_a_disc():
    from supviz.datapoints.geometry import UNIFORM_DISC_RADIAL_CV, ring_control

    W, mask = _ring_around_cluster()
    rng = np.random.default_rng(1)
    t, r = rng.uniform(0, 2 * np.pi, 200), np.sqrt(rng.uniform(0, 1, 200))
    disc = np.c_[r * np.cos(t), r * np.sin(t)]
    ring, flat = ring_control([W, disc], [mask, np.ones(200, bool)], random_state=0)
    # equidistant rows with the cluster at the origin: a ring, whichever kind of rows
    assert ring["ring_trained_cluster"] < 0.05 and ring["ring_orthogonal_cluster"] < 0.05
    assert ring["ring_random_cluster"] < 0.15
    # the same rows without the cluster: the disc of diag(N) (section 1), for every kind of rows
    for kind in ("trained", "random", "orthogonal"):
        assert ring[f"ring_{kind}_alone"] > 0.25, kind
    assert ring["n_dropped"] == 40
    # a disc stays a disc; with no dropped rows there is no cluster condition (NaN, never a number)
    assert flat["ring_trained_alone"] == pytest.approx(UNIFORM_DISC_RADIAL_CV, abs=0.05)
    assert np.isnan(flat["ring_trained_cluster"]) and np.isnan(flat["ring_random_cluster"])


def test_ring_control_sets_and_seeds():
    from supviz.datapoints.geometry import ring_control, ring_control_sets

    W, mask = _ring_around_cluster(n_rep=6, n_drop=4)
    sets = ring_control_sets(W, mask, random_state=3)
    # random directions keep the trained norms; diag(N) is exactly equidistant; the cluster is the trained rows
    np.testing.assert_allclose(np.linalg.norm(sets["random_alone"], axis=1), np.linalg.norm(W[mask], axis=1))
    d = np.linalg.norm(sets["orthogonal_alone"][:, None] - sets["orthogonal_alone"][None], axis=2)
    np.testing.assert_allclose(d[np.triu_indices(6, 1)], np.sqrt(2))
    np.testing.assert_allclose(sets["trained_cluster"][6:], W[~mask])
    assert ring_control_sets(W, np.r_[np.ones(2, bool), np.zeros(8, bool)])["trained_alone"] is None  # < 3 rows
    a = ring_control([W], [mask], random_state=5)
    assert a == ring_control([W], [mask], random_state=5)
    with pytest.raises(SupvizError, match="same length"):
        ring_control([W], [], random_state=0)


def test_spoke_share_counts_points_on_single_feature_rays():
    from supviz.datapoints.geometry import spoke_share

    rng = np.random.default_rng(0)
    dirs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    on = rng.uniform(0.1, 1, (30, 1)) * dirs[rng.integers(0, 3, 30)]  # single-feature inputs
    off = rng.uniform(0.2, 1, (30, 3))  # mixtures, away from every axis
    pts = np.vstack([on, off])
    res = spoke_share(pts, dirs)
    assert res.share == pytest.approx(0.5, abs=0.05) and np.isnan(res.coverage)
    assert np.all(res.angles[:30] < 1e-6)
    # a linear 2-D picture keeps the spokes: the affine fit is exact and the rays are found again
    A = rng.normal(size=(3, 2))
    pic = pts @ A + np.array([3.0, -1.0])
    res2 = spoke_share(pts, dirs, pic)
    assert res2.r2 == pytest.approx(1.0) and res2.share >= 0.5
    assert 0 < res2.coverage <= 3 * 10 / 360 + 1e-9  # three rays of +-5 degrees
    with pytest.raises(SupvizError, match="`directions` must have 3 columns"):
        spoke_share(pts, np.eye(2))
