"""2-D pictures of thousands of data points: MDS (landmark SMACOF beyond a size), UMAP, t-SNE.

UMAP and t-SNE go straight to :mod:`supviz.dr` with data-point defaults (UMAP ``n_neighbors=15,
min_dist=0.1``, umap-learn's own; t-SNE perplexity 30, openTSNE's own), both clamped by the engine
for inputs too small for them (recorded in ``Layout.notes``).

MDS of data points needs care: SMACOF holds several ``N x N`` float64 matrices per iteration
(0.8 GB each at N = 10,000) and costs ``O(N^2)`` per iteration. Up to ``mds_max_points`` points
(default 1,000) the full SMACOF of :func:`supviz.dr.mds_layout` runs. Beyond, **landmark SMACOF**:

1. SMACOF (same ``metric_type``, Torgerson start) on ``n_landmarks`` points drawn at random (seeded),
   so the landmarks follow the data's density;
2. the fitted transformation of that run (disparities ``d = a + b * delta`` for interval, ``b * delta``
   for ratio MDS) read off by least squares on the landmark pairs;
3. every other point placed on its own against the fixed landmarks by minimising its stress
   ``sum_l (||y - y_l|| - d_il)^2``: a landmark-MDS start (de Silva & Tenenbaum 2004, the
   classical out-of-sample formula) and then Guttman (SMACOF) updates for one free point,
   ``y <- mean_l (y_l + d_il (y - y_l) / ||y - y_l||)``, which never increase that stress.

Memory is ``O(L^2 + chunk * L)`` and time ``O(iter * L^2 + N * L * iter)`` instead of
``O(iter * N^2)``. Why not classical MDS (= PCA for Euclidean distances) of all points: it is a
different picture from the metric SMACOF of the study; the landmark one keeps the study's method.
The layout's ``info`` records the landmark count, the landmark stress-1 and the out-of-sample
stress-1 of the placed points.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child, int_seed, numpy_rng
from supviz.core.validation import check_array, check_choice, check_int

logger = logging.getLogger(__name__)

__all__ = ["METHODS", "DEFAULT_PARAMS", "datapoint_layout", "landmark_mds", "place_points"]

METHODS = ("mds", "umap", "tsne")

#: Data-point defaults per method (a user's ``method_params`` override them key by key).
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "mds": {"metric_type": "ratio", "max_iter": 300, "eps": 1e-6},
    "umap": {"n_neighbors": 15, "min_dist": 0.1},
    "tsne": {"perplexity": 30.0, "clamp": True},
}


def datapoint_layout(
    X: np.ndarray,
    method: str,
    *,
    random_state: SeedLike = None,
    mds_max_points: int = 1000,
    n_landmarks: int = 1000,
    **params: Any,
):
    """A 2-D layout of data points with one of the study's methods.

    Parameters
    ----------
    X : array, shape (N, d)
        Points (for example ``x`` or ``h = W^T x``).
    method : {"mds", "umap", "tsne"}
    random_state : seed
    mds_max_points : int, default 1000
        Full SMACOF up to this many points, landmark SMACOF beyond (see the module notes).
    n_landmarks : int, default 1000
        Landmarks of the landmark SMACOF.
    **params
        Method parameters, over :data:`DEFAULT_PARAMS`.

    Returns
    -------
    supviz.dr.Layout
    """
    from supviz import dr

    X = check_array("X", X, ndim=2)
    method = check_choice("method", method, METHODS)
    merged = {**DEFAULT_PARAMS[method], **params}
    if method == "mds" and X.shape[0] > mds_max_points:
        return landmark_mds(X, n_landmarks=n_landmarks, random_state=random_state, **merged)
    return dr.embed(X, method, random_state=random_state, **merged)


def landmark_mds(
    X: np.ndarray,
    *,
    n_landmarks: int = 1000,
    metric_type: str = "ratio",
    max_iter: int = 300,
    eps: float = 1e-6,
    place_iter: int = 30,
    random_state: SeedLike = None,
    chunk_size: int = 1024,
):
    """Landmark SMACOF: full SMACOF on ``n_landmarks`` random points, the rest placed against them.

    Parameters
    ----------
    X : array, shape (N, d)
    n_landmarks : int, default 1000
    metric_type : {"ratio", "interval"}
    max_iter, eps : SMACOF settings of the landmark run.
    place_iter : int, default 30
        Guttman updates per placed point (stops earlier when no point moves by 1e-5 of the
        landmark scale). On the study's data the placement stress after 30 updates is within
        0.1% of its value after 300 (0.3399 against 0.3396 for 1,024 points of cell 60to10,
        p = 0.09), at a tenth of the time.
    random_state : seed
        Picks the landmarks (child 0) and seeds the SMACOF run (child 1).
    chunk_size : int
        Points placed at once (memory ``chunk_size * n_landmarks * 2`` floats).

    Returns
    -------
    supviz.dr.Layout
        Method ``"mds"``; ``info`` holds ``landmarks`` (indices), ``smacof_stress`` (the landmark SMACOF fit's stress-1)
        and ``placement_stress`` (stress-1 of all points' distances to the landmarks), ``collapsed``.

    Notes
    -----
    Coincident points (equal up to rounding, :mod:`supviz.core.geometry`; the study's inputs whose
    active features were all dropped sit at ``h = 0``) are one point here: landmarks are drawn
    among the distinct points, each with probability proportional to how many points it stands
    for (so the landmarks still follow the data's density), and every copy gets its point's
    position. When there are no more distinct points than landmarks, the layout is the full
    SMACOF of the distinct points with pair weights ``c_i c_j`` (``c``: copies): for ratio MDS
    the objective of the SMACOF of all N points with the copies kept together (from the distinct
    points' Torgerson start, so it may stop in another local minimum: 0.0374 against 0.0368 for
    200 points, 190 at the origin); for interval MDS the pairs within the copies (zero on both
    sides) are left out of the intercept's fit. All points identical: one spot, a note, stresses
    NaN (nothing to fit).
    """
    from scipy.spatial.distance import cdist, pdist, squareform

    from supviz import dr
    from supviz.dr.base import add_note, check_layout_input, identical_points_layout, layout_collapsed

    notes: list[str] = []
    X = check_layout_input(X, method="landmark MDS", min_points=2, notes=notes)
    metric_type = check_choice("metric_type", metric_type, ("ratio", "interval"))
    n = X.shape[0]
    L = check_int("n_landmarks", n_landmarks, min_value=3)
    seq = as_seed_sequence(random_state, name="random_state")
    params = {"metric_type": metric_type, "max_iter": max_iter, "eps": eps, "place_iter": place_iter}
    unique, first, inverse, counts = np.unique(X, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    n_u = unique.shape[0]
    if n_u == 1:
        Y = identical_points_layout(n, 2, "landmark MDS", notes)
        return dr.Layout(
            embedding=Y,
            method="mds",
            params={**params, "n_landmarks": 0},
            info={
                "landmarks": np.empty(0, dtype=np.int64),
                "smacof_stress": float("nan"),
                "placement_stress": float("nan"),
                "affine": (float("nan"), float("nan")),
                "n_iter": 0,
                "seed": int_seed(seq),
                "collapsed": True,
            },
            notes=notes,
        )
    if n_u <= L:
        # Few distinct points: the full SMACOF of all N points, copies kept together.
        res = dr.smacof(
            squareform(pdist(unique)),
            n_components=2,
            metric_type=metric_type,
            init="torgerson",
            max_iter=max_iter,
            eps=eps,
            random_state=child(seq, 1),
            weights=np.outer(counts, counts).astype(np.float64),
        )
        Y = np.asarray(res.embedding, dtype=np.float64)[inverse]
        add_note(
            notes,
            "landmark SMACOF: only %d distinct points among %d: %s SMACOF of all of them (pair weights = "
            "products of their copies), no placement",
            n_u,
            n,
            metric_type,
        )
        for note in res.notes:
            add_note(notes, "smacof: %s", note)
        return dr.Layout(
            embedding=Y,
            method="mds",
            params={**params, "n_landmarks": n_u},
            info={
                "landmarks": np.sort(first),
                "smacof_stress": float(np.asarray(res.stress)),
                "placement_stress": float("nan"),
                "affine": (float("nan"), float("nan")),
                "n_iter": int(np.asarray(res.n_iter)),
                "seed": int_seed(seq),
                "collapsed": layout_collapsed(Y),
            },
            notes=notes,
        )
    rng = numpy_rng(child(seq, 0))
    land_u = np.sort(rng.choice(n_u, size=L, replace=False, p=counts / counts.sum()))
    delta = squareform(pdist(unique[land_u]))
    res = dr.smacof(
        delta,
        n_components=2,
        metric_type=metric_type,
        init="torgerson",
        max_iter=max_iter,
        eps=eps,
        random_state=child(seq, 1),
    )
    Y_land = np.asarray(res.embedding, dtype=np.float64)
    # The fitted transformation delta -> disparity, read off the landmark pairs.
    iu = np.triu_indices(L, k=1)
    dl = delta[iu]
    disp = np.asarray(res.disparities)[iu]
    if metric_type == "interval" and np.ptp(dl) > 1e-12 * float(dl.max()):
        b, a = np.polyfit(dl, disp, 1)
    else:  # ratio, or equal landmark distances (SMACOF then fits interval as ratio too)
        a, b = 0.0, float(dl @ disp / (dl @ dl))
    rest = np.setdiff1d(np.arange(n_u), land_u)
    Y_u = np.empty((n_u, 2))
    Y_u[land_u] = Y_land
    num = 0.0
    den = 0.0
    for start in range(0, rest.size, chunk_size):
        idx = rest[start : start + chunk_size]
        target = np.maximum(a + b * cdist(unique[idx], unique[land_u]), 0.0)  # (c, L)
        Y_u[idx] = place_points(Y_land, target, max_iter=place_iter)
        fitted = cdist(Y_u[idx], Y_land)
        w = counts[idx][:, None]  # every copy of a placed point counts
        num += float((w * (fitted - target) ** 2).sum())
        den += float((w * fitted**2).sum())
    placement_stress = float(np.sqrt(num / den)) if den > 0 else float("nan")
    Y = Y_u[inverse]
    land = np.sort(first[land_u])
    add_note(
        notes,
        "landmark SMACOF: %s SMACOF on %d of %d points (random, seeded), the other %d placed by "
        "out-of-sample Guttman updates against them",
        metric_type,
        L,
        n,
        n - L,
    )
    if n_u < n:
        add_note(
            notes,
            "landmark SMACOF: %d of the %d points coincide with another (%d distinct); copies share "
            "their point's position",
            n - n_u,
            n,
            n_u,
        )
    for note in res.notes:
        add_note(notes, "smacof: %s", note)
    return dr.Layout(
        embedding=Y,
        method="mds",
        params={**params, "n_landmarks": L},
        info={
            "landmarks": land,
            "smacof_stress": float(np.asarray(res.stress)),
            "placement_stress": placement_stress,
            "affine": (float(a), float(b)),
            "n_iter": int(np.asarray(res.n_iter)),
            "seed": int_seed(seq),
            "collapsed": layout_collapsed(Y),
        },
        notes=notes,
    )


def place_points(Y_land: np.ndarray, target: np.ndarray, *, max_iter: int = 100, tol: float = 1e-5) -> np.ndarray:
    """Place points in a fixed landmark layout by minimising their stress to the landmarks.

    Each point ``i`` minimises ``sum_l (||y_i - y_l|| - target[i, l])^2`` on its own.

    Parameters
    ----------
    Y_land : array, shape (L, k)
        Landmark layout.
    target : array, shape (c, L)
        Wanted distances of each new point to each landmark (already transformed to the layout's
        scale, >= 0).
    max_iter : int
        Guttman updates at most.
    tol : float
        Stop when no point moved by more than ``tol`` times the landmark scale.

    Returns
    -------
    np.ndarray, shape (c, k)
    """
    Y_land = np.asarray(Y_land, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    centre = Y_land.mean(axis=0)
    Yc = Y_land - centre  # (L, k)
    # Landmark-MDS start: y = -1/2 pinv(Yc) (t^2 - mean_j D_lj^2), the classical out-of-sample map.
    sq_land = ((Yc[:, None, :] - Yc[None, :, :]) ** 2).sum(-1).mean(axis=1)  # (L,)
    y = -0.5 * (target**2 - sq_land[None, :]) @ np.linalg.pinv(Yc).T  # (c, L) @ (L, k) -> (c, k)
    scale = float(np.sqrt((Yc**2).sum(axis=1).mean())) or 1.0
    land_sq = (Yc**2).sum(axis=1)  # (L,)
    n_land = Yc.shape[0]
    for _ in range(max_iter):
        # Guttman update mean_l (y_l + r_il (y - y_l)), r = target / distance, written with sums
        # over l so that only [c, L] arrays are formed: (sum_l r_il) y_i - r_i @ Yc, over L.
        sq = (y**2).sum(axis=1)[:, None] + land_sq[None, :] - 2.0 * (y @ Yc.T)  # (c, L)
        dist = np.sqrt(np.maximum(sq, 0.0))
        ratio = np.divide(target, dist, out=np.zeros_like(dist), where=dist > 1e-12 * scale)
        y_new = (ratio.sum(axis=1)[:, None] * y - ratio @ Yc) / n_land  # Yc is centred: mean_l y_l = 0
        moved = float(np.abs(y_new - y).max()) if y.size else 0.0
        y = y_new
        if moved <= tol * scale:
            break
    return y + centre
