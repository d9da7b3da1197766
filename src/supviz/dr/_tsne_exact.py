"""Compiled exact t-SNE gradient (numba), the fast twin of :func:`supviz.dr.tsne_kl.exact_gradient`.

One pass over the pairs ``i < j`` accumulates ``Z`` and the repulsive forces of both points (the
kernel is symmetric), and one pass over the non-zero affinities the attractive ones; no ``N x N``
array is formed. Single-threaded on purpose (results do not depend on the thread count, and a
shared machine does not make it spin); compiled on first use and cached on disk (numba's
``cache=True``, under ``NUMBA_CACHE_DIR``). No ``fastmath``: every sum runs in the written order,
so the gradient is the same bits on every CPU.

Two kernels per pass: the general one (any dimension, any ``dof``) and one for the common case of
2-D layouts with ``dof = 1`` (every picture of the study), which computes the same floating-point
operations in the same order (so the same bits, ``tests/dr/test_tsne_exact.py``) but keeps point
``i``'s running force in registers instead of reading and writing ``out[i]`` at every pair: the
general loop is bound by that store-to-load chain (~10 ns a pair on the 2-core Xeon of
``docs/benchmarks.md``), the 2-D one by its three add chains (force x, force y, ``Z``).
Held to the numpy reference (:func:`supviz.dr.tsne_kl.exact_gradient`) in
``tests/dr/test_tsne_exact.py``.
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
def _repulsion_2d(y, out):  # pragma: no cover - compiled
    """:func:`_repulsion` for ``dim = 2``, ``dof = 1``: the same operations in the same order.

    Why the bits agree: ``d2 = (0 + t0^2) + t1^2 = t0^2 + t1^2``; ``d2 / 1 = d2``; ``w = k``; point
    ``i``'s force starts from what the rows before it scattered into ``out[i]`` and adds its own
    pairs ``j > i`` in ascending ``j``, as the general loop does through memory; ``out[j] -= t``
    is the same scatter. Only where the running sums live changes (registers, not ``out[i]``).
    """
    n = y.shape[0]
    for i in range(n):
        out[i, 0] = 0.0
        out[i, 1] = 0.0
    z = 0.0
    for i in range(n):
        yi0 = y[i, 0]
        yi1 = y[i, 1]
        a0 = out[i, 0]
        a1 = out[i, 1]
        for j in range(i + 1, n):
            t0 = yi0 - y[j, 0]
            t1 = yi1 - y[j, 1]
            d2 = t0 * t0 + t1 * t1
            k = 1.0 / (1.0 + d2)
            z += 2.0 * k
            f = k * k
            u0 = f * t0
            u1 = f * t1
            a0 += u0
            a1 += u1
            out[j, 0] -= u0
            out[j, 1] -= u1
        out[i, 0] = a0
        out[i, 1] = a1
    return z


@njit(cache=True)
def _attraction_2d(y, indptr, indices, data, out):  # pragma: no cover - compiled
    """:func:`_attraction` for ``dim = 2``, ``dof = 1`` without the error terms: the same operations
    in the same order, point ``i``'s sum in registers."""
    n = y.shape[0]
    for i in range(n):
        yi0 = y[i, 0]
        yi1 = y[i, 1]
        a0 = out[i, 0]
        a1 = out[i, 1]
        for idx in range(indptr[i], indptr[i + 1]):
            j = indices[idx]
            p = data[idx]
            if j == i or p == 0.0:
                continue
            t0 = yi0 - y[j, 0]
            t1 = yi1 - y[j, 1]
            d2 = t0 * t0 + t1 * t1
            f = p / (1.0 + d2)
            a0 += f * t0
            a1 += f * t1
        out[i, 0] = a0
        out[i, 1] = a1


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


def _index_array(arr: np.ndarray) -> np.ndarray:
    """A CSR index array as the kernels take it: int32 or int64 as stored (each a compiled specialisation)."""
    return arr if arr.dtype in (np.int32, np.int64) else arr.astype(np.int64)


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
    # openTSNE passes the same CSR matrix at every iteration: read its arrays as they are (no copy, no new
    # matrix object: that cost ~6 us an iteration, ~10% of a 200-point picture); anything else is converted
    csr = P if sp.issparse(P) and P.format == "csr" else sp.csr_matrix(P)
    repulse = np.empty_like(y)
    indptr, indices = _index_array(csr.indptr), _index_array(csr.indices)
    data = csr.data if csr.data.dtype == np.float64 else np.asarray(csr.data, dtype=np.float64)
    grad = np.zeros_like(y)
    if y.shape[1] == 2 and float(dof) == 1.0:  # the same bits as the general kernels, faster
        z = _repulsion_2d(y, repulse)
        if should_eval_error:
            partial, total = _attraction(y, indptr, indices, data, 1.0, grad, True)
        else:
            partial, total = 0.0, 0.0
            _attraction_2d(y, indptr, indices, data, grad)
    else:
        z = _repulsion(y, float(dof), repulse)
        partial, total = _attraction(y, indptr, indices, data, float(dof), grad, bool(should_eval_error))
    grad -= repulse / z
    kl = 0.0
    if should_eval_error:
        # Z = 0 (every squared distance overflowed, so every kernel value is 0): log Z is undefined,
        # and the KL NaN, as the numpy reference returns it (np.log(0) = -inf, times 0 terms = NaN)
        kl = float(partial + total * math.log(z)) if z > 0.0 else float("nan")
    return kl, grad
