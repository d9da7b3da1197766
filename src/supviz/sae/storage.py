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
wrote them (pre-6.0 ``activation_fn_str`` / ``activation_fn_kwargs`` configs included;
``log_threshold`` and bfloat16 weights converted), so an SAE trained elsewhere can be scored against
known features with :func:`supviz.sae.score`. No pickle: JSON and safetensors only. Writes are
atomic (:func:`supviz.core.io.atomic_dir`).

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


def read_folder(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The fields of an SAE (keyword arguments of :class:`~supviz.sae.model.SAE`) from a folder in
    SAELens' layout, written by supviz or by SAELens.

    Supported: ``architecture`` ``standard`` (ReLU, or a pre-6.0 ``activation_fn_str`` of
    ``relu`` / ``topk``), ``topk`` and ``jumprelu`` (threshold as ``threshold`` or
    ``log_threshold``); a ``batchtopk`` training config with its ``topk_threshold``; any float
    dtype (converted to float32). A ``scaling_factor`` other than all ones is folded into
    ``W_dec`` (the reconstruction is unchanged). ``normalize_activations`` of
    ``expected_average_only_in`` is noted: SAELens keeps that input scale outside the folder.

    Raises
    ------
    SupvizError
        A missing folder or file, unreadable JSON or safetensors, an unsupported architecture
        or activation (``gated``, ``layer_norm`` input normalisation, ...), weights whose shapes
        disagree with each other or the config.
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
    W = _read_weights(w_path)
    notes: list[str] = []
    arch = str(cfg.get("architecture", "standard"))
    act_name = cfg.get("activation_fn", cfg.get("activation_fn_str", "relu")) or "relu"
    kwargs = cfg.get("activation_fn_kwargs") or {}
    k = None
    threshold = None
    if arch == "standard" and act_name == "relu":
        activation = "relu"
    elif arch == "topk" or (arch == "standard" and act_name == "topk"):
        activation = "topk"
        k = cfg.get("k", kwargs.get("k") if isinstance(kwargs, dict) else None)
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise SupvizError(f"{str(cfg_path)!r}: a topk SAE needs an int `k` >= 1; got {k!r}.")
    elif arch in ("jumprelu", "batchtopk"):
        activation = "jumprelu"
        if "threshold" in W:
            threshold = W.pop("threshold")
        elif "log_threshold" in W:
            threshold = np.exp(W.pop("log_threshold"))
        elif "topk_threshold" in W:
            threshold = np.full(
                W["b_enc"].shape if "b_enc" in W else (int(cfg.get("d_sae", 0)),),
                float(np.asarray(W.pop("topk_threshold")).reshape(-1)[0]),
                dtype=np.float32,
            )
        else:
            raise SupvizError(
                f"{str(w_path)!r}: a {arch} SAE needs `threshold` (or `log_threshold`) weights; found {sorted(W)}."
            )
    elif arch == "standard":
        raise SupvizError(f"{str(cfg_path)!r}: activation {act_name!r} is not supported; supported: relu, topk.")
    else:
        raise SupvizError(
            f"{str(cfg_path)!r}: architecture {arch!r} is not supported; supported: standard, topk, jumprelu, "
            "batchtopk."
        )
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
            f"{str(cfg_path)!r}: normalize_activations={norm!r} is not supported (input-dependent rescaling)."
        )
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        if name not in W:
            raise SupvizError(f"{str(w_path)!r} has no {name!r}; found {sorted(W)}.")
    W_dec = W["W_dec"]
    for name in ("scaling_factor", "finetuning_scaling_factor"):
        if name in W:
            sf = np.asarray(W.pop(name), dtype=np.float64).reshape(-1)
            if not np.allclose(sf, 1.0):
                if sf.shape[0] != W_dec.shape[0]:
                    raise SupvizError(f"{str(w_path)!r}: {name} must have one entry per latent; got shape {sf.shape}.")
                W_dec = (W_dec * sf[:, None]).astype(np.float32)
                notes.append(f"{name} folded into W_dec")
    d_in, d_sae = cfg.get("d_in"), cfg.get("d_sae")
    if W["W_enc"].ndim == 2 and (d_in, d_sae) != tuple(W["W_enc"].shape) and d_in is not None:
        raise SupvizError(
            f"{str(p)!r}: cfg says d_in={d_in}, d_sae={d_sae} but W_enc has shape {list(W['W_enc'].shape)}."
        )
    meta = cfg.get("supviz") if isinstance(cfg.get("supviz"), dict) else {}
    config = None
    if meta.get("config"):
        from supviz.sae.config import SAEConfig

        try:
            config = SAEConfig.from_dict(meta["config"], source=str(cfg_path))
        except SupvizError as exc:
            notes.append(f"training config not restored: {exc}")
    info = dict(meta.get("info") or {})
    info["source"] = str(p)
    info["notes"] = list(info.get("notes", [])) + notes
    return dict(
        W_enc=W["W_enc"],
        b_enc=W["b_enc"],
        W_dec=W_dec,
        b_dec=W["b_dec"],
        activation=activation,
        k=k,
        threshold=threshold,
        apply_b_dec_to_input=bool(cfg.get("apply_b_dec_to_input", True)),
        architecture=str(meta.get("architecture") or arch),
        config=config,
        label=str(meta.get("label") or cfg.get("hook_name") or p.name),
        info=info,
    )


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
                out[key] = f.get_tensor(key).to(torch.float32).numpy()
    except Exception as exc:  # noqa: BLE001 - any reader failure is a malformed file to the user
        raise SupvizError(f"could not read {str(path)!r} as safetensors: {_one_line(exc)}.") from None
    for key, arr in out.items():
        if not np.isfinite(arr).all():
            raise SupvizError(f"{str(path)!r}: {key!r} holds NaN/inf values.")
    return out


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
