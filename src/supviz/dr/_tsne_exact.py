"""Compiled exact t-SNE gradient (numba), the fast twin of :func:`supviz.dr.tsne_kl.exact_gradient`.

One pass over the pairs ``i < j`` accumulates ``Z`` and the repulsive forces of both points (the
kernel is symmetric), and one pass over the non-zero affinities the attractive ones; no ``N x N``
array is formed. Single-threaded on purpose (results do not depend on the thread count, and a
shared machine does not make it spin); compiled on first use and cached on disk (numba's
``cache=True``, under ``NUMBA_CACHE_DIR``). Held to the numpy reference in
``tests/dr/test_tsne_kl.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _repulsion(y, dof, out):  # pragma: no cover - compiled
    """``out_i = sum_j w_ij k_ij (y_i - y_j)`` and returns ``Z = sum_{i != j} w_ij``.

    ``k = (1 + d^2 / dof)^-1``, ``w = k^dof``; ``out`` [N, k] is overwritten.
    """
    n, dim = y.shape
    for i in range(n):
        for c in range(dim):
            out[i, c] = 0.0
    z = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d2 = 0.0
            for c in range(dim):
                t = y[i, c] - y[j, c]
                d2 += t * t
            k = 1.0 / (1.0 + d2 / dof)
            w = k if dof == 1.0 else k**dof
            z += 2.0 * w
            f = w * k
            for c in range(dim):
                t = f * (y[i, c] - y[j, c])
                out[i, c] += t
                out[j, c] -= t
    return z


@njit(cache=True)
def _attraction(y, indptr, indices, data, dof, out, eval_error):  # pragma: no cover - compiled
    """``out_i += sum_j p_ij k_ij (y_i - y_j)`` over a CSR ``P``; returns ``sum p log p - sum p log w``
    and ``sum p`` (when ``eval_error``; the ``log Z`` term is added by the caller)."""
    n, dim = y.shape
    partial = 0.0
    total = 0.0
    for i in range(n):
        for idx in range(indptr[i], indptr[i + 1]):
            j = indices[idx]
            p = data[idx]
            if j == i or p == 0.0:
                continue
            d2 = 0.0
            for c in range(dim):
                t = y[i, c] - y[j, c]
                d2 += t * t
            base = 1.0 + d2 / dof
            f = p / base
            for c in range(dim):
                out[i, c] += f * (y[i, c] - y[j, c])
            if eval_error and p > 0.0:
                partial += p * (math.log(p) + dof * math.log(base))
                total += p
    return partial, total


def exact_gradient_compiled(
    embedding: np.ndarray,
    P,
    dof: float = 1.0,
    reference_embedding=None,
    should_eval_error: bool = False,
    **_,
) -> tuple[float, np.ndarray]:
    """Same contract and result as :func:`supviz.dr.tsne_kl.exact_gradient` (an openTSNE callable)."""
    import scipy.sparse as sp

    if reference_embedding is not None and reference_embedding is not embedding:
        raise NotImplementedError("the exact gradient does not support openTSNE's transform (a reference embedding).")
    y = np.ascontiguousarray(embedding, dtype=np.float64)
    csr = sp.csr_matrix(P)
    repulse = np.empty_like(y)
    z = _repulsion(y, float(dof), repulse)
    grad = np.zeros_like(y)
    partial, total = _attraction(
        y,
        csr.indptr.astype(np.int64),
        csr.indices.astype(np.int64),
        np.asarray(csr.data, dtype=np.float64),
        float(dof),
        grad,
        bool(should_eval_error),
    )
    grad -= repulse / z
    kl = 0.0
    if should_eval_error:
        kl = float(partial + total * math.log(z))
    return kl, grad
