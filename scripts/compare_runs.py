"""Compare two `supviz run` folders of the same seed, value for value: tables, verdicts, figures.

    python scripts/compare_runs.py OLD_RUN NEW_RUN

Made for issue 17 (the restructuring that must change no number and no picture). The tables were
split by kind of observation in supviz 0.2; an OLD folder from 0.1 is mapped to the new tables first
(:func:`as_new_tables`: section F's rows of ``cells`` go to ``models`` and ``saes``, section E's
``E1`` rows of ``panels`` to ``saes``, section F's ``F_picture`` / ``F_space`` rows of ``panels`` to
``layers``, with their columns renamed). Then every table is compared row by row on its ids, every
number exactly (NaN equals NaN), every text exactly; every figure's PNG pixel by pixel and its SVG
byte by byte; the report's text sentence by sentence. Prints what differs and exits 1 if anything
does (0 if nothing).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: Columns that say how a 0.1 row was filed, not what was measured: dropped when its kind got a table.
FILING = (
    "experiment",
    "model",
    "panel",
    "note",
    "params",
    "represented_rule",
    "source",
    "importance",
    "p",
    "m",
    "n_features",
    "method",
    "n_points",
    "collapsed",
)
IDS = {
    "cells": ["model", "importance", "m", "p"],
    "models": ["kind", "width"],
    "saes": ["experiment", "architecture", "importance", "m", "p", "kind", "width"],
    "panels": ["experiment", "importance", "m", "p", "method", "params", "panel", "represented_rule"],
    "points": ["importance", "m", "p", "space", "method"],
    "layers": ["kind", "width", "space", "architecture", "method"],
    "verdicts": ["key"],
}


def _read(folder: Path, kind: str) -> pd.DataFrame | None:
    path = folder / f"{kind}.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def as_new_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of a run folder, in 0.2's kinds (a 0.1 folder's rows moved to the tables of their kind)."""
    tables = {k: t for k in IDS if (t := _read(folder, k)) is not None}
    if "models" in tables or "cells" not in tables:
        return tables
    cells, panels = tables["cells"], tables["panels"]
    f = cells["model"].astype(str)
    models, saes = [], []
    for row in cells[f.isin(["F_classifier", "F_autoencoder"])].to_dict("records"):
        models.append({"kind": row["model"][2:], "width": row["m"], "n_inputs": row["n_features"], **_values(row)})
    for row in cells[f.str.startswith("F_sae_")].to_dict("records"):
        kind, arch = re.match(r"F_sae_(classifier|autoencoder)_(\w+)", row["model"]).groups()
        saes.append({"experiment": "F_layer", "architecture": arch, "kind": kind, "width": row["m"], **_values(row)})
    for row in cells[f.str.startswith("F_calibration_")].to_dict("records"):
        saes.append(
            {
                "experiment": "F_calibration",
                "architecture": row["model"][len("F_calibration_") :],
                "importance": row["importance"],
                "m": row["m"],
                "p": row["p"],
                **_values(row),
            }
        )
    e = panels["experiment"].astype(str)
    for row in panels[e == "E1"].to_dict("records"):
        saes.append(
            {
                "experiment": "E1",
                "architecture": row["method"],
                "importance": row["importance"],
                "m": row["m"],
                "p": row["p"],
                "params": row["params"],
                "n_points": row["n_points"],
                **_values(row),
            }
        )
    layers = []
    for row in panels[e.isin(["F_picture", "F_space"])].to_dict("records"):
        params = json.loads(row["params"])
        layers.append(
            {
                "kind": params["kind"],
                "width": row["m"],
                "space": params["space"],
                "architecture": params["architecture"],
                "method": row["method"],
                "dim": params.get("dim"),
                "n_points": row["n_points"],
                "id": row["panel"],
                "collapsed": row["collapsed"],
                **_values(row),
            }
        )
    tables["cells"] = cells[~f.str.startswith("F_")]
    tables["panels"] = panels[~e.isin(["E1", "F_picture", "F_space"])]
    tables.update(models=pd.DataFrame(models), saes=pd.DataFrame(saes), layers=pd.DataFrame(layers))
    return tables


