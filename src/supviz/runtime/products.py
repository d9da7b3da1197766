"""Batched matrix products on the CPU, each served by the implementation that is fastest here.

The engines (toy models, SAEs, the digits models, the torch SMACOF engine) spend much of their time
in small batched products ``[k, M, K] @ [k, K, N]``: a batch of 1024 toy samples through a hidden
layer of 3 to 40 units, and back. Which library does such a product fastest depends on the CPU:
on the Intel Xeon where supviz was first tuned torch's MKL did well; on an AMD EPYC (Zen 3) MKL
took 140 us for ``(1024 x 60) @ (60 x 5)`` where numpy's OpenBLAS took 19 us (issue 18). So no
engine names a library: each calls :func:`bmm` (or :func:`matmul`, with autograd), and this module
serves every product *shape* with one of three implementations:

* ``"torch"``: ``torch.mm`` per instance (MKL in the pip wheels, or whatever BLAS torch was built with);
* ``"numpy"``: ``numpy.matmul`` over the stack (one BLAS call per instance: OpenBLAS in the wheels);
* ``"numba"``: supviz's own kernel (:mod:`supviz.runtime._product_kernels`), every element summed
  in a fixed order; the fastest for the skinniest shapes on some CPUs, and the same bits on every CPU.

**How the choice is made.** A shape's key is ``dtype:MxKxN:ab`` with ``a``/``b`` ``N`` (stored as
given) or ``T`` (stored transposed); the batch size ``k`` is not part of it. The first time a key
is needed in a process, the choice is read from the machine's table on disk
(``supviz-products-<fingerprint>.json`` in ``SUPVIZ_PRODUCTS_CACHE``, else ``NUMBA_CACHE_DIR``,
else ``~/.cache/supviz``; the fingerprint covers the CPU's vendor, model and vector extensions and
the versions of torch, numpy, numba and their BLAS libraries); if the key is not there, each
implementation is timed on that shape (one thread, CPU time, best of five rounds: about 5 ms) and
the fastest wins, a faster one by less than :data:`TIE` losing to the earlier of
:data:`PREFERENCE`; the choice is written to the table (merged with what other processes wrote:
the first entry for a key stays). ``SUPVIZ_PRODUCTS=torch|numpy|numba`` forces one implementation
for every shape, and :func:`forced` does the same inside a ``with`` block (the tests run every
path this way). :func:`table` lists the choices and timings; the benchmarks print it.

**What stays exact.** Within one process the choice for a key never changes, and with a table on
disk it is the same in every process of the machine: the implementation serving a product is a
function of its shape and the table alone. Worker processes take their parent's choices with their
tasks (:func:`prepare` in the parent, :func:`adopt` in the worker), so they serve as the parent does
even where the table cannot be written. Every implementation computes each instance's product
by its own call (never one batched BLAS call whose code path may depend on the batch size: MKL's
batched ``bmm`` rounds a ``(9 x 128) @ (128 x 10)`` product differently in a batch of 3 than
alone), on one thread in the engines, and every MKL call sees 64-byte aligned operands and result
(MKL picks kernels by alignment: the same product written 360 bytes into a buffer rounds
differently; an unaligned slice goes through an aligned copy, and the engines place every
instance's data at 64-byte boundaries so that this costs nothing; OpenBLAS packs its operands into
its own buffers and does not care, which the tests check at every offset). So an instance's product has
the same bits alone or at any place in any batch. Across implementations, and so
across CPUs and across tables, products agree only within rounding: each element of a float32
product carries an error of at most ``gamma_K * sum_l |a_rl b_lc|`` (``gamma_K = K u / (1 - K
u)``, ``u = 2**-24``; Higham, *Accuracy and Stability of Numerical Algorithms*, eq. 3.13), so two
implementations differ by at most twice that (``tests/runtime/test_products.py`` checks it for
every pair). The ``numba`` kernel alone is bit-identical across CPUs.

Only CPU tensors of float32 or float64 are dispatched; anything else (CUDA, other dtypes) goes to
``torch.bmm``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from supviz.errors import SupvizError

log = logging.getLogger(__name__)

#: The implementations, by name.
IMPLEMENTATIONS = ("torch", "numpy", "numba")
#: Environment variable forcing one implementation for every shape ("auto": choose per shape).
ENV = "SUPVIZ_PRODUCTS"
#: Environment variable naming the folder of the machine's table (default: ``NUMBA_CACHE_DIR``).
CACHE_ENV = "SUPVIZ_PRODUCTS_CACHE"
#: Near-ties go to the earlier of these: supviz's own kernel first (the same bits on every CPU),
#: then numpy (whose BLAS packs its operands, so it does not care about alignment), then torch.
PREFERENCE = ("numba", "numpy", "torch")
#: A faster implementation must beat a preferred one by more than this share to be chosen.
TIE = 0.10
#: CPU nanoseconds per timing round (each implementation runs rounds of about this long).
ROUND_NS = 300_000
FORMAT = "supviz.products/1"

_LOCK = threading.RLock()
_CHOICES: dict[str, dict[str, Any]] = {}  # key -> {"impl", "source", "us"}
_USED: dict[str, str] = {}  # key -> the implementation that served it in this process
_FORCED: list[Any] = []  # stack of forced implementations (names or callables)
_DISK: dict[str, Any] = {"loaded": False, "path": None}


# -- keys ---------------------------------------------------------------------------------------


def product_key(m: int, k: int, n: int, *, ta: bool = False, tb: bool = False, dtype: str = "float32") -> str:
    """The key of a product ``op(a) [m, k] @ op(b) [k, n]``: ``"float32:1024x60x5:NN"``."""
    return f"{dtype}:{m}x{k}x{n}:{'T' if ta else 'N'}{'T' if tb else 'N'}"


def _row_major(t: Any) -> bool:
    """Whether each ``t[i]`` of ``t [k, r, c]`` is a row-major matrix (the batch stride may be anything)."""
    _, r, c = t.shape
    _, s1, s2 = t.stride()
    return (s2 == 1 or c == 1) and (s1 == c or r == 1)


def _layout(t: Any) -> tuple[Any, bool]:
    """``(t, False)`` when each ``t[i]`` is row-major, ``(t, True)`` when each is the transpose of a
    row-major matrix, else a row-major copy. Only the strides inside an instance count, so an
    instance alone and in a batch get the same answer."""
    if _row_major(t):
        return t, False
    if _row_major(t.transpose(1, 2)):
        return t, True
    return t.contiguous(), False


# -- the implementations ------------------------------------------------------------------------


#: Bytes: MKL may choose kernels by the alignment of its operands and of its result (measured: a
#: ``(9 x 128) @ (128 x 10)`` product written into a slot 360 bytes into a buffer rounds differently
#: from the same product written to a fresh allocation), so every MKL call sees 64-byte aligned data.
ALIGNMENT = 64


def _aligned(t: Any) -> Any:
    """``t`` itself when its data starts at a multiple of :data:`ALIGNMENT` bytes, else an aligned copy
    with the same strides (torch's CPU allocator aligns to 64 bytes)."""
    import torch

    if t.data_ptr() % ALIGNMENT == 0:
        return t
    return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype).copy_(t)


