"""t-SNE layouts through openTSNE (default) or scikit-learn, with the study's rules written down.

Rules (each clamp or fallback is recorded in ``Layout.notes`` and logged at INFO):

- **At least 3 points.**
- **perplexity <= (N - 1) / 3.** The reference implementation (van der Maaten's bhtsne, which
  the study ran through R's Rtsne) refuses ``3 * perplexity > N - 1`` because the calibration uses
  the ``3 * perplexity`` nearest neighbours; the study therefore used ``perplexity = (N - 1) / 3``
  in figure B5. With ``clamp=True`` (default, as :func:`~supviz.dr.umap_layout.umap_layout`
  clamps ``n_neighbors``: one behaviour for both, issue 22) a larger value is clamped to the limit,
  noted in ``Layout.notes`` and logged at INFO; with ``clamp=False`` it is a
  :class:`~supviz.errors.SupvizError` naming the limit. (openTSNE would lower it with a warning
  and scikit-learn would accept it, so the same request would mean different things per backend:
  supviz decides before either runs.)
  Perplexities below 1 (``N <= 3``) are allowed: the conditional distributions then put all their
  mass on the nearest neighbours (split equally between ties), as in bhtsne. Below 1/3
  (:data:`MIN_PERPLEXITY`) ``int(3 * perplexity)`` is no neighbour at all: refused.
- **Initialisation that works for tiny N.** ``init="auto"``/``"pca"`` uses the data's principal
  components computed here (:func:`~supviz.dr.base.pca_init`, scaled to standard deviation
  1e-4 as both libraries do), which also works when the data have fewer than two dimensions or
  rank below two (those columns get seeded noise).
- **Exact gradients up to 2,000 points.** With openTSNE, N <= 2,000 (and any N in more than two
  dimensions) uses supviz's exact gradient over all pairs (:func:`supviz.dr.tsne_kl.exact_gradient`,
  compiled in :mod:`supviz.dr._tsne_exact`), which openTSNE accepts as a callable
  ``negative_gradient_method`` and runs with its own optimiser: as fast as Barnes-Hut up to about
  1,000 points and as the FFT gradient at 2,000 (``docs/bench/tsne_gradient.md``), and it counts
  points that meet in the layout right. Larger N use Barnes-Hut (``theta=0.5``), or the FFT gradient
  from 10,000 points on and whenever rows of an ``init`` array coincide. Barnes-Hut is never picked above two
  dimensions (openTSNE warns that it can segfault above three). ``negative_gradient_method="exact"``
  asks for the exact gradient by name. Neighbours are exact below 1,000 points.
- **Coincident points are one spot** (equal rows of X, or rows equal up to rounding, which
  :func:`~supviz.dr.base.check_layout_input` makes equal; for precomputed distances, zero
  distances; :mod:`supviz.dr._coincident`, the rule UMAP follows too). Left to a backend, copies of
  one point get identical affinity rows, each puts most of its mass on the other copies, and the
  repulsion pushes them apart: a ring of copies that are in truth one point (100 copies at the origin
  beside a 10 x 10 grid spread over 5.3 units, the grid over 6.3; openTSNE, seed 0). So the distinct points are
  laid out once and every copy is placed at its point's place, bit for bit, on every path (openTSNE
  with any gradient, scikit-learn, precomputed distances, any init); ``info["distinct_points"]``
  says how many there were and a note counts the copies and their groups. The user's arguments are
  checked against the N rows first (``init``'s shape, ``n_components``, ``perplexity``); then
  ``perplexity`` is checked against the distinct points, ``(n_distinct - 1) / 3``, and clamped with
  a note (or refused with ``clamp=False``), and ``n_components`` must be below ``n_distinct``. Two
  distinct points are two spots 1 apart (the kernel's unit; every distance gives ``Q = P`` and KL 0),
  with nothing to optimise, so neither rule applies to them: no perplexity is used
  (``params["perplexity"]`` is None) and the spots lie on the first axis of any ``n_components``.
  **Multiplicity is ignored**, as umap-learn's ``unique=True`` does: the
  affinities are those of the distinct points, so a neighbour of a group of k copies gives it one
  share of its conditional distribution, not k, and ``info["kl_divergence"]`` is the KL divergence
  of the distinct points' layout against their affinities (the objective that was optimised).
  Why not weight the merged point by k: neither openTSNE nor scikit-learn takes point weights, so
  a weighted ``P`` and a weighted repulsion would be supviz's own code on every gradient path
  (Barnes-Hut, FFT), and one rule for UMAP and t-SNE keeps their pictures comparable; the number of
  copies is in the note and in ``info``, not in the picture. A Barnes-Hut gradient still refuses
  an ``init`` array whose rows coincide (openTSNE's and scikit-learn's trees merge points closer
  than 1e-6 and miscount them, issue 8: KL -1.09, points flung out), and above 2,000 points such an
  ``init`` takes the FFT gradient. An ``init`` whose rows *all* coincide is refused on every path
  (:func:`~supviz.dr.base.check_start`): the exact gradient between identical points is 0, so it would
  never move and its collapsed picture would read as an optimum.
- **Precomputed distances** (``metric="precomputed"``) pass the check every method shares
  (square, finite, non-negative, symmetric, zero diagonal); their PCA start is classical MDS of the
  distances (``params["init"] == "classical_mds"``; equal to PCA for Euclidean distances).
- **The reported KL divergence is exact.** ``info["kl_divergence"]`` is KL(P || Q) of the returned
  layout over all pairs (:func:`supviz.dr.tsne_kl.kl_divergence`) against the ``P`` the backend
  optimised: openTSNE's affinities, or scikit-learn's own ``P`` (taken where scikit-learn hands it
  to its optimiser; its kernel is the Student t with ``dof = max(n_components - 1, 1)``), up to
  20,000 points. The backend's own value is ``info["kl_divergence_backend"]`` (openTSNE's estimate
  from its gradient method; scikit-learn's of its last objective evaluation, one step before the
  returned layout). Above 20,000 points the backend's value is used and ``info["kl_exact"]`` is
  False. A backend that found no affinity at all (scikit-learn's Barnes-Hut on ``diag(N)``) is a
  SupvizError.
- **Identical points.** When every row of ``X`` is the same point (up to rounding), the affinities are uniform and
  their KL optimum is a single spot: the layout is all zeros with KL 0 and a note, for both
  backends, without running either (``info["distinct_points"]`` is 1).
- **Scale.** t-SNE is scale-invariant (each point's bandwidth is calibrated), so ``X`` is brought
  to unit scale first (:func:`supviz.dr.base.check_layout_input`): 1e-300 and 1e300 give the
  layout of scale 1, bit for bit for a power-of-two scale, and up to the rounding of ``X * scale``
  otherwise (a unit in the last place). openTSNE's optimiser was not thrown off by that rounding in
  our checks; scikit-learn's is at small N with its ``learning_rate="auto"``, ``max(N / early_exaggeration / 4,
  50)``: the floor of 50 is far above the N / 12 of openTSNE's rule below about 2,400 points, and the
  exact gradient descent turns chaotic, so a start that differs by rounding ends in another local
  optimum (30 Gaussian points, perplexity 5: KL 0.289 for ``X``, 0.650 for ``3 X``, 0.855 for
  ``1e-300 X``; openTSNE 0.2815 for all three; scikit-learn with ``learning_rate=N / 12`` 0.2882 for
  all three). Pass ``learning_rate=N / 12`` to scikit-learn for small inputs.
- **Metrics undefined for some rows** (cosine of an all-zero row, correlation of a constant row)
  are refused, naming the rows (:func:`supviz.dr.base.check_metric_rows`).
- **Unknown keyword arguments** are refused, naming the valid ones for the chosen backend.
- **Iterations.** ``n_iter`` counts all iterations including the ``early_exaggeration_iter``
  early-exaggeration ones (openTSNE: ``n_iter - early_exaggeration_iter`` further iterations;
  scikit-learn: ``max_iter = n_iter``, with its fixed 250 exaggerated iterations, so at least 251:
  scikit-learn computes its KL divergence only after them).
- **Seeds.** ``random_state`` becomes one int (:func:`supviz.core.seeding.int_seed`); both backends are
  then deterministic (openTSNE runs with ``n_jobs=1``).
- **Collapse.** When all distances of ``X`` tie (``diag(N)``) and ``3 * perplexity = N - 1``, the input
  affinities are uniform and the KL optimum puts every point on one spot; a note says so when it
  happens and ``info["collapsed"]`` is True (:func:`supviz.dr.base.layout_collapsed`).
"""

