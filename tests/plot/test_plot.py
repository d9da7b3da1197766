"""supviz.plot: layouts, Shepard plots and Gram matrices in matplotlib and plotly, readable and alike."""

import json

import numpy as np
import pytest

from supviz import plot
from supviz.dr import mds_layout, smacof
from supviz.errors import SupvizError
from supviz.plot import ColorScale, HeatmapPanel, ScatterPanel, ShepardPanel
from supviz.plot import interactive as iplot
from supviz.plot.static import PNG_COMPRESS_LEVEL, ReasonMarks, draw_shepard, reason_heatmap
from supviz.study.adapters import pairwise


@pytest.fixture(scope="module")
def fit():
    X = np.random.default_rng(0).normal(size=(12, 4))
    return X, mds_layout(X, metric_type="ratio", random_state=0)


def _close(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_plot_layout_from_a_layout_brings_its_title_stress_and_equal_axes(fit):
    X, lay = fit
    ax = plot.plot_layout(lay, color=np.arange(12.0), color_label="index")
    assert ax.get_title() == "MDS" and ax.get_aspect() == 1.0
    assert f"SMACOF stress {lay.info['smacof_stress']:.3f}" in [t.get_text() for t in ax.texts]
    assert ax.collections[0].get_offsets().shape == (12, 2)
    assert len(ax.figure.axes) == 2  # the colour bar
    _close(ax.figure)
    with pytest.raises(SupvizError, match=r"`layout` must be a Layout or an array of shape \[N, 2\]"):
        plot.plot_layout(np.zeros((3, 3)))


def test_plot_shepard_and_gram(fit):
    X, lay = fit
    ax = plot.plot_shepard(lay)
    n_pairs = 12 * 11 // 2
    assert ax.collections[0].get_offsets().shape == (n_pairs, 2)
    assert ax.get_lines()[0].get_color() == "tab:red" and ax.get_xlabel() == "dissimilarity"
    _close(ax.figure)
    W = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5]])
    ax = plot.plot_gram(W, annotate=True)
    assert ax.images[0].get_array().shape == (3, 3)
    assert {"1.00", "-1.00", "0.25"} <= {t.get_text() for t in ax.texts}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]  # integer feature ticks
    _close(ax.figure)


def test_grid_text_is_at_least_ten_pixels_and_off_the_data():
    rng = np.random.default_rng(1)
    panels = [
        ScatterPanel(f"{m} : 0.3", rng.normal(size=(60, 2)), color=rng.random(60), corner="stress-1 0.123  P 0.45")
        for m in range(36)
    ]
    fig = plot.plot_grid(panels, ncols=6, title="C2", color=ColorScale("viridis", label="‖W_i‖"))
    assert plot.min_font_px(fig, dpi=110) >= 10
    assert fig.get_figwidth() * 110 <= 1124  # fits the report's column: shown unscaled
    ax = fig.axes[0]
    corner = next(t for t in ax.texts if t.get_text().startswith("stress-1"))
    assert corner.get_position()[1] < 0  # under the axes, not over the points
    assert not ax.get_xticks().size  # layout coordinates carry no ticks
    b1 = [ScatterPanel("N = 3", rng.normal(size=(3, 2)), corner="stress-1 0.000")] * 6 + [
        ShepardPanel(np.full(3, 1.4), rng.random(3), np.full(3, 1.0))
    ] * 6
    fig2 = plot.plot_grid(b1, ncols=6)
    assert plot.min_font_px(fig2, dpi=110) >= 10
    heat = [
        HeatmapPanel(
            "r",
            rng.random((3, 4)),
            scale="m",
            annotate=True,
            xticklabels=["1", "0.5", "0.3", "0.1"],
            yticklabels=["3", "5", "10"],
            xlabel="p",
            ylabel="m",
        )
    ] * 4
    fig3 = plot.plot_grid(heat, ncols=4, scales={"m": ColorScale("viridis", label="recall")})
    assert plot.min_font_px(fig3, dpi=110) >= 10
    for f in (fig, fig2, fig3):
        _close(f)
    with pytest.raises(SupvizError, match="`scales` must name every heatmap panel's scale"):
        plot.plot_grid(heat, ncols=2)


