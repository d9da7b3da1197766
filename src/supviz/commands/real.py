"""``supviz real``: a real network's latent space pictured raw and through SAEs, measured (section F on its own).

Two inputs:

* nothing (the default): scikit-learn's digits. Train the classifiers and autoencoders of the
  ``[real]`` table (``--config``, else the study's defaults), SAEs on their hidden layers, picture
  and measure everything, and calibrate the SAE measures on toy cells: those of ``--toy`` (a
  ``supviz train`` run or weight file), else cells trained here from the config's ``[toy]`` table
  restricted to ``real.calibration_hidden`` (``--no-calibration`` skips it);
* ``--activations FILE``: a user's own activations ``[N, d]`` (.npy, .npz or .safetensors), with
  optional ``--labels FILE`` ``[N]`` (class indices) and ``--reference FILE`` ``[N, d_ref]`` (the
  inputs they came from): SAEs trained on them, their pictures and the pictures of the SAE codes,
  measured.

Everything is checked before anything is trained; ``--out`` is written atomically: the tables as
CSV, the figures as PNG, ``metadata.json``. A summary is printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from supviz.core.outdir import SUBCOMMAND_OUTPUTS, default_out
from supviz.errors import SupvizError

DEFAULT_OUT = default_out("real")
RUN_FORMAT = SUBCOMMAND_OUTPUTS["real"]


def register(subparsers: Any) -> None:
    """Add the ``real`` subcommand."""
    p = subparsers.add_parser(
        "real",
        help="a real network: a digits model's hidden layer (or your activations) pictured raw and through SAEs",
        description=(
            "Section F of the study on its own. Default: train classifier MLPs 64 -> w -> 10 and toy-shaped "
            "autoencoders on scikit-learn's digits (offline), SAEs on their hidden layers, picture the layers and the "
            "SAE codes with MDS / UMAP / t-SNE, measure k-NN label accuracy, silhouette, trustworthiness and "
            "continuity, the SAEs' FVU, L0, dead fraction, stability and effective feature count, and calibrate those "
            "measures on toy cells with known features. With --activations FILE: the same pictures and measures for "
            "your own activations [N, d]."
        ),
        epilog="Bad input: one line on stderr, exit status 2, nothing written.",
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="a study config: its [real] and [toy] tables and root seed "
        "(default: the shipped study, `supviz config --default`)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help="output folder (tables, figures, metadata.json); an earlier `supviz real` output is replaced (default: "
        f"{DEFAULT_OUT})",
    )
    p.add_argument(
        "--seed",
        metavar="SEED",
        help="root seed (default: the config's; the digits run then matches `supviz run`'s section F)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="the full sweep (widths 4-64 in finer steps, every SAE architecture, "
        "every method over the sweep, every toy cell)",
    )
    p.add_argument(
        "--toy",
        metavar="PATH",
        help="toy models for the calibration: a `supviz train` run or weight file "
        "with feature probabilities (default: train the config's [toy] cells of real.calibration_hidden)",
    )
    p.add_argument("--no-calibration", action="store_true", help="skip the calibration bridge")
    p.add_argument(
        "--activations", metavar="FILE", help="your activations [N, d] (.npy/.npz/.safetensors) instead of the digits"
    )
    p.add_argument("--key", metavar="NAME", help="the array of a multi-array --activations file")
    p.add_argument("--labels", metavar="FILE", help="class labels [N] of --activations (ints; .npy/.npz/.safetensors)")
    p.add_argument(
        "--reference",
        metavar="FILE",
        help="the inputs [N, d_ref] --activations were computed from (pictures are then also judged against them)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check everything, run, write, print."""
    from supviz.core.outdir import check_output_folder
    from supviz.core.validation import check_int
    from supviz.study.config import load_config

    config = load_config(args.config)
    cfg = config.section("real")
    if args.full:
        cfg = dataclasses.replace(cfg, full=True)
    seed = (
        config.derived_seed("real")
        if args.seed is None
        else check_int("--seed", _parse_int(args.seed, "--seed"), min_value=0)
    )
    out = Path(args.out)
    check_output_folder(out, accept=_earlier_output, what="an earlier `supviz real` output")
    if args.activations is None:
        from supviz.core.resources import check_fits
        from supviz.study.real.section import REAL_SIZES

        check_fits(cfg.need(), REAL_SIZES)
        for flag in ("key", "labels", "reference"):
            if getattr(args, flag) is not None:
                raise SupvizError(f"`--{flag}` applies to --activations only.")
        grid = None
        if not args.no_calibration:
            if args.toy is None:  # the calibration trains the config's [toy] cells: their device must be here
                from supviz.study.pipeline import check_toy_device

                check_toy_device(config)
            grid = _toy_grid(args, config, cfg)
        return _digits(args, cfg, seed, grid, out)
    if args.toy is not None or args.no_calibration or args.full:
        raise SupvizError(
            "`--toy`, `--no-calibration` and `--full` apply to the digits run only, not to --activations."
        )
    return _activations(args, cfg, seed, out)


