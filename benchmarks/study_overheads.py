"""Benchmark: overheads of the default study, each against the code path it replaced, in one process.

1. **Training the study's cells** (``supviz.toy.cells``): the 72 cells in 8 chunks of 9, on 2 cores.
   *Before*: the chunks queued on two threads of this process, one chunk per thread at a time
   (``train_parts``), each thread holding the GIL for its Python dispatch between kernels. *Now*: each
   chunk one task on one thread of two loky worker processes (``train_cells`` on a ``LocalDispatcher``,
   no cache). Prints wall (and this process's CPU for the threads), compares the weights bit for bit.
2. **UMAP on 200 points**: umap-learn's small-data distances through scikit-learn's per-pair Python
   calls (before) against the compiled loop (:mod:`supviz.dr._umap_distances`); the layouts are
   compared bit for bit.
3. **Exact t-SNE on 200 points**: the gradient building a new CSR matrix and two int64 index copies at
   every iteration (before) against reading openTSNE's arrays as stored; layouts compared bit for bit.
4. **Section A's training** (A1's 5 x 2, A2's 5 x 7 and A3's 16 instances of n = 2, 20 and 60). *Before*: one
   queue of parts on two threads of this process. *Now*: the same queue on two worker processes
   (``supviz.toy.cells.train_groups`` with a ``LocalDispatcher``). Weights compared bit for bit.
5. **relu_mse_grad** on the blocks of A2 (n = 20) and the grid's m = 3, 5 rows (n = 60) after 300 training steps:
   the one fused loop per row (before, compiled here from its old source) against the two loops (now); outputs
   compared bit for bit.

Usage::

    python benchmarks/study_overheads.py [--steps 2000] [--repeats 3] [--skip-train]

Times are wall and CPU seconds of this process (``time.process_time``, all threads).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import tempfile
import time

import numpy as np


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _table(wb: float, cb: float, wn: float, cn: float) -> None:
    print("| path | wall s | CPU s |\n| --- | ---: | ---: |")
    print(f"| before | {wb:.3f} | {cb:.3f} |\n| now | {wn:.3f} | {cn:.3f} |")


def bench_training(steps: int, repeats: int) -> None:
    from supviz.runtime.cache import Cache
    from supviz.runtime.dispatch import LocalDispatcher
    from supviz.toy import TrainConfig
    from supviz.toy.cells import chunks, train_cells
    from supviz.toy.train import train_parts

    config = TrainConfig(steps=steps)
    specs = config.instances()
    parts = [[specs[i] for i in part] for part in chunks(specs, 2)]
    print(f"## training the study's {len(specs)} cells, {steps} steps, in {len(parts)} chunks on 2 cores")
    pool = LocalDispatcher(2)
    out: dict[str, list] = {}

    def before():
        got: dict[int, object] = {}
        train_parts(parts, config, on_part=lambda k, grid: got.__setitem__(k, grid), threads=2, progress=False)
        out["before"] = [w for k in range(len(parts)) for w in got[k].weights]

    def now():
        grid, _ = train_cells(specs, config, cache=Cache(tempfile.gettempdir(), enabled=False), dispatcher=pool)
        by_seed = {s.seed: w for s, w in zip(grid.specs, grid.weights)}
        out["now"] = [by_seed[s.seed] for part in parts for s in part]

    before()  # compile and warm the product table
    now()  # start the workers
    rows = {"two threads here (before)": before, "two worker processes (now)": now}
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for name, fn in rows.items():
            w, c = _timed(fn)
            if name not in best or w < best[name][0]:
                best[name] = (w, c)
    same = all(np.array_equal(a, b) for a, b in zip(out["before"], out["now"]))
    print("| path | wall s (best) | CPU s of this process |\n| --- | ---: | ---: |")
    for name, (w, c) in best.items():
        print(f"| {name} | {w:.2f} | {c:.2f} |")
    (wb, _), (wn, _) = best.values()
    print(f"\nratio before / now (wall): **{wb / wn:.2f}x**; same bits: {same}\n")


def _before_now(layout, X: np.ndarray, module, attr: str, before, repeats: int) -> None:
    """Time ``layout(X, random_state=s)`` with ``module.attr`` set to ``before``, then as it is (``layout`` looks the
    name up at each call), ``repeats`` seeds each; print the best times, the CPU ratio and whether every seed's
    layout is the same bits both ways."""
    now = getattr(module, attr)
    best, pictures = {}, {}
    for name, value in (("before", before), ("now", now)):
        setattr(module, attr, value)
        try:
            times = []
            for s in range(repeats):
                times.append(_timed(lambda s=s: pictures.__setitem__((name, s), layout(X, random_state=s).embedding)))
        finally:
            setattr(module, attr, now)
        best[name] = min(times)
    same = all(np.array_equal(pictures["before", s], pictures["now", s]) for s in range(repeats))
    (wb, cb), (wn, cn) = best["before"], best["now"]
    _table(wb, cb, wn, cn)
    print(f"\nratio (CPU): **{cb / cn:.2f}x**; layouts bit-identical: {same}\n")


def bench_umap(repeats: int) -> None:
    import supviz.dr._umap_distances as fast
    from supviz.dr import umap_layout

    X = np.random.default_rng(0).random((200, 10))
    umap_layout(X, random_state=0)
    print("## UMAP of 200 points in 10 dimensions (umap-learn 500 epochs)")
    print("before: scikit-learn's per-pair calls; now: the compiled loop\n")
    _before_now(umap_layout, X, fast, "fast_small_distances", contextlib.nullcontext, repeats)


def bench_tsne(repeats: int) -> None:
    import scipy.sparse as sp

    import supviz.dr._tsne_exact as tx
    from supviz.dr import tsne_layout

    X = np.random.default_rng(0).random((200, 10))
    tsne_layout(X, random_state=0)
    original = tx.exact_gradient_compiled

    def before(embedding, P, **kw):  # the per-iteration conversion the gradient made before
        csr = sp.csr_matrix(P)
        csr = sp.csr_matrix((csr.data, csr.indices.astype(np.int64), csr.indptr.astype(np.int64)), shape=csr.shape)
        return original(embedding, csr, **kw)

    print("## exact t-SNE of 200 points in 10 dimensions (openTSNE, 750 iterations)")
    print("before: a new CSR matrix and int64 copies per iteration; now: openTSNE's arrays as stored\n")
    _before_now(tsne_layout, X, tx, "exact_gradient_compiled", before, repeats)


def bench_section_a(steps: int, repeats: int) -> None:
    from supviz.runtime.dispatch import LocalDispatcher
    from supviz.study import adapters
    from supviz.study.background.section import experiments, small_config
    from supviz.study.config import load_config

    cfg = load_config(None)
    exps, seeds = experiments(cfg), {"A1": range(5), "A2": range(5), "A3": [0]}
    configs = {
        name: [small_config(cfg, name, *exps[name], replicate=r).replace(steps=steps) for r in seeds[name]]
        for name in exps
    }
    groups = [[s for c in configs[name] for s in c.instances()] for name in exps]
    config = configs["A1"][0]
    print(f"## section A's training: {' + '.join(str(len(g)) for g in groups)} instances, {steps} steps")
    out: dict[str, list] = {}

    pool = LocalDispatcher(2)

    def before():
        out["before"] = adapters.train_groups(groups, config, progress=False)

    def now():
        out["now"] = adapters.train_groups(groups, config, dispatcher=pool, progress=False)

    before()  # compile and warm the product table
    now()  # start the workers
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for name, fn in (("two threads here (before)", before), ("two worker processes (now)", now)):
            w, c = _timed(fn)
            if name not in best or w < best[name][0]:
                best[name] = (w, c)
    same = all(
        np.array_equal(a, b) for g0, g1 in zip(out["before"], out["now"]) for a, b in zip(g0.weights, g1.weights)
    )
    print("| path | wall s (best) | CPU s of this process |\n| --- | ---: | ---: |")
    for name, (w, c) in best.items():
        print(f"| {name} | {w:.2f} | {c:.2f} |")
    (wb, _), (wn, _) = best.values()
    print(f"\nratio before / now (wall): **{wb / wn:.2f}x**; same bits: {same}\n")


def _fused_relu_mse_grad(z, x, bias, coef, imp, g, gb, loss_acc):  # the kernel before: one loop per row
    K, B, n = z.shape
    acc = np.empty(n, np.float32)
    lacc = np.empty(n, np.float32)
    zero = np.float32(0.0)
    for k in range(K):
        acc[:] = 0.0
        lacc[:] = 0.0
        bk, ck, ik = bias[k], coef[k], imp[k]
        for b in range(B):
            zr, xr, gr = z[k, b], x[k, b], g[k, b]
            for i in range(n):
                zi = zr[i] + bk[i]
                xi = xr[i]
                d = zi - xi if zi > zero else -xi
                gi = d * ck[i] if zi > zero else zero
                gr[i] = gi
                acc[i] += gi
                lacc[i] += ik[i] * d * d
        total = 0.0
        for i in range(n):
            gb[k, i] = acc[i]
            total += lacc[i]
        loss_acc[k] += total / B


def bench_relu_mse_grad(repeats: int) -> None:
    import threading

    from numba import njit

    from supviz.study.background.section import experiments, small_config
    from supviz.study.config import load_config
    from supviz.toy import _kernels
    from supviz.toy._engine import Shard
    from supviz.toy.train import learning_rates

    cfg = load_config(None)
    a2 = small_config(cfg, "A2", *experiments(cfg)["A2"]).replace(steps=300)
    grid = cfg.toy.replace(steps=300)
    before = njit(nogil=True)(_fused_relu_mse_grad)
    print("## relu_mse_grad per dense block (two instances, batch 1024), after 300 training steps (one thread)\n")
    print("| blocks | before us | now us | ratio | same bits |\n| --- | ---: | ---: | ---: | --- |")
    for label, c, specs in (
        ("A2, n = 20", a2, a2.instances()),
        ("grid m = 3, 5, n = 60", grid, [s for s in grid.instances() if s.n_hidden in (3, 5)]),
    ):
        shard = Shard(
            specs, batch_size=c.batch_size, init=c.init, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay
        )
        losses = np.zeros((len(specs), c.n_logged))
        shard.train(learning_rates(c), log_every=c.log_every, losses=losses, stop=threading.Event())
        blocks = [list(b["grad_args"]) for b in shard.blocks if not b["sparse"]]
        outs = {}
        for name, f in (("before", before), ("now", _kernels.relu_mse_grad)):
            args = [[*a[:5], np.empty_like(a[5]), np.empty_like(a[6]), np.zeros_like(a[7])] for a in blocks]
            for a in args:
                f(*a)
            outs[name] = [[np.array(x, copy=True) for x in a[5:]] for a in args]
            t = []
            for _ in range(repeats * 5):
                c0 = time.thread_time()
                for _ in range(20):
                    for a in args:
                        f(*a)
                t.append((time.thread_time() - c0) / 20 / len(args) * 1e6)
            outs[name + "_us"] = min(t)
        same = all(np.array_equal(x, y) for a, b in zip(outs["before"], outs["now"]) for x, y in zip(a, b))
        print(
            f"| {label} | {outs['before_us']:.1f} | {outs['now_us']:.1f} | {outs['before_us'] / outs['now_us']:.2f}x "
            f"| {same} |"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-train", action="store_true")
    args = ap.parse_args(argv)
    print(f"machine: {_cpu_name()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}\n")
    bench_umap(args.repeats)
    bench_tsne(args.repeats)
    if not args.skip_train:
        bench_training(args.steps, args.repeats)
        bench_section_a(args.steps, args.repeats)
        bench_relu_mse_grad(args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
