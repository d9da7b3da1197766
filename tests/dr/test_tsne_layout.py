"""t-SNE through openTSNE and scikit-learn with the study's rules: perplexity limit, tiny N, seeds."""

import importlib

import numpy as np
import pytest

from supviz.dr import embed, tsne_layout
from supviz.dr.tsne_layout import perplexity_limit
from supviz.errors import SupvizError
from supviz.metrics import procrustes_distance, trustworthiness

FAST = {"n_iter": 300, "early_exaggeration_iter": 100}
BACKENDS = ["opentsne", "sklearn"]


def _two_clusters(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n // 2, 5)), rng.normal(size=(n // 2, 5)) + 12.0])
    return X, np.repeat([0, 1], n // 2)


def test_perplexity_limit_is_the_reference_rule():
    assert perplexity_limit(10) == 3.0
    assert perplexity_limit(61) == 20.0


def test_perplexity_above_limit_is_refused_with_the_limit_in_the_message():
    with pytest.raises(
        SupvizError,
        match=r"`perplexity` must be a finite number in \[1/3, 3\]"
        r" \(at least 1/3 and at most \(N - 1\) / 3 for N = 10 points\); got 5.0\.",
    ):
        tsne_layout(np.eye(10), perplexity=5.0, clamp=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_perplexity_below_a_third_is_refused(backend):
    """Issue 22, kind 2: 3 x perplexity neighbours is none below 1/3; openTSNE then raised scikit-learn's
    "Expected n_neighbors > 0" (a config with `tsne_grid_perplexity = [1e-9]` failed after 20 s of work)."""
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(SupvizError, match=r"`perplexity` must be a finite number in \[1/3, 3\].*; got 0.2\."):
        tsne_layout(X, perplexity=0.2, backend=backend)
    assert np.isfinite(tsne_layout(X, perplexity=1 / 3, backend=backend, random_state=0).embedding).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_perplexity_clamp_is_logged(backend):
    layout = tsne_layout(
        np.random.default_rng(0).normal(size=(10, 3)),
        perplexity=30.0,
        clamp=True,
        backend=backend,
        random_state=0,
        **FAST,
    )
    assert layout.params["perplexity"] == 3.0
    assert any("clamped from 30 to (N - 1) / 3 = 3" in n for n in layout.notes)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [3, 4])
def test_tiny_n(backend, n):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 3))
    layout = tsne_layout(X, perplexity=perplexity_limit(n), backend=backend, random_state=0, **FAST)
    assert layout.embedding.shape == (n, 2) and np.isfinite(layout.embedding).all()
    assert np.isfinite(layout.info["kl_divergence"])
    assert layout.params["init"] == "pca"


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_feature_input_gets_a_working_start(backend):
    X = np.arange(6.0)[:, None]  # rank 1: PCA can give only one column
    layout = tsne_layout(X, perplexity=1.5, backend=backend, random_state=0, **FAST)
    assert np.isfinite(layout.embedding).all()


