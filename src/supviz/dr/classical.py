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

from supviz.core.validation import check_int, unit_scaled
from supviz.dr.base import check_delta, pca_init
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
        exactly (up to rotation and reflection). Coincident points (equal rows of ``delta``) get
        equal coordinates, bit for bit. Any scale from 1e-300 to 1e300 works (the item is
        reduced at unit scale and scaled back).

    Raises
    ------
    SupvizError
        On NaN/inf, a non-square, asymmetric or negative ``delta``, fewer than 1 point, or a bad
        ``n_components``.
    """
    arr = check_delta(delta, min_points=1)
    k = check_int("n_components", n_components, min_value=1)
    batched = arr.ndim == 3
    # Scale-equivariant: each item is reduced at unit scale (no overflow of delta^2 at 1e300, no
    # underflow at 1e-300) and its coordinates scaled back by the same power of two.
    scaled = [unit_scaled(a) for a in (arr if batched else arr[None])]
    out = torgerson(np.stack([a for a, _ in scaled]), k)
    for b, (a, e) in enumerate(scaled):
        out[b] = np.ldexp(merge_coincident(a, out[b][None])[0], e)
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
        from scipy.sparse.linalg import ArpackError, eigsh

        v0 = np.random.default_rng(0).normal(size=n)
        for b in range(n_batch):
            if not np.any(sq[b]):
                # every point coincides (a dead layer's constant activations): B = 0, every
                # eigenvalue 0, so every coordinate is 0 -- where ARPACK stops with "starting
                # vector is zero" (B v0 = 0), issue 22
                continue
            try:
                vals, vecs = eigsh(sq[b], k=k_eff, which="LA", v0=v0, tol=1e-12)
            except ArpackError:  # e.g. an invariant subspace of B v0 smaller than k (rank below k)
                vals, vecs = np.linalg.eigh(sq[b])
                vals, vecs = vals[::-1][:k_eff], vecs[:, ::-1][:, :k_eff]
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
    idx = np.abs(out).argmax(axis=1)  # (B, k)
    signs = np.sign(np.take_along_axis(out, idx[:, None, :], axis=1))  # (B, 1, k)
    signs[signs == 0] = 1.0
    out *= signs
    if not np.isfinite(out).all():  # pragma: no cover - eigh on finite input is finite
        raise SupvizError("classical MDS produced non-finite coordinates; check `delta`.")
    return out


def coincident_representatives(delta: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """For each point of ``delta [N, N]``, the first point of its group of coincident points ``[N]``
    (int64; ``rep[i] == i`` for a point that coincides with none).

    Points coincide when their rows of ``delta`` are equal (which puts a 0 between them) and, with
    ``weights``, their rows of weights are equal outside the group (inside it every distance is 0
    and no weight moves them apart). Such points are one point to SMACOF: an optimum keeps them on
    one spot, and each Guttman transform does too in exact arithmetic.
    """
    n = delta.shape[0]
    rep = np.arange(n)
    if np.count_nonzero(delta == 0) <= n:  # only the diagonal: nothing coincides
        return rep
    _, group = np.unique(delta, axis=0, return_inverse=True)
    group = group.ravel()
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        if members.size < 2:
            continue
        if weights is None:
            rep[members] = members[0]
            continue
        outside = np.ones(n, dtype=bool)
        outside[members] = False
        _, sub = np.unique(weights[np.ix_(members, outside)], axis=0, return_inverse=True)
        sub = sub.ravel()
        for s in np.unique(sub):
            same = members[sub == s]
            rep[same] = same[0]
    return rep


def merge_coincident(delta: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Configurations ``x`` [R, N, k] with every group of coincident points
    (:func:`coincident_representatives` of ``delta`` [N, N] and ``weights``) moved to the group's mean."""
    rep = coincident_representatives(delta, weights)
    if (rep == np.arange(rep.size)).all():
        return x
    _, group, counts = np.unique(rep, return_inverse=True, return_counts=True)
    group = group.ravel()
    means = np.zeros((x.shape[0], counts.size, x.shape[2]))
    np.add.at(means, (slice(None), group), x)
    return means[:, group] / counts[group][None, :, None]


def data_start(
    X: np.ndarray, n_components: int, *, rng: np.random.Generator, max_abs: float, precomputed: bool = False
) -> np.ndarray:
    """The PCA start of :func:`pca_init`, for points or for dissimilarities.

    For dissimilarities the principal-component scores are those of classical (Torgerson) MDS,
    which equal PCA's for Euclidean distances (both libraries refuse ``init="pca"`` with
    precomputed distances; PCA of the rows of a distance matrix would picture something else).
    """
    if not precomputed:
        return pca_init(X, n_components, rng=rng, max_abs=max_abs)
    scores = torgerson(X[None], min(n_components, X.shape[0]))[0]
    return pca_init(scores, n_components, rng=rng, max_abs=max_abs)
