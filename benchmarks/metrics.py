"""Benchmark: supviz's artifact metrics on 10,000 points against the usual library calls.

Data: ``X`` = 10,000 Gaussian points in 20-D, ``Y`` = a noisy 2-D projection of them (no ties, so
both sides compute the same numbers; the script checks that they agree).

Each supviz metric is timed against the standard way of getting the same number:

- ``trustworthiness``: ``sklearn.manifold.trustworthiness(X, Y, n_neighbors=k)``;
- ``continuity``: the same with ``X`` and ``Y`` swapped;
- ``knn_recall``: ``sklearn.neighbors.NearestNeighbors`` k-NN in both spaces + set overlap;
- ``stress1_ratio``: ``scipy.spatial.distance.pdist`` of both + the closed form;
- ``shepard_correlation``: ``scipy.stats.spearmanr`` of the two ``pdist`` vectors;
- ``procrustes_distance``: ``scipy.spatial.procrustes`` (unmatched). The matched variant (a
  Hungarian assignment per step, cubic in N) is timed at ``--match-n`` points (default 1,000).
- ``layout_metrics`` (all of the above except the baseline distance) against the sum of the
  baselines.

Times are wall-clock of one call each (best of ``--repeats``), in one process; "ratio" is
baseline time / supviz time (above 1: supviz is faster). The machine's cores may be shared, so the
process CPU time is printed too.

Run: ``.venv/bin/python benchmarks/metrics.py`` (``--n 2000`` for a quick run).

**Large point sets** (issue 13, ``--large``, default 20,000 points): each configuration runs in a
fresh process, which reports its wall time, CPU time and peak RSS (``ru_maxrss``):

- ``layout_metrics`` exact (blocked neighbourhoods, all-pairs stress-1 and Shepard rho in passes);
- ``layout_metrics(all_pairs=False)`` (neighbourhoods only);
- ``layout_metrics(neighbors="approximate")`` with and without the all-pairs metrics, each score's
  difference from the exact one printed;
- the direct all-pairs Shepard rho that ``layout_metrics`` used before (``--with-direct``; about
  7 GB at 20,000 points), as the baseline of the bounded computation;
- the data-point measures (``supviz.datapoints.measure_distortion``: sparse inputs ``x`` of 60
  features at p = 0.05 against a 2-D projection), exact and approximate.

``.venv/bin/python benchmarks/metrics.py --large 20000 --with-direct``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    best_wall, best_cpu, value = np.inf, np.inf, None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        value = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, value


def _sk_knn_recall(X: np.ndarray, Y: np.ndarray, k: int) -> float:
    from sklearn.neighbors import NearestNeighbors

    ix = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    iy = NearestNeighbors(n_neighbors=k + 1).fit(Y).kneighbors(Y, return_distance=False)[:, 1:]
    ix.sort(axis=1)
    iy.sort(axis=1)
    hits = sum(np.intersect1d(a, b, assume_unique=True).size for a, b in zip(ix, iy, strict=True))
    return hits / (len(X) * k)


def _scipy_stress1(X: np.ndarray, Y: np.ndarray) -> float:
    from scipy.spatial.distance import pdist

    dx, dy = pdist(X), pdist(Y)
    return float(np.sqrt(1.0 - np.dot(dx, dy) ** 2 / (np.dot(dx, dx) * np.dot(dy, dy))))


def _scipy_spearman(X: np.ndarray, Y: np.ndarray) -> float:
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr

    return float(spearmanr(pdist(X), pdist(Y)).statistic)


def _large_data(n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, dim))
    return X, X[:, :2] + 0.5 * rng.normal(size=(n, 2))


def _large_one(name: str, n: int, dim: int, k: int) -> dict[str, Any]:
    """One configuration of the large-N section, in this (fresh) process."""
    import resource

    from supviz import metrics

    if name.startswith("distortion"):
        from supviz.datapoints import measure_distortion, sample_inputs

        x = sample_inputs(60, probability=0.05, n_points=n, random_state=0).x
        Y = x @ np.random.default_rng(1).normal(size=(60, 2))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        w0, c0 = time.perf_counter(), time.process_time()
        res = measure_distortion(
            x, Y, active=x > 0, k=k, neighbors="approximate" if name.endswith("approximate") else "exact"
        )
        values = {key: float(v) for key, v in res.metrics().items()}
    else:
        X, Y = _large_data(n, dim)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        w0, c0 = time.perf_counter(), time.process_time()
        if name == "direct_shepard":
            from supviz.metrics.allpairs import shepard_rho_direct
            from supviz.metrics.distances import DistanceSource

            values = {"shepard_rho": shepard_rho_direct(DistanceSource("X", X), DistanceSource("Y", Y))[0]}
        else:
            kw = {
                "exact": {},
                "exact_no_pairs": {"all_pairs": False},
                "approximate": {"neighbors": "approximate"},
                "approximate_no_pairs": {"neighbors": "approximate", "all_pairs": False},
            }[name]
            values = {key: float(v) for key, v in metrics.layout_metrics(X, Y, k=k, **kw).items()}
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"name": name, "wall": wall, "cpu": cpu, "peak_mb": peak / 1024, "start_mb": base / 1024, "values": values}


def _large(n: int, dim: int, k: int, with_direct: bool) -> None:
    """Every large-N configuration in its own process; a table of time, peak RSS and error vs exact."""
    import json
    import subprocess
    import sys

    names = [
        "exact",
        "exact_no_pairs",
        "approximate",
        "approximate_no_pairs",
        "distortion_exact",
        "distortion_approximate",
    ]
    if with_direct:
        names.insert(0, "direct_shepard")
    print(f"# large point sets: N={n}, X {n}x{dim}, Y {n}x2, k={k}; load average {os.getloadavg()}")
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    runs = {}
    for name in names:
        cmd = [sys.executable, __file__, "--one", name, "--n", str(n), "--dim", str(dim), "--k", str(k)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs[name] = json.loads(out.strip().splitlines()[-1])
        r = runs[name]
        print(
            f"#   {name}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, peak RSS {r['peak_mb']:.0f} MB "
            f"(at start {r['start_mb']:.0f} MB); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print("| run | wall s (cpu s) | peak RSS MB | values (difference from exact) |")
    print("| --- | --- | --- | --- |")
    for name, r in runs.items():
        ref = runs["distortion_exact" if name.startswith("distortion") else "exact"]["values"]
        parts = []
        for key, v in r["values"].items():
            if key == "k" or not np.isfinite(v):
                continue
            diff = v - ref.get(key, np.nan)
            parts.append(f"{key} {v:.4f}" + (f" ({diff:+.4f})" if name not in ("exact", "distortion_exact") else ""))
        print(f"| {name} | {r['wall']:.1f} ({r['cpu']:.1f}) | {r['peak_mb']:.0f} | {'; '.join(parts)} |")
    print(f"# load average at the end {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="points (default 10,000)")
    parser.add_argument("--dim", type=int, default=20, help="dimension of X (default 20)")
    parser.add_argument("--k", type=int, default=10, help="neighbourhood size (default 10)")
    parser.add_argument("--match-n", type=int, default=1_000, help="points for the matched Procrustes timing")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--skip-baseline", action="store_true", help="time supviz only")
    parser.add_argument(
        "--large",
        type=int,
        metavar="N",
        help="the large-point-set section instead: time and peak RSS at N points (e.g. 20000)",
    )
    parser.add_argument("--with-direct", action="store_true", help="with --large: also the direct Shepard rho (~7 GB)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import json

        print(json.dumps(_large_one(args.one, args.n, args.dim, args.k)))
        return
    if args.large:
        _large(args.large, args.dim, args.k, args.with_direct)
        return

    from scipy.spatial import procrustes as scipy_procrustes
    from sklearn.manifold import trustworthiness as sk_trustworthiness

    from supviz import metrics

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n, args.dim))
    Y = X[:, :2] + 0.5 * rng.normal(size=(args.n, 2))
    k = args.k

    rows: list[tuple[str, Callable[[], Any], Callable[[], Any] | None, str]] = [
        (
            "trustworthiness",
            lambda: metrics.trustworthiness(X, Y, k=k),
            lambda: sk_trustworthiness(X, Y, n_neighbors=k),
            "sklearn.manifold.trustworthiness",
        ),
        (
            "continuity",
            lambda: metrics.continuity(X, Y, k=k),
            lambda: sk_trustworthiness(Y, X, n_neighbors=k),
            "sklearn trustworthiness(Y, X)",
        ),
        (
            "knn_recall",
            lambda: metrics.knn_recall(X, Y, k=k),
            lambda: _sk_knn_recall(X, Y, k),
            "sklearn NearestNeighbors x2 + overlap",
        ),
        (
            "stress1_ratio",
            lambda: metrics.stress1_ratio(X, Y),
            lambda: _scipy_stress1(X, Y),
            "scipy pdist x2 + closed form",
        ),
        (
            "shepard_correlation",
            lambda: metrics.shepard_correlation(X, Y),
            lambda: _scipy_spearman(X, Y),
            "scipy.stats.spearmanr(pdist, pdist)",
        ),
        (
            "procrustes_distance",
            lambda: metrics.procrustes_distance(X[:, :2], Y),
            lambda: float(np.sqrt(scipy_procrustes(X[:, :2], Y)[2])),
            "scipy.spatial.procrustes",
        ),
    ]
    print(f"# supviz metrics benchmark: N={args.n}, X {args.n}x{args.dim}, Y {args.n}x2, k={k}")
    print(
        f"# {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print("| metric | supviz s (cpu s) | baseline | baseline s (cpu s) | ratio | agree |")
    print("| --- | --- | --- | --- | --- | --- |")
    total_supviz = total_base = 0.0
    for name, ours, theirs, label in rows:
        w, c, value = _time(ours, args.repeats)
        total_supviz += w
        if theirs is None or args.skip_baseline:
            print(f"| {name} | {w:.2f} ({c:.2f}) | - | - | - | {value:.6f} |")
            continue
        bw, bc, bvalue = _time(theirs, args.repeats)
        total_base += bw
        agree = "yes" if abs(value - bvalue) < 1e-8 else f"no ({value:.6f} vs {bvalue:.6f})"
        print(f"| {name} | {w:.2f} ({c:.2f}) | {label} | {bw:.2f} ({bc:.2f}) | {bw / w:.2f}x | {agree} |")

    w, c, values = _time(lambda: metrics.layout_metrics(X, Y, k=k), args.repeats)
    ratio = f"{total_base / w:.2f}x" if total_base else "-"
    print(
        f"| layout_metrics (all but baseline) | {w:.2f} ({c:.2f}) | sum of the baselines above | "
        f"{total_base:.2f} | {ratio} | - |"
    )

    m = min(args.match_n, args.n)
    A = Y[:m]
    B = (Y[:m] @ np.array([[0.0, 1.0], [-1.0, 0.0]]))[rng.permutation(m)] + 0.05 * rng.normal(size=(m, 2))
    w, c, value = _time(lambda: metrics.procrustes_distance(A, B, match=True), args.repeats)
    print(
        f"| procrustes_distance(match=True), N={m} | {w:.2f} ({c:.2f}) | (no library equivalent) | - | - | "
        f"{value:.4f} |"
    )


if __name__ == "__main__":
    main()
