"""SAEs on a layer's activations and their quality without ground truth: :func:`train_layer_saes`.

A *layer* is any activations array ``[N, d]``: a digits model's hidden layer, a toy cell's
``h = x W`` (the calibration, :mod:`supviz.real.calibration`) or a user's own activations. For
each layer the same recipe (:class:`SAESettings`) trains ``seeds`` SAEs of ``expansion_factor * d``
latents with different seeds and one with ``larger_factor`` times as many latents, every layer
of a call in one batched :func:`supviz.sae.train_saes` job. Each layer is then measured on held-out
rows (``H_eval``) by what needs no ground truth (:mod:`supviz.real.measures`): FVU, L0 and the
dead fraction (:func:`supviz.sae.score`, means over the seeds), the stability of the decoder
across seeds and against the larger dictionary, and Bereska et al.'s effective feature count
``F`` (mean over the seeds) with the superposition ratio ``psi = F / d``.

Seeds: layer ``label``'s SAE ``j`` (``j = seeds`` is the larger one) starts from
``child(seed, crc32(label), j, 0)`` and shuffles its rows from ``child(seed, crc32(label), j, 1)``:
a layer's SAEs do not depend on which other layers train beside them.
"""

from __future__ import annotations

import dataclasses
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, child
from supviz.core.validation import check_array, check_choice, check_float, check_int
from supviz.errors import SupvizError
from supviz.real.measures import Measures, _put, dictionary_mmcs, effective_features, seed_stability

log = logging.getLogger(__name__)

#: The keys of :attr:`LayerSAEs.quality`, in order.
QUALITY_KEYS = (
    "fvu",
    "l0",
    "dead_fraction",
    "stability_seeds",
    "stability_larger",
    "effective_features",
    "superposition_ratio",
)

#: What each quality key means (for tables and captions).
QUALITY_DOCS = {
    "fvu": "fraction of variance unexplained on held-out rows (mean over seeds)",
    "l0": "mean firing latents per held-out row (mean over seeds)",
    "dead_fraction": "share of latents that never fire on the held-out rows (mean over seeds)",
    "stability_seeds": "decoder MMCS between SAEs of different seeds (symmetrised, mean over pairs)",
    "stability_larger": "decoder MMCS of the seed-0 SAE against an SAE with a larger dictionary",
    "effective_features": "Bereska et al.'s F = exp(H) of the codes' activation mass (mean over seeds)",
    "superposition_ratio": "psi = F / d, effective features per dimension of the layer",
}


@dataclass(frozen=True)
class SAESettings:
    """The SAE recipe of every layer (and of the calibration cells, so the two compare)."""

    architecture: str = "relu_l1"
    """Any of supviz.sae.ARCHITECTURES; relu_l1 (Sharkey et al. 2022) is the SAE Bereska et al. count features with."""
    expansion_factor: float = 2.0
    """Latents per dimension of the layer (Bereska et al. use 2)."""
    larger_factor: float = 2.0
    """The larger dictionary has larger_factor x expansion_factor latents per dimension."""
    seeds: int = 2
    """SAEs with different seeds per layer (stability across seeds needs 2)."""
    steps: int = 400
    """Optimiser steps of every SAE."""
    batch_size: int = 128
    """Rows per step."""
    options: dict[str, Any] = field(default_factory=dict)
    """Further supviz.sae.SAEConfig fields of the architecture (e.g. {"k": 2} for topk, {"l1_coefficient": 1.0} for
    relu_l1)."""

    def __post_init__(self) -> None:
        from supviz.sae.config import ARCHITECTURES

        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("architecture", check_choice("architecture", self.architecture, ARCHITECTURES))
        set_(
            "expansion_factor",
            check_float("expansion_factor", self.expansion_factor, min_value=0.0, min_inclusive=False),
        )
        set_("larger_factor", check_float("larger_factor", self.larger_factor, min_value=1.0, min_inclusive=False))
        set_("seeds", check_int("seeds", self.seeds, min_value=1))
        set_("steps", check_int("steps", self.steps, min_value=1))
        set_("batch_size", check_int("batch_size", self.batch_size, min_value=1))
        from supviz.core.config import field_names, table_keys
        from supviz.sae.config import SAEConfig

        set_("options", table_keys("options", self.options, field_names(SAEConfig), what="a table of SAEConfig fields"))
        for key in ("architecture", "expansion_factor", "d_sae", "steps", "batch_size"):
            if key in self.options:
                raise SupvizError(f"`options` must not set {key!r}: it is a field of SAESettings itself.")
        self.config()  # SAEConfig checks the options against the architecture

    def config(self, *, larger: bool = False, **changes: Any) -> Any:
        """The :class:`supviz.sae.SAEConfig` of a layer's SAEs (``larger``: the larger dictionary)."""
        from supviz.sae.config import SAEConfig

        factor = self.expansion_factor * (self.larger_factor if larger else 1.0)
        return SAEConfig(
            architecture=self.architecture,
            expansion_factor=factor,
            steps=self.steps,
            batch_size=self.batch_size,
            **{**self.options, **changes},
        )

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "options": dict(self.options)}


