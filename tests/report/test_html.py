"""The report file: the first screen, each verdict once, self-contained (plotly.js once, compressed), text escaped."""

import base64
import gzip
import html
import re

import numpy as np
import pandas as pd

from supviz import plot
from supviz.plot import ScatterPanel
from supviz.plot import interactive as iplot
from supviz.report import build_report
from supviz.report.records import FigureRecord, Finding, SectionOutput, TableBlock
from supviz.study.conclusion import conclude


def make_outputs(folder, n_interactive=2):
    rng = np.random.default_rng(0)
    figs = []
    for i in range(n_interactive + 2):
        panels = [
            ScatterPanel(
                f"{m} : 0.3",
                rng.normal(size=(8, 2)),
                color=np.arange(8.0),
                hover={"feature": np.arange(8), "represented": np.arange(8) < 4},
            )
            for m in (3, 5)
        ]
        fid = f"F{i}"
        files = {
            k: str(v.relative_to(folder))
            for k, v in plot.save_figure(
                plot.plot_grid(panels, ncols=2), folder / "figures" / fid, formats=["png"], dpi=40
            ).items()
        }
        spec = iplot.figure_json(iplot.plot_grid(panels, ncols=2)) if i < n_interactive else None
        figs.append(
            FigureRecord(
                fid,
                f"{fid}. Title <{i}>",
                f"Caption of {fid} with p < 1 & m > 2. Hover a point for its feature index.",
                files,
                spec,
                lead=i == n_interactive + 1,
            )
        )
    findings = [
        Finding(
            "Claim <b>",
            "Measured 0.5",
            "supported",
            key="c-1",
            method="MDS",
            importance="geometric:0.9",
            view="feature directions",
            verdict_other_rule="not supported",
            summary="rho 0.1",
            n_used=5,
            n_left_out=1,
        ),
        Finding("Other", "n/a", "not supported", key="c-2", method="UMAP", importance="uniform", view="data points"),
        Finding("Not in the grid", "x", "partly", key="c-3"),
    ]
    return [
        SectionOutput(
            key="s1",
            title="1. First",
            intro="Para one.\n\nPara two.",
            figures=figs[:2],
            findings=findings[:2],
            tables=[TableBlock("T1", pd.DataFrame({"m": [3, 5], "stress1": [0.1, np.nan]}))],
        ),
        SectionOutput(key="s2", title="2. Second", figures=figs[2:], notes=["a note"], findings=findings[2:]),
    ]


def _text(doc):
    return html.unescape(re.sub(r"<[^>]+>", " ", doc))


def test_report_leads_with_question_grid_figure_and_keeps_each_verdict_once(tmp_path):
    outputs = make_outputs(tmp_path)
    findings = [f for o in outputs for f in o.findings]
    doc = build_report(
        outputs, tmp_path / "report.html", meta={"stages": [], "config": {}}, conclusion=conclude({}, findings)
    ).read_text()
    first = doc[: doc.index("<nav>")]
    assert "The question." in first and "<table class='grid'>" in first
    # the answer in words comes before the grid of verdicts
    lead = conclude({}, findings)
    lead.lead = ["The answer, in words."]
    doc2 = build_report(outputs, tmp_path / "r2.html", meta={"stages": [], "config": {}}, conclusion=lead).read_text()
    assert doc2.index("The answer, in words.") < doc2.index("<table class='grid'>")
    # the grid: the study's variant first, each verdict linking to its one row
    grid = first[first.index("<table class='grid'>") : first.index("</table>")]
    assert grid.index("importance 0.9^i") < grid.index("uniform importance")
    assert (
        "href='#v-c-1'" in grid and "rho 0.1" in grid and "other rule: not supported" in grid and "1 left out" in grid
    )
    # the lead figure is on the first screen, and only there
    assert "id='fig-F3'" in first and doc.count("id='fig-F3'") == 1
    # each verdict appears once (its row), in its section
    for key in ("c-1", "c-2", "c-3"):
        assert doc.count(f"id='v-{key}'") == 1
    assert doc.count("Claim &lt;b&gt;") == 1
    # provenance is in the appendix, after the conclusions
    assert doc.index("id='sec-conclusions'") < doc.index("id='sec-appendix'") < doc.index("How this run was made")
    # text is escaped, sections come in order, tables are there
    assert "p &lt; 1 &amp; m &gt; 2" in doc and "<p>Para one.</p><p>Para two.</p>" in doc
    assert doc.index("1. First") < doc.index("2. Second") < doc.index("id='sec-conclusions'")
    assert (
        "Questions of supviz's own, which the study did not ask (3): this run's numbers support 1, partly support 1 "
        "and do not support 1" in _text(doc)
    )
    assert "1 change when the other represented rule is used" in _text(doc)


