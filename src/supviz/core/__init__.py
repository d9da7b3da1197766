"""supviz.core."""
