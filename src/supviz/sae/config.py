"""How to train one sparse autoencoder: :class:`SAEConfig`.

Every field has a docstring (``supviz sae --help`` reads them back through
:func:`supviz.toy.config.field_docs`). Fields that belong to some architectures only default to
``None``; ``__post_init__`` puts the architecture's default in their place (so a saved config
shows the number that was used) and refuses a value given to an architecture it does not apply
to, instead of ignoring it silently.

Conventions shared by every architecture (the papers differ in how they scale their losses, so
the numbers of one paper do not carry over to another without these):

* inputs are rescaled per instance by a constant ``s`` so that ``E||s x||^2 = d_in`` (Anthropic's
  April 2024 update; SAELens ``normalize_activations="expected_average_only_in"``); the scale is
  folded back into the weights after training, so a trained SAE takes raw inputs and its codes
  are in the inputs' units (``normalize_activations=False`` turns this off);
* the reconstruction term is ``mean_b ||x_b - x_hat_b||^2`` (summed over the input dimensions,
  averaged over the batch), as in SAELens; sparsity terms are averaged over the batch too.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from supviz.core.validation import check_choice, check_float, check_int, fail
from supviz.errors import SupvizError
from supviz.toy.config import keyword_checked

#: The architectures, each named as in its paper (see :mod:`supviz.sae.architectures`).
ARCHITECTURES = ("relu_l1", "relu_l1_decnorm", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk")
#: Each architecture's name as its paper writes it (what a reader sees in tables and captions).
ARCHITECTURE_NAMES = {
    "relu_l1": "ReLU + L1",
    "relu_l1_decnorm": "ReLU + decoder-norm L1",
    "topk": "TopK",
    "batchtopk": "BatchTopK",
    "jumprelu": "JumpReLU",
    "matryoshka_batchtopk": "Matryoshka BatchTopK",
}

#: Per-architecture defaults of the fields that default to ``None``. Chosen on the planted
#: dictionaries of the tests and the toy cells of the study (docs/benchmarks.md, "supviz.sae").
DEFAULTS: dict[str, dict[str, Any]] = {
    "relu_l1": {"l1_coefficient": 0.3, "decoder_init_norm": 1.0, "lr_decay_fraction": 0.0, "grad_clip": 0.0},
    "relu_l1_decnorm": {
        "l1_coefficient": 0.3,
        "l1_warmup_fraction": 0.05,
        "decoder_init_norm": 0.1,
        "lr_decay_fraction": 0.2,
        "grad_clip": 1.0,
    },
    "topk": {
        "k": 4,
        "aux_coefficient": 1.0 / 32.0,
        "dead_after": 50_000,
        "decoder_init_norm": 1.0,
        "lr_decay_fraction": 0.0,
        "grad_clip": 0.0,
    },
    "batchtopk": {
        "k": 2,
        "aux_coefficient": 1.0 / 32.0,
        "dead_after": 50_000,
        "threshold_lr": 0.01,
        "decoder_init_norm": 1.0,
        "lr_decay_fraction": 0.0,
        "grad_clip": 0.0,
    },
    "jumprelu": {
        "l0_coefficient": 1.0,
        "bandwidth": 0.05,
        "init_threshold": 0.05,
        # SAELens 6.54's recipe (issue 20, docs/benchmarks.md): free decoder rows, theta trained itself, the
        # gradient clipped to norm 1; ahead of the paper's (unit-norm rows, log theta, no clipping) by MCC
        # +0.059 / +0.046 on supviz.sae.synth's 'flat' / 'cpu' presets, on every one of 3 seeds
        "free_decoder": True,
        "threshold_param": "linear",
        "decoder_init_norm": 1.0,
        "lr_decay_fraction": 0.0,
        "grad_clip": 1.0,
    },
}

#: Matryoshka SAEs train BatchTopK codes (Bussmann et al. 2025): BatchTopK's defaults.
DEFAULTS["matryoshka_batchtopk"] = dict(DEFAULTS["batchtopk"])

#: ``k = "data"``: TopK / BatchTopK's k follows from the data when training starts (:func:`data_k`).
DATA_K = "data"

#: Which architecture-specific field applies to which architectures.
_APPLIES: dict[str, tuple[str, ...]] = {
    "l1_coefficient": ("relu_l1", "relu_l1_decnorm"),
    "l1_warmup_fraction": ("relu_l1_decnorm",),
    "k": ("topk", "batchtopk", "matryoshka_batchtopk"),
    "aux_k": ("topk", "batchtopk", "matryoshka_batchtopk"),
    "aux_coefficient": ("topk", "batchtopk", "matryoshka_batchtopk"),
    "dead_after": ("topk", "batchtopk", "matryoshka_batchtopk"),
    "threshold_lr": ("batchtopk", "matryoshka_batchtopk"),
    "matryoshka_widths": ("matryoshka_batchtopk",),
    "l0_coefficient": ("jumprelu",),
    "bandwidth": ("jumprelu",),
    "init_threshold": ("jumprelu",),
    "free_decoder": ("jumprelu",),
    "threshold_param": ("jumprelu",),
}

#: JumpReLU's threshold parametrisations: ``log theta`` (the paper's) or ``theta`` itself (SAELens 6.54's).
THRESHOLD_PARAMS = ("log", "linear")

#: What a saved config that lacks a field was trained with (the field did not exist yet, and the recipe was the one
#: its default then named): JumpReLU's unit-norm decoder rows and log theta, before issue 20 made SAELens' the default.
_BEFORE_FIELD: dict[str, dict[str, Any]] = {"jumprelu": {"free_decoder": False, "threshold_param": "log"}}

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


@keyword_checked
@dataclass(frozen=True)
class SAEConfig:
    """How to train one sparse autoencoder (many share one job; see :func:`supviz.sae.train_saes`).

    Parameters are checked once, here; a field that does not apply to ``architecture`` must stay
    ``None``. ``d_sae`` (or ``expansion_factor``) and the per-instance scale are resolved against
    the data when training starts.
    """

    architecture: str = "topk"
    """'relu_l1' (Sharkey et al. 2022), 'relu_l1_decnorm' (Anthropic, April 2024), 'topk' (Gao et al. 2024),
    'batchtopk' (Bussmann et al. 2024), 'jumprelu' (Rajamanoharan et al. 2024) or 'matryoshka_batchtopk' (Bussmann et
    al. 2025)."""
    d_sae: int | None = None
    """Dictionary size (number of latents); None: ceil(expansion_factor * d_in)."""
    expansion_factor: float = 4.0
    """Latents per input dimension when d_sae is None."""
    steps: int = 2000
    """Optimiser steps; each draws a fresh batch (a stream) or the next minibatch (an array, reshuffled every epoch)."""
    batch_size: int = 256
    """Samples per step and instance (an array with fewer rows trains on all of them each step; the clamp is logged and
    recorded)."""
    lr: float = 3e-3
    """Adam learning rate (no weight decay)."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam (beta1, beta2)."""
    eps: float = 1e-8
    """Adam epsilon."""
    lr_warmup_steps: int = 0
    """Steps of linear learning-rate warm-up from 0."""
    lr_decay_fraction: float | None = None
    """Fraction of training at the end over which the learning rate decays linearly to 0 (relu_l1_decnorm: 0.2, as in
    Anthropic's update; others 0)."""
    grad_clip: float | None = None
    """Clip each instance's gradient to this global norm; 0 = off (relu_l1_decnorm: 1.0, as in Anthropic's update;
    jumprelu: 1.0, as SAELens' trainer clips; others 0)."""
    normalize_activations: bool = True
    """Rescale each instance's inputs by a constant so that E||x||^2 = d_in while training; folded back into the weights
    afterwards."""
    decoder_init_norm: float | None = None
    """Norm of the initial decoder rows, which point in random directions (relu_l1_decnorm: 0.1, as in Anthropic's
    update; others 1)."""
    train_decoder: bool = True
    """Train the decoder; False keeps it at its random initial directions (the chance baseline of the recovery
    scores)."""
    l1_coefficient: float | None = None
    """relu_l1 / relu_l1_decnorm: weight of the L1 penalty mean_b sum_i f_i (decnorm: f_i ||W_dec,i||) (default 0.3)."""
    l1_warmup_fraction: float | None = None
    """relu_l1_decnorm: fraction of training over which the L1 weight ramps linearly from 0 (default 0.05)."""
    k: int | str | None = None
    """topk: latents kept per sample (default 4); batchtopk: mean latents kept per sample over a batch (default 2; with
    k above the data's true L0, BatchTopK learns dense +- pairs instead of the features); 'data': from the data's true
    L0 and d_in when training starts (data_k; the study's default)."""
    aux_k: int | None = None
    """topk / batchtopk: dead latents that reconstruct the residual in the AuxK loss (default max(1, d_in // 2),
    Gao et al.'s heuristic)."""
    aux_coefficient: float | None = None
    """topk / batchtopk: weight of the AuxK loss (default 1/32, Gao et al.)."""
    dead_after: int | None = None
    """topk / batchtopk: a latent is dead for AuxK after this many samples without firing (default 50,000)."""
    threshold_lr: float | None = None
    """batchtopk: rate of the moving average of the smallest kept activation, the inference threshold (default 0.01)."""
    matryoshka_widths: tuple[int, ...] | None = None
    """matryoshka_batchtopk: sizes of the inner nested dictionaries (strictly increasing, each < d_sae; the whole
    dictionary is always the outer level); None: d_sae/8, d_sae/4, d_sae/2 rounded up (resolve_matryoshka_widths)."""
    l0_coefficient: float | None = None
    """jumprelu: weight of the L0 penalty mean_b ||f||_0 (default 1.0)."""
    bandwidth: float | None = None
    """jumprelu: width of the rectangle kernel of the straight-through pseudo-derivatives (default 0.05)."""
    init_threshold: float | None = None
    """jumprelu: initial threshold of every latent (default 0.05)."""
    free_decoder: bool | None = None
    """jumprelu: train the decoder rows unconstrained (no unit norm, no gradient projection), as SAELens 6.54 does
    (default True; False: the paper's unit-norm rows; issue 20, docs/benchmarks.md)."""
    threshold_param: str | None = None
    """jumprelu: what Adam trains for the threshold theta: 'linear' (theta itself, projected onto theta >= 0 after every
    step; SAELens 6.54; default) or 'log' (log theta, which keeps it positive; the paper's reference code)."""
    device: str = "cpu"
    """Torch device: 'cpu' or 'cuda[:N]'."""
    log_every: int = 100
    """Loss-curve resolution: each point is the mean loss over this many steps."""

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        arch = check_choice("architecture", self.architecture, ARCHITECTURES)
        if self.d_sae is not None:
            set_("d_sae", check_int("d_sae", self.d_sae, min_value=1))
        set_(
            "expansion_factor",
            check_float("expansion_factor", self.expansion_factor, min_value=0.0, min_inclusive=False),
        )
        set_("steps", check_int("steps", self.steps, min_value=1))
        set_("batch_size", check_int("batch_size", self.batch_size, min_value=1))
        set_("lr", check_float("lr", self.lr, min_value=0.0, min_inclusive=False))
        betas = self.betas
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise fail("betas", "two numbers (beta1, beta2)", betas)
        set_(
            "betas",
            tuple(
                check_float(f"betas[{i}]", b, min_value=0.0, max_value=1.0, max_inclusive=False)
                for i, b in enumerate(betas)
            ),
        )
        set_("eps", check_float("eps", self.eps, min_value=0.0, min_inclusive=False))
        set_("lr_warmup_steps", check_int("lr_warmup_steps", self.lr_warmup_steps, min_value=0))
        set_("normalize_activations", _check_bool("normalize_activations", self.normalize_activations))
        set_("train_decoder", _check_bool("train_decoder", self.train_decoder))
        if not isinstance(self.device, str) or not _DEVICE.match(self.device):
            raise fail("device", "'cpu' or 'cuda[:N]'", self.device)
        set_("log_every", check_int("log_every", self.log_every, min_value=1))
        # architecture-specific fields: refuse the ones that do not apply, default the others
        for name, archs in _APPLIES.items():
            value = getattr(self, name)
            if arch not in archs:
                if value is not None:
                    raise SupvizError(
                        f"`{name}` applies to {' / '.join(archs)} only; got {name}={value!r} with "
                        f"architecture={arch!r}."
                    )
                continue
            if value is None:
                value = DEFAULTS[arch].get(name)
            set_(name, value)
        for name in ("lr_decay_fraction", "grad_clip", "decoder_init_norm"):
            if getattr(self, name) is None:
                set_(name, DEFAULTS[arch][name])
        set_(
            "lr_decay_fraction", check_float("lr_decay_fraction", self.lr_decay_fraction, min_value=0.0, max_value=1.0)
        )
        set_("grad_clip", check_float("grad_clip", self.grad_clip, min_value=0.0))
        set_(
            "decoder_init_norm",
            check_float("decoder_init_norm", self.decoder_init_norm, min_value=0.0, min_inclusive=False),
        )
        if self.l1_coefficient is not None:
            set_("l1_coefficient", check_float("l1_coefficient", self.l1_coefficient, min_value=0.0))
        if self.l1_warmup_fraction is not None:
            set_(
                "l1_warmup_fraction",
                check_float("l1_warmup_fraction", self.l1_warmup_fraction, min_value=0.0, max_value=1.0),
            )
        if self.k is not None and self.k != DATA_K:
            if isinstance(self.k, str):
                raise fail("k", f"an int >= 1 or {DATA_K!r}", self.k)
            set_("k", check_int("k", self.k, min_value=1))
        if self.aux_k is not None:
            set_("aux_k", check_int("aux_k", self.aux_k, min_value=1))
        if self.aux_coefficient is not None:
            set_("aux_coefficient", check_float("aux_coefficient", self.aux_coefficient, min_value=0.0))
        if self.dead_after is not None:
            set_("dead_after", check_int("dead_after", self.dead_after, min_value=1))
        if self.threshold_lr is not None:
            set_(
                "threshold_lr",
                check_float("threshold_lr", self.threshold_lr, min_value=0.0, max_value=1.0, min_inclusive=False),
            )
        if self.matryoshka_widths is not None:
            set_("matryoshka_widths", _check_widths(self.matryoshka_widths))
        if self.l0_coefficient is not None:
            set_("l0_coefficient", check_float("l0_coefficient", self.l0_coefficient, min_value=0.0))
        if self.bandwidth is not None:
            set_("bandwidth", check_float("bandwidth", self.bandwidth, min_value=0.0, min_inclusive=False))
        if self.free_decoder is not None:
            set_("free_decoder", _check_bool("free_decoder", self.free_decoder))
        if self.threshold_param is not None:
            set_("threshold_param", check_choice("threshold_param", self.threshold_param, THRESHOLD_PARAMS))
        if self.init_threshold is not None:
            set_(
                "init_threshold", check_float("init_threshold", self.init_threshold, min_value=0.0, min_inclusive=False)
            )
        # across fields
        if self.lr_warmup_steps > self.steps:
            raise SupvizError(
                f"`lr_warmup_steps` must be <= `steps`; got lr_warmup_steps={self.lr_warmup_steps}, steps={self.steps}."
            )
        if self.d_sae is not None and isinstance(self.k, int) and arch == "topk" and self.k > self.d_sae:
            raise SupvizError(f"`k` must be <= `d_sae`; got k={self.k}, d_sae={self.d_sae}.")
        if self.d_sae is not None and self.matryoshka_widths is not None:
            self.resolve_matryoshka_widths(self.d_sae)

    # -- resolved against the data ------------------------------------------------------------

    def resolve_d_sae(self, d_in: int) -> int:
        """The dictionary size for inputs of ``d_in`` dimensions."""
        return self.d_sae if self.d_sae is not None else max(1, math.ceil(self.expansion_factor * d_in))

    def resolve_aux_k(self, d_in: int) -> int:
        """AuxK's count for inputs of ``d_in`` dimensions (topk / batchtopk)."""
        return self.aux_k if self.aux_k is not None else max(1, d_in // 2)

    def resolve_matryoshka_widths(self, d_sae: int) -> tuple[int, ...]:
        """matryoshka_batchtopk: every level's width, the whole dictionary ``d_sae`` last.

        The inner widths are ``matryoshka_widths``, or by default ``ceil(d_sae / 8)``, ``ceil(d_sae / 4)``,
        ``ceil(d_sae / 2)`` (a geometric series of nested sizes, as Bussmann et al. 2025 use; duplicates and
        widths >= d_sae dropped, so a dictionary of 1 latent has one level).

        Raises
        ------
        SupvizError
            A given inner width >= ``d_sae``.
        """
        if self.matryoshka_widths is None:
            return (*sorted({math.ceil(d_sae / q) for q in (8, 4, 2)} - {d_sae}), d_sae)
        if self.matryoshka_widths[-1] >= d_sae:
            raise SupvizError(
                f"`matryoshka_widths` must each be < d_sae (the whole dictionary is the outer level); got "
                f"matryoshka_widths={list(self.matryoshka_widths)}, d_sae={d_sae}."
            )
        return (*self.matryoshka_widths, d_sae)

    @property
    def sparsity_coefficient(self) -> float:
        """The weight of the architecture's sparsity penalty (L1 or L0; 0 for topk / batchtopk)."""
        if self.architecture in ("relu_l1", "relu_l1_decnorm"):
            return float(self.l1_coefficient)
        if self.architecture == "jumprelu":
            return float(self.l0_coefficient)
        return 0.0

    # -- (de)serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (tuples become lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "config") -> "SAEConfig":
        """Build a config from a mapping (a saved :meth:`to_dict`); unknown keys are an error.

        A saved config without a field that was added later gets the recipe it was trained with
        (:data:`_BEFORE_FIELD`: a jumprelu config without ``threshold_param`` trained log theta), not today's default.
        """
        from supviz.core.config import field_names, table_keys

        kw = table_keys(source, data, field_names(cls), what="a table of SAE settings")
        for name, value in _BEFORE_FIELD.get(kw.get("architecture"), {}).items():
            kw.setdefault(name, value)
        return cls(**kw)

    def replace(self, **changes: Any) -> "SAEConfig":
        """A copy with some fields changed (and checked again).

        Changing ``architecture`` resets every architecture-specific field to ``None`` (the new
        architecture's defaults) unless it is given in ``changes`` too.
        """
        if "architecture" in changes and changes["architecture"] != self.architecture:
            for name in list(_APPLIES) + ["lr_decay_fraction", "grad_clip", "decoder_init_norm"]:
                changes.setdefault(name, None)
        return dataclasses.replace(self, **changes)


def data_k(true_l0: float, d_in: int, d_sae: int) -> int:
    """TopK's (or BatchTopK's mean) k from the data: ``clamp(floor(true_l0 + 1/2), 1, min(d_in, d_sae))``.

    ``true_l0`` is the mean number of active (counted) true features per input. TopK fires exactly k
    latents per input: with k above the true L0 the spare latents fire on every input and are
    trained to split or fill in reconstructions (issue 20: TopK k = 4 on the 5 -> 2 toy, true L0
    about 0.25, scores at the chance level of random decoders), with k below it active features go
    unrepresented; Gao et al. (2024) tune k against L0, and SAELens' synthetic benchmarks set it to
    the generator's L0. More than ``d_in`` active latents are linearly dependent in ``d_in``
    dimensions, so k never exceeds ``d_in``; it never exceeds ``d_sae``; at least 1.

    Raises
    ------
    SupvizError
        ``true_l0`` not a finite number >= 0, or ``d_in`` / ``d_sae`` not ints >= 1.
    """
    true = check_float("true_l0", true_l0, min_value=0.0)
    top = min(check_int("d_in", d_in, min_value=1), check_int("d_sae", d_sae, min_value=1))
    return int(min(max(math.floor(true + 0.5), 1), top))


def applies_to(name: str) -> tuple[str, ...]:
    """The architectures an architecture-specific field applies to (all of them for a shared field)."""
    return _APPLIES.get(name, ARCHITECTURES)


def _check_widths(value: Any) -> tuple[int, ...]:
    """``matryoshka_widths`` as a tuple of strictly increasing ints >= 1 (a list from a saved config too)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) == 0:
        raise fail("matryoshka_widths", "a non-empty sequence of ints >= 1", value)
    widths = tuple(check_int(f"matryoshka_widths[{i}]", w, min_value=1) for i, w in enumerate(value))
    if any(b <= a for a, b in zip(widths, widths[1:])):
        raise fail("matryoshka_widths", "strictly increasing", list(widths))
    return widths


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(name, "True or False", value)
    return value
