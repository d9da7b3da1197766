"""UMAP layouts through umap-learn, with the rules the study needed written down.

Rules (each clamp or fallback is recorded in ``Layout.notes`` and logged at INFO):

- **At least 3 points.** umap-learn needs ``n_neighbors >= 2``, and the neighbour count includes
  the point itself, so N >= 3.
- **n_neighbors <= N - 1.** The study (figures B3, C5) used ``n_neighbors = min(15, N - 1)``.
  With ``clamp=True`` (default) a larger value is clamped to ``N - 1``; with ``clamp=False`` it is a
  :class:`~supviz.errors.SupvizError`. (umap-learn would itself truncate with a warning.)
- **Initialisation that works for tiny N.** umap-learn's spectral initialisation crashes for
  N <= n_components + 1 (scipy's ``eigsh`` needs k < N) and is fragile below about 10 points (no
  eigengap; ``diag(N)``'s graph is complete, so its Laplacian has one repeated eigenvalue).
  ``init="auto"`` uses spectral for N >= 10 and otherwise the data's principal components,
  computed here (:func:`~supviz.dr.base.pca_init`), so it also works for rank-deficient data.
  ``"spectral"``, whether asked for or resolved from ``"auto"``, falls back to the same PCA start
  for N <= n_components + 1 (the spectral start needs n_components + 1 eigenvectors of an N x N
  Laplacian; scipy's ``eigsh`` raises otherwise). When umap-learn's own eigen-solver fails it
  falls back to a random start and warns; the warning is recorded in the notes and
  ``params["init"]`` says ``"random"``, the start actually used. For precomputed distances
  (``metric="precomputed"``) the PCA start is classical MDS of the distances.
- **Precomputed distances** pass the check every method shares (square, finite, non-negative,
  symmetric, zero diagonal), so umap-learn never sees a matrix it would fail on.
- **Identical points.** When every row of ``X`` is the same point (up to rounding: rows that
  coincide within 1e-12 of the data's spread are made identical first), the layout is all zeros with a
  note (umap-learn would spread them at random: structure that is not there). When only some rows
  coincide, the distinct points are laid out and every copy gets its point's place (umap-learn's
  ``unique=True``, for distances too; ``info["distinct_points"]``, a note): copies left to umap-learn
  fill each other's neighbour lists, form a component of their own and are spread at random.
- **Scale.** UMAP is scale-invariant (bandwidths are calibrated per point), so ``X`` is brought to
  unit scale first; umap-learn's float32 copy would otherwise overflow at 1e300 and turn 1e-300
  into identical points.
- **Offset.** Points far from the origin against their spread (largest coordinate above
  :data:`OFFSET_RATIO` times the largest distance from the centroid) are centred, then brought to unit
  scale again, before umap-learn's float32 copy, for the metrics that do not see a translation (Euclidean
  and the Minkowski family, :data:`TRANSLATION_INVARIANT`), with a note: float32 keeps 24 bits of the
  offset, so ``G + 1e9`` became 45 copies of one point (trustworthiness 0.57 against 0.93). Other inputs
  are passed as they are (the same bits).
- **Metrics undefined for some rows** (cosine of an all-zero row, correlation of a constant row)
  are refused, naming the rows; **unknown keyword arguments** are refused, naming the valid ones.
- **min_dist down to 1e-5** (the study's C4 used 1e-4 in code, 1e-5 in the report): any value in
  ``[0, spread]`` is accepted.
- **Seeds.** ``random_state`` (int, Generator or SeedSequence) becomes one 31-bit int
  (:func:`supviz.core.seeding.int_seed`) for umap-learn. A seed makes umap-learn run its optimisation
  single-threaded, because its parallel epochs are not deterministic; equal seeds then give equal
  layouts. ``random_state=None`` keeps the parallel, non-reproducible path. The spectral start is
  seeded too (:func:`_seeded_eigensolver`): umap-learn calls scipy's ``eigsh`` without its ``rng``, and
  scipy then draws ARPACK's restart vectors from fresh entropy, so where the graph Laplacian has a
  repeated eigenvalue (a component of coincident points is a complete graph: 16 coincident SAE codes
  gave a different picture in every run) the start, and the picture, differed run to run.
- **Small-data distances, compiled.** Below 4,096 points umap-learn calls its numba ``euclidean`` once per
  pair from Python (through scikit-learn); the fit computes the same float32 matrix, bit for bit, in one
  compiled loop instead (:mod:`supviz.dr._umap_distances`, about 22 ms less per 200-point picture).

**Compile cost.** umap-learn's numba kernels are compiled on the first call in a process (about 7 s
on a 2-core machine, after 1.5-11 s of import; see ``docs/bench/layouts.md``), and umap-learn does
not ask numba to cache most of them. :func:`enable_numba_cache` switches numba's on-disk cache on
for them (``NUMBA_CACHE_DIR`` decides where), which cuts the first call in later processes to
about 0.03 s. It runs once before the first layout; set ``SUPVIZ_UMAP_NUMBA_CACHE=0`` to leave
umap-learn untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, int_seed
from supviz.core.validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_keywords,
    fail,
    unit_scaled,
)
from supviz.dr._coincident import find_coincident
from supviz.dr.base import (
    MIN_POINTS,
    Layout,
    add_note,
    add_warning_notes,
    all_identical,
    check_layout_input,
    check_metric_rows,
    check_n_components,
    check_start,
    identical_points_layout,
    note_if_collapsed,
)
from supviz.dr.classical import data_start

logger = logging.getLogger(__name__)

#: ``spread`` when not given: the study's every UMAP picture; ``min_dist`` must lie in ``[0, spread]``.
DEFAULT_SPREAD = 1.0
#: Metrics umap-learn computes that no translation of ``X`` changes: the points may be centred first.
TRANSLATION_INVARIANT = frozenset(
    {"euclidean", "l2", "manhattan", "taxicab", "l1", "chebyshev", "linfinity", "linfty", "linf", "minkowski"}
)
#: Largest coordinate over spread beyond which the points are centred before umap-learn's float32 copy: there
#: the copy keeps fewer than 24 - 8 = 16 bits of the points' differences (a rounding of 2^-16 of their spread).
OFFSET_RATIO = 2.0**8

#: Fewest points for which ``init="auto"`` picks umap-learn's spectral initialisation.
SPECTRAL_MIN_POINTS = 10
#: Arguments of umap_layout itself; the rest of ``**kw`` goes to ``umap.UMAP``.
_OWN = ("n_neighbors", "min_dist", "spread", "n_components", "n_epochs", "init", "metric", "random_state", "clamp")


def _umap_keywords() -> set[str]:
    """``umap.UMAP``'s constructor arguments that ``**kw`` may carry (those not set here by name)."""
    import inspect

    import umap

    # unique: supviz always lays out coincident points once (``_merge_coincident``), for distances too
    taken = {"self", "verbose", "unique", *_OWN}
    return {k for k in inspect.signature(umap.UMAP.__init__).parameters if k not in taken}


