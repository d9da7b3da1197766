"""plotly versions of :mod:`supviz.plot.static`: the same panels, with hover.

:func:`plot_layout`, :func:`plot_shepard`, :func:`plot_gram` and :func:`plot_grid` mirror the
matplotlib functions of the same names: same titles, same colour scales, the panel's metrics under
its title; hovering a point shows the panel's ``hover`` columns (feature index, importance, norm,
represented, ...). Each returns a ``plotly.graph_objects.Figure``; the report embeds its JSON
(:func:`figure_json`). Text is at least 11 px. plotly is imported inside the functions.

Trace names say what a trace is, so a figure can be checked against its caption: ``"points"``,
``"false neighbours"``, ``"Shepard: pairs"``, ``"Shepard: disparities"``, ``"matrix"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

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

FONT_PX = 12
SMALL_PX = 11
PANEL_PX = 170
_CMAPS = {
    "viridis": "Viridis",
    "plasma": "Plasma",
    "RdBu_r": "RdBu_r",
    "RdBu": "RdBu",
    "cividis": "Cividis",
    "magma": "Magma",
}


def _round(values: np.ndarray, digits: int = 4) -> list[Any]:
    """Coordinates rounded to ``digits`` significant digits of the panel's scale (small JSON)."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    dec = digits - 1 - int(math.floor(math.log10(scale))) if scale > 0 else digits
    out = np.round(v, max(dec, 0)) if dec >= 0 else np.round(v / 10 ** (-dec)) * 10 ** (-dec)
    return [None if not np.isfinite(x) else float(x) for x in out]


def _hover_text(name: str, values: Any) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype == bool:
        return ["yes" if v else "no" for v in arr]
    if np.issubdtype(arr.dtype, np.integer):
        return [str(int(v)) for v in arr]
    if np.issubdtype(arr.dtype, np.floating):
        if np.all(np.isfinite(arr)) and np.allclose(arr, np.round(arr)) and name in ("feature", "point", "rank"):
            return [str(int(v)) for v in arr]
        return [f"{float(v):.3g}" for v in arr]
    return [str(v) for v in arr]


def _title(panel: Panel) -> str:
    corner = under_text(panel).replace("\n", "<br>")
    return panel.title + (f"<br><span style='font-size:{SMALL_PX}px'>{corner}</span>" if corner else "")


def _scatter_range(panels: Sequence[Panel], scale: ColorScale) -> tuple[float, float]:
    cols = [
        p.color
        for p in panels
        if isinstance(p, ScatterPanel) and p.xy is not None and p.color is not None and not p.categories
    ]
    allc = np.concatenate(cols) if cols else np.array([])
    allc = allc[np.isfinite(allc)]
    lo = scale.vmin if scale.vmin is not None else (float(allc.min()) if allc.size else 0.0)
    hi = scale.vmax if scale.vmax is not None else (float(allc.max()) if allc.size else 1.0)
    return lo, hi if hi > lo else lo + 1.0


