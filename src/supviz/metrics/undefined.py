"""When a metric is undefined for its input, and the one-line reason that says so.

Degenerate geometry is the normal case in the study (``diag(N)``, dropped features at the origin,
tiny panels, collapsed t-SNE pictures). A metric whose value would not depend on one of its inputs,
or would be computed on rounding noise, is returned as NaN together with one of these reasons,
never as a number that looks fine:

- **k too large** (neighbourhood metrics): the k-neighbourhood must leave at least one point
  outside it to be penalised, so ``1 <= k <= N - 2`` (:func:`k_reason`). At ``k = N - 1`` every
  layout keeps every neighbourhood. The standalone functions refuse such a ``k``;
  :func:`~supviz.metrics.layout_metrics` returns NaN with this reason and never shrinks ``k``.
- **layout collapsed**: all points of ``Y`` at one spot. Either the method said so (a
  :class:`~supviz.dr.Layout` with ``info["collapsed"]``, judged in the method's own units, e.g.
  a t-SNE picture 1e-13 across) or, for a bare array, its points coincide up to rounding
  (:func:`supviz.core.geometry.points_coincide`: their spread is within float64 rounding of their
  coordinates, at any offset). Every metric of
  such a layout is undefined (its distances are 0 / 0, or rounding noise).
- **all distances tie** in a space that a neighbourhood metric ranks (``X``, ``Y`` or ``X_true``):
  then the metric does not depend on the other space. Trustworthiness is 1 for every layout of
  ``diag(N)``, continuity is constant for every tie-free layout, recall is ``k / (N - 1)``. The
  Shepard correlation is undefined for the same reason (nothing to rank).
- **all points of X coincide**: no distance to fit (stress-1, Shepard) or rank.

Ties are decided with a tolerance relative to the distances compared (:func:`tie_rtol`): two
distances ``a <= b`` of one space are adjacent ties when ``b - a <= rtol * b``, and the tied blocks
are the chains of sorted distances linked by adjacent ties (so ties are transitive and every score
matches one consistent tie pattern). Why relative to the distance: every distance here is computed
differences first (``cdist``, ``pdist``: ``sqrt(sum (x_i - x_j)^2)``), whose float64 rounding is a
few ulps *of that distance*, wherever the points sit; a far outlier does not blur the distances of
the others (the Gram trick ``|x|^2 + |y|^2 - 2 x.y`` would need a diameter-scale tolerance, and is
not used). ``rtol`` follows the input's precision: ``max(TIE_RTOL, TIE_ULPS * eps)`` with ``eps``
the machine epsilon of the input's dtype (float64: 1e-12, float32: 9.5e-7), so a float32 layout
(torchdr's) whose maker meant equal distances and got them up to float32 rounding ties as meant;
an MDS equilateral triangle (distances 1 +- 2e-16) does too. A precomputed matrix follows the
same rule (its entries are the distances). What the rule cannot see: rounding of the input
coordinates themselves is relative to the coordinates, so points stored far from the origin
compared with their spacing (1e6 + 1e-3 i in float32) carry errors beyond it.
"""

from __future__ import annotations

import numpy as np

from supviz.core.geometry import COINCIDE_RTOL

__all__ = [
    "COINCIDE_RTOL",
    "TIE_RTOL",
    "TIE_ULPS",
    "all_tied",
    "tie_rtol",
    "k_reason",
    "tied_reason",
    "coincide_reason",
]

#: Relative tolerance under which two float64 distances of one space count as tied: about 4,500 ulps,
#: room for the rounding a layout method accumulates where it meant equal distances, far below the
#: gaps of real data (the neighbours of a point 1e8 away from a unit cluster differ by 3e-10).
TIE_RTOL = 1e-12
#: Machine epsilons of the input's dtype under which two distances tie (for inputs coarser than float64).
TIE_ULPS = 8
# COINCIDE_RTOL: two points closer than this times their set's spread (max distance from the centroid)
# coincide; a set coincides when its spread is within float64 rounding of its coordinates: a bare array
# "collapsed" at any scale and offset. The one definition, shared with every layout method
# (:mod:`supviz.core.geometry`).

COLLAPSED = "layout collapsed: all points at one spot"
X_COINCIDE = "all points of X coincide: no distances to compare"
NO_X_TRUE = "no X_true given"
NO_BASELINE = "no baseline given"
BASELINE_COLLAPSED = "baseline collapsed: all its points at one spot"
SKIPPED_ALL_PAIRS = "skipped: all_pairs=False (a metric over all pairs)"


def k_reason(k: int, n: int) -> str | None:
    """The reason a neighbourhood of ``k`` is undefined for ``n`` points, or None (``k <= n - 2``)."""
    if k <= n - 2:
        return None
    return f"k = {k} needs at least k + 2 = {k + 2} points; got {n}"


def tied_reason(name: str) -> str:
    """The reason for a space whose pairwise distances all tie."""
    return f"all pairwise distances of {name} tie: nothing is nearer than anything else"


def coincide_reason(name: str) -> str:
    """The reason for a space whose points all coincide (up to rounding, :mod:`supviz.core.geometry`)."""
    return f"all points of {name} coincide: no distances to compare"


def tie_rtol(dtype: object) -> float:
    """The relative tie tolerance of distances computed from data of ``dtype``.

    ``max(TIE_RTOL, TIE_ULPS * eps(dtype))`` for a floating dtype (numpy's, or a torch dtype by its
    name), :data:`TIE_RTOL` otherwise (integers and booleans are exact; their distances are float64).
    """
    try:
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float64)
    except TypeError:  # a torch dtype: torch.float32 by the name float32
        try:
            dt = np.dtype(str(dtype).removeprefix("torch."))
        except TypeError:
            return TIE_RTOL
    if not np.issubdtype(dt, np.floating):
        return TIE_RTOL
    return max(TIE_RTOL, TIE_ULPS * float(np.finfo(dt).eps))


def all_tied(lo: float, hi: float, rtol: float) -> bool:
    """Whether distances spanning ``[lo, hi]`` (smallest and largest off-diagonal) all tie:
    ``hi - lo <= rtol * hi`` (:func:`tie_rtol`)."""
    return hi - lo <= rtol * hi
