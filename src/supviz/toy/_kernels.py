"""Numba kernels of the fast CPU engine (imported lazily: numba costs start-up time).

Each kernel is serial, ``nogil`` and cached on disk: the engine runs one worker thread per CPU,
each calling these on its own share of the instances, so no result depends on the number of
threads. No kernel uses ``fastmath``: every element is computed in a fixed order, so a result
is the same bit for bit wherever the instance is batched.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from supviz.toy.data import C1, C2, GAMMA, U24

_GAMMA = np.uint64(GAMMA)
_C1 = np.uint64(C1)
_C2 = np.uint64(C2)
_U24 = np.float32(U24)
_ONE = np.uint64(1)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S40 = np.uint64(40)
_F0 = np.float32(0.0)


@njit(nogil=True, cache=True)
def fill_sparse_batch(out, keys, probs, step):  # pragma: no cover - compiled
    """Write instance k's batch of step ``step`` into ``out[k]`` (``[K, B*n]`` float32).

    Element j of instance k at step t is ``u / p`` if ``u < p`` else 0, where
    ``u = splitmix64_mix(keys[k] + (t * B*n + j + 1) * GAMMA) >> 40`` scaled to [0, 1): a
    present feature (probability p) with a value uniform on [0, 1), from one draw (``data.py``).
    """
    K, N = out.shape
    for k in range(K):
        p = probs[k]
        counter = keys[k] + (np.uint64(step) * np.uint64(N) + _ONE) * _GAMMA
        row = out[k]
        for j in range(N):
            # the counter advances by GAMMA per element (the same value as ``base + j * GAMMA``
            # modulo 2**64, without a 64-bit multiply per element: 78 -> 49 us per 1024 x 60 batch
            # on an AMD EPYC Zen 3)
            z = counter
            counter = counter + _GAMMA
            z = (z ^ (z >> _S30)) * _C1
            z = (z ^ (z >> _S27)) * _C2
            z = z ^ (z >> _S31)
            u = np.float32(np.int64(z >> _S40)) * _U24  # < 2**24: exact either way
            v = u / p
            row[j] = v if u < p else _F0


@njit(nogil=True, cache=True)
def relu_mse_grad(z, x, bias, coef, imp, g, gb, loss_acc):  # pragma: no cover - compiled
    """Gradient of the loss at the pre-activation, fused with the bias, its gradient and the loss.

    Shapes: ``z, x, g`` ``[K, B, n]`` float32 (``z = x W W^T``, without the bias; ``g`` overwritten, a buffer of
    its own), ``bias``, ``coef = 2 I / B`` and ``imp = I`` ``[K, n]`` float32, ``gb`` ``[K, n]`` float32
    (overwritten), ``loss_acc`` ``[K]`` float64 (the step's loss ``mean_b sum_i I_i (x_i - ReLU(z_i + b_i))^2`` is
    added to it).

    ``g = dL/dz = coef * (z + b - x)`` where ``z + b > 0`` and 0 elsewhere (ReLU's gradient); ``dL/db`` and the
    loss are summed over the rows ``b`` in order, per feature, in float32. Each row takes two loops over the
    features: the first writes ``g`` and ``d = ReLU(z + b) - x`` (a row buffer), the second adds them to the
    sums. One loop doing both (three arrays written, eight read) was vectorised by LLVM only in part: at n = 20 it
    took ~55 us per block of two instances (batch 1024) against ~20 us now, at n = 60 ~63 against ~48 us
    (``docs/benchmarks.md``). Same operations per element in the same order, so the same bits
    (``tests/toy/test_kernels.py`` checks them against a NumPy reference).
    """
    K, B, n = z.shape
    acc = np.empty(n, np.float32)
    lacc = np.empty(n, np.float32)
    dr = np.empty(n, np.float32)
    for k in range(K):
        acc[:] = 0.0
        lacc[:] = 0.0
        bk = bias[k]
        ck = coef[k]
        ik = imp[k]
        for b in range(B):
            zr = z[k, b]
            xr = x[k, b]
            gr = g[k, b]
            for i in range(n):
                zi = zr[i] + bk[i]
                xi = xr[i]
                d = zi - xi if zi > _F0 else -xi
                dr[i] = d
                gr[i] = d * ck[i] if zi > _F0 else _F0
            for i in range(n):
                acc[i] += gr[i]
                lacc[i] += ik[i] * dr[i] * dr[i]
        total = 0.0
        for i in range(n):
            gb[k, i] = acc[i]
            total += lacc[i]
        loss_acc[k] += total / B


@njit(nogil=True, cache=True)
def adamw(param, grad, exp_avg, exp_avg_sq, lr, weight_decay, beta1, beta2, eps, step):  # pragma: no cover
    """One AdamW step on flat float32 arrays, as ``torch.optim.AdamW`` writes it.

    ``p *= 1 - lr wd; m = lerp(m, g, 1 - b1); v = b2 v + (1 - b2) g^2;
    p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps)``; ``step`` counts from 1.
    """
    bc1 = 1.0 - beta1**step
    bc2_sqrt = math.sqrt(1.0 - beta2**step)
    step_size = np.float32(lr / bc1)
    decay = np.float32(1.0 - lr * weight_decay)
    w1 = np.float32(1.0 - beta1)
    b2 = np.float32(beta2)
    w2 = np.float32(1.0 - beta2)
    inv_bc2 = np.float32(1.0 / bc2_sqrt)
    e = np.float32(eps)
    for j in range(param.shape[0]):
        gj = grad[j]
        m = exp_avg[j]
        m = m + w1 * (gj - m)
        v = b2 * exp_avg_sq[j] + w2 * gj * gj
        exp_avg[j] = m
        exp_avg_sq[j] = v
        param[j] = param[j] * decay - step_size * m / (np.sqrt(v) * inv_bc2 + e)


@njit(nogil=True, cache=True)
def sparse_gram_step(keys, probs, step, batch, M, bias, coef, imp, A, gb, loss_acc):  # pragma: no cover
    """One step's data, forward pass, ``dL/dz``, ``dL/db``, loss and ``A = X^T G`` of the Gram form,
    row by row, skipping the zeros of ``x``: ``fill_sparse_batch`` + ``Z = X M`` + ``relu_mse_grad``
    + ``A = X^T G`` in one pass, for sparse instances (the engine's ``use_sparse``).

    Shapes: ``M = W W^T`` and ``A`` (overwritten) ``[K, n, n]`` float32; ``bias``, ``coef``, ``imp``,
    ``gb`` (overwritten) ``[K, n]``; ``loss_acc [K]`` float64 (added to). Row ``b`` of the batch is
    drawn exactly as ``fill_sparse_batch`` draws it; ``z_j = sum_l x_l M[l, j]`` is summed over the
    nonzero ``x_l`` in increasing ``l`` (the dense product's terms in a fixed order, less its exact
    zeros), and ``A[l, :] += x_l g`` over the rows in order. Per element the arithmetic of
    ``relu_mse_grad``. Rows of ``M`` and ``A`` are worked on in copies padded to a multiple of 32
    floats (whole vector loops, no scalar remainder); every instance's numbers depend on its own
    inputs only.
    """
    K, n, _ = M.shape
    N = batch * n
    w = -(-n // 32) * 32
    Mp = np.zeros((n, w), np.float32)
    Ap = np.zeros((n, w), np.float32)
    idx = np.empty(n, np.int64)
    x = np.zeros(n, np.float32)
    z = np.zeros(w, np.float32)
    g = np.zeros(w, np.float32)
    acc = np.empty(n, np.float32)
    lacc = np.empty(n, np.float32)
    for k in range(K):
        p = probs[k]
        counter = keys[k] + (np.uint64(step) * np.uint64(N) + _ONE) * _GAMMA
        for i in range(n):
            for j in range(n):
                Mp[i, j] = M[k, i, j]
            for j in range(w):
                Ap[i, j] = _F0
        acc[:] = _F0
        lacc[:] = _F0
        bk = bias[k]
        ck = coef[k]
        ik = imp[k]
        for _b in range(batch):
            for j in range(n):  # the row's draws, as fill_sparse_batch
                h = counter
                counter = counter + _GAMMA
                h = (h ^ (h >> _S30)) * _C1
                h = (h ^ (h >> _S27)) * _C2
                h = h ^ (h >> _S31)
                u = np.float32(np.int64(h >> _S40)) * _U24
                v = u / p
                x[j] = v if u < p else _F0
            c = 0
            for j in range(n):  # the nonzero features, in order
                idx[c] = j
                c += np.int64(x[j] != _F0)
            for j in range(w):
                z[j] = _F0
            q = 0
            while q + 4 <= c:  # four terms per pass over z, added in order
                r0 = idx[q]
                r1 = idx[q + 1]
                r2 = idx[q + 2]
                r3 = idx[q + 3]
                v0 = x[r0]
                v1 = x[r1]
                v2 = x[r2]
                v3 = x[r3]
                for j in range(w):
                    z[j] = (((z[j] + v0 * Mp[r0, j]) + v1 * Mp[r1, j]) + v2 * Mp[r2, j]) + v3 * Mp[r3, j]
                q += 4
            while q < c:
                r = idx[q]
                v = x[r]
                for j in range(w):
                    z[j] = z[j] + v * Mp[r, j]
                q += 1
            for i in range(n):
                zi = z[i] + bk[i]
                xi = x[i]
                d = zi - xi if zi > _F0 else -xi
                gi = d * ck[i] if zi > _F0 else _F0
                g[i] = gi
                acc[i] += gi
                lacc[i] += ik[i] * d * d
            for q in range(c):
                r = idx[q]
                v = x[r]
                for j in range(w):
                    Ap[r, j] = Ap[r, j] + v * g[j]
        for i in range(n):
            for j in range(n):
                A[k, i, j] = Ap[i, j]
        total = 0.0
        for i in range(n):
            gb[k, i] = acc[i]
            total += lacc[i]
        loss_acc[k] += total / batch
