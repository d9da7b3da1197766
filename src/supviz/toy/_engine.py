"""The fast CPU engine: hand-written gradients, numba kernels for everything elementwise, and the
matrix products of :mod:`supviz.runtime.products` (per shape, the fastest of torch/MKL,
numpy/OpenBLAS and supviz's own kernel on this machine), one worker thread per CPU.

Why this shape (measured on the 2-core Intel Xeon of ``docs/bench/train_grid.md``, study grid of 72
instances, batch 1024). A version in torch ops (``torch.rand`` per instance, elementwise ops,
grouped ``bmm``) spent ~11 ms per step drawing random numbers and ~15 ms in elementwise passes
over ``[72, 1024, 60]`` tensors, against ~5 ms of matrix products. Here a step is, per block of a
few instances of one ``n_hidden``: one fused kernel for the data (``fill_sparse_batch``), the
forward products, one fused kernel for ``dL/dz``, ``dL/db`` and the loss (``relu_mse_grad``) and
the backward products; then one AdamW kernel over a flat buffer of all parameters. Blocks are
small so that a block's batch buffers stay in the core's cache from the data kernel to the last
product. (A kernel that streams rows through L1 in the Gram form, skipping the zeros of the
sparse x, was 1.3-2x slower than MKL's register-blocked products on that Xeon.) The products
were MKL's alone until issue 18: on an AMD EPYC (Zen 3) MKL took 110-190 us for the skinny
``(1024 x 60) @ (60 x 5)`` where OpenBLAS took 20-50 us, so each shape now goes to whichever is
fastest where the engine runs (``docs/benchmarks.md``, per CPU).

Each block uses one of two exact factorisations of the same gradient, chosen by the instance's
(n, m) alone (:func:`use_gram`):

* factored (small m):  ``H = X W``, ``Z = H W^T``; ``dW = X^T (G W) + G^T H``  (10 B n m flops)
* Gram (large m):      ``M = W W^T``, ``Z = X M``; ``dW = (X^T G + (X^T G)^T) W``  (4 B n^2 flops)

(the bias is added inside ``relu_mse_grad``, which saves a pass over ``Z``).

Instances are split over worker threads (:func:`assign_shards`); each thread trains its
:class:`Shard` for all steps with torch's intra-op threads at 1, set inside the worker (under
OpenMP the setting is per thread; without it each worker's MKL calls used every core, 4 threads
on 2 cores and 25% slower), and the BLAS libraries at one thread, so every product is one
single-threaded call per instance and matrix.

**An instance gets the same bits alone, in a grid, or on any number of threads**, by
construction: no step of an instance reads another instance's numbers; every product is one call
per instance (:class:`supviz.runtime.products.Product`), whose implementation is a function of the
product's shape and the machine's table alone, never of the batch; and every operand of an
instance starts at a 64-byte boundary wherever the instance sits (parameter slots padded to 16
floats; a block batches several instances only when its per-instance buffers are whole multiples
of 16 floats), so a BLAS that picks kernels by alignment (MKL may) picks the same ones. The
elementwise kernels and supviz's own product sum in a fixed order. Across CPUs (or product tables)
the products round differently, so weights agree only within float32 rounding, amplified by
training (``tests/toy/test_train.py`` states the tolerance).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from supviz.toy.data import data_key
from supviz.toy.grid import InstanceSpec
from supviz.toy.model import init_weights

#: Instances per block (a block's three [k, B, n] float32 buffers should fit in L2).
BLOCK = 2
#: Every instance's operands start at a multiple of this many float32s (64 bytes) from a 64-byte
#: aligned allocation (torch's CPU allocator aligns to 64).
ALIGN = 16


def padded(size: int) -> int:
    """``size`` rounded up to a whole number of :data:`ALIGN` floats."""
    return -(-size // ALIGN) * ALIGN


def block_size(batch_size: int, n_features: int, n_hidden: int, sparse: bool = False) -> int:
    """How many instances of this shape share a block: :data:`BLOCK` when every per-instance buffer
    of a block (``[B, n]``, and ``[B, m]`` or ``[n, n]``) is a whole number of :data:`ALIGN` floats,
    so that each instance's buffers start 64-byte aligned; else 1 (each instance its own buffers)."""
    B, n, m = batch_size, n_features, n_hidden
    if sparse:
        sizes: tuple[int, ...] = (n * n,)
    else:
        sizes = (B * n, n * n) if use_gram(n, m) else (B * n, B * m)
    return BLOCK if all(s % ALIGN == 0 for s in sizes) else 1