def _values(row: dict) -> dict:
    """A 0.1 row's measured columns (its filing columns and the NaNs of other kinds' columns dropped)."""
    out = {}
    for k, v in row.items():
        if k in FILING or k == "nan_reasons":
            continue
        if isinstance(v, float) and np.isnan(v):
            continue
        out[k] = v
    out["nan_reasons"] = row.get("nan_reasons", "")
    return out


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def _same(a: object, b: object) -> bool:
    if _missing(a) or _missing(b):  # a text column holds "" where a number column holds NaN
        return (_missing(a) or a == "") and (_missing(b) or b == "")
    if isinstance(a, str) or isinstance(b, str):
        return str("" if a is None else a) == str("" if b is None else b)
    try:
        fa, fb = float(a), float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return a == b
    return (np.isnan(fa) and np.isnan(fb)) or fa == fb


def _id_text(v: object) -> str:
    """An id as text, numbers by value (an Int64 10 and a float 10.0 are one id)."""
    if _missing(v):
        return ""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return repr(float(v))
    return str(v)


def _svg(path: Path) -> str:
    """An SVG's text with matplotlib's generated ids (``m7335d99fdf``, ``image7c718b9df8``, ``C0_0_af8d7300f6``:
    random per process)
    numbered in the order they appear."""
    text = path.read_text(encoding="utf-8")
    names: dict[str, str] = {}
    return re.sub(
        r"(?<=[\"#(])([A-Za-z0-9_]*?)([0-9a-f]{10})\b",
        lambda m: names.setdefault(m.group(0), f"{m.group(1)}{len(names)}"),
        text,
    )


def _reasons(text: object) -> set[str]:
    """A ``nan_reasons`` cell as a set of ``metric: reason`` clauses ("not applicable" ones dropped: they
    name the other kinds of rows a table holds, which a split changes by design)."""
    return {c for c in str(text or "").split("; ") if c and "not applicable to" not in c}


