"""Classical (Torgerson-Gower) multidimensional scaling.

Double-centre the squared dissimilarities, ``B = -1/2 J D^2 J`` with ``J = I - 11'/N``, and take the
top ``k`` eigenvectors scaled by the square roots of their (clipped at zero) eigenvalues. This is
also SMACOF's default start (``init="torgerson"``, as in R smacof's ``mds()``).

Eigenvectors are only defined up to sign (and, for repeated eigenvalues, up to rotation). To make
the output deterministic, each column is flipped so that its largest-magnitude entry is positive.
"""

from __future__ import annotations

import logging

import numpy as np

from supviz._validation import check_int
from supviz.errors import SupvizError

logger = logging.getLogger(__name__)

__all__ = ["classical_mds"]

# From this many points on, a partial eigensolver (top k only) is much cheaper than a full one.
_PARTIAL_EIGH_MIN_N = 200


def classical_mds(delta: np.ndarray, *, n_components: int = 2) -> np.ndarray:
    """Classical (Torgerson) MDS of a dissimilarity matrix.

    Parameters
    ----------
    delta : array of shape (N, N) or (B, N, N)
        Symmetric, non-negative dissimilarities with a zero diagonal (a batch of them is also
        accepted, each reduced on its own).
    n_components : int, default 2
        Number of output dimensions ``k`` (>= 1). Where ``k`` exceeds the number of positive
        eigenvalues, the extra columns are zero.

    Returns
    -------
    np.ndarray of shape (N, k) or (B, N, k), float64
        Centred configuration. For a Euclidean ``delta`` of rank <= k it reproduces ``delta``
        exactly (up to rotation and reflection).

    Raises
    ------
    SupvizError
        On NaN/inf, a non-square, asymmetric or negative ``delta``, fewer than 1 point, or a bad
        ``n_components``.
    """
    from supviz.dr.smacof import _check_delta  # shared validation; local import avoids a cycle

    arr = _check_delta(delta, min_points=1)
    k = check_int("n_components", n_components, min_value=1)
    batched = arr.ndim == 3
    out = torgerson(arr if batched else arr[None], k)
    return out if batched else out[0]


def torgerson(delta: np.ndarray, n_components: int) -> np.ndarray:
    """Torgerson start for a validated batch ``delta`` [B, N, N]; returns [B, N, k] (no checks)."""
    n_batch, n, _ = delta.shape
    k = n_components
    # Double centring of -D^2/2, per item.                                  # (B, N, N)
    sq = -0.5 * delta**2
    sq = sq - sq.mean(axis=1, keepdims=True) - sq.mean(axis=2, keepdims=True) + sq.mean(axis=(1, 2), keepdims=True)
    sq = 0.5 * (sq + np.swapaxes(sq, 1, 2))
    k_eff = min(k, n)
    out = np.zeros((n_batch, n, k), dtype=np.float64)
    if n >= _PARTIAL_EIGH_MIN_N and k_eff < n - 1:
        # Lanczos (ARPACK) for the top k only: a few dozen products with B instead of a full
        # O(N^3) eigendecomposition. The start vector comes from a local, fixed-seed generator,
        # so the output is deterministic; signs are fixed below.
        from scipy.sparse.linalg import eigsh

        v0 = np.random.default_rng(0).normal(size=n)
        for b in range(n_batch):
            vals, vecs = eigsh(sq[b], k=k_eff, which="LA", v0=v0, tol=1e-12)
            order = np.argsort(vals)[::-1]
            vals, vecs = vals[order], vecs[:, order]
            out[b, :, :k_eff] = vecs * np.sqrt(np.clip(vals, 0.0, None))
    else:
        # Small matrices gain nothing from BLAS threads, and on shared cores idle BLAS threads
        # spinning after the call can cost more than the decomposition itself.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            vals, vecs = np.linalg.eigh(sq)  # ascending eigenvalues         # (B, N), (B, N, N)
        vals = vals[:, ::-1][:, :k_eff]
        vecs = vecs[:, :, ::-1][:, :, :k_eff]
        out[:, :, :k_eff] = vecs * np.sqrt(np.clip(vals, 0.0, None))[:, None, :]
    # Deterministic sign: the largest-magnitude entry of every column is positive.
    idx = np.abs(out).argmax(axis=1)                                          # (B, k)
    signs = np.sign(np.take_along_axis(out, idx[:, None, :], axis=1))         # (B, 1, k)
    signs[signs == 0] = 1.0
    out *= signs
    if not np.isfinite(out).all():  # pragma: no cover - eigh on finite input is finite
        raise SupvizError("classical MDS produced non-finite coordinates; check `delta`.")
    return out
