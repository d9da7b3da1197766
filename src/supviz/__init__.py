"""supviz: superposition in toy models and what it does to latent-space pictures.

The package is split by engine:

- :mod:`supviz.toy`      toy models of superposition: data, model, training, diagnostics, storage
- :mod:`supviz.dr`       dimensionality reduction: SMACOF/classical MDS, UMAP, t-SNE
- :mod:`supviz.metrics`  artifact metrics for layouts (stress, trustworthiness, k-NN recall, ...)
- :mod:`supviz.study`    the study pipeline behind ``supviz run`` (config, cache, experiments)
- :mod:`supviz.figures`  static (matplotlib) and interactive (plotly) figures
- :mod:`supviz.report`   the self-contained HTML report

Heavy libraries (torch, umap, openTSNE, numba, scikit-learn, pandas, plotting) are imported
lazily inside the functions that need them, so ``import supviz`` stays cheap (it imports no
third-party package at all; ``tests/test_import_time.py``). The subpackages load on first use:
``import supviz; supviz.dr.mds_layout(X)`` works without importing ``supviz.dr`` first.
"""

import importlib as _importlib

from supviz.errors import SupvizError

__version__ = "0.1.0"
__all__ = ["SupvizError", "__version__"]

#: Subpackages reachable as attributes of ``supviz`` without an explicit import.
_SUBPACKAGES = frozenset({"toy", "dr", "metrics", "study", "figures", "report", "datapoints", "sae", "plot"})


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        try:
            return _importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a subpackage this installation does not have
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