from __future__ import annotations

import logging
import warnings
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
    layout_collapsed,
    note_if_collapsed,
)
from supviz.dr.classical import data_start
from supviz.errors import SupvizError

logger = logging.getLogger(__name__)

BACKENDS = ("opentsne", "sklearn")
_INITS = ("auto", "pca", "random")
#: scikit-learn's fixed number of early-exaggeration iterations.
SKLEARN_EXAGGERATION_ITER = 250
#: Standard deviation of the PCA start's first column (openTSNE's and scikit-learn's rule); no
#: column of the start exceeds it.
INIT_STD = 1e-4
#: Largest distance of an ``init`` row from the centroid for which t-SNE's kernel ``1 / (1 + d^2)`` is computable:
#: a distance between two rows is at most twice it, and its square must stay below float64's largest value
#: (6.7e153). A larger start is refused (break test 6: 1e200 was blamed on "P is empty").
MAX_START_SPREAD = float(np.sqrt(np.finfo(np.float64).max)) / 2.0
#: openTSNE's Barnes-Hut tree treats embedding points closer than this (per coordinate) as one.
BH_MERGE_RADIUS = 1e-6
#: Largest N for which the exact KL divergence of the layout is computed (O(N^2) pairs).
EXACT_KL_MAX_N = 20_000
#: Largest N for which openTSNE runs with the exact gradient (supviz's compiled callable) by default:
#: as fast as Barnes-Hut up to ~1,000 points and as the FFT gradient at ~2,000
#: (``benchmarks/tsne_gradient.py``, ``docs/bench/tsne_gradient.md``).
EXACT_GRADIENT_MAX_N = 2_000
#: Largest N for which scikit-learn's exact method replaces its Barnes-Hut for an ``init`` with coincident rows.
SKLEARN_EXACT_MAX_N = 5_000
#: Arguments of tsne_layout itself (the rest of ``**kw`` goes to the backend).
_OWN = (
    "perplexity",
    "backend",
    "n_components",
    "n_iter",
    "early_exaggeration_iter",
    "early_exaggeration",
    "learning_rate",
    "init",
    "metric",
    "random_state",
    "clamp",
)
#: Backend arguments that tsne_layout sets itself under its own names.
_SET_OPENTSNE = (
    "n_components",
    "perplexity",
    "learning_rate",
    "early_exaggeration_iter",
    "early_exaggeration",
    "n_iter",
    "initialization",
    "metric",
    "random_state",
    "verbose",
)
_SET_SKLEARN = (
    "n_components",
    "perplexity",
    "early_exaggeration",
    "learning_rate",
    "max_iter",
    "init",
    "metric",
    "random_state",
)


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


