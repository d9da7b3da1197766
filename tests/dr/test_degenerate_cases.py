"""Issue 8's failing cases 1-7, 9 and 10 for the layout engines, each with the value it must give.

Case 8 (metrics) is in ``tests/metrics``; the sweep of every engine over the shared catalogue of
degenerate inputs is ``tests/test_degenerate_sweep.py``. Seeds and tolerances are stated per test.
"""

import logging

import numpy as np
import pytest
from scipy.spatial.distance import cdist, squareform

from supviz.dr import classical_mds, embed, mds_layout, smacof, tsne_layout, umap_layout
from supviz.errors import SupvizError
from supviz.metrics import layout_metrics, procrustes_distance

FAST_TSNE = {"n_iter": 300, "early_exaggeration_iter": 100}


# --- case 1: torch SMACOF, interval, coincident points ----------------------------------------


def _few_points_and_origin(seed):
    rng = np.random.default_rng(seed)
    n, z, d = rng.integers(3, 7), rng.integers(2, 4), rng.integers(2, 5)
    X = np.vstack([rng.normal(size=(n, d)), np.zeros((z, d))])
    return cdist(X, X)


def test_case1_torch_interval_with_coincident_points_equals_numba():
    # The input: the torch engine returned stress 0, an all-zero embedding and NaN in its
    # history (a negative interval disparity over a zero distance became -inf); numba: 0.031384.
    X = np.vstack([np.random.default_rng(0).normal(size=(4, 3)), np.zeros((2, 3))])
    numba = smacof(cdist(X, X), metric_type="interval", engine="numba")
    torch_ = smacof(cdist(X, X), metric_type="interval", engine="torch")
    assert float(numba.stress) == pytest.approx(0.031384, abs=1e-6)
    assert float(torch_.stress) == pytest.approx(float(numba.stress), abs=1e-6)
    hist = torch_.stress_history[0]
    assert np.isfinite(hist).all() and (np.diff(hist) <= 1e-12).all()
    assert np.abs(torch_.embedding).max() > 0.5  # not collapsed
    assert np.array_equal(torch_.embedding[4], torch_.embedding[5])  # the coincident pair stays one spot


@pytest.mark.parametrize("engine", ["numba", "torch"])
def test_case1_kind_many_inputs_with_points_at_the_origin(engine):
    # The sweep (324 of 360 collapsed): a few points plus 2-3 at the origin, 40 seeds.
    deltas = [_few_points_and_origin(seed) for seed in range(40)]
    for delta in deltas:
        res = smacof(delta, metric_type="interval", engine=engine)
        ref = smacof(delta, metric_type="interval", engine="numba")
        assert float(res.stress) == pytest.approx(float(ref.stress), abs=1e-6)
        assert 0.0 < float(res.stress) < 1.0 and np.abs(res.embedding).max() > 1e-3
        hist = res.stress_history[0]
        assert np.isfinite(hist).all()
        off = ~np.eye(len(delta), dtype=bool)
        if res.disparities[off].min() >= 0:  # majorisation guarantees a monotone stress only then
            assert (np.diff(hist) <= 1e-12).all()


# --- case 2: t-SNE with coincident points, Barnes-Hut -------------------------------------------