_INITS = ("auto", "spectral", "pca", "random")
_cache_state: dict[str, int | None] = {"enabled": None}


def enable_numba_cache() -> int:
    """Turn on numba's on-disk cache for umap-learn's compiled functions (once per process).

    umap-learn declares most of its ``numba.njit`` kernels without ``cache=True`` (and so does
    pynndescent, its nearest-neighbour search from 4,096 points on), so every new process
    recompiles them. This sets caching on each such dispatcher before its first compile,
    which is numba's documented mechanism (files under ``NUMBA_CACHE_DIR``, keyed by source file
    and its modification time, so an upgraded umap-learn recompiles). Disabled by the environment
    variable ``SUPVIZ_UMAP_NUMBA_CACHE=0``.

    Returns
    -------
    int
        How many dispatchers had caching switched on (0 when disabled or already done).
    """
    if _cache_state["enabled"] is not None:
        return 0
    _cache_state["enabled"] = 0
    if os.environ.get("SUPVIZ_UMAP_NUMBA_CACHE", "1") == "0":
        return 0
    try:
        import pynndescent.distances
        import pynndescent.graph_utils
        import pynndescent.pynndescent_
        import pynndescent.rp_trees
        import pynndescent.utils
        import umap.distances
        import umap.layouts
        import umap.spectral
        import umap.umap_
        import umap.utils
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher
    except ImportError as exc:  # pragma: no cover - numba internals moved
        logger.debug("numba cache for umap-learn not enabled: %s", exc)
        return 0
    count = 0
    modules = (
        umap.umap_,
        umap.layouts,
        umap.spectral,
        umap.utils,
        umap.distances,
        # approximate nearest neighbours, used by umap-learn from 4,096 points on
        pynndescent.pynndescent_,
        pynndescent.utils,
        pynndescent.distances,
        pynndescent.rp_trees,
        pynndescent.graph_utils,
    )
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and isinstance(getattr(obj, "_cache", None), NullCache):
                try:
                    obj.enable_caching()
                    count += 1
                except Exception as exc:  # pragma: no cover - a kernel numba cannot cache
                    logger.debug("numba cache not enabled for %s: %s", getattr(obj, "__name__", obj), exc)
    _cache_state["enabled"] = count
    logger.debug("numba on-disk cache enabled for %d umap-learn kernels.", count)
    return count