def compare_table(kind: str, old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    ids = [c for c in IDS[kind] if c in new.columns and c in old.columns]
    problems = []
    if len(old) != len(new):
        problems.append(f"{kind}: {len(old)} rows before, {len(new)} after")

    def key(fr: pd.DataFrame) -> pd.Series:
        """A row's ids, and its place among rows with the same ids (the tables keep their row order)."""
        k = fr[ids].map(_id_text).agg("|".join, axis=1)
        return k + "#" + k.groupby(k).cumcount().astype(str)

    o, n = old.assign(_k=key(old)).set_index("_k"), new.assign(_k=key(new)).set_index("_k")
    for k in sorted(set(o.index) ^ set(n.index))[:5]:
        problems.append(f"{kind}: row {k!r} only {'before' if k in o.index else 'after'}")
    shared = [k for k in o.index if k in n.index]
    for col in sorted(set(old.columns) - {"_k"}):
        if col not in new.columns:
            if not old[col].isna().all() and not (old[col].astype(str) == "").all():
                problems.append(f"{kind}: column {col!r} is gone")
            continue
        bad = 0
        for k in shared:
            a, b = o.at[k, col], n.at[k, col]
            same = _reasons(a) == _reasons(b) if col == "nan_reasons" else _same(a, b)
            bad += not same
            if not same and bad <= 2:
                problems.append(f"{kind}[{k}].{col}: {a!r} before, {b!r} after")
        if bad > 2:
            problems.append(f"{kind}.{col}: {bad} rows differ")
    for col in sorted(set(new.columns) - set(old.columns)):
        if not new[col].isna().all() and not (new[col].astype(str) == "").all():
            problems.append(f"{kind}: new column {col!r}")
    return problems


def compare_figures(old: Path, new: Path) -> list[str]:
    """Every figure file: PNG pixels, SVG text (ids numbered), interactive pages and the plotly JSON the
    report embeds, text for text."""
    from PIL import Image

    from supviz.report.html import figure_specs

    problems = []
    pages_a = {p.name: p for p in (old / "figures").glob("*.html")}
    pages_b = {p.name: p for p in (new / "figures").glob("*.html")}
    problems += [
        f"figure {x} only {'before' if x in pages_a else 'after'}" for x in sorted(set(pages_a) ^ set(pages_b))
    ]
    problems += [
        f"figure {x}: interactive page differs"
        for x in sorted(set(pages_a) & set(pages_b))
        if pages_a[x].read_bytes() != pages_b[x].read_bytes()
    ]
    specs_a = figure_specs((old / "report.html").read_text(encoding="utf-8"))
    specs_b = figure_specs((new / "report.html").read_text(encoding="utf-8"))
    problems += [
        f"report: interactive figure {x} only {'before' if x in specs_a else 'after'}"
        for x in sorted(set(specs_a) ^ set(specs_b))
    ]
    problems += [
        f"report: interactive figure {x} differs"
        for x in sorted(set(specs_a) & set(specs_b))
        if specs_a[x] != specs_b[x]
    ]
    a = {p.name for p in (old / "figures").glob("*") if p.suffix in (".png", ".svg")}
    b = {p.name for p in (new / "figures").glob("*") if p.suffix in (".png", ".svg")}
    problems += [f"figure {x} only {'before' if x in a else 'after'}" for x in sorted(a ^ b)]
    for name in sorted(a & b):
        pa, pb = old / "figures" / name, new / "figures" / name
        if name.endswith(".svg"):
            if _svg(pa) != _svg(pb):
                problems.append(f"figure {name}: SVG differs")
            continue
        with Image.open(pa) as ia, Image.open(pb) as ib:
            x, y = np.asarray(ia.convert("RGBA")), np.asarray(ib.convert("RGBA"))
        if x.shape != y.shape:
            problems.append(f"figure {name}: {x.shape[:2]} pixels before, {y.shape[:2]} after")
        elif (x != y).any():
            problems.append(f"figure {name}: {int((x != y).any(axis=-1).sum())} pixels differ")
    return problems


def report_sentences(folder: Path) -> list[str]:
    import html

    doc = (folder / "report.html").read_text(encoding="utf-8")
    doc = re.sub(r"<script.*?</script>", " ", doc, flags=re.S)
    doc = re.sub(r"<style.*?</style>", " ", doc, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", doc))
    return [s.strip() for s in text.split("\n") if s.strip()]


def compare(old: Path, new: Path) -> list[str]:
    a, b = as_new_tables(old), as_new_tables(new)
    problems = [f"table {k} only {'before' if k in a else 'after'}" for k in sorted(set(a) ^ set(b))]
    for kind in IDS:
        if kind in a and kind in b:
            problems += compare_table(kind, a[kind], b[kind])
    problems += compare_figures(old, new)
    sa, sb = report_sentences(old), report_sentences(new)
    import difflib

    diff = [d for d in difflib.unified_diff(sa, sb, lineterm="", n=0) if d[:1] in "+-" and d[:3] not in ("+++", "---")]
    # provenance differs between any two runs: wall times (in the appendix and in a section's intro),
    # dates, cache traffic
    diff = [d for d in diff if not re.search(r"\b\d+(\.\d+)? s\b|Started|\d{4}-\d\d-\d\d|\d+ computed, \d+ cached", d)]
    problems += [f"report: {d}" for d in diff]
    return problems


def _check_run(folder: Path) -> str | None:
    """Why ``folder`` is not a `supviz run` folder to compare (None: it is one)."""
    if not folder.is_dir():
        return f"{str(folder)!r} is not a folder"
    if not (folder / "report.html").is_file():
        return f"{str(folder)!r} holds no report.html (not a finished `supviz run` folder)"
    if not list(folder.glob("*.parquet")):
        return f"{str(folder)!r} holds no tables (*.parquet)"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    for folder in map(Path, argv):
        why = _check_run(folder)
        if why:
            print(f"compare_runs: {why}.", file=sys.stderr)
            return 2
    problems = compare(Path(argv[0]), Path(argv[1]))
    for p in problems:
        print(p)
    print(f"{len(problems)} differences" if problems else "the same numbers, figures and report text")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
