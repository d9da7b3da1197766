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