#: Smallest perplexity: the calibration uses the ``int(3 * perplexity)`` nearest neighbours (openTSNE,
#: bhtsne), and below 1/3 that is none (openTSNE then failed inside scikit-learn: "Expected n_neighbors > 0").
MIN_PERPLEXITY = 1.0 / 3.0


def perplexity_limit(n_points: int) -> float:
    """Largest perplexity the reference implementation accepts for ``n_points``: ``(N - 1) / 3``."""
    return (n_points - 1) / 3.0


def _check_perplexity(perplexity: Any, n: int, clamp: bool, notes: list[str]) -> float:
    limit = perplexity_limit(n)
    what = f"a finite number in [1/3, {limit:g}] (at least 1/3 and at most (N - 1) / 3 for N = {n} points)"
    if isinstance(perplexity, bool) or not isinstance(perplexity, (int, float, np.integer, np.floating)):
        raise fail("perplexity", what, perplexity)
    value = float(perplexity)
    if not np.isfinite(value) or value < MIN_PERPLEXITY:
        raise fail("perplexity", what, perplexity)
    if value > limit:
        if not clamp:
            raise fail("perplexity", what, perplexity)
        add_note(notes, "tsne perplexity clamped from %g to (N - 1) / 3 = %g (N=%d).", value, limit, n)
        value = limit
    return value


