"""SMACOF multidimensional scaling (majorisation with the Guttman transform), batched.

Semantics follow R smacof's ``mds()`` (de Leeuw & Mair 2009; Mair, Groenen & de Leeuw 2022), the
tool the study used:

- disparities start as the dissimilarities normalised to ``sum_{i<j} w dhat^2 = N(N-1)/2``;
- the start configuration (Torgerson by default) is first scaled optimally to the disparities;
- each iteration is one Guttman transform ``Y = V^+ B(X) X`` followed by the optimal-scaling step
  of the chosen type (ratio: none; interval: ``a + b * (delta - min delta)`` refitted by weighted
  least squares, unconstrained as in R's ``transform()``; ordinal: isotonic with primary ties) and
  the renormalisation of the disparities;
- the loss is the normalised raw stress ``sigma = sum_{i<j} w (dhat - d)^2 / (N(N-1)/2)``; the loop
  stops when ``sigma_old - sigma_new < eps`` or after ``max_iter`` iterations, and the reported
  stress-1 is ``sqrt(sigma)``, as smacof reports it.

Batching: a batch of B dissimilarity matrices of the same size (and, stacked into the same axis,
every restart) is reduced in one call, by one of two engines that give the same result:

- ``engine="torch"`` (``_smacof_torch.py``): the batch is one tensor ``[B * n_init, N, N]``
  iterated in PyTorch, on CPU or CUDA. Items that have converged leave the working set of active
  items, so they stop changing while the others go on; each item's result is identical to
  running it alone.
- ``engine="numba"`` (the default on the CPU for ratio and interval): the same loop compiled per
  item (``_smacof_numba.py``); on 60-point panels a tensor library spends most of its time in
  per-operation overhead, which this avoids.

Degenerate inputs, handled on purpose (each is recorded in ``SmacofResult.notes`` and logged):

- all dissimilarities zero (every point identical, e.g. a panel of dropped features that all sit
  at the origin): the embedding is all zeros and the stress is 0; nothing is iterated.
- all (non-zero) dissimilarities equal with ``interval`` or ``ordinal``: the transformation is
  undefined (interval: the slope cannot be told from the intercept, and R's normal equations are
  singular, which stops ``mds()`` with an error; ordinal: one tie block makes any disparities
  fit), so the item is fitted as ``ratio``, which is what a constant disparity is.
- N = 2: the exact answer (distance = disparity, stress 0) falls out of the first iteration.
- duplicate / zero-norm points (coincident points: equal rows of ``delta``, and of the weights
  outside their group; points within 1e-12 of the item's spread of one another are first made exactly
  equal, with a note, as every layout entry point does, and a zero pair that is not one point is
  refused: :mod:`supviz.core.geometry`): they are one point to the optimisation, in every engine and type. They
  start at one spot (their mean), zero distances are skipped in ``B(X)`` (the usual ``0/0 := 0``
  convention), and every Guttman transform gives each group its first member's coordinates, so
  they stay on one spot bit for bit whatever a product rounds. (Exact arithmetic keeps them
  together anyway; rounding need not: a BLAS product may round two equal rows differently, and
  an ordinal fit then split such a pair into two spots 0.02 apart. The numba engine's pair sweep
  is symmetric in them, the torch engine's products are not.)
- equal dissimilarities make the Torgerson start arbitrary (one eigenvalue of multiplicity N - 1),
  and a single start can stop in a local minimum (N = 4: stress 0.259 instead of the square's
  0.169). R has the same issue. Use ``n_init > 1`` there.
- missing pairs (weight 0) take the mean observed dissimilarity for the Torgerson start only.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from supviz.core.geometry import snap_coincident, snapped_note
from supviz.core.seeding import SeedLike, as_seed_sequence, child, numpy_rng
from supviz.core.validation import check_array, check_choice, check_float, check_int, unit_scaled
from supviz.dr import _transforms
from supviz.dr.base import check_delta, check_distinct_start, check_start
from supviz.dr.classical import coincident_representatives, merge_coincident, torgerson
from supviz.errors import SupvizError
from supviz.runtime.codecs import cacheable

logger = logging.getLogger(__name__)

__all__ = ["ShepardData", "SmacofResult", "smacof", "smacof_points", "layout_stress"]

MetricType = Literal["ratio", "interval", "ordinal"]
_METRIC_TYPES = ("ratio", "interval", "ordinal")
_INITS = ("torgerson", "random")
# Relative tolerances for accepting float noise in an otherwise valid dissimilarity matrix.
_SYM_RTOL = 1e-9


@cacheable
@dataclass(frozen=True)
class ShepardData:
    """The three numbers per pair (i < j) behind a Shepard diagram, as 1-D arrays of equal length.

    Pairs with weight 0 (missing) are left out; the order is that of ``numpy.triu_indices(N, 1)``.
    """

    dissimilarity: np.ndarray
    disparity: np.ndarray
    distance: np.ndarray


@cacheable
@dataclass
class SmacofResult:
    """What :func:`smacof` fitted. Leading axis ``[B]`` only when the input was a batch.

    Attributes
    ----------
    embedding : ndarray [..., N, k], float64
        Configuration of the best restart, on the scale of the normalised disparities.
    stress : ndarray [...] (a numpy scalar when unbatched)
        Stress-1 as R smacof reports it (de Leeuw & Mair 2009): ``sqrt(sum_{i<j} w (dhat - d)^2 /
        (N(N-1)/2))`` with the disparities ``dhat`` of ``metric_type``, normalised to
        ``sum_{i<j} w dhat^2 = N(N-1)/2``. A :class:`~supviz.dr.Layout` calls it
        ``info["smacof_stress"]``; it is not :func:`supviz.metrics.stress1_ratio` unless
        ``metric_type == "ratio"`` (see :func:`layout_stress`).
    disparities : ndarray [..., N, N]
        Fitted disparities, normalised to ``sum_{i<j} w dhat^2 = N(N-1)/2``; zero diagonal.
    n_iter : ndarray [...] of int
        Guttman iterations run by the best restart.
    converged : ndarray [...] of bool
        Whether the stress decrease fell below ``eps`` before ``max_iter``.
    stress_history : list of ndarray
        One array per batch item (one in all when unbatched): stress-1 after the initial scaling,
        then after every iteration (length ``n_iter + 1``).
    metric_type : str
        The requested transformation type.
    dissimilarities : ndarray [..., N, N]
        The validated input (symmetrised, zero diagonal).
    weights : ndarray [..., N, N] or None
        The validated weights (None when all pairs weigh 1).
    restart_stress : ndarray [..., n_init]
        Stress-1 of every restart; the best one is returned.
    notes : list of str
        Degenerate cases met and what was done about them (also logged at WARNING).
    params : dict
        Effective parameters (``n_components``, ``n_init``, ``max_iter``, ``eps``, ``init``,
        ``device``, and ``engine``: the one that ran, after "auto" was resolved).
    """

    embedding: np.ndarray
    stress: Any
    disparities: np.ndarray
    n_iter: Any
    converged: Any
    stress_history: list[np.ndarray]
    metric_type: str
    dissimilarities: np.ndarray
    weights: np.ndarray | None
    restart_stress: np.ndarray
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def batched(self) -> bool:
        """True when the input was a batch ``[B, N, N]``."""
        return self.dissimilarities.ndim == 3

    def __repr__(self) -> str:
        # One line: the arrays (N x N disparities, histories) are summarised, never printed.
        n, k = self.embedding.shape[-2:]
        stress, iters, conv = (np.atleast_1d(np.asarray(a)) for a in (self.stress, self.n_iter, self.converged))
        if self.batched:
            ok = stress[np.isfinite(stress)]
            st = f"stress {ok.min():.4g}-{ok.max():.4g}" if ok.size else "stress nan"
            fit = (
                f"batch of {stress.size}, {st}, n_iter {iters.min()}-{iters.max()}, "
                f"{int(conv.sum())}/{conv.size} converged"
            )
        else:
            fit = f"stress={float(stress[0]):.4g}, n_iter={int(iters[0])}, converged={bool(conv[0])}"
        notes = f", {len(self.notes)} note{'s' if len(self.notes) != 1 else ''}" if self.notes else ""
        return f"SmacofResult({self.metric_type}, N={n}, k={k}, {fit}, engine={self.params.get('engine')!r}{notes})"

    def shepard(self, index: int | None = None) -> ShepardData:
        """Shepard-diagram data of one item (``index`` is required for a batched result).

        Parameters
        ----------
        index : int, optional
            Batch item, ``0 <= index < B``. Must be None (or 0) for an unbatched result.
        """
        if self.batched:
            if index is None:
                raise SupvizError("`index` must be given for a batched SmacofResult; got None.")
            idx = check_int("index", index, min_value=0, max_value=self.dissimilarities.shape[0] - 1)
            delta, dhat, emb = self.dissimilarities[idx], self.disparities[idx], self.embedding[idx]
            w = None if self.weights is None else self.weights[idx]
        else:
            if index not in (None, 0):
                raise SupvizError(f"`index` must be None or 0 for an unbatched SmacofResult; got {index!r}.")
            delta, dhat, emb, w = self.dissimilarities, self.disparities, self.embedding, self.weights
        n = delta.shape[0]
        iu, ju = np.triu_indices(n, k=1)
        keep = np.ones(iu.size, dtype=bool) if w is None else w[iu, ju] > 0
        dist = np.sqrt(((emb[iu] - emb[ju]) ** 2).sum(axis=1))
        return ShepardData(delta[iu, ju][keep], dhat[iu, ju][keep], dist[keep])


# ----------------------------------------------------------------------------------------------
# Validation


def _check_weights(weights: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Validate weights against the batch ``shape`` [B, N, N]; return them broadcast, zero diagonal.

    The diagonal of ``weights`` is ignored (a matrix of ones is fine).
    """
    w = check_array("weights", weights, ndim=(2, 3))
    if w.shape[-2:] != shape[-2:] or (w.ndim == 3 and w.shape[0] != shape[0]):
        raise SupvizError(f"`weights` must have the shape of `delta` {shape[-2:]} or {shape}; got {w.shape}.")
    if w.min() < 0:
        raise SupvizError(f"`weights` must be non-negative; got minimum {float(w.min()):.6g}.")
    asym = float(np.abs(w - np.swapaxes(w, -1, -2)).max())
    if asym > _SYM_RTOL * max(1.0, float(w.max())):
        raise SupvizError(f"`weights` must be symmetric; got max |weights - weights.T| = {asym:.6g}.")
    w = np.array(np.broadcast_to(0.5 * (w + np.swapaxes(w, -1, -2)), shape))
    idx = np.arange(shape[-1])
    w[:, idx, idx] = 0.0
    if (w.sum(axis=(1, 2)) <= 0).any():
        raise SupvizError("`weights` must have a positive entry off the diagonal for every matrix; got all zeros.")
    return w