@dataclass(eq=False)
class LayerSAEs:
    """One layer's SAEs and their quality.

    Attributes
    ----------
    label : str
    width : int
        The layer's dimension ``d``.
    saes : list[SAE]
        ``seeds`` SAEs of ``expansion_factor * d`` latents.
    larger : SAE
        The larger dictionary.
    quality : Measures
        Over :data:`QUALITY_KEYS`, on the held-out rows; NaN with a reason where undefined.
    codes : np.ndarray [M, s]
        The seed-0 SAE's codes of the held-out rows (what a picture of the SAE codes shows).
    """

    label: str
    width: int
    saes: list[Any]
    larger: Any
    quality: Measures
    codes: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def layer_seed(seed: SeedLike, label: str, j: int) -> np.random.SeedSequence:
    """The seed path of SAE ``j`` of layer ``label`` (``j = seeds``: the larger dictionary)."""
    return child(seed, zlib.crc32(label.encode("utf-8")), j)


def train_layer_saes(
    layers: Sequence[tuple[str, Any, Any]],
    settings: SAESettings | None = None,
    *,
    seed: SeedLike = 0,
    threads: int = 0,
) -> list[LayerSAEs]:
    """Train every layer's SAEs in one batched job and measure them on held-out rows.

    Parameters
    ----------
    layers : sequence of (label, H_train [N, d], H_eval [M, d])
        Distinct labels; activations as numpy or torch arrays (finite). ``H_eval`` may be
        ``H_train`` itself when nothing is held out (the measures are then in-sample).
    settings : SAESettings, optional
        Default ``SAESettings()``.
    seed : int, Generator, SeedSequence or None
        See the module docstring.
    threads : int
        Worker threads of :func:`supviz.sae.train_saes` (0 = one per CPU).

    Returns
    -------
    list[LayerSAEs]
        One per layer, in order.

    Raises
    ------
    SupvizError
        No layers, repeated labels, arrays that are not ``[N, d]`` / finite, ``H_eval`` of another width.
    """
    from supviz.sae.engine import SAEJob, train_saes
    from supviz.sae.metrics import score
    from supviz.sae.sources import ArraySource

    settings = SAESettings() if settings is None else settings
    if not isinstance(settings, SAESettings):
        raise SupvizError(f"`settings` must be a SAESettings; got {type(settings).__name__}.")
    layers = list(layers)
    if not layers:
        raise SupvizError("`layers` must hold at least one (label, H_train, H_eval); got none.")
    labels = [str(lay[0]) for lay in layers]
    if len(set(labels)) != len(labels):
        raise SupvizError("`layers` must have distinct labels; got repeats.")
    data = []
    for label, H, He in layers:
        Ht = check_array(f"{label}: H_train", H, ndim=2, dtype=np.float32)
        Hv = check_array(f"{label}: H_eval", He, ndim=2, dtype=np.float32)
        if Ht.shape[0] < 2 or Ht.shape[1] < 1 or Hv.shape[0] < 1:
            raise SupvizError(
                f"layer {label!r} must hold at least 2 training rows and 1 held-out row of >= 1 column; "
                f"got {list(Ht.shape)} and {list(Hv.shape)}."
            )
        if Hv.shape[1] != Ht.shape[1]:
            raise SupvizError(
                f"layer {label!r}: `H_eval` must have the {Ht.shape[1]} columns of `H_train`; got {Hv.shape[1]}."
            )
        data.append((str(label), Ht, Hv))
    S = settings.seeds
    jobs = []
    for label, Ht, _Hv in data:
        for j in range(S + 1):
            ss = layer_seed(seed, label, j)
            cfg = settings.config(larger=j == S)
            jobs.append(
                SAEJob(
                    ArraySource(Ht, seed=child(ss, 1), label=label),
                    cfg,
                    seed=child(ss, 0),
                    label=f"{label} {'larger' if j == S else f'seed {j}'}",
                )
            )
    trained = train_saes(jobs, threads=threads, progress=False)
    out = []
    for i, (label, Ht, Hv) in enumerate(data):
        saes = trained.saes[i * (S + 1) : i * (S + 1) + S]
        larger = trained.saes[i * (S + 1) + S]
        sc = score(saes, Hv)
        codes = [s.encode(Hv) for s in saes]
        values: dict[str, float] = {}
        reasons: dict[str, str] = {}
        for col in ("fvu", "l0", "dead_fraction"):
            v = getattr(sc, col)
            why = next((n[col] for n in sc.notes if col in n), None)
            _put(
                values,
                reasons,
                col,
                float(np.mean(v)) if np.isfinite(v).all() else np.nan,
                None if np.isfinite(v).all() else (why or "undefined for a seed"),
            )
        constant = not (Ht != Ht[:1]).any()
        if constant or not any(np.any(c) for c in codes):
            # a dead layer (every row identical) or no latent firing: one direction at most to learn,
            # the other decoder rows are their initialisations, and comparing them measures the
            # initialiser, not features
            dead = (
                "the training activations do not vary: the decoders hold one learned direction at most"
                if constant
                else "no latent of any seed fires on these inputs: the decoders hold no learned direction"
            )
            _put(values, reasons, "stability_seeds", np.nan, dead)
            _put(values, reasons, "stability_larger", np.nan, dead)
        else:
            _put(values, reasons, "stability_seeds", *seed_stability([s.W_dec for s in saes]))
            _put(values, reasons, "stability_larger", *dictionary_mmcs(saes[0].W_dec, larger.W_dec))
        counts = [effective_features(c, decoder=s.W_dec) for c, s in zip(codes, saes)]
        bad = next((r for _v, r in counts if r is not None), None)
        F = float(np.mean([v for v, _r in counts])) if bad is None else np.nan
        _put(values, reasons, "effective_features", F, bad)
        _put(values, reasons, "superposition_ratio", F / Ht.shape[1], bad)
        quality = Measures({k: values[k] for k in QUALITY_KEYS}, {k: reasons[k] for k in QUALITY_KEYS if k in reasons})
        info = {
            "n_train": int(len(Ht)),
            "n_eval": int(len(Hv)),
            "d_sae": int(saes[0].d_sae),
            "d_sae_larger": int(larger.d_sae),
            "settings": settings.to_dict(),
        }
        out.append(LayerSAEs(label, int(Ht.shape[1]), list(saes), larger, quality, codes[0], info))
    log.info("SAEs of %d layer(s): %d SAEs in %.1f s", len(data), len(jobs), trained.info["wall_seconds"])
    return out