def _torch(a: Any, b: Any, out: Any, ta: bool, tb: bool, accumulate: bool) -> None:
    import torch

    for i in range(out.shape[0]):  # one call per instance: never a batched call whose path depends on k
        ai, bi, oi = _aligned(a[i]), _aligned(b[i]), out[i]
        target = oi if oi.data_ptr() % ALIGNMENT == 0 else torch.empty_like(oi)
        if accumulate:
            if target is not oi:
                target.copy_(oi)
            target.addmm_(ai, bi)
        else:
            torch.mm(ai, bi, out=target)
        if target is not oi:
            oi.copy_(target)


def _np(t: Any) -> Any:
    """The numpy view of a CPU tensor (no copy; ``detach`` only where autograd tracks it)."""
    return t.detach().numpy() if t.requires_grad else t.numpy()


def _all_aligned(t: Any) -> bool:
    """Whether every ``t[i]`` starts at a multiple of :data:`ALIGNMENT` bytes."""
    return t.data_ptr() % ALIGNMENT == 0 and (t.shape[0] == 1 or t.stride(0) * t.element_size() % ALIGNMENT == 0)


def _numpy(a: Any, b: Any, out: Any, ta: bool, tb: bool, accumulate: bool) -> None:
    import numpy as np

    # one BLAS call per instance (transposes passed as flags); OpenBLAS packs its operands into its
    # own buffers, so unlike MKL its results do not depend on where they sit (tested at every offset)
    an, bn, on = _np(a), _np(b), _np(out)
    if accumulate:
        on += np.matmul(an, bn)
    else:
        np.matmul(an, bn, out=on)


