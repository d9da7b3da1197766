"""``topk``: Gao et al. (2024), "Scaling and evaluating sparse autoencoders".

``f = ReLU(TopK_k((x - b_dec) W_enc + b_enc))`` (every latent outside the k largest
pre-activations of a sample is 0), ``x_hat = f W_dec + b_dec``; loss
``mean_b ||x - x_hat||^2 + aux_coefficient * L_aux``. AuxK (the paper's appendix A.2): the
``aux_k`` largest pre-activations among the dead latents (no firing in the last ``dead_after``
samples) reconstruct the residual ``e = x - x_hat`` (held fixed):
``L_aux = min(n_dead / aux_k, 1) * mean_b ||e - ReLU(z_aux) W_dec||^2`` (the down-weighting
while few latents are dead follows EleutherAI's and SAELens' implementations). Decoder rows are
unit norm, the gradient's component along each row is removed before the step, and the encoder
starts as the decoder's transpose.
"""

from __future__ import annotations

from supviz.sae.architectures.base import Architecture, kth_largest


class TopKReLU:
    """``f = ReLU(pre) * 1[pre >= k-th largest pre of the sample]`` as an autograd function.

    Forward on the CPU: one fused numba pass per row (:func:`supviz.sae._kernels.topk_relu_rows`);
    elsewhere ``torch.topk``. Backward: the gradient passes where ``f > 0`` (exactly where the
    latent was kept and positive), as ReLU's does.
    """

    @staticmethod
    def apply(pre, k):
        return _topk_relu_function().apply(pre, k)


_FN = {}


def _grad_where_positive(f, grad):
    """``grad * 1[f > 0]`` (ReLU's backward pass given its output; fused on the CPU)."""
    import torch

    from supviz.sae.architectures.base import fused

    if fused(f):
        from supviz.sae._kernels import grad_where_positive

        n = f.shape[-1]
        out = torch.empty_like(f)
        grad_where_positive(f.reshape(-1, n).numpy(), grad.contiguous().reshape(-1, n).numpy(), out.view(-1, n).numpy())
        return out
    return torch.where(f > 0, grad, 0.0)


def _topk_relu_function():
    if "topk" not in _FN:
        import torch

        from supviz.sae.architectures.base import fused, topk_mask

        class _TopKReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, pre, k):
                if fused(pre) and k < pre.shape[-1]:
                    from supviz.sae._kernels import topk_relu_rows

                    flat = pre.detach().reshape(-1, pre.shape[-1]).contiguous()
                    out = torch.empty_like(flat)
                    topk_relu_rows(flat.numpy(), int(k), out.numpy())
                    f = out.view(pre.shape)
                else:
                    f = torch.where(topk_mask(pre.detach(), k), pre.detach().relu(), 0.0)
                ctx.save_for_backward(f)
                return f

            @staticmethod
            def backward(ctx, grad):
                (f,) = ctx.saved_tensors
                return _grad_where_positive(f, grad), None

        _FN["topk"] = _TopKReLU
    return _FN["topk"]


def _auxk_codes_function():
    if "auxk" not in _FN:
        import torch

        from supviz.sae.architectures.base import fused

        class _AuxKReLU(torch.autograd.Function):
            """ReLU of the ``aux_k`` largest pre-activations among the dead latents of each sample."""

            @staticmethod
            def forward(ctx, pre, dead, aux_k):
                p = pre.detach()
                if fused(p):
                    from supviz.sae._kernels import auxk_relu

                    p = p.contiguous()
                    z = torch.empty_like(p)
                    auxk_relu(p.numpy(), dead.contiguous().numpy(), int(aux_k), z.numpy())
                else:
                    masked = p.masked_fill(~dead[:, None, :], float("-inf"))  # (k, B, s)
                    chosen = dead[:, None, :] & (masked >= kth_largest(masked, aux_k))
                    z = torch.where(chosen, p.relu(), 0.0)
                ctx.save_for_backward(z)
                return z

            @staticmethod
            def backward(ctx, grad):
                (z,) = ctx.saved_tensors
                return _grad_where_positive(z, grad), None, None

        _FN["auxk"] = _AuxKReLU
    return _FN["auxk"]


def auxk_loss(pre, x, x_hat, P, dead, aux_k):
    """AuxK's ``L_aux`` per instance ``[k]`` (0 for an instance without dead latents).

    ``pre [k, B, s]``, ``dead [k, s]`` bool. Computed for every instance of the group, so an
    instance's loss does not depend on whether its neighbours have dead latents.
    """
    from supviz.runtime.products import matmul

    n_dead = dead.sum(-1).to(pre.dtype)  # (k,)
    z_aux = _auxk_codes_function().apply(pre, dead, aux_k)  # (k, B, s)
    e_hat = matmul(z_aux, P["W_dec"])  # (k, B, d): no bias, as in the paper
    e = (x - x_hat).detach()
    scale = (n_dead / aux_k).clamp(max=1.0)
    return scale * (e_hat - e).pow(2).sum(-1).mean(-1)


class TopK(Architecture):
    """TopK activation with the AuxK loss (Gao et al. 2024)."""

    name = "topk"
    saelens_architecture = "topk"
    apply_b_dec_to_input = True
    unit_norm_decoder = True
    project_decoder_grad = True
    encoder_init = "transpose"
    inference_activation = "topk"

    def activation_and_terms(self, pre, x, P, S, ctx):
        return TopKReLU.apply(pre, self.config.k), {}

    def residual_terms(self, f, pre, x, x_hat, P, ctx):
        import torch

        dead = ctx["dead"]
        if not bool(dead.any()):  # every instance's L_aux is exactly 0: skip the work
            return {"auxk": torch.zeros(pre.shape[0], dtype=pre.dtype, device=pre.device)}
        aux_k = self.config.resolve_aux_k(self.d_in)
        return {"auxk": self.config.aux_coefficient * auxk_loss(pre, x, x_hat, P, dead, aux_k)}

    def export(self, P, S, index):
        return {"activation": "topk", "k": int(self.config.k), "threshold": None}