def _check_init(init: Any, n: int, n_components: int) -> Any:
    """``init`` checked against the user's ``n`` rows: one of :data:`_INITS`, or a finite array [n, n_components]."""
    if isinstance(init, str):
        return check_choice("init", init, _INITS)
    arr = check_array("init", init, ndim=2)
    if arr.shape != (n, n_components):
        raise fail("init", f"an array of shape ({n}, {n_components}) or one of {', '.join(_INITS)}", arr.shape)
    check_start(arr, method="t-SNE")
    scaled, e = unit_scaled(arr)
    spread = float(np.ldexp(np.sqrt(((scaled - scaled.mean(axis=0)) ** 2).sum(axis=1).max()), e))
    if spread > MAX_START_SPREAD:
        raise SupvizError(
            f"`init` must lie within {MAX_START_SPREAD:.3g} of its centroid for t-SNE (its Student-t kernel squares "
            f"the distances between start rows, which overflow float64 beyond that); got {spread:.3g}. Scale it "
            f"down: both libraries start from a standard deviation of {INIT_STD:g}."
        )
    return arr


def _resolve_init(
    init: Any, X: np.ndarray, n_components: int, rng: np.random.Generator, precomputed: bool
) -> tuple[Any, str]:
    init = _check_init(init, X.shape[0], n_components)
    if not isinstance(init, str):
        return init, "array"
    if init == "random":
        return "random", "random"
    # "auto" is "pca": both libraries' rule, standard deviation 1e-4 of the first column. Columns the
    # data cannot provide (rank below k) are seeded noise; none may exceed that scale either. For
    # precomputed distances the scores are classical MDS's (= PCA's for Euclidean distances).
    emb = data_start(X, n_components, rng=rng, max_abs=1.0, precomputed=precomputed)
    emb = emb * (INIT_STD / emb[:, 0].std())
    std = emb.std(axis=0)
    emb = emb * np.minimum(1.0, INIT_STD / std)
    return emb, "classical_mds" if precomputed else "pca"


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
    clamp: bool = True,
    **kw: Any,
) -> Layout:
    """t-SNE layout of points ``X`` with the study's rules (module docstring).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Finite points, N >= 3.
    perplexity : float, default 30.0
        In ``[1/3, (N - 1) / 3]``; above the limit it is clamped (noted), or refused with ``clamp=False``.
        Where points coincide, the limit is then ``(n_distinct - 1) / 3`` (the same rule).
    backend : {"opentsne", "sklearn"}, default "opentsne"
        openTSNE's ``TSNE`` or scikit-learn's ``sklearn.manifold.TSNE``.
    n_components : int, default 2
        Output dimension, at most ``N - 1`` (and below the distinct points where points coincide);
        Barnes-Hut needs <= 3, larger values use the exact path where the backend has it.
    n_iter : int, default 750
        Total iterations including early exaggeration (openTSNE's default 250 + 500).
    early_exaggeration_iter : int, default 250
        Early-exaggeration iterations (openTSNE only; scikit-learn always uses 250).
    early_exaggeration : float, default 12.0
        Exaggeration factor during that phase.
    learning_rate : float or "auto", default "auto"
        The backend's own ``"auto"``: openTSNE's ``N / exaggeration`` of each phase (N / 12 during the
        early exaggeration), scikit-learn's ``max(N / early_exaggeration / 4, 50)``, too large for small
        N (module docstring, "Scale").
    init : {"auto", "pca", "random"} or array of shape (N, n_components)
        ``"auto"`` = ``"pca"`` computed by supviz (works for any N). An array whose rows all coincide is
        refused.
    metric : str or callable, default "euclidean"
        Input metric; ``"cosine"`` refuses all-zero rows and ``"correlation"`` constant rows.
    random_state : int, numpy Generator, SeedSequence or None
        Equal seeds give equal layouts.
    clamp : bool, default True
        Clamp ``perplexity`` to ``(N - 1) / 3`` (noted and logged) instead of raising, as
        :func:`~supviz.dr.umap_layout.umap_layout` clamps ``n_neighbors`` to ``N - 1``.
    **kw
        Further arguments of the backend's ``TSNE`` (e.g. openTSNE ``theta``, ``exaggeration``,
        ``dof``; scikit-learn ``method``, ``angle``); any other keyword is refused.

    Returns
    -------
    Layout
        ``info["kl_divergence"]``: KL(P || Q) of the returned layout, exact when
        ``info["kl_exact"]``; ``info["kl_divergence_backend"]``: the backend's own value;
        ``info["collapsed"]``: whether all points lie at one spot; ``info["distinct_points"]``: how many
        distinct points were laid out (coincident points are one spot; module docstring). The embedding
        has N rows, one per row of ``X``, copies at their point's place.

    Raises
    ------
    SupvizError
        Non-finite or complex ``X``, N < 3, ``perplexity`` or another parameter out of range (against
        N, then against the distinct points), an unknown keyword argument, rows the metric is undefined for.
    """
    notes: list[str] = []
    precomputed = isinstance(metric, str) and metric == "precomputed"
    pts = check_layout_input(X, method="t-SNE", min_points=MIN_POINTS["t-SNE"], precomputed=precomputed, notes=notes)
    n = pts.shape[0]
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
            add_note(
                notes,
                "tsne backend 'sklearn' always runs %d early-exaggeration iterations; "
                "early_exaggeration_iter=%s ignored.",
                SKLEARN_EXAGGERATION_ITER,
                early_exaggeration_iter,
            )
            early_exaggeration_iter = SKLEARN_EXAGGERATION_ITER
    else:
        early_exaggeration_iter = check_int("early_exaggeration_iter", early_exaggeration_iter, min_value=0)
        n_iter = check_int("n_iter", n_iter, min_value=early_exaggeration_iter + 1)
    metric = check_metric_rows(metric, pts)
    init = _check_init(init, n, n_components)
    args = dict(
        perplexity=perplexity,
        backend=backend,
        n_components=n_components,
        n_iter=n_iter,
        early_exaggeration_iter=early_exaggeration_iter,
        early_exaggeration=early_exaggeration,
        learning_rate=learning_rate,
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
    init_value, init_name = _resolve_init(init, pts, n_components, np.random.default_rng(seed), precomputed)

    info: dict[str, Any] = {"deterministic": seed is not None}
    identical = all_identical(pts, precomputed=precomputed)
    if identical:
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
                    pts,
                    perplexity,
                    n_components,
                    n_iter,
                    early_exaggeration_iter,
                    early_exaggeration,
                    learning_rate,
                    init_value,
                    metric,
                    seed,
                    kw,
                    notes,
                )
            else:
                embedding, kl, kl_backend, extra = _run_sklearn(
                    pts,
                    perplexity,
                    n_components,
                    n_iter,
                    early_exaggeration,
                    learning_rate,
                    init_value,
                    metric,
                    seed,
                    kw,
                    notes,
                )
            info["kl_exact"] = n <= EXACT_KL_MAX_N
        add_warning_notes(notes, backend, [str(w.message) for w in caught])
        if not np.isfinite(kl):
            raise SupvizError(
                f"{backend} ({extra.get('method', extra.get('negative_gradient_method'))}) found no affinity between "
                f"any two of the {n} points (P is empty: its neighbour calibration failed on these distances), so the "
                "layout pictures nothing; use "
                + ("method='exact'." if backend == "sklearn" else "negative_gradient_method='exact'.")
            )
        if not np.isfinite(embedding).all():
            raise fail("X", f"points that {backend} can lay out (it returned non-finite coordinates)", f"N={n}")
    info["collapsed"] = True if identical else note_if_collapsed(embedding, notes, "tsne")
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
    info.update({"kl_divergence": kl, "kl_divergence_backend": kl_backend, "distinct_points": 1 if identical else n})
    return Layout(embedding=embedding, method="tsne", params=params, info=info, notes=notes)