def _centred_if_far(pts: np.ndarray, notes: list[str]) -> np.ndarray:
    """``pts`` [N, d] (unit scale) centred and brought to unit scale again when their largest coordinate exceeds
    :data:`OFFSET_RATIO` times their spread (largest distance from the centroid), with a note; else ``pts`` itself
    (module docstring, "Offset")."""
    centred = pts - pts.mean(axis=0)
    spread = float(np.sqrt((centred**2).sum(axis=1).max()))
    peak = float(np.abs(pts).max())
    if spread == 0.0 or peak <= OFFSET_RATIO * spread:
        return pts
    add_note(
        notes,
        "umap: X centred before umap-learn's float32 copy (its largest coordinate is %.3g times its spread; the "
        "metric does not see a translation).",
        peak / spread,
    )
    return unit_scaled(centred)[0]


def _float32_start(start: np.ndarray) -> np.ndarray:
    """A start array [N, k] that umap-learn's float32 copy keeps distinct.

    umap-learn casts an ``init`` array to float32 and then maps each column onto [0, 10]
    (``10 (y - min) / (max - min)``), so the start's scale and offset never reach the layout. A start
    float32 cannot hold (beyond its range, 1e300; below its normal range, 1e-300; or rows far from the
    origin, ``+ 1e9``, that float32 makes equal) gets that same map here first, in float64, after an exact
    division by a power of two, and loses only float32's rounding of [0, 10]; any other start is passed
    as it is (the same bits). Break test 6 (F4): such starts gave a raw "Input contains infinity"
    ValueError, or non-finite coordinates blamed on ``X``.
    """
    with np.errstate(over="ignore"):
        copy32 = start.astype(np.float32)
    if np.isfinite(copy32).all() and len(np.unique(copy32, axis=0)) == len(np.unique(start, axis=0)):
        return start
    scaled = unit_scaled(start)[0]
    lo, hi = scaled.min(axis=0), scaled.max(axis=0)
    return 10.0 * (scaled - lo) / np.where(hi > lo, hi - lo, 1.0)


def _resolve_init(
    init: Any,
    X: np.ndarray,
    n_components: int,
    rng: np.random.Generator,
    notes: list[str],
    precomputed: bool = False,
) -> tuple[Any, str]:
    """What to pass to umap-learn as ``init`` and its name for ``params``."""
    n = X.shape[0]
    if not isinstance(init, str):
        arr = check_array("init", init, ndim=2)
        if arr.shape != (n, n_components):
            raise fail("init", f"an array of shape ({n}, {n_components}) or one of {', '.join(_INITS)}", arr.shape)
        return _float32_start(check_start(arr, method="UMAP")), "array"
    init = check_choice("init", init, _INITS)
    asked = init
    if init == "auto":
        init = "spectral" if n >= SPECTRAL_MIN_POINTS else "pca"
        if init == "pca":
            add_note(
                notes,
                "umap init 'auto' -> 'pca': spectral initialisation is unreliable below %d points (N=%d).",
                SPECTRAL_MIN_POINTS,
                n,
            )
    # The guards apply to the resolved value, whether it was asked for or came from "auto".
    if init == "spectral" and n <= n_components + 1:
        add_note(
            notes,
            "umap init '%s' -> 'pca': the spectral start needs N > n_components + 1 (N=%d, n_components=%d).",
            asked,
            n,
            n_components,
        )
        init = "pca"
    if init == "pca":
        # for precomputed distances the scores of classical MDS (PCA's, for Euclidean distances)
        return data_start(X, n_components, rng=rng, max_abs=10.0, precomputed=precomputed), "pca"
    return init, init