def test_report_is_self_contained_static_figures_first_plotly_compressed_once(tmp_path):
    outputs = make_outputs(tmp_path)
    doc = build_report(outputs, tmp_path / "report.html", meta={"stages": [], "config": {}}).read_text()
    # no external script / stylesheet / image fetches
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", doc) and "<link" not in doc
    # every figure is its PNG, visible without JavaScript (not inside a <details>)
    for fid in ("F0", "F1", "F2", "F3"):
        fig = re.search(rf"<figure id='fig-{fid}'[^>]*>(.*?)</figure>", doc, re.S).group(1)
        before = fig[: fig.index("<img")]
        assert "<details" not in before and "data:image/png;base64," in fig
    # interactive versions: a toggle each, their JSON once, plotly.js once, gzip-compressed
    assert doc.count("class='figure-gz'") == 2 and doc.count("<details class='interactive'>") == 2
    from supviz.report.html import figure_specs

    specs = figure_specs(doc)
    assert sorted(specs) == ["F0", "F1"] and specs["F0"] == outputs[0].figures[0].interactive
    assert "(Hover a point for its feature index)" in doc
    packed = re.search(r"<script type='application/octet-stream' id='plotly-gz'>([^<]+)</script>", doc).group(1)
    assert gzip.decompress(base64.b64decode(packed))[:200].decode().lstrip().startswith("/**")
    assert doc.count("id='plotly-gz'") == 1 and "plotly.js v" not in doc.replace(packed, "")
    # no interactive figure: no plotly at all
    out2 = [SectionOutput(key="s", title="S", figures=[f for o in outputs for f in o.figures if not f.interactive])]
    assert "plotly-gz" not in build_report(out2, tmp_path / "r2.html", meta={"stages": []}).read_text()


def test_implementation_details_are_found_in_text():
    """Each kind the reviewer found in the report's body, and text about the study that must pass."""
    from supviz.report.html import implementation_details

    found = {
        "reduced size; --paper-size-a3 for the larger one": "command-line option",
        "[recovery] toy_experiment = true adds it": "config key",
        'topk trained on the sparse cells only (extra_cells = "all" trains every cell)': "config key",
        "(negative_gradient_method='exact' or 'fft' counts every pair)": "config key",
        "Trimmed to fit the 5-minute default run": "run time",
        "Sharkey et al.'s toy experiment (~100 s on 2 cores) is off": "run time",
        "all of them in one batched job (141 s with scoring)": "run time",
        "background.a2_seeds sets the seeds": "config key",
        "see docs/bench/sae.md": "file path",
        "issue 11's question": "issue number",
    }
    for text, kind in found.items():
        assert any(d.startswith(kind) for d in implementation_details(text)), text
    clean = (
        "UMAP of diag(60) for n_neighbors in [2, 5] and min_dist 0.1; n_neighbors = 15, perplexity (N − 1) / 3, "
        "p = 0.05, m = 3 : 0.55, ||W_k|| > 0.5, 3·perplexity nearest neighbours, 1/p = 1e+03, 42 cells, 5 seeds."
    )
    assert implementation_details(clean) == []


def test_settings_go_to_the_appendix_and_the_body_holds_no_implementation_detail(tmp_path):
    from supviz.report.html import implementation_details, reader_text

    outputs = make_outputs(tmp_path)
    outputs[0].settings = ["A3 at the paper-like size: background.a3_paper_size = true, or supviz run --paper-size-a3."]
    doc = build_report(outputs, tmp_path / "report.html", meta={"stages": [], "config": {}}).read_text()
    assert doc.index("--paper-size-a3") > doc.index("id='sec-appendix'")
    assert "Settings behind the sections, and how to rerun them" in doc
    assert implementation_details(reader_text(doc)) == []
    outputs[1].notes = ["[recovery] toy_experiment = true adds it"]  # a note is body text: it would be caught
    doc = build_report(outputs, tmp_path / "r2.html", meta={"stages": [], "config": {}}).read_text()
    assert implementation_details(reader_text(doc)) == ["config key: '[recovery] toy_experiment ='"]


def test_a_small_run_s_report_body_speaks_of_the_study_only(tiny_run):
    """The rendered report of a real (tiny) run: no config keys, options, run times, paths or issue numbers before
    the appendix; the appendix has the run's settings."""
    from supviz.report.html import implementation_details, reader_text

    _, out, _ = tiny_run
    doc = (out / "report.html").read_text()
    assert implementation_details(reader_text(doc)) == []
