"""Which pool for the study's layouts: loky processes (what supviz uses) or threads?

Times the same batch of study layouts (UMAP and t-SNE of diag(N), as in B2-B5) three ways in one
run: one after another, joblib's threading backend with 2 threads, and supviz's loky pool
(``supviz.runtime.dispatch.parallel``: 2 worker processes that die with their parent). Each pool is warmed
first (worker start-up and numba compilation are not what is compared). Prints the wall times and
the ratios.

    python benchmarks/pool_backend.py [--n 60] [--layouts 12]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from joblib import Parallel, delayed


def layout(i: int, n: int) -> float:
    from threadpoolctl import threadpool_limits

    from supviz.dr import embed

    method, params = ("umap", {"n_neighbors": 10, "min_dist": 0.1}) if i % 2 == 0 else ("tsne", {"perplexity": 10.0})
    with threadpool_limits(limits=1):
        return float(embed(np.eye(n), method, random_state=i, **params).embedding.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="points per layout")
    ap.add_argument("--layouts", type=int, default=12, help="layouts per batch (half UMAP, half t-SNE)")
    args = ap.parse_args()
    from supviz.runtime.dispatch import parallel

    jobs = [delayed(layout)(i, args.n) for i in range(args.layouts)]
    runners = {
        "sequential": lambda: [f(*a, **k) for f, a, k in jobs],
        "threading x2": lambda: Parallel(n_jobs=2, backend="threading")(jobs),
        "loky x2 (supviz)": lambda: list(parallel(2)(jobs)),
    }
    print(f"{args.layouts} layouts of diag({args.n}), {os.cpu_count()} CPUs")
    times = {}
    for name, run in runners.items():
        run()  # warm: compile, start workers
        t0 = time.perf_counter()
        run()
        times[name] = time.perf_counter() - t0
        print(f"  {name:18s} {times[name]:6.2f} s  ({times['sequential'] / times[name]:.2f}x of sequential)")


if __name__ == "__main__":
    main()
