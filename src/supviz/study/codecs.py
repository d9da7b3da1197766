"""Deprecated alias (supviz 0.2; gone in 0.3): the cache's codecs moved to supviz.runtime.codecs."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(__name__, "supviz.runtime.codecs", globals())
