"""Figures of the data-point section: pictures of ``x`` and ``h = W^T x``, and heatmaps of distortion.

- :func:`cell_figure` / :func:`cell_figure_plotly`: one cell, spaces side by side (columns) for each
  method (rows), points coloured by a label read from ``x``, false-neighbour pairs as faint lines,
  the measures in each panel's corner.
- :func:`grid_figure`: the study's grid layout (rows m, columns p, panels titled "m : p") of the
  data-point pictures of one space and method.
- :func:`heatmap_figure`: for one measure, heatmaps over (m, p) per method: the feature-direction
  pictures of the original study beside the data-point pictures (and the part of the loss due to
  superposition), on one colour scale.
- :func:`equidistance_figure`: the spread of the represented features' pairwise distances per
  cell against the Gaussian reference (why the ring).
- :func:`save_figure`: PNG + SVG, each written atomically.

Everything returns a Figure; nothing is shown or saved unless asked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz._io import atomic_path, atomic_write_text
from supviz._validation import check_choice
from supviz.errors import SupvizError

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.figure
    import pandas as pd
    import plotly.graph_objects as go

    from supviz.datapoints.experiment import DatapointCellResult, DatapointGridResult

logger = logging.getLogger(__name__)

__all__ = [
    "COLOR_BY",
    "cell_figure",
    "cell_figure_plotly",
    "grid_figure",
    "heatmap_figure",
    "equidistance_figure",
    "save_figure",
    "save_plotly",
]

COLOR_BY = ("top_rank", "top_feature", "n_active")
_SPACE_TITLE = {
    "x": "inputs x",
    "x_rep": "x on represented features",
    "h": "latent h = W\u1d40x",
    "xhat": "output x' = ReLU(Wh+b)",
}
_METHOD_TITLE = {"mds": "MDS", "umap": "UMAP", "tsne": "t-SNE", "exact": "exact"}
_METRIC_TITLE = {
    "knn_recall": "k-NN recall",
    "trustworthiness": "trustworthiness",
    "continuity": "continuity",
    "shepard_rho": "Shepard \u03c1",
    "false_neighbour_rate": "false-neighbour rate",
    "stress1_ratio": "stress-1",
    "shepard_corr": "Shepard \u03c1",
}
_DIFFS = {"superposition": ("h", "x_rep"), "total": ("h", "x"), "dropped": ("x_rep", "x")}
_CORNER = (("knn_recall", "R"), ("trustworthiness", "T"), ("continuity", "C"), ("stress1_ratio", "S"), ("shepard_rho", "\u03c1"),
           ("false_neighbour_rate", "FN"))


def _cell_panels(cell: Any, methods: Sequence[str] | None, spaces: Sequence[str]) -> tuple[list[str], list[str]]:
    """The (methods, spaces) of ``cell`` to draw: the requested ones that have layouts."""
    if methods is None:
        methods = [m for m in ("mds", "umap", "tsne") if any(k[1] == m for k in cell.layouts)]
    methods = list(methods)
    spaces = [s for s in spaces if any(k[0] == s for k in cell.layouts)]
    if not methods or not spaces:
        raise SupvizError("`cell` has no layouts for the requested methods and spaces.")
    return methods, spaces


def _label_values(cell: DatapointCellResult, color_by: str) -> tuple[np.ndarray, str, str]:
    """Values, colour-bar label and colour map for a label name."""
    check_choice("color_by", color_by, COLOR_BY)
    lab = cell.labels
    if color_by == "n_active":
        return lab.n_active.astype(float), "number of active features", "plasma"
    if color_by == "top_feature" or cell.uniform_importance:
        what = "strongest active feature" if cell.uniform_importance else "most important active feature"
        return lab.top_feature.astype(float), f"index of the {what}", "viridis"
    return lab.top_rank.astype(float), "importance rank of the most important active feature (0 = most)", "viridis"


def _corner_text(vals: dict[str, float]) -> str:
    return "\n".join(f"{short} {vals[name]:.2f}" for name, short in _CORNER if name in vals and np.isfinite(vals[name]))


def _order_points(values: np.ndarray) -> np.ndarray:
    """Draw order: least important (largest value) first so the important points sit on top."""
    return np.argsort(-values, kind="stable")


def cell_figure(
    cell: DatapointCellResult,
    *,
    methods: Sequence[str] | None = None,
    spaces: Sequence[str] = ("x", "h"),
    color_by: str = "top_rank",
    show_false: bool = True,
    max_false_lines: int = 3000,
    title: str | None = None,
    panel_size: float = 3.2,
    point_size: float | None = None,
) -> matplotlib.figure.Figure:
    """Side-by-side pictures of one cell's spaces, one row per method.

    Parameters
    ----------
    cell : DatapointCellResult
    methods : sequence of str, optional
        Rows; every method the cell has by default.
    spaces : sequence of str, default ("x", "h")
        Columns (any of "x", "x_rep", "h", "xhat" that the cell has).
    color_by : {"top_rank", "top_feature", "n_active"}
        The label that colours the points (a shared colour bar says which). Under uniform
        importance ``top_rank`` has no meaning and the index of the strongest active feature is
        shown instead (the colour bar says so).
    show_false : bool, default True
        Draw the false-neighbour pairs of each picture as faint red lines.
    max_false_lines : int
        At most this many pairs drawn per panel (an even subsample; the count in the corner is
        the full one).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    methods, spaces = _cell_panels(cell, methods, spaces)
    values, cbar_label, cmap = _label_values(cell, color_by)
    order = _order_points(values)
    vmin, vmax = float(np.nanmin(values)), float(np.nanmax(values))
    size = point_size if point_size is not None else float(np.clip(3000.0 / max(cell.n_points, 1), 1.0, 12.0))
    fig, axes = plt.subplots(len(methods), len(spaces), figsize=(panel_size * len(spaces) + 1.2,
                                                                 panel_size * len(methods) + 0.6),
                             squeeze=False, layout="constrained")
    sc = None
    for r, method in enumerate(methods):
        for c, space in enumerate(spaces):
            ax = axes[r, c]
            layout = cell.layouts.get((space, method))
            if layout is None:
                ax.set_axis_off()
                ax.text(0.5, 0.5, "not computed", ha="center", va="center", transform=ax.transAxes)
                continue
            Y = np.asarray(layout.embedding)
            pairs = cell.false_pairs.get((space, method))
            if show_false and pairs is not None and len(pairs):
                pick = pairs if len(pairs) <= max_false_lines else pairs[
                    np.linspace(0, len(pairs) - 1, max_false_lines).astype(int)]
                segs = np.stack([Y[pick[:, 0]], Y[pick[:, 1]]], axis=1)
                ax.add_collection(LineCollection(segs, colors="tab:red", linewidths=0.4, alpha=0.15, zorder=1))
            sc = ax.scatter(Y[order, 0], Y[order, 1], c=values[order], cmap=cmap, vmin=vmin, vmax=vmax,
                            s=size, linewidths=0, zorder=2)
            if method == "mds":
                ax.set_aspect("equal", adjustable="datalim")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{_METHOD_TITLE[method]} of {_SPACE_TITLE.get(space, space)}", fontsize=9)
            vals = dict(cell.metrics.get((space, method), {}))
            if pairs is not None:
                vals["false_neighbour_pairs"] = float(len(pairs))
            ax.text(0.02, 0.98, _corner_text(vals), transform=ax.transAxes, ha="left", va="top", fontsize=7,
                    family="monospace", bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0, "pad": 1.5})
    if sc is not None:
        cb = fig.colorbar(sc, ax=axes, shrink=0.8, pad=0.01)
        cb.set_label(cbar_label, fontsize=8)
    head = title or (f"data points: m = {cell.h.shape[1]}, p = {cell.probability:.3g}, {cell.n_points} points "
                     f"({cell.n_dropped} all-zero inputs dropped), k = {cell.k}")
    fig.suptitle(head + ("; red lines: false neighbours" if show_false else ""), fontsize=10)
    return fig


