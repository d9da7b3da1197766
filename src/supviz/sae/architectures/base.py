"""The shared base of every SAE architecture: the weights' layout, their initialisation, the
encoder's pre-activation, the decoder, the reconstruction loss and the decoder-norm constraint.

Layout (SAELens names and shapes, with the instance axis first while training):

* ``W_enc [k, d_in, d_sae]``, ``b_enc [k, d_sae]`` -- encoder;
* ``W_dec [k, d_sae, d_in]`` (row j = latent j's direction), ``b_dec [k, d_in]`` -- decoder;
* ``pre = (x - b_dec * apply_b_dec_to_input) W_enc + b_enc``, ``f = activation(pre)``,
  ``x_hat = f W_dec + b_dec``;
* reconstruction loss ``mean_b ||x_b - x_hat_b||^2`` per instance.

An architecture adds only its activation, its sparsity / auxiliary terms and its recipe's
constraints (one module each, named after the paper's method). Initialisation (per instance,
from its own seed through a local ``torch.Generator``): decoder rows point in independent
uniformly random directions (normalised Gaussians) with norm ``decoder_init_norm``; the encoder
is the decoder's transpose (Gao et al. 2024; Anthropic's April 2024 update; Gemma Scope) unless
the architecture says otherwise; biases start at 0.

Nothing here mixes instances: every contraction and reduction runs within an instance, so an
instance's numbers do not depend on what is batched beside it. The contractions are
:func:`supviz.runtime.products.matmul` (autograd included): one product call per instance, by the
implementation fastest on this machine for its shape, so an instance's products round alike alone
and in any group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from supviz.sae.config import SAEConfig

Params = dict[str, "torch.Tensor"]

#: Use the fused numba kernels (:mod:`supviz.sae._kernels`) for float32 tensors on the CPU. Elsewhere
#: (CUDA) the same operations run as torch ops; setting this to False runs those torch paths on the
#: CPU too, which is how the tests check the CUDA code path without a GPU.
FUSED_CPU_KERNELS = True


def fused(t: "torch.Tensor") -> bool:
    """Whether ``t`` goes through the numba kernels (float32 on the CPU, and kernels enabled)."""
    import torch

    return FUSED_CPU_KERNELS and t.device.type == "cpu" and t.dtype == torch.float32


def kth_largest(x: "torch.Tensor", k: int) -> "torch.Tensor":
    """Per row of ``x [..., n]``, the k-th largest value counted with multiplicity ``[..., 1]``.

    ``-inf`` when ``k > n``. On the CPU a numba kernel (one pass per row; ``torch.topk`` is ~8x
    slower for the small k and short rows of SAEs on toy data), elsewhere ``torch.topk``; both
    give the same value. Keeping ``x >= kth_largest(x, k)`` keeps exactly k entries unless the
    k-th value is tied, when every tied entry is kept.
    """
    import torch

    n = x.shape[-1]
    if k > n:
        return torch.full_like(x[..., :1], float("-inf"))
    if fused(x):
        import numpy as np

        from supviz.sae._kernels import kth_largest_rows

        flat = x.detach().reshape(-1, n).contiguous()
        out = np.empty(flat.shape[0], dtype=np.float32)
        kth_largest_rows(flat.numpy(), int(k), out)
        return torch.from_numpy(out).view(*x.shape[:-1], 1)
    return torch.topk(x.detach(), int(k), dim=-1, sorted=True).values[..., -1:]


def topk_mask(pre: "torch.Tensor", k: int) -> "torch.Tensor":
    """Boolean mask of the latents TopK keeps: ``pre >= k-th largest`` per sample (``[..., d_sae]``)."""
    import torch

    if k >= pre.shape[-1]:
        return torch.ones_like(pre, dtype=torch.bool)
    return pre >= kth_largest(pre, k)


def encoder_bias(
    W_enc: "torch.Tensor", b_enc: "torch.Tensor", b_dec: "torch.Tensor", apply_b_dec: bool
) -> "torch.Tensor":
    """The encoder's effective bias ``[k, d_sae]``: ``b_enc - b_dec W_enc`` when the input is centred
    on ``b_dec`` (so ``(x - b_dec) W_enc + b_enc = x W_enc + (b_enc - b_dec W_enc)``), else ``b_enc``.

    Folding the centring into the bias saves a ``[k, B, d_sae] x [k, d_sae, d_in]`` product in the
    backward pass (the gradient of ``b_dec`` then flows through a ``[k, d_sae]`` bias).
    """
    from supviz.runtime.products import matmul

    if not apply_b_dec:
        return b_enc
    return b_enc - matmul(b_dec[:, None, :], W_enc)[:, 0, :]


class Architecture:
    """One SAE recipe over the shared layout. Subclasses set the class attributes and implement
    :meth:`activation_and_terms` (and, where needed, :meth:`extra_params`, :meth:`init_state`,
    :meth:`after_step`, :meth:`export`).

    Parameters
    ----------
    config : SAEConfig
        The group's config (per-instance coefficients and learning rates come separately).
    d_in, d_sae : int
    """

    #: The method's name (:data:`supviz.sae.config.ARCHITECTURES`).
    name: ClassVar[str] = ""
    #: The ``architecture`` of its inference form in SAELens' cfg.json.
    saelens_architecture: ClassVar[str] = "standard"
    #: Subtract ``b_dec`` from the input before encoding.
    apply_b_dec_to_input: ClassVar[bool] = False
    #: Keep decoder rows at unit norm (renormalised after every step).
    unit_norm_decoder: ClassVar[bool] = True
    #: Remove the gradient component parallel to each (unit) decoder row before the step.
    project_decoder_grad: ClassVar[bool] = True
    #: ``"transpose"`` (encoder = decoder transpose) or ``"uniform"`` (``nn.Linear``'s default).
    encoder_init: ClassVar[str] = "transpose"
    #: The activation of the inference form: ``"relu"``, ``"topk"`` or ``"jumprelu"``.
    inference_activation: ClassVar[str] = "relu"

    def __init__(self, config: "SAEConfig", d_in: int, d_sae: int) -> None:
        self.config = config
        self.d_in = d_in
        self.d_sae = d_sae

    # -- parameters ---------------------------------------------------------------------------

    def init_params(self, generator: "torch.Generator") -> Params:
        """One instance's initial parameters (CPU, float32), drawn from ``generator`` only."""
        import torch

        d, s = self.d_in, self.d_sae
        W_dec = torch.randn(s, d, generator=generator, dtype=torch.float32)
        norms = W_dec.norm(dim=1, keepdim=True)
        W_dec = W_dec / torch.where(norms > 0, norms, torch.ones_like(norms)) * self.config.decoder_init_norm
        if self.encoder_init == "transpose":
            W_enc = W_dec.T.contiguous().clone()
        else:  # nn.Linear(d, s)'s default: U(-1/sqrt(d), 1/sqrt(d))
            bound = 1.0 / d**0.5
            W_enc = (torch.rand(d, s, generator=generator, dtype=torch.float32) * 2.0 - 1.0) * bound
        params = {
            "W_enc": W_enc,
            "b_enc": torch.zeros(s),
            "W_dec": W_dec,
            "b_dec": torch.zeros(d),
        }
        params.update(self.extra_params())
        return params

    def extra_params(self) -> Params:
        """Trainable parameters beyond the four shared ones (one instance)."""
        return {}

    def init_state(self, k: int, device: "torch.device") -> dict[str, "torch.Tensor"]:
        """Non-trainable state of a group of ``k`` instances (e.g. a moving threshold)."""
        return {}

    # -- the forward pass ---------------------------------------------------------------------

    def pre_activation(self, x: "torch.Tensor", P: Params) -> "torch.Tensor":
        """``(x - b_dec) W_enc + b_enc`` (without ``- b_dec`` unless the recipe subtracts it): ``[k, B, d_sae]``,
        computed as ``x W_enc + encoder_bias(...)``."""
        from supviz.runtime.products import matmul

        bias = encoder_bias(P["W_enc"], P["b_enc"], P["b_dec"], self.apply_b_dec_to_input)
        return matmul(x, P["W_enc"]) + bias[:, None, :]

    @staticmethod
    def decode(f: "torch.Tensor", P: Params) -> "torch.Tensor":
        """``f W_dec + b_dec``: ``[k, B, d_in]``."""
        from supviz.runtime.products import matmul

        return matmul(f, P["W_dec"]) + P["b_dec"][:, None, :]

    @staticmethod
    def mse(x_hat: "torch.Tensor", x: "torch.Tensor") -> "torch.Tensor":
        """``mean_b ||x_b - x_hat_b||^2`` per instance ``[k]``."""
        return (x_hat - x).pow(2).sum(-1).mean(-1)

    def activation_and_terms(
        self, pre: "torch.Tensor", x: "torch.Tensor", P: Params, S: dict[str, "torch.Tensor"], ctx: dict[str, Any]
    ) -> tuple["torch.Tensor", dict[str, "torch.Tensor"]]:
        """Training-time codes ``f [k, B, d_sae]`` and the extra loss terms ``{name: [k]}``.

        ``ctx`` holds ``coefficient [k]`` (the sparsity weight at this step, warm-up included),
        ``dead [k, d_sae]`` (latents dead by the AuxK rule) and ``step``. Terms that need the
        reconstruction (AuxK) are added in :meth:`residual_terms`.
        """
        raise NotImplementedError

    def residual_terms(
        self,
        f: "torch.Tensor",
        pre: "torch.Tensor",
        x: "torch.Tensor",
        x_hat: "torch.Tensor",
        P: Params,
        ctx: dict[str, Any],
    ) -> dict[str, "torch.Tensor"]:
        """Loss terms that need the reconstruction (AuxK); none by default."""
        return {}

    def after_step(self, f: "torch.Tensor", P: Params, S: dict[str, "torch.Tensor"]) -> None:
        """Update non-trainable state after the optimiser step (no gradients)."""

    def project(self, P: Params) -> None:
        """Project the parameters back onto their constraint set after every optimiser step, in place and
        without gradients (both the torch and the fused path); nothing by default."""

    # -- the inference form -------------------------------------------------------------------

    def export(self, P: Params, S: dict[str, "torch.Tensor"], index: int) -> dict[str, Any]:
        """Instance ``index``'s inference activation: ``{"activation": ..., "k": ..., "threshold": ...}`` (numpy)."""
        return {"activation": self.inference_activation, "k": None, "threshold": None}
