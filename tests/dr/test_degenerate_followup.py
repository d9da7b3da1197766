"""Issue 8 follow-up: what a fresh user broke after issue 8 was merged (notes/break89.md, findings
1-9 for the layout engines), each with the value it must give. Findings 4 (metrics), 10 and 11 are
in ``tests/metrics`` and ``tests/datapoints``; the shared catalogue sweep holds the new inputs too.

Reference for "comparable to an exact method": scikit-learn's exact t-SNE optimiser
(``sklearn.manifold.TSNE._tsne``, exact gradient) run on the same P (openTSNE's affinities of the
same input), from scikit-learn's PCA start and from three seeded random starts; its result varies a
lot with the start on such inputs (measured 0.04-0.27 for finding 1), so a layout must be within 0.1
of the best of them (or better).
"""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, squareform

from supviz.dr import classical_mds, mds_layout, tsne_layout, umap_layout
from supviz.errors import SupvizError

FAST_TSNE = {"n_iter": 300, "early_exaggeration_iter": 100}


def _one_point(n):
    return np.tile([[0.3, -1.2, 2.0, 0.5]], (n, 1))


def _openTSNE_P(X, perplexity, precomputed=False):
    import openTSNE

    pts = _unit(X)
    metric = "precomputed" if precomputed else "euclidean"
    P = openTSNE.affinity.PerplexityBasedNN(
        pts, perplexity=perplexity, metric=metric, method="exact", random_state=0, n_jobs=1
    ).P
    return squareform(P.toarray() / P.sum(), checks=False), pts


def _unit(X):
    """The input as the layout engines see it: divided by its largest magnitude (bit for bit what
    supviz.dr.base.check_layout_input gives for these inputs, which have nothing to snap)."""
    X = np.asarray(X, dtype=float)
    return X / np.abs(X).max()


def _exact_kl(P, Y):
    from sklearn.manifold._t_sne import _kl_divergence

    return float(_kl_divergence(np.asarray(Y).ravel(), P, 1, len(Y), 2)[0])


