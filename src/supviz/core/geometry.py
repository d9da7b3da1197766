"""When points coincide: the one definition that every layout method and every metric uses.

Degenerate geometry is the normal case in the study (features dropped to the origin, inputs whose
active features were all dropped, collapsed t-SNE pictures), and a computed point set rarely says
"identical" bit for bit: ``W`` rows trained to zero differ by 1e-17, a rescaled copy by a rounding
unit. So "coincide" is decided relative to the data's own geometry, never by exact equality and never
by an absolute threshold (which would make 1e-200 and 1e300 copies of the same geometry disagree).

**The tolerance** (:func:`coincidence_tolerance`) under which two points of a set ``X`` ``[N, d]``
coincide is

    tol(X) = max(COINCIDE_RTOL * spread(X),  floor(X)),
    floor(X)^2 = sum over the columns j that vary of (COINCIDE_ULPS * ulp(max_i |x_ij|))^2

- ``spread(X)`` is the largest distance from the centroid, ``max_i ||x_i - mean(X)||``. It does not
  move when ``X`` is translated, so ``G + 1e13`` (or a constant timestamp column ``1.7e12`` beside the
  features) has the groups of ``G``: a tolerance relative to the largest coordinate would be 10 units at
  offset 1e13 and merge points 0.5 apart that float64 still resolves (its unit there is 2e-3).
  ``COINCIDE_RTOL = 1e-12`` is about 4,500 rounding units of float64 relative to the spread: far above
  what arithmetic leaves behind (W rows trained to the origin, 1e-17 apart beside unit rows, coincide),
  far below any spread that carries information (points 1e-9 apart at unit spread are distinct).
- The **rounding floor** ``floor(X)`` (``ulp(v)`` = ``numpy.spacing(v)``, the gap between ``v`` and the
  next float64; ``COINCIDE_ULPS = 16``): each coordinate of a computed point carries a rounding error of
  some units in the last place of the largest value in its column, so two copies of one point computed
  along different paths are a few ulps apart per coordinate wherever the spread is, and differences
  below that are noise of the coordinates themselves, not geometry. It is taken per column, and only
  over the columns that vary: a constant column (a timestamp ``1.7e12`` or ``1.7e15`` beside the
  features) carries no rounding into the differences, since equal values subtract to exactly 0, so it
  changes nothing (a floor from the row norm let it merge distinct points, or all of them). Why 16: one
  operation rounds by half an ulp, and a copy whose every coordinate carries 1e-15 relative noise (4.5 to
  9 ulps per coordinate, what the tests take for a copy computed along another path) lies up to about 13
  ulps from its centroid in a few dimensions, so it coincides; and the floor stays below the gaps float64
  resolves: at offset 1e14 (ulp 1/64) it is 0.5 in 4 dimensions, where ``G``'s closest pair is 0.62 apart
  and float64 resolves that to 2% (32 float64 epsilons of the row norm, 1.4, merged it). The two
  requirements meet there: points 40 ulps apart in 4 dimensions are about as far apart as 1e-15 noise
  reaches, so no floor separates both beyond it. The floor only decides when the spread itself is
  rounding-sized or the set sits far from the origin.

**Dissimilarities** ``D`` ``[N, N]`` (``precomputed=True``) carry no coordinates, so there is no rounding
floor to see; their spread is the same centroid distance, from the distances alone (for Euclidean ``D``
exactly that of the points: ``||x_i - mean||^2 = mean_j D_ij^2 - mean_jk D_jk^2 / 2``), so points and
their distance matrix give the same groups (``coincident_groups(X)`` equals
``coincident_groups(cdist(X, X), precomputed=True)`` at any offset), except for pairs the rounding floor
merges: their distances are rounding noise of the coordinates, which a matrix cannot show. A matrix
with unobserved pairs (SMACOF's zero weights) has no centroid to measure; its spread is its largest
observed entry. A group of dissimilarities must be one point: two rows linked by a (near-)zero pair
whose dissimilarities to a third point differ by more than the chain of the group allows, plus the
rounding a computed distance matrix carries (:data:`COMPUTED_DISTANCE_RTOL`, sqrt(eps) of its largest entry:
the dot-product formula's error; points whose norm is far above their distances carry more), break the
triangle inequality (``D01 = D12 = 0``, ``D02 = 1.89``), and are refused with a
:class:`~supviz.errors.SupvizError` naming the pair and the third point, rather than merged by the
first row winning.

**All points of a set coincide** when their spread is within the tolerance (:func:`points_coincide`):
then the rounding floor decides, since a spread within ``1e-12`` of itself is 0. For dissimilarities,
when every entry is 0.

**Mixed precision.** A float32 copy of a float64 point differs from it by float32 rounding, up to
``6e-8`` of its coordinates: far outside the float64 rule, so the two are distinct points (so are points
``1e-8`` apart in an all-float64 set, which may be real geometry, and merging at float32's resolution
would undo the translation invariance above). Such pairs are not merged; :func:`float32_pairs` counts
them exactly (one row holds float32 values, the other rounds to it in float32), and the layout methods
say so in a note (:func:`supviz.dr.base.check_layout_input`), so that a float32 block concatenated with
float64 rows is seen. An all-float32 input is exact at its own precision and follows the same rule.

Consumers:

- layout methods (:func:`supviz.dr.base.check_layout_input`) snap every group of coincident
  inputs onto one point (:func:`snap_coincident`), so an "identical up to rounding" input is laid
  out as identical (one spot and a note when all coincide; a group is one point, laid out once:
  SMACOF's merge, UMAP's and t-SNE's distinct points, :mod:`supviz.dr._coincident`);
- metrics (:class:`supviz.metrics.distances.DistanceSource`, the data-point measures,
  ``radial_spread``, ``distance_spread``, :mod:`supviz.real.measures`) call a set whose points coincide
  undefined, with a reason;
- a *layout* is also collapsed when its method says its spread is below what its objective can
  resolve (:data:`supviz.dr.base.COLLAPSE_DIAMETER`, in the method's own units); a layout whose
  points coincide is collapsed by either rule.

This module imports only numpy (scipy lazily) and :mod:`supviz.errors`, so any package may use it.
"""

