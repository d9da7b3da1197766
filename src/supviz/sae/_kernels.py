"""Numba kernels of the SAE engine on the CPU (imported lazily: numba costs start-up time).

Serial, ``nogil`` and cached on disk, like :mod:`supviz.toy._kernels`: every worker thread calls
them on its own instances, and each row is computed in a fixed order, so no result depends on
what else is batched or on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def _kth_of_row(row, k, buf):  # pragma: no cover - compiled
    """The k-th largest value of ``row`` counted with multiplicity (``buf``: scratch of length >= k; also the fused
    step's, :mod:`supviz.sae._step`)."""
    n = row.shape[0]
    for j in range(k):  # insertion-sort the first k, descending
        v = row[j]
        i = j
        while i > 0 and buf[i - 1] < v:
            buf[i] = buf[i - 1]
            i -= 1
        buf[i] = v
    last = buf[k - 1]
    for j in range(k, n):
        v = row[j]
        if v > last:  # rare after the first few: one compare per element
            i = k - 1
            while i > 0 and buf[i - 1] < v:
                buf[i] = buf[i - 1]
                i -= 1
            buf[i] = v
            last = buf[k - 1]
    return last


@njit(nogil=True, cache=True)
def kth_largest_rows(x, k, out):  # pragma: no cover - compiled
    """``out[r] = `` the k-th largest value of row ``x[r]`` counted with multiplicity.

    ``x`` is ``[R, n]`` float32 (C-contiguous), ``1 <= k <= n``; one pass per row with a sorted
    buffer of the k largest values seen (no allocation per row). NaN-free input assumed (the
    engine's pre-activations are finite).
    """
    R = x.shape[0]
    buf = np.empty(k, np.float32)
    for r in range(R):
        out[r] = _kth_of_row(x[r], k, buf)


@njit(nogil=True, cache=True)
def topk_relu_rows(x, k, out):  # pragma: no cover - compiled
    """TopK then ReLU per row: ``out[r, j] = x[r, j]`` if ``x[r, j] >= kth_r`` and ``x[r, j] > 0``, else 0.

    ``kth_r`` is the k-th largest value of row r counted with multiplicity (as
    :func:`kth_largest_rows`); ``x``, ``out`` ``[R, n]`` float32, ``1 <= k <= n``. Sixteen rows at a
    time, each element passing through a branch-free compare-exchange chain of the row's k best
    values, with the chains of the sixteen rows interleaved (1.5x faster than insertion here).
    """
    R, n = x.shape
    W = 16
    buf = np.empty((k, W), np.float32)
    thr = np.empty(W, np.float32)
    zero = np.float32(0.0)
    ninf = np.float32(-np.inf)
    for r0 in range(0, R, W):
        w = min(W, R - r0)
        for t in range(k):
            for q in range(W):
                buf[t, q] = ninf
        for j in range(n):
            for q in range(w):
                v = x[r0 + q, j]
                for t in range(k):
                    b = buf[t, q]
                    buf[t, q] = b if b > v else v
                    v = v if b > v else b
        for q in range(w):
            last = buf[k - 1, q]
            thr[q] = last if last > zero else zero
        for q in range(w):
            th = thr[q]
            for j in range(n):
                v = x[r0 + q, j]
                out[r0 + q, j] = v if (v >= th and v > zero) else zero


@njit(nogil=True, cache=True)
def jumprelu_forward(pre, theta, out, l0):  # pragma: no cover - compiled
    """``out = pre * 1[pre > theta]`` and ``l0[i] = mean_b #{j : pre[i, b, j] > theta[i, j]}``.

    ``pre``, ``out`` ``[k, B, s]`` float32, ``theta`` ``[k, s]`` float32, ``l0`` ``[k]`` float32.
    """
    K, B, S = pre.shape
    zero = np.float32(0.0)
    for i in range(K):
        th = theta[i]
        count = 0
        for b in range(B):
            p = pre[i, b]
            o = out[i, b]
            for j in range(S):
                v = p[j]
                if v > th[j]:
                    o[j] = v
                    count += 1
                else:
                    o[j] = zero
        l0[i] = np.float32(count / B)


@njit(nogil=True, cache=True)
def jumprelu_backward(pre, theta, grad, bandwidth, g_pre, sum_grad, count):  # pragma: no cover - compiled
    """JumpReLU's backward pass in one sweep.

    ``g_pre = grad * 1[pre > theta]``; over the batch, where ``|pre - theta| < bandwidth / 2``
    (the rectangle kernel is 1): ``sum_grad[i, j] = sum_b grad[i, b, j]`` and ``count[i, j] = #b``
    (float64 accumulation). ``pre``, ``grad``, ``g_pre`` ``[k, B, s]`` float32; ``theta`` ``[k, s]``;
    ``sum_grad``, ``count`` ``[k, s]`` float32.
    """
    K, B, S = pre.shape
    half = bandwidth / 2.0
    acc = np.empty(S, np.float64)
    cnt = np.empty(S, np.float64)
    lo = np.empty(S, np.float32)
    hi = np.empty(S, np.float32)
    for i in range(K):
        for j in range(S):
            acc[j] = 0.0
            cnt[j] = 0.0
            lo[j] = np.float32(theta[i, j] - half)
            hi[j] = np.float32(theta[i, j] + half)
        th = theta[i]
        zero = np.float32(0.0)
        for b in range(B):
            p = pre[i, b]
            g = grad[i, b]
            o = g_pre[i, b]
            for j in range(S):
                v = p[j]
                o[j] = g[j] if v > th[j] else zero
                if v > lo[j] and v < hi[j]:
                    acc[j] += g[j]
                    cnt[j] += 1.0
        for j in range(S):
            sum_grad[i, j] = np.float32(acc[j])
            count[i, j] = np.float32(cnt[j])


@njit(nogil=True, cache=True)
def kth_largest_flat(x, keep, out):  # pragma: no cover - compiled
    """``out[i]`` = the ``keep``-th largest value of ``x[i]`` (``[k, n]`` float32, ``1 <= keep <= n``)."""
    K, n = x.shape
    for i in range(K):
        part = np.partition(x[i].copy(), n - keep)
        out[i] = part[n - keep]


@njit(nogil=True, cache=True)
def grad_where_positive(f, grad, out):  # pragma: no cover - compiled
    """``out = grad * 1[f > 0]`` (``[R, n]`` float32): ReLU's backward pass, given the output."""
    R, n = f.shape
    zero = np.float32(0.0)
    for r in range(R):
        fr = f[r]
        gr = grad[r]
        o = out[r]
        for j in range(n):
            o[j] = gr[j] if fr[j] > zero else zero


@njit(nogil=True, cache=True)
def auxk_relu(pre, dead, k, out):  # pragma: no cover - compiled
    """AuxK's codes: per row, ReLU of the k largest pre-activations among the dead latents, 0 elsewhere.

    ``pre``, ``out`` ``[K, B, s]`` float32; ``dead`` ``[K, s]`` bool; ``k >= 1``. Where an instance
    has at most k dead latents, all of them are kept. The k-th largest is counted with
    multiplicity (ties at the threshold are all kept), as in :func:`kth_largest_rows`.
    """
    K, B, S = pre.shape
    zero = np.float32(0.0)
    buf = np.empty(k, np.float32)
    cols = np.empty(S, np.int64)
    for i in range(K):
        n = 0
        for j in range(S):
            if dead[i, j]:
                cols[n] = j
                n += 1
        for b in range(B):
            p = pre[i, b]
            o = out[i, b]
            for j in range(S):
                o[j] = zero
            if n == 0:
                continue
            if n <= k:
                thr = np.float32(-np.inf)
            else:
                for t in range(k):
                    v = p[cols[t]]
                    m = t
                    while m > 0 and buf[m - 1] < v:
                        buf[m] = buf[m - 1]
                        m -= 1
                    buf[m] = v
                last = buf[k - 1]
                for t in range(k, n):
                    v = p[cols[t]]
                    if v > last:
                        m = k - 1
                        while m > 0 and buf[m - 1] < v:
                            buf[m] = buf[m - 1]
                            m -= 1
                        buf[m] = v
                        last = buf[k - 1]
                thr = last
            for t in range(n):
                j = cols[t]
                v = p[j]
                if v >= thr and v > zero:
                    o[j] = v
