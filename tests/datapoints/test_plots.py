"""Figures of the data-point section: they draw what they are given and save atomically."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from supviz import plot
from supviz.datapoints import datapoint_grid
from supviz.datapoints import plots as figs
from supviz.errors import SupvizError
from supviz.plot import min_font_px


@dataclass
class _Spec:
    n_features: int
    n_hidden: int
    probability: float
    importance_name: str
    importance: np.ndarray
    seed: int = 0


@dataclass
class _Grid:
    specs: list
    weights: list
    biases: list


@pytest.fixture(scope="module")
def grid_result():
    rng = np.random.default_rng(0)
    specs, weights = [], []
    for m in (2, 4):
        for p in (1.0, 0.3):
            specs.append(_Spec(8, m, p, "uniform", np.ones(8)))
            weights.append(rng.normal(size=(8, m)))
    return datapoint_grid(
        _Grid(specs, weights, [np.zeros(8)] * 4),
        n_points=60,
        methods=("mds",),
        k=5,
        layout_spaces=("x", "x_rep", "h"),
        random_state=0,
        n_jobs=1,
        progress=False,
    )


def test_cell_figure_panels_false_lines_and_every_measure(grid_result):
    import matplotlib.pyplot as plt

    cell = grid_result.cell("uniform", 2, 0.3)
    fig = figs.cell_figure(cell, spaces=("x", "x_rep", "h"))
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == [
        "MDS of inputs x",
        "MDS of inputs on the represented features",
        "MDS of latent codes h = W\u1d40x",
    ]
    # One line per false pair in the h panel, one scatter point per input.
    h_ax = axes[2]
    assert len(h_ax.collections[0].get_segments()) == len(cell.false_pairs[("h", "mds")])
    assert h_ax.collections[1].get_offsets().shape == (cell.n_points, 2)
    # every measure the caption promises is under the panel
    under = next(t.get_text() for t in h_ax.texts)
    for short in ("R ", "T ", "C ", "S ", "ρ ", "FN "):
        assert short in under, short
    # uniform importance: a rank means nothing, the colour is the number of active represented features
    assert any("active represented features" in ax.get_ylabel() for ax in fig.axes)
    values, scale = figs.point_colour(cell)
    np.testing.assert_array_equal(values, np.minimum((cell.x[:, cell.represented] > 0).sum(axis=1), figs.ACTIVE_CAP))
    plt.close(fig)
    fig = figs.cell_figure(cell, color_by="top_feature", show_false=False)
    assert any("index of the most important active feature" in ax.get_ylabel() for ax in fig.axes)
    plt.close(fig)
    with pytest.raises(SupvizError, match="`color_by` must be one of"):
        figs.cell_figure(cell, color_by="colour")


def test_plotly_cell_is_the_same_panels_with_hover(grid_result):
    cell = grid_result.cells[1]
    fig = figs.cell_figure_plotly(cell)
    points = [t for t in fig.data if t.name == "points"]
    lines = [t for t in fig.data if t.name == "false neighbours"]
    assert len(points) == 2 and "most important active feature" in points[0].hovertemplate
    assert len(points[0].customdata) == cell.n_points and len(points[0].customdata[0]) == 5
    assert len(lines) == int(len(cell.false_pairs[("h", "mds")]) > 0)  # the picture of h's; none on x's
    titles = [a.text for a in fig.layout.annotations]
    assert all("FN " in t and "ρ " in t for t in titles if "<br>" in t)


def test_grid_and_heatmaps(grid_result, tmp_path):
    import matplotlib.pyplot as plt

    fig = figs.grid_figure(grid_result, importance="uniform", method="mds")
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert titles == ["2 : 0.3", "2 : 1", "4 : 0.3", "4 : 1"]
    # under each panel the picture of h's R and the same method's R of x in that cell, both the table's rows (review 6
    # item 6: D2 printed h's R alone, and the reader could not tell 0.19 from what any picture of x keeps)
    t = grid_result.table.set_index(["m", "p", "space", "method"])["knn_recall"]
    for ax in (a for a in fig.axes if a.get_title()):
        m, p = ax.get_title().split(" : ")
        key = (int(m), float(p))
        want = f"R {t[(*key, 'h', 'mds')]:.2f} (x {t[(*key, 'x', 'mds')]:.2f})"
        assert [tx.get_text() for tx in ax.texts] == [want]
    plt.close(fig)
    feat = pd.DataFrame(
        [
            {"importance": "uniform", "m": m, "p": p, "method": "mds", "knn_recall": 0.5}
            for m in (2, 4)
            for p in (1.0, 0.3)
        ]
    )
    fig = figs.heatmap_figure(
        grid_result.table, metric="knn_recall", importance="uniform", feature_table=feat, methods=("mds",)
    )
    heads = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert heads == [
        "feature directions (rows of W)",
        "data points: inputs x",
        "data points: latent codes h = Wᵀx",
        "change h − x (× 100)",
    ]
    img = fig.axes[1].images[0].get_array()  # data-point x column: the same sample for every m
    assert np.allclose(img[0], img[1])
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["2", "4"]
    files = plot.save_figure(fig, tmp_path / "hm")
    assert sorted(f.name for f in files.values()) == ["hm.png", "hm.svg"] and all(
        f.stat().st_size > 1000 for f in files.values()
    )
    assert not list(tmp_path.glob(".*tmp"))
    plt.close(fig)
    with pytest.raises(SupvizError, match="`metric` must be a column"):
        figs.heatmap_figure(grid_result.table, metric="nope", importance="uniform")


@pytest.mark.parametrize("metric", ["knn_recall", "false_neighbour_rate"])
def test_the_change_map_is_red_where_the_picture_of_h_is_worse(grid_result, metric):
    """D1's caption says red = worse: less recall, or more false neighbours."""
    panels, scales, _ = figs.heatmap_panels(grid_result.table, metric=metric, importance="uniform", methods=("mds",))
    import matplotlib as mpl

    scale = scales["change"]
    worse = -0.2 if figs.HIGHER_IS_BETTER[metric] else 0.2
    r, g, b, _ = mpl.colormaps[scale.cmap](mpl.colors.TwoSlopeNorm(vmin=-0.3, vcenter=0, vmax=0.3)(worse))
    assert r > b + 0.3, (metric, r, b)


