"""The rows of a sweep's table: one number each (:data:`COLUMNS`), filed under its cell (:class:`SweepCell`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supviz.errors import SupvizError

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


def read_sweep_table(path: str | Path, *, name: str = "sweep.folder") -> Any:
    """A sweep's table (``sweep.parquet``) as a DataFrame, checked: a Parquet file with :data:`COLUMNS`.

    Raises
    ------
    SupvizError
        One line naming ``name`` and the file: unreadable, not Parquet, or not a sweep's columns.
    """
    import pandas as pd

    try:
        table = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a malformed file to the user
        raise SupvizError(
            f"`{name}` {str(path)!r} is not a readable Parquet table: {' '.join(str(exc).split())[:200]}."
        )
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise SupvizError(
            f"`{name}` {str(path)!r} is not a sweep's table: no column {missing[0]!r} (expected {', '.join(COLUMNS)})."
        )
    return table
