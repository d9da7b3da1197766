"""Per-point trustworthiness and continuity: each point's own share of the global scores.

Venna and Kaski (2001/2006) define trustworthiness as one minus a sum over points of rank
penalties,

    ``T(k) = 1 - 1 / (N G(N, k)) sum_i P^T_i``,  ``P^T_i = sum_{j in N^Y_k(i)} max(r^X_ij - k, 0)``,

and continuity ``C(k)`` the same with ``X`` and ``Y`` swapped (``G`` the worst penalty of one point,
:func:`~supviz.metrics.ranks.worst_penalty`; ``N^Y_k(i)`` the k nearest of ``i`` in the layout,
``r^X_ij`` the rank of ``j`` around ``i`` in ``X``). So each point owns one term:

    ``t_i = 1 - P^T_i / G(N, k)``,  ``c_i = 1 - P^C_i / G(N, k)``,  ``mean_i t_i = T(k)``, ``mean_i c_i = C(k)``

exactly (up to the rounding of one sum). ``t_i`` is low where the picture puts points near ``i``
that are far from it in ``X`` (*false neighbours*); ``c_i`` is low where the picture pulls away
points that are near ``i`` in ``X`` (*missing neighbours*). The same penalties, unweighted, give the
expected numbers of false and missing neighbours of each point. This is the per-point view of the
co-ranking literature (Lee and Verleysen 2009; Mokbel et al. 2013, "Visualizing the quality of
dimensionality reduction", Neurocomputing 112, which colours each point by its own share).

**Ties** are the expectation over uniformly random tie orders, computed exactly in closed form by
the rules every global neighbourhood measure uses (:mod:`supviz.metrics.ranks`: fractional
k-neighbourhood membership in the defining space, expected rank penalty in the judging space, the
two spaces' tie orders independent), with the same distances and tie tolerances
(:class:`~supviz.metrics.distances.DistanceSource`). So ``mean_i t_i`` and ``mean_i c_i`` equal
:func:`~supviz.metrics.trustworthiness` and :func:`~supviz.metrics.continuity` on any input, tied or
not, and without ties they are scikit-learn's ``trustworthiness`` (tests check all three to 1e-12).

Undefined cases are those of :mod:`supviz.metrics.undefined` (``k > N - 2``, a collapsed layout, a
space whose points coincide or whose distances all tie): every score of the affected measure is
NaN and :attr:`PointTrust.reasons` says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.validation import check_int
from supviz.metrics.distances import BLOCK_ENTRIES, DistanceSource, layout_source
from supviz.metrics.ranks import sorted_rows_without_self, worst_penalty
from supviz.metrics.undefined import COLLAPSED, all_tied, coincide_reason, k_reason, tied_reason

logger = logging.getLogger(__name__)

__all__ = ["POINT_COLUMNS", "PointTrust", "panel_point_trust", "point_table", "pointwise_trust"]


#: The per-point columns of :meth:`PointTrust.columns`, in order (what hovers show and tables export).
POINT_COLUMNS = ("trust", "trustworthiness", "continuity", "false_neighbours", "missing_neighbours")


@dataclass(frozen=True)
class PointTrust:
    """Per-point scores of one picture ``Y`` of ``X`` at ``k`` neighbours.

    Attributes
    ----------
    trustworthiness, continuity : numpy.ndarray, shape (N,)
        ``t_i`` and ``c_i`` in [0, 1] (module docstring); their means are the global scores.
    false_neighbours, missing_neighbours : numpy.ndarray, shape (N,)
        Expected number (over random tie orders) of the picture's k nearest of ``i`` that are not among
        its k nearest in ``X``, and of ``X``'s k nearest of ``i`` that are not among the picture's; in [0, k].
    k : int
    reasons : dict
        ``{"trustworthiness" | "continuity": why}`` for a measure that is undefined (all NaN).
    """

    trustworthiness: np.ndarray
    continuity: np.ndarray
    false_neighbours: np.ndarray
    missing_neighbours: np.ndarray
    k: int
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def trust(self) -> np.ndarray:
        """``(t_i + c_i) / 2`` (N,): one score per point, the one pictures colour and hovers show."""
        return 0.5 * (self.trustworthiness + self.continuity)

    def columns(self) -> dict[str, np.ndarray]:
        """The per-point columns, name -> (N,): ``trust``, ``trustworthiness``, ``continuity``,
        ``false_neighbours``, ``missing_neighbours`` (what hovers show and tables export)."""
        return {name: self.trust if name == "trust" else getattr(self, name) for name in POINT_COLUMNS}


def _row_penalties(
    def_block: np.ndarray,
    def_sorted: np.ndarray,
    judge_block: np.ndarray,
    judge_sorted: np.ndarray,
    k: int,
    def_rtol: float,
    judge_rtol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of one block: expected rank penalty and expected count of neighbours ranked beyond k. (c,) each.

    The per-row form of :func:`supviz.metrics.neighbors.neighbourhood_scores`' sums, from the same
    tie rules (:func:`~supviz.metrics.ranks.knn_weights`, :func:`~supviz.metrics.ranks.tied_counts`,
    :func:`~supviz.metrics.ranks.expected_excess`, :func:`~supviz.metrics.ranks.within_probability`),
    so the row means are the global scores: the pair terms are :func:`~supviz.metrics.neighbors.pair_terms`.
    """
    from supviz.metrics.neighbors import pair_terms

    rows, w, excess, within = pair_terms(def_block, def_sorted, judge_block, judge_sorted, k, def_rtol, judge_rtol)
    c = def_block.shape[0]
    penalty = np.bincount(rows, weights=w * excess, minlength=c)
    beyond = np.bincount(rows, weights=w * (1.0 - within), minlength=c)
    return penalty, beyond