def _numba(a: Any, b: Any, out: Any, ta: bool, tb: bool, accumulate: bool) -> None:
    from supviz.runtime._product_kernels import batch_kernel, kernel

    a_store = _np(a.transpose(1, 2) if ta else a)  # each instance's storage is row-major
    b_store = _np(b.transpose(1, 2) if tb else b)
    on = _np(out)
    if a_store.flags.c_contiguous and b_store.flags.c_contiguous and on.flags.c_contiguous:
        batch_kernel()(a_store, b_store, on, ta, tb, accumulate)  # the instance loop inside numba
        return
    mm = kernel()
    for i in range(on.shape[0]):
        mm(a_store[i], b_store[i], on[i], ta, tb, accumulate)


_RUN: dict[str, Callable[..., None]] = {"torch": _torch, "numpy": _numpy, "numba": _numba}


def _custom(fn: Callable[[Any, Any], Any]) -> Callable[..., None]:
    def run(a: Any, b: Any, out: Any, ta: bool, tb: bool, accumulate: bool) -> None:
        res = fn(a, b)
        if accumulate:
            out.add_(res)
        else:
            out.copy_(res)

    return run


# -- the product --------------------------------------------------------------------------------


def bmm(a: Any, b: Any, out: Any = None, *, accumulate: bool = False) -> Any:
    """``out[i] = a[i] @ b[i]`` (or ``+=`` with ``accumulate``), for torch tensors ``a [k, m, kk]`` and
    ``b [k, kk, n]``; ``out [k, m, n]`` is allocated when not given (each ``out[i]`` row-major).

    Served by the implementation chosen for the shape (module docstring). No autograd: see
    :func:`matmul`. Returns ``out``.
    """
    import torch

    if a.device.type != "cpu" or a.dtype not in (torch.float32, torch.float64) or b.dtype != a.dtype:
        if accumulate:
            return out.baddbmm_(a, b)
        return torch.bmm(a, b) if out is None else torch.bmm(a, b, out=out)
    k, m, kk = a.shape
    n = b.shape[2]
    a, ta = _layout(a)
    b, tb = _layout(b)
    if out is None:
        if accumulate:
            raise SupvizError("`out` must be given with accumulate=True; got None.")
        out = torch.empty((k, m, n), dtype=a.dtype)
    target = out if _row_major(out) else out.contiguous()  # a strided out is written through a copy
    key = product_key(m, kk, n, ta=ta, tb=tb, dtype=str(a.dtype).removeprefix("torch."))
    name, run = _implementation(key)
    _USED[key] = name
    run(a, b, target, ta, tb, accumulate)
    if target is not out:
        out.copy_(target)
    return out


