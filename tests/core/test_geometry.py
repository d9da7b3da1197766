"""The one rule of coincident points (supviz.core.geometry): translation invariance, one rule for points and
their distances, dissimilarities whose zero pairs are not one point, the snap's count, mixed precision.

Break test 5 (/work/runs/break5): the tolerance was relative to the largest absolute coordinate, so ``G + 1e13``
had a tolerance of 10 units and merged points 0.5 apart that float64 resolves; a constant timestamp column beside
4 features merged 30 points into 4.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from supviz.core.geometry import (
    COINCIDE_ULPS,
    coincidence_tolerance,
    coincident_groups,
    dissimilarity_spread,
    float32_pairs,
    points_coincide,
    snap_coincident,
)
from supviz.errors import SupvizError

G = np.random.default_rng(0).normal(size=(30, 4))  # closest pair 0.46 apart
WITH_COPIES = np.vstack([G, G[:5], G[:2]])  # 30 distinct points, 7 exact copies


@pytest.mark.parametrize("offset", [0.0, 1e6, 1e12, 1e13])
def test_points_and_their_distances_give_the_same_groups_at_any_offset(offset):
    X = WITH_COPIES + offset
    labels = coincident_groups(X)
    assert np.array_equal(labels, coincident_groups(cdist(X, X), precomputed=True))
    assert np.array_equal(labels, coincident_groups(WITH_COPIES))  # translated: the groups of the original
    assert len(set(labels.tolist())) == 30


def test_a_constant_timestamp_column_does_not_merge_points():
    # a millisecond timestamp (1.7e12) beside 4 features: was 4 groups of 30
    Y = np.c_[np.full(30, 1.7e12), G]
    assert len(set(coincident_groups(Y).tolist())) == 30
    assert not points_coincide(Y)


@pytest.mark.parametrize("stamp", [1.7e12, 1.7e15, 1e300])
def test_a_constant_column_changes_nothing(stamp):
    # break test 6: the floor was 32 eps times the row norm, so a constant column charged rounding to differences
    # that are exact: 1.7e12 beside 200 points merged 2 of them, 1.7e15 made every set one spot
    Gb = np.random.default_rng(6).normal(size=(200, 2))
    X = np.c_[Gb, np.full(200, stamp)]
    assert np.array_equal(coincident_groups(X), coincident_groups(Gb))
    assert np.array_equal(coincident_groups(X), coincident_groups(cdist(X, X), precomputed=True))
    assert coincidence_tolerance(X) == coincidence_tolerance(Gb)
    assert not points_coincide(np.c_[G[:12], np.full(12, stamp)])
    assert points_coincide(np.full((5, 3), stamp))


def test_points_far_out_keep_the_gaps_float64_resolves():
    # at offset 1e14 float64's unit is 1/64 and G's closest pair (0.62) is resolved to 2%: 32 ulps of the row norm
    # (1.4) merged 12 points into 4 while their distance matrix kept 12
    Gs = np.random.default_rng(0).normal(size=(12, 4))
    X = Gs + 1e14
    labels = coincident_groups(X)
    assert len(set(labels.tolist())) == 12
    assert np.array_equal(labels, coincident_groups(cdist(X, X), precomputed=True))


def test_the_tolerance_is_the_spread_rule_or_the_rounding_floor():
    # hand-worked: unit spread at the origin -> 1e-12 of the spread; at offset 1e13 -> 16 ulps of the one column
    # that varies (the constant second column adds nothing); was 32 * eps * the row norm, 0.14
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert coincidence_tolerance(X) == pytest.approx(1e-12)
    far = X + 1e13
    assert coincidence_tolerance(far) == COINCIDE_ULPS * np.spacing(1e13) == 16 * 2.0**-9
    both = np.array([[1.0, 1.0], [-1.0, -1.0]]) + 1e13
    assert coincidence_tolerance(both) == pytest.approx(np.sqrt(2) * 16 * 2.0**-9)


def test_what_passed_before_still_passes():
    rng = np.random.default_rng(1)
    # W rows trained to the origin, 1e-17 apart, beside unit rows: one group
    W = np.vstack([G, 1e-17 * rng.normal(size=(4, 4))])
    labels = coincident_groups(W)
    assert len(set(labels[30:].tolist())) == 1 and len(set(labels.tolist())) == 31
    # and at the extremes of float64 the same merge
    for scale in (1e-300, 1e300):
        assert np.array_equal(coincident_groups(W * scale), labels)
    # a set far from the origin whose points are one point up to rounding (1e-15 relative noise) coincides
    one = (1e13 + rng.normal(size=(1, 4))) * (1.0 + 1e-15 * rng.normal(size=(20, 4)))
    assert points_coincide(one)
    assert len(set(coincident_groups(one).tolist())) == 1
    assert points_coincide(np.full((5, 3), 1e13))
    assert not points_coincide(G + 1e13)


def test_dissimilarity_spread_is_the_centroid_distance_of_the_points():
    assert dissimilarity_spread(cdist(G, G)) == pytest.approx(np.linalg.norm(G - G.mean(0), axis=1).max(), rel=1e-12)


def test_zero_dissimilarities_that_break_the_triangle_inequality_are_refused():
    # D01 = D12 = 0 but D02 = 1.89: was merged into one point by chaining, row 0 winning
    D = cdist(G, G)
    D[0, 1] = D[1, 0] = D[1, 2] = D[2, 1] = 0.0
    with pytest.raises(SupvizError, match=r"points 0 and 1 at 0 .* from point \d+ \(the triangle inequality fails"):
        coincident_groups(D, precomputed=True)
    # one zero pair whose rows differ elsewhere by more than rounding
    D = cdist(G, G)
    D[0, 1] = D[1, 0] = 0.0
    with pytest.raises(SupvizError, match="points 0 and 1"):
        snap_coincident(D, precomputed=True, name="delta")
    with pytest.raises(SupvizError, match="`delta`"):
        snap_coincident(D, precomputed=True, name="delta")


def test_an_unobserved_pair_is_not_compared():
    D = cdist(G, G)
    D[0, 1] = D[1, 0] = 0.0  # a missing dissimilarity written as 0
    seen = np.ones_like(D, dtype=bool)
    seen[0, 1] = seen[1, 0] = False
    assert len(set(coincident_groups(D, precomputed=True, observed=seen).tolist())) == 30


def test_the_snap_counts_moved_points_not_changed_rows():
    # exact copies in a distance matrix: nothing moves (was: every row whose columns changed was counted)
    X = np.vstack([G, G[:1]])
    D = cdist(X, X)
    out, moved = snap_coincident(D, precomputed=True)
    assert moved == 0 and np.array_equal(out, D)
    # one copy 1e-14 off: one point moved, in both forms
    X[-1] += 1e-14
    assert snap_coincident(X)[1] == 1
    assert snap_coincident(cdist(X, X), precomputed=True)[1] == 1


def test_float32_copies_beside_float64_rows_are_counted_not_merged():
    X = np.vstack([G, np.repeat(G[:3], 5, axis=0)])
    X[30:] = X[30:].astype(np.float32)
    assert len(set(coincident_groups(X).tolist())) == 33  # kept apart: 6e-8 is outside the float64 rule
    assert float32_pairs(X) == 15  # each float32 copy with its original (the copies themselves are one point)
    assert float32_pairs(G) == 0
    assert float32_pairs(X + 1e13) == 0  # far from the origin every pair shares float32 values: none is a copy
    Y = np.vstack([G + 1e3, (G[:3] + 1e3).astype(np.float32).repeat(5, axis=0)])  # float32 copies off the origin
    assert float32_pairs(Y) == 15
    assert float32_pairs(X.astype(np.float32)) == 0  # exact at its own precision


@pytest.mark.parametrize("seed", range(12))
def test_sklearn_distances_with_exact_copies_are_accepted(seed):
    # break test 6: sklearn's dot-product distances carry ~1e-9 relative rounding; a copy's zero pair was refused
    # as breaking the triangle inequality (slack 32 eps), 4 of 12 draws
    from sklearn.metrics import pairwise_distances

    rng = np.random.default_rng(seed)
    Gs = rng.normal(size=(20, 5)) + 10.0 ** (seed % 5)
    X = np.vstack([Gs, Gs[:5]])
    D = pairwise_distances(X)
    D = (D + D.T) / 2
    np.fill_diagonal(D, 0.0)
    labels = coincident_groups(D, precomputed=True)
    assert len(set(labels[:20].tolist())) == 20  # the distinct points stay distinct


def test_a_real_violation_prints_the_digits_that_show_it():
    D = cdist(G, G)
    D[0, 1] = D[1, 0] = 0.0
    D[1, 2:] = D[2:, 1] = D[0, 2:] * (1.0 + 1e-6)  # rows 1e-6 apart: far above a computed matrix's rounding
    with pytest.raises(SupvizError, match="points 0 and 1") as err:
        coincident_groups(D, precomputed=True)
    a, b = (float(v) for v in re.search(r"but at (\S+) and (\S+) from", str(err.value)).groups())
    assert a != b
