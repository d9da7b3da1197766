"""Tie-aware neighbourhoods and ranks: the rules every rank-based metric here shares.

Ties are the normal case in the study: ``diag(N)`` has all distances equal, and its dropped
features are many identical points at the origin. An ``argsort`` breaks such ties by input order,
so the usual implementations (scikit-learn's ``trustworthiness``, ZADU's measures) return
values that change when the points are merely relabelled. supviz uses two explicit rules instead,
both functions of the distances alone, never of the order of the points:

**Fractional k-neighbourhood (the space that defines the neighbourhood).** For point ``i`` let
``t`` be the distance of its k-th nearest other point, ``L`` the number of points strictly nearer
than ``t`` (before its tied block, below) and ``E`` the number tied with ``t``. Every point
nearer belongs to the neighbourhood with weight 1, every point tied with ``t`` with weight
``(k - L) / E``, all others with weight 0. The weights sum to ``k``; each is the probability of
membership when ties are broken uniformly at random, so a metric linear in memberships equals its
average over all tie orders. Without ties this is the ordinary k-NN set.

**Expected rank (the space that judges the neighbourhood).** Around point ``i``, let ``L`` be the
number of other points strictly nearer than ``j`` and ``E`` the number tied with the distance of
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

"Nearer" and "tied" follow the tie rule of :mod:`supviz.metrics.undefined`, with the space's
relative tolerance ``rtol``: a row's distances, sorted, fall into **tied blocks**, the chains of
consecutive distances ``a <= b`` with ``b - a <= rtol * b`` (:func:`tie_blocks`). ``L`` above
counts the others in the blocks before the block of ``t`` (or of ``j``), ``E`` that block's size.
Chains make ties transitive (1, 1 + d, 1 + 2d with ``d`` within the tolerance of each step form
one block), so every score is the exact expectation for one consistent tie pattern. Exact ties
stay exact: :mod:`supviz.metrics.distances` gives equal pairs bit-equal numbers wherever they sit.
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


def tie_blocks(sorted_block: np.ndarray, rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """First and last position of the tied block of every entry of sorted rows.

    Parameters
    ----------
    sorted_block : numpy.ndarray, shape (c, N)
        Rows sorted ascending (non-negative distances; an own entry -1 forms a block of its own,
        as ``0 - (-1) = 1 > rtol * 0`` for ``rtol < 1``).
    rtol : float
        Relative tie tolerance (:func:`supviz.metrics.undefined.tie_rtol`): entries ``a <= b`` next
        to each other are tied when ``b - a <= rtol * b``; a block is a maximal chain of such steps.

    Returns
    -------
    first, last : numpy.ndarray of int64, shape (c, N)
        Sorted positions of the first and last entry of each entry's block.
    """
    c, n = sorted_block.shape
    breaks = np.ones((c, n), dtype=bool)  # an entry that starts a new block
    breaks[:, 1:] = np.diff(sorted_block, axis=1) > rtol * sorted_block[:, 1:]
    pos = np.broadcast_to(np.arange(n), (c, n))
    first = np.maximum.accumulate(np.where(breaks, pos, 0), axis=1)
    ends = np.ones((c, n), dtype=bool)  # an entry that ends its block
    ends[:, :-1] = breaks[:, 1:]
    last = np.minimum.accumulate(np.where(ends, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
    return first, np.ascontiguousarray(last)


def knn_weights(
    block: np.ndarray, sorted_block: np.ndarray, k: int, rtol: float = 0.0
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
    rtol : float, default 0
        Relative tie tolerance (:func:`tie_blocks`); the block of the k-th nearest other is a chain.

    Returns
    -------
    rows, cols, weights : numpy.ndarray
        Row index within the block, column (point) index and membership weight of every pair with
        a non-zero weight, in row-major order. Each row's weights sum to ``k``.
    """
    first, last = tie_blocks(sorted_block, rtol)
    r = np.arange(block.shape[0])
    f, la = first[:, k], last[:, k]  # (c,) the block of the k-th nearest other
    lo, hi = sorted_block[r, f], sorted_block[r, la]  # (c,) its smallest and largest distance
    n_below = f - 1  # (c,) others in earlier blocks: L (column 0 is the own entry)
    n_at = la - f + 1  # (c,) the block's size: E
    rows, cols = np.nonzero(block <= hi[:, None])
    own = block[rows, cols] < 0
    rows, cols = rows[~own], cols[~own]
    at_boundary = block[rows, cols] >= lo[rows]
    weights = np.where(at_boundary, (k - n_below[rows]) / n_at[rows], 1.0)
    return rows, cols, weights


