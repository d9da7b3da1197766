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
- **Iterations.** ``n_iter`` counts all iterations including the ``early_exaggeration_iter``
  early-exaggeration ones (openTSNE: ``n_iter - early_exaggeration_iter`` further iterations;
  scikit-learn: ``max_iter = n_iter``, with its fixed 250 exaggerated iterations).
- **Seeds.** ``random_state`` becomes one int (:func:`supviz.seeding.int_seed`); both backends are
  then deterministic (openTSNE runs with ``n_jobs=1``).
- **Collapse.** When all distances of ``X`` tie (``diag(N)``), the input affinities are uniform and
  the KL optimum puts every point on one spot; a note says so when it happens.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from supviz._validation import check_array, check_choice, check_float, check_int, fail
from supviz.dr.layout import Layout, add_note, check_layout_input, check_n_components, note_if_collapsed, pca_init
from supviz.seeding import SeedLike, int_seed

logger = logging.getLogger(__name__)

BACKENDS = ("opentsne", "sklearn")
_INITS = ("auto", "pca", "random")
#: scikit-learn's fixed number of early-exaggeration iterations.
SKLEARN_EXAGGERATION_ITER = 250


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
    emb = pca_init(X, n_components, rng=rng, max_abs=1.0)
    return emb * (1e-4 / emb[:, 0].std()), "pca"


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
    metric : str, default "euclidean"
        Input metric.
    random_state : int, numpy Generator, SeedSequence or None
        Equal seeds give equal layouts.
    clamp : bool, default False
        Clamp ``perplexity`` to ``(N - 1) / 3`` (logged) instead of raising.
    **kw
        Further backend arguments (e.g. openTSNE ``theta``, ``exaggeration``).

    Returns
    -------
    Layout
        ``info["kl_divergence"]`` is the backend's final KL divergence.

    Raises
    ------
    SupvizError
        Non-finite ``X``, N < 3, ``perplexity`` or another parameter out of range.
    """
    pts = check_layout_input(X, method="t-SNE", min_points=3)
    n = pts.shape[0]
    notes: list[str] = []
    backend = check_choice("backend", backend, BACKENDS)
    perplexity = _check_perplexity(perplexity, n, clamp, notes)
    n_components = check_n_components(n_components, n)
    early_exaggeration = check_float("early_exaggeration", early_exaggeration, min_value=1.0)
    if not (isinstance(learning_rate, str) and learning_rate == "auto"):
        learning_rate = check_float("learning_rate", learning_rate, min_value=0.0, min_inclusive=False)
    if backend == "sklearn":
        n_iter = check_int("n_iter", n_iter, min_value=SKLEARN_EXAGGERATION_ITER)
        if early_exaggeration_iter != SKLEARN_EXAGGERATION_ITER:
            add_note(notes, "tsne backend 'sklearn' always runs %d early-exaggeration iterations; "
                     "early_exaggeration_iter=%s ignored.", SKLEARN_EXAGGERATION_ITER, early_exaggeration_iter)
            early_exaggeration_iter = SKLEARN_EXAGGERATION_ITER
    else:
        early_exaggeration_iter = check_int("early_exaggeration_iter", early_exaggeration_iter, min_value=0)
        n_iter = check_int("n_iter", n_iter, min_value=early_exaggeration_iter + 1)
    seed = None if random_state is None else int_seed(random_state)
    init_value, init_name = _resolve_init(init, pts, n_components, np.random.default_rng(seed))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if backend == "opentsne":
            embedding, kl, extra = _run_opentsne(
                pts, perplexity, n_components, n_iter, early_exaggeration_iter, early_exaggeration,
                learning_rate, init_value, metric, seed, kw,
            )
        else:
            embedding, kl, extra = _run_sklearn(
                pts, perplexity, n_components, n_iter, early_exaggeration, learning_rate, init_value, metric, seed, kw
            )
    for w in caught:
        add_note(notes, "%s warned: %s", backend, str(w.message).replace("\n", " ").strip())
    if not np.isfinite(embedding).all():
        raise fail("X", f"points that {backend} can lay out (it returned non-finite coordinates)", f"N={n}")
    note_if_collapsed(embedding, notes, "tsne")
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
        **extra,
        **kw,
    }
    info = {"kl_divergence": kl, "deterministic": seed is not None}
    return Layout(embedding=embedding, method="tsne", params=params, info=info, notes=notes)


def _run_opentsne(
    X: np.ndarray,
    perplexity: float,
    n_components: int,
    n_iter: int,
    ee_iter: int,
    ee: float,
    learning_rate: Any,
    init: Any,
    metric: str,
    seed: int | None,
    kw: dict[str, Any],
) -> tuple[np.ndarray, float, dict[str, Any]]:
    import openTSNE

    n = X.shape[0]
    options: dict[str, Any] = {
        "neighbors": "exact" if n < 1000 else "auto",
        "negative_gradient_method": "fft" if n >= 10_000 else "bh",
    }
    if options["negative_gradient_method"] == "bh":
        options["theta"] = 0.0 if n <= 100 else 0.5
    options.update({k: kw[k] for k in ("neighbors", "negative_gradient_method", "theta") if k in kw})
    rest = {k: v for k, v in kw.items() if k not in options}
    n_jobs = rest.pop("n_jobs", 1 if seed is not None else -1)
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
        **options,
        **rest,
    )
    emb = tsne.fit(X)
    return np.asarray(emb, dtype=np.float64), float(emb.kl_divergence), options


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
) -> tuple[np.ndarray, float, dict[str, Any]]:
    from sklearn.manifold import TSNE

    n = X.shape[0]
    options = {"method": kw.get("method", "exact" if n < 1000 or n_components > 3 else "barnes_hut")}
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
    return np.asarray(emb, dtype=np.float64), float(tsne.kl_divergence_), options
