"""``supviz sae``: train sparse autoencoders on a run's toy cells or on an activations file, and score them.

* A run directory of ``supviz train`` (or, with ``--weights``, a weight file such as the study's
  ``hamblin2022_weights.npz``): one SAE per cell on the cell's own data stream ``h = x W``, scored
  against the cell's represented features on fresh samples (:func:`supviz.sae.train_cell_saes`).
* An activations file (``.npy``, ``.npz`` or ``.safetensors``) holding ``[N, d]`` (one SAE) or
  ``[k, N, d]`` (k SAEs): trained on its rows; scored against ``--features`` (true directions
  ``[n, d]``) where given, else only by reconstruction and sparsity.

Everything is checked before anything is trained; the output folder (``--out``) is written
atomically: ``saes/<name>/`` in SAELens' layout (cfg.json + sae_weights.safetensors), ``scores.csv``
and ``metadata.json``. The score table is printed.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import Any

from supviz.core.outdir import SUBCOMMAND_OUTPUTS, default_out
from supviz.errors import SupvizError

DEFAULT_OUT = default_out("sae")
RUN_FORMAT = SUBCOMMAND_OUTPUTS["sae"]

_FIELDS: dict[str, tuple[str, type, dict[str, Any]]] = {
    "architecture": (
        "--architecture",
        str,
        {"metavar": "{relu_l1,relu_l1_decnorm,topk,batchtopk,jumprelu,matryoshka_batchtopk}"},
    ),
    "d_sae": ("--d-sae", int, {"metavar": "N"}),
    "expansion_factor": ("--expansion-factor", float, {"metavar": "F"}),
    "steps": ("--steps", int, {"metavar": "N"}),
    "batch_size": ("--batch-size", int, {"metavar": "N"}),
    "lr": ("--lr", float, {"metavar": "LR"}),
    "l1_coefficient": ("--l1-coefficient", float, {"metavar": "L1"}),
    "k": ("--k", int, {"metavar": "K"}),
    "l0_coefficient": ("--l0-coefficient", float, {"metavar": "L0"}),
    "device": ("--device", str, {"metavar": "DEVICE"}),
}
_COLUMNS = [
    ("label", "sae", "{}"),
    ("n_true", "true", "{}"),
    ("d_sae", "d_sae", "{}"),
    ("mmcs", "MMCS", "{:.3f}"),
    ("feature_mcc", "fMCC", "{:.3f}"),
    ("mcc", "MCC", "{:.3f}"),
    ("recovery_rate", "rec@0.9", "{:.2f}"),
    ("dead_fraction", "dead", "{:.2f}"),
    ("l0", "L0", "{:.2f}"),
    ("true_l0", "true L0", "{:.2f}"),
    ("fvu", "FVU", "{:.3f}"),
    ("shrinkage", "shrink", "{:.3f}"),
    ("firing_precision", "prec", "{:.2f}"),
    ("firing_recall", "recall", "{:.2f}"),
    ("f1_score", "F1", "{:.2f}"),
]


def register(subparsers: Any) -> None:
    """Add the ``sae`` subcommand."""
    from supviz.sae.config import SAEConfig
    from supviz.toy.config import field_docs

    docs = field_docs(SAEConfig)
    p = subparsers.add_parser(
        "sae",
        help="train sparse autoencoders on a run's toy cells or an activations file, and score them",
        description=(
            "Train sparse autoencoders (relu_l1, relu_l1_decnorm, topk, batchtopk, jumprelu, "
            "matryoshka_batchtopk) as one batched job and "
            "score them against the known features: MMCS, feature MCC (sign-aware), recovery at cos >= 0.9, dead "
            "latents, L0 against the true L0, FVU, shrinkage, firing precision/recall, and SAELens' MCC and F1 under "
            "its names. INPUT is a `supviz train` run directory "
            "(one SAE per cell, on the cell's own data stream), or an activations file .npy/.npz/.safetensors of "
            "[N, d] or [k, N, d] (use --weights to read a file as toy weights instead)."
        ),
        epilog="Bad input: one line on stderr, exit status 2, nothing written. SAEs are saved in SAELens' layout.",
    )
    p.add_argument("input", metavar="INPUT", help="run directory, weight file (with --weights) or activations file")
    io = p.add_argument_group("input and output")
    io.add_argument(
        "--weights", action="store_true", help="INPUT is a toy weight file (.npz/.npy/.safetensors of [k, n, m])"
    )
    io.add_argument("--cells", nargs="+", metavar="I", help="train only these cells (indices; default all)")
    io.add_argument("--probability", metavar="P", help="feature probability of cells whose file has none")
    io.add_argument("--key", metavar="NAME", help="the array to read from a multi-array activations file")
    io.add_argument("--features", metavar="FILE", help="true feature directions [n, d] to score activations against")
    io.add_argument(
        "--codes",
        metavar="FILE",
        help="true feature activity [N, n] of the activations (for true L0, precision, recall)",
    )
    io.add_argument("--n-eval", default="4096", metavar="N", help="evaluation samples per SAE (default: 4096)")
    io.add_argument("--seed", default="0", metavar="SEED", help="root seed (default: 0)")
    io.add_argument("--threads", default="0", metavar="N", help="CPU worker threads; 0 = one per CPU (default: 0)")
    io.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help="output folder (saes/, scores.csv, metadata.json); an earlier `supviz sae` output is replaced (default: "
        f"{DEFAULT_OUT})",
    )
    io.add_argument("--format", choices=("table", "csv", "json"), default="table", help="how to print the scores")
    io.add_argument("--quiet", action="store_true", help="print only the output folder")
    g = p.add_argument_group(
        "SAE settings (SAEConfig fields; defaults: the study's settings for cells, SAEConfig() for activations)"
    )
    for name, (flag, _type, opts) in _FIELDS.items():
        g.add_argument(flag, dest=name, default=None, help=docs.get(name, ""), **opts)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check everything, train, score, write, print."""
    from supviz.core.validation import check_int

    n_eval = check_int("--n-eval", _parse(args.n_eval, int, "--n-eval"), min_value=1)
    seed = check_int("--seed", _parse(args.seed, int, "--seed"), min_value=0)
    threads = check_int("--threads", _parse(args.threads, int, "--threads"), min_value=0)
    out = Path(args.out)
    _check_out(out)
    changes = {
        name: _parse(getattr(args, name), typ, flag)
        for name, (flag, typ, _o) in _FIELDS.items()
        if getattr(args, name) is not None
    }
    src = Path(args.input)
    if src.is_dir() or args.weights:
        result = _cells(args, src, changes, n_eval=n_eval, seed=seed, threads=threads)
    else:
        result = _activations(args, src, changes, n_eval=n_eval, seed=seed, threads=threads)
    saes, scores, meta = result
    _write(out, saes, scores, meta)
    rows = scores.rows()
    if args.quiet:
        print(out)
        return 0
    if args.format == "csv":
        scores.to_frame().to_csv(sys.stdout, index=False)
    elif args.format == "json":
        import json

        json.dump(
            [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows],
            sys.stdout,
            indent=1,
        )
        sys.stdout.write("\n")
    else:
        info = meta["training"]
        print(
            f"trained {len(saes)} SAE(s) ({meta['config']['architecture']}) x {info['steps']} steps in "
            f"{info['wall_seconds']:.1f} s ({info['ms_per_step']:.2f} ms/step, {info['threads']} thread(s), "
            f"{info['device']})"
        )
        print(_table(rows))
        notes = sorted({n for r in rows for n in r["notes"].split("; ") if n})
        if notes:
            print("n/a: " + "; ".join(notes))
    print(out)
    return 0


