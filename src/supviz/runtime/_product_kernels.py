"""supviz's own batched matrix product, in numba (imported lazily: numba costs start-up time).

One kernel, :func:`mm_fixed_order`, computes one instance's ``out (+)= op(a) @ op(b)`` with every
output element summed over ``l = 0, 1, ..., K - 1`` in that order, starting from zero, one
rounded multiply and one rounded add per term (no ``fastmath``: LLVM neither reassociates the sum
nor contracts a multiply and an add into an FMA). So its result is a function of the operands'
values alone: the same bits for an instance alone or inside any batch, at any alignment, on any
CPU, and equal to the obvious triple loop (:func:`reference_bmm`). It vectorises over output
elements, never over ``l``:

* ``a`` given transposed (its storage ``[K, M]``): *columns form*, ``acc[c, :] += B[l, c] *
  a_storage[l, :]``, a contiguous row of length M per term (the skinny ``X^T G`` products of the
  toy engine, where it beats a BLAS by 1.5-3x at N <= 5 on AMD Zen 3);
* otherwise: *rows form*, ``acc[:] += A[r, l] * B[l, :]``, a contiguous row of length N (``B``
  packed once per instance when given transposed).

It is one of the three implementations :mod:`supviz.runtime.products` chooses from. Compiled for
float32 and float64 row-major 2-D arrays (one signature per dtype, compiled on first use and
cached on disk under ``NUMBA_CACHE_DIR``; :mod:`supviz.runtime.products` calls it once per
instance, on the instance's storage, which is row-major whatever the batch's strides), serial and
``nogil`` (worker threads call it at once).
"""

from __future__ import annotations

import threading

import numba as nb
import numpy as np
from numba import njit

_LOCK = threading.Lock()


@njit(nogil=True, cache=True, error_model="numpy")
def mm_fixed_order(a, b, out, ta, tb, accumulate):  # pragma: no cover - compiled
    """``out (+)= op(a) @ op(b)`` for one instance, each element summed in the order l = 0 ... K - 1.

    Row-major (C-contiguous) 2-D arrays: ``out [M, N]``; ``a [M, K]``, or its storage ``[K, M]``
    when ``ta``; ``b [K, N]``, or its storage ``[N, K]`` when ``tb``. ``accumulate``: add the
    finished sums to ``out`` instead of overwriting it.
    """
    M, N = out.shape
    K = a.shape[0] if ta else a.shape[1]
    zero = out.dtype.type(0.0)
    if ta:
        # columns form: acc_t[c, :] += B[l, c] * a[l, :]
        acc_t = np.empty((N, M), out.dtype)
        for c in range(N):
            for r in range(M):
                acc_t[c, r] = zero
        for ll in range(K):
            arow = a[ll]
            for c in range(N):
                y = b[c, ll] if tb else b[ll, c]
                acc = acc_t[c]
                for r in range(M):
                    acc[r] += y * arow[r]
        for r in range(M):
            for c in range(N):
                if accumulate:
                    out[r, c] += acc_t[c, r]
                else:
                    out[r, c] = acc_t[c, r]
    else:
        # rows form: acc[:] += A[r, l] * B[l, :] (B packed row-major when given transposed)
        bp = b
        if tb:
            bp = np.empty((K, N), out.dtype)
            for c in range(N):
                for ll in range(K):
                    bp[ll, c] = b[c, ll]
        acc = np.empty(N, out.dtype)
        for r in range(M):
            for c in range(N):
                acc[c] = zero
            arow = a[r]
            for ll in range(K):
                x = arow[ll]
                brow = bp[ll]
                for c in range(N):
                    acc[c] += x * brow[c]
            orow = out[r]
            for c in range(N):
                if accumulate:
                    orow[c] += acc[c]
                else:
                    orow[c] = acc[c]


@njit(nogil=True, cache=True, error_model="numpy")
def bmm_fixed_order(a, b, out, ta, tb, accumulate):  # pragma: no cover - compiled
    """:func:`mm_fixed_order` for every instance of C-contiguous 3-D stacks (one call from Python)."""
    for i in range(out.shape[0]):
        mm_fixed_order(a[i], b[i], out[i], ta, tb, accumulate)


def _signature(dtype: type, ndim: int) -> tuple:
    arr = nb.types.Array(dtype, ndim, "C")
    return (arr, arr, arr, nb.boolean, nb.boolean, nb.boolean)


_DTYPES = (nb.float32, nb.float64)


def kernel():
    """The compiled one-instance kernel: one version per dtype for row-major 2-D arrays, both compiled
    (or loaded from numba's disk cache) on the first call; compilation is then switched off, so no
    thread compiles another variant on the side."""
    _ready()
    return mm_fixed_order


def batch_kernel():
    """The compiled kernel over C-contiguous 3-D stacks (:func:`bmm_fixed_order`), as :func:`kernel`."""
    _ready()
    return bmm_fixed_order


def _ready() -> None:
    if not _READY:
        with _LOCK:
            if not _READY:
                for fn, ndim in ((mm_fixed_order, 2), (bmm_fixed_order, 3)):
                    for dtype in _DTYPES:
                        fn.compile(_signature(dtype, ndim))
                    fn.disable_compile()
                _READY.append(True)


_READY: list[bool] = []


def reference_bmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The slow, obvious reference: ``[k, M, K] @ [k, K, N]`` as a Python triple loop over
    ``l = 0 ... K - 1`` in the operands' dtype (tests hold :func:`mm_fixed_order` to it bit for bit)."""
    k, M, K = a.shape
    N = b.shape[2]
    out = np.zeros((k, M, N), dtype=a.dtype)
    for i in range(k):
        for r in range(M):
            for c in range(N):
                s = a.dtype.type(0.0)
                for ll in range(K):
                    s = a.dtype.type(s + a.dtype.type(a[i, r, ll] * b[i, ll, c]))
                out[i, r, c] = s
    return out
