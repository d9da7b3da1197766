"""``supviz sweep``: every cell of a grid trained, pictured, measured, into one tidy Parquet table.

The work is the study's units of work (:mod:`supviz.runtime.dispatch`), on local processes or a Dask
cluster (``run.scheduler``), each a cache entry of its own:

1. **cells**: toy models, one cache entry per cell (:mod:`supviz.toy.cells`), trained in groups;
2. **features**: one task per (cell, method): the picture of the rows of ``W`` and its
   :func:`~supviz.metrics.layout_metrics`;
3. **data points**: one task per (cell, N, method) for ``h = W^T x`` (method ``"exact"``: ``h``
   itself) and per (n, p, N, method) for the control ``x``: the sample is regenerated from its
   seed where the task runs (nothing large travels), pictured and measured with
   :func:`~supviz.datapoints.measure_distortion`;
4. **SAEs**: one task per group of cells (:mod:`supviz.sweep.sae`).

Seeds: a cell's from :func:`supviz.toy.instance_seed` (its own parameters, the root seed and its
replicate index); every picture's from the cell's seed; the data-point sample of (n, p, N) from
the root seed and those three (a paired design: the cells at one p picture the same inputs). So a
cell's numbers do not depend on what else the sweep holds, and a larger sweep reuses every entry
of a smaller one.

The table (``sweep.parquet``) is tidy: one row per number, with the cell (``n_features``,
``n_hidden``, ``probability``, ``importance``, ``replicate``, ``seed``), what was measured
(``kind``: diagnostics, features, datapoints, sae; ``space``; ``method``; ``n_points``;
``setting``), ``metric``, ``value`` and, for a NaN, its ``reason``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from supviz import __version__
from supviz.core.seeding import child, int_seed
from supviz.errors import SupvizError
from supviz.sweep.config import SweepConfig, dump_sweep
from supviz.sweep.rows import COLUMNS, SweepCell, row  # noqa: F401  (COLUMNS: the table's columns)

log = logging.getLogger(__name__)

TABLE_FILE = "sweep.parquet"
SUMMARY_STEM = "summary"
_LAYOUT_METRICS = ("stress1_ratio", "shepard_rho", "trustworthiness", "continuity", "knn_recall")
_METHOD_INDEX = {"exact": 0, "mds": 1, "umap": 2, "tsne": 3}


def sweep_cells(config: SweepConfig) -> list[SweepCell]:
    """Every cell, n-major, then importance, m, p, replicate; seeds from :func:`supviz.toy.instance_seed`."""
    from supviz.toy import instance_seed

    g = config.grid
    return [
        SweepCell(
            n,
            m,
            p,
            imp,
            r,
            instance_seed(config.seed, n_features=n, n_hidden=m, probability=p, importance=imp, replicate=r),
        )
        for n in g.n_features
        for imp in g.importances
        for m in g.hidden
        for p in g.probabilities
        for r in range(g.replicates)
    ]


def derived_seed(root: int, *parts: Any) -> int:
    """A seed for a thing named by ``parts`` (hashed, so it needs no place in any list)."""
    text = ";".join(float(p).hex() if isinstance(p, float) else str(p) for p in parts)
    words = np.frombuffer(hashlib.sha256(text.encode("utf-8")).digest()[:16], dtype="<u4")
    return int_seed(child(root, *(int(w) for w in words)))


# -- tasks (module level: they travel to worker processes by reference) -----------------------------


def _layout_params(method: str, n_points: int, mds_type: str) -> dict[str, Any]:
    if method == "mds":
        return {"metric_type": mds_type}
    if method == "umap":
        return {"n_neighbors": min(15, max(2, n_points - 1)), "min_dist": 1e-4}
    return {}


def features_task(W: np.ndarray, method: str, params: dict[str, Any], seed: int, k: int) -> dict[str, Any]:
    """The picture of the rows of ``W`` by ``method`` and its layout metrics (``W`` itself as ``X``)."""
    from supviz import dr
    from supviz.metrics import layout_metrics

    layout = dr.embed(W, method, random_state=seed, **params)
    m = layout_metrics(W, layout, k=k)
    return {
        "values": {name: float(m[name]) for name in _LAYOUT_METRICS},
        "reasons": {name: m.reasons[name] for name in _LAYOUT_METRICS if name in m.reasons},
        "collapsed": bool(layout.info.get("collapsed", False)),
    }


def datapoints_task(
    W: np.ndarray | None,
    n_features: int,
    probability: float,
    n_points: int,
    x_seed: int,
    method: str,
    seed: int,
    k: int,
) -> dict[str, Any]:
    """One picture of data points (``h = W^T x``, or the inputs ``x`` when ``W`` is None) and its measures."""
    from supviz.datapoints import datapoint_layout, latent_codes, measure_distortion, sample_inputs

    sample = sample_inputs(n_features, probability=probability, n_points=n_points, random_state=x_seed)
    x = sample.x
    pts = x if W is None else latent_codes(x, W)
    if method == "exact":
        Y = pts
    else:
        Y = np.asarray(datapoint_layout(pts, method, random_state=seed).embedding, dtype=np.float64)
    res = measure_distortion(x, Y, active=x > 0, k=k, random_state=child(seed, 1))
    values = {key: float(v) for key, v in res.metrics().items()}
    return {"values": values, "reasons": dict(res.reasons), "n_dropped": int(sample.n_dropped)}


def _task(kind: str, payload: tuple[Any, ...]) -> Any:
    if kind == "features":
        return features_task(*payload)
    if kind == "datapoints":
        return datapoints_task(*payload)
    if kind == "sae":
        from supviz.sweep.sae import sae_group_task

        return sae_group_task(*payload)
    raise ValueError(kind)


# -- the run -------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What ``supviz sweep`` produced."""

    out: Path
    table: Path
    summary: list[Path]
    n_cells: int
    n_rows: int
    seconds: float
    cache_hits: int
    cache_misses: int
    notes: list[str] = field(default_factory=list)


