"""All artifact metrics of one layout in one call, under stable key names."""

from __future__ import annotations

import logging
from typing import Any

from supviz._validation import check_int
from supviz.errors import SupvizError
from supviz.metrics.distances import DistanceSource
from supviz.metrics.neighbors import neighbourhood_scores
from supviz.metrics.procrustes import procrustes_distance
from supviz.metrics.stress import shepard_correlation, stress1

logger = logging.getLogger(__name__)

#: The keys of :func:`layout_metrics`, in order. Always all present; ``nan`` where not applicable.
METRIC_KEYS = (
    "stress1",
    "shepard_rho",
    "trustworthiness",
    "continuity",
    "knn_recall",
    "knn_recall_true",
    "procrustes_baseline",
    "k",
)


def layout_metrics(
    X: Any,
    Y: Any,
    *,
    X_true: Any = None,
    k: int = 10,
    baseline: Any = None,
) -> dict[str, float]:
    """Every artifact metric of layout ``Y`` of points ``X``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        The high-dimensional points that were laid out (e.g. the rows of ``W``).
    Y : array_like, shape (N, p)
        The layout.
    X_true : array_like, shape (N, d_true), optional
        The same N items in a reference space (the ground-truth features); gives ``knn_recall_true``.
    k : int, default 10
        Neighbourhood size. Trustworthiness and continuity need ``k <= N - 2``; a larger ``k`` is
        clamped to ``N - 2`` for all neighbourhood metrics (logged at INFO; the value used is
        returned under ``"k"``).
    baseline : array_like, shape (N, p), optional
        Layout of the orthogonal baseline ``diag(N)`` of the same size; gives
        ``procrustes_baseline``, computed with ``match=True`` because baseline points have no
        natural correspondence with the features.

    Returns
    -------
    dict[str, float]
        Keys :data:`METRIC_KEYS`: ``stress1`` (:func:`~supviz.metrics.stress1`), ``shepard_rho``
        (:func:`~supviz.metrics.shepard_correlation`, ``nan`` when a side is constant),
        ``trustworthiness``, ``continuity``, ``knn_recall`` (against ``X``), ``knn_recall_true``
        (against ``X_true``; ``nan`` without it), ``procrustes_baseline`` (``nan`` without a
        baseline) and ``k`` (the neighbourhood size used).

    Raises
    ------
    SupvizError
        Non-finite input, fewer than 3 points, mismatched sizes, or ``k < 1``.
    """
    xs = DistanceSource("X", X, min_points=3)
    ys = DistanceSource("Y", Y, min_points=3)
    ts = DistanceSource("X_true", X_true, min_points=3) if X_true is not None else None
    for other in (ys, ts):
        if other is not None and other.n != xs.n:
            raise SupvizError(f"`X` and `{other.name}` must hold the same number of points; got {xs.n} and {other.n}.")
    k = check_int("k", k, min_value=1)
    if k > xs.n - 2:
        logger.info("layout_metrics: k=%d clamped to N - 2 = %d for %d points.", k, xs.n - 2, xs.n)
        k = xs.n - 2
    scores = neighbourhood_scores(xs, ys, k=k, X_true=ts)
    out = {
        "stress1": stress1(X, Y),
        "shepard_rho": shepard_correlation(X, Y),
        "trustworthiness": scores.trustworthiness,
        "continuity": scores.continuity,
        "knn_recall": scores.knn_recall,
        "knn_recall_true": scores.knn_recall_true,
        "procrustes_baseline": float("nan"),
        "k": float(k),
    }
    if baseline is not None:
        out["procrustes_baseline"] = procrustes_distance(Y, baseline, match=True)
    return out