class Product:
    """One product fixed for repeated use: ``out (+)= a @ b`` on the same tensors at every call (views
    of buffers that change in place), as :func:`bmm` computes it, with the implementation chosen and
    the per-instance views made once: a call costs about a microsecond of Python per instance where
    :func:`bmm` spends ~10 (converting tensors, finding the shape's implementation). The toy engine
    makes one per product of each block. Same results as :func:`bmm`, bit for bit.
    """

    def __init__(self, a: Any, b: Any, out: Any, *, accumulate: bool = False) -> None:
        import torch

        self.a, self.b, self.out, self.accumulate = a, b, out, accumulate
        self._call: Callable[[], None] = lambda: bmm(a, b, out, accumulate=accumulate)
        if a.device.type != "cpu" or a.dtype not in (torch.float32, torch.float64) or not _row_major(out):
            return
        a2, ta = _layout(a)
        b2, tb = _layout(b)
        if a2 is not a or b2 is not b:  # copies would be stale at the next call: stay general
            return
        k, m, kk = a.shape
        key = product_key(m, kk, b.shape[2], ta=ta, tb=tb, dtype=str(a.dtype).removeprefix("torch."))
        name, run = _implementation(key)
        self.key, self.implementation = key, name
        aligned = all(_all_aligned(t) for t in (a, b, out))
        if name == "numba":
            from supviz.runtime._product_kernels import batch_kernel, kernel

            a_st = _np(a.transpose(1, 2) if ta else a)
            b_st = _np(b.transpose(1, 2) if tb else b)
            on = _np(out)
            if a_st.flags.c_contiguous and b_st.flags.c_contiguous and on.flags.c_contiguous:
                mm, args = batch_kernel(), [(a_st, b_st, on, ta, tb, accumulate)]
            else:
                mm, args = kernel(), [(a_st[i], b_st[i], on[i], ta, tb, accumulate) for i in range(k)]

            def call() -> None:
                _USED[key] = name
                for arg in args:
                    mm(*arg)

            self._call = call
        elif name == "numpy":
            import numpy as np

            an, bn, on = _np(a), _np(b), _np(out)
            if accumulate:

                def call() -> None:
                    _USED[key] = name
                    on.__iadd__(np.matmul(an, bn))
            else:

                def call() -> None:
                    _USED[key] = name
                    np.matmul(an, bn, out=on)

            self._call = call
        elif name == "torch" and aligned:
            triples = [(a[i], b[i], out[i]) for i in range(k)]
            if accumulate:

                def call() -> None:
                    _USED[key] = name
                    for ai, bi, oi in triples:
                        oi.addmm_(ai, bi)
            else:

                def call() -> None:
                    _USED[key] = name
                    for ai, bi, oi in triples:
                        torch.mm(ai, bi, out=oi)

            self._call = call
        else:

            def call() -> None:
                _USED[key] = name
                run(a, b, out, ta, tb, accumulate)

            self._call = call

    def __call__(self) -> None:
        self._call()


def matmul(a: Any, b: Any) -> Any:
    """``a [k, m, kk] @ b [k, kk, n]`` with autograd: the forward product and both gradient products
    (``g @ b^T`` and ``a^T @ g``) go through :func:`bmm`, each with the implementation of its shape."""
    return _matmul_function().apply(a, b)


@functools.cache
def _matmul_function() -> Any:
    import torch

    class BatchedMatmul(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any, b: Any) -> Any:  # type: ignore[override]
            ctx.save_for_backward(a, b)
            return bmm(a.detach(), b.detach())

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:  # type: ignore[override]
            a, b = ctx.saved_tensors
            grad = grad.detach()
            ga = bmm(grad, b.detach().transpose(1, 2)) if ctx.needs_input_grad[0] else None
            gb = bmm(a.detach().transpose(1, 2), grad) if ctx.needs_input_grad[1] else None
            return ga, gb

    return BatchedMatmul


# -- choosing -----------------------------------------------------------------------------------


def _implementation(key: str) -> tuple[str, Callable[..., None]]:
    if _FORCED:
        impl = _FORCED[-1]
        return (impl, _RUN[impl]) if isinstance(impl, str) else ("custom", _custom(impl))
    env = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if env != "auto":
        if env not in _RUN:
            raise SupvizError(f"`{ENV}` must be one of 'auto', 'torch', 'numpy', 'numba'; got {env!r}.")
        return env, _RUN[env]
    entry = _CHOICES.get(key)
    if entry is None:
        entry = _choose(key)
    return entry["impl"], _RUN[entry["impl"]]


