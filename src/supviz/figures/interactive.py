"""Interactive figures (plotly): layout grids whose points tell what they are on hover.

:func:`scatter_grid_interactive` mirrors :func:`supviz.figures.static.scatter_grid`: same panels,
same titles, same colour scale; hovering a point shows the panel's ``hover`` columns (feature
index, importance, norm, represented). The report embeds the figure's JSON and plotly.js once;
:func:`write_interactive_html` writes a standalone file that loads ``plotly.min.js`` from beside it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from supviz._io import atomic_write_text
from supviz.figures.panels import ScatterPanel, grid_shape


def _fmt_values(name: str, values: np.ndarray) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype == bool:
        return ["yes" if v else "no" for v in arr]
    if np.issubdtype(arr.dtype, np.integer):
        return [str(int(v)) for v in arr]
    if np.issubdtype(arr.dtype, np.floating):
        return [f"{float(v):.4g}" for v in arr]
    return [str(v) for v in arr]


def scatter_grid_interactive(
    panels: Sequence[ScatterPanel],
    *,
    ncols: int,
    title: str = "",
    color_label: str = "",
    colorscale: str = "Viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    equal_axes: bool = True,
) -> Any:
    """A plotly ``Figure`` with one subplot per panel and a shared colour bar.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    nrows, ncols = grid_shape(len(panels), ncols)
    titles = [p.title + (f"<br><sup>{p.corner}</sup>" if p.corner else "") for p in panels]
    fig = make_subplots(
        rows=nrows, cols=ncols, subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.06 if nrows < 8 else 0.03
    )
    colors = [p.color for p in panels if p.xy is not None and p.color is not None]
    if colors:
        allc = np.concatenate(colors)
        vmin = float(np.min(allc)) if vmin is None else vmin
        vmax = float(np.max(allc)) if vmax is None else vmax
    shown_scale = False
    for idx, panel in enumerate(panels):
        r, c = divmod(idx, ncols)
        if panel.xy is None or len(panel.xy) == 0:
            fig.add_annotation(
                text=panel.note or "no data", showarrow=False, font={"size": 9, "color": "#777"},
                xref=f"x{idx + 1 if idx else ''} domain", yref=f"y{idx + 1 if idx else ''} domain", x=0.5, y=0.5,
            )
            continue
        names = list(panel.hover)
        custom = np.array([_fmt_values(n, panel.hover[n]) for n in names]).T if names else None
        template = "<br>".join(f"{n}: %{{customdata[{i}]}}" for i, n in enumerate(names)) or "x %{x:.3f}, y %{y:.3f}"
        marker: dict[str, Any] = {"size": 6, "line": {"width": 0.4, "color": "#333"}, "color": "#1f77b4"}
        if panel.color is not None:
            marker.update(color=panel.color.tolist(), colorscale=colorscale, cmin=vmin, cmax=vmax)
            if not shown_scale and color_label:
                marker.update(showscale=True, colorbar={"title": {"text": color_label, "side": "right"}, "thickness": 12})
                shown_scale = True
        fig.add_trace(
            go.Scatter(
                x=panel.xy[:, 0].round(5).tolist(), y=panel.xy[:, 1].round(5).tolist(), mode="markers", marker=marker,
                customdata=custom.tolist() if custom is not None else None,
                hovertemplate=template + f"<extra>{panel.title}</extra>", showlegend=False,
            ),
            row=r + 1, col=c + 1,
        )
    for idx in range(len(panels)):
        suffix = "" if idx == 0 else str(idx + 1)
        fig.layout[f"xaxis{suffix}"].update(showticklabels=False, zeroline=False)
        fig.layout[f"yaxis{suffix}"].update(showticklabels=False, zeroline=False)
        if equal_axes:
            fig.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", scaleratio=1)
    for ann in fig.layout.annotations:
        ann.font = {"size": 10}
    fig.update_layout(
        title={"text": title, "x": 0.5}, height=max(320, 190 * nrows + 80), width=max(420, 170 * ncols + 140),
        margin={"l": 20, "r": 20, "t": 70, "b": 20}, template="plotly_white", hovermode="closest",
    )
    return fig


def figure_json(fig: Any) -> str:
    """The figure as compact JSON (``{"data": ..., "layout": ...}``), for the report."""
    import plotly.io as pio

    return pio.to_json(fig, validate=False, pretty=False, engine="json")


def write_interactive_html(fig_json: str, path: str | Path, *, title: str = "") -> Path:
    """A standalone page for one figure that loads ``plotly.min.js`` from its own folder.

    :func:`write_plotlyjs` puts that file there once per folder.
    """
    spec = json.loads(fig_json)
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><script src='plotly.min.js'></script></head><body>"
        "<div id='fig'></div><script>"
        f"var spec = {json.dumps(spec)};"
        "Plotly.newPlot('fig', spec.data, spec.layout, {responsive: true, displaylogo: false});"
        "</script></body></html>"
    )
    path = Path(path)
    atomic_write_text(path, html)
    return path


def plotlyjs_source() -> str:
    """plotly.js from the installed plotly package (no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def write_plotlyjs(folder: str | Path) -> Path:
    """Write ``plotly.min.js`` into ``folder`` (unless it is there already)."""
    path = Path(folder) / "plotly.min.js"
    if not path.is_file():
        atomic_write_text(path, plotlyjs_source())
    return path
