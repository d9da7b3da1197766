"""Benchmark: training the study's grid of toy models, supviz against the reference notebook loop.

The study grid: n = 60 features, m in {3, 5, 10, 20, 30, 40}, six probabilities
``20 ** -linspace(0, 1, 6)``, both importance variants (uniform, 0.9 ** i): 72 instances, batch 1024.

* **supviz**: ``train_grid`` (numba engine on CPU, torch engine on CUDA).
* **reference**: the loop of the original notebook, written here: one model per (m, importance
  variant) holding the six probabilities as instances, ``W`` of shape ``[6, n, m]`` initialised
  with ``nn.init.xavier_normal_``, einsum forward, two ``torch.rand`` draws per batch (values
  and presence), autograd, ``torch.optim.AdamW(lr=1e-3)``, the loss printed every 100 steps; the
  12 models train one after another, as the notebook's loop over m does. Loss as the study's
  code has it (SPEC section 0): ``sum_k mean_b sum_i I_i (x_i - x'_i)^2``.

Both train the same number of steps in the same process. Timing excludes set-up (numba's kernel
compilation happens in a warm-up run). The final loss of both is measured the same way: every
instance's final ``(W, b)`` on 8 fresh batches of 1024 drawn with one fixed generator, so the
comparison is "same recipe, same quality" and not "same random numbers". For a noise scale,
supviz is also trained with a second seed. supviz trains here with ``init="reference"`` (the
reference's init scale), so the two runs differ only in their random numbers.

It also prints which implementation served each matrix-product shape of the supviz runs
(:mod:`supviz.runtime.products`: torch/MKL, numpy/OpenBLAS or supviz's numba kernel, chosen per
shape on this machine) with the per-shape timings behind the choice. ``SUPVIZ_PRODUCTS=torch``
forces torch for every product: the engine as it was before issue 18.

Usage::

    python benchmarks/train_grid.py                  # 1000 steps, CPU, 3 timed repeats of supviz
    python benchmarks/train_grid.py --steps 10000 --skip-reference   # the full recipe, supviz only
    SUPVIZ_PRODUCTS=torch python benchmarks/train_grid.py --skip-reference   # every product by torch
    python benchmarks/train_grid.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch

from supviz.runtime import products
from supviz.toy import TrainConfig, feature_probabilities, importance_curve, train_grid
from supviz.toy._engine import use_gram

N_FEATURES = 60
HIDDEN = (3, 5, 10, 20, 30, 40)
IMPORTANCES = ("uniform", "geometric:0.9")
BATCH = 1024


# -- the reference loop, as the notebook writes it ------------------------------------------------


class ReferenceModel(torch.nn.Module):
    """The notebook's model: ``[instances, n, m]`` W, einsum forward, ReLU output with bias."""

    def __init__(
        self, n_features: int, n_hidden: int, probability: torch.Tensor, importance: torch.Tensor, device: str
    ):
        super().__init__()
        self.n_instances = probability.shape[0]
        self.n_features = n_features
        self.W = torch.nn.Parameter(torch.empty((self.n_instances, n_features, n_hidden), device=device))
        torch.nn.init.xavier_normal_(self.W)
        self.b_final = torch.nn.Parameter(torch.zeros((self.n_instances, n_features), device=device))
        self.feature_probability = probability[:, None].to(device)  # (instances, 1)
        self.importance = importance[None, :].to(device)  # (1, n)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = torch.einsum("...if,ifh->...ih", features, self.W)
        out = torch.einsum("...ih,ifh->...if", hidden, self.W)
        return torch.relu(out + self.b_final)

    def generate_batch(self, n_batch: int) -> torch.Tensor:
        shape = (n_batch, self.n_instances, self.n_features)
        feat = torch.rand(shape, device=self.W.device)
        return torch.where(
            torch.rand(shape, device=self.W.device) <= self.feature_probability,
            feat,
            torch.zeros((), device=self.W.device),
        )


