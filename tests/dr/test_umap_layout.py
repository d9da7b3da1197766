"""UMAP through umap-learn with the study's rules: clamps, tiny N, seeds, errors."""

import os
import sys

import numpy as np
import pytest

from supviz.dr import embed, umap_layout
from supviz.errors import SupvizError
from supviz.metrics import procrustes_distance, trustworthiness

FAST = {"n_epochs": 60}


def _two_clusters(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n // 2, 5)), rng.normal(size=(n // 2, 5)) + 12.0])
    return X, np.repeat([0, 1], n // 2)


@pytest.mark.parametrize("n", [3, 4, 6])
def test_tiny_n_orthogonal_baseline(umap_warm, n):
    layout = umap_layout(np.eye(n), n_neighbors=15, min_dist=0.1, random_state=0, **FAST)
    assert layout.embedding.shape == (n, 2) and np.isfinite(layout.embedding).all()
    assert layout.params["n_neighbors"] == n - 1
    assert layout.params["init"] == "pca"
    assert any("clamped from 15 to N - 1" in note for note in layout.notes)
    assert any("'auto' -> 'pca'" in note for note in layout.notes)
    assert np.ptp(layout.embedding, axis=0).max() > 1e-3  # not collapsed


def test_explicit_spectral_falls_back_for_three_points(umap_warm):
    # umap-learn's spectral start raises inside scipy for N <= n_components + 1
    layout = umap_layout(np.eye(3), n_neighbors=2, init="spectral", random_state=0, **FAST)
    assert layout.params["init"] == "pca"
    assert any("'spectral' -> 'pca'" in note for note in layout.notes)


def test_auto_init_is_spectral_from_ten_points(umap_warm):
    layout = umap_layout(np.eye(12), n_neighbors=5, random_state=0, **FAST)
    assert layout.params["init"] == "spectral"
    assert layout.params["n_neighbors"] == 5 and not any("clamped" in n for n in layout.notes)


def test_same_seed_same_layout_different_seed_different(umap_warm):
    X, _ = _two_clusters()
    a = umap_layout(X, n_neighbors=8, random_state=3, **FAST)
    b = embed(X, "umap", n_neighbors=8, random_state=3, **FAST)
    c = umap_layout(X, n_neighbors=8, random_state=4, **FAST)
    assert a.info["deterministic"] and a.params["seed"] == b.params["seed"]
    assert procrustes_distance(a.embedding, b.embedding) < 1e-12
    assert procrustes_distance(a.embedding, c.embedding) > 1e-6
    # a Generator seed works and is reproducible through an equal Generator
    g1 = umap_layout(X, n_neighbors=8, random_state=np.random.default_rng(5), **FAST)
    g2 = umap_layout(X, n_neighbors=8, random_state=np.random.default_rng(5), **FAST)
    assert procrustes_distance(g1.embedding, g2.embedding) < 1e-12


def test_quality_floor_two_clusters_and_tiny_min_dist(umap_warm):
    X, labels = _two_clusters()
    layout = umap_layout(X, n_neighbors=10, min_dist=1e-5, random_state=0, **FAST)
    Y = layout.embedding
    gap = np.linalg.norm(Y[labels == 0].mean(0) - Y[labels == 1].mean(0))
    spread = max(Y[labels == 0].std(0).max(), Y[labels == 1].std(0).max())
    assert gap > 3 * spread
    assert trustworthiness(X, Y, k=5) > 0.8
    assert layout.params["min_dist"] == 1e-5


def test_no_seed_is_marked_non_deterministic(umap_warm):
    layout = umap_layout(np.eye(5), random_state=None, **FAST)
    assert not layout.info["deterministic"]
    assert any("not reproducible" in n for n in layout.notes)


def test_errors():
    with pytest.raises(SupvizError, match="at least 3 points for UMAP; got 2"):
        umap_layout(np.eye(2))
    with pytest.raises(SupvizError, match="finite"):
        umap_layout(np.array([[0.0, 1.0], [np.inf, 0.0], [1.0, 1.0]]))
    with pytest.raises(SupvizError, match=r"`n_neighbors` must be an int in \[2, 4\] for 5 points.*; got 15"):
        umap_layout(np.eye(5), n_neighbors=15, clamp=False)
    with pytest.raises(SupvizError, match=r"`n_neighbors` must be an int >= 2; got 1"):
        umap_layout(np.eye(5), n_neighbors=1)
    with pytest.raises(SupvizError, match=r"`min_dist` must be a finite number in \[0.0, 1.0\]; got 2.0"):
        umap_layout(np.eye(5), min_dist=2.0)
    with pytest.raises(SupvizError, match="`min_dist` must be a finite number"):
        umap_layout(np.eye(5), min_dist=float("nan"))
    with pytest.raises(SupvizError, match=r"`init` must be an array of shape \(5, 2\)"):
        umap_layout(np.eye(5), init=np.zeros((4, 2)))
    with pytest.raises(SupvizError, match="`init` must be one of"):
        umap_layout(np.eye(5), init="tsne")
    with pytest.raises(SupvizError, match="`n_epochs` must be an int >= 1"):
        umap_layout(np.eye(5), n_epochs=0)


def test_numba_cache_is_switched_on_for_umap_kernels(umap_warm):
    import umap.layouts
    from numba.core.caching import NullCache

    # the package attribute is the function; the module itself lives in sys.modules
    module = sys.modules["supviz.dr.umap_layout"]
    kernel = umap.layouts._nb_optimize_layout_euclidean_single_epoch
    if os.environ.get("SUPVIZ_UMAP_NUMBA_CACHE", "1") == "0":
        assert isinstance(kernel._cache, NullCache)
    else:
        assert not isinstance(kernel._cache, NullCache)
        assert module._cache_state["enabled"] > 50
    assert module.enable_numba_cache() == 0  # once per process


def test_equal_seeds_give_equal_pictures_with_coincident_points():
    """A group of coincident points is a complete graph in UMAP's fuzzy graph: its Laplacian has a repeated
    eigenvalue, and ARPACK restarts from a random vector. umap-learn does not seed it; supviz does, so the
    spectral start (and the picture) is a function of the seed (it differed run to run before)."""
    rng = np.random.default_rng(3)
    # 16 coincident points far from the rest: a component of their own (checked to differ without the fix)
    X = np.vstack([rng.normal(size=(80, 6)), np.repeat(rng.normal(size=(1, 6)) + 50.0, 16, axis=0)])
    a = umap_layout(X, random_state=5)
    b = umap_layout(X, random_state=5)
    assert a.params["init"] == "spectral"
    np.testing.assert_array_equal(a.embedding, b.embedding)


def test_the_eigensolver_is_restored_after_a_layout():
    import scipy.sparse.linalg as sla

    before = sla.eigsh
    umap_layout(np.random.default_rng(0).normal(size=(40, 5)), random_state=1)
    assert sla.eigsh is before


def test_coincident_points_are_laid_out_once_each_copy_at_its_points_place():
    """Copies of a point are one point to UMAP (as umap-learn's unique=True): the layout is that of the distinct
    points, bit for bit, each copy at its point's place; left to umap-learn they formed a component of their own and
    were spread at random (a blob of spots for identical inputs). Distances as input too."""
    from scipy.spatial.distance import pdist, squareform

    rng = np.random.default_rng(7)
    distinct = rng.normal(size=(30, 5))
    copies = np.array(list(range(30)) + [0] * 12 + [3] * 5)  # point 0 twelve more times, point 3 five more
    X = distinct[copies]
    lay = umap_layout(X, random_state=2, **FAST)
    ref = umap_layout(distinct, random_state=2, **FAST)
    first = np.unique(copies, return_index=True)[1]
    np.testing.assert_array_equal(lay.embedding[first], ref.embedding[np.unique(copies)])
    np.testing.assert_array_equal(lay.embedding, ref.embedding[copies])
    assert lay.info["distinct_points"] == 30
    assert any("19 of 47 points coincide with another (2 groups)" in n for n in lay.notes)
    D = umap_layout(squareform(pdist(X)), metric="precomputed", random_state=2, **FAST)
    assert np.ptp(D.embedding[copies == 0], axis=0).max() == 0.0 and D.info["distinct_points"] == 30
    # an init array: the distinct points' rows of it
    start = rng.normal(size=(len(X), 2))
    a = umap_layout(X, init=start, random_state=2, **FAST)
    b = umap_layout(distinct, init=start[first], random_state=2, **FAST)
    np.testing.assert_array_equal(a.embedding, b.embedding[copies])


def test_two_distinct_points_are_two_spots():
    X = np.array([[0.0, 0.0, 1.0]] * 4 + [[2.0, 0.0, 0.0]] * 3)
    lay = umap_layout(X, random_state=0)
    Y = lay.embedding
    assert np.ptp(Y[:4], axis=0).max() == 0 and np.ptp(Y[4:], axis=0).max() == 0
    assert np.linalg.norm(Y[0] - Y[4]) == pytest.approx(lay.params["spread"]) and not lay.info["collapsed"]
    assert any("2 distinct points" in n for n in lay.notes)


def test_coincident_points_keep_every_rule_of_the_full_input():
    """What the fresh break test found: the checks see the user's N rows, the note counts the points that coincide,
    clamp=False refuses, a Generator is drawn from once (copies do not change the picture), distinct_points always."""
    rng = np.random.default_rng(1)
    distinct = rng.normal(size=(6, 4))
    X = distinct[[0, 1, 2, 3, 4, 5] + [0] * 5 + [1] * 4]  # 15 rows: point 0 six times, point 1 five times
    lay = umap_layout(X, random_state=0, **FAST)
    assert any("11 of 15 points coincide with another (2 groups)" in n for n in lay.notes)
    assert lay.info["distinct_points"] == 6
    assert umap_layout(distinct, random_state=0, **FAST).info["distinct_points"] == 6
    assert umap_layout(np.ones((5, 2)), random_state=0).info["distinct_points"] == 1
    with pytest.raises(SupvizError, match=r"`n_neighbors` must be an int in \[2, 5\]: UMAP lays out the 6 distinct"):
        umap_layout(X, n_neighbors=10, clamp=False, random_state=0)
    with pytest.raises(SupvizError, match=r"`init` must be an array of shape \(15, 2\)"):
        umap_layout(X, init=np.zeros((6, 2)), random_state=0)
    with pytest.raises(SupvizError, match=r"`n_components` must be an int in \[1, 2\]: UMAP lays out the 3 distinct"):
        umap_layout(X[[0, 1, 2, 6, 7]], n_components=3, random_state=0)
    with pytest.raises(SupvizError, match="unique"):
        umap_layout(X, unique=True, random_state=0)
    two = X[[0, 1, 6, 11]]  # two distinct points: the same checks as any input
    with pytest.raises(SupvizError, match=r"`init` must be one of"):
        umap_layout(two, init="bogus", random_state=0)
    # a Generator: copies do not change the picture of the distinct points (one draw, by the call that lays out)
    a = umap_layout(X, random_state=np.random.default_rng(9), **FAST).embedding[:6]
    b = umap_layout(distinct, random_state=np.random.default_rng(9), **FAST).embedding
    np.testing.assert_array_equal(a, b)
