"""Pictures of data points in superposition: ``h = W^T x`` against ``x``, measured.

The original study pictured only the feature directions (rows of ``W``). This package pictures what
practitioners look at, the latent codes of data, and measures how much superposition distorts them:

- :mod:`~supviz.datapoints.sampling`   sparse inputs from a cell's own distribution
- :mod:`~supviz.datapoints.embedding`  ``h = W^T x``, ``x' = ReLU(W h + b)``, orthogonal controls
- :mod:`~supviz.datapoints.labels`     point labels (most important active feature, number active)
- :mod:`~supviz.datapoints.layouts`    MDS (landmark SMACOF for many points), UMAP, t-SNE
- :mod:`~supviz.datapoints.distortion` k-NN recall, trustworthiness, continuity, Shepard rho,
  false neighbours (chunked: 10,000 points in tens of MB)
- :mod:`~supviz.datapoints.geometry`   are the represented features near-equidistant (the ring)?
- :mod:`~supviz.datapoints.experiment` :func:`datapoint_cell`, :func:`datapoint_grid`
- :mod:`~supviz.datapoints.spaces`     the pictured spaces' keys and their reader's names
"""

from supviz.datapoints.distortion import DistortionResult, FalseNeighbours, false_neighbours, measure_distortion
from supviz.datapoints.embedding import latent_codes, model_outputs, orthogonal_codes
from supviz.datapoints.experiment import (
    METRIC_COLUMNS,
    SPACES,
    DatapointCellResult,
    DatapointGridResult,
    datapoint_cell,
    datapoint_grid,
    superposition_effect,
)
from supviz.datapoints.geometry import (
    UNIFORM_DISC_RADIAL_CV,
    EquidistanceResult,
    distance_spread,
    equidistance,
    radial_spread,
    ring_measures,
)
from supviz.datapoints.labels import PointLabels, point_labels
from supviz.datapoints.layouts import DEFAULT_PARAMS, METHODS, datapoint_layout, landmark_mds
from supviz.datapoints.sampling import SparseSample, sample_inputs
from supviz.datapoints.spaces import SPACE_MEANINGS, SPACE_NAMES

__all__ = [
    "DEFAULT_PARAMS",
    "METHODS",
    "METRIC_COLUMNS",
    "SPACE_MEANINGS",
    "SPACE_NAMES",
    "SPACES",
    "UNIFORM_DISC_RADIAL_CV",
    "DatapointCellResult",
    "DatapointGridResult",
    "DistortionResult",
    "EquidistanceResult",
    "FalseNeighbours",
    "PointLabels",
    "SparseSample",
    "datapoint_cell",
    "datapoint_grid",
    "datapoint_layout",
    "distance_spread",
    "equidistance",
    "false_neighbours",
    "landmark_mds",
    "latent_codes",
    "measure_distortion",
    "model_outputs",
    "orthogonal_codes",
    "point_labels",
    "radial_spread",
    "ring_measures",
    "sample_inputs",
    "superposition_effect",
]
