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

    Shapes: ``z, x, g`` ``[K, B, n]`` float32 (``z = x W W^T``, without the bias), ``bias``,
    ``coef = 2 I / B`` and ``imp = I`` ``[K, n]`` float32, ``gb`` ``[K, n]`` float32
    (overwritten), ``loss_acc`` ``[K]`` float64 (the step's loss
    ``mean_b sum_i I_i (x_i - ReLU(z_i + b_i))^2`` is added to it).

    ``g = dL/dz = coef * (z + b - x)`` where ``z + b > 0`` and 0 elsewhere (ReLU's gradient).
    """
    K, B, n = z.shape
    acc = np.empty(n, np.float32)
    lacc = np.empty(n, np.float32)
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
                gi = d * ck[i] if zi > _F0 else _F0
                gr[i] = gi
                acc[i] += gi
                lacc[i] += ik[i] * d * d
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
    """One step's data, forward pass, ``dL/dz``, ``dL/db``, loss and ``A = X^T G``, row by row, for
    the Gram form of sparse instances: ``fill_sparse_batch`` + ``Z = X M`` + ``relu_mse_grad`` +
    ``A = X^T G`` in one pass that skips the zeros of ``x``.

    Shapes: ``M = W W^T`` and ``A`` (overwritten) ``[K, n, n]`` float32; ``bias``, ``coef``, ``imp``,
    ``gb`` (overwritten) ``[K, n]``; ``loss_acc [K]`` float64 (added to). Row ``b`` of the batch is
    drawn exactly as ``fill_sparse_batch`` draws it; ``z_j = sum_l x_l M[l, j]`` is summed over the
    present features ``l`` in increasing order (the dense product's terms less its exact zeros),
    and ``A[l, :] += x_l g`` over rows in increasing order. Per element the same arithmetic as
    ``relu_mse_grad``. Every instance's numbers depend on its own inputs only.
    """
    K, n, _ = M.shape
    N = batch * n
    idx = np.empty(n, np.int64)
    val = np.empty(n, np.float32)
    x = np.zeros(n, np.float32)
    z = np.empty(n, np.float32)
    g = np.empty(n, np.float32)
    acc = np.empty(n, np.float32)
    lacc = np.empty(n, np.float32)
    for k in range(K):
        p = probs[k]
        counter = keys[k] + (np.uint64(step) * np.uint64(N) + _ONE) * _GAMMA
        Mk = M[k]
        Ak = A[k]
        Ak[:, :] = _F0
        acc[:] = _F0
        lacc[:] = _F0
        bk = bias[k]
        ck = coef[k]
        ik = imp[k]
        for _b in range(batch):
            c = 0
            for j in range(n):  # the row's draws (branch-free: the slot is overwritten when absent)
                h = counter
                counter = counter + _GAMMA
                h = (h ^ (h >> _S30)) * _C1
                h = (h ^ (h >> _S27)) * _C2
                h = h ^ (h >> _S31)
                u = np.float32(np.int64(h >> _S40)) * _U24
                v = u / p
                present = u < p
                v = v if present else _F0
                x[j] = v
                idx[c] = j
                val[c] = v
                c += 1 if present else 0
            for j in range(n):
                z[j] = _F0
            for q in range(c):
                v = val[q]
                Mr = Mk[idx[q]]
                for j in range(n):
                    z[j] += v * Mr[j]
            for i in range(n):
                zi = z[i] + bk[i]
                xi = x[i]
                d = zi - xi if zi > _F0 else -xi
                gi = d * ck[i] if zi > _F0 else _F0
                g[i] = gi
                acc[i] += gi
                lacc[i] += ik[i] * d * d
            for q in range(c):
                v = val[q]
                Ar = Ak[idx[q]]
                for j in range(n):
                    Ar[j] += v * g[j]
        total = 0.0
        for i in range(n):
            gb[k, i] = acc[i]
            total += lacc[i]
        loss_acc[k] += total / batch
