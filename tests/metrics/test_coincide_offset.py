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
