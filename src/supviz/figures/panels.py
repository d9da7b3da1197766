"""Panel data shared by the static (matplotlib) and interactive (plotly) figures.

A figure is a grid of panels; each panel carries its own data, title (as the study titles it:
"m : p", "n_neighbors : min_dist", "perplexity", "N = ...") and corner text (the metric shown in
the panel). Figures never compute layouts or metrics: they draw what they are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ScatterPanel:
    """One scatter panel of a layout grid.

    Parameters
    ----------
    title
        Panel title, e.g. ``"10 : 0.3"``.
    xy
        ``[N, 2]`` layout, or ``None`` for an empty panel (``note`` says why).
    color
        ``[N]`` values mapped through the figure's colour map (``None``: one colour).
    corner
        Text for the panel's corner (a metric, e.g. ``"stress 0.231"``).
    note
        Text shown in an empty panel.
    hover
        Per-point columns for the interactive figure's hover box, name -> ``[N]`` values
        (feature index, importance, norm, represented, ...).
    """

    title: str
    xy: np.ndarray | None
    color: np.ndarray | None = None
    corner: str = ""
    note: str = ""
    hover: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.xy is not None:
            self.xy = np.asarray(self.xy, dtype=float)
            if self.xy.ndim != 2 or self.xy.shape[1] != 2:
                from supviz.errors import SupvizError

                raise SupvizError(f"`xy` must have shape [N, 2]; got {self.xy.shape}.")
            if self.color is not None:
                self.color = np.asarray(self.color, dtype=float)
                if self.color.shape != (self.xy.shape[0],):
                    from supviz.errors import SupvizError

                    raise SupvizError(
                        f"`color` must have one value per point ({self.xy.shape[0]}); got shape {self.color.shape}."
                    )


@dataclass
class HeatmapPanel:
    """One matrix panel (e.g. ``W W^T``) of a heatmap grid."""

    title: str
    matrix: np.ndarray | None
    corner: str = ""
    note: str = ""


@dataclass
class ShepardPanel:
    """A Shepard plot: dissimilarity against layout distance, with the fitted disparities."""

    dissimilarity: np.ndarray
    distance: np.ndarray
    disparity: np.ndarray | None = None


def grid_shape(count: int, ncols: int) -> tuple[int, int]:
    """Rows and columns of a grid holding ``count`` panels, ``ncols`` wide at most."""
    ncols = max(1, min(ncols, count))
    return (count + ncols - 1) // ncols, ncols
