"""All artifact metrics of one layout in one call, under stable key names, with reasons for NaN."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from supviz._validation import check_int
from supviz.errors import SupvizError
from supviz.metrics.distances import DistanceSource, layout_source
from supviz.metrics.neighbors import neighbourhood_scores
from supviz.metrics.procrustes import procrustes_and_reason
from supviz.metrics.stress import shepard_rho_and_reason, stress1_ratio_and_reason
from supviz.metrics.undefined import BASELINE_COLLAPSED, COLLAPSED, NO_BASELINE, NO_X_TRUE

logger = logging.getLogger(__name__)

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


@dataclass(eq=False, frozen=True)
class LayoutMetrics(Mapping[str, float]):
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

    scores: dict[str, float]
    reasons: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.scores[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scores)

    def __len__(self) -> int:
        return len(self.scores)

    def reason_text(self) -> str:
        """All reasons on one line, ``"metric: reason; ..."`` (a table's reason column); "" if none."""
        return "; ".join(f"{k}: {v}" for k, v in self.reasons.items())

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v:.4g}" for k, v in self.scores.items())
        return f"LayoutMetrics({vals}; {len(self.reasons)} undefined)"


def layout_metrics(
    X: Any,
    Y: Any,
    *,
    X_true: Any = None,
    k: int = 10,
    baseline: Any = None,
    collapsed: bool | None = None,
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
        Non-finite or complex input, fewer than 2 points, mismatched sizes, or ``k < 1``.
    """
    xs = DistanceSource("X", X, min_points=2)
    ys, auto_collapsed = layout_source("Y", Y, min_points=2)
    ts = DistanceSource("X_true", X_true, min_points=2) if X_true is not None else None
    for other in (ys, ts):
        if other is not None and other.n != xs.n:
            raise SupvizError(f"`X` and `{other.name}` must hold the same number of points; got {xs.n} and {other.n}.")
    k = check_int("k", k, min_value=1)
    is_collapsed = auto_collapsed if collapsed is None else bool(collapsed) or ys.coincide
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}

    def put(name: str, value: float, reason: str | None) -> None:
        values[name] = float("nan") if reason is not None else float(value)
        if reason is not None:
            reasons[name] = reason

    put("stress1_ratio", *stress1_ratio_and_reason(xs, ys, is_collapsed))
    put("shepard_rho", *shepard_rho_and_reason(xs, ys, is_collapsed))
    scores = neighbourhood_scores(xs, ys, k=k, X_true=ts, collapsed=is_collapsed)
    for name in ("trustworthiness", "continuity", "knn_recall", "knn_recall_true"):
        put(name, getattr(scores, name), scores.reasons.get(name))
    if ts is None:
        put("knn_recall_true", float("nan"), NO_X_TRUE)
    if baseline is None:
        put("procrustes_baseline", float("nan"), NO_BASELINE)
    elif is_collapsed:
        put("procrustes_baseline", float("nan"), COLLAPSED)
    else:
        value, reason = procrustes_and_reason(ys.data, baseline, match=True)
        put("procrustes_baseline", value, BASELINE_COLLAPSED if reason is not None else None)
    values["k"] = float(k)
    out = LayoutMetrics({key: values[key] for key in METRIC_KEYS}, {key: reasons[key] for key in METRIC_KEYS if key in reasons})
    for name, reason in out.reasons.items():
        logger.debug("layout_metrics: %s undefined (NaN): %s.", name, reason)
    return out