def test_one_panel_is_drawn_the_same_alone_and_in_a_grid(fit):
    """plot_layout and plot_grid share their drawing code: the same points, colours and texts."""
    X, lay = fit
    colour = np.linspace(0, 1, 12)
    panel = ScatterPanel("MDS", lay.embedding, color=colour, corner="stress-1 0.100")
    fig = plot.plot_grid([panel, panel], ncols=2, color=ColorScale("viridis", 0.0, 1.0))
    ax = plot.plot_layout(lay, color=colour, corner="stress-1 0.100", vmin=0.0, vmax=1.0)
    g, a = fig.axes[0].collections[0], ax.collections[0]
    np.testing.assert_array_equal(g.get_offsets(), a.get_offsets())
    np.testing.assert_array_equal(g.get_facecolors(), a.get_facecolors())
    assert [t.get_text() for t in fig.axes[0].texts] == [t.get_text() for t in ax.texts]
    _close(fig)
    _close(ax.figure)
    # plotly: a single layout is the grid of one panel
    one = iplot.plot_layout(lay, color=colour, hover={"feature": np.arange(12)}, corner="stress-1 0.100")
    grid = iplot.plot_grid(
        [
            ScatterPanel(
                "MDS",
                lay.embedding,
                color=colour,
                hover={"feature": np.arange(12)},
                corner="stress-1 0.100",
                equal_axes=True,
            )
        ],
        ncols=1,
        panel_px=360,
    )
    assert json.loads(iplot.figure_json(one))["data"] == json.loads(iplot.figure_json(grid))["data"]


def test_interactive_traces_say_what_they_are(fit):
    X, lay = fit
    res = smacof(pairwise(np.eye(6)), metric_type="ratio")
    pairs = np.array([[0, 1], [2, 3]])
    panels = [
        ScatterPanel(
            "N = 6",
            res.embedding,
            corner="stress-1 0.300",
            lines=pairs,
            hover={"feature": np.arange(6), "represented": np.arange(6) < 3},
        ),
        ShepardPanel(*[getattr(res.shepard(), f) for f in ("dissimilarity", "distance", "disparity")]),
    ]
    spec = json.loads(iplot.figure_json(iplot.plot_grid(panels, ncols=2)))
    names = [t["name"] for t in spec["data"]]
    assert names == ["false neighbours", "points", "Shepard: pairs", "Shepard: disparities"]
    fn = spec["data"][0]
    assert fn["x"].count(None) == 2  # two segments
    hover = spec["data"][1]["hovertemplate"]
    assert "feature" in hover and "represented" in hover and spec["data"][1]["customdata"][3] == ["3", "no"]
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert any("stress-1 0.300" in t for t in titles)
    assert all(a["font"]["size"] >= 11 for a in spec["layout"]["annotations"])
    gram = json.loads(iplot.figure_json(iplot.plot_gram(np.eye(3))))
    assert gram["data"][0]["type"] == "heatmap" and gram["data"][0]["zmin"] == -1.0


def test_png_is_palette_quantised_and_smaller(tmp_path):
    rng = np.random.default_rng(2)
    fig = plot.plot_grid(
        [ScatterPanel(str(i), rng.normal(size=(60, 2)), color=rng.random(60)) for i in range(12)],
        ncols=6,
        color=ColorScale(label="c"),
    )
    small, full = plot.png_bytes(fig, dpi=80), plot.png_bytes(fig, dpi=80, quantize=False)
    assert small[:8] == b"\x89PNG\r\n\x1a\n" and len(small) < 0.7 * len(full)
    import io

    from PIL import Image

    with Image.open(io.BytesIO(small)) as a, Image.open(io.BytesIO(full)) as b:
        assert a.size == b.size and a.mode == "P"
    paths = plot.save_figure(fig, tmp_path / "g", formats=["png", "svg"], dpi=80)
    assert paths["png"].read_bytes() == small and b"<svg" in paths["svg"].read_bytes()[:400]
    _close(fig)


