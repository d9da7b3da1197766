"""Deprecated: :mod:`supviz.seeding` moved to :mod:`supviz.core.seeding` in supviz 0.2 (this alias goes in 0.3)."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(__name__, "supviz.core.seeding", globals())
