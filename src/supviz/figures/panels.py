"""The panel types of the study's figures: those of :mod:`supviz.plot.panels` (one code path)."""

from supviz.plot.panels import ColorScale, HeatmapPanel, ScatterPanel, ShepardPanel, grid_shape

__all__ = ["ColorScale", "HeatmapPanel", "ScatterPanel", "ShepardPanel", "grid_shape"]
