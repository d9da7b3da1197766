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
  (``chunk_size x N`` distances at a time) with the tie rule of every neighbourhood measure here
  (:mod:`supviz.metrics.ranks`: points tied with the k-th nearest share its place fractionally, so
  the rate is the average over all ways of breaking the ties and never depends on the order of the
  points; the inputs whose active features were all dropped coincide at ``h = 0``, so ties are real).

Undefined is NaN with a reason (:attr:`DistortionResult.reasons`, :attr:`FalseNeighbours.reason`;
:mod:`supviz.metrics.undefined`), decided by the rules every metric shares: a picture whose points
all coincide (up to rounding, :mod:`supviz.core.geometry`) has no neighbourhoods, distances or Shepard
diagram; a space whose pairwise distances all tie ranks nothing; all points of ``X`` coinciding
leave nothing to compare.

``Y`` may be a 2-D layout or a space of any dimension (for example ``h`` itself): the "exact"
measures of superposition compare ``h`` with ``x`` before any picture is drawn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.scores import reason_text
from supviz.core.seeding import SeedLike, numpy_rng
from supviz.core.validation import check_array, check_choice, check_int
from supviz.errors import SupvizError

logger = logging.getLogger(__name__)

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
        Unique unordered pairs ``(i, j)`` with ``i < j``, sorted, that are false neighbours under
        some tie order (a non-zero probability; every such pair when there are no ties).
    n_edges : int
        Directed k-NN edges examined (``N * k``).
    n_false_edges : float
        Directed k-NN edges whose endpoints share no active feature; an edge to a point tied with
        the k-th nearest counts with its membership weight (the average over tie-breaks), so this
        is a whole number when there are no ties.
    n_false_pairs : float
        Expected number of unique unordered false pairs (a pair counts once, whether one or both
        of its points have the other among their k nearest) over uniformly random tie orders,
        each point ordering its own tied blocks independently, as the membership weights assume:
        ``sum over pairs of 1 - (1 - w_ij)(1 - w_ji)``. The number of ``pairs`` when there are no
        ties; NaN when ``reason`` is set.
    reason : str or None
        Why the rate is undefined (a collapsed picture, all distances tied), else None.
    """

    pairs: np.ndarray
    n_edges: int
    n_false_edges: float
    reason: str | None = None
    n_false_pairs: float = float("nan")

    @property
    def count(self) -> float:
        """Expected number of unique false-neighbour pairs (``n_false_pairs``); a whole number
        without ties."""
        return self.n_false_pairs

    @property
    def rate(self) -> float:
        """Share of the directed k-NN edges that are false neighbours, in [0, 1]; NaN (``reason``
        says why) when the picture has no neighbourhoods to judge."""
        if self.reason is not None:
            return float("nan")
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
    reasons : dict of str to str
        For each NaN measure (by its name in :meth:`metrics`), why it is undefined.
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
    reasons: dict[str, str] = field(default_factory=dict)

    def reason_text(self) -> str:
        """Every NaN measure's reason on one line, ``"metric: reason; ..."`` ("" when none)."""
        return reason_text(self.reasons)

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
            out["false_neighbour_pairs"] = self.false.count if self.false.reason is None else float("nan")
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
    """Exact k nearest neighbours of every point, self excluded, as a plain index list.

    Not tie-aware, by design: an ``[N, k]`` list must name k points, so a tie at the k-th place is
    broken by point index (a deterministic, documented choice). No measure of supviz is computed
    from it; every measure uses the fractional neighbourhoods of :mod:`supviz.metrics.ranks`
    (the expectation over random tie orders) instead.

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
    Y : array, shape (N, d), or a :class:`~supviz.dr.Layout`
        A picture (2-D layout) or a code space; a ``Layout`` brings its method's verdict on
        collapse (``info["collapsed"]``: a t-SNE picture 1e-13 across has no neighbourhoods).
    active : bool array, shape (N, n)
        Which input features each point has active (``x > 0``).
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 2`` (at ``N - 1`` every picture has the same
        neighbourhoods, as for every neighbourhood measure).
    chunk_size : int
        Rows of distances at a time (memory ``chunk_size * N`` floats).

    Returns
    -------
    FalseNeighbours
        Tie-aware (module docstring). ``rate`` is NaN with ``reason`` when all points of ``Y``
        coincide (up to rounding) or all its pairwise distances tie: any choice of neighbours
        would be a tie-break.
    """
    from supviz.metrics.distances import layout_source

    ys, collapsed = layout_source("Y", Y)
    active = np.asarray(active, dtype=bool)
    if active.ndim != 2 or active.shape[0] != ys.n:
        raise SupvizError(f"`active` must be a bool array with {ys.n} rows; got shape {active.shape}.")
    if ys.n < 3:
        raise SupvizError(f"`Y` must have at least 3 points; got {ys.n}.")
    k = check_int("k", k, min_value=1, max_value=ys.n - 2)
    chunk_size = check_int("chunk_size", chunk_size, min_value=1)
    return _false_edges(ys, active, k, chunk_size, collapsed)


