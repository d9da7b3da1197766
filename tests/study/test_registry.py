"""The section interface: the registered study order, and a new section added through it."""

import json

import numpy as np
import pandas as pd
import pytest

from supviz.report.records import Finding, SectionOutput
from supviz.study.config import _section_config_classes, load_config
from supviz.study.context import RunContext
from supviz.study.pipeline import run_study, with_needs
from supviz.study.registry import SECTIONS, get_section
from supviz.study.section import Section


def test_registered_sections_follow_the_study():
    assert [s.key for s in SECTIONS] == [
        "background",
        "baselines",
        "embeddings",
        "datapoints",
        "recovery",
        "real",
        "transformer",
        "sweep",
    ]
    cfg0 = load_config()
    assert "sweep" not in [s.key for s in SECTIONS if s.active(cfg0)]  # only with [sweep] folder
    assert "transformer" not in [s.key for s in SECTIONS if s.active(cfg0)]  # only with [transformer] enabled
    assert get_section("embeddings").needs_grid
    cfg = load_config()
    tables = _section_config_classes()
    assert list(tables) == [s.config_key for s in SECTIONS]  # every section's table, in report order
    for s in SECTIONS:
        assert isinstance(cfg.section(s.config_key), tables[s.config_key])
    # the recovery section reads section D's computed result, so a run computes D first
    assert get_section("recovery").needs == ("datapoints",)
    assert [s.key for s in with_needs([get_section("recovery")])] == ["datapoints", "recovery"]


class RingSection(Section):
    """A stand-alone section, as issue 5 would write one."""

    key = "rings"
    title = "9. Rings"
    calls = 0

    def compute(self, ctx: RunContext):
        def work():
            RingSection.calls += 1
            t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
            return np.c_[np.cos(t), np.sin(t)]

        xy, _ = ctx.cache.get_or_compute("rings", {"n": 12, "seed": ctx.seed("rings")}, work)
        return xy

    def render(self, ctx: RunContext, xy) -> SectionOutput:
        from supviz import plot
        from supviz.plot import ColorScale, ScatterPanel
        from supviz.plot import interactive as iplot

        panels = [ScatterPanel("N = 12", xy, color=np.arange(12.0), hover={"feature": np.arange(12)})]
        fig = ctx.figure(
            "R1",
            title="R1. A ring",
            caption="Twelve points on a circle.",
            content=panels,
            static=lambda: plot.plot_grid(panels, ncols=1, color=ColorScale(label="index")),
            interactive=lambda: iplot.plot_grid(panels, ncols=1),
        )
        return SectionOutput(
            key=self.key,
            title=self.title,
            intro="Points on a ring.",
            figures=[fig],
            findings=[
                Finding("Rings are round.", f"radius spread {np.ptp(np.linalg.norm(xy, axis=1)):.3f}", "supported")
            ],
            rows=[{"experiment": "R1", "n_points": 12, "panel": "N = 12", "radius": 1.0}],
        )


def test_a_new_section_runs_caches_and_reaches_the_report(tmp_path):
    cfg = load_config()
    RingSection.calls = 0
    res = run_study(cfg, tmp_path, quiet=True, sections=[RingSection()])
    assert RingSection.calls == 1 and res.figures == ["R1"]
    for ext in ("png", "svg", "html"):
        assert (tmp_path / "figures" / f"R1.{ext}").stat().st_size > 500
    html = res.report.read_text()
    assert "9. Rings" in html and "R1. A ring" in html and "Rings are round." in html
    table = pd.read_parquet(tmp_path / "panels.parquet")  # rows without a "table" key are panels
    assert table["experiment"].tolist() == ["R1"] and table["radius"].tolist() == [1.0]
    assert pd.read_parquet(tmp_path / "verdicts.parquet")["claim"].tolist() == ["Rings are round."]
    meta = json.loads((tmp_path / "run.json").read_text())
    assert [s["name"] for s in meta["stages"]] == ["compute rings", "figures rings", "table", "report"]
    # warm: nothing recomputed, the figure comes from the cache
    res2 = run_study(cfg, tmp_path, quiet=True, sections=[RingSection()])
    assert RingSection.calls == 1 and res2.cache_misses == 0 and res2.cache_hits >= 2


class GridWithoutSayingSo(RingSection):
    """A section whose compute reads the weights without declaring needs_grid."""

    key = "sneaky"

    def compute(self, ctx: RunContext):
        ctx.grid()


class LaysOutWhileRendering(RingSection):
    """A section that computes in render."""

    key = "late"

    def render(self, ctx: RunContext, xy) -> SectionOutput:
        from supviz.dr.task import LayoutTask

        ctx.layouts([LayoutTask(xy, "mds", {}, 0)], desc="late")


def test_the_run_context_keeps_compute_and_render_apart(tmp_path):
    """ctx.grid() in a section's compute needs `needs_grid` (else its cached result would not follow the
    weights); nothing is computed while rendering (render never trains)."""
    import pytest

    from supviz.errors import SupvizError

    with pytest.raises(SupvizError, match="'sneaky' calls ctx.grid\\(\\) in compute but does not declare"):
        run_study(load_config(), tmp_path / "a", quiet=True, sections=[GridWithoutSayingSo()])
    with pytest.raises(SupvizError, match="ctx.layouts\\(\\) while rendering"):
        run_study(load_config(), tmp_path / "b", quiet=True, sections=[LaysOutWhileRendering()])


@pytest.mark.parametrize("damage", ["missing", "empty", "not-png"])
def test_a_damaged_figure_in_the_cache_is_drawn_again(tmp_path, caplog, damage):
    """A missing, zero-byte or non-PNG cached figure is drawn again (with a warning), never published."""
    run_study(load_config(), tmp_path, quiet=True, sections=[RingSection()])
    png = next((tmp_path / "cache" / "figure").glob("*/*/R1.png"))
    if damage == "missing":
        png.unlink()
    else:
        png.write_bytes(b"" if damage == "empty" else b"<html>not a picture</html>" * 40)
    with caplog.at_level("WARNING"):
        run_study(load_config(), tmp_path, quiet=True, sections=[RingSection()])
    published = (tmp_path / "figures" / "R1.png").read_bytes()
    assert png.is_file() and published.startswith(b"\x89PNG\r\n\x1a\n") and len(published) > 500
    if damage != "missing":
        assert "drawing it again" in caplog.text
