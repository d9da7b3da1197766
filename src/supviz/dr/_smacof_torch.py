"""Vectorised engine of SMACOF: a whole batch as PyTorch tensors, on CPU or CUDA.

The batch (items and restarts stacked) is one tensor ``[M, N, N]``; every iteration advances all
active items at once. Items that converge are written out and leave the working set, so they stop
changing while the others go on, and each item's result is the same as running it alone: nothing
reduces across items, and on the CPU every product is one call per item
(:func:`supviz.runtime.products.bmm`, the implementation fastest here for that shape), never a
batched BLAS call whose rounding may depend on how many items are still active. The compiled CPU
engine (``_smacof_numba.py``) runs the same algorithm with the same stopping rule.

Coincident points (``representatives``, from :func:`supviz.dr.classical.coincident_representatives`)
get their group's first member's coordinates after every Guttman transform: ``B(X) X`` gives two
coincident points equal rows in exact arithmetic, but a BLAS product may round two equal rows
differently, and an ordinal fit then pulled such a pair apart (issue 18: two spots 0.02 apart on
an AMD CPU).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.dr import _transforms
from supviz.errors import SupvizError
from supviz.runtime.products import bmm

#: Pairs closer than this (relative to the largest coordinate) enter the Guttman transform through
#: their coordinate differences: in the product form their terms would cancel to rounding noise.
_NEAR_RTOL = 1e-5


def run_batch(
    *,
    delta: np.ndarray,
    weights: np.ndarray | None,
    x0: np.ndarray,
    fixed: np.ndarray,
    metric_type: str,
    max_iter: int,
    eps: float,
    device: Any,
    representatives: np.ndarray | None = None,
) -> dict[str, Any]:
    """Iterate SMACOF on a flat batch [M, N, N] (restarts already stacked into M).

    ``representatives`` [M, N] (int): each point's group of coincident points, as its first member;
    None when nothing coincides (module docstring).

    ``fixed[m]`` marks items whose disparities never change (ratio type, or a degenerate item that
    fell back to ratio). The working set holds only the active items: when items converge, their
    results are written out and they are dropped, so they stop changing and cost nothing.

    Speed: an iteration makes as few passes over the [b, N, N] tensors as it can. In the
    unweighted ratio and interval cases the stress is expanded as
    ``sum (dhat - d)^2 = sum dhat^2 + sum d^2 - 2 <dhat, d>`` where ``sum dhat^2`` is fixed by the
    normalisation and ``sum d^2 = 2N sum |y_i|^2 - 2 |sum y_i|^2`` costs O(Nk); the stress of each
    finished item is then recomputed exactly, pair by pair.
    """
    import torch

    device = torch.device(str(device))
    m, n, k = x0.shape
    n_pairs = n * (n - 1) / 2
    dt = torch.float64
    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dt, device=device)  # noqa: E731
    off = 1.0 - torch.eye(n, dtype=dt, device=device)
    delta_t = as_t(delta)
    # Unweighted (w None): every off-diagonal pair weighs 1 and V^+ = J / N, applied as a mean.
    w_t = None if weights is None else as_t(weights)
    vplus = None
    if w_t is not None:
        v = torch.diag_embed(w_t.sum(dim=2)) - w_t  # (M, N, N)
        vinv, info = torch.linalg.inv_ex(v + 1.0 / n)
        # A disconnected weight graph leaves V + 11'/N singular: either the solver says so, or
        # rounding lets it through with enormous entries.
        if bool((info != 0).any()) or not bool(torch.isfinite(vinv).all()) or float(vinv.abs().max()) > 1e12:
            raise SupvizError(
                "`weights` must connect all points (the weighted graph is disconnected); got a singular V."
            )
        vplus = vinv - 1.0 / n

    def wsum(t: "torch.Tensor", w: "torch.Tensor | None") -> "torch.Tensor":
        return (t if w is None else w * t).sum(dim=(1, 2))

    state: dict[str, Any] = {"delta": delta_t, "w": w_t, "vplus": vplus, "fixed": torch.as_tensor(fixed, device=device)}
    if representatives is not None:
        state["rep"] = torch.as_tensor(np.ascontiguousarray(representatives, dtype=np.int64), device=device)
    if metric_type == "interval":
        shifted = _transforms.shift_to_min(delta_t, w_t if w_t is not None else off[None].expand_as(delta_t))
        sw, sx, sxx = _transforms.interval_moments(shifted, w_t)
        # (b, N*N, 2): one bmm against the distances gives sum w d and sum w x d.
        wbasis = off[None].expand_as(shifted) if w_t is None else w_t
        basis = torch.stack([wbasis.reshape(m, -1), (wbasis * shifted).reshape(m, -1)], dim=2)
        state.update(shifted=shifted, sw=sw, sx=sx, sxx=sxx, basis=basis)
    fast = w_t is None and metric_type in ("ratio", "interval")

    x = as_t(x0)
    dhat = _transforms.normalise(delta_t, w_t, n_pairs)
    dist = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")  # (M, N, N)
    # Scale the start optimally to the disparities (R: lb <- sum(w d dhat) / sum(w d^2)).
    num, den = wsum(dist * dhat, w_t), wsum(dist * dist, w_t)
    lb = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 1.0)
    x, dist = x * lb[:, None, None], dist * lb[:, None, None]
    sold = wsum((dhat - dist) ** 2, w_t) / (2 * n_pairs)  # (M,)
    # sum_{i<j} w dhat^2 after normalisation: n_pairs, or 0 for an all-zero item.
    s_hh = 0.5 * wsum(dhat * dhat, w_t)

    out_x = torch.zeros((m, n, k), dtype=dt, device=device)
    out_dhat = torch.zeros((m, n, n), dtype=dt, device=device)
    out_sig = torch.zeros(m, dtype=dt, device=device)
    n_iter = np.zeros(m, dtype=np.int64)
    converged = np.zeros(m, dtype=bool)
    # Stress per iteration, in blocks of constant working set: (item ids, first iteration, values).
    blocks: list[tuple[np.ndarray, int, list["torch.Tensor"]]] = [(np.arange(m), 0, [sold])]
    ids = torch.arange(m, device=device)  # the active items; every per-item tensor follows them
    ids_np = np.arange(m)
    state["s_hh"] = s_hh
    per_item = [name for name, t in state.items() if t is not None]
    ones = torch.ones((m, n, 1), dtype=dt, device=device)
    for it in range(1, max_iter + 1):
        w_a = state["w"]
        b_now = x.shape[0]
        # B(X) with the x/0 := 0 convention: zero distances (the diagonal, coincident points)
        # contribute nothing, whatever the disparity. An interval fit may give a coincident pair a
        # negative disparity, so the quotient can be -inf as well as nan or +inf: all three are 0.
        num = dhat if w_a is None else w_a * dhat  # (b, N, N)
        ratio = torch.nan_to_num_(num / dist, nan=0.0, posinf=0.0, neginf=0.0)
        # Guttman transform Y = V^+ B(X) X with B = diag(rowsum ratio) - ratio; the row sums come
        # out of the same product through a column of ones.                  # (b, N, k + 1)
        # (B X)_i = sum_j r_ij (x_i - x_j), but the product form computes rowsum_i x_i - sum_j r_ij x_j,
        # which loses everything to cancellation when a pair is nearly coincident (r_ij = dhat / d
        # huge). Such pairs are taken out of the product and added from their differences, as
        # the numba engine computes every pair.
        near = (dist < _NEAR_RTOL * x.abs().amax(dim=(1, 2))[:, None, None]) & (dist > 0)
        has_near = bool(near.any())
        far = torch.where(near, 0.0, ratio) if has_near else ratio
        rx = bmm(far, torch.cat([x, ones[:b_now]], dim=2))
        bx = torch.addcmul(-rx[..., :k], rx[..., k:], x)  # (b, N, k)
        if has_near:
            bi, i, j = near.nonzero(as_tuple=True)  # each pair both ways
            bx.index_put_((bi, i), ratio[bi, i, j][:, None] * (x[bi, i] - x[bi, j]), accumulate=True)
        y = bx.mul_(1.0 / n) if state["vplus"] is None else bmm(state["vplus"], bx)
        if "rep" in state:  # coincident points: one spot, whatever the products rounded
            y = torch.gather(y, 1, state["rep"][:, :, None].expand(-1, -1, k))
        e = torch.cdist(y, y, compute_mode="donot_use_mm_for_euclid_dist")
        if fast:
            # sum_{i<j} d^2 from the coordinates.                            # (b,)
            s_ee = n * y.square().sum(dim=(1, 2)) - y.sum(dim=1).square().sum(dim=1)
            if metric_type == "interval":
                sums = bmm(e.reshape(b_now, 1, -1), state["basis"])[:, 0]  # (b, 2): sum d, sum x d
                alpha, beta = _transforms.interval_coefficients(
                    state["sw"], state["sx"], state["sxx"], sums[:, 0], sums[:, 1], n_pairs
                )
                dhat = torch.addcmul(alpha[:, None, None] * off, beta[:, None, None], state["shifted"])
                s_he = 0.5 * (alpha * sums[:, 0] + beta * sums[:, 1])
                s_hh_now = torch.where((alpha != 0) | (beta != 0), n_pairs, 0.0)
            else:
                s_he = 0.5 * bmm(dhat.reshape(b_now, 1, -1), e.reshape(b_now, -1, 1))[:, 0, 0]
                s_hh_now = state["s_hh"]
            snon = torch.clamp((s_hh_now + s_ee - 2.0 * s_he) / n_pairs, min=0.0)
        else:
            if metric_type != "ratio":
                new = _transforms.fit_disparities(metric_type, state["delta"], state.get("shifted"), e, w_a, n_pairs)
                dhat = torch.where(state["fixed"][:, None, None], dhat, new)
            snon = wsum((dhat - e).square_(), w_a) / (2 * n_pairs)
        blocks[-1][2].append(snon)
        done = (sold - snon) < eps  # (b,)
        x, dist, sold = y, e, snon
        last = it == max_iter
        if not last and not bool(done.any()):
            continue
        fin = torch.ones_like(done) if last else done
        fin_np = fin.cpu().numpy()
        fin_ids = ids[fin]
        w_fin = None if w_a is None else w_a[fin]
        out_x[fin_ids], out_dhat[fin_ids] = x[fin], dhat[fin]
        out_sig[fin_ids] = wsum((dhat[fin] - dist[fin]).square_(), w_fin) / (2 * n_pairs)  # exact
        n_iter[ids_np[fin_np]] = it
        converged[ids_np[fin_np]] = done.cpu().numpy()[fin_np]
        keep = ~fin
        if not bool(keep.any()):
            break
        for name in per_item:
            state[name] = state[name][keep]
        ids, ids_np = ids[keep], ids_np[~fin_np]
        x, dist, dhat, sold = x[keep], dist[keep], dhat[keep], sold[keep]
        blocks.append((ids_np, it + 1, []))

    history = np.zeros((int(n_iter.max()) + 1, m))
    for block_ids, first, values in blocks:
        if values:
            history[first : first + len(values), block_ids] = torch.stack(values).cpu().numpy()
    sig = out_sig.cpu().numpy()
    history[n_iter, np.arange(m)] = sig  # the last entry is the exact final stress
    return {
        "embedding": out_x.cpu().numpy(),
        "disparities": out_dhat.cpu().numpy(),
        "sigma": sig,
        "n_iter": n_iter,
        "converged": converged,
        "history": [history[: n_iter[j] + 1, j] for j in range(m)],
    }
