"""Neighbourhood metrics: trustworthiness, continuity and k-NN recall, defined under ties.

Definitions (Venna and Kaski, 2001/2006, with the tie rules of :mod:`supviz.metrics.ranks`):

- **trustworthiness** ``T(k) = 1 - sum_i sum_j w^Y_ij max(r^X_ij - k, 0) / (N G(N, k))``: are the
  layout's neighbours (``w^Y``, fractional k-neighbourhood in the layout ``Y``) also near in ``X``
  (``r^X``, competition rank in ``X``)? It penalises *false neighbours*, including points that the
  layout glues together.
- **continuity** ``C(k)``: the same with ``X`` and ``Y`` swapped; it penalises *tearing*, i.e.
  neighbours in ``X`` that the layout pulls apart.
- **k-NN recall** ``R(k) = sum_i sum_j w^ref_ij [r^Y_ij <= k] / (N k)``: the fraction of each point's
  reference neighbourhood that lies within the layout's k nearest (points tied with the k-th count
  as within).

``G(N, k)`` is the worst possible penalty of one point (:func:`~supviz.metrics.ranks.worst_penalty`),
so T and C lie in [0, 1]; without ties they equal scikit-learn's ``trustworthiness`` exactly (a
test checks this). With ties, the neighbourhood weights make each score the average over all ways
of breaking the ties in the space that defines the neighbourhood, and the competition rank never
penalises a point for its ties in the judging space; so an isometry scores exactly 1 even on
``diag(N)``, and relabelling the points never changes a value.

Consequences worth knowing: when ``X`` has all distances equal (the orthogonal baseline), every
layout is perfectly trustworthy (nothing in ``X`` is nearer than anything else), while continuity
and recall measure how far the layout is from keeping everything equally near; recall against such
a reference is ``k / (N - 1)`` (chance) for any layout without ties. A layout that collapses points
onto one spot keeps them "within the k nearest" of each other, so continuity and recall do not
penalise the collapse; trustworthiness does.

Why not ZADU (or scikit-learn): ZADU's ``trustworthiness_continuity`` ranks neighbours with
``numpy.argsort`` in ``utils.knn.knn_with_ranking`` and drops column 0 as "the point itself", so
on tied inputs such as ``diag(N)`` the value depends on the order of the points, and with
duplicate points (the study's dropped features at the origin) a duplicate can be dropped instead
of the point itself. It also loops over points in Python and keeps an ``[N, N]`` rank matrix, and
needs ``faiss``. scikit-learn's ``trustworthiness`` has the same ``argsort`` tie dependence. Both
are correct without ties, and scikit-learn serves as the reference on tie-free data in the tests
and in ``benchmarks/metrics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz._validation import check_int
from supviz.errors import SupvizError
from supviz.metrics.distances import BLOCK_ENTRIES, DistanceSource
from supviz.metrics.ranks import knn_weights, sorted_rows_without_self, strict_less_counts, worst_penalty


@dataclass(frozen=True)
class NeighbourhoodScores:
    """Result of one blocked pass; ``nan`` where a score was not requested."""

    trustworthiness: float
    continuity: float
    knn_recall: float
    knn_recall_true: float


def _sources_agree(*sources: DistanceSource | None) -> int:
    present = [s for s in sources if s is not None]
    n = present[0].n
    for s in present[1:]:
        if s.n != n:
            raise SupvizError(
                f"`{present[0].name}` and `{s.name}` must hold the same number of points; got {n} and {s.n}."
            )
    return n


def _penalty_and_kept(
    def_block: np.ndarray, def_sorted: np.ndarray, judge_block: np.ndarray, judge_sorted: np.ndarray, k: int
) -> tuple[float, float]:
    """Sum of ``w max(r - k, 0)`` and of ``w [r <= k]`` over one block of rows."""
    rows, cols, w = knn_weights(def_block, def_sorted, k)
    less = strict_less_counts(judge_sorted, rows, judge_block[rows, cols])  # r = less + 1
    penalty = float(np.dot(w, np.maximum(less + 1 - k, 0)))
    kept = float(np.dot(w, less < k))
    return penalty, kept


def neighbourhood_scores(
    X: DistanceSource,
    Y: DistanceSource,
    *,
    k: int,
    X_true: DistanceSource | None = None,
    want: tuple[str, ...] = ("trustworthiness", "continuity", "knn_recall", "knn_recall_true"),
    block_entries: int = BLOCK_ENTRIES,
) -> NeighbourhoodScores:
    """All neighbourhood scores in one blocked pass over the distance rows (no ``[N, N]`` matrix).

    ``k`` must already be validated: ``1 <= k <= N - 2`` when trustworthiness or continuity is
    wanted, ``1 <= k <= N - 1`` otherwise.
    """
    n = _sources_agree(X, Y, X_true)
    sums = dict.fromkeys(("t", "c", "r", "rt"), 0.0)
    entries = block_entries // (3 if X_true is not None else 2)
    for start, stop in Y.blocks(entries=entries):
        bx = X.rows(start, stop)
        by = Y.rows(start, stop)
        sx = sorted_rows_without_self(bx, start)
        sy = sorted_rows_without_self(by, start)
        if "trustworthiness" in want:
            sums["t"] += _penalty_and_kept(by, sy, bx, sx, k)[0]
        if "continuity" in want or "knn_recall" in want:
            pen, kept = _penalty_and_kept(bx, sx, by, sy, k)
            sums["c"] += pen
            sums["r"] += kept
        if X_true is not None and "knn_recall_true" in want:
            bt = X_true.rows(start, stop)
            st = sorted_rows_without_self(bt, start)
            sums["rt"] += _penalty_and_kept(bt, st, by, sy, k)[1]
    nan = float("nan")
    g = worst_penalty(n, k)
    return NeighbourhoodScores(
        trustworthiness=1.0 - sums["t"] / (n * g) if "trustworthiness" in want else nan,
        continuity=1.0 - sums["c"] / (n * g) if "continuity" in want else nan,
        knn_recall=sums["r"] / (n * k) if "knn_recall" in want else nan,
        knn_recall_true=sums["rt"] / (n * k) if X_true is not None and "knn_recall_true" in want else nan,
    )


def check_k(k: Any, n: int, *, for_rank_penalty: bool) -> int:
    """``k`` in ``[1, N - 2]`` (trustworthiness, continuity) or ``[1, N - 1]`` (recall)."""
    hi = n - 2 if for_rank_penalty else n - 1
    if hi < 1:
        need = 3 if for_rank_penalty else 2
        raise SupvizError(f"`X` must hold at least {need} points for this metric; got {n}.")
    return check_int("k", k, min_value=1, max_value=hi)


def trustworthiness(X: Any, Y: Any, *, k: int = 10, precomputed: bool = False) -> float:
    """Trustworthiness of layout ``Y`` for data ``X`` at ``k`` neighbours, tie-aware, in [0, 1].

    Parameters
    ----------
    X : array_like, shape (N, d) or (N, N)
        High-dimensional points, or their dissimilarities with ``precomputed=True``.
    Y : array_like, shape (N, p)
        The layout.
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 2``.
    precomputed : bool, default False
        Whether ``X`` is a dissimilarity matrix.

    Returns
    -------
    float
        1 when every layout neighbour is also a neighbour in ``X`` (see the module docstring for the
        definition and the tie rules).

    Raises
    ------
    SupvizError
        Non-finite input, fewer than 3 points, mismatched sizes or ``k`` out of range.
    """
    xs = DistanceSource("X", X, precomputed=precomputed)
    ys = DistanceSource("Y", Y)
    n = _sources_agree(xs, ys)
    k = check_k(k, n, for_rank_penalty=True)
    return neighbourhood_scores(xs, ys, k=k, want=("trustworthiness",)).trustworthiness


def continuity(X: Any, Y: Any, *, k: int = 10, precomputed: bool = False) -> float:
    """Continuity of layout ``Y`` for data ``X`` at ``k`` neighbours, tie-aware, in [0, 1].

    Same parameters as :func:`trustworthiness`; 1 when no neighbour in ``X`` is pulled out of the
    layout's neighbourhood.
    """
    xs = DistanceSource("X", X, precomputed=precomputed)
    ys = DistanceSource("Y", Y)
    n = _sources_agree(xs, ys)
    k = check_k(k, n, for_rank_penalty=True)
    return neighbourhood_scores(xs, ys, k=k, want=("continuity",)).continuity


def knn_recall(X_ref: Any, Y: Any, *, k: int = 10, precomputed: bool = False) -> float:
    """Mean fraction of each point's ``k`` nearest in ``X_ref`` found among its ``k`` nearest in ``Y``.

    Parameters
    ----------
    X_ref : array_like, shape (N, d) or (N, N)
        Reference space: the data ``X`` or the ground-truth features ``X_true``.
    Y : array_like, shape (N, p)
        The layout.
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 1``.
    precomputed : bool, default False
        Whether ``X_ref`` is a dissimilarity matrix.

    Returns
    -------
    float
        In [0, 1]. Ties in ``X_ref`` give fractional membership (the average over tie orders); a
        point tied in ``Y`` with the k-th nearest counts as kept. Against a reference whose
        distances all tie, a tie-free layout scores ``k / (N - 1)``.
    """
    xs = DistanceSource("X_ref", X_ref, precomputed=precomputed)
    ys = DistanceSource("Y", Y)
    n = _sources_agree(xs, ys)
    k = check_k(k, n, for_rank_penalty=False)
    return neighbourhood_scores(xs, ys, k=k, want=("knn_recall",)).knn_recall
