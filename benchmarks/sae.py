"""Benchmark: SAEs for the study's 72 toy cells in one batched job, against a plain PyTorch loop that
trains them one at a time; and Sharkey et al.'s toy-experiment grid at its default size.

Part ``cells`` (the study grid: n = 60, m in {3, 5, 10, 20, 30, 40}, six probabilities
``20 ** -linspace(0, 1, 6)``, uniform and 0.9^i importance; W from the study's own weights,
``load_hamblin2022``):

* **supviz**: :func:`supviz.sae.train_cell_saes`: 72 TopK SAEs (the proposed study default:
  k = 4, d_sae = 120, batch 128, Adam 3e-3, AuxK) in one job, then scored (MMCS etc. against each
  cell's represented features on 4,096 fresh samples).
* **baseline**: the same recipe written as a plain PyTorch loop, as a user would: an
  ``nn.Module`` per cell, ``torch.topk`` + ``scatter``, autograd, ``torch.optim.Adam``, the
  AuxK loss, unit-norm decoder with the parallel gradient removed, inputs rescaled to
  ``E||x||^2 = d``, data ``x`` from ``torch.rand`` (presence and value), ``h = x W``; the 72
  SAEs train one after another, all in this process, with torch's default threads.

Both train the same steps; quality is MMCS per cell (the baseline's decoders scored by the same
metric function). A second supviz seed gives the noise scale. Part ``toy``: the default toy
experiment (128 features in 64 dims, ratios 0.5-8 x 13 L1 coefficients, 65 SAEs), wall time and
peak RSS. Each part runs in its own subprocess (clean peak memory); the load average is printed
before and after, since the development VM is shared. Part ``cells`` also prints which
implementation served each matrix-product shape of the supviz runs (:mod:`supviz.runtime.products`:
torch/MKL, numpy/OpenBLAS or supviz's numba kernel, chosen per shape on this machine);
``SUPVIZ_PRODUCTS=torch`` forces torch for every product, the engine as it was before issue 18.

Usage::

    python benchmarks/sae.py                    # both parts, 2000 steps
    python benchmarks/sae.py --part cells --steps 500
    python benchmarks/sae.py --part cells --skip-baseline --torch-step  # the step as torch ops (before)
    python benchmarks/sae.py --part toy --steps 2000
    python benchmarks/sae.py --part architectures  # the five architectures on the 72 cells
    python benchmarks/sae.py --part architectures --architectures jumprelu --option grad_clip=1.0
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

import numpy as np

DATA = os.environ.get("SUPVIZ_HAMBLIN", "/work/shared/data/hamblin2022_weights.npz")
K, D_SAE, BATCH, LR = 4, 120, 128, 3e-3


# -- the plain PyTorch baseline ------------------------------------------------------------------


def baseline_cell(W: np.ndarray, p: float, *, steps: int, seed: int) -> tuple[np.ndarray, float]:
    """Train one TopK SAE on ``h = x W`` the plain way; return (W_dec [D_SAE, m], seconds)."""
    import torch

    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    Wt = torch.from_numpy(W.astype(np.float32))
    n, m = Wt.shape

    def sample(b: int) -> torch.Tensor:
        x = torch.where(torch.rand(b, n, generator=gen) < p, torch.rand(b, n, generator=gen), torch.zeros(()))
        return x @ Wt

    scale = float(np.sqrt(m / max(float(torch.cat([sample(1024) for _ in range(8)]).pow(2).sum(1).mean()), 1e-30)))
    W_dec = torch.randn(D_SAE, m, generator=gen)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    params = {
        "W_enc": torch.nn.Parameter(W_dec.T.clone()),
        "b_enc": torch.nn.Parameter(torch.zeros(D_SAE)),
        "W_dec": torch.nn.Parameter(W_dec),
        "b_dec": torch.nn.Parameter(torch.zeros(m)),
    }
    opt = torch.optim.Adam(params.values(), lr=LR)
    since = torch.zeros(D_SAE)
    aux_k = max(1, m // 2)
    for _ in range(steps):
        x = sample(BATCH) * scale
        pre = (x - params["b_dec"]) @ params["W_enc"] + params["b_enc"]
        top = pre.topk(K, dim=-1)
        f = torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())
        x_hat = f @ params["W_dec"] + params["b_dec"]
        loss = (x_hat - x).pow(2).sum(-1).mean()
        dead = since >= 50_000
        if dead.any():
            n_dead = int(dead.sum())
            masked = pre.masked_fill(~dead, float("-inf"))
            at = masked.topk(min(aux_k, n_dead), dim=-1)
            z = torch.zeros_like(pre).scatter(-1, at.indices, at.values.relu())
            e = (x - x_hat).detach()
            loss = loss + (1 / 32) * min(n_dead / aux_k, 1.0) * (z @ params["W_dec"] - e).pow(2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():
            g, Wd = params["W_dec"].grad, params["W_dec"]
            g -= (g * Wd).sum(-1, keepdim=True) * Wd
        opt.step()
        with torch.no_grad():
            params["W_dec"] /= params["W_dec"].norm(dim=1, keepdim=True)
            since = torch.where((f > 0).any(0), torch.zeros_like(since), since + BATCH)
    return params["W_dec"].detach().numpy().copy(), time.perf_counter() - t0


# -- parts ---------------------------------------------------------------------------------------


def part_cells(steps: int, skip_baseline: bool, torch_step: bool = False) -> dict:
    import torch

    from supviz.sae import engine

    engine.FUSED_STEP = not torch_step  # --torch-step: the engine's step as torch ops (before the fused kernel)

    from supviz.sae import train_cell_saes
    from supviz.sae.cells import study_config
    from supviz.sae.metrics import mmcs
    from supviz.toy import load_hamblin2022, represented_mask

    grid = load_hamblin2022(DATA)
    idx = [i for i, s in enumerate(grid.specs) if s.n_hidden != 50]
    config = study_config(60, steps=steps, k=K)  # the baseline's fixed k (the study's default takes k from the data)
    assert (config.architecture, config.k, config.d_sae, config.batch_size, config.lr) == ("topk", K, D_SAE, BATCH, LR)
    train_cell_saes(grid, idx[:2], config=config.replace(steps=5), progress=False)  # numba kernels loaded
    out: dict = {"steps": steps, "config": config.to_dict(), "cells": len(idx), "fused_step": engine.FUSED_STEP}
    runs = []
    for seed in (0, 1):
        c0, t0 = time.process_time(), time.perf_counter()
        cells = train_cell_saes(grid, idx, config=config, seed=seed, progress=False)
        runs.append(cells)
        out[f"supviz_seed{seed}"] = {
            "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(time.process_time() - c0, 2),
            "train_s": cells.info["train_seconds"],
            "score_s": cells.info["score_seconds"],
            "ms_per_step": cells.training.info["ms_per_step"],
            "mean_mmcs": float(np.nanmean(cells.scores.mmcs)),
        }
    from supviz.runtime import products

    out["products"] = {"forced": os.environ.get(products.ENV, "auto"), "served": products.table(used_only=True)}
    print(
        f"# matrix products of the supviz runs ({products.ENV}={os.environ.get(products.ENV, 'auto')}; us per "
        f"instance, one thread):\n# " + products.format_table().replace("\n", "\n# "),
        file=sys.stderr,
    )
    a, b = runs[0].scores.mmcs, runs[1].scores.mmcs
    sparse = np.array([grid.specs[i].probability <= 0.17 for i in idx])
    out["seed_noise_mean_abs_mmcs_diff"] = float(np.nanmean(np.abs(a - b)))
    out["supviz_mean_mmcs_sparse_cells"] = float(np.nanmean(a[sparse]))
    if not skip_baseline:
        base = np.full(len(idx), np.nan)
        threads = torch.get_num_threads()
        c0, t0 = time.process_time(), time.perf_counter()
        for j, i in enumerate(idx):
            W = grid.weights[i]
            W_dec, _s = baseline_cell(W, grid.specs[i].probability, steps=steps, seed=1000 + i)
            mask = represented_mask(W)[None]
            if mask.any():
                base[j] = mmcs(W[None].astype(np.float64), W_dec[None], mask)[0]
        wall = time.perf_counter() - t0
        out["baseline"] = {
            "wall_s": round(wall, 2),
            "cpu_s": round(time.process_time() - c0, 2),
            "ms_per_step_all_cells": round(1e3 * wall / steps, 2),
            "torch_threads": threads,
            "mean_mmcs": float(np.nanmean(base)),
            "mean_mmcs_sparse_cells": float(np.nanmean(base[sparse])),
        }
        out["mean_abs_mmcs_diff_vs_baseline"] = float(np.nanmean(np.abs(a - base)))
        out["speedup_train"] = round(wall / runs[0].info["train_seconds"], 2)
    out["per_cell"] = [
        {
            "label": grid.labels[i],
            "m": grid.specs[i].n_hidden,
            "p": round(grid.specs[i].probability, 3),
            "importance": grid.specs[i].importance_name,
            "mmcs_seed0": _f(a[j]),
            "mmcs_seed1": _f(b[j]),
            **({"mmcs_baseline": _f(base[j])} if not skip_baseline else {}),
        }
        for j, i in enumerate(idx)
    ]
    return out


def part_architectures(steps: int, architectures: list[str] | None = None, options: dict | None = None) -> dict:
    """The 72 cells with every architecture (or ``architectures``) at its defaults, or with ``options``' SAEConfig
    fields where they apply (d_sae 120, batch 128): which does best, at what cost."""
    from supviz.sae import ARCHITECTURES, train_cell_saes
    from supviz.sae.cells import study_config
    from supviz.sae.config import applies_to
    from supviz.toy import load_hamblin2022

    grid = load_hamblin2022(DATA)
    idx = [i for i, s in enumerate(grid.specs) if s.n_hidden != 50]
    sparse = np.array([grid.specs[i].probability <= 0.17 for i in idx])
    out = {}
    for arch in architectures or ARCHITECTURES:
        changes = {f: v for f, v in (options or {}).items() if arch in applies_to(f)}
        config = study_config(60, steps=steps).replace(architecture=arch, **changes)
        c0, t0 = time.process_time(), time.perf_counter()
        cells = train_cell_saes(grid, idx, config=config, seed=0, progress=False)
        sc = cells.scores
        out[arch] = {
            "wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(time.process_time() - c0, 1),
            "ms_per_step": cells.training.info["ms_per_step"],
            "mmcs_all": round(float(np.nanmean(sc.mmcs)), 4),
            "mmcs_sparse": round(float(np.nanmean(sc.mmcs[sparse])), 4),
            "feature_mcc_sparse": round(float(np.nanmean(sc.feature_mcc[sparse])), 4),
            "recovery_sparse": round(float(np.nanmean(sc.recovery_rate[sparse])), 4),
            "dead": round(float(np.nanmean(sc.dead_fraction)), 3),
            "fvu_sparse": round(float(np.nanmean(sc.fvu[sparse])), 4),
            "l0_over_true_l0_sparse": round(float(np.nanmean(sc.l0[sparse] / sc.true_l0[sparse])), 3),
        }
        print(f"# {arch}: {out[arch]}", file=sys.stderr)
    return out


def part_toy(steps: int, paper: bool) -> dict:
    from supviz.sae import toy_experiment

    t0, c0 = time.perf_counter(), time.process_time()
    r = toy_experiment(steps=steps, paper_size=paper, progress=False)
    wall = time.perf_counter() - t0
    paths = r.heatmaps(os.path.join(os.environ.get("SUPVIZ_BENCH_OUT", "."), f"sae_toy_{r.n_features}x{r.d}"))
    return {
        "n_features": r.n_features,
        "d": r.d,
        "steps": steps,
        "wall_s": round(wall, 1),
        "cpu_s": round(time.process_time() - c0, 1),
        "ms_per_step": r.info["ms_per_step"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "true_l0": r.true_l0,
        "ratios": r.ratios.tolist(),
        "l1": [float(v) for v in r.l1_coefficients],
        "mmcs": np.round(r.mmcs, 4).tolist(),
        "dead_fraction": np.round(r.dead_fraction, 3).tolist(),
        "l0": np.round(r.l0, 2).tolist(),
        "band_0.99": r.band(min_mmcs=0.99),
        "figures": [str(p) for p in paths],
    }


def _f(v: float):
    return None if not np.isfinite(v) else round(float(v), 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--part",
        choices=("all", "cells", "toy", "architectures"),
        default="all",
        help="'all' = cells then toy, each in its own process; 'architectures' compares the five on the cells",
    )
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--toy-steps", type=int, default=None, help="steps of the toy experiment (default: --steps)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--torch-step", action="store_true", help="cells: the torch-ops step, not the fused kernel")
    ap.add_argument("--paper-size", action="store_true", help="toy experiment at 512 features in 256 dims")
    ap.add_argument("--json", metavar="FILE", help="also write the results here")
    ap.add_argument("--architectures", nargs="+", default=None, help="architectures: these only (default: all)")
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="architectures: override an SAEConfig field (JSON value) where it applies, e.g. grad_clip=1.0",
    )
    args = ap.parse_args()
    if args.part == "all":
        results = {}
        for part in ("cells", "toy"):
            cmd = [sys.executable, __file__, "--part", part, "--steps", str(args.steps)]
            if args.toy_steps:
                cmd += ["--toy-steps", str(args.toy_steps)]
            if args.skip_baseline:
                cmd.append("--skip-baseline")
            if args.torch_step:
                cmd.append("--torch-step")
            if args.paper_size:
                cmd.append("--paper-size")
            res = subprocess.run(cmd, capture_output=True, text=True)
            print(res.stderr, end="", file=sys.stderr)
            if res.returncode:
                sys.exit(res.returncode)
            print(res.stdout, end="")
            results[part] = json.loads(res.stdout.strip().splitlines()[-1])
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)
        return
    import torch

    head = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_before": os.getloadavg(),
    }
    if args.part == "cells":
        body = part_cells(args.steps, args.skip_baseline, args.torch_step)
        s0 = body["supviz_seed0"]
        print(
            f"# cells: supviz {s0['train_s']:.1f} s train + {s0['score_s']:.1f} s score ({s0['ms_per_step']:.2f} "
            f"ms/step, {s0['cpu_s']:.1f} s CPU), mean MMCS {s0['mean_mmcs']:.4f}, sparse cells "
            f"{body['supviz_mean_mmcs_sparse_cells']:.4f}, seed noise {body['seed_noise_mean_abs_mmcs_diff']:.4f}",
            file=sys.stderr,
        )
        if "baseline" in body:
            b = body["baseline"]
            print(
                f"# cells: baseline {b['wall_s']:.1f} s ({b['cpu_s']:.1f} s CPU), mean MMCS {b['mean_mmcs']:.4f}, "
                f"sparse {b['mean_mmcs_sparse_cells']:.4f}; speed-up {body['speedup_train']}x; "
                f"mean |MMCS diff| {body['mean_abs_mmcs_diff_vs_baseline']:.4f}",
                file=sys.stderr,
            )
    elif args.part == "architectures":
        options = {f: json.loads(v) for f, v in (o.split("=", 1) for o in args.option)}
        body = part_architectures(args.steps, args.architectures, options)
    else:
        body = part_toy(args.toy_steps or args.steps, args.paper_size)
        print(
            f"# toy {body['n_features']}x{body['d']}: {body['wall_s']} s, peak RSS {body['peak_rss_mb']} MB, "
            f"band >= 0.99: {body['band_0.99']}",
            file=sys.stderr,
        )
    head["load_after"] = os.getloadavg()
    print(json.dumps({**head, **body}))


if __name__ == "__main__":
    main()
