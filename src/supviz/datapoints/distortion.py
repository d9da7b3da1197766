"""How much a picture of data points keeps the neighbourhoods and distances of the inputs ``x``.

- k-NN recall, trustworthiness and continuity of ``Y`` against ``X`` come from
  :func:`supviz.metrics.neighbors.neighbourhood_scores` (one blocked pass, tie-aware: the points
  whose active features are all dropped coincide in ``x_rep`` and ``h``, so ties are real here);
- stress-1 comes from :func:`supviz.metrics.stress1_ratio` (blocked over all pairs);
- the Shepard (Spearman) correlation of distances uses all pairs up to ``max_pairs`` and a fixed
  random subset of ``max_pairs`` pairs beyond (:func:`supviz.metrics.shepard_correlation` ranks all
  ``N (N - 1) / 2`` pairs: 1.2 GB at the 10,000 points this section must handle; on all pairs the two
  agree, a test checks it);
- false neighbours, which :mod:`supviz.metrics` does not have: pairs among the k nearest
  neighbours in ``Y`` whose inputs share no active feature, found by a chunked exact k-NN search
  (``chunk_size x N`` distances at a time; ties broken by index).

``Y`` may be a 2-D layout or a space of any dimension (for example ``h`` itself): the "exact"
measures of superposition compare ``h`` with ``x`` before any picture is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from supviz._validation import check_array, check_int
from supviz.errors import SupvizError
from supviz.seeding import SeedLike, numpy_rng

__all__ = [
    "DistortionResult",
    "FalseNeighbours",
    "measure_distortion",
    "false_neighbours",
    "knn_indices",
    "shepard_rho",
]


@dataclass(frozen=True)
class FalseNeighbours:
    """Pairs that are k-nearest neighbours in a picture but share no active input feature.

    Attributes
    ----------
    pairs : np.ndarray of int, shape (P, 2)
        Unique unordered pairs ``(i, j)`` with ``i < j``, sorted.
    n_edges : int
        Directed k-NN edges examined (``N * k``).
    n_false_edges : int
        Directed k-NN edges whose endpoints share no active feature.
    """

    pairs: np.ndarray
    n_edges: int
    n_false_edges: int

    @property
    def count(self) -> int:
        """Number of unique false-neighbour pairs."""
        return int(self.pairs.shape[0])

    @property
    def rate(self) -> float:
        """Share of the directed k-NN edges that are false neighbours, in [0, 1]."""
        return self.n_false_edges / self.n_edges if self.n_edges else 0.0


@dataclass(frozen=True)
class DistortionResult:
    """Distortion of a picture ``Y`` of data points against their inputs ``X``.

    Attributes
    ----------
    knn_recall, trustworthiness, continuity : float
        In [0, 1]; 1 means every k-neighbourhood is kept.
    stress1_ratio : float
        Kruskal stress-1 of ``Y`` against the distances of ``X`` after optimal scaling
        (:func:`supviz.metrics.stress1_ratio`, all pairs, blocked); 0 for an exact picture.
    shepard_rho : float
        Spearman correlation of pairwise distances in ``X`` and ``Y`` (over ``n_pairs`` pairs).
    false : FalseNeighbours or None
        False neighbours of ``Y`` (None when no activity mask was given).
    k : int
        Neighbourhood size.
    n_pairs : int
        Number of pairs behind ``shepard_rho``.
    """

    knn_recall: float
    trustworthiness: float
    continuity: float
    stress1_ratio: float
    shepard_rho: float
    false: FalseNeighbours | None
    k: int
    n_pairs: int
    extra: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The scalar measures by name (the columns of the tidy table)."""
        out = {
            "knn_recall": self.knn_recall,
            "trustworthiness": self.trustworthiness,
            "continuity": self.continuity,
            "stress1_ratio": self.stress1_ratio,
            "shepard_rho": self.shepard_rho,
        }
        if self.false is not None:
            out["false_neighbour_rate"] = self.false.rate
            out["false_neighbour_pairs"] = float(self.false.count)
        out.update(self.extra)
        return out


