"""Neighbourhood metrics from approximate nearest neighbours, for point sets too large for all pairs.

The exact scores (:func:`supviz.metrics.neighbors.neighbourhood_scores`) rank every point around
every other: ``O(N^2 (d + log N))`` time, bounded memory. Here nothing is quadratic:

- **neighbour lists.** The ``K = 3 k`` nearest others of every point: exact with a KD-tree
  (:class:`scipy.spatial.cKDTree`) in up to 3 dimensions (2-D layouts), approximate with
  pynndescent's NN-descent (``NNDescent``, seeded, one thread: deterministic) above.
- **ranks.** A pair ``(i, j)`` is judged by its competition rank ``1 + #{l : d(i, l) < d(i, j)}``
  (the judging rule of :mod:`supviz.metrics.ranks`, same tie tolerance). Where ``j`` is in ``i``'s
  list, the rank is counted in the list; beyond it, it is estimated from the distances of ``i`` to
  ``rank_samples`` other points drawn for ``i`` alone (seeded), ``1 + (N - 1) * (fraction of the
  sample nearer)``, and never put below ``K + 1``.
- **scores** as the exact definitions (Venna and Kaski's T and C, k-NN recall) with plain k-NN
  sets: ties in the space that defines a neighbourhood are broken by the neighbour search, not
  shared fractionally.

What this costs in accuracy is measured, not assumed: ``benchmarks/metrics.py`` prints each
approximate score beside the exact one at 20,000 points (``docs/benchmarks.md``). Undefined cases
follow :mod:`supviz.metrics.undefined`: ``k > N - 2`` and a collapsed layout exactly; "all
distances tie" is judged on the distances this computation sees (the lists and the sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from supviz.core.seeding import SeedLike, child, int_seed, numpy_rng
from supviz.metrics.distances import DistanceSource
from supviz.metrics.neighbors import _SCORES, NeighbourhoodScores, _sources_agree
from supviz.metrics.ranks import worst_penalty
from supviz.metrics.undefined import COLLAPSED, k_reason, tied_reason

#: Up to this many dimensions a KD-tree gives exact neighbour lists.
KDTREE_MAX_DIM = 3
#: Neighbour-list length as a multiple of k (ranks up to it are counted, beyond it estimated).
LIST_FACTOR = 3
#: Sample size of the rank estimate beyond the lists.
RANK_SAMPLES = 512


@dataclass
class _Space:
    """One space's neighbour lists ``[N, K]`` (nearest first, self excluded) and distances."""

    src: DistanceSource
    idx: np.ndarray
    dist: np.ndarray
    exact: bool


def _neighbour_lists(src: DistanceSource, K: int, seed: int) -> _Space:
    data = src.data
    n = src.n
    want = min(K + 1, n)
    if data.shape[1] <= KDTREE_MAX_DIM:
        from scipy.spatial import cKDTree

        dist, idx = cKDTree(data).query(data, k=want)
        exact = True
    else:
        import warnings

        from pynndescent import NNDescent

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pynndescent's notes on small data and numba threads
            index = NNDescent(data, n_neighbors=want, random_state=seed, n_jobs=1, metric="euclidean")
        idx, dist = index.neighbor_graph
        exact = False
    idx = np.asarray(idx, dtype=np.int64).reshape(n, want)
    dist = np.asarray(dist, dtype=np.float64).reshape(n, want)
    # drop the point itself (a duplicate may come before it; then the last entry goes)
    own = idx == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), want - 1)
    keep = np.ones_like(own)
    keep[np.arange(n), drop] = False
    idx = idx[keep].reshape(n, want - 1)
    dist = dist[keep].reshape(n, want - 1)
    return _Space(src, idx, dist, exact)


def _sample_rows(src: DistanceSource, rng: np.random.Generator, size: int, block: int = 512) -> np.ndarray:
    """Distances of every point to ``size`` other points drawn for it alone (uniformly, with
    replacement), each row sorted: ``[N, size]``. A sample of its own per point makes the rank
    estimates' errors independent, so they average out over the points (one shared sample biased
    every point the same way: -0.008 in trustworthiness at N = 3,000)."""
    n = src.n
    out = np.empty((n, size))
    for start in range(0, n, block):
        stop = min(start + block, n)
        own = np.arange(start, stop)[:, None]
        other = rng.integers(0, n - 1, size=(stop - start, size))
        other += other >= own  # skip the point itself: uniform over the n - 1 others
        diff = src.data[other] - src.data[start:stop, None, :]  # (b, size, d)
        out[start:stop] = np.sort(np.sqrt(np.einsum("bsd,bsd->bs", diff, diff)), axis=1)
    return out