def test_png_from_the_canvas_is_the_quantised_png_of_savefig():
    """png_bytes quantises the canvas' pixels directly: the same bytes as quantising savefig's own PNG."""
    import io

    from PIL import Image

    rng = np.random.default_rng(5)
    fig = plot.plot_grid(
        [ScatterPanel(str(i), rng.normal(size=(40, 2)), color=rng.random(40)) for i in range(5)],
        ncols=3,
        color=ColorScale(label="c"),
        title="t",
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=73)  # an odd dpi: the canvas size is not a round number
    buf.seek(0)
    with Image.open(buf) as img:
        pal = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    want = io.BytesIO()
    pal.save(want, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    assert plot.png_bytes(fig, dpi=73) == want.getvalue()
    _close(fig)


def _e1_like():
    """Heatmaps with tick labels, colour bars, hatched undefined cells and a suptitle (the recovery figures)."""
    from matplotlib.figure import Figure

    rng = np.random.default_rng(11)
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    marks = ReasonMarks()
    for ax in fig.subplots(2, 3).flat:
        V = rng.random((5, 4))
        V[0, 0] = np.nan
        R = np.full(V.shape, "", dtype=object)
        R[0, 0] = "no represented feature"
        rows, cols = [f"m = {i}" for i in (3, 5, 10, 20, 40)], [f"{p:.2f}" for p in (1, 0.55, 0.17, 0.05)]
        im = reason_heatmap(
            ax, V, reasons=R, marks=marks, row_labels=rows, col_labels=cols, vmin=0, vmax=1, title="MMCS"
        )
        fig.colorbar(im, ax=ax, shrink=0.8, label="score")
    fig.suptitle("E1: recovery over (m, p)\n" + marks.footer(), fontsize=9)
    return fig


def _f3_like():
    """Shepard-style panels with axis labels, log ticks, a legend and a suptitle (the calibration figure)."""
    from matplotlib.figure import Figure

    rng = np.random.default_rng(12)
    fig = Figure(figsize=(8.0, 3.2), layout="constrained")
    for j, ax in enumerate(fig.subplots(1, 3)):
        d = rng.random(80)
        draw_shepard(ax, ShepardPanel(d, d + 0.1 * rng.random(80), title=f"width {2**j}"), ylabel=j == 0)
        ax.set_xscale("log")
        ax.legend(fontsize=7)
    fig.suptitle("F3: calibration", fontsize=9)
    return fig


def _a1():
    from supviz.toy.plots import antipodal_figure

    rng = np.random.default_rng(13)
    return antipodal_figure([rng.normal(size=(2, 1)) for _ in range(3)], ["p = 1", "p = 0.3", "p = 0.1"], title="A1")


def _svg_axes(path):
    """Each axes' rectangle in the SVG (its background patch), as figure fractions ``[x0, y0, x1, y1]`` from the
    top left."""
    import re

    text = path.read_text()
    w, h = (float(re.search(rf'{k}="([\d.]+)pt"', text).group(1)) for k in ("width", "height"))
    rects = []
    for d in re.findall(r'<g id="axes_\d+">\s*<g id="patch_\d+">\s*<path d="([^"]+)"', text):
        xy = np.array(re.findall(r"(-?[\d.]+) (-?[\d.]+)", d), dtype=float)
        rects.append([xy[:, 0].min() / w, xy[:, 1].min() / h, xy[:, 0].max() / w, xy[:, 1].max() / h])
    return np.array(rects)


def _top_left(fig):
    return np.array([[p.x0, 1 - p.y1, p.x1, 1 - p.y0] for p in (ax.get_position() for ax in fig.axes)])


#: How far the vector file's axes may move from the layout matplotlib gave it alone (text measured in the SVG
#: renderer at 72 dpi), as a fraction of the figure's width / height. Measured on every figure of a default run
#: (2-core KVM Intel Xeon model 207): at most 6.0e-3 (F3's calibration panels, 5 pt of 840); most 1e-3.
SVG_LAYOUT_TOL = 0.01


@pytest.mark.parametrize("make", [_e1_like, _f3_like, _a1], ids=["heatmaps", "shepard", "A1"])
def test_save_figure_lays_a_constrained_figure_out_once_for_both_files(make, tmp_path, monkeypatch):
    """The layout engine runs once, for the PNG (the pixels of savefig's own PNG, quantised); the SVG keeps that
    layout, within SVG_LAYOUT_TOL of the one savefig would have given the SVG alone; the engine is put back."""
    import io

    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from PIL import Image

    ref = make()  # the files as savefig writes each, each laid out for itself
    buf = io.BytesIO()
    ref.savefig(buf, format="png", dpi=110)
    png_layout = _top_left(ref)
    buf.seek(0)
    with Image.open(buf) as img:  # quantised as save_figure quantises
        pal = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        want_pixels = np.asarray(pal.convert("RGB"))
    ref.savefig(io.BytesIO(), format="svg", dpi=110)
    svg_alone = _top_left(ref)

    runs = []
    execute = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", lambda self, fig: runs.append(1) or execute(self, fig))
    fig = make()
    paths = plot.save_figure(fig, tmp_path / "f", formats=("png", "svg"), dpi=110)
    assert len(runs) == 1
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    with Image.open(paths["png"]) as img:
        assert np.array_equal(np.asarray(img.convert("RGB")), want_pixels)
    in_svg = _svg_axes(paths["svg"])
    assert in_svg.shape == svg_alone.shape == (len(fig.axes), 4)
    np.testing.assert_allclose(in_svg, png_layout, atol=1e-5)  # one layout in both files (6 decimals of a pt)
    np.testing.assert_allclose(in_svg, svg_alone, atol=SVG_LAYOUT_TOL)


def test_save_figure_of_a_grid_without_a_layout_engine_writes_the_svg_as_savefig_does(tmp_path):
    import io

    rng = np.random.default_rng(14)
    panels = [ScatterPanel(str(i), rng.normal(size=(30, 2)), color=rng.random(30), corner="T .9") for i in range(4)]
    ref = plot.plot_grid(panels, ncols=2, color=ColorScale(label="c"), title="grid")
    ref.savefig(io.BytesIO(), format="svg", dpi=110)
    fig = plot.plot_grid(panels, ncols=2, color=ColorScale(label="c"), title="grid")
    paths = plot.save_figure(fig, tmp_path / "g", dpi=110)
    assert fig.get_layout_engine() is None
    np.testing.assert_allclose(_svg_axes(paths["svg"]), _top_left(ref), atol=1e-5)
    _close(fig)
    _close(ref)


def test_vector_files_draw_dense_scatters_as_images_and_keep_the_rest_vector(tmp_path):
    from matplotlib.collections import Collection

    from supviz.plot.static import RASTER_ABOVE

    rng = np.random.default_rng(6)
    dense, sparse = RASTER_ABOVE + 50, 12
    fig = plot.plot_grid(
        [ScatterPanel("dense", rng.normal(size=(dense, 2))), ScatterPanel("sparse", rng.normal(size=(sparse, 2)))],
        ncols=2,
    )
    png_before = plot.png_bytes(fig, dpi=80)
    paths = plot.save_figure(fig, tmp_path / "r", formats=["png", "svg", "pdf"], dpi=80)
    svg = paths["svg"].read_text()
    assert svg.count("<image") == 1  # the dense scatter, as one image
    assert svg.count('xlink:href="#m') == sparse  # the small one keeps one vector marker per point
    assert paths["pdf"].read_bytes()[:5] == b"%PDF-"
    assert not any(c.get_rasterized() for c in fig.findobj(Collection))  # flags restored
    assert paths["png"].read_bytes() == png_before  # the PNG does not change
    _close(fig)


def test_panels_refuse_bad_shapes():
    with pytest.raises(SupvizError, match=r"`xy` must have shape \[N, 2\]"):
        ScatterPanel("x", np.zeros((4, 3)))
    with pytest.raises(SupvizError, match="`color` must have one value per point"):
        ScatterPanel("x", np.zeros((4, 2)), color=np.zeros(3))
    with pytest.raises(SupvizError, match="`lines` must index the panel's 4 points"):
        ScatterPanel("x", np.zeros((4, 2)), lines=[[0, 4]])
    with pytest.raises(SupvizError, match="one value per pair"):
        ShepardPanel(np.zeros(3), np.zeros(2))


def test_labels_under_panels_wrap_between_items_within_the_panel_width():
    from supviz.plot.static import wrap_items

    text = "P 0.96  SMACOF stress 0.043  T 0.91  C 0.88\nrepresented 57 of 60"
    out = wrap_items(text, 20)
    assert all(len(line) <= 20 for line in out.split("\n"))
    assert out.split("\n")[0] == "P 0.96"  # "P 0.96  SMACOF stress 0.043" is 27 > 20: broken between the items
    assert "SMACOF stress 0.043" in out.split("\n")  # an item is kept whole where it fits
    assert wrap_items("short  one", 40) == "short  one"


def test_points_named_by_on_top_are_drawn_last():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from supviz.plot.panels import ScatterPanel
    from supviz.plot.static import draw_scatter

    xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    colour = np.array([0.9, 0.1, 0.5])
    for on_top, last in (("low", 0.1), ("high", 0.9)):
        ax = Figure().subplots()
        sc = draw_scatter(ax, ScatterPanel("t", xy, color=colour, on_top=on_top))
        assert sc.get_array()[-1] == last
    with pytest.raises(SupvizError, match="on_top"):
        ScatterPanel("t", xy, color=colour, on_top="middle")


def test_interactive_notes_of_empty_panels_sit_on_their_own_panels():
    """The note of an empty panel is placed at the centre of that panel's axes (the first panel's included), in
    paper coordinates, so the equal-axes constraint of its neighbours cannot move or drop it."""
    rng = np.random.default_rng(0)
    panels = [ScatterPanel("3 : 1", None, note="first empty")]
    panels += [ScatterPanel(f"3 : {i}", rng.random((5, 2)), color=np.arange(5.0)) for i in range(5)]
    panels += [ScatterPanel("5 : 1", None, note="seventh empty")]
    panels += [ScatterPanel(f"5 : {i}", rng.random((5, 2)), color=np.arange(5.0)) for i in range(5)]
    fig = iplot.plot_grid(panels, ncols=6)
    notes = {a.text: a for a in fig.layout.annotations if "empty" in str(a.text)}
    assert set(notes) == {"first empty", "seventh empty"}
    for text, axis in (("first empty", ""), ("seventh empty", "7")):
        a, xd, yd = notes[text], fig.layout[f"xaxis{axis}"].domain, fig.layout[f"yaxis{axis}"].domain
        assert a.xref == "paper" and xd[0] < a.x < xd[1] and yd[0] < a.y < yd[1]
    assert fig.layout.yaxis.scaleanchor is None and fig.layout.yaxis2.scaleanchor == "x2"


def test_each_heatmap_scale_s_bar_lies_under_the_columns_it_colours():
    """D1: three columns of a measure and a last column of its change. Both bars stood right of the change column, the
    measure's farthest from its columns (review 6 item 6): each bar now lies under its own columns, in either order;
    a grid of one scale keeps its bar at the right."""
    rng = np.random.default_rng(0)
    panels = [HeatmapPanel(f"p{i}", rng.random((3, 3)), scale="change" if i % 4 == 3 else "measure") for i in range(8)]
    scales = {"measure": ColorScale("viridis", 0.0, 1.0, "recall"), "change": ColorScale("RdBu", label="change")}
    for order, labels in ((panels, ["recall", "change"]), (list(reversed(panels)), ["change", "recall"])):
        fig = plot.plot_grid(order, ncols=4, scales=scales)
        bars = sorted((ax for ax in fig.axes if ax.get_label() == "<colorbar>"), key=lambda ax: ax.get_position().x0)
        assert [ax.get_xlabel() for ax in bars] == labels
        cols = [ax.get_position() for ax in fig.axes[:4]]
        lowest = min(ax.get_position().y0 for ax in fig.axes if ax.get_label() != "<colorbar>")
        for ax in bars:
            pos = ax.get_position()
            assert pos.y1 < lowest and pos.width > pos.height
            under = [c for c in range(4) if pos.x0 - 1e-9 <= cols[c].x0 and cols[c].x1 <= pos.x1 + 1e-9]
            want = [c for c in range(4) if order[c].scale == ("measure" if ax.get_xlabel() == "recall" else "change")]
            assert under == want
    one = [HeatmapPanel(f"p{i}", rng.random((3, 3)), scale="measure") for i in range(4)]
    fig = plot.plot_grid(one, ncols=4, scales=scales)
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert bar.get_ylabel() == "recall" and bar.get_position().x0 > max(ax.get_position().x1 for ax in fig.axes[:4])


def test_interactive_grid_sets_each_panel_s_own_axes():
    """Over rows and every panel kind, each panel's axis settings land on the axes of its own cell (the axes are
    looked up by their number, row by row, not by a search over the grid)."""
    rng = np.random.default_rng(15)
    panels = [
        ScatterPanel("a", rng.normal(size=(10, 2))),
        HeatmapPanel("g", rng.normal(size=(3, 3)), xticklabels=list("abc")),
        ShepardPanel(rng.random(6), rng.random(6)),
        ScatterPanel("free", rng.normal(size=(10, 2)), equal_axes=False),
        ShepardPanel(rng.random(6), rng.random(6)),
        ScatterPanel("b", rng.normal(size=(10, 2))),
        HeatmapPanel("h", rng.normal(size=(3, 3))),
    ]
    fig = iplot.plot_grid(panels, ncols=3)
    lay = fig.layout
    for k in (1, 6):  # equal axes: each scatter's y axis anchored to its own x axis
        ref = "" if k == 1 else str(k)
        assert lay[f"yaxis{ref}"].scaleanchor == f"x{ref}" and lay[f"xaxis{ref}"].showticklabels is False
    assert lay.yaxis4.scaleanchor is None and lay.yaxis4.showticklabels is False
    assert lay.yaxis2.autorange == "reversed" and lay.xaxis2.showticklabels and lay.yaxis2.showticklabels is False
    assert lay.yaxis7.autorange == "reversed" and lay.xaxis7.showticklabels is False
    assert lay.xaxis3.title.text == lay.xaxis5.title.text == "dissimilarity"
    assert lay.yaxis3.title.text == "" and lay.yaxis5.title.text == ""  # neither in the first column
    assert all(lay[f"yaxis{k}"].autorange is None for k in (3, 4, 5, 6))
    # each trace on its panel's axes
    assert [t.xaxis for t in fig.data if t.type == "heatmap"] == ["x2", "x7"]
