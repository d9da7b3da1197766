"""matplotlib drawings of layouts, Shepard plots and Gram matrices, alone or as a grid.

These are the functions the report draws with (the study's sections and each engine's own plots compose its
figures from them), so a picture drawn in a notebook is the report's picture:

- :func:`plot_layout`: one 2-D layout (a :class:`supviz.dr.Layout` or an ``[N, 2]`` array), coloured;
- :func:`plot_shepard`: the Shepard plot of an MDS fit;
- :func:`plot_gram`: the Gram matrix ``W Wᵀ`` of feature directions on a diverging scale centred at 0;
- :func:`plot_grid`: a grid of such panels with shared colour bars (the study's "m : p" grids);
- :func:`save_figure`: PNG (palette-quantised, a third of the bytes) and SVG/PDF, written atomically.

Text is at least :data:`MIN_FONT_PT` points everywhere (10 px at the report's 110 dpi when the
figure is shown at its own width; :func:`min_font_px` measures it), metrics sit under each panel,
off the data, and layout coordinates carry no ticks (MDS, UMAP and t-SNE pictures are defined only
up to rotation and scale). matplotlib is imported inside the functions; a figure made here never
touches pyplot's global state unless no ``ax`` is given.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.io import atomic_path
from supviz.errors import SupvizError
from supviz.plot.panels import (
    MISSING_COLOR,
    ColorScale,
    HeatmapPanel,
    Panel,
    ScatterPanel,
    ShepardPanel,
    as_panel,
    as_scatter_panel,
    as_shepard_panel,
    category_drawing,
    grid_shape,
    missing_colour,
    tick_text,
    under_text,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Smallest font anywhere in a figure, in points (7.5 pt = 11.5 px at 110 dpi).
MIN_FONT_PT = 7.5
TITLE_PT = 8.5
SUPTITLE_PT = 10.0
#: Widest figure in inches: 1,100 px at 110 dpi fits the report's 1,124 px column unscaled.
MAX_WIDTH_IN = 10.0
PANEL_IN = 1.6
DISPLAY_WIDTH_PX = 1124
_COLORBAR_IN = 0.95
_LEFT_IN = 0.12
_GAP_IN = 0.14
_TITLE_IN = 0.24
_CORNER_IN = 0.19  # one line of metrics under a panel
_AXES_TEXT_IN = (0.42, 0.34)  # left / bottom room for tick labels and axis labels (Shepard, labelled heatmaps)
#: The false-neighbour lines of a scatter panel (:attr:`ScatterPanel.lines`): thin and translucent, under the points,
#: so a web of them (D3 drew up to 1,500 per panel) shades where the pairs are without hiding a point.
FALSE_LINE_WIDTH = 0.3
FALSE_LINE_ALPHA = 0.18


def _figure(width: float, height: float) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _point_size(n: int, side_in: float) -> float:
    return float(np.clip(900.0 / max(n, 1), 2.5, 16.0) * (side_in / 1.5) ** 2)


def _scatter_norm(panels: Sequence[Panel], scale: ColorScale) -> Any:
    import matplotlib as mpl

    colours = [
        p.color
        for p in panels
        if isinstance(p, ScatterPanel) and p.xy is not None and p.color is not None and not p.categories
    ]
    lo, hi = scale.vmin, scale.vmax
    if colours:
        allc = np.concatenate(colours)
        allc = allc[np.isfinite(allc)]
        if allc.size:
            lo = float(allc.min()) if lo is None else lo
            hi = float(allc.max()) if hi is None else hi
    lo = 0.0 if lo is None else lo
    hi = lo + 1.0 if hi is None or hi <= lo else hi
    return mpl.colors.Normalize(vmin=lo, vmax=hi)


def _heat_norm(panels: Sequence[Panel], scale: ColorScale, name: str) -> Any:
    import matplotlib as mpl

    vals = [
        p.matrix[np.isfinite(p.matrix)]
        for p in panels
        if isinstance(p, HeatmapPanel) and p.scale == name and p.matrix is not None
    ]
    allv = np.concatenate(vals) if vals else np.array([])
    if scale.center is not None:
        span = max(abs(scale.vmin or 0.0), abs(scale.vmax or 0.0))
        if not span and allv.size:
            span = float(np.max(np.abs(allv - scale.center)))
        span = span or 1.0
        return mpl.colors.TwoSlopeNorm(vmin=scale.center - span, vcenter=scale.center, vmax=scale.center + span)
    lo = scale.vmin if scale.vmin is not None else (float(allv.min()) if allv.size else 0.0)
    hi = scale.vmax if scale.vmax is not None else (float(allv.max()) if allv.size else 1.0)
    return mpl.colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)


def wrap_items(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters, between its items (separated by two spaces or
    a newline) where it can and inside an item only where one item alone is longer, so the labels under adjacent
    panels never run into each other."""
    import textwrap

    out: list[str] = []
    for line in text.split("\n"):
        cur = ""
        for item in (i.strip() for i in line.split("  ") if i.strip()):
            if cur and len(cur) + 2 + len(item) <= width:
                cur += "  " + item
                continue
            if cur:
                out.append(cur)
            pieces = textwrap.wrap(item, width) or [item]
            out.extend(pieces[:-1])
            cur = pieces[-1]
        out.append(cur)
    return "\n".join(out)


