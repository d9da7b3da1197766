"""Point labels: most important active feature and number of active features."""

import numpy as np
import pytest

from supviz.datapoints import latent_codes, model_outputs, orthogonal_codes, point_labels
from supviz.errors import SupvizError


def test_labels_by_hand():
    x = np.array(
        [
            [0.0, 0.2, 0.9, 0.0],  # active 1, 2
            [0.5, 0.0, 0.0, 0.7],  # active 0, 3
            [0.0, 0.0, 0.0, 0.0],  # none
            [0.1, 0.1, 0.0, 0.0],  # tie in value and importance
        ]
    )
    # Uniform importance: the larger value wins, then the lower index.
    lab = point_labels(x)
    np.testing.assert_array_equal(lab.top_feature, [2, 3, -1, 0])
    np.testing.assert_array_equal(lab.n_active, [2, 2, 0, 2])
    np.testing.assert_allclose(lab.top_value, [0.9, 0.7, 0.0, 0.1])
    # Geometric importance 0.9^i: the lower index is more important whatever the value.
    lab = point_labels(x, importance=0.9 ** np.arange(4))
    np.testing.assert_array_equal(lab.top_feature, [1, 0, -1, 0])
    np.testing.assert_array_equal(lab.top_rank, [1, 0, -1, 0])
    # Importance not sorted: rank follows importance, not index.
    lab = point_labels(x, importance=np.array([0.1, 0.2, 0.3, 1.0]))
    np.testing.assert_array_equal(lab.top_feature, [2, 3, -1, 1])
    np.testing.assert_array_equal(lab.top_rank, [1, 0, -1, 2])
    assert set(lab.as_dict()) == {"top_feature", "top_rank", "top_value", "n_active"}


def test_label_errors():
    with pytest.raises(SupvizError, match="`importance` must have 3 entries"):
        point_labels(np.ones((2, 3)), importance=np.ones(4))


def test_codes_and_outputs():
    rng = np.random.default_rng(0)
    x = rng.random((7, 5))
    W = rng.normal(size=(5, 3))
    b = rng.normal(size=5)
    h = latent_codes(x, W)
    np.testing.assert_allclose(h, np.einsum("nf,fm->nm", x, W))
    np.testing.assert_allclose(model_outputs(x, W, b), np.maximum(h @ W.T + b, 0))
    np.testing.assert_allclose(model_outputs(x, W), np.maximum(h @ W.T, 0))
    np.testing.assert_array_equal(orthogonal_codes(x, np.array([True, False, True, False, False])), x[:, [0, 2]])
    with pytest.raises(SupvizError, match="`x` and `W` disagree"):
        latent_codes(x, W[:4])
    with pytest.raises(SupvizError, match="`bias` must have 5 entries"):
        model_outputs(x, W, b[:2])
