"""supviz.study.recovery.section."""
