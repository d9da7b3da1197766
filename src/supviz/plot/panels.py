"""Panel data shared by the matplotlib (:mod:`supviz.plot.static`) and plotly
(:mod:`supviz.plot.interactive`) drawings.

A figure is a grid of panels; each panel carries its own data, its title (as the study titles
it: "m : p", "n_neighbors : min_dist", "perplexity 5", "N = 20") and the text under it (the
metrics of the panel). Panels never compute layouts or metrics: they hold what is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.dr.base import METHOD_NAMES
from supviz.errors import SupvizError


@dataclass
class ScatterPanel:
    """One 2-D layout.

    Parameters
    ----------
    title
        Panel title, e.g. ``"10 : 0.3"``.
    xy
        ``[N, 2]`` layout, or ``None`` for an empty panel (``note`` says why).
    color
        ``[N]`` values mapped through the figure's colour scale (``None``: one colour), or ``[N]``
        category labels (strings, e.g. class names, or booleans): each category its own colour and
        an entry in a legend (:func:`category_codes`; ``color`` then holds the codes, ``categories``
        the names).
    corner
        The panel's metrics, drawn under the panel (off the data), e.g. ``"stress 0.231"``.
    note
        Text shown in an empty panel.
    hover
        Per-point columns for the interactive hover box, name -> ``[N]`` values (feature index,
        importance, norm, represented, ...).
    lines
        ``[P, 2]`` integer pairs of points joined by faint red segments (false neighbours).
    equal_axes
        One unit the same length on both axes (MDS: distances are the point); ``None``: the
        figure's default.
    categories
        The names of categorical colours, code k = ``categories[k]``; empty for numeric colours.
    fill
        One matplotlib colour for every point when ``color`` is None (e.g. ``"red"``, ``"#1f77b4"``); empty:
        the default blue.
    on_top
        Which colour values are drawn last, on top of the others where points overlap: ``"low"`` (default;
        importance ranks, 0 = most important) or ``"high"`` (norms: the represented features over the dropped).
    palette
        For categorical colours: category name -> matplotlib colour (a category it does not name gets the default
        palette's colour); the named categories are drawn last, in the palette's order, so the last sits on top.
        A binary variable reads with two colours and a legend, not a colour bar.
    legend
        Draw the legend of categorical colours in this panel (default); ``False`` leaves it to another panel of
        the same categories, and when every categorical panel of a grid says ``False`` the grid draws one legend
        for them all, at its right (:func:`supviz.plot.plot_grid`).
    """

    title: str
    xy: np.ndarray | None
    color: np.ndarray | None = None
    corner: str = ""
    note: str = ""
    hover: dict[str, np.ndarray] = field(default_factory=dict)
    lines: np.ndarray | None = None
    equal_axes: bool | None = None
    categories: tuple[str, ...] = ()
    on_top: str = "low"
    fill: str = ""
    palette: dict[str, str] = field(default_factory=dict)
    legend: bool = True

    def __post_init__(self) -> None:
        if self.on_top not in ("low", "high"):
            raise SupvizError(f"`on_top` must be 'low' or 'high'; got {self.on_top!r}.")
        if self.palette:
            from matplotlib.colors import is_color_like

            bad = {k: v for k, v in dict(self.palette).items() if not isinstance(v, str) or not is_color_like(v)}
            if bad:
                raise SupvizError(f"`palette` must map category names to matplotlib colours; got {bad!r}.")
        if self.fill:
            from matplotlib.colors import is_color_like

            if not isinstance(self.fill, str) or not is_color_like(self.fill):
                raise SupvizError(f"`fill` must be a matplotlib colour; got {self.fill!r}.")
        if self.xy is None:
            return
        self.xy = np.asarray(self.xy, dtype=float)
        if self.xy.ndim != 2 or self.xy.shape[1] != 2:
            raise SupvizError(f"`xy` must have shape [N, 2]; got {self.xy.shape}.")
        n = self.xy.shape[0]
        if self.color is not None:
            coded = category_codes(self.color)
            if coded is not None:
                self.color, self.categories = coded
            self.color = np.asarray(self.color, dtype=float)
            if self.color.shape != (n,):
                raise SupvizError(f"`color` must have one value per point ({n}); got shape {self.color.shape}.")
        for name, values in self.hover.items():
            if len(np.asarray(values)) != n:
                raise SupvizError(
                    f"`hover[{name!r}]` must have one value per point ({n}); got {len(np.asarray(values))}."
                )
        if self.lines is not None:
            self.lines = np.asarray(self.lines, dtype=np.int64).reshape(-1, 2)
            if self.lines.size and (self.lines.min() < 0 or self.lines.max() >= n):
                raise SupvizError(
                    f"`lines` must index the panel's {n} points; got indices up to {int(self.lines.max())}."
                )


@dataclass
class HeatmapPanel:
    """One matrix (``W Wᵀ``, or a measure over (m, p)).

    Parameters
    ----------
    title
        Panel title.
    matrix
        ``[R, C]`` values (NaN cells drawn blank), or ``None`` for an empty panel.
    corner, note
        As for :class:`ScatterPanel`.
    scale
        Name of the colour scale this panel uses (panels of one scale share one colour bar);
        the figure's ``scales`` maps it to a :class:`ColorScale`.
    annotate
        Write each value in its cell (``"{:.2f}"``).
    xticklabels, yticklabels
        Tick labels of the columns / rows (``None``: no ticks); integers for feature indices.
    xlabel, ylabel
        Axis labels.
    """

    title: str
    matrix: np.ndarray | None
    corner: str = ""
    note: str = ""
    scale: str = "gram"
    annotate: bool = False
    number_format: str = "{:.2f}"
    """How annotated values are written; ``"short"``: two decimals without the leading zero (.12, −.04),
    which fits the narrow cells of an (m, p) grid; ``"int"``: the nearest integer (for values scaled to fit,
    e.g. changes in hundredths: −4)."""
    xticklabels: list[str] | None = None
    yticklabels: list[str] | None = None
    xlabel: str = ""
    ylabel: str = ""


@dataclass
class ShepardPanel:
    """A Shepard plot: each pair's dissimilarity against its distance in the layout, with the
    fitted disparities (the transformation of an MDS fit) as a red line."""

    dissimilarity: np.ndarray
    distance: np.ndarray
    disparity: np.ndarray | None = None
    title: str = "Shepard"
    corner: str = ""

    def __post_init__(self) -> None:
        self.dissimilarity = np.asarray(self.dissimilarity, dtype=float).ravel()
        self.distance = np.asarray(self.distance, dtype=float).ravel()
        if self.disparity is not None:
            self.disparity = np.asarray(self.disparity, dtype=float).ravel()
        if self.distance.shape != self.dissimilarity.shape or (
            self.disparity is not None and self.disparity.shape != self.dissimilarity.shape
        ):
            raise SupvizError(
                f"`dissimilarity`, `distance` and `disparity` must have one value per pair; got shapes "
                f"{self.dissimilarity.shape}, {self.distance.shape}"
                f"{'' if self.disparity is None else ', ' + str(self.disparity.shape)}."
            )


@dataclass
class ColorScale:
    """A colour scale shared by panels: colour map, range, label, and whether 0 is its centre."""

    cmap: str = "viridis"
    vmin: float | None = None
    vmax: float | None = None
    label: str = ""
    center: float | None = None
    integer: bool = False
    """Integer ticks on its colour bar (ranks, indices, counts)."""
    at_least: bool = False
    """The values were clipped at ``vmax``: its colour stands for ``vmax`` and above, and the top tick of the colour bar
    reads "≥ vmax" (:func:`tick_text`)."""


def tick_text(value: float, scale: ColorScale) -> str:
    """A colour-bar tick as the reader reads it: integers without decimals on an integer scale, and "≥ v" for the top
    of a scale whose values were clipped there (:attr:`ColorScale.at_least`)."""
    text = f"{value:.0f}" if scale.integer else f"{value:g}"
    if scale.at_least and scale.vmax is not None and np.isclose(value, scale.vmax):
        text = "≥ " + text
    return text


Panel = ScatterPanel | HeatmapPanel | ShepardPanel

#: The colour of points whose colour value is NaN or infinite (drawn, never dropped), in both drawings.
MISSING_COLOR = "#9a9a9a"


def missing_colour(panel: ScatterPanel) -> np.ndarray:
    """``[N]`` bool: the points whose colour value is not finite (all False without colours)."""
    if panel.color is None or panel.xy is None:
        return np.zeros(0 if panel.xy is None else len(panel.xy), dtype=bool)
    return ~np.isfinite(panel.color)


def under_text(panel: Panel) -> str:
    """The text under a panel: its ``corner``, plus "grey: k without a value" when points have a
    non-finite colour value (they are drawn in :data:`MISSING_COLOR`)."""
    corner = getattr(panel, "corner", "")
    if isinstance(panel, ScatterPanel):
        k = int(missing_colour(panel).sum())
        if k:
            note = f"grey: {k} without a value"
            corner = f"{corner}  {note}" if corner else note
    return corner


def as_panel(item: Any, index: int) -> Panel:
    """A grid item as a panel: panels pass, a :class:`supviz.dr.Layout` becomes its :class:`ScatterPanel`."""
    if isinstance(item, (ScatterPanel, HeatmapPanel, ShepardPanel)):
        return item
    if getattr(item, "embedding", None) is not None and hasattr(item, "method"):
        return as_scatter_panel(item)
    raise SupvizError(
        f"`panels[{index}]` must be a ScatterPanel, HeatmapPanel, ShepardPanel or Layout; got {type(item).__name__}."
    )


def category_codes(color: Any) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Category labels as ``(codes [N] float, names)``, or None for numeric colours.

    Labels are categorical when numpy holds them as strings, bytes, booleans or objects that are
    not all numbers (class names, ``["cat", "dog", ...]``). Names come in order of first
    appearance; a missing label (None or a float NaN) gets the code NaN, drawn grey like any
    point without a colour value.
    """
    try:
        arr = np.asarray(color)
    except (TypeError, ValueError):
        arr = np.asarray(list(color), dtype=object)
    if arr.dtype.kind not in "OUSb":
        return None
    flat = arr.reshape(-1)
    if arr.dtype.kind == "O" and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in flat):
        return None  # numbers that happen to sit in an object array
    names: dict[str, int] = {}
    codes = np.full(flat.shape, np.nan)
    for i, v in enumerate(flat):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        codes[i] = names.setdefault(v.decode() if isinstance(v, bytes) else str(v), len(names))
    return codes.reshape(arr.shape), tuple(names)


