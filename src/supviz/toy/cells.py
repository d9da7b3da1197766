"""Toy models as cache entries of their own: one per cell, trained in groups wherever tasks run.

Each instance's seed derives from its own parameters (:func:`supviz.toy.instance_seed`), and the
training engines give an instance the same bits alone, in any group, on any number of threads.
So a cell is a unit of the cache: its key is its parameters, seed and optimiser settings
(:func:`cell_params`), and a grid is assembled from its cells. A grid that adds cells trains only
the new ones; a sweep and the study share the cells they have in common; a run stopped half way
keeps every cell it finished.

Missing cells train in groups (one task each, :mod:`supviz.runtime.dispatch`). Locally, with more than one
worker process, each chunk (:func:`chunks`) is one task on one thread of a worker process; with one, a
single group trains here on the numba engine's threads; on a cluster as many groups as worker threads,
balanced by the engine's cost model. Each group stores its cells where it ran, chunk by chunk as each
ends: a run or sweep killed during training keeps every chunk it finished, and its rerun trains only the
rest (issue 22: a sweep killed after 135 s of training had stored nothing). Processes rather than
threads on a local machine because each of the engine's threads holds the GIL for its Python dispatch
between kernels: in the default study's cold runs on a quiet 2-core Xeon, the grid's training kept
1.75-1.81 cores busy on two threads and 1.93-1.94 in two processes (``docs/benchmarks.md``, ABBA).
Before the chunks go out, the machine's product choices are fixed here (:func:`prepare_products`), so
every worker serves every shape alike.
On threads, the chunks queue, one per thread at a time, the most expensive first
(:func:`supviz.toy.train.train_parts`), so no thread waits for the others at the end of each chunk.
The torch engine trains the chunks in turn, each on every thread (or the GPU).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: Cache kind of one trained cell.
KIND = "cell"
#: A group trains in at most this many chunks (each a call of the engine, stored as it ends) ...
MAX_CHUNKS = 8
#: ... of at least this many instances per worker thread, so that every thread of the numba engine
#: (one shard of a chunk each) has work; instances give the same bits in any chunk (module docstring).
MIN_PER_THREAD = 2
#: :func:`train_groups` splits each group into this many parts per worker (thread or process) for the queue.
PARTS_PER_WORKER = 2


def cell_params(spec: Any, config: Any, engine: str) -> dict[str, Any]:
    """Everything that determines one cell's trained weights: its parameters, seed, optimiser, engine.

    Not its place in a grid, the other cells, the thread count or the worker.
    """
    opt = {
        k: v
        for k, v in config.to_dict().items()
        if k not in ("n_features", "hidden", "probabilities", "importances", "seed", "threads")
    }
    return {
        "n_features": int(spec.n_features),
        "n_hidden": int(spec.n_hidden),
        "probability": float(spec.probability),
        "importance": np.asarray(spec.importance, dtype=np.float64),
        "seed": int(spec.seed),
        "optimiser": opt,
        "engine": engine,
    }


def _train_group(
    specs: list[Any],
    config: Any,
    store: Any,
    keys: list[str],
    progress: bool | None = False,
    choices: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Train one group of cells (one task) and store each cell under its key where it ran, serving the products
    by ``choices`` (the parent's, :func:`prepare_products`) where given."""
    from supviz.runtime import products
    from supviz.toy.train import resolve_engine, train_instances, train_parts

    products.adopt(choices or {})

    threads = config.threads
    if threads == 0:
        try:  # on a Dask worker: its own thread count, not every CPU of the machine
            from distributed import get_worker

            threads = max(1, int(get_worker().state.nthreads))
        except (ImportError, ValueError):
            threads = 0
    out: list[dict[str, Any] | None] = [None] * len(specs)
    parts = chunks(specs, threads)

    def keep(part: list[int], grid: Any) -> None:
        for j, i in enumerate(part):
            cell = {
                "weights": grid.weights[j],
                "bias": grid.biases[j],
                "losses": grid.losses[j],
                "engine": grid.info["engine"],
                "wall_seconds": float(grid.info["wall_seconds"]),
            }
            if store is not None:
                store.store(KIND, keys[i], cell)
            out[i] = cell

    if resolve_engine(config) == "numba":
        # the chunks queue on the threads, one chunk per thread at a time (train_parts): no thread waits for the
        # others at the end of each chunk
        ended = [0]

        def on_part(k: int, grid: Any) -> None:  # one call at a time (train_parts)
            keep(parts[k], grid)
            ended[0] += 1
            log.info(
                "trained chunk %d of %d (%d cells) in %.1f s on one thread",
                ended[0],
                len(parts),
                len(parts[k]),
                grid.info["wall_seconds"],
            )

        train_parts(
            [[specs[i] for i in part] for part in parts],
            config.replace(threads=threads),
            on_part=on_part,
            threads=threads,
            progress=progress,
        )
        return out  # type: ignore[return-value]
    for c, part in enumerate(parts):  # the torch engine: every part on all threads (or the GPU), in turn
        grid = train_instances([specs[i] for i in part], config.replace(threads=threads), progress=progress)
        keep(part, grid)
        if len(parts) > 1:
            log.info(
                "trained chunk %d of %d (%d cells) in %.1f s", c + 1, len(parts), len(part), grid.info["wall_seconds"]
            )
    return out  # type: ignore[return-value]


