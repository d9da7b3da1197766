"""MDS layouts: SMACOF (:mod:`supviz.dr.smacof`) of a point set's distances, as a :class:`~supviz.dr.base.Layout`.

:func:`mds_layout` lays out one point set (the study's interval MDS by default); :func:`mds_layouts`
many at once, one batched SMACOF per size.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike
from supviz.core.validation import check_array, check_keywords
from supviz.dr.base import MIN_POINTS, Layout, add_note, check_layout_input, layout_collapsed
from supviz.errors import SupvizError
from supviz.metrics.distances import pairwise_distances

logger = logging.getLogger(__name__)


def _weights_param(kw: dict[str, Any]) -> dict[str, Any]:
    """``{"weights": <a float64 copy>}`` when pair weights were passed (a Layout's params say what was used)."""
    w = kw.get("weights")
    return {} if w is None else {"weights": np.array(w, dtype=np.float64)}


def _mds_result_to_layout(result: Any, index: int | None, params: dict[str, Any], notes: list[str]) -> Layout:
    def pick(value: Any) -> Any:
        return value if index is None else value[index]

    stress = float(pick(result.stress))
    embedding = np.asarray(pick(result.embedding), dtype=np.float64)
    info = {
        "smacof_stress": stress,
        "collapsed": layout_collapsed(embedding),
        "n_iter": int(pick(result.n_iter)),
        "converged": bool(pick(result.converged)),
        "deterministic": True,
        "result": result,
    }
    if index is not None:
        info["batch_index"] = index
    return Layout(
        embedding=embedding,
        method="mds",
        params=dict(params),
        info=info,
        notes=list(notes),
    )


#: Keyword arguments that mds_layout / mds_layouts pass on to :func:`~supviz.dr.smacof.smacof`.
SMACOF_PASS_THROUGH = ("weights", "init", "device", "engine")


def _observed(weights: Any, i: int | None = None) -> np.ndarray | None:
    """The observed pairs (weight > 0) of ``weights``: one ``[N, N]`` matrix, or with ``i`` item
    ``i``'s of ``mds_layouts``' ``[B, N, N]``; None where there are none or they are misshapen
    (:func:`~supviz.dr.smacof.smacof` refuses those by name). Weights that are not numbers are refused
    here, before the dissimilarities' pairs are read with them.

    Raises
    ------
    SupvizError
        ``weights`` not a finite numeric array.
    """
    if weights is None:
        return None
    w = check_array("weights", weights)
    if i is not None and w.ndim == 3:
        w = w[i] if i < len(w) else np.empty(0)
    return w > 0 if w.ndim == 2 else None


def _mds_delta(X: Any, precomputed: bool, notes: list[str], observed: np.ndarray | None = None) -> np.ndarray:
    """Dissimilarities for SMACOF, checked under the user's name ``X``, at unit scale, with points
    that coincide up to rounding made identical (:func:`check_layout_input`); a pair not ``observed``
    (weight 0) never makes two points one, whatever value stands for it."""
    pts = check_layout_input(
        X, method="MDS", min_points=MIN_POINTS["MDS"], precomputed=precomputed, notes=notes, observed=observed
    )
    return pts if precomputed else pairwise_distances(pts)


_MDS_KEYWORDS = ("metric_type", "n_components", "n_init", "max_iter", "eps", "random_state", "precomputed")


def mds_layout(
    X: Any,
    *,
    metric_type: str = "interval",
    n_components: int = 2,
    n_init: int = 1,
    max_iter: int = 1000,
    eps: float = 1e-6,
    random_state: SeedLike = None,
    precomputed: bool = False,
    **kw: Any,
) -> Layout:
    """SMACOF MDS of the Euclidean distances of ``X`` (the study's interval MDS by default).

    Parameters
    ----------
    X : array_like, shape (N, d) or (N, N)
        Points (N >= 2), or dissimilarities with ``precomputed=True``.
    metric_type : {"interval", "ratio", "ordinal"}, default "interval"
        SMACOF transformation (the study: ``"ratio"`` for the baselines, ``"interval"`` for W).
    n_components : int, default 2
        Output dimension.
    n_init, max_iter, eps : int, int, float
        Restarts, iteration cap and stopping tolerance (R smacof defaults 1, 1000, 1e-6).
    random_state : int, numpy Generator, SeedSequence or None
        Seeds random restarts (the default Torgerson start is deterministic).
    precomputed : bool, default False
        Whether ``X`` already is a dissimilarity matrix.
    **kw
        Passed to :func:`supviz.dr.smacof.smacof` (``weights``, ``init``, ``device``, ``engine``);
        any other keyword is a :class:`~supviz.errors.SupvizError` naming it and the valid ones.

    Returns
    -------
    Layout
        ``info["smacof_stress"]`` is the stress-1 SMACOF minimised (NaN when every point of ``X``
        is identical: nothing to fit), ``sqrt(sum_{i<j} (dhat_ij - d_ij)^2 / sum_{i<j} dhat_ij^2)``
        with ``d`` the layout's distances and ``dhat`` the disparities of ``metric_type`` (ratio:
        ``b delta``; interval: ``a + b delta``; ordinal: monotone in ``delta``), as R smacof
        reports it (de Leeuw & Mair 2009). It is *not* :func:`supviz.metrics.stress1_ratio`
        (the ``"stress1_ratio"`` of :func:`~supviz.metrics.layout_metrics`), which scores any
        layout against ratio disparities ``b delta`` only: the two agree for
        ``metric_type="ratio"`` (up to the stopping tolerance ``eps``), and for interval or
        ordinal MDS ``smacof_stress <= stress1_ratio``, because the ratio fit is one of the
        interval fits. ``info["collapsed"]`` whether the layout is one spot;
        ``info["result"]`` the full :class:`~supviz.dr.smacof.SmacofResult` (``.shepard()``
        gives the Shepard diagram data). Any scale of ``X`` gives the same layout and stress.
    """
    from supviz.dr.smacof import smacof

    check_keywords("mds_layout", kw, _MDS_KEYWORDS + SMACOF_PASS_THROUGH)
    notes: list[str] = []
    delta = _mds_delta(X, precomputed, notes, _observed(kw.get("weights")))
    result = smacof(
        delta,
        n_components=n_components,
        metric_type=metric_type,
        n_init=n_init,
        max_iter=max_iter,
        eps=eps,
        random_state=random_state,
        **kw,
    )
    for note in result.notes:
        add_note(notes, "smacof: %s", note)
    params = {
        "metric_type": metric_type,
        "n_components": n_components,
        "n_init": n_init,
        "max_iter": max_iter,
        "eps": eps,
        "random_state": random_state if isinstance(random_state, (int, np.integer)) else None,
        **{k: v for k, v in result.params.items() if k not in ("n_components", "n_init", "max_iter", "eps")},
        **_weights_param(kw),
    }
    return _mds_result_to_layout(result, None, params, notes)


def mds_layouts(
    Xs: Sequence[Any],
    *,
    metric_type: str = "interval",
    n_components: int = 2,
    n_init: int = 1,
    max_iter: int = 1000,
    eps: float = 1e-6,
    random_state: SeedLike = None,
    precomputed: bool = False,
    **kw: Any,
) -> list[Layout]:
    """MDS of many point sets, batching those of the same size into one SMACOF call.

    The study's 36-panel grids are 36 sets of 60 points: one batched call instead of 36. Sets of
    different sizes form separate batches (in order of first appearance). Parameters as in
    :func:`mds_layout`; SMACOF seeds restart ``r`` of batch item ``b`` with
    ``child(random_state, b, r)``, where ``b`` is the set's position within its size group.

    Returns
    -------
    list of Layout
        In the order of ``Xs``; ``info["batch_index"]`` is the position in the batch and
        ``info["result"]`` the shared batched :class:`~supviz.dr.smacof.SmacofResult`.
    """
    from supviz.dr.smacof import smacof

    check_keywords("mds_layouts", kw, _MDS_KEYWORDS + SMACOF_PASS_THROUGH)
    if isinstance(Xs, np.ndarray) and Xs.ndim == 2:
        raise SupvizError(f"`Xs` must be a sequence of point sets; got one array of shape {Xs.shape}.")
    item_notes: list[list[str]] = []
    deltas = []
    for X in Xs:
        item_notes.append([])
        deltas.append(_mds_delta(X, precomputed, item_notes[-1], _observed(kw.get("weights"), len(deltas))))
    if not deltas:
        raise SupvizError("`Xs` must hold at least one point set; got an empty sequence.")
    groups: dict[int, list[int]] = defaultdict(list)
    for i, d in enumerate(deltas):
        groups[d.shape[0]].append(i)
    out: list[Layout | None] = [None] * len(deltas)
    for n, members in groups.items():
        result = smacof(
            np.stack([deltas[i] for i in members]),
            n_components=n_components,
            metric_type=metric_type,
            n_init=n_init,
            max_iter=max_iter,
            eps=eps,
            random_state=random_state,
            **kw,
        )
        notes: list[str] = []
        for note in result.notes:
            add_note(notes, "smacof (N=%d batch): %s", n, note)
        params = {
            "metric_type": metric_type,
            "n_components": n_components,
            "n_init": n_init,
            "max_iter": max_iter,
            "eps": eps,
            "random_state": random_state if isinstance(random_state, (int, np.integer)) else None,
            **_weights_param(kw),
        }
        for b, i in enumerate(members):
            out[i] = _mds_result_to_layout(result, b, params, item_notes[i] + notes)
    return [layout for layout in out if layout is not None]