def _best_sklearn_exact(P, start_points):
    """scikit-learn's exact t-SNE optimiser on the given condensed P (module docstring)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    n = start_points.shape[0]
    starts = [PCA(2, svd_solver="randomized", random_state=0).fit_transform(start_points)]
    starts[0] = starts[0] / starts[0][:, 0].std() * 1e-4
    starts += [1e-4 * np.random.default_rng(s).standard_normal((n, 2)) for s in range(3)]
    best = np.inf
    for Y0 in starts:
        t = TSNE(perplexity=1.0, method="exact", random_state=0, max_iter=750)
        t.learning_rate_ = max(n / t.early_exaggeration / 4, 50)  # scikit-learn's "auto"
        t._max_iter = 750
        best = min(best, _exact_kl(P, t._tsne(P.copy(), 1, n, Y0.copy(), None)))
    return best


# --- finding 1: t-SNE, coincident points in another arrangement -----------------------------------


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
def test_f1_copies_of_one_point_and_one_other_are_two_spots(backend):
    # Was: KL 1.431 (the exact KL of the returned layout) with points flung to ~155: openTSNE's
    # Barnes-Hut (theta 0) merged the 11 copies in its tree; then the exact gradient, KL 0.0193, the 11
    # copies spread out. Now: two distinct points, two spots 1 apart (any distance gives Q = P), KL 0.
    X = np.vstack([_one_point(11), [[1.0, 1.0, 1.0, 1.0]]])
    layout = tsne_layout(X, perplexity=3, random_state=0, backend=backend)
    Y = layout.embedding
    assert np.array_equal(Y[:11], np.repeat(Y[:1], 11, axis=0))
    assert np.linalg.norm(Y[11] - Y[0]) == pytest.approx(1.0, abs=1e-15)
    assert layout.info["kl_divergence"] == 0.0 and layout.info["distinct_points"] == 2
    assert not layout.info["collapsed"] and any("2 distinct points: two spots 1 apart" in n for n in layout.notes)


def test_f2_precomputed_distances_with_coincident_points():
    # Was: KL 4.06, layout 230 x 99 (the same points as X gave 0.061): a PCA start of the rows of
    # the distance matrix and Barnes-Hut. Now: the 7 distinct points (6 at the origin are one) at
    # perplexity (7 - 1) / 3, classical MDS start (= PCA for Euclidean distances), the exact gradient.
    Xc = np.vstack([np.zeros((6, 3)), np.random.default_rng(0).normal(size=(12, 3))[:6]])
    first = np.r_[0, 6:12]
    D = cdist(Xc, Xc)
    layout = tsne_layout(D, metric="precomputed", perplexity=3, random_state=0)
    P, _ = _openTSNE_P(D[np.ix_(first, first)], 2, precomputed=True)
    kl = layout.info["kl_divergence"]
    assert layout.params["init"] == "classical_mds" and layout.params["negative_gradient_method"] == "exact"
    assert layout.params["perplexity"] == 2.0 and layout.info["distinct_points"] == 7
    assert kl == pytest.approx(_exact_kl(P, layout.embedding[first]), abs=1e-9)
    assert 0.0 <= kl <= _best_sklearn_exact(P, Xc[first]) + 0.1
    assert np.abs(layout.embedding).max() < 20  # was 230
    assert np.array_equal(layout.embedding[:6], np.repeat(layout.embedding[:1], 6, axis=0))
    points = tsne_layout(Xc, perplexity=3, random_state=0)
    assert abs(points.info["kl_divergence"] - kl) < 0.05


@pytest.mark.parametrize("backend", ["opentsne", "sklearn"])
def test_f2_kind_precomputed_start_is_classical_mds_of_the_distances(backend):
    X = np.random.default_rng(4).normal(size=(15, 4))
    a = tsne_layout(
        cdist(X, X),
        metric="precomputed",
        perplexity=4,
        random_state=0,
        backend=backend,
        n_iter=260,
        early_exaggeration_iter=250 if backend == "sklearn" else 100,
    )
    assert a.params["init"] == "classical_mds" and np.isfinite(a.embedding).all() and a.info["kl_divergence"] >= 0


# --- finding 4: points identical up to rounding ---------------------------------------------------


def _identical_up_to_rounding(n=20, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return np.tile(rng.normal(size=(1, d)), (n, 1)) * (1.0 + 1e-15 * rng.normal(size=(n, d)))


@pytest.mark.parametrize("method", ["mds", "umap", "tsne"])
def test_f4_identical_up_to_rounding_is_one_spot(method):
    # Was: the 1e-15 noise blown up to full-size pictures with no note (MDS stress 0.019, t-SNE KL
    # 0.107). Now: the points coincide (supviz.core.geometry: within 1e-12 of their scale): one spot.
    X_same = _identical_up_to_rounding()
    assert len(np.unique(X_same, axis=0)) == 20  # not bit-equal
    layout = {
        "mds": lambda: mds_layout(X_same, random_state=0),
        "umap": lambda: umap_layout(X_same, random_state=0),
        "tsne": lambda: tsne_layout(X_same, perplexity=5, random_state=0),
    }[method]()
    assert np.array_equal(layout.embedding, np.zeros((20, 2))) and layout.info["collapsed"]
    assert any("identical (up to rounding)" in note or "every point identical" in note for note in layout.notes)
    assert any("coincide with another up to rounding" in note for note in layout.notes)
    if method == "mds":
        assert np.isnan(layout.info["smacof_stress"])
    if method == "tsne":
        assert layout.info["kl_divergence"] == 0.0


def test_f4_kind_groups_that_coincide_up_to_rounding_are_one_spot():
    # the study's dropped features, each 1e-16 off the origin: one spot in MDS, bit for bit
    X = np.vstack([np.random.default_rng(1).normal(size=(8, 5)), 1e-16 * np.random.default_rng(2).normal(size=(4, 5))])
    layout = mds_layout(X, metric_type="interval")
    Y = layout.embedding
    assert np.array_equal(Y[8:], np.repeat(Y[8:9], 4, axis=0))
    assert any("3 points of X coincide with another up to rounding" in n for n in layout.notes)
    # and points 1e-9 apart at unit scale are distinct: nothing snapped
    X2 = X.copy()
    X2[8:] = 1e-9 * np.random.default_rng(3).normal(size=(4, 5))
    assert not any("coincide" in n for n in mds_layout(X2).notes)


# --- finding 5: classical MDS at 1e-300 -------------------------------------------------------------


def test_f5_classical_mds_at_1e_minus_300_is_the_scale_one_layout_scaled():
    # Reported as "an all-zero layout with no note": the coordinates are ~2e-300 (printed rounded
    # to 3 decimals, they read 0). The layout is the scale-1 layout times 1e-300, exactly as wanted.
    X = np.random.default_rng(0).normal(size=(8, 3))
    D = cdist(X, X)
    tiny = classical_mds(D * 1e-300)
    assert np.abs(tiny).max() > 1e-300
    np.testing.assert_allclose(tiny / 1e-300, classical_mds(D), rtol=1e-12, atol=1e-12)


# --- finding 6: one check of precomputed distances for every method -----------------------------------


def _bad_matrices():
    X = np.random.default_rng(0).normal(size=(12, 3))
    D = cdist(X, X)
    diag = D.copy()
    np.fill_diagonal(diag, 5.0)
    return {
        "negative": (-D, r"must be non-negative \(dissimilarities\); got minimum -"),
        "non-square": (D[:, :10], r"must be square \(a dissimilarity matrix"),
        "asymmetric": (D + np.triu(np.ones_like(D), 1), r"must be symmetric; got max \|X - X.T\| = 1"),
        "non-zero diagonal": (diag, r"must have a zero diagonal; got max \|diagonal\| 5"),
        "asymmetric at 1e-300": ((D + np.triu(np.ones_like(D), 1)) * 1e-300, r"must be symmetric"),
    }


_PRECOMPUTED_CALLS = {
    "tsne-opentsne": lambda D: tsne_layout(D, metric="precomputed", perplexity=3, random_state=0),
    "tsne-sklearn": lambda D: tsne_layout(D, metric="precomputed", perplexity=3, random_state=0, backend="sklearn"),
    "umap": lambda D: umap_layout(D, metric="precomputed", random_state=0),
    "mds": lambda D: mds_layout(D, precomputed=True),
    "trustworthiness": lambda D: __import__("supviz.metrics").metrics.trustworthiness(
        D, np.zeros((len(D), 2)) + np.arange(len(D))[:, None], k=3, precomputed=True
    ),
    "stress1_ratio": lambda D: __import__("supviz.metrics").metrics.stress1_ratio(
        D, np.arange(2.0 * len(D)).reshape(-1, 2), precomputed=True
    ),
}


@pytest.mark.parametrize("bad", list(_bad_matrices()))
@pytest.mark.parametrize("method", list(_PRECOMPUTED_CALLS))
def test_f6_bad_precomputed_distances_are_one_line_errors_everywhere(method, bad):
    # Was: a raw ValueError (both t-SNE backends), KeyError 'precomputed' (UMAP) for negative or
    # non-square input; asymmetric and non-zero diagonal accepted silently.
    D, match = _bad_matrices()[bad]
    with pytest.raises(SupvizError, match=r"^`X` " + match) as err:
        _PRECOMPUTED_CALLS[method](D)
    assert "\n" not in str(err.value)


# --- finding 7: recorded parameters are the ones used ----------------------------------------------


def test_f7_umap_records_the_start_it_fell_back_to(monkeypatch):
    # When umap-learn's eigen-solver fails, it starts at random and says so; params must say "random".
    # Whether ARPACK fails on a given input depends on the CPU (diag(12)'s complete graph: it failed on
    # the Intel Xeon, it converges on an AMD EPYC), so the failure is made here, the same on every CPU.
    import scipy.sparse.linalg

    def no_convergence(*args, **kwargs):
        raise scipy.sparse.linalg.ArpackNoConvergence("ARPACK error -1: No convergence", np.empty(0), np.empty((0, 0)))

    monkeypatch.setattr(scipy.sparse.linalg, "eigsh", no_convergence)
    layout = umap_layout(np.random.default_rng(0).normal(size=(30, 4)), n_neighbors=5, random_state=0, init="spectral")
    assert layout.params["init"] == "random"  # was "spectral"
    assert any("umap init 'spectral' -> 'random'" in note for note in layout.notes)
    assert sum("Spectral initialisation failed" in note for note in layout.notes) == 1


def test_f7_kind_the_recorded_start_is_the_one_umap_learn_used_on_any_cpu():
    # diag(12) itself: whichever way ARPACK goes on this CPU, params and notes tell the same story
    layout = umap_layout(np.eye(12), n_neighbors=11, random_state=0)
    fell_back = sum("Spectral initialisation failed" in note for note in layout.notes)
    assert fell_back in (0, 1)
    assert layout.params["init"] == ("random" if fell_back else "spectral")
    assert any("umap init 'spectral' -> 'random'" in note for note in layout.notes) == bool(fell_back)


# --- finding 8: never Barnes-Hut above two dimensions; notes deduplicated ------------------------------


def test_f8_five_dimensional_tsne_uses_the_exact_gradient_with_one_note():
    # Was: Barnes-Hut in 5-D (openTSNE: "can lead to segfaults") and 752 copies of that warning.
    layout = tsne_layout(np.random.default_rng(0).normal(size=(10, 5)), n_components=5, perplexity=3, random_state=0)
    assert layout.embedding.shape == (10, 5) and layout.params["negative_gradient_method"] == "exact"
    assert not any("segfault" in note and "warned" in note for note in layout.notes)
    assert len(layout.notes) == len(set(layout.notes)) <= 2
    with pytest.raises(SupvizError, match=r"must not be 'bh' for n_components=5.*segfault"):
        tsne_layout(
            np.random.default_rng(0).normal(size=(10, 5)), n_components=5, perplexity=3, negative_gradient_method="bh"
        )
    with pytest.raises(SupvizError, match=r"must not be 'fft' for n_components=3"):
        tsne_layout(
            np.random.default_rng(0).normal(size=(10, 5)), n_components=3, perplexity=3, negative_gradient_method="fft"
        )


def test_f8_kind_a_warning_raised_every_iteration_is_one_note():
    from supviz.dr.base import add_warning_notes

    notes: list[str] = []
    add_warning_notes(notes, "openTSNE", ["BH t-SNE for >3 dimensions\ncan segfault"] * 752 + ["other"])
    assert notes == ["openTSNE warned (752 times): BH t-SNE for >3 dimensions can segfault", "openTSNE warned: other"]


# --- finding 9: scikit-learn's KL is the exact KL of the returned layout, against its own P -------------


@pytest.mark.parametrize("seed", [0, 2])
def test_f9_sklearn_kl_is_exact_against_the_P_it_used(seed):
    # Was: 0.1436 (seed 0) and 0.1387 (seed 2), scikit-learn's own value of its last objective
    # evaluation (one step before the returned layout), marked kl_exact.
    from sklearn.manifold._t_sne import _joint_probabilities
    from sklearn.metrics import pairwise_distances

    # The 30 copies at the origin are one point: the 11 distinct points, perplexity clamped to 10 / 3.
    X = np.vstack([np.zeros((30, 5)), np.random.default_rng(seed).normal(size=(10, 5))])
    first = np.r_[0, 30:40]
    layout = tsne_layout(X, perplexity=13, random_state=seed, backend="sklearn")
    pts = _unit(X[first])
    P = _joint_probabilities(pairwise_distances(pts, squared=True), 10 / 3, 0)  # what scikit-learn computed
    assert layout.info["kl_exact"] and layout.params["perplexity"] == pytest.approx(10 / 3)
    # two float64 sums of the same 55 terms in another order
    assert layout.info["kl_divergence"] == pytest.approx(_exact_kl(P, layout.embedding[first]), abs=1e-9)
    # A quality floor, not a reference value: scikit-learn's optimiser amplifies the last bits of its
    # products into another layout on another CPU (with the 30 copies counted: KL 0.1299 / 0.1603 on the
    # Intel Xeon, 0.1211 / 0.1421 on an AMD EPYC for seeds 0 / 2); any of them is a fit, none is "the" answer.
    assert 0.0 <= layout.info["kl_divergence"] < 0.2


def test_f9_kind_sklearn_kl_in_more_dimensions_uses_its_student_t_kernel():
    # scikit-learn's kernel has dof = n_components - 1 = 4 and power (dof + 1) / 2. Exact against its
    # own objective: float64 sums over 45 pairs, so within ~45 u KL = 4e-14 (measured 5e-15, KL 3.995).
    # They were not on an AMD EPYC (1.4e-9 apart):
    # supviz's Z summed the diagonal's ones with the tiny w_ij of this spread-out layout and took
    # them away again, losing Z's low bits; the diagonal is now left out of the sum.
    from sklearn.manifold._t_sne import _joint_probabilities, _kl_divergence
    from sklearn.metrics import pairwise_distances

    X = np.random.default_rng(0).normal(size=(10, 5))
    layout = tsne_layout(X, perplexity=3, n_components=5, random_state=0, backend="sklearn")
    pts = _unit(X)
    P = _joint_probabilities(pairwise_distances(pts, squared=True), 3, 0)
    exact = _kl_divergence(layout.embedding.ravel(), P, 4, 10, 5)[0]
    assert layout.info["kl_divergence"] == pytest.approx(exact, abs=1e-12)


def test_f9_kind_z_keeps_its_low_bits_on_a_spread_out_layout():
    # the exact KL of a layout whose kernel values are ~1e-12: Z from the off-diagonal terms alone
    from supviz.dr.tsne_kl import kl_divergence

    Y = np.random.default_rng(3).normal(size=(12, 2)) * 1e6
    P = np.random.default_rng(4).random((12, 12))
    P = P + P.T
    np.fill_diagonal(P, 0.0)
    P /= P.sum()
    d2 = ((Y[:, None] - Y[None]) ** 2).sum(-1)
    w = 1.0 / (1.0 + d2)
    np.fill_diagonal(w, 0.0)
    mask = ~np.eye(12, dtype=bool)
    exact = float(np.sum(P[mask] * np.log(P[mask] / (w[mask] / w.sum()))))
    assert kl_divergence(P, Y) == pytest.approx(exact, rel=1e-12)  # was 1.6e-6 off (relative)


def test_f9_kind_an_empty_P_is_refused():
    # scikit-learn's Barnes-Hut calibration on diag(N) finds no affinity at all (P empty): the
    # layout pictures nothing and its "KL" was -7.7.
    with pytest.raises(SupvizError, match=r"found no affinity between any two of the 12 points.*method='exact'"):
        tsne_layout(np.eye(12), perplexity=11 / 3, random_state=0, backend="sklearn", method="barnes_hut", n_iter=300)