def prepare_products(specs: Sequence[Any], config: Any) -> dict[str, str]:
    """Fix this machine's product choices for every shape these instances' steps make, here, before worker
    processes start, and return them (``{key: implementation}``, ``supviz.runtime.products.prepare``): each task
    takes them to its worker (``supviz.runtime.products.adopt``), so an instance gets the same bits in any
    process. Without them, two workers meeting a new shape at once could each time it and serve it differently,
    and with a read-only cache folder (the table not written) or a forced choice here every worker would."""
    from supviz.runtime import products
    from supviz.toy._engine import step_shapes

    return products.prepare(step_shapes(specs, config.batch_size))


def _train_part(specs: list[Any], config: Any, choices: dict[str, str]) -> Any:
    """One part of a group (one task): its ``TrainedGrid`` (specs in the part's order), trained on one thread,
    its products served by the parent's ``choices`` (:func:`prepare_products`)."""
    from supviz.errors import SupvizError
    from supviz.runtime import products
    from supviz.toy.train import train_parts

    products.adopt(choices)
    out: list[Any] = []
    train_parts(
        [specs], config.replace(threads=1), on_part=lambda _k, grid: out.append(grid), threads=1, progress=False
    )
    if not out:
        raise SupvizError("training stopped before its part ended (interrupted).")
    return out[0]


