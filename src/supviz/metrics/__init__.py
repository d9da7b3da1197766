"""Artifact metrics for 2-D layouts of high-dimensional points, defined and stable under ties.

See :mod:`supviz.metrics.ranks` for the tie rules, :mod:`supviz.metrics.stress` and
:mod:`supviz.metrics.neighbors` for the definitions, and :mod:`supviz.metrics.undefined` for when a
metric is undefined (NaN, with the reason in :class:`LayoutMetrics` and in the log).
"""

from supviz.metrics.distances import pairwise_distances
from supviz.metrics.neighbors import continuity, knn_recall, trustworthiness
from supviz.metrics.procrustes import procrustes_distance
from supviz.metrics.stress import shepard_correlation, stress1_ratio
from supviz.metrics.summary import METRIC_KEYS, LayoutMetrics, layout_metrics

__all__ = [
    "METRIC_KEYS",
    "LayoutMetrics",
    "continuity",
    "knn_recall",
    "layout_metrics",
    "pairwise_distances",
    "procrustes_distance",
    "shepard_correlation",
    "stress1_ratio",
    "trustworthiness",
]
