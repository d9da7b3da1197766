"""Pictures of trained toy models (the background figures A1-A3) draw the given values, readably."""

import numpy as np
import pytest

from supviz.plot import min_font_px
from supviz.toy import plots as static


def test_background_figures_draw_the_given_values_with_integer_feature_ticks():
    W_dense = np.array([[0.82], [0.57]])
    W_sparse = np.array([[1.0], [-1.0]])
    fig = static.antipodal_figure([W_dense, W_sparse], ["p = 1", "p = 0.1"])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "-1.00" in texts and "W1 = -1.00" in texts and "W0 = +0.82" in texts
    gram_axes = [ax for ax in fig.axes if ax.images]
    assert [t.get_text() for t in gram_axes[0].get_xticklabels()] == ["0", "1"]
    assert min_font_px(fig, dpi=110) >= 10
    rng = np.random.default_rng(4)
    Ws = [rng.normal(size=(20, 5))] * 3
    fig = static.superposition_sweep_figure(Ws, [rng.random(20)] * 3, [rng.random(20)] * 3, ["a", "b", "c"])
    assert len([ax for ax in fig.axes if ax.get_label() == "<colorbar>"]) == 2
    bars = [ax for ax in fig.axes if ax.patches]
    assert all(float(t).is_integer() for t in bars[0].get_yticks())
    assert min_font_px(fig, dpi=110) >= 10
    fig = static.geometry_figure(
        np.logspace(0, 3, 5), np.linspace(1, 0.4, 5), rng.random((5, 8)), size_note="n = 8, m = 2"
    )
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_title(loc="left") == "n = 8, m = 2"
    assert min_font_px(fig, dpi=110) >= 10


def test_the_sticky_fraction_labels_are_a_label_height_apart():
    """A3's labels 2/5, 3/8 and 1/3 sat 0.025-0.04 apart and ran together (review 5): each now keeps its line's height
    unless the label above is nearer than the gap, then it goes a gap below that one."""
    from supviz.toy.plots import STICKY_FRACTIONS, label_heights

    fracs = [f for f, _ in STICKY_FRACTIONS]
    ys = label_heights(fracs, gap=0.045)
    assert ys[:5] == fracs[:5]  # 1 ... 2/5 are far enough apart: unmoved
    assert ys[5:] == pytest.approx([0.4 - 0.045, 0.4 - 0.09])
    assert all(a - b >= 0.045 - 1e-12 for a, b in zip(sorted(ys, reverse=True), sorted(ys, reverse=True)[1:]))
    assert label_heights([0.1, 0.9, 0.5], gap=0.05) == [0.1, 0.9, 0.5]  # any order in, the same order out