def train_groups(
    groups: Sequence[Sequence[Any]],
    config: Any,
    *,
    dispatcher: Any = None,
    progress: bool | None = None,
    on_group: Any = None,
    desc: str = "train toy models",
) -> list[Any]:
    """Train several groups of instances (each of one ``n_features``): one ``TrainedGrid`` per group, specs in the
    group's order, each instance the same bits as trained alone (``supviz.toy.train_instances``).

    On the numba engine each group is split into :data:`PARTS_PER_WORKER` parts per worker, balanced by the
    engine's cost model (``supviz.toy._engine.assign_shards``), and all the parts queue, most expensive first:
    with a ``dispatcher`` of more than one worker (``supviz.runtime.dispatch``) each part is one task on one thread
    of a worker process; otherwise they queue on this process's threads (``supviz.toy.train.train_parts``). Worker
    processes, because a thread of the engine holds the GIL for its Python dispatch between kernels: in quiet cold
    runs on the 2-core Xeon of ``docs/benchmarks.md`` section A's experiments kept 1.66 cores busy on two threads
    and 1.95-1.96 in two processes. The torch engine trains the groups in turn, each on every thread.

    Parameters
    ----------
    groups : sequence of sequences of InstanceSpec
        The instances, each group of one ``n_features``.
    config : TrainConfig
        Optimiser settings (its grid fields are not used).
    dispatcher : supviz.runtime.dispatch.Dispatcher, optional
        Where the parts run (default: this process's threads). Its workers are capped by ``config.threads``
        (0: no cap); one worker: this process's threads.
    progress : bool or None
        The training bar of threads in this process (the dispatcher draws its own for tasks).
    on_group : callable ``on_group(g, grid)``, optional
        Called here as group ``g``'s last part ends, one call at a time, so a caller can store it at once: a run
        stopped half way keeps the groups that ended.
    desc : str
        What the dispatcher's progress bar calls the parts.

    Raises
    ------
    TrainingDiverged
        An instance's loss or weights turned non-finite (the groups reported before are kept).
    """
    from supviz.toy import TrainedGrid, train_instances
    from supviz.toy._engine import assign_shards
    from supviz.toy.train import available_cpus, resolve_engine, train_parts

    groups = [list(g) for g in groups]
    report = on_group or (lambda g, grid: None)
    grids: list[Any] = [None] * len(groups)
    if resolve_engine(config) != "numba":
        for g, specs in enumerate(groups):
            grids[g] = train_instances(specs, config, progress=progress)
            report(g, grids[g])
        return grids
    workers = dispatcher.workers if dispatcher is not None else 1
    workers = min(workers, config.threads or workers)  # [toy] threads caps the processes too
    in_processes = workers > 1
    slots = workers if in_processes else (config.threads or available_cpus())
    parts: list[tuple[int, list[int]]] = []  # (group, indices in the group)
    for g, specs in enumerate(groups):
        parts += [(g, part) for part in assign_shards(specs, min(len(specs), PARTS_PER_WORKER * slots))]
    weights: list[list[Any]] = [[None] * len(g) for g in groups]
    biases: list[list[Any]] = [[None] * len(g) for g in groups]
    losses = [np.zeros((len(g), config.n_logged)) for g in groups]
    walls = [0.0] * len(groups)
    left = [sum(1 for h, _ in parts if h == g) for g in range(len(groups))]
    loss_steps = np.minimum(np.arange(1, config.n_logged + 1) * config.log_every, config.steps)

    def on_part(k: int, grid: Any) -> None:  # one call at a time
        g, part = parts[k]
        for j, i in enumerate(part):
            weights[g][i], biases[g][i] = grid.weights[j], grid.biases[j]
        losses[g][part] = grid.losses
        walls[g] += grid.info["wall_seconds"]
        left[g] -= 1
        if left[g] == 0:
            info = {"engine": "numba", "device": config.device, "threads": 1 if in_processes else slots}
            info["where"] = dispatcher.name if in_processes else "in process"
            info["thread_seconds"] = round(walls[g], 3)  # the group's parts, summed over the threads
            grids[g] = TrainedGrid(
                groups[g], weights[g], biases[g], losses[g], config=config, loss_steps=loss_steps, info=info
            )
            report(g, grids[g])

    part_specs = [[groups[g][i] for i in part] for g, part in parts]
    if not in_processes:
        train_parts(part_specs, config, on_part=on_part, threads=slots, progress=progress)
        return grids
    from supviz.toy._engine import instance_cost

    choices = prepare_products([s for g in groups for s in g], config)
    order = sorted(range(len(parts)), key=lambda k: (-sum(instance_cost(s) for s in part_specs[k]), k))
    calls = [(part_specs[k], config, choices) for k in order]
    for j, grid in dispatcher.map(_train_part, calls, desc=desc, one_thread=False):
        on_part(order[j], grid)
    return grids


def cell_problem(value: Any, spec: Any, n_logged: int) -> str | None:
    """What is wrong with a cached cell ``value`` for ``spec`` (None: nothing): it must be a table whose
    ``weights [n_features, n_hidden]``, ``bias [n_features]`` and ``losses [n_logged]`` are finite, as
    :func:`_train_group` stores them (a diverged training stores nothing)."""
    if not isinstance(value, dict):
        return f"not a table but {type(value).__name__}"
    want = {
        "weights": (spec.n_features, spec.n_hidden),
        "bias": (spec.n_features,),
        "losses": (n_logged,),
    }
    for name, shape in want.items():
        if name not in value:
            return f"no {name!r}"
        arr = np.asarray(value[name])
        if arr.shape != shape:
            return f"{name!r} has shape {list(arr.shape)}, not {list(shape)}"
        if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all():
            return f"{name!r} holds NaN/inf or is not floating-point"
    return None