# -- the digits -------------------------------------------------------------------------------------


def _toy_grid(args: argparse.Namespace, config: Any, cfg: Any) -> Any:
    """The calibration's toy grid: ``--toy``, or the config's [toy] cells of ``real.calibration_hidden``."""
    if args.toy is not None:
        from supviz.toy import load_grid

        try:
            grid = load_grid(args.toy)
        except SupvizError as exc:
            msg = str(exc)
            raise SupvizError(
                f"`--toy` {msg[len('`path` ') :]}" if msg.startswith("`path` ") else f"`--toy`: {msg}"
            ) from None
        usable = sum(1 for s in grid.specs if s.probability is not None)
        if usable < 3:
            raise SupvizError(
                f"`--toy` {args.toy!r} holds {usable} cell(s) of known feature probability; the calibration needs 3."
            )
        return grid
    hidden = cfg.resolved().calibration_hidden
    # the config's [toy] cells of real.calibration_hidden (every cell when none of them is in toy.hidden)
    keep = [m for m in config.toy.hidden if m in hidden] or list(config.toy.hidden)
    from supviz.toy import train_grid

    return train_grid(config.train_config().replace(hidden=tuple(keep)), progress=False if args.quiet else None)


def _digits(args: argparse.Namespace, cfg: Any, seed: int, grid: Any, out: Path) -> int:
    from supviz.real import plots
    from supviz.real.calibration import CALIBRATED
    from supviz.real.experiment import digits_experiment

    res = digits_experiment(cfg, seed=seed, grid=grid)
    arch = res.config["architectures"][0]
    sweep = list(res.config["sweep_methods"]) or list(res.config["methods"])
    figures = {
        "F1_pictures": lambda: plots.pictures_figure(res.f1, res.pictures),
        "F2_width_sweep": lambda: plots.sweep_figure(
            res.models, res.quality, res.spaces, res.pictures, architecture=arch, methods=sweep
        ),
    }
    if len(res.calibration):
        figures["F3_calibration"] = lambda: plots.calibration_figure(
            res.calibration, res.correlations, res.quality, architecture=arch, measures=CALIBRATED
        )
    tables = {
        "models": res.models,
        "quality": res.quality,
        "spaces": res.spaces,
        "pictures": res.pictures,
        "calibration": res.calibration,
        "correlations": res.correlations,
        "readings": res.readings,
    }
    meta = {
        "input": "sklearn.datasets.load_digits",
        "seed": seed,
        "config": res.config,
        "data": res.data,
        "toy": args.toy,
        "calibration": bool(len(res.calibration)),
        "notes": res.notes,
        "timings": res.timings,
    }
    _write(out, tables, figures, meta)
    if args.quiet:
        print(out)
        return 0
    from supviz.study.real.section import conclusion

    text, findings = conclusion(res)
    print(text)
    for f in findings:
        print(f"\n{f.claim}\n  {f.measured}\n  verdict: {f.verdict}")
    for n in res.notes:
        print(f"note: {n}")
    print(out)
    return 0


# -- a user's activations ---------------------------------------------------------------------------


