"""Benchmark: supviz's SAEs beside SAELens' on the same structured synthetic data, at equal budget.

Data: :mod:`supviz.sae.synth` (``--preset``, default ``cpu``: 256 features in 64 dimensions, Zipfian
firing 0.3 -> 0.01, 16 parents with 4 mutually exclusive children each, rank-8 correlation, about
3.8 active features). Both libraries train on the same ``--n-train`` rows (each in its own shuffled
order), the same width (``--d-sae``, default n), steps, batch size and Adam learning rate, with each
library's own recipe otherwise (supviz: :class:`supviz.sae.SAEConfig` defaults; SAELens: its
training configs' defaults and ``SAETrainer`` as ``train_toy_sae`` sets it up). k (TopK, BatchTopK,
Matryoshka) is the data's true L0 rounded (:func:`supviz.sae.config.data_k`), Matryoshka's widths
supviz's default (d_sae/8, /4, /2, d_sae) for both.

Every SAE is scored by the same code on the same fresh ``--n-eval`` samples
(:func:`supviz.sae.synth.benchmark_scores`): SAELens' MCC, F1 and explained variance (its
definitions, :mod:`supviz.sae.saelens_metrics`), L0, dead latents, and absorption on the hierarchy.
Time is training wall time (supviz: one SAE per ``train_saes`` call, after an untimed 2-step run
that compiles its numba kernels; SAELens: ``SAETrainer.fit``), both with ``--threads`` torch threads.

SAELens runs in its own Python, given by ``SUPVIZ_SAELENS_PYTHON`` (e.g.
``/work/saelens-venv-i20/bin/python``), as a subprocess (``benchmarks/_saelens_side.py``); without
it only supviz's rows are printed.

``--seeds S1 S2 ...`` repeats the whole comparison per seed (each seed draws the benchmark's
dictionary, its training and evaluation samples and both libraries' SAE initialisations and batch
orders, as ``--seed`` does), prints each seed's table, then mean+-sd over the seeds per architecture
and library and the ratio supviz / SAELens paired by seed (same data) with its sd over seeds
(:func:`summarise`). The default is ``--seed`` alone (one run, no spread).

Usage::

    SUPVIZ_SAELENS_PYTHON=/path/to/python python benchmarks/sae_vs_saelens.py
    python benchmarks/sae_vs_saelens.py --steps 500 --architectures topk jumprelu
    python benchmarks/sae_vs_saelens.py --preset flat --architectures jumprelu --seeds 0 1 2 \
        --saelens-option l0_coefficient=0.07   # mean+-sd over 3 seeds, paired ratios
    python benchmarks/sae_vs_saelens.py --preset synthsaebench-16k --device cuda   # GPU-sized
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ARCHS = ("topk", "batchtopk", "jumprelu", "matryoshka_batchtopk")
#: The scores averaged over seeds, and their short names.
METRICS = ("mcc", "f1_score", "explained_variance", "l0", "seconds")
LABELS = {"mcc": "MCC", "f1_score": "F1", "explained_variance": "EV", "l0": "L0", "seconds": "time"}


def summarise(rows: list[dict], metrics: tuple[str, ...] = METRICS) -> dict:
    """Mean and spread over seeds of each (architecture, library), and supviz / SAELens per seed.

    Parameters
    ----------
    rows : list of dict
        One per (seed, architecture, library) with ``"seed"``, ``"architecture"``, ``"library"`` and
        each of ``metrics``.

    Returns
    -------
    dict
        ``{"by": {(arch, library): {metric: (mean, sd, n)}}, "ratio": {arch: {metric: (mean, sd, n)}}}``:
        sd is the sample standard deviation over seeds (ddof 1; NaN for one seed, which has no spread);
        the ratio is supviz's value over SAELens' on the same seed (same data, paired), then averaged
        over the seeds where both ran.
    """

    def stat(values: list[float]) -> tuple[float, float, int]:
        v = np.asarray(values, dtype=np.float64)
        return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else float("nan"), len(v)

    by: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in rows:
        d = by.setdefault((r["architecture"], r["library"]), {m: [] for m in metrics})
        for m in metrics:
            d[m].append(r[m])
    index = {(r["seed"], r["architecture"], r["library"]): r for r in rows}
    ratio: dict[str, dict[str, list[float]]] = {}
    for (seed, arch, library), a in index.items():
        b = index.get((seed, arch, "saelens"))
        if library == "supviz" and b is not None:
            d = ratio.setdefault(arch, {m: [] for m in metrics})
            for m in metrics:
                d[m].append(a[m] / b[m])
    return {
        "by": {key: {m: stat(v) for m, v in d.items()} for key, d in by.items()},
        "ratio": {arch: {m: stat(v) for m, v in d.items()} for arch, d in ratio.items()},
    }


def _pm(stat: tuple[float, float, int], digits: int = 3) -> str:
    mean, sd, n = stat
    return f"{mean:.{digits}f}" if n < 2 else f"{mean:.{digits}f}+-{sd:.{digits}f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="cpu", choices=sorted(_presets()))
    ap.add_argument("--architectures", nargs="+", default=list(ARCHS), choices=ARCHS)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--d-sae", type=int, default=None, help="default: the number of true features")
    ap.add_argument("--n-train", type=int, default=131_072)
    ap.add_argument("--n-eval", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=0, help="the one seed when --seeds is not given")
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="run once per seed (each seeds the benchmark's dictionary, its training and evaluation samples "
        "and both libraries' SAEs, as --seed does) and print mean+-sd over them; default: --seed only",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="supviz's device (SAELens runs on the CPU here)")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a supviz SAEConfig field (JSON value), e.g. init_threshold=0.01; repeatable",
    )
    ap.add_argument(
        "--saelens-option",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a field of SAELens' training configs (JSON value), e.g. l0_coefficient=0.07; repeatable",
    )
    args = ap.parse_args()
    seeds = args.seeds if args.seeds is not None else [args.seed]
    if len(set(seeds)) != len(seeds):
        print(f"sae_vs_saelens: --seeds must be distinct; got {seeds}", file=sys.stderr)
        return 2
    options = {f: json.loads(v) for f, v in (o.split("=", 1) for o in args.option)}
    saelens_options = {f: json.loads(v) for f, v in (o.split("=", 1) for o in args.saelens_option)}
    python = os.environ.get("SUPVIZ_SAELENS_PYTHON")
    if not python:
        print("# SUPVIZ_SAELENS_PYTHON is not set: supviz only", flush=True)
    rows: list[dict] = []
    meta: dict = {}
    for seed in seeds:
        seed_rows, meta = run_seed(args, seed, options, saelens_options, python)
        rows += seed_rows
        print_rows(seed_rows, python)
    if len(seeds) > 1:
        print_summary(rows, seeds, python)
    if python:
        print(f"# SAELens {meta.get('saelens')}, torch {meta.get('torch')}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "seeds": seeds, "rows": rows, "saelens": meta}, indent=1) + "\n"
        )
    return 0


def _presets():
    from supviz.sae.synth import PRESETS

    return PRESETS


def run_seed(args, seed: int, options: dict, saelens_options: dict, python: str | None) -> tuple[list[dict], dict]:
    """Both libraries' SAEs on one seed's benchmark: its rows (one per architecture and library) and SAELens' meta."""
    from supviz.sae import ArraySource, SAEConfig, SAEJob, load, train_saes
    from supviz.sae.config import applies_to, data_k
    from supviz.sae.synth import benchmark_scores, make_benchmark

    bench = make_benchmark(args.preset, seed=seed)
    cfg = bench.config
    d_sae = args.d_sae or cfg.n_features
    X, A = bench.sample(args.n_train, seed=seed + 1000)
    true_l0 = float((A > 0).sum(1).mean())
    k = data_k(true_l0, cfg.d, d_sae)
    widths = list(SAEConfig(architecture="matryoshka_batchtopk").resolve_matryoshka_widths(d_sae))
    print(
        f"# seed {seed}, {args.preset}: {cfg.n_features} features in {cfg.d} dims, true L0 {true_l0:.2f} -> k = {k}; "
        f"d_sae {d_sae}, {args.steps} steps x {args.batch_size}, lr {args.lr:g}, {args.n_train} training rows; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    import torch

    torch.set_num_threads(args.threads)
    rows: list[dict] = []
    saes = []
    for i, arch in enumerate(args.architectures):
        kw = {"k": k} if arch in applies_to("k") else {}
        if arch == "matryoshka_batchtopk":
            kw["matryoshka_widths"] = tuple(widths[:-1])
        config = SAEConfig(
            architecture=arch,
            d_sae=d_sae,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            device=args.device,
            log_every=max(1, args.steps),
            **kw,
            **{f: v for f, v in options.items() if arch in applies_to(f)},
        )
        job = SAEJob(ArraySource(X, seed=seed + i), config, seed=seed + i, label=arch)
        warm = SAEJob(job.source, config.replace(steps=2, log_every=2), seed=0)  # compile the kernels untimed
        train_saes([warm], threads=args.threads, progress=False)
        t0 = time.perf_counter()
        saes.append(train_saes([job], threads=args.threads, progress=False)[0])
        rows.append({"seed": seed, "architecture": arch, "library": "supviz", "seconds": time.perf_counter() - t0})
    meta: dict = {}
    if python:
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(Path(tmp) / "data.npz", X_train=X)
            spec = {
                "architectures": args.architectures,
                "d_sae": d_sae,
                "k": k,
                "widths": widths,
                "steps": args.steps,
                "batch_size": args.batch_size,
                "lr": args.lr,
                "seed": seed,
                "threads": args.threads,
                "options": saelens_options,
            }
            side = Path(__file__).with_name("_saelens_side.py")
            out = subprocess.run(
                [python, str(side), str(Path(tmp) / "data.npz"), tmp, json.dumps(spec)],
                check=True,
                capture_output=True,
                text=True,
            )
            meta = json.loads(out.stdout.strip().splitlines()[-1])
            for arch in args.architectures:
                saes.append(load(Path(tmp) / arch))
                rows.append(
                    {"seed": seed, "architecture": arch, "library": "saelens", "seconds": meta["seconds"][arch]}
                )
    table, absorbed = benchmark_scores(saes, bench, n_eval=args.n_eval, seed=seed + 2000)
    for i, row in enumerate(rows):
        row.update(
            mcc=float(table.mcc[i]),
            f1_score=float(table.f1_score[i]),
            explained_variance=float(table.explained_variance[i]),
            l0=float(table.l0[i]),
            dead_latents=int(table.dead_latents[i]),
            absorption=absorbed[i].mean,
        )
    return rows, meta


def print_rows(rows: list[dict], python: str | None) -> None:
    """One seed's table, and its supviz / SAELens ratios when SAELens ran."""
    head = f"{'architecture':22s} {'library':8s} {'MCC':>6s} {'F1':>6s} {'EV':>6s} {'L0':>6s} {'dead':>5s} "
    print(head + f"{'absorb':>7s} {'time s':>7s}")
    for r in rows:
        print(
            f"{r['architecture']:22s} {r['library']:8s} {r['mcc']:6.3f} {r['f1_score']:6.3f} "
            f"{r['explained_variance']:6.3f} {r['l0']:6.2f} {r['dead_latents']:5d} {r['absorption']:7.3f} "
            f"{r['seconds']:7.1f}"
        )
    if python:
        print("# supviz / SAELens")
        for arch, d in summarise(rows)["ratio"].items():
            print(f"{arch:22s} " + "  ".join(f"{LABELS[m]} {d[m][0]:.3f}" for m in METRICS))
    sys.stdout.flush()


def print_summary(rows: list[dict], seeds: list[int], python: str | None) -> None:
    """Mean+-sd over the seeds per architecture and library, and the paired ratio's mean+-sd."""
    s = summarise(rows)
    print(f"# over seeds {seeds}: mean+-sd (sd over seeds, ddof 1)")
    print(f"{'architecture':22s} {'library':8s} " + " ".join(f"{LABELS[m]:>13s}" for m in METRICS))
    for (arch, library), d in s["by"].items():
        print(f"{arch:22s} {library:8s} " + " ".join(f"{_pm(d[m]):>13s}" for m in METRICS))
    if python:
        print("# supviz / SAELens, paired by seed: mean+-sd of the per-seed ratios")
        for arch, d in s["ratio"].items():
            print(f"{arch:22s} " + "  ".join(f"{LABELS[m]} {_pm(d[m])}" for m in METRICS))


if __name__ == "__main__":
    sys.exit(main())
