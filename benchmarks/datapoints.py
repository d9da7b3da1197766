"""Benchmark: the data-point section at 10,000 points for one cell, per method, against baselines.

For one cell of the study's own weights (``60to10``, p = 20 ** -0.8 = 0.091, uniform importance) it
samples 10,000 non-zero inputs, embeds ``h = W^T x`` and times, per method, supviz's layout of ``h``
plus every measure against ``x`` (``datapoint_layout`` + ``measure_distortion``), and a baseline in
the same run:

- ``mds``:  supviz's landmark SMACOF (1,000 landmarks) against scikit-learn's full SMACOF
  (``sklearn.manifold.MDS``, metric, random start: its classical start alone would eigendecompose
  the full 10,000 x 10,000 matrix). The full SMACOF at N = 10,000 needs minutes
  per run, so the baseline runs ``--sk-iter`` iterations (default 10) and its time for 300
  iterations (supviz's cap) is extrapolated linearly and marked as an estimate;
- ``umap``: umap-learn called directly on ``h`` with the same parameters (so the ratio is supviz's
  overhead: the engine's checks plus the measures);
- ``tsne``: openTSNE called directly on ``h`` with the same parameters;
- ``measures``: supviz's measures (blocked, tie-aware) against scikit-learn's
  ``trustworthiness`` (which holds the full N x N distance and rank matrices) on the same layout.

Every case runs in its own subprocess, so ``ru_maxrss`` (the process's peak resident memory) is
that case's own; ``tracemalloc`` gives the peak of Python (and numpy) allocations. Usage::

    python benchmarks/datapoints.py [--points 10000] [--cases mds,umap,tsne,measures]
                                    [--grid-points 200,300] [--out FILE]

and it prints a Markdown table (also written to ``--out``, default docs/bench/datapoints.md).

``--grid-points`` also times the whole section as the default study would run it: all 72 cells
(m in 3..40, both importance variants) of the study's weights, pictures of ``x`` and ``h`` with
MDS, UMAP and t-SNE, the exact measures of ``h`` and ``x_rep``, and the ring analysis, on 2 worker
processes (``datapoint_grid(..., n_jobs=2)``), one subprocess per point count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = Path(os.environ.get("SUPVIZ_HAMBLIN", ROOT.parent / "shared" / "data" / "hamblin2022_weights.npz"))
KEY, P_INDEX = "60to10", 4


def _cell(points: int):
    from supviz.datapoints import latent_codes, sample_inputs

    with np.load(WEIGHTS) as f:
        W = np.asarray(f[KEY][P_INDEX], dtype=np.float64)
    p = float(20.0 ** -np.linspace(0, 1, 6)[P_INDEX])
    s = sample_inputs(W.shape[0], probability=p, n_points=points, random_state=0)
    return s, latent_codes(s.x, W), p


def _one(case: str, variant: str, points: int, sk_iter: int) -> dict:
    """Run one case in this process and return its timing and memory."""
    s, h, p = _cell(points)
    tracemalloc.start()
    t0 = time.perf_counter()
    info: dict = {}
    if variant == "supviz":
        from supviz.datapoints import datapoint_layout, measure_distortion

        if case == "measures":
            Y = h[:, :2]
            r = measure_distortion(s.x, Y, active=s.active, k=10)
            info["trustworthiness"] = r.trustworthiness
        else:
            lay = datapoint_layout(h, case, random_state=0)
            r = measure_distortion(s.x, lay.embedding, active=s.active, k=10)
            info.update(knn_recall=r.knn_recall, trustworthiness=r.trustworthiness, false_neighbour_rate=r.false.rate)
            if case == "mds":
                info["landmark_stress"] = lay.info.get("smacof_stress")
    else:
        if case == "mds":
            from sklearn.manifold import MDS

            # Random start: sklearn's classical start would first eigendecompose the full
            # 10,000 x 10,000 matrix (minutes on its own); the iterations are what is compared.
            mds = MDS(
                n_components=2,
                metric_mds=True,
                n_init=1,
                init="random",
                max_iter=sk_iter,
                eps=0.0,
                random_state=0,
                normalized_stress=False,
            )
            mds.fit_transform(h)
            info["iterations"] = int(mds.n_iter_)
        elif case == "umap":
            import umap

            umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=0).fit_transform(h)
        elif case == "tsne":
            from openTSNE import TSNE

            np.asarray(TSNE(perplexity=30.0, random_state=0, n_jobs=1).fit(h))
        elif case == "measures":
            from sklearn.manifold import trustworthiness

            info["trustworthiness"] = float(trustworthiness(s.x, h[:, :2], n_neighbors=10))
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "case": case,
        "variant": variant,
        "seconds": seconds,
        "py_peak_mb": peak / 2**20,
        "rss_peak_mb": rss / 1024,
        "n_points": int(h.shape[0]),
        "p": p,
        **info,
    }


def _grid(points: int, save: str = "") -> dict:
    """The whole section over the 72 default cells at ``points`` points (worker-time per job kind)."""
    from supviz.datapoints import datapoint_grid
    from supviz.toy import load_hamblin2022

    grid = load_hamblin2022(WEIGHTS)
    inst = [i for i, s in enumerate(grid.specs) if s.n_hidden != 50]
    t0 = time.perf_counter()
    res = datapoint_grid(
        grid,
        n_points=points,
        methods=("mds", "umap", "tsne"),
        layout_spaces=("x", "h"),
        instances=inst,
        random_state=0,
        n_jobs=2,
        progress=False,
    )
    wall = time.perf_counter() - t0
    if save:  # Parquet + npz + JSON (supviz.study.datapoints.section.load_result reads it back), no pickle
        from supviz.study.datapoints.section import save_result

        folder = Path(save) / f"datapoint_grid_{points}"
        folder.mkdir(parents=True, exist_ok=True)
        save_result(res, folder)
    tm = res.timings
    # Shared jobs (the x pictures, one per p) appear once per cell in the timings: count them once.
    own = tm[tm["space"] != "x"]
    shared = tm[tm["space"] == "x"].drop_duplicates(subset=["p", "method"])
    per = {}
    for frame, tag in ((own, "cell"), (shared, "shared")):
        for (space, method), grp in frame.groupby(["space", "method"]):
            per[f"{space}/{method}"] = {
                "jobs": int(len(grp)),
                "mean_s": float(grp["seconds"].mean()),
                "sum_s": float(grp["seconds"].sum()),
                "kind": tag,
            }
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"points": points, "cells": len(res.cells), "wall_s": wall, "rss_peak_mb": rss, "jobs": per}


def _run_sub(case: str, variant: str, points: int, sk_iter: int) -> dict:
    cmd = [sys.executable, __file__, "--one", f"{case}:{variant}", "--points", str(points), "--sk-iter", str(sk_iter)]
    out = subprocess.run(
        cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--cases", default="mds,umap,tsne,measures")
    ap.add_argument("--sk-iter", type=int, default=10)
    ap.add_argument("--out", default=str(ROOT / "docs" / "bench" / "datapoints.md"))
    ap.add_argument("--grid-points", default="", help="comma-separated point counts for the 72-cell run")
    ap.add_argument(
        "--save-grid", default="", help="folder to save each grid result into, as Parquet + npz + JSON (for inspection)"
    )
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one and args.one.startswith("grid:"):
        print(json.dumps(_grid(int(args.one.split(":")[1]), args.save_grid)))
        return
    if args.one:
        case, variant = args.one.split(":")
        print(json.dumps(_one(case, variant, args.points, args.sk_iter)))
        return
    rows: list = []
    for case in [c for c in args.cases.split(",") if c]:
        sup = _run_sub(case, "supviz", args.points, args.sk_iter)
        print(f"{case}: supviz {sup['seconds']:.1f}s", file=sys.stderr, flush=True)
        base = _run_sub(case, "baseline", args.points, args.sk_iter)
        if case == "mds":
            it = max(1, base.get("iterations", args.sk_iter))
            base["seconds_est"] = base["seconds"] * 300 / it
        rows.append((case, sup, base))
        print(f"{case}: supviz {json.dumps(sup)}\n  baseline {json.dumps(base)}", file=sys.stderr, flush=True)
    baseline_name = {
        "mds": f"sklearn MDS, full SMACOF, random start ({args.sk_iter} it. run; 300 it. extrapolated)",
        "umap": "umap-learn directly",
        "tsne": "openTSNE directly",
        "measures": "sklearn trustworthiness (T only)",
    }
    supviz_name = {
        "mds": "landmark SMACOF (1000) + all measures",
        "umap": "supviz UMAP + all measures",
        "tsne": "supviz t-SNE + all measures",
        "measures": "measure_distortion (T, C, R, rho, FN)",
    }
    lines = [
        f"# Data-point section at {args.points:,} points, one cell",
        "",
        f"Cell: the study's weights `{KEY}` (n = 60, m = 10), p = {20.0**-0.8:.3f}, uniform importance; "
        f"{args.points:,} non-zero inputs; k = 10. Each case ran in its own process (peak RSS is that "
        "process's own, including the interpreter and imported libraries; Python peak is tracemalloc's).",
        "",
        f"Machine: {os.cpu_count()}-core Linux VM, Python {platform.python_version()}, CPU only "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}); load average at the end "
        f"{' / '.join(f'{v:.1f}' for v in os.getloadavg())} (1 / 5 / 15 min): above about 1 per core, "
        "other processes shared the cores and the times are upper bounds.",
        "",
        "| case | supviz | time (s) | Python peak (MB) | RSS peak (MB) | baseline | time (s) | Python peak (MB) "
        "| RSS peak (MB) | time ratio supviz / baseline |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for case, sup, base in rows:
        bt = base.get("seconds_est", base["seconds"])
        bt_txt = f"{base['seconds']:.1f} (300 it. est. {bt:.0f})" if "seconds_est" in base else f"{bt:.1f}"
        lines.append(
            f"| {case} | {supviz_name[case]} | {sup['seconds']:.1f} | {sup['py_peak_mb']:.0f} "
            f"| {sup['rss_peak_mb']:.0f} "
            f"| {baseline_name[case]} | {bt_txt} | {base['py_peak_mb']:.0f} | {base['rss_peak_mb']:.0f} "
            f"| {sup['seconds'] / bt:.2f} |"
        )
    extra = [
        f"- {case}: "
        + ", ".join(
            f"{k} {v:.3f}"
            for k, v in sup.items()
            if k in ("knn_recall", "trustworthiness", "false_neighbour_rate", "landmark_stress") and v is not None
        )
        for case, sup, _ in rows
    ]
    lines += ["", "Measured values of the supviz runs (h of this cell against x):", "", *extra, ""]
    for pts in [int(v) for v in args.grid_points.split(",") if v]:
        cmd = [sys.executable, __file__, "--one", f"grid:{pts}", "--save-grid", args.save_grid]
        out = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}
        )
        g = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"grid {pts}: {g['wall_s']:.0f}s", file=sys.stderr, flush=True)
        lines += [
            f"## The whole section, 72 cells at {pts} points, 2 workers",
            "",
            f"Wall time {g['wall_s']:.0f} s for {g['cells']} cells (pictures of x and h with MDS, UMAP, t-SNE; "
            f"exact measures of h and x_rep; ring analysis); parent peak RSS {g['rss_peak_mb']:.0f} MB. "
            "Worker seconds per job kind (a job = one layout and all its measures; `x` pictures are "
            "shared by the 12 cells of a p):",
            "",
            "| space / method | jobs | mean s per job | total worker s |",
            "| --- | ---: | ---: | ---: |",
            *[f"| {k} | {v['jobs']} | {v['mean_s']:.2f} | {v['sum_s']:.0f} |" for k, v in sorted(g["jobs"].items())],
            "",
        ]
    text = "\n".join(lines)
    print(text)
    from supviz.core.io import atomic_write_text

    atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
