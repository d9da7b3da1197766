"""Section D (issue 5): pictures of data points ``h = W^T x`` beside the inputs ``x``, measured.

The study pictured only the feature directions (section 2). Practitioners picture the latent codes
of data. For every (m, p) cell of the section-2 weights this section samples sparse inputs ``x``
from the cell's own distribution (:mod:`supviz.datapoints`), pictures ``x`` and ``h`` with MDS,
UMAP and t-SNE, and measures each picture against ``x``: k-NN recall, trustworthiness, continuity,
stress-1, Shepard correlation and false neighbours (pairs close in the picture that share no
active feature). The picture of ``x`` is the control: the loss that any 2-D picture has. The
exact measures of ``x_rep`` (x restricted to the represented features, orthogonally) separate the
loss from dropped features from the loss from superposition. The represented rows' pairwise
distances are measured for equidistance (why the study's MDS pictures are rings).

Storage: the whole result is a cache *folder* (``<cache>/datapoints/<key>/``) of Parquet tables,
one ``.npz`` of arrays (read with ``allow_pickle=False``) and a JSON index, written atomically;
:func:`save_result` / :func:`load_result`. Nothing in it executes code when read.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from supviz.errors import SupvizError
from supviz.report.conclusion import (
    RING_FIGURE_ID,
    equidistance_level,
    grid_id,
    heatmap_id,
    method_effects,
    method_sentence,
    ring_evidence,
    ring_sentence,
    variant_label,
    variant_slug,
)
from supviz.study.common import fmt, fmt_p
from supviz.study.config import DatapointsConfig
from supviz.study.context import RunContext
from supviz.study.sections import Finding, Section, SectionOutput, TableBlock

log = logging.getLogger(__name__)

#: Measures drawn as heatmaps over (m, p).
HEAT_METRICS = ("knn_recall", "trustworthiness", "false_neighbour_rate")
#: Measure columns copied into the run's tidy table.
ROW_METRICS = ("knn_recall", "trustworthiness", "continuity", "stress1_ratio", "shepard_rho", "false_neighbour_rate",
               "false_neighbour_pairs", "smacof_stress", "n_dropped", "n_represented", "k")
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
        cells.append({
            "key": [key[0], int(key[1]), float(key[2])],
            "x": put(cell.x), "h": put(cell.h), "xhat": put(cell.xhat), "represented": put(cell.represented),
            "importance": put(cell.importance),
            "labels": {f: put(getattr(cell.labels, f)) for f in ("top_feature", "top_rank", "top_value", "n_active")},
            "layouts": {sm(t): {"embedding": put(lay.embedding), "method": lay.method, "params": _jsonable(lay.params),
                                "info": _jsonable(lay.info), "notes": [str(n) for n in lay.notes]}
                        for t, lay in cell.layouts.items()},
            "metrics": {sm(t): _jsonable(v) for t, v in cell.metrics.items()},
            "false_pairs": {sm(t): put(v) for t, v in cell.false_pairs.items()},
            "seconds": {sm(t): float(v) for t, v in cell.seconds.items()},
            "probability": float(cell.probability), "n_drawn": int(cell.n_drawn), "n_dropped": int(cell.n_dropped),
            "k": int(cell.k),
        })
    with open(folder / "arrays.npz", "wb") as fh:
        np.savez_compressed(fh, **arrays)
    result.table.to_parquet(folder / "table.parquet", index=False)
    result.geometry.to_parquet(folder / "geometry.parquet", index=False)
    result.timings.to_parquet(folder / "timings.parquet", index=False)
    (folder / "index.json").write_text(json.dumps({"format": _FORMAT, "cells": cells}), encoding="utf-8")


def load_result(folder: str | Path) -> Any:
    """Read what :func:`save_result` wrote (no pickle anywhere): a ``DatapointGridResult``."""
    import pandas as pd

    from supviz.datapoints import DatapointCellResult, DatapointGridResult, EquidistanceResult, PointLabels
    from supviz.dr import Layout

    folder = Path(folder)
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    if index.get("format") != _FORMAT:
        raise SupvizError(f"data-point cache folder {str(folder)!r} has format {index.get('format')!r}; expected {_FORMAT}.")
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    geometry = pd.read_parquet(folder / "geometry.parquet")
    eq_fields = list(EquidistanceResult.__dataclass_fields__)
    get = lambda name: None if name is None else arrays[name]  # noqa: E731
    split = lambda s: tuple(s.split("|", 1))  # noqa: E731
    cells, keys = [], []
    for i, c in enumerate(index["cells"]):
        geo = geometry.iloc[i]
        cells.append(DatapointCellResult(
            x=get(c["x"]), h=get(c["h"]), xhat=get(c["xhat"]),
            labels=PointLabels(**{f: get(n) for f, n in c["labels"].items()}),
            represented=get(c["represented"]),
            layouts={split(s): Layout(embedding=get(v["embedding"]), method=v["method"], params=v["params"], info=v["info"],
                                      notes=v["notes"]) for s, v in c["layouts"].items()},
            metrics={split(s): {k: (float("nan") if v is None else v) for k, v in m.items()} for s, m in c["metrics"].items()},
            false_pairs={split(s): get(n) for s, n in c["false_pairs"].items()},
            probability=c["probability"], n_drawn=c["n_drawn"], n_dropped=c["n_dropped"], k=c["k"],
            geometry=EquidistanceResult(**{f: geo[f].item() if hasattr(geo[f], "item") else geo[f] for f in eq_fields}),
            seconds={split(s): v for s, v in c["seconds"].items()}, importance=get(c["importance"]),
        ))
        keys.append((str(c["key"][0]), int(c["key"][1]), float(c["key"][2])))
    return DatapointGridResult(table=pd.read_parquet(folder / "table.parquet"), geometry=geometry, cells=cells, keys=keys,
                               timings=pd.read_parquet(folder / "timings.parquet"))


# ------------------------------------------------------------------------------------ section


def _instances(ctx: RunContext, grid: Any) -> tuple[list[int], list[str]]:
    """The grid instances pictured (m in ``toy.hidden``, known p) and notes on those left out."""
    specs = list(grid.specs)
    all_m = sorted({s.n_hidden for s in specs})
    wanted = [m for m in ctx.config.toy.hidden if m in all_m] or all_m
    idx = [i for i, s in enumerate(specs) if s.n_hidden in wanted and s.probability is not None]
    notes = []
    unknown = sum(1 for s in specs if s.probability is None)
    if unknown:
        notes.append(f"{unknown} instances of unknown feature probability were not pictured (inputs are sampled at p).")
    if not idx:
        raise SupvizError("the data-point section needs at least one grid cell of known feature probability; got none.")
    return idx, notes


def _params(ctx: RunContext, cfg: DatapointsConfig) -> dict[str, Any]:
    rc = ctx.config.represented
    return {
        "points": cfg.points, "methods": list(cfg.methods), "k": cfg.k, "layout_spaces": list(cfg.layout_spaces),
        "represented_rule": rc.rule, "represented_threshold": rc.threshold, "seed": ctx.seed("datapoints"),
        "hidden": list(ctx.config.toy.hidden),
    }


def _grid_run(ctx: RunContext, grid: Any, cfg: DatapointsConfig, idx: list[int], rc: Any) -> Any:
    from supviz.datapoints import datapoint_grid

    return datapoint_grid(
        grid, n_points=cfg.points, methods=tuple(cfg.methods), k=cfg.k, layout_spaces=tuple(cfg.layout_spaces),
        represented_rule=rc.rule, represented_threshold=rc.threshold, instances=idx,
        random_state=ctx.seed("datapoints"), n_jobs=ctx.config.run.n_jobs, progress=ctx.progress.bars,
    )


class _EqualDistances(logging.Filter):
    """Drops SMACOF's "all dissimilarities are equal" warning and counts it.

    The ring analysis lays out diag(N) (and represented sets that are exactly orthogonal) with
    interval SMACOF, where every distance is equal and the fit falls back to ratio by design; one
    INFO line says how often, instead of one warning per set on the user's terminal.
    """

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "all dissimilarities are equal" in record.getMessage():
            self.count += 1
            return False
        return True


class _equal_distances_quiet:
    def __enter__(self) -> _EqualDistances:
        self.flt = _EqualDistances()
        logging.getLogger("supviz.dr.smacof").addFilter(self.flt)
        return self.flt

    def __exit__(self, *exc: Any) -> None:
        logging.getLogger("supviz.dr.smacof").removeFilter(self.flt)
        if self.flt.count:
            log.info("ring analysis: %d equidistant point sets (diag(N) and exactly orthogonal rows) fitted by ratio "
                     "SMACOF, the interval transformation being undefined for equal distances", self.flt.count)


class DatapointSection(Section):
    """Pictures of the data points of every (m, p) cell, their distortion, and the ring."""

    key = "datapoints"
    title = "3. Data points: pictures of the latent codes h = Wᵀx against the inputs x"
    config_key = "datapoints"
    config_class = DatapointsConfig
    needs_grid = True

    def compute(self, ctx: RunContext) -> dict[str, Any]:
        """Run (or find) the data-point experiment; returns the key of its cache folder."""
        cfg: DatapointsConfig = ctx.config.section("datapoints")
        _, grid_key = ctx.grid()
        params = _params(ctx, cfg)
        _, key = ctx.cache.folder("datapoints", params, lambda tmp: self._build(ctx, tmp), upstream=[grid_key])
        return {"key": key, "params": params, "grid_key": grid_key}

    def _build(self, ctx: RunContext, tmp: Path) -> None:
        cfg: DatapointsConfig = ctx.config.section("datapoints")
        grid, _ = ctx.grid()
        idx, _ = _instances(ctx, grid)
        rc = ctx.config.represented
        with _equal_distances_quiet():
            res = _grid_run(ctx, grid, cfg, idx, rc)
        save_result(res, tmp)

    def load(self, ctx: RunContext, result: dict[str, Any]) -> Any:
        """The stored :class:`~supviz.datapoints.DatapointGridResult` (rebuilt if its folder is gone)."""
        folder = ctx.cache._folder("datapoints", result["key"])
        if not folder.is_dir():
            folder, _ = ctx.cache.folder("datapoints", result["params"], lambda tmp: self._build(ctx, tmp),
                                         upstream=[result["grid_key"]])
        return load_result(folder)

    def render(self, ctx: RunContext, result: dict[str, Any]) -> SectionOutput:
        """Heatmaps, grids, example cells, the equidistance figure, table rows and findings."""
        import pandas as pd

        from supviz.figures import datapoints as dpf

        cfg: DatapointsConfig = ctx.config.section("datapoints")
        res = load_result_checked(self, ctx, result)
        variants = list(dict.fromkeys(k[0] for k in res.keys))
        rows = _rows(res)
        table = pd.DataFrame(rows)
        feature = _feature_table(ctx)
        figs, notes, tables, findings = [], [], [], []
        for v in variants:
            slug, label = variant_slug(v), variant_label(v)
            dpt = res.table[res.table["importance"] == v].reset_index(drop=True)
            ft = feature[feature["importance"] == v].reset_index(drop=True) if feature is not None else None
            for metric in HEAT_METRICS:
                has_feat = ft is not None and metric in ft.columns and ft[metric].notna().any()
                cols = ("features", "x", "h", "total") if has_feat else ("x", "h", "total")
                fig_id = heatmap_id(metric, v)
                figs.append(ctx.figure(
                    fig_id, title=f"D1. {_metric_title(metric)} over (m, p): feature directions beside data points ({label})",
                    caption=(f"{_metric_title(metric)} per (m, p) cell (rows m, columns p), one row of panels per method. "
                             + ("'feature directions': the study's pictures of the rows of W (C2 for MDS, C4 for UMAP; "
                                "the study drew no t-SNE of W), measured against W's own rows. " if has_feat else "")
                             + f"'data points': pictures of the inputs x and of the latent codes h = Wᵀx of {cfg.points} "
                             f"sampled inputs per p, measured against x with k = {cfg.k}; 'h − x': the change the latent "
                             "space causes (blue = loss for recall and trustworthiness, red = more false neighbours). "
                             + _metric_help(metric)),
                    content={"dp": _frame_content(dpt), "ft": _frame_content(ft) if has_feat else None, "metric": metric,
                             "cols": list(cols)},
                    static=lambda dpt=dpt, ft=ft if has_feat else None, metric=metric, v=v, cols=cols: dpf.heatmap_figure(
                        dpt, metric=metric, importance=v, feature_table=ft, methods=tuple(cfg.methods), columns=cols),
                ))
            sub = _subset(res, v)
            for method in cfg.grid_methods:
                fig_id = grid_id(method, v)
                figs.append(ctx.figure(
                    fig_id, title=f"D2. {_METHOD[method]} of the latent codes h = Wᵀx, rows m, columns p ({label})",
                    caption=(f"{_METHOD[method]} pictures of h = Wᵀx for {cfg.points} sampled inputs per cell (the study's "
                             f"grid: rows m, columns p, panels titled 'm : p'), to set beside C2/C4 of section 2. Colour: "
                             + ("the strongest active feature's index (uniform importance)" if v == "uniform" else
                                "importance rank of the most important active feature (0 = most important)")
                             + f". Corner: R = k-NN recall against x (k = {cfg.k})."),
                    content={"cells": [_cell_content(c, ("h",), (method,)) for c in sub.cells], "m": method},
                    static=lambda sub=sub, v=v, method=method: dpf.grid_figure(sub, importance=v, method=method, space="h"),
                ))
            for m, p in cfg.examples:
                cell, pm = _example(res, v, m, p)
                if cell is None:
                    if v == variants[0]:
                        notes.append(f"example cell m = {m}, p = {fmt_p(p)}: no such m in this grid; skipped.")
                    continue
                fig_id = f"D3_m{m}_p{fmt_p(pm).replace('.', 'p')}_{slug}"
                spaces = tuple(s for s in ("x", "x_rep", "h", "xhat") if s in cfg.layout_spaces)
                figs.append(ctx.figure(
                    fig_id, title=f"D3. One cell up close: x beside h, m = {m}, p = {fmt_p(pm)} ({label})",
                    caption=(f"The {cell.n_points} sampled inputs of the cell m = {m}, p = {fmt_p(pm)} ({cell.n_dropped} "
                             f"all-zero draws of {cell.n_drawn} dropped), pictured as x (left) and as h = Wᵀx (right) by each "
                             "method (rows). Red lines: false neighbours, pairs among each other's "
                             f"{cell.k} nearest in the picture that share no active feature. Corner: R k-NN recall, T "
                             "trustworthiness, C continuity, S stress-1, ρ Shepard correlation, FN false-neighbour rate, all "
                             "against x. Colour: " + ("the strongest active feature's index." if cell.uniform_importance else
                                                      "importance rank of the most important active feature.")
                             + " Hover a point in the interactive version for its index and labels."),
                    content=_cell_content(cell, spaces, tuple(cfg.methods)),
                    static=lambda cell=cell, spaces=spaces, head=(
                        f"m = {m}, p = {fmt_p(pm)}: {cell.n_points} inputs ({cell.n_dropped} all-zero dropped), k = {cell.k}"):
                        dpf.cell_figure(cell, spaces=spaces, title=head),
                    interactive=lambda cell=cell, spaces=spaces: _svg_traces(dpf.cell_figure_plotly(cell, spaces=spaces)),
                ))
            tables.extend(_tables(res, v, cfg))
        geo = res.geometry
        figs.append(ctx.figure(
            RING_FIGURE_ID, title="D4. Why the represented features lie on a ring: how equidistant they are",
            caption=("Coefficient of variation (std / mean) of the pairwise distances between the represented rows of W, "
                     "per cell (solid, one line per p) against the same for Gaussian rows of the same number and dimension "
                     "(dotted); diag(N), whose MDS optimum is the ring/disc of section 1, has 0. Below the dotted line the "
                     "represented features are more equidistant than chance."),
            content={"geo": _frame_content(geo)},
            static=lambda geo=geo: dpf.equidistance_figure(geo),
        ))
        effects = method_effects(table)
        rings = ring_evidence(table)
        for v in variants:
            es = [e for e in effects if e.importance == v]
            best_x = max((e.x_recall for e in es), default=float("nan"))
            for e in es:
                findings.append(Finding(
                    f"({variant_label(v)}, {_METHOD[e.method]}) Superposition might not be as large a problem for latent "
                    "space visualization.",
                    method_sentence(e, best_x),
                    {"holds": "supported", "partly": "partly", "does not hold": "not supported"}.get(e.verdict, "n/a"),
                ))
        for r in rings:
            level = equidistance_level(r)
            findings.append(Finding(
                f"({variant_label(r.importance)}) The represented features lie on a ring (the study left open why; "
                "tested here: because they are near-equidistant).",
                ring_sentence(r), {"near-equidistant": "supported", "more equidistant than chance": "partly"}.get(
                    level, "not supported"),
            ))
        return SectionOutput(key=self.key, title=self.title, intro=_intro(res, cfg, effects, ctx.config.represented), figures=figs,
                             tables=tables, findings=findings, rows=rows, notes=notes)


def load_result_checked(section: DatapointSection, ctx: RunContext, result: Any) -> Any:
    if not isinstance(result, dict) or "key" not in result:
        raise SupvizError(f"the data-point section's cached result is not a folder reference; got {type(result).__name__}.")
    return section.load(ctx, result)


_METHOD = {"mds": "MDS", "umap": "UMAP", "tsne": "t-SNE", "exact": "no picture (the space itself)"}


def _metric_title(metric: str) -> str:
    return {"knn_recall": "k-NN recall", "trustworthiness": "Trustworthiness",
            "false_neighbour_rate": "False-neighbour rate"}.get(metric, metric)


def _metric_help(metric: str) -> str:
    return {
        "knn_recall": "k-NN recall: the share of each point's k nearest neighbours in x that are among its k nearest in the picture.",
        "trustworthiness": "Trustworthiness: whether the picture's neighbours were neighbours in x (1 = no intruders).",
        "false_neighbour_rate": ("False-neighbour rate: the share of picture-neighbour pairs that share no active "
                                 "feature (the feature-direction pictures have no such measure)."),
    }[metric]


def _svg_traces(fig: Any) -> Any:
    """The figure with its WebGL scatter traces drawn as SVG ones.

    The report must render everywhere it opens, headless browsers and machines without a GPU
    included, where WebGL falls back to software with a console warning; a few thousand points
    per panel are cheap in SVG.
    """
    import plotly.graph_objects as go

    data = []
    for trace in fig.data:
        if trace.type == "scattergl":
            spec = trace.to_plotly_json()
            spec.pop("type", None)
            data.append(go.Scatter(**spec))
        else:
            data.append(trace)
    return go.Figure(data=data, layout=fig.layout)


def _frame_content(frame: Any) -> dict[str, Any] | None:
    """A DataFrame as cache-key content (numbers as float arrays, text as lists)."""
    if frame is None:
        return None
    out = {}
    for c in frame.columns:
        col = frame[c]
        if col.dtype.kind in "fiub":
            out[str(c)] = col.to_numpy(dtype=float)
        else:
            out[str(c)] = [str(v) for v in col]
    return out


def _cell_content(cell: Any, spaces: tuple[str, ...], methods: tuple[str, ...]) -> dict[str, Any]:
    lay = {f"{s}|{m}": cell.layouts[(s, m)].embedding for s in spaces for m in methods if (s, m) in cell.layouts}
    fp = {f"{s}|{m}": cell.false_pairs[(s, m)] for s in spaces for m in methods if (s, m) in cell.false_pairs}
    met = {f"{s}|{m}": cell.metrics.get((s, m), {}) for s in spaces for m in methods}
    return {"layouts": lay, "pairs": fp, "metrics": met, "labels": cell.labels.as_dict(), "p": cell.probability,
            "n": cell.n_points, "dropped": cell.n_dropped, "uniform": cell.uniform_importance}


def _subset(res: Any, variant: str) -> Any:
    from supviz.datapoints import DatapointGridResult

    sel = [i for i, k in enumerate(res.keys) if k[0] == variant]
    return DatapointGridResult(table=res.table.iloc[:0], geometry=res.geometry.iloc[:0], cells=[res.cells[i] for i in sel],
                               keys=[res.keys[i] for i in sel], timings=res.timings.iloc[:0])


def _example(res: Any, variant: str, m: int, p: float) -> tuple[Any, float]:
    """The cell of ``variant`` with hidden size ``m`` and the probability nearest ``p`` (log scale)."""
    cand = [(i, k) for i, k in enumerate(res.keys) if k[0] == variant and k[1] == m]
    if not cand:
        return None, float("nan")
    i, k = min(cand, key=lambda ik: abs(math.log(ik[1][2]) - math.log(p)))
    return res.cells[i], k[2]


def _feature_table(ctx: RunContext) -> Any:
    """The feature-direction metric rows of section 2 (C2-C5), when it ran before this section."""
    import pandas as pd

    out = ctx.rendered.get("embeddings")
    if out is None:
        return None
    rows = [r for r in out.rows if r.get("experiment") in ("C2", "C3", "C4", "C5")]
    return pd.DataFrame(rows) if rows else None


def _rows(res: Any) -> list[dict[str, Any]]:
    """Rows of the run's tidy table: one per (importance, m, p, space, method), one per cell's geometry."""
    rows = []
    for r in res.table.itertuples(index=False):
        row = {"experiment": f"D_{r.space}", "importance": r.importance, "m": int(r.m), "p": float(r.p),
               "method": r.method, "params": json.dumps({"space": r.space}), "n_points": int(r.n_points),
               "panel": f"{int(r.m)} : {fmt_p(float(r.p))}", "note": ""}
        row.update({c: float(getattr(r, c)) for c in ROW_METRICS if hasattr(r, c)})
        rows.append(row)
    for g in res.geometry.to_dict("records"):
        row = {"experiment": "D_geometry", "importance": g["importance"], "m": int(g["m"]), "p": float(g["p"]),
               "method": "", "params": "{}", "n_points": int(g["n_represented"]),
               "panel": f"{int(g['m'])} : {fmt_p(float(g['p']))}", "note": "" if g["n_represented"] >= 3 else
               "fewer than 3 represented features"}
        row.update({f"geo_{k}": float(v) for k, v in g.items()
                    if k not in ("importance", "m", "p", "instance", "n_represented", "n_hidden")})
        row["geo_n_features"] = float(res.cells[0].x.shape[1])
        rows.append(row)
    return rows


def _tables(res: Any, v: str, cfg: DatapointsConfig) -> list[TableBlock]:
    import pandas as pd

    from supviz.datapoints import superposition_effect

    label = variant_label(v)
    t = res.table[res.table["importance"] == v]
    eff = superposition_effect(t, metrics=("knn_recall",))
    out = []
    frame = []
    for m, grp in eff.groupby("m"):
        row = {"m": int(m)}
        for method in ("exact", *cfg.methods):
            g = grp[grp["method"] == method]
            if g.empty:
                continue
            name = "h (space)" if method == "exact" else _METHOD[method]
            row[f"{name}: x"] = round(float(g["x"].median()), 3) if method != "exact" else 1.0
            row[f"{name}: h"] = round(float(g["h"].median()), 3)
            row[f"{name}: h − x"] = round(float(g["total"].median()), 3)
        frame.append(row)
    out.append(TableBlock(f"k-NN recall against x, median over p, per m: pictures of x and of h, and the change ({label})",
                          pd.DataFrame(frame)))
    ex = eff[eff["method"] == "exact"]
    if ex["x_rep"].notna().any():
        split = ex.groupby("m")[["dropped", "superposition", "total"]].median().round(3).reset_index()
        out.append(TableBlock(f"k-NN recall of the code space against x, median over p: loss from dropped features "
                              f"(x_rep − x) and from superposition (h − x_rep) ({label})", split))
    geo = res.geometry[res.geometry["importance"] == v]
    cv = geo.pivot_table(index="m", columns="p", values="cv", aggfunc="first").sort_index(axis=1, ascending=False)
    cv.columns = [fmt_p(p) for p in cv.columns]
    out.append(TableBlock(f"Coefficient of variation of the represented features' pairwise distances per (m, p) "
                          f"(diag(N): 0) ({label})", cv.round(3).reset_index()))
    return out


def _intro(res: Any, cfg: DatapointsConfig, effects: list[Any], rc: Any) -> str:
    t = res.table
    groups = {}
    for cell in res.cells:
        groups.setdefault(round(cell.probability, 12), (cell.n_drawn, cell.n_dropped))
    drawn = sum(d for d, _ in groups.values())
    dropped = sum(z for _, z in groups.values())
    exact = t[(t["method"] == "exact") & (t["space"] == "h")]["knn_recall"]
    rep = t[(t["method"] == "exact") & (t["space"] == "x_rep")]["knn_recall"]
    parts = [
        f"The study pictured feature directions; practitioners picture data. For each of the {len(res.cells)} cells, "
        f"{cfg.points} sparse inputs x were drawn from the cell's own distribution (each feature present with probability "
        f"p, uniform in [0, 1]; the cells of one p share the sample; {dropped} all-zero draws of {drawn} were dropped), "
        f"mapped to h = Wᵀx and pictured with {', '.join(_METHOD[m] for m in cfg.methods)}. Every picture is measured "
        f"against x with k = {cfg.k}. The picture of x is the control: what any 2-D picture of these inputs loses.",
        f"Before any picture, the code space itself keeps a median {fmt(exact.median())} of each input's {cfg.k} nearest "
        f"neighbours (range {fmt(exact.min())} to {fmt(exact.max())} over cells)"
        + (f"; x restricted to the represented features keeps {fmt(rep.median())}, so most of the loss is superposition, "
           "not dropped features" if rep.notna().any() and rep.median() - exact.median() > 1 - rep.median() else
           f"; x restricted to the represented features keeps {fmt(rep.median())}" if rep.notna().any() else "")
        + ".",
    ]
    n = int(res.cells[0].x.shape[1])
    geo = res.geometry
    full = geo[geo["n_represented"] >= n]
    parts.append(
        (f"Represented features (for x_rep and the ring): mean|W_k| > {rc.threshold:g} x mean|W_ref|, W_ref the "
         "strongest of the most important features (row 0 under 0.9^i, as in the study; under uniform importance the "
         "study's row 0 may itself be a dropped feature, which would count every feature as represented). "
         if rc.rule == "mean_abs" else f"Represented features (for x_rep and the ring): ||W_k|| > {rc.threshold:g}. ")
        + f"{len(geo['n_represented'])} cells keep {int(geo['n_represented'].min())} to {int(geo['n_represented'].max())} "
        f"of {n} features; {len(full)} count all {n} as represented"
        + (f" ({', '.join(sorted({f'{r.importance} m = {r.m}, p = {fmt_p(r.p)}' for r in full.itertuples()}))})"
           if 0 < len(full) <= 6 else "") + "."
    )
    for e in effects:
        parts.append(f"{variant_label(e.importance).capitalize()}, {_METHOD[e.method]}: recall {fmt(e.x_recall)} for x, "
                     f"{fmt(e.h_recall)} for h (relative loss {100 * e.relative_loss:.0f}%).")
    return "\n\n".join([parts[0], parts[1], parts[2], " ".join(parts[3:])])

