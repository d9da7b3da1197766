"""``supviz sweep CONFIG.toml``: a grid of toy models larger than the study's, every cell measured.

Writes ``<out>/sweep.parquet`` (one tidy row per number: diagnostics, the pictures of the feature
directions and their measures, the pictures of data points and theirs, SAE scores),
``<out>/summary.png`` / ``.svg``, ``<out>/sweep.toml``, ``<out>/run.json`` and a manifest; every
unit of work is cached (``<out>/cache`` or ``run.cache_dir``), so a stopped sweep resumes and a
larger one reuses a smaller one's cells. ``--example`` prints the shipped example sweep.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``sweep`` subcommand."""
    p = subparsers.add_parser(
        "sweep",
        help="train, picture and measure every cell of a grid larger than the study's (one Parquet table)",
        description=(
            "Train every cell of the grid in CONFIG (features x hidden sizes x probabilities x importance curves x "
            "replicates), picture and measure its feature directions and its data points, score SAEs on it, and "
            "write one tidy table (sweep.parquet) and a summary plot. Locally or on a Dask cluster (--scheduler); "
            "every unit of work is cached, so a stopped sweep resumes."
        ),
    )
    p.add_argument("config", metavar="CONFIG", nargs="?", help="sweep TOML (see `supviz sweep --example`)")
    p.add_argument("--example", action="store_true", help="print the shipped example sweep (TOML) and exit")
    p.add_argument(
        "--out",
        metavar="DIR",
        default="sweep",
        help="output folder (default: sweep/); a rerun replaces the previous sweep's files there",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="'local:N' (a Dask LocalCluster of N workers) or a Dask scheduler address (overrides run.scheduler)",
    )
    p.add_argument("--jobs", type=int, metavar="N", help="local worker processes (overrides run.n_jobs)")
    p.add_argument("--steps", type=int, metavar="N", help="training steps of every toy model (overrides train.steps)")
    p.add_argument("--no-cache", action="store_true", help="recompute everything (read and write no cache)")
    p.add_argument("--quiet", action="store_true", help="no stage lines or progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check every input, run the sweep; print the table's path."""
    from supviz.errors import SupvizError

    if args.example:
        from supviz.sweep.config import example_toml_text

        if args.config is not None:
            raise SupvizError(f"`--example` prints the example and takes no CONFIG; got {args.config!r}.")

        sys.stdout.write(example_toml_text())
        return 0
    if args.config is None:
        raise SupvizError("`CONFIG` is missing: give a sweep TOML file (`supviz sweep --example` prints one).")
    config = build_config(args)
    from supviz.sweep.run import run_sweep

    def announce(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    result = run_sweep(config, args.out, quiet=args.quiet, announce=announce, use_cache=not args.no_cache)
    if not args.quiet:
        print(
            f"[supviz] sweep done in {result.seconds:.1f} s: {result.n_cells} cells, {result.n_rows} rows, "
            f"{result.cache_misses} steps computed, {result.cache_hits} from cache",
            file=sys.stderr,
        )
        print(f"summary: {result.summary[0]}")
    print(f"table: {result.table}")
    return 0


def build_config(args: argparse.Namespace) -> Any:
    """The sweep of CONFIG with the flags applied (each checked)."""
    from supviz.core.validation import check_int
    from supviz.sweep.config import load_sweep

    config = load_sweep(args.config, name="CONFIG")
    if args.scheduler is not None:
        from supviz.runtime.cluster import check_scheduler

        config.run.scheduler = check_scheduler(args.scheduler, "--scheduler")
    if args.jobs is not None:
        config.run.n_jobs = check_int("--jobs", args.jobs, min_value=1, max_value=64)
    if args.steps is not None:
        config.train = {**config.train, "steps": check_int("--steps", args.steps, min_value=1)}
        config.train_config(config.grid.n_features[0])
    return config
