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
    embed_interactive: bool = True
    """The interactive version embedded in the report (default); ``False``: kept as its own page in ``figures/``
    (``files["html"]``) and linked, so a large one does not push the report past its size budget."""


#: :attr:`Finding.verdict_other_rule` of a verdict that depends on the represented rule but was computed under the
#: run's rule only (section D's picture verdicts read from a points table without the other rule's rows).
OTHER_RULE_NOT_COMPUTED = "not computed"


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
    """'supported', 'partly', 'not supported', 'not enough evidence' (fewer than the rule's minimum n, or an interval
    that straddles the threshold of an otherwise positive verdict's claim) or 'n/a' (nothing to measure)."""
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
    which features count as represented; :data:`OTHER_RULE_NOT_COMPUTED` when it does but the run computed it under
    its own rule only (a data-point table from before the pictures of the represented features were drawn under
    both rules)."""
    n_used: int | None = None
    """Panels or cells the verdict was computed from (defined measures only)."""
    n_left_out: int = 0
    """Panels or cells left out because their measure is undefined (NaN with a reason), in :attr:`left_out_unit`."""
    left_out_unit: str = ""
    """The unit of :attr:`n_left_out` where it is not :attr:`unit` (a verdict over p values that leaves out cells:
    'cells'); '' = the same unit."""
    figures: list[str] = field(default_factory=list)
    """Ids of the figures behind it."""
    summary: str = ""
    """A few words for the verdict grid, e.g. 'loses 41%' or 'rho -0.05'."""
    estimate: float | None = None
    """The number the verdict rests on (a median, a correlation, a loss), or None where it rests on no one number."""
    interval: tuple[float, float] | None = None
    """Its 95% interval (bootstrap over :attr:`unit`); a verdict whose interval straddles :attr:`threshold` is never
    'supported'."""
    unit: str = ""
    """The resampling unit of the interval and of ``n_used``: 'cells', 'panels', 'seeds', 'points', 'm values'."""
    null: float | None = None
    """The chance or null level the estimate is set against (random directions, the orthogonal baseline's noise)."""
    threshold: float | None = None
    """The rule's threshold on the estimate."""
    comparison: str = ""
    """The comparison the verdict ran, in words ('median MMCS of the sparse cells above chance vs 0.9')."""
    source: str = ""
    """Where the claim stands in the study (a quote with its place), or 'supviz's own question' for a claim the
    study never made."""

    def evidence(self) -> str:
        """The verdict's evidence in one line: comparison, estimate [interval], n and unit, null level, threshold."""
        parts = []
        if self.comparison:
            parts.append(self.comparison)
        if self.estimate is not None:
            est = _num(self.estimate)
            if self.interval is not None and all(v == v for v in self.interval):
                est += f" [95% interval {_num(self.interval[0])}, {_num(self.interval[1])}]"
            elif self.interval is not None:  # NaN bounds: none could be computed (too few units, or undefined)
                est += " (no 95% interval)"
            parts.append("estimate " + est)
        if self.n_used is not None:
            parts.append(f"n = {self.n_used}" + (f" {counted(self.n_used, self.unit)}" if self.unit else ""))
        if self.n_left_out:
            parts.append(f"{self.n_left_out} {counted(self.n_left_out, self.left_out_words())} left out")
        if self.null is not None:
            parts.append(f"chance / null level {_num(self.null)}")
        if self.threshold is not None:
            parts.append(f"threshold {_num(self.threshold)}")
        return "; ".join(parts)

    def changes_with_rule(self) -> bool:
        """Whether the verdict differs under the other represented rule (False where it was not computed)."""
        return bool(self.verdict_other_rule) and self.verdict_other_rule not in (self.verdict, OTHER_RULE_NOT_COMPUTED)

    def used_words(self) -> str:
        """How many the verdict used, with the unit: ``"5 p values used"`` (``"35 used"`` without a unit)."""
        return f"{self.n_used} {counted(self.n_used, self.unit) + ' ' if self.unit else ''}used"

    def left_out_words(self) -> str:
        """The unit of :attr:`n_left_out` in words (:attr:`left_out_unit`, else :attr:`unit`; '' without one)."""
        return self.left_out_unit or self.unit

    def __post_init__(self) -> None:
        if not self.key:  # a stable id all the same: the claim's words
            self.key = "-".join("".join(ch if ch.isalnum() else " " for ch in self.claim).split())[:60]


def counted(n: Any, unit: str) -> str:
    """``unit`` (a plural noun phrase: "panels", "p values (one model each)", "sparse cells") for a count of ``n``:
    the noun in the singular when ``n`` is 1 ("1 panel left out", not "1 panels")."""
    if n != 1 or not unit:
        return unit
    head, sep, tail = unit.partition(" (")
    head, per, rest = head.partition(" per ")  # "seeds per p": the noun is before "per"
    sep, tail = (per, rest + sep + tail) if per else (sep, tail)
    words = head.split(" ")
    noun = words[-1]
    if noun.endswith("s") and not noun.endswith("ss") and len(noun) > 1:
        words[-1] = noun[:-1]
    return " ".join(words) + sep + tail


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
    settings: list[str] = field(default_factory=list)
    """How the section was configured and how to rerun it otherwise (config keys, command-line options, what they
    cost): implementation detail, shown in the report's appendix only, never in the text about the study."""


@dataclass
class Claim:
    """One paragraph of the conclusion and the figures behind it."""

    text: str
    figures: list[str] = field(default_factory=list)


@dataclass
class Conclusion:
    """The report's answer, computed once from the run's tables and findings (:mod:`supviz.study.conclusion`)."""

    answer: list[str] = field(default_factory=list)
    """The answer in words: a few sentences at the top of the first screen, above the verdict grid."""
    lead: list[str] = field(default_factory=list)
    """The first screen's detail (the numbers behind the answer), under the grid and the lead figure."""
    claims: list[Claim] = field(default_factory=list)
    """The closing paragraphs, each with the figures behind it."""
    question: str = ""
    """The question the report answers, its first paragraph (bold lead-in "The question." added)."""
    tally: str = ""
    """How the verdicts came out, counted ("Of the 40 verdicts, ..."): the conclusion's last paragraph."""
    changed: list[str] = field(default_factory=list)
    """Keys of the findings whose verdict changes with the other represented rule (linked after the tally)."""
    rules: tuple[str, str] = ("", "")
    """The run's represented rule and the other one, in a reader's words (the verdict grid's note names both)."""
    thresholds: tuple[str, str] = ("", "")
    """The verdict grid's thresholds in words, per view: feature directions (the correlation's margin) and data
    points (the loss bands), each named as supviz's own (the grid's note says them; '' where not given)."""


def _num(v: float) -> str:
    """A number as the findings print it: 3 significant digits, 'n/a' for NaN."""
    return "n/a" if v != v else f"{v:.3g}"
