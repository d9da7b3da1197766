"""Every engine and every metric over the shared catalogue of degenerate inputs (issue 8).

The catalogue, the engines and the metrics are listed in ``tests/degenerate_catalogue.py``: one line
there adds an engine, a metric or an input to this sweep. Each combination must give a finite result
with the documented behaviour, or a one-line SupvizError: never a raw library exception, never a NaN
metric next to a "perfect" one, never an impossible value (negative KL, stress 0 on a collapse).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from supviz.errors import SupvizError


def _load_catalogue():
    # Loaded by path: the suite runs with --import-mode=importlib, which puts no test folder on sys.path.
    name = "supviz_tests_degenerate_catalogue"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("degenerate_catalogue.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


cat = _load_catalogue()


def _one_line_error(call, match):
    with pytest.raises(SupvizError, match=match) as err:
        call()
    assert "\n" not in str(err.value)


def _length(X):
    return len(X)


def _groups(case, engine, X):
    """The group of coincident points of each input row: up to rounding (supviz.core.geometry), except for an engine
    fed distances of points identical up to rounding, which are a valid tiny geometry there (only exact copies
    coincide)."""
    from supviz.core.geometry import coincident_groups

    pts = np.asarray(case.plain() if case.plain else X, dtype=float)
    if "rounding" in case.tags and engine.precomputed:
        return np.unique(pts, axis=0, return_inverse=True)[1].ravel()
    return coincident_groups(pts)


# ----------------------------------------------------------------------------------------------
# Engines


ENGINE_PAIRS = [(e, c) for e in cat.ENGINES for c in cat.CASES if c.metric in e.metrics]


@pytest.fixture(scope="module")
def plain_layouts():
    """Layouts of the plain float64 equivalents, computed once per (engine, case)."""
    return {}


@pytest.mark.parametrize(("engine", "case"), ENGINE_PAIRS, ids=[f"{e.name}-{c.name}" for e, c in ENGINE_PAIRS])
def test_engine_on_degenerate_input(engine, case, plain_layouts):
    X = case.build()
    n = _length(X)
    if case.expect == "error":
        _one_line_error(lambda: engine.run(X, metric=case.metric), case.match)
        return
    if n < engine.min_points:
        _one_line_error(lambda: engine.run(X, metric=case.metric), f"at least {engine.min_points} points")
        return
    refused = dict(engine.refuses).get(case.name)
    if refused is not None:
        _one_line_error(lambda: engine.run(X, metric=case.metric), refused)
        return
    layout = engine.run(X, metric=case.metric)
    Y = layout.embedding
    assert Y.shape == (n, layout.params.get("n_components", 2)) and np.isfinite(Y).all()
    assert isinstance(layout.info["collapsed"], bool)
    if layout.info["collapsed"]:
        assert any("collapsed" in note or "identical" in note for note in layout.notes)
    identical = case.identical and not (engine.precomputed and "rounding" in case.tags)
    if identical:
        # one point repeated: one spot, said so, and nothing "fitted" that looks perfect
        assert layout.info["collapsed"] and np.ptp(Y, axis=0).max() == 0.0
        assert any("identical" in note for note in layout.notes)
    if layout.method == "tsne":
        # a KL divergence, not a placeholder (scikit-learn's initial 1.8e308) or an impossible negative
        kl = layout.info["kl_divergence"]
        assert 0.0 <= kl < 1e3
    if not identical:
        # coincident points (up to rounding: supviz.core.geometry) stay at one spot, bit for bit, in every group: SMACOF
        # merges them, UMAP and t-SNE lay out the distinct points (umap-learn alone spread copies at random, openTSNE
        # and scikit-learn into a ring)
        labels = _groups(case, engine, X)
        for group in np.unique(labels):
            same = np.flatnonzero(labels == group)
            assert np.array_equal(Y[same], np.repeat(Y[same[:1]], len(same), axis=0)), group
        if layout.method in ("umap", "tsne"):
            assert layout.info["distinct_points"] == len(np.unique(labels))
    if layout.method == "mds":
        stress = layout.info["smacof_stress"]
        if identical:
            assert np.isnan(stress)  # 0 / 0: never a "perfect" 0 for the collapsed solution
        else:
            assert 0.0 <= stress < 1.0 and not layout.info["collapsed"]
    if case.plain is not None and not (engine.chaotic and case.scale is not None):
        key = (engine.name, case.plain.__qualname__, case.name if case.scale is None else "scaled")
        ref = plain_layouts.get(key) or plain_layouts.setdefault(key, engine.run(case.plain(), metric=case.metric))
        from supviz.metrics import procrustes_distance

        # The same geometry (scale-invariant methods, the same numbers in another container) gives
        # the same picture: exactly for the same float64 values, up to rounding for a rescaled copy.
        tol = 1e-6 if case.scale is not None else 1e-12
        assert procrustes_distance(Y, ref.embedding) < tol
        if layout.method == "mds":
            assert layout.info["smacof_stress"] == pytest.approx(ref.info["smacof_stress"], abs=1e-9)
        if layout.method == "tsne":
            assert layout.info["kl_divergence"] == pytest.approx(ref.info["kl_divergence"], abs=1e-6)


# ----------------------------------------------------------------------------------------------
# Metrics


METRIC_PAIRS = [(m, c) for m in cat.METRICS for c in cat.LAYOUT_CASES]
_RANGES = {"shepard_rho": (-1.0, 1.0)}


def _values(metric, out):
    return dict(out) if isinstance(out, Mapping) else {metric.name: out}


@pytest.mark.parametrize(("metric", "case"), METRIC_PAIRS, ids=[f"{m.name}-{c.name}" for m, c in METRIC_PAIRS])
def test_metric_on_degenerate_layout(metric, case):
    X, Y = case.X(), case.Y()
    n = _length(getattr(Y, "embedding", Y))
    if case.expect == "error":
        _one_line_error(lambda: metric.run(X, Y, case.k), case.match)
        return
    standalone_neighbourhood = metric.neighbourhood and metric.name != "layout_metrics"
    if standalone_neighbourhood and case.k > n - 2:
        # the user's own k: refused by name (layout_metrics instead gives NaN with the reason)
        _one_line_error(lambda: metric.run(X, Y, case.k), r"`k` must be an int in \[1, ")
        return
    out = metric.run(X, Y, case.k)
    values = _values(metric, out)
    undefined = set(case.undefined)
    for name, value in values.items():
        if name == "k":
            assert value == case.k  # never shrunk
            continue
        assert isinstance(value, float)
        lo, hi = _RANGES.get(name, (metric.lo, metric.hi))
        assert np.isnan(value) or lo - 1e-12 <= value <= hi + 1e-12, (name, value)
        must_be_nan = "all" in undefined or name in undefined or (name == metric.name and metric.name in undefined)
        if must_be_nan:
            assert np.isnan(value), (name, value)
        elif not (isinstance(out, Mapping) and name == "knn_recall_true"):  # no X_true given: NaN with its reason
            assert np.isfinite(value), (name, value)
    if isinstance(out, Mapping):
        # every NaN says why; and a NaN stress never sits beside "perfect" neighbourhood scores
        assert {k for k, v in values.items() if np.isnan(v)} == set(out.reasons)
        if np.isnan(values["stress1_ratio"]):
            assert all(np.isnan(values[k]) for k in cat.NEIGHBOURHOOD)
    if case.plain is not None:
        X0, Y0 = case.plain()
        ref = _values(metric, metric.run(X0, Y0, case.k))
        for name, value in values.items():
            assert value == pytest.approx(ref[name], rel=1e-9, abs=1e-12, nan_ok=True), name