def choice(m: int, k: int, n: int, *, ta: bool = False, tb: bool = False, dtype: str = "float32") -> str:
    """The implementation that serves ``op(a) [m, k] @ op(b) [k, n]`` here (measuring it if needed)."""
    return _implementation(product_key(m, k, n, ta=ta, tb=tb, dtype=dtype))[0]


def prepare(shapes: Sequence[tuple[int, int, int, bool, bool, str]], *, grad: bool = False) -> dict[str, str]:
    """Choose the implementation of every ``(m, k, n, ta, tb, dtype)`` now (before worker threads
    start); with ``grad``, also those of the two gradient products of :func:`matmul`. Returns the
    choices, ``{key: implementation}`` (what :func:`adopt` takes in a worker process)."""
    keys = []
    for m, k, n, ta, tb, dtype in shapes:
        keys.append(product_key(m, k, n, ta=ta, tb=tb, dtype=dtype))
        if grad:  # g [m, n] @ b^T and a^T @ g, with g row-major
            keys.append(product_key(m, n, k, ta=False, tb=not tb, dtype=dtype))
            keys.append(product_key(k, m, n, ta=not ta, tb=False, dtype=dtype))
    return {key: _implementation(key)[0] for key in keys}


def adopt(choices: dict[str, str]) -> None:
    """Serve each product key of ``choices`` (:func:`prepare`'s, made in the parent process) with its
    implementation in this process, in place of what this process chose or would choose: a worker
    process then serves every shape as its parent does, even where the table on disk could not be
    written (a read-only cache folder: each worker would measure again and might choose otherwise) or
    the parent's choices were forced (:func:`forced` does not reach other processes). Implementations
    this installation lacks, and ``"custom"`` ones, are left to this process's own choice."""
    with _LOCK:
        for key, impl in choices.items():
            if impl in _RUN and impl in available() and _CHOICES.get(key, {}).get("impl") != impl:
                _CHOICES[key] = {"impl": impl, "source": "parent"}


#: Instances per timed call of :func:`measure` (a cost per call is shared as in the engines' groups).
MEASURE_BATCH = 8


def timing_need(shapes: Sequence[tuple[int, int, int, bool, bool, str]]) -> Any:
    """The floor of the memory that choosing these products' implementations takes, beside the engine's own
    (a :class:`supviz.core.resources.Need`): :func:`measure` times a shape on its first call in a process,
    on operands and a result of :data:`MEASURE_BATCH` instances (``a [m, k]``, ``b [k, n]``, ``out [m, n]``),
    one shape at a time, so the largest of the shapes still to be measured counts. A shape already chosen
    (in this process or in the machine's table, under any layout of ``m x k x n``: the three products of
    :func:`matmul` hold the same operand sizes) or served by a forced implementation counts nothing.
    ``supviz sae RUN --batch-size 1e8`` passed the training floor and then failed inside this timing.
    """
    from supviz.core.resources import Need

    if _FORCED or (os.environ.get(ENV, "auto").strip().lower() or "auto") != "auto":
        return Need(0.0, 0.0, "no product timing")
    known = {k.split(":")[0] + ":" + "x".join(sorted(k.split(":")[1].split("x"))) for k in (*_CHOICES, *_load_disk())}
    worst, what = 0.0, "no product timing"
    for m, k, n, _ta, _tb, dtype in shapes:
        if f"{dtype}:" + "x".join(sorted(str(v) for v in (m, k, n))) in known:
            continue
        size = float(MEASURE_BATCH) * (m * k + k * n + m * n) * (8 if dtype == "float64" else 4)
        if size > worst:
            worst, what = size, f"timing the product [{m} x {k}] @ [{k} x {n}] on its first call"
    return Need(worst, 0.0, what)


