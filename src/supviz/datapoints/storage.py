"""A :class:`~supviz.datapoints.DatapointGridResult` on disk: Parquet tables, one ``.npz`` of arrays
(read with ``allow_pickle=False``) and a JSON index (:func:`save_result` / :func:`load_result`).

Nothing in it executes code when read. It is the result's folder codec in the cache
(:func:`supviz.runtime.codecs.register_folder_codec`, registered where the class is defined).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from supviz.errors import SupvizError

_FORMAT = 1


# ------------------------------------------------------------------------------------ storage


def _jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars as Python numbers; what JSON cannot hold is dropped (None)."""
    if isinstance(obj, dict):
        return {str(k): v for k, v in ((k, _jsonable(v)) for k, v in obj.items()) if v is not None}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return None


def save_result(result: Any, folder: str | Path) -> None:
    """Write a :class:`~supviz.datapoints.DatapointGridResult` as Parquet + npz + JSON into ``folder``.

    Arrays shared between cells (the sample ``x`` of a probability, the pictures of ``x``) are
    stored once.
    """
    folder = Path(folder)
    arrays: dict[str, np.ndarray] = {}
    by_id: dict[int, str] = {}

    def put(arr: np.ndarray | None) -> str | None:
        if arr is None:
            return None
        if id(arr) not in by_id:
            name = f"a{len(arrays)}"
            arrays[name] = np.ascontiguousarray(arr)
            by_id[id(arr)] = name
        return by_id[id(arr)]

    cells = []
    for key, cell in zip(result.keys, result.cells):
        sm = lambda t: f"{t[0]}|{t[1]}"  # noqa: E731
        cells.append(
            {
                "key": [key[0], int(key[1]), float(key[2])],
                "x": put(cell.x),
                "h": put(cell.h),
                "xhat": put(cell.xhat),
                "represented": put(cell.represented),
                "rule": cell.rule,
                "other_rule": cell.other_rule,
                "other_represented": put(cell.other_represented),
                "importance": put(cell.importance),
                "labels": {
                    f: put(getattr(cell.labels, f)) for f in ("top_feature", "top_rank", "top_value", "n_active")
                },
                "layouts": {
                    sm(t): {
                        "embedding": put(lay.embedding),
                        "method": lay.method,
                        "params": _jsonable(lay.params),
                        "info": _jsonable(lay.info),
                        "notes": [str(n) for n in lay.notes],
                    }
                    for t, lay in cell.layouts.items()
                },
                "metrics": {sm(t): _jsonable(v) for t, v in cell.metrics.items()},
                "false_pairs": {sm(t): put(v) for t, v in cell.false_pairs.items()},
                "seconds": {sm(t): float(v) for t, v in cell.seconds.items()},
                "probability": float(cell.probability),
                "n_drawn": int(cell.n_drawn),
                "n_dropped": int(cell.n_dropped),
                "k": int(cell.k),
            }
        )
    with open(folder / "arrays.npz", "wb") as fh:
        np.savez_compressed(fh, **arrays)
    result.table.to_parquet(folder / "table.parquet", index=False)
    result.geometry.to_parquet(folder / "geometry.parquet", index=False)
    result.timings.to_parquet(folder / "timings.parquet", index=False)
    index = {"format": _FORMAT, "cells": cells, "rule": result.rule, "other_rule": result.other_rule}
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")


def load_result(folder: str | Path) -> Any:
    """Read what :func:`save_result` wrote (no pickle anywhere): a ``DatapointGridResult``.

    Raises
    ------
    SupvizError
        One line naming the folder, for any file of it that is missing, empty, truncated or holds
        something else (the cache, which reads this through :mod:`supviz.runtime.codecs`, then
        warns and computes the result again).
    """
    try:
        return _load_result(Path(folder))
    except SupvizError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a damaged file raises is one refusal
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise SupvizError(
            f"data-point result folder {str(folder)!r} is damaged ({type(exc).__name__}: {reason})."
        ) from None


def _load_result(folder: Path) -> Any:
    import pandas as pd

    from supviz.core.io import read_json_object
    from supviz.datapoints import DatapointCellResult, DatapointGridResult, EquidistanceResult, PointLabels
    from supviz.dr import Layout

    index = read_json_object(folder / "index.json", what="a data-point result index")
    if index.get("format") != _FORMAT:
        raise SupvizError(
            f"data-point cache folder {str(folder)!r} has format {index.get('format')!r}; expected {_FORMAT}."
        )
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    geometry = pd.read_parquet(folder / "geometry.parquet")
    eq_fields = list(EquidistanceResult.__dataclass_fields__)
    get = lambda name: None if name is None else arrays[name]  # noqa: E731
    split = lambda s: tuple(s.split("|", 1))  # noqa: E731
    cells, keys = [], []
    for i, c in enumerate(index["cells"]):
        geo = geometry.iloc[i]
        cells.append(
            DatapointCellResult(
                x=get(c["x"]),
                h=get(c["h"]),
                xhat=get(c["xhat"]),
                labels=PointLabels(**{f: get(n) for f, n in c["labels"].items()}),
                represented=get(c["represented"]),
                layouts={
                    split(s): Layout(
                        embedding=get(v["embedding"]),
                        method=v["method"],
                        params=v["params"],
                        info=v["info"],
                        notes=v["notes"],
                    )
                    for s, v in c["layouts"].items()
                },
                metrics={
                    split(s): {k: (float("nan") if v is None else v) for k, v in m.items()}
                    for s, m in c["metrics"].items()
                },
                false_pairs={split(s): get(n) for s, n in c["false_pairs"].items()},
                probability=c["probability"],
                n_drawn=c["n_drawn"],
                n_dropped=c["n_dropped"],
                k=c["k"],
                geometry=EquidistanceResult(
                    **{f: geo[f].item() if hasattr(geo[f], "item") else geo[f] for f in eq_fields}
                ),
                seconds={split(s): v for s, v in c["seconds"].items()},
                importance=get(c["importance"]),
                # (absent from folders written before the second rule's pictures)
                rule=str(c.get("rule", "")),
                other_rule=str(c.get("other_rule", "")),
                other_represented=get(c.get("other_represented")),
            )
        )
        keys.append((str(c["key"][0]), int(c["key"][1]), float(c["key"][2])))
    return DatapointGridResult(
        table=pd.read_parquet(folder / "table.parquet"),
        geometry=geometry,
        cells=cells,
        keys=keys,
        timings=pd.read_parquet(folder / "timings.parquet"),
        rule=str(index.get("rule", "")),
        other_rule=str(index.get("other_rule", "")),
    )


# ------------------------------------------------------------------------------------ section
