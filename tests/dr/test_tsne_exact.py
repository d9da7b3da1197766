"""supviz's compiled exact t-SNE gradient (:mod:`supviz.dr._tsne_exact`).

Two promises: the compiled gradient is the numpy reference's (:func:`supviz.dr.tsne_kl.exact_gradient`)
within float64 rounding of different summation orders (stated: 1e-12 relative to the largest
component), and its 2-D, ``dof = 1`` fast path gives the general kernels' bits exactly (it makes
the same operations in the same order; only where the running sums live differs), so the faster
path changed no layout.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from supviz.dr import _tsne_exact as tx
from supviz.dr.tsne_kl import exact_gradient


def _affinities(n: int, density: float, seed: int) -> sp.csr_matrix:
    P = sp.random(n, n, density=density, random_state=seed, format="csr")
    P = P + P.T
    P.setdiag(0.0)
    P.eliminate_zeros()
    return (P / P.sum()).tocsr()


def _layout(n: int, dim: int, seed: int, coincident: int = 0) -> np.ndarray:
    y = np.random.default_rng(seed).normal(size=(n, dim))
    if coincident:  # the first `coincident` points on one spot, as collapsed layouts have
        y[:coincident] = y[0]
    return y


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("dof", [1.0, 0.7])
@pytest.mark.parametrize("eval_error", [False, True])
def test_compiled_gradient_equals_the_numpy_reference(dim, dof, eval_error):
    y, P = _layout(80, dim, 0, coincident=4), _affinities(80, 0.1, 1)
    kl_ref, g_ref = exact_gradient(y, P, dof=dof, should_eval_error=eval_error)
    kl, g = tx.exact_gradient_compiled(y, P, dof=dof, should_eval_error=eval_error)
    scale = np.abs(g_ref).max()
    np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-12 * scale)
    if eval_error:
        assert kl == pytest.approx(kl_ref, rel=1e-12, abs=1e-14)
    else:
        assert kl == kl_ref == 0.0


@pytest.mark.parametrize(
    "n, coincident, density",
    [(2, 0, 1.0), (3, 3, 1.0), (50, 0, 0.2), (200, 0, 0.05), (200, 20, 0.05), (120, 120, 0.1)],
)
def test_2d_fast_path_gives_the_general_kernels_bits(n, coincident, density):
    y, P = _layout(n, 2, n, coincident), _affinities(n, density, n + 1)
    indptr, indices, data = P.indptr.astype(np.int64), P.indices.astype(np.int64), P.data.astype(np.float64)
    general, fast = np.empty_like(y), np.empty_like(y)
    z_general = tx._repulsion(y, 1.0, general)
    z_fast = tx._repulsion_2d(y, fast)
    assert z_fast == z_general
    np.testing.assert_array_equal(fast, general)
    a_general, a_fast = np.zeros_like(y), np.zeros_like(y)
    tx._attraction(y, indptr, indices, data, 1.0, a_general, False)
    tx._attraction_2d(y, indptr, indices, data, a_fast)
    np.testing.assert_array_equal(a_fast, a_general)


def test_a_tsne_layout_is_the_same_bits_with_the_general_kernels(monkeypatch):
    from supviz.dr import tsne_layout

    X = np.random.default_rng(3).normal(size=(60, 5))
    X[10:14] = X[10]  # coincident inputs too
    fast = tsne_layout(X, perplexity=10, random_state=0).embedding
    general_repulsion, general_attraction = tx._repulsion, tx._attraction
    monkeypatch.setattr(tx, "_repulsion_2d", lambda y, out: general_repulsion(y, 1.0, out))
    monkeypatch.setattr(
        tx, "_attraction_2d", lambda y, ip, ix, d, out: general_attraction(y, ip, ix, d, 1.0, out, False)
    )
    general = tsne_layout(X, perplexity=10, random_state=0).embedding
    np.testing.assert_array_equal(fast, general)


def test_overflowing_distances_give_nan_as_the_reference_does():
    # Coordinates ~1e160: every squared distance overflows, every kernel value is 0, Z = 0. The
    # compiled gradient raised "math domain error" from log(Z); the reference returns NaN.
    y, P = _layout(30, 2, 0) * 1e160, _affinities(30, 0.3, 1)
    with np.errstate(all="ignore"):
        kl_ref, g_ref = exact_gradient(y, P, should_eval_error=True)
        kl, g = tx.exact_gradient_compiled(y, P, should_eval_error=True)
    assert np.isnan(kl) and np.isnan(kl_ref)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(g_ref))


@pytest.mark.parametrize("form", ["csr int32", "csr int64", "csr float32 data", "coo", "dense"])
def test_every_form_of_P_gives_the_same_bits(form):
    """openTSNE's own CSR (int32 indices) is read as it is stored; other forms are converted first. The
    gradient and the KL are the same bits whatever form P arrives in, and P itself is left untouched."""
    P = _affinities(40, 0.3, 5)
    y = _layout(40, 2, 6)
    ref_kl, ref_grad = tx.exact_gradient_compiled(y, P.copy(), should_eval_error=True)
    if form == "csr int32":
        Q = P.copy()
        Q.indices, Q.indptr = Q.indices.astype(np.int32), Q.indptr.astype(np.int32)
    elif form == "csr int64":
        Q = P.copy()
        Q.indices, Q.indptr = Q.indices.astype(np.int64), Q.indptr.astype(np.int64)
    elif form == "csr float32 data":
        # float32 storage is converted to float64; the reference holds the same (float32-representable) values
        P = P.astype(np.float32).astype(np.float64).tocsr()
        ref_kl, ref_grad = tx.exact_gradient_compiled(y, P.copy(), should_eval_error=True)
        Q = P.astype(np.float32)
    elif form == "coo":
        Q = P.tocoo()
    else:
        Q = P.toarray()
    before = Q.copy()
    kl, grad = tx.exact_gradient_compiled(y, Q, should_eval_error=True)
    assert kl == ref_kl
    assert np.array_equal(grad, ref_grad)
    after = Q.toarray() if sp.issparse(Q) else Q
    assert np.array_equal(after, before.toarray() if sp.issparse(before) else before)