def test_case2_coincident_points_kl_is_the_exact_kl_and_near_an_exact_method():
    # Barnes-Hut with theta = 0 reported KL -1.09 (measured here: -0.48) for a layout flung to ~800
    # whose exact KL is 2.25: the PCA start put the 30 repeated rows at one spot, where they stayed
    # and the tree miscounted them. Then the exact gradient spread the 30 copies into a ring of their
    # own. Right: the 30 copies are one point, so the 11 distinct points are laid out (perplexity
    # clamped to (11 - 1) / 3), the copies sit on one spot, KL >= 0 equal to the exact KL of the
    # distinct points' layout against their affinities, within 0.1 of scikit-learn's exact t-SNE.
    # The exact KL is recomputed by scikit-learn's own objective (sklearn.manifold._t_sne._kl_divergence)
    # from openTSNE's affinities of the distinct points.
    import openTSNE
    from sklearn.manifold._t_sne import _kl_divergence

    X = np.vstack([np.zeros((30, 5)), np.random.default_rng(0).normal(size=(10, 5))])
    first = np.r_[0, 30:40]  # the distinct points: the origin (first of its copies) and the 10 others
    layout = tsne_layout(X, perplexity=13, random_state=0)
    kl = layout.info["kl_divergence"]
    assert layout.params["perplexity"] == pytest.approx(10 / 3) and layout.info["distinct_points"] == 11
    P = openTSNE.affinity.PerplexityBasedNN(
        X[first], perplexity=10 / 3, method="exact", random_state=0, n_jobs=1
    ).P.toarray()
    exact = _kl_divergence(layout.embedding[first].ravel(), squareform(P / P.sum(), checks=False), 1, 11, 2)[0]
    sk = tsne_layout(X, perplexity=13, random_state=0, backend="sklearn").info["kl_divergence"]
    assert kl >= 0 and layout.info["kl_exact"]
    assert kl == pytest.approx(exact, abs=1e-9)
    assert abs(kl - sk) < 0.1  # measured 0.104 vs scikit-learn exact 0.138
    # not flung out (was ~800): 11 points at perplexity 10 / 3 span 43 x 30 here (measured)
    assert np.abs(layout.embedding).max() < 50
    assert np.array_equal(layout.embedding[:30], np.repeat(layout.embedding[:1], 30, axis=0))  # one spot
    # the exact gradient (every pair counted, as the KL is)
    assert layout.params["negative_gradient_method"] == "exact" and "theta" not in layout.params
    # scikit-learn's Barnes-Hut on the same input (was KL -11.6, points at 1500) is in the sweep
    # (tests/test_degenerate_sweep.py, engine tsne-sklearn-barnes-hut).


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
def test_case2_kind_copies_never_reach_the_backend(backend):
    # Was: repeated rows started a 1% jitter apart and were pushed into a ring. Now the layout of X with
    # copies is the layout of its distinct points, each copy at its point's place, bit for bit (same seed):
    # the backend never sees a copy.
    X = np.vstack([np.zeros((5, 3)), np.random.default_rng(1).normal(size=(16, 3)), np.zeros((2, 3))])
    X[20] = X[6]  # a second group, of two
    kw = dict(perplexity=4, random_state=0, backend=backend, n_iter=260, early_exaggeration_iter=100)
    layout = tsne_layout(X, **kw)
    # rows 1-4, 21 and 22 are copies of row 0, row 20 of row 6: the distinct points are rows 0 and 5-19
    inverse = np.r_[np.zeros(5, int), np.arange(1, 16), 2, 0, 0]
    first = np.r_[0, 5:20]
    sub = tsne_layout(X[first], **kw)
    np.testing.assert_array_equal(layout.embedding, sub.embedding[inverse])
    assert layout.info["distinct_points"] == 16
    assert layout.info["kl_divergence"] == sub.info["kl_divergence"]
    note = "tsne: 9 of 23 points coincide with another (2 groups): the 16 distinct points laid out"
    assert any(note in n for n in layout.notes)


def test_case2_kind_a_given_start_with_coincident_points():
    from supviz.dr.tsne_layout import EXACT_GRADIENT_MAX_N, _opentsne_options

    X = np.random.default_rng(2).normal(size=(40, 5))
    init = np.random.default_rng(3).normal(size=(40, 2)) * 1e-4
    init[1] = init[0]
    layout = tsne_layout(X, perplexity=5, random_state=0, init=init, **FAST_TSNE)
    assert layout.params["negative_gradient_method"] == "exact"  # counts the coincident pair exactly
    with pytest.raises(
        SupvizError, match=r"Barnes-Hut gradient miscounts coincident points.*negative_gradient_method='exact'"
    ):
        tsne_layout(X, perplexity=5, random_state=0, init=init, negative_gradient_method="bh")
    with pytest.raises(SupvizError, match=r"Barnes-Hut t-SNE miscounts coincident points.*method='exact'"):
        tsne_layout(X, perplexity=5, random_state=0, init=init, backend="sklearn", method="barnes_hut")
    # above the exact gradient's size, coincident points take openTSNE's FFT gradient, with a note
    notes: list[str] = []
    big = EXACT_GRADIENT_MAX_N + 1
    assert _opentsne_options(big, 2, 3, {}, notes) == {"neighbors": "auto", "negative_gradient_method": "fft"}
    assert "3 rows of `init` sit on another" in notes[0]
    assert _opentsne_options(big, 2, 0, {}, []) == {"neighbors": "auto", "negative_gradient_method": "bh", "theta": 0.5}


# --- cases 3 and 7: identical points -----------------------------------------------------------


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
def test_case3_identical_nonzero_rows(backend):
    # The PCA start had column std [1.8e-4, 4.9e9] and the layout ended at ~1.4e10, without a note.
    X = np.tile([[0.3, -1.2, 2.0, 0.5]], (12, 1))
    layout = tsne_layout(X, perplexity=11 / 3, random_state=0, backend=backend)
    assert np.array_equal(layout.embedding, np.zeros((12, 2)))
    assert layout.info["collapsed"] and layout.info["kl_divergence"] == 0.0
    assert any("identical" in note for note in layout.notes)
    # and the start itself keeps the documented scale: column std 1e-4, none above it
    from supviz.dr.tsne_layout import _resolve_init

    start, name = _resolve_init("auto", X, 2, np.random.default_rng(0), False)
    # std 1e-4 per column, plus the 1% jitter that keeps repeated points apart
    assert name == "pca" and np.isfinite(start).all()
    np.testing.assert_allclose(start.std(axis=0), 1e-4, rtol=0.02)


