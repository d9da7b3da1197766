"""Break test 5's coincident-point findings, as a kind, through every layout engine (supviz.core.geometry is the
one rule; its own tests are tests/core/test_geometry.py).

F0: offset data (``G + 1e13``) was merged into one spot by t-SNE and UMAP, and SMACOF snapped its points together.
F1: zero dissimilarities that break the triangle inequality were merged by chaining, the first row winning.
F2: the snap note counted the rows of a distance matrix that changed (29 for one zero pair).
F3: an ``init`` whose rows all coincide was accepted by t-SNE's exact path and never moved.
F4: float32 copies of float64 rows were kept apart without a word.
F5: two distinct points recorded a perplexity / n_neighbors never used.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from supviz.dr import mds_layout, smacof, tsne_layout, umap_layout
from supviz.errors import SupvizError

G = np.random.default_rng(0).normal(size=(30, 4))  # closest pair 0.46 apart
TSNE_FAST = {"perplexity": 5, "n_iter": 300, "early_exaggeration_iter": 100, "random_state": 0}
UMAP_FAST = {"n_neighbors": 5, "n_epochs": 60, "random_state": 0}


def _distinct_rows(Y):
    return np.unique(Y, axis=0).shape[0]


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
def test_tsne_of_offset_data_lays_out_every_point(backend):
    for X in (G + 1e13, np.c_[np.full(30, 1.7e12), G]):  # an offset; a constant timestamp column
        lay = tsne_layout(X, backend=backend, **TSNE_FAST)
        assert lay.info["distinct_points"] == 30 and not lay.info["collapsed"]
        assert _distinct_rows(lay.embedding) == 30
        assert not any("coincide" in n or "float32" in n for n in lay.notes)


def test_umap_and_mds_of_offset_data_lay_out_every_point():
    lay = umap_layout(G + 1e13, **UMAP_FAST)
    assert lay.info["distinct_points"] == 30 and _distinct_rows(lay.embedding) == 30
    mds = mds_layout(G + 1e13, random_state=0)
    assert _distinct_rows(mds.embedding) == 30 and not any("coincide" in n for n in mds.notes)


def _bad_zeros():
    D = cdist(G, G)
    D[0, 1] = D[1, 0] = D[1, 2] = D[2, 1] = 0.0  # but D[0, 2] = 1.89
    return D


@pytest.mark.parametrize(
    "call",
    [
        lambda D: tsne_layout(D, metric="precomputed", **TSNE_FAST),
        lambda D: tsne_layout(D, metric="precomputed", backend="sklearn", **TSNE_FAST),
        lambda D: umap_layout(D, metric="precomputed", **UMAP_FAST),
        lambda D: mds_layout(D, precomputed=True, random_state=0),
        lambda D: smacof(D, max_iter=50),
        lambda D: smacof(D, max_iter=50, engine="torch"),
    ],
    ids=["tsne", "tsne-sklearn", "umap", "mds_layout", "smacof-numba", "smacof-torch"],
)
def test_zero_dissimilarities_that_are_not_one_point_are_refused_by_every_engine(call):
    with pytest.raises(SupvizError, match=r"points 0 and 1 at 0 .*triangle inequality fails"):
        call(_bad_zeros())


def test_the_snap_note_counts_moved_points_and_exact_zeros_are_not_rounding():
    X = np.vstack([G, G[:1]])
    exact = tsne_layout(cdist(X, X), metric="precomputed", **TSNE_FAST)
    assert not any("up to rounding" in n for n in exact.notes)
    assert any("2 of 31 points coincide" in n for n in exact.notes)
    X[-1] += 1e-14
    near = tsne_layout(cdist(X, X), metric="precomputed", **TSNE_FAST)
    assert any("1 point of X coincides with another up to rounding" in n for n in near.notes)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: tsne_layout(G, init=s, **TSNE_FAST),
        lambda s: tsne_layout(G, init=s, backend="sklearn", **TSNE_FAST),
        lambda s: tsne_layout(G, init=s, negative_gradient_method="exact", **TSNE_FAST),
        lambda s: umap_layout(G, init=s, **UMAP_FAST),
        lambda s: smacof(cdist(G, G), init=s, max_iter=50),
    ],
    ids=["tsne", "tsne-sklearn", "tsne-exact", "umap", "smacof"],
)
@pytest.mark.parametrize("where", [0.0, 5.0])
def test_a_start_whose_rows_all_coincide_is_refused(call, where):
    # at 5.0 the rows differ by a rounding unit or two: one spot all the same (SMACOF refused only exact zero spread)
    start = where * (1.0 + 1e-15 * np.random.default_rng(1).normal(size=(30, 2)))
    assert where == 0.0 or np.ptp(start, axis=0).min() > 0
    with pytest.raises(SupvizError, match="`init` must not put all points"):
        call(start)


def test_float32_copies_beside_float64_rows_get_a_note():
    X = np.vstack([G, np.repeat(G[:3], 5, axis=0)])
    X[30:] = X[30:].astype(np.float32)
    lay = tsne_layout(X, **TSNE_FAST)
    assert any("15 pairs of points of X differ only by float32 rounding" in n for n in lay.notes), lay.notes
    assert not any("float32" in n for n in tsne_layout(G, **TSNE_FAST).notes)
    assert not any("float32" in n for n in tsne_layout(X.astype(np.float32), **TSNE_FAST).notes)


def test_two_distinct_points_record_no_neighbour_parameter():
    X2 = np.repeat(np.eye(3)[:2], 10, axis=0)
    t = tsne_layout(X2, perplexity=6, clamp=False, random_state=0)
    assert t.params["perplexity"] is None and any("perplexity 6 not used" in n for n in t.notes)
    u = umap_layout(X2, n_neighbors=5, random_state=0)
    assert u.params["n_neighbors"] is None and any("n_neighbors 5 not used" in n for n in u.notes)
    wide = tsne_layout(X2, n_components=5, random_state=0).embedding  # documented: two spots on the first axis
    assert wide.shape == (20, 5) and not wide[:, 1:].any()


# Break test 6, F4: a start at an extreme scale. SMACOF scaled the dissimilarities but not the start, so a start at
# 1e-300 or 1e160 under- or overflowed in its first scaling step: one spot, stress 0 (a claimed perfect fit).
START = G[:, :2]


@pytest.mark.parametrize("scale", [1e-300, 1e160, 2.0**-1000])
@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_smacof_fits_a_start_at_any_scale_as_at_unit_scale(scale, engine):
    D = cdist(G, G)
    ref = smacof(D, init=START, engine=engine, max_iter=50)
    got = smacof(D, init=START * scale, engine=engine, max_iter=50)
    assert _distinct_rows(got.embedding) == 30
    assert got.stress == pytest.approx(float(ref.stress), rel=1e-9) and got.stress > 0.01
    if scale == 2.0**-1000:  # a power of two divides exactly: the same bits
        assert np.array_equal(got.embedding, ref.embedding)


def test_mds_layout_and_the_estimator_fit_an_extreme_start():
    from supviz.dr import SMACOF

    ref = mds_layout(G, init=START, max_iter=50).info["smacof_stress"]
    ref_est = SMACOF(init=START, max_iter=50).fit(G).stress_
    for scale in (1e-300, 1e160):
        lay = mds_layout(G, init=START * scale, max_iter=50)
        assert not lay.info["collapsed"] and lay.info["smacof_stress"] == pytest.approx(ref, rel=1e-9)
        assert SMACOF(init=START * scale, max_iter=50).fit(G).stress_ == pytest.approx(ref_est, rel=1e-9)


@pytest.mark.parametrize("start", [START * 1e300, START * 1e-300, START + 1e9], ids=["1e300", "1e-300", "+1e9"])
def test_umap_lays_out_a_start_its_float32_copy_cannot_hold(start):
    # was: a raw "Input contains infinity" ValueError (1e300), or non-finite coordinates blamed on X
    from supviz.metrics import trustworthiness

    lay = umap_layout(G, init=start, **UMAP_FAST)
    assert np.isfinite(lay.embedding).all() and _distinct_rows(lay.embedding) == 30
    ref = trustworthiness(G, umap_layout(G, init=START, **UMAP_FAST).embedding, k=5)
    assert trustworthiness(G, lay.embedding, k=5) == pytest.approx(ref, abs=0.05)


def test_umap_passes_an_ordinary_start_as_it_is():
    from supviz.dr.umap_layout import _float32_start

    assert _float32_start(START) is START


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
def test_tsne_refuses_a_start_whose_squared_distances_overflow(backend):
    # was: "opentsne (exact) found no affinity ... P is empty", which blamed the affinities
    with pytest.raises(SupvizError, match=r"`init` must lie within 6.7e\+153 of its centroid for t-SNE"):
        tsne_layout(G, init=START * 1e200, backend=backend, **TSNE_FAST)
    assert np.isfinite(tsne_layout(G, init=START * 1e-300, backend=backend, **TSNE_FAST).embedding).all()


# Break test 6, F2: points scaled but not centred before umap-learn's float32 copy: at offset 1e9 45 distinct rows
# became one float32 row and UMAP laid out copies of one point (trustworthiness 0.57), without a note.
CLUSTERS = np.repeat(np.eye(5)[:3] * 6.0, 15, axis=0) + np.random.default_rng(4).normal(size=(45, 5))


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_umap_centres_points_far_from_the_origin(metric):
    from supviz.metrics import trustworthiness

    ref = trustworthiness(CLUSTERS, umap_layout(CLUSTERS, metric=metric, **UMAP_FAST).embedding, k=5)
    lay = umap_layout(CLUSTERS + 1e9, metric=metric, **UMAP_FAST)
    assert trustworthiness(CLUSTERS, lay.embedding, k=5) == pytest.approx(ref, abs=0.05)
    assert any("centred before umap-learn's float32 copy" in n for n in lay.notes), lay.notes


def test_umap_leaves_ordinary_points_and_other_metrics_alone():
    from supviz.dr.umap_layout import _centred_if_far

    notes: list[str] = []
    pts = CLUSTERS / np.abs(CLUSTERS).max()
    assert _centred_if_far(pts, notes) is pts and not notes  # the same bits reach umap-learn
    shifted = pts + 1.0  # an offset within 256 spreads: as it is
    assert _centred_if_far(shifted, notes) is shifted and not notes
    lay = umap_layout(CLUSTERS + 1e9, metric="cosine", **UMAP_FAST)  # cosine sees a translation: not centred
    assert not any("centred" in n for n in lay.notes)


def test_a_start_whose_groups_first_rows_coincide_is_refused_by_every_engine_alike():
    """Break test 6's F6: X holds 4 distinct points x 3 copies and ``init`` puts the first row of each group at one
    spot. UMAP and t-SNE refused it naming "all 4 rows" of a 12-row start; MDS accepted it and SMACOF, whose
    engines give each group its first member's coordinates, never moved them apart. Now every engine refuses it, in
    the user's terms; a start with distinct first rows (copies anywhere) is laid out by all three."""
    rng = np.random.default_rng(1)
    X = np.repeat(G[:4], 3, axis=0)
    init = rng.normal(size=(12, 2))
    init[[0, 3, 6, 9]] = init[0]
    for layout, kwargs in (
        (mds_layout, {}),
        (umap_layout, {"n_epochs": 30}),
        (tsne_layout, {"n_iter": 300, "perplexity": 1}),
    ):
        with pytest.raises(SupvizError, match="X's 12 points are 4 distinct ones .* those 4 rows of `init` are equal"):
            layout(X, init=init, **kwargs)
    with pytest.raises(SupvizError, match="those 4 rows of `init` are equal"):
        smacof(cdist(X, X), init=init)
    ok = init.copy()
    ok[[3, 6, 9]] += np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    for layout, kwargs in (
        (mds_layout, {}),
        (umap_layout, {"n_epochs": 30}),
        (tsne_layout, {"n_iter": 300, "perplexity": 1}),
    ):
        Y = layout(X, init=ok, **kwargs).embedding
        assert _distinct_rows(Y) == 4