def product_shapes(
    batch_size: int, n_features: int, n_hidden: int, sparse: bool = False
) -> list[tuple[int, int, int, bool, bool, str]]:
    """The products of one step of an instance, as :func:`supviz.runtime.products.prepare` takes them."""
    B, n, m = batch_size, n_features, n_hidden
    if sparse:  # W W^T, S W (the kernel does X M and X^T G)
        return [(n, m, n, False, True, "float32"), (n, n, m, False, False, "float32")]
    if use_gram(n, m):  # W W^T, X M, X^T G, S W
        return [
            (n, m, n, False, True, "float32"),
            (B, n, n, False, False, "float32"),
            (n, B, n, True, False, "float32"),
            (n, n, m, False, False, "float32"),
        ]
    # X W (and G W), H W^T, X^T GH (and G^T H)
    return [(B, n, m, False, False, "float32"), (B, m, n, False, True, "float32"), (n, B, m, True, False, "float32")]


def step_shapes(specs: Sequence[InstanceSpec], batch_size: int) -> list[tuple[int, int, int, bool, bool, str]]:
    """Every product shape a step of these instances makes (:func:`product_shapes`), sorted: what
    :func:`supviz.runtime.products.prepare` takes to fix the machine's choices before workers start."""
    shapes = set()
    for s in specs:
        sparse = use_sparse(s.n_features, s.n_hidden, s.probability)
        shapes.update(product_shapes(batch_size, s.n_features, s.n_hidden, sparse))
    return sorted(shapes)


def use_gram(n_features: int, n_hidden: int) -> bool:
    """Whether an instance of this shape uses the Gram factorisation (measured crossover: m >= n / 4)."""
    return 4 * n_hidden >= n_features


#: Train sparse instances with the fused kernel that skips the zeros of x (:func:`use_sparse`);
#: False: every instance through the dense products (benchmarks and tests compare the two).
SPARSE = True


def _extra_cost(n: int, m: int, p: float, path: str) -> float:
    """Per-sample nanoseconds of a step beyond the data and gradient kernels that every path has,
    measured on an AMD EPYC (Zen 3) with OpenBLAS at n = 60: the dense Gram products ~0.062 n^2,
    the dense factored ones ~n (1.4 + 0.1 m), the sparse kernel's extra passes ~1.3 n + 0.16 p n^2."""
    if path == "sparse":
        return 1.3 * n + 0.16 * p * n * n
    if path == "gram":
        return 0.062 * n * n
    return n * (1.4 + 0.1 * m)


def use_sparse(n_features: int, n_hidden: int, probability: float | None) -> bool:
    """Whether an instance trains with the sparse kernel (``_kernels.sparse_gram_step``: the Gram
    form with the zeros of x skipped): when its estimated cost is below 85% of its dense path's.
    A function of the instance's own (n, m, p) alone, so an instance takes the same path alone or in
    any grid; the sparse and dense paths agree within float32 rounding (a different summation order
    of the same products)."""
    if not SPARSE or probability is None:
        return False
    n, m, p = n_features, n_hidden, float(probability)
    dense = _extra_cost(n, m, p, "gram" if use_gram(n, m) else "factored")
    return _extra_cost(n, m, p, "sparse") < 0.85 * dense


