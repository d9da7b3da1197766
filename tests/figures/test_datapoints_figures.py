"""Figures of the data-point section: they draw what they are given and save atomically."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from supviz.datapoints import datapoint_cell, datapoint_grid
from supviz.errors import SupvizError
from supviz.figures import datapoints as figs


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
    return datapoint_grid(_Grid(specs, weights, [np.zeros(8)] * 4), n_points=60, methods=("mds",), k=5,
                          layout_spaces=("x", "x_rep", "h"),
                          random_state=0, n_jobs=1, progress=False)


def test_cell_figure_panels_and_false_lines(grid_result):
    import matplotlib.pyplot as plt

    cell = grid_result.cell("uniform", 2, 0.3)
    fig = figs.cell_figure(cell, spaces=("x", "x_rep", "h"))
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == [
        "MDS of inputs x", "MDS of x on represented features", "MDS of latent h = W\u1d40x"]
    # One line per false pair in the h panel, one scatter point per input.
    h_ax = axes[2]
    assert len(h_ax.collections[0].get_segments()) == len(cell.false_pairs[("h", "mds")])
    assert h_ax.collections[1].get_offsets().shape == (cell.n_points, 2)
    # The colour bar; under uniform importance the label is the strongest active feature.
    assert any("strongest active feature" in ax.get_ylabel() for ax in fig.axes)
    plt.close(fig)
    fig = figs.cell_figure(cell, color_by="n_active", show_false=False)
    assert any("number of active" in ax.get_ylabel() for ax in fig.axes)
    plt.close(fig)
    with pytest.raises(SupvizError, match="`color_by` must be one of"):
        figs.cell_figure(cell, color_by="colour")


def test_plotly_cell_has_hover(grid_result):
    fig = figs.cell_figure_plotly(grid_result.cells[0])
    assert len(fig.data) == 2 and "most important active feature" in fig.data[0].hovertemplate
    assert fig.data[0].customdata.shape == (60, 5)


def test_grid_and_heatmaps(grid_result, tmp_path):
    import matplotlib.pyplot as plt

    fig = figs.grid_figure(grid_result, importance="uniform", method="mds")
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert titles == ["2 : 0.3", "2 : 1", "4 : 0.3", "4 : 1"]
    plt.close(fig)
    feat = pd.DataFrame([{"importance": "uniform", "m": m, "p": p, "method": "mds", "knn_recall": 0.5}
                         for m in (2, 4) for p in (1.0, 0.3)])
    fig = figs.heatmap_figure(grid_result.table, metric="knn_recall", importance="uniform", feature_table=feat,
                              methods=("mds",))
    heads = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert heads[0] == "feature directions (rows of W)" and len(heads) == 4
    img = fig.axes[2].images[0].get_array()  # data-point x column: the same sample for every m
    assert np.allclose(img[0], img[1])
    files = figs.save_figure(fig, tmp_path / "hm")
    assert [f.name for f in files] == ["hm.png", "hm.svg"] and all(f.stat().st_size > 1000 for f in files)
    assert not list(tmp_path.glob(".*tmp"))
    plt.close(fig)
    fig = figs.equidistance_figure(grid_result.geometry)
    assert fig.axes[0].get_lines()
    plt.close(fig)
    with pytest.raises(SupvizError, match="`metric` must be a column"):
        figs.heatmap_figure(grid_result.table, metric="nope", importance="uniform")


def test_save_plotly(grid_result, tmp_path):
    out = figs.save_plotly(figs.cell_figure_plotly(grid_result.cells[0]), tmp_path / "c.html", include_plotlyjs=False)
    assert out.read_text().startswith("<div")
