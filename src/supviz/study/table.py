"""Deprecated alias (supviz 0.2; gone in 0.3): the run's tables moved to supviz.study.tables."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(__name__, "supviz.study.tables", globals())
