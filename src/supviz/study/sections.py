"""The study as an ordered list of sections, and the small interface a section implements.

``supviz run`` walks :data:`SECTIONS` in order: every section's :meth:`Section.compute` (the
expensive, cached work: training, layouts, metrics), then every section's :meth:`Section.render`
(figures, table rows, generated text). The report shows the rendered sections in the same order.

Adding a section (e.g. issue 5's pictures of data points ``h = W^T x``) takes one module and one
line:

1. write ``supviz/study/datapoints.py`` with a ``Section`` subclass::

       class DatapointSection(Section):
           key = "datapoints"                 # unique id; also the run's subfolder name
           title = "Data points, not only feature directions"
           config_key = "datapoints"          # TOML table (optional; None for no config)
           config_class = DatapointsConfig    # dataclass parsed from that table

           def compute(self, ctx):            # expensive work, cached through ctx.cache
               grid, grid_key = ctx.grid()    # the section-2 weights (trained or supplied)
               ...
               return results                 # what the cache's codecs store (supviz.runtime.codecs)

           def render(self, ctx, results):    # cheap: figures, rows, text
               fig = ctx.figure("D1_uniform", title=..., caption=..., content=..., static=draw)
               return SectionOutput(key=self.key, title=self.title, intro=..., figures=[fig],
                                    rows=[...], findings=[...])

2. register it: add ``DatapointSection()`` to the list in :func:`_default_sections` below.

``ctx.figure`` returns a :class:`FigureRecord` at once; on a cache miss the drawing is queued and
the pipeline draws all of a section's figures in parallel right after its ``render`` returns,
filling in ``record.files`` and ``record.interactive``. So ``render`` must not read those two.

Everything a section needs from the run is on the :class:`~supviz.study.context.RunContext`:
the parsed config (``ctx.config``, ``ctx.config.section(key)``), the cache, progress bars,
the shared weights (``ctx.grid()``), parallel layouts (``ctx.layouts(...)``), seeds
(``ctx.seed(...)``) and cached figure output (``ctx.figure(...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from supviz.study.context import RunContext


@dataclass
class FigureRecord:
    """One figure of the report.

    Attributes
    ----------
    id
        File stem, unique in the run (``"C2_uniform"``).
    title, caption
        Plain text; the caption says what is shown and with which parameters.
    files
        Format -> path relative to the run folder (``{"png": "figures/C2_uniform.png", ...}``).
    interactive
        The plotly figure as JSON, embedded in the report (``None``: static only).
    """

    id: str
    title: str
    caption: str
    files: dict[str, str]
    interactive: str | None = None
    lead: bool = False
    """The figure that carries the report's answer: shown on the first screen (and only there)."""
    inline: bool = True
    """Embedded in the report as its PNG; ``False``: a close-up kept as files in ``figures/`` and linked
    from its caption, so the report stays within its size budget."""


@dataclass
class Finding:
    """The study's claim set against this run's numbers: one verdict of the report.

    The report shows every finding once, in its section; findings with a ``view`` also fill the
    verdict grid of the report's first screen (rows: ``method``, columns: ``importance`` x ``view``),
    so a later section contributes to the grid by setting those three fields.
    """

    claim: str
    """What the study says (its words, short)."""
    measured: str
    """What this run measured, numbers filled in (and how many panels were left out, and why)."""
    verdict: str = "n/a"
    """'supported', 'partly', 'not supported' or 'n/a'."""
    key: str = ""
    """Stable id, unique in the run (the anchor of the finding's row; default: derived from the claim)."""
    method: str = ""
    """'MDS', 'UMAP', 't-SNE' (the grid's row), or '' for a claim about no one method."""
    importance: str = ""
    """The importance variant the claim was tested on ('' for none)."""
    view: str = ""
    """The grid column it answers, e.g. 'feature directions' or 'data points'; '' = not in the grid."""
    verdict_other_rule: str = ""
    """The verdict with the other represented rule (the study's mean|W_k| > mean|W_0| / 20 when the run
    uses the norm rule ||W_k|| > 0.5, and the other way round); '' when the claim does not depend on
    which features count as represented."""
    n_used: int | None = None
    """Panels or cells the verdict was computed from (defined measures only)."""
    n_left_out: int = 0
    """Panels or cells left out because their measure is undefined (NaN with a reason)."""
    figures: list[str] = field(default_factory=list)
    """Ids of the figures behind it."""
    summary: str = ""
    """A few words for the verdict grid, e.g. 'loses 41%' or 'rho -0.05'."""


