"""Recovery scores of SAEs against known features, vectorised over instances.

Notation, per instance: true feature directions ``t_i`` (``features [n, d]``; only the rows
where ``mask`` holds count: a toy cell's represented features), decoder directions ``w_j``
(``W_dec [s, d]``, row j = latent j), ``cos_ij = t_i . w_j / (||t_i|| ||w_j||)``; inputs
``x_b``, reconstructions ``x_hat_b``, codes ``f_bj``, true codes ``c_bi`` (feature i's
activity in sample b).

Every function takes stacked arrays with a leading instance axis ``k`` and returns ``[k]``;
:func:`score` takes lists of SAEs of any shapes and groups them. An undefined score is NaN, and
:class:`SAEScores` says why (``notes``); a NaN never stands for a bad score.

Sources of the definitions:

* MMCS -- Sharkey, Braun & Millidge (2022): mean over true features of the max cosine over
  decoder directions.
* Feature MCC (supviz's name) -- the mean correlation coefficient of independent-component analysis
  (Hyvarinen & Morioka 2016; used for SAEs by e.g. O'Neill & Bui 2024) with cosines for
  correlations, sign-aware because SAE codes are non-negative: a one-to-one (Hungarian) matching
  maximising the summed ``max(cos, 0)``, averaged over the true features (:func:`feature_mcc`).
* Recovery rate, dead fraction, L0, FVU -- as in Gao et al. (2024) / SAELens' evaluations;
  shrinkage as the norm ratio of Rajamanoharan et al. (2024)'s shrinkage discussion.
* Firing precision / recall -- of a latent as a detector of its matched feature's activity
  (Bricken et al. 2023 judge features by such specificity and sensitivity).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.scores import reason_text
from supviz.core.validation import check_array, check_float, check_int
from supviz.errors import SupvizError
from supviz.sae import saelens_metrics as sm

if TYPE_CHECKING:  # pragma: no cover
    from supviz.sae.model import SAE

#: Norm below which a direction has none (a dead decoder row, a dropped feature).
ZERO_NORM = 1e-12
#: The recovery threshold of :func:`recovery_rate`.
RECOVERY_COS = 0.9


# -- directions -------------------------------------------------------------------------------


def cosine_matrix(features: np.ndarray, decoder: np.ndarray) -> np.ndarray:
    """``cos_ij`` ``[k, n, s]`` (float64) of true features ``[k, n, d]`` and decoder rows ``[k, s, d]``.

    NaN where either vector has norm <= 1e-12 (no direction).
    """
    T = np.asarray(features, dtype=np.float64)
    W = np.asarray(decoder, dtype=np.float64)
    tn = np.linalg.norm(T, axis=-1)  # (k, n)
    wn = np.linalg.norm(W, axis=-1)  # (k, s)
    cos = np.einsum("knd,ksd->kns", T, W) / (
        np.where(tn > ZERO_NORM, tn, 1.0)[:, :, None] * np.where(wn > ZERO_NORM, wn, 1.0)[:, None, :]
    )
    cos[np.broadcast_to(~(tn > ZERO_NORM)[:, :, None], cos.shape)] = np.nan
    cos[np.broadcast_to(~(wn > ZERO_NORM)[:, None, :], cos.shape)] = np.nan
    return cos


def max_cosines(features: np.ndarray, decoder: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per true feature, ``max_j cos_ij`` ``[k, n]``; NaN for features outside ``mask`` or without a direction."""
    cos = cosine_matrix(features, decoder)
    valid = ~np.isnan(cos)
    best = np.where(valid.any(-1), np.max(np.where(valid, cos, -np.inf), axis=-1), np.nan)
    if mask is not None:
        best = np.where(np.asarray(mask, dtype=bool), best, np.nan)
    return best


