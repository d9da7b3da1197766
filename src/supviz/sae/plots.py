"""Figures of SAE recovery: score heatmaps (matplotlib; saved with :func:`supviz.plot.save_figure`).

:func:`score_heatmap` draws one score over a grid (rows x columns, every cell annotated; NaN
cells blank and hatched, never coloured as a value); :func:`toy_experiment_figure` puts MMCS
and the dead fraction of Sharkey et al.'s toy experiment side by side with the problem size in
the title.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def score_heatmap(
    values: np.ndarray,
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    ax: "Axes | None" = None,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    vmin: float = 0.0,
    vmax: float = 1.0,
    cmap: str = "viridis",
    fmt: str = "{:.2f}",
) -> "Axes":
    """A heatmap of ``values [rows, cols]`` with every cell's value written in it (row 0 at the bottom).

    NaN cells (undefined scores) are left white with a hatch and the text "n/a"
    (:func:`supviz.plot.static.reason_heatmap`).
    """
    from matplotlib.figure import Figure

    from supviz.plot.static import reason_heatmap

    V = np.asarray(values, dtype=np.float64)
    if ax is None:
        ax = Figure(figsize=(1.0 + 0.6 * V.shape[1], 1.0 + 0.45 * V.shape[0]), layout="constrained").subplots()
    im = reason_heatmap(
        ax,
        V,
        row_labels=row_labels,
        col_labels=col_labels,
        vmin=vmin,
        vmax=vmax,
        cmap=cmap,
        fmt=fmt,
        title=title,
        origin="lower",
    )
    for label in ax.get_xticklabels():  # rotated, ending under their column
        label.set_rotation(60)
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    bar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    bar.ax.tick_params(labelsize=7)
    return ax


def toy_experiment_figure(result: Any) -> "Figure":
    """MMCS and dead-latent fraction over dictionary ratio x L1 coefficient, side by side."""
    from matplotlib.figure import Figure

    # wide enough for the title line at 9 pt (about 0.075 in a character)
    fig = Figure(
        figsize=(max(2.0 + 1.1 * len(result.l1_coefficients), 8.0), 1.8 + 0.5 * len(result.ratios)),
        layout="constrained",
    )
    axes = fig.subplots(1, 2)
    cols = [f"{v:.3g}" for v in result.l1_coefficients]
    rows = [f"{r:g}x ({s})" for r, s in zip(result.ratios, result.d_sae)]
    score_heatmap(
        result.mmcs,
        row_labels=rows,
        col_labels=cols,
        ax=axes[0],
        title="MMCS (mean max cosine similarity)",
        xlabel="L1 coefficient",
        ylabel="dictionary ratio (latents)",
        fmt="{:.3f}",
    )
    score_heatmap(
        result.dead_fraction,
        row_labels=rows,
        col_labels=cols,
        ax=axes[1],
        title="fraction of dead latents",
        xlabel="L1 coefficient",
        ylabel="",
        cmap="magma",
    )
    info = result.info
    fig.suptitle(
        f"Sharkey et al. (2022) toy experiment: {result.n_features} features in {result.d} dims, "
        f"{info.get('architecture')}, {info.get('steps')} steps x batch {info.get('batch_size')}, "
        f"true L0 {result.true_l0:.2f}",
        fontsize=9,
    )
    return fig