def test_headline_figure_draws_x_h_and_the_code_space_per_method():
    curves = [
        {"method": m, "m": [3, 10, 40], "x": [0.3, 0.3, 0.3], "h": [0.1, 0.2, 0.28], "exact": [0.4, 0.6, 0.9]}
        for m in ("MDS", "UMAP", "t-SNE")
    ]
    fig = figs.headline_figure(curves, title="t")
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["MDS", "UMAP", "t-SNE"]
    ys = {line.get_label(): list(line.get_ydata()) for line in axes[1].get_lines()}
    assert ys["picture of h = Wᵀx"] == [0.1, 0.2, 0.28] and ys["code space h itself"] == [0.4, 0.6, 0.9]
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["3", "10", "40"]
    assert min_font_px(fig, dpi=110) >= 10
    assert figs.HEADLINE_CHANCE not in ys  # no chance line without a chance level
    # the recall's chance level k / (N - 1) as a line of its own (review 5 item 5: MDS's x line sits near it)
    fig = figs.headline_figure([{**c, "chance": [0.05, 0.05, 0.05]} for c in curves], title="t")
    axes = [ax for ax in fig.axes if ax.get_title()]
    ys = {line.get_label(): list(line.get_ydata()) for line in axes[0].get_lines()}
    assert ys[figs.HEADLINE_CHANCE] == [0.05, 0.05, 0.05]
    assert figs.HEADLINE_CHANCE in [t.get_text() for t in fig.legends[0].get_texts()]