def _cells(args, src: Path, changes: dict[str, Any], *, n_eval: int, seed: int, threads: int):
    from supviz.core.validation import check_indices, check_probability
    from supviz.sae.cells import study_config, train_cell_saes
    from supviz.toy import load_grid

    if args.features or args.codes or args.key:
        raise SupvizError("`--features`, `--codes` and `--key` apply to activations files only; INPUT holds toy cells.")
    grid = load_grid(src)
    indices = None
    if args.cells:
        indices = [_parse(c, int, "--cells") for c in args.cells]
        indices = check_indices("--cells", indices, len(grid))
    probability = None
    if args.probability is not None:
        probability = check_probability("--probability", _parse(args.probability, float, "--probability"))
    chosen = range(len(grid)) if indices is None else indices
    missing = [i for i in chosen if grid.specs[i].probability is None]
    if missing and probability is None:
        raise SupvizError(f"cells {missing[:5]} of {str(src)!r} have no feature probability; give `--probability`.")
    config = study_config(grid.specs[0].n_features, **changes) if changes else study_config(grid.specs[0].n_features)
    n_features = max(grid.specs[i].n_features for i in chosen)
    _check_fits(max(grid.specs[i].n_hidden for i in chosen), config, count=len(chosen), toy=(n_features, n_eval))
    cells = train_cell_saes(
        grid,
        indices,
        config=config,
        seed=seed,
        n_eval=n_eval,
        probability=probability,
        threads=threads,
        progress=None if not args.quiet else False,
    )
    meta = {
        "input": str(src),
        "kind": "toy cells",
        "cells": cells.cells,
        "config": config.to_dict(),
        "seed": seed,
        "n_eval": n_eval,
        "training": cells.training.info,
    }
    return cells.saes, cells.scores, meta


