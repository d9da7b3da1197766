"""Figures: static (matplotlib, PNG/SVG) and interactive (plotly) versions of every study figure.

The functions draw what they are given (panels of layouts, matrices, Shepard data); they never
compute layouts or metrics. matplotlib and plotly are imported lazily inside the functions.

- :mod:`supviz.figures.panels`       panel dataclasses shared by both back ends
- :mod:`supviz.figures.static`       matplotlib grids, Shepard plots, the background figures A1-A3
- :mod:`supviz.figures.interactive`  plotly grids with hover, JSON for the report, standalone HTML
"""

from supviz.figures.panels import HeatmapPanel, ScatterPanel, ShepardPanel, grid_shape

__all__ = ["HeatmapPanel", "ScatterPanel", "ShepardPanel", "grid_shape"]
