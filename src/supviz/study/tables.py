"""The run's tidy tables: one per kind of observation, each as Parquet + CSV.

=============  ======================================================================================
table          one row per
=============  ======================================================================================
``cells``      trained toy model: the section-2 grid's (m, p) cells (``model = "grid"``) and the
               background models (``"A1"``, ``"A2"``, ``"A3"``); diagnostics, represented counts under
               both rules, final loss, equidistance and ring-control measures, the loss split
``models``     trained configuration of a real network (section F's digits models: ``kind``, ``width``):
               test accuracy or FVU, mean and range over the replicates
``saes``       trained sparse autoencoder (or group of seeds of one): ``experiment`` E1 (on a toy
               cell, scored against its known features), F_layer (on a digits layer, scored without
               ground truth), F_calibration (on a toy cell, both)
``panels``     picture of a point set (B1-B5, C2-C6, E2): method, parameters, stress-1, Shepard rho,
               trustworthiness, continuity, k-NN recall, Procrustes distance, shape statistics;
               ``collapsed`` and ``nan_reasons`` (why each NaN is NaN)
``points``     data-point measure: (importance, m, p, space, method, rule) with the measures against x;
               ``rule`` is the represented rule of an x_rep / h_rep row (both rules' rows where the run
               pictures them; "" for the spaces that do not depend on it)
``layers``     measure of a real network's space (section F: pixels, a hidden layer, its SAE codes),
               as it is (``method = "exact"``) or pictured (``mds``, ``umap``, ``tsne``)
``texts``      measure of a real transformer's layer (the opt-in transformer section): per (layer, space,
               method, factor), k-NN label accuracy, and the probe and chance of the layer itself
               (``method = "exact"``) or the picture's trustworthiness and continuity
``coordinates`` point of a picture in an interactive figure (sections C, D, F and the transformer): its
               coordinates, its own trust (share of trustworthiness and continuity), false and missing
               neighbours, and a label (a feature, a digit class, a sentence and its factors)
``verdicts``   claim of the study: its verdict (and with the other represented rule), the numbers, its estimate,
               interval, unit, null level, threshold, the comparison run and where the study says it,
               how many panels were used and left out
=============  ======================================================================================

A section says which table a row belongs to with the key ``"table"`` (default ``"panels"``); README
lists every table's columns.
Rows of ``cells`` that share (``model``, ``importance``, ``m``, ``p``) are one model and are merged
into one row (the section-2 diagnostics and the data-point section's geometry of the same cell).
A metric that is undefined for its panel is NaN and ``nan_reasons`` says why; summaries and verdicts
leave such panels out and say how many. Every NaN of ``cells``, ``panels`` and ``points`` has a reason
(:func:`supviz.study.common.fill_nan_reasons`): the row's own, or "not applicable to <kind> rows" for a
column that belongs to other kinds of rows of the same table (kind: ``model``, ``experiment``, ``space``).

Reading them::

    import pandas as pd
    panels = pd.read_parquet("results/panels.parquet")
    panels[panels.experiment == "C3"].pivot_table(index="m", columns="p", values="procrustes_baseline")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from supviz.core.io import atomic_path
from supviz.metrics.pointwise import POINT_COLUMNS

#: The per-point trust columns of ``coordinates`` (:meth:`supviz.metrics.pointwise.PointTrust.columns`).
COORDINATE_TRUST = POINT_COLUMNS
KINDS = ("cells", "models", "saes", "panels", "points", "layers", "texts", "coordinates", "verdicts")
#: Leading columns of each table, in this order (present in every row; NaN / "" where unknown).
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "cells": ("model", "importance", "m", "p", "n_features"),
    "panels": (
        "experiment",
        "importance",
        "m",
        "p",
        "method",
        "params",
        "n_points",
        "panel",
        "note",
        "collapsed",
        "nan_reasons",
    ),
    "points": ("importance", "m", "p", "space", "method", "rule", "n_points", "k"),
    "models": ("kind", "width", "n_inputs", "replicates"),
    "saes": ("experiment", "architecture", "importance", "m", "p", "kind", "width", "d_sae", "nan_reasons"),
    "layers": ("kind", "width", "space", "architecture", "method", "dim", "n_points", "id", "collapsed", "nan_reasons"),
    "texts": ("layer", "space", "architecture", "method", "factor", "dim", "n_points", "nan_reasons"),
    "coordinates": (
        "section",
        "figure",
        "importance",
        "m",
        "p",
        "space",
        "method",
        "panel",
        "point",
        "label",
        "x",
        "y",
        *COORDINATE_TRUST,
        "nan_reasons",
    ),
    "verdicts": (
        "key",
        "section",
        "view",
        "method",
        "importance",
        "claim",
        "verdict",
        "verdict_other_rule",
        "changes_with_rule",
        "n_used",
        "n_left_out",
        "unit",
        "left_out_unit",
        "estimate",
        "interval_low",
        "interval_high",
        "null",
        "threshold",
        "comparison",
        "study_source",
        "measured",
        "figures",
    ),
}
#: Text columns (kept as strings, never coerced to numbers).
TEXT_COLUMNS = {
    "model",
    "experiment",
    "importance",
    "method",
    "params",
    "panel",
    "note",
    "nan_reasons",
    "space",
    "key",
    "section",
    "view",
    "claim",
    "verdict",
    "verdict_other_rule",
    "measured",
    "figures",
    "unit",
    "left_out_unit",
    "comparison",
    "study_source",
    "cosine_by_seed",
    "loss_by_seed",
    "count_by_seed",
    "dims_by_feature",
    "norms_by_feature",
    "represented_rule",
    "source",
    "rule",
    "architecture",
    "kind",
    "id",
    "factor",
    "section",
    "figure",
    "label",
}
_INT_COLUMNS = {
    "m",
    "n_points",
    "n_features",
    "k",
    "n_used",
    "n_left_out",
    "width",
    "n_inputs",
    "replicates",
    "dim",
    "d_sae",
    "layer",
    "point",
}
_BOOL_COLUMNS = {"collapsed", "changes_with_rule"}
#: Column naming each row's kind inside a table, for the "not applicable" reasons of its NaNs.
_REASON_GROUPS = {
    "panels": "experiment",
    "points": "space",
    "cells": "model",
    "saes": "experiment",
    "layers": "method",
    "models": "kind",
    "texts": "method",
}


def _typed(frame: Any, kind: str) -> Any:
    import pandas as pd

    for col in ID_COLUMNS[kind]:
        if col not in frame:
            frame[col] = None
    frame = frame[list(ID_COLUMNS[kind]) + [c for c in frame.columns if c not in ID_COLUMNS[kind]]]
    for col in frame.columns:
        if col in TEXT_COLUMNS:
            frame[col] = frame[col].fillna("").astype(str)
        elif col in _BOOL_COLUMNS:
            frame[col] = frame[col].astype("boolean").fillna(False).astype(bool)
        elif col in _INT_COLUMNS:
            frame[col] = pd.array(pd.to_numeric(frame[col], errors="coerce").round(), dtype="Int64")
        elif kind == "coordinates" and frame[col].map(lambda v: isinstance(v, str)).any():
            frame[col] = frame[col].fillna("").astype(str)  # a label column of the points (a factor's values)
        else:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    if kind in _REASON_GROUPS:  # every NaN with a reason (issue 8 follow-up, finding 13)
        from supviz.study.common import fill_nan_reasons

        frame = fill_nan_reasons(frame, group_by=_REASON_GROUPS[kind], skip=("p",))
    return frame.reset_index(drop=True)


def build_table(rows: Iterable[dict[str, Any]], *, kind: str = "panels") -> Any:
    """One table (a :class:`pandas.DataFrame`) of ``kind`` from row dicts: id columns first, typed.

    Rows of ``cells`` with the same (model, importance, m, p) are merged (first value of each column).
    """
    import pandas as pd

    rows = [{k: v for k, v in r.items() if k != "table"} for r in rows]
    frame = pd.DataFrame(rows)
    if kind == "cells" and len(frame):
        keys = ["model", "importance", "m", "p"]
        for k in keys:
            if k not in frame:
                frame[k] = None
        frame["_key"] = frame[keys].map(str).agg("|".join, axis=1)  # map: pandas 3 keeps NaN through astype(str)
        groups = frame.groupby("_key", sort=False)
        clash = groups.nunique(dropna=True).gt(1)  # two sections that measured one model differently
        if clash.to_numpy().any():
            from supviz.errors import SupvizError

            where, column = next((k, c) for k, row in clash.iterrows() for c in clash.columns if row[c])
            raise SupvizError(f"two rows of `cells` for one model ({where}) disagree on {column!r}.")
        frame = groups.first().reset_index(drop=True)
    return _typed(frame, kind)


def verdict_rows(outputs: Sequence[Any]) -> list[dict[str, Any]]:
    """One row per finding of the rendered sections (the ``verdicts`` table)."""
    rows = []
    for o in outputs:
        for f in o.findings:
            rows.append(
                {
                    "key": f.key,
                    "section": o.key,
                    "view": f.view,
                    "method": f.method,
                    "importance": f.importance,
                    "claim": f.claim,
                    "verdict": f.verdict,
                    "verdict_other_rule": f.verdict_other_rule,
                    "changes_with_rule": f.changes_with_rule(),
                    "n_used": f.n_used,
                    "n_left_out": f.n_left_out,
                    "unit": f.unit,
                    "left_out_unit": f.left_out_words(),
                    "estimate": f.estimate,
                    "interval_low": f.interval[0] if f.interval else None,
                    "interval_high": f.interval[1] if f.interval else None,
                    "null": f.null,
                    "threshold": f.threshold,
                    "comparison": f.comparison,
                    "study_source": f.source,
                    "measured": f.measured,
                    "figures": " ".join(f.figures),
                }
            )
    return rows


def build_tables(outputs: Sequence[Any]) -> dict[str, Any]:
    """The run's tables by kind (:data:`KINDS`) from the rendered sections; a kind without rows is left out."""
    by_kind: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for o in outputs:
        for row in o.rows:
            kind = row.get("table", "panels")
            if kind not in by_kind or kind == "verdicts":
                from supviz.errors import SupvizError

                raise SupvizError(
                    f"a row's `table` must be one of {[k for k in KINDS if k != 'verdicts']}; got {kind!r}."
                )
            by_kind[kind].append(row)
    by_kind["verdicts"] = verdict_rows(outputs)
    keys = [r["key"] for r in by_kind["verdicts"]]
    if len(set(keys)) != len(keys):
        from supviz.errors import SupvizError

        raise SupvizError(f"two findings share the key {next(k for k in keys if keys.count(k) > 1)!r}.")
    return {k: build_table(rows, kind=k) for k, rows in by_kind.items() if rows}


def table_files(kinds: Iterable[str]) -> list[str]:
    """File names (relative to the run folder) of the tables ``kinds``: ``<kind>.parquet``, ``<kind>.csv``."""
    return [f"{k}.{ext}" for k in kinds for ext in ("parquet", "csv")]


def write_tables(tables: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write every table as ``<kind>.parquet`` and ``<kind>.csv``, atomically; returns file name -> path."""
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for kind, frame in tables.items():
        for ext in ("parquet", "csv"):
            path = out / f"{kind}.{ext}"
            with atomic_path(path) as tmp:
                if ext == "parquet":
                    frame.to_parquet(tmp, index=False)
                else:
                    frame.to_csv(tmp, index=False)
            paths[path.name] = path
    return paths
