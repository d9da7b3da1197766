"""Optimal-scaling steps of SMACOF: disparities from configuration distances.

Every function works on a batch of full symmetric matrices (the instance axis first) with a weight
matrix ``w`` that is zero on the diagonal and on missing pairs. Sums over the full matrix count
each pair twice; the factor cancels in every ratio below and is undone where it does not.

- ratio: disparities proportional to the dissimilarities; after normalisation they never change.
- interval: disparities ``a + b * (delta - min delta)``, fitted to the distances by weighted least
  squares without sign constraints, as R smacof's ``transform()`` does for ``type = "interval"``
  (it solves the normal equations on the basis ``[1, x - x_min]`` of the tie blocks; only its
  monotone variants use ``nnls``). So a fit may have a negative intercept or slope, exactly as in
  R. Tied dissimilarities get the same disparity, since the fit is a function of delta. With a
  single tie block the slope is undefined (R's ``solve`` fails there); the caller falls back to
  ratio, which is the constant this function then returns.
- ordinal: isotonic (PAVA) regression of the distances on the order of the dissimilarities, with
  the primary approach to ties (within a block of equal dissimilarities the disparities are free,
  so the block is first sorted by distance).

All of them end by rescaling to ``sum_{i<j} w_ij dhat_ij^2 = N(N-1)/2`` (R smacof's
``normDissN``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch


def normalise(dhat: "torch.Tensor", w: "torch.Tensor | None", n_pairs: float) -> "torch.Tensor":
    """Rescale each item so that ``sum_{i<j} w dhat^2 = n_pairs``; all-zero items stay zero.

    ``dhat`` has a zero diagonal; ``w=None`` means weight 1 on every off-diagonal pair.
    """
    import torch

    ss = 0.5 * ((dhat * dhat) if w is None else (w * dhat * dhat)).sum(dim=(1, 2))  # (b,)
    scale = torch.where(ss > 0, torch.sqrt(n_pairs / torch.clamp(ss, min=1e-300)), torch.zeros_like(ss))
    return dhat * scale[:, None, None]


def interval_moments(
    x: "torch.Tensor", w: "torch.Tensor | None"
) -> tuple["torch.Tensor", "torch.Tensor", "torch.Tensor"]:
    """The configuration-free sums of an interval fit, ``(sum w, sum w x, sum w x^2)`` per item.

    ``w=None`` means weight 1 on every off-diagonal pair (``x`` has a zero diagonal).
    """
    import torch

    if w is None:
        n = x.shape[1]
        sw = torch.full((x.shape[0],), float(n * (n - 1)), dtype=x.dtype, device=x.device)
        return sw, x.sum(dim=(1, 2)), (x * x).sum(dim=(1, 2))
    return w.sum(dim=(1, 2)).expand(x.shape[0]), (w * x).sum(dim=(1, 2)), (w * x * x).sum(dim=(1, 2))


def interval_fit(
    x: "torch.Tensor",
    dist: "torch.Tensor",
    w: "torch.Tensor",
    n_pairs: float,
    moments: tuple["torch.Tensor", "torch.Tensor", "torch.Tensor"] | None = None,
) -> "torch.Tensor":
    """Interval disparities ``a + b x`` (least squares, unconstrained as in R), normalised.

    Parameters
    ----------
    x : (b, N, N) dissimilarities minus their smallest (weighted-in) value, so ``x >= 0``; zero
        diagonal.
    dist : (b, N, N) configuration distances.
    w : (b, N, N) or (1, N, N) pair weights (zero diagonal), or None for all ones.
    n_pairs : N(N-1)/2, the target of the normalisation.
    moments : the output of :func:`interval_moments` for ``(x, w)``, if already known.
    """
    import torch

    sw, sx, sxx = interval_moments(x, w) if moments is None else moments  # (b,) each
    wd = dist if w is None else w * dist  # distances have a zero diagonal already
    sy, sxy = wd.sum(dim=(1, 2)), (wd * x).sum(dim=(1, 2))
    alpha, beta = interval_coefficients(sw, sx, sxx, sy, sxy, n_pairs)
    off = 1.0 - torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    return torch.addcmul(alpha[:, None, None] * off, beta[:, None, None], x)


def interval_coefficients(
    sw: "torch.Tensor",
    sx: "torch.Tensor",
    sxx: "torch.Tensor",
    sy: "torch.Tensor",
    sxy: "torch.Tensor",
    n_pairs: float,
) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Normalised interval coefficients from weighted sums; disparities are ``alpha + beta x``.

    The sums (``sum w``, ``sum w x``, ``sum w x^2``, ``sum w y``, ``sum w x y``, one value per item)
    are over the full symmetric matrix, each pair counted twice, as elsewhere in this module.

    Solves ``min sum w (y - a - b x)^2`` (y = distances) by the normal equations, with no sign
    constraints (R smacof's ``type = "interval"``). When every x is equal (``sw sxx = sx^2``) the
    slope is undefined and the constant ``a = mean y`` is returned: the ratio disparity for
    all-equal dissimilarities.
    """
    import torch

    tiny = torch.finfo(sw.dtype).tiny
    den = sw * sxx - sx * sx
    ok = den > 1e-12 * torch.clamp(sw * sxx, min=tiny)
    b = torch.where(ok, (sw * sxy - sx * sy) / torch.where(ok, den, 1.0), 0.0)
    a = (sy - b * sx) / sw
    # Normalise analytically: sum_{i<j} w (a + b x)^2 = (a^2 sw + 2ab sx + b^2 sxx) / 2.
    ss = 0.5 * (a * a * sw + 2 * a * b * sx + b * b * sxx)
    scale = torch.where(ss > 0, torch.sqrt(n_pairs / torch.clamp(ss, min=1e-300)), 0.0)
    return a * scale, b * scale