@dataclass
class SweepPlan:
    """Checked inputs of a sweep (nothing written yet)."""

    config: SweepConfig
    out: Path
    cache_root: Path | None
    previous: list[str]


def is_sweep_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a ``supviz sweep`` (its manifest says so)."""
    from supviz.core.outdir import read_manifest

    m = read_manifest(folder)
    return m is not None and m.get("command") == "sweep"


def check_sweep(config: SweepConfig, *, out: str | Path, use_cache: bool = True) -> SweepPlan:
    """Check the output and cache folders and the cross-field settings; write nothing."""
    from supviz.core.outdir import check_output_folder, previous_files

    dp = config.datapoints
    if dp.points and dp.k > min(dp.points) - 2:
        raise SupvizError(
            f"`datapoints.k` must be at most the smallest `datapoints.points` minus 2 "
            f"({min(dp.points) - 2}); got k = {dp.k}."
        )
    if config.sae.architectures:
        from supviz.sweep.sae import check_sae

        check_sae(config)
    from supviz.datapoints.sampling import check_nonzero_rate

    for i, p in enumerate(config.grid.probabilities):  # the fewest features give the fewest non-zero rows
        check_nonzero_rate(min(config.grid.n_features), p, name=f"grid.probabilities[{i}]")
    _check_fits(config)
    out_path = check_output_folder(out, name="--out", accept=is_sweep_folder, what="a `supviz sweep` folder")
    cache_root = None
    if use_cache:
        name = "run.cache_dir"
        cache_root = check_output_folder(config.run.cache_dir or out_path / "cache", name=name)
    return SweepPlan(config, out_path, cache_root, previous_files(out_path) if is_sweep_folder(out_path) else [])


def _check_fits(config: SweepConfig) -> None:
    """The largest cell's training and the largest picture fit this machine (:mod:`supviz.core.resources`).

    A floor: one cell (cells train one at a time or in groups), its largest n and m."""
    from supviz.core.resources import check_fits, layout_need
    from supviz.toy import InstanceSpec
    from supviz.toy.train import check_training_fits

    n, m = max(config.grid.n_features), max(config.grid.hidden)
    spec = InstanceSpec(n, m, None, "uniform", None, 0)  # dense: the floor of a cell of any p
    sizes = "`grid.n_features`, `grid.hidden`, `train.batch_size`, `train.steps`, `train.log_every`"
    check_training_fits(config.train_config(n), [spec], settings=sizes)
    check_fits(_cells_need(config), f"{sizes}, `grid.probabilities`, `grid.importances`, `grid.replicates`")
    if config.datapoints.points:
        check_fits(layout_need(max(config.datapoints.points), what="picturing the data points"), "`datapoints.points`")


def _cells_need(config: SweepConfig) -> Any:
    """The floor of the sweep's cells together (:class:`supviz.core.resources.Need`): this process holds every
    trained cell's ``W [n, m]`` and ``b [n]`` (float32) until the end; trained here (no ``run.scheduler``), the
    cells of one ``n`` train in at most :data:`supviz.toy.cells.MAX_CHUNKS` chunks, so one chunk holds at least
    that share of them at once (:func:`supviz.core.resources.toy_instances_need` at the smallest ``m``). A sweep
    of 1000 cells of 4000 features used to pass the one-cell check and be refused by the first chunk, after
    ``sweep.toml`` and ``manifest.json`` were written."""
    import math

    from supviz.core.resources import F32, Need, toy_instances_need
    from supviz.toy.cells import MAX_CHUNKS

    g = config.grid
    per_m = len(g.importances) * len(g.probabilities) * g.replicates  # cells of one (n, m)
    kept = F32 * per_m * sum(n * m + n for n in g.n_features for m in g.hidden)
    need = Need(float(kept), 0.0, f"{g.n_cells} trained cells")
    if config.run.scheduler:
        return need
    tc = config.train_config(g.n_features[0])
    chunk = max(
        (
            toy_instances_need(
                math.ceil(per_m * len(g.hidden) / MAX_CHUNKS),
                n,
                min(g.hidden),
                steps=tc.steps,
                log_every=tc.log_every,
                what="a chunk of their training",
            )
            for n in g.n_features
        ),
        key=lambda c: c.bytes,
    )
    return need + chunk


def run_sweep(
    config: SweepConfig,
    out: str | Path,
    *,
    quiet: bool = False,
    announce: Callable[[str], None] | None = None,
    use_cache: bool = True,
    bars: bool | None = None,
) -> SweepResult:
    """Run the sweep ``config`` into ``out``: ``sweep.parquet``, ``summary.png``/``.svg``, the config, a record.

    Parameters
    ----------
    config
        The sweep (:func:`supviz.sweep.config.load_sweep`).
    out
        Output folder (created; a previous sweep there is replaced file by file; any other
        non-empty folder is refused).
    quiet, announce, bars
        As :func:`supviz.study.pipeline.run_study`.
    use_cache
        ``False`` recomputes everything.

    Raises
    ------
    SupvizError
        A bad input (before anything is written) or a failed computation.
    """
    from supviz.core.io import atomic_write_json, atomic_write_text, sweep_temporaries
    from supviz.core.outdir import OutputLog
    from supviz.runtime.cache import Cache
    from supviz.runtime.cluster import dispatcher_for
    from supviz.runtime.dispatch import use
    from supviz.runtime.progress import Progress

    t0 = time.perf_counter()
    plan = check_sweep(config, out=out, use_cache=use_cache)
    out = plan.out
    progress = Progress(quiet=quiet, announce=announce, bars=bars)
    cache = Cache(plan.cache_root or out / "cache", enabled=use_cache)
    with (
        dispatcher_for(
            config.run.scheduler, n_jobs=config.run.n_jobs, cache_root=cache.root, memo=cache, progress=progress.tasks
        ) as dispatcher,
        use(dispatcher),
    ):
        out.mkdir(parents=True, exist_ok=True)
        sweep_temporaries(out, untagged=False)
        written = OutputLog(out, command="sweep", previous=plan.previous)
        if use_cache:
            cache.sweep()
        written.claim("sweep.toml")
        atomic_write_text(out / "sweep.toml", dump_sweep(config))
        cells = sweep_cells(config)
        if not quiet:
            progress.announce(f"[supviz] sweep: {len(cells)} cells on {dispatcher.name} ({dispatcher.workers} at once)")
        with progress.stage("train toy models", cache):
            grids = _train(config, cells, cache, dispatcher, progress)
        rows: list[dict[str, Any]] = []
        with progress.stage("diagnostics", cache):
            rows += _diagnostic_rows(cells, grids)
        with progress.stage("pictures and measures", cache):
            rows += _measure_rows(config, cells, grids, cache, dispatcher)
        notes: list[str] = []
        if config.sae.architectures:
            from supviz.sweep.sae import sae_rows

            with progress.stage("sparse autoencoders", cache):
                rows += sae_rows(config, cells, grids, cache, dispatcher, notes)
        import pandas as pd

        frame = pd.DataFrame(rows, columns=list(COLUMNS))
        written.claim(TABLE_FILE)
        from supviz.core.io import atomic_path

        with atomic_path(out / TABLE_FILE) as tmp:
            frame.to_parquet(tmp, index=False)
        with progress.stage("summary plot", cache):
            from supviz.sweep.summary import save_summary

            names = [f"{SUMMARY_STEM}.png", f"{SUMMARY_STEM}.svg"]
            written.claim(*names)
            summary = save_summary(frame, out / SUMMARY_STEM)
        seconds = time.perf_counter() - t0
        written.claim("run.json")
        atomic_write_json(
            out / "run.json",
            {
                "supviz_version": __version__,
                "command": "sweep",
                "config": config.to_dict(),
                "cells": len(cells),
                "rows": int(len(frame)),
                "seconds": seconds,
                "where": {"dispatcher": dispatcher.name, "workers": dispatcher.workers},
                "stages": [dataclasses.asdict(s) for s in progress.stages],
                "cache": {"root": str(cache.root), "hits": dict(cache.stats.hits), "misses": dict(cache.stats.misses)},
                "platform": {"system": platform.platform(), "python": sys.version.split()[0]},
                "notes": notes,
            },
        )
        written.finish({"supviz_version": __version__})
    return SweepResult(
        out=out,
        table=out / TABLE_FILE,
        summary=summary,
        n_cells=len(cells),
        n_rows=int(len(frame)),
        seconds=seconds,
        cache_hits=cache.stats.total_hits,
        cache_misses=cache.stats.total_misses,
        notes=notes,
    )


def _train(config: SweepConfig, cells: list[SweepCell], cache: Any, dispatcher: Any, progress: Any) -> dict[int, Any]:
    """Train (or load) every cell; returns ``{cell index: (W, bias, final loss)}``."""
    from supviz.toy import InstanceSpec, importance_curve
    from supviz.toy.cells import train_cells

    out: dict[int, Any] = {}
    by_n: dict[int, list[int]] = {}
    for i, c in enumerate(cells):
        by_n.setdefault(c.n_features, []).append(i)
    for n, idx in by_n.items():
        tc = config.train_config(n)
        curves = {imp: importance_curve(imp, n) for imp in config.grid.importances}
        specs = [
            InstanceSpec(
                n,
                cells[i].n_hidden,
                cells[i].probability,
                cells[i].importance,
                curves[cells[i].importance],
                cells[i].seed,
            )
            for i in idx
        ]
        grid, _ = train_cells(specs, tc, cache=cache, dispatcher=dispatcher, progress=progress.bars)
        for j, i in enumerate(idx):
            loss = grid.losses[j]
            out[i] = {
                "W": grid.weights[j],
                "bias": grid.biases[j],
                "importance": curves[cells[i].importance],
                "final_loss": float(loss[-1]) if loss.size else math.nan,
            }
    return out


def _diagnostic_rows(cells: list[SweepCell], grids: dict[int, Any]) -> list[dict[str, Any]]:
    from supviz.toy.diagnostics import cell_diagnostics

    rows = []
    for i, c in enumerate(cells):
        d = cell_diagnostics(np.asarray(grids[i]["W"], dtype=np.float64), grids[i]["importance"])
        values = {**d.values, "final_loss": grids[i]["final_loss"]}
        for metric, v in values.items():
            rows.append(row(c, "diagnostics", "W", "", c.n_features, "", metric, v))
    return rows


def _measure_rows(
    config: SweepConfig, cells: list[SweepCell], grids: dict[int, Any], cache: Any, dispatcher: Any
) -> list[dict[str, Any]]:
    """Every picture and its measures as tasks of one dispatch (expensive first)."""
    fc, dc = config.features, config.datapoints
    tasks: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []  # (kind, payload, how to file the result)
    for i, c in enumerate(cells):
        W = np.asarray(grids[i]["W"], dtype=np.float64)
        for method in fc.methods:
            seed = int_seed(child(c.seed, 1, _METHOD_INDEX[method]))
            tasks.append(
                (
                    "features",
                    (W, method, _layout_params(method, c.n_features, fc.mds_type), seed, fc.k),
                    {"cell": i, "space": "W", "method": method, "n_points": c.n_features},
                )
            )
        for N in dc.points:
            x_seed = derived_seed(config.seed, "datapoints-x", c.n_features, c.probability, N)
            for method in ("exact", *dc.methods):
                seed = int_seed(child(c.seed, 2, N, _METHOD_INDEX[method]))
                tasks.append(
                    (
                        "datapoints",
                        (W, c.n_features, c.probability, N, x_seed, method, seed, dc.k),
                        {"cell": i, "space": "h", "method": method, "n_points": N},
                    )
                )
    controls: dict[tuple[int, float, int, str], int] = {}  # the x control, once per (n, p, N, method)
    for c in cells:
        for N in dc.points:
            for method in ("exact", *dc.methods):
                key = (c.n_features, c.probability, N, method)
                if key not in controls:
                    controls[key] = len(tasks)
                    x_seed = derived_seed(config.seed, "datapoints-x", c.n_features, c.probability, N)
                    seed = derived_seed(config.seed, "datapoints-x-layout", c.n_features, c.probability, N, method)
                    tasks.append(
                        (
                            "datapoints",
                            (None, c.n_features, c.probability, N, x_seed, method, seed, dc.k),
                            {"control": key, "space": "x", "method": method, "n_points": N},
                        )
                    )
    cost = {"tsne": 3, "umap": 2, "mds": 1, "exact": 0}
    order = sorted(range(len(tasks)), key=lambda t: -cost[tasks[t][2]["method"]])
    keys = [cache.key(f"sweep-{tasks[t][0]}", {"payload": _key_payload(tasks[t][1])}) for t in order]
    results: dict[int, Any] = {}
    for j, value in dispatcher.map(
        _task, [(tasks[t][0], tasks[t][1]) for t in order], desc="pictures and measures", kind="sweep-task", keys=keys
    ):
        results[order[j]] = value
    rows = []
    for t, (kind, _, where) in enumerate(tasks):
        if "cell" not in where:
            continue
        c = cells[where["cell"]]
        res = results[t]
        for metric, v in res["values"].items():
            rows.append(
                row(
                    c,
                    kind,
                    where["space"],
                    where["method"],
                    where["n_points"],
                    "",
                    metric,
                    v,
                    res["reasons"].get(metric, ""),
                )
            )
    for i, c in enumerate(cells):  # the control x, repeated in every cell that shares its sample
        for N in dc.points:
            for method in ("exact", *dc.methods):
                res = results[controls[(c.n_features, c.probability, N, method)]]
                for metric, v in res["values"].items():
                    rows.append(row(c, "datapoints", "x", method, N, "", metric, v, res["reasons"].get(metric, "")))
    return rows


def _key_payload(payload: tuple[Any, ...]) -> list[Any]:
    return [p if not isinstance(p, np.ndarray) else np.ascontiguousarray(p) for p in payload]
