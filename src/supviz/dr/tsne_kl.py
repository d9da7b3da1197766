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

__all__ = ["kl_divergence"]

#: Entries per block of the pair sum (32 MB of float64).
BLOCK_ENTRIES = 4_000_000


def kl_divergence(P: Any, Y: Any, *, dof: float = 1.0, block_entries: int = BLOCK_ENTRIES) -> float:
    """Exact KL divergence of layout ``Y`` for the joint affinities ``P`` (module docstring).

    Parameters
    ----------
    P : scipy sparse matrix or numpy.ndarray, shape (N, N)
        Joint affinities ``p_ij >= 0``; normalised here to sum 1; the diagonal is ignored.
    Y : numpy.ndarray, shape (N, k)
        The layout.
    dof : float, default 1.0
        Degrees of freedom of the kernel ``(1 + d^2 / dof)^(-dof)`` (openTSNE's parametrisation).
    block_entries : int
        Pair distances held at once.

    Returns
    -------
    float
        ``>= 0`` (0 when ``Q = P``; rounding-level negatives above -1e-10 are returned as 0).
        Cost: O(N^2 k) time, O(block) memory.
    """
    import scipy.sparse as sp
    from scipy.spatial.distance import cdist

    Y = np.asarray(Y, dtype=np.float64)
    n = Y.shape[0]
    coo = sp.coo_matrix(P)
    keep = (coo.row != coo.col) & (coo.data > 0)
    rows, cols, p = coo.row[keep], coo.col[keep], np.asarray(coo.data[keep], dtype=np.float64)
    p = p / p.sum()
    d2 = ((Y[rows] - Y[cols]) ** 2).sum(axis=1)
    log_w = -dof * np.log1p(d2 / dof)
    z = 0.0
    step = max(1, block_entries // max(n, 1))
    for start in range(0, n, step):
        stop = min(start + step, n)
        w = (1.0 + cdist(Y[start:stop], Y, "sqeuclidean") / dof) ** (-dof)
        z += float(w.sum()) - (stop - start)  # the diagonal contributes w_ii = 1 each
    kl = float(np.dot(p, np.log(p)) - np.dot(p, log_w) + np.log(z))
    # The three terms cancel to rounding near the optimum (a collapsed layout of uniform P is
    # KL 0 up to ~1e-14): a negative value there is rounding, anything larger would be a bug.
    return 0.0 if -1e-10 < kl < 0.0 else kl
