"""The report draws with supviz.plot: a report figure and a direct supviz.plot call are the same figure."""

import io
import json

import numpy as np

from supviz import plot
from supviz.dr import smacof
from supviz.metrics.pointwise import panel_point_trust
from supviz.plot import ScatterPanel, ShepardPanel
from supviz.plot import interactive as iplot
from supviz.plot.trust import hover_columns
from supviz.study.adapters import pairwise


def _b1_panels(cfg):
    """B1 as a user draws it: ratio SMACOF of diag(N) (R smacof's defaults), its layout above its Shepard plot."""
    b = cfg.section("baselines")
    layouts, shepards = [], []
    for n in b.mds_n:
        res = smacof(pairwise(np.eye(n)), metric_type="ratio", max_iter=b.max_iter, eps=b.eps)
        # each point's trust in the hover (undefined on diag(N): every distance ties), as a user adds it
        pt = panel_point_trust(np.eye(n), res.embedding, k=cfg.metrics.k)
        hover = {"point": np.arange(n), **hover_columns(pt.columns(), next(iter(pt.reasons.values()), ""))}
        layouts.append(ScatterPanel(f"N = {n}", res.embedding, corner=f"stress-1 {float(res.stress):.3f}", hover=hover))
        sh = res.shepard()
        shepards.append(ShepardPanel(sh.dissimilarity, sh.distance, sh.disparity, title=f"Shepard, N = {n}"))
    return [*layouts, *shepards]


def test_report_b1_is_the_figure_supviz_plot_draws(tiny_run):
    cfg, out, res = tiny_run
    record = next(f for o in res.sections for f in o.figures if f.id == "B1")
    panels = _b1_panels(cfg)
    title = record.title
    # interactive: the same plotly JSON
    direct = json.loads(iplot.figure_json(iplot.plot_grid(panels, ncols=len(panels) // 2, title=title)))
    assert json.loads(record.interactive) == direct
    # static: the same pixels
    from PIL import Image

    mine = plot.png_bytes(plot.plot_grid(panels, ncols=len(panels) // 2, title=title), dpi=cfg.figures.dpi)
    with Image.open(io.BytesIO(mine)) as a, Image.open(out / record.files["png"]) as b:
        assert a.size == b.size
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))