def cell_figure_plotly(
    cell: DatapointCellResult,
    *,
    methods: Sequence[str] | None = None,
    spaces: Sequence[str] = ("x", "h"),
    color_by: str = "top_rank",
    title: str | None = None,
) -> go.Figure:
    """Interactive version of :func:`cell_figure`: hovering a point gives its index and labels.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    methods, spaces = _cell_panels(cell, methods, spaces)
    values, cbar_label, cmap = _label_values(cell, color_by)
    lab = cell.labels
    custom = np.c_[np.arange(cell.n_points), lab.top_feature, lab.top_rank, lab.n_active, lab.top_value]
    hover = ("point %{customdata[0]}<br>most important active feature %{customdata[1]} (rank %{customdata[2]})"
             "<br>active features %{customdata[3]}<br>its value %{customdata[4]:.2f}<extra></extra>")
    titles = []
    for method in methods:
        for space in spaces:
            vals = cell.metrics.get((space, method), {})
            extra = ", ".join(f"{s}={vals[n]:.2f}" for n, s in _CORNER[:2] if n in vals)
            titles.append(f"{_METHOD_TITLE[method]} of {_SPACE_TITLE.get(space, space)} ({extra})")
    fig = make_subplots(rows=len(methods), cols=len(spaces), subplot_titles=titles,
                        horizontal_spacing=0.04, vertical_spacing=0.08)
    first = True
    for r, method in enumerate(methods, start=1):
        for c, space in enumerate(spaces, start=1):
            layout = cell.layouts.get((space, method))
            if layout is None:
                continue
            Y = np.asarray(layout.embedding)
            fig.add_trace(
                go.Scattergl(
                    x=Y[:, 0], y=Y[:, 1], mode="markers", customdata=custom, hovertemplate=hover,
                    marker={"color": values, "colorscale": "Viridis" if cmap == "viridis" else "Plasma",
                            "size": 4, "cmin": float(np.nanmin(values)), "cmax": float(np.nanmax(values)),
                            "showscale": first, "colorbar": {"title": {"text": cbar_label, "side": "right"}}},
                    showlegend=False,
                ),
                row=r, col=c,
            )
            first = False
            fig.update_xaxes(showticklabels=False, row=r, col=c)
            fig.update_yaxes(showticklabels=False, row=r, col=c)
            if method == "mds":
                idx = (r - 1) * len(spaces) + c
                fig.update_yaxes(scaleanchor=f"x{idx if idx > 1 else ''}", scaleratio=1, row=r, col=c)
    fig.update_layout(title=title or f"data points: m = {cell.h.shape[1]}, p = {cell.probability:.3g}, "
                      f"{cell.n_points} points",
                      height=330 * len(methods) + 80, width=330 * len(spaces) + 160, template="plotly_white")
    return fig


def grid_figure(
    result: DatapointGridResult,
    *,
    importance: str,
    method: str = "mds",
    space: str = "h",
    color_by: str = "top_rank",
    show_false: bool = False,
    panel_size: float = 1.9,
) -> matplotlib.figure.Figure:
    """The study's grid (rows m, columns p, panels "m : p") of data-point pictures.

    Parameters
    ----------
    result : DatapointGridResult
    importance : str
        The importance variant (``importance_name`` of the grid).
    method : {"mds", "umap", "tsne"}
    space : {"x", "x_rep", "h", "xhat"}
    color_by : {"top_rank", "top_feature", "n_active"}
    show_false : bool, default False
        Faint lines for the false neighbours.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    keys = [(i, k) for i, k in enumerate(result.keys) if k[0] == importance]
    if not keys:
        raise SupvizError(f"`importance` must be one of {sorted({k[0] for k in result.keys})}; got {importance!r}.")
    ms = sorted({k[1] for _, k in keys})
    ps = sorted({k[2] for _, k in keys}, reverse=True)
    fig, axes = plt.subplots(len(ms), len(ps), figsize=(panel_size * len(ps) + 1.0, panel_size * len(ms) + 0.5),
                             squeeze=False, layout="constrained")
    sc = None
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    vmax = max(float(np.nanmax(_label_values(result.cells[i], color_by)[0])) for i, _ in keys)
    for i, (imp, m, p) in keys:
        cell = result.cells[i]
        ax = axes[ms.index(m), ps.index(p)]
        layout = cell.layouts.get((space, method))
        ax.set_title(f"{m} : {p:.2g}", fontsize=8)
        if layout is None:
            ax.set_axis_off()
            continue
        Y = np.asarray(layout.embedding)
        values, cbar_label, cmap = _label_values(cell, color_by)
        if show_false:
            pairs = cell.false_pairs.get((space, method))
            if pairs is not None and len(pairs):
                ax.add_collection(LineCollection(np.stack([Y[pairs[:, 0]], Y[pairs[:, 1]]], axis=1),
                                                 colors="tab:red", linewidths=0.3, alpha=0.1, zorder=1))
        order = _order_points(values)
        sc = ax.scatter(Y[order, 0], Y[order, 1], c=values[order], cmap=cmap, vmin=0, vmax=vmax,
                        s=float(np.clip(600.0 / cell.n_points, 0.5, 6.0)), linewidths=0, zorder=2)
        if method == "mds":
            ax.set_aspect("equal", adjustable="datalim")
        vals = cell.metrics.get((space, method), {})
        if "knn_recall" in vals:
            ax.text(0.02, 0.02, f"R {vals['knn_recall']:.2f}", transform=ax.transAxes, fontsize=6, va="bottom",
                    bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0, "pad": 1})
    if sc is not None:
        cb = fig.colorbar(sc, ax=axes, shrink=0.6, pad=0.01)
        cb.set_label(_label_values(result.cells[keys[0][0]], color_by)[1], fontsize=8)
    fig.suptitle(f"{_METHOD_TITLE[method]} of {_SPACE_TITLE.get(space, space)} ({importance} importance; "
                 f"panels m : p; R = k-NN recall against x)", fontsize=9)
    return fig


