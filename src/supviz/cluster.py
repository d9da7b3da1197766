"""Deprecated: :mod:`supviz.cluster` moved to :mod:`supviz.runtime.cluster` in supviz 0.2 (this alias goes in 0.3)."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(__name__, "supviz.runtime.cluster", globals())
