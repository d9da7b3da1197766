"""Training many SAEs as one job: :class:`SAEJob` and :func:`train_saes`.

Each job is one SAE: a data source, a config and a seed. The engine puts jobs that can share
tensors into groups (same architecture, ``d_in``, ``d_sae``, batch size and settings; the
learning rate and the sparsity coefficient may differ), stacks a group's parameters with the
instance axis first and trains every group with the same batched torch ops: the products of
:mod:`supviz.runtime.products` for the encoder and decoder (per shape, the fastest of torch/MKL,
numpy/OpenBLAS and supviz's own kernel on this machine; one call per instance), autograd for the
gradients, a vectorised Adam. On the CPU, ``relu_l1``, ``topk`` and ``jumprelu`` groups compute the
forward pass, the loss and every gradient in one numba kernel per step instead
(:mod:`supviz.sae._step`: the codes' zeros skipped, no BLAS; equal to the torch path within float32
rounding, ``tests/sae/test_step.py``); Adam stays the same torch ops. Groups are shared out over
worker threads, one per CPU, each with torch's intra-op threads and the BLAS libraries at 1 (as
in :mod:`supviz.toy`): no instance's numbers ever depend on another's, and each instance's products
are the same calls alone or in a group, so an instance trained alone gets the very bits it gets in
a grid, on any number of threads (tested with every product implementation). Another CPU, or another implementation of a
product shape, gives the same SAEs within float32 rounding amplified by training
(``tests/sae/test_engine.py`` states the tolerance). On CUDA one worker runs every group; there
batched products may round differently from single ones (cuBLAS picks kernels by batch count),
so "alone == batched" holds to float32 rounding there.

Seeds: job ``i``'s initial weights come from ``child(seed_i, 0)`` through a local
``torch.Generator`` (CPU, so every device starts alike); its batches come from its source's own
seed (:mod:`supviz.sae.sources`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child
from supviz.errors import SupvizError
from supviz.sae.config import DATA_K, SAEConfig, data_k
from supviz.sae.model import SAE, TrainedSAEs
from supviz.sae.sources import Source

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

#: Config fields that may differ between the instances of one group (per-instance tensors).
PER_INSTANCE = ("lr", "l1_coefficient", "l0_coefficient")
TERMS = ("mse", "sparsity", "auxk", "matryoshka")
#: Train relu_l1, topk and jumprelu groups on the CPU with one numba kernel per step for the forward pass,
#: the loss and every gradient (:mod:`supviz.sae._step`); False: torch ops and autograd, the reference the
#: tests compare it with (``tests/sae/test_step.py``).
FUSED_STEP = True


@dataclass(frozen=True, eq=False)
class SAEJob:
    """One SAE to train.

    Attributes
    ----------
    source : Source
        Its data (:class:`~supviz.sae.sources.ArraySource` or :class:`~supviz.sae.sources.FeatureStream`).
    config : SAEConfig
    seed : int, Generator, SeedSequence or None
        Its initial weights' seed (``child(seed, 0)``).
    label : str
        Defaults to the source's label.
    """

    source: Source
    config: SAEConfig = SAEConfig()
    seed: SeedLike = 0
    label: str = ""


def array_jobs(
    X: Any,
    config: SAEConfig | None = None,
    *,
    seed: SeedLike = 0,
    features: Any = None,
    codes: Any = None,
    label: str = "X",
) -> list[SAEJob]:
    """One job per activations array: ``X [N, d]`` gives one SAE, ``X [k, N, d]`` one per slice.

    ``X`` may be numpy or torch. Slice i shuffles its rows from ``child(seed, i, 1)`` and
    initialises its SAE from ``child(seed, i, 0)``. ``features [n, d]`` and ``codes [N, n]``
    (true directions and activity, where known) are shared by every slice.
    """
    from supviz.sae.sources import ArraySource

    arr = X.detach().cpu().numpy() if hasattr(X, "detach") else np.asarray(X)
    if arr.ndim not in (2, 3):
        raise SupvizError(f"`X` must be an array [N, d] or [k, N, d]; got shape {list(arr.shape)}.")
    config = SAEConfig() if config is None else config
    root = as_seed_sequence(seed)
    stack = arr[None] if arr.ndim == 2 else arr
    jobs = []
    for i, x in enumerate(stack):
        name = label if arr.ndim == 2 else f"{label}[{i}]"
        source = ArraySource(x, seed=child(root, i, 1), features=features, codes=codes, label=name)
        jobs.append(SAEJob(source, config, seed=child(root, i, 0), label=name))
    return jobs


#: The settings that size SAE training (what a refusal names).
SAE_SIZES = ("d_sae", "expansion_factor", "batch_size", "steps")


def step_products(d_in: int, d_sae: int, batch_size: int) -> list[tuple[int, int, int, bool, bool, str]]:
    """The products of one training step, as :func:`supviz.runtime.products.prepare` takes them: the encoder
    ``x [B, d_in] @ W_enc [d_in, d_sae]`` and the decoder ``f [B, d_sae] @ W_dec [d_sae, d_in]`` (their
    gradients hold operands of the same sizes; TopK's auxiliary decoder and Matryoshka's bands are no larger)."""
    B, d, s = int(batch_size), int(d_in), int(d_sae)
    return [(B, d, s, False, False, "float32"), (B, s, d, False, False, "float32")]


def training_need(
    d_in: int,
    d_sae: int,
    *,
    batch_size: int,
    steps: int,
    log_every: int,
    count: int = 1,
    what: str = "SAE training",
) -> Any:
    """The floor of training ``count`` SAEs ``d_in -> d_sae`` (:func:`supviz.core.resources.sae_training_need`)
    with the first-call timing of its products where this process must still measure them
    (:func:`supviz.runtime.products.timing_need`), which runs while the SAEs' buffers are held."""
    from supviz.core.resources import sae_training_need
    from supviz.runtime.products import timing_need

    need = sae_training_need(
        d_in, d_sae, batch_size=batch_size, steps=steps, log_every=log_every, count=count, what=what
    )
    timing = timing_need(step_products(d_in, d_sae, batch_size))
    return need + timing if timing.bytes > 0 else need