def category_colors(k: int) -> list[str]:
    """``k`` distinct colours (hex) for categories: tab10 up to 10, tab20 up to 20, then round hsv."""
    import matplotlib
    from matplotlib.colors import to_hex

    if k <= 10:
        return [to_hex(c) for c in matplotlib.colormaps["tab10"].colors[:k]]
    if k <= 20:
        return [to_hex(c) for c in matplotlib.colormaps["tab20"].colors[:k]]
    return [to_hex(matplotlib.colormaps["hsv"](i / k)) for i in range(k)]


def category_drawing(panel: ScatterPanel) -> list[tuple[int, str, str]]:
    """``(code, name, colour)`` of each category of ``panel`` in drawing order: the default palette's colours
    (:func:`category_colors`) in code order, then the categories ``panel.palette`` names, in its order and colours
    (drawn last: on top)."""
    default = category_colors(len(panel.categories))
    named = [n for n in panel.palette if n in panel.categories]
    rest = [(k, n, default[k]) for k, n in enumerate(panel.categories) if n not in panel.palette]
    return rest + [(panel.categories.index(n), n, panel.palette[n]) for n in named]


def grid_shape(count: int, ncols: int) -> tuple[int, int]:
    """Rows and columns of a grid holding ``count`` panels, ``ncols`` wide at most.

    Raises
    ------
    SupvizError
        ``ncols`` not an int >= 1.
    """
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise SupvizError(f"`ncols` must be an int >= 1; got {ncols!r}.")
    ncols = max(1, min(int(ncols), count))
    return (count + ncols - 1) // ncols, ncols


