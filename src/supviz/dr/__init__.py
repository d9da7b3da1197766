"""Dimensionality reduction: SMACOF MDS of our own, UMAP and t-SNE behind one layout interface.

Every import here is light (numpy only): PyTorch, numba, scipy, umap-learn, openTSNE and
scikit-learn load inside the calls that need them. ``supviz.dr.SMACOF``, the scikit-learn
estimator, loads on first use (it imports scikit-learn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from supviz.core.lazy import lazy_exports
from supviz.dr.base import Layout

# Imported eagerly on purpose: ``smacof``, ``tsne_layout`` and ``umap_layout`` equal their modules'
# names (``supviz.dr.smacof``), and a lazy ``__getattr__`` would be shadowed by the submodule as
# soon as anything imports it. These modules import numpy and supviz's own light modules only.
from supviz.dr.classical import classical_mds
from supviz.dr.layout import embed
from supviz.dr.mds_layout import mds_layout, mds_layouts
from supviz.dr.smacof import ShepardData, SmacofResult, smacof
from supviz.dr.tsne_layout import tsne_layout
from supviz.dr.umap_layout import umap_layout

_EXPORTS = {"SMACOF": ".estimator"}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from supviz.dr.estimator import SMACOF

__all__ = [
    "Layout",
    "SMACOF",
    "ShepardData",
    "SmacofResult",
    "classical_mds",
    "embed",
    "mds_layout",
    "mds_layouts",
    "smacof",
    "tsne_layout",
    "umap_layout",
]