def ordinal_fit(delta: "torch.Tensor", dist: "torch.Tensor", w: "torch.Tensor", n_pairs: float) -> "torch.Tensor":
    """Ordinal (isotonic, primary ties) disparities, normalised. Loops over items on the CPU."""
    import torch
    from scipy.optimize import isotonic_regression

    n = delta.shape[1]
    if w is None:
        w = (1.0 - torch.eye(n, dtype=delta.dtype, device=delta.device))[None]
    w = w.expand_as(delta)
    iu, ju = np.triu_indices(n, k=1)
    d_np = delta.detach().cpu().numpy()[:, iu, ju]  # (b, P)
    e_np = dist.detach().cpu().numpy()[:, iu, ju]
    w_np = w.detach().cpu().numpy()[:, iu, ju]
    out = np.zeros((delta.shape[0], n, n), dtype=np.float64)
    for item in range(d_np.shape[0]):
        keep = w_np[item] > 0
        dv, ev, wv = d_np[item][keep], e_np[item][keep], w_np[item][keep]
        # Primary approach to ties: order by delta, and inside a tie block by distance.
        order = np.lexsort((ev, dv))
        fitted = np.empty_like(ev)
        fitted[order] = isotonic_regression(ev[order], weights=wv[order]).x
        vals = np.zeros(iu.size)
        vals[keep] = fitted
        out[item, iu, ju] = vals
        out[item, ju, iu] = vals
    dhat = torch.as_tensor(out, dtype=delta.dtype, device=delta.device)
    return normalise(dhat, w, n_pairs)


def shift_to_min(delta: "torch.Tensor", w: "torch.Tensor") -> "torch.Tensor":
    """``delta`` minus its smallest weighted-in off-diagonal value, per item (interval basis)."""
    import torch

    big = torch.where(w > 0, delta, torch.full_like(delta, float("inf")))
    lo = big.amin(dim=(1, 2))
    n = delta.shape[1]
    off = 1.0 - torch.eye(n, dtype=delta.dtype, device=delta.device)
    return torch.clamp(delta - lo[:, None, None], min=0.0) * off


def fit_disparities(
    metric_type: str,
    delta: "torch.Tensor",
    shifted: "torch.Tensor | None",
    dist: "torch.Tensor",
    w: "torch.Tensor | None",
    n_pairs: float,
    moments: Any = None,
) -> "torch.Tensor":
    """Normalised disparities of the given type for distances ``dist`` (``w=None``: unweighted)."""
    if metric_type == "ratio":
        return normalise(delta, w, n_pairs)
    if metric_type == "interval":
        return interval_fit(shifted, dist, w, n_pairs, moments)
    return ordinal_fit(delta, dist, w, n_pairs)
