"""SAEs on disk in the layout SAELens uses for pretrained SAEs: a folder with ``cfg.json`` and
``sae_weights.safetensors``.

Weights (safetensors, float32): ``W_enc [d_in, d_sae]``, ``b_enc [d_sae]``, ``W_dec [d_sae, d_in]``,
``b_dec [d_in]`` and, for ``jumprelu``, ``threshold [d_sae]``. ``cfg.json`` carries the fields
SAELens reads (``architecture`` in {``standard``, ``topk``, ``jumprelu``}, ``d_in``, ``d_sae``,
``dtype``, ``device``, ``apply_b_dec_to_input``, ``normalize_activations``, ``k`` and, for older
readers, ``activation_fn`` / ``activation_fn_kwargs``) and supviz's own record under ``"supviz"``
(the training architecture, config, seed, label), which SAELens ignores. A batchtopk SAE is saved
as a ``jumprelu`` SAE with one threshold for every latent, as SAELens saves its own. The cfg does
not claim a SAELens version, so SAELens reads it through its pre-6.0 path, which fills in the
metadata fields supviz has no values for.

:func:`read_folder` (behind :func:`supviz.sae.load`) reads such folders whether supviz or SAELens
wrote them -- SAELens' training form (``save_model``: ``rescale_acts_by_decoder_norm``, BatchTopK's
``topk_threshold``) and inference form, pre-6.0 ``activation_fn_str`` / ``activation_fn_kwargs``
configs, ``log_threshold`` and bfloat16 weights -- honouring every key of ``cfg.json`` or refusing
it by name, so an SAE trained elsewhere can be scored against known features with
:func:`supviz.sae.score` (``tests/sae/fixtures/saelens``: folders SAELens 6.54.12 wrote, with its
codes). No pickle: JSON and safetensors only. Writes are atomic (:func:`supviz.core.io.atomic_dir`).

This module knows the folder layout and reads and writes the fields of an SAE; it does not import
:class:`~supviz.sae.model.SAE` (which builds on it: ``SAE.save``, :func:`supviz.sae.model.load`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from supviz.core.io import atomic_dir, json_default
from supviz.errors import SupvizError

CFG_FILE = "cfg.json"
WEIGHTS_FILE = "sae_weights.safetensors"
FORMAT = "supviz.sae"
FORMAT_VERSION = 1
_SAELENS_ACTIVATION = {"relu": "standard", "topk": "topk", "jumprelu": "jumprelu"}


def saelens_config(sae: Any) -> dict[str, Any]:
    """The ``cfg.json`` of ``sae`` (an :class:`~supviz.sae.model.SAE`; a JSON-ready dict)."""
    arch = _SAELENS_ACTIVATION[sae.activation]
    cfg: dict[str, Any] = {
        "architecture": arch,
        "d_in": sae.d_in,
        "d_sae": sae.d_sae,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": bool(sae.apply_b_dec_to_input),
        "normalize_activations": "none",
        "reshape_activations": "none",
        "finetuning_scaling_factor": False,
        "activation_fn": "topk" if sae.activation == "topk" else "relu",
        "activation_fn_kwargs": {"k": sae.k} if sae.activation == "topk" else {},
        "model_name": "supviz",
        "hook_name": sae.label or "h",
        "hook_layer": 0,
        "hook_head_index": None,
        "supviz": {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "architecture": sae.architecture,
            "label": sae.label,
            "config": None if sae.config is None else sae.config.to_dict(),
            "info": sae.info,
            "decoder_norms": None if sae.decoder_norms is None else [float(v) for v in sae.decoder_norms],
        },
    }
    if sae.activation == "topk":
        cfg["k"] = sae.k
    return cfg


def _weights(sae: Any) -> dict[str, np.ndarray]:
    out = {"W_enc": sae.W_enc, "b_enc": sae.b_enc, "W_dec": sae.W_dec, "b_dec": sae.b_dec}
    if sae.activation == "jumprelu":
        out["threshold"] = sae.threshold  # type: ignore[assignment]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def _write(sae: Any, folder: Path) -> None:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(_weights(sae), str(folder / WEIGHTS_FILE))
    (folder / CFG_FILE).write_text(
        json.dumps(saelens_config(sae), indent=2, default=json_default) + "\n", encoding="utf-8"
    )


def write_folder(sae: Any, folder: str | os.PathLike[str]) -> Path:
    """Write ``sae`` (an :class:`~supviz.sae.model.SAE`) to ``folder`` (``cfg.json`` +
    ``sae_weights.safetensors``) atomically; return the path.

    An existing folder is replaced only once the new one is complete.
    """
    dest = Path(folder)
    _check_replaceable(dest, single=True)
    with atomic_dir(dest) as tmp:
        _write(sae, tmp)
    return dest


def save_many(saes: Sequence[Any], folder: str | os.PathLike[str], *, names: Sequence[str] | None = None) -> Path:
    """Write several SAEs as subfolders ``folder/<name>/`` (default names ``sae_000``, ...), atomically as one
    folder."""
    saes = list(saes)
    names = [f"sae_{i:03d}" for i in range(len(saes))] if names is None else list(names)
    if len(names) != len(saes):
        raise SupvizError(f"`names` must hold one name per SAE ({len(saes)}); got {len(names)}.")
    if len(set(names)) != len(names) or any(not n or "/" in n or n.startswith(".") for n in names):
        raise SupvizError("`names` must be distinct, non-empty folder names without '/' or a leading '.'.")
    dest = Path(folder)
    _check_replaceable(dest, single=False)
    with atomic_dir(dest) as tmp:
        for sae, name in zip(saes, names):
            _write(sae, tmp / name)
    return dest


def _check_replaceable(dest: Path, *, single: bool) -> None:
    """Refuse to replace a file, or a non-empty folder that is not an earlier save of the same kind."""
    if not dest.exists():
        return
    if not dest.is_dir():
        raise SupvizError(f"`folder` {str(dest)!r} exists and is not a folder.")
    entries = [q for q in dest.iterdir() if not q.name.startswith(".")]
    if not entries:
        return
    if single and is_sae_folder(dest):
        return
    if not single and all(is_sae_folder(q) for q in entries if q.is_dir()) and all(q.is_dir() for q in entries):
        return
    raise SupvizError(f"`folder` {str(dest)!r} exists and holds files other than saved SAEs; choose a new folder.")


def is_sae_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder with ``cfg.json`` and ``sae_weights.safetensors``."""
    p = Path(path)
    return p.is_dir() and (p / CFG_FILE).is_file() and (p / WEIGHTS_FILE).is_file()


