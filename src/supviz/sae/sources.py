"""Where an SAE's training inputs come from: a finite array, or a stream of sparse feature mixtures.

Every source owns its randomness (its ``seed``): the batch of step ``t`` is a pure function of
(seed, t). So an instance trained alone sees the very batches it sees in a grid, and instances that
share a source (a grid of SAE hyperparameters on one data set) share its batches, drawn once.

* :class:`ArraySource`: rows of an activations array ``[N, d]``, reshuffled every epoch (epoch
  ``e`` uses the permutation of ``child(seed, e)``); the last partial minibatch of an epoch is
  dropped, as ``DataLoader(drop_last=True)`` does.
* :class:`FeatureStream`: ``h = x D`` for sparse codes ``x`` (feature i present with probability
  ``p_i``, then uniform on [0, 1)) and feature directions ``D [n, d]`` (row i = feature i). The
  codes come from :mod:`supviz.toy.data`'s counter-based stream, so a toy cell's stream
  (:meth:`FeatureStream.from_toy`, ``D = W``, one ``p``) is exactly the distribution the toy
  model was trained on: element ``(b, i)`` of step ``t`` is ``u / p_i`` if ``u < p_i`` else 0 for
  the stream's uniform ``u``. The training stream has key ``data_key(seed)``; the evaluation
  sample (:meth:`Source.evaluation`) comes from ``data_key(child(seed, 2))`` and never overlaps it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child
from supviz.core.validation import check_float, check_int, check_probability
from supviz.errors import SupvizError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from supviz.toy.grid import TrainedGrid


class Source:
    """Base class: ``d_in``, the batches of each step, the inputs' mean squared norm, an evaluation sample.

    Attributes
    ----------
    d_in : int
        Input dimensions.
    features : np.ndarray [n, d_in] or None
        The true feature directions (rows), where known: what the recovery scores compare the
        decoder with (divided by the power of two of their peak: cosines do not see scale).
    feature_mask : np.ndarray [n] bool or None
        Which of ``features`` count (a toy cell: the represented ones).
    label : str
    """

    d_in: int
    features: np.ndarray | None = None
    feature_mask: np.ndarray | None = None
    label: str = ""

    def batch(self, step: int, batch_size: int, device: str) -> "torch.Tensor":
        """The inputs of step ``step``: ``[batch_size, d_in]`` float32 on ``device``."""
        raise NotImplementedError

    def mean_sq_norm(self) -> float:
        """``E ||x||^2`` of the training inputs (exact where it can be)."""
        raise NotImplementedError

    def evaluation(self, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """An evaluation sample: inputs ``[n', d_in]`` float32 and the true codes ``[n', n_features]`` (or None)."""
        raise NotImplementedError

    def effective_batch_size(self, batch_size: int) -> int:
        """The batch size this source can give (an array gives at most its row count)."""
        return batch_size

    def true_l0(self) -> float | None:
        """The mean number of active counted true features per input, where known (else None)."""
        return None

    @staticmethod
    def batches(sources: list["Source"], step: int, batch_size: int, device: str) -> "torch.Tensor":
        """The batches of several sources of one ``d_in``: ``[len(sources), batch_size, d_in]``."""
        import torch

        if sources and all(isinstance(s, FeatureStream) for s in sources):
            return FeatureStream.stream_batches(sources, step, batch_size, device)  # type: ignore[arg-type]
        return torch.stack([s.batch(step, batch_size, device) for s in sources])


class ArraySource(Source):
    """Rows of an activations array, minibatched without replacement, reshuffled every epoch.

    Parameters
    ----------
    X : array-like [N, d] (numpy or torch)
        Finite activations; stored as float32, so the peak magnitude must lie in [2**-100, 2**100]
        (:mod:`supviz.sae._float32`; :class:`~supviz.sae.SparseAutoencoder` rescales data outside it).
    seed : int, Generator, SeedSequence or None
        The shuffling seed.
    features : array-like [n, d], optional
        True feature directions to score against, where known.
    codes : array-like [N, n], optional
        The true feature activity of each row (for firing precision / recall and the true L0);
        only its sign is kept (stored as float32 -1/0/1), which is all those scores use.
    label : str
    """

    def __init__(self, X: Any, *, seed: SeedLike = 0, features: Any = None, codes: Any = None, label: str = "") -> None:
        from supviz.sae import _float32

        arr = _float32.inputs("X", X, hint=" (SparseAutoencoder does so itself when normalize_activations is on)")
        if arr.shape[0] < 1 or arr.shape[1] < 1:
            raise SupvizError(f"`X` must hold at least one row and one column; got shape {arr.shape}.")
        self.X = np.array(arr, dtype=np.float32, order="C", copy=True)  # owned and writable (torch shares it)
        self.N, self.d_in = arr.shape
        self.seed_sequence = as_seed_sequence(seed)
        self.features = _features(features, self.d_in)
        self.feature_mask = None if self.features is None else np.ones(len(self.features), dtype=bool)
        self.codes = None
        if codes is not None:
            c = _float32.activity("codes", codes)
            if c.shape[0] != self.N:
                raise SupvizError(f"`codes` must have one row per row of `X` ({self.N}); got {c.shape[0]}.")
            if self.features is not None and c.shape[1] != len(self.features):
                raise SupvizError(f"`codes` must have one column per feature ({len(self.features)}); got {c.shape[1]}.")
            self.codes = c
        self.label = label
        self._tensors: dict[str, Any] = {}
        # worker threads share a source: the epoch permutations are cached under a lock, so each
        # thread reads the permutation of its own epoch whatever the others are doing
        self._perms: dict[int, Any] = {}
        self._lock = threading.Lock()

    def effective_batch_size(self, batch_size: int) -> int:
        return min(batch_size, self.N)

    def true_l0(self) -> float | None:
        """Mean over the rows of ``codes`` of their nonzero count (None without codes)."""
        return None if self.codes is None else float((self.codes != 0).sum(1).mean())

    def _tensor(self, device: str) -> "torch.Tensor":  # called under the lock
        import torch

        if device not in self._tensors:
            self._tensors[device] = torch.from_numpy(self.X).to(device)
        return self._tensors[device]

    def batch(self, step: int, batch_size: int, device: str) -> "torch.Tensor":
        import torch

        from supviz.core.seeding import torch_generator

        B = self.effective_batch_size(batch_size)
        per_epoch = self.N // B
        epoch, pos = divmod(step, per_epoch)
        with self._lock:
            perm = self._perms.get(epoch)
            if perm is None:
                perm = torch.randperm(self.N, generator=torch_generator(child(self.seed_sequence, epoch)))
                self._perms[epoch] = perm
                for old in sorted(self._perms)[:-4]:  # workers run within a few steps of each other
                    del self._perms[old]
            data = self._tensor(device)
        return data.index_select(0, perm[pos * B : (pos + 1) * B].to(device))

    def mean_sq_norm(self) -> float:
        x = self.X.astype(np.float64)
        return float(np.einsum("ij,ij->", x, x) / self.N)

    def evaluation(self, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The first ``n`` rows (all rows if ``n`` exceeds them) and their codes, where given."""
        n = min(check_int("n_eval", n, min_value=1), self.N)
        return self.X[:n], None if self.codes is None else self.codes[:n]


