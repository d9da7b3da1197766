"""``relu_l1``: Sharkey, Braun & Millidge (2022), "[Interim research report] Taking features out of
superposition with sparse autoencoders" (the toy-data recipe).

``f = ReLU((x - b_dec) W_enc + b_enc)``, ``x_hat = f W_dec + b_dec``; loss
``mean_b ||x - x_hat||^2 + l1 * mean_b sum_i f_i``; decoder rows renormalised to unit norm after
every step (the paper normalises them in every forward pass). The encoder starts as
``nn.Linear``'s default, as in the paper's code. Departures: the paper's decoder has no bias and
its MSE is averaged (not summed) over dimensions with the L1 term divided by the dictionary size
(a choice its author later called a mistake); here both terms follow SAELens' ``standard`` SAE.
"""

from __future__ import annotations

from supviz.sae.architectures.base import Architecture


class ReluL1(Architecture):
    """ReLU + L1 with unit-norm decoder rows (Sharkey et al. 2022)."""

    name = "relu_l1"
    saelens_architecture = "standard"
    apply_b_dec_to_input = True
    unit_norm_decoder = True
    project_decoder_grad = False
    encoder_init = "uniform"
    inference_activation = "relu"

    def activation_and_terms(self, pre, x, P, S, ctx):
        f = pre.relu()
        return f, {"sparsity": ctx["coefficient"] * f.mean(dim=1).sum(-1)}  # = mean_b sum_i f_bi
