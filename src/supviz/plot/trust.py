"""Per-point trust on a picture: the hover columns, the trust colour, and a figure of where pictures lie.

A picture ``Y`` of points ``X`` gets each point's own share of trustworthiness and continuity
(:func:`supviz.metrics.pointwise.pointwise_trust`, Venna and Kaski's terms split per point). Both
drawings use it the same way: :func:`supviz.plot.plot_layout` and
:func:`supviz.plot.interactive.plot_layout` take ``reference=X`` (hover: trust, t_i, c_i, false
and missing neighbours) and ``color="trust"``; :func:`trust_panels` gives one panel per picture
coloured by trust (low = the picture lies there), which :func:`supviz.plot.plot_trust` and
:func:`supviz.plot.interactive.plot_trust` draw. Undefined trust (a collapsed picture, ``k``
too large) is NaN: those points are drawn grey, and the corner says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from supviz.errors import SupvizError
from supviz.plot.panels import ColorScale, ScatterPanel, as_scatter_panel

#: The colour scale of trust: fixed 0..1, so two pictures' colours compare.
TRUST_SCALE = ColorScale("viridis", 0.0, 1.0, "trust (t + c) / 2")

#: Hover names of :meth:`supviz.metrics.pointwise.PointTrust.columns`.
_HOVER_NAMES = {
    "trust": "trust",
    "trustworthiness": "t (trustworthiness)",
    "continuity": "c (continuity)",
    "false_neighbours": "false neighbours",
    "missing_neighbours": "missing neighbours",
}


def hover_columns(columns: Mapping[str, Any], reason: str = "") -> dict[str, Any]:
    """The hover columns of per-point trust, hover name -> (N,), from
    :meth:`~supviz.metrics.pointwise.PointTrust.columns` (name -> (N,) values).

    Where trust is undefined (``reason``, e.g. a collapsed picture: every value NaN) the hover says so instead of
    showing numbers: ``trust`` reads ``"undefined: <reason>"`` at every point and the other columns ``"n/a"``.
    """
    if reason:
        n = len(np.asarray(columns["trust"]))
        return {
            _HOVER_NAMES[name]: np.array([f"undefined: {reason}" if name == "trust" else "n/a"] * n) for name in columns
        }
    return {_HOVER_NAMES[name]: np.asarray(values) for name, values in columns.items()}


def trust_hover(reference: Any, layout: Any, *, k: int = 10, precomputed: bool = False) -> tuple[Any, dict]:
    """Per-point trust of ``layout`` (N, 2) against ``reference`` (N, d; or (N, N) with ``precomputed``).

    Returns the :class:`~supviz.metrics.pointwise.PointTrust` and its hover columns, name -> (N,)
    (:func:`hover_columns`: where trust is undefined, the reason).
    """
    from supviz.metrics.pointwise import pointwise_trust

    pt = pointwise_trust(reference, layout, k=k, precomputed=precomputed)
    return pt, hover_columns(pt.columns(), next(iter(pt.reasons.values()), ""))


def with_trust(
    layout: Any,
    color: Any,
    *,
    reference: Any,
    k: int,
    precomputed: bool = False,
    hover: Mapping[str, Any] | None = None,
) -> tuple[Any, dict[str, Any], Any]:
    """``(color values, hover, PointTrust or None)`` of a ``plot_layout`` call.

    Without ``reference`` nothing changes (``color="trust"`` is then refused: trust needs the pictured
    space). With it, the trust columns join the hover and ``color="trust"`` becomes the trust values.
    """
    hover = dict(hover or {})
    is_trust = isinstance(color, str) and color == "trust"
    if isinstance(color, str) and not is_trust:
        raise SupvizError(f"`color` must be 'trust', a matplotlib colour or one value per point; got {color!r}.")
    if reference is None:
        if is_trust:
            raise SupvizError("`color='trust'` needs `reference`: the points the picture shows (N, d).")
        return color, hover, None
    pt, cols = trust_hover(reference, layout, k=k, precomputed=precomputed)
    return (pt.trust if is_trust else color), {**hover, **cols}, pt


def trust_corner(pt: Any) -> str:
    """The panel's corner: the global trustworthiness and continuity (the means), or why they are undefined."""
    if pt.reasons:
        return "trust undefined: " + next(iter(pt.reasons.values()))
    return f"T {np.mean(pt.trustworthiness):.3f}  C {np.mean(pt.continuity):.3f}"


def trust_panels(
    layouts: Any,
    reference: Any,
    *,
    k: int = 10,
    precomputed: bool = False,
    hover: Mapping[str, Any] | None = None,
) -> list[ScatterPanel]:
    """One panel per picture of ``reference``, coloured by each point's trust, its T and C in the corner.

    Parameters
    ----------
    layouts : Layout, array (N, 2), or a mapping title -> either
        The pictures (e.g. ``{"MDS": ..., "UMAP": ..., "t-SNE": ...}``).
    reference : array_like, shape (N, d) or (N, N)
        The pictured points (dissimilarities with ``precomputed=True``).
    k : int
        Neighbourhood size of the trust scores.
    hover : mapping, optional
        Further per-point hover columns (a label, a text).
    """
    items = layouts.items() if isinstance(layouts, Mapping) else [("", layouts)]
    panels = []
    for title, lay in items:
        pt, cols = trust_hover(reference, lay, k=k, precomputed=precomputed)
        panels.append(
            as_scatter_panel(
                lay, color=pt.trust, title=str(title), corner=trust_corner(pt), hover={**dict(hover or {}), **cols}
            )
        )
    if not panels:
        raise SupvizError("`layouts` must hold at least one picture; got none.")
    return panels