def _activations(args, src: Path, changes: dict[str, Any], *, n_eval: int, seed: int, threads: int):
    from supviz.sae.config import SAEConfig
    from supviz.sae.engine import array_jobs, train_saes
    from supviz.sae.metrics import score

    if args.cells or args.probability is not None:
        raise SupvizError("`--cells` and `--probability` apply to toy cells only; INPUT is an activations file.")
    X = _read_array(src, args.key, "INPUT", ranks=(2, 3))
    stack = X[None] if X.ndim == 2 else X
    features = _read_array(Path(args.features), None, "--features", ranks=(2,)) if args.features else None
    codes = _read_array(Path(args.codes), None, "--codes", ranks=(2,)) if args.codes else None
    d = stack.shape[2]
    if features is not None and features.shape[1] != d:
        raise SupvizError(f"`--features` must be [n, {d}] (the activations' d); got shape {list(features.shape)}.")
    if codes is not None:
        if codes.shape[0] != stack.shape[1]:
            raise SupvizError(
                f"`--codes` must have one row per activation row ({stack.shape[1]}); got {codes.shape[0]}."
            )
        if features is not None and codes.shape[1] != features.shape[0]:
            raise SupvizError(
                f"`--codes` must have one column per feature ({features.shape[0]}); got {codes.shape[1]}."
            )
    config = SAEConfig(**changes)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", src.stem)
    _check_fits(d, config, count=stack.shape[0])
    jobs = array_jobs(X, config, seed=seed, features=features, codes=codes, label=stem)
    trained = train_saes(jobs, threads=threads, progress=None if not args.quiet else False)
    evals = [j.source.evaluation(n_eval) for j in jobs]
    sc = score(
        trained.saes,
        [e[0] for e in evals],
        features=[features] * len(jobs),
        true_codes=[e[1] for e in evals] if codes is not None else None,
        device=config.device,
    )
    meta = {
        "input": str(src),
        "kind": "activations",
        "shape": list(X.shape),
        "features": args.features,
        "codes": args.codes,
        "config": config.to_dict(),
        "seed": seed,
        "n_eval": n_eval,
        "training": trained.info,
    }
    return trained.saes, sc, meta


def _check_fits(d_in: int, config: Any, *, count: int, toy: tuple[int, int] | None = None) -> None:
    """Refuse, before any SAE is built, ``count`` SAEs of ``config`` on ``d_in`` inputs beyond this machine;
    on toy cells (``toy = (n_features, n_eval)``) with their evaluation samples and stream batches."""
    from supviz.core.resources import check_fits, toy_sae_data_need
    from supviz.sae.engine import SAE_SIZES, training_need

    d_sae = config.resolve_d_sae(d_in)
    need = training_need(
        d_in,
        d_sae,
        batch_size=config.batch_size,
        steps=config.steps,
        log_every=config.log_every,
        count=count,
    )
    flags = [f"`--{k.replace('_', '-')}`" for k in SAE_SIZES]
    if toy is not None:
        n_features, n_eval = toy
        need = need + toy_sae_data_need(
            n_features, d_in, d_sae, n_eval=n_eval, batch_size=config.batch_size, count=count
        )
        flags.append("`--n-eval`")
    check_fits(need, ", ".join(flags))


