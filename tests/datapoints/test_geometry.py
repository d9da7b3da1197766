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
