"""t-SNE layouts through openTSNE (default) or scikit-learn, with the study's rules written down.

Rules (each clamp or fallback is recorded in ``Layout.notes`` and logged at INFO):

- **At least 3 points.**
- **perplexity <= (N - 1) / 3.** The reference implementation (van der Maaten's bhtsne, which
  the study ran through R's Rtsne) refuses ``3 * perplexity > N - 1`` because the calibration uses
  the ``3 * perplexity`` nearest neighbours; the study therefore used ``perplexity = (N - 1) / 3``
  in figure B5. With ``clamp=False`` (default) a larger value is a
  :class:`~supviz.errors.SupvizError` naming the limit; with ``clamp=True`` it is clamped to the
  limit. (openTSNE would lower it with a warning and scikit-learn would accept it, so the same
  request would mean different things per backend: supviz decides before either runs.)
  Perplexities below 1 (``N <= 3``) are allowed: the conditional distributions then put all their
  mass on the nearest neighbours (split equally between ties), as in bhtsne.
- **Initialisation that works for tiny N.** ``init="auto"``/``"pca"`` uses the data's principal
  components computed here (:func:`~supviz.dr.layout.pca_init`, scaled to standard deviation
  1e-4 as both libraries do), which also works when the data have fewer than two dimensions or
  rank below two (those columns get seeded noise).
- **Exact gradients for small N.** With openTSNE, N <= 100 uses Barnes-Hut with ``theta=0``
  (exact); larger N use ``theta=0.5``, and N >= 10,000 the FFT-accelerated gradient. Neighbours are
  exact below 1,000 points.
- **Coincident points.** openTSNE's Barnes-Hut tree merges embedding points closer than 1e-6 (per
  coordinate) into one leaf and then miscounts their terms of the normalisation ``Z``: the
  repulsion is wrong, points are flung out, and the reported KL can be negative (issue 8, case 2:
  -1.09 for 30 repeated rows among 40); scikit-learn's Barnes-Hut has the same fault (KL -11.6,
  points flung to 1500). A PCA start puts repeated rows of ``X`` at exactly one spot, where their
  gradients stay equal and nothing can ever separate them. So the PCA start moves each repeated
  point by a seeded jitter of 1% of its scale, as openTSNE's own PCA start does for every point
  (:func:`supviz.dr.layout.separate_repeated_rows`); the random starts are distinct already. A
  start given as an array that puts two points on one spot switches openTSNE to its FFT gradient
  (2-D/1-D) and scikit-learn's default Barnes-Hut to its exact method (both noted); where that is
  not possible (3-D openTSNE, an explicit ``negative_gradient_method``/``theta``/``method``) it is
  a SupvizError that says what to use instead. When a Barnes-Hut layout ends with points that
  close (the optimisation drew them together), a note says so; it is not recomputed (FFT costs
  5-20 s per small layout on two cores), and the KL reported is exact either way.
- **The reported KL divergence is exact.** ``info["kl_divergence"]`` is KL(P || Q) of the returned
  layout over all pairs (:func:`supviz.dr.tsne_kl.kl_divergence`, openTSNE's P) up to 20,000
  points; the backend's own estimate is ``info["kl_divergence_backend"]``. scikit-learn's exact
  method reports the exact value itself; above 20,000 points (and for scikit-learn's Barnes-Hut)
  the backend's estimate is used and ``info["kl_exact"]`` is False.
- **Identical points.** When every row of ``X`` is the same point, the affinities are uniform and
  their KL optimum is a single spot: the layout is all zeros with KL 0 and a note, for both
  backends, without running either.
- **Scale.** t-SNE is scale-invariant (each point's bandwidth is calibrated), so ``X`` is brought
  to unit scale first (:func:`supviz.dr.layout.check_layout_input`): 1e-300 and 1e300 give the
  layout of scale 1.
- **Metrics undefined for some rows** (cosine of an all-zero row, correlation of a constant row)
  are refused, naming the rows (:func:`supviz.dr.layout.check_metric_rows`).
- **Unknown keyword arguments** are refused, naming the valid ones for the chosen backend.
- **Iterations.** ``n_iter`` counts all iterations including the ``early_exaggeration_iter``
  early-exaggeration ones (openTSNE: ``n_iter - early_exaggeration_iter`` further iterations;
  scikit-learn: ``max_iter = n_iter``, with its fixed 250 exaggerated iterations, so at least 251:
  scikit-learn computes its KL divergence only after them).
- **Seeds.** ``random_state`` becomes one int (:func:`supviz.seeding.int_seed`); both backends are
  then deterministic (openTSNE runs with ``n_jobs=1``).
- **Collapse.** When all distances of ``X`` tie (``diag(N)``) and ``3 * perplexity = N - 1``, the input
  affinities are uniform and the KL optimum puts every point on one spot; a note says so when it
  happens and ``info["collapsed"]`` is True (:func:`supviz.dr.layout.layout_collapsed`).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from supviz._validation import check_array, check_choice, check_float, check_int, check_keywords, fail
from supviz.dr.layout import (
    Layout,
    add_note,
    all_identical,
    check_layout_input,
    check_metric_rows,
    check_n_components,
    identical_points_layout,
    layout_collapsed,
    note_if_collapsed,
    pca_init,
    separate_repeated_rows,
)
from supviz.errors import SupvizError
from supviz.seeding import SeedLike, int_seed

logger = logging.getLogger(__name__)

BACKENDS = ("opentsne", "sklearn")
_INITS = ("auto", "pca", "random")
#: scikit-learn's fixed number of early-exaggeration iterations.
SKLEARN_EXAGGERATION_ITER = 250
#: Standard deviation of the PCA start's first column (openTSNE's and scikit-learn's rule); no
#: column of the start exceeds it.
INIT_STD = 1e-4
#: Repeated rows of X start this fraction of INIT_STD apart (openTSNE's ``initialization.jitter``).
JITTER = 0.01
#: openTSNE's Barnes-Hut tree treats embedding points closer than this (per coordinate) as one.
BH_MERGE_RADIUS = 1e-6
#: Largest N for which the exact KL divergence of the layout is computed (O(N^2) pairs).
EXACT_KL_MAX_N = 20_000
#: Arguments of tsne_layout itself (the rest of ``**kw`` goes to the backend).
_OWN = ("perplexity", "backend", "n_components", "n_iter", "early_exaggeration_iter", "early_exaggeration",
        "learning_rate", "init", "metric", "random_state", "clamp")
#: Backend arguments that tsne_layout sets itself under its own names.
_SET_OPENTSNE = ("n_components", "perplexity", "learning_rate", "early_exaggeration_iter", "early_exaggeration",
                 "n_iter", "initialization", "metric", "random_state", "verbose")
_SET_SKLEARN = ("n_components", "perplexity", "early_exaggeration", "learning_rate", "max_iter", "init", "metric",
                "random_state")


def _backend_keywords(backend: str) -> set[str]:
    """The backend's constructor arguments that ``**kw`` may carry."""
    import inspect

    if backend == "opentsne":
        import openTSNE

        names, taken = inspect.signature(openTSNE.TSNE.__init__).parameters, _SET_OPENTSNE
    else:
        from sklearn.manifold import TSNE

        names, taken = inspect.signature(TSNE.__init__).parameters, _SET_SKLEARN
    return {k for k in names if k not in ("self", *taken)}