def test_headline_figure_has_a_row_per_importance_variant_and_names_its_gap_for_what_it_holds():
    """The headline drew importance 0.9^i only, and labelled its gap 'lost to superposition + dropped features' though
    most of it is the dropped features and some cells have no superposition at all (the fresh reviewer's finding)."""
    row = [{"method": m, "m": [3, 10], "x": [0.3, 0.3], "h": [0.1, 0.2], "exact": [0.4, 0.6]} for m in ("MDS", "UMAP")]
    low = [{**c, "h": [0.05, 0.1]} for c in row]
    fig = figs.headline_figure({"importance 0.9^i": row, "uniform importance": low}, title="t")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 4 and [ax.get_title() for ax in axes[:2]] == ["MDS", "UMAP"]
    assert axes[0].get_ylabel().startswith("importance 0.9^i") and axes[2].get_ylabel().startswith("uniform")
    assert list(axes[3].get_lines()[2].get_ydata()) == [0.05, 0.1]  # the second row draws its own variant
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert figs.HEADLINE_GAP in legend
    assert figs.HEADLINE_GAP == "lost: dropped features (and superposition where W has it)"
    assert not any("lost to superposition" in t for t in legend)
    assert min_font_px(fig, dpi=110) >= 10


def test_trust_in_the_hover_and_as_the_colour_of_a_toy_cell(grid_result):
    from supviz.metrics.pointwise import pointwise_trust

    cell = grid_result.cells[1]
    fig = figs.cell_figure_plotly(cell, trust=True)
    points = [t for t in fig.data if t.name == "points"]
    assert len(points) == 2 and all("trust" in p.hovertemplate for p in points)
    assert len(points[0].customdata[0]) == 5 + 5  # the labels, then trust, t, c, false and missing neighbours
    coloured = figs.cell_figure_plotly(cell, color_by="trust")
    for tr, space in zip([t for t in coloured.data if t.name == "points"], ("x", "h")):
        pt = pointwise_trust(cell.x, cell.layouts[(space, "mds")], k=cell.k)
        np.testing.assert_allclose(tr.marker.color, pt.trust, atol=5e-4)  # JSON: 4 significant digits
        # the per-point scores average to the T and C the panel states (against x)
        assert abs(pt.trustworthiness.mean() - cell.metrics[(space, "mds")]["trustworthiness"]) <= 1e-12
    fig_static = figs.cell_figure(cell, color_by="trust")
    assert any("trust" in a.get_ylabel() for a in fig_static.axes)
    import matplotlib.pyplot as plt

    plt.close(fig_static)


def test_the_change_map_is_in_hundredths_and_its_numbers_do_not_overlap():
    """Issue 19: D1's change column wrote −.04 in cells one character too narrow for it, and neighbouring numbers
    ran into each other. The change is drawn in hundredths (−4); no two numbers of a row may overlap."""
    import re

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    ms, ps = (3, 5, 10, 20, 30, 40), (1.0, 0.55, 0.3, 0.17, 0.091, 0.05)
    rows = [
        {"importance": "uniform", "m": m, "p": p, "method": meth, "space": space, "knn_recall": v}
        for meth in ("mds", "umap", "tsne")
        for m in ms
        for p in ps
        for space, v in (("x", 0.31), ("h", 0.08))  # h − x = −0.23: the widest change D1 shows
    ]
    table = pd.DataFrame(rows)
    feat = table[table["space"] == "x"].drop(columns="space").assign(knn_recall=0.74)  # D1's four columns
    panels, scales, _ = figs.heatmap_panels(table, metric="knn_recall", importance="uniform", feature_table=feat)
    change = [p for p in panels if p.scale == "change"]
    assert change and all(np.allclose(p.matrix, 100 * (0.08 - 0.31)) for p in change)
    assert "× 100" in scales["change"].label
    fig = figs.heatmap_figure(table, metric="knn_recall", importance="uniform", feature_table=feat)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    texts = [t for ax in fig.axes for t in ax.texts if re.fullmatch(r"−?\.?\d+", t.get_text())]
    assert {t.get_text() for t in texts} == {"−23", ".08", ".31", ".74"}
    boxes = sorted((t.get_window_extent(canvas.get_renderer()) for t in texts), key=lambda b: (round(b.y0), b.x0))
    pt = 72.0 / fig.dpi  # points per pixel
    gaps = [(b.x0 - a.x1) * pt for a, b in zip(boxes, boxes[1:]) if abs(a.y0 - b.y0) < 1]  # along each row
    # at least 2 pt between two numbers (a word space of the 7.5 pt font is 2.4 pt): −.23 left 0.8 pt
    assert gaps and min(gaps) >= 2.0, min(gaps)


