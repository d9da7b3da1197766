"""SAE architectures, one module each, named as in its paper, over the shared base (:mod:`.base`).

=====================  ==========================================================================
``relu_l1``            Sharkey, Braun & Millidge (2022), "Taking features out of superposition
                       with sparse autoencoders": ReLU encoder, MSE + L1, unit-norm decoder rows
                       renormalised every step.
``relu_l1_decnorm``    Anthropic (2024), "Circuits Updates - April 2024": L1 weighted by the
                       decoder rows' norms, unconstrained decoder, encoder = decoder transpose,
                       L1 warm-up, gradient clipping, linear learning-rate decay.
``topk``               Gao et al. (2024), "Scaling and evaluating sparse autoencoders": TopK
                       activation and the AuxK loss on dead latents.
``batchtopk``          Bussmann, Leask & Nanda (2024), "BatchTopK sparse autoencoders": top
                       ``k * batch`` activations over a batch; a global threshold at inference.
``jumprelu``           Rajamanoharan et al. (2024), "Jumping ahead: improving reconstruction
                       fidelity with JumpReLU sparse autoencoders": JumpReLU with straight-through
                       rectangle-kernel pseudo-derivatives and an L0 penalty.
``matryoshka_batchtopk`` Bussmann et al. (2025), "Learning multi-level features with Matryoshka
                       sparse autoencoders": BatchTopK codes, one reconstruction loss per nested
                       prefix of the dictionary.
=====================  ==========================================================================

The registry imports an architecture's module (and torch) only when it is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from supviz.core.validation import check_choice
from supviz.sae.config import ARCHITECTURES

if TYPE_CHECKING:  # pragma: no cover
    from supviz.sae.architectures.base import Architecture

_CLASSES = {
    "relu_l1": ("relu_l1", "ReluL1"),
    "relu_l1_decnorm": ("relu_l1_decnorm", "ReluL1DecNorm"),
    "topk": ("topk", "TopK"),
    "batchtopk": ("batchtopk", "BatchTopK"),
    "jumprelu": ("jumprelu", "JumpReLU"),
    "matryoshka_batchtopk": ("matryoshka_batchtopk", "MatryoshkaBatchTopK"),
}


def architecture_class(name: str) -> "type[Architecture]":
    """The :class:`~supviz.sae.architectures.base.Architecture` subclass of ``name``."""
    check_choice("architecture", name, ARCHITECTURES)
    module, cls = _CLASSES[name]
    return getattr(importlib.import_module(f"supviz.sae.architectures.{module}"), cls)


__all__ = ["architecture_class"]