def perplexity_limit(n_points: int) -> float:
    """Largest perplexity the reference implementation accepts for ``n_points``: ``(N - 1) / 3``."""
    return (n_points - 1) / 3.0


def _check_perplexity(perplexity: Any, n: int, clamp: bool, notes: list[str]) -> float:
    limit = perplexity_limit(n)
    what = f"a finite number in (0, {limit:g}] (at most (N - 1) / 3 for N = {n} points)"
    if isinstance(perplexity, bool) or not isinstance(perplexity, (int, float, np.integer, np.floating)):
        raise fail("perplexity", what, perplexity)
    value = float(perplexity)
    if not np.isfinite(value) or value <= 0:
        raise fail("perplexity", what, perplexity)
    if value > limit:
        if not clamp:
            raise fail("perplexity", what, perplexity)
        add_note(notes, "tsne perplexity clamped from %g to (N - 1) / 3 = %g (N=%d).", value, limit, n)
        value = limit
    return value


def _resolve_init(init: Any, X: np.ndarray, n_components: int, rng: np.random.Generator) -> tuple[Any, str]:
    n = X.shape[0]
    if not isinstance(init, str):
        arr = check_array("init", init, ndim=2)
        if arr.shape != (n, n_components):
            raise fail("init", f"an array of shape ({n}, {n_components}) or one of {', '.join(_INITS)}", arr.shape)
        return arr, "array"
    init = check_choice("init", init, _INITS)
    if init == "random":
        return "random", "random"
    # "auto" is "pca": both libraries' rule, standard deviation 1e-4 of the first column. Columns the
    # data cannot provide (rank below k) are seeded noise; none may exceed that scale either.
    emb = pca_init(X, n_components, rng=rng, max_abs=1.0)
    emb = emb * (INIT_STD / emb[:, 0].std())
    std = emb.std(axis=0)
    emb = emb * np.minimum(1.0, INIT_STD / std)
    return separate_repeated_rows(emb, X, rng=rng, scale=JITTER * INIT_STD), "pca"