def test_false_neighbour_lines_only_on_the_pictures_of_the_codes_under_the_points(grid_result):
    """D3 drew a web of red lines over the pictures of x, the control (review 6 item 6: FN 0.46-0.74 as a web that hid
    the points). The lines belong to the pictures of the codes; the pictures of x give their rate under the panel."""
    from supviz.plot.static import FALSE_LINE_ALPHA, FALSE_LINE_WIDTH

    cell = grid_result.cell("uniform", 2, 0.3)
    assert all(len(cell.false_pairs[(s, "mds")]) for s in ("x", "h"))  # both pictures have false neighbours
    panels, _, _ = figs.cell_panels(cell, spaces=("x", "x_rep", "h"))
    assert [p.lines is None for p in panels] == [True, True, False]
    assert "FN " in panels[0].corner  # the picture of x keeps its rate
    fig = figs.cell_figure(cell, spaces=("x", "h"))
    x_ax, h_ax = [ax for ax in fig.axes if ax.get_title()]
    from matplotlib.collections import LineCollection

    assert not [c for c in x_ax.collections if isinstance(c, LineCollection)]
    (lines,) = [c for c in h_ax.collections if isinstance(c, LineCollection)]
    points = [c for c in h_ax.collections if not isinstance(c, LineCollection)]
    assert lines.get_zorder() < min(c.get_zorder() for c in points)  # under the points
    assert lines.get_linewidths()[0] == FALSE_LINE_WIDTH <= 0.3 and lines.get_alpha() == FALSE_LINE_ALPHA <= 0.2
    plotly = figs.cell_figure_plotly(cell, spaces=("x", "h"))
    assert len([t for t in plotly.data if t.name == "false neighbours"]) == 1
    # the title says where the lines are, on a line of its own in both drawings
    assert fig._suptitle.get_text().endswith("\nred lines: false neighbours, in the pictures of the codes")
    assert plotly.layout.title.text.endswith("<br>red lines: false neighbours, in the pictures of the codes")


def test_one_cell_s_colour_bar_spans_its_own_counts_and_says_at_least_where_it_clips():
    """D3's bar of active represented features ran to a fixed 6 though few inputs pass 3 (review 6 item 6): one cell's
    scale now stops at the 99th percentile of its counts, and its top tick reads '≥' where inputs were clipped to it."""
    from types import SimpleNamespace

    from supviz.plot.static import plot_grid

    x = np.zeros((101, 8))
    x[np.arange(100), np.arange(100) % 4] = 1.0  # 100 inputs on one feature
    x[100, :6] = 1.0  # one on six
    cell = SimpleNamespace(x=x, represented=np.ones(8, bool), uniform_importance=True, labels=None)
    values, scale = figs.point_colour(cell, cap=None)
    assert scale.vmax == 1.0 and scale.at_least and values.max() == 1.0 and "≥ 1" in scale.label
    fixed, old = figs.point_colour(cell)  # D2's grid keeps one fixed cap over every cell
    assert old.vmax == figs.ACTIVE_CAP and old.at_least is False and fixed.max() == 6
    xy = np.random.default_rng(0).normal(size=(101, 2))
    fig = plot_grid([plot.ScatterPanel("t", xy, color=values)], ncols=1, color=scale)
    bar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
    ticks = [t.get_text() for t in bar.get_yticklabels()]
    assert ticks[-1] == "≥ 1" and ticks[0] == "0"
    x[95:] = 0.0
    x[95:, :3] = 1.0  # six inputs on three features, none on more: the bar runs to 3 and clips nothing
    values, scale = figs.point_colour(cell, cap=None)
    assert scale.vmax == 3.0 and not scale.at_least and "≥" not in scale.label
    np.testing.assert_array_equal(values, (x > 0).sum(axis=1))