def tied_counts(
    sorted_block: np.ndarray, rows: np.ndarray, values: np.ndarray, rtol: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``L`` and ``E`` of each (row, value) query: others in earlier tied blocks, and the size of
    the value's own block (:func:`tie_blocks`).

    For a query that is the distance of a pair ``(i, j)`` (a value present in row ``i``), ``E``
    includes ``j`` itself (``E >= 1``); a value absent from its row gets ``L`` = the others below
    it and ``E = 0``. ``sorted_block`` is a block from
    :func:`sorted_rows_without_self` (own entry -1 in column 0, counted in neither); ``rows`` must
    be non-decreasing. The loop runs once per row, never per pair.
    """
    first, last = tie_blocks(sorted_block, rtol)
    pos = np.empty(len(values), dtype=np.int64)
    bounds = np.searchsorted(rows, np.arange(sorted_block.shape[0] + 1))
    for r in range(sorted_block.shape[0]):
        lo, hi = bounds[r], bounds[r + 1]
        if hi > lo:
            pos[lo:hi] = np.searchsorted(sorted_block[r], values[lo:hi], side="left")
    pos_in = np.minimum(pos, sorted_block.shape[1] - 1)
    present = sorted_block[rows, pos_in] == values  # a value absent from its row: L = #smaller, E = 0
    f, la = first[rows, pos_in], last[rows, pos_in]
    return np.where(present, f - 1, pos - 1), np.where(present, la - f + 1, 0)


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


def chain_breaks(ordered: np.ndarray, rtol: float) -> np.ndarray:
    """Which entries of an ascending array start a new tied block: the first, and every ``b``
    after ``a`` with ``b - a > rtol * b`` (``rtol = 0``: every new value)."""
    new = np.empty(len(ordered), dtype=bool)
    new[:1] = True
    if rtol > 0:
        np.greater(ordered[1:] - ordered[:-1], rtol * ordered[1:], out=new[1:])
    else:
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    return new


def _average_ranks_direct(values: np.ndarray, rtol: float = 0.0) -> np.ndarray:
    order = np.argsort(values)
    ordered = values[order]
    new = chain_breaks(ordered, rtol)
    starts = np.flatnonzero(new)  # first sorted position of each distinct value
    counts = np.diff(np.append(starts, len(ordered)))
    ranks = np.empty(len(ordered))
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def average_ranks(
    values: np.ndarray, *, rtol: float = 0.0, direct_below: int = 2_000_000, buckets: int = 512
) -> np.ndarray:
    """Ranks 1..n with ties given the mean of the ranks they span (the ``"average"`` rule).

    With ``rtol = 0`` equal to ``scipy.stats.rankdata(values, method="average")`` (tested); with
    ``rtol > 0`` the tied blocks are the chains of :func:`chain_breaks` (the tie rule of
    :mod:`supviz.metrics.undefined`), so values equal up to rounding share their mean rank. Values
    must be non-negative (distances) when ``rtol > 0``. Long inputs (the
    ``N (N - 1) / 2`` pair distances of 10,000 points are 5e7 numbers) are first split into
    ``buckets`` value ranges by a radix sort of the bucket index, then ranked bucket by bucket:
    one ``argsort`` of 5e7 doubles jumps around memory and takes several times longer than these
    cache-sized pieces. Equal values always share a bucket, so ties are averaged exactly.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n <= direct_below or rtol > 0:  # a chain may cross a bucket boundary: sort it all
        return _average_ranks_direct(values, rtol)
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


def untied_rank_ss(n: int) -> int:
    """``sum_{r=1}^{n} (r - (n + 1) / 2)^2 = n (n^2 - 1) / 12``, times 12: the spread of ``n`` ranks without ties.

    Returned as the exact integer ``n (n^2 - 1)`` (divide by 12); every order of ``n`` distinct ranks has it.
    """
    n = int(n)
    return n * (n * n - 1)


def spearman_tie_expected(x: np.ndarray, y: np.ndarray) -> tuple[float, str | None]:
    """Spearman's rho of ``x`` and ``y`` ``[n]``, averaged over uniformly random orders of their ties.

    The tie rule of this module (a tie gets the expectation over its orders, never the credit of all of them)
    applied to Spearman's rho. Break the ties of ``x`` and of ``y`` independently and uniformly at random; the
    ranks are then two permutations of ``1..n``, each with the spread ``n (n^2 - 1) / 12``
    (:func:`untied_rank_ss`), so

        rho = sum_i (r_i - c) (s_i - c) / (n (n^2 - 1) / 12),   c = (n + 1) / 2,

    whose numerator is linear in each rank vector. Independence gives ``E[r_i s_i] = E[r_i] E[s_i]``, and the
    expected rank of a tied value is its midrank (the ``"average"`` rule of :func:`average_ranks`), so

        E[rho] = sum_i (mx_i - c) (my_i - c) / (n (n^2 - 1) / 12)  (mx, my: midranks).

    This is the midrank correlation with the untied denominator, the average over all ways of allotting integer
    ranks to the tied members (Kendall & Gibbons 1990, *Rank Correlation Methods*, 5th ed., ch. 3, on ties);
    derived above and checked by enumerating every tie order (``tests/metrics/test_ranks.py``). Without ties it
    is Spearman's rho; with ties ``|E[rho]|`` is at most scipy's midrank rho (``scipy.stats.spearmanr``), which
    divides by the shrunken midrank spread instead and so credits ties: ``x = (1, 1, 1, 1, 2)`` against
    ``y = (1, 2, 3, 4, 5)`` gives 0.707 there and 0.5 here.

    A test of independence is unchanged: over the permutations of ``y`` the two statistics differ by a constant
    factor, so their permutation p-values are equal.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Paired values; pairs where either is NaN or infinite are dropped first.

    Returns
    -------
    (rho, None), or (nan, reason)
        ``rho`` in [-1, 1]. NaN, with the reason, for fewer than 2 finite pairs or when every value of one
        variable ties (then each tie order is as likely as any other: the expectation, 0, carries no
        information, and a 0 would read as "no trend").

    Raises
    ------
    SupvizError
        ``x`` and ``y`` of different lengths.
    """
    from supviz.errors import SupvizError

    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    if a.size != b.size:
        raise SupvizError(f"`x` and `y` must have the same length; got {a.size} and {b.size}.")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = int(a.size)
    if n < 2:
        return float("nan"), f"{n} finite pair(s); a rank correlation needs 2"
    for v, name in ((a, "x"), (b, "y")):
        if np.all(v == v[0]):
            return float("nan"), f"all {n} values of {name} tie: every order of its ranks is equally likely"
    c = (n + 1) / 2.0
    rx = average_ranks(a) - c
    ry = average_ranks(b) - c
    rho = 12.0 * float(np.dot(rx, ry)) / untied_rank_ss(n)
    return float(np.clip(rho, -1.0, 1.0)), None
