"""The toy model of superposition (SPEC section 0) and its per-instance initialisation.

``h = W^T x`` (x in R^n, h in R^m), ``x' = ReLU(W h + b)``; with the rows of ``W [n, m]`` the
features' directions this is ``x' = ReLU(x W W^T + b)`` for a row vector x. The loss of one
instance is ``mean_b sum_i I_i (x_i - x'_i)^2``; a grid's loss is the sum over instances, so no
instance's gradient depends on another's.

This module holds the *reference* implementation (:class:`TorchModels`: einsum forward, autograd,
``torch.optim.AdamW``), which runs on any torch device; the fast CPU engine in ``_engine.py`` is
tested against it.

Initialisation is per instance, never per batch of instances: ``W[i, c] ~ N(0, std^2)`` with

* ``init="xavier"``: ``std = sqrt(2 / (n + m))``, Xavier-normal for one ``[n, m]`` matrix;
* ``init="reference"``: ``std = sqrt(2 / (m * (n + 6)))``, what ``nn.init.xavier_normal_`` gives on
  the reference notebook's ``[6 instances, n, m]`` tensor (it folds the instance count and m into
  the fans). Six is the notebook's instances per model, whatever the grid here holds.

``b`` starts at zero. The normal draws come from a local ``torch.Generator`` seeded from the
instance's seed (``child(seed, 0)``), on the CPU, so every device starts from the same W.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from supviz.toy.config import REFERENCE_INSTANCES
from supviz.toy.data import data_key, init_seed, keys_as_int64, sparse_batch_torch
from supviz.toy.grid import InstanceSpec

if TYPE_CHECKING:  # pragma: no cover
    import torch


def init_std(n_features: int, n_hidden: int, init: str = "xavier") -> float:
    """Standard deviation of the initial ``W`` entries (see the module docstring)."""
    if init == "reference":
        return math.sqrt(2.0 / (n_hidden * (n_features + REFERENCE_INSTANCES)))
    return math.sqrt(2.0 / (n_features + n_hidden))


def init_weights(spec: InstanceSpec, *, init: str = "xavier") -> "torch.Tensor":
    """The initial ``W [n, m]`` float32 (CPU) of one instance, from its seed alone."""
    import torch

    from supviz.core.seeding import torch_generator

    gen = torch_generator(init_seed(spec.seed))
    w = torch.randn(spec.n_features, spec.n_hidden, generator=gen, dtype=torch.float32)
    return w.mul_(init_std(spec.n_features, spec.n_hidden, init))


def forward(W: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``ReLU(x W W^T + b)`` for a batch ``x [..., n]`` of one model ``W [n, m]``, ``b [n]`` (numpy)."""
    h = x @ W  # (..., m)
    return np.maximum(h @ W.T + b, 0.0)


def instance_loss(W: np.ndarray, b: np.ndarray, x: np.ndarray, importance: np.ndarray) -> float:
    """``mean_b sum_i I_i (x_i - x'_i)^2`` of one model on a batch ``x [B, n]`` (float64)."""
    W64, b64, x64 = (np.asarray(a, dtype=np.float64) for a in (W, b, x))
    err = x64 - forward(W64, b64, x64)
    return float(np.mean(np.sum(np.asarray(importance, dtype=np.float64) * err**2, axis=-1)))


#: Midpoints per axis of the quadrature of :func:`antipodal_loss` (error O(1/n^2) on the smooth pieces).
_ANTIPODAL_NODES = 200


def antipodal_loss(p: float, a: float = 1.0, b: float = 0.0) -> float:
    """The expected loss ``E sum_i (x_i - x'_i)^2`` of two features in one dimension stored as an antipodal pair:
    ``W = (sqrt(a), -sqrt(a))``, ``b = (b, b)``, uniform importance, each feature present with probability ``p`` and
    then uniform on [0, 1) (:mod:`supviz.toy.data`).

    Exact in its cases (Elhage et al. 2022, "Toy Models of Superposition", section "The antipodal pair"): with
    ``r = ReLU``, none present ``2 r(b)^2``; one present (value u) ``(u - r(a u + b))^2 + r(b - a u)^2``; both
    (u, v) ``(u - r(a (u - v) + b))^2 + (v - r(a (v - u) + b))^2``, weighted ``(1 - p)^2``, ``2 p (1 - p)``,
    ``p^2``; the expectations over u, v by the midpoint rule on :data:`_ANTIPODAL_NODES` points per axis
    (a = 1, b = 0 gives ``p^2 / 3`` to 1e-7). :func:`antipodal_optimum` minimises it over ``a`` and ``b``.
    """
    u = (np.arange(_ANTIPODAL_NODES) + 0.5) / _ANTIPODAL_NODES
    r = lambda z: np.maximum(z, 0.0)  # noqa: E731
    none = 2.0 * r(b) ** 2
    one = float(np.mean((u - r(a * u + b)) ** 2 + r(b - a * u) ** 2))
    d = u[:, None] - u[None, :]  # (u, v)
    both = float(np.mean((u[:, None] - r(a * d + b)) ** 2 + (u[None, :] - r(-a * d + b)) ** 2))
    return (1 - p) ** 2 * none + 2 * p * (1 - p) * one + p * p * both


