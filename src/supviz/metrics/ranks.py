"""Tie-aware neighbourhoods and ranks: the rules every rank-based metric here shares.

Ties are the normal case in the study: ``diag(N)`` has all distances equal, and its dropped
features are many identical points at the origin. An ``argsort`` breaks such ties by input order,
so the usual implementations (scikit-learn's ``trustworthiness``, ZADU's measures) return
values that change when the points are merely relabelled. supviz uses two explicit rules instead,
both functions of the distances alone, never of the order of the points:

**Fractional k-neighbourhood (the space that defines the neighbourhood).** For point ``i`` let
``t`` be the distance of its k-th nearest other point, ``L`` the number of points strictly nearer
than ``t`` and ``E`` the number at exactly ``t``. Every point nearer than ``t`` belongs to the
neighbourhood with weight 1, every point at ``t`` with weight ``(k - L) / E``, all others with
weight 0. The weights sum to ``k``; each is the probability of membership when ties are broken
uniformly at random, so a metric linear in memberships equals its average over all tie orders.
Without ties this is the ordinary k-NN set.

**Competition rank (the space that judges the neighbourhood).** The rank of ``j`` around ``i`` is
``1 + #{l != i : d(i, l) < d(i, j)}``: points tied with ``j`` do not push it back ("1224"
ranking). So ``j`` is penalised only for points that are *strictly* nearer. This is what makes an
isometry score exactly 1 when its distances tie.

Both rules take a tolerance ``tol``: distances within ``tol`` of each other tie. Exact ties are
kept exact by :mod:`supviz.metrics.distances` (equal pairs give bit-equal numbers wherever they
sit in the input); the tolerance (:data:`supviz.metrics.undefined.TIE_RTOL` times the space's
size) also ties the distances that a layout meant to be equal and got equal up to rounding.
"""

from __future__ import annotations

import numpy as np


def sorted_rows_without_self(block: np.ndarray, start: int) -> np.ndarray:
    """Mark each row's own entry with -1 (in place) and return the rows sorted ascending.

    ``block`` holds the distances of points ``start:start + len(block)`` to all points. After the
    call the own entry sorts first in every row (distances are >= 0), so column 0 of the result is
    the point itself and column ``k`` its k-th nearest other point; duplicates of the point (distance
    0) stay ordinary neighbours.
    """
    rows = np.arange(block.shape[0])
    block[rows, start + rows] = -1.0
    return np.sort(block, axis=1)  # (c, N)


def knn_weights(
    block: np.ndarray, sorted_block: np.ndarray, k: int, tol: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fractional k-neighbourhood membership of a block of rows (the rule in the module docstring).

    Parameters
    ----------
    block : numpy.ndarray, shape (c, N)
        Distances with the own entry set to -1 (see :func:`sorted_rows_without_self`).
    sorted_block : numpy.ndarray, shape (c, N)
        ``block`` sorted along each row.
    k : int
        Neighbourhood size, ``1 <= k <= N - 1``.
    tol : float, default 0
        Distances within ``tol`` of the k-th nearest tie with it (``0 <= tol < 1``, so the own
        entry -1 never ties).

    Returns
    -------
    rows, cols, weights : numpy.ndarray
        Row index within the block, column (point) index and membership weight of every pair with
        a non-zero weight, in row-major order. Each row's weights sum to ``k``.
    """
    return knn_weights_at(block, sorted_block[:, k], k, tol)


def knn_weights_at(
    block: np.ndarray, thresh: np.ndarray, k: int, tol: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`knn_weights` given each row's k-th nearest distance ``thresh`` (c,) instead of the
    sorted rows (``np.partition(block, k, axis=1)[:, k]`` finds it in O(N) per row)."""
    lo, hi = thresh - tol, thresh + tol
    below = block < lo[:, None]  # (c, N), includes the own entry (-1)
    n_below = below.sum(axis=1) - 1  # (c,) clearly nearer others: L
    n_at = ((block >= lo[:, None]) & (block <= hi[:, None])).sum(axis=1)  # (c,) tied with the k-th: E
    rows, cols = np.nonzero(block <= hi[:, None])
    own = block[rows, cols] < 0
    rows, cols = rows[~own], cols[~own]
    at_boundary = block[rows, cols] >= lo[rows]
    weights = np.where(at_boundary, (k - n_below[rows]) / n_at[rows], 1.0)
    return rows, cols, weights


def strict_less_counts(sorted_block: np.ndarray, rows: np.ndarray, values: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """``#{l != i : d(i, l) < value - tol}`` for each (row, value) query; rows must be non-decreasing.

    ``sorted_block`` is a block from :func:`sorted_rows_without_self` (own entry -1 in column 0,
    which is not counted). The loop runs once per row, never per pair.
    """
    counts = np.empty(len(values), dtype=np.int64)
    bounds = np.searchsorted(rows, np.arange(sorted_block.shape[0] + 1))
    for r in range(sorted_block.shape[0]):
        lo, hi = bounds[r], bounds[r + 1]
        if hi > lo:
            counts[lo:hi] = np.searchsorted(sorted_block[r], values[lo:hi] - tol, side="left") - 1
    return counts


def _average_ranks_direct(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(len(ordered), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)  # first sorted position of each distinct value
    counts = np.diff(np.append(starts, len(ordered)))
    ranks = np.empty(len(ordered))
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def average_ranks(values: np.ndarray, *, direct_below: int = 2_000_000, buckets: int = 512) -> np.ndarray:
    """Ranks 1..n with ties given the mean of the ranks they span (the ``"average"`` rule).

    Equal to ``scipy.stats.rankdata(values, method="average")`` (tested). Long inputs (the
    ``N (N - 1) / 2`` pair distances of 10,000 points are 5e7 numbers) are first split into
    ``buckets`` value ranges by a radix sort of the bucket index, then ranked bucket by bucket:
    one ``argsort`` of 5e7 doubles jumps around memory and takes several times longer than these
    cache-sized pieces. Equal values always share a bucket, so ties are averaged exactly.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n <= direct_below:
        return _average_ranks_direct(values)
    sample = np.sort(values[:: max(1, n // (buckets * 64))])
    bounds = np.unique(sample[np.linspace(0, len(sample) - 1, buckets + 1).astype(np.int64)[1:-1]])
    bucket = np.searchsorted(bounds, values, side="right").astype(np.uint16)
    order = np.argsort(bucket, kind="stable")  # radix sort for 16-bit keys
    counts = np.bincount(bucket, minlength=len(bounds) + 1)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    ranks = np.empty(n)
    for b in range(len(counts)):
        idx = order[offsets[b] : offsets[b + 1]]
        if len(idx):
            ranks[idx] = _average_ranks_direct(values[idx]) + offsets[b]
    return ranks


def worst_penalty(n: int, k: int) -> float:
    """Largest possible rank penalty of one point: ``sum_{r = max(n - k, k + 1)}^{n - 1} (r - k)``.

    A point's k neighbours can at worst be the k farthest others, at ranks ``n - k .. n - 1``; only
    ranks above ``k`` cost anything. For ``k < n / 2`` this is Venna and Kaski's
    ``k (2n - 3k - 1) / 2`` (the normaliser of scikit-learn's ``trustworthiness``); the sum also
    covers ``n / 2 <= k <= n - 2``, which scikit-learn refuses.
    """
    lo = max(n - k, k + 1)
    hi = n - 1
    if hi < lo:
        return 0.0
    count = hi - lo + 1
    return float(count * (lo + hi) / 2.0 - count * k)