def _choose(key: str) -> dict[str, Any]:
    with _LOCK:
        if key in _CHOICES:
            return _CHOICES[key]
        disk = _load_disk()
        if key in disk:
            _CHOICES[key] = {**disk[key], "source": "table"}
            return _CHOICES[key]
        us = measure(key)
        impl = pick(us)
        entry = {"impl": impl, "us": us}
        adopted = _save_disk(key, entry)  # another process may have written this key meanwhile: its entry wins
        _CHOICES[key] = {**adopted, "source": "measured" if adopted["impl"] == impl else "table"}
        log.debug(
            "products: %s -> %s (%s)", key, _CHOICES[key]["impl"], ", ".join(f"{k} {v:.1f} us" for k, v in us.items())
        )
        return _CHOICES[key]


def pick(us: dict[str, float]) -> str:
    """The winner of per-implementation timings (us): the fastest, unless an earlier one of
    :data:`PREFERENCE` is within :data:`TIE` of it."""
    fastest = min(us.values())
    for name in PREFERENCE:
        if name in us and us[name] <= fastest * (1.0 + TIE):
            return name
    raise AssertionError("unreachable")  # pragma: no cover


def available() -> tuple[str, ...]:
    """The implementations this installation has (numba is optional)."""
    import importlib.util

    return tuple(name for name in IMPLEMENTATIONS if name != "numba" or importlib.util.find_spec("numba") is not None)


