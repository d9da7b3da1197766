"""Sparse autoencoders on latents, scored against the known features (SPEC section 4).

Modules, in the order data flows:

- :mod:`~supviz.sae.config`        :class:`SAEConfig` (one SAE's recipe; per-architecture defaults)
- :mod:`~supviz.sae.sources`       :class:`ArraySource` (activations), :class:`FeatureStream` (h = x D, a toy cell's
  stream)
- :mod:`~supviz.sae.architectures` one module per architecture over a shared base
- :mod:`~supviz.sae.engine`        :func:`train_saes`: many SAEs as one batched job
- :mod:`~supviz.sae.model`         :class:`SAE` (numpy weights, SAELens names) and batched :func:`encode`
- :mod:`~supviz.sae.metrics`       recovery scores against ground truth, vectorised over instances
- :mod:`~supviz.sae.saelens_metrics` SAELens' synthetic-data scores under SAELens' names and definitions
- :mod:`~supviz.sae.cells`         :func:`train_cell_saes`: one SAE per toy cell, scored (the study's section E)
- :mod:`~supviz.sae.synth`         a structured synthetic benchmark (Zipfian firing, hierarchy, correlation) and
  feature absorption (:func:`make_benchmark`, :func:`benchmark_scores`)
- :mod:`~supviz.sae.sharkey_toy`   Sharkey et al.'s toy experiment (:func:`toy_experiment`) and its heatmaps
- :mod:`~supviz.sae.storage`       :func:`save` / :func:`load` in SAELens' pretrained-SAE layout
- :mod:`~supviz.sae.pictures`      :func:`picture_decoder`, :func:`picture_codes`: MDS / UMAP / t-SNE of one SAE
  (a supviz SAE, a SAELens SAE object or a folder), with per-point trust
- :mod:`~supviz.sae.estimator`     :class:`SparseAutoencoder`, a scikit-learn estimator

Importing this package is cheap; torch loads when an SAE is trained or used.
"""

from __future__ import annotations

from supviz.core.lazy import lazy_exports

_EXPORTS = {
    "SAEConfig": "supviz.sae.config",
    "ARCHITECTURES": "supviz.sae.config",
    "ArraySource": "supviz.sae.sources",
    "FeatureStream": "supviz.sae.sources",
    "sharkey_probabilities": "supviz.sae.sources",
    "random_directions": "supviz.sae.sources",
    "SAEJob": "supviz.sae.engine",
    "array_jobs": "supviz.sae.engine",
    "train_saes": "supviz.sae.engine",
    "SAE": "supviz.sae.model",
    "TrainedSAEs": "supviz.sae.model",
    "encode": "supviz.sae.model",
    "SAEScores": "supviz.sae.metrics",
    "score": "supviz.sae.metrics",
    "CellSAEs": "supviz.sae.cells",
    "train_cell_saes": "supviz.sae.cells",
    "encode_cells": "supviz.sae.cells",
    "ToyExperiment": "supviz.sae.sharkey_toy",
    "toy_experiment": "supviz.sae.sharkey_toy",
    "SynthConfig": "supviz.sae.synth",
    "make_benchmark": "supviz.sae.synth",
    "benchmark_scores": "supviz.sae.synth",
    "save": "supviz.sae.model",
    "load": "supviz.sae.model",
    "from_saelens": "supviz.sae.model",
    "as_sae": "supviz.sae.model",
    "SAEPicture": "supviz.sae.pictures",
    "picture_codes": "supviz.sae.pictures",
    "picture_decoder": "supviz.sae.pictures",
    "SparseAutoencoder": "supviz.sae.estimator",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
