"""``supviz config``: print the default study config, or check and print a config file.

``supviz config FILE`` runs exactly the checks of ``supviz run --config FILE``
(:func:`supviz.study.pipeline.check_study`: every section's settings, the weights file, the cache
folder) and prints the resolved config only when they pass.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``config`` subcommand."""
    p = subparsers.add_parser(
        "config",
        help="print the default study config (supviz config --default > my.toml) or check a config file",
        description="Print the shipped default study config with its comments, or validate FILE and print it resolved.",
    )
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--default", action="store_true", help="print the default config (TOML, commented)")
    g.add_argument("file", nargs="?", metavar="FILE", help="validate FILE and print the full resolved config")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print a config."""
    from supviz.study.config import default_toml_text, dump_config, load_config
    from supviz.study.pipeline import check_study

    if args.default:
        sys.stdout.write(default_toml_text())
    else:
        config = load_config(args.file, name="FILE")
        check_study(config)
        sys.stdout.write(dump_config(config))
    return 0