@pytest.mark.parametrize("init", ["auto", "spectral", "pca", "random"])
def test_case7_identical_points_umap(init):
    layout = umap_layout(np.ones((20, 4)), init=init, random_state=0)
    assert np.array_equal(layout.embedding, np.zeros((20, 2))) and layout.info["collapsed"]
    assert any("identical" in note for note in layout.notes)


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
def test_case7_identical_points_tsne(backend):
    layout = tsne_layout(np.ones((20, 4)), perplexity=5, random_state=0, backend=backend)
    assert layout.info["kl_divergence"] == 0.0  # was -0.19 with openTSNE
    assert np.array_equal(layout.embedding, np.zeros((20, 2))) and any("identical" in n for n in layout.notes)


def test_case7_identical_points_mds_has_no_perfect_stress():
    layout = mds_layout(np.ones((6, 3)))
    assert np.isnan(layout.info["smacof_stress"]) and layout.info["collapsed"]
    assert np.array_equal(layout.embedding, np.zeros((6, 2)))


# --- case 4: cosine metric with all-zero rows ---------------------------------------------------


@pytest.mark.parametrize("method", ["tsne-opentsne", "tsne-sklearn", "umap"])
def test_case4_cosine_with_zero_rows_names_them(method):
    W = np.random.default_rng(0).normal(size=(30, 5))
    W[20:] = 0
    match = r"`X` must have no all-zero rows for metric='cosine'.*got 10 \(rows 20, 21, 22"
    with pytest.raises(SupvizError, match=match):
        if method == "umap":
            umap_layout(W, metric="cosine", random_state=0)
        else:
            tsne_layout(W, metric="cosine", perplexity=5, random_state=0, backend=method.split("-")[1])
    # the rows that are fine give a finite layout
    layout = tsne_layout(W[:20], metric="cosine", perplexity=5, random_state=0, **FAST_TSNE)
    assert layout.embedding.shape == (20, 2) and np.isfinite(layout.embedding).all()


def test_case4_kind_correlation_with_constant_rows():
    W = np.random.default_rng(1).normal(size=(15, 4))
    W[3] = 2.5
    with pytest.raises(SupvizError, match=r"no constant rows for metric='correlation'.*rows 3\)"):
        umap_layout(W, metric="correlation", random_state=0)


# --- case 5: UMAP's default init with n_components close to N ----------------------------------


def test_case5_auto_init_goes_through_the_spectral_guard(caplog):
    with caplog.at_level(logging.INFO, logger="supviz.dr.layout"):
        layout = umap_layout(np.random.default_rng(0).normal(size=(10, 30)), n_components=9, random_state=0)
    assert layout.embedding.shape == (10, 9) and np.isfinite(layout.embedding).all()
    assert layout.params["init"] == "pca"
    assert any("umap init 'auto' -> 'pca'" in note and "n_components=9" in note for note in layout.notes)
    assert "n_components + 1" in caplog.text


# --- case 6: extreme scales ---------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e155, 1e300])
def test_case6_mds_is_scale_invariant(scale):
    X = np.random.default_rng(0).normal(size=(20, 15))
    ref = mds_layout(X)
    got = mds_layout(X * scale)
    assert got.info["smacof_stress"] == pytest.approx(ref.info["smacof_stress"], abs=1e-12)
    assert procrustes_distance(got.embedding, ref.embedding) < 1e-9
    D = cdist(X, X)
    with np.errstate(over="ignore"):
        assert float(smacof(D * scale).stress) == pytest.approx(float(smacof(D).stress), abs=1e-12)
    np.testing.assert_allclose(classical_mds(D * scale), classical_mds(D) * scale, rtol=1e-9, atol=0)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_case6_umap_and_tsne_are_scale_invariant(scale):
    X = np.random.default_rng(1).normal(size=(20, 15))
    for f in (
        lambda A: umap_layout(A, random_state=0, n_epochs=100),
        lambda A: tsne_layout(A, perplexity=5, random_state=0, **FAST_TSNE),
    ):
        got, ref = f(X * scale), f(X)
        assert np.isfinite(got.embedding).all()
        assert procrustes_distance(got.embedding, ref.embedding) < 1e-6