#: cfg.json keys that describe an SAE without changing its codes or reconstruction: where it was
#: trained (SAELens 6.x, its pre-6.0 names, supviz's own record) and how it loads (``device``).
DESCRIPTIVE_KEYS = frozenset(
    {
        "metadata", "device", "model_name", "hook_name", "hook_layer", "hook_head_index", "hook_point",
        "hook_point_layer", "hook_point_head_index", "context_size", "prepend_bos", "dataset_path",
        "dataset_trust_remote_code", "sae_lens_version", "sae_lens_training_version", "neuronpedia_id",
        "model_from_pretrained_kwargs", "seqpos_slice", "model_class_name", "exclude_special_tokens", "supviz",
    }
)  # fmt: skip
#: Keys of SAELens' training configs (``save_model``: what its trainer checkpoints) that shape only
#: training -- losses, coefficients, initialisation, the moving threshold's rate -- never inference.
TRAINING_KEYS = frozenset(
    {
        "decoder_init_norm", "use_sparse_activations", "aux_loss_coefficient", "topk_threshold_lr", "l1_coefficient",
        "lp_norm", "l1_warm_up_steps", "jumprelu_init_threshold", "jumprelu_bandwidth",
        "jumprelu_sparsity_loss_mode", "l0_coefficient", "l0_warm_up_steps", "pre_act_loss_coefficient",
        "jumprelu_tanh_scale", "jumprelu_ste_to_input", "target_l0", "matryoshka_widths", "use_matryoshka_aux_loss",
    }
)  # fmt: skip
#: Keys that change the codes or the reconstruction; :func:`read_folder` honours each one (or refuses
#: the value by name).
HONOURED_KEYS = frozenset(
    {
        "architecture", "d_in", "d_sae", "dtype", "apply_b_dec_to_input", "normalize_activations",
        "reshape_activations", "k", "rescale_acts_by_decoder_norm", "activation_fn", "activation_fn_str",
        "activation_fn_kwargs", "finetuning_scaling_factor",
    }
)  # fmt: skip
#: SAELens architectures supviz refuses by name (their codes are no ReLU/TopK/JumpReLU of one affine map).
_REFUSED_ARCHITECTURES = {
    "gated": "a gated SAE's codes come from two encoders (gate and magnitude)",
    "abstopk": "AbsTopK codes can be negative",
    "matching_pursuit": "matching-pursuit codes are found iteratively, not by one encoder",
    "temporal": "a temporal SAE's codes depend on earlier tokens",
    "transcoder": "a transcoder maps one activation to another (d_out), not an input to itself",
    "skip_transcoder": "a transcoder maps one activation to another (d_out), not an input to itself",
    "jumprelu_transcoder": "a transcoder maps one activation to another (d_out), not an input to itself",
}
_SHARED_WEIGHTS = ("W_enc", "b_enc", "W_dec", "b_dec")


