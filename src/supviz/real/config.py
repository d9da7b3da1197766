"""The settings of the real-network experiment: :class:`RealConfig` (the study's ``[real]`` table).

One dataclass serves ``supviz run`` (the ``[real]`` table of the study config), ``supviz real``
(its flags) and notebook use. Every value is checked in ``__post_init__``; messages name the TOML
key (``real.widths``). ``full = true`` turns the small default into the full sweep
(:meth:`RealConfig.resolved`): more widths, every SAE architecture, every picture method over
the sweep and every toy cell in the calibration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from supviz.core.validation import check_choice, check_float, check_int
from supviz.errors import SupvizError

METHODS = ("mds", "umap", "tsne")

#: What ``full = true`` sets (the rest keeps the table's values).
FULL_SWEEP: dict[str, Any] = {
    "widths": [4, 6, 8, 12, 16, 24, 32, 48, 64],
    "autoencoder_widths": [4, 6, 8, 12, 16, 24, 32],
    "architectures": ["relu_l1", "relu_l1_decnorm", "topk", "batchtopk", "jumprelu"],
    "sweep_methods": ["mds", "umap", "tsne"],
    "calibration_hidden": [],
    "replicates": 5,
}


def _ints(name: str, value: Any, *, min_value: int = 1, allow_empty: bool = False) -> list[int]:
    if not isinstance(value, (list, tuple)) or (not value and not allow_empty):
        raise SupvizError(f"`{name}` must be a {'' if allow_empty else 'non-empty '}list of ints; got {value!r}.")
    out = [check_int(f"{name}[{i}]", v, min_value=min_value) for i, v in enumerate(value)]
    if len(set(out)) != len(out):
        raise SupvizError(f"`{name}` must not repeat a value; got {out}.")
    return out


def _choices(name: str, value: Any, choices: tuple[str, ...], *, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, (list, tuple)) or (not value and not allow_empty):
        raise SupvizError(
            f"`{name}` must be a {'' if allow_empty else 'non-empty '}list of {', '.join(choices)}; got {value!r}."
        )
    out = [check_choice(f"{name}[{i}]", v, choices) for i, v in enumerate(value)]
    if len(set(out)) != len(out):
        raise SupvizError(f"`{name}` must not repeat a value; got {out}.")
    return out


def _options(value: Any, architectures: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``real.sae_options``: a table of tables, architecture -> SAEConfig fields, each checked by SAEConfig."""
    from supviz.real.layer import SAESettings

    if not isinstance(value, dict):
        raise SupvizError(f"`real.sae_options` must be a table of architecture tables; got {value!r}.")
    out = {}
    for arch, opts in value.items():
        check_choice("real.sae_options key", arch, architectures)
        if not isinstance(opts, dict):
            raise SupvizError(f"`real.sae_options.{arch}` must be a table of SAEConfig fields; got {opts!r}.")
        try:
            SAESettings(architecture=arch, options=dict(opts))
        except SupvizError as exc:
            raise SupvizError(f"`real.sae_options.{arch}`: {exc}") from None
        out[arch] = dict(opts)
    return out


