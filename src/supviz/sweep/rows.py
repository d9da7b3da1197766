"""The rows of a sweep's table: one number each (:data:`COLUMNS`), filed under its cell (:class:`SweepCell`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: The columns of the sweep table, in order.
COLUMNS = (
    "n_features",
    "n_hidden",
    "probability",
    "importance",
    "replicate",
    "seed",
    "kind",
    "space",
    "method",
    "n_points",
    "setting",
    "metric",
    "value",
    "reason",
)


@dataclass(frozen=True)
class SweepCell:
    """One trained instance of the sweep."""

    n_features: int
    n_hidden: int
    probability: float
    importance: str
    replicate: int
    seed: int

    def ids(self) -> dict[str, Any]:
        """The cell's columns of the table."""
        return {
            "n_features": self.n_features,
            "n_hidden": self.n_hidden,
            "probability": self.probability,
            "importance": self.importance,
            "replicate": self.replicate,
            "seed": self.seed,
        }


def row(
    cell: SweepCell | dict[str, Any],
    kind: str,
    space: str,
    method: str,
    n_points: int,
    setting: str,
    metric: str,
    value: float,
    reason: str = "",
) -> dict[str, Any]:
    """One row of the sweep table (:data:`COLUMNS`): ``cell``'s ids, what was measured and its value; an
    undefined value keeps its reason ("undefined" when none was given), a defined one none."""
    ids = cell.ids() if isinstance(cell, SweepCell) else cell
    value = float(value)
    if not math.isfinite(value) and not reason:
        reason = "undefined"
    return {
        **ids,
        "kind": kind,
        "space": space,
        "method": method,
        "n_points": int(n_points),
        "setting": setting,
        "metric": metric,
        "value": value,
        "reason": reason if not math.isfinite(value) else "",
    }
