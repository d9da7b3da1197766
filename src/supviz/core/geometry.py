"""When points coincide: the one definition that every layout method and every metric uses.

Degenerate geometry is the normal case in the study (features dropped to the origin, inputs whose
active features were all dropped, collapsed t-SNE pictures), and a computed point set rarely says
"identical" bit for bit: ``W`` rows trained to zero differ by 1e-17, a rescaled copy by a rounding
unit. So "coincide" is decided relative to the data's own scale, never by exact equality and never
by an absolute threshold (which would make 1e-200 and 1e300 copies of the same geometry disagree):

- **Two points coincide** when their distance is at most :data:`COINCIDE_RTOL` times the largest
  coordinate magnitude of the set they belong to (:func:`coincidence_tolerance`). For a matrix of
  dissimilarities, whose coordinates are unknown, the scale is its largest entry.
- **All points of a set coincide** when the largest distance from their centroid is within that
  tolerance (:func:`points_coincide`); for dissimilarities, when every entry is within it, i.e.
  the matrix is all zeros at its own scale.

``COINCIDE_RTOL = 1e-12`` is about 4,500 rounding units of float64: far above what arithmetic
leaves behind (a copy with 1e-15 relative noise coincides), far below any spread that carries
information (points 1e-9 apart at unit scale are distinct). Consumers:

- layout methods (:func:`supviz.dr.base.check_layout_input`) snap every group of coincident
  inputs onto one point (:func:`snap_coincident`), so an "identical up to rounding" input is laid
  out as identical (one spot and a note when all coincide; a group is one point, laid out once:
  SMACOF's merge, UMAP's and t-SNE's distinct points, :mod:`supviz.dr._coincident`);
- metrics (:class:`supviz.metrics.distances.DistanceSource`, the data-point measures,
  ``radial_spread``, ``distance_spread``) call a set whose points coincide undefined, with a reason;
- a *layout* is also collapsed when its method says its spread is below what its objective can
  resolve (:data:`supviz.dr.base.COLLAPSE_DIAMETER`, in the method's own units); a layout whose
  points coincide is collapsed by either rule.

This module imports only numpy (and scipy lazily), so any package may use it.
"""

from __future__ import annotations

import numpy as np

#: Relative tolerance under which points coincide (module docstring).
COINCIDE_RTOL = 1e-12


def _power_of_two_scaled(arr: np.ndarray) -> np.ndarray:
    """``arr`` divided by the power of two that brings its largest magnitude into [0.5, 1)."""
    peak = float(np.max(np.abs(arr))) if arr.size else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        return np.asarray(arr, dtype=np.float64)
    return np.ldexp(np.asarray(arr, dtype=np.float64), -int(np.frexp(peak)[1]))


def coincidence_tolerance(points: np.ndarray) -> float:
    """Distance under which two points of ``points`` ``[N, d]`` coincide, in their own units."""
    arr = np.asarray(points, dtype=np.float64)
    return COINCIDE_RTOL * (float(np.abs(arr).max()) if arr.size else 0.0)


def points_coincide(points: np.ndarray) -> bool:
    """Whether all points of ``points`` ``[N, d]`` coincide (module docstring); any scale.

    An empty set or a single point coincides trivially.
    """
    arr = _power_of_two_scaled(np.asarray(points, dtype=np.float64))
    if arr.shape[0] <= 1:
        return True
    radius = float(np.sqrt(((arr - arr.mean(axis=0)) ** 2).sum(axis=1).max()))
    return radius <= coincidence_tolerance(arr)


def dissimilarities_coincide(delta: np.ndarray) -> bool:
    """Whether a dissimilarity matrix says every point is the same one (all entries 0)."""
    arr = np.asarray(delta, dtype=np.float64)
    return not arr.size or float(np.abs(arr).max()) == 0.0