def scatter_traces(
    panel: ScatterPanel, *, scale: ColorScale, vrange: tuple[float, float], showscale: bool
) -> list[Any]:
    """The traces of one layout panel: false-neighbour segments (if any) under the points."""
    import plotly.graph_objects as go

    xy = panel.xy
    traces = []
    if panel.lines is not None and len(panel.lines):
        xs: list[Any] = []
        ys: list[Any] = []
        px, py = _round(xy[:, 0]), _round(xy[:, 1])
        for a, b in panel.lines:
            xs += [px[a], px[b], None]
            ys += [py[a], py[b], None]
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="false neighbours",
                hoverinfo="skip",
                showlegend=False,
                line={"color": "rgba(214,39,40,0.2)", "width": 0.6},  # thin and translucent, under the points
            )
        )
    names = list(panel.hover)
    custom = np.array([_hover_text(n, panel.hover[n]) for n in names]).T.tolist() if names else None
    template = "<br>".join(f"{n}: %{{customdata[{i}]}}" for i, n in enumerate(names)) or "x %{x:.3g}, y %{y:.3g}"
    size = 7 if len(xy) <= 100 else 4
    marker: dict[str, Any] = {
        "size": size,
        "line": {"width": 0.4, "color": "#333"},
        "color": _hex(panel.fill) if panel.fill else "#1f77b4",
    }
    missing = missing_colour(panel)
    keep = np.flatnonzero(~missing)
    if missing.any():  # no value to map: a visible grey trace, in the legend
        gone = np.flatnonzero(missing)
        traces.append(
            go.Scatter(
                x=_round(xy[gone, 0]),
                y=_round(xy[gone, 1]),
                mode="markers",
                name="points: no value (grey)",
                legendgroup="no value",
                showlegend=True,
                marker={"size": size, "line": {"width": 0.4, "color": "#333"}, "color": MISSING_COLOR},
                customdata=None if custom is None else [custom[i] for i in gone],
                hovertemplate=template + f"<br>colour: no value<extra>{panel.title}</extra>",
            )
        )
        xy = xy[keep]
        custom = None if custom is None else [custom[i] for i in keep]
    if panel.categories:  # one trace, colour and legend entry per category
        codes = panel.color[keep]
        for k, name, colour in category_drawing(panel):
            these = np.flatnonzero(codes == k)
            traces.append(
                go.Scatter(
                    x=_round(xy[these, 0]),
                    y=_round(xy[these, 1]),
                    mode="markers",
                    marker={**marker, "color": colour},
                    name=name,
                    legendgroup=name,
                    customdata=None if custom is None else [custom[i] for i in these],
                    hovertemplate=template + f"<br>{name}<extra>{panel.title}</extra>",
                    showlegend=True,
                )
            )
        return traces
    if panel.color is not None:
        colours = panel.color[keep]
        marker.update(
            color=_round(colours, 4), colorscale=_CMAPS.get(scale.cmap, scale.cmap), cmin=vrange[0], cmax=vrange[1]
        )
        if showscale:
            bar: dict[str, Any] = {
                "title": {"text": scale.label, "side": "right", "font": {"size": FONT_PX}},
                "thickness": 12,
                "tickfont": {"size": SMALL_PX},
            }
            if scale.integer or np.allclose(colours, np.round(colours)):
                bar["tickformat"] = "d"
            if scale.at_least and scale.integer:  # clipped at the top: its tick says "≥" (ColorScale.at_least)
                vals = np.arange(np.ceil(vrange[0]), vrange[1] + 0.5, max(1, int(np.ceil((vrange[1] - vrange[0]) / 6))))
                vals = [float(v) for v in vals if v < vrange[1]] + [float(vrange[1])]
                top = ColorScale(vmax=float(vrange[1]), integer=True, at_least=True)
                bar.update(tickvals=vals, ticktext=[tick_text(v, top) for v in vals])
            marker.update(showscale=True, colorbar=bar)
    traces.append(
        go.Scatter(
            x=_round(xy[:, 0]),
            y=_round(xy[:, 1]),
            mode="markers",
            marker=marker,
            name="points",
            customdata=custom,
            hovertemplate=template + f"<extra>{panel.title}</extra>",
            showlegend=False,
        )
    )
    return traces


def shepard_traces(panel: ShepardPanel) -> list[Any]:
    """The traces of one Shepard panel: the pairs, and the disparities as a red line."""
    import plotly.graph_objects as go

    d, dist = panel.dissimilarity, panel.distance
    span = float(np.max(d)) if d.size else 1.0
    tied = d.size > 0 and np.ptp(d) < 1e-9 * max(span, 1e-300)
    jitter = np.random.default_rng(0).uniform(-0.015, 0.015, size=d.shape) * span if tied else 0.0
    traces = [
        go.Scatter(
            x=_round(d + jitter),
            y=_round(dist),
            mode="markers",
            name="Shepard: pairs",
            showlegend=False,
            marker={"size": 3, "color": "rgba(50,50,50,0.4)"},
            hovertemplate="dissimilarity %{x:.3g}<br>distance %{y:.3g}<extra></extra>",
        )
    ]
    if panel.disparity is not None and d.size:
        if tied:
            level = float(np.mean(panel.disparity))
            xs, ys = [span * 0.9, span * 1.1], [level, level]
        else:
            order = np.argsort(d, kind="stable")
            xs, ys = _round(d[order]), _round(panel.disparity[order])
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="Shepard: disparities",
                showlegend=False,
                line={"color": "#d62728", "width": 2},
                hoverinfo="skip",
            )
        )
    return traces