@dataclass
class RealConfig:
    """Section F: a classifier and an autoencoder trained on scikit-learn's digits, their hidden layers
    pictured raw and through SAEs, measured, and calibrated on toy cells."""

    widths: list[int] = field(default_factory=lambda: [4, 8, 16, 32, 64])
    """Hidden widths of the classifier MLP 64 -> w -> 10 (the width sweep)."""
    autoencoder_widths: list[int] = field(default_factory=lambda: [4, 8, 16, 32])
    """Hidden widths of the toy-shaped autoencoder x' = ReLU(W W^T x + b) on the 64 pixels."""
    replicates: int = 3
    """Models per (kind, width), each with its own seed (accuracy spread); replicate 0 is pictured and measured."""
    picture_width: int = 16
    """The width whose hidden layers F1 pictures (must be among `widths`)."""
    test_fraction: float = 0.2
    """Held-out share of the digits (stratified by class): the test accuracy, the SAE measures and every picture."""
    steps: int = 600
    """Adam steps of every model."""
    batch_size: int = 128
    """Rows per model step."""
    lr: float = 0.005
    """Adam learning rate of the models."""
    architectures: list[str] = field(default_factory=lambda: ["relu_l1"])
    """SAE architectures (supviz.sae); the first one's codes are pictured and read through the calibration."""
    sae_expansion: float = 2.0
    """SAE latents per dimension of a layer (Bereska et al. use 2)."""
    sae_larger: float = 2.0
    """The larger dictionary (for its stability) has this many times the latents."""
    sae_seeds: int = 2
    """SAEs per layer with different seeds (for the stability across seeds)."""
    sae_steps: int = 400
    """Steps of every SAE (digits layers and calibration cells alike)."""
    sae_batch_size: int = 128
    """Rows per SAE step."""
    sae_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per architecture, further supviz.sae.SAEConfig fields,
    e.g. {topk = {k = 2}, relu_l1 = {l1_coefficient = 1.0}}."""
    methods: list[str] = field(default_factory=lambda: ["mds", "umap", "tsne"])
    """Picture methods of F1 (the hidden layers at `picture_width`)."""
    sweep_methods: list[str] = field(default_factory=lambda: ["umap"])
    """Picture methods over the width sweep (F2)."""
    k: int = 10
    """Neighbourhood size of k-NN label accuracy, trustworthiness and continuity."""
    folds: int = 5
    """Cross-validation folds of the k-NN label accuracy."""
    calibration_hidden: list[int] = field(default_factory=lambda: [5, 10, 20])
    """Hidden sizes m of the section-2 toy cells in the calibration (every p and importance of them); [] = all (also
    when none of them is in the grid, with a note)."""
    full: bool = False
    """The full sweep: widths 4-64 in finer steps, every SAE architecture, every method over the sweep, every toy
    cell."""

    def __post_init__(self) -> None:
        from supviz.sae.config import ARCHITECTURES

        self.widths = _ints("real.widths", self.widths)
        self.autoencoder_widths = _ints("real.autoencoder_widths", self.autoencoder_widths)
        self.replicates = check_int("real.replicates", self.replicates, min_value=1)
        self.picture_width = check_int("real.picture_width", self.picture_width, min_value=1)
        self.test_fraction = check_float("real.test_fraction", self.test_fraction, min_value=0.05, max_value=0.5)
        self.steps = check_int("real.steps", self.steps, min_value=1)
        self.batch_size = check_int("real.batch_size", self.batch_size, min_value=1)
        self.lr = check_float("real.lr", self.lr, min_value=0.0, min_inclusive=False)
        self.architectures = _choices("real.architectures", self.architectures, ARCHITECTURES)
        self.sae_expansion = check_float("real.sae_expansion", self.sae_expansion, min_value=0.0, min_inclusive=False)
        self.sae_larger = check_float("real.sae_larger", self.sae_larger, min_value=1.0, min_inclusive=False)
        self.sae_seeds = check_int("real.sae_seeds", self.sae_seeds, min_value=2)
        self.sae_steps = check_int("real.sae_steps", self.sae_steps, min_value=1)
        self.sae_batch_size = check_int("real.sae_batch_size", self.sae_batch_size, min_value=1)
        self.sae_options = _options(self.sae_options, ARCHITECTURES)
        self.methods = _choices("real.methods", self.methods, METHODS)
        self.sweep_methods = _choices("real.sweep_methods", self.sweep_methods, METHODS, allow_empty=True)
        self.k = check_int("real.k", self.k, min_value=1)
        self.folds = check_int("real.folds", self.folds, min_value=2)
        self.calibration_hidden = _ints("real.calibration_hidden", self.calibration_hidden, allow_empty=True)
        if not isinstance(self.full, bool):
            raise SupvizError(f"`real.full` must be true or false; got {self.full!r}.")
        widths = FULL_SWEEP["widths"] if self.full else self.widths
        if self.picture_width not in widths:
            raise SupvizError(f"`real.picture_width` must be one of `real.widths` {widths}; got {self.picture_width}.")
        # a TopK SAE keeps k latents: its dictionary must hold them at the narrowest width
        from supviz.sae.config import DEFAULTS

        archs = FULL_SWEEP["architectures"] if self.full else self.architectures
        narrowest = min(min(widths), min(FULL_SWEEP["autoencoder_widths"] if self.full else self.autoencoder_widths))
        for arch in archs:
            k = self.sae_options.get(arch, {}).get("k", DEFAULTS[arch].get("k"))
            if k is not None and int(self.sae_expansion * narrowest) < k:
                raise SupvizError(
                    f"`real.sae_expansion` = {self.sae_expansion:g} gives {int(self.sae_expansion * narrowest)} "
                    f"latents at width {narrowest}, fewer than {arch}'s k = {k}; raise it or drop {arch}."
                )

    def need(self) -> Any:
        """The floor of memory and arithmetic of the digits models and the SAEs on the widest layer
        (:class:`supviz.core.resources.Need`).

        Every model of every width and replicate trains in one batched job (:mod:`supviz.real.models`), so
        all are held at once: per model its parameters four times (values, gradients, Adam's two moments;
        the classifier ``pixels -> w -> classes`` has ``(pixels + classes) w + w + classes``, the autoencoder
        ``W [pixels, w]`` and ``b [pixels]``) and ``3 B w`` for a batch's hidden layer and its gradient;
        once, the hidden layer of every image at the widest width (``N w``, what is pictured), float32.
        Arithmetic, per model and step: ``6 B (pixels + classes) w`` (classifier), ``6 B pixels w``
        (autoencoder; a floor of its ``x W W^T``). Plus ``sae_seeds`` of the larger SAE on the widest layer
        (:func:`supviz.sae.engine.training_need`, ``sae_expansion x sae_larger x w`` latents).
        """
        import math

        from supviz.core.resources import F32, Need
        from supviz.real.data import DIGITS_SHAPE
        from supviz.sae.config import SAEConfig
        from supviz.sae.engine import training_need

        cfg = self.resolved()
        n, pixels, classes = DIGITS_SHAPE
        B, r = cfg.batch_size, cfg.replicates
        w = max(*cfg.widths, *cfg.autoencoder_widths)
        models = [((pixels + classes) * v + v + classes, (pixels + classes) * v) for v in cfg.widths]
        models += [(pixels * v + pixels, pixels * v) for v in cfg.autoencoder_widths]
        widths = [*cfg.widths, *cfg.autoencoder_widths]
        mem = r * sum(F32 * (4 * params + 3 * B * v) for (params, _), v in zip(models, widths)) + F32 * n * w
        flops = float(r) * sum(6.0 * B * per_step for _, per_step in models) * cfg.steps
        count = len(widths) * r
        mlp = Need(float(mem), flops, f"{count} digits models of width up to {w} (batch {B}, {cfg.steps} steps)")
        sae = training_need(
            w,
            math.ceil(cfg.sae_expansion * cfg.sae_larger * w),
            batch_size=cfg.sae_batch_size,
            steps=cfg.sae_steps,
            log_every=SAEConfig().log_every,
            count=cfg.sae_seeds,
            what="the larger SAEs",
        )
        return mlp + sae

    def resolved(self) -> "RealConfig":
        """The config that runs: with ``full``, the :data:`FULL_SWEEP` values in place."""
        if not self.full:
            return self
        return dataclasses.replace(self, **{k: list(v) if isinstance(v, list) else v for k, v in FULL_SWEEP.items()})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
