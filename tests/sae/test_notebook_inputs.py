"""Issue 22 kind 9: ``SparseAutoencoder`` takes a tensor that autograd tracks, as the layout functions do."""

import numpy as np
import pytest
import torch

from supviz.sae import SparseAutoencoder


@pytest.mark.parametrize("kind", ["requires_grad", "parameter"])
def test_sae_estimator_takes_a_tensor_autograd_tracks(kind):
    X = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    t = torch.tensor(X)
    tracked = t.clone().requires_grad_(True) if kind == "requires_grad" else torch.nn.Parameter(t.clone())
    plain = SparseAutoencoder(d_sae=8, steps=30, random_state=0).fit(X)
    sae = SparseAutoencoder(d_sae=8, steps=30, random_state=0).fit(tracked)
    np.testing.assert_array_equal(sae.components_, plain.components_)
    np.testing.assert_array_equal(sae.transform(tracked), plain.transform(X))
