"""supviz: superposition in toy models and what it does to latent-space pictures.

The package is split by engine:

- :mod:`supviz.toy`      toy models of superposition: data, model, training, diagnostics, storage
- :mod:`supviz.dr`       dimensionality reduction: SMACOF/classical MDS, UMAP, t-SNE
- :mod:`supviz.metrics`  artifact metrics for layouts (stress, trustworthiness, k-NN recall, ...)
- :mod:`supviz.study`    the study pipeline behind ``supviz run`` (config, cache, experiments)
- :mod:`supviz.figures`  static (matplotlib) and interactive (plotly) figures
- :mod:`supviz.report`   the self-contained HTML report

Heavy libraries (torch, umap, openTSNE, plotting) are imported lazily inside the functions that
need them, so ``import supviz`` stays cheap.
"""

from supviz.errors import SupvizError

__version__ = "0.1.0"
__all__ = ["SupvizError", "__version__"]