def tsne_layout(
    X: Any,
    *,
    perplexity: float = 30.0,
    backend: str = "opentsne",
    n_components: int = 2,
    n_iter: int = 750,
    early_exaggeration_iter: int = 250,
    early_exaggeration: float = 12.0,
    learning_rate: Any = "auto",
    init: Any = "auto",
    metric: str = "euclidean",
    random_state: SeedLike = None,
    clamp: bool = False,
    **kw: Any,
) -> Layout:
    """t-SNE layout of points ``X`` with the study's rules (module docstring).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Finite points, N >= 3.
    perplexity : float, default 30.0
        In ``(0, (N - 1) / 3]``; above the limit it is refused, or clamped with ``clamp=True``.
    backend : {"opentsne", "sklearn"}, default "opentsne"
        openTSNE's ``TSNE`` or scikit-learn's ``sklearn.manifold.TSNE``.
    n_components : int, default 2
        Output dimension (Barnes-Hut needs <= 3; larger values use the exact/FFT paths where
        the backend has them).
    n_iter : int, default 750
        Total iterations including early exaggeration (openTSNE's default 250 + 500).
    early_exaggeration_iter : int, default 250
        Early-exaggeration iterations (openTSNE only; scikit-learn always uses 250).
    early_exaggeration : float, default 12.0
        Exaggeration factor during that phase.
    learning_rate : float or "auto", default "auto"
        Both backends' ``"auto"`` is ``max(N / early_exaggeration, 50)``-like.
    init : {"auto", "pca", "random"} or array of shape (N, n_components)
        ``"auto"`` = ``"pca"`` computed by supviz (works for any N).
    metric : str or callable, default "euclidean"
        Input metric; ``"cosine"`` refuses all-zero rows and ``"correlation"`` constant rows.
    random_state : int, numpy Generator, SeedSequence or None
        Equal seeds give equal layouts.
    clamp : bool, default False
        Clamp ``perplexity`` to ``(N - 1) / 3`` (logged) instead of raising.
    **kw
        Further arguments of the backend's ``TSNE`` (e.g. openTSNE ``theta``, ``exaggeration``,
        ``dof``; scikit-learn ``method``, ``angle``); any other keyword is refused.

    Returns
    -------
    Layout
        ``info["kl_divergence"]``: KL(P || Q) of the returned layout, exact when
        ``info["kl_exact"]``; ``info["kl_divergence_backend"]``: the backend's own value;
        ``info["collapsed"]``: whether all points lie at one spot (module docstring).

    Raises
    ------
    SupvizError
        Non-finite or complex ``X``, N < 3, ``perplexity`` or another parameter out of range, an
        unknown keyword argument, rows the metric is undefined for.
    """
    pts = check_layout_input(X, method="t-SNE", min_points=3)
    n = pts.shape[0]
    notes: list[str] = []
    backend = check_choice("backend", backend, BACKENDS)
    check_keywords("tsne_layout", kw, set(_OWN) | _backend_keywords(backend))
    perplexity = _check_perplexity(perplexity, n, clamp, notes)
    n_components = check_n_components(n_components, n)
    early_exaggeration = check_float("early_exaggeration", early_exaggeration, min_value=1.0)
    if not (isinstance(learning_rate, str) and learning_rate == "auto"):
        learning_rate = check_float("learning_rate", learning_rate, min_value=0.0, min_inclusive=False)
    if backend == "sklearn":
        # At least one iteration after the exaggerated ones: scikit-learn computes its KL divergence
        # only there (with n_iter = 250 it reports its initial 1.8e308).
        n_iter = check_int("n_iter", n_iter, min_value=SKLEARN_EXAGGERATION_ITER + 1)
        if early_exaggeration_iter != SKLEARN_EXAGGERATION_ITER:
            add_note(notes, "tsne backend 'sklearn' always runs %d early-exaggeration iterations; "
                     "early_exaggeration_iter=%s ignored.", SKLEARN_EXAGGERATION_ITER, early_exaggeration_iter)
            early_exaggeration_iter = SKLEARN_EXAGGERATION_ITER
    else:
        early_exaggeration_iter = check_int("early_exaggeration_iter", early_exaggeration_iter, min_value=0)
        n_iter = check_int("n_iter", n_iter, min_value=early_exaggeration_iter + 1)
    metric = check_metric_rows(metric, pts)
    seed = None if random_state is None else int_seed(random_state, name="random_state")
    init_value, init_name = _resolve_init(init, pts, n_components, np.random.default_rng(seed))

    info: dict[str, Any] = {"deterministic": seed is not None}
    if all_identical(pts):
        embedding = identical_points_layout(n, n_components, "tsne", notes)
        # Uniform affinities, all points at one spot: Q = P, KL 0 exactly.
        kl = kl_backend = 0.0
        extra: dict[str, Any] = {}
        info["kl_exact"] = True
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if backend == "opentsne":
                embedding, kl, kl_backend, extra = _run_opentsne(
                    pts, perplexity, n_components, n_iter, early_exaggeration_iter, early_exaggeration,
                    learning_rate, init_value, metric, seed, kw, notes,
                )
                info["kl_exact"] = n <= EXACT_KL_MAX_N
            else:
                embedding, kl, extra = _run_sklearn(
                    pts, perplexity, n_components, n_iter, early_exaggeration, learning_rate, init_value, metric, seed, kw,
                    notes,
                )
                kl_backend = kl
                info["kl_exact"] = extra["method"] == "exact"
        for w in caught:
            add_note(notes, "%s warned: %s", backend, str(w.message).replace("\n", " ").strip())
        if not np.isfinite(embedding).all():
            raise fail("X", f"points that {backend} can lay out (it returned non-finite coordinates)", f"N={n}")
    info["collapsed"] = True if all_identical(pts) else note_if_collapsed(embedding, notes, "tsne")
    params = {
        "perplexity": perplexity,
        "backend": backend,
        "n_components": n_components,
        "n_iter": n_iter,
        "early_exaggeration_iter": early_exaggeration_iter,
        "early_exaggeration": early_exaggeration,
        "learning_rate": learning_rate,
        "init": init_name,
        "metric": metric,
        "seed": seed,
        **kw,
        **extra,
    }
    info.update({"kl_divergence": kl, "kl_divergence_backend": kl_backend})
    return Layout(embedding=embedding, method="tsne", params=params, info=info, notes=notes)


