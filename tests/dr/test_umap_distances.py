"""The compiled small-data distances of UMAP fits: the same bits as umap-learn's own path through scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("umap")

import umap.distances  # noqa: E402
import umap.umap_  # noqa: E402
from sklearn.metrics import pairwise_distances  # noqa: E402

from supviz.dr import umap_layout  # noqa: E402
from supviz.dr._umap_distances import fast_small_distances, pairwise_euclidean  # noqa: E402


def _inputs():
    rng = np.random.default_rng(7)
    yield "random 200 x 10", rng.normal(size=(200, 10))
    yield "random 50 x 60", rng.random((50, 60))
    yield "one column", rng.normal(size=(30, 1))
    yield "ties: diag(20)", np.eye(20)
    yield "coincident rows", np.repeat(rng.normal(size=(5, 3)), 4, axis=0)
    yield "all zero", np.zeros((6, 4))
    yield "huge", rng.normal(size=(25, 7)) * 1e18
    yield "tiny", rng.normal(size=(25, 7)) * 1e-18
    yield "odd width 33", rng.normal(size=(40, 33))
    yield "two points", rng.normal(size=(2, 5))


@pytest.mark.parametrize("name, X", list(_inputs()), ids=[n for n, _ in _inputs()])
def test_pairwise_euclidean_equals_scikit_learn_bit_for_bit(name, X):
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    ours = pairwise_euclidean(X32)
    theirs = pairwise_distances(X32, metric=umap.distances.euclidean)
    assert ours.dtype == theirs.dtype == np.float32
    assert np.array_equal(ours.view(np.int32), theirs.view(np.int32)), name


def test_pairwise_euclidean_refuses_what_it_does_not_serve():
    with pytest.raises(TypeError, match="float32"):
        pairwise_euclidean(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="C-contiguous"):
        pairwise_euclidean(np.zeros((3, 4), dtype=np.float32)[:, ::2])


def test_other_calls_reach_scikit_learn_and_the_name_is_restored():
    original = umap.umap_.pairwise_distances
    X = np.random.default_rng(0).random((12, 3)).astype(np.float32)
    with fast_small_distances():
        patched = umap.umap_.pairwise_distances
        assert patched is not original
        # a string metric, a metric keyword and float64 input are not served: scikit-learn's answer comes back
        assert np.array_equal(patched(X, metric="manhattan"), pairwise_distances(X, metric="manhattan"))
        assert np.array_equal(
            patched(X, metric=umap.distances.minkowski, p=3.0),
            pairwise_distances(X, metric=umap.distances.minkowski, p=3.0),
        )
        X64 = X.astype(np.float64)
        assert np.array_equal(
            patched(X64, metric=umap.distances.euclidean), pairwise_distances(X64, metric=umap.distances.euclidean)
        )
    assert umap.umap_.pairwise_distances is original
    with pytest.raises(RuntimeError), fast_small_distances():
        raise RuntimeError("inside a fit")
    assert umap.umap_.pairwise_distances is original


def test_umap_pictures_are_the_same_bits_with_the_compiled_distances(monkeypatch):
    """The whole layout (graph, spectral start, SGD) is unchanged: the compiled path against umap-learn's own."""
    import contextlib

    import supviz.dr._umap_distances as fast

    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 6))
    served = []
    compiled = fast.pairwise_euclidean
    monkeypatch.setattr(fast, "pairwise_euclidean", lambda A: served.append(A.shape) or compiled(A))
    with_fast = umap_layout(X, random_state=1).embedding
    assert served == [(80, 6)]  # the fit did take the compiled path
    monkeypatch.setattr(fast, "fast_small_distances", contextlib.nullcontext)
    without = umap_layout(X, random_state=1).embedding
    assert np.array_equal(with_fast, without)