def test_case6_metrics_at_1e300_equal_scale_one():
    X = np.random.default_rng(2).normal(size=(20, 15))
    Y = mds_layout(X).embedding
    ref = layout_metrics(X, Y, k=5)
    for scale in (1e300, 1e-300):
        got = layout_metrics(X * scale, Y * scale, k=5)
        for key in ref:
            assert got[key] == pytest.approx(ref[key], rel=1e-9, nan_ok=True)
    assert np.isfinite(ref["stress1_ratio"]) and ref["trustworthiness"] < 1.0


# --- case 9: complex input ----------------------------------------------------------------------


def test_case9_complex_is_refused_everywhere():
    X = np.random.default_rng(0).normal(size=(10, 3)) + 1j
    match = r"^`\w+` must be real; got complex values \(dtype complex128\)"
    for call in (
        lambda: smacof(cdist(X.real, X.real) + 0j),
        lambda: mds_layout(X),
        lambda: umap_layout(X),
        lambda: tsne_layout(X, perplexity=3),
        lambda: embed(X, "mds"),
        lambda: layout_metrics(X, X.real[:, :2]),
        lambda: classical_mds(cdist(X.real, X.real) + 0j),
    ):
        with pytest.raises(SupvizError, match=match):
            call()


# --- case 10: PyTorch tensors -------------------------------------------------------------------


def test_case10_torch_tensors_are_accepted():
    import torch

    X = np.random.default_rng(3).normal(size=(12, 4))
    param = torch.nn.Parameter(torch.tensor(X))
    ref = mds_layout(X)
    got = mds_layout(param)  # was: RuntimeError "Can't call numpy() on Tensor that requires grad"
    assert got.info["smacof_stress"] == pytest.approx(ref.info["smacof_stress"], abs=1e-12)
    assert float(smacof(torch.cdist(param, param)).stress) == pytest.approx(float(smacof(cdist(X, X)).stress), abs=1e-9)
    for dtype in (torch.bfloat16, torch.float16):
        low = torch.tensor(X).to(dtype)
        as_float = low.double().numpy()
        assert mds_layout(low).info["smacof_stress"] == pytest.approx(
            mds_layout(as_float).info["smacof_stress"], abs=1e-12
        )
        assert np.isfinite(umap_layout(low, random_state=0, n_epochs=30).embedding).all()
        assert np.isfinite(tsne_layout(low, perplexity=3, random_state=0, **FAST_TSNE).embedding).all()
    out = layout_metrics(param, torch.tensor(ref.embedding, requires_grad=True), k=3)
    assert out["stress1_ratio"] == pytest.approx(layout_metrics(X, ref.embedding, k=3)["stress1_ratio"], abs=1e-12)


# --- issue 14, item 7: errors a user can act on ---------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name", "valid"),
    [
        (lambda: umap_layout(np.eye(6), foo=1), "foo", "negative_sample_rate"),
        (lambda: tsne_layout(np.eye(10), perplexity=2, foo=1), "foo", "exaggeration"),
        (lambda: tsne_layout(np.eye(10), perplexity=2, backend="sklearn", theta=0.5), "theta", "angle"),
        (lambda: mds_layout(np.eye(5), perplexity=5), "perplexity", "engine"),
        (lambda: embed(np.eye(5), "mds", n_neighbors=3), "n_neighbors", "weights"),
    ],
)
def test_unknown_keywords_name_the_argument_and_the_valid_ones(call, name, valid):
    with pytest.raises(
        SupvizError, match=rf"^`{name}` is not an argument of \w+\(\); valid keyword arguments: .*{valid}"
    ):
        call()


def test_errors_name_the_users_argument():
    # 1e155-scaled points: the squared distances overflowed and the error named `delta`
    layout = mds_layout(np.random.default_rng(0).normal(size=(8, 3)) * 1e155)
    assert np.isfinite(layout.info["smacof_stress"])
    with pytest.raises(SupvizError, match=r"^`X` must hold only finite values"):
        mds_layout(np.array([[np.inf, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    # MDS needs 2 points, and says so (not "at least 1 points")
    for X in (np.zeros((0, 3)), np.zeros((1, 3))):
        with pytest.raises(SupvizError, match=r"^`X` must hold at least 2 points for MDS; got [01]\.$"):
            mds_layout(X)


def test_case6_layout_stress_at_extreme_scales():
    from supviz.dr.smacof import layout_stress

    X = np.random.default_rng(5).normal(size=(15, 4))
    D = cdist(X, X)
    Y = smacof(D).embedding
    ref = layout_stress(D, Y)
    for a, b in ((1e300, 1e-300), (1e-300, 1e300)):
        assert layout_stress(D * a, Y * b) == pytest.approx(ref, abs=1e-12)