def as_scatter_panel(
    layout: Any,
    *,
    color: Any = None,
    title: str = "",
    corner: str = "",
    hover: dict[str, Any] | None = None,
    lines: Any = None,
    equal_axes: bool | None = None,
) -> ScatterPanel:
    """A :class:`ScatterPanel` from a :class:`supviz.dr.Layout`, an ``[N, 2]`` array or a panel.

    A Layout brings its own defaults: equal axes for MDS (distances are its point), a title naming
    the method and a corner with its stress (MDS) or KL divergence (t-SNE).
    """
    if isinstance(layout, ScatterPanel):
        return layout
    emb = getattr(layout, "embedding", None)
    if emb is not None:
        method = str(getattr(layout, "method", ""))
        info = getattr(layout, "info", {}) or {}
        if not corner:
            if method == "mds" and np.isfinite(float(info.get("smacof_stress", np.nan))):
                corner = f"SMACOF stress {float(info['smacof_stress']):.3f}"
            elif method == "tsne" and np.isfinite(float(info.get("kl_divergence", np.nan))):
                corner = f"KL {float(info['kl_divergence']):.3f}"
        if equal_axes is None:
            equal_axes = method == "mds"
        title = title or METHOD_NAMES.get(method, method)
        xy = np.asarray(emb, dtype=float)
    else:
        xy = np.asarray(layout, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise SupvizError(f"`layout` must be a Layout or an array of shape [N, 2]; got shape {xy.shape}.")
    return ScatterPanel(
        title,
        xy,
        color=color,
        corner=corner,
        hover=dict(hover or {}),
        lines=lines,
        equal_axes=equal_axes,
    )


def as_shepard_panel(result: Any, *, index: int | None = None, title: str = "Shepard") -> ShepardPanel:
    """A :class:`ShepardPanel` from a :class:`supviz.dr.SmacofResult`, a MDS ``Layout`` (its
    ``info["result"]``), a :class:`supviz.dr.ShepardData` or a panel."""
    if isinstance(result, ShepardPanel):
        return result
    info = getattr(result, "info", None)
    if isinstance(info, dict) and "result" in info:
        result = info["result"]
    if hasattr(result, "shepard") and callable(result.shepard):
        result = result.shepard(index)
    if all(hasattr(result, a) for a in ("dissimilarity", "distance")):
        stress = ""
        return ShepardPanel(
            result.dissimilarity, result.distance, getattr(result, "disparity", None), title=title, corner=stress
        )
    raise SupvizError(
        "`result` must be a SmacofResult, an MDS Layout with info['result'], ShepardData or a ShepardPanel; "
        f"got {type(result).__name__}."
    )


def single_colour(color: Any) -> tuple[Any, str]:
    """``(color, fill)`` of a ``plot_layout`` call: a matplotlib colour string (``"red"``, ``"#d62728"``,
    ``"C1"``) is one colour for every point, ``(None, color)``; anything else (values, labels, ``"trust"``)
    passes unchanged with no fill. ``"trust"`` is never read as a colour."""
    if isinstance(color, str) and color != "trust":
        from matplotlib.colors import is_color_like

        if is_color_like(color):
            return None, color
    return color, ""
