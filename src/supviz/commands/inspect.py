"""``supviz inspect``: a table of geometry diagnostics per instance of a run or a weight file."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from typing import Any

_COLUMNS = [
    # key, header, format
    ("index", "#", "{}"),
    ("label", "instance", "{}"),
    ("n", "n", "{}"),
    ("m", "m", "{}"),
    ("p", "p", "{:.3g}"),
    ("importance", "importance", "{}"),
    ("final_loss", "loss", "{:.4g}"),
    ("frobenius_sq", "|W|_F^2", "{:.3f}"),
    ("dims_per_feature", "m/|W|_F^2", "{:.3f}"),
    ("represented_norm", "repr(norm)", "{}"),
    ("represented_mean_abs", "repr(mean|W|)", "{}"),
    ("mean_superposition", "mean sup(repr)", "{:.3f}"),
    ("mean_dimensionality", "mean D(repr)", "{:.3f}"),
]


def register(subparsers: Any) -> None:
    """Add the ``inspect`` subcommand."""
    p = subparsers.add_parser(
        "inspect",
        help="print per-instance diagnostics of a trained run or a weight file",
        description=(
            "Load a run directory written by `supviz train`, or an array file (.npz/.npy/.safetensors) of weights "
            "[instances, n, m] or [n, m] (the study's hamblin2022_weights.npz included), and print one row per "
            "instance: final loss, |W|_F^2, dimensions per feature m/|W|_F^2, represented features by the norm rule "
            "(||W_i|| > threshold) and by the study's rule (mean|W_i| > fraction * mean|W_0|), mean superposition "
            "sum_{j!=i} (W_i_hat . W_j)^2 and mean feature dimensionality D_i over the norm-represented features."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("path", metavar="RUN_DIR_OR_ARRAY_FILE", help="run directory or .npz/.npy/.safetensors file")
    p.add_argument("--threshold", type=str, default="0.5", metavar="T", help="norm rule: represented when ||W_i|| > T")
    p.add_argument(
        "--fraction",
        type=str,
        default="0.05",
        metavar="F",
        help="study's rule: represented when mean|W_i| > F * mean|W_0| (W_0 = most important feature)",
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the diagnostics table."""
    from supviz.toy import load_grid
    from supviz.toy.diagnostics import grid_summary

    threshold = _number("--threshold", args.threshold)
    fraction = _number("--fraction", args.fraction)
    grid = load_grid(args.path)
    rows = grid_summary(grid, norm_threshold=threshold, mean_abs_fraction=fraction)
    if args.format == "json":
        json.dump([{k: _json_value(v) for k, v in r.items()} for r in rows], sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=[c[0] for c in _COLUMNS], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    else:
        src = grid.info.get("source", args.path)
        print(f"{src}: {len(grid)} instance(s); notes: {'; '.join(grid.info.get('notes', [])) or 'none'}")
        print(_table(rows))
    return 0


def _table(rows: list[dict[str, Any]]) -> str:
    cells = [[h for _k, h, _f in _COLUMNS]]
    for r in rows:
        cells.append([_cell(r[k], f) for k, _h, f in _COLUMNS])
    widths = [max(len(row[j]) for row in cells) for j in range(len(_COLUMNS))]
    lines = []
    for i, row in enumerate(cells):
        parts = [c.ljust(w) if j in (1, 5) else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(parts).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return fmt.format(value)


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _number(flag: str, text: str) -> float:
    from supviz.core.validation import check_float
    from supviz.errors import SupvizError

    try:
        value = float(text)
    except ValueError:
        raise SupvizError(f"`{flag}` must be a number; got {text!r}.") from None
    return check_float(flag, value, min_value=0.0)
