"""Seeds that flow: one user seed, child seeds per instance / restart / cell.

Accepted everywhere: ``int | numpy.random.Generator | numpy.random.SeedSequence | None``.
Child seeds come from :meth:`numpy.random.SeedSequence.spawn`, so instance *k* gets the same
stream whatever else is batched beside it. Nothing here touches global RNG state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

SeedLike = Union[int, np.integer, np.random.Generator, np.random.SeedSequence, None]


def as_seed_sequence(seed: SeedLike, *, name: str = "seed") -> np.random.SeedSequence:
    """Normalise any accepted seed to a :class:`numpy.random.SeedSequence`.

    A ``Generator`` contributes fresh entropy drawn from it (so reusing the generator gives new
    but reproducible children); ``None`` gives OS entropy (not reproducible, by request).
    ``name`` is the argument the user passed it as (``"random_state"`` in the estimators and
    layouts), which a refusal names.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63 - 1)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (bool,)) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        from supviz.errors import SupvizError

        raise SupvizError(f"`{name}` must be a non-negative int, a numpy Generator or None; got {seed!r}.")
    return np.random.SeedSequence(int(seed))


def spawn(seed: SeedLike, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seed sequences of ``seed``."""
    return as_seed_sequence(seed).spawn(n)


def child(seed: SeedLike, *key: int) -> np.random.SeedSequence:
    """A child addressed by a path of ints, independent of how many siblings exist.

    ``child(s, 3)`` is the same whether 4 or 400 instances are trained, unlike ``spawn(s, n)[3]``
    only in that it needs no count. Useful for caches: the seed of cell (i, j) is ``child(s, i, j)``.
    """
    base = as_seed_sequence(seed)
    return np.random.SeedSequence(base.entropy, spawn_key=tuple(base.spawn_key) + tuple(int(k) for k in key))


def int_seed(seed: SeedLike, *, name: str = "seed") -> int:
    """A 31-bit int for libraries that only take ``random_state: int`` (umap-learn, openTSNE)."""
    return int(as_seed_sequence(seed, name=name).generate_state(1, dtype=np.uint32)[0] >> 1)


def numpy_rng(seed: SeedLike, *, name: str = "seed") -> np.random.Generator:
    """A local numpy Generator (``name`` as in :func:`as_seed_sequence`)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed, name=name))


def torch_generator(seed: SeedLike, device: "str | torch.device" = "cpu") -> "torch.Generator":
    """A local :class:`torch.Generator` on ``device`` seeded from ``seed`` (never the global one)."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(as_seed_sequence(seed).generate_state(1, dtype=np.uint64)[0] >> 1))
    return gen