class _CpuDevice:
    """The CPU, named without importing torch (the numba engine never needs it)."""

    type = "cpu"

    def __str__(self) -> str:
        return "cpu"


def _resolve_device(device: Any) -> Any:
    """A ``torch.device`` (or a stand-in for plain "cpu", so that torch is only imported when used)."""
    if isinstance(device, str) and device == "cpu":
        return _CpuDevice()
    from supviz.core.validation import check_device

    return check_device(device)


# ----------------------------------------------------------------------------------------------
# Public API


def smacof(
    delta: Any,
    *,
    n_components: int = 2,
    metric_type: MetricType = "ratio",
    weights: Any = None,
    init: Any = "torgerson",
    n_init: int = 1,
    max_iter: int = 1000,
    eps: float = 1e-6,
    random_state: SeedLike = None,
    device: Any = "cpu",
    engine: Literal["auto", "numba", "torch"] = "auto",
) -> SmacofResult:
    """SMACOF MDS of one dissimilarity matrix or a batch of them (R smacof ``mds()`` semantics).

    Parameters
    ----------
    delta : array of shape (N, N) or (B, N, N)
        Symmetric, non-negative dissimilarities with a zero diagonal, N >= 2. A batch is reduced
        in one vectorised call; every item must have the same N.
    n_components : int, default 2
        Output dimension k. Unlike R (which stops for k > N - 1), any k >= 1 is accepted; columns
        beyond the rank of the Torgerson start stay zero unless a random start fills them.
    metric_type : {"ratio", "interval", "ordinal"}, default "ratio"
        Transformation of the dissimilarities into disparities (see module docstring).
    weights : array of shape (N, N) or (B, N, N), optional
        Non-negative symmetric pair weights; 0 marks a missing dissimilarity. Default: all 1.
    init : {"torgerson", "random"} or array of shape (N, k) or (B, N, k), default "torgerson"
        Start of restart 0. Further restarts (``n_init > 1``) start from uniform random
        configurations, as do all restarts with ``init="random"``. A configuration whose rows all
        coincide (up to rounding, :func:`~supviz.dr.base.check_start`) is refused. Any scale: it is divided by
        a power of two to unit scale first (SMACOF scales its start optimally, so the fit does not change).
    n_init : int, default 1
        Number of restarts per item; the one with the lowest stress is returned.
    max_iter : int, default 1000
        Maximum number of Guttman iterations per restart.
    eps : float, default 1e-6
        Stop when the decrease of the normalised raw stress (stress-1 squared) is below ``eps``.
    random_state : int, numpy Generator, SeedSequence or None
        Restart ``r`` of batch item ``b`` draws its random start from
        ``supviz.core.seeding.child(random_state, b, r)`` (an unbatched input is item 0), so results
        do not depend on what else is in the batch.
    device : str or torch.device, default "cpu"
        Where to iterate ("cpu", "cuda", ...). Results come back as float64 numpy arrays.
    engine : {"auto", "numba", "torch"}, default "auto"
        "torch": the batch iterated as tensors [B * n_init, N, N] with an active mask (any device,
        any type). "numba": a compiled CPU loop per item (ratio and interval only), much faster on
        small matrices where a tensor library's per-operation overhead dominates. "auto" picks
        numba on the CPU for ratio/interval and torch otherwise. Both give the same result.

    Returns
    -------
    SmacofResult

    Raises
    ------
    SupvizError
        On NaN/inf, non-square, asymmetric or negative input, fewer than 2 points, bad weights,
        a bad ``init`` array or any out-of-range parameter.

    Examples
    --------
    >>> import numpy as np
    >>> res = smacof(np.ones((3, 3)) - np.eye(3))
    >>> bool(res.stress < 1e-6)
    True
    """
    arr = check_delta(delta, min_points=2)
    batched = arr.ndim == 3
    arr3 = arr if batched else arr[None]
    n_batch, n, _ = arr3.shape
    k = check_int("n_components", n_components, min_value=1)
    metric_type = check_choice("metric_type", metric_type, _METRIC_TYPES)
    n_init = check_int("n_init", n_init, min_value=1)
    max_iter = check_int("max_iter", max_iter, min_value=1)
    eps = check_float("eps", eps, min_value=0.0)
    dev = _resolve_device(device)
    engine = check_choice("engine", engine, ("auto", "numba", "torch"))
    if engine == "numba" and (dev.type != "cpu" or metric_type == "ordinal"):
        raise SupvizError(
            f"`engine` must be 'torch' or 'auto' for device {str(dev)!r} and metric_type {metric_type!r}; got 'numba'."
        )
    if engine == "auto":
        compiled_ok = dev.type == "cpu" and metric_type != "ordinal" and _numba_available()
        engine = "numba" if compiled_ok else "torch"
    w3 = None if weights is None else _check_weights(weights, arr3.shape)
    init_arr = _check_init(init, n_batch, n, k, batched)
    seed = as_seed_sequence(random_state, name="random_state")
    # SMACOF is scale-invariant (disparities are normalised, starts scaled optimally), so each item
    # is divided by a power of two first: 1e300 would overflow in the squares of the Torgerson
    # start, 1e-300 underflow to "all zero". The output does not change.
    arr3 = np.stack([unit_scaled(a)[0] for a in arr3])
    notes: list[str] = []
    where = (lambda b: f"item {b}: ") if batched else (lambda b: "")

    # Points that coincide up to rounding (an observed pair within 1e-12 of the item's spread, as every layout
    # entry point rules: supviz.core.geometry; a zero pair that is not one point is refused) become exactly
    # coincident, so that the merge below holds them on one spot; an interval fit pushed a pair 1e-13 apart ~1% apart.
    for b in range(n_batch):
        arr3[b], moved = snap_coincident(
            arr3[b], precomputed=True, observed=None if w3 is None else w3[b] > 0, name="delta"
        )
        if moved:
            notes.append(where(b) + snapped_note(moved, precomputed=True))

    # Degenerate items, decided before any iteration.
    w_eff = w3 if w3 is not None else np.broadcast_to(1.0 - np.eye(n), arr3.shape)
    observed = np.where(w_eff > 0, arr3, np.nan)
    hi = np.nanmax(observed, axis=(1, 2))
    lo = np.nanmin(np.where(np.eye(n, dtype=bool), np.nan, observed), axis=(1, 2))
    all_zero = hi <= 0
    all_tied = (~all_zero) & (hi - lo <= 1e-12 * hi)
    fixed = np.full(n_batch, metric_type == "ratio") | all_tied
    for b in np.flatnonzero(all_zero):
        notes.append(
            f"{where(b)}all dissimilarities are 0 (every point identical): nothing to fit; embedding set to zeros, "
            "stress-1 undefined (NaN)."
        )
    if metric_type != "ratio":
        for b in np.flatnonzero(all_tied):
            notes.append(
                f"{where(b)}all dissimilarities are equal, so the {metric_type} transformation is undefined; fitted as "
                "ratio."
            )
    for note in notes:
        logger.warning("smacof: %s", note)

    # Starts: [B, R, N, k]. Restart 0 is Torgerson or the given array; the rest are random.
    starts = np.empty((n_batch, n_init, n, k))
    first_random = init == "random" if isinstance(init, str) else False
    if not first_random:
        if init_arr is not None:
            starts[:, 0] = init_arr
        else:
            # Missing pairs (weight 0) borrow the mean observed dissimilarity for the start only.
            filled = arr3 if w3 is None else np.where(w_eff > 0, arr3, np.nanmean(observed, axis=(1, 2))[:, None, None])
            idx = np.arange(n)
            filled = filled.copy()
            filled[:, idx, idx] = 0.0
            starts[:, 0] = torgerson(filled, k)
    for b in range(n_batch):
        for r in range(0 if first_random else 1, n_init):
            starts[b, r] = numpy_rng(child(seed, b, r)).uniform(size=(n, k))
    # Coincident points (identical rows of delta, and of the weights outside their group) are one
    # point: they start at one spot (eigenvector rounding would leave them 1e-17 apart, and an
    # interval fit's negative disparity push them apart), and the engines give each group its first
    # member's coordinates after every Guttman transform (module docstring).
    reps = np.stack([coincident_representatives(arr3[b], None if w3 is None else w3[b]) for b in range(n_batch)])
    has_groups = bool((reps != np.arange(n)).any())
    if init_arr is None and has_groups:
        for b in range(n_batch):
            starts[b] = merge_coincident(arr3[b], starts[b], None if w3 is None else w3[b])
    elif has_groups and not first_random:
        # a given start moves only through its groups' first rows: refuse it where those coincide, as every layout
        # engine does (supviz.dr._coincident)
        for b in range(n_batch):
            check_distinct_start(starts[b, 0][np.unique(reps[b])], method="SMACOF", n=n)

    run = np.flatnonzero(~all_zero)
    emb = np.zeros((n_batch, n_init, n, k))
    dhat = np.zeros((n_batch, n_init, n, n))
    sig = np.zeros((n_batch, n_init))
    iters = np.zeros((n_batch, n_init), dtype=np.int64)
    conv = np.ones((n_batch, n_init), dtype=bool)
    hist: list[list[np.ndarray]] = [[np.zeros(1) for _ in range(n_init)] for _ in range(n_batch)]
    if run.size:
        flat = lambda a: np.repeat(a[run], n_init, axis=0)  # noqa: E731  [B', ...] -> [B' * R, ...]
        if engine == "torch":
            from supviz.dr._smacof_torch import run_batch as runner
        else:
            runner = _run_batch_numba
        with _single_threaded_if_small(engine, dev, run.size * n_init * n * n):
            out = runner(
                delta=flat(arr3),
                weights=None if w3 is None else flat(w3),
                x0=starts[run].reshape(run.size * n_init, n, k),
                fixed=flat(fixed),
                metric_type=metric_type,
                max_iter=max_iter,
                eps=eps,
                device=dev,
                representatives=flat(reps) if has_groups else None,
            )
        shape = (run.size, n_init)
        emb[run] = out["embedding"].reshape(shape + (n, k))
        dhat[run] = out["disparities"].reshape(shape + (n, n))
        sig[run] = out["sigma"].reshape(shape)
        iters[run] = out["n_iter"].reshape(shape)
        conv[run] = out["converged"].reshape(shape)
        for j, b in enumerate(run):
            for r in range(n_init):
                hist[b][r] = np.sqrt(out["history"][j * n_init + r])

    restart_stress = np.sqrt(sig)
    restart_stress[all_zero] = np.nan  # nothing to fit: stress-1 is 0 / 0
    for b in np.flatnonzero(all_zero):
        hist[b] = [np.full(1, np.nan) for _ in range(n_init)]
    best = restart_stress.argmin(axis=1)
    pick = lambda a: a[np.arange(n_batch), best]  # noqa: E731
    unb = (lambda a: a) if batched else (lambda a: a[0])
    return SmacofResult(
        embedding=unb(pick(emb)),
        stress=unb(pick(restart_stress)),
        disparities=unb(pick(dhat)),
        n_iter=unb(pick(iters)),
        converged=unb(pick(conv)),
        stress_history=[hist[b][best[b]] for b in range(n_batch)],
        metric_type=metric_type,
        dissimilarities=arr,
        weights=None if w3 is None else unb(w3),
        restart_stress=unb(restart_stress),
        notes=notes,
        params={
            "n_components": k,
            "n_init": n_init,
            "max_iter": max_iter,
            "eps": eps,
            "init": init if isinstance(init, str) else "array",
            "device": str(dev),
            "engine": engine,
        },
    )


