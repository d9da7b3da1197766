"""A real network: the hidden layer of a digits model, pictured raw and through SAEs (SPEC section 5).

Modules, in the order data flows:

- :mod:`~supviz.real.data`         :func:`load_digits_split` (scikit-learn's digits, pixels / 16, stratified split)
- :mod:`~supviz.real.models`       :func:`train_models`: classifier MLPs 64 -> w -> 10 and toy-shaped autoencoders,
  batched
- :mod:`~supviz.real.layer`        :func:`train_layer_saes`: SAEs on any activations and their quality without ground
  truth
- :mod:`~supviz.real.measures`     k-NN label accuracy, silhouette, trustworthiness / continuity, effective features,
  stability
- :mod:`~supviz.real.calibration`  :func:`calibrate`: the same measures on toy cells against their true MMCS
- :mod:`~supviz.real.experiment`   :func:`digits_experiment` (section F), :func:`activations_report` (a user's
  activations)
- :mod:`~supviz.real.plots`        the figures F1-F3
- :mod:`~supviz.real.config`       :class:`RealConfig` (the study's ``[real]`` table)
- :mod:`~supviz.real.transformer`  :func:`encode`: every layer's hidden states of a Hugging Face model (all-MiniLM-L6-v2
  shipped, offline), per token and pooled
- :mod:`~supviz.real.corpus`       :func:`template_corpus`: sentences with known factors; a user's texts and labels
- :mod:`~supviz.real.text`         :func:`text_experiment`: per layer probes, k-NN, SAE latents, pictures with
  per-point trust
- :mod:`~supviz.real.text_plots`   its figures (static and with hover)

Importing this package is cheap; torch and scikit-learn load when something is trained or measured.
"""

from __future__ import annotations

from supviz.core.lazy import lazy_exports

_EXPORTS = {
    "Digits": "supviz.real.data",
    "load_digits_split": "supviz.real.data",
    "ModelSpec": "supviz.real.models",
    "Recipe": "supviz.real.models",
    "TrainedModel": "supviz.real.models",
    "TrainedModels": "supviz.real.models",
    "train_models": "supviz.real.models",
    "SAESettings": "supviz.real.layer",
    "LayerSAEs": "supviz.real.layer",
    "train_layer_saes": "supviz.real.layer",
    "Measures": "supviz.real.measures",
    "knn_label_accuracy": "supviz.real.measures",
    "silhouette": "supviz.real.measures",
    "space_measures": "supviz.real.measures",
    "picture_measures": "supviz.real.measures",
    "effective_features": "supviz.real.measures",
    "seed_stability": "supviz.real.measures",
    "dictionary_mmcs": "supviz.real.measures",
    "Calibration": "supviz.real.calibration",
    "calibrate": "supviz.real.calibration",
    "rank_correlations": "supviz.real.calibration",
    "read_through": "supviz.real.calibration",
    "place_layer": "supviz.real.calibration",
    "read_layers": "supviz.real.calibration",
    "matching_m": "supviz.real.calibration",
    "RealConfig": "supviz.real.config",
    "RealResult": "supviz.real.experiment",
    "digits_experiment": "supviz.real.experiment",
    "ActivationsReport": "supviz.real.experiment",
    "activations_report": "supviz.real.experiment",
    "HiddenStates": "supviz.real.transformer",
    "encode": "supviz.real.transformer",
    "load_encoder": "supviz.real.transformer",
    "Corpus": "supviz.real.corpus",
    "template_corpus": "supviz.real.corpus",
    "user_corpus": "supviz.real.corpus",
    "TextConfig": "supviz.real.text",
    "TextResult": "supviz.real.text",
    "text_experiment": "supviz.real.text",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