def pointwise_trust(
    X: Any, Y: Any, *, k: int = 10, precomputed: bool = False, block_entries: int = BLOCK_ENTRIES
) -> PointTrust:
    """Each point's trustworthiness and continuity (and false / missing neighbours) of layout ``Y`` for ``X``.

    Parameters
    ----------
    X : array_like, shape (N, d) or (N, N)
        High-dimensional points, or their dissimilarities with ``precomputed=True``.
    Y : array_like, shape (N, p), or a :class:`~supviz.dr.Layout`
        The picture (a ``Layout`` also says whether its method saw it collapse).
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 2``.
    precomputed : bool, default False
        Whether ``X`` is a dissimilarity matrix.
    block_entries : int
        Distances held at once (memory ``O(block_entries)``, never an ``[N, N]`` matrix).

    Returns
    -------
    PointTrust
        ``t_i``, ``c_i`` (means: the global trustworthiness / continuity), false and missing neighbours.
        A measure that is undefined (module docstring) is NaN for every point, with the reason.

    Raises
    ------
    SupvizError
        Non-finite input, mismatched sizes, fewer than 3 points or ``k`` out of ``[1, N - 2]``.
    """
    from supviz.metrics.neighbors import check_k

    xs = DistanceSource("X", X, precomputed=precomputed)
    ys, collapsed = layout_source("Y", Y)
    if xs.n != ys.n:
        from supviz.errors import SupvizError

        raise SupvizError(f"`X` and `Y` must hold the same number of points; got {xs.n} and {ys.n}.")
    n = xs.n
    k = check_k(k, n)
    block_entries = check_int("block_entries", block_entries, min_value=1)
    pen_t, pen_c = np.zeros(n), np.zeros(n)
    far_t, far_c = np.zeros(n), np.zeros(n)
    spans = {"X": [np.inf, -np.inf], "Y": [np.inf, -np.inf]}
    common = k_reason(k, n) or (COLLAPSED if collapsed else None)
    if common is None:
        for start, stop in ys.blocks(entries=block_entries // 2):
            bx, by = xs.rows(start, stop), ys.rows(start, stop)
            sx, sy = sorted_rows_without_self(bx, start), sorted_rows_without_self(by, start)
            for name, srt in (("X", sx), ("Y", sy)):
                spans[name][0] = min(spans[name][0], float(srt[:, 1].min()))
                spans[name][1] = max(spans[name][1], float(srt[:, -1].max()))
            pen_t[start:stop], far_t[start:stop] = _row_penalties(by, sy, bx, sx, k, ys.tie_rtol, xs.tie_rtol)
            pen_c[start:stop], far_c[start:stop] = _row_penalties(bx, sx, by, sy, k, xs.tie_rtol, ys.tie_rtol)
    reason = common
    if reason is None:
        for name, src in (("X", xs), ("Y", ys)):  # both measures rank both spaces
            if src.coincide:
                reason = coincide_reason(name)
            elif all_tied(*spans[name], src.tie_rtol):
                reason = tied_reason(name)
            if reason is not None:
                break
    g = worst_penalty(n, k)
    t, c = 1.0 - pen_t / g, 1.0 - pen_c / g
    reasons: dict[str, str] = {}
    if reason is not None:
        logger.info("per-point trustworthiness / continuity undefined (NaN): %s.", reason)
        reasons = {"trustworthiness": reason, "continuity": reason}
        t = c = far_t = far_c = np.full(n, np.nan)
    return PointTrust(t, c, far_t, far_c, k, reasons)


def panel_point_trust(X: Any, Y: Any, *, k: int, collapsed: bool = False) -> PointTrust:
    """:func:`pointwise_trust` of one panel of a figure, which never refuses a small panel.

    A panel with fewer than ``k + 2`` points (``k`` is never shrunk) or one the layout method saw collapse
    (``collapsed``) gets NaN at every point with the reason in :attr:`PointTrust.reasons`, as do the undefined cases
    :func:`pointwise_trust` itself finds (coincident points, all distances tied). ``X`` (N, d), ``Y`` (N, 2).
    """
    n = len(X)
    reason = k_reason(k, n) or (COLLAPSED if collapsed else None)
    if reason is None:
        return pointwise_trust(X, Y, k=k)
    nan = np.full(n, np.nan)
    return PointTrust(nan, nan, nan, nan, k, {"trustworthiness": reason, "continuity": reason})


def point_table(
    X: Any,
    Y: Any,
    *,
    k: int = 10,
    precomputed: bool = False,
    trust: PointTrust | None = None,
    text: Any = None,
    factors: Any = None,
) -> Any:
    """The tidy export of one picture: one row per point, ready for Embedding Atlas or DataMapPlot.

    Parameters
    ----------
    X, Y, k, precomputed
        As for :func:`pointwise_trust` (``Y`` an ``(N, 2)`` array or a 2-D :class:`~supviz.dr.Layout`).
    trust : PointTrust, optional
        Scores already computed for this ``X``, ``Y`` and ``k`` (not recomputed).
    text : sequence of str, optional
        One text per point (a sentence, a feature's name); column ``text``.
    factors : mapping or pandas.DataFrame, optional
        Labels or factors, name -> (N,) values; one column each (a digit's class, a toy feature's importance).

    Returns
    -------
    pandas.DataFrame
        Columns ``point, [text], x, y, trust, trustworthiness, continuity, false_neighbours,
        missing_neighbours, [factors...]``; trust columns NaN where undefined (:attr:`PointTrust.reasons`).

    Raises
    ------
    SupvizError
        What :func:`pointwise_trust` refuses, a picture that is not 2-D, or ``text`` / ``factors`` of
        another length than the points.
    """
    import pandas as pd

    from supviz.errors import SupvizError

    xy = np.asarray(getattr(Y, "embedding", Y), dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise SupvizError(f"`Y` must be a 2-D picture of shape [N, 2]; got shape {xy.shape}.")
    pt = pointwise_trust(X, Y, k=k, precomputed=precomputed) if trust is None else trust
    n = len(xy)
    if len(pt.trust) != n:
        raise SupvizError(f"`trust` must hold one score per point ({n}); got {len(pt.trust)}.")
    cols: dict[str, Any] = {"point": np.arange(n)}
    if text is not None:
        text = [str(t) for t in text]
        if len(text) != n:
            raise SupvizError(f"`text` must hold one entry per point ({n}); got {len(text)}.")
        cols["text"] = text
    cols |= {"x": xy[:, 0], "y": xy[:, 1], **pt.columns()}
    frame = pd.DataFrame(cols)
    if factors is not None:
        extra = pd.DataFrame(factors).reset_index(drop=True)
        if len(extra) != n:
            raise SupvizError(f"`factors` must hold one row per point ({n}); got {len(extra)}.")
        clash = sorted(set(extra.columns) & set(frame.columns))
        if clash:
            raise SupvizError(f"`factors` must not reuse the table's own column names; got {clash}.")
        frame = pd.concat([frame, extra], axis=1)
    return frame
