"""Labels that make a picture of data points readable: what each input is made of.

Two labels per point, both read straight from ``x``:

- ``top_feature``: the most important active feature (highest importance; ties, as under uniform
  importance, go to the larger value, then the lower index). Colouring by it shows which inputs the
  picture of ``h`` mixes up.
- ``n_active``: how many features are active. Sparse cells have mostly 1-2; dense ones many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from supviz.core.validation import check_array
from supviz.errors import SupvizError

__all__ = ["PointLabels", "point_labels"]


@dataclass(frozen=True)
class PointLabels:
    """Per-point labels of a sample.

    Attributes
    ----------
    top_feature : np.ndarray of int, shape (N,)
        Index of the most important active feature (-1 for an all-zero row).
    top_rank : np.ndarray of int, shape (N,)
        Importance rank of ``top_feature`` (0 = the most important feature overall; -1 if none).
    top_value : np.ndarray of float, shape (N,)
        The value of ``top_feature`` in ``x`` (0 if none).
    n_active : np.ndarray of int, shape (N,)
        Number of active features.
    """

    top_feature: np.ndarray
    top_rank: np.ndarray
    top_value: np.ndarray
    n_active: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The labels by name, for a DataFrame or a hover text."""
        return {
            "top_feature": self.top_feature,
            "top_rank": self.top_rank,
            "top_value": self.top_value,
            "n_active": self.n_active,
        }


def point_labels(x: np.ndarray, *, importance: np.ndarray | None = None) -> PointLabels:
    """Label each input by its most important active feature and its number of active features.

    Parameters
    ----------
    x : array, shape (N, n)
        Inputs; a feature is active where ``x > 0``.
    importance : array, shape (n,), optional
        Feature importances; uniform when omitted.

    Returns
    -------
    PointLabels
    """
    x = check_array("x", x, ndim=2)
    n = x.shape[1]
    if importance is None:
        imp = np.ones(n)
    else:
        imp = check_array("importance", importance, ndim=1)
        if imp.shape[0] != n:
            raise SupvizError(f"`importance` must have {n} entries (one per feature of x); got {imp.shape[0]}.")
    active = x > 0
    n_active = active.sum(axis=1).astype(np.int64)

    # Importance rank: 0 for the most important; stable so equal importances rank by index.
    order = np.argsort(-imp, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)

    # Score: importance first, then value; the lower index wins the remaining ties via argmax.
    best_imp = np.where(active, imp[None, :], -np.inf).max(axis=1)  # (N,)
    candidates = active & np.isclose(imp[None, :], best_imp[:, None], rtol=1e-12, atol=0.0)
    top = np.where(candidates, x, -np.inf).argmax(axis=1)
    has_any = n_active > 0
    top_feature = np.where(has_any, top, -1).astype(np.int64)
    top_rank = np.where(has_any, rank[top], -1).astype(np.int64)
    top_value = np.where(has_any, x[np.arange(x.shape[0]), top], 0.0)
    return PointLabels(top_feature=top_feature, top_rank=top_rank, top_value=top_value, n_active=n_active)
