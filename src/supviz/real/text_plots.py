"""Figures of :func:`supviz.real.text.text_experiment`, drawn with :mod:`supviz.plot` (the user's functions).

* :func:`pictures_figure` -- one method's pictures of every layer (columns) and space (rows: the
  layer, its SAE codes), coloured by a factor or by each point's trust; under each panel its
  trustworthiness, continuity and the k-NN accuracy of the coloured factor;
* :func:`pictures_interactive` -- the same grid in plotly, hovering a point shows its sentence,
  trust, false / missing neighbours and factors;
* :func:`measures_figure` -- per factor, k-NN accuracy in each layer, in each method's picture of
  it, and the linear probe (the ceiling), against chance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.errors import SupvizError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

TRUST = "trust"
_TRUST_LABEL = "point trust (t_i + c_i) / 2"


def _fixed(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.2f}"


def _panels(points: Any, pictures: Any, method: str, color: str, factors: list[str]) -> tuple[list[Any], int, Any]:
    from supviz.metrics.pointwise import POINT_COLUMNS
    from supviz.plot import ColorScale, ScatterPanel
    from supviz.plot.trust import hover_columns

    if color != TRUST and color not in factors:
        raise SupvizError(f"`color` must be 'trust' or a factor ({', '.join(factors)}); got {color!r}.")
    sub = points[points["method"] == method]
    if not len(sub):
        raise SupvizError(f"`method` {method!r} has no pictures here.")
    layers = sorted(sub["layer"].unique())
    spaces = list(dict.fromkeys(sub["space"]))
    values = None
    if color != TRUST:
        values = sorted(sub[color].unique())
        code = {v: i for i, v in enumerate(values)}
    panels = []
    for space in spaces:
        for layer in layers:
            p = sub[(sub["space"] == space) & (sub["layer"] == layer)].sort_values("point")
            row = pictures[
                (pictures["layer"] == layer)
                & (pictures["space"] == space)
                & (pictures["method"] == method)
                & (pictures["factor"] == (color if color != TRUST else factors[0]))
            ]
            corner = ""
            if len(row):
                r = row.iloc[0]
                corner = f"T {_fixed(r.trustworthiness)}  C {_fixed(r.continuity)}"
                if color != TRUST:
                    corner += f"\nkNN {_fixed(r.knn_accuracy)} (space {_fixed(r.knn_accuracy_space)})"
            c = p["trust"].to_numpy() if color == TRUST else p[color].map(code).to_numpy(dtype=float)
            cols = {name: p[name].to_numpy() for name in POINT_COLUMNS}
            undefined = not np.isfinite(cols["trust"]).any()  # the picture's reason (NaN at every point)
            reason = (str(row.iloc[0].notes) or "undefined") if undefined and len(row) else ""
            hover = {
                "point": p["point"].to_numpy(),
                "text": p["text"].to_numpy(),
                **hover_columns(cols, reason),
                **{f: p[f].to_numpy() for f in factors},
            }
            title = f"layer {layer}" + ("" if space == "layer" else " codes")
            panels.append(
                ScatterPanel(title, p[["x", "y"]].to_numpy(), color=c, corner=corner, hover=hover, equal_axes=False)
            )
    if color == TRUST:
        scale = ColorScale("viridis", None, 1.0, _TRUST_LABEL)
    else:
        scale = ColorScale("tab10", -0.5, 9.5, "", integer=True)
    legend = "" if color == TRUST else f"colour: {color} = " + ", ".join(f"{i} {v}" for i, v in enumerate(values))
    return panels, len(layers), (scale, legend)


def pictures_figure(points: Any, pictures: Any, method: str, *, color: str, factors: list[str]) -> "Figure":
    """One method's pictures (static): rows = spaces (layer, SAE codes), columns = layers.

    Parameters
    ----------
    points, pictures : pandas.DataFrame
        :attr:`TextResult.points` and :attr:`TextResult.pictures`.
    method : str
    color : str
        ``"trust"`` (each point's own share of trustworthiness and continuity) or a factor name.
    factors : list[str]
        The factor columns.
    """
    from supviz.dr.base import METHOD_NAMES
    from supviz.plot import plot_grid

    panels, ncols, (scale, legend) = _panels(points, pictures, method, color, factors)
    what = _TRUST_LABEL if color == TRUST else color
    title = f"{METHOD_NAMES.get(method, method)} pictures of the layers, coloured by {what}"
    if legend:  # wrapped to the grid's width: three columns leave room for about 25 characters each
        import textwrap

        under = f"under each: T, C, k-NN accuracy of {color} in the picture (in the space pictured)"
        title += "\n" + "\n".join(textwrap.wrap(f"{legend}; {under}", width=max(60, 25 * ncols)))
    return plot_grid(panels, ncols=ncols, title=title, color=scale, equal_axes=False)


def pictures_interactive(points: Any, pictures: Any, method: str, *, color: str, factors: list[str]) -> Any:
    """:func:`pictures_figure` in plotly: hovering a point shows its sentence, trust, false / missing
    neighbours and factors. Returns a ``plotly.graph_objects.Figure``."""
    from supviz.dr.base import METHOD_NAMES
    from supviz.plot import ColorScale
    from supviz.plot.interactive import plot_grid

    panels, ncols, (scale, legend) = _panels(points, pictures, method, color, factors)
    if color != TRUST:  # plotly has no tab10: the factor's codes on a sequential scale, its names in the hover
        scale = ColorScale("viridis", None, None, color, integer=True)
    what = _TRUST_LABEL if color == TRUST else color
    title = f"{METHOD_NAMES.get(method, method)} pictures of the layers, coloured by {what}"
    fig = plot_grid(panels, ncols=ncols, title=title, color=scale, panel_px=240)
    fig.update_layout(margin={"t": 120})  # the figure title above the panel titles, not on them
    if color != TRUST:  # the colour bar names the factor's values
        names = sorted(points.loc[points["method"] == method, color].unique())
        for trace in fig.data:
            if getattr(trace.marker, "showscale", False):
                trace.marker.colorbar.update(tickvals=list(range(len(names))), ticktext=names, tickformat=None)
    return fig


def measures_figure(layers: Any, pictures: Any) -> "Figure":
    """Per factor (panels): k-NN accuracy in each layer (black), in each method's picture of it (colours,
    dashed for pictures of SAE codes), the linear probe (grey, the ceiling) and chance (dotted), against the layer."""
    import matplotlib.pyplot as plt

    factors = list(dict.fromkeys(layers["factor"]))
    ncols = min(3, len(factors))
    nrows = -(-len(factors) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.7 * nrows + 0.6), squeeze=False, sharex=True)
    colours = {"umap": "tab:blue", "tsne": "tab:orange", "mds": "tab:green"}
    for ax, f in zip(axes.flat, factors):
        lf = layers[layers["factor"] == f].sort_values("layer")
        ax.plot(lf["layer"], lf["knn_accuracy"], "k-o", ms=3, label="k-NN in the layer")
        ax.plot(lf["layer"], lf["probe_accuracy"], "-s", color="0.6", ms=3, label="linear probe (layer)")
        ax.plot(lf["layer"], lf["chance"], ":", color="0.3", label="chance")
        pf = pictures[pictures["factor"] == f]
        for (space, method), g in pf.groupby(["space", "method"], sort=False):
            g = g.sort_values("layer")
            ax.plot(
                g["layer"],
                g["knn_accuracy"],
                "--" if space != "layer" else "-",
                color=colours.get(method, "tab:red"),
                lw=1,
                label=f"k-NN in {method}" + ("" if space == "layer" else " of SAE codes"),
            )
        ax.set_title(f, fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("layer", fontsize=8)
    for ax in list(axes.flat)[len(factors) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=4, fontsize=7, frameon=False)
    fig.suptitle("Which layers' pictures keep which factors: k-NN accuracy (5-fold CV)", fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 0.97))
    return fig
