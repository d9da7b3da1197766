"""A close-up kept out of the report (``inline=False``) is linked from its caption, never embedded."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


def test_a_figure_kept_out_of_the_report_is_linked_not_embedded(tmp_path):
    import matplotlib.pyplot as plt

    from supviz.report.html import _figure_html
    from supviz.report.records import FigureRecord

    (tmp_path / "figures").mkdir()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(tmp_path / "figures" / "E3_m3.png")
    plt.close(fig)
    files = {"png": "figures/E3_m3.png"}
    embedded = _figure_html(FigureRecord(id="E3_m3", title="t", caption="c", files=files), tmp_path)
    linked = _figure_html(FigureRecord(id="E3_m3", title="t", caption="c", files=files, inline=False), tmp_path)
    assert "data:image/png;base64," in embedded
    assert "data:image/png;base64," not in linked and "href='figures/E3_m3.png'" in linked and "not embedded" in linked


def test_an_interactive_version_kept_out_of_the_report_is_linked_not_embedded(tmp_path):
    """F1's and the transformer's interactive pictures are pages of their own (the report's 8 MB budget)."""
    import matplotlib.pyplot as plt

    from supviz.report.html import _figure_html
    from supviz.report.records import FigureRecord

    (tmp_path / "figures").mkdir()
    fig, ax = plt.subplots()
    fig.savefig(tmp_path / "figures" / "F1.png")
    plt.close(fig)
    files = {"png": "figures/F1.png", "html": "figures/F1.html"}
    spec = '{"data": [], "layout": {}}'
    cap = "Hover a point for its trust."
    embedded = _figure_html(FigureRecord("F1", "t", cap, files, spec), tmp_path)
    linked = _figure_html(FigureRecord("F1", "t", cap, files, spec, embed_interactive=False), tmp_path)
    assert "figure-gz" in embedded and "figure-gz" not in linked
    assert "<a href='figures/F1.html'>" in linked and "Hover a point for its trust" in linked


def test_a_caption_opens_with_what_the_figure_shows_not_its_file_id(tmp_path):
    """The id is a file stem (D2_mds_uniform): it names the anchor and the files, never the caption's first words."""
    import re

    from supviz.report.html import _figure_html
    from supviz.report.records import FigureRecord

    files = {"png": "figures/D2_mds_uniform.png"}
    rec = FigureRecord(
        id="D2_mds_uniform", title="D2. MDS of h", caption="MDS pictures of h.", files=files, inline=False
    )
    out = _figure_html(rec, tmp_path)
    cap = re.search(r"<figcaption>(.*?)</figcaption>", out, re.S).group(1)
    assert cap.startswith("MDS pictures of h.")
    assert "D2_mds_uniform." not in cap.split("<span class='files'>")[0]
    assert "id='fig-D2_mds_uniform'" in out


def test_the_conclusion_links_its_figures_by_their_labels_not_their_ids():
    from supviz.report.html import _claims_html
    from supviz.report.records import Claim

    out = _claims_html(
        [Claim("The ring.", ["D4_ring_control", "X_untitled"])],
        {"D4_ring_control": "D4. Why a ring? The represented points", "X_untitled": "A figure without a label"},
    )
    assert "<a href='#fig-D4_ring_control'>D4</a>" in out and ">D4_ring_control<" not in out
    assert ">A figure without a label</a>" in out
    out = _claims_html(
        [Claim("Recall.", ["D1_knn_recall_uniform", "D1_trustworthiness_uniform", "D4_ring_control"])],
        {
            "D1_knn_recall_uniform": "D1. k-NN recall over (m, p)",
            "D1_trustworthiness_uniform": "D1. Trustworthiness over (m, p)",
            "D4_ring_control": "D4. Why a ring?",
        },
    )
    assert ">D1. k-NN recall over (m, p)</a>, <a" in out and ">D1. Trustworthiness over (m, p)</a>" in out
    assert ">D4</a>" in out