def _activations(args: argparse.Namespace, cfg: Any, seed: int, out: Path) -> int:
    import numpy as np

    from supviz.real import plots
    from supviz.real.experiment import activations_report
    from supviz.real.layer import QUALITY_KEYS
    from supviz.real.measures import PICTURE_KEYS

    H = _read(args.activations, args.key, "--activations", ndim=2)
    labels = None
    if args.labels is not None:
        labels = _read(args.labels, None, "--labels", ndim=1)
        if labels.dtype.kind == "f":
            if not np.array_equal(labels, np.round(labels)):
                raise SupvizError("`--labels` must hold class indices (ints); got non-integer numbers.")
            labels = labels.astype(np.int64)
        if len(labels) != len(H):
            raise SupvizError(f"`--labels` must hold one label per activation row ({len(H)}); got {len(labels)}.")
    ref = None
    if args.reference is not None:
        ref = _read(args.reference, None, "--reference", ndim=2)
        if len(ref) != len(H):
            raise SupvizError(f"`--reference` must hold one row per activation row ({len(H)}); got {len(ref)}.")
    rep = activations_report(H, labels, reference=ref, config=cfg, seed=seed)
    rows = list(dict.fromkeys(k.split("|")[0] for k in rep.layouts))
    f1 = {
        "labels": labels if labels is not None else np.zeros(len(H), dtype=np.int64),
        "rows": rows,
        "titles": [f"{r} ({rep.spaces.set_index('space').loc[r, 'dim']}-d)" for r in rows],
        "embeddings": {k: v.embedding for k, v in rep.layouts.items()},
        "methods": list(cfg.methods),
    }
    pics = rep.pictures.assign(id=rep.pictures["space"])
    figures = {"pictures": lambda: plots.pictures_figure(f1, pics)}
    tables = {"quality": rep.quality, "spaces": rep.spaces, "pictures": rep.pictures}
    meta = {
        "input": str(args.activations),
        "key": args.key,
        "labels": args.labels,
        "reference": args.reference,
        "seed": seed,
        "shape": [int(s) for s in H.shape],
        "config": cfg.to_dict(),
    }
    _write(out, tables, figures, meta)
    if args.quiet:
        print(out)
        return 0
    print(f"{len(H)} activations of {H.shape[1]} dimensions; SAEs: {', '.join(cfg.architectures)} (measured in-sample)")
    print(
        _table(
            rep.quality,
            ["architecture", "d_sae", *QUALITY_KEYS],
        )
    )
    print(
        _table(
            rep.pictures,
            ["space", "method", *PICTURE_KEYS],
        )
    )
    print(out)
    return 0


def _read(path: str, key: str | None, flag: str, *, ndim: int) -> Any:
    import numpy as np

    from supviz.toy import load_weight_arrays

    p = Path(path)
    if not p.is_file():
        raise SupvizError(f"`{flag}` must be an existing .npy/.npz/.safetensors file; got {path!r}.")
    try:
        arrays = load_weight_arrays(p)
    except SupvizError as exc:
        msg = str(exc)
        raise SupvizError(
            f"`{flag}` {msg[len('`path` ') :]}" if msg.startswith("`path` ") else f"`{flag}`: {msg}"
        ) from None
    if key is not None:
        if key not in arrays:
            raise SupvizError(f"`--key` {key!r} is not in {path!r}; keys: {', '.join(sorted(arrays))}.")
        arr = arrays[key]
    elif len(arrays) == 1:
        arr = next(iter(arrays.values()))
    else:
        raise SupvizError(
            f"`{flag}` {path!r} holds {len(arrays)} arrays; choose one with `--key` ({', '.join(sorted(arrays)[:5])})."
        )
    arr = np.asarray(arr)
    if arr.ndim != ndim or 0 in arr.shape:
        raise SupvizError(f"`{flag}` must be a non-empty array of rank {ndim}; got shape {list(arr.shape)}.")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise SupvizError(
            f"`{flag}` must hold only finite values; got {int((~np.isfinite(arr)).sum())} NaN/inf entries."
        )
    if ndim == 1:
        return arr
    from supviz.sae._float32 import inputs  # float32, refusing magnitudes it cannot hold (no overflow to inf)

    return inputs(flag, arr)


def _earlier_output(folder: Path) -> bool:
    meta = folder / "metadata.json"
    try:
        return meta.is_file() and json.loads(meta.read_text(encoding="utf-8")).get("format") == RUN_FORMAT
    except (OSError, ValueError):
        return False


def _write(out: Path, tables: dict[str, Any], figures: dict[str, Any], meta: dict[str, Any]) -> None:
    import platform

    from supviz import __version__
    from supviz.core.io import atomic_dir, atomic_write_json
    from supviz.plot import save_figure

    meta = {
        "format": RUN_FORMAT,
        "supviz_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **meta,
        "tables": [f"{k}.csv" for k, t in tables.items() if len(t)],
        "figures": [f"{k}.png" for k in figures],
    }
    with atomic_dir(out) as tmp:
        for name, frame in tables.items():
            if len(frame):
                frame.to_csv(tmp / f"{name}.csv", index=False)
        for name, draw in figures.items():
            save_figure(draw(), tmp / name, formats=("png",))
        atomic_write_json(tmp / "metadata.json", _jsonable(meta))


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _table(frame: Any, cols: list[str]) -> str:
    cells = [cols] + [[_cell(v) for v in row] for row in frame[cols].itertuples(index=False)]
    widths = [max(len(r[j]) for r in cells) for j in range(len(cols))]
    lines = ["  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.3f}"
    return str(v)


def _parse_int(text: str, flag: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise SupvizError(f"`{flag}` must be an int; got {text!r}.") from None
