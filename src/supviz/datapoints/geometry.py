"""Why the represented features lie on a ring in the study's MDS pictures.

The metric-MDS optimum for ``N`` equidistant points (``diag(N)``: every distance ``sqrt 2``) is a
ring / uniform disc (SPEC B1). So the study's ring would follow if the trained ``W``'s represented
feature rows were near-equidistant. This module measures that:

- :func:`distance_spread`: the coefficient of variation (std / mean) of the pairwise distances of a
  point set. ``diag(N)`` gives exactly 0; an arbitrary point set gives more.
- :func:`equidistance`: that spread for the represented rows of a ``W``, beside two references of
  the same size and dimension: ``diag(N)`` (0) and ``N`` random Gaussian rows in ``m`` dimensions
  (whose spread shrinks as ``m`` grows, by concentration of measure: equidistance alone is no
  evidence of training in high ``m``, which is why the Gaussian reference is measured at the same
  ``(N, m)``).
- :func:`radial_spread`: how ring-like a 2-D layout is: the coefficient of variation of the
  points' distances to their centroid (0 for a ring, about 0.354 for a uniform disc).
- :func:`ring_measures`: that radial spread for the study's MDS pictures of the represented rows,
  beside the MDS picture of ``diag(N)`` of the same size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from supviz._validation import check_array, check_int
from supviz.errors import SupvizError
from supviz.seeding import SeedLike, numpy_rng

__all__ = [
    "EquidistanceResult",
    "distance_spread",
    "equidistance",
    "radial_spread",
    "ring_measures",
    "UNIFORM_DISC_RADIAL_CV",
]

#: Radial coefficient of variation of a uniform disc: r has density 2r on [0, 1], so
#: mean 2/3 and std sqrt(1/2 - 4/9).
UNIFORM_DISC_RADIAL_CV = float(np.sqrt(0.5 - 4.0 / 9.0) / (2.0 / 3.0))


def _pdist(P: np.ndarray) -> np.ndarray:
    from scipy.spatial.distance import pdist

    return pdist(P)


def distance_spread(points: np.ndarray) -> float:
    """Coefficient of variation (std / mean) of all pairwise Euclidean distances.

    Parameters
    ----------
    points : array, shape (N, d), N >= 2

    Returns
    -------
    float
        0 for an equidistant set; NaN when all points coincide.
    """
    P = check_array("points", points, ndim=2)
    if P.shape[0] < 2:
        raise SupvizError(f"`points` must hold at least 2 points; got {P.shape[0]}.")
    d = _pdist(P)
    mean = float(d.mean())
    return float(d.std() / mean) if mean > 0 else float("nan")


def radial_spread(layout: np.ndarray) -> float:
    """Coefficient of variation of the distances of layout points to their centroid.

    0 for points on a ring; :data:`UNIFORM_DISC_RADIAL_CV` (about 0.354) for a uniform disc.
    """
    Y = check_array("layout", layout, ndim=2)
    r = np.linalg.norm(Y - Y.mean(axis=0), axis=1)
    mean = float(r.mean())
    return float(r.std() / mean) if mean > 0 else float("nan")


@dataclass(frozen=True)
class EquidistanceResult:
    """How equidistant the represented feature directions of one ``W`` are.

    Attributes
    ----------
    n_represented : int
        Rows measured.
    n_hidden : int
        Their dimension ``m``.
    cv : float
        Coefficient of variation of their pairwise distances (``diag(N)`` gives 0).
    cv_unit : float
        The same after scaling every row to unit norm (separates angles from norms).
    norm_cv : float
        Coefficient of variation of the row norms.
    mean_distance, min_distance, max_distance : float
        Of the pairwise distances (``diag(N)``: all ``sqrt 2``).
    cv_gaussian, cv_gaussian_std : float
        Mean and standard deviation of ``cv`` for ``n_random`` draws of ``n_represented`` i.i.d.
        Gaussian rows in ``n_hidden`` dimensions.
    cv_ratio : float
        ``cv / cv_gaussian``: below 1 means more equidistant than chance at this ``(N, m)``.
    """

    n_represented: int
    n_hidden: int
    cv: float
    cv_unit: float
    norm_cv: float
    mean_distance: float
    min_distance: float
    max_distance: float
    cv_gaussian: float
    cv_gaussian_std: float
    cv_ratio: float

    def as_dict(self) -> dict[str, float]:
        """Fields by name (one row of a table)."""
        return asdict(self)


def equidistance(
    W: np.ndarray,
    *,
    represented: np.ndarray | None = None,
    n_random: int = 20,
    random_state: SeedLike = 0,
) -> EquidistanceResult:
    """Measure how near-equidistant the represented rows of ``W`` are.

    Parameters
    ----------
    W : array, shape (n, m)
        Feature directions (row ``i`` = feature ``i``).
    represented : bool array, shape (n,), optional
        Which rows to measure; all rows when omitted (pass
        ``supviz.toy.represented_mask(W)`` for the study's notion).
    n_random : int, default 20
        Draws of the Gaussian reference.
    random_state : seed
        Seed of the Gaussian reference.

    Returns
    -------
    EquidistanceResult
    """
    W = check_array("W", W, ndim=2)
    n_random = check_int("n_random", n_random, min_value=1)
    if represented is None:
        P = W
    else:
        mask = np.asarray(represented, dtype=bool)
        if mask.shape != (W.shape[0],):
            raise SupvizError(f"`represented` must be a bool mask of {W.shape[0]} entries; got shape {mask.shape}.")
        P = W[mask]
    n_rep, m = P.shape
    if n_rep < 3:
        nan = float("nan")
        return EquidistanceResult(n_rep, m, nan, nan, nan, nan, nan, nan, nan, nan, nan)
    d = _pdist(P)
    norms = np.linalg.norm(P, axis=1)
    unit = P / np.where(norms > 0, norms, 1.0)[:, None]
    rng = numpy_rng(random_state)
    cvs = np.array([distance_spread(rng.standard_normal((n_rep, m))) for _ in range(n_random)])
    cv = float(d.std() / d.mean()) if d.mean() > 0 else float("nan")
    cv_g = float(cvs.mean())
    return EquidistanceResult(
        n_represented=int(n_rep),
        n_hidden=int(m),
        cv=cv,
        cv_unit=distance_spread(unit),
        norm_cv=float(norms.std() / norms.mean()) if norms.mean() > 0 else float("nan"),
        mean_distance=float(d.mean()),
        min_distance=float(d.min()),
        max_distance=float(d.max()),
        cv_gaussian=cv_g,
        cv_gaussian_std=float(cvs.std()),
        cv_ratio=cv / cv_g if cv_g > 0 else float("nan"),
    )


def ring_measures(
    weights: list[np.ndarray],
    masks: list[np.ndarray],
    *,
    metric_type: str = "interval",
    max_iter: int = 1000,
    eps: float = 1e-6,
    random_state: SeedLike = 0,
) -> list[dict[str, float]]:
    """How ring-like the study's MDS pictures of the represented features are, against diag(N).

    For each ``W`` the represented rows are laid out with SMACOF (the study's C3: interval MDS,
    Torgerson start, R smacof's defaults), and the radial spread (:func:`radial_spread`) of that
    picture is set beside the radial spread of the SMACOF picture of ``diag(N)`` with the same
    ``N`` (the ring / disc of the orthogonal baseline). Same-size sets are batched.

    Parameters
    ----------
    weights : list of arrays (n, m)
    masks : list of bool arrays (n,)
        The represented rows of each ``W``.
    metric_type, max_iter, eps
        SMACOF settings (the study's C3 by default).
    random_state : seed
        Only used by random restarts (none by default).

    Returns
    -------
    list of dict
        Per ``W``: ``radial_cv`` (its picture), ``radial_cv_orthogonal`` (diag(N)'s),
        ``mds_stress`` and ``mds_stress_orthogonal``; NaN where fewer than 3 rows are represented.
    """
    from supviz.dr import mds_layouts

    if len(weights) != len(masks):
        raise SupvizError(f"`weights` and `masks` must have the same length; got {len(weights)} and {len(masks)}.")
    sets = [np.asarray(W, dtype=np.float64)[np.asarray(mk, dtype=bool)] for W, mk in zip(weights, masks)]
    use = [i for i, P in enumerate(sets) if P.shape[0] >= 3]
    out = [dict.fromkeys(("radial_cv", "radial_cv_orthogonal", "mds_stress", "mds_stress_orthogonal"), float("nan"))
           for _ in sets]
    if not use:
        return out
    kw = {"metric_type": metric_type, "max_iter": max_iter, "eps": eps, "random_state": random_state}
    lays = mds_layouts([sets[i] for i in use], **kw)
    sizes = sorted({sets[i].shape[0] for i in use})
    base = dict(zip(sizes, mds_layouts([np.eye(n) for n in sizes], **kw)))
    for i, lay in zip(use, lays):
        ref = base[sets[i].shape[0]]
        out[i] = {
            "radial_cv": radial_spread(lay.embedding),
            "radial_cv_orthogonal": radial_spread(ref.embedding),
            "mds_stress": float(lay.info["smacof_stress"]),
            "mds_stress_orthogonal": float(ref.info["smacof_stress"]),
        }
    return out
