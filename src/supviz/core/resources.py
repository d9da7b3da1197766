"""What a configuration needs of the machine, estimated from its sizes before anything is computed.

A size that passes every range check can still be far beyond the machine: ``--steps 1e15`` asked
numpy for 7.1 PiB (the per-step learning-rate schedule), ``--hidden 100000000`` was ended by the
kernel's out-of-memory killer after a minute, ``sae --d-sae 1000000000`` failed in an allocation
traceback. Each engine's sizes give here a **floor** of the memory it allocates (the arrays it
cannot do without, counted from its own code) and of the arithmetic it does;
:func:`check_fits` refuses, in one line, a configuration whose floor exceeds the memory this
machine has available or whose arithmetic would take more than :data:`ABSURD_SECONDS` even at
:data:`FAST_FLOPS`. A floor, not a guess of the peak: a refusal is certain to be right, and a run
that passes may still need more (the interpreter, the libraries, temporaries); tests check the
toy-training floor against a measured peak within a stated factor.

This module imports no engine: the formulas are functions of sizes (ints), and each caller (the
study's :func:`~supviz.study.pipeline.check_study`, ``supviz train``, ``supviz sae``, the sweep,
and the engines themselves) passes its own.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

from supviz.errors import SupvizError

#: Bytes of one float32 / float64.
F32, F64 = 4, 8
#: Arithmetic rate no CPU of today reaches (10 TFLOP/s): a time estimated at this rate is a floor.
FAST_FLOPS = 1e13
#: Work beyond this many seconds at :data:`FAST_FLOPS` (a year) is refused as absurd.
ABSURD_SECONDS = 365.25 * 24 * 3600.0


@dataclass(frozen=True)
class Need:
    """What a configuration needs, at least: ``bytes`` of memory at once and ``flops`` of arithmetic.

    ``what`` names the work in the refusal ("toy training (72 models, batch 1024, 10000 steps)").
    """

    bytes: float
    flops: float
    what: str

    def __add__(self, other: "Need") -> "Need":
        """Two pieces of work at once (memory adds) done one after the other (arithmetic adds)."""
        return Need(self.bytes + other.bytes, self.flops + other.flops, f"{self.what} and {other.what}")

    def repeated(self, times: int, *, kept: float = 0.0, what: str) -> "Need":
        """This work done ``times`` times one after another: the arithmetic ``times`` over; the memory of one
        at work plus ``kept`` bytes of each one's result, all held until the end (a list of every result).

        ``what`` names the whole ("background A1 (5 seeds x ...)"). Counted in floats, so ``times = 1e9``
        costs nothing to check.
        """
        k = float(int(times))
        return Need(self.bytes + k * float(kept), k * self.flops, what)


def toy_training_need(
    instances: Iterable[tuple[int, int, float | None]],
    *,
    batch_size: int,
    steps: int,
    log_every: int,
    what: str = "toy training",
) -> Need:
    """The floor of training toy models ``(n_features, n_hidden, p)`` together (:mod:`supviz.toy`).

    ``p`` is the instance's feature probability where it trains with the sparse kernel (which skips
    the zeros of x and holds no batch), else None (a dense batch). The toy package's
    ``supviz.toy.train.training_need`` says which, by the engine's own rule.

    Memory, float32 unless said (every instance's buffers are held at once; ``supviz.toy._engine.Shard``):
    per instance, the parameters ``W [n, m]`` and ``b [n]`` four times (values, gradients, AdamW's
    two moments); a dense instance, ``3 B n`` for the batch, its reconstruction and the loss
    gradient (``X, Z, G``) and the smaller of ``2 B m`` (the factored form's ``H, dH``) and ``3 n^2``
    (the Gram form's ``[n, n]`` products); a sparse one, the ``3 n^2``; for the run, the learning rate
    of every step (float64, ``supviz.toy.train.learning_rates``) and the logged losses
    (``[instances, ceil(steps / log_every)]`` float64, held twice while the workers merge).

    Arithmetic per instance and step: ``6 B n m`` dense (a forward and a backward pass of
    ``x W W^T``), ``2 B p n m`` sparse (each active feature's row, once).
    """
    inst = [(int(n), int(m), p) for n, m, p in instances]
    B = int(batch_size)
    per = sum(
        F32 * (4 * (n * m + n) + (3 * n * n if p is not None else 3 * B * n + min(2 * B * m, 3 * n * n)))
        for n, m, p in inst
    )
    logged = math.ceil(int(steps) / int(log_every))
    schedule = F64 * int(steps) + 2 * F64 * len(inst) * logged
    flops = float(steps) * sum((6.0 if p is None else 2.0 * float(p)) * B * n * m for n, m, p in inst)
    n_max = max((n for n, _, _ in inst), default=0)
    m_max = max((m for _, m, _ in inst), default=0)
    shape = f"{len(inst)} model{'s' if len(inst) != 1 else ''} of up to {n_max} features in {m_max} dimensions"
    return Need(float(per + schedule), flops, f"{what} ({shape}, batch {B}, {steps} steps)")


def toy_instances_need(
    count: int, n_features: int, n_hidden: int, *, steps: int, log_every: int, what: str = "toy training"
) -> Need:
    """A closed-form floor of training ``count`` toy models ``(n_features, n_hidden)`` together, in time
    independent of ``count`` (a size check must not itself build a list of a billion instances).

    Memory: the part of :func:`toy_training_need` every instance has whatever its engine, its parameters
    four times (``4 (n m + n)`` float32) and its logged losses (``2 ceil(steps / log_every)`` float64),
    plus the per-step learning rates (``steps`` float64). No arithmetic (a floor: the batch is not counted).
    """
    k, n, m = int(count), int(n_features), int(n_hidden)
    logged = math.ceil(int(steps) / int(log_every))
    mem = k * (F32 * 4 * (n * m + n) + 2 * F64 * logged) + F64 * int(steps)
    return Need(float(mem), 0.0, f"{what} ({k} models of {n} features in {m} dimensions, {steps} steps)")


def sae_training_need(
    d_in: int,
    d_sae: int,
    *,
    batch_size: int,
    steps: int,
    log_every: int,
    count: int = 1,
    what: str = "SAE training",
) -> Need:
    """The floor of training ``count`` sparse autoencoders ``d_in -> d_sae`` (:mod:`supviz.sae`).

    Memory (float32): the encoder and decoder ``[d_in, d_sae]`` and ``[d_sae, d_in]`` with their
    biases of every SAE (all are returned), three more copies of one SAE's (gradients, Adam's two
    moments) and ``3 B d_sae`` for one batch's pre-activations, codes and their gradient; the loss
    curves, ``[count, ceil(steps / log_every)]`` float64 in the worker and again in the result
    (``supviz.sae.engine.train_saes``; each loss term has two more, not counted).
    Arithmetic: ``12 B d_in d_sae`` per SAE and step (encoder and decoder, forward and backward).
    """
    d, s, B = int(d_in), int(d_sae), int(batch_size)
    logged = 2 * F64 * int(count) * math.ceil(int(steps) / int(log_every))
    mem = F32 * ((int(count) + 3) * (2 * d * s + s + d) + 3 * B * s) + logged
    flops = 12.0 * B * d * s * float(steps) * int(count)
    return Need(float(mem), flops, f"{what} ({count} x {d} -> {s}, batch {B}, {steps} steps)")


def toy_sae_data_need(n_features: int, d_in: int, d_sae: int, *, n_eval: int, batch_size: int, count: int = 1) -> Need:
    """The floor of the data of ``count`` SAEs on toy cells (``n_features -> d_in``), beside their training.

    Memory (float32): one evaluation sample at a time, ``x [n_eval, n]``, ``h [n_eval, d_in]`` and the codes
    ``[n_eval, d_sae]``; and every SAE's training batch of one step, the stream's uniforms and inputs
    ``[count, B, n]`` twice (``supviz.sae.sources.FeatureStream``). No arithmetic (counted by
    :func:`sae_training_need`).
    """
    rows, B, n = int(n_eval), int(batch_size), int(n_features)
    mem = F32 * (rows * (n + int(d_in) + int(d_sae)) + 2 * int(count) * B * n)
    return Need(float(mem), 0.0, f"{rows} evaluation rows and batches of {B} toy inputs")


def chance_need(draws: int, d_sae: int, d_in: int, n_features: int, *, count: int = 1) -> Need:
    """The floor of the chance levels of ``count`` SAEs (:func:`supviz.sae.chance.chance_level`): per SAE,
    ``draws`` random unit decoders of its shape ``[d_sae, d_in]`` scored against its ``n_features`` true
    directions.

    Memory (float32): every draw's SAE at once (``W_enc``, ``W_dec`` and the two biases, ``2 d_sae d_in + d_sae +
    d_in``; :func:`~supviz.sae.chance.chance_level` builds the list before it scores). Arithmetic: each draw's
    cosine matrix with the true directions, ``2 d_sae n d_in``, per SAE.
    """
    k, s, d, n = int(draws), int(d_sae), int(d_in), int(n_features)
    mem = F32 * k * (2 * s * d + s + d)
    flops = 2.0 * k * s * n * d * int(count)
    return Need(float(mem), flops, f"chance levels ({count} x {k} random decoders {s} x {d})")


def restarts_need(starts: int, n_points: int, *, what: str) -> Need:
    """The floor of ``starts`` random SMACOF starts of ``n_points`` points solved as one batch
    (:func:`supviz.dr.smacof` on ``[starts, N, N]``, as ``supviz.study.embeddings.collapse_check`` calls it).

    Memory: the stacked dissimilarities and every start's disparities, two ``[starts, N, N]`` float64. Arithmetic:
    ``N^2`` per start for one iteration (a floor: SMACOF may stop after it).
    """
    k, N = int(starts), int(n_points)
    return Need(float(2 * F64 * k * N * N), float(k) * N * N, f"{what} ({k} starts of {N} points)")


def layout_need(n_points: int, *, what: str = "layouts") -> Need:
    """The floor of picturing and measuring ``n_points`` points (MDS, UMAP, t-SNE and the metrics).

    Memory: three ``[N, N]`` float64 matrices, the input's and the layout's distances and one rank
    matrix (the neighbourhood metrics, ``supviz.metrics``; MDS holds more). Arithmetic: ``N^2`` per
    SMACOF iteration, counted once (a floor).
    """
    N = int(n_points)
    return Need(float(3 * F64 * N * N), float(N) * N, f"{what} ({N} points)")


def available_memory() -> int:
    """Bytes of memory this process can still get: psutil's ``available`` (Linux ``MemAvailable``,
    macOS and Windows alike), else ``/proc/meminfo``'s ``MemAvailable``, else free pages x page size."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil is pinned; kept for a bare install
        pass
    try:  # pragma: no cover
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))  # pragma: no cover