def test_orthogonal_baseline_collapse_is_noted():
    # diag(N) at perplexity (N - 1) / 3: uniform affinities, whose KL optimum is a single point.
    layout = tsne_layout(np.eye(10), perplexity=3.0, random_state=0, **FAST)
    assert any("collapsed" in n for n in layout.notes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_layout(backend):
    X, _ = _two_clusters()
    kw = dict(perplexity=5.0, backend=backend, init="random", **FAST)
    a = tsne_layout(X, random_state=7, **kw)
    b = embed(X, "tsne", random_state=7, **kw)
    c = tsne_layout(X, random_state=8, **kw)
    assert a.info["deterministic"]
    assert procrustes_distance(a.embedding, b.embedding) < 1e-12
    assert a.info["kl_divergence"] == b.info["kl_divergence"]
    assert procrustes_distance(a.embedding, c.embedding) > 1e-6  # the seed reaches the random start
    # the default PCA start, exact neighbours and small-N exact gradients use no randomness at all
    p1 = tsne_layout(X, perplexity=5.0, backend=backend, random_state=1, **FAST)
    p2 = tsne_layout(X, perplexity=5.0, backend=backend, random_state=2, **FAST)
    assert procrustes_distance(p1.embedding, p2.embedding) < 1e-12


@pytest.mark.parametrize("backend", BACKENDS)
def test_quality_floor_two_clusters(backend):
    X, labels = _two_clusters()
    Y = tsne_layout(X, perplexity=5.0, backend=backend, random_state=0, n_iter=600).embedding
    gap = np.linalg.norm(Y[labels == 0].mean(0) - Y[labels == 1].mean(0))
    spread = max(Y[labels == 0].std(0).max(), Y[labels == 1].std(0).max())
    assert gap > 2 * spread
    assert trustworthiness(X, Y, k=5) > 0.85


def test_errors():
    with pytest.raises(SupvizError, match="at least 3 points for t-SNE; got 2"):
        tsne_layout(np.eye(2), perplexity=0.3)
    with pytest.raises(SupvizError, match="finite"):
        tsne_layout(np.array([[0.0, np.nan], [1.0, 0.0], [2.0, 2.0]]), perplexity=0.5)
    for bad in (0.0, -1.0, float("nan"), "30", True):
        with pytest.raises(SupvizError, match="`perplexity` must be a finite number in"):
            tsne_layout(np.eye(10), perplexity=bad)
    with pytest.raises(SupvizError, match="`backend` must be one of 'opentsne', 'sklearn'"):
        tsne_layout(np.eye(10), perplexity=2.0, backend="bhtsne")
    with pytest.raises(SupvizError, match="`n_iter` must be an int >= 251"):
        tsne_layout(np.eye(10), perplexity=2.0, backend="sklearn", n_iter=100)
    with pytest.raises(SupvizError, match="`n_iter` must be an int >= 101"):
        tsne_layout(np.eye(10), perplexity=2.0, n_iter=100, early_exaggeration_iter=100)
    with pytest.raises(SupvizError, match="`learning_rate` must be a finite number"):
        tsne_layout(np.eye(10), perplexity=2.0, learning_rate=-1.0)
    with pytest.raises(SupvizError, match=r"`init` must be an array of shape \(10, 2\)"):
        tsne_layout(np.eye(10), perplexity=2.0, init=np.zeros((10, 3)))


# --- coincident points are one spot (issue 19, "degenerate geometry") --------------------------------


def _grid_with_copies_at_the_origin():
    """200 points: a 10 x 10 grid at (1..10, 1..10) and 100 copies of the origin (the study's inputs whose active
    features were all dropped sit at h = 0)."""
    grid = np.stack(np.meshgrid(np.arange(1.0, 11.0), np.arange(1.0, 11.0)), axis=-1).reshape(-1, 2)
    return np.vstack([grid, np.zeros((100, 2))])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hundred_copies_at_the_origin_are_one_spot(backend):
    # Was: the 100 copies spread into a ring 5.3 units wide (openTSNE, seed 0; scikit-learn 2.8), as wide as the
    # grid beside them. Now: one spot, placed among the origin's neighbours of the grid.
    X = _grid_with_copies_at_the_origin()
    layout = tsne_layout(X, random_state=0, backend=backend)
    Y = layout.embedding
    assert Y.shape == (200, 2) and np.isfinite(Y).all()
    assert np.array_equal(Y[100:], np.repeat(Y[100:101], 100, axis=0))
    assert layout.info["distinct_points"] == 101 and not layout.info["collapsed"]
    assert layout.params["perplexity"] == 30.0  # (101 - 1) / 3 > 30: nothing to clamp
    assert any(
        "tsne: 100 of 200 points coincide with another (1 groups): the 101 distinct points" in n for n in layout.notes
    )
    # the spot of the copies lies next to the grid's corner (1, 1): among the origin's 3 nearest grid points
    nearest = int(np.argmin(np.linalg.norm(Y[:100] - Y[100], axis=1)))
    assert tuple(X[nearest]) in {(1.0, 1.0), (1.0, 2.0), (2.0, 1.0)}
    # the grid's 100 other points keep their own spots: only the copies were merged
    assert len(np.unique(Y[:101], axis=0)) == 101


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"init": "random"},
        {"negative_gradient_method": "fft"},
        {"negative_gradient_method": "bh"},
        {"n_components": 3},
        {"backend": "sklearn", "n_iter": 260},
        {"backend": "sklearn", "method": "barnes_hut", "n_iter": 260},
    ],
    ids=["exact", "random-init", "fft", "bh", "3d", "sklearn-exact", "sklearn-bh"],
)
def test_copies_are_one_spot_on_every_path(kw):
    from scipy.spatial.distance import pdist, squareform

    rng = np.random.default_rng(5)
    distinct = rng.normal(size=(30, 4))
    copies = np.array(list(range(30)) + [0] * 12 + [3] * 5)  # point 0 twelve more times, point 3 five more
    X = distinct[copies]
    args = {"perplexity": 5, "random_state": 1, **FAST, **kw}
    for layout in (tsne_layout(X, **args), tsne_layout(squareform(pdist(X)), metric="precomputed", **args)):
        Y = layout.embedding
        assert Y.shape == (47, kw.get("n_components", 2)) and layout.info["distinct_points"] == 30
        for point in (0, 3):
            assert np.ptp(Y[copies == point], axis=0).max() == 0.0
        assert 0.0 <= layout.info["kl_divergence"] < 1e3
    # an init array: its rows of the distinct points, and the copies do not change the picture (same seed)
    start = 1e-4 * rng.normal(size=(len(X), kw.get("n_components", 2)))
    first = np.unique(copies, return_index=True)[1]
    a = tsne_layout(X, **{**args, "init": start})
    b = tsne_layout(distinct, **{**args, "init": start[first]})
    np.testing.assert_array_equal(a.embedding, b.embedding[copies])