def _pivot(table: pd.DataFrame, metric: str, ms: list[int], ps: list[float]) -> np.ndarray:
    grid = np.full((len(ms), len(ps)), np.nan)
    import pandas as pd

    for _, row in table.iterrows():
        if pd.isna(row["m"]) or pd.isna(row["p"]):
            continue
        i = ms.index(int(row["m"])) if int(row["m"]) in ms else None
        j = next((jj for jj, p in enumerate(ps) if abs(p - float(row["p"])) <= 1e-6), None)
        if i is not None and j is not None:
            grid[i, j] = float(row[metric])
    return grid


def heatmap_figure(
    datapoint_table: pd.DataFrame,
    *,
    metric: str,
    importance: str,
    feature_table: pd.DataFrame | None = None,
    feature_metric: str | None = None,
    feature_experiments: dict[str, str] | None = None,
    methods: Sequence[str] = ("mds", "umap", "tsne"),
    columns: Sequence[str] = ("features", "h", "x", "total"),
    annotate: bool = True,
    panel_size: float = 2.6,
) -> matplotlib.figure.Figure:
    """Heatmaps over (m, p) of one measure, per method: feature directions beside data points.

    Parameters
    ----------
    datapoint_table : pandas.DataFrame
        :attr:`DatapointGridResult.table`.
    metric : str
        A measure column of the data-point table (for example ``"knn_recall"``).
    importance : str
        Importance variant to show.
    feature_table : pandas.DataFrame, optional
        The study's feature-direction metric table: columns ``importance``, ``m``, ``p``,
        ``method`` and the metric columns. Without it that column is left out.
    feature_metric : str, optional
        The feature table's column for the same measure (default: ``metric``).
    feature_experiments : dict method -> experiment, optional
        Where the feature table has an ``experiment`` column, the experiment whose panels stand for
        each method; default ``{"mds": "C2", "umap": "C4"}`` (all features; use C3/C5 for the
        represented ones). A method without one (the study drew no t-SNE of W) gets an empty panel.
    methods : sequence of str
        Rows.
    columns : sequence of {"features", "h", "x", "x_rep", "xhat", "superposition", "total", "dropped"}
        ``features``: the feature-direction pictures; ``h``/``x``/``x_rep``/``xhat``: the data-point
        pictures of that space; on a diverging scale centred at 0: ``superposition`` = ``h - x_rep``
        (the change due to superposition), ``total`` = ``h - x``, ``dropped`` = ``x_rep - x``. Use
        ``total`` when the grid ran without ``x_rep`` pictures.
    annotate : bool, default True
        Write each value in its cell.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if metric not in datapoint_table.columns:
        raise SupvizError(f"`metric` must be a column of the data-point table; got {metric!r}.")
    dp = datapoint_table[datapoint_table["importance"] == importance]
    if dp.empty:
        raise SupvizError(f"`importance` {importance!r} is not in the data-point table.")
    fmetric = feature_metric or metric
    cols = [c for c in columns if c != "features" or feature_table is not None]
    if feature_table is not None and "features" in cols:
        if fmetric not in feature_table.columns:
            logger.info("feature table has no column %r; its heatmaps are left out", fmetric)
            cols.remove("features")
        else:
            feature_table = feature_table[feature_table["importance"] == importance]
    ms = sorted({int(v) for v in dp["m"]})
    ps = sorted({float(v) for v in dp["p"]}, reverse=True)
    fig, axes = plt.subplots(len(methods), len(cols), figsize=(panel_size * len(cols) + 1.5,
                                                               panel_size * 0.9 * len(methods) + 0.8),
                             squeeze=False, layout="constrained")
    seq_vals, div_vals = [], []
    grids: dict[tuple[int, int], tuple[np.ndarray, bool]] = {}
    for r, method in enumerate(methods):
        for c, col in enumerate(cols):
            if col == "features":
                part = feature_table[feature_table["method"] == method]
                if "experiment" in part.columns:
                    exps = feature_experiments or {"mds": "C2", "umap": "C4"}
                    part = part[part["experiment"] == exps.get(method, "")]
                g = _pivot(part, fmetric, ms, ps)
                div = False
            elif col in _DIFFS:
                a, b = _DIFFS[col]
                ga = _pivot(dp[(dp["method"] == method) & (dp["space"] == a)], metric, ms, ps)
                gb = _pivot(dp[(dp["method"] == method) & (dp["space"] == b)], metric, ms, ps)
                g, div = ga - gb, True
            else:
                g = _pivot(dp[(dp["method"] == method) & (dp["space"] == col)], metric, ms, ps)
                div = False
            grids[(r, c)] = (g, div)
            (div_vals if div else seq_vals).append(g[np.isfinite(g)])
    # One colour range for every sequential panel, from the data (a fixed [0, 1] would wash out
    # differences such as trustworthiness 0.57 against 0.77).
    seq = np.concatenate(seq_vals) if seq_vals else np.array([])
    lo, hi = (float(seq.min()), float(seq.max())) if seq.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    dv = np.concatenate(div_vals) if div_vals else np.array([])
    span = float(np.nanmax(np.abs(dv))) if dv.size else 1.0
    span = span if span > 0 else 1.0
    im_seq = im_div = None
    for (r, c), (g, div) in grids.items():
        ax = axes[r, c]
        if not np.isfinite(g).any():
            ax.text(0.5, 0.5, "not pictured", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        if div:
            im_div = ax.imshow(g, cmap="RdBu", vmin=-span, vmax=span, aspect="auto")
        else:
            im_seq = ax.imshow(g, cmap="viridis", vmin=lo, vmax=hi, aspect="auto")
        ax.set_xticks(range(len(ps)), [f"{p:.2g}" for p in ps], fontsize=7)
        ax.set_yticks(range(len(ms)), [str(m) for m in ms], fontsize=7)
        if r == len(methods) - 1:
            ax.set_xlabel("p", fontsize=8)
        if c == 0:
            ax.set_ylabel(f"{_METHOD_TITLE.get(methods[r], methods[r])}\nm", fontsize=8)
        col = cols[c]
        head = {"features": "feature directions (rows of W)",
                "superposition": "data: h \u2212 x_rep (superposition)",
                "total": "data: h \u2212 x (superposition + dropped)",
                "dropped": "data: x_rep \u2212 x (dropped features)"}
        ax.set_title(head.get(col, f"data points: {_SPACE_TITLE.get(col, col)}"), fontsize=8)
        if annotate:
            for i in range(g.shape[0]):
                for j in range(g.shape[1]):
                    if np.isfinite(g[i, j]):
                        ax.text(j, i, f"{g[i, j]:.2f}", ha="center", va="center", fontsize=5.5,
                                color="white" if (not div and g[i, j] < lo + 0.5 * (hi - lo)) else "black")
    if im_seq is not None:
        fig.colorbar(im_seq, ax=axes, shrink=0.6, pad=0.01).set_label(_METRIC_TITLE.get(metric, metric), fontsize=8)
    if im_div is not None:
        fig.colorbar(im_div, ax=axes, shrink=0.6, pad=0.01).set_label("difference (data-point spaces)", fontsize=8)
    fig.suptitle(f"{_METRIC_TITLE.get(metric, metric)} over (m, p), {importance} importance", fontsize=10)
    return fig


def equidistance_figure(geometry: pd.DataFrame, *, importance: str | None = None) -> matplotlib.figure.Figure:
    """Spread of the represented features' pairwise distances, per cell, against chance.

    Parameters
    ----------
    geometry : pandas.DataFrame
        :attr:`DatapointGridResult.geometry` (columns ``importance``, ``m``, ``p``, ``cv``,
        ``cv_gaussian``, ``n_represented``).
    importance : str, optional
        One variant; all (one panel each) by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    variants = [importance] if importance else sorted(geometry["importance"].unique())
    fig, axes = plt.subplots(1, len(variants), figsize=(4.6 * len(variants), 3.6), squeeze=False,
                             layout="constrained")
    cmap = plt.get_cmap("viridis")
    for ax, imp in zip(axes[0], variants):
        part = geometry[geometry["importance"] == imp]
        ps = sorted(part["p"].unique(), reverse=True)
        for j, p in enumerate(ps):
            rows = part[part["p"] == p].sort_values("m")
            colour = cmap(j / max(1, len(ps) - 1))
            ax.plot(rows["m"], rows["cv"], "o-", color=colour, label=f"p = {p:.2g}", ms=4)
            ax.plot(rows["m"], rows["cv_gaussian"], ":", color=colour, lw=1)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xlabel("m (hidden dimensions)")
        ax.set_ylabel("CV of pairwise distances of represented rows")
        ax.set_title(f"{imp} importance (dotted: Gaussian rows, same N, m; 0: diag(N))", fontsize=8)
        ax.legend(fontsize=7)
    return fig


def save_figure(
    fig: matplotlib.figure.Figure,
    path: str | Path,
    *,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 110,
) -> list[Path]:
    """Write a matplotlib figure as ``path.<format>`` for each format, each file atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Destination without (or with, which is replaced) a suffix.
    formats : sequence of str, default ("png", "svg")
    dpi : int, default 110

    Returns
    -------
    list of Path
        The files written.
    """
    stem = Path(path)
    if stem.suffix.lstrip(".") in ("png", "svg", "pdf"):
        stem = stem.with_suffix("")
    out = []
    for fmt in formats:
        check_choice("formats", fmt, ("png", "svg", "pdf"))
        dest = stem.with_name(f"{stem.name}.{fmt}")
        with atomic_path(dest) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
        out.append(dest)
    return out


def save_plotly(fig: go.Figure, path: str | Path, *, include_plotlyjs: Any = "cdn") -> Path:
    """Write a plotly figure as HTML atomically (``include_plotlyjs`` as in ``Figure.to_html``;
    pass ``True`` for a file that opens offline, ``False`` for a fragment the report embeds)."""
    dest = Path(path)
    atomic_write_text(dest, fig.to_html(include_plotlyjs=include_plotlyjs, full_html=include_plotlyjs is not False))
    return dest
