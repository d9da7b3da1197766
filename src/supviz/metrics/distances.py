"""Euclidean distances, row block by row block, computed so that ties stay ties.

Every rank-based metric in :mod:`supviz.metrics` decides ties by the relative tolerance of
:mod:`supviz.metrics.undefined` (exact equality for bit-equal pairs). That is only meaningful when
the distance of a pair does not depend on where the pair sits in the input, and when its
rounding error is relative to itself, so all distances here come from :func:`scipy.spatial.distance.cdist` /
:func:`~scipy.spatial.distance.pdist`, which compute each pair by the same loop over coordinates
wherever it sits (checked by ``tests/metrics/test_distances.py``). The Gram-matrix shortcut
``|x|^2 + |y|^2 - 2 x.y`` is deliberately not used: its rounding depends on the BLAS blocking, so
permuting the points could turn a tie into an order.

A full ``[N, N]`` matrix is never needed: :meth:`DistanceSource.rows` yields blocks of rows,
sized so that a block holds about :data:`BLOCK_ENTRIES` numbers.

Every metric here is scale-invariant, so a :class:`DistanceSource` holds its data divided by the
power of two that brings the largest entry into [0.5, 1) (exact: ties stay ties). Points at 1e300
would overflow when their distances are squared, points at 1e-300 underflow to identical ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from supviz.core.geometry import coincident_groups, dissimilarities_coincide, points_coincide
from supviz.core.validation import check_array, check_dissimilarity_matrix, unit_scaled
from supviz.errors import SupvizError
from supviz.metrics.undefined import tie_rtol

#: Entries per block of distance rows (4e6 float64 = 32 MB per array).
BLOCK_ENTRIES = 4_000_000


def check_points(name: str, value: Any, *, min_points: int = 1) -> np.ndarray:
    """A finite ``[N, d]`` float64 array with at least ``min_points`` rows and ``d >= 1``."""
    arr = check_array(name, value, ndim=2)
    if arr.shape[1] < 1:
        raise SupvizError(f"`{name}` must have at least one coordinate per point; got shape {arr.shape}.")
    if arr.shape[0] < min_points:
        raise SupvizError(f"`{name}` must hold at least {min_points} points; got {arr.shape[0]}.")
    return arr


def check_dissimilarities(name: str, value: Any, *, min_points: int = 1) -> np.ndarray:
    """A finite, square, symmetric, non-negative ``[N, N]`` matrix with a zero diagonal: the check
    every method shares (:func:`supviz.core.validation.check_dissimilarity_matrix`)."""
    return check_dissimilarity_matrix(name, value, min_points=min_points)


class DistanceSource:
    """Row access to the Euclidean distances of points, or to a precomputed matrix.

    Distances come at unit scale: the input divided by ``2 ** exponent`` (exact). Attributes
    ``coincide`` (all points at one spot, up to rounding) and ``tie_rtol`` (the relative tie
    tolerance of this space, from the input's dtype: :func:`supviz.metrics.undefined.tie_rtol`)
    feed the tie and undefined-metric rules of :mod:`supviz.metrics.undefined`.

    Parameters
    ----------
    name : str
        The argument name used in error messages.
    data : array_like
        Points ``[N, d]`` or, with ``precomputed=True``, dissimilarities ``[N, N]``.
    precomputed : bool, default False
        Whether ``data`` already is a dissimilarity matrix.
    min_points : int, default 1
        Fewest points accepted.
    """

    def __init__(self, name: str, data: Any, *, precomputed: bool = False, min_points: int = 1) -> None:
        self.name = name
        self.precomputed = bool(precomputed)
        #: Distances ``a <= b`` of this space with ``b - a <= tie_rtol * b`` are adjacent ties
        #: (:mod:`supviz.metrics.undefined`); float32 input gets float32's tolerance.
        self.tie_rtol = tie_rtol(getattr(data, "dtype", None))
        if self.precomputed:
            self._data, self.exponent = unit_scaled(check_dissimilarities(name, data, min_points=min_points))
            # zero pairs that are not one point are refused as every layout method refuses them (the one rule)
            coincident_groups(self._data, precomputed=True, name=name)
            self.coincide = dissimilarities_coincide(self._data)
        else:
            self._data, self.exponent = unit_scaled(check_points(name, data, min_points=min_points))
            self.coincide = points_coincide(self._data)  # the one rule (supviz.core.geometry)
        self.n = int(self._data.shape[0])

    @property
    def data(self) -> np.ndarray:
        """The checked points ``[N, d]`` (or dissimilarities ``[N, N]``), at unit scale."""
        return self._data

    def rows(self, start: int, stop: int, *, col_start: int = 0) -> np.ndarray:
        """Distances (at unit scale) from points ``start:stop`` to points ``col_start:N``, float64."""
        if self.precomputed:
            return np.array(self._data[start:stop, col_start:], dtype=np.float64)
        from scipy.spatial.distance import cdist  # scipy.spatial costs 0.2 s at import: only when used

        return cdist(self._data[start:stop], self._data[col_start:])

    def rows_at(self, idx: np.ndarray) -> np.ndarray:
        """Distances (at unit scale) from the points ``idx`` (int array, shape (c,)) to all points,
        ``(c, N)`` float64: the same numbers as :meth:`rows` gives for those rows."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.precomputed:
            return np.array(self._data[idx], dtype=np.float64)
        from scipy.spatial.distance import cdist

        return cdist(self._data[idx], self._data)

    def blocks(self, *, entries: int = BLOCK_ENTRIES) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` row ranges, each holding about ``entries`` distances."""
        step = max(1, entries // max(self.n, 1))
        for start in range(0, self.n, step):
            yield start, min(start + step, self.n)

    def condensed(self) -> np.ndarray:
        """The ``N (N - 1) / 2`` distances of the pairs ``i < j`` in row-major order."""
        if self.precomputed:
            from scipy.spatial.distance import squareform

            return squareform(self._data, checks=False)
        from scipy.spatial.distance import pdist

        return pdist(self._data)


def layout_source(name: str, Y: Any, *, min_points: int = 1) -> tuple[DistanceSource, bool]:
    """A :class:`DistanceSource` of a layout given as an array or as a :class:`~supviz.dr.Layout`,
    and whether the layout is collapsed: by its method's own judgement (``info["collapsed"]``, in
    the method's units) or because its points coincide up to rounding."""
    said = False
    if hasattr(Y, "embedding") and isinstance(getattr(Y, "info", None), dict):  # a Layout (no import: no cycle)
        said = bool(Y.info.get("collapsed", False))
        Y = Y.embedding
    src = DistanceSource(name, Y, min_points=min_points)
    return src, said or src.coincide


def pairwise_distances(X: Any) -> np.ndarray:
    """Euclidean distance matrix ``[N, N]`` of points ``X [N, d]`` (position-independent rounding).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Finite points.

    Returns
    -------
    numpy.ndarray, shape (N, N)
        Symmetric, zero diagonal, float64.
    """
    pts, e = unit_scaled(check_points("X", X))
    from scipy.spatial.distance import cdist

    return np.ldexp(cdist(pts, pts), e)  # squares at unit scale: no overflow at 1e300, no underflow at 1e-300
