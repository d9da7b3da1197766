"""supviz.study.background.section."""
