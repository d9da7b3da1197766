"""Neighbourhood metrics: trustworthiness, continuity and k-NN recall, defined under ties.

Definitions (Venna and Kaski, 2001/2006; Lee and Verleysen, 2009, for ``k >= N / 2``), each the
expectation over uniformly random tie orders of both spaces (:mod:`supviz.metrics.ranks`):

- **trustworthiness** ``T(k) = 1 - sum_i sum_j w^Y_ij E[max(r^X_ij - k, 0)] / (N G(N, k))``: are the
  layout's neighbours (``w^Y``, fractional k-neighbourhood in the layout ``Y``) also near in ``X``
  (``r^X``, rank in ``X``, tied blocks in random order)? It penalises *false neighbours*,
  including points that the layout glues together.
- **continuity** ``C(k)``: the same with ``X`` and ``Y`` swapped; it penalises *tearing*, i.e.
  neighbours in ``X`` that the layout pulls apart.
- **k-NN recall** ``R(k) = sum_i sum_j w^ref_ij P(r^Y_ij <= k) / (N k)``: the expected fraction of
  each point's reference neighbourhood that lies within the layout's k nearest. A point tied in
  ``Y`` with the k-th nearest is kept with the probability that a random order of its tied block
  puts it inside the k (an earlier rule counted it as kept: a picture that sends half its points
  to one spot scored near-full recall for them).

``G(N, k)`` is the worst possible penalty of one point (:func:`~supviz.metrics.ranks.worst_penalty`):
``k (2N - 3k - 1) / 2`` for ``k < N / 2`` (Venna and Kaski's normaliser) and ``(N - k)(N - k - 1) / 2``
above (Lee and Verleysen's ``G_K``), so T and C lie in [0, 1] for every ``1 <= k <= N - 2``; without
ties they equal scikit-learn's ``trustworthiness`` exactly (a test checks this). Each score is a
sum of a membership probability in one space times an expected penalty in the other, so by
linearity it is exactly the average over all tie orders (tested against enumerated and sampled
tie orders); relabelling the points never changes a value. An isometry scores 1 when neither space
has ties; a space with a block of tied points has an undetermined neighbourhood inside it, and
even its isometric copy scores below 1 there.

When a score is undefined (:mod:`supviz.metrics.undefined`) it is NaN, and the reason is logged
at INFO (and carried by :func:`~supviz.metrics.layout_metrics`): ``k > N - 2`` (the standalone
functions refuse it), a collapsed layout (every pair tied at 0: recall and continuity would be 1
for the worst picture there is), or a space whose distances all tie (``diag(N)``: trustworthiness
would be 1 for every layout, continuity and recall constant for every tie-free one). Ties are
decided with the tolerance of :mod:`supviz.metrics.undefined`, so a layout that meant equal
distances and got them up to rounding (an MDS equilateral triangle) is judged as it was meant.

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

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.validation import check_int
from supviz.errors import SupvizError
from supviz.metrics.distances import BLOCK_ENTRIES, DistanceSource, layout_source
from supviz.metrics.ranks import (
    expected_excess,
    knn_weights,
    sorted_rows_without_self,
    tied_counts,
    within_probability,
    worst_penalty,
)
from supviz.metrics.undefined import COLLAPSED, all_tied, coincide_reason, k_reason, tied_reason

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NeighbourhoodScores:
    """Result of one blocked pass; ``nan`` where a score was not requested or is undefined.

    ``reasons`` maps each undefined score's name to why (:mod:`supviz.metrics.undefined`).
    """

    trustworthiness: float
    continuity: float
    knn_recall: float
    knn_recall_true: float
    reasons: dict[str, str] = field(default_factory=dict)


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
    def_block: np.ndarray,
    def_sorted: np.ndarray,
    judge_block: np.ndarray,
    judge_sorted: np.ndarray,
    k: int,
    def_rtol: float,
    judge_rtol: float,
) -> tuple[float, float]:
    """Sums of ``w E[max(r - k, 0)]`` and of ``w P(r <= k)`` over one block of rows (own entries
    marked -1 by :func:`~supviz.metrics.ranks.sorted_rows_without_self` in both blocks)."""
    _, w, excess, within = pair_terms(def_block, def_sorted, judge_block, judge_sorted, k, def_rtol, judge_rtol)
    return float(np.dot(w, excess)), float(np.dot(w, within))


def pair_terms(
    def_block: np.ndarray,
    def_sorted: np.ndarray,
    judge_block: np.ndarray,
    judge_sorted: np.ndarray,
    k: int,
    def_rtol: float,
    judge_rtol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (row, neighbour) pair of one block: its row, its k-neighbourhood weight ``w`` in the defining
    space, ``E[max(r - k, 0)]`` and ``P(r <= k)`` of its rank ``r`` in the judging space (the tie rules of
    :mod:`supviz.metrics.ranks`). The one home of the pair terms that the global scores sum and
    :func:`supviz.metrics.pointwise.pointwise_trust` sums per row."""
    rows, cols, w = knn_weights(def_block, def_sorted, k, def_rtol)
    less, tied = tied_counts(judge_sorted, rows, judge_block[rows, cols], judge_rtol)
    return rows, w, expected_excess(less, tied, k), within_probability(less, tied, k)