def chunks(specs: Sequence[Any], threads: int = 0) -> list[list[int]]:
    """The indices of ``specs`` in the chunks a group trains in, one after another.

    At most :data:`MAX_CHUNKS` chunks of at least :data:`MIN_PER_THREAD` instances per thread
    (``threads``; 0 = one per CPU); instances of similar cost (:func:`supviz.toy._engine.instance_cost`)
    share a chunk, and the chunks come most expensive first. The numba engine trains each chunk on one
    thread, the chunks queued on the threads (module docstring); the torch engine each on every thread.
    """
    import os

    from supviz.toy._engine import instance_cost

    n = len(specs)
    workers = threads or os.cpu_count() or 1
    size = max(MIN_PER_THREAD * workers, -(-n // MAX_CHUNKS), 1)
    order = sorted(range(n), key=lambda i: (int(specs[i].n_features), -instance_cost(specs[i]), i))
    return [order[j : j + size] for j in range(0, n, size)]


def _groups(specs: Sequence[Any], todo: list[int], n_groups: int) -> list[list[int]]:
    """``todo`` split into at most ``n_groups`` groups of one ``n_features`` each, balanced by cost."""
    from supviz.toy._engine import assign_shards

    by_n: dict[int, list[int]] = {}
    for i in todo:
        by_n.setdefault(int(specs[i].n_features), []).append(i)
    groups = []
    for idx in by_n.values():
        share = max(1, round(n_groups * len(idx) / len(todo)))
        for part in assign_shards([specs[i] for i in idx], min(share, len(idx))):
            groups.append([idx[j] for j in part])
    return groups


def train_cells(
    specs: Sequence[Any],
    config: Any,
    *,
    cache: Any,
    dispatcher: Any,
    desc: str = "train toy models",
    progress: bool | None = False,
) -> tuple[Any, list[str]]:
    """The trained grid of ``specs`` (a :class:`~supviz.toy.TrainedGrid`), cell by cell from the cache.

    Parameters
    ----------
    specs : sequence of InstanceSpec
        The cells, with their seeds (``TrainConfig.instances()``, or a sweep's replicates).
    config : TrainConfig
        The optimiser settings (its grid fields and seed are not used).
    cache : supviz.runtime.cache.Cache
        Where cells are found and stored.
    dispatcher : supviz.runtime.dispatch.Dispatcher
        Where missing cells train: one group here, or one per worker thread on a cluster.
    progress : bool or None
        The training progress bar of a group trained in this process (``supviz.toy.train_grid``'s).

    Returns
    -------
    (TrainedGrid, keys)
        The grid in the order of ``specs`` and each cell's cache key.

    Raises
    ------
    TrainingDiverged
        A cell's training diverged (nothing is stored for its chunk; the chunks before it are kept).
    """
    from supviz.toy import TrainedGrid
    from supviz.toy.train import resolve_engine

    specs = list(specs)
    engine = resolve_engine(config)
    keys = [cache.key(KIND, cell_params(s, config, engine)) for s in specs]
    cells: dict[int, dict[str, Any]] = {}
    todo = []
    from supviz.runtime.cache import MISSING

    for i, key in enumerate(keys):
        # a damaged entry (unreadable, or weights that are not this cell's): a warning, then it trains again
        cell = cache.lookup(KIND, key, check=lambda v, s=specs[i]: cell_problem(v, s, config.n_logged))
        if cell is MISSING:
            todo.append(i)
        else:
            cells[i] = cell
    t0 = time.perf_counter()
    if todo:
        on_cluster = getattr(dispatcher, "client", None) is not None
        processes = min(dispatcher.workers, config.threads or dispatcher.workers)  # [toy] threads caps them
        in_processes = not on_cluster and processes > 1 and engine == "numba"
        group_config, choices = config, None
        if on_cluster:
            groups = _groups(specs, todo, dispatcher.workers)
        elif in_processes:  # one task per chunk, each on one thread of its own worker process (module docstring)
            groups = [[todo[j] for j in part] for part in chunks([specs[i] for i in todo], processes)]
            group_config = config.replace(threads=1)
            choices = prepare_products([specs[i] for i in todo], config)
        else:
            groups = [todo]
        store = cache.writer() if cache.enabled else None
        quiet = on_cluster or in_processes
        calls = [
            ([specs[i] for i in g], group_config, store, [keys[i] for i in g], False if quiet else progress, choices)
            for g in groups
        ]
        for j, result in dispatcher.map(_train_group, calls, desc=desc, one_thread=False):
            for i, cell in zip(groups[j], result):
                cells[i] = cell
    wall = time.perf_counter() - t0
    n_logged = config.n_logged
    loss_steps = np.minimum(np.arange(1, n_logged + 1) * config.log_every, config.steps)
    grid = TrainedGrid(
        specs=specs,
        weights=[np.asarray(cells[i]["weights"], dtype=np.float32) for i in range(len(specs))],
        biases=[np.asarray(cells[i]["bias"], dtype=np.float32) for i in range(len(specs))],
        losses=np.stack([np.asarray(cells[i]["losses"], dtype=np.float64) for i in range(len(specs))]),
        config=config,
        loss_steps=loss_steps,
        info={
            "engine": engine,
            "device": config.device,
            "batching": "per cell, trained in groups",
            "cells_trained": len(todo),
            "cells_from_cache": len(specs) - len(todo),
            "wall_seconds": round(wall, 3),
            "where": dispatcher.name,
        },
    )
    return grid, keys
