"""supviz.study.datapoints.section."""
