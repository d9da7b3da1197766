"""Deprecated alias (supviz 0.2; gone in 0.3): ``supviz.figures.static`` moved (see the names' new homes)."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(
    __name__,
    {
        "antipodal_figure": "supviz.toy.plots",
        "superposition_sweep_figure": "supviz.toy.plots",
        "geometry_figure": "supviz.toy.plots",
        "STICKY_FRACTIONS": "supviz.toy.plots",
        "headline_figure": "supviz.datapoints.plots",
        "save_figure": "supviz.plot",
    },
    globals(),
)