def _ranks(judge: _Space, sample_sorted: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Competition ranks of the pairs ``(rows, cols)`` in the judging space (counted or estimated)."""
    src = judge.src
    tol = src.tie_tol
    d = np.sqrt(((src.data[rows] - src.data[cols]) ** 2).sum(axis=1))
    K = judge.idx.shape[1]
    in_list = judge.idx[rows] == cols[:, None]  # (P, K)
    found = in_list.any(axis=1)
    ranks = np.empty(len(rows))
    # in the list: 1 + list entries clearly nearer
    ranks[found] = 1 + (judge.dist[rows[found]] < d[found, None] - tol).sum(axis=1)
    miss = ~found
    if miss.any():
        at = np.flatnonzero(miss)
        est = np.empty(len(at))
        size = sample_sorted.shape[1]
        for lo in range(0, len(at), 8192):
            part = at[lo : lo + 8192]
            less = (sample_sorted[rows[part]] < (d[part] - tol)[:, None]).sum(axis=1)  # (q,)
            est[lo : lo + 8192] = 1 + (src.n - 1) * less / size
        ranks[miss] = np.maximum(est, K + 1)
    return ranks


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
    ``rank_samples``. ``O(N (K + S) d)`` time and memory for ``S`` samples, ``K = 3 k``.
    """
    n = _sources_agree(X, Y, X_true)
    want = tuple(w for w in want if w != "knn_recall_true" or X_true is not None)
    common = k_reason(k, n) or (COLLAPSED if collapsed or Y.coincide else None)
    if common is not None:
        nan = float("nan")
        return NeighbourhoodScores(nan, nan, nan, nan, reasons=dict.fromkeys(want, common))
    K = min(LIST_FACTOR * k, n - 1)
    S = int(rank_samples)
    spaces = {
        "X": _neighbour_lists(X, K, int_seed(child(random_state, 2))),
        "Y": _neighbour_lists(Y, K, int_seed(child(random_state, 3))),
    }
    if X_true is not None and "knn_recall_true" in want:
        spaces["X_true"] = _neighbour_lists(X_true, k, int_seed(child(random_state, 4)))
    samples = {
        name: _sample_rows(spaces[name].src, numpy_rng(child(random_state, 1, c)), S)
        for c, name in enumerate(("X", "Y"))
    }
    reasons: dict[str, str] = {}
    tied = {}
    for name, sp in spaces.items():
        seen = [sp.dist.ravel()]
        if name in samples:
            s = samples[name]
            seen.append(s.ravel())
        allv = np.concatenate(seen)
        tied[name] = float(allv.max() - allv.min()) <= sp.src.tie_tol
    rows = np.repeat(np.arange(n), k)
    g = worst_penalty(n, k)
    values: dict[str, float] = {}
    sources = {"X": X, "Y": Y, "X_true": X_true}
    judged = {
        "trustworthiness": ("Y", "X"),
        "continuity": ("X", "Y"),
        "knn_recall": ("X", "Y"),
        "knn_recall_true": ("X_true", "Y"),
    }
    for name in want:
        for space in judged[name]:
            if tied.get(space):
                reasons[name] = tied_reason(sources[space].name)
                break
    if "trustworthiness" in want and "trustworthiness" not in reasons:
        cols = spaces["Y"].idx[:, :k].ravel()
        r = _ranks(spaces["X"], samples["X"], rows, cols)
        values["trustworthiness"] = 1.0 - float(np.maximum(r - k, 0).sum()) / (n * g)
    if {"continuity", "knn_recall"} & set(want):
        cols = spaces["X"].idx[:, :k].ravel()
        r = _ranks(spaces["Y"], samples["Y"], rows, cols)
        values["continuity"] = 1.0 - float(np.maximum(r - k, 0).sum()) / (n * g)
        values["knn_recall"] = float((r <= k).sum()) / (n * k)
    if "X_true" in spaces:
        cols = spaces["X_true"].idx[:, :k].ravel()
        r = _ranks(spaces["Y"], samples["Y"], rows, cols)
        values["knn_recall_true"] = float((r <= k).sum()) / (n * k)
    out = {
        name: values[name] if name in want and name not in reasons and name in values else float("nan")
        for name in _SCORES
    }
    return NeighbourhoodScores(**out, reasons=reasons)