#: The distance between the two spots of two distinct points: the unit of the t-SNE kernel ``1 / (1 + d^2)``.
TWO_SPOTS_DISTANCE = 1.0


def _merge_coincident(
    pts: np.ndarray, precomputed: bool, args: dict[str, Any], notes: list[str], *, clamp: bool
) -> Layout | None:
    """The layout of points some of which coincide (``None`` when none do, or all do): t-SNE of the distinct
    points, each copy at its point's place (module docstring, "Coincident points are one spot").

    ``args`` are :func:`tsne_layout`'s arguments, already checked against the user's N rows (``perplexity`` at most
    ``(N - 1) / 3``, ``n_components``, ``init``'s shape). Here ``perplexity`` is held to the distinct points'
    limit ``(n_distinct - 1) / 3``: clamped with a note, or refused with ``clamp=False`` (as for N); ``n_components``
    must be below ``n_distinct``. Two distinct points are two spots :data:`TWO_SPOTS_DISTANCE` apart with KL 0 (the
    joint affinity and the joint kernel of one pair are both 1 at any distance), nothing optimised: no perplexity
    is calibrated, so ``perplexity`` is not checked against them (``clamp`` plays no part) and ``params`` records
    ``perplexity=None``; any ``n_components`` that N allows is accepted (the two spots lie on the first axis, the
    other columns 0), the one case where ``n_components >= n_distinct`` is, as nothing is optimised in it. UMAP
    follows the same rule with ``n_neighbors``.

    Raises
    ------
    SupvizError
        ``n_components >= n_distinct``; ``perplexity`` above ``(n_distinct - 1) / 3`` with ``clamp=False``.
    """
    merge = find_coincident(pts, precomputed=precomputed)
    if merge is None:
        return None
    n, n_u = merge.n_points, merge.n_distinct
    merge.note(notes, "tsne", "as umap-learn's unique=True: the affinities of the distinct points, copies not counted")
    n_components, perplexity = args["n_components"], args["perplexity"]
    merge.check_n_components(n_components, method="t-SNE", min_points=MIN_POINTS["t-SNE"])
    if n_u < MIN_POINTS["t-SNE"]:
        random_state = args.pop("random_state")
        seed = None if random_state is None else int_seed(random_state, name="random_state")
        embedding = merge.two_spots(n_components, TWO_SPOTS_DISTANCE)
        add_note(
            notes,
            "tsne: 2 distinct points: two spots %g apart, nothing to optimise (KL 0; perplexity %g not used).",
            TWO_SPOTS_DISTANCE,
            perplexity,
        )
        params = {**args, "perplexity": None, "init": "none", "seed": seed}
        info = {
            "deterministic": True,
            "kl_exact": True,
            "collapsed": False,
            "kl_divergence": 0.0,
            "kl_divergence_backend": 0.0,
            "distinct_points": n_u,
        }
        return Layout(embedding=embedding, method="tsne", params=params, info=info, notes=notes)
    limit = perplexity_limit(n_u)
    if perplexity > limit:
        if not clamp:
            raise fail(
                "perplexity",
                f"a finite number in [1/3, {limit:g}]: t-SNE lays out the {n_u} distinct points of these {n} "
                "(at most (distinct points - 1) / 3; clamp=True clamps it)",
                perplexity,
            )
        add_note(
            notes,
            "tsne perplexity clamped from %g to (distinct points - 1) / 3 = %g (%d distinct points of %d).",
            perplexity,
            limit,
            n_u,
            n,
        )
    sub_args = {
        **args,
        "perplexity": min(perplexity, limit),
        "init": merge.distinct_start(args["init"], method="t-SNE"),
        "clamp": True,
    }
    return merge.expanded(tsne_layout(merge.distinct(pts, precomputed=precomputed), **sub_args), notes)


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
        f"points flung out, a negative KL), and {n_dup} rows of `init` sit on another; {fix}."
    )


