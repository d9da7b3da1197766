"""Neighbourhood metrics from approximate nearest neighbours, for point sets too large for all pairs.

The exact scores (:func:`supviz.metrics.neighbors.neighbourhood_scores`) rank every point around
every other: ``O(N^2 (d + log N))`` time, bounded memory. Here nothing is quadratic unless ties
force it:

- **neighbour lists.** The ``K = min(3 k, N - 1)`` nearest others of every point: exact with a
  KD-tree (:class:`scipy.spatial.cKDTree`) in up to 3 dimensions (2-D layouts) or by blocked brute
  force up to :data:`BRUTE_FORCE_MAX_N` points (no compilation: the first call in a process costs
  no numba start-up), approximate with pynndescent's NN-descent (``NNDescent``, seeded, one
  thread: deterministic) above. List distances are recomputed in float64 (pynndescent's are
  float32, whose rounding would break the ties of ``diag(N)``).
- **ties, as in the exact scores** (:mod:`supviz.metrics.ranks`): the expectation over random tie
  orders. A point's neighbourhood comes from its list with fractional weights when the tied block
  at the k-th nearest ends inside the list; a pair is judged by ``L`` (others strictly nearer) and
  ``E`` (tied with it, itself included), counted in the list where the tied block ends inside it.
- **ranks beyond the list** are estimated from the distances of ``i`` to ``rank_samples`` other
  points drawn for ``i`` alone (seeded): ``L = (N - 1) * (fraction of the sample nearer)``, never
  below ``K`` nor above ``N - 2``, with ``E = 1`` when no sampled distance ties with the pair's.
- **points the lists cannot resolve** (a tied block that reaches the end of a list, a sampled tie,
  a pair the search missed though it lies within the list's reach) are scored exactly, row by row
  (:func:`supviz.metrics.neighbors.row_sums`): a picture that glues a fraction ``f`` of its points
  costs about ``f N^2`` distances, in bounded memory.

Where the lists hold every other point (``K = N - 1``, i.e. ``k >= (N - 1) / 3``, with exact
lists) the scores equal the exact ones up to rounding (tested). What the estimate costs in
accuracy elsewhere is measured, not assumed: ``benchmarks/metrics.py`` prints each approximate
score beside the exact one at 20,000 points (``docs/benchmarks.md``). Undefined cases follow
:mod:`supviz.metrics.undefined`: ``k > N - 2`` and a collapsed layout exactly; "all distances tie"
is judged on the distances this computation sees (the lists and the sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from supviz.core.seeding import SeedLike, child, int_seed, numpy_rng
from supviz.metrics.distances import DistanceSource
from supviz.metrics.neighbors import _SCORES, NeighbourhoodScores, _sources_agree, row_sums
from supviz.metrics.ranks import expected_excess, tie_blocks, within_probability, worst_penalty
from supviz.metrics.undefined import COLLAPSED, all_tied, coincide_reason, k_reason, tied_reason

#: Up to this many dimensions a KD-tree gives exact neighbour lists.
KDTREE_MAX_DIM = 3
#: Up to this many points (above 3 dimensions) the lists come from blocked brute force: exact, and
#: no numba compilation (pynndescent's costs 20-80 s on the first call of each process).
BRUTE_FORCE_MAX_N = 5000
#: Neighbour-list length as a multiple of k (ranks up to it are counted, beyond it estimated).
LIST_FACTOR = 3
#: Sample size of the rank estimate beyond the lists.
RANK_SAMPLES = 512


@dataclass
class _Space:
    """One space's neighbour lists ``[N, K]`` (nearest first, self excluded), their float64
    distances, and ``reach`` ``(N,)``: the distance of the ``K + 1``-th nearest other (``inf`` where
    the lists hold every other point), which says whether a tied block ends inside a list."""

    src: DistanceSource
    idx: np.ndarray
    dist: np.ndarray
    reach: np.ndarray
    exact: bool


def _pair_distances(data: np.ndarray, rows: np.ndarray, cols: np.ndarray, block: int = 65536) -> np.ndarray:
    """Euclidean distances of the pairs ``(rows[p], cols[p])`` in float64, ``(P,)``."""
    out = np.empty(len(rows))
    for lo in range(0, len(rows), block):
        diff = data[rows[lo : lo + block]] - data[cols[lo : lo + block]]  # (b, d)
        out[lo : lo + block] = np.sqrt(np.einsum("bd,bd->b", diff, diff))
    return out


def _brute_force_lists(src: DistanceSource, K: int) -> np.ndarray:
    """Exact ``K`` nearest others of every point ``[N, K]`` (ties by index), blocked cdist rows."""
    n = src.n
    idx = np.empty((n, K), dtype=np.int64)
    for start, stop in src.blocks():
        block = src.rows(start, stop)  # (c, N)
        own = np.arange(stop - start)
        block[own, start + own] = np.inf
        part = np.argpartition(block, K - 1, axis=1)[:, :K] if K < n - 1 else np.argsort(block, axis=1)[:, :K]
        vals = np.take_along_axis(block, part, axis=1)
        order = np.lexsort((part, vals), axis=1)
        idx[start:stop] = np.take_along_axis(part, order, axis=1)
    return idx


def _neighbour_lists(src: DistanceSource, K: int, seed: int) -> _Space:
    data = src.data
    n = src.n
    F = min(K + 1, n - 1)  # one more than scored: the reach
    if data.shape[1] <= KDTREE_MAX_DIM or n <= BRUTE_FORCE_MAX_N:
        if data.shape[1] <= KDTREE_MAX_DIM:
            from scipy.spatial import cKDTree

            idx = np.asarray(cKDTree(data).query(data, k=F + 1)[1], dtype=np.int64).reshape(n, -1)
            idx = _drop_self(idx, F)
        else:
            idx = _brute_force_lists(src, F)
        exact = True
    else:
        import warnings

        from pynndescent import NNDescent

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pynndescent's notes on small data and numba threads
            index = NNDescent(data, n_neighbors=F + 1, random_state=seed, n_jobs=1, metric="euclidean")
        idx = _drop_self(np.asarray(index.neighbor_graph[0], dtype=np.int64).reshape(n, F + 1), F)
        exact = False
    rows = np.repeat(np.arange(n), F)
    dist = _pair_distances(data, rows, idx.ravel()).reshape(n, F)
    order = np.argsort(dist, axis=1, kind="stable")  # float64 order (float32 lists may be out of order)
    idx, dist = np.take_along_axis(idx, order, axis=1), np.take_along_axis(dist, order, axis=1)
    reach = dist[:, K] if F > K else np.full(n, np.inf)
    return _Space(src, idx[:, :K], dist[:, :K], reach, exact)


def _drop_self(idx: np.ndarray, K: int) -> np.ndarray:
    """Lists of ``K + 1`` entries less the point itself (a duplicate may come before it; where the
    point is missing, the last entry goes)."""
    n = idx.shape[0]
    if idx.shape[1] == K:
        return idx
    own = idx == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), idx.shape[1] - 1)
    keep = np.ones_like(own)
    keep[np.arange(n), drop] = False
    return idx[keep].reshape(n, idx.shape[1] - 1)


def _sample_rows(
    src: DistanceSource, rng: np.random.Generator, size: int, block: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Distances of every point to ``size`` other points drawn for it alone (uniformly, with
    replacement), each row sorted: ``[N, size]``, and the drawn points in the same order (int32).
    A sample of its own per point makes the rank estimates' errors independent, so they average out
    over the points (one shared sample biased every point the same way: -0.008 in trustworthiness
    at N = 3,000)."""
    n = src.n
    out = np.empty((n, size))
    drawn = np.empty((n, size), dtype=np.int32)
    for start in range(0, n, block):
        stop = min(start + block, n)
        own = np.arange(start, stop)[:, None]
        other = rng.integers(0, n - 1, size=(stop - start, size))
        other += other >= own  # skip the point itself: uniform over the n - 1 others
        diff = src.data[other] - src.data[start:stop, None, :]  # (b, size, d)
        dist = np.sqrt(np.einsum("bsd,bsd->bs", diff, diff))
        order = np.argsort(dist, axis=1)
        out[start:stop] = np.take_along_axis(dist, order, axis=1)
        drawn[start:stop] = np.take_along_axis(other, order, axis=1)
    return out, drawn


