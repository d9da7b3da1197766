"""Interactive figures for the report: hover fields, JSON, standalone pages, plotly.js (plain and gzip)."""

import base64
import gzip
import json

import numpy as np

from supviz.plot import ColorScale, ScatterPanel
from supviz.plot import interactive as iplot
from supviz.plot import pages as interactive


def _panels():
    rng = np.random.default_rng(0)
    n = 7
    hover = {
        "feature": np.arange(n),
        "importance": 0.9 ** np.arange(n),
        "norm": rng.random(n),
        "represented": np.array([True] * 4 + [False] * 3),
    }
    return [
        ScatterPanel(
            "3 : 1", rng.normal(size=(n, 2)), color=np.arange(n, dtype=float), corner="stress-1 0.100", hover=hover
        ),
        ScatterPanel("3 : 0.5", None, note="too few points"),
        ScatterPanel("5 : 1", rng.normal(size=(n, 2)), color=np.arange(n, dtype=float), hover=hover),
    ]


def test_hover_tells_feature_importance_norm_and_represented():
    fig = iplot.plot_grid(_panels(), ncols=3, title="C2", color=ColorScale("viridis", label="rank"))
    assert len(fig.data) == 2  # the empty panel draws no trace
    tr = fig.data[0]
    for name in ("feature", "importance", "norm", "represented"):
        assert name in tr.hovertemplate
    assert tr.customdata[0][0] == "0" and tr.customdata[4][3] == "no" and tr.customdata[0][3] == "yes"
    assert float(tr.customdata[1][1]) == 0.9
    # one colour bar, shared scale, integer ticks for ranks
    assert tr.marker.showscale is True and not fig.data[1].marker.showscale
    assert tr.marker.cmin == 0.0 and tr.marker.cmax == 6.0 and tr.marker.colorbar.tickformat == "d"
    # equal axes: every y axis is anchored to its x axis
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis3.scaleanchor == "x3"
    titles = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("3 : 1") and "stress-1 0.100" in t for t in titles)
    assert "too few points" in titles


def test_json_standalone_html_and_compressed_plotlyjs(tmp_path):
    fig = iplot.plot_grid(_panels(), ncols=3)
    spec = json.loads(interactive.figure_json(fig))
    assert set(spec) >= {"data", "layout"} and len(spec["data"]) == 2
    page = interactive.write_interactive_html(interactive.figure_json(fig), tmp_path / "C2.html", title="C2")
    js = interactive.write_plotlyjs(tmp_path)
    text = page.read_text()
    assert "src='plotly.min.js'" in text and "http" not in text.split("<script>")[0]
    assert js.stat().st_size > 1_000_000  # the full plotly.js bundle from the installed package
    packed = interactive.plotlyjs_gzip_base64()
    assert gzip.decompress(base64.b64decode(packed)).decode("utf-8") == interactive.plotlyjs_source()
    assert len(packed) < 0.5 * len(interactive.plotlyjs_source())