def _sq_dists(A: np.ndarray, B: np.ndarray, B_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``[len(A), len(B)]`` (clipped at 0)."""
    d = (A * A).sum(axis=1)[:, None] + B_sq[None, :] - 2.0 * (A @ B.T)
    return np.maximum(d, 0.0, out=d)


def _knn_from_rows(D: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest entries per row, ordered by distance then index."""
    part = np.argpartition(D, k - 1, axis=1)[:, :k]  # (c, k) unordered
    vals = np.take_along_axis(D, part, axis=1)
    order = np.lexsort((part, vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


def _check_pair(X: np.ndarray, Y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    X = check_array("X", X, ndim=2)
    Y = check_array("Y", Y, ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise SupvizError(f"`X` and `Y` must have the same number of points; got {X.shape[0]} and {Y.shape[0]}.")
    n = X.shape[0]
    if n < 3:
        raise SupvizError(f"`X` must have at least 3 points; got {n}.")
    k = check_int("k", k, min_value=1, max_value=n - 2)
    return X, Y, k


def knn_indices(X: np.ndarray, *, k: int, chunk_size: int = 512) -> np.ndarray:
    """Exact k nearest neighbours of every point, self excluded.

    Parameters
    ----------
    X : array, shape (N, d)
    k : int
    chunk_size : int
        Rows per block; memory is ``chunk_size * N`` floats.

    Returns
    -------
    np.ndarray of int, shape (N, k), nearest first (ties by index).
    """
    X = check_array("X", X, ndim=2)
    n = X.shape[0]
    k = check_int("k", k, min_value=1, max_value=n - 1)
    sq = (X * X).sum(axis=1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk_size):
        rows = np.arange(start, min(n, start + chunk_size))
        D = _sq_dists(X[rows], X, sq)
        D[np.arange(rows.size), rows] = np.inf
        out[rows] = _knn_from_rows(D, k)
    return out


def false_neighbours(Y: np.ndarray, active: np.ndarray, *, k: int = 10, chunk_size: int = 512) -> FalseNeighbours:
    """Pairs among the k nearest neighbours in ``Y`` whose inputs share no active feature.

    Parameters
    ----------
    Y : array, shape (N, d)
        A picture (2-D layout) or a code space.
    active : bool array, shape (N, n)
        Which input features each point has active (``x > 0``).
    k : int, default 10

    Returns
    -------
    FalseNeighbours
    """
    Y = check_array("Y", Y, ndim=2)
    active = np.asarray(active, dtype=bool)
    if active.ndim != 2 or active.shape[0] != Y.shape[0]:
        raise SupvizError(f"`active` must be a bool array with {Y.shape[0]} rows; got shape {active.shape}.")
    nbrs = knn_indices(Y, k=k, chunk_size=chunk_size)
    return _false_from_knn(nbrs, active)


def _false_from_knn(nbrs: np.ndarray, active: np.ndarray) -> FalseNeighbours:
    n, k = nbrs.shape
    act = active.astype(np.float32)
    # shared[i, r] = number of features active in both i and its r-th neighbour.
    shared = np.einsum("nf,nkf->nk", act, act[nbrs], optimize=True)  # (N, k)
    false = shared == 0
    i_idx = np.repeat(np.arange(n), k)[false.ravel()]
    j_idx = nbrs.ravel()[false.ravel()]
    pairs = np.stack([np.minimum(i_idx, j_idx), np.maximum(i_idx, j_idx)], axis=1)
    pairs = np.unique(pairs, axis=0) if pairs.size else np.empty((0, 2), dtype=np.int64)
    return FalseNeighbours(pairs=pairs.astype(np.int64), n_edges=n * k, n_false_edges=int(false.sum()))


def shepard_rho(
    X: np.ndarray, Y: np.ndarray, *, max_pairs: int = 200_000, random_state: SeedLike = 0
) -> tuple[float, int]:
    """Spearman correlation of pairwise distances in ``X`` and ``Y``.

    All pairs when there are at most ``max_pairs`` of them, else ``max_pairs`` pairs drawn
    uniformly (with a fixed seed) among all ``i != j``.

    Returns
    -------
    (rho, n_pairs)
    """
    from supviz.metrics.ranks import average_ranks

    n = X.shape[0]
    total = n * (n - 1) // 2
    if total <= max_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = numpy_rng(random_state, name="random_state")
        i = rng.integers(0, n, size=max_pairs)
        j = (i + rng.integers(1, n, size=max_pairs)) % n  # j != i, uniform over the others
    dx = np.linalg.norm(X[i] - X[j], axis=1)
    dy = np.linalg.norm(Y[i] - Y[j], axis=1)
    if np.ptp(dx) == 0 or np.ptp(dy) == 0:
        return float("nan"), int(dx.size)
    rx = average_ranks(dx)
    rx -= rx.mean()
    ry = average_ranks(dy)
    ry -= ry.mean()
    rho = float(np.dot(rx, ry)) / float(np.sqrt(np.dot(rx, rx) * np.dot(ry, ry)))
    return float(np.clip(rho, -1.0, 1.0)), int(dx.size)


def measure_distortion(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    active: np.ndarray | None = None,
    k: int = 10,
    max_pairs: int = 200_000,
    chunk_size: int = 512,
    random_state: SeedLike = 0,
) -> DistortionResult:
    """Neighbourhood and distance distortion of a picture ``Y`` of the points ``X``.

    Parameters
    ----------
    X : array, shape (N, n)
        Reference space (the inputs ``x``).
    Y : array, shape (N, d)
        The picture: a 2-D layout, or a code space such as ``h``.
    active : bool array, shape (N, n_features), optional
        Active input features per point; when given, false neighbours of ``Y`` are counted.
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 2``.
    max_pairs : int, default 200,000
        Pairs behind the Shepard correlation (all pairs up to this many, else a random subset).
    chunk_size : int, default 512
        Rows per block of the false-neighbour k-NN search (``chunk_size * N`` floats at a time).
    random_state : seed
        Seed of the pair subset for the Shepard correlation.

    Returns
    -------
    DistortionResult
    """
    from supviz.metrics import stress1_ratio
    from supviz.metrics.distances import DistanceSource
    from supviz.metrics.neighbors import neighbourhood_scores

    X, Y, k = _check_pair(X, Y, k)
    n = X.shape[0]
    chunk_size = check_int("chunk_size", chunk_size, min_value=1)
    scores = neighbourhood_scores(
        DistanceSource("X", X), DistanceSource("Y", Y), k=k, want=("trustworthiness", "continuity", "knn_recall")
    )
    rho, n_pairs = shepard_rho(X, Y, max_pairs=max_pairs, random_state=random_state)
    false = None
    if active is not None:
        active = np.asarray(active, dtype=bool)
        if active.ndim != 2 or active.shape[0] != n:
            raise SupvizError(f"`active` must be a bool array with {n} rows; got shape {active.shape}.")
        false = _false_from_knn(knn_indices(Y, k=k, chunk_size=chunk_size), active)
    return DistortionResult(
        knn_recall=float(scores.knn_recall),
        trustworthiness=float(scores.trustworthiness),
        continuity=float(scores.continuity),
        stress1_ratio=float(stress1_ratio(X, Y)),
        shepard_rho=rho,
        false=false,
        k=k,
        n_pairs=n_pairs,
    )