def heatmap_trace(panel: HeatmapPanel, *, scale: ColorScale, zrange: tuple[float, float], showscale: bool) -> Any:
    """The trace of one matrix panel."""
    import plotly.graph_objects as go

    M = np.asarray(panel.matrix, dtype=float)
    z = [[None if not np.isfinite(v) else round(float(v), 4) for v in row] for row in M]
    kw: dict[str, Any] = {}
    if panel.xticklabels is not None:
        kw["x"] = list(panel.xticklabels)
    if panel.yticklabels is not None:
        kw["y"] = list(panel.yticklabels)
    return go.Heatmap(
        z=z,
        colorscale=_CMAPS.get(scale.cmap, scale.cmap),
        zmin=zrange[0],
        zmax=zrange[1],
        name="matrix",
        showscale=showscale,
        colorbar={"title": {"text": scale.label, "side": "right"}, "thickness": 12},
        texttemplate=("%{z:.2f}" if panel.annotate else None),
        hovertemplate="row %{y}, column %{x}: %{z:.3g}<extra></extra>",
        **kw,
    )


def _heat_range(panels: Sequence[Panel], scale: ColorScale, name: str) -> tuple[float, float]:
    vals = [
        p.matrix[np.isfinite(p.matrix)]
        for p in panels
        if isinstance(p, HeatmapPanel) and p.scale == name and p.matrix is not None
    ]
    allv = np.concatenate(vals) if vals else np.array([])
    if scale.center is not None:
        span = max(abs(scale.vmin or 0.0), abs(scale.vmax or 0.0)) or (
            float(np.max(np.abs(allv - scale.center))) if allv.size else 1.0
        )
        return scale.center - (span or 1.0), scale.center + (span or 1.0)
    lo = scale.vmin if scale.vmin is not None else (float(allv.min()) if allv.size else 0.0)
    hi = scale.vmax if scale.vmax is not None else (float(allv.max()) if allv.size else 1.0)
    return lo, hi if hi > lo else lo + 1.0