def _read_array(path: Path, key: str | None, flag: str, *, ranks: tuple[int, ...]):
    import numpy as np

    from supviz.toy import load_weight_arrays

    if not path.is_file():
        raise SupvizError(f"`{flag}` must be an existing .npy/.npz/.safetensors file; got {str(path)!r}.")
    arrays = load_weight_arrays(path)
    if key is not None:
        if key not in arrays:
            raise SupvizError(f"`--key` {key!r} is not in {str(path)!r}; keys: {', '.join(sorted(arrays))}.")
        arr = arrays[key]
    elif len(arrays) == 1:
        arr = next(iter(arrays.values()))
    else:
        keys = sorted(arrays)
        listed = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        hint = " (or, if it holds toy weights, pass `--weights` or the run folder)" if flag == "INPUT" else ""
        raise SupvizError(f"{str(path)!r} holds {len(arrays)} arrays ({listed}); choose one with `--key`{hint}.")
    arr = np.asarray(arr)
    if arr.ndim not in ranks:
        want = " or ".join({2: "[N, d]", 3: "[k, N, d]"}[r] if flag == "INPUT" else "[rows, columns]" for r in ranks)
        raise SupvizError(f"`{flag}` must be an array {want}; got shape {list(arr.shape)}.")
    if 0 in arr.shape:
        raise SupvizError(f"`{flag}` must not be empty; got shape {list(arr.shape)}.")
    from supviz.sae import _float32

    if flag == "--codes":
        return _float32.activity(flag, arr)
    if flag == "--features":
        return _float32.directions(flag, arr)
    return _float32.inputs(flag, arr, ndim=(2, 3))


def _check_out(out: Path) -> None:
    """The shared output-folder check (file, under a file, dangling link, unwritable), before training.

    A non-empty folder is accepted only when it holds an earlier ``supviz sae`` output.
    """
    from supviz.core.io import read_json_object
    from supviz.core.outdir import check_output_folder

    def earlier_output(folder: Path) -> bool:
        meta = folder / "metadata.json"
        try:  # a corrupt metadata.json is not an earlier output: the folder is refused, not replaced
            return meta.is_file() and read_json_object(meta).get("format") == RUN_FORMAT
        except SupvizError:
            return False

    check_output_folder(out, accept=earlier_output, what="an earlier `supviz sae` output")


def _write(out: Path, saes, scores, meta: dict[str, Any]) -> None:
    import platform

    from supviz import __version__
    from supviz.core.io import atomic_dir, atomic_write_json
    from supviz.sae.storage import _write as write_sae

    names = _names([s.label for s in saes])
    meta = {
        "format": RUN_FORMAT,
        "supviz_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **meta,
        "saes": names,
    }
    with atomic_dir(out) as tmp:
        for sae, name in zip(saes, names):
            write_sae(sae, tmp / "saes" / name)
        df = scores.to_frame()
        df.insert(0, "folder", [f"saes/{n}" for n in names])
        df.to_csv(tmp / "scores.csv", index=False)
        atomic_write_json(tmp / "metadata.json", meta)


def _names(labels: list[str]) -> list[str]:
    out, seen = [], set()
    for i, label in enumerate(labels):
        base = re.sub(r"[^A-Za-z0-9_.=-]+", "_", label).strip("._") or "sae"
        name = f"{i:03d}_{base}"
        while name in seen:
            name += "_"
        seen.add(name)
        out.append(name)
    return out


def _table(rows: list[dict[str, Any]]) -> str:
    cells = [[h for _k, h, _f in _COLUMNS]]
    for r in rows:
        cells.append([_cell(r[k], f) for k, _h, f in _COLUMNS])
    widths = [max(len(row[j]) for row in cells) for j in range(len(_COLUMNS))]
    lines = []
    for i, row in enumerate(cells):
        lines.append(
            "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return fmt.format(value)


def _parse(text: Any, typ: type, flag: str) -> Any:
    if typ is str:
        return text
    try:
        return typ(text)
    except (TypeError, ValueError):
        kind = "an int" if typ is int else "a number"
        raise SupvizError(f"`{flag}` must be {kind}; got {text!r}.") from None
