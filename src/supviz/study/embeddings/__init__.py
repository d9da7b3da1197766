"""supviz.study.embeddings.section."""
