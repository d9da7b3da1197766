"""Shape statistics behind the generated findings, on layouts with known answers."""

import numpy as np
import pytest

from supviz.core.text import fmt, fmt_p
from supviz.study.common import importance_rank, radial_stats, ring_stats, spearman


def _ring(n, r=1.0):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return r * np.c_[np.cos(t), np.sin(t)]


def test_ring_has_zero_radius_cv_and_a_disc_about_a_third():
    assert radial_stats(_ring(40))["radius_cv"] == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    # uniform disc: r = sqrt(U) -> CV = sqrt(1/18) / (2/3) = 0.354
    r = np.sqrt(rng.random(20000))
    t = rng.random(20000) * 2 * np.pi
    disc = np.c_[r * np.cos(t), r * np.sin(t)]
    assert radial_stats(disc)["radius_cv"] == pytest.approx(0.354, abs=0.01)


def test_ring_stats_core_ratio_of_dropped_features():
    Y = np.vstack([_ring(20, 2.0), np.zeros((10, 2)) + 0.01])
    rep = np.r_[np.ones(20, bool), np.zeros(10, bool)]
    s = ring_stats(Y, rep)
    assert s["ring_cv"] == pytest.approx(0.0, abs=1e-9)
    assert s["core_ratio"] < 0.05
    assert np.isnan(ring_stats(_ring(5), np.ones(5, bool))["core_ratio"])


def test_importance_rank_and_formatting():
    np.testing.assert_array_equal(importance_rank(np.array([0.5, 1.0, 0.25])), [1, 0, 2])
    np.testing.assert_array_equal(importance_rank(np.ones(4)), [0, 1, 2, 3])  # ties keep index order
    assert [fmt_p(p) for p in 20 ** -np.linspace(0, 1, 6)] == ["1", "0.55", "0.3", "0.17", "0.091", "0.05"]
    assert fmt(float("nan")) == "n/a" and fmt(0.123456) == "0.123"
    assert spearman(np.arange(5), np.arange(5) ** 2) == pytest.approx(1.0)
    assert np.isnan(spearman(np.arange(2), np.arange(2)))


def test_a1_caption_says_what_the_panel_shows():
    from supviz.study.background.section import _a1_sentence

    shared = _a1_sentence({"p": 1.0, "norm_0": 0.82, "norm_1": 0.57, "cosine_01": 1.0})
    assert "both along the same direction (cosine 1.00)" in shared and "‖W1‖ = 0.57" in shared
    assert "antipodal pair" in _a1_sentence({"p": 0.1, "norm_0": 1.0, "norm_1": 1.0, "cosine_01": -1.0})
    assert "one feature dropped" in _a1_sentence({"p": 1.0, "norm_0": 1.0, "norm_1": 0.0, "cosine_01": float("nan")})


def test_coordinate_rows_one_per_point_with_its_trust_and_the_reason_where_undefined():
    from supviz.study.common import coordinate_rows

    xy = np.array([[0.0, 1.0], [2.0, 3.0]])
    cols = {"trust": np.array([0.5, 1.0]), "continuity": np.array([0.25, 1.0])}
    rows = coordinate_rows(xy, cols, "", labels=["a", "b"], section="s", figure="F", panel="P", m=3)
    assert [(r["point"], r["label"], r["x"], r["y"], r["trust"]) for r in rows] == [
        (0, "a", 0.0, 1.0, 0.5),
        (1, "b", 2.0, 3.0, 1.0),
    ]
    assert all(r["table"] == "coordinates" and r["m"] == 3 and r["nan_reasons"] == "" for r in rows)
    nan = {"trust": np.full(2, np.nan), "continuity": np.full(2, np.nan)}
    rows = coordinate_rows(xy, nan, "layout collapsed", labels=["a", "b"], section="s", figure="F", panel="P")
    assert rows[0]["nan_reasons"] == "trust: layout collapsed; continuity: layout collapsed"
