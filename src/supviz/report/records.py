"""The records a report renders: figures, findings (verdicts), tables, one section's output, the conclusion.

The study makes them (:mod:`supviz.study`: compute -> result -> findings -> figures -> records);
:func:`supviz.report.build_report` renders them and knows nothing of how they were made. This
module imports nothing of supviz's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


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
    """A claim set against this run's numbers: one verdict of the report.

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

    def __post_init__(self) -> None:
        if not self.key:  # a stable id all the same: the claim's words
            self.key = "-".join("".join(ch if ch.isalnum() else " " for ch in self.claim).split())[:60]


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


@dataclass
class Claim:
    """One paragraph of the conclusion and the figures behind it."""

    text: str
    figures: list[str] = field(default_factory=list)


@dataclass
class Conclusion:
    """The report's answer, computed once from the run's tables and findings (:mod:`supviz.study.conclusion`)."""

    lead: list[str] = field(default_factory=list)
    """The sentences of the first screen, under the lead figure."""
    claims: list[Claim] = field(default_factory=list)
    """The closing paragraphs, each with the figures behind it."""
    question: str = ""
    """The question the report answers, its first paragraph (bold lead-in "The question." added)."""
    tally: str = ""
    """How the verdicts came out, counted ("Of the 40 verdicts, ..."): the conclusion's last paragraph."""
    changed: list[str] = field(default_factory=list)
    """Keys of the findings whose verdict changes with the other represented rule (linked after the tally)."""