def plot_grid(
    panels: Sequence[Panel],
    *,
    ncols: int,
    title: str = "",
    color: ColorScale | None = None,
    scales: Mapping[str, ColorScale] | None = None,
    equal_axes: bool = True,
    panel_px: int = PANEL_PX,
) -> Any:
    """The plotly twin of :func:`supviz.plot.static.plot_grid`: one subplot per panel.

    Takes the same panels (a :class:`supviz.dr.Layout` too); points whose colour value is NaN or
    infinite are drawn in grey (trace "points: no value (grey)", in the legend), as there.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    from plotly.subplots import make_subplots

    panels = [as_panel(p, i) for i, p in enumerate(panels)]
    if not panels:
        raise SupvizError("`panels` must hold at least one panel; got none.")
    color = color or ColorScale()
    scales = dict(scales or {"gram": ColorScale("RdBu_r", center=0.0, label="W Wᵀ")})
    nrows, ncols = grid_shape(len(panels), ncols)
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[_title(p) for p in panels],
        horizontal_spacing=min(0.04, 0.5 / max(ncols - 1, 1)),
        vertical_spacing=min(0.3 / max(nrows - 1, 1), 0.08),
    )
    vrange = _scatter_range(panels, color)
    shown: set[str] = set()
    for idx, panel in enumerate(panels):
        r, c = divmod(idx, ncols)
        ref = "" if idx == 0 else str(idx + 1)
        # make_subplots numbers the cells' axes row by row: the panel's own axes, updated directly (update_xaxes with
        # row= and col= searches every axis of the figure for them, once per call)
        xaxis, yaxis = fig.layout[f"xaxis{ref}"], fig.layout[f"yaxis{ref}"]
        if isinstance(panel, ScatterPanel):
            empty = panel.xy is None or len(panel.xy) == 0
            if empty:
                # placed in paper coordinates at the centre of the panel's own axes: an axis-domain reference moves
                # with the equal-axes constraint of the panels beside it in plotly.js
                xd, yd = xaxis.domain, yaxis.domain
                fig.add_annotation(
                    text=panel.note or "no data",
                    showarrow=False,
                    font={"size": SMALL_PX, "color": "#666"},
                    xref="paper",
                    yref="paper",
                    x=(xd[0] + xd[1]) / 2,
                    y=(yd[0] + yd[1]) / 2,
                )
            else:
                show = panel.color is not None and bool(color.label) and "points" not in shown
                for tr in scatter_traces(panel, scale=color, vrange=vrange, showscale=show):
                    fig.add_trace(tr, row=r + 1, col=c + 1)
                if show:
                    shown.add("points")
            xaxis.update(showticklabels=False, zeroline=False, showgrid=False)
            yaxis.update(showticklabels=False, zeroline=False, showgrid=False)
            eq = panel.equal_axes if panel.equal_axes is not None else equal_axes
            if eq and not empty:  # an empty panel has no scale to keep
                yaxis.update(scaleanchor=f"x{ref}", scaleratio=1)
        elif isinstance(panel, ShepardPanel):
            for tr in shepard_traces(panel):
                fig.add_trace(tr, row=r + 1, col=c + 1)
            xaxis.update(
                title={"text": "dissimilarity", "font": {"size": SMALL_PX}},
                tickfont={"size": SMALL_PX},
                rangemode="tozero",
            )
            yaxis.update(
                title={"text": "distance" if c == 0 else "", "font": {"size": SMALL_PX}},
                tickfont={"size": SMALL_PX},
                rangemode="tozero",
            )
        elif isinstance(panel, HeatmapPanel):
            scale = scales[panel.scale]
            if panel.matrix is None:
                fig.add_annotation(
                    text=panel.note or "no data",
                    showarrow=False,
                    font={"size": SMALL_PX, "color": "#666"},
                    xref=f"x{ref} domain",
                    yref=f"y{ref} domain",
                    x=0.5,
                    y=0.5,
                )
                continue
            show = bool(scale.label) and panel.scale not in shown
            fig.add_trace(
                heatmap_trace(panel, scale=scale, zrange=_heat_range(panels, scale, panel.scale), showscale=show),
                row=r + 1,
                col=c + 1,
            )
            shown.add(panel.scale)
            yaxis.update(autorange="reversed", showticklabels=panel.yticklabels is not None)
            xaxis.update(showticklabels=panel.xticklabels is not None)
        else:
            raise SupvizError(
                f"`panels` must hold ScatterPanel, HeatmapPanel or ShepardPanel; got {type(panel).__name__}."
            )
    for ann in fig.layout.annotations:
        if ann.font is None or ann.font.size is None:
            ann.font = {"size": FONT_PX}
    fig.update_layout(
        title={"text": title, "x": 0.5, "font": {"size": FONT_PX + 2}},
        height=max(300, (panel_px + 50) * nrows + 80),
        width=min(1100, max(420, panel_px * ncols + 160)),
        margin={"l": 30, "r": 30, "t": 80, "b": 30},
        template="plotly_white",
        hovermode="closest",
        font={"size": FONT_PX},
    )
    return fig


def plot_layout(
    layout: Any,
    color: Any = None,
    *,
    hover: Mapping[str, Any] | None = None,
    title: str = "",
    corner: str = "",
    lines: Any = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    color_label: str = "",
    equal_axes: bool | None = None,
    reference: Any = None,
    k: int = 10,
) -> Any:
    """One layout with hover (the twin of :func:`supviz.plot.static.plot_layout`).

    ``hover`` maps a name to one value per point (feature index, importance, ...); with
    ``reference`` (the pictured points, N x d) every point's trust, t, c and false / missing
    neighbours join it, and ``color="trust"`` colours by trust (:mod:`supviz.plot.trust`). The rest
    as in the matplotlib version. Returns a ``plotly.graph_objects.Figure``.
    """
    from supviz.plot.panels import single_colour
    from supviz.plot.trust import TRUST_SCALE, trust_corner, with_trust

    by_trust = isinstance(color, str) and color == "trust"
    color, fill = single_colour(color)
    color, hover, pt = with_trust(layout, color, reference=reference, k=k, hover=hover)
    if by_trust:
        vmin, vmax, cmap = TRUST_SCALE.vmin, TRUST_SCALE.vmax, TRUST_SCALE.cmap
        color_label = color_label or TRUST_SCALE.label
    if pt is not None and not corner:
        corner = trust_corner(pt)
    panel = as_scatter_panel(
        layout, color=color, title=title, corner=corner, hover=dict(hover or {}), lines=lines, equal_axes=equal_axes
    )
    panel.fill = fill
    return plot_grid(
        [panel],
        ncols=1,
        color=ColorScale(cmap, vmin, vmax, color_label),
        equal_axes=True if panel.equal_axes is None else panel.equal_axes,
        panel_px=360,
    )


def plot_trust(
    layouts: Any,
    reference: Any,
    *,
    k: int = 10,
    ncols: int = 3,
    title: str = "",
    precomputed: bool = False,
    hover: Mapping[str, Any] | None = None,
) -> Any:
    """Where each picture lies, with hover (twin of :func:`supviz.plot.static.plot_trust`): one panel per
    picture coloured by each point's trust; the hover shows trust, t, c, false and missing neighbours
    and ``hover``'s own columns (a label, a text)."""
    from supviz.plot.trust import TRUST_SCALE, trust_panels

    panels = trust_panels(layouts, reference, k=k, precomputed=precomputed, hover=hover)
    return plot_grid(panels, ncols=min(ncols, len(panels)), title=title, color=TRUST_SCALE, equal_axes=False)


