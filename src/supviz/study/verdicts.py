"""The rules every finding of the study shares: thresholds, the represented rule, what counts as defined.

Each section's findings (``supviz.study.<section>.findings``) are pure functions of the run's tidy
tables (:mod:`supviz.study.tables`; a pandas DataFrame, or any table with those columns, such as a
small hand-made one in a test) that return :class:`~supviz.report.records.Finding` records: the
study's claim, what the numbers say, the verdict, how many panels it used and how many it left
out because their measure is undefined (NaN with a reason never enters a verdict), and, where the
claim depends on which features count as represented, the verdict under the other rule.

Rules (named once, used everywhere):

- a monotone trend ("the bias decreases as n_neighbors increases") is *supported* when the Spearman
  correlation points the claimed way beyond :data:`RHO_STRONG`, *partly* when it points that way at
  all, *not supported* otherwise (:func:`rho_verdict`);
- "no signature of superposition" (C3, C5): the distance of the picture of the represented features
  to the orthogonal baseline does not follow sparsity: ``|rho(1/p, Procrustes)| <`` :data:`RHO_NONE`;
- a ring: radius CV below :data:`RING_MAX` (a uniform disc has 0.354, diag(N)'s MDS picture 0.28);
  a claim about rings uses only sets of at least :data:`RING_MIN_POINTS` points (every small set
  is a polygon, a ring by construction) and says how many it left out.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from supviz.core.text import fmt, fmt_p, pct  # noqa: F401  (re-exported: the verdict helpers' names)
from supviz.report.records import OTHER_RULE_NOT_COMPUTED
from supviz.study.common import spearman  # noqa: F401  (re-exported)
from supviz.toy.importance import variant_label, variant_slug  # noqa: F401  (re-exported)

RHO_STRONG = 0.3
RHO_NONE = 0.4
RING_MAX = 0.15
DISC_MIN = 0.25
RING_MIN_POINTS = 10
CENTRE_MAX = 0.3
RULES = ("norm", "mean_abs")
#: Each represented rule in a reader's words (a feature k is represented when ||W_k|| > 0.5, or, by the study's rule,
#: when mean|W_k| > mean|W_0| / 20; :func:`supviz.toy.diagnostics.represented_mask`).
RULE_TEXT = {
    "norm": "a weight norm above 0.5",
    "mean_abs": "the study's rule, a mean absolute weight above 1/20 of feature 0's",
}
#: Each represented rule in a few words, where :data:`RULE_TEXT` has been said nearby (a grid cell, a second mention).
RULE_SHORT = {"norm": "a weight norm above 0.5", "mean_abs": "the study's rule"}


def other_rule(rule: str) -> str:
    """The represented rule a rule-dependent verdict is checked against."""
    return "mean_abs" if rule == "norm" else "norm"


def rho_verdict(rho: float, *, negative: bool) -> str:
    """Supported when rho points the claimed way beyond :data:`RHO_STRONG`, partly when it points that
    way at all, not supported otherwise; 'n/a' for NaN."""
    if not np.isfinite(rho):
        return "n/a"
    r = -rho if negative else rho
    return "supported" if r > RHO_STRONG else "partly" if r > 0 else "not supported"


def defined(frame: Any, column: str) -> tuple[Any, int, str]:
    """The rows where ``column`` is defined, how many were left out, and the clause saying why."""
    if column not in frame:
        return frame.iloc[:0], len(frame), f"; {len(frame)} of {len(frame)} left out: no {column}"
    ok = np.isfinite(frame[column].to_numpy(dtype=float))
    gone = frame[~ok]
    if gone.empty:
        return frame[ok], 0, ""
    reasons: dict[str, int] = {}
    for _, row in gone.iterrows():
        if bool(row.get("collapsed", False)):
            why = "collapsed"
        else:
            text = str(row.get("nan_reasons", "") or row.get("note", "") or "")
            mine = [r.split(": ", 1)[1] for r in text.split("; ") if r.startswith(f"{column}: ")]
            why = mine[0] if mine else (text.split("; ")[0] if text else "undefined")
        reasons[why] = reasons.get(why, 0) + 1
    what = ", ".join(f"{n} collapsed" if w == "collapsed" else f"{n} × {w}" for w, n in reasons.items())
    return frame[ok], len(gone), f"; {len(gone)} of {len(frame)} left out: {what}"


def param(frame: Any, name: str) -> np.ndarray:
    return np.array(
        [json.loads(p or "{}").get(name, np.nan) if isinstance(p, str) else np.nan for p in frame["params"]],
        dtype=float,
    )


def rule_note(verdict: str, other: str, rule: str) -> str:
    o = other_rule(rule)
    if not other:
        return ""
    if other == OTHER_RULE_NOT_COMPUTED:
        return (
            f" The verdict depends on which features count as represented; this run drew the pictures of the "
            f"represented features under {RULE_TEXT[rule]} only, so it is not computed with {RULE_TEXT[o]}."
        )
    same = "the same verdict" if other == verdict else f"'{other}' instead"
    return f" With {RULE_TEXT[o]} as the represented rule: {same}."
