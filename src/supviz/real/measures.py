"""What can be measured in a real network's latent space, where no ground-truth features exist.

Every function returns its value and, where the value is undefined for its input, NaN together
with a one-line reason (never a number that looks fine). :class:`Measures` carries a set of them
the way :class:`supviz.metrics.LayoutMetrics` does.

Definitions and sources:

* **k-NN label accuracy** -- the mean accuracy of scikit-learn's ``KNeighborsClassifier``
  (``n_neighbors = k``, Euclidean, uniform weights) over a stratified, shuffled ``folds``-fold
  cross-validation (``sklearn.model_selection.cross_val_score`` with ``StratifiedKFold``): how
  well each point's class is predicted by its neighbours, in a space or in a picture.
* **Silhouette** -- Rousseeuw (1987), ``sklearn.metrics.silhouette_score`` (Euclidean): mean over
  points of ``(b - a) / max(a, b)``, ``a`` the mean distance to the own class, ``b`` to the
  nearest other class; in [-1, 1], 1 = compact, well separated classes.
* **Trustworthiness / continuity** -- Venna & Kaski (2001/2006), :mod:`supviz.metrics` (tie-aware).
* **Effective feature count** -- Bereska, Tzifa-Kratira, Samavi & Gavves (2025), "Superposition
  as Lossy Compression: Measure with Sparse Autoencoders and Connect to Adversarial
  Vulnerability", TMLR (arXiv:2512.13568; code: github.com/leonardbereska/superposition-measurement,
  ``get_feature_distribution`` / ``calculate_feature_metrics``): with SAE codes ``f [N, s]``,
  ``p_j = mean_b |f_bj| / sum_l mean_b |f_bl|``, ``H = -sum_j p_j ln p_j`` and ``F = exp(H)``,
  the number of equally used latents that would carry the same entropy; ``F / d`` (``d`` the
  layer's width) is their superposition ratio psi. Here each latent's mass is
  ``mean_b |f_bj| ||W_dec,j||`` (its share of the reconstruction); for unit-norm decoder rows (every
  architecture but relu_l1_decnorm) this is exactly their ``p``, and it makes the count invariant
  to how an architecture splits scale between codes and decoder. ``0 ln 0 = 0``
  (``scipy.special.entr``), where their code adds 1e-10 to every ``p_j``.
* **Stability across seeds** -- the mean max cosine (MMCS, Sharkey, Braun & Millidge 2022) of one
  SAE's decoder rows against another's, symmetrised (the mean of both directions) and averaged
  over the pairs of seeds; **against a larger dictionary** -- the MMCS of the decoder rows of the
  SAE against those of an SAE with a larger dictionary on the same activations (does the larger
  dictionary contain the smaller one's directions?). Both in [-1, 1]; rows without a direction
  (norm <= 1e-12) are left out.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz.core.geometry import points_coincide
from supviz.core.scores import Scores
from supviz.core.seeding import SeedLike, int_seed
from supviz.core.validation import check_array, check_int
from supviz.errors import SupvizError

log = logging.getLogger(__name__)

NAN = float("nan")
NO_LABELS = "no labels given"
COLLAPSED = "picture collapsed: all points at one spot"


@dataclass(eq=False, frozen=True, repr=False)
class Measures(Scores):
    """A read-only mapping ``name -> float`` and, for each NaN, why (``reasons``:
    :class:`supviz.core.scores.Scores`)."""


def _put(values: dict[str, float], reasons: dict[str, str], name: str, value: float, reason: str | None) -> None:
    values[name] = NAN if reason is not None else float(value)
    if reason is not None:
        reasons[name] = reason


# -- labels -------------------------------------------------------------------------------------


def check_labels(labels: Any, n: int, *, name: str = "labels") -> np.ndarray:
    """Labels ``[n]`` (ints or strings) as a numpy array; a one-line error otherwise."""
    arr = np.asarray(labels.detach().cpu().numpy() if hasattr(labels, "detach") else labels)
    if arr.ndim != 1 or len(arr) != n:
        raise SupvizError(f"`{name}` must hold one label per row ({n}); got shape {list(arr.shape)}.")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise SupvizError(f"`{name}` must not hold NaN or inf; got {int((~np.isfinite(arr)).sum())}.")
        if not np.array_equal(arr, np.round(arr)):
            raise SupvizError(f"`{name}` must be class labels (ints or strings); got non-integer numbers.")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iuUSb":
        raise SupvizError(f"`{name}` must be class labels (ints or strings); got dtype {arr.dtype}.")
    return arr


def knn_label_accuracy(
    X: Any, labels: Any, *, k: int = 10, folds: int = 5, seed: SeedLike = 0, collapsed: bool = False
) -> tuple[float, str | None]:
    """Cross-validated k-NN label accuracy of points ``X [N, d]`` and ``labels [N]``.

    The mean test accuracy of ``KNeighborsClassifier(n_neighbors=k)`` over
    ``StratifiedKFold(folds, shuffle=True, random_state=int_seed(seed))``, exactly as
    ``cross_val_score`` computes it (ties between equidistant neighbours are broken by
    scikit-learn).

    Not tie-aware, unlike the neighbourhood measures of :mod:`supviz.metrics` (the expectation
    over random tie orders): a majority vote is not linear in the neighbours' memberships, so its
    expectation is a sum over the multivariate hypergeometric draws of each tied block's classes
    (and the vote's own ties), not a closed form per pair; scikit-learn's tree order decides, and
    the value is the reference a reader can recompute with scikit-learn.

    Parameters
    ----------
    X : array-like [N, d]
        A space (pixels, a hidden layer, SAE codes) or a picture of one (``[N, 2]``).
    labels : array-like [N] or None
    k : int, default 10
        Neighbours voting.
    folds : int, default 5
        Cross-validation folds (>= 2).
    seed : int, Generator, SeedSequence or None
        The folds' shuffle.
    collapsed : bool
        The picture's method says it collapsed.

    Returns
    -------
    (accuracy, reason)
        Accuracy in [0, 1], or NaN and why: no labels; fewer than 2 classes; a class with fewer
        members than ``folds``; ``k`` larger than a training fold; all points at one spot.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X = check_array("X", X, ndim=2)
    k = check_int("k", k, min_value=1)
    folds = check_int("folds", folds, min_value=2)
    if labels is None:
        return NAN, NO_LABELS
    y = check_labels(labels, len(X))
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        return NAN, "fewer than 2 classes: nothing to tell apart"
    if counts.min() < folds:
        return NAN, f"class {classes[counts.argmin()]!r} has {counts.min()} member(s), fewer than the {folds} folds"
    smallest_fit = len(y) - math.ceil(len(y) / folds)
    if k > smallest_fit:
        return NAN, f"k = {k} exceeds the {smallest_fit} points of a training fold"
    if collapsed or points_coincide(X):
        return NAN, COLLAPSED
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int_seed(seed))
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=k), X, y, cv=cv)
    return float(np.mean(scores)), None