def size_text(n_bytes: float) -> str:
    """Bytes in binary units: '512 B', '3.2 GiB', '7.11 PiB'."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    value, i = float(n_bytes), 0
    while value >= 1024 and i < len(units) - 1:
        value, i = value / 1024, i + 1
    return f"{value:.0f} B" if i == 0 else f"{value:.3g} {units[i]}"


def time_text(seconds: float) -> str:
    """Seconds in the largest unit that keeps the number >= 1: '40 s', '3.5 h', '2.1e+04 years'."""
    for unit, length in (("years", ABSURD_SECONDS), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= length:
            return f"{seconds / length:.3g} {unit}"
    return f"{seconds:.3g} s"


def check_fits(need: Need, settings: str, *, available: int | None = None) -> None:
    """Refuse ``need`` when it cannot fit this machine, naming the ``settings`` that size it
    (e.g. "`--n-features`, `--hidden`, `--batch-size`, `--steps`").

    Raises
    ------
    SupvizError
        When ``need.bytes`` exceeds the memory available (:func:`available_memory`, or ``available``)
        or ``need.flops`` at :data:`FAST_FLOPS` exceeds :data:`ABSURD_SECONDS`; one line with the
        estimate and what the machine has.
    """
    have = available_memory() if available is None else int(available)
    if need.bytes > have:
        raise SupvizError(
            f"too large for this machine ({settings}): {need.what} needs at least {size_text(need.bytes)} of "
            f"memory, and this machine has {size_text(have)} available."
        )
    seconds = need.flops / FAST_FLOPS
    if seconds > ABSURD_SECONDS:
        raise SupvizError(
            f"too large for this machine ({settings}): {need.what} is at least {need.flops:.3g} floating-point "
            f"operations, {time_text(seconds)} even at {FAST_FLOPS:.0e} per second."
        )
