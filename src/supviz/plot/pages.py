"""Interactive figures for the report: JSON, standalone pages and plotly.js.

The figures themselves are :mod:`supviz.plot.interactive`'s (the functions a notebook calls);
this module only moves them around: :func:`figure_json` for the report, a standalone page per
figure that loads ``plotly.min.js`` from its own folder (:func:`write_interactive_html`,
:func:`write_plotlyjs`), and plotly.js from the installed package, plain or gzip-compressed
(:func:`plotlyjs_source`, :func:`plotlyjs_gzip_base64`).
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
from pathlib import Path

from supviz.core.io import atomic_write_text
from supviz.plot.interactive import figure_json

__all__ = ["figure_json", "plotlyjs_gzip_base64", "plotlyjs_source", "write_interactive_html", "write_plotlyjs"]


def write_interactive_html(fig_json: str, path: str | Path, *, title: str = "") -> Path:
    """A standalone page for one figure that loads ``plotly.min.js`` from its own folder.

    :func:`write_plotlyjs` puts that file there once per folder.
    """
    import html

    spec = json.loads(fig_json)
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><script src='plotly.min.js'></script></head><body>"
        "<div id='fig'></div><script>"
        f"var spec = {json.dumps(spec).replace('</', '<' + chr(92) + '/')};"
        "Plotly.newPlot('fig', spec.data, spec.layout, {responsive: true, displaylogo: false});"
        "</script></body></html>"
    )
    path = Path(path)
    atomic_write_text(path, page)
    return path


def plotlyjs_source() -> str:
    """plotly.js from the installed plotly package (no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@functools.lru_cache(maxsize=1)
def plotlyjs_gzip_base64() -> str:
    """plotly.js gzip-compressed (level 9, no timestamp: equal bytes every time) and base64-encoded.

    About 1.9 MB instead of 4.8 MB; the report inflates it in the browser with the standard
    ``DecompressionStream('gzip')`` the first time an interactive figure is opened.
    """
    return base64.b64encode(gzip.compress(plotlyjs_source().encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def write_plotlyjs(folder: str | Path) -> Path:
    """Write ``plotly.min.js`` into ``folder`` (unless it is there already)."""
    path = Path(folder) / "plotly.min.js"
    if not path.is_file():
        atomic_write_text(path, plotlyjs_source())
    return path