def _repeated_rows(start: Any) -> int:
    """How many points of a start configuration sit exactly on an earlier one (0 for "random")."""
    if not isinstance(start, np.ndarray):
        return 0
    return int(start.shape[0] - np.unique(start, axis=0).shape[0])


def _bh_miscounts(embedding: np.ndarray) -> bool:
    """Whether two points of a layout are within openTSNE's Barnes-Hut merge radius (per coordinate)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(embedding)
    return bool(tree.count_neighbors(tree, BH_MERGE_RADIUS, p=np.inf) > embedding.shape[0])


def _coincident_bh_error(n_dup: int, what: str, fix: str) -> SupvizError:
    return SupvizError(
        f"{what} miscounts coincident points (it merges points closer than {BH_MERGE_RADIUS:g}: wrong repulsion, "
        f"points flung out, a negative KL), and `init` puts {n_dup} points on another; {fix}."
    )


def _opentsne_options(n: int, n_components: int, n_dup: int, kw: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Neighbour search and gradient method for openTSNE (module docstring), user choices last."""
    options: dict[str, Any] = {
        "neighbors": "exact" if n < 1000 else "auto",
        "negative_gradient_method": "fft" if n >= 10_000 else "bh",
    }
    if options["negative_gradient_method"] == "bh":
        options["theta"] = 0.0 if n <= 100 else 0.5
    chosen = {k: kw[k] for k in ("neighbors", "negative_gradient_method", "theta") if k in kw}
    options.update(chosen)
    if "theta" in chosen and "negative_gradient_method" not in chosen:
        options["negative_gradient_method"] = "bh"  # a theta asks for Barnes-Hut
    if n_dup and options["negative_gradient_method"] in ("bh", "barnes-hut", "barnes_hut"):
        if {"negative_gradient_method", "theta"} & set(chosen):
            raise _coincident_bh_error(n_dup, "openTSNE's Barnes-Hut gradient", "use negative_gradient_method='fft'")
        if n_components > 2:
            raise _coincident_bh_error(
                n_dup, f"openTSNE's Barnes-Hut gradient (its only one in {n_components}-D)",
                "use backend='sklearn' (exact below 1000 points) or drop the repeated rows")
        add_note(notes, "tsne: `init` puts %d points on another, which Barnes-Hut miscounts (it merges points closer "
                 "than %g); using openTSNE's FFT gradient instead.", n_dup, BH_MERGE_RADIUS)
        options["negative_gradient_method"] = "fft"
        options.pop("theta", None)
    return options