def smacof_points(X: Any, **kwargs: Any) -> SmacofResult:
    """:func:`smacof` of the Euclidean distances between the rows of ``X``.

    Parameters
    ----------
    X : array of shape (N, d) or (B, N, d)
        Points (one set, or a batch of same-size sets).
    **kwargs
        Passed to :func:`smacof`.
    """
    from scipy.spatial.distance import cdist

    pts = check_array("X", X, ndim=(2, 3))
    if pts.shape[-2] < 2:
        raise SupvizError(f"`X` must hold at least 2 points; got {pts.shape[-2]}.")
    pts3 = pts if pts.ndim == 3 else pts[None]
    # At unit scale (SMACOF is scale-invariant): 1e300 would overflow in the distances.
    dist = np.stack([cdist(q, q) for q in (unit_scaled(p)[0] for p in pts3)])
    return smacof(dist if pts.ndim == 3 else dist[0], **kwargs)


def layout_stress(
    delta: Any,
    embedding: Any,
    *,
    metric_type: MetricType = "ratio",
    weights: Any = None,
) -> float | np.ndarray:
    """Stress-1 of a given layout after optimal scaling (the smallest stress any rescaling of it gets).

    The disparities are fitted to the layout's distances with the chosen transformation and
    normalised as in :func:`smacof`; then the layout is scaled optimally, so the value does not
    depend on the layout's size: ``sqrt(1 - <dhat, d>^2 / (|dhat|^2 |d|^2))`` over the pairs
    (Kruskal 1964's stress formula 1 at the optimal scale). For a converged SMACOF result of the
    same ``metric_type`` it matches ``result.stress`` (to within the stopping tolerance, never
    above it); for a layout from another program (scikit-learn's MDS, UMAP, ...) it scores it on
    the same scale. With ``metric_type="ratio"`` it is :func:`supviz.metrics.stress1_ratio`, the
    ``"stress1_ratio"`` of :func:`~supviz.metrics.layout_metrics`; for one layout, interval <=
    ratio and ordinal <= ratio, since a ratio fit is also an interval and an ordinal fit.

    Parameters
    ----------
    delta : array (N, N) or (B, N, N)
    embedding : array (N, k) or (B, N, k)
    metric_type : {"ratio", "interval", "ordinal"}
    weights : array like ``delta``, optional
    """
    import torch

    arr = check_delta(delta, min_points=2)
    emb = check_array("embedding", embedding, ndim=arr.ndim)
    if emb.shape[:-1] != arr.shape[:-1]:
        raise SupvizError(f"`embedding` must have shape {arr.shape[:-1]} + (k,); got {emb.shape}.")
    metric_type = check_choice("metric_type", metric_type, _METRIC_TYPES)
    arr3, emb3 = (arr, emb) if arr.ndim == 3 else (arr[None], emb[None])
    # Both sides are scale-free here (disparities normalised, the layout scaled optimally): at unit
    # scale nothing overflows at 1e300 or underflows at 1e-300.
    arr3 = np.stack([unit_scaled(a)[0] for a in arr3])
    emb3 = np.stack([unit_scaled(e)[0] for e in emb3])
    n = arr3.shape[1]
    w3 = (
        _check_weights(weights, arr3.shape)
        if weights is not None
        else np.array(np.broadcast_to(1.0 - np.eye(n), arr3.shape))
    )
    d_t, w_t = torch.from_numpy(np.ascontiguousarray(arr3)), torch.from_numpy(np.ascontiguousarray(w3))
    e_t = torch.cdist(torch.from_numpy(emb3), torch.from_numpy(emb3), compute_mode="donot_use_mm_for_euclid_dist")
    n_pairs = n * (n - 1) / 2
    dhat = _transforms.fit_disparities(metric_type, d_t, _transforms.shift_to_min(d_t, w_t), e_t, w_t, n_pairs)
    # Optimal scale s of the distances: stress^2 = 1 - <dhat, d>^2 / (|dhat|^2 |d|^2).
    dd = (w_t * e_t * e_t).sum(dim=(1, 2))
    hd = (w_t * dhat * e_t).sum(dim=(1, 2))
    hh = (w_t * dhat * dhat).sum(dim=(1, 2))
    ok = (dd > 0) & (hh > 0)
    cos2 = torch.where(ok, hd * hd / torch.where(ok, dd * hh, torch.ones_like(dd)), torch.ones_like(dd))
    out = torch.sqrt(torch.clamp(1.0 - cos2, min=0.0)).numpy()
    return out if arr.ndim == 3 else float(out[0])


