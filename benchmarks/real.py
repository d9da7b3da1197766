"""Benchmark: the real-network experiment (section F, issue 12).

Part ``models``: the section's 27 digits models (classifier MLPs 64 -> w -> 10 for w in 4..64 and
toy-shaped autoencoders for w in 4..32, 3 replicates each, Adam, 600 steps of 128 rows) trained by
:func:`supviz.real.train_models` (stacked per width, batched products, one job) against a plain
PyTorch loop as a user would write it: an ``nn.Module`` per model, ``torch.optim.Adam``, the same
minibatch schedule, one model after another with torch's default threads. Quality: the mean test
accuracy / FVU of both (they differ only by initialisation draws).

Part ``section``: :func:`supviz.real.digits_experiment` at the study's default ``[real]`` table,
calibrated on the 36 cells m in {5, 10, 20} of the study's own weights
(``shared/data/hamblin2022_weights.npz``, or ``$SUPVIZ_HAMBLIN``), layouts one after another in
this process (the study runs them on ``run.n_jobs`` workers); wall and CPU time per stage.

The load average is printed before and after: the development VM is shared.

Usage::

    python benchmarks/real.py                  # both parts
    python benchmarks/real.py --part models
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = Path(os.environ.get("SUPVIZ_HAMBLIN", ROOT.parent / "shared" / "data" / "hamblin2022_weights.npz"))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _plain_loop(digits, widths, ae_widths, replicates, steps, batch, lr) -> tuple[float, float, dict]:
    import torch
    from torch import nn

    X = torch.from_numpy(digits.X_train)
    y = torch.from_numpy(digits.y_train)
    Xt = torch.from_numpy(digits.X_test)
    out: dict = {}
    t0, c0 = time.perf_counter(), _cpu()
    for kind, ws in (("classifier", widths), ("autoencoder", ae_widths)):
        for w in ws:
            for r in range(replicates):
                gen = torch.Generator().manual_seed(1000 * w + r)
                if kind == "classifier":
                    model = nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, 10))
                else:
                    W = nn.Parameter(torch.randn(64, w, generator=gen) * (2.0 / (64 + w)) ** 0.5)
                    b = nn.Parameter(torch.zeros(64))
                    model = nn.ParameterList([W, b])
                opt = torch.optim.Adam(model.parameters(), lr=lr)
                per_epoch = len(X) // batch
                for t in range(steps):
                    e, pos = divmod(t, per_epoch)
                    if pos == 0:
                        perm = torch.randperm(len(X), generator=gen)
                    rows = perm[pos * batch : (pos + 1) * batch]
                    xb = X[rows]
                    if kind == "classifier":
                        loss = nn.functional.cross_entropy(model(xb), y[rows])
                    else:
                        h = xb @ model[0]
                        loss = (torch.relu(h @ model[0].T + model[1]) - xb).pow(2).sum(-1).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    if kind == "classifier":
                        score = float((model(Xt).argmax(1).numpy() == digits.y_test).mean())
                    else:
                        R = torch.relu(Xt @ model[0] @ model[0].T + model[1]).numpy()
                        score = float(
                            ((R - digits.X_test) ** 2).sum() / ((digits.X_test - digits.X_test.mean(0)) ** 2).sum()
                        )
                out.setdefault((kind, w), []).append(score)
    return time.perf_counter() - t0, _cpu() - c0, out


def part_models() -> None:
    from supviz.real import ModelSpec, Recipe, load_digits_split, train_models

    widths, ae_widths, reps, steps, batch, lr = [4, 8, 16, 32, 64], [4, 8, 16, 32], 3, 600, 128, 5e-3
    digits = load_digits_split(seed=0)
    specs = [ModelSpec("classifier", w, r) for w in widths for r in range(reps)]
    specs += [ModelSpec("autoencoder", w, r) for w in ae_widths for r in range(reps)]
    recipe = Recipe(steps=steps, batch_size=batch, lr=lr)
    t0, c0 = time.perf_counter(), _cpu()
    res = train_models(
        specs,
        digits.X_train,
        digits.y_train,
        X_test=digits.X_test,
        y_test=digits.y_test,
        recipes={"classifier": recipe, "autoencoder": recipe},
        seed=0,
    )
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    base_wall, base_cpu, base = _plain_loop(digits, widths, ae_widths, reps, steps, batch, lr)
    df = res.to_frame()
    print(f"models: {len(specs)} models x {steps} steps")
    print(
        f"  supviz.real.train_models: {wall:.2f} s wall, {cpu:.2f} s CPU ({res.info['groups']} groups, "
        f"{res.info['threads']} threads)"
    )
    print(f"  plain PyTorch loop:        {base_wall:.2f} s wall, {base_cpu:.2f} s CPU")
    print(f"  ratio (wall): {base_wall / wall:.2f}x")
    for kind, col in (("classifier", "test_accuracy"), ("autoencoder", "test_fvu")):
        ours = df[df["kind"] == kind].groupby("width")[col].mean()
        print(
            f"  {kind} {col} per width, supviz / loop: "
            + ", ".join(f"w={w}: {ours[w]:.3f} / {np.mean(base[(kind, w)]):.3f}" for w in ours.index)
        )


def part_section() -> None:
    from supviz.real import RealConfig, digits_experiment
    from supviz.toy.storage import load_hamblin2022

    grid = load_hamblin2022(WEIGHTS)
    t0, c0 = time.perf_counter(), _cpu()
    res = digits_experiment(RealConfig(), seed=0, grid=grid)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    print(f"section F (default [real], layouts in process): {wall:.1f} s wall, {cpu:.1f} s CPU")
    print("  stages (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in res.timings.items()))
    print(
        f"  {len(res.models)} models, {len(res.quality)} layers' SAEs, {len(res.calibration)} calibration cells, "
        f"{len(res.pictures)} pictures"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("all", "models", "section"), default="all")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    if args.part in ("all", "models"):
        part_models()
    if args.part in ("all", "section"):
        part_section()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