def _under(ax: "Axes", text: str, *, below_labels: bool = False) -> None:
    """The panel's metrics, centred under it: off the data, wrapped to the panel's width."""
    if text:
        width_in = max(ax.get_position().width * ax.figure.get_figwidth(), 0.3)
        # a character of the label font is about 0.6 of its size wide
        text = wrap_items(text, max(8, int(width_in * 72 / (MIN_FONT_PT * 0.6))))
        ax.text(
            0.5,
            -0.2 if below_labels else -0.03,
            text,
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=MIN_FONT_PT,
            color="0.15",
        )


def _empty(ax: "Axes", note: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_color("0.85")
    ax.text(
        0.5,
        0.5,
        (note or "no data").replace(" (", "\n("),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=MIN_FONT_PT,
        color="0.35",
        wrap=True,
    )


def draw_scatter(
    ax: "Axes",
    panel: ScatterPanel,
    *,
    norm: Any = None,
    cmap: str = "viridis",
    point_size: float | None = None,
    equal_axes: bool = True,
) -> Any:
    """Draw one :class:`ScatterPanel` into ``ax`` (no ticks; metrics under it). Returns the scatter."""
    from matplotlib.collections import LineCollection

    ax.set_title(panel.title, fontsize=TITLE_PT, pad=3)
    if panel.xy is None or len(panel.xy) == 0:
        _empty(ax, panel.note)
        return None
    xy = panel.xy
    size = (
        _point_size(len(xy), max(ax.get_position().width * ax.figure.get_figwidth(), 0.5))
        if point_size is None
        else point_size
    )
    if panel.lines is not None and len(panel.lines):
        segs = np.stack([xy[panel.lines[:, 0]], xy[panel.lines[:, 1]]], axis=1)
        ax.add_collection(
            LineCollection(
                segs,
                colors="tab:red",
                linewidths=FALSE_LINE_WIDTH,
                alpha=FALSE_LINE_ALPHA,
                zorder=1,
                label="false neighbours",
            )
        )
    kw: dict[str, Any] = {"s": size, "linewidths": 0.25, "edgecolors": "0.3", "zorder": 2}
    if panel.color is not None:
        missing = missing_colour(panel)
        if missing.any():  # no value to map: a visible grey, said under the panel
            ax.scatter(xy[missing, 0], xy[missing, 1], color=MISSING_COLOR, label="no value", **kw)
        ok = np.flatnonzero(~missing)
        if panel.categories:  # one colour and one legend entry per category; no colour bar
            for k, name, colour in category_drawing(panel):
                these = ok[panel.color[ok] == k]
                ax.scatter(xy[these, 0], xy[these, 1], color=colour, label=name, **kw)
            if panel.legend:
                ax.legend(fontsize=MIN_FONT_PT, markerscale=1.5, frameon=False, loc="best", handletextpad=0.2)
            sc = None
        else:
            # the values named by on_top last, so they sit on top (ranks: the most important; norms: the represented)
            key = -panel.color[ok] if panel.on_top == "low" else panel.color[ok]
            order = ok[np.argsort(key, kind="stable")]
            sc = ax.scatter(xy[order, 0], xy[order, 1], c=panel.color[order], cmap=cmap, norm=norm, **kw)
    else:
        sc = ax.scatter(xy[:, 0], xy[:, 1], color=panel.fill or "tab:blue", **kw)
    eq = panel.equal_axes if panel.equal_axes is not None else equal_axes
    if eq:
        ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.margins(0.1)
    if np.ptp(xy, axis=0).max() == 0:  # one spot: give it a visible frame instead of a degenerate range
        c = xy[0]
        ax.set_xlim(c[0] - 1, c[0] + 1)
        ax.set_ylim(c[1] - 1, c[1] + 1)
    _under(ax, under_text(panel))
    return sc


def number_text(value: float, fmt: str = "{:.2f}") -> str:
    """A value written into a heatmap cell; ``fmt="short"``: .12, −.04, 1.0 (no leading zero); ``fmt="int"``: the
    nearest integer, −4, 0, 12 (no "−0"), for values already scaled to fit a narrow cell."""
    if fmt == "int":
        return str(int(round(float(value)))).replace("-", "−")
    if fmt != "short":
        return fmt.format(value)
    text = f"{0.0 if abs(value) < 0.005 else value:.2f}"
    if abs(value) < 1:
        text = text.replace("0.", ".", 1)
    return text.replace("-", "−")


def draw_heatmap(ax: "Axes", panel: HeatmapPanel, *, norm: Any, cmap: str) -> Any:
    """Draw one :class:`HeatmapPanel` into ``ax``; integer tick labels when the panel has them."""
    ax.set_title(panel.title, fontsize=TITLE_PT, pad=3)
    if panel.xlabel:
        ax.set_xlabel(panel.xlabel, fontsize=MIN_FONT_PT, labelpad=1)
    if panel.ylabel:
        ax.set_ylabel(panel.ylabel, fontsize=MIN_FONT_PT, labelpad=1)
    if panel.matrix is None:
        _empty(ax, panel.note)
        return None
    M = np.asarray(panel.matrix, dtype=float)
    im = ax.imshow(M, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto" if panel.xticklabels else "equal")
    if panel.xticklabels is not None:
        ax.set_xticks(range(M.shape[1]), panel.xticklabels, fontsize=MIN_FONT_PT)
    else:
        ax.set_xticks([])
    if panel.yticklabels is not None:
        ax.set_yticks(range(M.shape[0]), panel.yticklabels, fontsize=MIN_FONT_PT)
    else:
        ax.set_yticks([])
    ax.tick_params(length=2, pad=1)
    if panel.annotate:
        cmap_obj = im.get_cmap()
        for (i, j), v in np.ndenumerate(M):
            if np.isfinite(v):
                r, g, b, _ = cmap_obj(norm(v))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                ax.text(
                    j,
                    i,
                    number_text(v, panel.number_format),
                    ha="center",
                    va="center",
                    fontsize=MIN_FONT_PT,
                    color="white" if dark else "black",
                )
    _under(ax, panel.corner, below_labels=panel.xticklabels is not None)
    return im


def draw_shepard(ax: "Axes", panel: ShepardPanel, *, ylabel: bool = True) -> None:
    """Draw one :class:`ShepardPanel` into ``ax``: pairs as dots, disparities as a red line.

    When every dissimilarity is the same (``diag(N)``) the dots are spread a little along x so the
    strip of distances shows (a fixed seed: the same picture every time).
    """
    d, dist = panel.dissimilarity, panel.distance
    span = float(np.max(d)) if d.size else 1.0
    tied = d.size > 0 and np.ptp(d) < 1e-9 * max(span, 1e-300)
    jitter = np.random.default_rng(0).uniform(-0.015, 0.015, size=d.shape) * span if tied else 0.0
    ax.scatter(d + jitter, dist, s=4, alpha=0.4, color="0.2", linewidths=0, label="pairs")
    top = float(np.max(dist)) if dist.size else 1.0
    if panel.disparity is not None and d.size:
        dh = panel.disparity
        if tied:
            ax.hlines(float(np.mean(dh)), span * 0.9, span * 1.1, color="tab:red", linewidth=1.5, label="disparities")
        else:
            order = np.argsort(d, kind="stable")
            ax.plot(d[order], dh[order], color="tab:red", linewidth=1.2, label="disparities")
        top = max(top, float(np.max(dh)))
    ax.set_xlim(0, span * 1.2 if span > 0 else 1.0)
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    ax.set_xlabel("dissimilarity", fontsize=MIN_FONT_PT, labelpad=1)
    if ylabel:
        ax.set_ylabel("distance", fontsize=MIN_FONT_PT, labelpad=1)
    ax.tick_params(labelsize=MIN_FONT_PT, length=2, pad=1)
    ax.locator_params(nbins=3)
    ax.set_title(panel.title, fontsize=TITLE_PT, pad=3)
    _under(ax, panel.corner, below_labels=True)


_MARKS = "abcdefghijklmnopqrstuvwxyz"


class ReasonMarks:
    """Letters for the reasons of undefined cells, shared by the panels of one figure."""

    def __init__(self) -> None:
        self.marks: dict[str, str] = {}

    def __call__(self, reason: str) -> str:
        reason = reason or "undefined"
        if reason not in self.marks:
            self.marks[reason] = _MARKS[len(self.marks) % len(_MARKS)]
        return self.marks[reason]

    def footer(self) -> str:
        """``"hatched = undefined: a = ...; b = ..."`` (empty when no cell is undefined)."""
        if not self.marks:
            return ""
        return "hatched = undefined: " + "; ".join(f"{m} = {r}" for r, m in self.marks.items())


def reason_heatmap(
    ax: "Axes",
    values: np.ndarray,
    *,
    reasons: np.ndarray | None = None,
    marks: "ReasonMarks | None" = None,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    vmin: float,
    vmax: float,
    cmap: str = "viridis",
    color_values: np.ndarray | None = None,
    fmt: str = "{:.2f}",
    title: str = "",
    fontsize: float = 6.0,
    origin: str = "upper",
) -> Any:
    """Draw ``values [rows, cols]`` as a heatmap on ``ax``, each value written in its cell: the one
    heatmap of supviz whose undefined cells say why.

    NaN cells are white, hatched, and marked with the letter of their reason (``reasons``, same
    shape, strings; ``marks`` collects the letters of a figure), or "n/a" without ``marks``.
    ``color_values`` (same shape) colours the cells instead of ``values`` (e.g. a log ratio), the
    text still shows ``values``. ``origin="lower"`` puts row 0 at the bottom. Returns the image (for a
    colour bar).
    """
    from matplotlib.patches import Rectangle

    V = np.asarray(values, dtype=float)
    C = V if color_values is None else np.asarray(color_values, dtype=float)
    import matplotlib

    cm = matplotlib.colormaps[cmap].with_extremes(bad="white")
    im = ax.imshow(np.ma.masked_invalid(C), cmap=cm, vmin=vmin, vmax=vmax, aspect="auto", origin=origin)
    ax.set_xticks(range(V.shape[1]), list(col_labels), fontsize=fontsize + 0.5)
    ax.set_yticks(range(V.shape[0]), list(row_labels), fontsize=fontsize + 0.5)
    ax.tick_params(length=0)
    norm = im.norm
    for i in range(V.shape[0]):
        for j in range(V.shape[1]):
            v, c = V[i, j], C[i, j]
            if not np.isfinite(v):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="////", edgecolor="0.75", lw=0))
                why = "" if reasons is None else str(reasons[i, j])
                ax.text(
                    j,
                    i,
                    marks(why) if marks is not None else "n/a",
                    ha="center",
                    va="center",
                    fontsize=fontsize + 1,
                    color="0.25",
                    fontweight="bold",
                )
                continue
            r, g, b, _ = cm(norm(c)) if np.isfinite(c) else (1, 1, 1, 1)
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(
                j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize, color="white" if dark else "black"
            )
    if title:
        ax.set_title(title, fontsize=8)
    return im


