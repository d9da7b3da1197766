"""Numbers with reasons: a read-only mapping ``name -> float`` that says why each NaN is NaN.

The one home of that idea: :class:`supviz.metrics.LayoutMetrics` (the metrics of a layout) and
:class:`supviz.real.Measures` (what a real network's space allows to measure) are both
:class:`Scores`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field


def reason_text(reasons: Mapping[str, str]) -> str:
    """Reasons on one line, ``"name: reason; ..."`` (a table's ``nan_reasons`` column); "" if none."""
    return "; ".join(f"{k}: {v}" for k, v in reasons.items())


@dataclass(eq=False, frozen=True)
class Scores(Mapping[str, float]):
    """A read-only mapping ``name -> float`` and, for each NaN, one line saying why (``reasons``).

    Attributes
    ----------
    scores : dict of str to float
        The values; also what the mapping itself gives (``out["name"]``, ``dict(out)``).
    reasons : dict of str to str
        For each NaN value, why it is undefined; empty when every value is defined.
    """

    scores: dict[str, float]
    reasons: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.scores[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scores)

    def __len__(self) -> int:
        return len(self.scores)

    def reason_text(self) -> str:
        """Every reason on one line, ``"name: reason; ..."`` (a table's ``nan_reasons`` column); "" if none."""
        return reason_text(self.reasons)

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v:.4g}" for k, v in self.scores.items())
        return f"{type(self).__name__}({vals}; {len(self.reasons)} undefined)"