def silhouette(X: Any, labels: Any, *, collapsed: bool = False) -> tuple[float, str | None]:
    """Silhouette coefficient (Rousseeuw 1987) of ``X [N, d]`` under ``labels`` (``sklearn.metrics.silhouette_score``).

    Returns
    -------
    (score, reason)
        In [-1, 1], or NaN and why: no labels; fewer than 2 classes or as many classes as
        points (sklearn's own domain); all points at one spot.
    """
    from sklearn.metrics import silhouette_score

    X = check_array("X", X, ndim=2)
    if labels is None:
        return NAN, NO_LABELS
    y = check_labels(labels, len(X))
    n_classes = len(np.unique(y))
    if not 2 <= n_classes <= len(y) - 1:
        return NAN, f"{n_classes} class(es) among {len(y)} points: the silhouette needs 2 to N - 1"
    if collapsed or points_coincide(X):
        return NAN, COLLAPSED
    return float(silhouette_score(X, y)), None


#: The keys of :func:`space_measures`, in order.
SPACE_KEYS = ("knn_accuracy", "silhouette", "trustworthiness_pixels", "continuity_pixels")


def space_measures(
    X: Any, labels: Any = None, *, reference: Any = None, k: int = 10, folds: int = 5, seed: SeedLike = 0
) -> Measures:
    """Measures of a space ``X [N, d]`` itself (no picture).

    Over :data:`SPACE_KEYS`: k-NN label accuracy and silhouette in ``X``; trustworthiness and
    continuity of ``X`` as a "picture" of ``reference`` (the pixels it was computed from): how
    much of the inputs' neighbourhoods the space itself keeps, before any 2-D picture. NaN with a
    reason where undefined or not given.
    """
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}
    _put(values, reasons, "knn_accuracy", *knn_label_accuracy(X, labels, k=k, folds=folds, seed=seed))
    _put(values, reasons, "silhouette", *silhouette(X, labels))
    if reference is None:
        for name in ("trustworthiness_pixels", "continuity_pixels"):
            _put(values, reasons, name, NAN, "no reference (pixel) space given")
    else:
        from supviz.metrics import layout_metrics

        R = check_array("reference", reference, ndim=2)
        S = check_array("X", X, ndim=2)
        if len(R) != len(S):
            raise SupvizError(f"`reference` and `X` must hold the same points; got {len(R)} and {len(S)} rows.")
        ref = layout_metrics(R, S, k=k)
        for name in ("trustworthiness", "continuity"):
            _put(values, reasons, f"{name}_pixels", ref[name], ref.reasons.get(name))
    return Measures(
        {key: values[key] for key in SPACE_KEYS}, {key: reasons[key] for key in SPACE_KEYS if key in reasons}
    )


