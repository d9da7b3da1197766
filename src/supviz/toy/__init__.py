"""Toy models of superposition (Elhage et al., 2022) as the study trained them (SPEC section 0).

Modules, in the order data flows:

- :mod:`~supviz.toy.importance`  importance curves and the feature-probability sweep
- :mod:`~supviz.toy.config`      :class:`TrainConfig` (the study's grid and recipe by default)
- :mod:`~supviz.toy.data`        sparse feature batches from a counter-based random stream
- :mod:`~supviz.toy.model`       the model, per-instance init, the torch reference engine
- :mod:`~supviz.toy.train`       :func:`train_grid`: the whole grid as one job
- :mod:`~supviz.toy.diagnostics` Gram matrix, norms, superposition, D_i, represented features
- :mod:`~supviz.toy.storage`     run directories, external weights, the study's own weights

Importing this package is cheap; torch and numba load when training starts.
"""

from supviz.toy.config import TrainConfig, instance_seed
from supviz.toy.data import sparse_batch
from supviz.toy.diagnostics import Diagnostics, diagnostics, represented_mask
from supviz.toy.grid import InstanceSpec, TrainedGrid
from supviz.toy.importance import feature_probabilities, importance_curve
from supviz.toy.storage import load_grid, load_hamblin2022, load_weight_arrays, save_grid
from supviz.toy.train import learning_rates, train_grid, train_instances

__all__ = [
    "Diagnostics",
    "InstanceSpec",
    "TrainConfig",
    "TrainedGrid",
    "diagnostics",
    "feature_probabilities",
    "importance_curve",
    "instance_seed",
    "learning_rates",
    "load_grid",
    "load_hamblin2022",
    "load_weight_arrays",
    "represented_mask",
    "save_grid",
    "sparse_batch",
    "train_grid",
    "train_instances",
]