def measure(key: str, *, batch: int = MEASURE_BATCH, rounds: int = 5) -> dict[str, float]:
    """CPU microseconds per instance of the product ``key`` by each available implementation, on one
    thread (torch's and the BLAS libraries'), in a batch of ``batch`` instances (so a cost per call,
    such as numpy's, is shared as it is in the engines' groups): the best of ``rounds`` rounds of about
    :data:`ROUND_NS` each, the implementations taking turns round by round (so a burst of load on a
    shared machine slows them alike), after one untimed call each (numba's compile or cache load
    happens there). About 5 ms per shape."""
    import numpy as np
    import torch

    dtype, dims, flags = key.split(":")
    m, k, n = (int(v) for v in dims.split("x"))
    ta, tb = flags[0] == "T", flags[1] == "T"
    rng = np.random.default_rng(0)
    torch_dtype = getattr(torch, dtype)

    def operand(rows: int, cols: int, transposed: bool) -> Any:
        # as the engines hold them: each instance 64-byte aligned, in slots of whole cache lines
        store = (cols, rows) if transposed else (rows, cols)
        slot = -(-(rows * cols) // 16) * 16
        t = torch.empty((batch, slot), dtype=torch_dtype)[:, : rows * cols].view(batch, *store)
        # drawn in the product's dtype: a float64 draw of a float32 operand held twice its size at once
        t.copy_(torch.from_numpy(rng.standard_normal((batch, *store), dtype=getattr(np, dtype))))
        return t.transpose(1, 2) if transposed else t

    a, b, out = operand(m, k, ta), operand(k, n, tb), operand(m, n, False)
    names = available()
    reps: dict[str, int] = {}
    best = dict.fromkeys(names, float("inf"))
    with single_threaded():
        for name in names:
            run = _RUN[name]
            run(a, b, out, ta, tb, False)
            t0 = time.thread_time_ns()
            run(a, b, out, ta, tb, False)
            reps[name] = max(1, min(2000, ROUND_NS // max(time.thread_time_ns() - t0, 1)))
        for _ in range(rounds):
            for name in names:
                run, r = _RUN[name], reps[name]
                t0 = time.thread_time_ns()
                for _ in range(r):
                    run(a, b, out, ta, tb, False)
                best[name] = min(best[name], (time.thread_time_ns() - t0) / r)
    return {name: round(best[name] / batch / 1e3, 3) for name in names}


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """torch (in this thread) and the BLAS libraries threadpoolctl sees (numpy's OpenBLAS) on one
    thread for the block; restored afterwards. The engines train inside it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with _threadpools().limit(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def _threadpools() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries (scanned once: a scan costs milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def forced(impl: str | Callable[[Any, Any], Any]) -> Iterator[None]:
    """Serve every product with ``impl`` inside the block, in every thread: a name of
    :data:`IMPLEMENTATIONS`, or a callable ``(a, b) -> a @ b`` (the tests use one that perturbs the
    products' last bits). Blocks nest."""
    if isinstance(impl, str) and impl not in _RUN:
        raise SupvizError(f"`impl` must be one of 'torch', 'numpy', 'numba' or a callable; got {impl!r}.")
    if not isinstance(impl, str) and not callable(impl):
        raise SupvizError(f"`impl` must be one of 'torch', 'numpy', 'numba' or a callable; got {type(impl).__name__}.")
    _FORCED.append(impl)
    try:
        yield
    finally:
        _FORCED.pop()


# -- the machine's table ------------------------------------------------------------------------


@functools.cache
def fingerprint() -> dict[str, Any]:
    """What the choices depend on: CPU vendor, model and vector extensions, OS, and the versions of
    torch (whose wheel brings its MKL), numpy and its BLAS, and numba. Nothing that depends on what
    else the process has imported, so every process of the machine finds the same table."""
    import numpy as np
    import torch

    info: dict[str, Any] = {
        "machine": platform.machine(),
        "system": platform.system(),
        "processor": platform.processor(),
    }
    info.update(_cpuinfo())
    info["torch"] = torch.__version__
    info["torch_blas"] = "mkl" if torch.backends.mkl.is_available() else "other"
    info["numpy"] = np.__version__
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:  # pragma: no cover - numba ships with umap-learn
        info["numba"] = None
    try:  # numpy's own BLAS (name and version as built), not whatever else is loaded at the time
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - the fingerprint only gets coarser
        info["numpy_blas"] = None
    return info


def _cpuinfo() -> dict[str, Any]:
    """Vendor, model name and the vector extensions that pick BLAS kernels (Linux; elsewhere empty)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if (
            name in ("vendor_id", "model name", "flags", "Features", "CPU implementer", "CPU part")
            and name not in fields
        ):
            fields[name] = value.strip()
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    simd = sorted(f for f in flags if f.startswith(("avx", "fma", "sse4", "asimd", "sve", "amx")))
    return {
        "vendor": fields.get("vendor_id") or fields.get("CPU implementer", ""),
        "model": fields.get("model name") or fields.get("CPU part", ""),
        "simd": simd,
    }


def table_path() -> Path:
    """Where this machine's table lives (module docstring)."""
    folder = os.environ.get(CACHE_ENV) or os.environ.get("NUMBA_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "supviz")
    digest = hashlib.sha256(json.dumps(fingerprint(), sort_keys=True).encode()).hexdigest()[:16]
    return Path(folder) / f"supviz-products-{digest}.json"


def _valid_entry(entry: Any) -> bool:
    """A table entry as :func:`_measure` writes it: ``impl`` one of this process's implementations and
    ``us`` a mapping of implementation names to finite, non-negative microseconds."""
    if not isinstance(entry, dict) or entry.get("impl") not in IMPLEMENTATIONS or entry["impl"] not in available():
        return False
    us = entry.get("us")
    return isinstance(us, dict) and all(
        name in IMPLEMENTATIONS
        and isinstance(t, (int, float))
        and not isinstance(t, bool)
        and math.isfinite(t)
        and t >= 0
        for name, t in us.items()
    )


def _read(path: Path) -> dict[str, Any]:
    """The table's entries for this machine; what is unreadable, from another machine's fingerprint
    (a table copied under this machine's file name) or malformed is left out, so it is measured again."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("choices"), dict):
        return {}
    if data.get("machine") != json.loads(json.dumps(fingerprint())):
        log.debug("products: %s was measured on another machine (%s); measuring again", path, data.get("machine"))
        return {}
    return {k: v for k, v in data["choices"].items() if _valid_entry(v)}


def _load_disk() -> dict[str, Any]:
    path = table_path()
    if not _DISK["loaded"] or _DISK["path"] != path:
        _DISK.update(loaded=True, path=path, choices=_read(path))
    return _DISK["choices"]


def _save_disk(key: str, entry: dict[str, Any], *, replace: bool = False) -> dict[str, Any]:
    """Merge ``key`` into the table on disk (an entry already there wins, unless ``replace``) and
    return the entry kept."""
    path = _DISK["path"] or table_path()
    current = _read(path)
    if replace:
        current[key] = entry
    kept = current.setdefault(key, entry)
    _DISK["choices"] = current
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".supviz-products-", dir=path.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump({"format": FORMAT, "machine": fingerprint(), "choices": current}, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache folder: the choice holds for this process only
        log.debug("products: could not write %s (%s); choices kept in memory", path, exc)
    return kept


def remeasure(keys: Sequence[str]) -> dict[str, dict[str, float]]:
    """Time ``keys`` again and replace their entries in this process and in the table on disk (for a
    table first measured while the machine was busy: ``benchmarks/products.py --write`` on a quiet
    one); returns the timings per key."""
    timings = {}
    with _LOCK:
        _load_disk()
        for key in keys:
            us = timings[key] = measure(key)
            entry = {"impl": pick(us), "us": us}
            _save_disk(key, entry, replace=True)
            _CHOICES[key] = {**entry, "source": "measured"}
    return timings


# -- what was chosen ----------------------------------------------------------------------------


def table(*, used_only: bool = False) -> list[dict[str, Any]]:
    """The choices of this process, one row per product key: ``key``, ``implementation``,
    ``source`` (``"measured"`` here, ``"table"`` read from disk, ``"parent"`` handed over by
    :func:`adopt`, ``"forced"``), ``us`` (the
    timings, where measured here or on disk) and ``served`` (whether a product of that shape ran
    in this process, and by what). ``used_only``: only the shapes that ran."""
    rows = []
    keys = sorted(set(_CHOICES) | set(_USED), key=_sort_key)
    for key in keys:
        entry = _CHOICES.get(key, {})
        served = _USED.get(key)
        if used_only and served is None:
            continue
        rows.append(
            {
                "key": key,
                "implementation": served or entry.get("impl"),
                "source": entry.get("source", "forced") if served in (None, entry.get("impl")) else "forced",
                "us": dict(entry.get("us", {})),
                "served": served is not None,
            }
        )
    return rows


def format_table(*, used_only: bool = True) -> str:
    """:func:`table` as aligned text lines (what the benchmarks print)."""
    rows = table(used_only=used_only)
    names = available()
    lines = [f"{'product':40s} {'served by':9s} {'source':8s} " + " ".join(f"{n + ' us':>9s}" for n in names)]
    for row in rows:
        label = describe(row["key"])
        times = " ".join(f"{row['us'][n_]:9.1f}" if n_ in row["us"] else f"{'-':>9s}" for n_ in names)
        lines.append(f"{label:40s} {row['implementation']:9s} {row['source']:8s} {times}")
    return "\n".join(lines)


def describe(key: str) -> str:
    """``"float32:60x1024x5:TN"`` as ``"float32 (60x1024)@(1024x5) a^T"`` (``a^T``: the first operand
    is stored transposed; ``b^T`` likewise)."""
    dtype, dims, flags = key.split(":")
    m, k, n = dims.split("x")
    marks = " ".join(mark for mark, f in (("a^T", flags[0]), ("b^T", flags[1])) if f == "T")
    return f"{dtype} ({m}x{k})@({k}x{n}) {marks}".rstrip()


def _sort_key(key: str) -> tuple:
    dtype, dims, flags = key.split(":")
    return (dtype, *(int(v) for v in dims.split("x")), flags)


def reset(*, disk: bool = False) -> None:
    """Forget this process's choices and served shapes (tests); ``disk``: also re-read the table."""
    with _LOCK:
        _CHOICES.clear()
        _USED.clear()
        if disk:
            _DISK.update(loaded=False, path=None)