#: The keys of :func:`picture_measures`, in order.
PICTURE_KEYS = (
    "knn_accuracy",
    "silhouette",
    "trustworthiness",
    "continuity",
    "trustworthiness_pixels",
    "continuity_pixels",
)


def picture_measures(
    space: Any,
    picture: Any,
    labels: Any = None,
    *,
    reference: Any = None,
    k: int = 10,
    folds: int = 5,
    seed: SeedLike = 0,
) -> Measures:
    """Every measure of one picture ``Y`` of a space ``X``.

    Parameters
    ----------
    space : array-like [N, d]
        What was pictured (pixels, hidden layer, SAE codes).
    picture : array-like [N, 2] or :class:`~supviz.dr.Layout`
        Its 2-D picture (a ``Layout`` brings its method's verdict on collapse).
    labels : array-like [N], optional
        Classes, for k-NN accuracy and silhouette in the picture.
    reference : array-like [N, d_ref], optional
        The inputs the space was computed from (the pixels): trustworthiness and continuity of the
        picture against them too.
    k : int
        Neighbourhood size of every measure.
    folds, seed :
        Of the k-NN cross-validation.

    Returns
    -------
    Measures
        Over :data:`PICTURE_KEYS`: k-NN accuracy and silhouette in the picture;
        trustworthiness and continuity against the space and (``*_pixels``) against ``reference``.
        NaN with a reason where undefined (:mod:`supviz.metrics.undefined`; no labels; no reference).
    """
    from supviz.metrics import layout_metrics

    collapsed = False
    Y = picture
    if hasattr(picture, "embedding") and hasattr(picture, "info"):
        collapsed = bool(picture.info.get("collapsed", False))
        Y = picture.embedding
    Y = check_array("picture", Y, ndim=2)
    X = check_array("space", space, ndim=2)
    if len(X) != len(Y):
        raise SupvizError(f"`space` and `picture` must hold the same points; got {len(X)} and {len(Y)} rows.")
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}
    _put(
        values,
        reasons,
        "knn_accuracy",
        *knn_label_accuracy(Y, labels, k=k, folds=folds, seed=seed, collapsed=collapsed),
    )
    _put(values, reasons, "silhouette", *silhouette(Y, labels, collapsed=collapsed))
    own = layout_metrics(X, Y, k=k, collapsed=collapsed)
    for name in ("trustworthiness", "continuity"):
        _put(values, reasons, name, own[name], own.reasons.get(name))
    if reference is None:
        for name in ("trustworthiness_pixels", "continuity_pixels"):
            _put(values, reasons, name, NAN, "no reference (pixel) space given")
    else:
        R = check_array("reference", reference, ndim=2)
        if len(R) != len(Y):
            raise SupvizError(f"`reference` and `picture` must hold the same points; got {len(R)} and {len(Y)} rows.")
        ref = layout_metrics(R, Y, k=k, collapsed=collapsed)
        for name in ("trustworthiness", "continuity"):
            _put(values, reasons, f"{name}_pixels", ref[name], ref.reasons.get(name))
    return Measures(
        {key: values[key] for key in PICTURE_KEYS}, {key: reasons[key] for key in PICTURE_KEYS if key in reasons}
    )