# ----------------------------------------------------------------------------------------------
# Internals


def _numba_available() -> bool:
    """numba comes with umap-learn; without it, "auto" quietly uses the torch engine."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def _single_threaded_if_small(engine: str, dev: Any, n_elements: int) -> Any:
    """Run the torch engine on the CPU with one OpenMP and one BLAS thread when its tensors are small.

    Below about a million elements per [M, N, N] tensor an operation is too short to share
    between threads, and on shared cores the waiting threads cost more than they save (measured:
    5-20x slower with two threads on a busy 2-core machine). The limit is set through
    threadpoolctl for the duration of the call and restored afterwards; it covers the BLAS that
    serves the products (:mod:`supviz.runtime.products`) too.
    """
    if engine != "torch" or dev.type != "cpu" or n_elements >= 1 << 20:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _check_init(init: Any, n_batch: int, n: int, k: int, batched: bool) -> np.ndarray | None:
    if isinstance(init, str):
        check_choice("init", init, _INITS)
        return None
    arr = check_array("init", init, ndim=(2, 3))
    want = (n_batch, n, k) if batched else (n, k)
    if arr.ndim == 2 and batched:
        arr = np.broadcast_to(arr, (n_batch, n, k)) if arr.shape == (n, k) else arr
    if arr.shape != want and arr.shape != (n_batch, n, k):
        raise SupvizError(f"`init` must be 'torgerson', 'random' or an array of shape {want}; got shape {arr.shape}.")
    arr3 = np.broadcast_to(arr, (n_batch, n, k))
    for b in range(n_batch):
        check_start(arr3[b], method="SMACOF", item=f" of configuration {b}" if batched else "")
    # Each start is brought to unit scale by a power of two, as the dissimilarities are: SMACOF is scale-equivariant
    # in its start (the first step scales it optimally), and a start at 1e-300 or 1e160 would under- or overflow in
    # that step's sums of squared distances and collapse to one spot with stress 0. Exact: an ordinary start gives
    # the same bits.
    return np.stack([unit_scaled(np.array(a, dtype=np.float64))[0] for a in arr3])


def _run_batch_numba(
    *,
    delta: np.ndarray,
    weights: np.ndarray | None,
    x0: np.ndarray,
    fixed: np.ndarray,
    metric_type: str,
    max_iter: int,
    eps: float,
    device: Any,
    representatives: np.ndarray | None = None,
) -> dict[str, Any]:
    """The torch engine's ``run_batch`` on the compiled CPU engine, same inputs and outputs.

    Ratio and interval only. ``fixed`` needs no special case here: an all-tied interval item fits
    a constant, which is the ratio answer.
    """
    from scipy.spatial.distance import cdist

    from supviz.dr import _smacof_numba

    m, n, k = x0.shape
    n_pairs = n * (n - 1) / 2
    off = 1.0 - np.eye(n)
    w = off[None] if weights is None else weights * off  # (M or 1, N, N)
    # Normalised disparities and the optimally scaled start, as in the torch engine.
    ss = 0.5 * (w * delta * delta).sum(axis=(1, 2))
    dhat = delta * np.sqrt(n_pairs / np.where(ss > 0, ss, 1.0))[:, None, None]
    dist0 = np.stack([cdist(x, x) for x in x0])
    num, den = (w * dist0 * dhat).sum(axis=(1, 2)), (w * dist0 * dist0).sum(axis=(1, 2))
    x = x0 * np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)[:, None, None]
    dummy = np.zeros((m, 1, 1))
    vplus = dummy
    if weights is not None:
        v = np.eye(n)[None] * w.sum(axis=2)[:, :, None] - w  # (M, N, N)
        try:
            vplus = np.linalg.inv(v + 1.0 / n) - 1.0 / n
        except np.linalg.LinAlgError:
            raise SupvizError(
                "`weights` must connect all points (the weighted graph is disconnected); got a singular V."
            ) from None
        if not np.isfinite(vplus).all() or np.abs(vplus).max() > 1e12:
            raise SupvizError(
                "`weights` must connect all points (the weighted graph is disconnected); got a singular V."
            )
    shifted, moments = dummy, np.zeros((m, 3))
    interval = metric_type == "interval"
    if interval:
        w_full = np.broadcast_to(w, delta.shape)
        lo = np.where(w_full > 0, delta, np.inf).min(axis=(1, 2))
        shifted = np.clip(delta - lo[:, None, None], 0.0, None) * off
        moments = np.stack(
            [
                w_full.sum(axis=(1, 2)),
                (w_full * shifted).sum(axis=(1, 2)),
                (w_full * shifted * shifted).sum(axis=(1, 2)),
            ],
            axis=1,
        )
    w_arg = dummy if weights is None else np.ascontiguousarray(w)
    reps = (
        np.zeros((m, 1), dtype=np.int64) if representatives is None else np.ascontiguousarray(representatives, np.int64)
    )
    # Every array the kernel touches is allocated here (numba then compiles no allocator).
    x_out = np.array(x, dtype=np.float64, order="C")
    dhat_out = np.array(dhat, dtype=np.float64, order="C")
    sigma, n_iter = np.zeros(m), np.zeros(m, dtype=np.int64)
    converged, hist = np.zeros(m, dtype=np.bool_), np.zeros((m, max_iter + 1))
    _smacof_numba.run_batch(
        x_out,
        dhat_out,
        w_arg,
        weights is not None,
        np.ascontiguousarray(vplus),
        np.ascontiguousarray(shifted),
        np.ascontiguousarray(moments),
        interval,
        max_iter,
        float(eps),
        sigma,
        n_iter,
        converged,
        hist,
        np.zeros((5, n, k)),
        reps,
        representatives is not None,
    )
    return {
        "embedding": x_out,
        "disparities": dhat_out,
        "sigma": sigma,
        "n_iter": n_iter,
        "converged": converged,
        "history": [hist[j, : n_iter[j] + 1] for j in range(m)],
    }