def plot_shepard(result: Any, *, index: int | None = None, title: str = "Shepard") -> Any:
    """The Shepard plot of an MDS fit (twin of :func:`supviz.plot.static.plot_shepard`)."""
    return plot_grid([as_shepard_panel(result, index=index, title=title)], ncols=1, panel_px=340)


def plot_gram(
    W: Any, *, vmax: float | None = None, title: str = "W Wᵀ", annotate: bool = False, ticks: bool | None = None
) -> Any:
    """The Gram matrix ``W Wᵀ`` with hover (twin of :func:`supviz.plot.static.plot_gram`)."""
    from supviz.core.validation import check_array
    from supviz.plot.static import gram_panel, gram_span

    W = check_array("W", W, ndim=2)
    panel = gram_panel(W, title=title, annotate=annotate, ticks=W.shape[0] <= 12 if ticks is None else ticks)
    span = gram_span(panel, vmax)
    return plot_grid(
        [panel], ncols=1, scales={"gram": ColorScale("RdBu_r", -span, span, "W Wᵀ", center=0.0)}, panel_px=340
    )


def figure_json(fig: Any) -> str:
    """The figure as compact JSON (``{"data": ..., "layout": ...}``), for the report."""
    import plotly.io as pio

    return pio.to_json(fig, validate=False, pretty=False, engine="json")


def _hex(colour: str) -> str:
    """A matplotlib colour (``"red"``, ``"C1"``) as the ``#rrggbb`` plotly reads."""
    from matplotlib.colors import to_hex

    return to_hex(colour)
