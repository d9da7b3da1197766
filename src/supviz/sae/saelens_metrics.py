"""SAELens' synthetic-data scores under SAELens' names, with SAELens' definitions
(``sae_lens.synthetic.evals``, 6.54: ``eval_sae_on_synthetic_data``), vectorised over instances.

A number that supviz reports under one of SAELens' names is the number SAELens reports under it
(to 1e-6 on the same SAE and data: ``tests/sae/test_saelens_metrics.py`` against SAELens' own
output). supviz's own scores, defined differently, have names of their own
(:func:`supviz.sae.metrics.feature_mcc`, ``firing_precision`` / ``firing_recall``, ``dead_fraction``).

Notation as in :mod:`supviz.sae.metrics`: true features ``t_i`` (``features [k, n, d]``), decoder rows
``w_j`` (``decoder [k, s, d]``), ``|cos_ij|`` with norms clamped at 1e-8 (a zero row has cosine 0,
as SAELens' ``cosine_similarities``), codes ``f [k, N, s]``, true activations ``c [k, N, n]``.

* ``mcc``: a Hungarian matching of ``|cos|`` (:func:`scipy.optimize.linear_sum_assignment`) over
  ``min(n, s)`` pairs, **averaged over the matched pairs** (with fewer latents than features, the
  unmatched features do not count; supviz's ``feature_mcc`` divides by the features).
* ``uniqueness``: ``#{distinct argmax_i |cos_ij| over latents j} / s``.
* ``precision``, ``recall``, ``f1_score``, ``accuracy``: each latent j as a detector of its argmax
  feature ``i*(j) = argmax_i |cos_ij|`` (``f_bj != 0`` against ``c_bi* > 0``), averaged over **all**
  latents; an undefined precision / recall / F1 (a latent that never fires, a feature never active)
  counts 0, as in SAELens.
* ``explained_variance``: ``1 - E||x - x_hat||^2 / (E||x||^2 - ||E x||^2)``.
* ``sae_l0`` (supviz's ``l0``), ``true_l0`` (``c > 0`` counted over all features), ``dead_latents``
  (count of latents with ``f_bj = 0`` for every b), ``shrinkage`` (mean ``||x_hat|| / ||x||`` over
  inputs with ``||x|| > 1e-6``).

Where SAELens returns a number for an undefined case (0 latents, inputs that do not vary, no input
above the norm floor), these return NaN: SAELens' 0.0 or 1.0 there would look like a score.
"""

from __future__ import annotations

import numpy as np

#: SAELens' norm clamp in ``cosine_similarities``.
COS_NORM_FLOOR = 1e-8
#: SAELens' ``ShrinkageCalculator`` floor on the input norm.
SHRINKAGE_NORM_FLOOR = 1e-6
#: SAELens' ``ExplainedVarianceCalculator`` floor on the total variance.
VARIANCE_FLOOR = 1e-10