def _needs_axis_text(panel: Panel) -> bool:
    return isinstance(panel, ShepardPanel) or (
        isinstance(panel, HeatmapPanel)
        and (panel.xticklabels is not None or panel.yticklabels is not None or bool(panel.xlabel or panel.ylabel))
    )


def _colorbar(
    fig: "Figure",
    mappable: Any,
    *,
    x_in: float,
    width: float,
    height: float,
    top_in: float,
    bottom_in: float,
    label: str,
    integer: bool,
    extend: str = "neither",
    at_least: bool = False,
) -> Any:
    import matplotlib as mpl

    usable = height - top_in - bottom_in
    cax = fig.add_axes(
        (x_in / width, (bottom_in + 0.15 * usable) / height, 0.13 / width, 0.7 * usable / height), label="<colorbar>"
    )
    cb = fig.colorbar(mappable, cax=cax, extend=extend)
    cb.set_label(label, fontsize=MIN_FONT_PT + 0.5)
    cb.ax.tick_params(labelsize=MIN_FONT_PT)
    if integer:
        cb.locator = mpl.ticker.MaxNLocator(integer=True)
        cb.update_ticks()
    if at_least:  # the values were clipped at the top: its tick says "≥" (ColorScale.at_least)
        top = float(mappable.norm.vmax)
        ticks = [t for t in cb.get_ticks() if mappable.norm.vmin - 1e-9 <= t < top - 1e-9] + [top]
        shown = ColorScale(vmax=top, integer=integer, at_least=True)
        cb.set_ticks(ticks, labels=[tick_text(t, shown) for t in ticks])
    return cb


