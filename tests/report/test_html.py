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
            n_left_out=2,
            unit="p values",
            left_out_unit="cells",
        ),
        Finding(
            "Other",
            "n/a",
            "not supported",
            key="c-2",
            method="UMAP",
            importance="uniform",
            view="data points",
            verdict_other_rule="not computed",
        ),
        Finding("Not in the grid", "x", "partly", key="c-3"),
    ]
    return [
        SectionOutput(
            key="s1",
            title="1. First",
            intro="Para one.\n\nPara two.",
            figures=figs[:2],
            findings=findings[:2],
            tables=[
                TableBlock("T1", pd.DataFrame({"m": [3, 5], "stress1": [0.1, np.nan]})),
                TableBlock(
                    "T2 (relu_l1)",
                    pd.DataFrame(
                        {
                            "architecture": ["relu_l1", "jumprelu"],
                            "knn_recall": [0.5, np.nan],
                            "knn_recall_true": [np.nan, np.nan],
                            "collapsed": [False, True],
                            "nan_reasons": [
                                "knn_recall_true: no X_true given",
                                "knn_recall: k = 10 needs at least k + 2 = 12 points; got 3; shepard_rho: k = 10 "
                                "needs at least k + 2 = 12 points; got 3; knn_recall_true: no X_true given",
                            ],
                        }
                    ),
                ),
            ],
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
    # the answer in words comes before the grid of verdicts, the numbers behind it after the grid and the lead figure
    lead = conclude({}, findings)
    # the grid's verdicts counted, data points first: c-2 fails there, c-1 holds for the feature directions
    assert len(lead.answer) == 3 and "holds in 0 of the 1 pictures" in lead.answer[0] and "fails in 1" in lead.answer[0]
    assert "feature directions" in lead.answer[1] and "holds in 1 of the 1 pictures" in lead.answer[1]
    assert lead.answer[2] == "1 of the 2 pictures contradicts it."
    lead.answer = ["The answer, in words."]
    lead.lead = ["The numbers behind it."]
    doc2 = build_report(outputs, tmp_path / "r2.html", meta={"stages": [], "config": {}}, conclusion=lead).read_text()
    assert doc2.index("The answer, in words.") < doc2.index("<table class='grid'>")
    assert doc2.index("<table class='grid'>") < doc2.index("id='fig-F3'") < doc2.index("The numbers behind it.")
    assert doc2.index("The numbers behind it.") < doc2.index("<nav>")
    # the grid: the study's variant first, each verdict linking to its one row
    grid = first[first.index("<table class='grid'>") : first.index("</table>")]
    assert grid.index("importance 0.9^i") < grid.index("uniform importance")
    assert "href='#v-c-1'" in grid and "rho 0.1" in grid
    assert "under the other rule for represented features: not supported" in grid
    # the note names both rules in words (the conclusion's), not as formulas or as "the other represented-feature rule"
    note = first[first.index("</table>") :]
    assert "represented-feature rule" not in first and "||W_k||" not in first
    assert "A feature counts as represented when its row of W has a weight norm above 0.5" in note
    assert "under the other rule, the study's rule, a mean absolute weight above 1/20 of feature 0's" in note
    # a rule-dependent verdict not computed under the other rule says so (review 5 item 2: the note promised every
    # cell states the other rule, and the data-point cells were blank), in the cell, the note and its row
    assert "not computed under the other rule for represented features" in grid
    assert "or that it was not computed under it" in note
    assert "depends on it; not computed with the other rule" in _text(doc)
    # each count names its unit: the verdict used p values and left out cells
    assert "5 p values used, 2 cells left out" in grid
    assert "n = 5 p values; 2 cells left out" in _text(doc)
    # the importance label is short everywhere; what it means is said once in the body (under the grid) and in the
    # appendix
    from supviz.toy.importance import variant_note

    note = variant_note("geometric:0.9")
    body, appendix = doc.split("<section id='sec-appendix'>")
    assert note[1:] in _text(body) and _text(body).count("study's text says") == 1 and note in _text(appendix)
    # the lead figure is on the first screen, and only there
    assert "id='fig-F3'" in first and doc.count("id='fig-F3'") == 1
    # each verdict appears once (its row), in its section
    for key in ("c-1", "c-2", "c-3"):
        assert doc.count(f"id='v-{key}'") == 1
    assert doc.count("Claim &lt;b&gt;") == 2  # its row, and the tally's link to it (a verdict that changes)
    # provenance is in the appendix, after the conclusions
    assert doc.index("id='sec-conclusions'") < doc.index("id='sec-appendix'") < doc.index("How this run was made")
    # text is escaped, sections come in order, tables are there
    assert "p &lt; 1 &amp; m &gt; 2" in doc and "<p>Para one.</p><p>Para two.</p>" in doc
    assert doc.index("1. First") < doc.index("2. Second") < doc.index("id='sec-conclusions'")
    assert (
        "Questions of supviz's own, which the study did not ask (3 verdicts): this run's numbers support 1, partly "
        "support 1 "
        "and do not support 1" in _text(doc)
    )
    assert "1 change when the other represented rule is used" in _text(doc)
    # the verdict that changes is named by its claim, linked to its row, never by its key (C2-centre-geometric:0.9)
    assert re.search(r"1 change when the other represented rule is used: <a href='#[^']+'>Claim &lt;b&gt;</a> "
                     r"\(supported -&gt; not supported\)", doc)  # fmt: skip
    assert ">c-1</a>" not in doc


def test_body_tables_speak_the_field_s_words_and_say_once_what_every_row_shares(tmp_path):
    """Issue 19: header words for column names, architectures as their papers write them, yes / no, readable
    reasons; a column undefined in every row and a reason every row shares are said once, under the table."""
    outputs = make_outputs(tmp_path)
    doc = build_report(outputs, tmp_path / "report.html", meta={"stages": [], "config": {}}).read_text()
    table = re.search(r"<summary>T2 \(ReLU \+ L1\)</summary>(.*?)</details>", doc, re.S).group(1)
    heads = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", table)
    assert heads == ["architecture", "k-NN recall", "collapsed", "undefined, and why"]
    cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    assert cells[:3] == ["ReLU + L1", "0.5", "no"] and cells[4:7] == ["JumpReLU", "", "yes"]
    assert (
        cells[3] == ""
        and cells[7] == "k-NN recall, Shepard rho (Spearman): k = 10 needs at least k + 2 = 12 points; got 3"
    )
    notes = " ".join(html.unescape(n) for n in re.findall(r"<p class='note'>(.*?)</p>", table))
    assert notes == "K-NN recall against the true inputs: undefined in every row (no true inputs behind these points)."
    from supviz.report.html import implementation_details, reader_text

    assert implementation_details(reader_text(doc)) == []
    # the tables on disk keep their machine names: the report's words are the report's alone
    assert list(outputs[0].tables[1].frame.columns)[:2] == ["architecture", "knn_recall"]


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
        # the pictured spaces' keys in the tables: the body names them (supviz.report.words.space_words)
        "h_rep against x_rep": "column name",
        "the SAE codes f(h_rep)": "column name",
    }
    for text, kind in found.items():
        assert any(d.startswith(kind) for d in implementation_details(text)), text
    clean = (
        "UMAP of diag(60) for n_neighbors in [2, 5] and min_dist 0.1; n_neighbors = 15, perplexity (N − 1) / 3, "
        "p = 0.05, m = 3 : 0.55, ||W_k|| > 0.5, 3·perplexity nearest neighbours, 1/p = 1e+03, 42 cells, 5 seeds. "
        "the codes of the represented features against the inputs on them, ReLU + L1 and TopK codes, k-NN recall, "
        "Shepard rho. Importance 0.9^i is the curve of "
        "the study's code; the study's text says 1 to 1/20. Later: importance 0.9^i, 0.9^i. False neighbours: 0.1. "
        "False-neighbour rate."
    )
    assert implementation_details(clean) == []
    # what belongs to the data, not to the reader (issue 19): a column name, an architecture's machine name, a
    # Python boolean, the importance label's explanation repeated
    data = {
        "knn_recall 0.5": "column name",
        "shepard_rho: all distances tie": "column name",
        "codes (relu_l1)": "column name",
        "jumprelu and topk": "column name",
        "collapsed False": "Python boolean",
        "the panels table's procrustes_null": "column name",
        "Cell 40 : 0.55 (geometric:0.9): the same": "importance spec",
        "importance 0.9^i (the study's code; the text says 1 to 1/20) and again importance 0.9^i (the study's code; "
        "the text says 1 to 1/20)": "repeated explanation",
    }
    for text, kind in data.items():
        assert any(d.startswith(kind) for d in implementation_details(text)), text


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
    the appendix, and none of the data's own words (column names, Python booleans, the importance label's
    explanation repeated); the appendix has the run's settings."""
    from supviz.report.html import implementation_details, reader_text

    _, out, _ = tiny_run
    doc = (out / "report.html").read_text()
    assert implementation_details(reader_text(doc)) == []
    # the body names the pictured spaces in words (x_rep, h_rep are caught above); the appendix pairs each name with
    # its key in the tables, once
    body, appendix = doc.split("<section id='sec-appendix'>")
    assert "the codes of the represented features" in html.unescape(body)
    assert appendix.count("codes of the represented features (h_rep)") == 1
    assert appendix.count("inputs on the represented features (x_rep)") == 1
    # the first screen draws both importance variants, the answer's pair above h against x (review 6 item 5), and
    # names each gap for what it holds
    said = html.unescape(body)
    assert "Top rows (importance 0.9^i, uniform importance): the pair the answer above measures" in said
    assert "the features the model drops in every cell as well as superposition where W has it" in said


def test_grid_note_speaks_of_not_computed_only_when_a_cell_is(tmp_path):
    # the data-point cells computed under both rules (pictures of the represented features under each): the cell says
    # whether the verdict is the same, and the note no longer says some verdict may be missing
    outputs = make_outputs(tmp_path)
    c2 = next(f for o in outputs for f in o.findings if f.key == "c-2")
    c2.verdict_other_rule = c2.verdict
    findings = [f for o in outputs for f in o.findings]
    doc = build_report(
        outputs, tmp_path / "report.html", meta={"stages": [], "config": {}}, conclusion=conclude({}, findings)
    ).read_text()
    first = doc[: doc.index("<nav>")]
    grid = first[first.index("<table class='grid'>") : first.index("</table>")]
    note = first[first.index("</table>") :]
    assert "not computed" not in grid and "the same under the other rule for represented features" in grid
    assert "not computed" not in note and "whether its verdict changes under the other rule" in note
