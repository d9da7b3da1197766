"""``supviz train``: train a grid of toy models and save it as a run directory.

Settings come from, in rising priority: the study's defaults (``TrainConfig()``), ``--config
FILE.toml``, and the flags. The file is a study config (``supviz config --default > my.toml``),
whose ``[toy]`` table is read, with the seed the study derives from its root ``seed`` (so ``supviz
train --config my.toml`` trains exactly the grid ``supviz run --config my.toml`` trains); or the
fields of :class:`~supviz.toy.TrainConfig` alone, at the top level or in a ``[train]`` table.
Every setting, and ``--out``, is checked before anything is trained or written.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from supviz.core.outdir import default_out
from supviz.errors import SupvizError

DEFAULT_OUT = default_out("train")

# field -> (flag, argparse options); help texts are the field docstrings of TrainConfig
_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "n_features": ("--n-features", {"metavar": "N"}),
    "hidden": ("--hidden", {"nargs": "+", "metavar": "M"}),
    "probabilities": ("--probabilities", {"nargs": "+", "metavar": "P"}),
    "importances": ("--importance", {"nargs": "+", "metavar": "SPEC"}),
    "steps": ("--steps", {"metavar": "N"}),
    "batch_size": ("--batch-size", {"metavar": "N"}),
    "lr": ("--lr", {"metavar": "LR"}),
    "weight_decay": ("--weight-decay", {"metavar": "WD"}),
    "betas": ("--betas", {"nargs": 2, "metavar": ("B1", "B2")}),
    "eps": ("--eps", {"metavar": "EPS"}),
    "schedule": ("--schedule", {"metavar": "{constant,linear,cosine}"}),
    "warmup_steps": ("--warmup-steps", {"metavar": "N"}),
    "init": ("--init", {"metavar": "{xavier,reference}"}),
    "seed": ("--seed", {"metavar": "SEED"}),
    "device": ("--device", {"metavar": "DEVICE"}),
    "engine": ("--engine", {"metavar": "{auto,numba,torch}"}),
    "threads": ("--threads", {"metavar": "N"}),
    "log_every": ("--log-every", {"metavar": "N"}),
}
_INTS = {"n_features", "hidden", "steps", "batch_size", "warmup_steps", "seed", "threads", "log_every"}
_FLOATS = {"lr", "weight_decay", "betas", "eps"}
_EXTRA_HELP = {
    "probabilities": " Or one 'sweep:COUNT[:BASE]' for BASE ** -linspace(0, 1, COUNT) (BASE defaults to 20).",
    "importances": " An explicit list is comma-separated: 1,0.5,0.25,... (n_features numbers).",
}


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand."""
    from supviz.toy.config import TrainConfig, field_docs

    defaults = TrainConfig()
    docs = field_docs(TrainConfig)
    p = subparsers.add_parser(
        "train",
        help="train a grid of toy models of superposition (default: the study's 72 models)",
        description=(
            "Train toy models of superposition (h = W^T x, x' = ReLU(W h + b), importance-weighted squared error, "
            "AdamW) for every importance x hidden size x probability, as one job, and save weights, biases, loss "
            "curves and metadata to --out. Defaults: the study's grid (n=60; m in 3,5,10,20,30,40; p = "
            "20 ** -linspace(0,1,6); importance uniform and 0.9^i; 10,000 steps of batch 1024)."
        ),
        epilog=(
            "Priority: flags > --config file > defaults. Bad input is reported in one line (exit status 2) "
            "before anything is written. Same seed, same machine, CPU: the same weights bit for bit."
        ),
    )
    io = p.add_argument_group("input and output")
    io.add_argument(
        "--config",
        metavar="FILE.toml",
        help=(
            "a study config (supviz config --default > my.toml): its [toy] table, with the study's seed; "
            "or TrainConfig fields at the top level or in a [train] table"
        ),
    )
    io.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help="run directory to write (weights.safetensors, metadata.json); an earlier run there is replaced (default: "
        f"{DEFAULT_OUT})",
    )
    io.add_argument(
        "--quiet", action="store_true", help="no progress bar and no summary lines except the run directory"
    )
    g = p.add_argument_group("training settings (TrainConfig fields)")
    for name, (flag, opts) in _FIELDS.items():
        default = getattr(defaults, name)
        shown = (
            " ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in default)
            if isinstance(default, tuple)
            else default
        )
        g.add_argument(
            flag,
            dest=name,
            default=None,
            help=docs.get(name, "") + _EXTRA_HELP.get(name, "") + f" (default: {shown})",
            **opts,
        )
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> Any:
    """The checked :class:`~supviz.toy.TrainConfig` of the parsed arguments."""
    from supviz.toy.config import TrainConfig

    config = TrainConfig()
    if args.config:
        config = _config_file(args.config, base=config)
    changes, sweep = {}, None
    for name, (flag, _opts) in _FIELDS.items():
        raw = getattr(args, name, None)
        if raw is not None:
            if name == "probabilities" and len(raw) == 1 and str(raw[0]).startswith("sweep:"):
                sweep = _sweep_spec(flag, raw[0])
            else:
                changes[name] = _convert(name, flag, raw)
    config = config.replace(**changes) if changes else config
    if sweep is not None:  # sized before it is listed: sweep:100000000 hung in the linear size check
        from supviz.core.resources import check_fits, toy_instances_need
        from supviz.toy import feature_probabilities

        count, base = sweep
        instances = count * len(config.hidden) * len(config.importances)
        need = toy_instances_need(
            instances, config.n_features, min(config.hidden), steps=config.steps, log_every=config.log_every
        )
        check_fits(need, "`--probabilities`, `--n-features`, `--hidden`, `--importances`, `--steps`")
        config = config.replace(probabilities=[float(p) for p in feature_probabilities(count, base)])
    return config


