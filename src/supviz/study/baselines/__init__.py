"""supviz.study.baselines.section."""