# -- SAE quality without ground truth ---------------------------------------------------------------

#: The effective-feature ratio psi = F / w a signed layer reaches with no superposition: a ReLU SAE on centred signed
#: inputs needs a +/- latent pair per direction (a non-negative layer's bound is 1).
SIGNED_PAIR = 2.0


def effective_features(codes: Any, *, decoder: Any = None) -> tuple[float, str | None]:
    """Bereska et al. (2025)'s effective feature count ``F = exp(H(p))`` of SAE codes (see the module docstring).

    Parameters
    ----------
    codes : array-like [N, s]
        SAE codes of the activations (one row per input).
    decoder : array-like [s, d], optional
        The decoder rows; each latent's mass is weighted by its row's norm (no weighting without it).

    Returns
    -------
    (count, reason)
        ``F`` in [1, s], or NaN and why: no latent carries any mass on these inputs.
    """
    F = np.abs(check_array("codes", codes, ndim=2))
    mass = F.mean(axis=0)
    if decoder is not None:
        D = check_array("decoder", decoder, ndim=2)
        if D.shape[0] != F.shape[1]:
            raise SupvizError(f"`decoder` must have one row per latent ({F.shape[1]}); got shape {list(D.shape)}.")
        mass = mass * np.linalg.norm(D, axis=1)
    total = float(mass.sum())
    if not total > 0.0:
        return NAN, "no latent fires on these inputs: no distribution to measure"
    from scipy.special import entr

    p = mass / total
    return float(np.exp(entr(p).sum())), None


def _unit_rows(W: np.ndarray) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    n = np.linalg.norm(W, axis=1)
    return W[n > 1e-12] / n[n > 1e-12, None]


def dictionary_mmcs(decoder: Any, other: Any) -> tuple[float, str | None]:
    """Mean over ``decoder``'s rows ``[s, d]`` of the max cosine to ``other``'s rows ``[t, d]`` (Sharkey et al. 2022).

    NaN (with the reason) when either has no row with a direction.
    """
    A = _unit_rows(check_array("decoder", decoder, ndim=2))
    B = _unit_rows(check_array("other", other, ndim=2))
    if A.shape[1] != B.shape[1]:
        raise SupvizError(f"`decoder` and `other` must share the input dimension; got {A.shape[1]} and {B.shape[1]}.")
    if not len(A) or not len(B):
        return NAN, "a decoder without any direction"
    return float((A @ B.T).max(axis=1).mean()), None


def seed_stability(decoders: Sequence[Any]) -> tuple[float, str | None]:
    """Mean over pairs of decoders of their symmetrised MMCS (the mean of both directions).

    NaN (with the reason) for fewer than 2 decoders or a decoder without any direction.
    """
    if len(decoders) < 2:
        return NAN, "fewer than 2 seeds: nothing to compare"
    vals = []
    for a, b in itertools.combinations(decoders, 2):
        ab, r1 = dictionary_mmcs(a, b)
        ba, r2 = dictionary_mmcs(b, a)
        if r1 or r2:
            return NAN, r1 or r2
        vals.append(0.5 * (ab + ba))
    return float(np.mean(vals)), None
