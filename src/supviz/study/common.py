"""Helpers shared by the study's sections: panel records, shape statistics, number formatting."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.geometry import points_coincide
from supviz.core.scores import reason_text
from supviz.dr.base import METHOD_NAMES
from supviz.runtime.codecs import cacheable


@cacheable
@dataclass
class PanelResult:
    """One computed panel: its layout, what colours and hovers it, and its numbers.

    ``rows`` of the tidy table come from here (:meth:`row`).
    """

    experiment: str
    title: str
    method: str
    params: dict[str, Any]
    xy: np.ndarray | None
    importance: str = ""
    m: int | None = None
    p: float | None = None
    n_points: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    """Shape statistics (numbers) and labels such as ``represented_rule`` (strings)."""
    color: np.ndarray | None = None
    hover: dict[str, np.ndarray] = field(default_factory=dict)
    shepard: Any = None
    note: str = ""
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each NaN metric is NaN (``supviz.metrics.LayoutMetrics.reasons``)."""
    collapsed: bool = False
    """The layout method's verdict: all points at one spot (``Layout.info["collapsed"]``)."""
    trust: Any = None
    """Each point's trust in this picture (:class:`supviz.study.adapters.PanelTrust`), for the panels a figure
    shows; ``None`` for the others."""

    def row(self) -> dict[str, Any]:
        """One row of the tidy metrics table."""
        out: dict[str, Any] = {
            "experiment": self.experiment,
            "importance": self.importance,
            "m": self.m,
            "p": self.p,
            "method": self.method,
            "params": json.dumps(self.params, sort_keys=True),
            "n_points": self.n_points,
            "panel": self.title,
            "note": self.note,
            "collapsed": bool(self.collapsed),
            "nan_reasons": reason_text(self.reasons),
        }
        out.update({k: float(v) for k, v in self.metrics.items()})
        out.update({k: v if isinstance(v, str) else float(v) for k, v in self.stats.items()})
        return out


def coordinate_rows(
    xy: np.ndarray,
    columns: dict[str, Any],
    reason: str,
    *,
    labels: Any,
    section: str,
    figure: str,
    panel: str,
    **ids: Any,
) -> list[dict[str, Any]]:
    """Rows of the ``coordinates`` table for one picture: one per point (``point``, ``label``, ``x``, ``y``, its trust
    columns; ``nan_reasons`` where trust is undefined), each with the picture's ids.

    Parameters
    ----------
    xy : array (N, 2)
        The picture.
    columns : dict
        Its per-point trust, name -> (N,) (:meth:`supviz.metrics.pointwise.PointTrust.columns`).
    reason : str
        Why they are undefined (NaN), '' when defined.
    labels : sequence (N,)
        What each point is (``"feature 12"``, a digit's class, a sentence).
    section, figure, panel : str
        The section key, the figure id that shows the picture, the panel's title.
    **ids
        Further id columns of the table (``importance``, ``m``, ``p``, ``space``, ``method``).
    """
    xy = np.asarray(xy, dtype=float)
    cols = {name: np.asarray(v, dtype=float) for name, v in columns.items()}
    why = "; ".join(f"{name}: {reason}" for name in cols) if reason else ""
    head = {"table": "coordinates", "section": section, "figure": figure, "panel": panel, **ids}
    return [
        {
            **head,
            "point": i,
            "label": str(labels[i]),
            "x": float(xy[i, 0]),
            "y": float(xy[i, 1]),
            **{name: float(v[i]) for name, v in cols.items()},
            "nan_reasons": why,
        }
        for i in range(len(xy))
    ]


def radial_stats(
    Y: np.ndarray, groups: dict[str, np.ndarray] | None = None, *, collapsed: bool = False
) -> dict[str, float]:
    """Shape of a 2-D layout around its centroid.

    Returns ``radius_cv`` (std / mean of the distances to the centroid: ~0 for a ring, ~0.35 for a
    uniform disc) and, for each named boolean group, the group's median radius divided by the
    median radius of all points (``radius_<name>``). All NaN for a ``collapsed`` layout (the
    method's verdict) or one whose points coincide up to rounding (:mod:`supviz.core.geometry`):
    its radii are rounding noise.
    """
    Y = _unit(Y)
    if collapsed or points_coincide(Y):
        return {"radius_cv": float("nan")} | {f"radius_{name}": float("nan") for name in (groups or {})}
    r = np.linalg.norm(Y - Y.mean(axis=0), axis=1)
    scale = float(np.median(r)) or 1.0
    out = {"radius_cv": float(r.std() / r.mean())}
    for name, mask in (groups or {}).items():
        mask = np.asarray(mask, dtype=bool)
        out[f"radius_{name}"] = float(np.median(r[mask]) / scale) if mask.any() else float("nan")
    return out


