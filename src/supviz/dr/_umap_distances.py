"""umap-learn's all-pairs distances of a small data set, computed in one compiled loop (same bits).

Below 4,096 points umap-learn computes every pairwise distance with scikit-learn's
``pairwise_distances(X, metric=<umap's numba euclidean>)``. A numba function is a callable to
scikit-learn, so it is called once per pair from Python: 19,900 calls, about 22 ms, for the 200
points of a study picture, about 9% of the whole UMAP fit (the rest is the SGD epochs), on the
2-core Xeon of ``docs/benchmarks.md``.

:func:`pairwise_euclidean` computes the same matrix in one compiled loop: each entry is
umap-learn's own ``umap.distances.euclidean`` (the same compiled function, called from numba with the
same argument types: contiguous float32 rows), rounded to the output's float32 as scikit-learn's
``_pairwise_callable`` stores it, upper triangle mirrored (``out + out.T`` adds an exact 0) and the
diagonal ``euclidean(x, x) = 0``. So the matrix is the same bits as scikit-learn's
(``tests/dr/test_umap_distances.py`` holds the two equal on random, tied, coincident, tiny and huge
inputs), and so is every UMAP picture built on it.

:func:`fast_small_distances` rebinds the name ``pairwise_distances`` in ``umap.umap_`` for the
duration of one fit (under the caller's lock), serving only that case (dense float32 input, umap's
euclidean, no metric keywords); every other call goes to scikit-learn unchanged.

This module imports umap-learn: import it only where umap-learn is already loaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import umap.distances as _umap_distances
import umap.umap_ as _umap_module
from numba import njit

_euclidean = _umap_distances.euclidean


@njit(cache=True)
def _pairwise_euclidean(X):  # pragma: no cover - compiled
    n = X.shape[0]
    out = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        for j in range(i + 1, n):
            v = np.float32(_euclidean(X[i], X[j]))
            out[i, j] = v
            out[j, i] = v
    for i in range(n):
        out[i, i] = np.float32(_euclidean(X[i], X[i]))
    return out


def pairwise_euclidean(X: np.ndarray) -> np.ndarray:
    """All pairwise euclidean distances of ``X`` ``[N, d]`` float32, as umap-learn computes them below 4,096 points.

    Returns a float32 ``[N, N]`` array equal, bit for bit, to scikit-learn's
    ``pairwise_distances(X, metric=umap.distances.euclidean)`` (module docstring).

    Raises
    ------
    TypeError
        ``X`` is not a C-contiguous 2-D float32 array (the only case this serves).
    """
    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype == np.float32 and X.flags.c_contiguous):
        raise TypeError("pairwise_euclidean serves C-contiguous 2-D float32 arrays only")
    return _pairwise_euclidean(X)


def _serves(X: Any, metric: Any, kwds: dict) -> bool:
    return (
        metric is _euclidean
        and not kwds
        and isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.dtype == np.float32
        and X.flags.c_contiguous
        and X.shape[0] >= 1
        and X.shape[1] >= 1
        and bool(np.isfinite(X).all())
    )


@contextlib.contextmanager
def fast_small_distances() -> Iterator[None]:
    """For the duration of one umap-learn fit, its small-data distances come from :func:`pairwise_euclidean`.

    The caller holds the lock that serialises rebinding module names (``umap_layout``'s). Restored after,
    also on error.
    """
    original = _umap_module.pairwise_distances

    def pairwise_distances(X: Any, Y: Any = None, metric: Any = "euclidean", **kwds: Any) -> Any:
        if Y is None and _serves(X, metric, kwds):
            return pairwise_euclidean(X)
        return original(X, Y, metric=metric, **kwds)

    _umap_module.pairwise_distances = pairwise_distances
    try:
        yield
    finally:
        _umap_module.pairwise_distances = original