def abs_cosines(decoder: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``|cos(w_j, t_i)|`` ``[k, s, n]`` (float64) with norms clamped at 1e-8, as SAELens' ``cosine_similarities``."""
    W = np.asarray(decoder, dtype=np.float64)
    T = np.asarray(features, dtype=np.float64)
    Wn = W / np.maximum(np.linalg.norm(W, axis=-1, keepdims=True), COS_NORM_FLOOR)
    Tn = T / np.maximum(np.linalg.norm(T, axis=-1, keepdims=True), COS_NORM_FLOOR)
    return np.abs(np.einsum("ksd,knd->ksn", Wn, Tn))


def mcc(decoder: np.ndarray, features: np.ndarray) -> np.ndarray:
    """SAELens' ``mean_correlation_coefficient`` ``[k]``: Hungarian-matched ``|cos|``, mean over the
    ``min(n, s)`` matched pairs (source: O'Neill et al. 2024; SAELens ``synthetic/evals.py``). NaN
    without latents or features."""
    from scipy.optimize import linear_sum_assignment

    cos = abs_cosines(decoder, features)
    out = np.full(cos.shape[0], np.nan)
    if cos.shape[1] == 0 or cos.shape[2] == 0:
        return out
    for i in range(cos.shape[0]):
        r, c = linear_sum_assignment(1.0 - cos[i])
        out[i] = cos[i][r, c].mean()
    return out


def best_features(decoder: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Each latent's best-matching true feature ``argmax_i |cos(w_j, t_i)|`` ``[k, s]`` (first on ties)."""
    return abs_cosines(decoder, features).argmax(axis=-1)


def uniqueness(decoder: np.ndarray, features: np.ndarray) -> np.ndarray:
    """SAELens' ``feature_uniqueness`` ``[k]``: distinct best-matching features over the latent count. NaN
    without latents or features."""
    k, s = np.shape(decoder)[0], np.shape(decoder)[1]
    if s == 0 or np.shape(features)[1] == 0:
        return np.full(k, np.nan)
    best = best_features(decoder, features)
    return np.array([np.unique(b).size / s for b in best], dtype=np.float64)


def classification(
    codes: np.ndarray, true_codes: np.ndarray, decoder: np.ndarray, features: np.ndarray
) -> dict[str, np.ndarray]:
    """SAELens' ``compute_classification_metrics``: ``{"precision", "recall", "f1_score", "accuracy"}``,
    each ``[k]``, the mean over all latents of latent j (fires: ``f_bj != 0``) as a detector of its
    best-matching feature (active: ``c_bi > 0``); undefined per-latent values count 0. NaN without
    latents."""
    F = np.asarray(codes) != 0  # (k, N, s)
    C = np.asarray(true_codes) > 0  # (k, N, n)
    k, _N, s = F.shape
    if s == 0 or C.shape[2] == 0:
        return {m: np.full(k, np.nan) for m in ("precision", "recall", "f1_score", "accuracy")}
    best = best_features(decoder, features)  # (k, s)
    G = np.take_along_axis(C, best[:, None, :], axis=2)  # (k, N, s): is latent j's feature active
    tp = (F & G).sum(1).astype(np.float64)
    fp = (F & ~G).sum(1).astype(np.float64)
    fn = (~F & G).sum(1).astype(np.float64)
    tn = (~F & ~G).sum(1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        rec = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    acc = (tp + tn) / np.maximum(tp + fp + fn + tn, 1e-8)
    return {"precision": prec.mean(-1), "recall": rec.mean(-1), "f1_score": f1.mean(-1), "accuracy": acc.mean(-1)}


def explained_variance(inputs: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """SAELens' explained variance ``1 - E||x - x_hat||^2 / (E||x||^2 - ||E x||^2)`` ``[k]`` (float64).

    NaN where the total variance is below 1e-10 (SAELens: 1.0 or 0.0 there). Equals ``1 - fvu``
    (:func:`supviz.sae.metrics.fvu`) up to rounding.
    """
    X = np.asarray(inputs, dtype=np.float64)
    R = np.asarray(reconstructions, dtype=np.float64)
    total = (X**2).sum(-1).mean(-1) - (X.mean(1) ** 2).sum(-1)
    mse = ((X - R) ** 2).sum(-1).mean(-1)
    return np.where(total >= VARIANCE_FLOOR, 1.0 - mse / np.where(total >= VARIANCE_FLOOR, total, 1.0), np.nan)


def dead_latents(codes: np.ndarray) -> np.ndarray:
    """SAELens' ``dead_latents`` ``[k]`` int: latents with ``f_bj = 0`` for every input b."""
    return (~(np.asarray(codes) != 0).any(axis=1)).sum(-1)


def saelens_l0(codes: np.ndarray) -> np.ndarray:
    """SAELens' ``sae_l0`` / ``true_l0`` ``[k]``: mean count of nonzero entries per row (``!= 0``)."""
    return (np.asarray(codes) != 0).sum(-1).mean(-1)


def shrinkage(inputs: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """SAELens' ``shrinkage`` ``[k]``: mean ``||x_hat|| / ||x||`` over inputs with ``||x|| > 1e-6``; NaN if none."""
    X = np.asarray(inputs, dtype=np.float64)
    R = np.asarray(reconstructions, dtype=np.float64)
    xn, rn = np.linalg.norm(X, axis=-1), np.linalg.norm(R, axis=-1)
    ok = xn > SHRINKAGE_NORM_FLOOR
    n = ok.sum(-1)
    ratio = np.where(ok, rn / np.where(ok, xn, 1.0), 0.0).sum(-1)
    return np.where(n > 0, ratio / np.maximum(n, 1), np.nan)
