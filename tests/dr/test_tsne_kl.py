"""The exact KL divergence of a t-SNE layout, checked against scikit-learn's exact objective."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import squareform
from sklearn.manifold._t_sne import _kl_divergence

from supviz.dr.tsne_kl import kl_divergence


def _affinities(n, seed, density=1.0):
    rng = np.random.default_rng(seed)
    A = rng.random((n, n)) * (rng.random((n, n)) < density)
    P = A + A.T
    np.fill_diagonal(P, 0.0)
    return P / P.sum()


@pytest.mark.parametrize(("n", "density"), [(5, 1.0), (40, 1.0), (60, 0.2)])
def test_equals_scikit_learn_exact_objective(n, density):
    P = _affinities(n, n, density)
    Y = np.random.default_rng(1).normal(size=(n, 2)) * 3.0
    ref = _kl_divergence(Y.ravel(), squareform(P, checks=False), 1, n, 2)[0]
    assert kl_divergence(P, Y) == pytest.approx(ref, rel=1e-10)
    assert kl_divergence(sp.csr_matrix(P), Y, block_entries=7) == pytest.approx(ref, rel=1e-10)  # sparse, many blocks


def test_heavy_tailed_kernel_matches_a_dense_recomputation():
    P = _affinities(15, 3)
    Y = np.random.default_rng(4).normal(size=(15, 2))
    dof = 0.5
    d2 = ((Y[:, None] - Y[None]) ** 2).sum(-1)
    W = (1 + d2 / dof) ** (-dof)
    np.fill_diagonal(W, 0.0)
    Q = W / W.sum()
    off = ~np.eye(15, dtype=bool)
    assert kl_divergence(P, Y, dof=dof) == pytest.approx(float((P[off] * np.log(P[off] / Q[off])).sum()), rel=1e-10)


def test_zero_exactly_when_q_equals_p():
    # uniform affinities and a collapsed layout: Q = P, KL 0 (rounding is not reported as negative)
    n = 30
    P = np.ones((n, n)) - np.eye(n)
    kl = kl_divergence(P / P.sum(), 1e-13 * np.random.default_rng(0).normal(size=(n, 2)))
    assert 0.0 <= kl < 1e-14
    assert kl_divergence(_affinities(n, 0), np.random.default_rng(0).normal(size=(n, 2))) > 0.0