def test_d1_s_colour_bars_sit_under_the_columns_they_colour():
    """Both of D1's colour bars sat right of the change column, the measure's farthest from the three columns it colours
    (review 6 item 6): each bar now lies under its own columns, below every panel."""
    rows = [
        {"importance": "uniform", "m": m, "p": p, "method": meth, "space": space, "knn_recall": v}
        for meth in ("mds", "umap")
        for m in (3, 10)
        for p in (1.0, 0.05)
        for space, v in (("x", 0.31), ("h", 0.08 + 0.01 * m))
    ]
    table = pd.DataFrame(rows)
    feat = table[table["space"] == "x"].drop(columns="space").assign(knn_recall=0.74)
    fig = figs.heatmap_figure(
        table, metric="knn_recall", importance="uniform", feature_table=feat, methods=("mds", "umap")
    )
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    bars = {
        (ax.get_xlabel() or ax.get_ylabel()).replace("\n", " "): ax.get_position()
        for ax in fig.axes
        if ax.get_label() == "<colorbar>"
    }
    measure = bars["k-NN recall"]
    change = next(pos for label, pos in bars.items() if label.startswith("change h − x"))
    cols = [ax.get_position() for ax in panels[:4]]  # the first row: features, x, h, change
    lowest = min(ax.get_position().y0 for ax in panels)
    for pos in (measure, change):
        assert pos.width > pos.height and pos.y1 < lowest  # horizontal, under every panel
    assert measure.x0 >= cols[0].x0 - 1e-9 and measure.x1 <= cols[2].x1 + 1e-9  # under features, x and h
    assert measure.x1 > cols[2].x0 and measure.x0 < cols[0].x1  # ... and reaching across all three
    assert change.x0 >= cols[3].x0 - 1e-9 and change.x1 <= cols[3].x1 + 1e-9  # under the change column alone
    assert min_font_px(fig, dpi=110) >= 10


def test_the_headline_draws_the_answer_s_pair_above_h_against_x_with_its_loss_and_chance():
    """The headline drew supviz's own h-versus-x question while the first screen's answer measures the codes of the
    represented features against the inputs on them, in the superposed cells; its caption said that pair 'is not
    drawn here' (review 6 item 5). Its rows now come first, with their chance line and the answer's loss in words."""
    row = [
        {"method": m, "m": [3, 10], "x": [0.3, 0.3], "h": [0.1, 0.2], "exact": [0.4, 0.6], "chance": [0.05, 0.05]}
        for m in ("MDS", "UMAP")
    ]
    pair = [
        {"method": "UMAP", "m": [3, 10], "x": [0.12, 0.26], "h": [0.1, 0.21], "chance": [0.05, 0.05]}
        | {"loss": 0.2, "interval": (0.1, 0.29), "n_cells": 30}
    ]
    fig = figs.headline_figure({"uniform importance": row}, answer={"uniform importance": pair}, title="t")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 3  # the pair of UMAP alone (MDS has none here), then the row of h against x
    top = shown[0]
    assert top.get_title() == "UMAP" and "represented features" in top.get_ylabel()  # its row's first panel
    ys = {line.get_label(): list(line.get_ydata()) for line in top.get_lines()}
    assert ys[figs.ANSWER_X] == [0.12, 0.26] and ys[figs.ANSWER_H] == [0.1, 0.21]
    assert ys[figs.HEADLINE_CHANCE] == [0.05, 0.05]
    assert [t.get_text() for t in top.texts] == ["loses 20%\n[10%, 29%]"]
    lo, hi = top.get_ylim()
    assert lo == 0 and 0.26 < hi < 0.5  # its own axis: the gap of a few hundredths shows
    assert shown[1].get_ylim() == (0, 1.02)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    for label in (figs.ANSWER_X, figs.ANSWER_H, figs.HEADLINE_ANSWER_GAP, figs.HEADLINE_GAP, figs.HEADLINE_CHANCE):
        assert legend.count(label) == 1, label
    assert min_font_px(fig, dpi=110) >= 10