_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _fit_patches(seed: int | None) -> Iterator[None]:
    """What one umap-learn fit runs under: :func:`_seeded_eigensolver` and the compiled small-data distances
    (:func:`supviz.dr._umap_distances.fast_small_distances`, the same bits as scikit-learn's). Both rebind a name
    in another library's module, so fits that rebind names run one at a time, under one lock.
    """
    from supviz.dr._umap_distances import fast_small_distances

    with _PATCH_LOCK, fast_small_distances(), _seeded_eigensolver(seed):
        yield


@contextlib.contextmanager
def _seeded_eigensolver(seed: int | None) -> Iterator[None]:
    """For the duration of one umap-learn fit, scipy's ``eigsh`` draws ARPACK's restart vectors from a
    generator seeded by the layout's ``seed`` (``None``: scipy's own fresh entropy, as umap-learn calls it).

    umap-learn (``umap.spectral``) calls ``scipy.sparse.linalg.eigsh`` without ``rng``; on a Laplacian
    with a repeated eigenvalue ARPACK restarts from a random vector, so the spectral start was not a
    function of the seed (nor is scikit-learn's ``SpectralEmbedding``, which umap-learn uses to place many
    components). The name is rebound on ``scipy.sparse.linalg`` (where umap-learn looks it up) and in
    scikit-learn's module, and restored after; an ``rng`` a caller passes wins. The caller holds
    ``_PATCH_LOCK`` (:func:`_fit_patches`).
    """
    if seed is None:
        yield
        return
    import scipy.sparse.linalg as sla
    import sklearn.manifold._spectral_embedding as skse  # umap-learn's layout of many components

    original = sla.eigsh

    def eigsh(*args: Any, rng: Any = None, **kwargs: Any) -> Any:
        return original(*args, rng=np.random.default_rng(seed) if rng is None else rng, **kwargs)

    sla.eigsh = skse.eigsh = eigsh
    try:
        yield
    finally:
        sla.eigsh = skse.eigsh = original


#: umap-learn's warning when its spectral start fails and it starts at random instead.
_SPECTRAL_FALLBACK = "Falling back to random initialisation"


