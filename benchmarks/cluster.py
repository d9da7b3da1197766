"""Benchmark: the study's units of work on Dask, against joblib's local processes.

Three measurements, each on this machine (a ``LocalCluster`` of single-threaded worker
processes; on a real cluster the workers are other machines):

1. **Parallel efficiency** of the data-point section (``supviz.datapoints.datapoint_grid``, no
   cache) at a fixed size with 1 and 2 Dask workers: ``T1 / (2 T2)``. Goal: >= 80% at 2 workers.
   joblib's loky pool with 1 and 2 processes is timed beside it.
2. **Scheduler overhead per task**: ``--tasks`` trivial tasks (a 1,000-element sum) through
   (a) supviz's loky dispatcher (2 processes), (b) supviz's Dask dispatcher (futures, 2 workers),
   (c) ``joblib.Parallel`` on joblib's Dask backend (2 workers). Wall time per task.
3. **Futures against joblib's Dask backend** on the data-point jobs themselves (2 workers): the
   same section, dispatched both ways. joblib's backend scatters every argument above 1 kB on its
   own and batches short tasks; supviz's futures scatter the shared inputs once, explicitly.

Workers are started and warmed up (imports, numba kernels loaded from the on-disk cache, one
tiny section run) before anything is timed. The machine's cores may be shared with other jobs:
the load average is printed at each step; run it with ``nice`` and read the numbers with it.

Run: ``.venv/bin/python benchmarks/cluster.py`` (``--points 300 --hidden 3 10 --tasks 400``).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import numpy as np


def _grid(hidden: list[int], steps: int) -> Any:
    from supviz.toy import TrainConfig, train_grid

    cfg = TrainConfig(n_features=60, hidden=tuple(hidden), importances=("geometric:0.9",), steps=steps, seed=0)
    return train_grid(cfg, progress=False)


def _section(grid: Any, points: int, methods: tuple[str, ...]) -> Any:
    from supviz.datapoints import datapoint_grid

    return datapoint_grid(
        grid,
        n_points=points,
        methods=methods,
        layout_spaces=("x", "h"),
        ring=False,
        random_state=0,
        n_jobs=1,
        progress=False,
    )


def _trivial(i: int) -> float:
    return float(np.arange(1000.0).sum() + i)


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def _timed(fn) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=300, help="inputs per probability in the data-point section")
    ap.add_argument("--hidden", type=int, nargs="+", default=[3, 10], help="hidden sizes of the grid (6 p each)")
    ap.add_argument("--methods", nargs="+", default=["umap", "tsne"], help="layout methods of the section")
    ap.add_argument("--steps", type=int, default=500, help="training steps of the grid")
    ap.add_argument("--tasks", type=int, default=400, help="trivial tasks of the overhead measurement")
    args = ap.parse_args()

    from distributed import Client, LocalCluster
    from joblib import Parallel, delayed, parallel_config

    from supviz.runtime.cluster import DaskDispatcher
    from supviz.runtime.dispatch import LocalDispatcher, use

    methods = tuple(args.methods)
    print(
        f"# supviz cluster benchmark: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    grid = _grid(args.hidden, args.steps)
    n_jobs = len(grid.specs) * (1 + len(methods)) + 6 * (1 + len(methods))
    print(
        f"# data-point section: {len(grid.specs)} cells (n = 60, m in {args.hidden}, 6 p, 0.9^i), {args.points} "
        f"points, methods {list(methods)}: about {n_jobs} jobs; {_load()}"
    )
    small = _grid([3], 20)

    rows: list[tuple[str, float, str]] = []
    tables: dict[str, Any] = {}

    # joblib / loky, 1 and 2 processes
    for w in (1, 2):
        with use(LocalDispatcher(w)):
            _section(small, 30, methods)  # warm-up (pool start, imports)
            t, res = _timed(lambda: _section(grid, args.points, methods))
        tables[f"loky{w}"] = res.table
        rows.append((f"joblib loky, {w} process{'es' * (w > 1)}", t, _load()))
        print(f"#   loky x{w}: {t:.1f} s ({_load()})", flush=True)

    # Dask futures, 1 and 2 workers (+ the overhead and the joblib-dask comparison on 2)
    overhead: dict[str, float] = {}
    alternating: list[tuple[float, float, str]] = []
    for w in (1, 2):
        with (
            LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            d = DaskDispatcher(client)
            with use(d):
                _section(small, 30, methods)  # warm-up: imports and numba kernels in every worker
                t, res = _timed(lambda: _section(grid, args.points, methods))
            tables[f"dask{w}"] = res.table
            rows.append((f"Dask futures, {w} worker{'s' * (w > 1)}", t, _load()))
            print(f"#   dask x{w}: {t:.1f} s ({_load()})", flush=True)
            if w == 2:
                # futures and joblib's backend alternately, twice each, on the same warm workers
                with parallel_config(backend="dask", scheduler_host=cluster.scheduler_address):
                    for rep in range(2):
                        with use(d):
                            tf, _ = _timed(lambda: _section(grid, args.points, methods))
                        with use(_JoblibDask()):
                            tj, _ = _timed(lambda: _section(grid, args.points, methods))
                        alternating.append((tf, tj, _load()))
                        print(
                            f"#   alternating {rep}: futures {tf:.1f} s, joblib-dask {tj:.1f} s ({_load()})", flush=True
                        )
                calls = [(i,) for i in range(args.tasks)]
                t, _ = _timed(lambda: list(d.map(_trivial, calls)))
                overhead["supviz Dask futures (2 workers)"] = t / args.tasks
                with parallel_config(backend="dask", scheduler_host=cluster.scheduler_address):
                    Parallel(n_jobs=-1)(delayed(_trivial)(i) for i in range(20))  # warm-up
                    t, _ = _timed(lambda: Parallel(n_jobs=-1)(delayed(_trivial)(i) for i in range(args.tasks)))
                    overhead["joblib Dask backend (2 workers)"] = t / args.tasks
                    # the section's jobs through joblib's Dask backend (auto-scatter, auto-batching)
                    with use(_JoblibDask()):
                        t, res = _timed(lambda: _section(grid, args.points, methods))
                    tables["joblib-dask2"] = res.table
                    rows.append(("joblib Dask backend, 2 workers", t, _load()))
                    print(f"#   joblib-dask x2: {t:.1f} s ({_load()})", flush=True)
    loky = LocalDispatcher(2)
    list(loky.map(_trivial, [(i,) for i in range(20)]))
    t, _ = _timed(lambda: list(loky.map(_trivial, [(i,) for i in range(args.tasks)])))
    overhead["supviz loky dispatcher (2 processes)"] = t / args.tasks

    import pandas as pd

    same = all(pd.DataFrame.equals(tables["loky1"], tab) for tab in tables.values())
    times = dict((name, t) for name, t, _ in rows)
    print("\n| data-point section | wall s | load (1, 5, 15 min) |")
    print("| --- | ---: | --- |")
    for name, t, load in rows:
        print(f"| {name} | {t:.1f} | {load[5:]} |")
    eff_dask = times["Dask futures, 1 worker"] / (2 * times["Dask futures, 2 workers"])
    eff_loky = times["joblib loky, 1 process"] / (2 * times["joblib loky, 2 processes"])
    print(f"\nparallel efficiency at 2 workers: Dask {eff_dask:.0%}, loky {eff_loky:.0%} (goal >= 80%)")
    print(
        f"futures vs joblib's Dask backend (2 workers): "
        f"{times['joblib Dask backend, 2 workers'] / times['Dask futures, 2 workers']:.2f}x the futures' time"
    )
    print(f"tables identical across all runs: {same}")
    for tf, tj, load in alternating:
        print(f"alternating, 2 workers: futures {tf:.1f} s, joblib's Dask backend {tj:.1f} s ({load})")
    print("\n| dispatch of a trivial task | ms per task |")
    print("| --- | ---: |")
    for name, v in overhead.items():
        print(f"| {name} | {1e3 * v:.2f} |")


class _JoblibDask:
    """A dispatcher that hands the tasks to ``joblib.Parallel`` under the backend in force (joblib's Dask
    backend here), as code that used joblib directly would: for the comparison only."""

    memo = None
    progress = None
    name = "joblib"

    def map(self, fn, calls, *, bar=None, **_: Any):
        from joblib import Parallel, delayed

        from supviz.runtime.dispatch import Shared

        plain = (
            [a.value if isinstance(a, Shared) else a for a in call] for call in calls
        )  # as joblib code passes them
        yield from Parallel(n_jobs=-1, return_as="generator_unordered")(
            delayed(_indexed_plain)(i, fn, *args) for i, args in enumerate(plain)
        )


def _indexed_plain(i: int, fn, *args: Any) -> tuple[int, Any]:
    from supviz.runtime.dispatch import run_task

    return i, run_task(fn, args, None, None, None, True)


if __name__ == "__main__":
    main()
