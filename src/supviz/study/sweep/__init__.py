"""supviz.study.sweep."""