def umap_layout(
    X: Any,
    *,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    spread: float = DEFAULT_SPREAD,
    n_components: int = 2,
    n_epochs: int | None = None,
    init: Any = "auto",
    metric: str = "euclidean",
    random_state: SeedLike = None,
    clamp: bool = True,
    **kw: Any,
) -> Layout:
    """UMAP layout of points ``X`` (umap-learn), with the study's rules (module docstring).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Finite points, N >= 3.
    n_neighbors : int, default 15
        Neighbourhood size including the point itself, >= 2; above ``N - 1`` it is clamped
        (``clamp=True``) or refused.
    min_dist : float, default 0.1
        Minimum distance in the layout, in ``[0, spread]`` (1e-5 is fine).
    spread : float, default 1.0
        Scale of the embedded points, > 0.
    n_components : int, default 2
        Output dimension, ``1 <= n_components <= N - 1``.
    n_epochs : int, optional
        Optimisation epochs (umap-learn's default: 500 below 10,000 points, else 200).
    init : {"auto", "spectral", "pca", "random"} or array of shape (N, n_components)
        Start configuration; ``"auto"`` is spectral for N >= 10, else PCA. An array whose rows all
        coincide is refused (:func:`~supviz.dr.base.check_start`).
    metric : str or callable, default "euclidean"
        Any metric umap-learn accepts; ``"cosine"`` refuses all-zero rows, ``"correlation"``
        constant rows.
    random_state : int, numpy Generator, SeedSequence or None
        Equal seeds give equal layouts (single-threaded); None is parallel and not reproducible.
    clamp : bool, default True
        Clamp ``n_neighbors`` to ``N - 1`` (logged) instead of raising.
    **kw
        Further ``umap.UMAP`` arguments (``negative_sample_rate``, ``repulsion_strength``, ...); any
        other keyword is refused, naming the valid ones.

    Returns
    -------
    Layout
        ``params`` holds the effective ``n_neighbors`` (None for two distinct points, placed by rule),
        ``init`` and the int ``seed``;
        ``info`` the number of epochs and graph edges, whether the run is ``deterministic`` and
        whether the layout is ``collapsed`` (one spot).

    Raises
    ------
    SupvizError
        Non-finite or complex ``X``, N < 3, a parameter out of range, an unknown keyword,
        rows the metric is undefined for.
    """
    notes: list[str] = []
    precomputed = isinstance(metric, str) and metric == "precomputed"
    pts = check_layout_input(X, method="UMAP", min_points=MIN_POINTS["UMAP"], precomputed=precomputed, notes=notes)
    n = pts.shape[0]
    check_keywords("umap_layout", kw, set(_OWN) | _umap_keywords())
    n_neighbors = check_int("n_neighbors", n_neighbors, min_value=2)
    if n_neighbors > n - 1:
        if not clamp:
            raise fail(
                "n_neighbors", f"an int in [2, {n - 1}] for {n} points (it counts the point itself)", n_neighbors
            )
        add_note(notes, "umap n_neighbors clamped from %d to N - 1 = %d (N=%d).", n_neighbors, n - 1, n)
        n_neighbors = n - 1
    spread = check_float("spread", spread, min_value=0.0, min_inclusive=False)
    min_dist = check_float("min_dist", min_dist, min_value=0.0, max_value=spread)
    n_components = check_n_components(n_components, n)
    if n_epochs is not None:
        n_epochs = check_int("n_epochs", n_epochs, min_value=1)
    metric = check_metric_rows(metric, pts)
    if isinstance(init, str):
        check_choice("init", init, _INITS)
    else:
        arr = check_array("init", init, ndim=2)
        if arr.shape != (n, n_components):
            raise fail("init", f"an array of shape ({n}, {n_components}) or one of {', '.join(_INITS)}", arr.shape)
    args = dict(
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        spread=spread,
        n_components=n_components,
        n_epochs=n_epochs,
        init=init,
        metric=metric,
        random_state=random_state,
        **kw,
    )
    merged = _merge_coincident(pts, precomputed, args, notes, clamp=clamp)
    if merged is not None:
        return merged
    # after the merge: a Generator is drawn from once, by whichever call lays the points out
    seed = None if random_state is None else int_seed(random_state, name="random_state")
    rng = np.random.default_rng(seed)
    init_value, init_name = _resolve_init(init, pts, n_components, rng, notes, precomputed)
    kw = dict(kw)
    n_jobs = kw.pop("n_jobs", -1)
    if all_identical(pts, precomputed=precomputed):
        return _identical_layout(
            pts, n_neighbors, min_dist, spread, n_components, n_epochs, init_name, metric, seed, n_jobs, kw, notes
        )
    if seed is None:
        add_note(notes, "umap random_state=None: parallel optimisation, output not reproducible.")
    if not precomputed and isinstance(metric, str) and metric in TRANSLATION_INVARIANT:
        pts = _centred_if_far(pts, notes)

    enable_numba_cache()
    import umap

    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        spread=spread,
        n_components=n_components,
        n_epochs=n_epochs,
        init=init_value,
        metric=metric,
        random_state=seed,
        n_jobs=1 if seed is not None else n_jobs,
        verbose=False,
        **kw,
    )
    with warnings.catch_warnings(record=True) as caught, _fit_patches(seed):
        warnings.simplefilter("always")
        embedding = np.asarray(reducer.fit_transform(pts), dtype=np.float64)
    messages = [str(w.message) for w in caught if "n_jobs value" not in str(w.message)]  # seed => 1 thread: stated
    add_warning_notes(notes, "umap-learn", messages)
    if init_name == "spectral" and any(_SPECTRAL_FALLBACK in m for m in messages):
        # the value actually used goes into params (the study's tables record it)
        add_note(notes, "umap init 'spectral' -> 'random': umap-learn's eigen-solver failed and it started at random.")
        init_name = "random"
    if not np.isfinite(embedding).all():
        raise fail("X", "points that umap-learn can lay out (it returned non-finite coordinates)", f"N={n}")
    collapsed = note_if_collapsed(embedding, notes, "umap", unit=spread)
    params = {
        "n_neighbors": n_neighbors,
        "min_dist": min_dist,
        "spread": spread,
        "n_components": n_components,
        "n_epochs": n_epochs,
        "init": init_name,
        "metric": metric,
        "seed": seed,
        "n_jobs": 1 if seed is not None else n_jobs,  # a seed forces umap-learn to one thread
        **kw,
    }
    info = {
        # umap-learn's rule when n_epochs is None
        "n_epochs": n_epochs if n_epochs is not None else (500 if n <= 10_000 else 200),
        "graph_edges": int(reducer.graph_.nnz) if getattr(reducer, "graph_", None) is not None else 0,
        "deterministic": seed is not None,
        "collapsed": collapsed,
        "distinct_points": n,
    }
    return Layout(embedding=embedding, method="umap", params=params, info=info, notes=notes)


