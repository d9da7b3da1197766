"""Procrustes distance between two layouts, with or without a known point correspondence.

**Distance.** Centre both layouts and scale each to unit Frobenius norm (``A``, ``B``); the full
Procrustes distance is

    min_{R orthogonal, s > 0} || s A R - B ||_F = sqrt(1 - (sum of singular values of A^T B)^2),

which lies in [0, 1], is 0 exactly when the layouts are similar (rotation, reflection,
translation, uniform scale) and is symmetric in its arguments. scipy's
:func:`scipy.spatial.procrustes` returns the square of this number as its ``disparity``.

**Unmatched point sets** (``match=True``). The study compares each picture with the picture of
the orthogonal baseline ``diag(N)`` of the same size, whose points are exchangeable: nothing says
which baseline point corresponds to which feature. The distance then also minimises over the
correspondence, a permutation ``P``:

    min_{P, R, s} || s A R - P B ||_F.

This is solved by alternation from several starts: for a fixed rotation the best correspondence
is a linear assignment maximising ``sum_i (A R)_i . B_pi(i)`` (Hungarian method,
:func:`scipy.optimize.linear_sum_assignment`), and for a fixed correspondence the best rotation is
the orthogonal Procrustes solution; each step can only lower the objective, so it stops when the
assignment repeats. Starts are the rotations by ``2 pi a / n_starts`` (``a = 0..n_starts-1``),
each with and without a reflection (2-D layouts), or seeded random orthogonal matrices in other
dimensions. Every start takes one assignment step; together with the given order of the points,
the four best of these are alternated to convergence and the smallest distance wins. The result
is deterministic, an upper bound on the true minimum (the problem is combinatorial) and never above
the unmatched distance.
Each assignment is O(N^3): fine for the study's panels (N <= 200: under 0.2 s), about 20 s of
CPU at N = 1,000 on two cores (``docs/bench/layouts.md``).

**Undefined** (NaN, reason logged; :mod:`supviz.metrics.undefined`): when either layout is
collapsed, i.e. its points coincide up to rounding or its method said so (a
:class:`~supviz.dr.Layout` with ``info["collapsed"]``). Standardising a collapsed layout would
blow its rounding noise up to unit size and compare that.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from supviz.core.validation import check_int
from supviz.errors import SupvizError
from supviz.metrics.distances import layout_source
from supviz.metrics.undefined import COLLAPSED

logger = logging.getLogger(__name__)

_MAX_ALTERNATIONS = 100
#: Starts followed to convergence after one assignment step from every start.
_KEEP_STARTS = 4


def _standardise(Y: np.ndarray) -> np.ndarray:
    centred = Y - Y.mean(axis=0)
    return centred / float(np.linalg.norm(centred))


def _pad(A: np.ndarray, width: int) -> np.ndarray:
    if A.shape[1] == width:
        return A
    return np.hstack([A, np.zeros((A.shape[0], width - A.shape[1]))])


def _fit_trace(A: np.ndarray, B: np.ndarray) -> tuple[float, np.ndarray]:
    """Sum of singular values of ``A^T B`` and the best rotation ``R`` (``A R ~ B``)."""
    u, s, vt = np.linalg.svd(A.T @ B)  # (p, p)
    return float(s.sum()), u @ vt


def _starts(p: int, n_starts: int) -> list[np.ndarray]:
    if p == 2:
        mats = []
        for a in range(n_starts):
            c, s = np.cos(2 * np.pi * a / n_starts), np.sin(2 * np.pi * a / n_starts)
            rot = np.array([[c, -s], [s, c]])
            mats.append(rot)
            mats.append(rot @ np.diag([1.0, -1.0]))
        return mats
    rng = np.random.default_rng(0)  # fixed: the starts are part of the definition, not a sample
    mats = [np.eye(p)]
    for _ in range(2 * n_starts - 1):
        q, r = np.linalg.qr(rng.normal(size=(p, p)))
        mats.append(q * np.sign(np.diag(r)))
    return mats


def _residual(A: np.ndarray, B: np.ndarray) -> float:
    """``min_{R, s} ||s A R - B||_F``, computed from the residual itself (accurate near 0)."""
    trace, R = _fit_trace(A, B)
    return float(np.linalg.norm(trace * (A @ R) - B))


def _assign(A: np.ndarray, B: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Best correspondence for rotation ``R``: maximise ``sum_i (A R)_i . B_cols[i]``."""
    score = (A @ R) @ B.T  # (N, N): inner products of rotated A_i with B_j
    from scipy.optimize import linear_sum_assignment  # 0.1 s at import: only when matching

    return linear_sum_assignment(score, maximize=True)[1]


