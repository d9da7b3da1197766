"""Thin adapters between the study and the engines (``supviz.toy``, ``supviz.dr``, ``supviz.metrics``).

Everything the study asks of an engine goes through here, so the sections read as the study does
and an engine's API change touches one file. The engines are imported lazily (torch, umap).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from supviz.runtime.codecs import cacheable

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# toy models


def train(config: Any, *, progress: bool | None) -> Any:
    """Train one grid with ``supviz.toy.train_grid`` (a diverged one raises ``TrainingDiverged``)."""
    from supviz import toy

    return toy.train_grid(config, progress=progress)


def train_groups(
    groups: list[list[Any]],
    config: Any,
    *,
    dispatcher: Any = None,
    progress: bool | None,
    on_group: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Train several groups of instances, one ``TrainedGrid`` per group, each instance the same bits as trained
    alone: ``supviz.toy.cells.train_groups`` (the parts of every group queue on the ``dispatcher``'s worker
    processes, or on this process's threads without one)."""
    from supviz.toy.cells import train_groups

    return train_groups(groups, config, dispatcher=dispatcher, progress=progress, on_group=on_group)


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, or of a run folder's weights and metadata (the cache key of supplied weights)."""
    from supviz.core.io import file_sha256

    p = Path(path)
    return file_sha256(*([p / "weights.safetensors", p / "metadata.json"] if p.is_dir() else [p]))


def load_weights(path: str | Path) -> Any:
    """Supplied weights as a ``TrainedGrid`` (``supviz.toy.load_grid``: the study's npz by its key rule, any
    array file, or a ``supviz train`` run folder); every failure is one ``SupvizError`` line."""
    from supviz import toy

    return toy.load_grid(path)


def importance_variants(grid: Any) -> list[str]:
    """The importance names present in a grid, in first-seen order."""
    seen: list[str] = []
    for s in grid.specs:
        if s.importance_name not in seen:
            seen.append(s.importance_name)
    return seen


def represented(W: np.ndarray, *, rule: str, threshold: float, importance: np.ndarray | None = None) -> np.ndarray:
    """Represented-feature mask ``[..., n]`` by ``supviz.toy.represented_mask``.

    ``mean_abs`` is the study's rule: mean|W_k| > threshold * mean|W_ref|, W_ref = the most
    important feature (row 0 under 0.9^i; under uniform importance the strongest row, see
    :func:`supviz.toy.represented_mask`).
    """
    from supviz import toy

    return np.asarray(toy.represented_mask(W, rule=rule, threshold=threshold, importance=importance), dtype=bool)


def rule_masks(W: np.ndarray, importance: np.ndarray, rc: Any) -> dict[str, np.ndarray]:
    """The represented mask of ``W`` under the configured rule and the other one (its default threshold)."""
    other = rc.other()
    return {
        rc.rule: represented(W, rule=rc.rule, threshold=rc.threshold, importance=importance),
        other.rule: represented(W, rule=other.rule, threshold=other.threshold, importance=importance),
    }


# ---------------------------------------------------------------------------------------------
# layouts


def pairwise(X: np.ndarray) -> np.ndarray:
    """Euclidean distances ``[..., N, N]`` between the rows of ``X [..., N, d]``."""
    X = np.asarray(X, dtype=np.float64)
    sq = np.einsum("...id,...id->...i", X, X)
    d2 = sq[..., :, None] + sq[..., None, :] - 2.0 * np.einsum("...id,...jd->...ij", X, X)
    np.maximum(d2, 0.0, out=d2)
    d = np.sqrt(d2)
    idx = np.arange(d.shape[-1])
    d[..., idx, idx] = 0.0
    return d


@cacheable
@dataclass
class MdsPanel:
    """One SMACOF configuration with what the figures and metrics need."""

    embedding: np.ndarray
    stress: float
    shepard: Any
    n_iter: int
    converged: bool
    notes: list[str]


