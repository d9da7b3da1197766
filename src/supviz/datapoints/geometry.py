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
- :func:`ring_control`: the control that separates the two explanations of the ring (the study's
  own question): near-equidistance, or the cluster of dropped features at the origin. Trained rows,
  random directions and orthogonal directions of the same norms, each with and without the cluster.
- :func:`spoke_share`: the star pattern of MDS pictures of data points at low m and sparse p: the
  share of points on the rays of single features, against the share by chance.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

from supviz.core.geometry import points_coincide
from supviz.core.seeding import SeedLike, as_seed_sequence, numpy_rng
from supviz.core.validation import check_array, check_int, unit_scaled
from supviz.errors import SupvizError

logger = logging.getLogger(__name__)

__all__ = [
    "RING_CONDITIONS",
    "RING_KINDS",
    "SpokeResult",
    "ring_control",
    "ring_control_sets",
    "spoke_share",
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
    points : array, shape (N, d), N >= 2, or a :class:`~supviz.dr.Layout`
        A ``Layout`` brings its method's verdict on collapse.

    Returns
    -------
    float
        0 for an equidistant set; scale-invariant (computed at unit scale, so 1e-200 and 1e300
        copies give the value of scale 1). NaN, with the reason logged at INFO, when all points
        coincide up to rounding (:mod:`supviz.core.geometry`): their distances are rounding noise.
    """
    said = bool(points.info.get("collapsed", False)) if _is_layout(points) else False
    P = check_array("points", points.embedding if _is_layout(points) else points, ndim=2)
    if P.shape[0] < 2:
        raise SupvizError(f"`points` must hold at least 2 points; got {P.shape[0]}.")
    P = unit_scaled(P)[0]
    if said or points_coincide(P):
        return _undefined("distance_spread", "all points coincide: their distances are rounding noise")
    d = _pdist(P)
    return float(d.std() / d.mean())


def radial_spread(layout: np.ndarray) -> float:
    """Coefficient of variation of the distances of layout points to their centroid.

    0 for points on a ring; :data:`UNIFORM_DISC_RADIAL_CV` (about 0.354) for a uniform disc.
    ``layout`` is an ``[N, d]`` array or a :class:`~supviz.dr.Layout` (which brings its method's
    verdict on collapse: NaN then too). Scale-invariant (computed at unit scale). NaN, with the
    reason logged at INFO, when all points coincide up to rounding (:mod:`supviz.core.geometry`): a
    collapsed picture has no shape.
    """
    said = bool(layout.info.get("collapsed", False)) if _is_layout(layout) else False
    Y = check_array("layout", layout.embedding if _is_layout(layout) else layout, ndim=2)
    Y = unit_scaled(Y)[0]
    if said or points_coincide(Y):
        return _undefined("radial_spread", "all points coincide (a collapsed layout): its radii are rounding noise")
    r = np.linalg.norm(Y - Y.mean(axis=0), axis=1)
    return float(r.std() / r.mean())


def _is_layout(obj: object) -> bool:
    """A :class:`~supviz.dr.Layout` (recognised without importing supviz.dr: no import circle)."""
    return hasattr(obj, "embedding") and isinstance(getattr(obj, "info", None), dict)


def _undefined(name: str, reason: str) -> float:
    logger.info("%s undefined (NaN): %s.", name, reason)
    return float("nan")


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
    rng = numpy_rng(random_state, name="random_state")
    cvs = np.array([distance_spread(rng.standard_normal((n_rep, m))) for _ in range(n_random)])
    cv = distance_spread(P)  # NaN when the rows coincide (the one rule of supviz.core.geometry)
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
    out = [
        dict.fromkeys(("radial_cv", "radial_cv_orthogonal", "mds_stress", "mds_stress_orthogonal"), float("nan"))
        for _ in sets
    ]
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


# ----------------------------------------------------------------------------------- ring control

#: The represented rows of the ring control: the trained ones, random directions of the same norms
#: (same dimension m), and diag(N) (N orthonormal rows, exactly equidistant, in dimensions of their own).
RING_KINDS = ("trained", "random", "orthogonal")
#: Each kind with the dropped rows (the cluster at the origin) and without.
RING_CONDITIONS = tuple(f"{kind}_{c}" for kind in RING_KINDS for c in ("cluster", "alone"))


def ring_control_sets(
    W: np.ndarray, represented: np.ndarray, *, random_state: SeedLike = 0
) -> dict[str, np.ndarray | None]:
    """The six point sets of the ring control for one ``W`` (see :func:`ring_control`): the represented
    rows as trained, as random unit directions in m dimensions scaled to the trained norms, and as
    ``diag(N)``; each alone and followed by the dropped rows.

    Returns condition name -> points (the represented rows first, then the dropped rows when the
    condition has the cluster); ``None`` where the condition is undefined (fewer than 3 represented
    rows; a cluster condition without dropped rows).
    """
    W = check_array("W", W, ndim=2)
    mask = np.asarray(represented, dtype=bool)
    if mask.shape != (W.shape[0],):
        raise SupvizError(f"`represented` must be a bool mask of {W.shape[0]} entries; got shape {mask.shape}.")
    rep, drop = W[mask], W[~mask]
    n_rep, m = rep.shape
    out: dict[str, np.ndarray | None] = dict.fromkeys(RING_CONDITIONS)
    if n_rep < 3:
        return out
    norms = np.linalg.norm(rep, axis=1)
    g = numpy_rng(random_state, name="random_state").standard_normal((n_rep, m))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    sets = {"trained": rep, "random": g * norms[:, None]}
    for kind, pts in sets.items():
        out[f"{kind}_alone"] = pts
        out[f"{kind}_cluster"] = np.vstack([pts, drop]) if len(drop) else None
    # orthogonal: diag(N), exactly equidistant (unit norms: equal norms would be lost to the interval
    # transformation, which amplifies any small spread of nearly equal distances); the dropped rows keep
    # their trained coordinates in m further dimensions, so the cluster is the trained one
    orth = np.zeros((n_rep, n_rep + m))
    orth[np.arange(n_rep), np.arange(n_rep)] = 1.0
    out["orthogonal_alone"] = orth[:, :n_rep]
    if len(drop):
        cl = np.zeros((len(drop), n_rep + m))
        cl[:, n_rep:] = drop
        out["orthogonal_cluster"] = np.vstack([orth, cl])
    return out


def ring_control(
    weights: list[np.ndarray],
    masks: list[np.ndarray],
    *,
    metric_type: str = "interval",
    max_iter: int = 1000,
    eps: float = 1e-6,
    random_state: SeedLike = 0,
) -> list[dict[str, float]]:
    """Separate the two explanations of the study's ring: near-equidistance, or the origin cluster.

    For each ``W`` the represented rows are laid out with SMACOF (the study's interval MDS,
    Torgerson start) in six conditions: the trained rows, random directions of the same norms and
    orthogonal directions of the same norms (:func:`ring_control_sets`), each with the dropped rows
    (the cluster at the origin, as in the study's C2) and without them (C3). Each picture's ring is
    measured as the radius CV of the represented points around their own centroid (0 = a ring,
    about 0.354 = a uniform disc; :func:`radial_spread`). ``diag(N)`` without the cluster is the
    orthogonal baseline of section 1 (a disc, CV about 0.28 for N >= 20).

    If near-equidistance made the ring, the trained rows would be a ring without the cluster and
    random directions would not; if the cluster made it, every kind would be a ring with the cluster
    and none without.

    Parameters
    ----------
    weights : list of arrays (n, m)
    masks : list of bool arrays (n,)
        Represented rows of each ``W``.
    metric_type, max_iter, eps
        SMACOF settings (the study's C2/C3 by default).
    random_state : seed
        Seeds the random directions (child seed per ``W``).

    Returns
    -------
    list of dict
        Per ``W``: ``ring_<condition>`` for each of :data:`RING_CONDITIONS` (NaN where undefined:
        fewer than 3 represented rows, or a cluster condition without dropped rows), and
        ``n_dropped``.
    """
    from supviz.core.seeding import child
    from supviz.dr import mds_layouts

    if len(weights) != len(masks):
        raise SupvizError(f"`weights` and `masks` must have the same length; got {len(weights)} and {len(masks)}.")
    seed = as_seed_sequence(random_state, name="random_state")
    sets = [
        ring_control_sets(np.asarray(W, dtype=np.float64), mk, random_state=child(seed, i))
        for i, (W, mk) in enumerate(zip(weights, masks))
    ]
    jobs = [(i, cond, pts) for i, s in enumerate(sets) for cond, pts in s.items() if pts is not None]
    out = [
        {f"ring_{c}": float("nan") for c in RING_CONDITIONS} | {"n_dropped": float((~np.asarray(mk, bool)).sum())}
        for mk in masks
    ]
    if not jobs:
        return out
    lays = mds_layouts(
        [pts for _, _, pts in jobs], metric_type=metric_type, max_iter=max_iter, eps=eps, random_state=seed
    )
    for (i, cond, pts), lay in zip(jobs, lays):
        n_rep = int(np.asarray(masks[i], bool).sum())
        Y = np.asarray(lay.embedding)[:n_rep]
        out[i][f"ring_{cond}"] = radial_spread(Y)
    return out


# ---------------------------------------------------------------------------------- stars / spokes


@dataclass(frozen=True)
class SpokeResult:
    """How many points of a picture lie on the spokes (rays) of single features.

    Attributes
    ----------
    share : float
        Fraction of the points within ``max_deg`` degrees of a feature's ray.
    coverage : float
        Fraction of the full circle within ``max_deg`` of some ray: the share points at uniformly
        random angles would have (NaN when measured in the space itself, where the rays cover next
        to nothing of a sphere of 3 or more dimensions).
    r2 : float
        How well the picture is an affine image of the space (1 = exactly; NaN in the space itself).
    angles : np.ndarray
        Each point's angle to its nearest ray, in degrees.
    """

    share: float
    coverage: float
    r2: float
    angles: np.ndarray


def _circle_coverage(angles: np.ndarray, half_width: float) -> float:
    """Fraction of [0, 2 pi) within ``half_width`` (radians) of one of ``angles`` (radians)."""
    if angles.size == 0:
        return 0.0
    a = np.sort(np.mod(angles, 2 * np.pi))
    gaps = np.diff(np.r_[a, a[0] + 2 * np.pi])
    covered = np.minimum(gaps, 2 * half_width).sum()
    return float(min(1.0, covered / (2 * np.pi)))


def spoke_share(
    points: np.ndarray, directions: np.ndarray, picture: np.ndarray | None = None, *, max_deg: float = 5.0
) -> SpokeResult:
    """The star pattern of a picture: the share of points lying on the rays of single features.

    An input with one active feature i maps to ``h = x_i W_i``, on the ray of ``W_i``; inputs
    dominated by one feature lie near it. In the space itself (``picture=None``) each point's angle
    to its nearest ray ``directions[r]`` is measured there. In a 2-D picture the rays are found by
    the least-squares affine map ``picture ≈ points A + c`` (the picture of the origin is ``c``,
    of ray r the direction ``directions[r] A``; MDS of a low-dimensional space is close to such a
    projection, ``r2`` says how close), and each point's angle is measured around ``c``.

    Parameters
    ----------
    points : array (N, d)
        The points in their space (h = Wᵀx, or x).
    directions : array (R, d)
        The rays (represented rows of W for h; unit vectors e_i for x). Rays are directed (inputs
        are non-negative).
    picture : array (N, 2), optional
        The 2-D picture of ``points``.
    max_deg : float, default 5
        Angle below which a point is on a spoke.

    Returns
    -------
    SpokeResult
    """
    P = check_array("points", points, ndim=2)
    D = check_array("directions", directions, ndim=2)
    if D.shape[1] != P.shape[1]:
        raise SupvizError(f"`directions` must have {P.shape[1]} columns like `points`; got {D.shape[1]}.")
    D = D[np.linalg.norm(D, axis=1) > 0]
    nan = float("nan")
    if D.shape[0] == 0 or P.shape[0] == 0:
        return SpokeResult(nan, nan, nan, np.full(P.shape[0], np.nan))
    if picture is None:
        V, R, r2, coverage = P, D, nan, nan
    else:
        Y = check_array("picture", picture, ndim=2)
        if Y.shape != (P.shape[0], 2):
            raise SupvizError(f"`picture` must have shape ({P.shape[0]}, 2); got {Y.shape}.")
        Xa = np.c_[P, np.ones(P.shape[0])]
        coef, *_ = np.linalg.lstsq(Xa, Y, rcond=None)
        fit = Xa @ coef
        ss = float(((Y - Y.mean(axis=0)) ** 2).sum())
        r2 = 1.0 - float(((Y - fit) ** 2).sum()) / ss if ss > 0 else nan
        V, R = Y - coef[-1], D @ coef[:-1]
        R = R[np.linalg.norm(R, axis=1) > 1e-12 * max(1.0, float(np.abs(R).max()))]
        coverage = _circle_coverage(np.arctan2(R[:, 1], R[:, 0]), np.deg2rad(max_deg)) if len(R) else nan
    vn = np.linalg.norm(V, axis=1)
    rn = np.linalg.norm(R, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (V @ R.T) / (vn[:, None] * rn[None, :])
    best = np.nanmax(np.clip(cos, -1.0, 1.0), axis=1) if R.shape[0] else np.full(len(V), np.nan)
    angles = np.degrees(np.arccos(best))
    angles[vn == 0] = np.nan
    ok = np.isfinite(angles)
    share = float(np.mean(angles[ok] <= max_deg)) if ok.any() else nan
    return SpokeResult(share, coverage, r2, angles)
