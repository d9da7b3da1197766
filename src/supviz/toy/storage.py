"""Saving and loading grids; reading weights that supviz did not train.

A run directory holds:

``weights.safetensors``
    ``weights.<i>`` ``[n, m]`` float32 and ``biases.<i>`` ``[n]`` float32 per instance,
    ``losses`` ``[instances, n_logged]`` float64 and ``loss_steps`` ``[n_logged]`` int64.
    safetensors holds raw tensors and loads without executing code.
``metadata.json``
    Human-readable: the full config, every instance's spec and seed, a loss summary, the training
    info (engine, device, threads, timing), package versions and the platform.

The directory is built under a temporary name and renamed into place (:func:`supviz.core.io.atomic_dir`),
so a killed run never leaves a directory that reads as complete.

External weights (:func:`load_grid` on a file): ``.npz`` (read with ``allow_pickle=False``),
``.npy`` or ``.safetensors`` holding arrays ``[k, n, m]`` (k instances) or ``[n, m]`` (one).
Their probability and importance are unknown (``None`` / ``"unknown"``), their biases zeros,
and they have no loss curve. One layout is recognised by its keys: the study's own file
(:func:`load_hamblin2022`).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import re
import sys
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

import numpy as np

from supviz.core.io import atomic_dir, json_default
from supviz.core.outdir import SUBCOMMAND_OUTPUTS
from supviz.errors import SupvizError
from supviz.toy.grid import UNKNOWN, InstanceSpec, TrainedGrid
from supviz.toy.importance import feature_probabilities, importance_curve

log = logging.getLogger(__name__)

FORMAT = SUBCOMMAND_OUTPUTS["train"]  # "supviz.toy.grid"
FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
METADATA_FILE = "metadata.json"
ARRAY_SUFFIXES = (".npz", ".npy", ".safetensors")

#: The study's key rule: ``{n}to{m}`` has uniform importance, ``{n}to{m}_withimportance`` 0.9 ** i;
#: each array is ``[probabilities, n, m]`` in the order of ``feature_probabilities(count)``.
HAMBLIN_KEY = re.compile(r"^(?P<n>\d+)to(?P<m>\d+)(?P<imp>_withimportance)?$")
HAMBLIN_IMPORTANCE = {False: "uniform", True: "geometric:0.9"}


# -- save ---------------------------------------------------------------------------------------


def save_grid(grid: TrainedGrid, run_dir: str | os.PathLike[str]) -> Path:
    """Write ``grid`` to the run directory ``run_dir`` atomically; return its path.

    An existing supviz run directory at ``run_dir`` is replaced once the new one is complete; any
    other existing file or non-empty directory there is refused.
    """
    dest = Path(run_dir)
    check_run_dir_writable(dest)
    _check_finite(grid)
    with atomic_dir(dest) as tmp:
        write_grid_files(grid, tmp)
    log.info("saved %d instances to %s", len(grid), dest)
    return dest


def write_grid_files(grid: TrainedGrid, folder: str | os.PathLike[str]) -> None:
    """Write ``weights.safetensors`` and ``metadata.json`` of ``grid`` into the existing ``folder``.

    Each file is written atomically, the metadata last (and an older one removed first), so the
    folder never reads as a run (:func:`is_run_dir`) with weights and metadata of different grids.
    ``supviz run`` puts the study's grid into its run folder this way; :func:`save_grid` builds a
    whole run directory.

    Raises
    ------
    SupvizError
        Some instance has non-finite weights or biases (a diverged run saved would never load).
    """
    from safetensors.numpy import save

    from supviz.core.io import atomic_write_bytes

    _check_finite(grid)
    folder = Path(folder)
    tensors: dict[str, np.ndarray] = {
        "losses": np.ascontiguousarray(grid.losses, dtype=np.float64),
        "loss_steps": np.ascontiguousarray(grid.loss_steps, dtype=np.int64),
    }
    for i, (w, b) in enumerate(zip(grid.weights, grid.biases)):
        tensors[f"weights.{i}"] = np.ascontiguousarray(w, dtype=np.float32)
        tensors[f"biases.{i}"] = np.ascontiguousarray(b, dtype=np.float32)
    meta = _metadata_of(grid)
    (folder / METADATA_FILE).unlink(missing_ok=True)
    atomic_write_bytes(
        folder / WEIGHTS_FILE, save(tensors, metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    )
    atomic_write_bytes(
        folder / METADATA_FILE, (json.dumps(meta, indent=2, default=json_default) + "\n").encode("utf-8")
    )


def _check_finite(grid: TrainedGrid) -> None:
    bad = [
        i
        for i, (w, b) in enumerate(zip(grid.weights, grid.biases))
        if not (np.isfinite(w).all() and np.isfinite(b).all())
    ]
    if bad:
        names = ", ".join(grid.labels[i] for i in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise SupvizError(
            f"`grid` has {len(bad)} instance(s) with non-finite weights ({names}); a diverged grid is not saved."
        )


def check_run_dir_writable(path: str | os.PathLike[str], *, name: str = "--out") -> None:
    """Refuse a destination that :func:`save_grid` cannot write; create nothing.

    Refused: a file, a folder under a file, an unwritable place (``/proc/x``), a non-empty folder
    that is not a ``supviz train`` run, and a ``supviz run`` study folder (which holds grid files
    too, but replacing it would delete its report and cache).
    """
    from supviz.core.outdir import check_output_folder, is_study_folder

    p = Path(path)
    if p.is_dir() and is_study_folder(p):
        raise SupvizError(
            f"`{name}` {str(p)!r} holds a `supviz run` study, which saving a grid would replace; choose another folder."
        )
    check_output_folder(p, name=name, accept=is_run_dir, what="a `supviz train` run")


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a directory written by :func:`save_grid`."""
    p = Path(path)
    return (p / METADATA_FILE).is_file() and (p / WEIGHTS_FILE).is_file()