def _false_edges(ys: Any, active: np.ndarray, k: int, chunk_size: int, collapsed: bool = False) -> FalseNeighbours:
    """Tie-aware false edges of the picture ``ys`` (a DistanceSource), in blocks of rows."""
    from supviz.metrics.ranks import knn_weights, sorted_rows_without_self
    from supviz.metrics.undefined import COLLAPSED, all_tied, tied_reason

    n = ys.n
    empty = np.empty((0, 2), dtype=np.int64)
    if collapsed or ys.coincide:
        return FalseNeighbours(pairs=empty, n_edges=n * k, n_false_edges=float("nan"), reason=COLLAPSED)
    act = active.astype(np.float32)
    weight = 0.0
    found: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    lo, hi = np.inf, -np.inf
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        block = ys.rows(start, stop)  # (c, N)
        srt = sorted_rows_without_self(block, start)  # own entry -1 in column 0
        lo = min(lo, float(srt[:, 1].min()))
        hi = max(hi, float(srt[:, -1].max()))
        rows, cols, w = knn_weights(block, srt, k, ys.tie_rtol)  # the chain of the k-th nearest
        shared = np.einsum("pf,pf->p", act[start + rows], act[cols])  # features active in both
        false = shared == 0
        weight += float(w[false].sum())
        i, j = start + rows[false], cols[false]
        found.append(np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1))
        probs.append(w[false])
    if all_tied(lo, hi, ys.tie_rtol):
        return FalseNeighbours(pairs=empty, n_edges=n * k, n_false_edges=float("nan"), reason=tied_reason("Y"))
    if not found or not sum(len(f) for f in found):
        return FalseNeighbours(pairs=empty, n_edges=n * k, n_false_edges=weight, n_false_pairs=0.0)
    directed = np.concatenate(found)  # (E, 2) the unordered pair of every directed false edge
    pairs, inverse = np.unique(directed, axis=0, return_inverse=True)
    # P(pair counted) = 1 - prod over its (one or two) directed edges of (1 - P(edge)): each point
    # orders its own tied block independently (the rule of supviz.metrics.ranks).
    missed = np.ones(len(pairs))
    np.multiply.at(missed, inverse.ravel(), 1.0 - np.concatenate(probs))
    expected = float((1.0 - missed).sum())
    return FalseNeighbours(pairs=pairs.astype(np.int64), n_edges=n * k, n_false_edges=weight, n_false_pairs=expected)


def shepard_rho(
    X: np.ndarray, Y: np.ndarray, *, max_pairs: int = 200_000, random_state: SeedLike = 0
) -> tuple[float, int]:
    """Spearman correlation of pairwise distances in ``X`` and ``Y``, ties at their expectation over random
    orders (:func:`supviz.metrics.ranks.spearman_tie_expected`).

    All pairs when there are at most ``max_pairs`` of them, else ``max_pairs`` pairs drawn
    uniformly (with a fixed seed) among all ``i != j``. NaN (reason logged at INFO) when either
    side's points coincide or its distances all tie (the rules of :mod:`supviz.metrics.undefined`).

    Returns
    -------
    (rho, n_pairs)
    """
    from supviz.metrics.distances import DistanceSource

    rho, n_pairs, why = _shepard(
        DistanceSource("X", X, min_points=2), DistanceSource("Y", Y, min_points=2), max_pairs, random_state
    )
    if why is not None:
        logger.info("shepard_rho undefined (NaN): %s.", why)
    return rho, n_pairs


def _shepard(
    xs: Any,
    ys: Any,
    max_pairs: int,
    random_state: SeedLike,
    collapsed: bool = False,
) -> tuple[float, int, str | None]:
    """Spearman's rho of the (sampled) pair distances at unit scale, and why it is undefined (or None)."""
    from supviz.metrics.ranks import average_ranks, untied_rank_ss
    from supviz.metrics.undefined import COLLAPSED, X_COINCIDE, all_tied, tied_reason

    n = xs.n
    total = n * (n - 1) // 2
    n_used = min(total, max_pairs)
    nan = float("nan")
    if collapsed or ys.coincide:
        return nan, n_used, COLLAPSED
    if xs.coincide:
        return nan, n_used, X_COINCIDE
    if total <= max_pairs:  # every pair: the metrics layer's all-pairs reference (scipy's condensed distances)
        from supviz.metrics.allpairs import shepard_rho_direct

        rho, why = shepard_rho_direct(xs, ys)
        return rho, total, why
    rng = numpy_rng(random_state, name="random_state")
    i = rng.integers(0, n, size=max_pairs)
    j = (i + rng.integers(1, n, size=max_pairs)) % n  # j != i, uniform over the others
    dx = np.linalg.norm(xs.data[i] - xs.data[j], axis=1)
    dy = np.linalg.norm(ys.data[i] - ys.data[j], axis=1)
    for d, src in ((dx, xs), (dy, ys)):
        if all_tied(float(d.min()), float(d.max()), src.tie_rtol):
            return nan, int(dx.size), tied_reason(src.name)
    rx = average_ranks(dx, rtol=xs.tie_rtol)
    rx -= rx.mean()
    ry = average_ranks(dy, rtol=ys.tie_rtol)
    ry -= ry.mean()
    # ties at their expectation over random orders: the untied spread (ranks.spearman_tie_expected)
    rho = 12.0 * float(np.dot(rx, ry)) / untied_rank_ss(dx.size)
    return float(np.clip(rho, -1.0, 1.0)), int(dx.size), None


