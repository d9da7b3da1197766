"""layout_metrics: stable keys, NaN with reasons, k never shrunk, the matched baseline distance."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.metrics import METRIC_KEYS, continuity, layout_metrics, procrustes_distance, stress1_ratio, trustworthiness


def test_keys_values_and_missing_inputs():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 5)), rng.normal(size=(30, 2))
    out = layout_metrics(X, Y, k=5)
    assert tuple(out) == METRIC_KEYS
    assert all(isinstance(v, float) for v in out.values())
    assert np.isnan(out["knn_recall_true"]) and np.isnan(out["procrustes_baseline"])
    assert out.reasons == {"knn_recall_true": "no X_true given", "procrustes_baseline": "no baseline given"}
    assert out["stress1_ratio"] == pytest.approx(stress1_ratio(X, Y), abs=1e-12)
    assert out["trustworthiness"] == pytest.approx(trustworthiness(X, Y, k=5), abs=1e-12)
    assert out["continuity"] == pytest.approx(continuity(X, Y, k=5), abs=1e-12)
    assert out["k"] == 5.0
    for key in METRIC_KEYS[:-1]:
        if not np.isnan(out[key]):
            assert -1.0 <= out[key] <= 1.0


def test_reference_space_and_baseline():
    rng = np.random.default_rng(1)
    n = 20
    X, Y, base = rng.normal(size=(n, 4)), rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    out = layout_metrics(X, Y, X_true=np.eye(n), k=4, baseline=base)
    # against diag(N) every tie-free layout scores the chance level k / (N - 1): undefined
    assert np.isnan(out["knn_recall_true"]) and "distances of X_true tie" in out.reasons["knn_recall_true"]
    assert out["procrustes_baseline"] == pytest.approx(procrustes_distance(Y, base, match=True), abs=1e-12)
    # the baseline's points are exchangeable: relabelling them changes nothing (up to the search)
    shuffled = layout_metrics(X, Y, X_true=np.eye(n), k=4, baseline=base[rng.permutation(n)])
    assert shuffled["procrustes_baseline"] == pytest.approx(out["procrustes_baseline"], abs=1e-6)


def test_k_too_large_is_undefined_never_shrunk():
    # Issue 8, case 8: small panels shrank k to N - 2 and reported T = 0.00 at 7 points.
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    out = layout_metrics(X, Y, k=10)
    assert out["k"] == 10.0
    for name in ("trustworthiness", "continuity", "knn_recall"):
        assert np.isnan(out[name]) and out.reasons[name] == "k = 10 needs at least k + 2 = 12 points; got 7"
    assert np.isfinite(out["stress1_ratio"]) and "stress1_ratio" not in out.reasons
    assert "trustworthiness: k = 10" in out.reason_text()


def test_errors():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    with pytest.raises(SupvizError, match="at least 2 points"):
        layout_metrics(X[:1], Y[:1])
    with pytest.raises(SupvizError, match="same number of points"):
        layout_metrics(X, Y, X_true=np.eye(5))
    with pytest.raises(SupvizError, match="finite"):
        layout_metrics(X, np.full((6, 2), np.nan))
    with pytest.raises(SupvizError, match="`k` must be an int"):
        layout_metrics(X, Y, k=0)


def test_collapsed_tsne_picture_has_no_metrics():
    # Issue 8, case 8: B5's t-SNE panels are collapsed to ~1e-13; continuity and k-NN recall came
    # back as 1.0 and Procrustes distance and radius spread were computed on rounding noise.
    from supviz.dr import tsne_layout
    from supviz.study.common import radial_stats

    n = 20
    layout = tsne_layout(np.eye(n), perplexity=(n - 1) / 3, random_state=0)
    assert layout.info["collapsed"] and np.ptp(layout.embedding, axis=0).max() < 1e-6
    base = np.random.default_rng(0).normal(size=(n, 2))
    out = layout_metrics(np.eye(n), layout, k=5, baseline=base)
    for key in ("stress1_ratio", "shepard_rho", "trustworthiness", "continuity", "knn_recall", "procrustes_baseline"):
        assert np.isnan(out[key]) and out.reasons[key] == "layout collapsed: all points at one spot"
    # the bare array is a tiny but legitimate configuration to a scale-free metric; the method's
    # verdict is what makes it collapsed, so pass the Layout or collapsed=True
    assert np.isnan(layout_metrics(np.eye(n), layout.embedding, k=5, collapsed=True)["continuity"])
    assert np.isnan(procrustes_distance(layout, base))
    assert np.isnan(radial_stats(layout.embedding, collapsed=True)["radius_cv"])


def test_all_tied_data_make_neighbourhood_metrics_undefined():
    # Issue 8, case 8: trustworthiness was 1.0 for every layout of diag(N).
    rng = np.random.default_rng(4)
    out = layout_metrics(np.eye(15), rng.normal(size=(15, 2)), k=4)
    for key in ("trustworthiness", "continuity", "knn_recall", "shepard_rho"):
        assert np.isnan(out[key]) and "all pairwise distances of X tie" in out.reasons[key]
    assert np.isfinite(out["stress1_ratio"])  # distances to fit are there: sqrt(2) each


def test_layout_metrics_frame_and_repr():
    import pandas as pd

    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 4))
    out = layout_metrics(X, X[:, :2], k=5)
    df = out.to_frame("pca")
    assert list(df.columns) == [*METRIC_KEYS, "nan_reasons"] and df.index.tolist() == ["pca"]
    assert df.loc["pca", "stress1_ratio"] == out["stress1_ratio"] and np.isnan(df.loc["pca", "knn_recall_true"])
    assert df.loc["pca", "nan_reasons"] == out.reason_text() and "knn_recall_true" in df.loc["pca", "nan_reasons"]
    assert set(df.attrs["units"]) == set(df.columns) == set(df.attrs["definitions"])
    assert "Kruskal" in df.attrs["definitions"]["stress1_ratio"]
    both = pd.concat([out.to_frame("a"), layout_metrics(X, X[:, 1:3], k=5).to_frame("b")])
    assert both.shape == (2, len(METRIC_KEYS) + 1)
    text = repr(out)
    assert "\n" not in text and len(text) < 300 and "knn_recall_true=" not in text
    assert "undefined: knn_recall_true, procrustes_baseline" in text