def mmcs(features: np.ndarray, decoder: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean max cosine similarity ``[k]`` (Sharkey et al. 2022).

    ``MMCS = (1 / |T|) sum_{i in T} max_j cos(t_i, w_j)`` over the true features T (``mask``).
    NaN when T is empty or no decoder row has a direction.
    """
    return _nanmean_or_nan(max_cosines(features, decoder, mask))


def recovery_rate(
    features: np.ndarray, decoder: np.ndarray, mask: np.ndarray | None = None, *, threshold: float = RECOVERY_COS
) -> np.ndarray:
    """Fraction of true features with some decoder row at ``cos >= threshold`` ``[k]``.

    ``(1 / |T|) #{i in T : max_j cos(t_i, w_j) >= threshold}`` (default 0.9). NaN when T is empty.
    """
    thr = check_float("threshold", threshold, min_value=-1.0, max_value=1.0)
    best = max_cosines(features, decoder, mask)
    defined = ~np.isnan(best)
    hits = np.where(defined, best >= thr, False).sum(-1)
    n = defined.sum(-1)
    return np.where(n > 0, hits / np.maximum(n, 1), np.nan)


def feature_mcc(
    features: np.ndarray, decoder: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign-aware one-to-one matched cosine, averaged over the true features ``[k]``; the matched latent
    ``[k, n]`` and its cosine ``[k, n]``.

    supviz's own score (not SAELens' ``mcc``, see :func:`saelens_mcc`). Every supviz inference
    activation gives non-negative codes (``f >= 0``), so latent j adds ``f_j w_j`` with ``f_j >= 0``
    to a reconstruction: a decoder row at ``-t_i`` cannot represent ``t_i``, and a latent is worth
    ``cos_ij^+ = max(cos_ij, 0)`` to feature i. A Hungarian assignment
    (:func:`scipy.optimize.linear_sum_assignment`) pairs each true feature with at most one latent
    and each latent with at most one feature, maximising ``sum cos^+``;
    ``feature_mcc = (1 / |T|) sum_{matched (i, j)} cos^+(t_i, w_j)``. A feature left unmatched
    (fewer latents than features) or matched only at ``cos <= 0`` counts 0 and has latent -1 and
    cosine NaN. The matching of the mean correlation coefficient (Hyvarinen & Morioka 2016; for
    SAEs O'Neill & Bui 2024), with the sign kept because the codes are one-signed. NaN when T is
    empty or no decoder row has a direction.
    """
    from scipy.optimize import linear_sum_assignment

    cos = cosine_matrix(features, decoder)
    k, n, _s = cos.shape
    m = np.ones((k, n), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    latent = np.full((k, n), -1, dtype=np.int64)
    matched = np.full((k, n), np.nan)
    out = np.full(k, np.nan)
    for i in range(k):
        rows = np.flatnonzero(m[i] & ~np.isnan(cos[i]).all(-1))
        cols = np.flatnonzero(~np.isnan(cos[i]).all(0))
        if rows.size == 0 or cols.size == 0 or not m[i].any():
            continue
        sub = np.maximum(np.nan_to_num(cos[i][np.ix_(rows, cols)], nan=0.0), 0.0)  # cos^+
        r, c = linear_sum_assignment(sub, maximize=True)
        pos = sub[r, c] > 0
        latent[i, rows[r[pos]]] = cols[c[pos]]
        matched[i, rows[r[pos]]] = sub[r[pos], c[pos]]
        out[i] = sub[r, c].sum() / m[i].sum()
    return out, latent, matched


def random_mmcs_expectation(d: int, n_latents: int) -> float:
    """The expected MMCS of ``n_latents`` independent uniformly random directions in ``d`` dimensions.

    For a fixed unit vector t and a uniform unit vector w in R^d, ``u = (1 + t.w) / 2`` is
    ``Beta((d-1)/2, (d-1)/2)`` (d >= 2), so ``P(t.w <= c) = I_{(1+c)/2}((d-1)/2, (d-1)/2)``
    (regularised incomplete beta). The max M of s independent cosines has CDF ``F(c)^s`` and
    ``E[M] = 1 - int_{-1}^{1} F(c)^s dc``; by rotation invariance every true feature has this
    expectation, so MMCS does too, whatever the true features are. For d = 1 the cosines are
    +-1 with probability 1/2: ``E[M] = 1 - 2^(1-s)``.
    """
    from scipy import integrate, special

    d = check_int("d", d, min_value=1)
    s = check_int("n_latents", n_latents, min_value=1)
    if d == 1:
        return 1.0 - 2.0 ** (1 - s)
    a = (d - 1) / 2.0

    def cdf_pow(c: float) -> float:
        return float(special.betainc(a, a, (1.0 + c) / 2.0)) ** s

    val, _err = integrate.quad(cdf_pow, -1.0, 1.0, limit=200, points=[0.0])
    return 1.0 - val


# -- codes and reconstructions ----------------------------------------------------------------


def dead_fraction(codes: np.ndarray) -> np.ndarray:
    """Fraction of latents that never fire (``f_bj = 0`` for every sample b) ``[k]``; codes ``[k, N, s]``."""
    F = np.asarray(codes)
    return (~(F != 0).any(axis=1)).mean(axis=-1)


def l0(codes: np.ndarray) -> np.ndarray:
    """Mean number of firing latents per sample ``(1/N) sum_b #{j : f_bj != 0}`` ``[k]``."""
    return (np.asarray(codes) != 0).sum(-1).mean(-1)


def true_l0(true_codes: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean number of active true features per sample ``(1/N) sum_b #{i in T : c_bi != 0}`` ``[k]``.

    Only the features in ``mask`` count (a toy cell's represented ones: the others barely move h).
    """
    C = np.asarray(true_codes) != 0
    if mask is not None:
        C = C & np.asarray(mask, dtype=bool)[:, None, :]
    return C.sum(-1).mean(-1)


def fvu(inputs: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Fraction of variance unexplained ``sum_b ||x_b - x_hat_b||^2 / sum_b ||x_b - mean(x)||^2`` ``[k]``.

    NaN where the inputs do not vary (the denominator is 0).
    """
    X = np.asarray(inputs, dtype=np.float64)
    R = np.asarray(reconstructions, dtype=np.float64)
    num = ((X - R) ** 2).sum(axis=(1, 2))
    den = ((X - X.mean(axis=1, keepdims=True)) ** 2).sum(axis=(1, 2))
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def shrinkage(inputs: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Mean norm ratio ``||x_hat_b|| / ||x_b||`` over the samples with ``x_b != 0`` ``[k]`` (1 = no shrinkage).

    L1 penalties shrink reconstructions towards 0 (Rajamanoharan et al. 2024, Wright & Sharkey
    2024). NaN when every input is 0.
    """
    X = np.asarray(inputs, dtype=np.float64)
    R = np.asarray(reconstructions, dtype=np.float64)
    xn = np.linalg.norm(X, axis=-1)
    rn = np.linalg.norm(R, axis=-1)
    ok = xn > ZERO_NORM
    ratio = np.where(ok, rn / np.where(ok, xn, 1.0), 0.0)
    n = ok.sum(-1)
    return np.where(n > 0, ratio.sum(-1) / np.maximum(n, 1), np.nan)


def firing_precision_recall(
    codes: np.ndarray, true_codes: np.ndarray, matched_latent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each matched latent as a detector of its feature's activity.

    For feature i matched to latent j (``matched_latent[k, i] = j``):
    ``precision_i = #{b : f_bj > 0 and c_bi > 0} / #{b : f_bj > 0}`` and
    ``recall_i = #{b : f_bj > 0 and c_bi > 0} / #{b : c_bi > 0}``. Per-feature values ``[k, n]``
    are NaN where unmatched, where the latent never fires (precision) or the feature is never
    active (recall); the summaries ``[k]`` are their means over defined entries (NaN if none).

    Returns
    -------
    precision, recall : np.ndarray [k]
    precision_per_feature, recall_per_feature : np.ndarray [k, n]
    """
    F = np.asarray(codes) > 0  # (k, N, s)
    C = np.asarray(true_codes) > 0  # (k, N, n)
    J = np.asarray(matched_latent)
    k, _N, n = C.shape
    prec = np.full((k, n), np.nan)
    rec = np.full((k, n), np.nan)
    for i in range(k):
        feats = np.flatnonzero(J[i] >= 0)
        if feats.size == 0:
            continue
        fires = F[i][:, J[i, feats]]  # (N, f)
        active = C[i][:, feats]
        both = (fires & active).sum(0)
        nf, na = fires.sum(0), active.sum(0)
        prec[i, feats] = np.where(nf > 0, both / np.maximum(nf, 1), np.nan)
        rec[i, feats] = np.where(na > 0, both / np.maximum(na, 1), np.nan)
    return _nanmean_or_nan(prec), _nanmean_or_nan(rec), prec, rec


# -- everything at once -----------------------------------------------------------------------

#: supviz's own summary columns of :class:`SAEScores`, with their definitions.
OWN_COLUMNS: dict[str, str] = {
    "mmcs": "mean over true features of the max cosine to a decoder row (Sharkey et al. 2022)",
    "feature_mcc": "sign-aware one-to-one (Hungarian) matched cosine max(cos, 0), mean over the true features "
    "(unmatched features count 0)",
    "recovery_rate": "fraction of true features with a decoder row at cos >= 0.9",
    "dead_fraction": "fraction of latents that never fire on the evaluation inputs",
    "l0": "mean firing latents per evaluation input (SAELens' sae_l0)",
    "true_l0": "mean active true features per evaluation input (SAELens' true_l0 over the counted features)",
    "fvu": "fraction of variance unexplained, sum||x - x_hat||^2 / sum||x - mean x||^2",
    "shrinkage": "mean ||x_hat|| / ||x|| over nonzero inputs (1 = none; SAELens' shrinkage where every ||x|| > 1e-6)",
    "firing_precision": "mean over matched features of P(feature active | its matched latent fires)",
    "firing_recall": "mean over matched features of P(matched latent fires | feature active)",
}
#: SAELens' synthetic-data scores under SAELens' names and definitions (:mod:`supviz.sae.saelens_metrics`),
#: over the counted true features.
SAELENS_COLUMNS: dict[str, str] = {
    "mcc": "SAELens' MCC: Hungarian-matched |cos|, mean over the min(n, d_sae) matched pairs",
    "uniqueness": "SAELens' uniqueness: distinct best-matching (argmax |cos|) features per latent",
    "precision": "SAELens' precision: mean over all latents of TP/(TP+FP) against the argmax feature (undefined: 0)",
    "recall": "SAELens' recall: mean over all latents of TP/(TP+FN) against the argmax feature (undefined: 0)",
    "f1_score": "SAELens' F1: mean over all latents of the F1 against the argmax feature (dead latents: 0)",
    "accuracy": "SAELens' accuracy: mean over all latents of (TP+TN)/N against the argmax feature",
    "explained_variance": "SAELens' explained variance, 1 - E||x - x_hat||^2 / (E||x||^2 - ||E x||^2)",
    "dead_latents": "SAELens' dead_latents: latents that never fire on the evaluation inputs (a count)",
}
#: Every summary column of :class:`SAEScores`, with its definition.
SCORE_COLUMNS: dict[str, str] = {**OWN_COLUMNS, **SAELENS_COLUMNS}


#: Units of the score columns ("1": a unitless ratio or cosine).
SCORE_UNITS: dict[str, str] = {
    "mmcs": "cosine",
    "feature_mcc": "cosine",
    "recovery_rate": "fraction of true features",
    "dead_fraction": "fraction of latents",
    "l0": "latents per input",
    "true_l0": "features per input",
    "fvu": "1",
    "shrinkage": "1",
    "firing_precision": "probability",
    "firing_recall": "probability",
    "mcc": "cosine",
    "uniqueness": "fraction of latents",
    "precision": "probability",
    "recall": "probability",
    "f1_score": "1",
    "accuracy": "probability",
    "explained_variance": "1",
    "dead_latents": "count",
}
#: Every column of :meth:`SAEScores.to_frame`: (unit, definition).
FRAME_COLUMNS: dict[str, tuple[str, str]] = {
    "label": ("", "the SAE's label"),
    "n_true": ("count", "true features counted (the represented ones of a toy cell; 0: none known)"),
    "d_sae": ("count", "latents of the SAE"),
    **{c: (SCORE_UNITS[c], d) for c, d in SCORE_COLUMNS.items()},
    "notes": ("", "why a score is NaN, as 'column: reason' joined by '; '"),
}


@dataclass(eq=False)
class SAEScores:
    """Recovery scores of k SAEs: one number per SAE and column, NaN with a reason where undefined.

    Attributes
    ----------
    labels : list[str]
    n_true : np.ndarray [k] int
        True features counted (0 where none are known).
    d_sae : np.ndarray [k] int
    mmcs, feature_mcc, recovery_rate, dead_fraction, l0, true_l0, fvu, shrinkage, firing_precision, \
    firing_recall : np.ndarray [k]
        supviz's scores, see :data:`OWN_COLUMNS`.
    mcc, uniqueness, precision, recall, f1_score, accuracy, explained_variance, dead_latents : np.ndarray [k]
        SAELens' scores under SAELens' names, see :data:`SAELENS_COLUMNS`.
    max_cos : list[np.ndarray [n]]
        Per true feature, its best cosine (NaN outside the counted features).
    matched_latent : list[np.ndarray [n] int]
        Per true feature, the latent the Hungarian matching gave it (-1: none).
    matched_cos : list[np.ndarray [n]]
        That pair's cosine (positive; NaN where unmatched).
    notes : list[dict[str, str]]
        Per SAE, ``{column: why it is NaN}``.
    """

    labels: list[str]
    n_true: np.ndarray
    d_sae: np.ndarray
    mmcs: np.ndarray
    feature_mcc: np.ndarray
    recovery_rate: np.ndarray
    dead_fraction: np.ndarray
    l0: np.ndarray
    true_l0: np.ndarray
    fvu: np.ndarray
    shrinkage: np.ndarray
    firing_precision: np.ndarray
    firing_recall: np.ndarray
    mcc: np.ndarray
    uniqueness: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1_score: np.ndarray
    accuracy: np.ndarray
    explained_variance: np.ndarray
    dead_latents: np.ndarray
    max_cos: list[np.ndarray] = field(default_factory=list)
    matched_latent: list[np.ndarray] = field(default_factory=list)
    matched_cos: list[np.ndarray] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        with np.errstate(all="ignore"):
            m = float(np.nanmean(self.mmcs)) if np.isfinite(self.mmcs).any() else math.nan
        return f"SAEScores({len(self)} SAE(s), mean MMCS {m:.3f}; .to_frame() for the table)"

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per SAE (NaN as float nan; ``notes`` joined)."""
        out = []
        for i, label in enumerate(self.labels):
            row: dict[str, Any] = {"label": label, "n_true": int(self.n_true[i]), "d_sae": int(self.d_sae[i])}
            for col in SCORE_COLUMNS:
                row[col] = float(getattr(self, col)[i])
            row["notes"] = reason_text(self.notes[i]) if self.notes else ""
            out.append(row)
        return out

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per SAE.

        ``df.attrs["units"]`` and ``df.attrs["definitions"]`` map every column to its unit and
        definition (as the frames of :mod:`supviz.toy` and :mod:`supviz.metrics`);
        ``df.attrs["columns"]`` keeps the score definitions alone.
        """
        import pandas as pd

        df = pd.DataFrame(self.rows())
        df.attrs["units"] = {c: FRAME_COLUMNS[c][0] for c in df.columns}
        df.attrs["definitions"] = {c: FRAME_COLUMNS[c][1] for c in df.columns}
        df.attrs["columns"] = dict(SCORE_COLUMNS)
        return df


def score(
    saes: "Sequence[SAE]",
    inputs: Any,
    *,
    features: Any = None,
    feature_masks: Any = None,
    true_codes: Any = None,
    threshold: float = RECOVERY_COS,
    device: str = "cpu",
) -> SAEScores:
    """Every score of every SAE on its evaluation inputs.

    Parameters
    ----------
    saes : SAE or sequence of SAE
        supviz SAEs, SAELens SAE objects or SAE folder paths (each read by :func:`supviz.sae.model.as_sae`).
    inputs : array [N, d] (shared) or sequence of arrays [N_i, d_i]
        Evaluation inputs (e.g. :meth:`~supviz.sae.sources.Source.evaluation`), N >= 1.
    features : array [n, d], or sequence (one per SAE, None where unknown), optional
        True feature directions (rows). Without them the recovery scores are NaN.
    feature_masks : array [n] bool, or sequence, optional
        Which features count (default: all).
    true_codes : array [N, n], or sequence, optional
        True feature activity per input, for the true L0 and firing precision / recall.
    threshold : float
        Cosine of :func:`recovery_rate`.
    device : str
        Torch device for encoding.

    Returns
    -------
    SAEScores
        Every NaN has its reason in ``notes``.

    Raises
    ------
    SupvizError
        No SAEs, something else than SAEs (a dict of SAEs included: pass its values), inputs without rows,
        shapes that do not match, a ``device`` torch cannot use here.
    """
    from supviz.sae.model import SAE, as_sae, encode

    if isinstance(saes, dict):  # iterating it would read its keys as SAEs
        raise SupvizError(
            f"`saes` must be an SAE or a sequence of SAEs; got a dict (keys {list(saes)[:3]}): pass list(d.values())."
        )
    if isinstance(saes, (SAE, str, os.PathLike)) or hasattr(saes, "state_dict"):
        saes = [saes]  # one SAE (a folder's path is one SAE, not a sequence of characters)
    try:
        saes = list(saes)
    except TypeError:
        raise SupvizError(f"`saes` must be an SAE or a sequence of SAEs; got {type(saes).__name__}.") from None
    k = len(saes)
    if k == 0:
        raise SupvizError("`saes` must hold at least one SAE; got none.")
    saes = [as_sae(s, f"saes[{i}]") for i, s in enumerate(saes)]
    X = _per_sae("inputs", inputs, k, required=True)
    T = _per_sae("features", features, k)
    M = _per_sae("feature_masks", feature_masks, k, dtype=bool)
    C = _per_sae("true_codes", true_codes, k)
    for i in range(k):
        if X[i].shape[0] == 0:
            raise SupvizError(f"inputs {i} must hold at least one row to evaluate on; got shape {X[i].shape}.")
        if X[i].shape[1] != saes[i].d_in:
            raise SupvizError(f"inputs {i} must have {saes[i].d_in} columns (the SAE's d_in); got shape {X[i].shape}.")
        if T[i] is not None and (T[i].ndim != 2 or T[i].shape[1] != saes[i].d_in):
            raise SupvizError(f"features {i} must be [n, {saes[i].d_in}]; got shape {T[i].shape}.")
        if M[i] is not None and (T[i] is None or M[i].shape != (T[i].shape[0],)):
            raise SupvizError(f"feature_masks {i} must hold one boolean per feature of features {i}.")
        if C[i] is not None:
            if C[i].shape[0] != X[i].shape[0]:
                raise SupvizError(f"true_codes {i} must have one row per input ({X[i].shape[0]}); got {C[i].shape[0]}.")
            if T[i] is not None and C[i].shape[1] != T[i].shape[0]:
                raise SupvizError(
                    f"true_codes {i} must have one column per feature ({T[i].shape[0]}); got {C[i].shape[1]}."
                )
    cols = {c: np.full(k, np.nan) for c in SCORE_COLUMNS}
    n_true = np.zeros(k, dtype=np.int64)
    notes: list[dict[str, str]] = [{} for _ in range(k)]
    max_cos: list[np.ndarray] = [np.zeros(0)] * k
    matched_latent: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * k
    matched_cos: list[np.ndarray] = [np.zeros(0)] * k
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(saes):
        key = (s.d_in, s.d_sae, None if T[i] is None else T[i].shape[0], C[i] is not None)
        groups.setdefault(key, []).append(i)
    for (_d, _s, n_feat, has_codes), idx in groups.items():
        # directions: vectorised over the group
        if n_feat is not None:
            Tg = np.stack([T[i] for i in idx])
            Mg = np.stack([np.ones(n_feat, dtype=bool) if M[i] is None else M[i] for i in idx])
            Wg = np.stack([saes[i].W_dec for i in idx])
            best = max_cosines(Tg, Wg, Mg)
            cols["mmcs"][idx] = _nanmean_or_nan(best)
            cols["recovery_rate"][idx] = recovery_rate(Tg, Wg, Mg, threshold=threshold)
            fmcc, latent, mcos = feature_mcc(Tg, Wg, Mg)
            cols["feature_mcc"][idx] = fmcc
        # codes: one SAE at a time (a group's codes together can take gigabytes)
        codes = encode([saes[i] for i in idx], [X[i] for i in idx], device=device)
        for j, i in enumerate(idx):
            F = codes[j][None]
            R = saes[i].decode(codes[j])[None]
            Xi = X[i][None]
            cols["dead_fraction"][i] = dead_fraction(F)[0]
            cols["dead_latents"][i] = sm.dead_latents(F)[0]
            cols["l0"][i] = l0(F)[0]
            cols["fvu"][i] = fvu(Xi, R)[0]
            cols["explained_variance"][i] = sm.explained_variance(Xi, R)[0]
            cols["shrinkage"][i] = shrinkage(Xi, R)[0]
            if n_feat is None:
                for c in _NEEDS_FEATURES:
                    notes[i][c] = "no true features given"
                continue
            counted = Mg[j]
            n_true[i] = int(counted.sum())
            max_cos[i], matched_latent[i], matched_cos[i] = best[j], latent[j], mcos[j]
            if n_true[i] == 0:
                for c in _NEEDS_FEATURES:
                    notes[i][c] = "no represented (counted) true features"
                continue
            if not (np.linalg.norm(Tg[j][counted], axis=1) > ZERO_NORM).any():
                for c in _NEEDS_FEATURES:
                    if c != "true_l0" or not has_codes:
                        notes[i][c] = "no counted true feature has a direction (all-zero rows)"
                if has_codes:
                    cols["true_l0"][i] = true_l0(C[i][None], counted[None])[0]
                continue
            Wi, Ti = saes[i].W_dec[None], Tg[j][counted][None]
            cols["mcc"][i] = sm.mcc(Wi, Ti)[0]
            cols["uniqueness"][i] = sm.uniqueness(Wi, Ti)[0]
            if not (np.linalg.norm(Wg[j], axis=1) > ZERO_NORM).any():
                for c in ("mmcs", "feature_mcc", "recovery_rate"):
                    notes[i][c] = "no decoder row has a direction"
            if has_codes:
                Ci = C[i][None]
                cols["true_l0"][i] = true_l0(Ci, counted[None])[0]
                prec, rec, _p, _r = firing_precision_recall(F, Ci, latent[j][None])
                cols["firing_precision"][i], cols["firing_recall"][i] = prec[0], rec[0]
                for name, v in sm.classification(F, Ci[:, :, counted], Wi, Ti).items():
                    cols[name][i] = v[0]
            else:
                for c in _NEEDS_CODES:
                    notes[i][c] = "no true codes given"
        del codes
    for i in range(k):
        if math.isnan(cols["fvu"][i]):
            notes[i]["fvu"] = "the evaluation inputs do not vary"
        if math.isnan(cols["explained_variance"][i]):
            notes[i]["explained_variance"] = "the evaluation inputs do not vary"
        if math.isnan(cols["shrinkage"][i]):
            notes[i]["shrinkage"] = "every evaluation input is zero"
        for c in ("firing_precision", "firing_recall"):
            if math.isnan(cols[c][i]) and c not in notes[i]:
                notes[i][c] = (
                    "no matched latent fires" if c == "firing_precision" else "no matched feature is active"
                ) + " on the evaluation inputs"
        for c in SCORE_COLUMNS:  # every NaN says why (a safety net: each case above has its own reason)
            if math.isnan(cols[c][i]) and c not in notes[i]:  # pragma: no cover
                notes[i][c] = "undefined on these inputs"
    return SAEScores(
        labels=[s.label or f"sae {i}" for i, s in enumerate(saes)],
        n_true=n_true,
        d_sae=np.array([s.d_sae for s in saes]),
        **cols,
        max_cos=max_cos,
        matched_latent=matched_latent,
        matched_cos=matched_cos,
        notes=notes,
    )


#: The columns that need true features, and of those the ones that need true codes too.
_NEEDS_CODES = ("true_l0", "firing_precision", "firing_recall", "precision", "recall", "f1_score", "accuracy")
_NEEDS_FEATURES = ("mmcs", "feature_mcc", "recovery_rate", "mcc", "uniqueness", *_NEEDS_CODES)


def _nanmean_or_nan(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    n = (~np.isnan(a)).sum(-1)
    return np.where(n > 0, np.nansum(a, axis=-1) / np.maximum(n, 1), np.nan)


def _per_sae(name: str, value: Any, k: int, *, required: bool = False, dtype: Any = np.float32) -> list[Any]:
    if value is None:
        if required:
            raise SupvizError(f"`{name}` is required; got None.")
        return [None] * k
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise SupvizError(f"`{name}` must hold one entry per SAE ({k}); got {len(value)}.")
        return [None if v is None else _array(f"{name}[{i}]", v, dtype) for i, v in enumerate(value)]
    arr = _array(name, value, dtype)
    return [arr] * k


def _array(name: str, value: Any, dtype: Any) -> np.ndarray:
    from supviz.sae import _float32

    if name.startswith("inputs"):
        return _float32.inputs(name, value)
    if name.startswith("features"):
        return _float32.directions(name, value)
    if name.startswith("true_codes"):
        return _float32.activity(name, value)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if dtype is bool:
        arr = np.asarray(value)
        if arr.dtype != np.bool_ or arr.ndim != 1:
            raise SupvizError(f"`{name}` must be a 1-D boolean array; got {arr.dtype} of shape {arr.shape}.")
        return arr
    return check_array(name, value, ndim=2, dtype=dtype)


#: Names renamed in 0.3, kept for one release: old name -> new name (each read warns).
_RENAMED = {"matched_mcc": "feature_mcc"}


def __getattr__(name: str) -> Any:
    """``matched_mcc`` (0.2) is :func:`feature_mcc`, now sign-aware, with a :class:`DeprecationWarning`."""
    if name in _RENAMED:
        import warnings

        new = _RENAMED[name]
        warnings.warn(
            f"supviz.sae.metrics.{name} was renamed: use {new} (matching is now sign-aware; the old name goes in "
            "the next release).",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[new]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
