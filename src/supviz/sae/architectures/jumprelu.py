"""``jumprelu``: Rajamanoharan et al. (2024), "Jumping ahead: improving reconstruction fidelity with
JumpReLU sparse autoencoders".

``f = JumpReLU_theta(pre) = pre * H(pre - theta)`` with ``pre = x W_enc + b_enc`` and a learned
threshold ``theta`` per latent, trained as ``theta`` itself (``threshold_param='linear'``, the default,
SAELens 6.54's: Adam moves it additively, and it is projected onto ``theta >= 0`` after every step, as
SAELens clamps it before every forward pass) or as ``log theta`` (``'log'``: it keeps theta positive,
as in the paper's reference code; ``dL/dlog theta = theta dL/dtheta``); loss
``mean_b ||x - x_hat||^2 + l0 * mean_b ||f||_0``. The step function H has no useful derivative,
so both the activation and the L0 term pass gradients to ``theta`` through the paper's
straight-through pseudo-derivatives with the rectangle kernel ``K(u) = 1[|u| < 1/2]`` and
bandwidth ``eps``:

* ``d JumpReLU / d theta = -(theta / eps) K((pre - theta) / eps)``, ``d JumpReLU / d pre = H(pre - theta)``;
* ``d H(pre - theta) / d theta = -(1 / eps) K((pre - theta) / eps)``, and nothing to ``pre``.

Decoder rows are free (``free_decoder``, the default, as SAELens 6.54 trains them), or unit norm with
the parallel gradient removed, as in the paper (``free_decoder=False``); the gradient is clipped to
norm 1 (``grad_clip``, as SAELens' trainer does). Issue 20 measured this recipe ahead of the paper's
on supviz.sae.synth's ``flat`` and ``cpu`` presets (MCC 0.882 / 0.864 against 0.823 / 0.818, 3 seeds,
better on each; docs/benchmarks.md); each part alone is not (the linear threshold or the clipping with
unit-norm rows is worse). The encoder starts as the decoder's transpose (Gemma Scope).
"""

from __future__ import annotations

import math

import torch

from supviz.sae.architectures.base import Architecture, fused


class JumpReLUWithL0(torch.autograd.Function):
    """``f = pre * H(pre - theta)`` and ``l0 = mean_b sum_j H(pre_bj - theta_j)`` per instance, with
    the paper's pseudo-derivatives for ``theta``, fused (one mask for both; shapes ``pre [k, B, s]``,
    ``theta [k, 1, s]``, ``l0 [k]``).

    Backward: ``d f / d pre = H(pre - theta)``; ``d f / d theta = -(theta / eps) K``,
    ``d l0 / d theta = -(1 / (B eps)) K`` summed over the batch, with ``K = 1[|pre - theta| < eps / 2]``
    (the rectangle kernel at ``(pre - theta) / eps``); nothing flows from ``l0`` to ``pre``.
    """

    @staticmethod
    def forward(ctx, pre, theta, bandwidth):
        pre, theta = pre.detach(), theta.detach()
        if fused(pre):
            from supviz.sae._kernels import jumprelu_forward

            pre = pre.contiguous()
            f = torch.empty_like(pre)
            l0 = torch.empty(pre.shape[0], dtype=pre.dtype)
            jumprelu_forward(pre.numpy(), theta[:, 0, :].contiguous().numpy(), f.numpy(), l0.numpy())
        else:
            mask = pre > theta
            f = torch.where(mask, pre, 0.0)
            l0 = mask.sum(dim=(1, 2)).to(pre.dtype) / pre.shape[1]
        ctx.save_for_backward(pre, theta)
        ctx.bandwidth = bandwidth
        return f, l0

    @staticmethod
    def backward(ctx, g_f, g_l0):
        pre, theta = ctx.saved_tensors
        eps = ctx.bandwidth
        if g_f is None:
            g_f = torch.zeros_like(pre)
        if g_l0 is None:
            g_l0 = torch.zeros(pre.shape[0], dtype=pre.dtype, device=pre.device)
        if fused(pre):
            from supviz.sae._kernels import jumprelu_backward

            g_pre = torch.empty_like(pre)
            s_g = torch.empty(pre.shape[0], pre.shape[2])
            s_n = torch.empty(pre.shape[0], pre.shape[2])
            jumprelu_backward(
                pre.numpy(),
                theta[:, 0, :].contiguous().numpy(),
                g_f.contiguous().numpy(),
                float(eps),
                g_pre.numpy(),
                s_g.numpy(),
                s_n.numpy(),
            )
            s_g, s_n = s_g[:, None, :], s_n[:, None, :]
        else:
            g_pre = torch.where(pre > theta, g_f, 0.0)
            near = (pre > theta - eps / 2) & (pre < theta + eps / 2)  # K((pre - theta) / eps) = 1
            s_g = torch.where(near, g_f, 0.0).sum(dim=1, keepdim=True)  # (k, 1, s)
            s_n = near.sum(dim=1, keepdim=True).to(pre.dtype)
        g_theta = -(theta * s_g + (g_l0 / pre.shape[1])[:, None, None] * s_n) / eps
        return g_pre, g_theta, None


class JumpReLU(Architecture):
    """JumpReLU with straight-through estimators and an L0 penalty (Rajamanoharan et al. 2024)."""

    name = "jumprelu"
    saelens_architecture = "jumprelu"
    apply_b_dec_to_input = False
    unit_norm_decoder = True
    project_decoder_grad = True
    encoder_init = "transpose"
    inference_activation = "jumprelu"

    def __init__(self, config, d_in, d_sae):
        super().__init__(config, d_in, d_sae)
        if config.free_decoder:  # SAELens 6.54's recipe: the decoder rows' norms are free
            self.unit_norm_decoder = False
            self.project_decoder_grad = False

    @property
    def log_threshold(self) -> bool:
        """Whether the trained parameter is ``log theta`` (``"log_threshold"``) or ``theta`` (``"threshold"``)."""
        return self.config.threshold_param == "log"

    def extra_params(self):
        if self.log_threshold:
            return {"log_threshold": torch.full((self.d_sae,), math.log(self.config.init_threshold))}
        return {"threshold": torch.full((self.d_sae,), float(self.config.init_threshold))}

    def thresholds(self, P) -> torch.Tensor:
        """``theta [k, d_sae]`` from the trained parameter (in the autograd graph)."""
        return P["log_threshold"].exp() if self.log_threshold else P["threshold"]

    def activation_and_terms(self, pre, x, P, S, ctx):
        theta = self.thresholds(P)[:, None, :]  # (k, 1, s)
        f, l0 = JumpReLUWithL0.apply(pre, theta, self.config.bandwidth)
        return f, {"sparsity": ctx["coefficient"] * l0}

    def project(self, P):
        if not self.log_threshold:  # theta >= 0: below 0 the gate would pass negative pre-activations
            P["threshold"].data.clamp_(min=0.0)

    def export(self, P, S, index):
        theta = self.thresholds(P)[index].detach().cpu().numpy().astype("float32")
        return {"activation": "jumprelu", "k": None, "threshold": theta}