def measure_distortion(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    active: np.ndarray | None = None,
    k: int = 10,
    max_pairs: int = 200_000,
    chunk_size: int = 512,
    random_state: SeedLike = 0,
    neighbors: str = "exact",
) -> DistortionResult:
    """Neighbourhood and distance distortion of a picture ``Y`` of the points ``X``.

    Parameters
    ----------
    X : array, shape (N, n)
        Reference space (the inputs ``x``).
    Y : array, shape (N, d), or a :class:`~supviz.dr.Layout`
        The picture: a 2-D layout, or a code space such as ``h``. A ``Layout`` brings its
        method's verdict on collapse (``info["collapsed"]``), as for :func:`supviz.metrics.layout_metrics`.
    active : bool array, shape (N, n_features), optional
        Active input features per point; when given, false neighbours of ``Y`` are counted.
    k : int, default 10
        Neighbourhood size, ``1 <= k <= N - 2``.
    max_pairs : int, default 200,000
        Pairs behind the Shepard correlation (all pairs up to this many, else a random subset).
    chunk_size : int, default 512
        Rows per block of the false-neighbour k-NN search (``chunk_size * N`` floats at a time).
    random_state : seed
        Seed of the pair subset for the Shepard correlation (and of the approximate neighbours).
    neighbors : {"exact", "approximate"}, default "exact"
        k-NN recall, trustworthiness and continuity exact (blocked, ``O(N^2)`` time, bounded memory)
        or from neighbour lists and sampled ranks (:mod:`supviz.metrics.approximate`).

    Returns
    -------
    DistortionResult
        Every measure NaN with its reason in ``reasons`` where undefined (module docstring): all
        of them for a picture whose points coincide; the neighbourhood measures and the Shepard
        correlation where a space's distances all tie; stress-1 and Shepard when the points of
        ``X`` coincide.

    Notes
    -----
    Memory stays bounded for any N (row blocks, ``chunk_size x N`` floats, ``max_pairs`` pairs):
    ``docs/benchmarks.md`` has the peak RSS at 20,000 points.
    """
    from supviz.metrics.distances import DistanceSource, layout_source
    from supviz.metrics.neighbors import neighbourhood_scores
    from supviz.metrics.stress import stress1_ratio_and_reason

    ys, collapsed = layout_source("Y", Y)
    X, _, k = _check_pair(X, ys.data, k)
    n = X.shape[0]
    chunk_size = check_int("chunk_size", chunk_size, min_value=1)
    xs = DistanceSource("X", X)
    want = ("trustworthiness", "continuity", "knn_recall")
    if check_choice("neighbors", neighbors, ("exact", "approximate")) == "exact":
        scores = neighbourhood_scores(xs, ys, k=k, want=want, collapsed=collapsed)
    else:
        from supviz.metrics.approximate import approximate_neighbourhood_scores

        scores = approximate_neighbourhood_scores(
            xs, ys, k=k, want=want, collapsed=collapsed, random_state=random_state
        )
    reasons = {
        name: scores.reasons[name] for name in ("knn_recall", "trustworthiness", "continuity") if name in scores.reasons
    }
    stress, stress_why = stress1_ratio_and_reason(xs, ys, collapsed)
    if stress_why is not None:
        reasons["stress1_ratio"] = stress_why
    rho, n_pairs, rho_why = _shepard(xs, ys, max_pairs, random_state, collapsed)
    if rho_why is not None:
        reasons["shepard_rho"] = rho_why
    false = None
    if active is not None:
        active = np.asarray(active, dtype=bool)
        if active.ndim != 2 or active.shape[0] != n:
            raise SupvizError(f"`active` must be a bool array with {n} rows; got shape {active.shape}.")
        false = _false_edges(ys, active, k, chunk_size, collapsed)
        if false.reason is not None:
            reasons["false_neighbour_rate"] = false.reason
            reasons["false_neighbour_pairs"] = false.reason
    return DistortionResult(
        knn_recall=float(scores.knn_recall),
        trustworthiness=float(scores.trustworthiness),
        continuity=float(scores.continuity),
        stress1_ratio=float(stress),
        shepard_rho=rho,
        false=false,
        k=k,
        n_pairs=n_pairs,
        reasons=reasons,
    )