def reference_train(steps: int, device: str, seed: int) -> tuple[float, list[tuple[int, str, np.ndarray, np.ndarray]]]:
    """Train the 12 reference models one after another; return (seconds, [(m, importance, W, b)])."""
    torch.manual_seed(seed)  # the notebook seeds globally; this script owns its process
    probs = torch.tensor(feature_probabilities(6), dtype=torch.float32)
    out = []
    seconds = 0.0
    for imp_name in IMPORTANCES:
        importance = torch.tensor(importance_curve(imp_name, N_FEATURES), dtype=torch.float32)
        for m in HIDDEN:
            model = ReferenceModel(N_FEATURES, m, probs, importance, device)
            opt = torch.optim.AdamW(list(model.parameters()), lr=1e-3)
            _sync(device)
            t0 = time.perf_counter()
            for step in range(steps):
                opt.zero_grad(set_to_none=True)
                batch = model.generate_batch(BATCH)
                x_hat = model(batch)
                error = model.importance * (batch.abs() - x_hat) ** 2
                loss = error.sum(-1).mean(0).sum()
                loss.backward()
                opt.step()
                if step % 100 == 0 or step + 1 == steps:
                    loss.item()
            _sync(device)
            seconds += time.perf_counter() - t0
            W = model.W.detach().cpu().numpy()
            b = model.b_final.detach().cpu().numpy()
            for j in range(len(probs)):
                out.append((m, imp_name, W[j], b[j]))
    return seconds, out


# -- evaluation -----------------------------------------------------------------------------------


def eval_losses(
    weights: list[tuple[int, str, float, np.ndarray, np.ndarray]], n_batches: int = 8
) -> dict[tuple, float]:
    """Loss of every (m, importance, p) instance on the same fresh batches (fixed generator per p)."""
    out = {}
    for m, imp_name, p, W, b in weights:
        gen = torch.Generator().manual_seed(int(round(p * 1e6)))
        W_t, b_t = torch.from_numpy(W).double(), torch.from_numpy(b).double()
        imp = torch.tensor(importance_curve(imp_name, N_FEATURES))
        total = 0.0
        for _ in range(n_batches):
            x = torch.rand(BATCH, N_FEATURES, generator=gen, dtype=torch.float64)
            x = torch.where(torch.rand(BATCH, N_FEATURES, generator=gen, dtype=torch.float64) < p, x, 0.0)
            x_hat = torch.relu(x @ W_t @ W_t.T + b_t)
            total += float((imp * (x - x_hat) ** 2).sum(-1).mean())
        out[(m, imp_name, round(p, 9))] = total / n_batches
    return out


def supviz_weights(grid) -> list[tuple[int, str, float, np.ndarray, np.ndarray]]:
    return [
        (s.n_hidden, s.importance_name, float(s.probability), w, b)
        for s, w, b in zip(grid.specs, grid.weights, grid.biases)
    ]


# -- batching strategies (the measurement behind "group by m") --------------------------------


