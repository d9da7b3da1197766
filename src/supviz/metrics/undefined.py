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
  a t-SNE picture 1e-13 across) or, for a bare array, its points coincide up to rounding:
  their spread is at most :data:`COINCIDE_RTOL` times their largest coordinate. Every metric of
  such a layout is undefined (its distances are 0 / 0, or rounding noise).
- **all distances tie** in a space that a neighbourhood metric ranks (``X``, ``Y`` or ``X_true``):
  then the metric does not depend on the other space. Trustworthiness is 1 for every layout of
  ``diag(N)``, continuity is constant for every tie-free layout, recall is ``k / (N - 1)``. The
  Shepard correlation is undefined for the same reason (nothing to rank).
- **all points of X coincide**: no distance to fit (stress-1, Shepard) or rank.

Ties are decided with a tolerance: two distances of one space tie when they differ by at most
:data:`TIE_RTOL` times the space's diameter (bounded above by twice the largest distance from the
centroid). A layout computed in floating point has rounding-level differences where its maker
meant equal distances (an MDS equilateral triangle has distances 1 +- 2e-16), and exact equality
would rank those as if they were real.
"""

from __future__ import annotations

from supviz.core.geometry import COINCIDE_RTOL

__all__ = ["COINCIDE_RTOL", "TIE_RTOL", "k_reason", "tied_reason", "coincide_reason"]

#: Relative tolerance under which two distances of one space count as tied.
TIE_RTOL = 1e-9
# COINCIDE_RTOL: a point set whose spread (max distance from the centroid) is at most this times its
# largest coordinate coincides up to rounding: a bare array "collapsed" at any scale. The one
# definition, shared with every layout method (:mod:`supviz.core.geometry`).

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