_BH_NAMES = ("bh", "BH", "barnes-hut")
_FFT_NAMES = ("fft", "FFT", "interpolation")


def _opentsne_options(n: int, n_components: int, n_dup: int, kw: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Neighbour search and gradient method for openTSNE (module docstring), user choices last.

    ``n_dup``: rows of an ``init`` array that sit on another row (coincident points of X were merged before).
    """
    chosen = {k: kw[k] for k in ("neighbors", "negative_gradient_method", "theta") if k in kw}
    options: dict[str, Any] = {"neighbors": chosen.get("neighbors", "exact" if n < 1000 else "auto")}
    method = chosen.get("negative_gradient_method")
    if method is None and "theta" in chosen:
        method = "bh"  # a theta asks for Barnes-Hut
    if method is not None:
        if not isinstance(method, str) or method not in ("exact", *_BH_NAMES, *_FFT_NAMES):
            raise fail("negative_gradient_method", "one of 'exact', 'bh', 'fft'", method)
        if method in _BH_NAMES and n_dup:
            raise _coincident_bh_error(
                n_dup, "openTSNE's Barnes-Hut gradient", "use negative_gradient_method='exact' (or 'fft' in 1-D/2-D)"
            )
        if method in _BH_NAMES and n_components > 3:
            raise SupvizError(
                f"`negative_gradient_method` must not be 'bh' for n_components={n_components}: openTSNE "
                "warns that Barnes-Hut above 3 dimensions can segfault; use 'exact'."
            )
        if method in _FFT_NAMES and n_components > 2:
            raise SupvizError(
                f"`negative_gradient_method` must not be 'fft' for n_components={n_components}: openTSNE's "
                "interpolation gradient is 1-D/2-D only; use 'exact'."
            )
        options["negative_gradient_method"] = "exact" if method == "exact" else ("bh" if method in _BH_NAMES else "fft")
    elif n_components > 2:
        options["negative_gradient_method"] = "exact"
        add_note(
            notes,
            "tsne: n_components=%d, where openTSNE has no FFT gradient and warns that Barnes-Hut can "
            "segfault; using the exact gradient (O(N^2) per iteration).",
            n_components,
        )
    elif n <= EXACT_GRADIENT_MAX_N:
        options["negative_gradient_method"] = "exact"
    elif n_dup:
        options["negative_gradient_method"] = "fft"
        add_note(
            notes,
            "tsne: %d rows of `init` sit on another, which Barnes-Hut miscounts (it merges points closer "
            "than %g); using openTSNE's FFT gradient.",
            n_dup,
            BH_MERGE_RADIUS,
        )
    else:
        options["negative_gradient_method"] = "fft" if n >= 10_000 else "bh"
    if options["negative_gradient_method"] == "bh":
        options["theta"] = float(chosen.get("theta", 0.5))
    return options


def _sklearn_method(n: int, n_components: int, n_dup: int, kw: dict[str, Any], notes: list[str]) -> str:
    """scikit-learn's ``method``: exact below 1000 points (or above 3 dimensions), else Barnes-Hut."""
    method = kw.get("method", "exact" if n < 1000 or n_components > 3 else "barnes_hut")
    if n_dup and method == "barnes_hut":
        if "method" in kw:
            raise _coincident_bh_error(n_dup, "scikit-learn's Barnes-Hut t-SNE", "use method='exact'")
        if n > SKLEARN_EXACT_MAX_N:
            raise _coincident_bh_error(
                n_dup,
                "scikit-learn's Barnes-Hut t-SNE",
                f"its exact method holds N x N matrices (N = {n} > {SKLEARN_EXACT_MAX_N}): use backend='opentsne'",
            )
        add_note(
            notes,
            "tsne: %d rows of `init` sit on another, which Barnes-Hut miscounts; using scikit-learn's "
            "exact method (O(N^2) per iteration) instead.",
            n_dup,
        )
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
    library = dict(options)
    if options["negative_gradient_method"] == "exact":
        from supviz.dr._tsne_exact import exact_gradient_compiled

        library["negative_gradient_method"] = exact_gradient_compiled  # openTSNE takes a callable
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
        **library,
        **rest,
    )
    emb = tsne.fit(X)
    embedding = np.asarray(emb, dtype=np.float64)
    if options["negative_gradient_method"] == "bh" and not layout_collapsed(embedding) and _bh_miscounts(embedding):
        # Points the optimisation itself drew together (not coincident in X) above the exact
        # gradient's size; the KL reported is exact anyway.
        add_note(
            notes,
            "tsne: some points ended closer than %g, which Barnes-Hut miscounts in its last "
            "iterations; the KL divergence reported is the exact one of this layout "
            "(the exact or the FFT gradient counts every pair).",
            BH_MERGE_RADIUS,
        )
    reported = float(emb.kl_divergence)
    exact = reported
    if n <= EXACT_KL_MAX_N:
        exact = kl_divergence(emb.affinities.P, embedding, dof=float(rest.get("dof", 1.0)))
    return embedding, exact, reported, options