def antipodal_optimum(p: float) -> float:
    """The lowest :func:`antipodal_loss` over the pair's squared norm ``a >= 0`` and shared bias ``b`` at feature
    probability ``p`` (Nelder-Mead from ``a = 1, b = 0``, :func:`scipy.optimize.minimize`; tolerance 1e-10): the loss
    a trained model of two features in one dimension reaches if its optimum is the antipodal pair."""
    from scipy.optimize import minimize

    res = minimize(
        lambda v: antipodal_loss(p, v[0] ** 2, v[1]),
        x0=np.array([1.0, 0.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000},
    )
    return float(res.fun)


class TorchModels:
    """The reference engine: instances grouped by ``n_hidden``, einsum forward, autograd, AdamW.

    Parameters
    ----------
    specs : sequence of InstanceSpec
        Instances to train (one ``n_features``).
    batch_size : int
    init : str
        ``"xavier"`` or ``"reference"``.
    device : str
        Any torch device.
    lr, betas, eps, weight_decay :
        ``torch.optim.AdamW``'s settings.
    """

    def __init__(
        self,
        specs: Sequence[InstanceSpec],
        *,
        batch_size: int,
        init: str,
        device: str,
        lr: float,
        betas: tuple[float, float],
        eps: float,
        weight_decay: float,
    ) -> None:
        import torch

        self.specs = list(specs)
        self.batch_size = batch_size
        self.n = self.specs[0].n_features
        self.device = torch.device(device)
        self.groups: list[dict] = []
        by_m: dict[int, list[int]] = {}
        for i, s in enumerate(self.specs):
            by_m.setdefault(s.n_hidden, []).append(i)
        params = []
        for m, idx in by_m.items():
            W = torch.stack([init_weights(self.specs[i], init=init) for i in idx]).to(self.device)
            W.requires_grad_(True)
            b = torch.zeros(len(idx), self.n, device=self.device, requires_grad=True)
            keys = torch.from_numpy(keys_as_int64([data_key(self.specs[i].seed) for i in idx])).to(self.device)
            probs = torch.tensor([self.specs[i].probability for i in idx], dtype=torch.float32, device=self.device)
            imp = torch.tensor(
                np.stack([self.specs[i].importance for i in idx]), dtype=torch.float32, device=self.device
            )
            self.groups.append({"idx": idx, "W": W, "b": b, "keys": keys, "probs": probs, "imp": imp})
            params += [W, b]
        self.optimizer = torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        self.loss_acc = torch.zeros(len(self.specs), dtype=torch.float64, device=self.device)

    def losses(self, step: int) -> list["torch.Tensor"]:
        """Per-group instance losses ``[k]`` on the batches of ``step`` (with the graph, for backward)."""
        import torch

        out = []
        for g in self.groups:
            x = sparse_batch_torch(g["keys"], g["probs"], step, self.batch_size, self.n)  # (k, B, n)
            h = torch.einsum("kbi,kim->kbm", x, g["W"])  # (k, B, m)
            x_hat = torch.relu(torch.einsum("kbm,kim->kbi", h, g["W"]) + g["b"][:, None, :])  # (k, B, n)
            out.append((g["imp"][:, None, :] * (x - x_hat) ** 2).sum(-1).mean(-1))  # (k,)
        return out

    def step(self, step: int, lr: float) -> None:
        """One AdamW step at learning rate ``lr`` on the batches of ``step``."""
        per_group = self.losses(step)
        self.optimizer.zero_grad(set_to_none=True)
        sum(lg.sum() for lg in per_group).backward()
        for pg in self.optimizer.param_groups:
            pg["lr"] = lr
        self.optimizer.step()
        for g, lg in zip(self.groups, per_group):
            self.loss_acc[g["idx"]] += lg.detach().to(self.loss_acc.dtype)

    def take_loss_sums(self) -> np.ndarray:
        """The summed per-instance losses since the last call ``[K]`` (and reset them)."""
        out = self.loss_acc.cpu().numpy().copy()
        self.loss_acc.zero_()
        return out

    def weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-instance ``W [n, m]`` and ``b [n]`` float32, in the order of ``specs``."""
        Ws: list[np.ndarray] = [np.empty(0)] * len(self.specs)
        bs: list[np.ndarray] = [np.empty(0)] * len(self.specs)
        for g in self.groups:
            W = g["W"].detach().cpu().numpy()
            b = g["b"].detach().cpu().numpy()
            for j, i in enumerate(g["idx"]):
                Ws[i] = W[j].astype(np.float32, copy=True)
                bs[i] = b[j].astype(np.float32, copy=True)
        return Ws, bs