def instance_cost(spec: InstanceSpec) -> float:
    """Relative cost of one step of an instance, per sample.

    Measured (n = 60, one thread): the data and gradient kernels take ~90 ns per sample and the
    products 130-160 ns, nearly flat in m because small-m products are bound by streaming the
    batch, not by flops. So: n-proportional passes plus a mildly m-dependent product term.
    """
    n, m = spec.n_features, spec.n_hidden
    if use_sparse(n, m, spec.probability):
        return 1.5 * n + _extra_cost(n, m, float(spec.probability), "sparse")
    products = 0.043 * n * n if use_gram(n, m) else n * (2.3 + 0.01 * m)
    return 1.5 * n + products


def assign_shards(specs: Sequence[InstanceSpec], n_shards: int) -> list[list[int]]:
    """Split instance indices over ``n_shards`` workers, largest first to the least loaded (LPT)."""
    loads = [0.0] * n_shards
    shards: list[list[int]] = [[] for _ in range(n_shards)]
    order = sorted(range(len(specs)), key=lambda i: (-instance_cost(specs[i]), i))
    for i in order:
        s = min(range(n_shards), key=lambda j: (loads[j], j))
        shards[s].append(i)
        loads[s] += instance_cost(specs[i])
    return [sorted(s) for s in shards if s]