#: Room under the grid for colour bars set under the columns they colour (bar, its ticks, a label of up to two lines).
_UNDER_BAR_IN = 0.8


def _extend(panels: Sequence[Panel], name: str, norm: Any) -> str:
    """A heatmap scale's colour-bar ends: arrows where its panels hold values beyond the bar's range."""
    vals = np.concatenate(
        [
            p.matrix[np.isfinite(p.matrix)].ravel()
            for p in panels
            if isinstance(p, HeatmapPanel) and p.scale == name and p.matrix is not None
        ]
        or [np.array([])]
    )
    lo_out = vals.size and vals.min() < norm.vmin - 1e-12
    hi_out = vals.size and vals.max() > norm.vmax + 1e-12
    return "both" if lo_out and hi_out else "min" if lo_out else "max" if hi_out else "neither"


def _colorbar_under(
    fig: "Figure", mappable: Any, *, rect: tuple[float, float, float, float], width_in: float, label: str, extend: str
) -> Any:
    """A horizontal colour bar at ``rect`` (figure fractions), under the columns it colours; its label wrapped to the
    bar's width (``width_in`` inches)."""
    import textwrap

    cax = fig.add_axes(rect, label="<colorbar>")
    cb = fig.colorbar(mappable, cax=cax, orientation="horizontal", extend=extend)
    per_line = max(12, int(width_in * 72 / (0.55 * (MIN_FONT_PT + 0.5))))
    cb.set_label(textwrap.fill(label, per_line), fontsize=MIN_FONT_PT + 0.5, labelpad=1)
    cb.ax.tick_params(labelsize=MIN_FONT_PT, pad=1.5)
    return cb


def _column_groups(panels: Sequence[Panel], names: Sequence[str], ncols: int) -> dict[str, tuple[int, int]] | None:
    """Where each heatmap scale's columns lie, ``name -> (first, last)``, when there are two scales or more and each
    colours a run of whole columns of its own (D1: the measure's columns, then the change's): then each gets its bar
    under its own columns, where a reader looks for it. None otherwise (one bar per scale right of the grid)."""
    if len(names) < 2:
        return None
    cols = {
        n: sorted({i % ncols for i, p in enumerate(panels) if isinstance(p, HeatmapPanel) and p.scale == n})
        for n in names
    }
    taken: set[int] = set()
    for c in cols.values():
        if c != list(range(c[0], c[-1] + 1)) or taken & set(c):
            return None
        taken |= set(c)
    return {n: (c[0], c[-1]) for n, c in cols.items()}


