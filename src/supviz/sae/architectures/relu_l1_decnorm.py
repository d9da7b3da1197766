"""``relu_l1_decnorm``: Anthropic (2024), "Circuits Updates - April 2024", section "Training SAEs".

``f = ReLU(x W_enc + b_enc)``, ``x_hat = f W_dec + b_dec``; loss
``mean_b ||x - x_hat||^2 + l1 * mean_b sum_i f_i ||W_dec,i||`` (the penalty is weighted by each
latent's decoder norm instead of constraining it); decoder rows start in random directions with
norm 0.1 and the encoder as their transpose; the L1 weight ramps up linearly over the first 5% of
training, the learning rate decays linearly to 0 over the last 20%, gradients are clipped to norm
1 (all three set in :class:`~supviz.sae.config.SAEConfig`'s defaults for this architecture).
"""

from __future__ import annotations

from supviz.sae.architectures.base import Architecture


class ReluL1DecNorm(Architecture):
    """ReLU + decoder-norm-weighted L1, unconstrained decoder (Anthropic, April 2024)."""

    name = "relu_l1_decnorm"
    saelens_architecture = "standard"
    apply_b_dec_to_input = False
    unit_norm_decoder = False
    project_decoder_grad = False
    encoder_init = "transpose"
    inference_activation = "relu"

    def activation_and_terms(self, pre, x, P, S, ctx):
        f = pre.relu()
        norms = P["W_dec"].norm(dim=-1)  # (k, d_sae)
        return f, {"sparsity": ctx["coefficient"] * (f.mean(dim=1) * norms).sum(-1)}
