"""The random-direction null of C3 / C5: the Procrustes distance P a picture of N structureless rows scores.

P, a picture's Procrustes distance to the ratio-MDS picture of ``diag(N)`` (:func:`supviz.study.baselines.section.
orthogonal_baselines`), depends on the point count N and on m with no superposition at all (UMAP of ``diag(N)``
alone: 0.56 at N = 4, 0.18 at N = 10). Within one m, sparser p keeps more represented rows (uniform, m = 10: 7 to
57), so rho(1/p, P) can follow N alone. The null is what the same picture gives for N random unit directions in
R^m (:func:`supviz.sae.chance.random_unit_rows`: rows with W's shape and nothing else), averaged over ``draws``
draws; the C3 / C5 verdicts read ``P - null`` (:func:`supviz.study.embeddings.findings.no_signature`).

:func:`null_distance` is pure (a test or a script recomputes it from a finished run's tables);
:func:`procrustes_nulls` caches it per (method, m, N) in the run's cache.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def null_distance(
    m: int,
    n: int,
    *,
    method: str,
    baseline: np.ndarray,
    draws: int,
    seeds: list[int],
    params: dict[str, Any],
) -> float:
    """Mean Procrustes distance to ``baseline`` of ``method``'s pictures of ``n`` random unit directions in R^m.

    Parameters
    ----------
    m, n : int
        Dimension of the rows and their count (``n >= 3``).
    method : {'mds', 'umap'}
        'mds': SMACOF (:func:`supviz.dr.smacof`, ``params`` its ``metric_type``, ``max_iter``, ``eps``) of the rows'
        Euclidean distances, all draws in one batched call; 'umap': :func:`supviz.dr.embed` with ``params``.
    baseline : ndarray, shape (n, 2)
        The ratio-MDS picture of ``diag(n)`` the C3 / C5 panels are compared with.
    draws : int
        Random row sets; ``seeds`` holds ``2 * draws`` ints (one per draw for the rows, one for its layout).

    Returns
    -------
    float
        Mean over the draws whose distance is defined (matched Procrustes, as ``procrustes_baseline``); NaN when
        none is (every picture collapsed).
    """
    from supviz import dr
    from supviz.metrics.procrustes import procrustes_and_reason
    from supviz.sae.chance import random_unit_rows
    from supviz.study.adapters import pairwise

    rows = [random_unit_rows(n, m, np.random.default_rng(seeds[d])) for d in range(draws)]
    if method == "mds":
        res = dr.smacof(np.stack([pairwise(X) for X in rows]), random_state=seeds[draws], **params)
        layouts = [np.asarray(res.embedding[d]) for d in range(draws)]
    else:
        layouts = []
        for d, X in enumerate(rows):
            lay = dr.embed(X, method, random_state=seeds[draws + d], **params)
            layouts.append(None if lay.info.get("collapsed", False) else np.asarray(lay.embedding, dtype=float))
    dist = [procrustes_and_reason(Y, baseline, match=True)[0] for Y in layouts if Y is not None]
    dist = [v for v in dist if math.isfinite(v)]
    return float(np.mean(dist)) if dist else float("nan")


def _null_task(m: int, n: int, method: str, baseline: np.ndarray, draws: int, seeds: list[int], params: dict) -> dict:
    """One (m, N) of :func:`procrustes_nulls` where it runs (a worker process of the run's dispatcher)."""
    return {"p": null_distance(m, n, method=method, baseline=baseline, draws=draws, seeds=seeds, params=params)}


def procrustes_nulls(
    ctx: Any,
    pairs: set[tuple[int, int]],
    *,
    method: str,
    base: dict[int, np.ndarray],
    draws: int,
    params_for: Any,
) -> dict[tuple[int, int], float]:
    """:func:`null_distance` for every (m, N) in ``pairs`` (cached per method, m, N and parameters), as tasks on the
    run's dispatcher (in parallel: UMAP's draws one after another in this process were about 10 s of one busy core).

    ``params_for(n)``: the method's parameters for N points (C5 shrinks n_neighbors to N - 1). Logs the wall seconds
    it took (cache hits are free).
    """
    t0 = time.perf_counter()
    out: dict[tuple[int, int], float] = {}
    calls, keys, where = [], [], []
    for m, n in sorted(pairs):
        if n not in base:
            out[(m, n)] = float("nan")
            continue
        seeds = [ctx.seed("C-null", method, m, n, i) for i in range(2 * draws)]
        params = dict(params_for(n))
        key = {"m": m, "n": n, "method": method, "params": params, "draws": draws, "seeds": seeds}
        key["baseline"] = base[n]
        calls.append((m, n, method, base[n], draws, seeds, params))
        keys.append(ctx.cache.key("procrustes_null", key))
        where.append((m, n))
    desc = f"{method} random-direction null"
    for i, value in ctx.run_tasks().map(_null_task, calls, desc=desc, kind="procrustes_null", keys=keys):
        out[where[i]] = float(value["p"])
    log.info("random-direction null (%s, %d (m, N) pairs): %.1f s", method, len(pairs), time.perf_counter() - t0)
    return out