from __future__ import annotations

import numpy as np

from supviz.errors import SupvizError

#: Tolerance relative to the spread (largest distance from the centroid) under which points coincide.
COINCIDE_RTOL = 1e-12
#: float64 units in the last place, per varying column, below which differences are rounding noise (docstring).
COINCIDE_ULPS = 16

_EPS = float(np.finfo(np.float64).eps)
#: Rounding a computed distance matrix may carry, relative to its largest entry: sqrt(eps) = 1.5e-8, the error of
#: the dot-product formula ``sqrt(|x|^2 + |y|^2 - 2 x.y)`` (scikit-learn's ``pairwise_distances``) for points of
#: norm about the matrix's scale. Rows of a coincident pair may differ by this much without breaking the
#: triangle inequality (break test 6: sklearn's matrix with exact copies, 5.6e-10 off, was refused).
COMPUTED_DISTANCE_RTOL = float(np.sqrt(_EPS))


def _power_of_two_scaled(arr: np.ndarray) -> np.ndarray:
    """``arr`` divided by the power of two that brings its largest magnitude into [0.5, 1)."""
    return _scaled(arr)[0]


def _scaled(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """``arr`` (float64) divided by ``2**e``, the power of two that brings its largest magnitude into [0.5, 1),
    and ``e`` (0 for an all-zero or empty array): exact, so nothing over- or underflows below."""
    arr = np.asarray(arr, dtype=np.float64)
    peak = float(np.max(np.abs(arr))) if arr.size else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        return arr, 0
    e = int(np.frexp(peak)[1])
    return np.ldexp(arr, -e), e


def _varying(points: np.ndarray) -> np.ndarray:
    """The columns of ``points`` [N, d] that vary (float64, [N, d']): a constant column adds exactly 0 to every
    difference, so it is left out before the set is scaled and measured (module docstring)."""
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0:
        return arr
    return arr[:, (arr != arr[:1]).any(axis=0)]


def _spread_and_floor(arr: np.ndarray) -> tuple[float, float]:
    """The largest distance from the centroid of the points ``arr`` [N, d'] (varying columns, :func:`_varying`) and
    their rounding floor ``sqrt(sum_j (COINCIDE_ULPS * ulp(max_i |x_ij|))^2)`` (module docstring), at a scale where
    squares neither over- nor underflow; (0, 0) without columns."""
    if arr.shape[1] == 0:
        return 0.0, 0.0
    radius = float(np.sqrt(((arr - arr.mean(axis=0)) ** 2).sum(axis=1).max()))
    ulps = COINCIDE_ULPS * np.spacing(np.abs(arr).max(axis=0))  # (d',)
    return radius, float(np.sqrt((ulps**2).sum()))


def _tolerance(radius: float, floor: float) -> float:
    return max(COINCIDE_RTOL * radius, floor)


def coincidence_tolerance(points: np.ndarray) -> float:
    """Distance under which two points of ``points`` ``[N, d]`` coincide, in their own units (module docstring):
    ``max(COINCIDE_RTOL * spread, floor)``, the floor ``COINCIDE_ULPS`` ulps of each varying column's largest
    magnitude, summed in quadrature; 0 for an empty set or one whose columns are all constant."""
    arr, e = _scaled(_varying(points))
    if arr.shape[0] == 0:
        return 0.0
    return float(np.ldexp(_tolerance(*_spread_and_floor(arr)), e))


def points_coincide(points: np.ndarray) -> bool:
    """Whether all points of ``points`` ``[N, d]`` coincide (module docstring); any scale, any offset.

    An empty set or a single point coincides trivially.
    """
    arr = _scaled(_varying(points))[0]
    if arr.shape[0] <= 1:
        return True
    radius, floor = _spread_and_floor(arr)
    return radius <= _tolerance(radius, floor)


def dissimilarities_coincide(delta: np.ndarray) -> bool:
    """Whether a dissimilarity matrix says every point is the same one (all entries 0)."""
    arr = np.asarray(delta, dtype=np.float64)
    return not arr.size or float(np.abs(arr).max()) == 0.0


def dissimilarity_spread(delta: np.ndarray, observed: np.ndarray | None = None) -> float:
    """The spread of the points behind dissimilarities ``delta`` [N, N]: their largest distance from the centroid,
    ``sqrt(max_i (mean_j D_ij^2 - mean_jk D_jk^2 / 2))`` (exact for Euclidean ``D``; for other dissimilarities
    between ``sqrt(mean D^2 / 2)`` and ``max D``); with pairs not ``observed`` (bool [N, N]) off the diagonal,
    the largest observed entry."""
    arr, e = _scaled(delta)
    n = arr.shape[0]
    if n <= 1:
        return 0.0
    if observed is not None:
        seen = np.asarray(observed, dtype=bool) | np.eye(n, dtype=bool)
        if not seen.all():
            return float(np.ldexp(float(np.abs(arr[seen]).max()), e))
    sq = arr**2
    radius2 = float((sq.mean(axis=1) - sq.mean() / 2.0).max())
    return float(np.ldexp(np.sqrt(max(radius2, 0.0)), e))


def coincident_groups(
    points: np.ndarray, *, precomputed: bool = False, observed: np.ndarray | None = None, name: str = "X"
) -> np.ndarray:
    """Label each point with its group of coincident points (single linkage at the tolerance).

    Parameters
    ----------
    points : numpy.ndarray, shape (N, d), or (N, N) with ``precomputed=True``
        Finite points, or symmetric dissimilarities.
    precomputed : bool, default False
        Whether ``points`` are dissimilarities (pairs at most ``COINCIDE_RTOL`` times their spread,
        :func:`dissimilarity_spread`, apart coincide).
    observed : numpy.ndarray of bool, shape (N, N), optional
        With ``precomputed``: which dissimilarities were observed (e.g. SMACOF's weights > 0). An
        unobserved pair never links two points, whatever value stands in for it, and is not compared.
    name : str, default "X"
        The argument named in the error.

    Returns
    -------
    numpy.ndarray of int, shape (N,)
        ``labels[i] == labels[j]`` when ``i`` and ``j`` are linked by a chain of coincident pairs;
        labels are numbered by first appearance (a set without coincident points gets
        ``arange(N)``). Cost: a k-d tree query at the (tiny) tolerance radius, about O(N log N); O(N^2)
        for dissimilarities.

    Raises
    ------
    SupvizError
        Non-finite ``points``, negative dissimilarities, or dissimilarities that make a group of two points that
        are not one point: their dissimilarities to a
        third point differ by more than the group's chain of tolerances plus :data:`COMPUTED_DISTANCE_RTOL` of
        the largest entry (the triangle inequality fails); the message names the pair and the third point.
    """
    arr = np.asarray(points, dtype=np.float64)
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise SupvizError(f"`{name}` must be finite; got {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}.")
    if precomputed and (arr < 0).any():
        raise SupvizError(f"`{name}` must be non-negative dissimilarities; got a minimum of {float(arr.min()):.3g}.")
    n = arr.shape[0]
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    if precomputed:
        arr = _scaled(arr)[0]
        seen = None if observed is None else np.asarray(observed, dtype=bool)
        tol = COINCIDE_RTOL * dissimilarity_spread(arr, seen)
        if tol == 0.0 and float(np.abs(arr if seen is None else arr[seen]).max(initial=0.0)) == 0.0:
            return np.zeros(n, dtype=np.int64)
        close = arr <= tol if seen is None else (arr <= tol) & seen
        iu, ju = np.nonzero(np.triu(close, 1))
    else:
        arr = _scaled(_varying(arr))[0]
        tol = _tolerance(*_spread_and_floor(arr))
        if tol == 0.0:  # all rows equal
            return np.zeros(n, dtype=np.int64)
        from scipy.spatial import cKDTree

        pairs = cKDTree(arr).query_pairs(r=tol, output_type="ndarray")
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
    labels = order[inverse.ravel()].astype(np.int64)
    if precomputed:
        _check_groups_are_points(arr, labels, tol, seen, name)
    return labels


def _check_groups_are_points(
    arr: np.ndarray, labels: np.ndarray, tol: float, seen: np.ndarray | None, name: str
) -> None:
    """Refuse a group of dissimilarities ``arr`` [N, N] whose member's row differs from its first member's by more
    than the triangle inequality allows along the group's chain, ``(size - 1) * tol``, plus the rounding a computed
    distance matrix carries, :data:`COMPUTED_DISTANCE_RTOL` times its largest entry (module docstring)."""
    _, first, counts = np.unique(labels, return_index=True, return_counts=True)
    rep = first[labels]  # (N,) each point's group representative
    members = np.flatnonzero(rep != np.arange(labels.size))
    if members.size == 0:
        return
    diff = np.abs(arr[members] - arr[rep[members]])  # (M, N): a member's row minus its representative's
    if seen is not None:
        diff = np.where(seen[members] & seen[rep[members]], diff, 0.0)
    peak = float(np.abs(arr if seen is None else arr[seen]).max())
    slack = (counts[labels[members]] - 1) * tol + COMPUTED_DISTANCE_RTOL * peak  # (M,)
    excess = diff - slack[:, None]
    if not (excess > 0).any():
        return
    m, k = np.unravel_index(int(np.argmax(excess)), excess.shape)
    i, r = int(members[m]), int(rep[members[m]])
    a, b = arr[r, k] / peak, arr[i, k] / peak  # relative to the largest entry: any scaling of the input
    # enough significant digits to tell the two apart (at least 3)
    digits = int(min(17, max(3, 2 + np.ceil(-np.log10(abs(a - b) / max(abs(a), abs(b)))))))
    raise SupvizError(
        f"`{name}` must be dissimilarities in which points at dissimilarity 0 are one point; got points {r} and {i} "
        f"at {arr[r, i] / peak:.3g} (linked as one point) but at {a:.{digits}g} and {b:.{digits}g} from point {k} "
        f"(the triangle inequality fails by more than {COMPUTED_DISTANCE_RTOL:.2g} of the largest dissimilarity, "
        "the rounding of a computed distance matrix; values relative to the largest dissimilarity). Give the pair a "
        "dissimilarity > 0, or make their rows equal."
    )


def float32_pairs(points: np.ndarray) -> int:
    """How many pairs of distinct points (outside :func:`coincidence_tolerance`) of ``points`` [N, d] differ only by
    float32 rounding: one row holds float32 values exactly and the other rounds to it in float32, i.e. a float32 copy
    of a float64 point (module docstring, "Mixed precision"). 0 when every row, or none, holds float32 values (an
    all-float32 input is exact at its own precision). Exact, and translation invariant in the sense that matters:
    rows far from the origin that merely share a float32 value are not float32 copies unless one of them is one.
    """
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] <= 1:
        return 0
    with np.errstate(over="ignore"):
        rounded = arr.astype(np.float32).astype(np.float64)  # (N, d); beyond float32's range: inf, never equal
    is32 = (rounded == arr).all(axis=1)
    if is32.all() or not is32.any():
        return 0
    rows32: dict[bytes, list[int]] = {}
    for j in np.flatnonzero(is32):
        rows32.setdefault((arr[j] + 0.0).tobytes(), []).append(int(j))  # + 0.0: -0.0 and 0.0 are one value
    tol = coincidence_tolerance(arr)
    count = 0
    for i in np.flatnonzero(~is32):
        for j in rows32.get((rounded[i] + 0.0).tobytes(), ()):
            count += int(np.linalg.norm(arr[i] - arr[j]) > tol)
    return count