def _merge_coincident(
    pts: np.ndarray, precomputed: bool, args: dict, notes: list[str], *, clamp: bool
) -> Layout | None:
    """The layout of points some of which coincide (``None`` when none do, or all do): UMAP of the distinct points,
    each copy at its point's place, as umap-learn's ``unique=True`` does (for precomputed distances too, which
    umap-learn refuses). Left to umap-learn, copies fill each other's neighbour lists, form a component of their own
    and are spread at random by the negative samples: a blob of distinct spots for identical inputs (structure that
    is not there), placed away from their true neighbours. Coincident means equal up to rounding
    (:mod:`supviz.dr._coincident`, the rule t-SNE follows too; SMACOF merges copies the same way).
    Two distinct points: two spots ``spread`` apart on the first axis, nothing optimised: ``n_neighbors`` is not used
    (nor checked against them; ``params`` records ``n_neighbors=None``), and any ``n_components`` that N allows is
    accepted (the other columns 0), as for t-SNE (:func:`supviz.dr.tsne_layout._merge_coincident`)."""
    n_neighbors, n_components, spread = args["n_neighbors"], args["n_components"], args["spread"]
    merge = find_coincident(pts, precomputed=precomputed)
    if merge is None:
        return None
    n, n_u = merge.n_points, merge.n_distinct
    merge.note(notes, "umap", "as umap-learn's unique=True")
    merge.check_n_components(n_components, method="UMAP", min_points=MIN_POINTS["UMAP"])
    if n_u >= MIN_POINTS["UMAP"] and n_neighbors > n_u - 1 and not clamp:
        raise fail(
            "n_neighbors",
            f"an int in [2, {n_u - 1}]: UMAP lays out the {n_u} distinct points of these {n} (it counts the point "
            "itself; clamp=True clamps it)",
            n_neighbors,
        )
    if n_u < MIN_POINTS["UMAP"]:
        random_state = args.pop("random_state")
        seed = None if random_state is None else int_seed(random_state, name="random_state")
        embedding = merge.two_spots(n_components, spread)
        params = {**args, "n_neighbors": None, "init": "none", "seed": seed}
        info = {"n_epochs": 0, "graph_edges": 0, "deterministic": True, "collapsed": False, "distinct_points": n_u}
        add_note(
            notes,
            "umap: 2 distinct points: two spots %g apart, nothing to optimise (n_neighbors %d not used).",
            float(spread),
            n_neighbors,
        )
        return Layout(embedding=embedding, method="umap", params=params, info=info, notes=notes)
    sub_pts = merge.distinct(pts, precomputed=precomputed)
    init = merge.distinct_start(args["init"], method="UMAP")  # an array's shape was checked against all N points
    sub = umap_layout(sub_pts, **{**args, "n_neighbors": min(n_neighbors, n_u - 1), "init": init, "clamp": True})
    if n_neighbors > n_u - 1:
        add_note(notes, "umap n_neighbors clamped from %d to %d: the distinct points minus one.", n_neighbors, n_u - 1)
    return merge.expanded(sub, notes)


def _identical_layout(
    pts, n_neighbors, min_dist, spread, n_components, n_epochs, init_name, metric, seed, n_jobs, kw, notes
) -> Layout:
    """The layout of N copies of one point (:func:`~supviz.dr.base.identical_points_layout`)."""
    n = pts.shape[0]
    embedding = identical_points_layout(n, n_components, "umap", notes)
    params = {
        "n_neighbors": n_neighbors,
        "min_dist": min_dist,
        "spread": spread,
        "n_components": n_components,
        "n_epochs": n_epochs,
        "init": init_name,
        "metric": metric,
        "seed": seed,
        "n_jobs": n_jobs,
        **kw,
    }
    info = {"n_epochs": 0, "graph_edges": 0, "deterministic": True, "collapsed": True, "distinct_points": 1}
    return Layout(embedding=embedding, method="umap", params=params, info=info, notes=notes)
