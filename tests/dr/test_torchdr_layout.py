"""The optional TorchDR backend of UMAP and t-SNE (issue 13 item 5), on the CPU (no GPU was lent)."""

import random

import numpy as np
import pytest

torchdr = pytest.importorskip("torchdr")

from supviz.dr import embed  # noqa: E402
from supviz.errors import SupvizError  # noqa: E402
from supviz.metrics import layout_metrics  # noqa: E402


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(size=(20, 10)) + 10 * i for i in range(3)])


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_seeded_equal_and_faithful_and_no_global_rng_touched(blobs, method):
    import torch

    torch_state = torch.random.get_rng_state().clone()
    np_state = np.random.get_state()[1].copy()
    py_state = random.getstate()
    it = 150 if method == "umap" else 400  # t-SNE: past TorchDR's 250 iterations of early exaggeration
    a = embed(blobs, method, backend="torchdr", random_state=3, max_iter=it)
    b = embed(blobs, method, backend="torchdr", random_state=3, max_iter=it)
    c = embed(blobs * 1e-200, method, backend="torchdr", random_state=3, max_iter=it)  # scale-free, as every layout
    np.testing.assert_array_equal(a.embedding, b.embedding)
    np.testing.assert_array_equal(a.embedding, c.embedding)
    assert a.params["backend"] == "torchdr" and a.params["device"] == "cpu" and not a.info["collapsed"]
    # three separated blobs stay apart: the 5 nearest of every point in the picture are of its blob
    from scipy.spatial.distance import cdist

    d = cdist(a.embedding, a.embedding)
    np.fill_diagonal(d, np.inf)
    labels = np.repeat(np.arange(3), 20)
    assert (labels[np.argsort(d, axis=1)[:, :5]] == labels[:, None]).mean() == 1.0
    assert np.isfinite(layout_metrics(blobs, a, k=5)["trustworthiness"])
    # the caller's global generators are as they were (TorchDR would reseed them all)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state) and random.getstate() == py_state


def test_bad_parameters_are_one_line(blobs):
    with pytest.raises(SupvizError, match="`device` must be 'cpu' or 'cuda"):
        embed(blobs, "umap", backend="torchdr", device="tpu")
    with pytest.raises(SupvizError, match="`perplexity` must be"):
        embed(blobs, "tsne", backend="torchdr", perplexity=-1)
    out = embed(blobs[:8], "tsne", backend="torchdr", random_state=0, max_iter=20)
    assert out.params["perplexity"] == pytest.approx(7 / 3) and "clamped" in out.notes[0]


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_coincident_points_are_one_spot(blobs, method):
    # As the default backends: the distinct points laid out once, each copy at its point's place, the affinities those
    # of the distinct points. (TorchDR alone kept these exact copies at one spot too, from their common start, but
    # counted them in its affinities, and said nothing.)
    X = np.vstack([blobs, np.repeat(blobs[:1], 15, axis=0)])
    out = embed(X, method, backend="torchdr", random_state=3, max_iter=60)
    copies = np.r_[0, 60:75]
    assert out.embedding.shape == (75, 2) and out.info["distinct_points"] == 60
    assert np.array_equal(out.embedding[copies], np.repeat(out.embedding[:1], 16, axis=0))
    assert any("16 of 75 points coincide with another (1 groups)" in n for n in out.notes)
    with pytest.raises(SupvizError, match=r"at least 4 distinct points for TorchDR's tsne; got 3 among its 9 rows"):
        embed(np.repeat(blobs[:3], 3, axis=0), "tsne", backend="torchdr", random_state=0)
    with pytest.raises(SupvizError, match=r"`n_components` must be an int in \[1, 3\]: TorchDR's umap lays out the 4"):
        embed(np.repeat(blobs[:4], 2, axis=0), "umap", backend="torchdr", n_components=4, random_state=0)


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_offset_points_keep_their_spread_in_float32(method):
    # Break test 5, F0: G + 1e13 at unit scale is 1 +- 1e-13, one point in float32: TorchDR raised its own
    # ValueError ("Number of samples is smaller than n_neighbors (1 <= 15)"). Centred first, it is G's layout.
    G = np.random.default_rng(0).normal(size=(30, 4))
    lay = embed(G + 1e13, method, backend="torchdr", random_state=0, max_iter=100)
    assert np.unique(lay.embedding, axis=0).shape[0] == 30 and not lay.info["collapsed"]
