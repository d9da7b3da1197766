"""One small interface for every 2-D picture: points in, a :class:`~supviz.dr.base.Layout` out.

``embed(X, "mds" | "umap" | "tsne", random_state=..., **params)`` dispatches to
:func:`~supviz.dr.mds_layout.mds_layout` (SMACOF, :mod:`supviz.dr.smacof`),
:func:`~supviz.dr.umap_layout.umap_layout` (umap-learn) and :func:`~supviz.dr.tsne_layout.tsne_layout`
(openTSNE or scikit-learn). Each returns the embedding together with the parameters that were
actually used (after any clamp), what the method fitted (stress, KL divergence, ...) and a note for
every clamp or fallback, also logged at INFO, so a figure can say exactly how it was made.
"""

from __future__ import annotations

from typing import Any

from supviz.core.seeding import SeedLike
from supviz.core.validation import check_choice
from supviz.dr.base import METHODS, Layout
from supviz.dr.mds_layout import mds_layout


def embed(X: Any, method: str, *, random_state: SeedLike = None, **params: Any) -> Layout:
    """Lay out points ``X`` with one of the study's methods.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Finite points.
    method : {"mds", "umap", "tsne"}
        Which of :func:`mds_layout`, :func:`~supviz.dr.umap_layout.umap_layout`,
        :func:`~supviz.dr.tsne_layout.tsne_layout` to call.
    random_state : int, numpy Generator, SeedSequence or None
        Equal seeds give equal layouts (umap-learn then runs single-threaded).
    **params
        Keyword arguments of the chosen function. ``backend="torchdr"`` (UMAP, t-SNE) computes the
        layout with TorchDR on ``device`` (:func:`supviz.dr.torchdr_layout.torchdr_layout`, optional).

    Returns
    -------
    Layout
    """
    method = check_choice("method", method, METHODS)
    if params.get("backend") == "torchdr" and method in ("umap", "tsne"):  # the optional GPU backend (issue 13)
        from supviz.dr.torchdr_layout import torchdr_layout

        rest = {k: v for k, v in params.items() if k != "backend"}
        return torchdr_layout(X, method, random_state=random_state, **rest)
    if method == "mds":
        return mds_layout(X, random_state=random_state, **params)
    if method == "umap":
        from supviz.dr.umap_layout import umap_layout

        return umap_layout(X, random_state=random_state, **params)
    from supviz.dr.tsne_layout import tsne_layout

    return tsne_layout(X, random_state=random_state, **params)
