"""Figures of SAE recovery: score heatmaps (matplotlib), written as PNG and SVG atomically.

:func:`score_heatmap` draws one score over a grid (rows x columns, every cell annotated; NaN
cells blank and hatched, never coloured as a value); :func:`toy_experiment_figure` puts MMCS
and the dead fraction of Sharkey et al.'s toy experiment side by side with the problem size in
the title.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
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
    """A heatmap of ``values [rows, cols]`` with every cell's value written in it.

    NaN cells (undefined scores) are left white with a hatch and the text "n/a".
    """
    import matplotlib.pyplot as plt

    V = np.asarray(values, dtype=np.float64)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(1.0 + 0.6 * V.shape[1], 1.0 + 0.45 * V.shape[0]))
    masked = np.ma.masked_invalid(V)
    cm = plt.get_cmap(cmap).with_extremes(bad="white")
    im = ax.imshow(masked, cmap=cm, vmin=vmin, vmax=vmax, aspect="auto", origin="lower")
    ax.set_xticks(range(V.shape[1]), labels=list(col_labels), rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(V.shape[0]), labels=list(row_labels), fontsize=7)
    for i in range(V.shape[0]):
        for j in range(V.shape[1]):
            v = V[i, j]
            if np.isnan(v):
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.7", lw=0))
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=6, color="0.4")
            else:
                frac = (v - vmin) / (vmax - vmin) if vmax > vmin else 0.5
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=6,
                        color="black" if frac > 0.6 else "white")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    return ax


def toy_experiment_figure(result: Any) -> "Figure":
    """MMCS and dead-latent fraction over dictionary ratio x L1 coefficient, side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(2.0 + 1.1 * len(result.l1_coefficients), 1.8 + 0.5 * len(result.ratios)),
                             layout="constrained")
    cols = [f"{v:.3g}" for v in result.l1_coefficients]
    rows = [f"{r:g}x ({s})" for r, s in zip(result.ratios, result.d_sae)]
    score_heatmap(result.mmcs, row_labels=rows, col_labels=cols, ax=axes[0], title="MMCS (mean max cosine similarity)",
                  xlabel="L1 coefficient", ylabel="dictionary ratio (latents)", fmt="{:.3f}")
    score_heatmap(result.dead_fraction, row_labels=rows, col_labels=cols, ax=axes[1], title="fraction of dead latents",
                  xlabel="L1 coefficient", ylabel="", cmap="magma")
    info = result.info
    fig.suptitle(
        f"Sharkey et al. (2022) toy experiment: {result.n_features} features in {result.d} dims, "
        f"{info.get('architecture')}, {info.get('steps')} steps x batch {info.get('batch_size')}, "
        f"true L0 {result.true_l0:.2f}",
        fontsize=9,
    )
    return fig


def save_figure(fig: "Figure", stem: str | os.PathLike[str], *, formats: Sequence[str] = ("png", "svg"),
                dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``<stem>.<fmt>`` for each format, each file written atomically; close it."""
    import matplotlib.pyplot as plt

    from supviz.core.io import atomic_path

    base = Path(stem)
    out = []
    try:
        for fmt in formats:
            dest = base.with_name(base.name + f".{fmt}")
            with atomic_path(dest) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi)
            out.append(dest)
    finally:
        plt.close(fig)
    return out
