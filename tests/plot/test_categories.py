"""Issue 22 kind 9: colouring a layout by class names (a legend, one colour per class), and a grid's
``ncols`` checked."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from supviz.dr import mds_layout
from supviz.errors import SupvizError
from supviz.plot import interactive, plot_grid, plot_layout
from supviz.plot.panels import MISSING_COLOR, ScatterPanel, category_codes

X = np.random.default_rng(0).normal(size=(10, 3))
NAMES = ["cat", "dog", "cat", "bird", "dog", "cat", "bird", "bird", "dog", "cat"]


@pytest.fixture(scope="module")
def layout():
    return mds_layout(X, random_state=0)


def test_category_codes_name_each_class_in_order_of_first_appearance():
    codes, names = category_codes(NAMES)
    assert names == ("cat", "dog", "bird")
    np.testing.assert_array_equal(codes, [0, 1, 0, 2, 1, 0, 2, 2, 1, 0])
    codes, names = category_codes(np.array(["a", None, "b"], dtype=object))
    assert names == ("a", "b") and np.isnan(codes[1]) and codes[2] == 1
    assert category_codes([True, False, True])[1] == ("True", "False")
    assert category_codes(np.arange(3.0)) is None and category_codes(np.array([1, 2.5], dtype=object)) is None


def test_plot_layout_colours_by_class_with_a_legend(layout):
    from matplotlib.colors import to_rgba

    ax = plot_layout(layout, color=NAMES)
    ax.figure.canvas.draw()
    legend = ax.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["cat", "dog", "bird"]
    counts = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert counts == {"cat": 4, "dog": 3, "bird": 3}
    colours = {c.get_label(): tuple(c.get_facecolors()[0]) for c in ax.collections}
    assert len(set(colours.values())) == 3 and to_rgba(MISSING_COLOR) not in colours.values()
    # every point of a class in its class's colour, where the layout put it
    for c in ax.collections:
        idx = [i for i, n in enumerate(NAMES) if n == c.get_label()]
        np.testing.assert_allclose(np.sort(c.get_offsets(), axis=0), np.sort(layout.embedding[idx], axis=0))


def test_a_missing_class_is_grey_and_counted(layout):
    names = [None, *NAMES[1:]]
    ax = plot_layout(layout, color=np.array(names, dtype=object))
    assert any("grey: 1 without a value" in t.get_text() for t in ax.texts)
    assert sum(len(c.get_offsets()) for c in ax.collections) == 10


def test_grids_and_plotly_colour_by_class_too(layout):
    fig = plot_grid([ScatterPanel("a", layout.embedding, color=NAMES), layout], ncols=2)
    assert fig.axes[0].get_legend() is not None
    fig = interactive.plot_layout(layout, color=NAMES)
    named = {tr.name: len(tr.x) for tr in fig.data if tr.mode == "markers"}
    assert named == {"cat": 4, "dog": 3, "bird": 3}


@pytest.mark.parametrize("ncols", [0, -1, 1.5, True, "2"])
def test_plot_grid_refuses_a_column_count_below_one(layout, ncols):
    for draw in (plot_grid, interactive.plot_grid):
        with pytest.raises(SupvizError, match=r"`ncols` must be an int >= 1; got"):
            draw([layout, layout], ncols=ncols)


def test_a_binary_variable_gets_two_named_colours_a_legend_and_no_colour_bar():
    """D4's represented / dropped: two colours from a palette, the palette's categories drawn last (on top), a legend
    where asked and no colour bar (a bar spanning 0 to 1 implied values between the two)."""
    from matplotlib.colors import to_rgba

    xy = np.random.default_rng(1).normal(size=(6, 2))
    kind = ["represented", "represented", "represented", "dropped", "dropped", "dropped"]
    palette = {"dropped": "#fde725", "represented": "#440154"}
    first = ScatterPanel("a", xy, color=kind, palette=palette)
    second = ScatterPanel("b", xy, color=kind, palette=palette, legend=False)
    fig = plot_grid([first, second], ncols=2)
    fig.canvas.draw()
    ax1, ax2 = fig.axes[:2]
    assert len(fig.axes) == 2  # no colour-bar axis
    assert [c.get_label() for c in ax1.collections] == ["dropped", "represented"]  # represented drawn last, on top
    colours = {c.get_label(): tuple(c.get_facecolors()[0]) for c in ax1.collections}
    assert colours == {"dropped": to_rgba("#fde725"), "represented": to_rgba("#440154")}
    assert [t.get_text() for t in ax1.get_legend().get_texts()] == ["dropped", "represented"]
    assert ax2.get_legend() is None and not fig.legends
    # every panel leaving its legend out: one legend for the grid, the category drawn on top listed first
    fig = plot_grid([second, ScatterPanel("d", xy, color=kind, palette=palette, legend=False)], ncols=2)
    assert [a.get_legend() for a in fig.axes] == [None, None] and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["represented", "dropped"]
    with pytest.raises(SupvizError, match="`palette` must map category names to matplotlib colours"):
        ScatterPanel("c", xy, color=kind, palette={"dropped": "not a colour"})
    # plotly: the same colours, per category
    traces = interactive.plot_grid([first], ncols=1).data
    assert {t.name: t.marker.color for t in traces} == {"dropped": "#fde725", "represented": "#440154"}


def test_d4_colours_mean_what_c2_s_colours_mean():
    """C2 colours by viridis(_r) with dark = most important / largest norm; D4's represented is the dark end and its
    dropped the light end of the same map."""
    import matplotlib
    from matplotlib.colors import to_hex

    from supviz.study.datapoints.measures import ring_palette

    pal = ring_palette()
    assert pal["represented"] == to_hex(matplotlib.colormaps["viridis_r"](1.0))  # C2: the largest norm
    assert pal["dropped"] == to_hex(matplotlib.colormaps["viridis_r"](0.0))  # C2: a norm near 0
    assert list(pal) == ["dropped", "represented"]  # the represented on top
