"""Deprecated alias (supviz 0.2; gone in 0.3): ``supviz.figures.interactive`` moved (see the names' new homes)."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(
    __name__,
    {
        "figure_json": "supviz.plot.interactive",
        "plotlyjs_gzip_base64": "supviz.plot.pages",
        "plotlyjs_source": "supviz.plot.pages",
        "write_interactive_html": "supviz.plot.pages",
        "write_plotlyjs": "supviz.plot.pages",
    },
    globals(),
)