def check_sae_fits(jobs: Sequence[SAEJob]) -> None:
    """Refuse (``SupvizError``, one line) training ``jobs`` beyond this machine
    (:func:`training_need` of the largest job, times the job count), naming
    the :data:`SAE_SIZES` fields of :class:`~supviz.sae.SAEConfig`. ``supviz sae`` makes the same check
    before it builds the jobs, naming its flags."""
    from supviz.core.resources import check_fits

    jobs = list(jobs)
    sizes = [
        (j.source.d_in, j.config.resolve_d_sae(j.source.d_in), j.config.batch_size, j.config.steps, j.config.log_every)
        for j in jobs
    ]
    d, s, B, steps, _ = (max(col) for col in zip(*sizes, strict=True))
    log_every = min(size[4] for size in sizes)
    check_fits(
        training_need(d, s, batch_size=B, steps=steps, log_every=log_every, count=len(jobs)),
        ", ".join(f"`{k}`" for k in SAE_SIZES),
    )


def train_saes(
    jobs: Sequence[SAEJob],
    *,
    threads: int = 0,
    progress: bool | None = None,
) -> TrainedSAEs:
    """Train every job's SAE in one batched job.

    Parameters
    ----------
    jobs : sequence of SAEJob
        All on one device, with one ``log_every``.
    threads : int, default 0
        CPU worker threads (each trains its share of the groups); 0 = one per available CPU.
    progress : bool or None
        Progress bar on stderr; None: only when stderr is a terminal.

    Returns
    -------
    TrainedSAEs
        One :class:`~supviz.sae.model.SAE` per job (in order), loss curves, timing.

    Raises
    ------
    SupvizError
        No jobs, mixed devices or ``log_every``, ``k`` larger than the dictionary, an
        unavailable CUDA device, ``threads`` not an int >= 0.
    TrainingDiverged
        (:class:`supviz.toy.train.TrainingDiverged`, a SupvizError with ``exit_status`` 1) when an
        SAE's loss or parameters turn non-finite; checked at the end of every log window
        (``log_every`` steps), it names the SAEs, the step and their learning rates.
    """

    from supviz.core.validation import check_device, check_int

    threads = check_int("threads", threads, min_value=0)
    jobs = list(jobs)
    if not jobs:
        raise SupvizError("`jobs` must hold at least one SAE to train; got none.")
    for i, job in enumerate(jobs):
        if not isinstance(job, SAEJob):
            raise SupvizError(f"`jobs[{i}]` must be an SAEJob; got {type(job).__name__}.")
        if not isinstance(job.source, Source):
            raise SupvizError(
                f"`jobs[{i}].source` must be an ArraySource or FeatureStream; got {type(job.source).__name__}."
            )
        if not isinstance(job.config, SAEConfig):
            raise SupvizError(f"`jobs[{i}].config` must be an SAEConfig; got {type(job.config).__name__}.")
    devices = {j.config.device for j in jobs}
    if len(devices) > 1:
        raise SupvizError(f"all jobs must share one `device`; got {sorted(devices)}.")
    device = devices.pop()
    check_device(device)
    log_every = {j.config.log_every for j in jobs}
    if len(log_every) > 1:
        raise SupvizError(f"all jobs must share one `log_every`; got {sorted(log_every)}.")
    log_every_n = log_every.pop()
    check_sae_fits(jobs)
    from supviz.toy.train import available_cpus

    plans = [_plan(i, job) for i, job in enumerate(jobs)]
    max_steps = max(p["config"].steps for p in plans)
    n_logged = math.ceil(max_steps / log_every_n)
    n_workers = 1 if device != "cpu" else max(1, min(threads or available_cpus(), len(jobs)))
    shards = _assign(plans, n_workers)
    t0 = time.perf_counter()
    from supviz.runtime.products import single_threaded

    with single_threaded() if device == "cpu" else contextlib.nullcontext():
        workers = [_Worker([plans[i] for i in shard], device, n_logged, log_every_n) for shard in shards]
        _run(workers, steps=max_steps, progress=progress, n_instances=len(jobs), single_threaded=device == "cpu")
    wall = time.perf_counter() - t0
    saes: list[SAE] = [None] * len(jobs)  # type: ignore[list-item]
    losses = np.full((len(jobs), n_logged), np.nan)
    terms = {t: np.full((len(jobs), n_logged), np.nan) for t in TERMS}
    n_groups = 0
    for w in workers:
        for g in w.groups:
            n_groups += 1
            for j, i in enumerate(g.indices):
                saes[i] = g.export(j)
                losses[i] = g.loss_log["total"][j]
                for t in TERMS:
                    terms[t][i] = g.loss_log[t][j]
    loss_steps = np.minimum(np.arange(1, n_logged + 1) * log_every_n, max_steps)
    info = {
        "device": device,
        "threads": len(workers),
        "groups": n_groups,
        "wall_seconds": round(wall, 3),
        "ms_per_step": round(1e3 * wall / max_steps, 4),
        "steps": max_steps,
    }
    log.info(
        "trained %d SAE(s) in %d group(s) x %d steps in %.1f s (%.2f ms/step, %d worker(s), %s)",
        len(jobs),
        n_groups,
        max_steps,
        wall,
        1e3 * wall / max_steps,
        len(workers),
        device,
    )
    return TrainedSAEs(saes, losses, terms, loss_steps, info)