def test_coincident_points_keep_every_check_of_the_full_input():
    """The user's N rows are checked first (init's shape, n_components, perplexity), then the distinct points."""
    rng = np.random.default_rng(1)
    distinct = rng.normal(size=(9, 4))
    X = distinct[list(range(9)) + [0, 0, 1]]  # 12 rows, 9 distinct: limits (12 - 1) / 3 and (9 - 1) / 3
    with pytest.raises(SupvizError, match=r"`init` must be an array of shape \(12, 2\)"):
        tsne_layout(X, perplexity=2, init=np.zeros((9, 2)), random_state=0)
    with pytest.raises(SupvizError, match=r"N = 12 points\); got 5"):  # the limit for N first
        tsne_layout(X, perplexity=5, clamp=False, random_state=0)
    with pytest.raises(
        SupvizError, match=r"`perplexity` must be a finite number in \[1/3, 2.66667\]: t-SNE lays out the 9 distinct"
    ):
        tsne_layout(X, perplexity=3.5, clamp=False, random_state=0)
    clamped = tsne_layout(X, perplexity=3.5, random_state=0, **FAST)
    assert clamped.params["perplexity"] == pytest.approx(8 / 3)
    assert any(
        "clamped from 3.5 to (distinct points - 1) / 3 = 2.66667 (9 distinct points of 12)" in n for n in clamped.notes
    )
    with pytest.raises(SupvizError, match=r"`n_components` must be an int in \[1, 11\]"):
        tsne_layout(X, perplexity=2, n_components=12, random_state=0)
    with pytest.raises(SupvizError, match=r"`n_components` must be an int in \[1, 8\]: t-SNE lays out the 9 distinct"):
        tsne_layout(X, perplexity=2, n_components=9, random_state=0)
    two = X[[0, 1, 9, 10, 11]]  # two distinct points: the same checks as any input
    with pytest.raises(SupvizError, match=r"`init` must be one of"):
        tsne_layout(two, perplexity=1, init="bogus", random_state=0)
    assert tsne_layout(two, perplexity=1, random_state=0).info["distinct_points"] == 2
    # distinct_points on every path
    assert tsne_layout(distinct, perplexity=2, random_state=0, **FAST).info["distinct_points"] == 9
    assert tsne_layout(np.ones((5, 2)), perplexity=1, random_state=0).info["distinct_points"] == 1
    # a Generator is drawn from once, by the call that lays out: copies do not change the picture
    a = tsne_layout(X, perplexity=2, random_state=np.random.default_rng(9), **FAST).embedding[:9]
    b = tsne_layout(distinct, perplexity=2, random_state=np.random.default_rng(9), **FAST).embedding
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw", [{}, {"backend": "sklearn", "n_iter": 260}, {"metric": "precomputed"}])
def test_inputs_without_copies_are_laid_out_as_before(kw, monkeypatch):
    # The merge leaves an input without copies alone: the same bits, notes and info as with the merge switched off
    # (no draw from a Generator, no rescaling). Checked against the code before the merge on this machine too: 10
    # paths (exact, random init, FFT, Barnes-Hut, 3-D, precomputed, scikit-learn, clamp, Generator, init array) gave
    # the same bits.
    from scipy.spatial.distance import pdist, squareform

    module = importlib.import_module("supviz.dr.tsne_layout")  # the package's name is the function

    X = np.random.default_rng(3).normal(size=(40, 5))
    data = squareform(pdist(X)) if kw.get("metric") == "precomputed" else X
    args = {"perplexity": 8, **FAST, **kw}
    merged = tsne_layout(data, random_state=np.random.default_rng(6), **args)
    monkeypatch.setattr(module, "find_coincident", lambda pts, *, precomputed: None)
    plain = tsne_layout(data, random_state=np.random.default_rng(6), **args)
    np.testing.assert_array_equal(merged.embedding, plain.embedding)
    assert merged.notes == plain.notes and merged.info == plain.info and merged.info["distinct_points"] == 40


def test_scale_invariance_is_exact_for_powers_of_two_and_up_to_rounding_otherwise():
    # Break test 5's side observation: scikit-learn's KL was 0.289, 0.289, 0.65, 0.855 for G, 2 G, 3 G, 1e-300 G.
    # A power of two is exact; another scale is a rounding unit off, which scikit-learn's "auto" learning rate (a
    # floor of 50, far above N / 12 at N = 30) turns into another local optimum; with N / 12 it does not
    # (the module docstring, "Scale").
    G = np.random.default_rng(0).normal(size=(30, 4))
    args = {"perplexity": 5, "random_state": 0}
    for backend in BACKENDS:
        a = tsne_layout(G, backend=backend, **args).embedding
        np.testing.assert_array_equal(a, tsne_layout(G * 2.0**-900, backend=backend, **args).embedding)

    def kls(**kw):
        return [tsne_layout(G * s, **args, **kw).info["kl_divergence"] for s in (1.0, 3.0, 1e-300)]

    for kl in (kls(backend="opentsne"), kls(backend="sklearn", learning_rate=30 / 12)):
        assert max(kl) - min(kl) < 1e-3, kl
