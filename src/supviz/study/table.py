"""The tidy metrics table of a run: one row per panel (plus one per toy-model cell), Parquet + CSV.

Columns always present, in this order: ``experiment`` (A1 ... C5, or ``toy`` for the per-(m, p)
diagnostics), ``importance``, ``m``, ``p``, ``method``, ``params`` (JSON), ``n_points``,
``panel`` (its title), ``note``; then every metric and statistic (``stress1_ratio``, ``shepard_rho``,
``trustworthiness``, ``continuity``, ``knn_recall``, ``knn_recall_true``,
``procrustes_baseline``, ``k``, shape statistics, ``toy_*`` diagnostics...), NaN where a column
does not apply.

For the MDS panels ``stress1_ratio`` is the metrics engine's stress-1 of the layout against the points'
own distances (comparable across methods) and ``smacof_stress`` the stress-1 of the SMACOF fit
against its disparities (what R's smacof and the study report; the panel corners show it).
``ring_cv`` / ``core_ratio`` (section C) and ``radius_cv`` (section B) describe the picture's
shape (:mod:`supviz.study.common`).

A metric that is undefined for its panel (a collapsed layout, a space whose distances all tie
such as diag(N), a panel too small for k; :mod:`supviz.metrics.undefined`) is NaN, and
``nan_reasons`` says why (``"metric: reason; ..."``); ``collapsed`` is the layout method's verdict.
Summaries and verdicts leave such panels out and say how many.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from supviz._io import atomic_path

ID_COLUMNS = ("experiment", "importance", "m", "p", "method", "params", "n_points", "panel", "note")
#: Text columns besides the ids (kept as strings, never coerced to numbers).
TEXT_COLUMNS = ("nan_reasons",)


def build_table(rows: Iterable[dict[str, Any]]) -> "Any":
    """A :class:`pandas.DataFrame` with the id columns first and typed columns."""
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    for col in ID_COLUMNS:
        if col not in frame:
            frame[col] = None
    rest = [c for c in frame.columns if c not in ID_COLUMNS]
    frame = frame[list(ID_COLUMNS) + rest]
    for col in ("experiment", "importance", "method", "params", "panel", "note", *TEXT_COLUMNS):
        if col in frame:
            frame[col] = frame[col].fillna("").astype(str)
    if "collapsed" in frame:
        frame["collapsed"] = frame["collapsed"].astype("boolean").fillna(False).astype(bool)
    frame["m"] = pd.array(frame["m"].astype("float").round(), dtype="Int64")
    frame["n_points"] = pd.array(frame["n_points"].astype("float").round(), dtype="Int64")
    frame["p"] = frame["p"].astype(float)
    for col in rest:
        if col not in TEXT_COLUMNS and col != "collapsed":
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def write_table(frame: "Any", out_dir: str | Path, *, stem: str = "metrics") -> dict[str, Path]:
    """Write ``<stem>.parquet`` and ``<stem>.csv`` atomically; returns format -> path."""
    out = Path(out_dir)
    paths = {"parquet": out / f"{stem}.parquet", "csv": out / f"{stem}.csv"}
    with atomic_path(paths["parquet"]) as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(paths["csv"]) as tmp:
        frame.to_csv(tmp, index=False)
    return paths
