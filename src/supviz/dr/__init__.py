"""Dimensionality reduction: SMACOF MDS of our own, UMAP and t-SNE behind one layout interface.

Every import here is light: PyTorch, numba, umap-learn, openTSNE and scikit-learn's manifold
module load inside the calls that need them.
"""

from __future__ import annotations

from supviz.dr.layout import Layout, embed, mds_layout, mds_layouts
from supviz.dr.tsne_layout import tsne_layout
from supviz.dr.umap_layout import umap_layout

# Imported eagerly on purpose: these names equal their modules' names (``supviz.dr.smacof``), and a
# lazy ``__getattr__`` would be shadowed by the submodule as soon as anything imports it.
try:
    from supviz.dr.classical import classical_mds
    from supviz.dr.smacof import ShepardData, SmacofResult, smacof
except ImportError as _exc:  # pragma: no cover - only while the SMACOF engine is being written
    _SMACOF_IMPORT_ERROR = _exc

    def __getattr__(name: str):  # type: ignore[no-redef]
        if name in ("smacof", "SmacofResult", "ShepardData", "classical_mds"):
            raise ImportError(f"supviz.dr.{name} is unavailable: {_SMACOF_IMPORT_ERROR}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Layout",
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