def _alternate(A: np.ndarray, B: np.ndarray, cols: np.ndarray) -> tuple[float, np.ndarray]:
    """Alternate rotation and assignment from assignment ``cols`` until it repeats."""
    best, R = _fit_trace(A, B[cols])
    for _ in range(_MAX_ALTERNATIONS):
        new_cols = _assign(A, B, R)
        if np.array_equal(new_cols, cols):
            break
        trace, R_new = _fit_trace(A, B[new_cols])
        if trace <= best + 1e-15:  # no progress: keep the current (at least as good) assignment
            break
        cols, best, R = new_cols, trace, R_new
    return best, cols


def _matched_cols(A: np.ndarray, B: np.ndarray, n_starts: int) -> np.ndarray:
    """Assignment reached from the most promising starts (one step from each, then the best few)."""
    first = []
    for R in _starts(A.shape[1], n_starts):
        cols = _assign(A, B, R)
        first.append((_fit_trace(A, B[cols])[0], cols))
    identity = np.arange(len(B))  # the given order is a candidate too: matched <= unmatched
    first.append((_fit_trace(A, B)[0], identity))
    first.sort(key=lambda item: -item[0])
    results = [_alternate(A, B, cols) for _, cols in first[:_KEEP_STARTS]]
    return max(results, key=lambda item: item[0])[1]


def procrustes_distance(Y1: Any, Y2: Any, *, match: bool = False, n_starts: int = 8) -> float:
    """Full Procrustes distance between two layouts of the same number of points, in [0, 1].

    Parameters
    ----------
    Y1, Y2 : array_like, shape (N, p1) and (N, p2)
        Layouts; the narrower one is padded with zero columns.
    match : bool, default False
        ``False``: row i of ``Y1`` corresponds to row i of ``Y2``. ``True``: the point sets are
        exchangeable (e.g. a picture against the ``diag(N)`` baseline); the correspondence is also
        optimised by alternating Hungarian assignment and orthogonal Procrustes from
        ``2 * n_starts`` deterministic starts (module docstring).
    n_starts : int, default 8
        Start rotations per reflection when ``match=True``.

    Returns
    -------
    float
        ``sqrt(1 - (sum of singular values of A^T B)^2)`` for the standardised layouts; NaN
        (reason logged) when either layout is collapsed (module docstring).

    Raises
    ------
    SupvizError
        Non-finite or complex input, different numbers of points, fewer than 2 points.
    """
    value, reason = procrustes_and_reason(Y1, Y2, match=match, n_starts=n_starts)
    if reason is not None:
        logger.info("procrustes_distance undefined (NaN): %s.", reason)
    return value


def procrustes_and_reason(Y1: Any, Y2: Any, *, match: bool = False, n_starts: int = 8) -> tuple[float, str | None]:
    """:func:`procrustes_distance`, or ``(nan, why it is undefined)``."""
    src_a, collapsed_a = layout_source("Y1", Y1, min_points=2)
    src_b, collapsed_b = layout_source("Y2", Y2, min_points=2)
    a, b = src_a.data, src_b.data
    if a.shape[0] != b.shape[0]:
        raise SupvizError(f"`Y1` and `Y2` must hold the same number of points; got {a.shape[0]} and {b.shape[0]}.")
    n_starts = check_int("n_starts", n_starts, min_value=1)
    for name, collapsed in (("Y1", collapsed_a), ("Y2", collapsed_b)):
        if collapsed:
            return float("nan"), f"{COLLAPSED} ({name})"
    width = max(a.shape[1], b.shape[1])
    A = _pad(_standardise(a), width)
    B = _pad(_standardise(b), width)
    if not match:
        return _residual(A, B), None
    return _residual(A, B[_matched_cols(A, B, n_starts)]), None
