"""Training a grid of toy models as one job: :func:`train_grid`.

Two engines do the same arithmetic (SPEC section 0) from the same random streams:

* ``numba`` (the default on CPU): fused kernels and the products of :mod:`supviz.runtime.products`
  (per shape, the fastest implementation on this machine) on one worker thread per CPU, see
  ``_engine.py``. Same seed, same machine (and the same product table): the same weights bit for
  bit, whatever the number of threads, and an instance trained alone gets the bits it gets in a
  grid. Another CPU, or another implementation of the products, gives the same weights within
  float32 rounding amplified by training (``tests/toy/test_train.py`` states the tolerance).
* ``torch``: einsum forward, autograd and ``torch.optim.AdamW`` on any device (CUDA included);
  the reference the fast engine is tested against.

Learning-rate schedules (:func:`learning_rates`): optional linear warm-up, then constant, linear
decay or half-cosine decay towards 0 at the end of training.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from supviz.errors import SupvizError
from supviz.runtime.threads import run_workers
from supviz.toy.config import TrainConfig
from supviz.toy.grid import InstanceSpec, TrainedGrid

log = logging.getLogger(__name__)

#: What :func:`train_grid` does when an instance's loss or weights turn non-finite.
ON_DIVERGENCE = ("raise", "mark")


class TrainingDiverged(SupvizError):
    """Training produced non-finite losses or weights (the CLI exits with status 1).

    Attributes
    ----------
    instances : list[int]
        Indices of the diverged instances (in the order of the specs trained).
    step : int
        The first step by which one was seen non-finite.
    """

    exit_status = 1

    def __init__(self, message: str, *, instances: list[int], step: int) -> None:
        super().__init__(message)
        self.instances = instances
        self.step = step

    def __reduce__(self):  # travels back from a worker process intact (keyword-only fields)
        return _rebuild_diverged, (str(self), self.instances, self.step)


def _rebuild_diverged(message: str, instances: list[int], step: int) -> TrainingDiverged:
    return TrainingDiverged(message, instances=instances, step=step)


def train_grid(
    config: TrainConfig | None = None, *, progress: bool | None = None, on_divergence: str = "raise"
) -> TrainedGrid:
    """Train every instance of ``config``'s grid (importance x hidden x probability) as one job.

    Parameters
    ----------
    config : TrainConfig, optional
        Defaults to ``TrainConfig()``, the study's grid.
    progress : bool or None
        Show a progress bar with the running loss on stderr. ``None``: only when stderr is a
        terminal (and only once the run has lasted 2 s).
    on_divergence : {"raise", "mark"}, default "raise"
        Losses and weights are checked for NaN/inf at the end of every loss window
        (``config.log_every`` steps) and at the last step. ``"raise"``: stop at the first
        non-finite value and raise :class:`TrainingDiverged`, naming the instances and the step.
        ``"mark"``: train to the end and return the grid with ``diverged_at`` set for them.

    Returns
    -------
    TrainedGrid
        Specs in the order of :meth:`TrainConfig.instances`, weights, biases, loss curves
        ``[instances, config.n_logged]``, the config, and timing in ``info``.

    Raises
    ------
    SupvizError
        ``config`` is not a :class:`TrainConfig`, or ``on_divergence`` is not one of the two.
    TrainingDiverged
        (a ``SupvizError``) With ``on_divergence="raise"``, when an instance's loss or weights
        turn non-finite (e.g. a learning rate far too large).

    Notes
    -----
    The numba engine trains on ``config.threads`` worker threads (default: one per CPU) and sets
    torch's intra-op threads to 1 while it runs (restored afterwards). On the study grid it takes
    about 7 ms per step on two cores (``docs/bench/train_grid.md``): ~70 s for 10,000 steps.
    """
    config = TrainConfig() if config is None else _check_config(config)
    check_training_fits(config)  # before the specs: n_features = 1e8 allocates in them already
    return train_instances(config.instances(), config, progress=progress, on_divergence=on_divergence)


def training_need(config: TrainConfig, specs: Sequence[InstanceSpec] | None = None) -> Any:
    """The floor of memory and arithmetic of training ``specs`` (default: ``config``'s grid, counted
    from its sizes without building it) with ``config``'s batch, steps and engine: a
    :class:`supviz.core.resources.Need` (:func:`supviz.core.resources.toy_training_need` has the formula;
    an instance counts as sparse where the numba engine's own rule, ``_engine.use_sparse``, says so), with the
    first-call timing of the engine's products (:func:`supviz.runtime.products.timing_need`)."""
    from supviz.core.resources import toy_training_need
    from supviz.toy._engine import use_sparse

    if specs is None:
        sizes = [(config.n_features, m, p) for m in config.hidden for p in config.probabilities] * len(
            config.importances
        )
    else:
        sizes = [(s.n_features, s.n_hidden, s.probability) for s in specs]
    numba = config.device == "cpu" and config.engine in ("numba", "auto")
    rows = [(n, m, p if numba and use_sparse(n, m, p) else None) for n, m, p in sizes]
    need = toy_training_need(rows, batch_size=config.batch_size, steps=config.steps, log_every=config.log_every)
    if not numba:
        return need
    # the numba engine chooses its products' implementations (timing each new shape) with its buffers held
    from supviz.runtime.products import timing_need
    from supviz.toy._engine import product_shapes

    shapes = {shape for n, m, p in rows for shape in product_shapes(config.batch_size, n, m, p is not None)}
    timing = timing_need(sorted(shapes))
    return need + timing if timing.bytes > 0 else need


#: The settings that size a toy training run (what a refusal names).
TRAINING_SIZES = ("n_features", "hidden", "probabilities", "importances", "batch_size", "steps", "log_every")


def check_training_fits(
    config: TrainConfig,
    specs: Sequence[InstanceSpec] | None = None,
    *,
    prefix: str = "",
    flags: bool = False,
    settings: str = "",
) -> None:
    """Refuse (``SupvizError``, one line) a training run beyond this machine (:func:`training_need`).

    The message names the sizing settings :data:`TRAINING_SIZES`: as TOML keys under ``prefix``
    (``"toy."``), or as ``supviz train``'s flags (``flags=True``: ``--batch-size``), or as ``settings``.
    """
    from supviz.core.resources import check_fits

    names = [f"--{k.replace('_', '-')}" if flags else f"{prefix}{k}" for k in TRAINING_SIZES]
    check_fits(training_need(config, specs), settings or ", ".join(f"`{n}`" for n in names))


def train_instances(
    specs: Sequence[InstanceSpec], config: TrainConfig, *, progress: bool | None = None, on_divergence: str = "raise"
) -> TrainedGrid:
    """Train the given instances with the optimiser settings of ``config``.

    Each instance trains from its own ``seed``; ``config``'s grid fields (``hidden``,
    ``probabilities``, ``importances``, ``seed``) are not used. This is how one instance of a grid
    is trained alone: ``train_instances([grid.specs[i]], config)``. ``progress`` and
    ``on_divergence`` as in :func:`train_grid`.
    """
    from supviz.core.validation import check_choice

    config = _check_config(config)
    on_divergence = check_choice("on_divergence", on_divergence, ON_DIVERGENCE)
    specs = list(specs)
    _check_specs(specs)
    engine = resolve_engine(config)
    check_training_fits(config, specs)
    halt = on_divergence == "raise"
    lrs = learning_rates(config)
    n_logged = config.n_logged
    loss_steps = np.minimum(np.arange(1, n_logged + 1) * config.log_every, config.steps)
    losses = np.zeros((len(specs), n_logged))
    t0 = time.perf_counter()
    diverged_at = np.full(len(specs), -1, dtype=np.int64)
    if engine == "numba":
        Ws, bs, n_workers = _train_numba(specs, config, lrs, losses, progress, diverged_at, halt)
    else:
        Ws, bs, n_workers = _train_torch(specs, config, lrs, losses, progress, diverged_at, halt)
    wall = time.perf_counter() - t0
    if (diverged_at >= 0).any():
        if halt:
            raise _diverged(specs, diverged_at, config)
        bad, step, names = _divergence(specs, diverged_at)
        log.warning(
            "training diverged for %d of %d instances by step %d (%s); they are marked in diverged_at",
            len(bad),
            len(specs),
            step,
            names,
        )
    info: dict[str, Any] = {
        "engine": engine,
        "device": config.device,
        "threads": n_workers,
        "batching": "grouped by n_hidden",
        "wall_seconds": round(wall, 3),
        "ms_per_step": round(1e3 * wall / config.steps, 4),
    }
    log.info(
        "trained %d instances x %d steps in %.1f s (%.2f ms/step, %s engine)",
        len(specs),
        config.steps,
        wall,
        1e3 * wall / config.steps,
        engine,
    )
    return TrainedGrid(specs, Ws, bs, losses, config=config, loss_steps=loss_steps, info=info, diverged_at=diverged_at)


def _divergence(specs: Sequence[InstanceSpec], diverged_at: np.ndarray) -> tuple[list[int], int, str]:
    """The diverged instances of ``specs`` (``diverged_at >= 0``), the first step one was seen, and their names
    (three, then a count)."""
    bad = [int(i) for i in np.flatnonzero(diverged_at >= 0)]
    step = int(diverged_at[bad].min())
    names = ", ".join(specs[i].label for i in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
    return bad, step, names


def _diverged(specs: Sequence[InstanceSpec], diverged_at: np.ndarray, config: TrainConfig) -> TrainingDiverged:
    """The error that names the instances of ``specs`` whose ``diverged_at`` is set, and the first step."""
    bad, step, names = _divergence(specs, diverged_at)
    return TrainingDiverged(
        f"training diverged: {len(bad)} of {len(specs)} instance(s) had non-finite loss or weights by step "
        f"{step} ({names}); lower `lr` (got {config.lr:g}).",
        instances=bad,
        step=step,
    )


def train_parts(
    parts: Sequence[Sequence[InstanceSpec]],
    config: TrainConfig,
    *,
    on_part: Callable[[int, TrainedGrid], None],
    threads: int = 0,
    progress: bool | None = None,
) -> None:
    """Train groups of instances (``parts``) on worker threads from a queue, one part per thread at a time.

    A thread that ends its part takes the next one, the most expensive first
    (:func:`supviz.toy._engine.instance_cost`), so the threads end within about the last part's time of each other.
    Splitting every part over all the threads instead (:func:`train_instances` on each part in turn) waits at the end
    of every part for its slowest shard: with the study's 72 cells in 8 parts of 9, the cost model's error left one
    of two cores idle for 1.5-2 s per part (about 14 s of a 85 s training, on the 2-core Xeon of
    ``docs/benchmarks.md``). Each instance gets the bits it gets in any other group (module docstring).

    Parameters
    ----------
    parts : sequence of sequences of InstanceSpec
        The groups; each holds one ``n_features`` and trains as one shard of the numba engine.
    config : TrainConfig
        Optimiser settings (its grid fields are not used); the engine must resolve to ``"numba"``.
    on_part : callable ``on_part(k, grid)``
        Called as part ``k`` ends, with its :class:`TrainedGrid` (specs in the part's order), on the worker thread,
        one call at a time (e.g. to store its cells at once: a run stopped half way keeps every part that ended).
        A part stopped early, or one whose training diverged, is not reported.
    threads : int, default 0
        Worker threads (0: one per CPU), at most one per part.
    progress : bool or None
        The training bar (instance-weighted steps), as in :func:`train_grid`.

    Raises
    ------
    SupvizError
        ``config`` is not a :class:`TrainConfig`, its engine is not numba, or a part is empty or mixes ``n_features``.
    TrainingDiverged
        An instance's loss or weights turned non-finite; the other threads stop at their next step, and the parts
        that ended before are already reported.
    """
    from supviz.runtime.products import single_threaded
    from supviz.toy._engine import Shard, instance_cost

    config = _check_config(config)
    if resolve_engine(config) != "numba":
        raise SupvizError(f"train_parts runs the numba engine; this config resolves to {resolve_engine(config)!r}.")
    parts = [list(p) for p in parts]
    for part in parts:
        _check_specs(part)
        check_training_fits(config, part)
    lrs = learning_rates(config)
    n_logged = config.n_logged
    loss_steps = np.minimum(np.arange(1, n_logged + 1) * config.log_every, config.steps)
    queue = iter(sorted(range(len(parts)), key=lambda k: (-sum(instance_cost(s) for s in parts[k]), k)))
    lock = threading.Lock()
    running: dict[int, Any] = {}
    latest: dict[int, np.ndarray] = {}
    ended_steps = [0]  # instance-steps of the parts that ended
    total = max(1, sum(len(p) for p in parts))

    def work(stop: threading.Event) -> None:
        import torch

        torch.set_num_threads(1)  # per thread under OpenMP (see _train_shards)
        while not stop.is_set():
            with lock:
                k = next(queue, None)
            if k is None:
                return
            t0 = time.perf_counter()
            shard = Shard(
                parts[k],
                batch_size=config.batch_size,
                init=config.init,
                betas=config.betas,
                eps=config.eps,
                weight_decay=config.weight_decay,
            )
            losses = np.zeros((len(parts[k]), n_logged))
            with lock:
                running[k] = shard
            shard.train(
                lrs,
                log_every=config.log_every,
                losses=losses,
                stop=stop,
                on_window=lambda _w, mean, k=k: latest.__setitem__(k, mean.copy()),
                halt_on_divergence=True,
            )
            with lock:
                del running[k]
                latest.pop(k, None)
            if (shard.diverged_at >= 0).any():
                raise _diverged(parts[k], shard.diverged_at, config)
            if shard.done < config.steps:
                return  # stopped: another thread failed, or the run was interrupted
            weights, biases = shard.weights()
            wall = time.perf_counter() - t0
            info = {"engine": "numba", "device": config.device, "threads": 1, "wall_seconds": round(wall, 3)}
            grid = TrainedGrid(
                parts[k],
                weights,
                biases,
                losses,
                config=config,
                loss_steps=loss_steps,
                info=info,
                diverged_at=shard.diverged_at,
            )
            with lock:
                ended_steps[0] += len(parts[k]) * config.steps
                on_part(k, grid)

    def done() -> int:
        with lock:
            steps = ended_steps[0] + sum(s.done * len(s.specs) for s in running.values())
        return steps // total

    def running_loss() -> float:
        with lock:
            values = list(latest.values())
        return _finite_mean(np.concatenate(values)) if values else math.nan

    n_threads = max(1, min(threads or available_cpus(), len(parts)))
    with single_threaded():  # the products of every thread on that thread (torch and BLAS; restored after)
        run_workers(
            [work] * n_threads,
            steps=config.steps,
            done=done,
            running_loss=running_loss,
            progress=progress,
            desc=_desc(total),
            name="supviz-train",
        )


def learning_rates(config: TrainConfig) -> np.ndarray:
    """The learning rate of every step ``[steps]`` (float64).

    Warm-up step ``t < w`` uses ``lr * (t + 1) / w``; after it, with ``s = t - w`` and
    ``T = steps - w``: constant ``lr``; linear ``lr * (1 - s / T)``; cosine
    ``lr * (1 + cos(pi * s / T)) / 2``.
    """
    t = np.arange(config.steps, dtype=np.float64)
    w = config.warmup_steps
    T = max(config.steps - w, 1)
    s = np.clip(t - w, 0, None)
    if config.schedule == "linear":
        factor = 1.0 - s / T
    elif config.schedule == "cosine":
        factor = 0.5 * (1.0 + np.cos(np.pi * s / T))
    else:
        factor = np.ones_like(t)
    if w:
        factor = np.where(t < w, (t + 1) / w, factor)
    return config.lr * factor


def resolve_engine(config: TrainConfig) -> str:
    """``"numba"`` or ``"torch"``: what ``config.engine`` means on ``config.device`` here."""
    if config.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise SupvizError(f"`device` {config.device!r} needs CUDA, which this machine's torch cannot use.")
        index = int(config.device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise SupvizError(
                f"`device` {config.device!r} names GPU {index}; this machine has "
                f"{torch.cuda.device_count()} (cuda:0 ... cuda:{torch.cuda.device_count() - 1})."
            )
        return "torch"
    if config.engine in ("numba", "auto"):
        try:
            import numba  # noqa: F401
        except ImportError:  # pragma: no cover - numba ships with umap-learn
            if config.engine == "numba":
                raise SupvizError("`engine` 'numba' needs the numba package, which is not installed.") from None
            log.info("numba is not installed; training with the torch engine")
            return "torch"
        return "numba"
    return "torch"


def available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# -- engines ----------------------------------------------------------------------------------


def _check_config(config: Any) -> TrainConfig:
    if not isinstance(config, TrainConfig):
        raise SupvizError(
            f"`config` must be a TrainConfig (e.g. TrainConfig(**settings) or TrainConfig.from_dict(settings)); "
            f"got {type(config).__name__}."
        )
    return config


def _train_numba(specs, config, lrs, losses, progress, diverged_at, halt):
    from supviz.runtime.products import single_threaded
    from supviz.toy._engine import Shard, assign_shards

    n_workers = min(config.threads or available_cpus(), len(specs))
    parts = assign_shards(specs, n_workers)
    with single_threaded():  # each worker's products run on its own thread (torch and BLAS; restored after)
        return _train_shards(specs, config, lrs, losses, progress, parts, Shard, diverged_at, halt)


def _train_shards(specs, config, lrs, losses, progress, parts, Shard, diverged_at, halt):
    shards = [
        Shard(
            [specs[i] for i in part],
            batch_size=config.batch_size,
            init=config.init,
            betas=config.betas,
            eps=config.eps,
            weight_decay=config.weight_decay,
        )
        for part in parts
    ]
    part_losses = [np.zeros((len(part), losses.shape[1])) for part in parts]
    latest = [np.full(len(part), np.nan) for part in parts]

    def work(j: int, stop: threading.Event) -> None:
        import torch

        # OpenMP's thread count is per thread: set it here too, or MKL and ATen would use all
        # cores inside every worker
        torch.set_num_threads(1)

        def on_window(_w: int, mean: np.ndarray) -> None:
            latest[j] = mean.copy()

        shards[j].train(
            lrs,
            log_every=config.log_every,
            losses=part_losses[j],
            stop=stop,
            on_window=on_window,
            halt_on_divergence=halt,
        )
        if halt and (shards[j].diverged_at >= 0).any():
            stop.set()  # the others stop too: the whole job fails

    run_workers(
        [lambda stop, j=j: work(j, stop) for j in range(len(shards))],
        steps=config.steps,
        done=lambda: min(s.done for s in shards),
        running_loss=lambda: _finite_mean(np.concatenate(latest)),
        progress=progress,
        desc=_desc(len(specs)),
        name="supviz-train",
    )
    Ws: list[np.ndarray] = [np.empty(0)] * len(specs)
    bs: list[np.ndarray] = [np.empty(0)] * len(specs)
    for part, shard, pl in zip(parts, shards, part_losses):
        w, b = shard.weights()
        for j, i in enumerate(part):
            Ws[i], bs[i] = w[j], b[j]
        losses[part] = pl
        diverged_at[part] = shard.diverged_at
    return Ws, bs, len(shards)


def _train_torch(specs, config, lrs, losses, progress, diverged_at, halt):
    import torch

    from supviz.toy.model import TorchModels

    models = TorchModels(
        specs,
        batch_size=config.batch_size,
        init=config.init,
        device=config.device,
        lr=config.lr,
        betas=config.betas,
        eps=config.eps,
        weight_decay=config.weight_decay,
    )
    state = {"done": 0, "latest": math.nan}
    caller_threads = torch.get_num_threads()

    def work(stop: threading.Event) -> None:
        torch.set_num_threads(caller_threads)  # per-thread under OpenMP: use the caller's setting
        start, window = 0, 0
        for t in range(config.steps):
            if stop.is_set():
                return
            models.step(t, float(lrs[t]))
            state["done"] = t + 1
            if (t + 1) % config.log_every == 0 or t + 1 == config.steps:
                mean = models.take_loss_sums() / (t + 1 - start)
                losses[:, window] = mean
                state["latest"] = float(mean.mean())
                window += 1
                start = t + 1
                ok = np.isfinite(mean)
                for g in models.groups:  # parameters: one isfinite pass per group at each loss window
                    with torch.no_grad():
                        fin = torch.isfinite(g["W"]).flatten(1).all(1) & torch.isfinite(g["b"]).all(1)
                    ok[g["idx"]] &= fin.cpu().numpy()
                new = np.flatnonzero(~ok & (diverged_at < 0))
                diverged_at[new] = t + 1
                if halt and new.size:
                    stop.set()
                    return

    run_workers(
        [work],
        steps=config.steps,
        done=lambda: state["done"],
        running_loss=lambda: state["latest"],
        progress=progress,
        desc=_desc(len(specs)),
        name="supviz-train",
    )
    Ws, bs = models.weights()
    return Ws, bs, 1


def _desc(n_instances: int) -> str:
    return f"train {n_instances} model{'s' * (n_instances != 1)}"


def _finite_mean(values: np.ndarray) -> float:
    ok = values[np.isfinite(values)]
    return float(ok.mean()) if ok.size else math.nan


def _check_specs(specs: list[InstanceSpec]) -> None:
    if not specs:
        raise SupvizError("`specs` must hold at least one instance; got none.")
    ns = {s.n_features for s in specs}
    if len(ns) > 1:
        raise SupvizError(f"all instances of one job must share `n_features`; got {sorted(ns)}.")
    for i, s in enumerate(specs):
        if s.probability is None or s.importance is None or s.seed is None:
            raise SupvizError(f"instance {i} ({s.label}) has no probability, importance or seed to train from.")
        if s.n_hidden < 1:
            raise SupvizError(f"`n_hidden` must be an int >= 1; got {s.n_hidden}.")
        if not 0.0 < s.probability <= 1.0:
            raise SupvizError(f"`probability` must be in (0, 1]; got {s.probability}.")