def coincident_groups(
    points: np.ndarray, *, precomputed: bool = False, observed: np.ndarray | None = None
) -> np.ndarray:
    """Label each point with its group of coincident points (single linkage at the tolerance).

    Parameters
    ----------
    points : numpy.ndarray, shape (N, d), or (N, N) with ``precomputed=True``
        Finite points, or symmetric dissimilarities.
    precomputed : bool, default False
        Whether ``points`` are dissimilarities (pairs at most ``COINCIDE_RTOL`` times the largest
        entry apart coincide).
    observed : numpy.ndarray of bool, shape (N, N), optional
        With ``precomputed``: which dissimilarities were observed (e.g. SMACOF's weights > 0). An
        unobserved pair never links two points, whatever value stands in for it, and the scale is
        the largest observed entry.

    Returns
    -------
    numpy.ndarray of int, shape (N,)
        ``labels[i] == labels[j]`` when ``i`` and ``j`` are linked by a chain of coincident pairs;
        labels are numbered by first appearance (a set without coincident points gets
        ``arange(N)``). Cost: a k-d tree query at the (tiny) tolerance radius, about O(N log N).
    """
    arr = np.asarray(points, dtype=np.float64)
    n = arr.shape[0]
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    if precomputed:
        if observed is None:
            scale = float(np.abs(arr).max())
            if scale == 0.0:
                return np.zeros(n, dtype=np.int64)
            close = arr <= COINCIDE_RTOL * scale
        else:
            seen = np.asarray(observed, dtype=bool)
            scale = float(np.abs(arr[seen]).max()) if seen.any() else 0.0
            close = (arr <= COINCIDE_RTOL * scale) & seen
        iu, ju = np.nonzero(np.triu(close, 1))
    else:
        arr = _power_of_two_scaled(arr)
        tol = coincidence_tolerance(arr)
        # exact duplicates first (no tree needed when nothing else is close)
        from scipy.spatial import cKDTree

        pairs = cKDTree(arr).query_pairs(r=tol, output_type="ndarray") if tol > 0 else None
        if pairs is None:  # all zeros
            return np.zeros(n, dtype=np.int64)
        iu, ju = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.empty(0, int), np.empty(0, int))
    if iu.size == 0:
        return np.arange(n, dtype=np.int64)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(iu.size), (iu, ju)), shape=(n, n))
    _, raw = connected_components(graph, directed=False)
    # renumber by first appearance, so that labels do not depend on scipy's numbering
    _, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.ravel()].astype(np.int64)


def snapped_note(moved: int, *, within: str, of: str = "") -> str:
    """The note every snap writes: ``"3 points<of> coincide with another up to rounding (within 1e-12
    of <within>) and are laid out as identical."``"""
    one = moved == 1
    return (
        f"{moved} point{'' if one else 's'}{of} coincide{'s' if one else ''} with another up to rounding "
        f"(within {COINCIDE_RTOL:g} of {within}) and {'is' if one else 'are'} laid out as identical."
    )


def snap_coincident(
    points: np.ndarray, *, precomputed: bool = False, observed: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """``points`` with every group of coincident points replaced by its first member, exactly.

    Parameters
    ----------
    points : numpy.ndarray, shape (N, d), or (N, N) with ``precomputed=True``
        Finite points, or symmetric dissimilarities (rows and columns of a group are set to those
        of its first member, and the distances within a group to 0).
    observed : numpy.ndarray of bool, shape (N, N), optional
        With ``precomputed``: the observed dissimilarities (see :func:`coincident_groups`).

    Returns
    -------
    snapped : numpy.ndarray
        A new array (``points`` itself when nothing coincides without being equal already).
    moved : int
        How many points were moved by a non-zero amount (rounding-level differences removed).
    """
    arr = np.asarray(points, dtype=np.float64)
    labels = coincident_groups(arr, precomputed=precomputed, observed=observed)
    _, first = np.unique(labels, return_index=True)
    rep = first[labels]  # (N,) index of each point's group representative
    if np.array_equal(rep, np.arange(arr.shape[0])):
        return arr, 0
    if precomputed:
        out = arr[np.ix_(rep, rep)]
        moved = int(np.count_nonzero((arr != out).any(axis=1)))
        return out, moved
    out = arr[rep]
    moved = int(np.count_nonzero((arr != out).any(axis=1)))
    return out, moved