def snapped_note(moved: int, *, precomputed: bool = False, of: str = "") -> str:
    """The note every snap writes: ``"3 points<of> coincide with another up to rounding (within 1e-12 of the data's
    spread, or 16 float64 ulps of its varying coordinates) and are laid out as identical."``; for dissimilarities,
    within 1e-12 of the spread they imply."""
    one = moved == 1
    within = (
        "the spread the dissimilarities imply"
        if precomputed
        else f"the data's spread, or {COINCIDE_ULPS} float64 ulps of its varying coordinates"
    )
    return (
        f"{moved} point{'' if one else 's'}{of} coincide{'s' if one else ''} with another up to rounding "
        f"(within {COINCIDE_RTOL:g} of {within}) and {'is' if one else 'are'} laid out as identical."
    )


def snap_coincident(
    points: np.ndarray, *, precomputed: bool = False, observed: np.ndarray | None = None, name: str = "X"
) -> tuple[np.ndarray, int]:
    """``points`` with every group of coincident points replaced by its first member, exactly.

    Parameters
    ----------
    points : numpy.ndarray, shape (N, d), or (N, N) with ``precomputed=True``
        Finite points, or symmetric dissimilarities (rows and columns of a group are set to those
        of its first member, and the distances within a group to 0).
    observed : numpy.ndarray of bool, shape (N, N), optional
        With ``precomputed``: the observed dissimilarities (see :func:`coincident_groups`).
    name : str, default "X"
        The argument named in an error.

    Returns
    -------
    snapped : numpy.ndarray
        A new array (``points`` itself when nothing coincides without being equal already).
    moved : int
        How many points were moved by a non-zero amount (rounding-level differences removed): members of a
        group other than its first whose coordinates differ from the first's, or, for dissimilarities, whose
        dissimilarity to the first or (observed) row differs from the first's. Exact copies are not moved.

    Raises
    ------
    SupvizError
        Dissimilarities whose coincident pair is not one point (:func:`coincident_groups`).
    """
    arr = np.asarray(points, dtype=np.float64)
    labels = coincident_groups(arr, precomputed=precomputed, observed=observed, name=name)
    _, first = np.unique(labels, return_index=True)
    rep = first[labels]  # (N,) index of each point's group representative
    if np.array_equal(rep, np.arange(arr.shape[0])):
        return arr, 0
    members = np.flatnonzero(rep != np.arange(arr.shape[0]))
    if precomputed:
        rows = arr[members] != arr[rep[members]]  # (M, N)
        if observed is not None:
            seen = np.asarray(observed, dtype=bool)
            rows &= seen[members] & seen[rep[members]]
        moved = int(np.count_nonzero(rows.any(axis=1) | (arr[members, rep[members]] != 0)))
        return arr[np.ix_(rep, rep)], moved
    moved = int(np.count_nonzero((arr[members] != arr[rep[members]]).any(axis=1)))
    return arr[rep], moved
