"""The toy model applied to data: latent codes ``h = W^T x`` and outputs ``x' = ReLU(W h + b)``.

``W`` is stored as ``[n_features, n_hidden]`` (row ``i`` = feature ``i``'s direction), so for a
batch of inputs ``x [N, n]`` the latent codes are ``x @ W`` (``[N, m]``) and the outputs are
``ReLU(h @ W.T + b)`` (``[N, n]``).
"""

from __future__ import annotations

import numpy as np

from supviz.core.validation import check_array
from supviz.errors import SupvizError

__all__ = ["latent_codes", "model_outputs", "orthogonal_codes"]


def _check_pair(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = check_array("x", x, ndim=2)
    W = check_array("W", W, ndim=2)
    if x.shape[1] != W.shape[0]:
        raise SupvizError(
            f"`x` and `W` disagree: x has {x.shape[1]} features (shape {x.shape}) but W has "
            f"{W.shape[0]} rows (shape {W.shape})."
        )
    return x, W


def latent_codes(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Latent codes ``h = W^T x`` of a batch.

    Parameters
    ----------
    x : array, shape (N, n)
        Inputs.
    W : array, shape (n, m)
        Feature directions (row ``i`` = feature ``i``).

    Returns
    -------
    np.ndarray, shape (N, m), float64
    """
    x, W = _check_pair(x, W)
    return x @ W  # (N, n) @ (n, m) -> (N, m)


def model_outputs(x: np.ndarray, W: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """The model's reconstruction ``x' = ReLU(W h + b)`` of a batch.

    Parameters
    ----------
    x : array, shape (N, n)
    W : array, shape (n, m)
    bias : array, shape (n,), optional
        The learned bias ``b``; zeros when omitted.

    Returns
    -------
    np.ndarray, shape (N, n), float64
    """
    x, W = _check_pair(x, W)
    h = x @ W
    out = h @ W.T  # (N, m) @ (m, n) -> (N, n)
    if bias is not None:
        b = check_array("bias", bias, ndim=1)
        if b.shape[0] != W.shape[0]:
            raise SupvizError(f"`bias` must have {W.shape[0]} entries (one per feature); got {b.shape[0]}.")
        out = out + b
    return np.maximum(out, 0.0)


def orthogonal_codes(x: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
    """Codes of an embedding without superposition: the chosen features on orthonormal axes.

    An orthonormal embedding keeps every distance, so its codes are the columns of ``x`` it keeps
    (up to a rotation, which no layout or metric here can see).

    Parameters
    ----------
    x : array, shape (N, n)
    features : array of int or bool, optional
        The features embedded (for example the ones the trained model represents); all when omitted.

    Returns
    -------
    np.ndarray, shape (N, k), float64
    """
    x = check_array("x", x, ndim=2)
    if features is None:
        return x.copy()
    sel = np.asarray(features)
    if sel.dtype == bool and sel.shape != (x.shape[1],):
        raise SupvizError(f"`features` as a mask must have {x.shape[1]} entries; got shape {sel.shape}.")
    return x[:, sel]