def _config_file(path: str, *, base: Any) -> Any:
    from supviz.core.config import read_toml
    from supviz.study.config import load_config
    from supviz.toy.config import TrainConfig

    data = read_toml(path)
    if "train" not in data and any(isinstance(v, dict) for v in data.values()):  # a study config: tables
        return load_config(path).train_config()
    return TrainConfig.from_toml(path, base=base)


def run(args: argparse.Namespace) -> int:
    """Check everything, train, save; print a summary and the run directory."""
    from supviz.datapoints.sampling import check_nonzero_rate
    from supviz.toy import save_grid, train_grid
    from supviz.toy.storage import check_run_dir_writable, is_run_dir
    from supviz.toy.train import check_training_fits, resolve_engine

    config = build_config(args)
    for i, p in enumerate(config.probabilities):  # p = 1e-300 used to end in a ZeroDivisionError while training
        check_nonzero_rate(config.n_features, p, name=f"probabilities[{i}]")
    resolve_engine(config)  # the device and engine are usable here, before anything is trained
    check_training_fits(config, flags=True)  # and the sizes fit this machine
    check_run_dir_writable(args.out)
    if not args.quiet and is_run_dir(args.out):
        print(f"supviz train: replacing the run in {args.out} when this one is complete", file=sys.stderr)
    grid = train_grid(config, progress=False if args.quiet else None)
    path = save_grid(grid, args.out)
    if not args.quiet:
        info = grid.info
        finals = grid.final_losses
        print(
            f"trained {len(grid)} instances x {config.steps} steps in {info['wall_seconds']:.1f} s "
            f"({info['ms_per_step']:.2f} ms/step, {info['engine']} engine, {info['threads']} thread(s), "
            f"{config.device})"
        )
        print(f"final loss per instance: mean {finals.mean():.4g}, min {finals.min():.4g}, max {finals.max():.4g}")
    print(path)
    return 0


def _convert(name: str, flag: str, raw: Any) -> Any:
    if name == "importances":
        return [_importance(flag, v) for v in raw]
    if isinstance(raw, list):
        return [_scalar(name, flag, v) for v in raw]
    return _scalar(name, flag, raw)


def _scalar(name: str, flag: str, text: str) -> Any:
    if name in _INTS:
        try:
            return int(text)
        except ValueError:
            raise SupvizError(f"`{flag}` must be an int; got {text!r}.") from None
    if name in _FLOATS or name == "probabilities":
        try:
            return float(text)
        except ValueError:
            raise SupvizError(f"`{flag}` must be a number; got {text!r}.") from None
    return text


def _sweep_spec(flag: str, text: str) -> tuple[int, float]:
    """(COUNT, BASE) of 'sweep:COUNT[:BASE]', checked (COUNT >= 1, BASE >= 1) but not yet listed."""
    from supviz.core.validation import check_float, check_int

    parts = text.split(":")[1:]
    try:
        count = int(parts[0])
        base = float(parts[1]) if len(parts) > 1 else 20.0
        if len(parts) > 2:
            raise ValueError
    except (ValueError, IndexError):
        raise SupvizError(f"`{flag}` sweep must read 'sweep:COUNT[:BASE]'; got {text!r}.") from None
    return check_int(f"{flag} COUNT", count, min_value=1), check_float(f"{flag} BASE", base, min_value=1.0)


def _importance(flag: str, text: str) -> Any:
    if "," not in text and not _is_float(text):
        return text  # a named curve, checked by TrainConfig
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SupvizError(f"`{flag}` explicit importance must be comma-separated numbers; got {text!r}.") from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