def _list_blocks(space: _Space) -> tuple[np.ndarray, np.ndarray]:
    """Tied blocks (:func:`~supviz.metrics.ranks.tie_blocks`) of each list followed by its reach,
    ``[N, K + 1]``: a block whose last position is ``K`` may go on beyond the list."""
    dist = space.dist
    top = 2.0 * float(dist.max(initial=0.0)) + 1.0  # an infinite reach (the list holds every other) breaks
    full = np.concatenate([dist, np.where(np.isinf(space.reach), top, space.reach)[:, None]], axis=1)
    return tie_blocks(full, space.src.tie_rtol)


def _weights(space: _Space, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Fractional k-neighbourhood weights over the list ``[N, K]`` and which rows they are exact for
    (the tied block at the k-th nearest ends inside the list)."""
    first, last = _list_blocks(space)
    K = space.dist.shape[1]
    f, la = first[:, k - 1 : k], last[:, k - 1 : k]  # (N, 1) the block of the k-th nearest other
    pos = np.arange(K)[None, :]
    w = np.where(pos < f, 1.0, np.where(pos <= la, (k - f) / (la - f + 1), 0.0))
    return w, la[:, 0] < K


def _judge(
    judge: _Space, sample: tuple[np.ndarray, np.ndarray], rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``L``, ``E`` (float) of the pairs ``(rows, cols)`` in the judging space, and which are resolved.

    A pair in the list takes its tied block there (resolved when the block ends inside the list).
    A pair past the list's reach gets ``L`` from the sample (:func:`_sample_rows`), clipped to
    ``[K, N - 2]``, and ``E = 1``; it is unresolved when another sampled point ties with it.
    """
    sample_sorted, drawn = sample
    src = judge.src
    rtol = src.tie_rtol
    n, K = judge.idx.shape
    d = _pair_distances(src.data, rows, cols)
    lists = judge.dist[rows]  # (P, K)
    hit = judge.idx[rows] == cols[:, None]  # (P, K)
    found = hit.any(axis=1)
    pos = hit.argmax(axis=1)
    first, last = _list_blocks(judge)
    f, la = first[rows, pos], last[rows, pos]
    less = f.astype(np.float64)
    tied = (la - f + 1).astype(np.float64)
    resolved = found & (la < K)  # the tied block ends inside the list
    beyond = ~found & (d - lists[:, -1] > rtol * d)  # past the list's last block: estimate
    if beyond.any():
        at = np.flatnonzero(beyond)
        size = sample_sorted.shape[1]
        for lo in range(0, len(at), 8192):
            part = at[lo : lo + 8192]
            srt = sample_sorted[rows[part]]  # (q, S)
            dp = d[part][:, None]
            nearer = (dp - srt > rtol * dp).sum(axis=1)
            # a tie with another point (the pair's own point may be in the sample: not a tie)
            close = np.abs(srt - dp) <= rtol * np.maximum(srt, dp)
            sampled_tie = (close & (drawn[rows[part]] != cols[part][:, None])).any(axis=1)
            less[part] = np.clip((src.n - 1) * nearer / size, K, n - 2)
            tied[part] = 1.0
            resolved[part] = ~sampled_tie
    return less, tied, resolved


def _score_sums(
    defining: _Space, judging: _Space, sample: tuple[np.ndarray, np.ndarray], k: int
) -> tuple[float, float, np.ndarray]:
    """Penalty and kept sums over the rows the lists resolve, and the rows they do not."""
    n = defining.idx.shape[0]
    w, resolved = _weights(defining, k)
    rows, pos = np.nonzero(w > 0)
    cols = defining.idx[rows, pos]
    less, tied, ok = _judge(judging, sample, rows, cols)
    bad = np.zeros(n, dtype=bool)
    bad[rows[~ok]] = True
    bad |= ~resolved
    use = ~bad[rows]
    ww = w[rows, pos][use]
    penalty = float(np.dot(ww, expected_excess(less[use], tied[use], k)))
    kept = float(np.dot(ww, within_probability(less[use], tied[use], k)))
    return penalty, kept, np.flatnonzero(bad)


def approximate_neighbourhood_scores(
    X: DistanceSource,
    Y: DistanceSource,
    *,
    k: int,
    X_true: DistanceSource | None = None,
    want: tuple[str, ...] = _SCORES,
    collapsed: bool = False,
    random_state: SeedLike = 0,
    rank_samples: int = RANK_SAMPLES,
) -> NeighbourhoodScores:
    """Trustworthiness, continuity and k-NN recall from neighbour lists (module docstring).

    Same arguments and result as :func:`supviz.metrics.neighbors.neighbourhood_scores` (``k``
    already validated), plus ``random_state`` (the neighbour search and the rank sample) and
    ``rank_samples``. ``O(N (K + S) d)`` time and memory for ``S`` samples, ``K = min(3 k, N - 1)``,
    plus ``O(N d)`` per row the lists cannot resolve (ties).
    """
    n = _sources_agree(X, Y, X_true)
    want = tuple(w for w in want if w != "knn_recall_true" or X_true is not None)
    common = k_reason(k, n) or (COLLAPSED if collapsed or Y.coincide else None)
    if common is not None:
        nan = float("nan")
        return NeighbourhoodScores(nan, nan, nan, nan, reasons=dict.fromkeys(want, common))
    K = min(LIST_FACTOR * k, n - 1)
    S = int(rank_samples)
    sources = {"X": X, "Y": Y, "X_true": X_true}
    judged = {
        "trustworthiness": ("Y", "X"),
        "continuity": ("X", "Y"),
        "knn_recall": ("X", "Y"),
        "knn_recall_true": ("X_true", "Y"),
    }
    needed = sorted({space for name in want for space in judged[name]}, key=("X", "Y", "X_true").index)
    seeds = {"X": 2, "Y": 3, "X_true": 4}
    spaces = {name: _neighbour_lists(sources[name], K, int_seed(child(random_state, seeds[name]))) for name in needed}
    samples = {
        name: _sample_rows(spaces[name].src, numpy_rng(child(random_state, 1, c)), S)
        for c, name in enumerate(("X", "Y"))
        if name in spaces
    }
    reasons: dict[str, str] = {}
    tied = {}
    for name, sp in spaces.items():
        seen = np.concatenate([sp.dist.ravel()] + ([samples[name][0].ravel()] if name in samples else []))
        tied[name] = all_tied(float(seen.min()), float(seen.max()), sp.src.tie_rtol)
    for name in want:
        for space in judged[name]:
            if sources[space].coincide:  # the exact path's rule: rounding noise would be ranked
                reasons[name] = coincide_reason(sources[space].name)
                break
            if tied.get(space):
                reasons[name] = tied_reason(sources[space].name)
                break
    g = worst_penalty(n, k)
    values: dict[str, float] = {}
    done: dict[tuple[str, str], tuple[float, float]] = {}
    for name in want:
        if name in reasons:
            continue
        pair = judged[name]
        if pair not in done:
            d_space, j_space = spaces[pair[0]], spaces[pair[1]]
            penalty, kept, bad = _score_sums(d_space, j_space, samples[pair[1]], k)  # judged in X or Y
            if len(bad):
                extra = row_sums(d_space.src, j_space.src, bad, k)
                penalty, kept = penalty + extra[0], kept + extra[1]
            done[pair] = (penalty, kept)
        penalty, kept = done[pair]
        values[name] = 1.0 - penalty / (n * g) if name in ("trustworthiness", "continuity") else kept / (n * k)
    out = {name: values.get(name, float("nan")) for name in _SCORES}
    return NeighbourhoodScores(**out, reasons=reasons)
