"""Sparse feature batches (SPEC section 0) from a counter-based random stream.

Each feature is present independently with probability ``p`` and then uniform on [0, 1); absent
features are 0. One uniform draw ``u`` per element gives both: the feature is present when
``u < p`` and its value is ``u / p``, which given ``u < p`` is uniform on [0, 1). (The reference
notebook draws twice per element; the distribution is the same.)

The draws come from SplitMix64 used as a counter-based generator: element ``j`` of the batch of
step ``t`` of an instance with 64-bit key ``K`` is::

    c = t * (batch_size * n_features) + j + 1
    u = (splitmix64_mix(K + c * 0x9E3779B97F4A7C15) >> 40) / 2**24

SplitMix64 passes BigCrush. Because the draw is a pure function of (key, step, element), batches
can be made in any order, on any number of threads, on the CPU (numba) or on a GPU (torch int64
arithmetic) and be identical bit for bit. Why not ``torch.rand`` with a per-instance
``torch.Generator``: on the 2-core machine of ``docs/bench/train_grid.md`` it took ~11 ms per
training step of the study grid, more than the model's arithmetic; this stream takes ~3 ms of CPU
(1.5 ms on two cores).

Each instance's key and initial weights derive from its own seed (``InstanceSpec.seed``) through
:mod:`supviz.core.seeding`: the key from ``child(seed, 1)``, the init generator from ``child(seed, 0)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child
from supviz.core.validation import check_int, check_probability

if TYPE_CHECKING:  # pragma: no cover
    import torch

GAMMA = 0x9E3779B97F4A7C15
C1 = 0xBF58476D1CE4E5B9
C2 = 0x94D049BB133111EB
U24 = 2.0**-24
_MASK64 = (1 << 64) - 1


def data_key(seed: SeedLike) -> int:
    """The 64-bit key of an instance's data stream (from ``child(seed, 1)``)."""
    return int(child(as_seed_sequence(seed), 1).generate_state(1, dtype=np.uint64)[0])


def init_seed(seed: SeedLike) -> np.random.SeedSequence:
    """The seed of an instance's initial weights (``child(seed, 0)``)."""
    return child(as_seed_sequence(seed), 0)


def sparse_batch(
    n_features: int,
    probability: float,
    batch_size: int,
    *,
    seed: SeedLike = None,
    key: int | None = None,
    step: int = 0,
) -> np.ndarray:
    """One batch ``[batch_size, n_features]`` float32 of sparse features, as training draws it.

    Give the instance's ``seed`` (or its ``key`` directly): ``step=t`` returns the very batch that
    step ``t`` of the training of that instance used.

    Parameters
    ----------
    n_features, batch_size : int
        Shape of the batch.
    probability : float
        In (0, 1].
    seed : int, Generator, SeedSequence or None
        The instance seed; ignored when ``key`` is given.
    key : int, optional
        The 64-bit stream key (:func:`data_key` of the seed).
    step : int, default 0
        Which step's batch.
    """
    n = check_int("n_features", n_features, min_value=1)
    b = check_int("batch_size", batch_size, min_value=1)
    p = check_probability("probability", probability)
    t = check_int("step", step, min_value=0)
    k = data_key(seed) if key is None else int(key) & _MASK64
    return sparse_batch_numpy(np.array([k], dtype=np.uint64), np.array([p], dtype=np.float32), t, b, n)[0]


def sparse_batch_numpy(keys: np.ndarray, probs: np.ndarray, step: int, batch_size: int, n_features: int) -> np.ndarray:
    """Reference implementation in numpy ``uint64`` arithmetic: ``[K, batch_size, n_features]`` float32."""
    keys = np.asarray(keys, dtype=np.uint64)
    probs = np.asarray(probs, dtype=np.float32)
    N = batch_size * n_features
    ctr = np.arange(N, dtype=np.uint64) + np.uint64(step * N + 1)
    with np.errstate(over="ignore"):
        z = keys[:, None] + ctr[None, :] * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(C1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(C2)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float32) * np.float32(U24)
    p = probs[:, None]
    x = np.where(u < p, u / p, np.float32(0.0)).astype(np.float32)
    return x.reshape(len(keys), batch_size, n_features)


def sparse_batch_torch(
    keys: "torch.Tensor", probs: "torch.Tensor", step: int, batch_size: int, n_features: int
) -> "torch.Tensor":
    """The same stream in torch int64 arithmetic (wrapping multiply, masked shifts), on ``keys.device``.

    ``keys`` is ``[K]`` int64 (the uint64 keys' bit patterns), ``probs`` ``[K]`` float32;
    returns ``[K, batch_size, n_features]`` float32.
    """
    import torch

    N = batch_size * n_features
    dev = keys.device
    ctr = torch.arange(N, dtype=torch.int64, device=dev) + (step * N + 1)
    z = keys[:, None] + ctr[None, :] * _signed(GAMMA)
    z = (z ^ _lsr(z, 30)) * _signed(C1)
    z = (z ^ _lsr(z, 27)) * _signed(C2)
    z = z ^ _lsr(z, 31)
    u = _lsr(z, 40).to(torch.float32) * U24
    p = probs[:, None]
    x = torch.where(u < p, u / p, torch.zeros((), dtype=torch.float32, device=dev))
    return x.view(len(keys), batch_size, n_features)


def keys_as_int64(keys: Sequence[int]) -> np.ndarray:
    """uint64 keys reinterpreted as int64 (what :func:`sparse_batch_torch` takes)."""
    return np.asarray([int(k) & _MASK64 for k in keys], dtype=np.uint64).view(np.int64)


def _signed(c: int) -> int:
    return c - (1 << 64) if c >= 1 << 63 else c


def _lsr(z: "torch.Tensor", s: int) -> "torch.Tensor":
    # logical right shift of int64 bit patterns: arithmetic shift, then clear the sign-filled bits
    return (z >> s) & ((1 << (64 - s)) - 1)
