"""Break-test findings of issue 14 on supviz.plot: missing colours, plot_gram's errors, Layout in grids, stress
labels."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from supviz.dr import mds_layout
from supviz.errors import SupvizError
from supviz.plot import interactive, plot_gram, plot_grid, plot_layout
from supviz.plot.panels import MISSING_COLOR, ScatterPanel

X = np.random.default_rng(0).normal(size=(10, 3))


@pytest.fixture(scope="module")
def layout():
    return mds_layout(X, random_state=0)


@pytest.mark.parametrize(
    "colour", [np.r_[np.nan, np.arange(9.0)], np.r_[np.inf, -np.inf, np.arange(8.0)], np.full(10, np.nan)]
)
def test_static_missing_colours_drawn_grey_and_said(layout, colour):
    from matplotlib.colors import to_rgba

    ax = plot_layout(layout, color=colour)
    ax.figure.canvas.draw()
    k = int((~np.isfinite(colour)).sum())
    grey = [
        c
        for c in ax.collections
        if len(c.get_offsets()) == k and np.allclose(c.get_facecolors()[:, :3], to_rgba(MISSING_COLOR)[:3])
    ]
    assert grey and (grey[0].get_facecolors()[:, 3] == 1).all()  # visible
    assert sum(len(c.get_offsets()) for c in ax.collections) == 10  # every point drawn
    assert any(f"grey: {k} without a value" in t.get_text() for t in ax.texts)
    fig = plot_grid([ScatterPanel("a", layout.embedding, color=colour)], ncols=1)
    assert any(f"grey: {k} without a value" in t.get_text() for a in fig.axes for t in a.texts)


def test_interactive_missing_colours_drawn_grey_in_the_legend(layout):
    fig = interactive.plot_layout(layout, color=np.r_[np.nan, np.arange(9.0)])
    grey = [t for t in fig.data if t.name == "points: no value (grey)"]
    pts = [t for t in fig.data if t.name == "points"]
    assert len(grey) == 1 and grey[0].marker.color == MISSING_COLOR and grey[0].showlegend and len(grey[0].x) == 1
    assert len(pts[0].x) == 9 and None not in list(pts[0].marker.color)
    assert any("grey: 1 without a value" in a.text for a in fig.layout.annotations)


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(W=X, vmax=0.0), r"`vmax` must be a finite number in \(0.0, inf\]"),
        (dict(W=X, vmax=-1.0), r"`vmax` must be"),
        (dict(W=np.zeros((0, 3))), r"`W` must hold at least one feature"),
        (dict(W=X * 1e200), r"`W` is too large to draw: W Wᵀ overflows float64"),
    ],
)
def test_plot_gram_errors_alike_in_both(kw, msg):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for draw in (plot_gram, interactive.plot_gram):
            with pytest.raises(SupvizError, match=msg):
                draw(kw["W"], **{k: v for k, v in kw.items() if k != "W"})


def test_both_grids_take_a_layout_and_refuse_the_same_way(layout):
    fig = plot_grid([layout], ncols=1)
    assert any("SMACOF stress" in t.get_text() for a in fig.axes for t in a.texts)
    ifig = interactive.plot_grid([layout], ncols=1)
    assert [t.name for t in ifig.data] == ["points"]
    for draw in (plot_grid, interactive.plot_grid):
        with pytest.raises(
            SupvizError, match=r"`panels\[0\]` must be a ScatterPanel, HeatmapPanel, ShepardPanel or Layout; got str"
        ):
            draw(["x"], ncols=1)


def test_mds_corner_names_the_smacof_stress_not_stress1(layout):
    from supviz.metrics import layout_metrics

    W = np.random.default_rng(0).normal(size=(15, 3))
    L = mds_layout(W, metric_type="interval", random_state=0)
    texts = [t.get_text() for t in plot_layout(L).texts]
    assert texts == [f"SMACOF stress {L.info['smacof_stress']:.3f}"]
    assert f"{layout_metrics(W, L, k=5)['stress1_ratio']:.3f}" not in texts[0]  # the two differ here
    assert not any("stress-1" in t for t in texts)


def test_layout_params_record_weights():
    w = np.ones((10, 10))
    w[0, 1] = w[1, 0] = 0
    A, B = mds_layout(X, random_state=0), mds_layout(X, weights=w, random_state=0)
    assert "weights" not in A.params and np.array_equal(B.params["weights"], w)
    assert "weights=<array (10, 10)>" in repr(B)


def test_layout_metrics_unknown_keyword_lists_the_valid_ones(layout):
    from supviz.metrics import layout_metrics

    with pytest.raises(
        SupvizError,
        match=r"`foo` is not an argument of layout_metrics\(\); valid keyword arguments: "
        r"X_true, all_pairs, baseline, collapsed, k, neighbors, random_state\.",
    ):
        layout_metrics(X, layout, k=3, foo=1)