# -- planning ---------------------------------------------------------------------------------


def _plan(i: int, job: SAEJob) -> dict[str, Any]:
    cfg, src = job.config, job.source
    d_in = int(src.d_in)
    d_sae = cfg.resolve_d_sae(d_in)
    notes = []
    if cfg.k == DATA_K:
        true = src.true_l0()
        if true is None:
            raise SupvizError(
                f"job {i}: k={DATA_K!r} needs the data's true L0, which this source does not know (an ArraySource "
                "without codes); give k as an int, or the source its codes."
            )
        cfg = cfg.replace(k=data_k(true, d_in, d_sae))
        notes.append(f"k = {cfg.k} from the data (true L0 {true:.4g}, d_in {d_in}, d_sae {d_sae})")
        log.info("job %d: k = %d from the data (true L0 %.4g, d_in %d)", i, cfg.k, true, d_in)
    if cfg.architecture == "topk" and cfg.k > d_sae:
        raise SupvizError(f"job {i}: `k` must be <= d_sae; got k={cfg.k}, d_sae={d_sae}.")
    if cfg.architecture == "matryoshka_batchtopk":
        try:
            cfg.resolve_matryoshka_widths(d_sae)
        except SupvizError as exc:
            raise SupvizError(f"job {i}: {exc}") from None
    B = src.effective_batch_size(cfg.batch_size)
    if B != cfg.batch_size:
        notes.append(f"batch_size clamped from {cfg.batch_size} to the source's {B} rows")
        log.info("job %d: batch_size clamped from %d to the source's %d rows", i, cfg.batch_size, B)
    scale = 1.0
    if cfg.normalize_activations:
        msq = src.mean_sq_norm()
        if msq > 0 and math.isfinite(msq):
            scale = math.sqrt(d_in / msq)
        else:
            notes.append("inputs have zero mean squared norm: not rescaled")
    key = tuple((k, str(v)) for k, v in sorted(cfg.to_dict().items()) if k not in PER_INSTANCE)
    return {
        "index": i,
        "job": job,
        "seed": as_seed_sequence(job.seed),
        "config": cfg,
        "d_in": d_in,
        "d_sae": d_sae,
        "batch_size": B,
        "scale": scale,
        "notes": notes,
        "group_key": (key, d_in, d_sae, B),
        # measured (72 TopK cells, d_sae 120, one thread): a group's step costs 3.5 ms at d_in 3 and
        # 5.3 ms at d_in 40; the elementwise work over [k, B, d_sae] dominates the products
        "cost": cfg.steps * B * d_sae * (d_in + 64),
        "label": job.label or src.label or f"sae {i}",
    }