# -- load ---------------------------------------------------------------------------------------


def load_grid(path: str | os.PathLike[str]) -> TrainedGrid:
    """A grid from a run directory, or from an array file of weights supviz did not train.

    Parameters
    ----------
    path : str or Path
        A directory written by :func:`save_grid`; or a ``.npz``/``.npy``/``.safetensors`` file of
        arrays ``[k, n, m]`` or ``[n, m]`` (each key in file order, the k instances of a key in
        order); an ``.npz`` with the study's keys (``60to{m}``, ``60to{m}_withimportance``) is read
        by :func:`load_hamblin2022`'s rule.

    Raises
    ------
    SupvizError
        Missing or unreadable path, an array of another rank, NaN/inf values.
    """
    p = Path(path)
    if p.is_dir():
        return _load_run_dir(p)
    if p.is_file() and p.name == WEIGHTS_FILE and is_run_dir(p.parent):
        return _load_run_dir(p.parent)
    arrays = load_weight_arrays(p)
    if _is_hamblin(arrays):
        return _hamblin_grid(arrays, p)
    return _external_grid(arrays, p)


def load_weight_arrays(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The raw arrays of a weight file (or of a run directory's ``weights.safetensors``), by name.

    ``.npz`` and ``.npy`` are read with ``allow_pickle=False``; a ``.npy`` gives one array named
    after the file's stem; bfloat16 tensors of a ``.safetensors`` file come back as float32.
    Nothing is checked beyond readability and that it is numeric and real (complex is refused).
    """
    p = Path(path)
    if p.is_dir():
        if not is_run_dir(p):
            raise SupvizError(
                f"`path` {str(p)!r} is a directory but not a supviz run (no {METADATA_FILE}/{WEIGHTS_FILE})."
            )
        p = p / WEIGHTS_FILE
    if not p.is_file():
        raise SupvizError(f"`path` must be an existing run directory or weight file; got {str(p)!r}.")
    suffix = p.suffix.lower()
    if suffix not in ARRAY_SUFFIXES:
        raise SupvizError(f"`path` must end in {', '.join(ARRAY_SUFFIXES)} or be a run directory; got {str(p)!r}.")
    if suffix == ".npz" and not _starts_with(p, (b"PK\x03\x04", b"PK\x05\x06")):
        raise SupvizError(f"could not read {str(p)!r} as npz: not a zip archive.")
    if suffix == ".npy" and not _starts_with(p, (b"\x93NUMPY",)):
        raise SupvizError(f"could not read {str(p)!r} as npy: no .npy header.")
    try:
        # numpy is handed an open file so that a malformed one is closed whatever numpy does
        if suffix == ".npz":
            with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                out = {k: np.asarray(z[k]) for k in z.files}
        elif suffix == ".npy":
            with open(p, "rb") as fh:
                out = {p.stem: np.asarray(np.load(fh, allow_pickle=False))}
        else:
            out = _load_safetensors(p)
    except SupvizError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a malformed file to the user
        raise SupvizError(f"could not read {str(p)!r} as {suffix[1:]}: {_one_line(exc)}.") from None
    for k, v in out.items():
        if np.iscomplexobj(v):
            raise SupvizError(f"{str(p)!r}: array {k!r} must be real; got complex values (dtype {v.dtype}).")
        if not (np.issubdtype(v.dtype, np.number) or v.dtype == np.bool_):
            raise SupvizError(f"{str(p)!r}: array {k!r} must be numeric; got dtype {v.dtype}.")
    if not out:
        raise SupvizError(f"{str(p)!r} holds no arrays.")
    return out


def _load_safetensors(p: Path) -> dict[str, np.ndarray]:
    """A ``.safetensors`` file's tensors as numpy arrays; bfloat16/float8 ones (which numpy has no
    type for, and which PyTorch users save most) upcast to float32 through PyTorch's reader."""
    from safetensors import safe_open

    out: dict[str, np.ndarray] = {}
    narrow: list[str] = []
    with safe_open(str(p), framework="numpy") as f:
        for key in f.keys():
            if f.get_slice(key).get_dtype() in ("BF16", "F8_E4M3", "F8_E5M2"):
                narrow.append(key)
            else:
                out[key] = f.get_tensor(key)
    if narrow:
        import torch

        with safe_open(str(p), framework="pt") as f:
            for key in narrow:
                out[key] = f.get_tensor(key).to(torch.float32).numpy()
    return out


def load_hamblin2022(path: str | os.PathLike[str]) -> TrainedGrid:
    """The study's reference weights (``hamblin2022_weights.npz``) as a grid.

    The rule: a key ``{n}to{m}`` holds uniform importance, ``{n}to{m}_withimportance`` importance
    ``0.9 ** i`` (``"geometric:0.9"``); each array is ``[P, n, m]``, its P probabilities
    ``feature_probabilities(P)`` (P = 6: 1, 0.549, ..., 0.05) in that order. Instances come out
    uniform first, then by m, then by probability (the order of :meth:`TrainConfig.instances`).
    Seeds are ``None``, biases zeros (the file has none), loss curves empty. Every array must hold
    the same n and the same P (one grid); anything else is a :class:`~supviz.errors.SupvizError`.
    """
    p = Path(path)
    arrays = load_weight_arrays(p)
    if not _is_hamblin(arrays):
        keys = ", ".join(sorted(arrays)[:5])
        raise SupvizError(
            f"{str(p)!r} does not follow the study's key rule '{{n}}to{{m}}[_withimportance]'; keys: {keys}."
        )
    return _hamblin_grid(arrays, p)


def _is_hamblin(arrays: dict[str, np.ndarray]) -> bool:
    return bool(arrays) and all(HAMBLIN_KEY.match(k) for k in arrays)


def _hamblin_grid(arrays: dict[str, np.ndarray], path: Path) -> TrainedGrid:
    entries = []
    for key, arr in arrays.items():
        mt = HAMBLIN_KEY.match(key)
        assert mt is not None
        n, m, with_imp = int(mt["n"]), int(mt["m"]), bool(mt["imp"])
        arr = _check_weights(arr, f"{path.name}:{key}", ranks=(3,))
        if arr.shape[1:] != (n, m):
            raise SupvizError(
                f"{str(path)!r}: array {key!r} must have shape [probabilities, {n}, {m}]; got {arr.shape}."
            )
        entries.append((with_imp, m, key, arr))
    # One grid: every array holds the same n features and the same P probabilities (the key rule
    # gives each array's probabilities from its row count alone, so ragged counts would make up a
    # different set of p per array).
    for what, size in (("features", lambda a: a.shape[1]), ("probabilities (rows)", lambda a: a.shape[0])):
        sizes = {key: size(arr) for _, _, key, arr in entries}
        if len(set(sizes.values())) > 1:
            listed = ", ".join(f"{k}: {v}" for k, v in sizes.items())
            raise SupvizError(f"{str(path)!r}: every array must hold the same number of {what}; got {listed}.")
    entries.sort(key=lambda e: (e[0], e[1]))
    specs, weights, labels = [], [], []
    for with_imp, m, key, arr in entries:
        name = HAMBLIN_IMPORTANCE[with_imp]
        n = arr.shape[1]
        curve = importance_curve(name, n)
        curve.setflags(write=False)
        probs = feature_probabilities(arr.shape[0])
        for j, prob in enumerate(probs):
            specs.append(InstanceSpec(n, m, float(prob), name, curve, None))
            weights.append(arr[j].astype(np.float32))
            labels.append(f"{key}[{j}]")
    notes = [
        "the study's reference weights; probabilities and importance from the key rule of load_hamblin2022",
        "biases were not stored in the file; zeros stand in for them",
    ]
    return _grid_without_training(specs, weights, labels, path, notes)


def _external_grid(arrays: dict[str, np.ndarray], path: Path) -> TrainedGrid:
    specs, weights, labels = [], [], []
    for key, raw in arrays.items():
        arr = _check_weights(raw, f"{path.name}:{key}", ranks=(2, 3))
        stack = arr[None] if arr.ndim == 2 else arr
        for j, w in enumerate(stack):
            n, m = w.shape
            specs.append(InstanceSpec(n, m, None, UNKNOWN, None, None))
            weights.append(w.astype(np.float32))
            labels.append(key if arr.ndim == 2 else f"{key}[{j}]")
    notes = [
        "external weights: probability and importance unknown",
        "biases were not stored in the file; zeros stand in for them",
    ]
    return _grid_without_training(specs, weights, labels, path, notes)


def _grid_without_training(specs, weights, labels, path: Path, notes: list[str]) -> TrainedGrid:
    biases = [np.zeros(s.n_features, dtype=np.float32) for s in specs]
    return TrainedGrid(
        specs,
        weights,
        biases,
        np.zeros((len(specs), 0)),
        config=None,
        labels=labels,
        info={"source": str(path), "notes": notes},
    )


def _check_weights(arr: np.ndarray, name: str, *, ranks: tuple[int, ...]) -> np.ndarray:
    if arr.ndim not in ranks:
        want = " or ".join({2: "2 [n, m]", 3: "3 [instances, n, m]"}[r] for r in ranks)
        raise SupvizError(f"`{name}` must be an array of rank {want}; got shape {arr.shape}.")
    if 0 in arr.shape:
        raise SupvizError(f"`{name}` must not be empty; got shape {arr.shape}.")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise SupvizError(
            f"`{name}` must hold only finite values; got {int((~np.isfinite(arr)).sum())} NaN/inf entries."
        )
    return arr


def read_grid_metadata(p: Path) -> dict[str, Any]:
    """The checked ``metadata.json`` of the run directory ``p``: the one reader of it.

    Checked (a file can hold anything; each failure is one line naming the file and the field):
    a JSON object of format :data:`FORMAT`; ``format_version`` an int in ``[1, FORMAT_VERSION]``;
    ``instances`` a list of tables (each through :meth:`InstanceSpec.from_dict`, which checks its
    types and ranges: a probability in (0, 1], ...), as many as ``n_instances`` says; ``label``
    strings; ``config`` a table or null; ``training`` a table.

    Returns
    -------
    dict
        The metadata, with ``"specs"``: the instances as :class:`InstanceSpec`.

    Raises
    ------
    SupvizError
    """
    from supviz.core.io import read_json_object

    path = p / METADATA_FILE
    where = str(path)
    meta = read_json_object(path, what="supviz grid metadata")
    if meta.get("format") != FORMAT:
        raise SupvizError(f"{where!r} is not supviz grid metadata (format {FORMAT!r}).")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SupvizError(f"{where!r}: `format_version` must be an int >= 1; got {_short(version)}.")
    if version > FORMAT_VERSION:
        raise SupvizError(f"{str(p)!r} has format version {version}; this supviz reads up to {FORMAT_VERSION}.")
    instances = meta.get("instances")
    if not isinstance(instances, list):
        raise SupvizError(f"{where!r}: `instances` must be a list of tables; got {_short(instances)}.")
    specs = [InstanceSpec.from_dict(d, where=f"{where!r}: instance {i}") for i, d in enumerate(instances)]
    for i, d in enumerate(instances):
        if not isinstance(d.get("label", ""), str):
            raise SupvizError(f"{where!r}: instance {i}: `label` must be a string; got {_short(d['label'])}.")
    count = meta.get("n_instances", len(instances))
    if isinstance(count, bool) or not isinstance(count, int) or count != len(instances):
        raise SupvizError(f"{where!r}: `n_instances` is {_short(count)} but {len(instances)} instances are listed.")
    for key, kinds, what in (("config", (dict, type(None)), "a table or null"), ("training", (dict,), "a table")):
        if key in meta and not isinstance(meta[key], kinds):
            raise SupvizError(f"{where!r}: `{key}` must be {what}; got {_short(meta[key])}.")
    return {**meta, "specs": specs}


def _load_run_dir(p: Path) -> TrainedGrid:
    from supviz.toy.config import TrainConfig

    if not is_run_dir(p):
        raise SupvizError(f"`path` {str(p)!r} is a directory but not a supviz run (no {METADATA_FILE}/{WEIGHTS_FILE}).")
    meta = read_grid_metadata(p)
    specs = meta["specs"]
    arrays = load_weight_arrays(p / WEIGHTS_FILE)
    _check_run_arrays(arrays, meta, p / WEIGHTS_FILE)
    try:
        weights = [
            _check_weights(arrays[f"weights.{i}"], f"weights.{i}", ranks=(2,)).astype(np.float32)
            for i in range(len(specs))
        ]
        biases = [np.asarray(arrays[f"biases.{i}"], dtype=np.float32) for i in range(len(specs))]
        losses = np.asarray(arrays["losses"], dtype=np.float64)
        loss_steps = np.asarray(arrays["loss_steps"], dtype=np.int64)
        labels = [str(d.get("label", "")) or s.label for d, s in zip(meta["instances"], specs)]
    except (KeyError, TypeError, ValueError) as exc:
        raise SupvizError(f"{str(p)!r} is incomplete or inconsistent: {_one_line(exc)}.") from None
    if not np.isfinite(np.concatenate([b.ravel() for b in biases] + [np.zeros(0)])).all():
        raise SupvizError(f"{str(p)!r}: biases must hold only finite values.")
    try:
        config = TrainConfig.from_dict(meta["config"], source=str(p / METADATA_FILE)) if meta.get("config") else None
    except SupvizError as exc:
        where = str(p / METADATA_FILE)
        raise SupvizError(str(exc) if where in str(exc) else f"{where!r}: config: {exc}") from None
    info = dict(meta.get("training", {}))
    info["source"] = str(p)
    return TrainedGrid(specs, weights, biases, losses, config=config, loss_steps=loss_steps, labels=labels, info=info)


def _check_run_arrays(arrays: dict[str, np.ndarray], meta: dict[str, Any], path: Path) -> None:
    """Every tensor of a run folder's ``weights.safetensors`` has the shape its ``metadata.json`` gives it:
    ``weights.i [n_features_i, n_hidden_i]`` and ``biases.i [n_features_i]`` of instance ``i``, ``losses
    [n_instances, n_logged]`` and ``loss_steps [n_logged]`` (``n_logged`` from ``loss_summary`` where the
    metadata has it, else the length of ``loss_steps``), steps increasing. A truncated ``losses`` used to be
    reshaped to fit, or ended in a reshape traceback.

    Raises
    ------
    SupvizError
        One line naming the file, the tensor, its shape and the shape expected.
    """
    where = str(path)
    specs = meta["specs"]
    steps = arrays.get("loss_steps")
    summary = meta.get("loss_summary")
    n_logged = summary.get("n_logged") if isinstance(summary, dict) else None
    if isinstance(n_logged, bool) or not isinstance(n_logged, int) or n_logged < 0:
        n_logged = int(steps.shape[0]) if steps is not None and steps.ndim == 1 else None
    want: dict[str, tuple[int, ...] | None] = {}
    for i, spec in enumerate(specs):
        want[f"weights.{i}"] = (spec.n_features, spec.n_hidden)
        want[f"biases.{i}"] = (spec.n_features,)
    want["losses"] = (len(specs), n_logged) if n_logged is not None else None
    want["loss_steps"] = (n_logged,) if n_logged is not None else None
    for name, shape in want.items():
        if name not in arrays:
            raise SupvizError(f"{where!r} has no tensor {name!r}, which {METADATA_FILE} calls for.")
        got = tuple(int(v) for v in arrays[name].shape)
        if shape is None:
            shape = (len(specs), -1) if name == "losses" else (-1,)
            if len(got) != len(shape) or (name == "losses" and got[0] != len(specs)):
                raise SupvizError(
                    f"{where!r}: tensor {name!r} has shape {list(got)}; {METADATA_FILE} needs {_dims(shape)}."
                )
        elif got != shape:
            raise SupvizError(f"{where!r}: tensor {name!r} has shape {list(got)}; {METADATA_FILE} needs {list(shape)}.")
    for name in want:
        if not np.issubdtype(arrays[name].dtype, np.floating if name != "loss_steps" else np.integer):
            kind = "integer" if name == "loss_steps" else "floating-point"
            raise SupvizError(f"{where!r}: tensor {name!r} must be {kind}; got dtype {arrays[name].dtype}.")
    ls = np.asarray(arrays["loss_steps"])
    if ls.size and (ls[0] < 1 or (np.diff(ls) <= 0).any()):
        raise SupvizError(f"{where!r}: tensor 'loss_steps' must count steps upwards from 1; got {_short(ls.tolist())}.")


def _dims(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join("any" if v < 0 else str(v) for v in shape) + "]"


# -- metadata -----------------------------------------------------------------------------------


def _metadata_of(grid: TrainedGrid) -> dict[str, Any]:
    from supviz import __version__

    instances = []
    for i, (s, label) in enumerate(zip(grid.specs, grid.labels)):
        d = {"index": i, "label": label, **s.to_dict()}
        curve = grid.losses[i] if grid.losses.shape[1] else np.zeros(0)
        if curve.size:
            d["loss"] = {"first": float(curve[0]), "final": float(curve[-1]), "min": float(curve.min())}
        instances.append(d)
    finals = grid.final_losses
    summary: dict[str, Any] = {"n_logged": int(grid.losses.shape[1])}
    if grid.losses.shape[1]:
        summary.update(
            log_every=grid.config.log_every if grid.config else None,
            final_total=float(np.sum(finals)),
            final_mean=float(np.mean(finals)),
            final_min=float(np.min(finals)),
            final_max=float(np.max(finals)),
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "supviz_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": grid.config.to_dict() if grid.config is not None else None,
        "model": "h = W^T x, x' = ReLU(W h + b); loss per instance mean_b sum_i I_i (x_i - x'_i)^2",
        "n_instances": len(grid),
        "instances": instances,
        "loss_summary": summary,
        "training": {k: v for k, v in grid.info.items() if k != "source"},
        "versions": _versions(),
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "python": sys.version.split()[0],
            "python_implementation": platform.python_implementation(),
            "cpu_count": os.cpu_count(),
        },
    }


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("supviz", "numpy", "torch", "numba", "safetensors", "tqdm"):
        try:
            out[dist] = _metadata.version(dist)
        except _metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _starts_with(path: Path, magics: tuple[bytes, ...]) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise SupvizError(f"could not read {str(path)!r}: {exc.strerror or _one_line(exc)}.") from None
    return any(head.startswith(m) for m in magics)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
