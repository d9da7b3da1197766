"""Sparse autoencoders in a sweep: one cache entry per (cell, SAE setting), trained in batched groups.

Each cell's SAE learns from the cell's own data stream ``h = W^T x`` (:class:`supviz.sae.FeatureStream`)
and is scored against the cell's represented features (``||W_i|| > 0.5``) on fresh evaluation
samples (:func:`supviz.sae.score`). Seeds come from the cell's seed (stream ``child(seed, 7, 1)``,
weights ``child(seed, 7, 0)``), and the SAE engine gives a job the same bits alone or in any batch
(``supviz.sae``'s contract), so an entry does not depend on its group: cells of one feature count
and setting train as one batched job per group, one group per worker thread on a cluster.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from supviz.core.seeding import child
from supviz.errors import SupvizError

log = logging.getLogger(__name__)

KIND = "sweep-sae"


def _sae() -> Any:
    try:
        import supviz.sae as sae
    except ImportError:
        raise SupvizError(
            "`sae.architectures` needs supviz.sae, which this installation does not have; set `sae.architectures = []`."
        ) from None
    return sae


def sae_config(config: Any, architecture: str, expansion: float, n_features: int) -> Any:
    """The :class:`supviz.sae.SAEConfig` of one setting for cells of ``n_features`` features."""
    import re

    sae = _sae()
    d_sae = max(1, int(round(expansion * n_features)))
    try:
        return sae.SAEConfig(architecture=architecture, d_sae=d_sae, steps=config.sae.steps)
    except SupvizError as exc:
        raise SupvizError(re.sub(r"^`", "`sae.", str(exc), count=1)) from None


def check_sae(config: Any) -> None:
    """Every SAE setting of the sweep, built once (a bad one fails before the sweep writes anything), and the
    largest SAE with its evaluation sample fits this machine (a floor: one SAE, :mod:`supviz.core.resources`)."""
    from supviz.core.resources import check_fits, toy_sae_data_need
    from supviz.sae.engine import training_need

    m = max(config.grid.hidden)
    for n in config.grid.n_features:
        for a in config.sae.architectures:
            for e in config.sae.expansion_factors:
                cfg = sae_config(config, a, e, n)
                d_sae = cfg.resolve_d_sae(m)
                need = training_need(
                    m, d_sae, batch_size=cfg.batch_size, steps=cfg.steps, log_every=cfg.log_every, what="an SAE"
                )
                evaluation = toy_sae_data_need(n, m, d_sae, n_eval=config.sae.n_eval, batch_size=cfg.batch_size)
                check_fits(need + evaluation, "`sae.expansion_factors`, `sae.steps`, `sae.n_eval`, `grid.hidden`")


def sae_group_task(
    items: list[tuple[Any, ...]], cfg_dict: dict[str, Any], n_eval: int, store: Any, keys: list[str]
) -> list[dict[str, Any]]:
    """Train and score the SAEs of a group of cells as one batched job; store each cell's scores."""
    sae = _sae()
    from supviz.sae.metrics import SCORE_COLUMNS
    from supviz.toy import represented_mask

    cfg = sae.SAEConfig.from_dict(cfg_dict)
    threads = 0
    try:  # on a Dask worker: its own threads, not every CPU of the machine
        from distributed import get_worker

        threads = max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError):
        pass
    jobs, streams = [], []
    for W, p, importance, seed in items:
        W = np.asarray(W, dtype=np.float32)
        mask = np.asarray(represented_mask(W, rule="norm", threshold=0.5, importance=importance), dtype=bool)
        stream = sae.FeatureStream(W, float(p), seed=child(seed, 7, 1), feature_mask=mask)
        streams.append(stream)
        jobs.append(sae.SAEJob(stream, cfg, seed=child(seed, 7, 0)))
    trained = sae.train_saes(jobs, threads=threads, progress=False)
    evals = [s.evaluation(n_eval) for s in streams]
    scores = sae.score(
        trained.saes,
        [e[0] for e in evals],
        features=[s.features for s in streams],
        feature_masks=[s.feature_mask for s in streams],
        true_codes=[e[1] for e in evals],
    )
    out = []
    for i, key in enumerate(keys):
        notes = scores.notes[i] if scores.notes else {}
        value = {
            "values": {col: float(getattr(scores, col)[i]) for col in SCORE_COLUMNS},
            "reasons": {str(k): str(v) for k, v in notes.items()},
            "d_sae": int(scores.d_sae[i]),
            "n_true": int(scores.n_true[i]),
        }
        if store is not None:
            store.store(KIND, key, value)
        out.append(value)
    return out


def sae_rows(
    config: Any, cells: list[Any], grids: dict[int, Any], cache: Any, dispatcher: Any, notes: list[str]
) -> list[dict[str, Any]]:
    """The SAE scores of every (cell, setting) as table rows (``kind = "sae"``)."""
    from supviz.sweep.rows import row

    entries: list[tuple[int, str, float, Any, str]] = []  # (cell, architecture, expansion, cfg, key)
    for i, c in enumerate(cells):
        for a in config.sae.architectures:
            for e in config.sae.expansion_factors:
                cfg = sae_config(config, a, e, c.n_features)
                params = {
                    "W": np.asarray(grids[i]["W"], dtype=np.float32),
                    "p": c.probability,
                    "importance": np.asarray(grids[i]["importance"], dtype=np.float64),
                    "seed": c.seed,
                    "config": cfg.to_dict(),
                    "n_eval": config.sae.n_eval,
                }
                entries.append((i, a, e, cfg, cache.key(KIND, params)))
    results: dict[int, Any] = {}
    todo = []
    from supviz.runtime.cache import MISSING

    for j, (_, _, _, _, key) in enumerate(entries):
        value = cache.lookup(KIND, key)  # a damaged entry: a warning, then it is computed again
        if value is MISSING:
            todo.append(j)
        else:
            results[j] = value
    # one batched job per group of cells with one feature count and setting (per worker thread on a cluster)
    groups: dict[tuple[int, str, float], list[int]] = {}
    for j in todo:
        i, a, e, _, _ = entries[j]
        groups.setdefault((cells[i].n_features, a, e), []).append(j)
    on_cluster = getattr(dispatcher, "client", None) is not None
    parts: list[list[int]] = []
    for members in groups.values():
        n_parts = min(len(members), dispatcher.workers) if on_cluster else 1
        parts += [members[k::n_parts] for k in range(n_parts)]
    store = cache.writer() if cache.enabled else None
    calls = []
    for part in parts:
        items = [
            (
                grids[entries[j][0]]["W"],
                cells[entries[j][0]].probability,
                grids[entries[j][0]]["importance"],
                cells[entries[j][0]].seed,
            )
            for j in part
        ]
        calls.append((items, entries[part[0]][3].to_dict(), config.sae.n_eval, store, [entries[j][4] for j in part]))
    for g, values in dispatcher.map(sae_group_task, calls, desc="sparse autoencoders", one_thread=False):
        for j, value in zip(parts[g], values):
            results[j] = value
    rows = []
    for j, (i, a, e, _, _) in enumerate(entries):
        res = results[j]
        setting = f"expansion={e:g};d_sae={res['d_sae']}"
        for metric, v in res["values"].items():
            rows.append(
                row(cells[i], "sae", "h", a, config.sae.n_eval, setting, metric, v, res["reasons"].get(metric, ""))
            )
    return rows
