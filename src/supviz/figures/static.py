"""Static figures (matplotlib): layout grids, heatmap grids, Shepard plots, the background figures.

Every function returns a :class:`matplotlib.figure.Figure` and draws only what it is given;
:func:`save_figure` writes it as PNG (+ SVG / PDF). matplotlib is imported lazily and always with
the non-interactive Agg canvas, so nothing here needs a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from supviz._io import atomic_path
from supviz.figures.panels import HeatmapPanel, ScatterPanel, ShepardPanel, grid_shape

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

PANEL_IN = 1.75  # inches per panel side
STICKY_FRACTIONS = ((1.0, "1"), (3 / 4, "3/4"), (2 / 3, "2/3"), (1 / 2, "1/2"), (2 / 5, "2/5"), (3 / 8, "3/8"), (1 / 3, "1/3"))


def _new_figure(width: float, height: float, *, layout: bool = True) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained" if layout else None)


def _grid_axes(fig, nrows: int, ncols: int, *, width: float, height: float, right_in: float, top_in: float):
    """A grid of axes with fixed margins (in inches): much faster to save than a constrained layout."""
    return fig.subplots(
        nrows, ncols, squeeze=False,
        gridspec_kw={
            "left": 0.32 / width, "right": 1 - right_in / width, "bottom": 0.28 / height, "top": 1 - top_in / height,
            "wspace": 0.3, "hspace": 0.42,
        },
    )


def _side_colorbar(fig, mappable, *, width: float, right_in: float, label: str, extend: str = "neither"):
    x = 1 - right_in / width + 0.18 / width
    cax = fig.add_axes((x, 0.2, 0.14 / width, 0.6), label="<colorbar>")
    cb = fig.colorbar(mappable, cax=cax, extend=extend)
    cb.set_label(label, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return cb


def _corner(ax, text: str) -> None:
    if text:
        ax.text(
            0.98, 0.02, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=6.5,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.75, "linewidth": 0},
        )


def _empty(ax, note: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    text = (note or "no data").replace(" (", "\n(")
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=6.5, color="0.4")


def scatter_grid(
    panels: Sequence[ScatterPanel],
    *,
    ncols: int,
    title: str = "",
    color_label: str = "",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    equal_axes: bool = True,
    point_size: float = 9.0,
) -> "Figure":
    """A grid of 2-D layouts, one panel each, with one shared colour bar.

    Parameters
    ----------
    panels
        The panels in reading order (row by row).
    ncols
        Panels per row.
    title
        Figure title.
    color_label
        Colour bar label; the colour bar is drawn when any panel has ``color`` and this is set.
    cmap, vmin, vmax
        Colour scale shared by every panel (defaults: the range of all colours).
    equal_axes
        One unit is the same length on both axes (MDS panels: distances are the point).
    point_size
        Marker area in points^2.
    """
    import matplotlib as mpl

    nrows, ncols = grid_shape(len(panels), ncols)
    right_in = 1.0 if color_label else 0.15
    top_in = 0.55 if title else 0.3
    width, height = PANEL_IN * ncols + right_in + 0.3, PANEL_IN * nrows + top_in + 0.3
    fig = _new_figure(width, height, layout=False)
    axes = _grid_axes(fig, nrows, ncols, width=width, height=height, right_in=right_in, top_in=top_in).ravel()
    colors = [p.color for p in panels if p.xy is not None and p.color is not None]
    if colors:
        allc = np.concatenate(colors)
        vmin = float(np.min(allc)) if vmin is None else vmin
        vmax = float(np.max(allc)) if vmax is None else vmax
    norm = mpl.colors.Normalize(vmin=vmin if vmin is not None else 0.0, vmax=vmax if vmax is not None else 1.0)
    for ax, panel in zip(axes, panels):
        ax.set_title(panel.title, fontsize=8, pad=2)
        if panel.xy is None or len(panel.xy) == 0:
            _empty(ax, panel.note)
            continue
        xy = panel.xy
        kwargs = {"s": point_size, "linewidths": 0.25, "edgecolors": "0.35"}
        if panel.color is not None:
            # the least important points first, so the important (dark) ones sit on top
            order = np.argsort(-panel.color, kind="stable")
            ax.scatter(xy[order, 0], xy[order, 1], c=panel.color[order], cmap=cmap, norm=norm, **kwargs)
        else:
            ax.scatter(xy[:, 0], xy[:, 1], color="tab:blue", **kwargs)
        if equal_axes:
            ax.set_aspect("equal", adjustable="datalim")
        ax.tick_params(labelsize=5, length=2, pad=1)
        ax.margins(0.12)
        _corner(ax, panel.corner)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if colors and color_label:
        cb = _side_colorbar(fig, mpl.cm.ScalarMappable(norm=norm, cmap=cmap), width=width, right_in=right_in, label=color_label)
        if all(np.allclose(c, np.round(c)) for c in colors):  # ranks / indices: integer ticks
            cb.locator = mpl.ticker.MaxNLocator(integer=True)
            cb.update_ticks()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def heatmap_grid(
    panels: Sequence[HeatmapPanel],
    *,
    ncols: int,
    vmax: float,
    title: str = "",
    color_label: str = "",
    cmap: str = "RdBu_r",
) -> "Figure":
    """A grid of matrices on one symmetric diverging scale ``[-vmax, vmax]`` centred at 0."""
    import matplotlib as mpl

    nrows, ncols = grid_shape(len(panels), ncols)
    right_in, top_in = 1.0, (0.55 if title else 0.3)
    width, height = PANEL_IN * ncols + right_in + 0.3, PANEL_IN * nrows + top_in + 0.3
    fig = _new_figure(width, height, layout=False)
    axes = _grid_axes(fig, nrows, ncols, width=width, height=height, right_in=right_in, top_in=top_in).ravel()
    norm = mpl.colors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    for ax, panel in zip(axes, panels):
        ax.set_title(panel.title, fontsize=8, pad=2)
        if panel.matrix is None:
            _empty(ax, panel.note)
            continue
        ax.imshow(panel.matrix, cmap=cmap, norm=norm, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        _corner(ax, panel.corner)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    _side_colorbar(fig, mpl.cm.ScalarMappable(norm=norm, cmap=cmap), width=width, right_in=right_in, label=color_label,
                   extend="both")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def layout_shepard_grid(
    panels: Sequence[ScatterPanel], shepards: Sequence[ShepardPanel], *, title: str = ""
) -> "Figure":
    """B1: each configuration above its Shepard plot (dissimilarity vs. distance, disparities as a line)."""
    if len(panels) != len(shepards):
        from supviz.errors import SupvizError

        raise SupvizError(f"`shepards` must match `panels` one to one; got {len(shepards)} and {len(panels)}.")
    ncols = len(panels)
    fig = _new_figure(PANEL_IN * ncols + 0.2, PANEL_IN * 2 + 0.6)
    axes = fig.subplots(2, ncols, squeeze=False)
    for j, (panel, sh) in enumerate(zip(panels, shepards)):
        ax = axes[0, j]
        ax.set_title(panel.title, fontsize=8, pad=2)
        if panel.xy is None:
            _empty(ax, panel.note)
        else:
            ax.scatter(panel.xy[:, 0], panel.xy[:, 1], s=10, color="tab:blue", linewidths=0.3, edgecolors="0.15")
            ax.set_aspect("equal", adjustable="datalim")
            ax.margins(0.12)
            ax.tick_params(labelsize=5, length=2, pad=1)
        _corner(ax, panel.corner)
        ax = axes[1, j]
        d = np.asarray(sh.dissimilarity, dtype=float)
        dist = np.asarray(sh.distance, dtype=float)
        # diag(N) has one dissimilarity value: spread x a little so the strip of distances shows
        span = float(np.max(d)) if d.size else 1.0
        jitter = np.random.default_rng(0).uniform(-0.015, 0.015, size=d.shape) * span if np.ptp(d) < 1e-9 else 0.0
        ax.scatter(d + jitter, dist, s=3, alpha=0.35, color="0.2", linewidths=0)
        top = float(np.max(dist)) if dist.size else 1.0
        if sh.disparity is not None:
            dh = np.asarray(sh.disparity, dtype=float)
            order = np.argsort(d, kind="stable")
            if np.ptp(d) < 1e-9:
                ax.hlines(float(np.mean(dh)), span * 0.9, span * 1.1, color="tab:red", linewidth=1.5)
            else:
                ax.plot(d[order], dh[order], color="tab:red", linewidth=1.2)
            top = max(top, float(np.max(dh)))
        ax.set_xlim(0, span * 1.2)
        ax.set_ylim(0, top * 1.15)
        ax.set_xlabel("dissimilarity", fontsize=6)
        if j == 0:
            ax.set_ylabel("configuration distance", fontsize=6)
        ax.tick_params(labelsize=5, length=2, pad=1)
        ax.set_title("Shepard", fontsize=7, pad=2)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def antipodal_figure(
    weights: Sequence[np.ndarray], grams: Sequence[np.ndarray], titles: Sequence[str], *, title: str = ""
) -> "Figure":
    """A1: for each probability, the features' positions on the hidden axis (W) and ``W W^T``.

    ``weights[j]`` is ``[n, m]`` with ``m == 1`` drawn as points on a line (m > 1: the first two
    hidden dimensions as arrows); ``grams[j]`` is ``[n, n]`` drawn with its values written in.
    """
    import matplotlib as mpl

    ncols = len(weights)
    fig = _new_figure(2.1 * ncols + 0.8, 4.2)
    axes = fig.subplots(2, ncols, squeeze=False)
    vmax = max(1e-6, max(float(np.abs(g).max()) for g in grams))
    norm = mpl.colors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for j, (W, G, t) in enumerate(zip(weights, grams, titles)):
        ax = axes[0, j]
        W = np.asarray(W, dtype=float)
        lim = max(1.0, float(np.abs(W).max()) * 1.25)
        if W.shape[1] == 1:
            ax.axhline(0, color="0.6", linewidth=0.8)
            for i, w in enumerate(W[:, 0]):
                c = palette[i % len(palette)]
                ax.annotate("", xy=(w, 0), xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.6})
                ax.text(w, 0.12 + 0.14 * i, f"W{i} = {w:+.2f}", color=c, ha="center", fontsize=7)
            ax.set_ylim(-0.5, 0.6)
            ax.set_yticks([])
            ax.set_xlabel("hidden dimension h", fontsize=7)
        else:
            for i, w in enumerate(W):
                c = palette[i % len(palette)]
                ax.annotate("", xy=(w[0], w[1]), xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.4})
            ax.set_aspect("equal")
            ax.set_ylim(-lim, lim)
        ax.set_xlim(-lim, lim)
        ax.tick_params(labelsize=6)
        ax.set_title(t, fontsize=8)
        ax = axes[1, j]
        ax.imshow(G, cmap="RdBu_r", norm=norm)
        for (a, b), v in np.ndenumerate(G):
            ax.text(b, a, f"{v:.2f}", ha="center", va="center", fontsize=7, color="black" if abs(v) < 0.6 * vmax else "white")
        ax.set_xticks(range(G.shape[1]))
        ax.set_yticks(range(G.shape[0]))
        ax.tick_params(labelsize=6)
        ax.set_title("W Wᵀ", fontsize=8)
    sm = mpl.cm.ScalarMappable(norm=norm, cmap="RdBu_r")
    cb = fig.colorbar(sm, ax=axes[1, :].tolist(), shrink=0.8, pad=0.02)
    cb.ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def superposition_sweep_figure(
    grams: Sequence[np.ndarray],
    norms: Sequence[np.ndarray],
    superposition: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    title: str = "",
) -> "Figure":
    """A2: per probability, ``W W^T`` above a bar chart of ``||W_i||`` coloured by superposition.

    Superposition of feature i is ``sum_{j != i} (W_i_hat . W_j)^2``, clipped to [0, 1] for the
    colour (0: the feature has a dimension to itself; 1: it shares one fully).
    """
    import matplotlib as mpl

    ncols = len(grams)
    fig = _new_figure(PANEL_IN * ncols + 0.9, PANEL_IN * 2 + 0.9)
    axes = fig.subplots(2, ncols, squeeze=False)
    vmax = max(1e-6, max(float(np.abs(g).max()) for g in grams))
    gnorm = mpl.colors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    snorm = mpl.colors.Normalize(0.0, 1.0)
    cmap = mpl.colormaps["plasma"]
    for j, (G, nrm, sup, t) in enumerate(zip(grams, norms, superposition, titles)):
        ax = axes[0, j]
        ax.imshow(G, cmap="RdBu_r", norm=gnorm, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(t, fontsize=8, pad=2)
        ax = axes[1, j]
        idx = np.arange(len(nrm))
        ax.barh(idx, nrm, color=cmap(snorm(np.clip(sup, 0, 1))), height=0.85)
        ax.invert_yaxis()
        ax.set_xlim(0, max(1.05, float(np.max(nrm)) * 1.05))
        ax.tick_params(labelsize=5, length=2, pad=1)
        ax.set_xlabel("‖W_i‖", fontsize=6)
        if j == 0:
            ax.set_ylabel("feature i (importance ↓)", fontsize=6)
    cb = fig.colorbar(mpl.cm.ScalarMappable(norm=gnorm, cmap="RdBu_r"), ax=axes[0, :].tolist(), shrink=0.8, pad=0.01)
    cb.set_label("W Wᵀ", fontsize=7)
    cb.ax.tick_params(labelsize=6)
    cb = fig.colorbar(mpl.cm.ScalarMappable(norm=snorm, cmap=cmap), ax=axes[1, :].tolist(), shrink=0.8, pad=0.01)
    cb.set_label("superposition Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)²", fontsize=7)
    cb.ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def geometry_figure(
    inverse_p: np.ndarray,
    dims_per_feature: np.ndarray,
    feature_dims: np.ndarray,
    *,
    title: str = "",
    size_note: str = "",
) -> "Figure":
    """A3: dimensions per feature ``m / ||W||_F^2`` against ``1/(1-S) = 1/p``, per-feature ``D_i`` scattered.

    Parameters
    ----------
    inverse_p
        ``[K]`` values of 1/p (x axis, log scale).
    dims_per_feature
        ``[K]`` m / ||W||_F^2 per model.
    feature_dims
        ``[K, n]`` feature dimensionalities D_i (NaN for features with no norm).
    size_note
        The configuration (n, m, steps), printed on the figure.
    """
    fig = _new_figure(7.0, 4.2)
    ax = fig.subplots()
    K, n = feature_dims.shape
    xs = np.repeat(np.asarray(inverse_p, dtype=float)[:, None], n, axis=1)
    ok = np.isfinite(feature_dims) & (feature_dims > 1e-3)
    ax.scatter(xs[ok], feature_dims[ok], s=5, alpha=0.35, color="tab:blue", linewidths=0, label="feature dimensionality Dᵢ")
    ax.plot(inverse_p, dims_per_feature, color="black", linewidth=1.5, marker="o", markersize=3, label="dimensions per feature m/‖W‖²_F")
    for frac, label in STICKY_FRACTIONS:
        ax.axhline(frac, color="0.6", linewidth=0.6, linestyle="--")
        ax.text(float(np.max(inverse_p)) * 1.08, frac, label, va="center", fontsize=7, color="0.35")
    ax.set_xscale("log")
    ax.set_xlabel("1 / (1 − S) = 1 / p", fontsize=8)
    ax.set_ylabel("dimensions per feature", fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper right")
    if size_note:
        ax.text(0.01, 0.02, size_note, transform=ax.transAxes, fontsize=7, color="0.3")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def save_figure(fig: "Figure", stem: str | Path, *, formats: Sequence[str] = ("png", "svg"), dpi: int = 110) -> dict[str, Path]:
    """Write ``fig`` as ``<stem>.<fmt>`` for each format, atomically; returns format -> path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out: dict[str, Path] = {}
    stem = Path(stem)
    for fmt in formats:
        path = stem.parent / f"{stem.name}.{fmt}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
        out[fmt] = path
    return out