def smacof_batch(
    ctx: Any,
    deltas: list[np.ndarray],
    *,
    metric_type: str,
    max_iter: int,
    eps: float,
    seed: int,
    desc: str,
    init: str = "torgerson",
) -> list[tuple[MdsPanel, str]]:
    """SMACOF of many dissimilarity matrices: one batched, cached call per point count N (``init``: the start,
    :func:`supviz.dr.smacof`'s; "random" starts from the seed's uniform random configuration)."""
    from supviz import dr

    out: list[tuple[MdsPanel, str] | None] = [None] * len(deltas)
    groups: dict[int, list[int]] = {}
    for i, d in enumerate(deltas):
        groups.setdefault(d.shape[0], []).append(i)
    for n, idx in sorted(groups.items()):
        stack = np.stack([deltas[i] for i in idx])
        params = {"delta": stack, "metric_type": metric_type, "max_iter": max_iter, "eps": eps, "seed": seed}
        if init != "torgerson":  # the default start keeps the cache keys it always had
            params["init"] = init

        def run(stack: np.ndarray = stack) -> list[MdsPanel]:
            res = dr.smacof(stack, metric_type=metric_type, max_iter=max_iter, eps=eps, random_state=seed, init=init)
            return [
                MdsPanel(
                    embedding=np.asarray(res.embedding[b]),
                    stress=float(np.asarray(res.stress)[b]),
                    shepard=res.shepard(b),
                    n_iter=int(np.asarray(res.n_iter)[b]),
                    converged=bool(np.asarray(res.converged)[b]),
                    notes=list(res.notes),
                )
                for b in range(stack.shape[0])
            ]

        panels, key = ctx.cache.get_or_compute("smacof", params, run)
        for j, i in enumerate(idx):
            out[i] = (panels[j], key)
    return out  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# metrics


@cacheable
@dataclass
class PanelTrust:
    """Each point's trust in one picture (:func:`panel_trust`).

    Attributes
    ----------
    columns : dict
        :meth:`supviz.metrics.pointwise.PointTrust.columns`, name -> (N,): ``trust``, ``trustworthiness``,
        ``continuity``, ``false_neighbours``, ``missing_neighbours``; all NaN where undefined.
    reason : str
        Why they are undefined ('' when defined).
    """

    columns: dict[str, np.ndarray]
    reason: str = ""

    def hover(self) -> dict[str, Any]:
        """The hover columns (:func:`supviz.plot.trust.hover_columns`; the reason where undefined)."""
        from supviz.plot.trust import hover_columns

        return hover_columns(self.columns, self.reason)


def panel_trust(X: np.ndarray, Y: np.ndarray, *, k: int, collapsed: bool = False) -> PanelTrust:
    """Each point's own trustworthiness and continuity of picture ``Y`` (N, 2) of ``X`` (N, d).

    :func:`supviz.metrics.pointwise.panel_point_trust` at ``k`` (the run's ``metrics.k``), never shrunk: a panel with
    fewer than k + 2 points, a collapsed one (the layout method's verdict) or one whose distances all tie is NaN at
    every point, with the reason (:mod:`supviz.metrics.undefined`). Not cached on its own: the sections that call
    it cache their whole result, and a panel of a few hundred points takes milliseconds.
    """
    from supviz.metrics.pointwise import panel_point_trust

    pt = panel_point_trust(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64), k=k, collapsed=collapsed)
    return PanelTrust(pt.columns(), next(iter(pt.reasons.values()), ""))


def panel_metrics(
    ctx: Any,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    X_true: np.ndarray | None,
    baseline: np.ndarray | None,
    collapsed: bool = False,
) -> tuple[dict[str, float], dict[str, str], str]:
    """``supviz.metrics.layout_metrics`` of one panel (cached): values, reasons for NaN, cache key.

    ``k`` is the configured neighbourhood size, never shrunk: a panel too small for it gets NaN
    neighbourhood metrics with the reason (issue 8). ``collapsed`` is the layout method's verdict
    (``Layout.info["collapsed"]``); every metric of a collapsed panel is NaN.
    """
    from supviz import metrics

    k = ctx.config.metrics.k
    params = {"X": X, "Y": Y, "X_true": X_true, "baseline": baseline, "k": k, "collapsed": bool(collapsed)}

    def run() -> dict[str, Any]:
        vals = metrics.layout_metrics(X, Y, X_true=X_true, k=k, baseline=baseline, collapsed=bool(collapsed))
        return {
            "values": {name: float(vals[name]) for name in metrics.METRIC_KEYS if name != "k"} | {"k": float(k)},
            "reasons": dict(vals.reasons),
        }

    out, key = ctx.cache.get_or_compute("metrics", params, run)
    return dict(out["values"]), dict(out["reasons"]), key
