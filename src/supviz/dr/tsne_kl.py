"""The exact t-SNE objective of a finished layout: KL(P || Q) over all pairs.

t-SNE minimises (van der Maaten & Hinton 2008, eq. 2; the heavy-tailed kernel of Kobak et al.
2020, openTSNE's ``dof``)

    KL(P || Q) = sum_{i != j} p_ij log(p_ij / q_ij),
    q_ij = w_ij / Z,  w_ij = (1 + |y_i - y_j|^2 / dof)^(-dof),  Z = sum_{k != l} w_kl,

with joint affinities ``p_ij`` (symmetric, summing to 1). ``dof = 1`` is the Cauchy kernel of
standard t-SNE. Since ``sum p_ij = 1`` this is ``sum p log p - sum p log w + log Z``; the first two
sums run over the non-zero affinities only, and ``Z`` over all pairs in blocks of rows, so memory
stays ``O(block)``.

Why supviz computes it: openTSNE reports the KL divergence that its gradient estimate gives, and
its Barnes-Hut tree merges embedding points closer than 1e-6 into one leaf, which drops or
double-counts their terms of ``Z``. With coincident points the reported value can be negative
(issue 8: -0.48 for a layout whose exact KL is 2.25). The exact value of the returned layout is
what a user compares. Checked against scikit-learn's exact objective
(``sklearn.manifold._t_sne._kl_divergence``) in ``tests/dr/test_tsne_kl.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["kl_divergence", "exact_gradient"]

#: Entries per block of the pair sum (32 MB of float64).
BLOCK_ENTRIES = 4_000_000


def kl_divergence(
    P: Any, Y: Any, *, dof: float = 1.0, power: float | None = None, block_entries: int = BLOCK_ENTRIES
) -> float:
    """Exact KL divergence of layout ``Y`` for the joint affinities ``P`` (module docstring).

    Parameters
    ----------
    P : scipy sparse matrix or numpy.ndarray, shape (N, N)
        Joint affinities ``p_ij >= 0``; normalised here to sum 1; the diagonal is ignored.
    Y : numpy.ndarray, shape (N, k)
        The layout.
    dof : float, default 1.0
        Degrees of freedom of the kernel ``(1 + d^2 / dof)^(-power)``.
    power : float, optional
        The kernel's exponent; default ``dof`` (openTSNE's parametrisation). scikit-learn's
        kernel is the Student t density, ``power = (dof + 1) / 2`` with ``dof =
        max(n_components - 1, 1)``; both are the Cauchy kernel at ``dof = 1``.
    block_entries : int
        Pair distances held at once.

    Returns
    -------
    float
        ``>= 0`` (0 when ``Q = P``; rounding-level negatives above -1e-10 are returned as 0);
        NaN when ``P`` has no positive off-diagonal entry. Cost: O(N^2 k) time, O(block) memory.
    """
    import scipy.sparse as sp
    from scipy.spatial.distance import cdist

    Y = np.asarray(Y, dtype=np.float64)
    n = Y.shape[0]
    power = float(dof if power is None else power)
    if not sp.issparse(P) and np.ndim(P) == 1:  # scikit-learn's condensed P
        from scipy.spatial.distance import squareform

        P = squareform(np.asarray(P, dtype=np.float64), checks=False)
    coo = sp.coo_matrix(P)
    keep = (coo.row != coo.col) & (coo.data > 0)
    rows, cols, p = coo.row[keep], coo.col[keep], np.asarray(coo.data[keep], dtype=np.float64)
    if not p.size:  # no affinity at all (scikit-learn's Barnes-Hut on all-tied distances): undefined
        return float("nan")
    p = p / p.sum()
    d2 = ((Y[rows] - Y[cols]) ** 2).sum(axis=1)
    log_w = -power * np.log1p(d2 / dof)
    z = 0.0
    step = max(1, block_entries // max(n, 1))
    for start in range(0, n, step):
        stop = min(start + step, n)
        w = (1.0 + cdist(Y[start:stop], Y, "sqeuclidean") / dof) ** (-power)
        # the diagonal (w_ii = 1) is zeroed, not subtracted after the sum: where the layout is spread
        # out (w_ij << 1) the ones would swallow the low bits of Z (a KL of 4.0 was 1.4e-9 off, issue 18)
        idx = np.arange(stop - start)
        w[idx, start + idx] = 0.0
        z += float(w.sum())
    kl = float(np.dot(p, np.log(p)) - np.dot(p, log_w) + np.log(z))
    # The three terms cancel to rounding near the optimum (a collapsed layout of uniform P is
    # KL 0 up to ~1e-14): a negative value there is rounding, anything larger would be a bug.
    return 0.0 if -1e-10 < kl < 0.0 else kl


def exact_gradient(
    embedding: np.ndarray,
    P: Any,
    dof: float = 1.0,
    reference_embedding: Any = None,
    should_eval_error: bool = False,
    block_entries: int = BLOCK_ENTRIES,
    **_: Any,
) -> tuple[float, np.ndarray]:
    """The exact t-SNE gradient over all pairs, as an openTSNE ``negative_gradient_method``.

    openTSNE accepts a callable in place of ``"bh"``/``"fft"`` (``openTSNE.tsne._handle_nice_params``)
    and runs its own optimiser (learning rate, momentum, gains, exaggeration) with it. This one
    counts every pair exactly, in ``O(N^2 k)`` per iteration, where Barnes-Hut merges points
    closer than 1e-6 into one leaf and miscounts their terms of ``Z`` (points flung out, a
    negative reported KL; issue 8) and the FFT gradient costs a fixed ~20 s per layout whatever
    N (a 50 x 50 interpolation grid per iteration): at N <= 1,000 this is both exact and faster.

    With openTSNE's conventions (no factor 4, ``dof`` kernel ``w = (1 + d^2 / dof)^(-dof)``,
    ``P`` as given, exaggerated or not):

        grad_i = sum_j (p_ij - w_ij / Z) (1 + d_ij^2 / dof)^(-1) (y_i - y_j),  Z = sum_{k != l} w_kl,

    equal to openTSNE's Barnes-Hut gradient at ``theta = 0`` for points that do not coincide
    (``tests/dr/test_tsne_kl.py``, to 1e-15).

    Parameters
    ----------
    embedding : numpy.ndarray, shape (N, k)
    P : scipy sparse matrix, shape (N, N)
        Joint affinities (openTSNE's, possibly multiplied by the exaggeration).
    dof : float
        Degrees of freedom of the kernel.
    reference_embedding : None
        openTSNE's ``transform`` path (new points against a fixed embedding) is not supported.
    should_eval_error : bool
        Also return ``sum p log(p / q)`` (else 0).

    Returns
    -------
    (float, numpy.ndarray of shape (N, k))
        The KL value (when asked) and the gradient.
    """
    import scipy.sparse as sp
    from scipy.spatial.distance import cdist

    if reference_embedding is not None and reference_embedding is not embedding:
        raise NotImplementedError("exact_gradient does not support openTSNE's transform (a reference embedding).")
    Y = np.asarray(embedding, dtype=np.float64)
    n = Y.shape[0]
    coo = sp.coo_matrix(P)
    keep = coo.row != coo.col
    rows, cols, p = coo.row[keep], coo.col[keep], np.asarray(coo.data[keep], dtype=np.float64)
    diff = Y[rows] - Y[cols]  # (nnz, k)
    base = 1.0 + (diff**2).sum(axis=1) / dof
    attract = (p / base)[:, None] * diff
    grad = np.zeros_like(Y)
    for d in range(Y.shape[1]):
        grad[:, d] = np.bincount(rows, weights=attract[:, d], minlength=n)
    repulse = np.zeros_like(Y)
    z = 0.0
    step = max(1, block_entries // max(n, 1))
    for start in range(0, n, step):
        stop = min(start + step, n)
        b = cdist(Y[start:stop], Y, "sqeuclidean")  # (c, N)
        if dof != 1.0:
            b /= dof
        b += 1.0
        np.reciprocal(b, out=b)  # b is now the kernel derivative factor k = (1 + d^2 / dof)^-1
        w = b if dof == 1.0 else b**dof
        idx = np.arange(stop - start)
        b[idx, start + idx] = 0.0
        if dof != 1.0:
            w[idx, start + idx] = 0.0
        z += float(w.sum())
        wk = w * b
        repulse[start:stop] = wk.sum(axis=1)[:, None] * Y[start:stop] - wk @ Y
    grad -= repulse / z
    kl = 0.0
    if should_eval_error:
        pos = p > 0
        log_q = -dof * np.log(base[pos]) - np.log(z)
        kl = float(np.dot(p[pos], np.log(p[pos]) - log_q))
    return kl, grad