def _capturing_tsne() -> Any:
    """scikit-learn's ``TSNE`` that keeps the joint affinities ``P`` it optimised against.

    ``TSNE._tsne(P, degrees_of_freedom, ...)`` is where scikit-learn hands its ``P`` (condensed
    for the exact method, sparse for Barnes-Hut) to the optimiser, which multiplies it in place by
    the early exaggeration; a copy taken there is exactly the ``P`` of the run, so the KL reported
    for the returned layout is computed against the affinities it was fitted to.
    """
    from sklearn.manifold import TSNE

    class _TSNE(TSNE):
        def _tsne(self, P: Any, degrees_of_freedom: float, *args: Any, **kwargs: Any) -> Any:
            self.supviz_P_ = P.copy()
            self.supviz_dof_ = float(degrees_of_freedom)
            return super()._tsne(P, degrees_of_freedom, *args, **kwargs)

    return _TSNE


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
) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    """scikit-learn's layout, its exact KL divergence against scikit-learn's own ``P``, the value
    scikit-learn reported (that of its last objective evaluation, one step before the end), and
    the options used."""
    from supviz.dr.tsne_kl import kl_divergence

    n = X.shape[0]
    options = {"method": _sklearn_method(n, n_components, _repeated_rows(init), kw, notes)}
    rest = {k: v for k, v in kw.items() if k != "method"}
    tsne = _capturing_tsne()(
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
    embedding = np.asarray(tsne.fit_transform(X), dtype=np.float64)
    reported = float(tsne.kl_divergence_)
    exact = reported
    if n <= EXACT_KL_MAX_N:
        # scikit-learn's kernel is the Student t density with dof = max(n_components - 1, 1).
        dof = tsne.supviz_dof_
        exact = kl_divergence(tsne.supviz_P_, embedding, dof=dof, power=(dof + 1.0) / 2.0)
    return embedding, exact, reported, options
