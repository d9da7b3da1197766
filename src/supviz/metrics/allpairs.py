"""Spearman's rho over all ``N (N - 1) / 2`` pair distances, exactly, in bounded memory.

The direct computation (:func:`shepard_rho_direct`, the reference) holds both condensed distance
vectors and their ranks: at N = 20,000 that is 2e8 pairs, 1.6 GB per float64 vector and about
7 GB at the peak. This module computes the same number without any of them:

1. **Buckets.** A deterministic sample of each space's distances (whole rows of evenly spaced
   points) gives value boundaries that cut the pairs into buckets of about :data:`BUCKET_PAIRS`
   pairs; a value that is frequent in the sample (coincident points, all-tied blocks) gets a
   bucket of its own, ``[v, nextafter(v))``, which needs no sorting.
2. **Counts.** One pass over the distances (row blocks from :class:`~supviz.metrics.distances.DistanceSource`,
   the same numbers bit for bit as the condensed vector) counts the pairs per bucket and finds the
   smallest and largest distance (the tie check of :mod:`supviz.metrics.undefined`) and each
   bucket's extremes; buckets that one tied block (a chain of the tie rule of
   :mod:`supviz.metrics.undefined`) crosses are merged, so every block is ranked whole. Where
   the pairs are denser than the input's precision (float32 points, about 1e7 pairs and more:
   consecutive distances closer than its 9.5e-7 tolerance) chains grow long and merged buckets
   large; measured on 5,000 float32 points, rho moved by 1e-7 from the float64 value.
3. **Ranks of ``Y``.** Buckets are grouped into passes of at most ``pass_pairs`` pairs; each pass
   recomputes the distance blocks, keeps the pairs whose value falls in its buckets, sorts each
   bucket, and writes the doubled average rank ``2 r`` (an integer) of every pair into one array of
   ``N (N - 1) / 2`` unsigned 32-bit integers (0.8 GB at N = 20,000; the only array of that length).
4. **Ranks of ``X``**, pass by pass as in 3, each bucket's ranks met with the stored ranks of ``Y``
   of the same pairs and summed at once.

Ties get the expectation over their uniformly random orders (:func:`~supviz.metrics.ranks.spearman_tie_expected`):
rho is the centred midranks' cross product over the spread of ``M`` untied ranks, ``M (M^2 - 1) / 12``.
Sums are exact: with ``a = 2 r_X``, ``b = 2 r_Y`` (integers), ``M`` pairs and ``C = M + 1`` (the
mean of the doubled ranks), ``sum (a - C)(b - C) = sum a b - M C^2``, and ``sum a b`` is
accumulated in 16-bit limbs with int64 dot products (no overflow) into Python integers. The only
rounding is the final division, so the result does not depend on block or pass sizes, and
equals the direct computation bit for bit wherever that one's float64 sums are exact (about
N <= 400; beyond that the direct one is the less accurate of the two).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from supviz.metrics.distances import DistanceSource
from supviz.metrics.ranks import average_ranks, chain_breaks, untied_rank_ss
from supviz.metrics.undefined import all_tied

#: Pairs per bucket the boundaries aim at (a cache-sized sort).
BUCKET_PAIRS = 1 << 18
#: Pairs collected per pass (12 bytes each: the value and a 4-byte position or rank): ~400 MB.
PASS_PAIRS = 32_000_000
#: Distances per row block of a pass.
BLOCK_ENTRIES = 2_000_000


def n_pairs(n: int) -> int:
    """``N (N - 1) / 2``."""
    return n * (n - 1) // 2


def _row_offset(i: int, n: int) -> int:
    """Position of pair ``(i, i + 1)`` in the condensed (row-major ``i < j``) order."""
    return i * (2 * n - i - 1) // 2


def pair_blocks(src: DistanceSource, *, entries: int = BLOCK_ENTRIES) -> Iterator[tuple[int, np.ndarray]]:
    """The condensed distances of ``src`` in row blocks: ``(offset, values)``.

    ``values`` are the distances of the pairs ``i < j`` for a range of rows ``i``, in condensed
    order, starting at condensed position ``offset``; concatenated, they are
    ``src.condensed()`` bit for bit (``cdist`` and ``pdist`` compute a pair the same way).
    """
    n = src.n
    rows = max(1, entries // max(n, 1))
    for start in range(0, n - 1, rows):
        stop = min(start + rows, n - 1)
        block = src.rows(start, stop, col_start=start)  # (c, n - start)
        upper = np.triu(np.ones(block.shape, dtype=bool), 1)
        yield _row_offset(start, n), block[upper]


def exact_dot(a: np.ndarray, b: np.ndarray) -> int:
    """``sum a_i b_i`` of two non-negative integer arrays, exactly (a Python int).

    Each factor is split into 16-bit limbs; every limb product is below ``2**32`` and summed in
    int64 over at most ``2**30`` terms, so nothing overflows whatever the length.
    """
    a = np.asarray(a, dtype=np.uint64)
    b = np.asarray(b, dtype=np.uint64)
    top = int(max(a.max(initial=0), b.max(initial=0)))
    limbs = max(1, math.ceil(top.bit_length() / 16))
    total = 0
    chunk = 1 << 30
    for lo in range(0, len(a), chunk):
        pa = [((a[lo : lo + chunk] >> np.uint64(16 * s)) & np.uint64(0xFFFF)).astype(np.int64) for s in range(limbs)]
        pb = [((b[lo : lo + chunk] >> np.uint64(16 * s)) & np.uint64(0xFFFF)).astype(np.int64) for s in range(limbs)]
        for s in range(limbs):
            for t in range(limbs):
                total += int(np.dot(pa[s], pb[t])) << (16 * (s + t))
    return total


def _doubled_ranks(sorted_values: np.ndarray, offset: int, rtol: float = 0.0) -> np.ndarray:
    """Doubled average ranks ``2 r`` (int64) of sorted values whose first has 0-based rank ``offset``.

    A tied block (a chain of :func:`~supviz.metrics.ranks.chain_breaks`; equal values when
    ``rtol = 0``) of ``c`` values starting at 0-based position ``p`` shares the average rank
    ``p + (c + 1) / 2`` (1-based), doubled ``2 p + c + 1``.
    """
    n = len(sorted_values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = chain_breaks(sorted_values, rtol)
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, n))
    return np.repeat(2 * (starts.astype(np.int64) + offset) + counts + 1, counts)


@dataclass
class _Buckets:
    """Value boundaries of one space and what the count pass found."""

    bounds: np.ndarray
    """Sorted boundaries; bucket ``b`` holds ``bounds[b - 1] <= v < bounds[b]``."""
    single: np.ndarray
    """Per bucket: holds one value only (``[v, nextafter(v))``)."""
    counts: np.ndarray | None = None
    lo: float = math.inf
    hi: float = -math.inf

    @property
    def offsets(self) -> np.ndarray:
        """0-based rank of each bucket's first pair."""
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)

    def range(self, b0: int, b1: int) -> tuple[float, float]:
        """Value range ``[lo, hi)`` of buckets ``b0 .. b1 - 1``."""
        lo = -math.inf if b0 == 0 else float(self.bounds[b0 - 1])
        hi = math.inf if b1 > len(self.bounds) else float(self.bounds[b1 - 1])
        return lo, hi

    def passes(self, pass_pairs: int) -> list[tuple[int, int]]:
        """Consecutive bucket ranges holding at most ``pass_pairs`` pairs of many-valued buckets each
        (a bucket larger than that gets a pass of its own)."""
        out: list[tuple[int, int]] = []
        start, load = 0, 0
        for b, c in enumerate(self.counts):
            c = 0 if self.single[b] else int(c)
            if load and load + c > pass_pairs:
                out.append((start, b))
                start, load = b, 0
            load += c
        if load:
            out.append((start, len(self.counts)))
        return out