class Shard:
    """Some instances of a grid, trained together on one thread.

    Parameters
    ----------
    specs : sequence of InstanceSpec
        This shard's instances (one ``n_features``); blocked by ``n_hidden`` inside.
    batch_size, init, betas, eps, weight_decay :
        As in :class:`~supviz.toy.config.TrainConfig`.
    """

    def __init__(
        self,
        specs: Sequence[InstanceSpec],
        *,
        batch_size: int,
        init: str,
        betas: tuple[float, float],
        eps: float,
        weight_decay: float,
    ) -> None:
        import torch

        from supviz.runtime import products
        from supviz.toy import _kernels  # compile / load the cached kernels before timing starts

        self._k = _kernels
        self.specs = list(specs)
        K, B, n = len(self.specs), batch_size, self.specs[0].n_features
        self.B, self.n = B, n
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        # instance order inside the shard: by n_hidden, then dense before sparse, stable
        sparse = [use_sparse(s.n_features, s.n_hidden, s.probability) for s in self.specs]
        self.order = sorted(range(K), key=lambda i: (self.specs[i].n_hidden, sparse[i], i))
        ordered = [self.specs[i] for i in self.order]
        is_sparse = [sparse[i] for i in self.order]
        sizes = [padded(s.n_features * s.n_hidden) for s in ordered]  # each W slot starts 64-byte aligned
        n_params = sum(sizes) + K * n
        # one flat buffer per role, so AdamW is one kernel call; W and b are views into it (the
        # padding between W slots stays 0: zero gradient, zero moments, decay of 0)
        self.P = torch.zeros(n_params)
        self.GR = torch.zeros(n_params)
        self.M1 = np.zeros(n_params, np.float32)
        self.M2 = np.zeros(n_params, np.float32)
        self.b = self.P[sum(sizes) :].view(K, n)
        self.gb = self.GR[sum(sizes) :].view(K, n)
        self.keys = np.array([data_key(s.seed) for s in ordered], dtype=np.uint64)
        self.probs = np.array([s.probability for s in ordered], dtype=np.float32)
        self.imp = np.stack([np.asarray(s.importance, dtype=np.float32) for s in ordered])
        self.coef = (np.float32(2.0) * self.imp / np.float32(B)).astype(np.float32)
        self.loss_acc = np.zeros(K)
        self.blocks: list[dict] = []
        off, start = 0, 0
        while start < K:
            m, sp = ordered[start].n_hidden, is_sparse[start]
            per_block = block_size(B, n, m, sp)
            stop = start
            while stop < K and ordered[stop].n_hidden == m and is_sparse[stop] == sp and stop - start < per_block:
                stop += 1
            k = stop - start
            sl = slice(start, stop)
            slot = padded(n * m)
            W = self.P[off : off + k * slot].view(k, slot)[:, : n * m].view(k, n, m)
            for j in range(k):
                W[j].copy_(init_weights(ordered[start + j], init=init))
            gW = self.GR[off : off + k * slot].view(k, slot)[:, : n * m].view(k, n, m)
            if sp:  # the sparse kernel: no batch buffers, the Gram form's [k, n, n] ones
                M, A = torch.empty(k, n, n), torch.empty(k, n, n)
                self.blocks.append(
                    {
                        "sparse": True,
                        "W": W,
                        "WT": W.transpose(1, 2),
                        "gW": gW,
                        "M": M,
                        "A": A,
                        "AT": A.transpose(1, 2),
                        "S": torch.empty(k, n, n),
                        "sparse_args": (
                            self.keys[sl],
                            self.probs[sl],
                            B,
                            M.numpy(),
                            self.b[sl].numpy(),
                            self.coef[sl],
                            self.imp[sl],
                            A.numpy(),
                            self.gb[sl].numpy(),
                            self.loss_acc[sl],
                        ),
                    }
                )
                off += k * slot
                start = stop
                continue
            # the block's own batch buffers: a fresh (64-byte aligned) allocation per block
            X, Z, G = torch.empty(k, B, n), torch.empty(k, B, n), torch.empty(k, B, n)
            blk = {  # every view a step needs, made once
                "sparse": False,
                "gram": use_gram(n, m),
                "W": W,
                "WT": W.transpose(1, 2),
                "gW": gW,
                "X": X,
                "XT": X.transpose(1, 2),
                "Z": Z,
                "G": G,
                "GT": G.transpose(1, 2),
                "X2": X.numpy().reshape(k, B * n),
                "keys": self.keys[sl],
                "probs": self.probs[sl],
                "grad_args": (
                    Z.numpy(),
                    X.numpy(),
                    self.b[sl].numpy(),
                    self.coef[sl],
                    self.imp[sl],
                    G.numpy(),
                    self.gb[sl].numpy(),
                    self.loss_acc[sl],
                ),
            }
            if blk["gram"]:
                blk["M"] = torch.empty(k, n, n)
                blk["A"] = torch.empty(k, n, n)
                blk["AT"] = blk["A"].transpose(1, 2)
                blk["S"] = torch.empty(k, n, n)
            else:
                blk["H"] = torch.empty(k, B, m)
                blk["GH"] = torch.empty(k, B, m)
            self.blocks.append(blk)
            off += k * slot
            start = stop
        # choose every product's implementation now, in the calling thread, before workers start, and
        # fix each block's products (the same buffers at every step)
        products.prepare(step_shapes(ordered, B))
        P = products.Product
        for blk in self.blocks:
            if blk["sparse"]:
                blk["products"] = (P(blk["W"], blk["WT"], blk["M"]), P(blk["S"], blk["W"], blk["gW"]))
                continue
            W, X = blk["W"], blk["X"]
            if blk["gram"]:
                blk["products"] = (
                    P(W, blk["WT"], blk["M"]),
                    P(X, blk["M"], blk["Z"]),  # M = W W^T, Z = X M
                    P(blk["XT"], blk["G"], blk["A"]),
                    P(blk["S"], W, blk["gW"]),
                )  # A = X^T G, dW = S W
            else:
                blk["products"] = (
                    P(X, W, blk["H"]),
                    P(blk["H"], blk["WT"], blk["Z"]),  # H = X W, Z = H W^T
                    P(blk["G"], W, blk["GH"]),
                    P(blk["XT"], blk["GH"], blk["gW"]),  # G W, X^T GH
                    P(blk["GT"], blk["H"], blk["gW"], accumulate=True),
                )  # + G^T H
        self._Pn, self._GRn = self.P.numpy(), self.GR.numpy()
        self._n_w = sum(sizes)
        self._w_starts = np.cumsum([0, *sizes[:-1]])  # where each instance's W slot starts in P (shard order)
        self.done = 0  # steps completed (read by the progress monitor)
        #: Per instance (``specs`` order), the step by which its loss or parameters were non-finite; -1 = finite.
        self.diverged_at = np.full(K, -1, dtype=np.int64)

    def step(self, t: int, lr: float) -> None:
        """Step ``t`` (0-based) at learning rate ``lr``."""
        from torch import add

        fill, grad, sparse = self._k.fill_sparse_batch, self._k.relu_mse_grad, self._k.sparse_gram_step
        for blk in self.blocks:
            if blk["sparse"]:
                ww, sw = blk["products"]
                ww()  # M = W W^T (k, n, n)
                args = blk["sparse_args"]
                sparse(args[0], args[1], t, *args[2:])  # data, Z = X M, G, dL/db, loss, A = X^T G
                add(blk["A"], blk["AT"], out=blk["S"])
                sw()  # dL/dW = (A + A^T) W (k, n, m)
                continue
            fill(blk["X2"], blk["keys"], blk["probs"], t)
            if blk["gram"]:
                ww, xm, xg, sw = blk["products"]
                ww()  # M = W W^T (k, n, n)
                xm()  # Z = X M (k, B, n); the kernel adds b
                grad(*blk["grad_args"])  # G = dL/dZ, dL/db, loss
                xg()  # A = dL/dM = X^T G (k, n, n)
                add(blk["A"], blk["AT"], out=blk["S"])
                sw()  # dL/dW = (A + A^T) W (k, n, m)
            else:
                xw, hw, gw, xgh, gh = blk["products"]
                xw()  # H = X W (k, B, m)
                hw()  # Z = H W^T (k, B, n)
                grad(*blk["grad_args"])
                gw()  # dL/dH = G W (k, B, m)
                xgh()  # X^T dL/dH
                gh()  # + G^T H
        b1, b2 = self.betas
        self._k.adamw(self._Pn, self._GRn, self.M1, self.M2, lr, self.weight_decay, b1, b2, self.eps, t + 1)

    def train(
        self,
        lrs: np.ndarray,
        *,
        log_every: int,
        losses: np.ndarray,
        stop: threading.Event,
        on_window: Callable[[int, np.ndarray], None] | None = None,
        halt_on_divergence: bool = True,
    ) -> None:
        """Run every step; write window-mean losses into ``losses [K, n_logged]`` (rows in ``specs`` order).

        At the end of every loss window the window's losses and all parameters are checked for
        NaN/inf (one pass over the flat parameter buffer: about 1% of a window's work at
        ``log_every`` = 100); an instance found non-finite gets the step in :attr:`diverged_at`, and
        with ``halt_on_divergence`` the shard stops there.
        """
        steps = len(lrs)
        window = 0
        start = 0
        for t in range(steps):
            if stop.is_set():
                return
            self.step(t, float(lrs[t]))
            self.done = t + 1
            if (t + 1) % log_every == 0 or t + 1 == steps:
                mean = self.loss_acc / (t + 1 - start)
                losses[self.order, window] = mean
                if on_window is not None:
                    on_window(window, mean)
                self.loss_acc[:] = 0.0
                window += 1
                start = t + 1
                if self._check_finite(mean, t + 1) and halt_on_divergence:
                    return

    def _check_finite(self, mean: np.ndarray, step: int) -> bool:
        """Mark instances (shard order -> ``specs`` order) whose loss or parameters are non-finite; True if new ones."""
        finite = np.isfinite(self._Pn)
        ok = np.isfinite(mean)
        ok &= np.logical_and.reduceat(finite[: self._n_w], self._w_starts)
        ok &= finite[self._n_w :].reshape(len(self.specs), self.n).all(axis=1)
        new = [self.order[pos] for pos in np.flatnonzero(~ok) if self.diverged_at[self.order[pos]] < 0]
        self.diverged_at[new] = step
        return bool(new)

    def weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-instance ``W [n, m]`` and ``b [n]`` float32 copies, in the order of ``specs``."""
        Ws: list[np.ndarray] = []
        for blk in self.blocks:
            Ws.extend(w.copy() for w in blk["W"].numpy())
        b = self.b.numpy()
        out_w: list[np.ndarray] = [np.empty(0)] * len(self.specs)
        out_b: list[np.ndarray] = [np.empty(0)] * len(self.specs)
        for pos, i in enumerate(self.order):
            out_w[i] = Ws[pos]
            out_b[i] = b[pos].copy()
        return out_w, out_b
