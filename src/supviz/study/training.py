"""Deprecated alias (supviz 0.2; gone in 0.3): train_cells moved to supviz.toy.cells."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(__name__, "supviz.toy.cells", globals())
