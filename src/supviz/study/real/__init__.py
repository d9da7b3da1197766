"""supviz.study.real.section."""
