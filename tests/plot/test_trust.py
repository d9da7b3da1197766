"""Per-point trust on pictures (supviz.plot.trust): hover, colour="trust", a figure per method, the tidy table."""

from __future__ import annotations

import numpy as np
import pytest

from supviz import plot
from supviz.dr import mds_layout
from supviz.errors import SupvizError
from supviz.metrics import continuity, trustworthiness
from supviz.metrics.pointwise import point_table, pointwise_trust
from supviz.plot import interactive as iplot


@pytest.fixture(scope="module")
def toy():
    """A toy model's picture: 24 features in 6 dimensions (superposition), their W rows drawn by MDS."""
    rng = np.random.default_rng(5)
    W = rng.normal(size=(24, 6))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    W *= rng.uniform(0.2, 1.0, size=(24, 1))  # norms: how strongly each feature is represented
    return W, mds_layout(W, random_state=0)


def _close(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_interactive_hover_and_colour_carry_each_points_trust(toy):
    W, lay = toy
    pt = pointwise_trust(W, lay, k=5)
    fig = iplot.plot_layout(lay, color="trust", reference=W, k=5, hover={"feature": np.arange(24)})
    (points,) = [tr for tr in fig.data if tr.name == "points"]
    np.testing.assert_allclose(points.marker.color, pt.trust, atol=5e-4)  # JSON rounded to 4 significant digits
    assert (points.marker.cmin, points.marker.cmax) == (0.0, 1.0)
    assert points.marker.colorbar.title.text == "trust (t + c) / 2"
    for name in ("feature", "trust", "t (trustworthiness)", "c (continuity)", "false neighbours"):
        assert name in points.hovertemplate
    worst = int(np.argmin(pt.trust))
    assert f"{pt.trust[worst]:.3g}" in points.customdata[worst]
    assert f"T {trustworthiness(W, lay, k=5):.3f}" in fig.layout.annotations[0].text  # the corner: T and C
    # without color="trust" the colour stays the caller's, and the hover still shows trust
    fig2 = iplot.plot_layout(lay, color=np.linalg.norm(W, axis=1), reference=W, k=5)
    (p2,) = [tr for tr in fig2.data if tr.name == "points"]
    np.testing.assert_allclose(p2.marker.color, np.linalg.norm(W, axis=1), atol=5e-4)
    assert "trust" in p2.hovertemplate


def test_static_colour_trust(toy):
    W, lay = toy
    ax = plot.plot_layout(lay, color="trust", reference=W, k=5)
    coll = [c for c in ax.collections if c.get_array() is not None][0]
    drawn = np.asarray(coll.get_offsets())  # the drawing may reorder the points: match them by position
    order = [int(np.argmin(np.linalg.norm(lay.embedding - xy, axis=1))) for xy in drawn]
    assert sorted(order) == list(range(24))
    np.testing.assert_allclose(np.asarray(coll.get_array()), pointwise_trust(W, lay, k=5).trust[order], atol=1e-12)
    assert coll.norm.vmin == 0.0 and coll.norm.vmax == 1.0
    _close(ax.figure)


def test_a_figure_per_method_shows_where_the_picture_lies(toy):
    W, lay = toy
    rng = np.random.default_rng(1)
    scrambled = lay.embedding.copy()
    half = rng.permutation(24)[:12]
    scrambled[half] = scrambled[rng.permutation(half)]
    pictures = {"MDS": lay, "MDS, half scrambled": scrambled}
    fig = iplot.plot_trust(pictures, W, k=5)
    panels = [tr for tr in fig.data if tr.name == "points"]
    assert len(panels) == 2
    for tr, Y in zip(panels, pictures.values()):
        np.testing.assert_allclose(tr.marker.color, pointwise_trust(W, Y, k=5).trust, atol=5e-4)
    lied = np.asarray(panels[1].marker.color)
    kept = np.setdiff1d(np.arange(24), half)
    assert lied[half].mean() < lied[kept].mean()  # the scrambled points are where the picture lies
    sfig = plot.plot_trust(pictures, W, k=5)
    assert any("trust" in a.get_ylabel() for a in sfig.axes)  # the shared colour bar names it
    _close(sfig)


def test_trust_needs_the_pictured_space(toy):
    W, lay = toy
    with pytest.raises(SupvizError, match="needs `reference`"):
        iplot.plot_layout(lay, color="trust")
    with pytest.raises(SupvizError, match="`color` must be 'trust', a matplotlib colour or one value per point"):
        plot.plot_layout(lay, color="norm", reference=W)


@pytest.mark.parametrize("colour", ["red", "#2ca02c", "C1"])
def test_one_matplotlib_colour_paints_every_point(toy, colour):
    """`color="red"` (static and interactive, with or without `reference`) is one colour for all points."""
    from matplotlib.colors import to_hex, to_rgba

    W, lay = toy
    for reference in (None, W):
        ax = plot.plot_layout(lay, color=colour, reference=reference, k=5)
        drawn = [c for c in ax.collections if len(c.get_offsets()) == len(W)]  # one scatter of every point
        faces = np.concatenate([c.get_facecolors() for c in drawn])  # one row (shared) or one per point
        assert len(drawn) == 1 and np.allclose(faces[:, :3], to_rgba(colour)[:3]), faces[:3]
        _close(ax.figure)
        fig = iplot.plot_layout(lay, color=colour, reference=reference, k=5)
        points = [t for t in fig.data if t.x is not None and len(t.x) == len(W)]
        assert points and all(t.marker.color == to_hex(colour) for t in points), [t.marker.color for t in points]


def test_point_table_is_the_tidy_export_for_toy_pictures(toy):
    W, lay = toy
    norms = np.linalg.norm(W, axis=1)
    table = point_table(W, lay, k=5, text=[f"feature {i}" for i in range(24)], factors={"norm": norms})
    assert list(table.columns) == [
        "point",
        "text",
        "x",
        "y",
        "trust",
        "trustworthiness",
        "continuity",
        "false_neighbours",
        "missing_neighbours",
        "norm",
    ]
    np.testing.assert_array_equal(table[["x", "y"]].to_numpy(), lay.embedding)
    assert abs(table["trustworthiness"].mean() - trustworthiness(W, lay, k=5)) <= 1e-12
    assert abs(table["continuity"].mean() - continuity(W, lay, k=5)) <= 1e-12
    np.testing.assert_array_equal(table["norm"], norms)
    with pytest.raises(SupvizError, match="`text` must hold one entry per point"):
        point_table(W, lay, k=5, text=["a"])
    with pytest.raises(SupvizError, match="`factors` must hold one row per point"):
        point_table(W, lay, k=5, factors={"norm": norms[:3]})
    with pytest.raises(SupvizError, match="must not reuse"):
        point_table(W, lay, k=5, factors={"x": norms})


def test_an_undefined_trust_says_why_in_the_hover(toy):
    """A collapsed picture has no trust: the hover says so and why, never 'nan' (hover_columns, the one home)."""
    from supviz.dr.base import Layout
    from supviz.plot.trust import hover_columns

    W, lay = toy
    flat = Layout(np.zeros((24, 2)), "mds", {}, info={"collapsed": True})
    fig = iplot.plot_layout(flat, reference=W, k=5)
    (points,) = [tr for tr in fig.data if tr.name == "points"]
    assert "trust" in points.hovertemplate and "t (trustworthiness)" in points.hovertemplate
    assert all(
        row[-5:] == ["undefined: layout collapsed: all points at one spot"] + ["n/a"] * 4 for row in points.customdata
    )
    pt = pointwise_trust(W, lay, k=5)
    cols = hover_columns(pt.columns())
    np.testing.assert_array_equal(cols["trust"], pt.trust)
    assert list(cols) == ["trust", "t (trustworthiness)", "c (continuity)", "false neighbours", "missing neighbours"]
    said = hover_columns(pt.columns(), "why")
    assert list(said["trust"]) == ["undefined: why"] * 24 and list(said["false neighbours"]) == ["n/a"] * 24
