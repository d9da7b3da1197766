"""All artifact metrics of one layout in one call, under stable key names, with reasons for NaN."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz.core.scores import Scores
from supviz.core.validation import check_choice, check_int, check_keywords
from supviz.errors import SupvizError
from supviz.metrics.distances import DistanceSource, layout_source
from supviz.metrics.neighbors import neighbourhood_scores
from supviz.metrics.procrustes import procrustes_and_reason
from supviz.metrics.stress import shepard_rho_and_reason, stress1_ratio_and_reason
from supviz.metrics.undefined import BASELINE_COLLAPSED, COLLAPSED, NO_BASELINE, NO_X_TRUE, SKIPPED_ALL_PAIRS

logger = logging.getLogger(__name__)

#: What ``layout_metrics(neighbors=...)`` accepts.
NEIGHBOR_MODES = ("exact", "approximate")

#: The keys of :func:`layout_metrics`, in order. Always all present; ``nan`` where not applicable.
METRIC_KEYS = (
    "stress1_ratio",
    "shepard_rho",
    "trustworthiness",
    "continuity",
    "knn_recall",
    "knn_recall_true",
    "procrustes_baseline",
    "k",
)


#: Range (the metrics are unitless) and definition of every column of :meth:`LayoutMetrics.to_frame`.
#: delta: distances of X; d: distances of the layout Y; over the pairs i < j.
METRIC_DEFINITIONS = {
    "stress1_ratio": (
        "[0, 1], 0 best",
        "Kruskal (1964) stress-1 after optimal ratio scaling: sqrt(1 - (sum delta d)^2 / (sum delta^2 sum d^2))",
    ),
    "shepard_rho": (
        "[-1, 1], 1 best",
        "Spearman's rho of delta and d over the pairs (ties: expectation over random orders)",
    ),
    "trustworthiness": (
        "[0, 1], 1 best",
        "Venna & Kaski (2001): T(k) = 1 - sum_i sum_j w^Y_ij E[max(r^X_ij - k, 0)] / "
        "(N G(N, k)): the layout's k-neighbours penalised by their rank in X (false neighbours); "
        "the expectation over random tie orders",
    ),
    "continuity": ("[0, 1], 1 best", "Venna & Kaski (2001): C(k), T(k) with X and Y swapped (tearing)"),
    "knn_recall": (
        "[0, 1], 1 best",
        "R(k) = sum_i sum_j w^X_ij P(r^Y_ij <= k) / (N k): share of each point's k nearest "
        "in X among its k nearest in Y, the expectation over random tie orders",
    ),
    "knn_recall_true": ("[0, 1], 1 best", "the same against X_true (e.g. the ground-truth features)"),
    "procrustes_baseline": (
        "[0, 1], 0 = the baseline's shape",
        "full Procrustes distance sqrt(1 - (sum of singular "
        "values of A^T B)^2), minimised over the point matching, to the layout of diag(N)",
    ),
    "k": ("count", "neighbourhood size of the neighbourhood metrics"),
    "nan_reasons": ("text", "'metric: reason; ...' for every NaN metric (supviz.metrics.undefined)"),
}


@dataclass(eq=False, frozen=True, repr=False)
class LayoutMetrics(Scores):
    """The metrics of one layout: a read-only mapping ``name -> float`` over :data:`METRIC_KEYS`,
    plus why each NaN is NaN.

    Attributes
    ----------
    scores : dict of str to float
        Every key of :data:`METRIC_KEYS` (``"k"`` is the neighbourhood size, as given); also
        what the mapping itself gives (``out["stress1_ratio"]``, ``dict(out)``).
    reasons : dict of str to str
        For each NaN value, one line saying why (undefined for the input, see
        :mod:`supviz.metrics.undefined`, or an input that was not given). Empty when every
        metric is defined.
    """

    def __repr__(self) -> str:
        vals = ", ".join(
            f"{k}={v:.4g}" if k != "k" else f"k={int(v)}" for k, v in self.scores.items() if v == v or k == "k"
        )
        undefined = ", ".join(self.reasons)
        return f"LayoutMetrics({vals}; undefined: {undefined or 'none'}; .reasons says why)"

    def to_frame(self, name: Any = None) -> Any:
        """The metrics as a one-row pandas DataFrame (``pd.concat`` the frames of many layouts).

        Parameters
        ----------
        name : hashable, optional
            The row's index label (e.g. the layout's method or panel title); default 0.

        Returns
        -------
        pandas.DataFrame
            One column per key of :data:`METRIC_KEYS` (float; NaN where undefined) and
            ``nan_reasons`` (``"metric: reason; ..."``, "" when all are defined), as in the
            study's tidy table. ``df.attrs["units"]`` and ``df.attrs["definitions"]`` give each
            column's range and formula (:data:`METRIC_DEFINITIONS`).
        """
        import pandas as pd

        df = pd.DataFrame([{**self.scores, "nan_reasons": self.reason_text()}], index=[0 if name is None else name])
        df.attrs["units"] = {c: METRIC_DEFINITIONS[c][0] for c in df.columns}
        df.attrs["definitions"] = {c: METRIC_DEFINITIONS[c][1] for c in df.columns}
        return df


def layout_metrics(
    X: Any,
    Y: Any,
    *,
    X_true: Any = None,
    k: int = 10,
    baseline: Any = None,
    collapsed: bool | None = None,
    neighbors: str = "exact",
    all_pairs: bool = True,
    random_state: Any = 0,
    **unknown: Any,
) -> LayoutMetrics:
    """Every artifact metric of layout ``Y`` of points ``X``, each NaN with a reason where undefined.

    Parameters
    ----------
    X : array_like, shape (N, d)
        The high-dimensional points that were laid out (e.g. the rows of ``W``).
    Y : array_like, shape (N, p), or a :class:`~supviz.dr.Layout`
        The layout. A ``Layout`` brings its method's verdict on collapse (``info["collapsed"]``).
    X_true : array_like, shape (N, d_true), optional
        The same N items in a reference space (the ground-truth features); gives ``knn_recall_true``.
    k : int, default 10
        Neighbourhood size, >= 1. Never shrunk: for ``k > N - 2`` the neighbourhood metrics are
        NaN with the reason (a small panel does not silently get a different k).
    baseline : array_like, shape (N, p), optional
        Layout of the orthogonal baseline ``diag(N)`` of the same size; gives
        ``procrustes_baseline``, computed with ``match=True`` because baseline points have no
        natural correspondence with the features.
    collapsed : bool, optional
        Whether the layout is collapsed, as its method judges it. Default: a ``Layout``'s own
        ``info["collapsed"]``, else whether the points of ``Y`` coincide up to rounding.
    neighbors : {"exact", "approximate"}, default "exact"
        ``"exact"``: the tie-aware scores over all ranks (:mod:`supviz.metrics.neighbors`, blocked:
        bounded memory, ``O(N^2)`` time). ``"approximate"``: from neighbour lists (a KD-tree for
        layouts, brute force up to 5,000 points, pynndescent above) and sampled ranks
        (:mod:`supviz.metrics.approximate`), ``O(N)`` memory; the same tie rules (rows whose ties
        the lists cannot resolve are scored exactly, ``O(N)`` each) and the same NaN reasons;
        equal to ``"exact"`` up to rounding where the lists hold every point (``k >= (N - 1) / 3``
        below 5,000 points); elsewhere its error is measured in ``docs/benchmarks.md``.
    all_pairs : bool, default True
        ``False`` skips the metrics whose cost grows with the number of pairs or worse: stress-1,
        Shepard rho (all ``N (N - 1) / 2`` pairs) and the matched Procrustes distance (an
        ``N x N`` assignment); they are NaN with the reason "skipped".
    random_state : seed, default 0
        The neighbour search and rank sample of ``neighbors="approximate"`` (unused when exact).

    Returns
    -------
    LayoutMetrics
        A mapping over :data:`METRIC_KEYS`: ``stress1_ratio`` (:func:`~supviz.metrics.stress1_ratio`),
        ``shepard_rho`` (:func:`~supviz.metrics.shepard_correlation`), ``trustworthiness``,
        ``continuity``, ``knn_recall`` (against ``X``), ``knn_recall_true`` (against ``X_true``),
        ``procrustes_baseline`` and ``k``; ``.reasons`` says why each NaN is NaN. When undefined
        (:mod:`supviz.metrics.undefined`): every metric of a collapsed layout; the neighbourhood
        metrics for ``k > N - 2`` or when a space they rank has all distances tied (``diag(N)``);
        stress-1 and Shepard when all points of ``X`` coincide; Shepard when either side's
        distances all tie.

    Raises
    ------
    SupvizError
        Non-finite or complex input, fewer than 2 points, mismatched sizes, ``k < 1``, an unknown
        ``neighbors``, or a keyword argument it does not take (the message lists the valid ones).

    Notes
    -----
    Memory is bounded for any N: the neighbourhood scores and stress-1 work in row blocks, Shepard
    rho keeps 4 bytes per pair of one side (0.8 GB at N = 20,000) plus about 400 MB
    (:mod:`supviz.metrics.allpairs`); ``docs/benchmarks.md`` has the peak RSS at 20,000 points.
    The matched Procrustes distance (``baseline``) is an ``N x N`` assignment: ``all_pairs=False``
    above a few thousand points.
    """
    check_keywords(
        "layout_metrics", unknown, ("X_true", "k", "baseline", "collapsed", "neighbors", "all_pairs", "random_state")
    )
    xs = DistanceSource("X", X, min_points=2)
    ys, auto_collapsed = layout_source("Y", Y, min_points=2)
    ts = DistanceSource("X_true", X_true, min_points=2) if X_true is not None else None
    for other in (ys, ts):
        if other is not None and other.n != xs.n:
            raise SupvizError(f"`X` and `{other.name}` must hold the same number of points; got {xs.n} and {other.n}.")
    k = check_int("k", k, min_value=1)
    neighbors = check_choice("neighbors", neighbors, NEIGHBOR_MODES)
    if not isinstance(all_pairs, (bool, np.bool_)):
        raise SupvizError(f"`all_pairs` must be true or false; got {all_pairs!r}.")
    is_collapsed = auto_collapsed if collapsed is None else bool(collapsed) or ys.coincide
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}

    def put(name: str, value: float, reason: str | None) -> None:
        values[name] = float("nan") if reason is not None else float(value)
        if reason is not None:
            reasons[name] = reason

    if all_pairs:
        put("stress1_ratio", *stress1_ratio_and_reason(xs, ys, is_collapsed))
        put("shepard_rho", *shepard_rho_and_reason(xs, ys, is_collapsed))
    else:
        put("stress1_ratio", float("nan"), SKIPPED_ALL_PAIRS)
        put("shepard_rho", float("nan"), SKIPPED_ALL_PAIRS)
    if neighbors == "exact":
        scores = neighbourhood_scores(xs, ys, k=k, X_true=ts, collapsed=is_collapsed)
    else:
        from supviz.metrics.approximate import approximate_neighbourhood_scores

        scores = approximate_neighbourhood_scores(
            xs, ys, k=k, X_true=ts, collapsed=is_collapsed, random_state=random_state
        )
    for name in ("trustworthiness", "continuity", "knn_recall", "knn_recall_true"):
        put(name, getattr(scores, name), scores.reasons.get(name))
    if ts is None:
        put("knn_recall_true", float("nan"), NO_X_TRUE)
    if baseline is None:
        put("procrustes_baseline", float("nan"), NO_BASELINE)
    elif not all_pairs:
        put("procrustes_baseline", float("nan"), SKIPPED_ALL_PAIRS)
    elif is_collapsed:
        put("procrustes_baseline", float("nan"), COLLAPSED)
    else:
        value, reason = procrustes_and_reason(ys.data, baseline, match=True)
        put("procrustes_baseline", value, BASELINE_COLLAPSED if reason is not None else None)
    values["k"] = float(k)
    out = LayoutMetrics(
        {key: values[key] for key in METRIC_KEYS}, {key: reasons[key] for key in METRIC_KEYS if key in reasons}
    )
    for name, reason in out.reasons.items():
        logger.debug("layout_metrics: %s undefined (NaN): %s.", name, reason)
    return out
