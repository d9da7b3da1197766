"""Static figures drawn from synthetic arrays: panels, titles, colour bars, scales, files."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.figures import HeatmapPanel, ScatterPanel, ShepardPanel
from supviz.figures import static


def _panels(n_panels=6, n=12, seed=0):
    rng = np.random.default_rng(seed)
    return [
        ScatterPanel(f"{m} : 0.5", rng.normal(size=(n, 2)) * (1 + i), color=np.arange(n, dtype=float), corner=f"stress {0.1 * i:.3f}")
        for i, m in enumerate(range(n_panels))
    ]


def _data_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_scatter_grid_titles_corners_colorbar_and_equal_axes():
    panels = _panels()
    panels[2] = ScatterPanel("2 : 0.5", None, note="2 represented features (< 4)")
    fig = static.scatter_grid(panels, ncols=3, title="grid", color_label="importance rank")
    axes = _data_axes(fig)
    assert [ax.get_title() for ax in axes] == [p.title for p in panels]
    # a colour bar with the label, one shared scale
    cbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(cbars) == 1 and cbars[0].get_ylabel() == "importance rank"
    # equal axes for MDS panels, corner text present, the empty panel says why
    assert all(ax.get_aspect() == 1.0 for i, ax in enumerate(axes) if i != 2)
    assert "stress 0.100" in [t.get_text() for t in axes[1].texts]
    assert "2 represented features\n(< 4)" in [t.get_text() for t in axes[2].texts]
    assert fig._suptitle.get_text() == "grid"


def test_scatter_grid_without_colour_has_no_colorbar_and_free_aspect():
    panels = [ScatterPanel("a", np.random.default_rng(1).normal(size=(5, 2)))]
    fig = static.scatter_grid(panels, ncols=4, equal_axes=False)
    assert not [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert _data_axes(fig)[0].get_aspect() == "auto"


def test_scatter_panel_rejects_bad_shapes():
    with pytest.raises(SupvizError, match=r"`xy` must have shape \[N, 2\]"):
        ScatterPanel("x", np.zeros((4, 3)))
    with pytest.raises(SupvizError, match="`color` must have one value per point"):
        ScatterPanel("x", np.zeros((4, 2)), color=np.zeros(3))


def test_heatmap_grid_is_symmetric_and_centred_at_zero():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(10, 3))
    fig = static.heatmap_grid([HeatmapPanel("3 : 1", W @ W.T)] * 4, ncols=2, vmax=1.5, color_label="W Wᵀ")
    im = _data_axes(fig)[0].images[0]
    norm = im.norm
    assert norm.vmin == pytest.approx(-1.5) and norm.vmax == pytest.approx(1.5) and norm.vcenter == 0.0
    # the diverging map's midpoint is white-ish: 0 is neutral
    r, g, b, _ = im.cmap(norm(0.0))
    assert min(r, g, b) > 0.9


def test_layout_shepard_grid_has_configuration_and_shepard_rows():
    panels = _panels(3)
    rng = np.random.default_rng(3)
    shep = [ShepardPanel(np.full(66, np.sqrt(2)), rng.uniform(1, 2, 66), np.full(66, np.sqrt(2))) for _ in panels]
    fig = static.layout_shepard_grid(panels, shep, title="B1")
    axes = _data_axes(fig)
    assert len(axes) == 6
    assert [ax.get_xlabel() for ax in axes[3:]] == ["dissimilarity"] * 3
    with pytest.raises(SupvizError, match="must match `panels` one to one"):
        static.layout_shepard_grid(panels, shep[:2])


def test_background_figures_draw_the_given_values():
    W_dense = np.array([[1.0], [0.0]])
    W_sparse = np.array([[1.0], [-1.0]])
    fig = static.antipodal_figure([W_dense, W_sparse], [W_dense @ W_dense.T, W_sparse @ W_sparse.T], ["p = 1", "p = 0.02"])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "-1.00" in texts and "W1 = -1.00" in texts
    rng = np.random.default_rng(4)
    fig = static.superposition_sweep_figure([np.eye(5)] * 3, [rng.random(5)] * 3, [rng.random(5)] * 3, ["a", "b", "c"])
    assert len([ax for ax in fig.axes if ax.get_label() == "<colorbar>"]) == 2
    fig = static.geometry_figure(np.logspace(0, 3, 5), np.linspace(1, 0.4, 5), rng.random((5, 8)), size_note="n = 8, m = 2")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "n = 8, m = 2" in [t.get_text() for t in ax.texts]


def test_save_figure_writes_png_and_svg_with_dotted_stems(tmp_path):
    fig = static.scatter_grid(_panels(2), ncols=2)
    paths = static.save_figure(fig, tmp_path / "C2_geometric0.9", formats=["png", "svg"], dpi=60)
    assert paths["png"].name == "C2_geometric0.9.png"
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths["svg"].read_bytes()[:400]