@dataclass
class TableBlock:
    """A metric table shown in the report."""

    caption: str
    frame: "pd.DataFrame"


@dataclass
class SectionOutput:
    """What a section hands to the report and the metrics table."""

    key: str
    title: str
    intro: str = ""
    """Generated paragraph(s), plain text; blank lines separate paragraphs."""
    figures: list[FigureRecord] = field(default_factory=list)
    tables: list[TableBlock] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    """Rows for the tidy metrics table: experiment, importance, m, p, method, params, n_points, metrics."""
    notes: list[str] = field(default_factory=list)
    """Anything clamped, skipped or degenerate, shown under the section."""


class Section:
    """Base class of a study section (see the module docstring)."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    config_key: ClassVar[str | None] = None
    config_class: ClassVar[type | None] = None
    #: Whether the section uses ``ctx.grid()`` (the run prepares it in its own "weights" stage).
    needs_grid: ClassVar[bool] = False

    def active(self, config: Any) -> bool:
        """Whether the run includes this section (an optional one, such as a sweep's summary, says no
        unless its config asks for it); default: always."""
        return True

    def check(self, config: Any) -> None:
        """Raise a ``SupvizError`` for a setting of ``config`` that :meth:`compute` would reject.

        ``supviz run`` and ``supviz config`` call it for every section before anything is written
        or computed; the default checks nothing beyond the section's config table.
        """

    def check_grid(self, config: Any, grid: Any, name: str) -> None:
        """Raise a ``SupvizError`` when supplied weights ``grid`` (a ``TrainedGrid``, read from the
        file of option ``name``) cannot serve this section (:attr:`needs_grid` sections only).

        Called by ``check_study`` before anything is written; the default accepts any grid.
        """

    def compute(self, ctx: "RunContext") -> Any:
        """The expensive work (cached through ``ctx.cache``); returns what the cache's codecs store
        (:mod:`supviz.runtime.codecs`: numbers, strings, arrays, lists, dicts and registered dataclasses)."""
        raise NotImplementedError

    def render(self, ctx: "RunContext", result: Any) -> SectionOutput:
        """Figures, table rows and text from ``compute``'s result."""
        raise NotImplementedError


def _default_sections() -> list[Section]:
    from supviz.study.background import BackgroundSection
    from supviz.study.baselines import BaselineSection
    from supviz.study.datapoints import DatapointSection
    from supviz.study.embeddings import EmbeddingSection
    from supviz.study.recovery import RecoverySection
    from supviz.study.real import RealSection
    from supviz.sweep.section import SweepSection

    return [
        BackgroundSection(),
        BaselineSection(),
        EmbeddingSection(),
        DatapointSection(),
        RecoverySection(),
        RealSection(),
        SweepSection(),  # only with [sweep] folder = a `supviz sweep` output (issue 13)
    ]


class _Registry(list):
    """The section list, built on first use (so importing this module stays cheap)."""

    _built = False

    def _ensure(self) -> None:
        if not self._built:
            self._built = True
            self.extend(_default_sections())

    def __iter__(self):
        self._ensure()
        return super().__iter__()

    def __len__(self) -> int:
        self._ensure()
        return super().__len__()

    def __getitem__(self, item):
        self._ensure()
        return super().__getitem__(item)


#: The study's sections, in report order.
SECTIONS: list[Section] = _Registry()


def get_section(key: str) -> Section:
    """The registered section ``key``."""
    for s in SECTIONS:
        if s.key == key:
            return s
    from supviz.errors import SupvizError

    raise SupvizError(f"`section` must be one of {[s.key for s in SECTIONS]}; got {key!r}.")
