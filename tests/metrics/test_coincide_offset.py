"""Every metric and verdict that asks whether points coincide uses the one translation-invariant rule
(supviz.core.geometry): a layout far from the origin is not "collapsed" (break test 5, F0: the old rule, 1e-12 of
the largest coordinate, called G + 1e13 one spot; its points are 0.46 to 4 apart, and float64 resolves 2e-3 there)."""

from __future__ import annotations

import numpy as np
import pytest

from supviz.datapoints.geometry import distance_spread, radial_spread
from supviz.dr.base import layout_collapsed
from supviz.metrics.distances import DistanceSource
from supviz.real.measures import silhouette
from supviz.study.common import radial_stats

G = np.random.default_rng(0).normal(size=(30, 2))
FAR = G + 1e13


def test_a_layout_far_from_the_origin_is_not_collapsed():
    assert not DistanceSource("Y", FAR).coincide
    assert not layout_collapsed(FAR)
    # the measures agree with those of the layout at the origin, up to the rounding of the offset coordinates
    assert radial_spread(FAR) == pytest.approx(radial_spread(G), abs=1e-2)
    assert distance_spread(FAR) == pytest.approx(distance_spread(G), abs=1e-2)
    assert radial_stats(FAR)["radius_cv"] == pytest.approx(radial_stats(G)["radius_cv"], abs=1e-2)
    labels = np.repeat([0, 1], 15)
    assert silhouette(FAR, labels)[1] is None


def test_a_set_far_from_the_origin_that_is_one_point_up_to_rounding_still_coincides():
    one = np.full((30, 2), 1e13) * (1.0 + 1e-15 * np.random.default_rng(1).normal(size=(30, 2)))
    assert DistanceSource("Y", one).coincide and layout_collapsed(one)
    assert np.isnan(radial_spread(one)) and np.isnan(radial_stats(one)["radius_cv"])
    assert np.isnan(silhouette(one, np.repeat([0, 1], 15))[0])


def test_metrics_refuse_zero_dissimilarities_that_are_not_one_point():
    # break test 6, F5: D01 = D12 = 0, D02 > 0 is refused by every layout method, but trustworthiness gave 0.5625
    # and stress1_ratio 0.645 on it; the metrics now use the same check (supviz.core.geometry.coincident_groups)
    from scipy.spatial.distance import cdist

    from supviz.errors import SupvizError
    from supviz.metrics import stress1_ratio, trustworthiness

    D = cdist(G, G)
    D[0, 1] = D[1, 0] = D[1, 2] = D[2, 1] = 0.0
    for metric in (lambda: trustworthiness(D, G, k=5, precomputed=True), lambda: stress1_ratio(D, G, precomputed=True)):
        with pytest.raises(SupvizError, match=r"`X` must be dissimilarities in which points at dissimilarity 0"):
            metric()
    assert trustworthiness(cdist(G, G), G, k=5, precomputed=True) == 1.0  # a consistent matrix is measured


def test_coincident_groups_refuses_non_finite_or_negative_input():
    # break test 6, F9: a raw cKDTree "data must be finite", or labels returned silently
    from supviz.core.geometry import coincident_groups
    from supviz.errors import SupvizError

    for bad in (np.nan, np.inf):
        X = G.copy()
        X[3, 1] = bad
        with pytest.raises(SupvizError, match="`X` must be finite; got 1 NaN or infinite entry"):
            coincident_groups(X)
        D = np.abs(G[:, :1] - G[:, 0])
        D[2, 5] = D[5, 2] = bad
        with pytest.raises(SupvizError, match="must be finite"):
            coincident_groups(D, precomputed=True)
    D = np.abs(G[:, :1] - G[:, 0])
    D[2, 5] = D[5, 2] = -1.0
    with pytest.raises(SupvizError, match="must be non-negative dissimilarities; got a minimum of -1"):
        coincident_groups(D, precomputed=True)