class FeatureStream(Source):
    """A fresh batch of sparse feature mixtures ``h = x D`` every step.

    Parameters
    ----------
    directions : array-like [n, d]
        Row i is feature i's direction (a toy model's ``W``).
    probability : float or array-like [n]
        Each feature's probability of being present, in (0, 1] (one number for all features, as
        in the toy models, or one per feature).
    seed : int, Generator, SeedSequence or None
        The stream's seed (training key ``data_key(seed)``).
    feature_mask : array-like [n] bool, optional
        Which features the recovery scores count (default: all).
    label : str
    """

    def __init__(
        self,
        directions: Any,
        probability: Any,
        *,
        seed: SeedLike = 0,
        feature_mask: Any = None,
        label: str = "",
    ) -> None:
        from supviz.sae import _float32

        D = _float32.inputs("directions", directions)
        if D.shape[0] < 1 or D.shape[1] < 1:
            raise SupvizError(f"`directions` must hold at least one feature and one dimension; got shape {D.shape}.")
        self.directions = np.ascontiguousarray(D)
        self.n_features, self.d_in = D.shape
        p = np.asarray(probability, dtype=np.float64)
        if p.ndim == 0:
            p = np.full(self.n_features, check_probability("probability", float(p)))
        elif p.shape != (self.n_features,):
            raise SupvizError(
                f"`probability` must be one number or one per feature ({self.n_features}); got shape {p.shape}."
            )
        else:
            for i, v in enumerate(p):
                check_probability(f"probability[{i}]", float(v))
        self.probability = p.astype(np.float32)
        self.constant_probability = bool((self.probability == self.probability[0]).all())
        self.seed_sequence = as_seed_sequence(seed)
        from supviz.toy.data import data_key

        self.key = data_key(self.seed_sequence)
        self.eval_key = data_key(child(self.seed_sequence, 2))
        self.features = self.directions
        if feature_mask is None:
            self.feature_mask = np.ones(self.n_features, dtype=bool)
        else:
            mask = np.asarray(feature_mask)
            if mask.shape != (self.n_features,) or mask.dtype != np.bool_:
                raise SupvizError(
                    f"`feature_mask` must be {self.n_features} booleans; got {mask.dtype} of shape {mask.shape}."
                )
            self.feature_mask = mask.copy()
        self.label = label
        self._dev: dict[str, tuple[Any, Any]] = {}

    @classmethod
    def from_toy(
        cls, grid: "TrainedGrid", index: int, *, seed: SeedLike = 0, rule: str = "norm", threshold: float | None = None
    ) -> "FeatureStream":
        """The data stream of toy cell ``grid[index]``: ``h = x W`` with the cell's own ``p``.

        The represented features (:func:`supviz.toy.represented_mask`, ``rule``/``threshold``) are
        the ones the recovery scores count.
        """
        from supviz.toy import represented_mask

        idx = check_int("index", index, min_value=0, max_value=len(grid) - 1)
        spec = grid.specs[idx]
        if spec.probability is None:
            raise SupvizError(
                f"cell {idx} ({grid.labels[idx]}) has no feature probability, so its data stream is unknown; "
                "give the probability of external weights explicitly."
            )
        W = np.asarray(grid.weights[idx], dtype=np.float32)
        mask = represented_mask(W, rule=rule, threshold=threshold, importance=spec.importance)
        return cls(W, spec.probability, seed=seed, feature_mask=np.asarray(mask, dtype=bool), label=grid.labels[idx])

    def true_l0(self) -> float:
        """The expected active counted features per input, ``sum_{i in mask} p_i`` (exact)."""
        return float(self.probability.astype(np.float64)[self.feature_mask].sum())

    # -- the stream ---------------------------------------------------------------------------

    def _device_arrays(self, device: str) -> tuple["torch.Tensor", "torch.Tensor"]:
        import torch

        if device not in self._dev:
            self._dev[device] = (
                torch.from_numpy(self.directions).to(device),
                torch.from_numpy(self.probability).to(device),
            )
        return self._dev[device]

    @staticmethod
    def uniforms(keys: np.ndarray, step: int, batch_size: int, n: int, device: str) -> "torch.Tensor":
        """The raw uniforms ``[K, batch_size, n]`` of the toy models' stream for ``keys`` at ``step``.

        On the CPU through :mod:`supviz.toy`'s fused numba kernel, elsewhere through its torch
        version; both give the same bits.
        """
        import torch

        from supviz.sae.architectures import base

        K = len(keys)
        ones = np.ones(K, dtype=np.float32)
        if device == "cpu" and base.FUSED_CPU_KERNELS:
            from supviz.toy._kernels import fill_sparse_batch  # the toy models' own sampler

            out = np.empty((K, batch_size * n), dtype=np.float32)
            fill_sparse_batch(out, np.asarray(keys, dtype=np.uint64), ones, step)  # p = 1: element = u
            return torch.from_numpy(out).view(K, batch_size, n)
        from supviz.toy.data import keys_as_int64, sparse_batch_torch

        k64 = torch.from_numpy(keys_as_int64(list(keys))).to(device)
        return sparse_batch_torch(k64, torch.ones(K, device=device), step, batch_size, n)

    @staticmethod
    def stream_batches(streams: list["FeatureStream"], step: int, batch_size: int, device: str) -> "torch.Tensor":
        """``h = x D`` for several streams of one shape at ``step``: ``[len(streams), B, d]``."""
        import torch

        shapes = {(s.n_features, s.d_in) for s in streams}
        if len(shapes) > 1:  # different feature counts: one call per stream
            return torch.cat([FeatureStream.stream_batches([s], step, batch_size, device) for s in streams])
        n = streams[0].n_features
        keys = np.array([s.key for s in streams], dtype=np.uint64)
        D = torch.stack([s._device_arrays(device)[0] for s in streams])  # (K, n, d)
        from supviz.sae.architectures import base

        if device == "cpu" and base.FUSED_CPU_KERNELS and all(s.constant_probability for s in streams):
            # the toy models' kernel with each stream's p: element = u / p if u < p else 0
            from supviz.toy._kernels import fill_sparse_batch

            out = np.empty((len(streams), batch_size * n), dtype=np.float32)
            fill_sparse_batch(out, keys, np.array([s.probability[0] for s in streams], dtype=np.float32), step)
            x = torch.from_numpy(out).view(len(streams), batch_size, n)
        else:
            u = FeatureStream.uniforms(keys, step, batch_size, n, device)
            p = torch.stack([s._device_arrays(device)[1] for s in streams])[:, None, :]  # (K, 1, n)
            x = torch.where(u < p, u / p, torch.zeros((), device=u.device))  # (K, B, n)
        from supviz.runtime.products import bmm

        return bmm(x, D)  # (K, B, d): one call per stream, so a stream's batch is the same in any group

    def batch(self, step: int, batch_size: int, device: str) -> "torch.Tensor":
        return self.stream_batches([self], step, batch_size, device)[0]

    def codes(self, n: int, *, step: int = 0, eval_stream: bool = True) -> np.ndarray:
        """Sparse codes ``x [n, n_features]`` float32 of the evaluation (or training) stream at ``step``."""
        key = self.eval_key if eval_stream else self.key
        u = self.uniforms(np.array([key], dtype=np.uint64), step, n, self.n_features, "cpu")[0].numpy()
        p = self.probability[None, :]
        return np.where(u < p, u / p, np.float32(0.0)).astype(np.float32)

    def mean_sq_norm(self) -> float:
        """Exact ``E||h||^2 = mu^T G mu + sum_i (E[x_i^2] - mu_i^2) G_ii`` with ``G = D D^T``,
        ``mu_i = E[x_i] = p_i / 2`` and ``E[x_i^2] = p_i / 3`` (independent features)."""
        D = self.directions.astype(np.float64)
        G = D @ D.T
        p = self.probability.astype(np.float64)
        mu = p / 2.0
        return float(mu @ G @ mu + np.sum((p / 3.0 - mu**2) * np.diag(G)))

    def evaluation(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` fresh samples of the evaluation stream: ``h [n, d]`` and their codes ``x [n, n_features]``."""
        n = check_int("n_eval", n, min_value=1)
        x = self.codes(n)
        return (x.astype(np.float64) @ self.directions.astype(np.float64)).astype(np.float32), x


def sharkey_probabilities(n_features: int, *, decay: float = 0.99, mean_active: float = 5.0) -> np.ndarray:
    """Feature probabilities of Sharkey et al.'s toy data: ``p_i = c decay^i`` with ``sum_i p_i = mean_active``.

    Sharkey, Braun & Millidge (2022), "Taking features out of superposition with sparse
    autoencoders": feature i is active with probability proportional to ``0.99^i``, scaled so that
    on average 5 features are active. ``c`` is found so that no probability exceeds 1 (the mean
    must be at most ``n_features``).

    Raises
    ------
    SupvizError
        ``decay`` outside (0, 1], ``mean_active`` outside (0, n_features], or a ``decay`` so
        small that ``decay^i`` underflows to 0 (a feature that is never active).
    """
    n = check_int("n_features", n_features, min_value=1)
    decay = check_float("decay", decay, min_value=0.0, max_value=1.0, min_inclusive=False)
    mean_active = check_float("mean_active", mean_active, min_value=0.0, max_value=float(n), min_inclusive=False)
    base = decay ** np.arange(n, dtype=np.float64)
    if not (base > 0).all():
        first = int(np.flatnonzero(base == 0)[0])
        raise SupvizError(
            f"`decay` must be large enough that decay^i stays above 0 for all {n} features; "
            f"got {decay!r}, which underflows from feature {first}."
        )
    p = base * (mean_active / base.sum())
    for _ in range(n):  # clip at 1 and rescale the rest (only for very dense settings)
        fixed = p >= 1.0
        if p.max() <= 1.0 + 1e-12 or fixed.all():
            break
        p = np.where(fixed, 1.0, base * (mean_active - fixed.sum()) / base[~fixed].sum())
    return np.minimum(p, 1.0)


def random_directions(n: int, d: int, *, seed: SeedLike = 0) -> np.ndarray:
    """``n`` independent random unit vectors in ``d`` dimensions (normalised Gaussians) ``[n, d]`` float32."""
    from supviz.core.seeding import numpy_rng

    rng = numpy_rng(seed)
    v = rng.standard_normal((check_int("n", n, min_value=1), check_int("d", d, min_value=1)))
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _features(features: Any, d_in: int) -> np.ndarray | None:
    if features is None:
        return None
    from supviz.sae import _float32

    F = _float32.directions("features", features)
    if F.shape[1] != d_in:
        raise SupvizError(f"`features` must have {d_in} columns (the input dimensions); got shape {F.shape}.")
    if F.shape[0] < 1:
        raise SupvizError("`features` must hold at least one feature; got none.")
    return F
