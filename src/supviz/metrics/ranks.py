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

**Expected rank (the space that judges the neighbourhood).** Around point ``i``, let ``L`` be the
number of other points strictly nearer than ``j`` and ``E`` the number at exactly the distance of
``j`` (``j`` included). Under a uniformly random order of that tied block, ``j``'s rank is uniform
on ``L + 1 .. L + E``, so ``P(rank <= k) = clip((k - L) / E, 0, 1)`` and the expected rank
penalty ``E[max(rank - k, 0)]`` has the closed form of :func:`expected_excess`. Without ties
(``E = 1``) these are the ordinary rank and indicator.

Ties in the two spaces are broken independently, so a metric that is a sum of (membership in one
space) times (a function of the rank in the other) equals, by linearity of expectation, its exact
average over all tie orders of both spaces. A point glued to many others in a picture therefore
gets the credit a random choice among them would get, not the credit of all of them (the old
"competition rank" gave every point tied with the k-th nearest a place inside the k). A side
effect: an isometry of a space with ties (a block of duplicates) scores below 1, because the
neighbourhood inside the block is undetermined in either space.

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


def tied_counts(
    sorted_block: np.ndarray, rows: np.ndarray, values: np.ndarray, tol: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``L`` and ``E`` of each (row, value) query: others strictly nearer, and others within ``tol``.

    ``L = #{l != i : d(i, l) < value - tol}``, ``E = #{l != i : |d(i, l) - value| <= tol}``: for a
    query that is the distance of a pair ``(i, j)``, ``E`` includes ``j`` itself (``E >= 1``).
    ``sorted_block`` is a block from :func:`sorted_rows_without_self` (own entry -1 in column 0,
    counted in neither, as ``0 <= tol < 1``); ``rows`` must be non-decreasing. The loop runs once
    per row, never per pair.
    """
    less = np.empty(len(values), dtype=np.int64)
    upto = np.empty(len(values), dtype=np.int64)
    bounds = np.searchsorted(rows, np.arange(sorted_block.shape[0] + 1))
    for r in range(sorted_block.shape[0]):
        lo, hi = bounds[r], bounds[r + 1]
        if hi > lo:
            less[lo:hi] = np.searchsorted(sorted_block[r], values[lo:hi] - tol, side="left") - 1
            upto[lo:hi] = np.searchsorted(sorted_block[r], values[lo:hi] + tol, side="right") - 1
    return less, upto - less


def within_probability(less: np.ndarray, tied: np.ndarray, k: int) -> np.ndarray:
    """``P(rank <= k)`` for a rank uniform on ``less + 1 .. less + tied``: ``clip((k - L) / E, 0, 1)``.

    ``less`` and ``tied`` (``>= 1``) are :func:`tied_counts`; float arrays are accepted (the
    sampled estimates of :mod:`supviz.metrics.approximate`).
    """
    less = np.asarray(less, dtype=np.float64)
    return np.clip((k - less) / np.asarray(tied, dtype=np.float64), 0.0, 1.0)


def expected_excess(less: np.ndarray, tied: np.ndarray, k: int) -> np.ndarray:
    """``E[max(rank - k, 0)]`` for a rank uniform on ``less + 1 .. less + tied`` (integers).

    Closed form: with ``a = max(L + 1, k + 1)`` and ``b = L + E``, the ranks ``a .. b`` each cost
    ``r - k``, so the sum is ``(b - a + 1)(a + b - 2k) / 2`` when ``b >= a`` (else 0), over ``E``.
    With ``E = 1`` it is the classic penalty ``max(L + 1 - k, 0)`` of Venna and Kaski (2001).
    """
    less = np.asarray(less, dtype=np.float64)
    tied = np.asarray(tied, dtype=np.float64)
    a = np.maximum(less + 1, k + 1)
    b = less + tied
    count = np.maximum(b - a + 1, 0.0)
    return count * (a + b - 2 * k) / 2.0 / tied


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
