"""The numba engine's elementwise kernels against slow, obvious NumPy references, bit for bit: the kernels fix every
reduction order (``supviz.toy._kernels``' module docstring), and float32 adds, subtracts and multiplies round the
same way one element at a time or in SIMD lanes."""

import numpy as np
import pytest

from supviz.toy import _kernels as K


def relu_mse_grad_reference(z, x, bias, coef, imp):
    """``relu_mse_grad`` written out: per element ``zi = z + b``, ``d = zi - x`` where ``zi > 0`` else ``-x``,
    ``g = d * coef`` where ``zi > 0`` else 0; ``dL/db`` and ``sum_b I d^2`` summed over the rows in order (float32),
    the loss ``sum_i`` of the latter in float64, divided by B."""
    k_, B, n = z.shape
    g = np.empty_like(z)
    gb = np.empty((k_, n), np.float32)
    loss = np.zeros(k_)
    for k in range(k_):
        acc = np.zeros(n, np.float32)
        lacc = np.zeros(n, np.float32)
        for b in range(B):
            zi = z[k, b] + bias[k]
            on = zi > 0
            d = np.where(on, zi - x[k, b], -x[k, b])
            g[k, b] = np.where(on, d * coef[k], np.float32(0))
            acc += g[k, b]
            lacc += imp[k] * d * d
        gb[k] = acc
        total = 0.0
        for i in range(n):
            total += float(lacc[i])
        loss[k] = total / B
    return g, gb, loss


def _inputs(k, B, n, seed):
    """Pre-activations around 0 with exact zeros of ``z + b``, negative zeros in ``z`` and ``x``, sparse ``x``."""
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((k, B, n)) * 0.5).astype(np.float32)
    x = np.where(rng.random((k, B, n)) < 0.3, rng.random((k, B, n)), 0).astype(np.float32)
    bias = (rng.standard_normal((k, n)) * 0.1).astype(np.float32)
    bias[:, ::5] = -0.0
    z[:, ::5, ::3] = -bias[:, None, ::3]  # z + b exactly 0: no gradient, d = -x
    z[:, 1::7, 1::4] = -0.0
    x[:, ::3, ::2] = -0.0
    imp = (0.7 ** np.arange(n) * np.ones((k, 1))).astype(np.float32)
    return z, x, bias, (2 * imp / B).astype(np.float32), imp


def _bits(a):
    a = np.asarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("shape", [(2, 1024, 20), (2, 1024, 60), (1, 1024, 2), (3, 33, 17), (2, 64, 5), (1, 7, 1)])
def test_relu_mse_grad_equals_its_reference_bit_for_bit(shape):
    z, x, bias, coef, imp = _inputs(*shape, seed=sum(shape))
    assert (z + bias[:, None, :] == 0).any() and np.signbit(x[x == 0]).any()  # the edge cases are there
    g, gb, loss = np.full_like(z, np.nan), np.full(bias.shape, np.nan, np.float32), np.full(shape[0], 0.25)
    K.relu_mse_grad(z, x, bias, coef, imp, g, gb, loss)
    want_g, want_gb, want_loss = relu_mse_grad_reference(z, x, bias, coef, imp)
    np.testing.assert_array_equal(_bits(g), _bits(want_g))
    np.testing.assert_array_equal(_bits(gb), _bits(want_gb))
    np.testing.assert_array_equal(_bits(loss), _bits(want_loss + 0.25))  # added to what was there
