"""Pictures of trained toy models (matplotlib), composed from :mod:`supviz.plot`'s panels.

The figures of the paper's background (section A of the report) that are not grids of panels:
:func:`antipodal_figure` (two features in one dimension), :func:`superposition_sweep_figure` (the
sparsity sweep) and :func:`geometry_figure` (dimensions per feature). Every function returns a
:class:`matplotlib.figure.Figure` and draws only what it is given. Fonts follow
:data:`supviz.plot.MIN_FONT_PT`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from supviz.plot import MIN_FONT_PT
from supviz.plot.static import SUPTITLE_PT, TITLE_PT, draw_heatmap, gram_panel

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["antipodal_figure", "superposition_sweep_figure", "geometry_figure", "STICKY_FRACTIONS"]

STICKY_FRACTIONS = (
    (1.0, "1"),
    (3 / 4, "3/4"),
    (2 / 3, "2/3"),
    (1 / 2, "1/2"),
    (2 / 5, "2/5"),
    (3 / 8, "3/8"),
    (1 / 3, "1/3"),
)
_PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def label_heights(values: Sequence[float], *, gap: float) -> list[float]:
    """Heights for labels of ``values`` (data units) at least ``gap`` apart: from the highest down, each label stays
    at its value unless that is within ``gap`` of the label above it, then it goes ``gap`` below that one. Returned in
    the order of ``values``."""
    order = sorted(range(len(values)), key=lambda i: -float(values[i]))
    out = [0.0] * len(values)
    above = math.inf
    for i in order:
        out[i] = min(float(values[i]), above - gap)
        above = out[i]
    return out


def _new(width: float, height: float) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def antipodal_figure(weights: Sequence[np.ndarray], titles: Sequence[str], *, title: str = "") -> "Figure":
    """A1: for each probability, the features' weights on the hidden axis (arrows) above ``W Wᵀ``.

    ``weights[j]`` is ``[n, m]``; ``m == 1`` is drawn as arrows on a line, labelled ``W0 = +0.82``
    (labels stacked above the axis, off the arrows); ``W Wᵀ`` is :func:`supviz.plot.plot_gram`'s
    panel with its values written in and integer feature ticks.
    """
    import matplotlib as mpl

    ncols = len(weights)
    fig = _new(2.6 * ncols + 0.9, 4.6)
    axes = fig.subplots(2, ncols, squeeze=False, height_ratios=[1, 1.25])
    grams = [np.asarray(W, dtype=float) @ np.asarray(W, dtype=float).T for W in weights]
    vmax = max(1e-6, max(float(np.abs(g).max()) for g in grams))
    norm = mpl.colors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    for j, (W, t) in enumerate(zip(weights, titles)):
        ax = axes[0, j]
        W = np.asarray(W, dtype=float)
        lim = max(1.0, float(np.abs(W).max()) * 1.3)
        ax.axhline(0, color="0.6", linewidth=0.8)
        for i, w in enumerate(W[:, 0]):
            c = _PALETTE[i % len(_PALETTE)]
            ax.annotate("", xy=(w, 0), xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.8})
            ax.text(
                -lim * 0.95,
                0.55 - 0.22 * i,
                f"W{i} = {w:+.2f}",
                color=c,
                ha="left",
                va="center",
                fontsize=MIN_FONT_PT + 1,
            )
        ax.set_ylim(-0.35, 0.75)
        ax.set_yticks([])
        ax.set_xlim(-lim, lim)
        ax.set_xlabel("hidden dimension h", fontsize=MIN_FONT_PT + 0.5)
        ax.tick_params(labelsize=MIN_FONT_PT)
        ax.set_title(t, fontsize=TITLE_PT + 0.5)
        panel = gram_panel(W, title="W Wᵀ", annotate=True, ticks=True)
        draw_heatmap(axes[1, j], panel, norm=norm, cmap="RdBu_r")
        axes[1, j].set_xlabel("feature", fontsize=MIN_FONT_PT)
        axes[1, j].set_ylabel("feature", fontsize=MIN_FONT_PT)
    cb = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap="RdBu_r"), ax=axes[1, :].tolist(), shrink=0.85, pad=0.02)
    cb.set_label("W Wᵀ", fontsize=MIN_FONT_PT + 0.5)
    cb.ax.tick_params(labelsize=MIN_FONT_PT)
    if title:
        fig.suptitle(title, fontsize=SUPTITLE_PT)
    return fig


def superposition_sweep_figure(
    weights: Sequence[np.ndarray],
    norms: Sequence[np.ndarray],
    superposition: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    title: str = "",
) -> "Figure":
    """A2: per probability, ``W Wᵀ`` above a bar chart of ``‖W_i‖`` coloured by superposition.

    Superposition of feature i is ``Σ_{j≠i} (Ŵ_i · W_j)²`` (Elhage et al. 2022), clipped to [0, 1]
    for the colour (0: a dimension of its own; 1: fully shared). Feature ticks are integers.
    """
    import matplotlib as mpl

    ncols = len(weights)
    width = min(10.0, 1.35 * ncols + 1.6)
    fig = _new(width, 5.4)
    axes = fig.subplots(2, ncols, squeeze=False, height_ratios=[1, 1.5])
    grams = [np.asarray(W, dtype=float) @ np.asarray(W, dtype=float).T for W in weights]
    vmax = max(1e-6, max(float(np.abs(g).max()) for g in grams))
    gnorm = mpl.colors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    snorm = mpl.colors.Normalize(0.0, 1.0)
    cmap = mpl.colormaps["plasma"]
    for j, (W, nrm, sup, t) in enumerate(zip(weights, norms, superposition, titles)):
        draw_heatmap(axes[0, j], gram_panel(W, title=t), norm=gnorm, cmap="RdBu_r")
        ax = axes[1, j]
        idx = np.arange(len(nrm))
        ax.barh(idx, nrm, color=cmap(snorm(np.clip(sup, 0, 1))), height=0.85)
        ax.invert_yaxis()
        ax.set_xlim(0, max(1.05, float(np.max(nrm)) * 1.05))
        ax.set_yticks(idx[:: max(1, len(idx) // 5)])
        ax.yaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%d"))
        ax.tick_params(labelsize=MIN_FONT_PT, length=2, pad=1)
        ax.set_xlabel("‖W_i‖", fontsize=MIN_FONT_PT)
        if j == 0:
            ax.set_ylabel("feature i (most important on top)", fontsize=MIN_FONT_PT)
    cb = fig.colorbar(mpl.cm.ScalarMappable(norm=gnorm, cmap="RdBu_r"), ax=axes[0, :].tolist(), shrink=0.85, pad=0.01)
    cb.set_label("W Wᵀ", fontsize=MIN_FONT_PT + 0.5)
    cb.ax.tick_params(labelsize=MIN_FONT_PT)
    cb = fig.colorbar(mpl.cm.ScalarMappable(norm=snorm, cmap=cmap), ax=axes[1, :].tolist(), shrink=0.85, pad=0.01)
    cb.set_label("superposition Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)²", fontsize=MIN_FONT_PT + 0.5)
    cb.ax.tick_params(labelsize=MIN_FONT_PT)
    if title:
        fig.suptitle(title, fontsize=SUPTITLE_PT)
    return fig


def geometry_figure(
    inverse_p: np.ndarray,
    dims_per_feature: np.ndarray,
    feature_dims: np.ndarray,
    *,
    title: str = "",
    size_note: str = "",
) -> "Figure":
    """A3: dimensions per feature ``m / ‖W‖²_F`` against ``1/(1-S) = 1/p``, per-feature ``D_i`` scattered.

    Parameters
    ----------
    inverse_p : array [K]
        1/p (x axis, log scale).
    dims_per_feature : array [K]
        m / ‖W‖²_F per model.
    feature_dims : array [K, n]
        Feature dimensionalities D_i (NaN for features with no norm).
    size_note : str
        The configuration (n, m, steps), written under the plot.
    """
    fig = _new(7.0, 4.2)
    ax = fig.subplots()
    K, n = feature_dims.shape
    xs = np.repeat(np.asarray(inverse_p, dtype=float)[:, None], n, axis=1)
    ok = np.isfinite(feature_dims) & (feature_dims > 1e-3)
    ax.scatter(
        xs[ok], feature_dims[ok], s=6, alpha=0.35, color="tab:blue", linewidths=0, label="feature dimensionality Dᵢ"
    )
    ax.plot(
        inverse_p,
        dims_per_feature,
        color="black",
        linewidth=1.5,
        marker="o",
        markersize=3,
        label="dimensions per feature m/‖W‖²_F",
    )
    x_end = float(np.max(inverse_p))
    for frac, label, y in zip(*zip(*STICKY_FRACTIONS), label_heights([f for f, _ in STICKY_FRACTIONS], gap=0.045)):
        ax.axhline(frac, color="0.6", linewidth=0.6, linestyle="--")
        # 2/5, 3/8 and 1/3 lie 0.025-0.04 apart: each label is moved down to a label's height below the one above it,
        # with a short leader to its line where it moved
        if y != frac:
            ax.plot([x_end * 1.04, x_end * 1.11], [frac, y], color="0.6", linewidth=0.5, clip_on=False)
        ax.text(x_end * 1.12, y, label, va="center", fontsize=MIN_FONT_PT, color="0.3")
    ax.set_xscale("log")
    ax.set_xlabel("1 / (1 − S) = 1 / p", fontsize=MIN_FONT_PT + 1)
    ax.set_ylabel("dimensions per feature", fontsize=MIN_FONT_PT + 1)
    ax.set_ylim(0, 1.1)
    ax.tick_params(labelsize=MIN_FONT_PT)
    ax.legend(fontsize=MIN_FONT_PT, loc="upper right")
    if size_note:
        ax.set_title(size_note, fontsize=MIN_FONT_PT, color="0.3", loc="left")
    if title:
        fig.suptitle(title, fontsize=SUPTITLE_PT)
    return fig
