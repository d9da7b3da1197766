"""The report in a real headless browser: no console errors, every interactive figure drawn."""

import numpy as np
import pytest

from supviz.figures import ScatterPanel
from supviz.figures import interactive as ifig
from supviz.figures import static as sfig
from supviz.report import build_report
from supviz.report.browser import check_report, find_browser
from supviz.study.sections import FigureRecord, SectionOutput

pytestmark = [pytest.mark.browser, pytest.mark.slow]

needs_browser = pytest.mark.skipif(
    find_browser() is None, reason="no chromium on PATH (install Debian's chromium; .ci/run does) - browser test skipped"
)


def _report(folder, n_interactive=3, broken=False):
    rng = np.random.default_rng(0)
    figs = []
    for i in range(n_interactive):
        panels = [ScatterPanel(f"{m} : 0.3", rng.normal(size=(10, 2)), color=np.arange(10.0),
                               hover={"feature": np.arange(10)}) for m in (3, 5, 10)]
        files = {k: str(v.relative_to(folder)) for k, v in sfig.save_figure(
            sfig.scatter_grid(panels, ncols=3), folder / f"F{i}", formats=["png"], dpi=40).items()}
        spec = ifig.figure_json(ifig.scatter_grid_interactive(panels, ncols=3))
        if broken and i == 0:
            spec = spec.replace('"type":"scatter"', '"type":"no-such-trace"', 1).replace('{"data":[', '{"data":[null,', 1)
        figs.append(FigureRecord(f"F{i}", f"F{i}", "caption", files, spec))
    return build_report([SectionOutput(key="s", title="S", figures=figs)], folder / "report.html", meta={"stages": []})


@needs_browser
def test_report_renders_every_figure_without_console_errors(tmp_path):
    res = check_report(_report(tmp_path))
    assert res.console == []
    assert (res.rendered, res.total) == (3, 3)
    assert res.dom.count("main-svg") >= 3  # plotly drew its SVG layers into the page
    assert res.ok


@needs_browser
def test_the_check_sees_a_broken_figure(tmp_path):
    """The check must fail when a figure does not render: this is what makes the test above mean something."""
    res = check_report(_report(tmp_path, broken=True))
    assert not res.ok
    assert res.total == 3 and res.rendered == 2  # the others still render
    assert any("figure plot-F0" in line for line in res.console)
