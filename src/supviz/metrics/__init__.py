"""Artifact metrics for 2-D layouts of high-dimensional points, defined and stable under ties.

See :mod:`supviz.metrics.ranks` for the tie rules, :mod:`supviz.metrics.stress` and
:mod:`supviz.metrics.neighbors` for the definitions, and :mod:`supviz.metrics.undefined` for when a
metric is undefined (NaN, with the reason in :class:`LayoutMetrics` and in the log).

Names load on first use (scipy's spatial and optimize modules cost about 0.3 s to import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from supviz.core.lazy import lazy_exports

_EXPORTS = {
    "pairwise_distances": ".distances",
    "continuity": ".neighbors",
    "knn_recall": ".neighbors",
    "trustworthiness": ".neighbors",
    "procrustes_distance": ".procrustes",
    "shepard_correlation": ".stress",
    "stress1_ratio": ".stress",
    "METRIC_KEYS": ".summary",
    "LayoutMetrics": ".summary",
    "layout_metrics": ".summary",
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from supviz.metrics.distances import pairwise_distances  # noqa: F401
    from supviz.metrics.neighbors import continuity, knn_recall, trustworthiness  # noqa: F401
    from supviz.metrics.procrustes import procrustes_distance  # noqa: F401
    from supviz.metrics.stress import shepard_correlation, stress1_ratio  # noqa: F401
    from supviz.metrics.summary import METRIC_KEYS, LayoutMetrics, layout_metrics  # noqa: F401

__all__ = sorted(_EXPORTS)
