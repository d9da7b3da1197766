"""Figures of the data-point section, drawn with :mod:`supviz.plot` (one code path with a notebook).

- :func:`cell_panels`: one cell's pictures (one row per method, one column per space) as
  :class:`~supviz.plot.ScatterPanel`\\ s with the false-neighbour pairs as lines and every measure
  (R, T, C, S, ρ, FN) under each panel; :func:`cell_figure` / :func:`cell_figure_plotly` draw them
  with :func:`supviz.plot.plot_grid` / :func:`supviz.plot.interactive.plot_grid`.
- :func:`grid_figure`: the study's grid (rows m, columns p, panels "m : p") of one space and method.
- :func:`heatmap_figure`: one measure over (m, p), per method: the feature-direction pictures
  beside the data-point pictures and the change h − x, on a diverging scale whose red is always
  "worse" (less recall or trustworthiness, more false neighbours).
- :func:`headline_figure`: the report's first figure, k-NN recall against x of the pictures of x and
  of h (and of h itself) by hidden size m, per method.
- :func:`point_colour`: what colours a data point: the importance rank of its most important active
  feature, or under uniform importance (where a rank means nothing) its number of active features.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.names import MEASURE_NAMES
from supviz.core.validation import check_choice
from supviz.datapoints.spaces import SPACE_NAMES
from supviz.dr.base import METHOD_NAMES
from supviz.errors import SupvizError
from supviz.plot import MIN_FONT_PT, plot_grid
from supviz.plot import interactive as iplot
from supviz.plot.panels import ColorScale, HeatmapPanel, ScatterPanel
from supviz.plot.static import SUPTITLE_PT, TITLE_PT

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.figure
    import pandas as pd
    import plotly.graph_objects as go

    from supviz.datapoints.experiment import DatapointCellResult, DatapointGridResult

logger = logging.getLogger(__name__)

__all__ = [
    "COLOR_BY",
    "cell_panels",
    "cell_figure",
    "cell_figure_plotly",
    "grid_figure",
    "heatmap_figure",
    "headline_figure",
    "HEADLINE_ANSWER_GAP",
    "HEADLINE_CHANCE",
    "HEADLINE_GAP",
    "point_colour",
    "CORNER",
    "HIGHER_IS_BETTER",
]

COLOR_BY = ("auto", "top_rank", "top_feature", "n_active", "n_active_represented")
#: The colour scale of counts of active represented features tops out here ("6 or more") in D2's grids, whose cells
#: run from sparse inputs (0 to 3 active) to dense ones (every represented feature active): one scale for all of them.
ACTIVE_CAP = 6
#: One cell's colour scale of counts (D3) tops out at this percentile of its inputs' counts, clipped above it ("≥"):
#: a fixed 6 left most of the bar unused where few inputs pass 3 (review 6 item 6).
ACTIVE_PERCENTILE = 99.0
#: The spaces whose pictures get no false-neighbour lines: the inputs themselves, the control every picture of the codes
#: is read against. Their rate stays under the panel (FN); the lines are drawn where the question is, on the pictures
#: of the codes (a web of 1,500 lines over the picture of x hid its points and read as the codes' fault).
INPUT_SPACES = ("x", "x_rep")
METHOD_TITLE = {**METHOD_NAMES, "exact": "exact"}
METRIC_TITLE = MEASURE_NAMES  # the measures by their papers' names (supviz.core.names: one home)
#: The measures under each data-point panel, with their short names (the captions use the same).
CORNER = (
    ("knn_recall", "R"),
    ("trustworthiness", "T"),
    ("continuity", "C"),
    ("stress1_ratio", "S"),
    ("shepard_rho", "ρ"),
    ("false_neighbour_rate", "FN"),
)
#: Whether a larger value of a measure is better (the red of a difference map is always "worse").
HIGHER_IS_BETTER = {
    "knn_recall": True,
    "trustworthiness": True,
    "continuity": True,
    "shepard_rho": True,
    "false_neighbour_rate": False,
    "stress1_ratio": False,
}
_DIFFS = {"superposition": ("h", "x_rep"), "total": ("h", "x"), "dropped": ("x_rep", "x")}
#: The change maps (h − x and the like) are drawn and written in hundredths of the measure: a signed two-decimal
#: change (−.04) is one character wider than the measure (.41) and ran into its neighbours in the (m, p) cells.
CHANGE_SCALE = 100.0
CHANGE_UNIT = " (× 100)"


def point_colour(cell: Any, color_by: str = "auto", *, cap: int | None = ACTIVE_CAP) -> tuple[np.ndarray, ColorScale]:
    """Values and colour scale of a cell's points.

    ``"auto"``: the importance rank of the most important active feature (0 = most important);
    under uniform importance, where every rank is a tie, the number of active *represented*
    features: 1 marks the inputs on a single feature's spoke. Counts above ``cap`` are drawn as ``cap`` (the colour
    bar's top tick reads "≥ cap"); ``cap=None`` takes it from the cell's own counts, their
    :data:`ACTIVE_PERCENTILE` th percentile rounded up (at least 1), so the bar spans what the cell holds.
    """
    check_choice("color_by", color_by, COLOR_BY)
    lab = cell.labels
    if color_by == "auto":
        color_by = "n_active_represented" if cell.uniform_importance else "top_rank"
    if color_by == "n_active_represented":
        count = (np.asarray(cell.x)[:, np.asarray(cell.represented, dtype=bool)] > 0).sum(axis=1)
        if cap is None:
            cap = max(1, int(np.ceil(np.percentile(count, ACTIVE_PERCENTILE)))) if count.size else 1
        clipped = bool((count > cap).any())
        label = "number of active represented features" + (f" (≥ {cap}: {cap} or more)" if clipped else "")
        return np.minimum(count, cap).astype(float), ColorScale(
            "plasma", 0.0, float(cap), label, integer=True, at_least=clipped
        )
    if color_by == "n_active":
        return lab.n_active.astype(float), ColorScale("plasma", label="number of active features", integer=True)
    if color_by == "top_feature":
        return lab.top_feature.astype(float), ColorScale(
            "viridis", label="index of the most important active feature", integer=True
        )
    return lab.top_rank.astype(float), ColorScale(
        "viridis", label="importance rank of its most important active feature (0 = most)", integer=True
    )


def corner_text(vals: dict[str, float], *, lines: int = 2) -> str:
    """The measures under a panel: ``R 0.93  T 0.95  C 0.97`` / ``S 0.31  ρ 0.83  FN 0.02`` (NaN as n/a)."""
    parts = [
        f"{short} {vals[name]:.2f}" if np.isfinite(vals.get(name, np.nan)) else f"{short} n/a"
        for name, short in CORNER
        if name in vals
    ]
    per = max(1, -(-len(parts) // lines))
    return "\n".join("  ".join(parts[i : i + per]) for i in range(0, len(parts), per))


def _hover(cell: Any) -> dict[str, np.ndarray]:
    lab = cell.labels
    return {
        "point": np.arange(cell.n_points),
        "most important active feature": lab.top_feature,
        "its rank": lab.top_rank,
        "active features": lab.n_active,
        "its value": lab.top_value,
    }


def _methods_spaces(cell: Any, methods: Sequence[str] | None, spaces: Sequence[str]) -> tuple[list[str], list[str]]:
    if methods is None:
        methods = [m for m in ("mds", "umap", "tsne") if any(k[1] == m for k in cell.layouts)]
    methods = list(methods)
    spaces = [s for s in spaces if any(k[0] == s for k in cell.layouts)]
    if not methods or not spaces:
        raise SupvizError("`cell` has no layouts for the requested methods and spaces.")
    return methods, spaces


def cell_panels(
    cell: DatapointCellResult,
    *,
    methods: Sequence[str] | None = None,
    spaces: Sequence[str] = ("x", "h"),
    color_by: str = "auto",
    show_false: bool = True,
    max_false_lines: int = 1500,
    trust: bool | Mapping[tuple[str, str], Mapping[str, Any]] = False,
) -> tuple[list[ScatterPanel], ColorScale, int]:
    """The panels of one cell (rows: methods, columns: spaces), their colour scale and column count.

    Each picture of the codes carries the false-neighbour pairs as ``lines`` (at most ``max_false_lines``, an even
    subsample; FN under the panel is the full rate; the pictures of the inputs, :data:`INPUT_SPACES`, give their rate
    only) and every measure against x under it. The colour's scale spans the cell's own values
    (:func:`point_colour` with ``cap=None``). With
    ``trust`` (or ``color_by="trust"``, which colours by it) each point's own trust against x joins
    the hover (:mod:`supviz.plot.trust`: trust, t, c, false and missing neighbours; their means are
    the panel's T and C). ``trust`` may instead map ``(space, method)`` to hover columns computed before
    (:func:`supviz.plot.trust.hover_columns`), which join the hover as they are.
    """
    methods, spaces = _methods_spaces(cell, methods, spaces)
    by_trust = color_by == "trust"
    given = trust if isinstance(trust, Mapping) and not by_trust else None
    trust = not given and (bool(trust) or by_trust)
    if by_trust:
        from supviz.plot.trust import TRUST_SCALE

        values, scale = None, TRUST_SCALE
    else:
        values, scale = point_colour(cell, color_by, cap=None)
    panels = []
    for method in methods:
        for space in spaces:
            title = f"{METHOD_TITLE[method]} of {SPACE_NAMES.get(space, space)}"
            layout = cell.layouts.get((space, method))
            if layout is None:
                panels.append(ScatterPanel(title, None, note="not computed"))
                continue
            pairs = cell.false_pairs.get((space, method)) if show_false and space not in INPUT_SPACES else None
            if pairs is not None and len(pairs) > max_false_lines:
                pairs = pairs[np.linspace(0, len(pairs) - 1, max_false_lines).astype(int)]
            hover, colour = _hover(cell), values
            if given is not None and (space, method) in given:
                hover |= dict(given[(space, method)])
            if trust:
                from supviz.plot.trust import trust_hover

                pt, cols = trust_hover(np.asarray(cell.x), layout, k=cell.k)
                hover |= cols
                colour = pt.trust if by_trust else values
            panels.append(
                ScatterPanel(
                    title,
                    np.asarray(layout.embedding),
                    color=colour,
                    corner=corner_text(dict(cell.metrics.get((space, method), {}))),
                    hover=hover,
                    lines=pairs,
                    equal_axes=method == "mds",
                )
            )
    return panels, scale, len(spaces)


def _head(cell: Any, title: str | None, show_false: bool) -> str:
    head = title or (
        f"data points: m = {cell.h.shape[1]}, p = {cell.probability:.3g}, {cell.n_points} points "
        f"({cell.n_dropped} all-zero inputs dropped), k = {cell.k}"
    )
    # on a line of its own: beside the cell's description it ran past a two-column figure's edge
    return head + ("\nred lines: false neighbours, in the pictures of the codes" if show_false else "")


def cell_figure(
    cell: DatapointCellResult,
    *,
    methods: Sequence[str] | None = None,
    spaces: Sequence[str] = ("x", "h"),
    color_by: str = "auto",
    show_false: bool = True,
    max_false_lines: int = 1500,
    title: str | None = None,
    panel_in: float = 2.9,
) -> matplotlib.figure.Figure:
    """Side-by-side pictures of one cell's spaces, one row per method (:func:`cell_panels`).

    Parameters
    ----------
    cell : DatapointCellResult
    methods : sequence of str, optional
        Rows; every method the cell has by default.
    spaces : sequence of str, default ("x", "h")
        Columns (any of "x", "x_rep", "h", "xhat" that the cell has).
    color_by : {"auto", "top_rank", "top_feature", "n_active", "trust"}
        What colours the points (:func:`point_colour`; "trust": each point's own trust against x, 0..1).
    show_false : bool, default True
        Draw the false-neighbour pairs as faint red lines under the points of the pictures of the codes (not of the
        inputs, :data:`INPUT_SPACES`).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels, scale, ncols = cell_panels(
        cell, methods=methods, spaces=spaces, color_by=color_by, show_false=show_false, max_false_lines=max_false_lines
    )
    return plot_grid(panels, ncols=ncols, title=_head(cell, title, show_false), color=scale, panel_in=panel_in)


def cell_figure_plotly(
    cell: DatapointCellResult,
    *,
    methods: Sequence[str] | None = None,
    spaces: Sequence[str] = ("x", "h"),
    color_by: str = "auto",
    show_false: bool = True,
    max_false_lines: int = 1500,
    title: str | None = None,
    trust: bool | Mapping[tuple[str, str], Mapping[str, Any]] = False,
) -> go.Figure:
    """Interactive version of :func:`cell_figure` (the same panels): hovering a point gives its index
    and labels (and, with ``trust``, its own trust against x); the false neighbours and every measure
    are there as in the static figure."""
    panels, scale, ncols = cell_panels(
        cell,
        methods=methods,
        spaces=spaces,
        color_by=color_by,
        show_false=show_false,
        max_false_lines=max_false_lines,
        trust=trust,
    )
    head = _head(cell, title, show_false).replace("\n", "<br>")  # plotly breaks a title's line at <br> only
    return iplot.plot_grid(panels, ncols=ncols, title=head, color=scale, panel_px=300)


def grid_corner(metrics: Mapping[tuple[str, str], Mapping[str, float]], method: str, space: str) -> str:
    """The text under a panel of :func:`grid_panels`: ``R 0.19 (x 0.30)``, the k-NN recall against x of the picture of
    ``space`` and, beside it, of the same method's picture of x in the same cell (what the reader judges R against:
    any 2-D picture of these inputs loses neighbours). ``metrics``: a cell's measures by ``(space, method)``, the rows
    of the ``points`` table (nothing recomputed); a recall the cell lacks reads n/a."""

    def r(sp: str) -> str:
        v = float(metrics.get((sp, method), {}).get("knn_recall", np.nan))
        return f"{v:.2f}" if np.isfinite(v) else "n/a"

    return f"R {r(space)}" + (f" (x {r('x')})" if space != "x" else "")


def grid_panels(
    result: DatapointGridResult, *, importance: str, method: str = "mds", space: str = "h", color_by: str = "auto"
) -> tuple[list[ScatterPanel], ColorScale, int]:
    """The study's grid of one space and method: rows m, columns p, panels "m : p", R under each and the same
    method's R of x beside it (:func:`grid_corner`)."""
    keys = [(i, k) for i, k in enumerate(result.keys) if k[0] == importance]
    if not keys:
        raise SupvizError(f"`importance` must be one of {sorted({k[0] for k in result.keys})}; got {importance!r}.")
    ms = sorted({k[1] for _, k in keys})
    ps = sorted({k[2] for _, k in keys}, reverse=True)
    where = {(k[1], k[2]): i for i, k in keys}
    panels = []
    scale = None
    clipped = None  # one scale for the whole grid: a cell's counts clipped at the cap make its top tick "≥"
    for m in ms:
        for p in ps:
            title = f"{m} : {p:.2g}" if p < 1 else f"{m} : 1"
            i = where.get((m, p))
            layout = None if i is None else result.cells[i].layouts.get((space, method))
            if layout is None:
                panels.append(ScatterPanel(title, None, note="not computed"))
                continue
            cell = result.cells[i]
            values, scale = point_colour(cell, color_by)
            clipped = clipped or (scale if scale.at_least else None)
            panels.append(
                ScatterPanel(
                    title,
                    np.asarray(layout.embedding),
                    color=values,
                    corner=grid_corner(cell.metrics, method, space),
                    hover=_hover(cell),
                    equal_axes=method == "mds",
                )
            )
    return panels, clipped or scale or ColorScale(), len(ps)


def grid_figure(
    result: DatapointGridResult,
    *,
    importance: str,
    method: str = "mds",
    space: str = "h",
    color_by: str = "auto",
    title: str | None = None,
) -> matplotlib.figure.Figure:
    """The study's grid (rows m, columns p, panels "m : p") of data-point pictures (:func:`grid_panels`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels, scale, ncols = grid_panels(result, importance=importance, method=method, space=space, color_by=color_by)
    head = title or (
        f"{METHOD_TITLE[method]} of {SPACE_NAMES.get(space, space)} ({importance} importance; panels m : p; "
        "R = k-NN recall against x; in brackets, of the same method's picture of x)"
    )
    return plot_grid(panels, ncols=ncols, title=head, color=scale, point_size=3.0)


def _pivot(table: pd.DataFrame, metric: str, ms: list[int], ps: list[float]) -> np.ndarray:
    grid = np.full((len(ms), len(ps)), np.nan)
    for m, p, v in zip(table["m"], table["p"], table[metric]):
        if m is None or p is None or not np.isfinite(float(p)) or int(m) not in ms:
            continue
        j = next((jj for jj, q in enumerate(ps) if abs(q - float(p)) <= 1e-6), None)
        if j is not None:
            grid[ms.index(int(m)), j] = float(v)
    return grid


def heatmap_panels(
    datapoint_table: pd.DataFrame,
    *,
    metric: str,
    importance: str,
    feature_table: pd.DataFrame | None = None,
    feature_experiments: dict[str, str] | None = None,
    methods: Sequence[str] = ("mds", "umap", "tsne"),
    columns: Sequence[str] = ("features", "x", "h", "total"),
) -> tuple[list[HeatmapPanel], dict[str, ColorScale], int]:
    """The panels of :func:`heatmap_figure` and their two scales ("measure", "change")."""
    if metric not in datapoint_table.columns:
        raise SupvizError(f"`metric` must be a column of the data-point table; got {metric!r}.")
    dp = datapoint_table[datapoint_table["importance"] == importance]
    if dp.empty:
        raise SupvizError(f"`importance` {importance!r} is not in the data-point table.")
    cols = [c for c in columns if c != "features" or (feature_table is not None and metric in feature_table.columns)]
    ft = feature_table[feature_table["importance"] == importance] if "features" in cols else None
    ms = sorted({int(v) for v in dp["m"]})
    ps = sorted({float(v) for v in dp["p"]}, reverse=True)
    heads = {
        "features": "feature directions (rows of W)",
        "superposition": f"superposition: h − inputs on represented{CHANGE_UNIT}",
        "total": f"change h − x{CHANGE_UNIT}",
        "dropped": f"dropped features: inputs on represented − x{CHANGE_UNIT}",
    }
    panels = []
    for r, method in enumerate(methods):
        for c, col in enumerate(cols):
            if col == "features":
                part = ft[ft["method"] == method]
                if "experiment" in part.columns:
                    part = part[
                        part["experiment"] == (feature_experiments or {"mds": "C2", "umap": "C4"}).get(method, "")
                    ]
                g, scale = _pivot(part, metric, ms, ps), "measure"
            elif col in _DIFFS:
                a, b = _DIFFS[col]
                g = CHANGE_SCALE * (
                    _pivot(dp[(dp["method"] == method) & (dp["space"] == a)], metric, ms, ps)
                    - _pivot(dp[(dp["method"] == method) & (dp["space"] == b)], metric, ms, ps)
                )
                scale = "change"
            else:
                g, scale = _pivot(dp[(dp["method"] == method) & (dp["space"] == col)], metric, ms, ps), "measure"
            empty = not np.isfinite(g).any()
            panels.append(
                HeatmapPanel(
                    heads.get(col, f"data points: {SPACE_NAMES.get(col, col)}") if r == 0 else "",
                    None if empty else g,
                    note="not pictured" if empty else "",
                    scale=scale,
                    annotate=True,
                    number_format="int" if scale == "change" else "short",
                    xticklabels=[f"{p:.2g}".replace("0.", ".", 1) if p < 1 else "1" for p in ps],
                    yticklabels=[str(m) for m in ms],
                    xlabel="p" if r == len(methods) - 1 else "",
                    ylabel=f"{METHOD_TITLE.get(method, method)}: m" if c == 0 else "",
                )
            )
    seq = [p.matrix[np.isfinite(p.matrix)] for p in panels if p.scale == "measure" and p.matrix is not None]
    allv = np.concatenate(seq) if seq else np.array([0.0, 1.0])
    lo, hi = (float(allv.min()), float(allv.max())) if allv.size else (0.0, 1.0)
    better = HIGHER_IS_BETTER.get(metric, True)
    scales = {
        "measure": ColorScale("viridis", lo, hi if hi > lo else lo + 1.0, METRIC_TITLE.get(metric, metric)),
        "change": ColorScale(
            "RdBu" if better else "RdBu_r", None, None, f"change h − x{CHANGE_UNIT} (red = worse)", center=0.0
        ),
    }
    return panels, scales, len(cols)


def heatmap_figure(
    datapoint_table: pd.DataFrame,
    *,
    metric: str,
    importance: str,
    feature_table: pd.DataFrame | None = None,
    feature_experiments: dict[str, str] | None = None,
    methods: Sequence[str] = ("mds", "umap", "tsne"),
    columns: Sequence[str] = ("features", "x", "h", "total"),
    title: str | None = None,
) -> matplotlib.figure.Figure:
    """Heatmaps over (m, p) of one measure, per method (rows): feature directions beside data points.

    Parameters
    ----------
    datapoint_table : pandas.DataFrame
        :attr:`DatapointGridResult.table`.
    metric : str
        A measure column (``"knn_recall"``, ``"trustworthiness"``, ``"false_neighbour_rate"``...).
    importance : str
        Importance variant.
    feature_table : pandas.DataFrame, optional
        The feature-direction panels (columns ``importance``, ``m``, ``p``, ``method``, the metric,
        and ``experiment``); without it that column is left out.
    feature_experiments : dict method -> experiment, optional
        Which experiment stands for each method (default C2 for MDS, C4 for UMAP; the study drew
        no t-SNE of W, whose panel says "not pictured").
    columns : sequence of {"features", "x", "x_rep", "h", "xhat", "total", "superposition", "dropped"}
        ``total`` = h − x, ``superposition`` = h − x_rep, ``dropped`` = x_rep − x: diverging, red = worse
        (:data:`HIGHER_IS_BETTER`), in hundredths of the measure (:data:`CHANGE_SCALE`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels, scales, ncols = heatmap_panels(
        datapoint_table,
        metric=metric,
        importance=importance,
        feature_table=feature_table,
        feature_experiments=feature_experiments,
        methods=methods,
        columns=columns,
    )
    head = title or f"{METRIC_TITLE.get(metric, metric)} over (m, p), {importance} importance"
    return plot_grid(panels, ncols=ncols, title=head, scales=scales, panel_in=2.1)


#: The headline's shaded gap between the picture of x and the picture of h: what the picture of h loses against
#: the picture of x, which is the dropped features everywhere and superposition only in the cells whose W has it.
HEADLINE_GAP = "lost: dropped features (and superposition where W has it)"
#: The headline's shaded gap of the answer's pair: what the picture of the codes of the represented features loses
#: against the picture of the inputs on those features, in the cells with superposition (the first screen's loss).
HEADLINE_ANSWER_GAP = "lost: superposition among the represented features (the answer's loss)"
#: The headline's chance line: the k-NN recall a random picture keeps.
HEADLINE_CHANCE = "chance, k / (N − 1): a random picture"
#: The lines of the answer's pair (the reference dashed, the codes solid, as in the rows of h against x).
ANSWER_X = "picture of the inputs on the represented features"
ANSWER_H = "picture of their codes (represented features)"


def _loss_words(loss: float, interval: Sequence[float]) -> str:
    """The answer's loss as the first screen writes it: ``loses 20% [10%, 29%]``."""
    from supviz.core.text import pct

    lo, hi = interval
    return f"loses {pct(loss)}\n[{pct(lo)}, {pct(hi)}]"


def headline_figure(
    curves: Sequence[dict[str, Any]] | Mapping[str, Sequence[dict[str, Any]]],
    *,
    answer: Mapping[str, Sequence[dict[str, Any]]] | None = None,
    title: str = "",
) -> "matplotlib.figure.Figure":
    """The report's first figure: per method, k-NN recall against the inputs x by hidden size m; first the pair the
    first screen's answer measures (one row per importance variant), then the pictures of h against x (one row per
    variant).

    Parameters
    ----------
    curves : sequence of dict, or mapping row label -> sequence of dict
        One dict per method (a panel each): ``method`` (its name), ``m`` (hidden sizes), ``x`` (median
        recall of the picture of x per m: what any 2-D picture keeps), ``h`` (of the picture of
        h = Wᵀx), ``exact`` (of the code space h itself, before any picture), optionally ``chance`` (the recall's
        chance level k / (N - 1) per m, drawn as a thin line: what a random picture keeps). A mapping draws one row
        per key (an importance variant's label, written left of its row); all rows share the y axis (0 to 1).
    answer : mapping row label -> sequence of dict, optional
        The answer's pair, rows drawn above ``curves``'s (:func:`supviz.study.datapoints.findings.headline_answer`):
        per method ``method``, ``m``, ``x`` (mean recall of the picture of the inputs on the represented features
        over the superposed cells of each m), ``h`` (of the picture of their codes), ``chance``, and the answer's
        ``loss`` with its ``interval`` (written in the panel, as the first screen writes it). Its panels follow the
        columns of ``curves`` by method name; a method without the pair leaves its panel empty.
    title : str
        The figure's title.

    The shaded gaps (:data:`HEADLINE_ANSWER_GAP`, :data:`HEADLINE_GAP`) are where the picture of the codes keeps less
    than its reference.
    """
    from matplotlib.figure import Figure

    rows = dict(curves) if isinstance(curves, Mapping) else {"": list(curves)}
    top = {label: list(row) for label, row in (answer or {}).items() if row}
    order = [c["method"] for row in rows.values() for c in row]
    order = list(dict.fromkeys(order + [c["method"] for row in top.values() for c in row]))
    ncols = max(1, len(order))
    nrows = len(top) + len(rows)
    fig = Figure(figsize=(min(10.0, 3.1 * ncols + 0.4), 0.5 + (2.3 if top else 2.8) * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False)
    kinds = [("answer", label, row) for label, row in top.items()] + [("h", label, row) for label, row in rows.items()]
    # the answer's rows share a y axis of their own, up to a tenth above their highest line (their gap, a few hundredths
    # of recall, vanished on the 0-to-1 axis of the rows below); the rows of h against x keep 0 to 1
    high = [v for row in top.values() for c in row for key in ("x", "h", "chance") for v in c.get(key, [])]
    high = [v for v in high if np.isfinite(v)]
    answer_top = min(1.02, float(np.ceil(max(high) * 12) / 10)) if high else 1.02
    for r, (kind, label, row) in enumerate(kinds):
        axes = grid[r]
        drawn = set()
        for cur in row:
            col = order.index(cur["method"])
            ax = axes[col]
            drawn.add(col)
            m = np.asarray(cur["m"], dtype=float)
            pos = np.arange(len(m))
            if kind == "answer":
                ax.plot(pos, cur["x"], color="tab:blue", linestyle="--", marker="o", markersize=3.5, label=ANSWER_X)
                ax.plot(pos, cur["h"], color="tab:purple", marker="o", markersize=4, linewidth=2, label=ANSWER_H)
                gap, shade = HEADLINE_ANSWER_GAP, "tab:purple"
                ax.text(
                    0.97,
                    0.95,
                    _loss_words(cur["loss"], cur["interval"]),
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=MIN_FONT_PT + 1,
                    color="tab:purple",
                )
            else:
                ax.plot(
                    pos,
                    cur["exact"],
                    color="black",
                    linestyle=":",
                    marker="s",
                    markersize=3.5,
                    label="code space h itself",
                )
                ax.plot(
                    pos,
                    cur["x"],
                    color="0.55",
                    linestyle="--",
                    marker="o",
                    markersize=3.5,
                    label="picture of x (control)",
                )
                ax.plot(
                    pos, cur["h"], color="tab:red", marker="o", markersize=4, linewidth=2, label="picture of h = Wᵀx"
                )
                gap, shade = HEADLINE_GAP, "tab:red"
            if "chance" in cur:
                ax.plot(pos, cur["chance"], color="0.35", linestyle="-.", linewidth=1, label=HEADLINE_CHANCE)
            ax.fill_between(
                pos,
                cur["h"],
                cur["x"],
                where=np.asarray(cur["h"]) < np.asarray(cur["x"]),
                color=shade,
                alpha=0.22 if kind == "answer" else 0.12,
                linewidth=0,
                label=gap,
            )
            ax.set_xticks(pos, [str(int(v)) for v in m])
            if r == nrows - 1:
                ax.set_xlabel("hidden dimensions m", fontsize=MIN_FONT_PT + 1)
            ax.grid(axis="y", color="0.9")
            ax.tick_params(labelsize=MIN_FONT_PT + 0.5)
        first = min(drawn, default=0)  # the row's label and y ticks go on its first panel drawn
        for c, ax in enumerate(axes):
            ax.set_ylim(0, answer_top if kind == "answer" else 1.02)
            ax.tick_params(labelleft=c == first)
            ax.set_title(order[c] if r == 0 else "", fontsize=TITLE_PT + 1)
            if c not in drawn:
                ax.set_visible(False)
        what = (
            "represented features,\ncells with superposition\n(mean over p)"
            if kind == "answer"
            else "all cells\n(median over p)"
        )
        axes[first].set_ylabel(
            (f"{label}\n" if label else "") + f"k-NN recall against x\n{what}", fontsize=MIN_FONT_PT + 1
        )
    entries: dict[str, Any] = {}
    for r in range(nrows):
        for ax in grid[r]:
            for handle, text in zip(*ax.get_legend_handles_labels()):
                entries.setdefault(text, handle)
    fig.legend(
        list(entries.values()),
        list(entries),
        loc="outside lower center",
        ncols=2,
        fontsize=MIN_FONT_PT + 0.5,
        frameon=False,
    )
    if title:
        fig.suptitle(title, fontsize=SUPTITLE_PT)
    return fig