def _assign(plans: list[dict[str, Any]], n_workers: int) -> list[list[int]]:
    """Share jobs out over workers: whole groups (same key) where the load allows, largest first to
    the least loaded (LPT); a group heavier than a fair share is split in halves first. Fewer,
    larger groups mean fewer torch calls per step. Deterministic; results do not depend on it."""
    by_key: dict[Any, list[int]] = {}
    for i, p in enumerate(plans):
        by_key.setdefault(p["group_key"], []).append(i)
    units = list(by_key.values())
    cost = lambda unit: sum(plans[i]["cost"] for i in unit)  # noqa: E731
    fair = sum(cost(u) for u in units) / n_workers
    while True:
        big = max(range(len(units)), key=lambda u: (cost(units[u]), -u))
        if len(units[big]) < 2 or (len(units) >= n_workers and cost(units[big]) <= 1.1 * fair):
            break
        unit = units.pop(big)
        units[big:big] = [unit[: len(unit) // 2], unit[len(unit) // 2 :]]
    loads = [0.0] * n_workers
    shards: list[list[int]] = [[] for _ in range(n_workers)]
    for u in sorted(range(len(units)), key=lambda u: (-cost(units[u]), u)):
        w = min(range(n_workers), key=lambda j: (loads[j], j))
        shards[w].extend(units[u])
        loads[w] += cost(units[u])
    return [sorted(s) for s in shards if s]


# -- a group of instances trained with stacked tensors ---------------------------------------


class _Group:
    """Instances of one shape and settings: stacked parameters, Adam state, loss accumulators."""

    def __init__(self, plans: list[dict[str, Any]], device: str, n_logged: int, log_every: int) -> None:
        import torch

        from supviz.core.seeding import torch_generator
        from supviz.sae.architectures import architecture_class

        self.plans = plans
        self.indices = [p["index"] for p in plans]
        first = plans[0]
        self.config: SAEConfig = first["config"]
        self.d_in, self.d_sae, self.B = first["d_in"], first["d_sae"], first["batch_size"]
        self.steps = self.config.steps
        self.device = torch.device(device)
        self.arch = architecture_class(self.config.architecture)(self.config, self.d_in, self.d_sae)
        k = len(plans)
        per = [self.arch.init_params(torch_generator(child(p["seed"], 0))) for p in plans]
        # every parameter of an instance lives in one row of a flat [k, n_params] buffer and its gradient
        # in the same columns of another: each parameter is a leaf view whose .grad is a view of the
        # gradient buffer, which autograd accumulates into in place, so Adam is a handful of ops on
        # two buffers per group (Python overhead dominates small groups)
        self.layout: list[tuple[str, int, int, tuple[int, ...]]] = []
        off = 0
        for name, t in per[0].items():
            # every parameter of every instance starts at a multiple of 16 floats (64 bytes), as alone,
            # so the products never copy one to align it (runtime.products); the padding stays 0
            off = -(-off // 16) * 16
            self.layout.append((name, off, off + t.numel(), tuple(t.shape)))
            off += t.numel()
        off = -(-off // 16) * 16
        flat = torch.zeros(k, off)
        for j, q in enumerate(per):
            for name, a, b, _shape in self.layout:
                flat[j, a:b] = q[name].reshape(-1)
        self.flat = flat.to(self.device)
        self.grad = torch.zeros_like(self.flat)
        self.P = self.views(self.flat)
        G = self.views(self.grad)
        # the decoder's rows in flat and in grad, made once: Adam's constraints read them every step (building every
        # view per step was 8% of a step's time at the study's sizes)
        self._W_dec = self.views(self.flat)["W_dec"]
        self._gW_dec = G["W_dec"]
        for name, p in self.P.items():
            if name == "W_dec" and not self.config.train_decoder:
                continue  # frozen: no gradient, so no Adam moment, so no step
            p.requires_grad_(True)
            p.grad = G[name]
        self.m1 = torch.zeros_like(self.flat)
        self.m2 = torch.zeros_like(self.flat)
        self.S = self.arch.init_state(k, self.device)
        dt = dict(dtype=torch.float32, device=self.device)
        self.lr = torch.tensor([p["config"].lr for p in plans], **dt)
        self.coef = torch.tensor([p["config"].sparsity_coefficient for p in plans], **dt)
        self.scale = torch.tensor([p["scale"] for p in plans], **dt)
        self.since_fired = torch.zeros(k, self.d_sae, dtype=torch.int64, device=self.device)
        # sources: each distinct source draws once per step; instances index into its batch
        self.sources: list[Source] = []
        where: dict[int, int] = {}
        for p in plans:
            s = p["job"].source
            if id(s) not in where:
                where[id(s)] = len(self.sources)
                self.sources.append(s)
        self.source_index = [where[id(p["job"].source)] for p in plans]
        self.identity = self.source_index == list(range(k))
        self.source_index_t = torch.tensor(self.source_index, dtype=torch.int64, device=self.device)
        self.kind = _fused_kind(self.config, device)
        if self.kind is not None:
            from supviz.sae.architectures.base import fused

            where = {name: a for name, a, _b, _shape in self.layout}
            self._offsets = np.array(
                [
                    where["W_enc"],
                    where["b_enc"],
                    where["W_dec"],
                    where["b_dec"],
                    where.get("log_threshold", where.get("threshold", -1)),
                ],
                dtype=np.int64,
            )
            self._no_theta = torch.zeros(k, self.d_sae)
            self._no_dead = np.zeros((k, self.d_sae), dtype=np.bool_)
            self._fired_np = np.zeros((k, self.d_sae), dtype=np.bool_)
            self._fired = torch.from_numpy(self._fired_np)  # shares the kernel's output buffer
            assert fused(self.flat)
        # loss log
        self.log_every = log_every
        self.loss_log = {t: np.full((k, n_logged), np.nan) for t in ("total", *TERMS)}
        self.acc = {t: torch.zeros(k, dtype=torch.float64, device=self.device) for t in ("total", *TERMS)}
        self.window_start = 0
        self.done = 0

    # schedules (per step, shared by the group)
    def lr_factor(self, t: int) -> float:
        c = self.config
        f = 1.0
        if c.lr_warmup_steps and t < c.lr_warmup_steps:
            f = (t + 1) / c.lr_warmup_steps
        decay_steps = int(round(c.lr_decay_fraction * c.steps))
        if decay_steps and t >= c.steps - decay_steps:
            f *= (c.steps - t) / decay_steps
        return f

    def coef_factor(self, t: int) -> float:
        frac = self.config.l1_warmup_fraction
        if not frac:
            return 1.0
        warm = max(1, int(round(frac * self.steps)))
        return min(1.0, (t + 1) / warm)

    def data(self, t: int) -> "torch.Tensor":
        from supviz.sae.sources import Source as _S

        X = _S.batches(self.sources, t, self.B, str(self.device))  # (U, B, d)
        if not self.identity:
            X = X.index_select(0, self.source_index_t)
        return X * self.scale[:, None, None]

    def step(self, t: int) -> None:
        import torch

        if t >= self.steps:
            return
        cfg = self.config
        x = self.data(t)
        self.grad.zero_()
        coefficient = self.coef * self.coef_factor(t)
        dead = self.since_fired >= cfg.dead_after if cfg.dead_after is not None else None
        if self.kind is not None:
            terms, f, fired = self._fused_forward_backward(x, coefficient, dead), None, self._fired
        else:
            terms, f = self._torch_forward_backward(x, t, coefficient, dead)
            fired = None
        total = sum(terms.values())
        with torch.no_grad():
            self._update(t)
            self.arch.project(self.P)
            if f is not None:
                self.arch.after_step(f, self.P, self.S)
            if cfg.dead_after is not None:  # AuxK's dead latents (topk / batchtopk)
                if fired is None:
                    fired = f.amax(dim=1) > 0  # (k, s); codes are never negative
                self.since_fired = torch.where(fired, torch.zeros_like(self.since_fired), self.since_fired + self.B)
            self.acc["total"] += total.detach().to(torch.float64)
            for name, v in terms.items():
                self.acc[name] += v.detach().to(torch.float64)
        self.done = t + 1
        if (t + 1) % self.log_every == 0 or t + 1 == self.steps:
            w = t // self.log_every
            n = t + 1 - self.window_start
            for name, a in self.acc.items():
                if name == "total" or name in terms:
                    self.loss_log[name][:, w] = (a / n).cpu().numpy()
                a.zero_()
            self.window_start = t + 1
            self._check_finite(t + 1, w)

    def _torch_forward_backward(
        self, x: "torch.Tensor", t: int, coefficient: "torch.Tensor", dead: "torch.Tensor | None"
    ) -> tuple[dict[str, "torch.Tensor"], "torch.Tensor"]:
        """The architecture's torch ops and autograd: loss terms ``{name: [k]}``, gradients into
        ``self.grad``; returns the terms and the codes ``f [k, B, d_sae]`` (detached)."""
        arch, P = self.arch, self.P
        ctx: dict[str, Any] = {"coefficient": coefficient, "step": t}
        if dead is not None:
            ctx["dead"] = dead
        pre = arch.pre_activation(x, P)
        f, terms = arch.activation_and_terms(pre, x, P, self.S, ctx)
        x_hat = arch.decode(f, P)
        terms = {"mse": arch.mse(x_hat, x), **terms, **arch.residual_terms(f, pre, x, x_hat, P, ctx)}
        sum(terms.values()).sum().backward()
        return {name: v.detach() for name, v in terms.items()}, f.detach()

    def _fused_forward_backward(
        self, x: "torch.Tensor", coefficient: "torch.Tensor", dead: "torch.Tensor | None"
    ) -> dict[str, "torch.Tensor"]:
        """The same as :meth:`_torch_forward_backward` in one numba kernel (:func:`supviz.sae._step.forward_backward`);
        which latents fired goes to ``self._fired [k, d_sae]``."""
        import torch

        from supviz.sae import _step

        cfg = self.config
        k = len(self.plans)
        jumprelu = self.kind == _step.KINDS["jumprelu"]
        theta = self.arch.thresholds(self.P).detach() if jumprelu else self._no_theta  # (k, s): the torch path's
        out = np.empty((k, 3), dtype=np.float32)
        _step.forward_backward(
            x.contiguous().numpy(),
            self.flat.detach().numpy(),
            self.grad.numpy(),
            self._offsets,
            self.kind,
            self.arch.apply_b_dec_to_input,
            coefficient.contiguous().numpy(),
            theta.contiguous().numpy(),
            int(cfg.k) if cfg.architecture == "topk" else 0,
            dead.contiguous().numpy() if dead is not None else self._no_dead,
            cfg.resolve_aux_k(self.d_in) if cfg.architecture == "topk" else 0,
            float(cfg.aux_coefficient) if cfg.architecture == "topk" else 0.0,
            float(cfg.bandwidth) if cfg.architecture == "jumprelu" else 0.0,
            jumprelu and self.arch.log_threshold,
            out,
            self._fired_np,
        )
        terms = {"mse": torch.from_numpy(out[:, 0].copy())}
        for c, name in enumerate(_step.TERMS[cfg.architecture], start=1):
            terms[name] = torch.from_numpy(out[:, c if name == "sparsity" else 2].copy())
        return terms

    def _check_finite(self, step: int, w: int) -> None:
        """Raise :class:`~supviz.toy.train.TrainingDiverged` when an instance's loss over the window
        that ends at ``step``, or its parameters, are no longer finite (checked once per log window)."""
        import torch

        from supviz.toy.train import TrainingDiverged

        bad = ~torch.isfinite(self.flat).all(dim=1).cpu().numpy() | ~np.isfinite(self.loss_log["total"][:, w])
        if not bad.any():
            return
        which = [j for j in range(len(self.plans)) if bad[j]]
        names = ", ".join(_job_name(self.plans[j]) for j in which[:3]) + (
            f" and {len(which) - 3} more" if len(which) > 3 else ""
        )
        lrs = sorted({float(self.plans[j]["config"].lr) for j in which})
        unnormalised = not self.config.normalize_activations
        raise TrainingDiverged(
            f"SAE training diverged: {len(which)} SAE(s) had non-finite loss or weights by step {step} ({names}); "
            f"lower `lr` (got {', '.join(f'{v:g}' for v in lrs)})"
            + ("; or train with normalize_activations=True." if unnormalised else "."),
            instances=[int(self.plans[j]["index"]) for j in which],
            step=step,
        )

    def views(self, flat: "torch.Tensor") -> dict[str, "torch.Tensor"]:
        """Each parameter ``[k, ...]`` as a view of its columns of ``flat [k, n_params]``."""
        k = flat.shape[0]
        return {name: flat[:, a:b].view(k, *shape) for name, a, b, shape in self.layout}

    def _update(self, t: int) -> None:
        """Gradient constraints, per-instance clipping and Adam (per-instance learning rates)."""
        cfg = self.config
        flat, g = self.flat, self.grad
        if t == 0 and any(
            p.grad is not None and p.grad.data_ptr() != q.data_ptr()
            for p, q in zip(self.P.values(), self.views(g).values())
        ):  # pragma: no cover
            raise RuntimeError("a parameter's gradient left the group's gradient buffer")  # autograd replaced a .grad
        if self.arch.unit_norm_decoder and self.arch.project_decoder_grad and cfg.train_decoder:
            W, gW = self._W_dec, self._gW_dec
            gW.sub_((gW * W).sum(-1, keepdim=True) * W)  # remove the component along each (unit) row
        if cfg.grad_clip:
            norm = g.pow(2).sum(-1).sqrt()  # (k,)
            g.mul_((cfg.grad_clip / (norm + 1e-6)).clamp(max=1.0)[:, None])
        b1, b2 = cfg.betas
        step = t + 1
        bc1 = 1.0 - b1**step
        bc2_sqrt = math.sqrt(1.0 - b2**step)
        lr_t = self.lr * (self.lr_factor(t) / bc1)  # (k,)
        self.m1.lerp_(g, 1.0 - b1)
        self.m2.mul_(b2).addcmul_(g, g, value=1.0 - b2)
        denom = (self.m2.sqrt() / bc2_sqrt).add_(cfg.eps)
        flat.sub_((self.m1 / denom).mul_(lr_t[:, None]))
        if self.arch.unit_norm_decoder and cfg.train_decoder:
            W = self._W_dec
            W.div_(W.norm(dim=-1, keepdim=True).clamp_min(1e-12))

    def export(self, j: int) -> SAE:
        """Instance ``j`` as an :class:`SAE` on the inputs' own scale (the normalisation folded in)."""
        plan = self.plans[j]
        s = plan["scale"]
        views = self.views(self.flat)
        P = {n: t[j].cpu().numpy().astype(np.float32) for n, t in views.items()}
        inference = self.arch.export(views, self.S, j)
        threshold = inference["threshold"]
        if threshold is not None:
            threshold = (np.asarray(threshold, dtype=np.float64) / s).astype(np.float32)
        job = plan["job"]
        info = {
            "seed": _seed_repr(job.seed, plan["seed"]),
            "input_scale": s,
            "batch_size": self.B,
            "steps": self.steps,
            "source": type(job.source).__name__,
            "notes": list(plan["notes"]),
        }
        # pre_raw = pre / s: b_enc, b_dec and the threshold shrink by s; W_enc, W_dec unchanged
        return SAE(
            W_enc=P["W_enc"],
            b_enc=(P["b_enc"] / s).astype(np.float32),
            W_dec=P["W_dec"],
            b_dec=(P["b_dec"] / s).astype(np.float32),
            activation=inference["activation"],
            k=inference["k"],
            threshold=threshold,
            apply_b_dec_to_input=self.arch.apply_b_dec_to_input,
            architecture=self.config.architecture,
            config=plan["config"],
            label=plan["label"],
            info=info,
        )


def _fused_kind(config: SAEConfig, device: str) -> int | None:
    """The kernel code of :func:`supviz.sae._step.forward_backward` for a group of ``config``, or None
    where the group trains with torch ops (another architecture, a frozen decoder, CUDA, or the fused
    step switched off by :data:`FUSED_STEP` or :data:`supviz.sae.architectures.base.FUSED_CPU_KERNELS`)."""
    from supviz.sae.architectures import base

    if not (FUSED_STEP and base.FUSED_CPU_KERNELS and device == "cpu" and config.train_decoder):
        return None
    from supviz.sae._step import KINDS

    return KINDS.get(config.architecture)


class _Worker:
    """One thread's groups (its share of the jobs, grouped by shape and settings)."""

    def __init__(self, plans: list[dict[str, Any]], device: str, n_logged: int, log_every: int) -> None:
        by_key: dict[Any, list[dict[str, Any]]] = {}
        for p in plans:
            by_key.setdefault(p["group_key"], []).append(p)
        self.groups = [_Group(ps, device, n_logged, log_every) for ps in by_key.values()]
        self.done = 0

    def train(self, steps: int, stop: threading.Event) -> None:
        for t in range(steps):
            if stop.is_set():
                return
            for g in self.groups:
                g.step(t)
            self.done = t + 1


def _run(workers: list[_Worker], *, steps: int, progress: bool | None, n_instances: int, single_threaded: bool) -> None:
    """Run every worker on its own thread (:func:`supviz.runtime.threads.run_workers`); show progress;
    re-raise the first failure."""
    from supviz.runtime.threads import run_workers

    def job(w: _Worker, stop: threading.Event) -> None:
        import torch

        if single_threaded:
            torch.set_num_threads(1)  # per thread under OpenMP
        with warnings.catch_warnings():
            # each parameter's .grad is a strided view of its group's gradient buffer by design
            warnings.filterwarnings("ignore", message=".*gradient layout contract.*")
            w.train(steps, stop)

    run_workers(
        [lambda stop, w=w: job(w, stop) for w in workers],
        steps=steps,
        done=lambda: min(w.done for w in workers),
        progress=progress,
        desc=f"train {n_instances} SAE{'s' * (n_instances != 1)}",
        name="supviz-sae",
    )


def _job_name(plan: dict[str, Any]) -> str:
    """How a message names a job: its label, or its index among the jobs."""
    label = plan["job"].label or getattr(plan["job"].source, "label", "")
    return f"#{plan['index']} {label}".strip()


def _seed_repr(seed: SeedLike, ss: np.random.SeedSequence) -> Any:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return {"entropy": int(ss.entropy), "spawn_key": [int(k) for k in ss.spawn_key]}