def row_sums(defining: DistanceSource, judging: DistanceSource, idx: np.ndarray, k: int) -> tuple[float, float]:
    """The exact penalty and kept sums of :func:`neighbourhood_scores` over the rows ``idx`` only.

    ``defining`` gives the (fractional) k-neighbourhoods, ``judging`` the expected ranks; rows come
    ``BLOCK_ENTRIES // 2`` distances at a time. :mod:`supviz.metrics.approximate` uses it for the
    points whose ties its neighbour lists cannot resolve.
    """
    idx = np.asarray(idx, dtype=np.int64)
    step = max(1, BLOCK_ENTRIES // (2 * max(defining.n, 1)))
    penalty = kept = 0.0
    for lo in range(0, len(idx), step):
        part = idx[lo : lo + step]
        own = np.arange(len(part))
        bd, bj = defining.rows_at(part), judging.rows_at(part)
        bd[own, part] = -1.0
        bj[own, part] = -1.0
        sd, sj = np.sort(bd, axis=1), np.sort(bj, axis=1)
        pen, kep = _penalty_and_kept(bd, sd, bj, sj, k, defining.tie_rtol, judging.tie_rtol)
        penalty += pen
        kept += kep
    return penalty, kept


_SCORES = ("trustworthiness", "continuity", "knn_recall", "knn_recall_true")


def neighbourhood_scores(
    X: DistanceSource,
    Y: DistanceSource,
    *,
    k: int,
    X_true: DistanceSource | None = None,
    want: tuple[str, ...] = _SCORES,
    block_entries: int = BLOCK_ENTRIES,
    collapsed: bool = False,
) -> NeighbourhoodScores:
    """All neighbourhood scores in one blocked pass over the distance rows (no ``[N, N]`` matrix).

    ``k >= 1`` must already be validated. A score is NaN with a reason (:mod:`supviz.metrics.undefined`)
    when ``k > N - 2``, when the layout is ``collapsed`` (given, or its points coincide), or
    when a space it ranks has all its points coinciding (up to rounding) or all its distances tied.
    """
    n = _sources_agree(X, Y, X_true)
    want = tuple(w for w in want if w != "knn_recall_true" or X_true is not None)
    reasons: dict[str, str] = {}
    common = k_reason(k, n) or (COLLAPSED if collapsed or Y.coincide else None)
    if common is not None:
        nan = float("nan")
        return NeighbourhoodScores(nan, nan, nan, nan, reasons=dict.fromkeys(want, common))
    sums = dict.fromkeys(("t", "c", "r", "rt"), 0.0)
    spans = {name: [np.inf, -np.inf] for name in ("X", "Y", "X_true")}  # off-diagonal [min, max]
    entries = block_entries // (3 if X_true is not None else 2)

    def span(name: str, srt: np.ndarray) -> None:
        spans[name][0] = min(spans[name][0], float(srt[:, 1].min()))
        spans[name][1] = max(spans[name][1], float(srt[:, -1].max()))

    for start, stop in Y.blocks(entries=entries):
        bx = X.rows(start, stop)
        by = Y.rows(start, stop)
        sx = sorted_rows_without_self(bx, start)
        sy = sorted_rows_without_self(by, start)
        span("X", sx)
        span("Y", sy)
        if "trustworthiness" in want:
            sums["t"] += _penalty_and_kept(by, sy, bx, sx, k, Y.tie_rtol, X.tie_rtol)[0]
        if "continuity" in want or "knn_recall" in want:
            pen, kept = _penalty_and_kept(bx, sx, by, sy, k, X.tie_rtol, Y.tie_rtol)
            sums["c"] += pen
            sums["r"] += kept
        if X_true is not None and "knn_recall_true" in want:
            bt = X_true.rows(start, stop)
            st = sorted_rows_without_self(bt, start)
            span("X_true", st)
            sums["rt"] += _penalty_and_kept(bt, st, by, sy, k, X_true.tie_rtol, Y.tie_rtol)[1]
    sources = {"X": X, "Y": Y, "X_true": X_true}
    tied = {role: all_tied(*spans[role], src.tie_rtol) for role, src in sources.items() if src is not None}
    # Which spaces each score ranks (the defining and the judging one).
    spaces = {
        "trustworthiness": ("Y", "X"),
        "continuity": ("X", "Y"),
        "knn_recall": ("X", "Y"),
        "knn_recall_true": ("X_true", "Y"),
    }
    for name in want:
        for space in spaces[name]:
            if sources[space].coincide:  # rounding noise would be ranked (a 1e-15 copy of one point)
                reasons[name] = coincide_reason(sources[space].name)
                break
            if tied.get(space):
                reasons[name] = tied_reason(sources[space].name)
                break
    g = worst_penalty(n, k)
    values = {
        "trustworthiness": 1.0 - sums["t"] / (n * g),
        "continuity": 1.0 - sums["c"] / (n * g),
        "knn_recall": sums["r"] / (n * k),
        "knn_recall_true": sums["rt"] / (n * k),
    }
    out = {name: values[name] if name in want and name not in reasons else float("nan") for name in _SCORES}
    return NeighbourhoodScores(**out, reasons=reasons)


def check_k(k: Any, n: int) -> int:
    """``k`` in ``[1, N - 2]``: a neighbourhood must leave a point outside it (at ``k = N - 1`` every
    layout keeps every neighbourhood)."""
    hi = n - 2
    if hi < 1:
        raise SupvizError(f"`X` must hold at least 3 points for a neighbourhood metric; got {n}.")
    return check_int("k", k, min_value=1, max_value=hi)


def _one_score(name: str, X: Any, Y: Any, k: Any, precomputed: bool, ref_name: str = "X") -> float:
    xs = DistanceSource(ref_name, X, precomputed=precomputed)
    ys, collapsed = layout_source("Y", Y)
    n = _sources_agree(xs, ys)
    k = check_k(k, n)
    scores = neighbourhood_scores(xs, ys, k=k, want=(name,), collapsed=collapsed)
    if name in scores.reasons:
        logger.info("%s undefined (NaN): %s.", name, scores.reasons[name])
    return getattr(scores, name)


def trustworthiness(X: Any, Y: Any, *, k: int = 10, precomputed: bool = False) -> float:
    """Trustworthiness of layout ``Y`` for data ``X`` at ``k`` neighbours, tie-aware, in [0, 1].

    Parameters
    ----------
    X : array_like, shape (N, d) or (N, N)
        High-dimensional points, or their dissimilarities with ``precomputed=True``.
    Y : array_like, shape (N, p), or a :class:`~supviz.dr.Layout`
        The layout (a ``Layout`` also says whether its method saw it collapse).
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 2``.
    precomputed : bool, default False
        Whether ``X`` is a dissimilarity matrix.

    Returns
    -------
    float
        1 when every layout neighbour is also a neighbour in ``X`` (see the module docstring for the
        definition and the tie rules). NaN, with the reason logged, when undefined: a collapsed
        layout, or all distances of ``X`` or of ``Y`` tied (:mod:`supviz.metrics.undefined`).

    Raises
    ------
    SupvizError
        Non-finite or complex input, fewer than 3 points, mismatched sizes or ``k`` out of range.
    """
    return _one_score("trustworthiness", X, Y, k, precomputed)


def continuity(X: Any, Y: Any, *, k: int = 10, precomputed: bool = False) -> float:
    """Continuity of layout ``Y`` for data ``X`` at ``k`` neighbours, tie-aware, in [0, 1].

    Same parameters and undefined cases as :func:`trustworthiness`; 1 when no neighbour in ``X``
    is pulled out of the layout's neighbourhood.
    """
    return _one_score("continuity", X, Y, k, precomputed)


def knn_recall(X_ref: Any, Y: Any, *, k: int = 10, precomputed: bool = False) -> float:
    """Mean fraction of each point's ``k`` nearest in ``X_ref`` found among its ``k`` nearest in ``Y``.

    Parameters
    ----------
    X_ref : array_like, shape (N, d) or (N, N)
        Reference space: the data ``X`` or the ground-truth features ``X_true``.
    Y : array_like, shape (N, p), or a :class:`~supviz.dr.Layout`
        The layout.
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 2``.
    precomputed : bool, default False
        Whether ``X_ref`` is a dissimilarity matrix.

    Returns
    -------
    float
        In [0, 1], the expectation over random tie orders: ties in ``X_ref`` give fractional
        membership, and a point tied in ``Y`` with the k-th nearest is kept with the probability
        that a random order of its tied block puts it inside the k. NaN, with the reason logged,
        for a collapsed layout or when all distances of ``X_ref`` or ``Y`` tie (against such a
        reference every tie-free layout would score the chance level ``k / (N - 1)``).
    """
    return _one_score("knn_recall", X_ref, Y, k, precomputed, ref_name="X_ref")


def knn_recall_chance(n_points: int, k: int) -> float:
    """The k-NN recall a random picture scores in expectation: ``k / (N - 1)``.

    A picture unrelated to the reference puts each point's ``k`` picture-neighbours among its ``N - 1`` others
    uniformly at random, so each of its ``k`` reference neighbours is kept with probability ``k / (N - 1)``
    (the hypergeometric mean; e.g. 10 / 199 = 0.050 for the study's N = 200, k = 10). NaN for ``N < 2``.
    """
    return float(k) / (n_points - 1) if n_points >= 2 else float("nan")