def ring_stats(Y: np.ndarray, represented: np.ndarray, *, collapsed: bool = False) -> dict[str, float]:
    """How the represented and dropped features sit in a layout of all features.

    ``ring_cv``: radius CV of the represented features around *their* centroid; ``core_ratio``:
    median radius of the dropped features over that of the represented ones (around the
    centroid of all points); NaN when a group is empty or the layout ``collapsed``.
    """
    Y = _unit(Y)
    rep = np.asarray(represented, dtype=bool)
    out = {"ring_cv": float("nan"), "core_ratio": float("nan")}
    if collapsed or points_coincide(Y):
        return out
    if rep.sum() >= 3 and not points_coincide(Y[rep]):
        r = np.linalg.norm(Y[rep] - Y[rep].mean(axis=0), axis=1)
        out["ring_cv"] = float(r.std() / r.mean())
    if rep.any() and (~rep).any():
        r = np.linalg.norm(Y - Y.mean(axis=0), axis=1)
        denom = float(np.median(r[rep]))
        out["core_ratio"] = float(np.median(r[~rep]) / denom) if denom > 0 else float("nan")
    return out


def _unit(Y: np.ndarray) -> np.ndarray:
    """A layout at unit scale (radii of 1e-200 or 1e300 layouts neither underflow nor overflow)."""
    from supviz.core.validation import unit_scaled

    return unit_scaled(np.asarray(Y, dtype=float))[0]


def fill_nan_reasons(
    frame: Any, *, group_by: str = "experiment", column: str = "nan_reasons", skip: tuple[str, ...] = ("m", "p")
) -> Any:
    """Give every NaN of a tidy table a reason (issue 8: "undefined is NaN with a reason").

    A section's rows say why a measure of theirs is NaN (``"metric: reason; ..."``). The columns
    that belong to other kinds of rows (a B panel has no ``false_neighbour_rate``, a data-point row
    no ``procrustes_baseline``) are NaN there too; each such NaN gets ``"<metric>: not applicable
    to <kind> rows"``, where the kind is the row's ``group_by`` value and the column is NaN in every
    row of that kind. Any other NaN without a reason gets the row's ``note`` (a section's word on a
    degenerate row, e.g. "fewer than 3 represented features") or, without one, says so
    (``"undefined (no reason recorded)"``), which the table's tests treat as a bug of the section
    that wrote it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its numeric (float) columns are checked. Modified and returned.
    group_by : str
        Column naming each row's kind (the table's ``experiment``).
    column : str
        The reason column (created if missing).
    skip : tuple of str
        Identifying columns that are not measures (the cell's ``m`` and ``p``).
    """
    import pandas as pd

    if frame.empty:
        return frame
    if column not in frame:
        frame[column] = ""
    numeric = [c for c in frame.columns if c != column and c not in skip and pd.api.types.is_float_dtype(frame[c])]
    kinds = frame[group_by].fillna("").astype(str) if group_by in frame else pd.Series("", index=frame.index)
    texts = frame[column].fillna("").astype(str).tolist()
    notes = frame["note"].fillna("").astype(str).tolist() if "note" in frame else [""] * len(frame)
    for kind, idx in frame.groupby(kinds, sort=False).groups.items():
        block = frame.loc[idx, numeric]
        absent = set(block.columns[block.isna().all(axis=0)])
        for row_idx, isna in zip(idx, block.isna().to_numpy()):
            i = frame.index.get_loc(row_idx)
            have = {part.split(":", 1)[0].strip() for part in texts[i].split("; ") if part}
            add = [
                f"{c}: "
                + (
                    f"not applicable to {kind or 'these'} rows"
                    if c in absent
                    else notes[i] or "undefined (no reason recorded)"
                )
                for c, na in zip(numeric, isna)
                if na and c not in have
            ]
            if add:
                texts[i] = "; ".join([t for t in [texts[i]] if t] + add)
    frame[column] = texts
    return frame


def importance_rank(importance: np.ndarray) -> np.ndarray:
    """Rank of each feature by importance, 0 = most important (ties keep index order)."""
    order = np.argsort(-np.asarray(importance, dtype=float), kind="stable")
    rank = np.empty(len(order), dtype=float)
    rank[order] = np.arange(len(order))
    return rank


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of two vectors ``[n]``, ties given the expectation over their random orders
    (:func:`supviz.metrics.ranks.spearman_tie_expected`); NaN pairs dropped; NaN when fewer than 3 remain or every
    value of one vector ties."""
    from supviz.metrics.ranks import spearman_tie_expected

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    return spearman_tie_expected(a[ok], b[ok])[0]


def corner_text(metrics: dict[str, float], *, stress: float | None = None) -> str:
    """The metrics under a panel: the SMACOF stress (MDS; ``smacof_stress``, the stress-1 SMACOF minimised
    against its own disparities, labelled so as not to be read as ``stress1_ratio``, which "stress-1"
    labels in the B panels) or T = trustworthiness, and P = Procrustes distance to the orthogonal
    baseline; an undefined one reads 'n/a'."""

    def val(v: Any, digits: int) -> str:
        return f"{float(v):.{digits}f}" if v is not None and math.isfinite(float(v)) else "n/a"

    first = f"SMACOF stress {val(stress, 3)}" if stress is not None else f"T {val(metrics.get('trustworthiness'), 2)}"
    return f"{first}  P {val(metrics.get('procrustes_baseline'), 2)}"


#: How a sentence names a picture's method, or the space itself where no picture is drawn ("exact").
PICTURE_NAMES = {"exact": "no picture (the space itself)", **METHOD_NAMES}
