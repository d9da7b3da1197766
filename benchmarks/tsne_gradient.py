"""Benchmark: openTSNE's gradient methods on the study's t-SNE panels (which one to pick by default).

The study draws t-SNE pictures of three kinds, all small:

- B4: ``diag(60)`` at 15 perplexities (1..15);
- B5: ``diag(N)`` for N in 3..200 at perplexity (N - 1) / 3 (collapses: all distances tie);
- D: pictures of 200 data points, of the inputs ``x`` and of the codes ``h = W^T x`` (72 cells x 2
  spaces); many ``h`` coincide (inputs whose active features were all dropped sit at ``h = 0``).
  Here: ``x`` with 60 features at probability 0.05 (all-zero draws dropped), ``W`` [60, 10] with 30
  rows dropped to zero, as a trained cell of the study looks.

For each panel it times, in one process (numba compiled before timing), openTSNE with

- ``bh``: Barnes-Hut as supviz picked it before issue 8's follow-up (``theta = 0`` up to 100
  points, 0.5 above);
- ``exact``: supviz's compiled exact gradient (:mod:`supviz.dr._tsne_exact`), the default now up
  to 2,000 points;
- ``fft``: openTSNE's interpolation gradient (only with ``--fft``: ~20 s per panel whatever N),

with the same P, start (supviz's PCA start) and seed, and reports the time and the exact KL of each
returned layout (:func:`supviz.dr.tsne_kl.kl_divergence`). Also the scaling of the exact gradient
against Barnes-Hut for N = 100..2,000 (``--sizes``). Usage::

    python benchmarks/tsne_gradient.py [--d-panels 12] [--fft] [--sizes 300,1000,2000] [--out FILE]

It prints a Markdown table (also written to ``--out``, default docs/bench/tsne_gradient.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np


def _panels(d_panels: int) -> list[tuple[str, np.ndarray, float]]:
    out: list[tuple[str, np.ndarray, float]] = []
    for perp in range(1, 16):
        out.append(("B4", np.eye(60), float(perp)))
    for n in (3, 4, 6, 10, 15, 20, 40, 60, 100, 200):
        out.append(("B5", np.eye(n), (n - 1) / 3))
    rng = np.random.default_rng(0)
    for i in range(d_panels):
        x = (rng.random((400, 60)) < 0.05) * rng.random((400, 60))
        x = x[x.any(axis=1)][:200]
        W = rng.normal(size=(60, 10))
        W[30:] = 0.0
        out.append(("D (x)" if i % 2 else "D (h)", x if i % 2 else x @ W, 30.0))
    return out


def _run(X: np.ndarray, perplexity: float, method: str) -> tuple[float, float]:
    import openTSNE

    from supviz.dr._tsne_exact import exact_gradient_compiled
    from supviz.dr.base import check_layout_input
    from supviz.dr.tsne_kl import kl_divergence
    from supviz.dr.tsne_layout import _resolve_init

    pts = check_layout_input(X, method="t-SNE", min_points=3)
    perplexity = min(perplexity, (len(pts) - 1) / 3)
    init, _ = _resolve_init("auto", pts, 2, np.random.default_rng(0), False)
    opts: dict = {"negative_gradient_method": method}
    if method == "bh":
        opts["theta"] = 0.0 if len(pts) <= 100 else 0.5
    if method == "exact":
        opts["negative_gradient_method"] = exact_gradient_compiled
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emb = openTSNE.TSNE(
            perplexity=perplexity,
            initialization=init,
            neighbors="exact",
            random_state=0,
            n_jobs=1,
            verbose=False,
            **opts,
        ).fit(pts)
    elapsed = time.perf_counter() - start
    return elapsed, kl_divergence(emb.affinities.P, np.asarray(emb))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d-panels", type=int, default=12, help="data-point panels timed (of the study's 144)")
    parser.add_argument("--fft", action="store_true", help="also time openTSNE's FFT gradient (~20 s a panel)")
    parser.add_argument("--sizes", default="300,1000,2000", help="N for the scaling rows (diag-free Gaussian data)")
    parser.add_argument("--out", default="docs/bench/tsne_gradient.md")
    args = parser.parse_args()
    methods = ["bh", "exact"] + (["fft"] if args.fft else [])
    _run(np.random.default_rng(1).normal(size=(20, 3)), 5.0, "exact")  # compile numba outside the timings
    totals: dict[tuple[str, str], list[float]] = {}
    worst: dict[tuple[str, str], float] = {}
    for kind, X, perp in _panels(args.d_panels):
        for m in methods:
            t, kl = _run(X, perp, m)
            totals.setdefault((kind, m), []).append(t)
            key = (kind, m)
            worst[key] = max(worst.get(key, -np.inf), kl)
            totals.setdefault((kind, m + "_kl"), []).append(kl)
    lines = [
        "# openTSNE gradient methods on the study's t-SNE panels",
        "",
        f"`python benchmarks/tsne_gradient.py --d-panels {args.d_panels}{' --fft' if args.fft else ''}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
        f"{platform.python_version()}.",
        "Seconds per panel kind (sum over its panels) and the mean exact KL of the returned layouts; same P, start",
        "and seed for every method. `bh` = supviz's previous rule (theta 0 up to 100 points, 0.5 above).",
        "",
        "| panels | n | "
        + " | ".join(f"{m} s" for m in methods)
        + " | "
        + " | ".join(f"{m} mean KL" for m in methods)
        + " |",
        "|---|---|" + "---|" * (2 * len(methods)),
    ]
    for kind in dict.fromkeys(k for k, _ in totals):
        n = len(totals[(kind, methods[0])])
        secs = " | ".join(f"{sum(totals[(kind, m)]):.2f}" for m in methods)
        kls = " | ".join(f"{np.mean(totals[(kind, m + '_kl')]):.4f}" for m in methods)
        lines.append(f"| {kind} | {n} | {secs} | {kls} |")
    lines += [
        "",
        "Scaling (Gaussian data in 10-D with a third of the rows at the origin; perplexity 30):",
        "",
        "| N | " + " | ".join(f"{m} s" for m in methods) + " | " + " | ".join(f"{m} KL" for m in methods) + " |",
        "|---|" + "---|" * (2 * len(methods)),
    ]
    rng = np.random.default_rng(2)
    for n in (int(v) for v in args.sizes.split(",") if v):
        X = rng.normal(size=(n, 10))
        X[: n // 3] = 0.0
        res = {m: _run(X, 30.0, m) for m in methods}
        lines.append(
            f"| {n} | "
            + " | ".join(f"{res[m][0]:.2f}" for m in methods)
            + " | "
            + " | ".join(f"{res[m][1]:.4f}" for m in methods)
            + " |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
