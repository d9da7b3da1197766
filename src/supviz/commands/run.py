"""``supviz run``: the whole study in one command (train, lay out, measure, draw, report).

With no arguments it runs the default study (``supviz/study/default.toml``) into ``results/`` and
prints where the report is. Stage lines and progress bars go to stderr; the last stdout line is
the report's path.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand."""
    p = subparsers.add_parser(
        "run",
        help="reproduce the whole study: figures, metrics table and HTML report",
        description=(
            "Reproduce the study (Hamblin 2022) end to end: train the toy models (or load --weights), lay out every "
            "panel with MDS / UMAP / t-SNE, measure each, draw every figure and write a self-contained HTML report. "
            "Every expensive step is cached under <out>/cache: a rerun recomputes only what changed, a killed run "
            "resumes."
        ),
    )
    p.add_argument(
        "--config", metavar="FILE", help="study TOML (default: the shipped study; see `supviz config --default`)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default="results",
        help=(
            "run folder (default: results/); a rerun replaces the files of the run there (manifest.json "
            "lists them) and keeps any other file; a non-empty folder that is not a run folder is refused"
        ),
    )
    p.add_argument(
        "--weights",
        metavar="FILE",
        help=(
            "analyse these weights in section 2 instead of training: the study's npz (keys 60to{m} = uniform, "
            "60to{m}_withimportance = 0.9^i) or any file supviz.toy.load_grid reads"
        ),
    )
    p.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help="training steps of every toy model (overrides toy.steps; the study used 10000; the report states it)",
    )
    p.add_argument(
        "--points",
        type=int,
        metavar="N",
        help=(
            "sampled inputs per feature probability in the data-point section (overrides datapoints.points; "
            "default 200; 10,000 works, spread over run.n_jobs worker processes with a progress bar)"
        ),
    )
    p.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes for layouts and figures (overrides run.n_jobs; default 2)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=(
            "run the units of work on a Dask cluster (overrides run.scheduler): 'local:N' starts a LocalCluster of "
            "N worker processes, 'tcp://host:8786' joins a running scheduler (the cache folder must be on a "
            "filesystem every worker sees; README: On a cluster)"
        ),
    )
    p.add_argument("--paper-size-a3", action="store_true", help="draw A3 at the larger, paper-like size (slower)")
    p.add_argument("--no-cache", action="store_true", help="recompute everything (read and write no cache)")
    p.add_argument("--quiet", action="store_true", help="no stage lines or progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check every input, run the study; print the report's path."""
    from supviz.study.pipeline import run_study

    config = build_config(args)

    def announce(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    # run_study checks the weights, --out and the cache folder (check_study) before it writes anything
    result = run_study(
        config, args.out, weights_file=args.weights, quiet=args.quiet, announce=announce, use_cache=not args.no_cache
    )
    if not args.quiet:
        print(
            f"[supviz] done in {result.total_seconds:.1f} s: {len(result.figures)} figures, "
            f"{result.cache_misses} steps computed, {result.cache_hits} from cache",
            file=sys.stderr,
        )
        print(f"tables: {', '.join(str(p) for name, p in result.table.items() if name.endswith('.csv'))}")
    print(f"report: {result.report}")
    return 0


def build_config(args: argparse.Namespace) -> Any:
    """The study config of ``--config`` with the flags applied (each flag checked)."""
    from supviz.core.validation import check_int
    from supviz.study.config import load_config

    config = load_config(args.config)
    if args.steps is not None:
        config.toy = config.toy.replace(steps=check_int("--steps", args.steps, min_value=1))
    if args.points is not None:
        config.section("datapoints").points = check_int("--points", args.points, min_value=10)
    if args.jobs is not None:
        config.run.n_jobs = check_int("--jobs", args.jobs, min_value=1, max_value=64)
    if args.scheduler is not None:
        from supviz.runtime.cluster import check_scheduler

        config.run.scheduler = check_scheduler(args.scheduler, "--scheduler")
    if args.paper_size_a3:
        config.section("background").a3_paper_size = True
    return config
