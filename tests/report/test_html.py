"""The report file: self-contained (plotly.js once, no network), every figure named, text escaped."""

import html
import re

import numpy as np
import pandas as pd

from supviz.figures import ScatterPanel
from supviz.figures import interactive as ifig
from supviz.figures import static as sfig
from supviz.report import build_report
from supviz.study.sections import FigureRecord, Finding, SectionOutput, TableBlock


def make_outputs(folder, n_interactive=2):
    rng = np.random.default_rng(0)
    figs = []
    for i in range(n_interactive + 1):
        panels = [ScatterPanel(f"{m} : 0.3", rng.normal(size=(8, 2)), color=np.arange(8.0),
                               hover={"feature": np.arange(8), "represented": np.arange(8) < 4}) for m in (3, 5)]
        fid = f"F{i}"
        files = {k: str(v.relative_to(folder)) for k, v in sfig.save_figure(
            sfig.scatter_grid(panels, ncols=2), folder / "figures" / fid, formats=["png"], dpi=40).items()}
        spec = ifig.figure_json(ifig.scatter_grid_interactive(panels, ncols=2)) if i < n_interactive else None
        figs.append(FigureRecord(fid, f"{fid}. Title <{i}>", f"Caption of {fid} with p < 1 & m > 2.", files, spec))
    return [
        SectionOutput(
            key="s1", title="1. First", intro="Para one.\n\nPara two.", figures=figs[:2],
            findings=[Finding("Claim <b>", "Measured 0.5", "supported"), Finding("Other", "n/a", "not supported")],
            tables=[TableBlock("T1", pd.DataFrame({"m": [3, 5], "stress1_ratio": [0.1, np.nan]}))],
        ),
        SectionOutput(key="s2", title="2. Second", figures=figs[2:], notes=["a note"]),
    ]


def test_report_is_self_contained_and_names_every_figure(tmp_path):
    outputs = make_outputs(tmp_path)
    path = build_report(outputs, tmp_path / "report.html", meta={"stages": [], "config": {}})
    text = path.read_text()
    # plotly.js exactly once, no external script / stylesheet / image fetches
    bundles = re.findall(r"<script>/\*\*\s*\* plotly\.js v", text)
    assert len(bundles) == 1
    start = text.index("<script>/**")
    outside = text[:start] + text[text.index("</script>", start):]  # the page without the plotly.js bundle
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", outside)
    assert "<link" not in outside
    for fid in ("F0", "F1", "F2"):
        assert f"id='fig-{fid}'" in text
    assert text.count("class='figure-json'") == 2
    assert "data:image/png;base64," in text
    # text is escaped, sections come in order, findings and tables are there
    assert "Claim &lt;b&gt;" in text and "p &lt; 1 &amp; m &gt; 2" in text
    assert text.index("1. First") < text.index("2. Second") < text.index("Conclusions")
    assert "of the study's 2 checkable claims, this run's numbers support 1" in html.unescape(text).lower()
    assert "<p>Para one.</p><p>Para two.</p>" in text
