"""The verdict grid of the report's first screen: methods (rows) x importance variant x view (columns).

Built from the findings that carry a ``view`` (any section may add some); a layout of the
records, computed here where it is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from supviz.dr.base import METHOD_NAMES
from supviz.toy.importance import ordered_variants

METHODS = tuple(METHOD_NAMES.values())  # MDS, UMAP, t-SNE: the grid's rows, in order
VIEWS = ("feature directions", "data points")


@dataclass
class GridCell:
    """One cell of the verdict grid."""

    finding: Any | None
    """The finding (``None``: nothing measured for this combination)."""


@dataclass
class VerdictGrid:
    """Rows: methods; columns: (importance variant, view) pairs, the study's 0.9^i first."""

    methods: list[str]
    columns: list[tuple[str, str]]
    cells: dict[tuple[str, str, str], Any]
    """(method, importance, view) -> finding."""


def verdict_grid(findings: Sequence[Any]) -> VerdictGrid:
    """The verdict grid of the findings that carry a ``view`` (each finding fills one cell).

    Rows are the methods in the order MDS, UMAP, t-SNE (others after, as they appear); columns are the
    importance variants (0.9^i first) times the views (feature directions, data points, then any view a
    later section adds).
    """
    grid = [f for f in findings if f.view]
    methods = [m for m in METHODS if any(f.method == m for f in grid)] + [
        m for m in dict.fromkeys(f.method for f in grid) if m not in METHODS
    ]
    variants = ordered_variants([f.importance for f in grid])
    views = [v for v in VIEWS if any(f.view == v for f in grid)] + [
        v for v in dict.fromkeys(f.view for f in grid) if v not in VIEWS
    ]
    cols = [
        (imp, view) for imp in variants for view in views if any(f.importance == imp and f.view == view for f in grid)
    ]
    cells = {}
    for f in grid:
        cells.setdefault((f.method, f.importance, f.view), f)
    return VerdictGrid(methods, cols, cells)
