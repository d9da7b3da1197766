"""The study's figures, drawn with :mod:`supviz.plot` (the functions a notebook calls).

- :mod:`supviz.figures.panels`       the panel types (:mod:`supviz.plot.panels`)
- :mod:`supviz.figures.static`       A1-A3, the headline figure and summary plots (matplotlib)
- :mod:`supviz.figures.interactive`  figure JSON for the report and standalone HTML pages (plotly)
- :mod:`supviz.figures.datapoints`   the data-point section's figures (D1-D4)

The grids of layouts, Shepard plots and Gram matrices are :func:`supviz.plot.plot_grid` /
:func:`supviz.plot.interactive.plot_grid` calls made by the sections themselves.
"""

from supviz.figures.panels import ColorScale, HeatmapPanel, ScatterPanel, ShepardPanel, grid_shape

__all__ = ["ColorScale", "HeatmapPanel", "ScatterPanel", "ShepardPanel", "grid_shape"]
