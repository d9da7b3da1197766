"""Small networks trained on the digits, many at once: :func:`train_models`.

Two kinds of model, each named by a :class:`ModelSpec` (kind, hidden width, replicate):

* ``"classifier"``: an MLP ``64 -> w -> 10``, ``h = ReLU(x W1 + b1)``, ``logits = h W2 + b2``,
  trained with softmax cross-entropy. Its hidden layer ``h`` is the real network's latent space.
  Weights start as ``torch.nn.Linear``'s (uniform in ``+-1/sqrt(fan_in)``, He et al. 2015's
  Kaiming-uniform with ``a = sqrt(5)``).
* ``"autoencoder"``: the toy model's shape on the 64 pixels (Elhage et al. 2022),
  ``h = x W`` (``W [64, w]``, i.e. ``W^T x`` for a column ``x``), ``x' = ReLU(h W^T + b)``, trained
  on the squared error ``mean_b sum_i (x_i - x'_i)^2`` (uniform importance); ``W`` starts
  Xavier-normal, ``b`` at zero, as in :mod:`supviz.toy`. Its hidden layer is ``h = x W``.

Both minimise with Adam (Kingma & Ba 2015; optional decoupled weight decay, AdamW) on
minibatches drawn without replacement, reshuffled every epoch.

Batched: models of one kind and width form a group whose parameters are stacked with the
instance axis first (``[k, 64, w]``) and trained by batched products with autograd
(:func:`supviz.runtime.products.matmul`: one call per model, by the implementation fastest on this
machine for the shape, at 64-byte alignment); nothing reduces across instances, and every worker
thread runs torch and the BLAS with one thread, so a model gets the same bits alone or beside any
others, by construction (tested with every product implementation). Another CPU, or another
implementation of a product shape, gives the same models within float32 rounding amplified by
training (``tests/real/test_models.py`` states the tolerance).

Seeds: model ``(kind, width, replicate)`` draws everything from ``child(seed, kind_code, width,
replicate)`` (:mod:`supviz.core.seeding`): initial weights from ``child(.., 0)``, epoch ``e``'s
shuffle from ``child(.., 1, e)``, through local ``torch.Generator``s. A model's seed depends on
what it is, not on which other models train beside it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child
from supviz.core.validation import check_choice, check_float, check_int
from supviz.errors import SupvizError

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

KINDS = ("classifier", "autoencoder")
#: The first element of a model's seed path (stable: never renumber).
KIND_CODES = {"classifier": 1, "autoencoder": 2}


@dataclass(frozen=True)
class ModelSpec:
    """One model to train: its kind, hidden width and replicate index."""

    kind: str
    width: int
    replicate: int = 0

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        object.__setattr__(self, "width", check_int("width", self.width, min_value=1))
        object.__setattr__(self, "replicate", check_int("replicate", self.replicate, min_value=0))

    @property
    def label(self) -> str:
        return f"{self.kind} w={self.width} r={self.replicate}"


@dataclass(frozen=True)
class Recipe:
    """How a group of models is trained (Adam on shuffled minibatches)."""

    steps: int = 600
    """Optimiser steps."""
    batch_size: int = 128
    """Rows per step (at most the training rows; an epoch is floor(rows / batch) steps)."""
    lr: float = 5e-3
    """Adam learning rate (constant)."""
    weight_decay: float = 0.0
    """Decoupled weight decay (AdamW, Loshchilov & Hutter 2019); 0 = Adam."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam (beta1, beta2)."""
    eps: float = 1e-8
    """Adam epsilon."""
    log_every: int = 100
    """Each logged loss is the mean over this many steps."""

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("steps", check_int("steps", self.steps, min_value=1))
        set_("batch_size", check_int("batch_size", self.batch_size, min_value=1))
        set_("lr", check_float("lr", self.lr, min_value=0.0, min_inclusive=False))
        set_("weight_decay", check_float("weight_decay", self.weight_decay, min_value=0.0))
        betas = tuple(self.betas)
        if len(betas) != 2:
            raise SupvizError(f"`betas` must be two numbers (beta1, beta2); got {self.betas!r}.")
        set_(
            "betas",
            tuple(
                check_float(f"betas[{i}]", b, min_value=0.0, max_value=1.0, max_inclusive=False)
                for i, b in enumerate(betas)
            ),
        )
        set_("eps", check_float("eps", self.eps, min_value=0.0, min_inclusive=False))
        set_("log_every", check_int("log_every", self.log_every, min_value=1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "betas": list(self.betas),
            "eps": self.eps,
            "log_every": self.log_every,
            "optimizer": "Adam" if not self.weight_decay else "AdamW",
        }


@dataclass(eq=False)
class TrainedModel:
    """One trained model.

    Attributes
    ----------
    kind, width, replicate : str, int, int
        Its :class:`ModelSpec`.
    params : dict[str, np.ndarray]
        float32 weights. Classifier: ``W1 [64, w]``, ``b1 [w]``, ``W2 [w, 10]``, ``b2 [10]``;
        autoencoder: ``W [64, w]``, ``b [64]``.
    losses : np.ndarray [n_logged]
        Mean training loss per ``log_every`` steps.
    test_accuracy : float
        Classifier: the share of test rows classified right; autoencoder: NaN.
    test_fvu : float
        Autoencoder: fraction of the test pixels' variance left unexplained by ``x'``; classifier: NaN.
    seed : dict
        The model's seed path (entropy and spawn key).
    recipe : dict
        :meth:`Recipe.to_dict` plus notes on clamps.
    """

    kind: str
    width: int
    replicate: int
    params: dict[str, np.ndarray]
    losses: np.ndarray
    test_accuracy: float
    test_fvu: float
    seed: dict[str, Any]
    recipe: dict[str, Any]

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec(self.kind, self.width, self.replicate)

    def hidden(self, X: Any) -> np.ndarray:
        """The hidden layer ``h [N, w]`` float32 of inputs ``X [N, 64]``."""
        X = _inputs(X, self.params["W1" if self.kind == "classifier" else "W"].shape[0])
        if self.kind == "classifier":
            return np.maximum(X @ self.params["W1"] + self.params["b1"], 0.0).astype(np.float32)
        return (X @ self.params["W"]).astype(np.float32)

    def output(self, X: Any) -> np.ndarray:
        """Classifier: logits ``[N, 10]``; autoencoder: reconstructions ``x' [N, 64]``."""
        h = self.hidden(X)
        if self.kind == "classifier":
            return (h @ self.params["W2"] + self.params["b2"]).astype(np.float32)
        return np.maximum(h @ self.params["W"].T + self.params["b"], 0.0).astype(np.float32)


@dataclass(eq=False)
class TrainedModels:
    """Models trained together, in the order of their specs, and how the job ran."""

    models: list[TrainedModel]
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.models)

    def get(self, kind: str, width: int, replicate: int = 0) -> TrainedModel:
        """The model ``(kind, width, replicate)``."""
        for m in self.models:
            if (m.kind, m.width, m.replicate) == (kind, width, replicate):
                return m
        raise SupvizError(
            f"no {kind} of width {width}, replicate {replicate} was trained; "
            f"trained: {sorted({(m.kind, m.width) for m in self.models})}."
        )

    def to_frame(self) -> Any:
        """One row per model: kind, width, replicate, test accuracy / FVU, final training loss."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "kind": m.kind,
                    "width": m.width,
                    "replicate": m.replicate,
                    "test_accuracy": m.test_accuracy,
                    "test_fvu": m.test_fvu,
                    "final_loss": float(m.losses[-1]) if len(m.losses) else math.nan,
                }
                for m in self.models
            ]
        )


def model_seed(seed: SeedLike, spec: ModelSpec) -> np.random.SeedSequence:
    """The seed of model ``spec``: ``child(seed, kind_code, width, replicate)``."""
    return child(seed, KIND_CODES[spec.kind], spec.width, spec.replicate)


def train_models(
    specs: Sequence[ModelSpec],
    X_train: Any,
    y_train: Any = None,
    *,
    X_test: Any = None,
    y_test: Any = None,
    recipes: dict[str, Recipe] | None = None,
    seed: SeedLike = 0,
    threads: int = 0,
) -> TrainedModels:
    """Train every model of ``specs`` as one batched job.

    Parameters
    ----------
    specs : sequence of ModelSpec
        Distinct (kind, width, replicate) triples.
    X_train : array-like [N, d]
        Finite inputs (the digits: pixels / 16).
    y_train : array-like [N] int, optional
        Class labels 0..C-1; required when a classifier is trained (C = max label + 1).
    X_test, y_test : optional
        Held-out rows for the test accuracy (classifiers) and test FVU (autoencoders); NaN without them.
    recipes : dict kind -> Recipe, optional
        Default :data:`DEFAULT_RECIPES`.
    seed : int, Generator, SeedSequence or None
        Root seed; model seeds are :func:`model_seed`.
    threads : int, default 0
        Worker threads (each trains whole groups, torch intra-op threads at 1); 0 = one per CPU.

    Returns
    -------
    TrainedModels

    Raises
    ------
    SupvizError
        No specs, duplicate specs, a classifier without labels, inputs of the wrong shape or not finite.
    """
    from supviz.toy.train import available_cpus

    specs = list(specs)
    if not specs:
        raise SupvizError("`specs` must name at least one model; got none.")
    for i, s in enumerate(specs):
        if not isinstance(s, ModelSpec):
            raise SupvizError(f"`specs[{i}]` must be a ModelSpec; got {type(s).__name__}.")
    if len(set(specs)) != len(specs):
        raise SupvizError("`specs` must be distinct (kind, width, replicate) triples; got duplicates.")
    X = _inputs(X_train, None, name="X_train")
    need_labels = any(s.kind == "classifier" for s in specs)
    y = None if y_train is None else _labels(y_train, len(X), "y_train")
    if need_labels and y is None:
        raise SupvizError("`y_train` is required to train a classifier; got None.")
    n_classes = 0 if y is None else int(y.max()) + 1
    Xt = None if X_test is None else _inputs(X_test, X.shape[1], name="X_test")
    yt = None if y_test is None else _labels(y_test, len(Xt) if Xt is not None else -1, "y_test")
    if yt is not None and n_classes and yt.max() >= n_classes:
        raise SupvizError(f"`y_test` holds class {int(yt.max())}, which `y_train` (classes 0..{n_classes - 1}) lacks.")
    recipes = {**DEFAULT_RECIPES, **(recipes or {})}
    threads = check_int("threads", threads, min_value=0)
    root = as_seed_sequence(seed)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, s in enumerate(specs):
        groups.setdefault((s.kind, s.width), []).append(i)
    built = [
        _Group([specs[i] for i in idx], idx, X, y, n_classes, recipes[kind], root) for (kind, _w), idx in groups.items()
    ]
    n_workers = max(1, min(threads or available_cpus(), len(built)))
    shards = _shards(built, n_workers)
    t0 = time.perf_counter()
    from supviz.runtime.products import single_threaded

    with single_threaded():
        _run(shards)
    wall = time.perf_counter() - t0
    out: list[TrainedModel] = [None] * len(specs)  # type: ignore[list-item]
    for g in built:
        for j, i in enumerate(g.indices):
            out[i] = g.export(j, Xt, yt)
    info = {
        "wall_seconds": round(wall, 3),
        "groups": len(built),
        "threads": len(shards),
        "n_train": int(len(X)),
        "n_test": 0 if Xt is None else int(len(Xt)),
        "n_classes": n_classes,
        "recipes": {k: recipes[k].to_dict() for k in sorted({s.kind for s in specs})},
    }
    log.info("trained %d model(s) in %d group(s) in %.1f s", len(specs), len(built), wall)
    return TrainedModels(out, info)


#: The default recipes: 600 steps of 128 rows (53 epochs of the 1,437 training digits) at lr 5e-3; test
#: accuracy at width 16 0.94-0.95 over 8 seeds, within 0.005 of 1,500 steps at lr 3e-3 (docs/benchmarks.md).
DEFAULT_RECIPES: dict[str, Recipe] = {"classifier": Recipe(), "autoencoder": Recipe()}


# -- the batched engine ---------------------------------------------------------------------


class _Group:
    """Models of one kind and width: stacked parameters ``[k, ...]``, Adam state, batch indices."""

    def __init__(
        self,
        specs: list[ModelSpec],
        indices: list[int],
        X: np.ndarray,
        y: np.ndarray | None,
        n_classes: int,
        recipe: Recipe,
        root: np.random.SeedSequence,
    ) -> None:
        import torch

        from supviz.core.seeding import torch_generator

        self.specs, self.indices, self.recipe = specs, indices, recipe
        self.kind, self.width = specs[0].kind, specs[0].width
        self.seeds = [model_seed(root, s) for s in specs]
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.y = None if y is None else torch.from_numpy(y)
        self.n_classes = n_classes
        N, d = X.shape
        self.B = min(recipe.batch_size, N)
        self.notes = (
            []
            if self.B == recipe.batch_size
            else [f"batch_size clamped from {recipe.batch_size} to the {N} training rows"]
        )
        inits = [_init(self.kind, d, self.width, n_classes, torch_generator(child(s, 0))) for s in self.seeds]
        # every parameter of a model lives in one row of a flat [k, n_params] buffer and its gradient in the
        # same columns of another (autograd accumulates into those views in place), so Adam is a few ops
        # on two buffers per group instead of a few per parameter (Python overhead dominates these sizes)
        k = len(specs)
        self.layout: list[tuple[str, int, int, tuple[int, ...]]] = []
        off = 0
        for name, t in inits[0].items():
            # every parameter of every model starts at a multiple of 16 floats (64 bytes), as alone, so
            # the products never copy one to align it (runtime.products); the padding stays 0
            off = -(-off // 16) * 16
            self.layout.append((name, off, off + t.numel(), tuple(t.shape)))
            off += t.numel()
        off = -(-off // 16) * 16
        self.flat = torch.zeros(k, off)
        for j, q in enumerate(inits):
            for name, a, b, _shape in self.layout:
                self.flat[j, a:b] = q[name].reshape(-1)
        self.grad = torch.zeros_like(self.flat)
        self.P = self._views(self.flat)
        G = self._views(self.grad)
        for name, p in self.P.items():
            p.requires_grad_(True)
            p.grad = G[name]
        self.m1 = torch.zeros_like(self.flat)
        self.m2 = torch.zeros_like(self.flat)
        self.per_epoch = N // self.B
        self._perm_epoch = -1
        self._perms: Any = None
        n_logged = math.ceil(recipe.steps / recipe.log_every)
        self.losses = np.full((len(specs), n_logged), np.nan)
        self._acc = torch.zeros(len(specs), dtype=torch.float64)
        self._window = 0

    def batch_rows(self, t: int) -> "torch.Tensor":
        """Row indices ``[k, B]`` of step ``t``: each model's own shuffle of epoch ``t // per_epoch``."""
        import torch

        from supviz.core.seeding import torch_generator

        epoch, pos = divmod(t, self.per_epoch)
        if epoch != self._perm_epoch:
            N = self.X.shape[0]
            self._perms = torch.stack(
                [torch.randperm(N, generator=torch_generator(child(s, 1, epoch))) for s in self.seeds]
            )
            self._perm_epoch = epoch
        return self._perms[:, pos * self.B : (pos + 1) * self.B]

    def loss(self, rows: "torch.Tensor") -> "torch.Tensor":
        """Per-model mean loss ``[k]`` on the rows ``[k, B]``."""
        xb = self.X[rows]  # (k, B, d)
        return _forward_loss(self.kind, self.P, xb, None if self.y is None else self.y[rows])

    def _views(self, flat: "torch.Tensor") -> dict[str, "torch.Tensor"]:
        """Each parameter ``[k, ...]`` as a view of its columns of ``flat [k, n_params]``."""
        k = flat.shape[0]
        return {name: flat[:, a:b].view(k, *shape) for name, a, b, shape in self.layout}

    def step(self, t: int) -> None:
        import torch

        r = self.recipe
        loss = self.loss(self.batch_rows(t))  # (k,)
        self.grad.zero_()
        loss.sum().backward()
        b1, b2 = r.betas
        bc1 = 1.0 - b1 ** (t + 1)
        bc2_sqrt = math.sqrt(1.0 - b2 ** (t + 1))
        with torch.no_grad():
            g, flat = self.grad, self.flat
            self.m1.mul_(b1).add_(g, alpha=1.0 - b1)
            self.m2.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            if r.weight_decay:
                flat.mul_(1.0 - r.lr * r.weight_decay)
            denom = (self.m2.sqrt() / bc2_sqrt).add_(r.eps)
            flat.sub_((self.m1 / denom).mul_(r.lr / bc1))
            self._acc += loss.detach().to(torch.float64)
        if (t + 1) % r.log_every == 0 or t + 1 == r.steps:
            n = t + 1 - self._window
            self.losses[:, t // r.log_every] = (self._acc / n).numpy()
            self._acc.zero_()
            self._window = t + 1

    def export(self, j: int, Xt: np.ndarray | None, yt: np.ndarray | None) -> TrainedModel:
        params = {n: p[j].detach().numpy().astype(np.float32).copy() for n, p in self._views(self.flat).items()}
        spec, s = self.specs[j], self.seeds[j]
        acc = fvu = math.nan
        model = TrainedModel(
            spec.kind,
            spec.width,
            spec.replicate,
            params,
            self.losses[j].copy(),
            acc,
            fvu,
            {"entropy": int(s.entropy), "spawn_key": [int(k) for k in s.spawn_key]},
            {**self.recipe.to_dict(), "batch_size_used": self.B, "notes": list(self.notes)},
        )
        if Xt is not None:
            out = model.output(Xt)
            if spec.kind == "classifier" and yt is not None:
                model.test_accuracy = float(np.mean(out.argmax(1) == yt))
            elif spec.kind == "autoencoder":
                from supviz.sae.metrics import fvu as fvu_fn

                model.test_fvu = float(fvu_fn(Xt[None], out[None])[0])
        return model


def _init(kind: str, d: int, w: int, n_classes: int, gen: "torch.Generator") -> dict[str, "torch.Tensor"]:
    """One model's initial weights from its own generator (the order of draws is part of the recipe)."""
    import torch

    if kind == "classifier":

        def uniform(shape: tuple[int, ...], fan_in: int) -> "torch.Tensor":
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default for weight and bias
            return (torch.rand(shape, generator=gen) * 2.0 - 1.0) * bound

        return {
            "W1": uniform((d, w), d),
            "b1": uniform((w,), d),
            "W2": uniform((w, n_classes), w),
            "b2": uniform((n_classes,), w),
        }
    std = math.sqrt(2.0 / (d + w))  # Xavier-normal (Glorot & Bengio 2010), as supviz.toy
    return {"W": torch.randn((d, w), generator=gen) * std, "b": torch.zeros(d)}


def _forward_loss(
    kind: str, P: dict[str, "torch.Tensor"], xb: "torch.Tensor", yb: "torch.Tensor | None"
) -> "torch.Tensor":
    """Per-instance mean loss ``[k]`` of stacked parameters on batches ``xb [k, B, d]``."""
    import torch
    import torch.nn.functional as F

    from supviz.runtime.products import matmul

    if kind == "classifier":
        h = torch.relu(matmul(xb, P["W1"]) + P["b1"][:, None, :])  # (k, B, w)
        logits = matmul(h, P["W2"]) + P["b2"][:, None, :]  # (k, B, C)
        k, B, C = logits.shape
        ce = F.cross_entropy(logits.reshape(k * B, C), yb.reshape(k * B), reduction="none")  # (k B,)
        return ce.view(k, B).mean(1)
    W = P["W"]
    h = matmul(xb, W)  # (k, B, w)
    xr = torch.relu(matmul(h, W.transpose(1, 2)) + P["b"][:, None, :])  # (k, B, d)
    return (xr - xb).pow(2).sum(-1).mean(-1)


def _shards(groups: list[_Group], n: int) -> list[list[_Group]]:
    """Whole groups to workers, the costliest first to the least loaded (LPT)."""
    cost = lambda g: len(g.specs) * g.recipe.steps * g.B * (g.X.shape[1] + 16) * (g.width + 8)  # noqa: E731
    loads = [0.0] * n
    shards: list[list[_Group]] = [[] for _ in range(n)]
    for g in sorted(groups, key=lambda g: -cost(g)):
        i = min(range(n), key=lambda j: (loads[j], j))
        shards[i].append(g)
        loads[i] += cost(g)
    return [s for s in shards if s]


def _run(shards: list[list[_Group]]) -> None:
    """Train each shard on its own thread (:func:`supviz.runtime.threads.run_workers`; torch's intra-op
    threads at 1 there); re-raise the first failure."""
    from supviz.runtime.threads import run_workers

    done = [0] * len(shards)

    def job(j: int, stop: threading.Event) -> None:
        import torch

        torch.set_num_threads(1)  # per thread under OpenMP
        with warnings.catch_warnings():
            # each parameter's .grad is a strided view of its group's gradient buffer by design
            warnings.filterwarnings("ignore", message=".*gradient layout contract.*")
            for g in shards[j]:
                for t in range(g.recipe.steps):
                    if stop.is_set():
                        return
                    g.step(t)
                    done[j] += 1

    total = max(sum(g.recipe.steps for g in shard) for shard in shards)
    run_workers(
        [lambda stop, j=j: job(j, stop) for j in range(len(shards))],
        steps=total,
        done=lambda: min(done),
        desc="train digits models",
        progress=False,
        name="supviz-real",
    )


def _inputs(X: Any, d: int | None, *, name: str = "X") -> np.ndarray:
    from supviz.core.validation import check_array

    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    arr = check_array(name, X, ndim=2, dtype=np.float32)
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise SupvizError(f"`{name}` must hold at least one row and one column; got shape {list(arr.shape)}.")
    if d is not None and arr.shape[1] != d:
        raise SupvizError(f"`{name}` must have {d} columns; got shape {list(arr.shape)}.")
    return np.ascontiguousarray(arr)


def _labels(y: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y)
    if arr.ndim != 1 or (n >= 0 and len(arr) != n):
        raise SupvizError(f"`{name}` must be one label per row ({n}); got shape {list(arr.shape)}.")
    if arr.dtype.kind not in "iu" or (arr.size and arr.min() < 0):
        raise SupvizError(f"`{name}` must hold class indices (ints >= 0); got {arr.dtype} values.")
    return arr.astype(np.int64)