def read_folder(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The fields of an SAE (keyword arguments of :class:`~supviz.sae.model.SAE`) from a folder in
    SAELens' layout, written by supviz or by SAELens (its training form, ``save_model``, or its
    inference form, ``save_inference_model``; 6.x and pre-6.0 configs).

    Every key of ``cfg.json`` is honoured or refused by name (:data:`HONOURED_KEYS`; the ones in
    :data:`DESCRIPTIVE_KEYS` and :data:`TRAINING_KEYS` do not change the codes; any other key is
    refused, since supviz cannot tell what it does), and so is every weight:

    * ``architecture``: ``standard`` (ReLU, or a pre-6.0 ``activation_fn`` / ``activation_fn_str`` of
      ``relu`` / ``topk`` with ``activation_fn_kwargs.k``), ``topk``, ``jumprelu`` (threshold as
      ``threshold``, or ``log_threshold`` of older checkpoints, exponentiated) and ``batchtopk`` (a
      training folder: read as its inference form, as SAELens' ``save_inference_model`` writes it:
      ``f = ReLU(pre) * 1[pre > topk_threshold]`` for every latent; the batch-dependent training
      activation has no per-sample form); ``matryoshka_batchtopk`` likewise (its nested widths,
      ``matryoshka_widths``, shape only the training loss; SAELens saves it as that JumpReLU). Others
      (``gated``, ``abstopk``, transcoders, ...) are refused by name. A config without ``architecture`` is
      read as a pre-6.0 ``standard`` one (a note says so) unless it has ``k`` or ``metadata`` (SAELens 6.x
      writes ``architecture`` always and refuses a config without it): then it is refused, never read as
      another architecture. A jumprelu file holding both ``threshold`` and ``log_threshold`` is refused.
    * ``rescale_acts_by_decoder_norm`` (TopK, BatchTopK and Matryoshka BatchTopK; SAELens' training default): SAELens
      computes ``pre_j ||W_dec,j||`` before the activation and divides the codes by ``||W_dec,j||``
      before decoding. Folded exactly into the weights: ``W_enc[:, j]`` and ``b_enc[j]`` times
      ``n_j = max(||W_dec,j||, 1e-8)``, ``W_dec[j]`` divided by it (SAELens' ``_fold_norm_topk``), so
      the codes are SAELens' codes and ``codes @ W_dec + b_dec`` is SAELens' reconstruction. The norms
      ``n`` are kept as ``decoder_norms``, so the SAE's ``saelens_W_dec`` is the file's ``W_dec`` (what
      the decoder picture and its ``"decoder norm"`` show). BatchTopK's ``topk_threshold`` is in those
      rescaled units, which the fold makes the units of ``pre``. The weights' shapes are checked (naming
      the file) before any fold.
    * ``apply_b_dec_to_input`` (default true, as SAELens'), ``k``, ``d_in`` / ``d_sae`` (checked
      against the weights). Switches (``apply_b_dec_to_input``, ``rescale_acts_by_decoder_norm``,
      ``finetuning_scaling_factor``) are JSON ``true`` / ``false`` (:func:`cfg_bool`); ``null``, ``"false"``
      or 1 are refused by key name.
    * ``dtype``: float32, float64, float16 or bfloat16 (numpy's or torch's name), read as float32 (a note
      says so where it is not float32); any other is refused. Complex weights are refused by name.
    * ``normalize_activations``: ``none``; ``expected_average_only_in`` is noted (SAELens' own
      ``encode`` does not rescale either: the factor lives outside the folder); ``constant_norm_rescale``,
      ``layer_norm`` and ``covariance_whitening`` (input-dependent rescaling or a matrix not in the
      folder) are refused by name.
    * ``reshape_activations``: ``none``; ``hook_z`` is noted (supviz takes the heads flattened,
      ``[N, n_heads * d_head]``, which is what SAELens reshapes to).
    * ``finetuning_scaling_factor`` / a ``scaling_factor`` weight other than all ones: folded into
      ``W_dec`` (the reconstruction is unchanged).

    Raises
    ------
    SupvizError
        A missing folder or file, unreadable JSON or safetensors, a key, weight, architecture or value
        supviz does not honour (named), weights whose shapes disagree with each other or the config.
    """
    p = Path(folder)
    if not p.is_dir():
        raise SupvizError(f"`folder` must be an existing SAE folder (cfg.json + {WEIGHTS_FILE}); got {str(p)!r}.")
    cfg_path, w_path = p / CFG_FILE, p / WEIGHTS_FILE
    for f in (cfg_path, w_path):
        if not f.is_file():
            raise SupvizError(f"{str(p)!r} is not an SAE folder: {f.name} is missing.")
    from supviz.core.io import read_json_object

    cfg = read_json_object(cfg_path, what="an SAE config")
    return sae_fields(cfg, _read_weights(w_path), cfg_name=str(cfg_path), weights_name=str(w_path), source=str(p))


def sae_fields(
    cfg: dict[str, Any],
    W: dict[str, np.ndarray],
    *,
    cfg_name: str = "cfg",
    weights_name: str = "weights",
    source: str = "",
) -> dict[str, Any]:
    """The fields of an SAE from a SAELens config dict and its weights (name -> float32 array), read as
    :func:`read_folder` says; ``cfg_name`` / ``weights_name`` / ``source`` name them in messages and
    ``info["source"]``. ``W`` is consumed (entries popped)."""
    name = Path(source).name if source else "sae"
    unknown = sorted(set(cfg) - DESCRIPTIVE_KEYS - TRAINING_KEYS - HONOURED_KEYS)
    if unknown:
        raise SupvizError(
            f"{cfg_name!r}: cfg.json key(s) {unknown} are unknown to supviz (it reads SAELens configs up to "
            "6.54 and cannot tell whether they change the codes)."
        )
    notes: list[str] = []
    arch = _architecture(cfg, cfg_name, notes)
    if arch in _REFUSED_ARCHITECTURES:
        raise SupvizError(
            f"{cfg_name!r}: architecture {arch!r} is not supported ({_REFUSED_ARCHITECTURES[arch]}); "
            "supported: standard, topk, jumprelu, batchtopk, matryoshka_batchtopk."
        )
    act_name = cfg.get("activation_fn", cfg.get("activation_fn_str", "relu")) or "relu"
    kwargs = cfg.get("activation_fn_kwargs") or {}
    k = None
    threshold = None
    extra: tuple[str, ...] = ()
    if arch == "standard" and act_name == "relu":
        activation = "relu"
    elif arch == "topk" or (arch == "standard" and act_name == "topk"):
        activation = "topk"
        k = cfg.get("k", kwargs.get("k") if isinstance(kwargs, dict) else None)
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise SupvizError(f"{cfg_name!r}: a topk SAE needs an int `k` >= 1; got {k!r}.")
    elif arch == "jumprelu":
        activation, extra = "jumprelu", ("threshold", "log_threshold")
        if "threshold" in W and "log_threshold" in W:
            raise SupvizError(
                f"{weights_name!r} holds both `threshold` and `log_threshold`; a jumprelu SAE has one (SAELens "
                "reads `threshold` in its inference form, `log_threshold` in its training form): keep one."
            )
        if "threshold" in W:
            threshold = W.pop("threshold")
        elif "log_threshold" in W:
            threshold = np.exp(W.pop("log_threshold"))
        else:
            raise SupvizError(
                f"{weights_name!r}: a jumprelu SAE needs `threshold` (or `log_threshold`) weights; found {sorted(W)}."
            )
    elif arch in ("batchtopk", "matryoshka_batchtopk"):
        activation, extra = "jumprelu", ("topk_threshold",)
        if "topk_threshold" not in W:
            raise SupvizError(f"{weights_name!r}: a {arch} SAE needs its `topk_threshold`; found {sorted(W)}.")
        theta = np.asarray(W.pop("topk_threshold"), dtype=np.float32)
        if theta.size != 1:
            raise SupvizError(
                f"{weights_name!r}: `topk_threshold` must be one number (shape [] or [1]); got shape "
                f"{list(theta.shape)}."
            )
        theta = theta.reshape(-1)
        threshold = np.full(W["b_enc"].shape if "b_enc" in W else (0,), theta[0], dtype=np.float32)
        notes.append(
            f"{arch} training folder read as its inference form: one threshold (topk_threshold) for every latent"
        )
    elif arch == "standard":
        raise SupvizError(f"{cfg_name!r}: activation {act_name!r} is not supported; supported: relu, topk.")
    else:
        raise SupvizError(
            f"{cfg_name!r}: architecture {arch!r} is not supported; supported: standard, topk, jumprelu, batchtopk, "
            "matryoshka_batchtopk."
        )
    stray = sorted(set(W) - set(_SHARED_WEIGHTS) - set(extra) - {"scaling_factor", "finetuning_scaling_factor"})
    if stray:
        raise SupvizError(f"{weights_name!r}: weight(s) {stray} are not used by a {arch} SAE as supviz reads it.")
    for weight in _SHARED_WEIGHTS:
        if weight not in W:
            raise SupvizError(f"{weights_name!r} has no {weight!r}; found {sorted(W)}.")
    _check_normalisation(cfg, cfg_name, notes)
    dtype = cfg.get("dtype", "float32")
    if dtype not in _FLOAT_DTYPES:
        raise SupvizError(
            f"{cfg_name!r}: `dtype` must be a float dtype ({', '.join(sorted(_FLOAT_DTYPES))}); got {dtype!r}."
        )
    if dtype not in ("float32", "torch.float32"):
        notes.append(f"dtype {dtype!r} read as float32 (SAELens computes in {dtype})")
    apply_b_dec = cfg_bool(cfg, "apply_b_dec_to_input", True, cfg_name)
    rescale = cfg_bool(cfg, "rescale_acts_by_decoder_norm", False, cfg_name)
    cfg_bool(cfg, "finetuning_scaling_factor", False, cfg_name)  # the weight, where present, is what is folded
    shapes = (W["W_enc"], W["b_enc"], W["W_dec"], W["b_dec"], threshold)
    check_weight_shapes(*shapes, where=weights_name, d_in=cfg.get("d_in"), d_sae=cfg.get("d_sae"))
    W_enc, b_enc, W_dec = W["W_enc"], W["b_enc"], W["W_dec"]
    for factor in ("scaling_factor", "finetuning_scaling_factor"):
        if factor in W:
            sf = np.asarray(W.pop(factor), dtype=np.float64).reshape(-1)
            if not np.allclose(sf, 1.0):
                if sf.shape[0] != W_dec.shape[0]:
                    raise SupvizError(
                        f"{weights_name!r}: {factor} must have one entry per latent; got shape {sf.shape}."
                    )
                W_dec = (W_dec * sf[:, None]).astype(np.float32)
                notes.append(f"{factor} folded into W_dec")
    decoder_norms = None
    if rescale:
        if arch not in ("topk", "batchtopk", "matryoshka_batchtopk"):
            raise SupvizError(
                f"{cfg_name!r}: rescale_acts_by_decoder_norm is a topk / batchtopk / matryoshka_batchtopk setting; got "
                f"it on {arch!r}."
            )
        W_enc, b_enc, W_dec, decoder_norms = fold_decoder_norms(W_enc, b_enc, W_dec)
        notes.append(
            "rescale_acts_by_decoder_norm: decoder norms folded into the encoder (SAELens' codes); the file's "
            "W_dec is SAE.saelens_W_dec"
        )
    meta = cfg.get("supviz") if isinstance(cfg.get("supviz"), dict) else {}
    if decoder_norms is None and meta.get("decoder_norms") is not None:  # a folded SAE that supviz saved
        decoder_norms = meta["decoder_norms"]
    config = None
    if meta.get("config"):
        from supviz.sae.config import SAEConfig

        try:
            config = SAEConfig.from_dict(meta["config"], source=cfg_name)
        except SupvizError as exc:
            notes.append(f"training config not restored: {exc}")
    info = dict(meta.get("info") or {})
    info["source"] = source
    info["notes"] = list(info.get("notes", [])) + notes
    saelens_meta = cfg.get("metadata") if isinstance(cfg.get("metadata"), dict) else {}
    hook = cfg.get("hook_name") or cfg.get("hook_point") or saelens_meta.get("hook_name")
    return dict(
        W_enc=W_enc,
        b_enc=b_enc,
        W_dec=W_dec,
        b_dec=W["b_dec"],
        activation=activation,
        k=k,
        threshold=threshold,
        apply_b_dec_to_input=apply_b_dec,
        decoder_norms=decoder_norms,
        architecture=str(meta.get("architecture") or arch),
        config=config,
        label=str(meta.get("label") or hook or name),
        info=info,
    )


def fold_decoder_norms(
    W_enc: np.ndarray, b_enc: np.ndarray, W_dec: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """SAELens' ``rescale_acts_by_decoder_norm`` folded into the weights: ``W_enc [d_in, d_sae]`` and
    ``b_enc [d_sae]`` times ``n_j = max(||W_dec,j||, 1e-8)``, ``W_dec [d_sae, d_in]`` row j over ``n_j``
    (float32; computed in float64); returned with ``n [d_sae]`` (float32), which the SAE keeps as
    ``decoder_norms`` so that the file's ``W_dec`` (``SAE.saelens_W_dec``) is not lost.

    SAELens' rescaled SAE computes ``a = act(pre * n)`` and reconstructs ``(a / n) W_dec + b_dec``; the
    folded SAE computes the same ``a`` from ``pre' = pre * n`` and ``x_hat = a W_dec' + b_dec``
    (SAELens' ``_fold_norm_topk``, what its ``save_inference_model`` writes).
    """
    n = np.maximum(np.linalg.norm(W_dec.astype(np.float64), axis=1), 1e-8)  # (d_sae,)
    return (
        (W_enc.astype(np.float64) * n[None, :]).astype(np.float32),
        (b_enc.astype(np.float64) * n).astype(np.float32),
        (W_dec.astype(np.float64) / n[:, None]).astype(np.float32),
        n.astype(np.float32),
    )


#: ``dtype`` values of SAELens configs: float dtypes, by numpy's or torch's name.
_FLOAT_DTYPES = frozenset({f"{p}{t}" for p in ("", "torch.") for t in ("float32", "float64", "float16", "bfloat16")})


def cfg_bool(cfg: dict[str, Any], key: str, default: bool, cfg_name: str) -> bool:
    """``cfg[key]`` (``default`` when absent) by the one rule for switches
    (:func:`supviz.core.validation.check_bool`: JSON ``true`` / ``false`` only; ``null``, ``"false"``, 0 refused)."""
    from supviz.core.validation import check_bool

    if key not in cfg:
        return default
    try:
        return check_bool(key, cfg[key])
    except SupvizError as exc:
        raise SupvizError(f"{cfg_name!r}: {exc}") from None


def _architecture(cfg: dict[str, Any], cfg_name: str, notes: list[str]) -> str:
    """``cfg["architecture"]``; a config without it is a pre-6.0 one (``standard``, its activation from
    ``activation_fn`` / ``activation_fn_str``) only where nothing says otherwise: SAELens 6.x writes
    ``architecture`` always (and refuses a config without it), so a ``k`` or a ``metadata`` record without it
    is refused by name, never read as a ReLU SAE."""
    if "architecture" in cfg:
        arch = cfg["architecture"]
        if not isinstance(arch, str):
            raise SupvizError(f"{cfg_name!r}: `architecture` must be a string; got {arch!r}.")
        return arch
    clues = [key for key in ("k", "metadata") if key in cfg]
    if clues:
        trained = cfg["metadata"].get("training_architecture") if isinstance(cfg.get("metadata"), dict) else None
        said = f" (metadata says training_architecture={trained!r})" if trained else ""
        raise SupvizError(
            f"{cfg_name!r}: `architecture` is missing{said}; a SAELens 6.x config (it has {clues}) must name it, "
            "as SAELens itself refuses it without: add it."
        )
    notes.append("no `architecture`: read as a pre-6.0 'standard' config (its activation from activation_fn)")
    return "standard"


def check_weight_shapes(
    W_enc: np.ndarray,
    b_enc: np.ndarray,
    W_dec: np.ndarray,
    b_dec: np.ndarray,
    threshold: np.ndarray | None = None,
    *,
    where: str = "",
    d_in: Any = None,
    d_sae: Any = None,
) -> None:
    """The one check of an SAE's weight shapes: ``W_enc [d_in, d_sae]`` with both >= 1, ``b_enc [d_sae]``,
    ``W_dec [d_sae, d_in]``, ``b_dec [d_in]``, ``threshold [d_sae]`` (where given), and the config's
    ``d_in`` / ``d_sae`` where given. ``where`` names the file or object in the message (nothing for
    an SAE built from arrays).

    Raises
    ------
    SupvizError
        "'<where>': `W_dec` must have shape [16, 8] to match W_enc [8, 16]; got [8, 16]."
    """
    at = f"{where!r}: " if where else ""
    shape = list(np.shape(W_enc))
    if len(shape) != 2 or min(shape) < 1:
        raise SupvizError(f"{at}`W_enc` must be [d_in >= 1, d_sae >= 1]; got shape {shape}.")
    n_in, n_sae = shape
    for key, value in (("d_in", d_in), ("d_sae", d_sae)):
        if value is not None and value != (n_in if key == "d_in" else n_sae):
            raise SupvizError(f"{at}cfg says d_in={d_in!r}, d_sae={d_sae!r} but W_enc has shape {shape}.")
    named = [("W_dec", W_dec, [n_sae, n_in]), ("b_enc", b_enc, [n_sae]), ("b_dec", b_dec, [n_in])]
    if threshold is not None:
        named.append(("threshold", threshold, [n_sae]))
    for key, arr, want in named:
        if list(np.shape(arr)) != want:
            raise SupvizError(f"{at}`{key}` must have shape {want} to match W_enc {shape}; got {list(np.shape(arr))}.")


def _check_normalisation(cfg: dict[str, Any], cfg_name: str, notes: list[str]) -> None:
    """Honour or refuse ``normalize_activations`` and ``reshape_activations`` (see :func:`read_folder`)."""
    norm = cfg.get("normalize_activations", "none")
    if norm in (None, False, "none"):
        pass
    elif norm in (True, "expected_average_only_in"):
        notes.append(
            "normalize_activations='expected_average_only_in': SAELens scales inputs by a factor kept "
            "outside this folder; the weights are used as stored"
        )
    else:
        raise SupvizError(
            f"{cfg_name!r}: normalize_activations={norm!r} is not supported (input-dependent rescaling "
            "or a whitening matrix outside the folder)."
        )
    reshape = cfg.get("reshape_activations", "none")
    if reshape in (None, "none"):
        pass
    elif reshape == "hook_z":
        notes.append("reshape_activations='hook_z': give the inputs with the heads flattened, [N, n_heads * d_head]")
    else:
        raise SupvizError(f"{cfg_name!r}: reshape_activations={reshape!r} is not supported; supported: none, hook_z.")


def sae_folders(folder: str | os.PathLike[str]) -> list[Path]:
    """Every SAE folder directly inside ``folder`` (sorted by name), or ``folder`` itself if it is one."""
    p = Path(folder)
    if is_sae_folder(p):
        return [p]
    if not p.is_dir():
        raise SupvizError(f"`folder` must be an existing folder; got {str(p)!r}.")
    subs = sorted(q for q in p.iterdir() if is_sae_folder(q))
    if not subs:
        raise SupvizError(f"{str(p)!r} holds no SAE folder (cfg.json + {WEIGHTS_FILE}).")
    return subs


def _read_weights(path: Path) -> dict[str, np.ndarray]:
    try:
        import torch
        from safetensors import safe_open

        out = {}
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 - safe_open has no __iter__
                t = f.get_tensor(key)
                if t.is_complex():  # the cast would drop the imaginary part with only a warning
                    raise _ComplexWeight(f"{str(path)!r}: weight {key!r} is complex ({t.dtype}); SAE weights are real.")
                out[key] = t.to(torch.float32).numpy()
    except _ComplexWeight as exc:
        raise SupvizError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is a malformed file to the user
        raise SupvizError(f"could not read {str(path)!r} as safetensors: {_one_line(exc)}.") from None
    check_finite_weights(out, str(path))
    return out


class _ComplexWeight(Exception):
    """A complex tensor in a weights file (raised inside the reader, turned into a SupvizError)."""


def check_finite_weights(W: dict[str, np.ndarray], where: str) -> None:
    """Refuse weights holding NaN or inf (``where`` names them in the message)."""
    for key, arr in W.items():
        if not np.isfinite(arr).all():
            raise SupvizError(f"{where!r}: {key!r} holds NaN/inf values.")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
