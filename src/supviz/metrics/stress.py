"""Distance-fit metrics: stress-1 after optimal ratio scaling and the Shepard rank correlation.

**stress1_ratio.** For the high-dimensional distances ``delta_ij`` (or given dissimilarities) and
the layout distances ``d_ij`` over the pairs ``i < j``, Kruskal's stress-1 (Kruskal 1964,
*Psychometrika* 29(1), "stress formula 1": ``sqrt(sum (d - dhat)^2 / sum d^2)``) with *ratio*
disparities ``dhat = b delta``, the scale factor ``b`` chosen optimally, is

    stress1_ratio = min_b sqrt( sum (b delta - d)^2 / sum d^2 ) = sqrt( 1 - (sum delta d)^2 / (sum delta^2 sum d^2) ).

Scaling the layout instead of the dissimilarities, or normalising by ``sum delta^2`` instead of
``sum d^2``, gives the same number, so the value depends on the shape of the layout only and any
method's layout (UMAP, t-SNE, MDS) can be scored on one scale. It lies in [0, 1]: 0 for a similar
copy of the data. It is undefined (NaN, reason logged) for a collapsed layout (0 / 0: no distance
of the layout to scale) and when all points of ``X`` coincide (nothing to fit).

*Not the number SMACOF reports.* An MDS :class:`~supviz.dr.Layout` carries
``info["smacof_stress"]``: the stress-1 SMACOF minimised (de Leeuw & Mair 2009, *J. Stat. Softw.*
31(3): ``sqrt(sum (dhat - d)^2 / sum dhat^2)`` with ``sum dhat^2 = N(N-1)/2``) against the
disparities of the layout's own ``metric_type`` (interval: ``dhat = a + b delta``; ordinal:
monotone in ``delta``). The two differ in the disparities only: at a converged SMACOF solution
``smacof_stress`` equals ``supviz.dr.smacof.layout_stress(delta, Y, metric_type=<its type>)``
and ``stress1_ratio`` equals ``layout_stress(delta, Y, metric_type="ratio")`` (both up to the
stopping tolerance ``eps``), so for ratio MDS they agree and for interval or ordinal MDS
``smacof_stress <= stress1_ratio`` (a ratio fit is also an interval and an ordinal fit). README's
example, interval MDS of 20 feature directions: 0.2229 and 0.2243.

**Shepard rank correlation.** Spearman's rho between ``delta_ij`` and ``d_ij`` over the pairs
``i < j``, with ties given their expectation over uniformly random tie orders (the tie rule of
:mod:`supviz.metrics.ranks`; :func:`~supviz.metrics.ranks.spearman_tie_expected`): the centred average
ranks' cross product over the spread of untied ranks, ``M (M^2 - 1) / 12`` for ``M`` pairs. The Pearson
correlation of the average ranks (scipy's) divides by their shrunken spread instead and so credits a
picture for its ties (many points on one spot); with ties, even an isometry scores below 1. Ties
follow the one rule of :mod:`supviz.metrics.undefined` (chains of distances equal up to the input's
precision), so an isometry or a rescaling of a layout with exactly equal distances (a grid) leaves
rho unchanged. It is undefined, and returned
as ``nan``, when either set of distances is constant up to the tie tolerance of
:mod:`supviz.metrics.undefined` (``diag(N)`` has nothing to rank) and for a collapsed layout.
(ZADU's ``spearman_rho`` correlates the flattened full ``[N, N]`` matrices, so every pair counts
twice and the N zero self-distances join in as a block of ties; here each pair counts once.)
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from supviz.errors import SupvizError
from supviz.metrics.distances import DistanceSource, layout_source
from supviz.metrics.undefined import COLLAPSED, X_COINCIDE

logger = logging.getLogger(__name__)


def _pair_sources(X: Any, Y: Any, precomputed: bool) -> tuple[DistanceSource, DistanceSource, bool]:
    xs = DistanceSource("X", X, precomputed=precomputed, min_points=2)
    ys, collapsed = layout_source("Y", Y, min_points=2)
    if xs.n != ys.n:
        raise SupvizError(f"`X` and `Y` must hold the same number of points; got {xs.n} and {ys.n}.")
    return xs, ys, collapsed


def stress_reason(xs: DistanceSource, collapsed: bool) -> str | None:
    """Why stress-1 is undefined for these inputs, or None."""
    if xs.coincide:
        return X_COINCIDE
    return COLLAPSED if collapsed else None


def _undefined(metric: str, reason: str) -> float:
    logger.info("%s undefined (NaN): %s.", metric, reason)
    return float("nan")


def stress1_ratio(X: Any, Y: Any, *, precomputed: bool = False) -> float:
    """Kruskal stress-1 of layout ``Y`` against the distances of ``X`` after optimal ratio scaling.

    The same formula for every method's layout, so UMAP, t-SNE and MDS pictures compare; for an
    MDS layout it is not SMACOF's own ``info["smacof_stress"]`` unless that layout was fitted
    with ``metric_type="ratio"`` (module docstring).

    Parameters
    ----------
    X : array_like, shape (N, d) or (N, N)
        High-dimensional points (Euclidean distances are used), or dissimilarities with
        ``precomputed=True``.
    Y : array_like, shape (N, p), or a :class:`~supviz.dr.Layout`
        The layout (a ``Layout`` also says whether its method saw it collapse).
    precomputed : bool, default False
        Whether ``X`` is a dissimilarity matrix.

    Returns
    -------
    float
        ``sqrt(1 - (sum delta d)^2 / (sum delta^2 sum d^2))`` in [0, 1] (module docstring); NaN
        (reason logged) for a collapsed layout or when all points of ``X`` coincide.

    Raises
    ------
    SupvizError
        Non-finite or complex input, fewer than 2 points, mismatched sizes.
    """
    xs, ys, collapsed = _pair_sources(X, Y, precomputed)
    value, reason = stress1_ratio_and_reason(xs, ys, collapsed)
    return _undefined("stress1_ratio", reason) if reason is not None else value


def stress1_ratio_and_reason(xs: DistanceSource, ys: DistanceSource, collapsed: bool) -> tuple[float, str | None]:
    """Stress-1 after optimal ratio scaling, or ``(nan, why it is undefined)``."""
    reason = stress_reason(xs, collapsed)
    if reason is not None:
        return float("nan"), reason

    def pair_sums(fn: Any) -> float:
        # Rows start:stop against columns start:N: every pair i < j once, except that the square
        # part [start:stop, start:stop] holds its pairs twice (and zeros on the diagonal).
        total = 0.0
        for start, stop in xs.blocks(entries=2_000_000):
            bx = xs.rows(start, stop, col_start=start)
            by = ys.rows(start, stop, col_start=start)
            c = stop - start
            total += fn(bx, by) - 0.5 * fn(bx[:, :c], by[:, :c])
        return total

    s_dd, s_xx, s_yy = (
        pair_sums(lambda a, b, i=i: float(np.einsum("ij,ij->", *((a, b), (a, a), (b, b))[i]))) for i in range(3)
    )
    if s_xx == 0.0:
        return float("nan"), X_COINCIDE
    if s_yy == 0.0:
        return float("nan"), COLLAPSED
    # The residual of the optimal scaling summed directly (a second pass), not as
    # sqrt(1 - cos^2): that form cancels to sqrt(rounding) ~ 1e-8 for an exact similar copy.
    b = s_dd / s_xx
    residual = pair_sums(lambda a, c: float(np.einsum("ij,ij->", b * a - c, b * a - c)))
    return float(np.sqrt(min(max(residual, 0.0) / s_yy, 1.0))), None


def shepard_correlation(X: Any, Y: Any, *, precomputed: bool = False) -> float:
    """Spearman rank correlation of data vs layout distances, ties at their expectation over random orders.

    Parameters
    ----------
    X : array_like, shape (N, d) or (N, N)
        High-dimensional points, or dissimilarities with ``precomputed=True``.
    Y : array_like, shape (N, p), or a :class:`~supviz.dr.Layout`
        The layout.
    precomputed : bool, default False
        Whether ``X`` is a dissimilarity matrix.

    Returns
    -------
    float
        rho in [-1, 1] over the ``N (N - 1) / 2`` pairs; ``nan`` when either set of distances is
        constant up to the tie tolerance, or the layout collapsed (Spearman's rho is undefined
        there; the reason is logged at INFO).

    Notes
    -----
    Uses all pairs exactly, in bounded memory (:mod:`supviz.metrics.allpairs`): the 4-byte ranks of
    the ``N (N - 1) / 2`` pairs of one side (0.8 GB at N = 20,000) plus about 400 MB; the other
    side's distances are recomputed in passes (``docs/benchmarks.md`` has the time).
    """
    xs, ys, collapsed = _pair_sources(X, Y, precomputed)
    rho, reason = shepard_rho_and_reason(xs, ys, collapsed)
    return _undefined("shepard_rho", reason) if reason is not None else rho


def shepard_rho_and_reason(xs: DistanceSource, ys: DistanceSource, collapsed: bool) -> tuple[float, str | None]:
    """Spearman's rho of the pair distances, or ``(nan, why it is undefined)``.

    All pairs, exactly, in bounded memory (:func:`supviz.metrics.allpairs.shepard_rho_blocked`:
    one ``N (N - 1) / 2`` array of 4-byte ranks plus about 400 MB).
    """
    from supviz.metrics.allpairs import shepard_rho_blocked

    nan = float("nan")
    if collapsed:
        return nan, COLLAPSED
    if xs.coincide:
        return nan, X_COINCIDE
    return shepard_rho_blocked(xs, ys)
