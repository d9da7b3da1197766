"""Pictures of layouts, Shepard plots and Gram matrices: the functions the report draws with.

matplotlib (this module, from :mod:`supviz.plot.static`)::

    from supviz.plot import plot_layout, plot_shepard, plot_gram, plot_grid
    ax = plot_layout(mds_layout(W), color=norms, color_label="‖W_i‖")

plotly, with hover (:mod:`supviz.plot.interactive`, the same names)::

    from supviz.plot import interactive
    interactive.plot_layout(layout, color=norms, hover={"feature": range(len(W))})

Per-point trust (:mod:`supviz.plot.trust`): ``plot_layout(layout, color="trust", reference=X)``
colours each point by its own share of trustworthiness and continuity (the interactive one also
hovers it); ``plot_trust({"MDS": a, "UMAP": b}, X)`` shows where each picture lies.

The report's figures are grids of the same panels (:func:`plot_grid`), so a figure drawn in a
notebook is the report's figure. matplotlib and plotly are imported only when a function draws.
"""

from supviz.plot.panels import ColorScale, HeatmapPanel, ScatterPanel, ShepardPanel, grid_shape
from supviz.plot.static import (
    MIN_FONT_PT,
    gram_panel,
    min_font_px,
    plot_gram,
    plot_grid,
    plot_layout,
    plot_shepard,
    plot_trust,
    png_bytes,
    save_figure,
)

__all__ = [
    "MIN_FONT_PT",
    "ColorScale",
    "HeatmapPanel",
    "ScatterPanel",
    "ShepardPanel",
    "gram_panel",
    "grid_shape",
    "min_font_px",
    "plot_gram",
    "plot_grid",
    "plot_layout",
    "plot_shepard",
    "plot_trust",
    "png_bytes",
    "save_figure",
]