def plot_grid(
    panels: Sequence[Panel],
    *,
    ncols: int,
    title: str = "",
    color: ColorScale | None = None,
    scales: Mapping[str, ColorScale] | None = None,
    equal_axes: bool = True,
    point_size: float | None = None,
    panel_in: float = PANEL_IN,
    max_width_in: float = MAX_WIDTH_IN,
) -> "Figure":
    """A grid of panels (layouts, Shepard plots, matrices) with shared colour bars.

    Parameters
    ----------
    panels : sequence of ScatterPanel, ShepardPanel, HeatmapPanel or supviz.dr.Layout
        In reading order (row by row); kinds may mix (B1: layouts above their Shepard plots). A
        Layout is drawn as :func:`plot_layout` draws it. Points whose colour value is NaN or
        infinite are drawn in grey (:data:`~supviz.plot.panels.MISSING_COLOR`), counted under
        their panel.
    ncols : int
        Panels per row.
    title : str
        Figure title.
    color : ColorScale, optional
        The scale of the scatter panels' ``color`` (colour map, range, colour-bar label; a bar is
        drawn when it has a label). Default: viridis over the range of all colours.
    scales : mapping name -> ColorScale, optional
        The heatmap panels' scales by :attr:`HeatmapPanel.scale`; default ``{"gram": RdBu_r
        centred at 0}``. Each scale in use gets one colour bar.
    equal_axes : bool, default True
        Equal axes for scatter panels that do not say (MDS: distances are the point).
    point_size : float, optional
        Marker area in points²; default from the point count and the panel size.
    panel_in, max_width_in : float
        Panel side and the widest figure, in inches (the panel shrinks to fit).

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = [as_panel(p, i) for i, p in enumerate(panels)]
    if not panels:
        raise SupvizError("`panels` must hold at least one panel; got none.")
    color = color or ColorScale()
    scales = dict(scales or {"gram": ColorScale("RdBu_r", center=0.0, label="W Wᵀ")})
    heat_names = list(dict.fromkeys(p.scale for p in panels if isinstance(p, HeatmapPanel)))
    for name in heat_names:
        if name not in scales:
            raise SupvizError(f"`scales` must name every heatmap panel's scale; {name!r} is missing.")
    has_colour = any(
        isinstance(p, ScatterPanel) and p.color is not None and p.xy is not None and not p.categories for p in panels
    )
    bars = ([("points", color)] if has_colour and color.label else []) + [
        (n, scales[n]) for n in heat_names if scales[n].label
    ]
    # categorical panels that all leave their legend out share one, at the figure's right (where a bar would be)
    cats = [p for p in panels if isinstance(p, ScatterPanel) and p.categories and p.xy is not None]
    shared = bool(cats) and not any(p.legend for p in cats)
    nrows, ncols = grid_shape(len(panels), ncols)
    # the bar next to the grid belongs to the scale of its rightmost column (D1's change column beside the measure's
    # bar read as if the measure's colours were its own): bars of scales reaching further right come first
    cols = {
        n: [i % ncols for i, p in enumerate(panels) if isinstance(p, HeatmapPanel) and p.scale == n] for n in heat_names
    }
    reach = {n: max(c) for n, c in cols.items()}
    bars = sorted(bars, key=lambda b: -reach[b[0]] if b[0] in reach else -ncols)
    # two heatmap scales over runs of columns (D1): each bar under the columns it colours, not both right of the grid
    groups = _column_groups(panels, heat_names, ncols)
    under = [(n, sc) for n, sc in bars if groups and n in groups]
    bars = [b for b in bars if b not in under]
    right = _COLORBAR_IN * (len(bars) + shared) + 0.1
    side = min(panel_in, (max_width_in - _LEFT_IN - right - _GAP_IN * (ncols - 1)) / ncols)
    width = _LEFT_IN + ncols * side + (ncols - 1) * _GAP_IN + right
    corner_lines = max(
        (getattr(p, "corner", "").count("\n") + 1 for p in panels if getattr(p, "corner", "")), default=0
    )
    axis_text = any(_needs_axis_text(p) for p in panels)
    below = 0.06 + _CORNER_IN * corner_lines * 0.8 + (_AXES_TEXT_IN[1] if axis_text else 0.0)
    row_h = _TITLE_IN + side + below
    top = 0.42 + 0.18 * max(0, title.count("\n") - 1) if title else 0.05  # room for two lines, more per line
    under_in = _UNDER_BAR_IN if under else 0.0
    height = top + nrows * row_h + 0.05 + under_in
    fig = _figure(width, height)
    snorm = _scatter_norm(panels, color)
    hnorms = {n: _heat_norm(panels, scales[n], n) for n in heat_names}
    mappables: dict[str, Any] = {}
    spans: dict[int, tuple[float, float]] = {}  # column -> its panels' left and right edge (inches)
    for idx, panel in enumerate(panels):
        r, c = divmod(idx, ncols)
        x0 = _LEFT_IN + c * (side + _GAP_IN)
        y0 = height - top - r * row_h - _TITLE_IN - side
        w = h = side
        if _needs_axis_text(panel):
            dx, dy = _AXES_TEXT_IN
            x0, w, h = x0 + dx, side - dx, side - 0.05
        spans[c] = (x0, x0 + w)
        ax = fig.add_axes((x0 / width, y0 / height, w / width, h / height))
        if isinstance(panel, ScatterPanel):
            sc = draw_scatter(ax, panel, norm=snorm, cmap=color.cmap, point_size=point_size, equal_axes=equal_axes)
            if sc is not None and panel.color is not None:
                mappables.setdefault("points", sc)
        elif isinstance(panel, HeatmapPanel):
            im = draw_heatmap(ax, panel, norm=hnorms[panel.scale], cmap=scales[panel.scale].cmap)
            if im is not None:
                mappables.setdefault(panel.scale, im)
        elif isinstance(panel, ShepardPanel):
            draw_shepard(ax, panel, ylabel=c == 0)
        else:
            raise SupvizError(
                f"`panels` must hold ScatterPanel, HeatmapPanel or ShepardPanel; got {type(panel).__name__}."
            )
    x = _LEFT_IN + ncols * side + (ncols - 1) * _GAP_IN + 0.15
    import matplotlib as mpl

    for name, scale in under:
        first, last = groups[name]
        x0, x1 = spans[first][0], spans[last][1]
        norm = hnorms[name]
        _colorbar_under(
            fig,
            mpl.cm.ScalarMappable(norm=norm, cmap=scale.cmap),
            rect=(x0 / width, (under_in - 0.2) / height, (x1 - x0) / width, 0.11 / height),
            width_in=x1 - x0,
            label=scale.label,
            extend=_extend(panels, name, norm),
        )
    for name, scale in bars:
        norm = snorm if name == "points" else hnorms[name]
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=scale.cmap)
        integer = scale.integer
        if name == "points" and not integer:
            cols = [p.color for p in panels if isinstance(p, ScatterPanel) and p.color is not None]
            integer = bool(cols) and all(np.allclose(cc[np.isfinite(cc)], np.round(cc[np.isfinite(cc)])) for cc in cols)
        extend = "neither" if name == "points" else _extend(panels, name, norm)
        _colorbar(
            fig,
            sm,
            x_in=x,
            width=width,
            height=height,
            top_in=top,
            bottom_in=0.1,
            label=scale.label,
            integer=integer,
            extend=extend,
            at_least=scale.at_least,
        )
        x += _COLORBAR_IN
    if shared:
        from matplotlib.lines import Line2D

        entries = dict((name, colour) for p in cats for _k, name, colour in category_drawing(p))
        handles = [
            Line2D([], [], marker="o", ls="", color=colour, markeredgecolor="0.3", markeredgewidth=0.25, label=name)
            for name, colour in reversed(entries.items())  # the one drawn on top first
        ]
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=((x - 0.05) / width, 1 - top / height),
            fontsize=MIN_FONT_PT,
            frameon=False,
            handletextpad=0.2,
            borderaxespad=0.0,
        )
    if title:
        fig.suptitle(title, fontsize=SUPTITLE_PT, y=1 - 0.12 / height, va="top")
    return fig


def plot_layout(
    layout: Any,
    color: Any = None,
    ax: "Axes | None" = None,
    *,
    title: str = "",
    corner: str = "",
    lines: Any = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    color_label: str = "",
    equal_axes: bool | None = None,
    point_size: float | None = None,
    reference: Any = None,
    k: int = 10,
) -> "Axes":
    """Draw one 2-D layout.

    Parameters
    ----------
    layout : supviz.dr.Layout, array [N, 2] or ScatterPanel
        The picture. A Layout brings its title (the method), its corner (MDS: "SMACOF stress", the
        stress SMACOF minimised, ``info['smacof_stress']``, not :func:`supviz.metrics.stress1_ratio`; t-SNE: the
        KL divergence) and equal axes for MDS.
    color : array [N] or str, optional
        A matplotlib colour (``"red"``) for every point, or values coloured through ``cmap``
        (``vmin``/``vmax``; default their range). NaN or
        infinite values are drawn in grey (:data:`~supviz.plot.panels.MISSING_COLOR`) and counted
        under the panel ("grey: k without a value"). Labels (class names, booleans) colour by
        category instead, with a legend (:func:`supviz.plot.panels.category_codes`).
    ax : matplotlib Axes, optional
        Where to draw; a new figure (through pyplot, for notebooks) when omitted.
    title, corner : str
        Panel title and the metrics written under it.
    lines : array [P, 2] of int, optional
        Pairs of points joined by faint red segments (e.g. false neighbours).
    color_label : str
        Draw a colour bar with this label.
    equal_axes : bool, optional
        Equal axes (default: True for MDS layouts and arrays, False for UMAP / t-SNE layouts).
    point_size : float, optional
        Marker area in points².
    reference : array_like (N, d), optional
        The points the layout pictures; then ``color="trust"`` colours each point by its own trust
        (:mod:`supviz.plot.trust`: 0..1, the colour bar "trust (t + c) / 2" unless ``color_label`` says
        otherwise, T and C in the corner unless ``corner`` is given).
    k : int, default 10
        Neighbourhood size of the trust scores.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    SupvizError
        ``color`` a string that is neither "trust" nor a matplotlib colour, or "trust" without ``reference``.
    """
    import matplotlib as mpl

    from supviz.plot.panels import single_colour
    from supviz.plot.trust import TRUST_SCALE, trust_corner, with_trust

    by_trust = isinstance(color, str) and color == "trust"
    color, fill = single_colour(color)
    color, _, pt = with_trust(layout, color, reference=reference, k=k)
    if by_trust:
        vmin, vmax, cmap = TRUST_SCALE.vmin, TRUST_SCALE.vmax, TRUST_SCALE.cmap
        color_label = color_label or TRUST_SCALE.label
    if pt is not None and not corner:
        corner = trust_corner(pt)
    panel = as_scatter_panel(layout, color=color, title=title, corner=corner, lines=lines, equal_axes=equal_axes)
    panel.fill = fill
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3.4 if color_label else 2.8, 2.8))
    norm = _scatter_norm([panel], ColorScale(cmap, vmin, vmax))
    sc = draw_scatter(
        ax,
        panel,
        norm=norm,
        cmap=cmap,
        point_size=point_size,
        equal_axes=True if panel.equal_axes is None else panel.equal_axes,
    )
    if color_label and sc is not None and panel.color is not None:
        cb = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.85)
        cb.set_label(color_label, fontsize=MIN_FONT_PT + 0.5)
        cb.ax.tick_params(labelsize=MIN_FONT_PT)
    return ax


def plot_shepard(result: Any, ax: "Axes | None" = None, *, index: int | None = None, title: str = "Shepard") -> "Axes":
    """The Shepard plot of an MDS fit: every pair's dissimilarity against its distance in the layout,
    the fitted disparities as a red line (Kruskal 1964; R smacof's ``plot(fit, "Shepard")``).

    Parameters
    ----------
    result : supviz.dr.SmacofResult, MDS Layout, supviz.dr.ShepardData or ShepardPanel
    ax : matplotlib Axes, optional
    index : int, optional
        The batch item of a batched SmacofResult.

    Returns
    -------
    matplotlib.axes.Axes
    """
    panel = as_shepard_panel(result, index=index, title=title)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(2.8, 2.6), layout="constrained")
    draw_shepard(ax, panel)
    return ax


def gram_panel(
    W: Any, *, title: str = "", corner: str = "", annotate: bool = False, ticks: bool = False
) -> HeatmapPanel:
    """The :class:`HeatmapPanel` of ``W Wᵀ`` for feature directions ``W [n, m]`` (row i = feature i).

    Raises
    ------
    SupvizError
        ``W`` not a finite 2-D array with at least one row and column, or so large that ``W Wᵀ``
        overflows float64.
    """
    from supviz.core.validation import check_array

    W = check_array("W", W, ndim=2)
    if W.shape[0] < 1 or W.shape[1] < 1:
        raise SupvizError(f"`W` must hold at least one feature (row) and one dimension (column); got shape {W.shape}.")
    with np.errstate(over="ignore", invalid="ignore"):
        G = W @ W.T
    if not np.isfinite(G).all():
        raise SupvizError(
            f"`W` is too large to draw: W Wᵀ overflows float64 (|W| up to {float(np.max(np.abs(W))):.3g}); "
            "divide W by its scale first."
        )
    labels = [str(i) for i in range(W.shape[0])] if ticks else None
    return HeatmapPanel(title, G, corner=corner, annotate=annotate, xticklabels=labels, yticklabels=labels)


def gram_span(panel: HeatmapPanel, vmax: Any) -> float:
    """The half-range of a Gram panel's symmetric colour scale: ``vmax`` (a finite number > 0) or the
    largest ``|W Wᵀ|`` (1 for an all-zero matrix). Shared by both drawings of :func:`plot_gram`."""
    from supviz.core.validation import check_float

    if vmax is not None:
        return check_float("vmax", vmax, min_value=0.0, min_inclusive=False)
    return float(np.max(np.abs(panel.matrix))) or 1.0


def plot_gram(
    W: Any,
    ax: "Axes | None" = None,
    *,
    vmax: float | None = None,
    title: str = "W Wᵀ",
    annotate: bool = False,
    ticks: bool | None = None,
) -> "Axes":
    """The Gram matrix ``W Wᵀ`` of feature directions (Elhage et al. 2022 draw it as ``WᵀW``).

    Diverging colour map centred at 0 (red: positive interference, blue: negative, white: none).

    Parameters
    ----------
    W : array [n, m]
        Row i is feature i's direction in the hidden space.
    ax : matplotlib Axes, optional
    vmax : float, optional
        Symmetric range ``[-vmax, vmax]``, > 0; default the largest ``|W Wᵀ|``.
    annotate : bool
        Write each value in its cell (small n).
    ticks : bool, optional
        Integer feature-index ticks (default: when n <= 12).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    SupvizError
        As :func:`gram_panel`, or ``vmax`` not a finite number > 0.
    """
    import matplotlib as mpl

    from supviz.core.validation import check_array

    W = check_array("W", W, ndim=2)
    panel = gram_panel(W, title=title, annotate=annotate, ticks=W.shape[0] <= 12 if ticks is None else ticks)
    span = gram_span(panel, vmax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3.0, 2.6), layout="constrained")
    norm = mpl.colors.TwoSlopeNorm(vmin=-span, vcenter=0.0, vmax=span)
    draw_heatmap(ax, panel, norm=norm, cmap="RdBu_r")
    return ax


def min_font_px(fig: "Figure", *, dpi: float = 110.0, display_width: float = DISPLAY_WIDTH_PX) -> float:
    """The smallest visible text of ``fig`` in CSS pixels when shown at most ``display_width`` wide.

    A PNG of ``width * dpi`` pixels wider than the report's column is scaled down by the browser,
    and its text with it; this is the size the reader sees.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    FigureCanvasAgg(fig).draw()
    scale = min(1.0, display_width / (fig.get_figwidth() * dpi))
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())
    ]
    return float(min(sizes) * dpi / 72.0 * scale) if sizes else float("inf")