def _sklearn_method(n: int, n_components: int, n_dup: int, kw: dict[str, Any], notes: list[str]) -> str:
    """scikit-learn's ``method``: exact below 1000 points (or above 3 dimensions), else Barnes-Hut."""
    method = kw.get("method", "exact" if n < 1000 or n_components > 3 else "barnes_hut")
    if n_dup and method == "barnes_hut":
        if "method" in kw:
            raise _coincident_bh_error(n_dup, "scikit-learn's Barnes-Hut t-SNE", "use method='exact'")
        add_note(notes, "tsne: `init` puts %d points on another, which Barnes-Hut miscounts; using scikit-learn's "
                 "exact method (O(N^2) per iteration) instead.", n_dup)
        method = "exact"
    return method


def _run_opentsne(
    X: np.ndarray,
    perplexity: float,
    n_components: int,
    n_iter: int,
    ee_iter: int,
    ee: float,
    learning_rate: Any,
    init: Any,
    metric: Any,
    seed: int | None,
    kw: dict[str, Any],
    notes: list[str],
) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    """openTSNE's layout, its exact KL divergence, the reported estimate, and the options used."""
    import openTSNE

    from supviz.dr.tsne_kl import kl_divergence

    n = X.shape[0]
    options = _opentsne_options(n, n_components, _repeated_rows(init), kw, notes)
    rest = {k: v for k, v in kw.items() if k not in ("neighbors", "negative_gradient_method", "theta")}
    n_jobs = rest.pop("n_jobs", 1 if seed is not None else -1)

    def fit(opts: dict[str, Any]) -> Any:
        tsne = openTSNE.TSNE(
            n_components=n_components,
            perplexity=perplexity,
            learning_rate=learning_rate,
            early_exaggeration_iter=ee_iter,
            early_exaggeration=ee,
            n_iter=n_iter - ee_iter,
            initialization=init,
            metric=metric,
            random_state=seed,
            n_jobs=1 if seed is not None else n_jobs,
            verbose=False,
            **opts,
            **rest,
        )
        return tsne.fit(X)

    emb = fit(options)
    embedding = np.asarray(emb, dtype=np.float64)
    if options["negative_gradient_method"] == "bh" and not layout_collapsed(embedding) and _bh_miscounts(embedding):
        # Points the optimisation itself drew together (not coincident in X). Recomputing with
        # FFT would cost 10-20 s per small layout on two cores; the KL reported is exact anyway.
        add_note(notes, "tsne: some points ended closer than %g, which Barnes-Hut miscounts in its last "
                 "iterations; the KL divergence reported is the exact one of this layout "
                 "(negative_gradient_method='fft' counts every pair).", BH_MERGE_RADIUS)
    reported = float(emb.kl_divergence)
    exact = reported
    if n <= EXACT_KL_MAX_N:
        exact = kl_divergence(emb.affinities.P, embedding, dof=float(rest.get("dof", 1.0)))
    return embedding, exact, reported, options


def _run_sklearn(
    X: np.ndarray,
    perplexity: float,
    n_components: int,
    n_iter: int,
    ee: float,
    learning_rate: Any,
    init: Any,
    metric: str,
    seed: int | None,
    kw: dict[str, Any],
    notes: list[str],
) -> tuple[np.ndarray, float, dict[str, Any]]:
    from sklearn.manifold import TSNE

    n = X.shape[0]
    options = {"method": _sklearn_method(n, n_components, _repeated_rows(init), kw, notes)}
    rest = {k: v for k, v in kw.items() if k != "method"}
    tsne = TSNE(
        n_components=n_components,
        perplexity=perplexity,
        early_exaggeration=ee,
        learning_rate=learning_rate,
        max_iter=n_iter,
        init=init,
        metric=metric,
        random_state=seed,
        **options,
        **rest,
    )
    emb = tsne.fit_transform(X)
    kl = float(tsne.kl_divergence_)
    # scikit-learn's exact objective is the exact KL of its last step; its three terms cancel to
    # rounding at a collapse (-1e-12 for diag(N)): that is 0.
    return np.asarray(emb, dtype=np.float64), (0.0 if -1e-10 < kl < 0.0 else kl), options