def _buckets(src: DistanceSource, total: int) -> _Buckets:
    """Boundaries from whole distance rows of evenly spaced points (deterministic)."""
    n_buckets = min(max(1, -(-total // BUCKET_PAIRS)), 1 << 15)
    if n_buckets == 1:
        return _Buckets(bounds=np.zeros(0), single=np.zeros(1, dtype=bool))
    want = 64 * n_buckets
    n_rows = min(src.n, max(2, -(-want // (src.n - 1))))
    rows = np.unique(np.linspace(0, src.n - 1, n_rows).round().astype(np.int64))
    sample = []
    for r in rows:
        d = src.rows(int(r), int(r) + 1)[0]
        sample.append(np.delete(d, r))
    values = np.sort(np.concatenate(sample))
    cuts = np.unique(values[np.linspace(0, len(values) - 1, n_buckets + 1).round().astype(np.int64)[1:-1]])
    # a value that fills a bucket's worth of the sample gets a bucket of its own: [v, nextafter(v))
    uniq, freq = np.unique(values, return_counts=True)
    heavy = uniq[freq >= max(2, len(values) // n_buckets)]
    bounds = np.unique(np.concatenate([cuts, heavy, np.nextafter(heavy, np.inf)]))
    single = np.zeros(len(bounds) + 1, dtype=bool)
    at = np.searchsorted(bounds, heavy, side="right")  # the bucket [v, nextafter(v))
    single[at] = True
    return _Buckets(bounds=bounds, single=single)


def _count(src: DistanceSource, bk: _Buckets, entries: int) -> None:
    """Pairs per bucket, and the smallest and largest distance; then merge the buckets that a tied
    block (a chain of :func:`~supviz.metrics.ranks.chain_breaks`) crosses, so that every bucket
    holds whole tied blocks."""
    n_b = len(bk.bounds) + 1
    counts = np.zeros(n_b, dtype=np.int64)
    mins = np.full(n_b, np.inf)
    maxs = np.full(n_b, -np.inf)
    for _, v in pair_blocks(src, entries=entries):
        if v.size:
            bk.lo = min(bk.lo, float(v.min()))
            bk.hi = max(bk.hi, float(v.max()))
            ids = np.searchsorted(bk.bounds, v, side="right")
            counts += np.bincount(ids, minlength=n_b)
            np.minimum.at(mins, ids, v)
            np.maximum.at(maxs, ids, v)
    # A boundary stays where the first value above it is no adjacent tie of the last one below it.
    keep = np.ones(n_b - 1, dtype=bool)  # keep[b]: the boundary between buckets b and b + 1
    prev = -1  # the last non-empty bucket so far
    for b in np.flatnonzero(counts):
        if prev >= 0 and not chain_breaks(np.array([maxs[prev], mins[b]]), src.tie_rtol)[1]:
            keep[prev:b] = False  # one tied block runs from bucket prev into bucket b
        prev = b
    if keep.all():
        bk.counts = counts
        return
    group = np.concatenate([[0], np.cumsum(keep)])  # (n_b,) merged bucket of every bucket
    merged_single = np.zeros(group[-1] + 1, dtype=bool)
    merged_min = np.full(group[-1] + 1, np.inf)
    merged_max = np.full(group[-1] + 1, -np.inf)
    np.minimum.at(merged_min, group, mins)
    np.maximum.at(merged_max, group, maxs)
    np.logical_or.at(merged_single, group, bk.single)
    bk.bounds = bk.bounds[keep]
    bk.single = merged_single & (merged_min == merged_max)  # still one value only
    bk.counts = np.bincount(group, weights=counts, minlength=group[-1] + 1).astype(np.int64)


def _split_by_bucket(
    bk: _Buckets, values: np.ndarray, *payload: np.ndarray
) -> Iterator[tuple[int, np.ndarray, tuple[np.ndarray, ...]]]:
    """``(bucket, values, payload)`` per bucket present among ``values``."""
    if len(bk.bounds) == 0:
        yield 0, values, payload
        return
    ids = np.searchsorted(bk.bounds, values, side="right").astype(np.uint16 if len(bk.bounds) < 2**16 else np.int64)
    order = np.argsort(ids, kind="stable")  # a radix sort for 16-bit keys
    ids = ids[order]
    edges = np.flatnonzero(np.diff(ids)) + 1
    for part in np.split(np.arange(len(ids)), edges):
        if len(part):
            sel = order[part]
            yield int(ids[part[0]]), values[sel], tuple(p[sel] for p in payload)


def _sweep(src: DistanceSource, bk: _Buckets, pass_pairs: int, entries: int, on_bucket, on_single) -> None:
    """Visit every pair once, bucket by bucket.

    ``on_bucket(b, offset, values, positions)`` gets all pairs of a many-valued bucket at once
    (``offset``: the 0-based rank of its first pair); ``on_single(b, positions)`` gets the pairs of
    a single-valued bucket block by block (they need no sorting), during the first pass.
    """
    offsets = bk.offsets
    pos_dtype = np.uint32 if n_pairs(src.n) < 2**32 else np.int64  # 4-byte positions where they fit
    plans = bk.passes(pass_pairs) or [(0, len(bk.counts))]
    has_single = bool(bk.single.any())
    for p, (b0, b1) in enumerate(plans):
        lo, hi = bk.range(b0, b1)
        parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for off, v in pair_blocks(src, entries=entries):
            if has_single and p == 0:
                pos = np.flatnonzero(bk.single[np.searchsorted(bk.bounds, v, side="right")])
                if pos.size:
                    for b, _, (where,) in _split_by_bucket(bk, v[pos], pos.astype(pos_dtype) + off):
                        on_single(b, where)
            pos = np.flatnonzero((v >= lo) & (v < hi))
            if pos.size:
                for b, vals, (where,) in _split_by_bucket(bk, v[pos], pos.astype(pos_dtype) + off):
                    if not bk.single[b]:
                        parts.setdefault(b, []).append((vals, where))
        for b in sorted(parts):
            chunks = parts.pop(b)
            vals = np.concatenate([a for a, _ in chunks])
            where = np.concatenate([w for _, w in chunks])
            del chunks
            on_bucket(b, int(offsets[b]), vals, where)


def shepard_rho_blocked(
    xs: DistanceSource, ys: DistanceSource, *, pass_pairs: int = PASS_PAIRS, entries: int = BLOCK_ENTRIES
) -> tuple[float, str | None]:
    """Spearman's rho of the pair distances of ``xs`` and ``ys``, exactly, in bounded memory; ties (up to each
    space's tolerance) at their expectation over random orders (:func:`~supviz.metrics.ranks.spearman_tie_expected`).

    Parameters
    ----------
    xs, ys : DistanceSource
        The two spaces (same N >= 2; not coincident, which the caller checks).
    pass_pairs : int
        Pairs collected per pass (12 bytes each); the extra memory beyond the ``N (N - 1) / 2``
        4-byte ranks of ``ys``.
    entries : int
        Distances per row block.

    Returns
    -------
    (rho, None), or (nan, the space whose distances all tie)
        The tie check is the one of :func:`supviz.metrics.stress.shepard_rho_and_reason`:
        all distances one tie (:func:`supviz.metrics.undefined.all_tied`).
    """
    from supviz.metrics.undefined import tied_reason

    total = n_pairs(xs.n)
    bx = _buckets(xs, total)
    _count(xs, bx, entries)
    if all_tied(bx.lo, bx.hi, xs.tie_rtol):
        return float("nan"), tied_reason(xs.name)
    by = _buckets(ys, total)
    _count(ys, by, entries)
    if all_tied(by.lo, by.hi, ys.tie_rtol):
        return float("nan"), tied_reason(ys.name)

    rank_dtype = np.uint32 if 2 * total + 1 < 2**32 else np.uint64
    ranks_y = np.zeros(total, dtype=rank_dtype)
    sums = {"yy": 0, "xx": 0, "xy": 0}

    def y_bucket(b: int, offset: int, vals: np.ndarray, where: np.ndarray) -> None:
        order = np.argsort(vals)
        r2 = _doubled_ranks(vals[order], offset, ys.tie_rtol)
        ranks_y[where[order]] = r2
        sums["yy"] += exact_dot(r2, r2)

    def y_single(b: int, where: np.ndarray) -> None:
        ranks_y[where] = 2 * int(by.offsets[b]) + int(by.counts[b]) + 1

    _sweep(ys, by, pass_pairs, entries, y_bucket, y_single)
    for b in np.flatnonzero(by.single):
        c = int(by.counts[b])
        sums["yy"] += c * (2 * int(by.offsets[b]) + c + 1) ** 2

    def x_bucket(b: int, offset: int, vals: np.ndarray, where: np.ndarray) -> None:
        order = np.argsort(vals)
        r2 = _doubled_ranks(vals[order], offset, xs.tie_rtol)
        sums["xx"] += exact_dot(r2, r2)
        sums["xy"] += exact_dot(r2, ranks_y[where[order]])

    def x_single(b: int, where: np.ndarray) -> None:
        value = 2 * int(bx.offsets[b]) + int(bx.counts[b]) + 1
        sums["xy"] += value * int(ranks_y[where].sum(dtype=np.uint64))

    _sweep(xs, bx, pass_pairs, entries, x_bucket, x_single)
    for b in np.flatnonzero(bx.single):
        c = int(bx.counts[b])
        sums["xx"] += c * (2 * int(bx.offsets[b]) + c + 1) ** 2
    ranks_y = None  # done with: free its memory now (the closures above have run)
    centre = total * (total + 1) ** 2  # M C^2: the doubled ranks sum to M C, C = M + 1
    sxy, sxx, syy = sums["xy"] - centre, sums["xx"] - centre, sums["yy"] - centre
    for spread, src in ((sxx, xs), (syy, ys)):
        if spread == 0:  # one chain of ties wider than the span rule sees
            return float("nan"), tied_reason(src.name)
    # ties at their expectation over random orders (ranks.spearman_tie_expected): the untied spread of the M
    # doubled ranks, 4 M (M^2 - 1) / 12, not sqrt(sxx syy); an exact integer ratio, rounded once
    rho = 3 * sxy / untied_rank_ss(total)
    return float(np.clip(rho, -1.0, 1.0)), None


def shepard_rho_direct(xs: DistanceSource, ys: DistanceSource) -> tuple[float, str | None]:
    """The reference: both condensed vectors, :func:`~supviz.metrics.ranks.average_ranks`, the centred midranks'
    cross product over the untied spread (:func:`~supviz.metrics.ranks.spearman_tie_expected`; float64).
    ``O(N^2)`` memory (about 7 GB at N = 20,000)."""
    from supviz.metrics.undefined import tied_reason

    dx = xs.condensed()
    if all_tied(float(dx.min()), float(dx.max()), xs.tie_rtol):
        return float("nan"), tied_reason(xs.name)
    dy = ys.condensed()
    if all_tied(float(dy.min()), float(dy.max()), ys.tie_rtol):
        return float("nan"), tied_reason(ys.name)
    rx = average_ranks(dx, rtol=xs.tie_rtol)
    del dx
    rx -= rx.mean()
    ry = average_ranks(dy, rtol=ys.tie_rtol)
    del dy
    ry -= ry.mean()
    sxx = float(np.dot(rx, rx))
    syy = float(np.dot(ry, ry))
    for spread, src in ((sxx, xs), (syy, ys)):
        if spread == 0.0:  # one chain of ties wider than the span rule sees
            return float("nan"), tied_reason(src.name)
    rho = 12.0 * float(np.dot(rx, ry)) / untied_rank_ss(rx.size)
    return float(np.clip(rho, -1.0, 1.0)), None