#: A collection (scatter) of more points than this is drawn as an image inside a vector file (SVG, PDF); axes,
#: text and smaller collections stay vector. Matplotlib's advice for dense plots: a D2 panel grid of 18 x 200
#: markers was a 1.4 MB SVG of one element per marker, slow to write and to open in an editor.
RASTER_ABOVE = 150


@contextmanager
def rasterized_dense(fig: "Figure", above: int = RASTER_ABOVE) -> Iterator[int]:
    """Within the block, every collection of ``fig`` with more than ``above`` offsets is rasterized (for vector
    output only: the Agg canvas draws it the same either way); the flags are restored after. Yields the count."""
    from matplotlib.collections import Collection

    changed = []
    for artist in fig.findobj(Collection):
        if not artist.get_rasterized() and len(artist.get_offsets()) > above:
            artist.set_rasterized(True)
            changed.append(artist)
    try:
        yield len(changed)
    finally:
        for artist in changed:
            artist.set_rasterized(False)


@contextmanager
def frozen_layout(fig: "Figure") -> Iterator[bool]:
    """Within the block, ``fig`` keeps the positions its layout engine (constrained, tight) gave it at its last draw:
    the engine is set aside (``set_layout_engine("none")``) and put back after. Yields whether there was one.

    :func:`save_figure` lays a figure out once, for its PNG, and draws the vector files from that layout: each
    ``savefig`` otherwise runs the whole layout again (a draw without rendering, then the engine) before drawing.
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    active = engine is not None and not isinstance(engine, PlaceHolderLayoutEngine)
    if active:
        fig.set_layout_engine("none")
    try:
        yield active
    finally:
        if active:
            fig.set_layout_engine(engine)


def save_figure(
    fig: "Figure", stem: str | Path, *, formats: Sequence[str] = ("png", "svg"), dpi: int = 110, quantize: bool = True
) -> dict[str, Path]:
    """Write ``fig`` as ``<stem>.<fmt>`` for each format, each file atomically; returns format -> path.

    PNGs are palette-quantised to 256 colours (Pillow's median cut, no dithering) unless
    ``quantize=False``: about a third of the bytes, which keeps the report light. SVGs carry no
    date, so equal figures give equal files. In SVG and PDF, scatters of more than :data:`RASTER_ABOVE`
    points are images at ``dpi`` (:func:`rasterized_dense`); everything else stays vector. The PNG is drawn
    first and the figure's layout engine runs for it alone: the vector files keep its positions
    (:func:`frozen_layout`), so all files show one layout (text extents measured by Agg at ``dpi``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from supviz.core.validation import check_choice

    for fmt in formats:
        check_choice("formats", fmt, ("png", "svg", "pdf"))
    FigureCanvasAgg(fig)
    stem = Path(stem)
    paths = {fmt: stem.parent / f"{stem.name}.{fmt}" for fmt in formats}
    if "png" in paths:
        with atomic_path(paths["png"]) as tmp:
            if quantize:
                Path(tmp).write_bytes(png_bytes(fig, dpi=dpi))
            else:
                fig.savefig(tmp, format="png", dpi=dpi)
    vector = [f for f in paths if f != "png"]
    if not vector:
        return paths
    with frozen_layout(fig) if "png" in paths else nullcontext(), rasterized_dense(fig):
        for fmt in vector:
            with atomic_path(paths[fmt]) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    return paths


#: zlib level of the report's palette PNGs. Measured on the 54 PNGs of a default run (2-core Xeon): Pillow's
#: ``optimize=True`` (level 9) 5.6 CPU s for 4.45 MB, level 8 2.4 s for 4.55 MB (+2%), level 6 0.8 s for 4.78 MB
#: (+7%); the pixels are the same at every level.
PNG_COMPRESS_LEVEL = 8


def png_bytes(fig: "Figure", *, dpi: int = 110, quantize: bool = True) -> bytes:
    """The figure as PNG bytes, palette-quantised (see :func:`save_figure`).

    Quantised, the pixels are those of ``fig.savefig(format="png", dpi=dpi)`` for the figure's own colours (the
    ``savefig.facecolor`` / ``savefig.transparent`` settings are not applied), drawn in one pass of the Agg canvas;
    the figure's layout engine runs in that pass, and the figure keeps the positions it gives.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    if not quantize:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()
    from PIL import Image

    # the canvas' pixels, without encoding and decoding a full-colour PNG on the way (that round trip was about a
    # fifth of the report's figure time), and drawn once: savefig first lays a figure with a layout engine out in a
    # draw without rendering, then draws it again
    screen_dpi = fig.dpi
    fig.dpi = dpi
    try:
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        rgb = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1).convert("RGB")
    finally:
        fig.dpi = screen_dpi
    pal = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    pal.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def plot_trust(
    layouts: Any, reference: Any, *, k: int = 10, ncols: int = 3, title: str = "", precomputed: bool = False
) -> "Figure":
    """Where each picture lies: one panel per picture of ``reference``, each point coloured by its trust.

    ``layouts`` is a Layout, an ``(N, 2)`` array or a mapping title -> either (one per method);
    :func:`supviz.plot.trust.trust_panels` makes the panels (0..1 colour, T and C in each corner).
    """
    from supviz.plot.trust import TRUST_SCALE, trust_panels

    panels = trust_panels(layouts, reference, k=k, precomputed=precomputed)
    return plot_grid(panels, ncols=min(ncols, len(panels)), title=title, color=TRUST_SCALE, equal_axes=False)
