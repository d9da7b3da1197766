"""``matryoshka_batchtopk``: Bussmann, Nabeshima, Karvonen & Nanda (2025), "Learning multi-level features
with Matryoshka sparse autoencoders".

The dictionary is read as nested prefixes of widths ``m_1 < m_2 < ... < m_L = d_sae``
(:meth:`~supviz.sae.config.SAEConfig.resolve_matryoshka_widths`): the codes ``f`` are BatchTopK's
(:mod:`.batchtopk`, over the whole dictionary), and every prefix must reconstruct the input on its
own, with the latents it holds:

``L = sum_l mean_b ||x_b - (f_b[:m_l] W_dec[:m_l] + b_dec)||^2 + aux_coefficient * L_aux``.

The outer level (``l = L``) is the shared reconstruction term (``mse``); the inner levels are the
``matryoshka`` term. Early latents are pushed to carry general (parent) features because they must
reconstruct without the later ones, which is what keeps a parent latent from being absorbed into
its children (the paper's motivation). AuxK acts on the whole dictionary's residual, SAELens'
default (``use_matryoshka_aux_loss=False``). Inference is BatchTopK's: one threshold for every
latent, saved as a ``jumprelu`` SAE, as SAELens saves its Matryoshka SAEs.
"""

from __future__ import annotations

from supviz.sae.architectures.batchtopk import BatchTopK


def nested_losses(f, P, x, widths):
    """The inner levels' reconstruction losses ``[k, len(widths) - 1]``: level l's ``mean_b ||x_b -
    (f_b[:m_l] W_dec[:m_l] + b_dec)||^2`` for every width but the last (the whole dictionary).

    ``f [k, B, d_sae]``, ``x [k, B, d_in]``; each prefix adds its band ``f[..., m_{l-1}:m_l] W_dec[m_{l-1}:m_l]``
    to the one before (as SAELens' ``_iterable_decode`` does), one product per band and instance.
    """
    import torch

    from supviz.runtime.products import matmul

    decoded = P["b_dec"][:, None, :].expand_as(x)
    out = []
    prev = 0
    for width in widths[:-1]:
        band = f[..., prev:width].contiguous()  # (k, B, m_l - m_{l-1})
        decoded = decoded + matmul(band, P["W_dec"][:, prev:width, :])  # (k, B, d_in)
        out.append((decoded - x).pow(2).sum(-1).mean(-1))  # (k,)
        prev = width
    if not out:
        return torch.zeros(x.shape[0], 0, dtype=x.dtype, device=x.device)
    return torch.stack(out, dim=1)


class MatryoshkaBatchTopK(BatchTopK):
    """BatchTopK codes with a reconstruction loss per nested prefix of the dictionary (Bussmann et al. 2025)."""

    name = "matryoshka_batchtopk"

    def __init__(self, config, d_in, d_sae):
        super().__init__(config, d_in, d_sae)
        self.widths = config.resolve_matryoshka_widths(d_sae)

    def residual_terms(self, f, pre, x, x_hat, P, ctx):
        terms = super().residual_terms(f, pre, x, x_hat, P, ctx)
        terms["matryoshka"] = nested_losses(f, P, x, self.widths).sum(-1)
        return terms
