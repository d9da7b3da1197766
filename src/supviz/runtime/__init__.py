"""supviz.runtime."""
