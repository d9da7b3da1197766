"""supviz: superposition in toy models and what it does to latent-space pictures.

The package is split by engine:

- :mod:`supviz.toy`         toy models of superposition: data, model, training, diagnostics, storage
- :mod:`supviz.dr`          dimensionality reduction: SMACOF/classical MDS, UMAP, t-SNE
- :mod:`supviz.metrics`     artifact metrics for layouts (stress, trustworthiness, k-NN recall, ...)
- :mod:`supviz.sae`         sparse autoencoders, scored against known features
- :mod:`supviz.datapoints`  pictures of data points ``h = W^T x`` against the inputs ``x``
- :mod:`supviz.real`        a real network's latent space (scikit-learn's digits)
- :mod:`supviz.plot`        static (matplotlib) and interactive (plotly) pictures
- :mod:`supviz.report`      the self-contained HTML report, rendered from records
- :mod:`supviz.study`       the study behind ``supviz run`` (config, sections, findings, pipeline)
- :mod:`supviz.sweep`       grids larger than the study's (``supviz sweep``)

Shared parts below them: :mod:`supviz.core` (validation, geometry, seeding, files, output folders)
and :mod:`supviz.runtime` (where work runs, the cache, progress). ``docs/architecture.md`` draws
the layers.

Heavy libraries (torch, umap, openTSNE, numba, scikit-learn, pandas, plotting) are imported
lazily inside the functions that need them, so ``import supviz`` stays cheap (it imports no
third-party package at all; ``tests/test_import_time.py``). The subpackages load on first use:
``import supviz; supviz.dr.mds_layout(X)`` works without importing ``supviz.dr`` first.
"""

from supviz.core.lazy import lazy_exports as _lazy_exports
from supviz.errors import SupvizError

__version__ = "0.2.0"
__all__ = ["SupvizError", "__version__"]

#: Subpackages reachable as attributes of ``supviz`` without an explicit import.
_SUBPACKAGES = (
    "toy",
    "dr",
    "metrics",
    "sae",
    "datapoints",
    "real",
    "plot",
    "report",
    "study",
    "sweep",
    "figures",
)  # figures: a deprecated alias of plot (0.2; gone in 0.3)

__getattr__, __dir__ = _lazy_exports(__name__, globals(), {}, submodules=_SUBPACKAGES)