def batching_comparison(reps: int = 20) -> dict[str, float]:
    """CPU ms of the matrix products of one step, one thread: grouped by m vs padded to the largest m
    (each product by the implementation :mod:`supviz.runtime.products` serves its shape with here)."""
    torch.set_num_threads(1)
    k, B, n = 12, BATCH, N_FEATURES
    X, G = torch.rand(k, B, n), torch.randn(k, B, n)
    out = {}
    bmm = products.bmm

    def factored(W, H, Z, GH, gW):
        bmm(X, W, H)
        bmm(H, W.transpose(1, 2), Z)
        bmm(G, W, GH)
        bmm(X.transpose(1, 2), GH, gW)
        bmm(G.transpose(1, 2), H, gW, accumulate=True)

    def gram(W, M, Z, A, S, gW):
        bmm(W, W.transpose(1, 2), M)
        bmm(X, M, Z)
        bmm(X.transpose(1, 2), G, A)
        torch.add(A, A.transpose(1, 2), out=S)
        bmm(S, W, gW)

    def timed(fn) -> float:
        fn()
        best = float("inf")
        for _ in range(3):
            t0 = time.thread_time()
            for _ in range(reps):
                fn()
            best = min(best, (time.thread_time() - t0) / reps * 1e3)
        return best

    Z = torch.empty(k, B, n)
    M, A, S = torch.empty(k, n, n), torch.empty(k, n, n), torch.empty(k, n, n)
    for m in HIDDEN:
        W = torch.randn(k, n, m)
        H, GH, gW = torch.empty(k, B, m), torch.empty(k, B, m), torch.empty(k, n, m)
        out[f"factored m={m}"] = timed(lambda: factored(W, H, Z, GH, gW))
        out[f"gram m={m}"] = timed(lambda: gram(W, M, Z, A, S, gW))
    # padding: every instance to m = 40 (zero columns, masked gradient), all 72 in one product
    m_max = max(HIDDEN)
    Xp, Gp = torch.rand(72, B, n), torch.randn(72, B, n)
    Wp = torch.randn(72, n, m_max)
    Hp, Zp, GHp, gWp = (
        torch.empty(72, B, m_max),
        torch.empty(72, B, n),
        torch.empty(72, B, m_max),
        torch.empty(72, n, m_max),
    )
    mask = torch.ones(72, 1, m_max)

    def padded():
        bmm(Xp, Wp, Hp)
        bmm(Hp, Wp.transpose(1, 2), Zp)
        bmm(Gp, Wp, GHp)
        bmm(Xp.transpose(1, 2), GHp, gWp)
        bmm(Gp.transpose(1, 2), Hp, gWp, accumulate=True)
        gWp.mul_(mask)

    out["padded to m=40, all 72 instances"] = timed(padded)
    out["grouped by m, supviz's form per m, all 72 instances"] = sum(
        out[f"{'gram' if use_gram(n, m) else 'factored'} m={m}"] for m in HIDDEN
    )
    return out


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=1000, help="training steps of each run (default 1000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of the supviz run (default 3)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--threads", type=int, default=0, help="supviz worker threads (0 = one per CPU)")
    ap.add_argument("--skip-reference", action="store_true", help="time supviz only")
    ap.add_argument(
        "--reference-threads",
        type=int,
        default=0,
        help="torch threads of the reference loop (0 = torch's default, as the notebook runs)",
    )
    ap.add_argument("--skip-batching", action="store_true", help="skip the grouped-vs-padded measurement")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument(
        "--compare-study",
        metavar="NPZ",
        help="only train the grid `supviz run` trains (10,000 steps) and print its represented-feature "
        "counts beside those of the study's own weights in NPZ (hamblin2022_weights.npz)",
    )
    args = ap.parse_args(argv)
    if args.compare_study:
        return compare_study(args.compare_study)

    torch_threads = torch.get_num_threads()
    result: dict = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpus": len(os.sched_getaffinity(0)),
            "torch_threads": torch_threads,
            "device": args.device,
            "loadavg_start": os.getloadavg(),
        },
        "steps": args.steps,
    }
    cfg = TrainConfig(steps=args.steps, device=args.device, threads=args.threads, init="reference", log_every=100)
    print(
        f"study grid: {cfg.n_instances} instances, batch {BATCH}, {args.steps} steps, device {args.device}", flush=True
    )

    # warm-up: compiles / loads numba's kernels and touches every code path
    train_grid(cfg.replace(steps=2), progress=False)
    walls, cpus = [], []
    grid = None
    for r in range(args.repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        grid = train_grid(cfg, progress=False)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        print(
            f"  supviz run {r + 1}: {1e3 * walls[-1] / args.steps:.2f} ms/step (CPU {1e3 * cpus[-1] / args.steps:.2f} "
            "ms/step)",
            flush=True,
        )
    sv_ms = 1e3 * min(walls) / args.steps
    result["supviz"] = {
        "ms_per_step_min": sv_ms,
        "ms_per_step_median": 1e3 * statistics.median(walls) / args.steps,
        "cpu_ms_per_step_min": 1e3 * min(cpus) / args.steps,
        "engine": grid.info["engine"],
        "threads": grid.info["threads"],
    }
    print(
        f"supviz:    {sv_ms:8.2f} ms/step (best of {args.repeats}; median "
        f"{result['supviz']['ms_per_step_median']:.2f}; {grid.info['engine']} engine, {grid.info['threads']} threads)"
    )
    served = products.table(used_only=True)
    result["products"] = {
        "forced": os.environ.get(products.ENV, "auto"),
        "table": str(products.table_path()),
        "served": served,
    }
    print(
        f"matrix products of the supviz runs ({products.ENV}={os.environ.get(products.ENV, 'auto')}; "
        f"us per instance, one thread):"
    )
    print("  " + products.format_table().replace("\n", "\n  "))

    sv_eval = eval_losses(supviz_weights(grid))
    grid2 = train_grid(cfg.replace(seed=1), progress=False)
    sv2_eval = eval_losses(supviz_weights(grid2))
    result["final_loss"] = {"supviz": sum(sv_eval.values()), "supviz_seed1": sum(sv2_eval.values())}

    if not args.skip_reference:
        torch.set_num_threads(args.reference_threads or torch_threads)
        c0 = time.process_time()
        ref_s, ref_w = reference_train(args.steps, args.device, seed=0)
        ref_cpu = time.process_time() - c0
        ref_ms = 1e3 * ref_s / args.steps
        ref_eval = eval_losses(
            [
                (m, imp, float(p), W, b)
                for (m, imp, W, b), p in zip(ref_w, np.tile(feature_probabilities(6), len(ref_w) // 6))
            ]
        )
        result["reference"] = {
            "ms_per_step": ref_ms,
            "cpu_ms_per_step": 1e3 * ref_cpu / args.steps,
            "torch_threads": torch.get_num_threads(),
        }
        result["speedup"] = ref_ms / sv_ms
        result["final_loss"]["reference"] = sum(ref_eval.values())
        keys = sorted(sv_eval)
        rel = np.array([(sv_eval[k] - ref_eval[k]) / max(ref_eval[k], 1e-12) for k in keys])
        rel_noise = np.array([(sv_eval[k] - sv2_eval[k]) / max(sv2_eval[k], 1e-12) for k in keys])
        result["final_loss"]["median_rel_diff_supviz_vs_reference"] = float(np.median(rel))
        result["final_loss"]["median_abs_rel_diff_supviz_vs_reference"] = float(np.median(np.abs(rel)))
        result["final_loss"]["median_abs_rel_diff_supviz_seed0_vs_seed1"] = float(np.median(np.abs(rel_noise)))
        print(
            f"reference: {ref_ms:8.2f} ms/step (CPU {result['reference']['cpu_ms_per_step']:.2f} ms/step; the "
            f"notebook's loop, {torch.get_num_threads()} torch threads)"
        )
        print(f"speed-up:  {ref_ms / sv_ms:8.2f} x")
    fl = result["final_loss"]
    print(
        "final loss, sum over the 72 instances on common evaluation batches: "
        + ", ".join(f"{k} {v:.4f}" for k, v in fl.items() if not k.startswith("median"))
    )
    if "median_abs_rel_diff_supviz_vs_reference" in fl:
        print(
            "  per instance |supviz - reference| / reference: median "
            f"{fl['median_abs_rel_diff_supviz_vs_reference']:.3%} (supviz seed 0 vs seed 1: "
            f"{fl['median_abs_rel_diff_supviz_seed0_vs_seed1']:.3%})"
        )

    if not args.skip_batching and args.device == "cpu":
        bc = batching_comparison()
        result["batching_cpu_ms_per_step_products"] = bc
        print("matrix products of one step, CPU ms on one thread:")
        for k, v in bc.items():
            print(f"  {k:48s} {v:7.2f}")
    result["machine"]["loadavg_end"] = os.getloadavg()
    print(f"load average start {result['machine']['loadavg_start']}, end {result['machine']['loadavg_end']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


def compare_study(npz: str) -> int:
    """Represented features (||W_i|| > 0.5) of the grid `supviz run` trains against the study's weights."""
    from supviz.study.config import StudyConfig
    from supviz.toy import load_hamblin2022, represented_mask

    cfg = StudyConfig().train_config()
    t0 = time.perf_counter()
    grid = train_grid(cfg, progress=False)
    print(
        f"trained the study grid ({cfg.n_instances} instances, {cfg.steps} steps, seed {cfg.seed}) in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    study = load_hamblin2022(npz)

    def counts(g, m, name):
        return [
            int(represented_mask(g.weights[i], rule="norm", threshold=0.5).sum())
            for i in g.select(n_hidden=m, importance_name=name)
        ]

    print("| m | uniform: supviz | uniform: study | 0.9^i: supviz | 0.9^i: study |")
    print("| ---: | --- | --- | --- | --- |")
    diffs = []
    for m in cfg.hidden:
        row = []
        for name in ("uniform", "geometric:0.9"):
            ours, theirs = counts(grid, m, name), counts(study, m, name)
            diffs += [a - b for a, b in zip(ours, theirs)]
            row += [" ".join(map(str, ours)), " ".join(map(str, theirs))]
        print(f"| {m} | " + " | ".join(row) + " |")
    d = np.abs(np.array(diffs))
    print(f"|supviz - study| over the {d.size} cells: median {np.median(d):.0f}, mean {d.mean():.2f}, max {d.max()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
