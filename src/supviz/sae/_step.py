"""The SAE engine's training step as one numba kernel on the CPU (imported lazily: numba costs start-up time).

:func:`forward_backward` computes, for every instance of a group, the forward pass (encoder,
activation, decoder), the loss terms and every parameter's gradient in one pass over the batch:
what :class:`supviz.sae.engine._Group` otherwise does with a dozen torch ops and autograd. The
optimiser step stays in the engine (its vectorised Adam over the group's flat buffers). Three
architectures have a fused form (:data:`KINDS`): ``relu_l1``, ``topk`` (with AuxK) and
``jumprelu`` (with the paper's straight-through pseudo-derivatives); the others train with torch ops.

The formulas are those of :mod:`supviz.sae.architectures` (the torch path, whose gradients are
autograd's): with ``pre = x W_enc + c``, ``c = b_enc - b_dec W_enc`` (when the input is centred on
``b_dec``) or ``b_enc``, ``f = act(pre)``, ``x_hat = f W_dec + b_dec``, ``r = x_hat - x`` and
``L = mean_b ||r_b||^2 + sparsity + auxk``:

* ``dL/dx_hat = 2 r / B``; ``dW_dec = f^T dL/dx_hat``; ``db_dec = sum_b dL/dx_hat`` (plus, centred,
  ``-W_enc dc``);
* ``df = dL/dx_hat W_dec^T`` (plus ``l1 / B`` for relu_l1); ``dpre = df * act'``;
* ``dW_enc = x^T dpre`` (plus, centred, ``-b_dec^T dc``); ``dc = db_enc = sum_b dpre``;
* JumpReLU (Rajamanoharan et al. 2024, eqs. 11-12, rectangle kernel ``K = 1[|pre - theta| < eps/2]``):
  ``dL/dtheta_j = -(theta_j sum_b K df_bj + (l0 / B) sum_b K) / eps``, and ``dL/dlog theta = theta dL/dtheta``
  when the trained parameter is ``log theta`` (``threshold_param='log'``), ``dL/dtheta`` itself when it is theta;
* AuxK (Gao et al. 2024, A.2): ``z = ReLU`` of the ``aux_k`` largest pre-activations among the
  dead latents, ``e = x - x_hat`` held fixed, ``L_aux = a * min(n_dead / aux_k, 1) * mean_b
  ||z W_dec - e||^2``, whose gradient reaches ``W_dec`` and, where ``z > 0``, ``pre``.

Serial and ``nogil`` like :mod:`supviz.sae._kernels`: one call per worker thread, the instances one
after another, every sum in a fixed order (float32, as torch's float32 products; losses summed in
float64 for the log). An instance's numbers therefore never depend on what is batched beside it
(alone == batched bit for bit). Against the torch path they agree within float32 rounding, since
BLAS sums in other orders (``tests/sae/test_step.py`` states the tolerances). Zeros of the sparse
codes are skipped in the decoder's product and in every gradient product (adding ``0 * w`` changes
no finite sum), which is where the time goes otherwise.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from supviz.sae._kernels import _kth_of_row

#: The architectures with a fused step, and their kernel code.
KINDS = {"relu_l1": 0, "topk": 1, "jumprelu": 2}
#: A sample's row takes the dense loops when more than 1 / DENSE_FRACTION of its latents are needed.
DENSE_FRACTION = 8
#: The loss terms each fused architecture logs besides ``mse`` (as its torch path does).
TERMS = {"relu_l1": ("sparsity",), "topk": ("auxk",), "jumprelu": ("sparsity",)}


@njit(nogil=True, cache=True)
def forward_backward(
    x, flat, grad, offsets, kind, centred, coef, theta, k_top, dead, aux_k, aux_coef, bandwidth, log_theta, terms, fired
):  # pragma: no cover - compiled
    """Loss terms and gradients of every instance of a group, for one batch.

    Parameters
    ----------
    x : float32 [K, B, d]
        The batch of each instance (already scaled).
    flat : float32 [K, P]
        Each instance's parameters in the engine's flat layout; ``offsets`` (int64 [5]) gives where
        ``W_enc [d, s]``, ``b_enc [s]``, ``W_dec [s, d]``, ``b_dec [d]`` and (jumprelu) its
        threshold parameter ``log_threshold [s]`` or ``threshold [s]`` start.
    grad : float32 [K, P]
        Output: the gradient in the same layout (columns of no parameter untouched).
    kind : int
        :data:`KINDS`; ``centred``: subtract ``b_dec`` from the input (relu_l1, topk).
    coef : float32 [K]
        The sparsity weight at this step (relu_l1's L1, jumprelu's L0).
    theta : float32 [K, s]
        JumpReLU's thresholds ``exp(log_threshold)`` or ``threshold`` (ignored otherwise).
    k_top : int
        TopK's k (>= s: keep every positive pre-activation).
    dead : bool [K, s]
        AuxK's dead latents (topk); ``aux_k``, ``aux_coef``: its count and weight.
    bandwidth : float
        JumpReLU's kernel width ``eps``.
    log_theta : bool
        JumpReLU: the gradient goes to ``log theta`` (``theta dL/dtheta``), else to ``theta`` (``dL/dtheta``).
    terms : float32 [K, 3]
        Output: ``mse``, the sparsity term (relu_l1, jumprelu) and ``auxk`` (topk) per instance.
    fired : bool [K, s]
        Output: whether latent j was non-zero for some sample of the batch.
    """
    K, B, d = x.shape
    s = theta.shape[1]
    oWe, obe, oWd, obd, olt = offsets[0], offsets[1], offsets[2], offsets[3], offsets[4]
    work = _Work(B, d, s, max(k_top, aux_k, 1))
    for i in range(K):
        w = flat[i]
        g = grad[i]
        We = w[oWe : oWe + d * s].reshape((d, s))
        Wd = w[oWd : oWd + s * d].reshape((s, d))
        gWe = g[oWe : oWe + d * s].reshape((d, s))
        gWd = g[oWd : oWd + s * d].reshape((s, d))
        glt = g[olt : olt + s] if kind == 2 else g[obe : obe + s]
        terms[i, 0], terms[i, 1], terms[i, 2] = _instance(
            x[i],
            We,
            w[obe : obe + s],
            Wd,
            w[obd : obd + d],
            gWe,
            g[obe : obe + s],
            gWd,
            g[obd : obd + d],
            glt,
            kind,
            centred,
            coef[i],
            theta[i],
            k_top,
            dead[i],
            aux_k,
            aux_coef,
            bandwidth,
            log_theta,
            fired[i],
            work,
        )


@njit(nogil=True, cache=True)
def _Work(B, d, s, n_buf):  # pragma: no cover - compiled
    """Scratch arrays of one call, reused by every instance."""
    return (
        np.empty((B, s), np.float32),  # pre
        np.empty((B, s), np.float32),  # f
        np.empty((B, s), np.float32),  # dL/dpre
        np.empty((B, d), np.float32),  # x_hat
        np.empty((B, d), np.float32),  # dL/dx_hat
        np.empty((d, s), np.float32),  # W_dec transposed (dense rows of df)
        np.empty((d, s), np.float32),  # dW_dec transposed (accumulated)
        np.empty(s, np.float32),  # df of one sample (dense rows)
        np.empty(d, np.float32),  # e_hat (AuxK)
        np.empty(d, np.float32),  # dL_aux/de_hat
        np.empty(s, np.float32),  # encoder bias c, then dc
        np.empty(s, np.float32),  # JumpReLU: sum_b K df
        np.empty(s, np.float32),  # JumpReLU: sum_b K
        np.empty(s, np.float32),  # JumpReLU: theta - eps/2
        np.empty(s, np.float32),  # JumpReLU: theta + eps/2
        np.empty(n_buf, np.float32),  # the k largest
        np.empty(s, np.int64),  # AuxK: the dead latents
        np.empty(s, np.int64),  # the latents a sample needs (sparse rows)
    )


@njit(nogil=True, cache=True)
def _instance(
    x,
    We,
    be,
    Wd,
    bd,
    gWe,
    gbe,
    gWd,
    gbd,
    glt,
    kind,
    centred,
    coef,
    theta,
    k_top,
    dead,
    aux_k,
    aux_coef,
    bandwidth,
    log_theta,
    fired,
    work,
):  # pragma: no cover - compiled
    """One instance's forward pass and gradients (:func:`forward_backward`); returns its (mse, sparsity, auxk)."""
    pre, f, gpre, xhat, gxh, WdT, gWdT, gf, ehat, gz, bias, s_g, s_n, lo, hi, buf, cols, nz = work
    B, d = x.shape
    s = be.shape[0]
    zero = np.float32(0.0)
    one = np.float32(1.0)
    two = np.float32(2.0)
    inv_B = one / np.float32(B)
    gWe[:, :] = zero
    gbe[:] = zero
    gWd[:, :] = zero
    gbd[:] = zero
    gWdT[:, :] = zero
    fired[:] = False
    # -- encoder: pre = x W_enc + c, c = b_enc - b_dec W_enc (centred) or b_enc
    bias[:] = zero
    if centred:
        for c in range(d):
            bv = bd[c]
            for j in range(s):
                bias[j] += bv * We[c, j]
        for j in range(s):
            bias[j] = be[j] - bias[j]
    else:
        bias[:] = be
    pre[:, :] = zero
    for b in range(B):
        for c in range(d):
            xv = x[b, c]
            for j in range(s):
                pre[b, j] += xv * We[c, j]
        for j in range(s):
            pre[b, j] += bias[j]
    # -- per sample: activation, decoder, losses and gradients. A row with few latents in play takes the
    # sparse loops (over a list of them), a denser one the dense, branch-free loops (vectorised over the
    # latents); both add the same products into the same accumulators in the same order, so the choice
    # changes no bit (but a zero's sign)
    if kind == 2:
        half = bandwidth / 2.0
        for j in range(s):
            lo[j] = np.float32(theta[j] - half)
            hi[j] = np.float32(theta[j] + half)
    for c in range(d):
        for j in range(s):
            WdT[c, j] = Wd[j, c]
    n_dead = 0
    if kind == 1:
        for j in range(s):
            if dead[j]:
                cols[n_dead] = j
                n_dead += 1
    aux_scale = zero
    if n_dead > 0:
        aux_scale = min(np.float32(n_dead) / np.float32(aux_k), one)
    a_scale = (np.float32(aux_coef) * aux_scale) * inv_B  # dL_aux/de_hat = a_scale * 2 (e_hat - e)
    l1 = coef * inv_B
    sparsity = 0.0
    n_active = 0
    mse = 0.0
    aux = 0.0
    if kind == 2:
        s_g[:] = zero
        s_n[:] = zero
    for b in range(B):
        pb = pre[b]
        fb = f[b]
        gb = gpre[b]
        # activation (branch-free: the masks are random, a branch would mispredict)
        if kind == 0:
            for j in range(s):
                v = pb[j]
                fb[j] = v if v > zero else zero
            for j in range(s):
                sparsity += fb[j]
        elif kind == 1:
            thr = np.float32(-np.inf) if k_top >= s else _kth_of_row(pb, k_top, buf)
            for j in range(s):
                v = pb[j]
                fb[j] = v if (v >= thr and v > zero) else zero
        else:
            for j in range(s):
                v = pb[j]
                fb[j] = v if v > theta[j] else zero
            for j in range(s):
                n_active += 1 if pb[j] > theta[j] else 0
        n = 0
        for j in range(s):
            nz[n] = j
            n += 1 if fb[j] != zero else 0
            fired[j] = fired[j] | (fb[j] != zero)
        # decoder and the reconstruction loss: x_hat = f W_dec + b_dec, dL/dx_hat = 2 r / B
        xh = xhat[b]
        xh[:] = zero
        if n * DENSE_FRACTION > s:
            for j in range(s):
                fv = fb[j]
                for c in range(d):
                    xh[c] += fv * Wd[j, c]
        else:
            for t in range(n):
                j = nz[t]
                fv = fb[j]
                for c in range(d):
                    xh[c] += fv * Wd[j, c]
        gx = gxh[b]
        acc = 0.0
        for c in range(d):
            xh[c] += bd[c]
            r = xh[c] - x[b, c]
            acc += r * r
            gx[c] = inv_B * (two * r)
        mse += acc
        for c in range(d):
            gbd[c] += gx[c]
        # dL/df = dL/dx_hat W_dec^T where needed: where f > 0, and for JumpReLU also in the kernel's
        # window (pre > theta - eps/2); then dL/dpre and dW_dec += f^T dL/dx_hat
        if kind == 2:
            n = 0
            for j in range(s):
                nz[n] = j
                n += 1 if pb[j] > lo[j] else 0
        if n * DENSE_FRACTION > s:
            gf[:] = zero
            for c in range(d):
                gv = gx[c]
                for j in range(s):
                    gf[j] += gv * WdT[c, j]
            if kind == 0:
                for j in range(s):
                    gb[j] = gf[j] + l1 if fb[j] != zero else zero
            elif kind == 1:
                for j in range(s):
                    gb[j] = gf[j] if fb[j] != zero else zero
            else:
                for j in range(s):
                    gb[j] = gf[j] if fb[j] != zero else zero
                    near = pb[j] > lo[j] and pb[j] < hi[j]
                    s_g[j] += gf[j] if near else zero
                    s_n[j] += one if near else zero
            for c in range(d):
                gv = gx[c]
                for j in range(s):
                    gWdT[c, j] += gv * fb[j]
        else:
            gb[:] = zero
            for t in range(n):
                j = nz[t]
                fv = fb[j]
                acc32 = zero
                for c in range(d):
                    acc32 += gx[c] * Wd[j, c]
                if kind == 2:
                    if pb[j] < hi[j]:
                        s_g[j] += acc32
                        s_n[j] += one
                    if fv != zero:
                        gb[j] = acc32
                elif kind == 0:
                    gb[j] = acc32 + l1
                else:
                    gb[j] = acc32
                if fv != zero:
                    for c in range(d):
                        gWdT[c, j] += gx[c] * fv
        # AuxK: the aux_k largest pre-activations among the dead latents reconstruct e = x - x_hat
        if n_dead > 0:
            thr = np.float32(-np.inf)
            if n_dead > aux_k:
                for t in range(aux_k):
                    v = pb[cols[t]]
                    m = t
                    while m > 0 and buf[m - 1] < v:
                        buf[m] = buf[m - 1]
                        m -= 1
                    buf[m] = v
                last = buf[aux_k - 1]
                for t in range(aux_k, n_dead):
                    v = pb[cols[t]]
                    if v > last:
                        m = aux_k - 1
                        while m > 0 and buf[m - 1] < v:
                            buf[m] = buf[m - 1]
                            m -= 1
                        buf[m] = v
                        last = buf[aux_k - 1]
                thr = last
            ehat[:] = zero
            for t in range(n_dead):
                j = cols[t]
                v = pb[j]
                if v >= thr and v > zero:
                    for c in range(d):
                        ehat[c] += v * Wd[j, c]
            acc = 0.0
            for c in range(d):
                r = ehat[c] - (x[b, c] - xh[c])  # e_hat - e, e held fixed
                acc += r * r
                gz[c] = a_scale * (two * r)
            aux += acc
            for t in range(n_dead):
                j = cols[t]
                v = pb[j]
                if v >= thr and v > zero:
                    acc32 = zero
                    for c in range(d):
                        acc32 += gz[c] * Wd[j, c]
                        gWdT[c, j] += gz[c] * v
                    gb[j] += acc32
        # dW_enc += x^T dL/dpre, db_enc = dc += dL/dpre
        n = 0
        for j in range(s):
            nz[n] = j
            n += 1 if gb[j] != zero else 0
            gbe[j] += gb[j]
        if n * DENSE_FRACTION > s:
            for c in range(d):
                xv = x[b, c]
                for j in range(s):
                    gWe[c, j] += xv * gb[j]
        else:
            for t in range(n):
                j = nz[t]
                gv = gb[j]
                for c in range(d):
                    gWe[c, j] += x[b, c] * gv
    for c in range(d):
        for j in range(s):
            gWd[j, c] = gWdT[c, j]
    if centred:
        for c in range(d):
            bv = bd[c]
            acc32 = zero
            for j in range(s):
                acc32 += We[c, j] * gbe[j]
                gWe[c, j] -= bv * gbe[j]
            gbd[c] -= acc32
    if kind == 2:  # dL/dtheta, and dL/dlog theta = theta dL/dtheta
        l0w = coef * inv_B
        eps = np.float32(bandwidth)
        for j in range(s):
            gt = -(theta[j] * s_g[j] + l0w * s_n[j]) / eps
            glt[j] = gt * theta[j] if log_theta else gt
    mse32 = np.float32(mse / B)
    if kind == 2:
        sparsity = float(n_active)
    sp32 = coef * np.float32(sparsity / B) if kind != 1 else zero
    aux32 = np.float32(aux_coef) * (aux_scale * np.float32(aux / B)) if n_dead > 0 else zero
    return mse32, sp32, aux32
