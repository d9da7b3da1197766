"""Issue 22 kind 9: the layout estimators take what a notebook hands them, and t-SNE and UMAP treat a
neighbourhood too big for N the same way (clamped, with a note)."""

import numpy as np
import pytest
import torch

from supviz.dr import SMACOF, tsne_layout, umap_layout
from supviz.errors import SupvizError


def _tracked():
    base = torch.tensor(np.random.default_rng(0).normal(size=(12, 4)))
    return base, {
        "requires_grad": base.clone().requires_grad_(True),
        "parameter": torch.nn.Parameter(base.clone()),
    }


@pytest.mark.parametrize("kind", ["requires_grad", "parameter"])
def test_smacof_estimator_takes_a_tensor_autograd_tracks(kind):
    base, tracked = _tracked()
    expected = SMACOF(random_state=0, n_init=1).fit_transform(base.numpy())
    got = SMACOF(random_state=0, n_init=1).fit_transform(tracked[kind])
    # the same float64 numbers reach the same code: the same layout, bit for bit
    np.testing.assert_array_equal(got, expected)
    init = tracked[kind][:, :2]
    np.testing.assert_array_equal(
        SMACOF(init=init, n_init=1).fit_transform(base.numpy()),
        SMACOF(init=base[:, :2].numpy(), n_init=1).fit_transform(base.numpy()),
    )


def test_tsne_and_umap_both_clamp_a_neighbourhood_too_big_for_n_with_a_note():
    X = np.random.default_rng(1).normal(size=(40, 5))
    t = tsne_layout(X, random_state=0, n_iter=300)  # default perplexity 30 > (40 - 1) / 3 = 13
    u = umap_layout(X, n_neighbors=100, random_state=0, n_epochs=20)
    assert t.params["perplexity"] == 13.0 and any("perplexity clamped from 30 to" in n for n in t.notes)
    assert u.params["n_neighbors"] == 39 and any("n_neighbors clamped from 100 to" in n for n in u.notes)
    # and both refuse alike when asked not to clamp
    with pytest.raises(SupvizError, match="`perplexity` must be"):
        tsne_layout(X, clamp=False)
    with pytest.raises(SupvizError, match="`n_neighbors` must be"):
        umap_layout(X, n_neighbors=100, clamp=False)
