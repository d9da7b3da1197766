"""Deprecated alias (supviz 0.2; gone in 0.3): ``supviz.figures.panels`` moved (see the names' new homes)."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(__name__, "supviz.plot.panels", globals())
