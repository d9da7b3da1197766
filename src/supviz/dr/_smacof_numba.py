"""CPU engine of SMACOF: the whole iteration of every item inside one compiled numba function.

Same algorithm, same stopping rule and same outputs as the vectorised PyTorch engine in
``_smacof_torch.py`` (the tests hold the two against each other and against a slow reference).
It avoids the per-operation overhead of a tensor library on small matrices, which dominates the
study's 60-point panels, and the memory traffic of large ones: each iteration makes a single pass
over the pairs i < j that measures the new configuration (distances, stress, the sums of the
interval fit) and at once accumulates the next Guttman transform ``B(X) X`` (as
``sum_j r_ij (x_i - x_j)``, which has no cancellation), so no N x N distance matrix is stored.
Items are independent; a finished item simply stops, so the batch needs no active mask here.
Ordinal scaling is left to the PyTorch engine.

Single-threaded on purpose: results do not depend on the thread count, and a shared machine does
not make it spin. Compiled on first use and cached on disk (numba's ``cache=True``; the cache
directory follows ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True)
def _copy_into(dst, src):  # pragma: no cover - compiled
    """``dst[:, :] = src`` for two [N, k] arrays of one shape, as a loop.

    A slice assignment between arrays makes numba compile its shape-mismatch error path, string
    formatting included: 11 of the 15 s that the first compile of this module took (profiled).
    """
    n, k = dst.shape
    for i in range(n):
        for c in range(k):
            dst[i, c] = src[i, c]


@njit(cache=True)
def _interval_coefficients(sw, sx, sxx, sy, sxy, n_pairs):  # pragma: no cover - compiled
    # Mirrors supviz.dr._transforms.interval_coefficients: unconstrained least squares, as in R.
    den = sw * sxx - sx * sx
    b = 0.0
    if den > 1e-12 * max(sw * sxx, 1e-300):
        b = (sw * sxy - sx * sy) / den
    a = (sy - b * sx) / sw
    ss = 0.5 * (a * a * sw + 2.0 * a * b * sx + b * b * sxx)
    scale = math.sqrt(n_pairs / ss) if ss > 0.0 else 0.0
    return a * scale, b * scale


@njit(cache=True)
def _sweep(x, dhat, shifted, w, weighted, interval, a_acc, c_acc, diff):  # pragma: no cover - compiled
    """One pass over the pairs i < j of configuration ``x`` [N, k].

    Accumulates the two halves of the next Guttman numerator, with ``diff = x_i - x_j`` and
    ``e = |diff|`` (pairs at distance 0 contribute nothing, the 0/0 := 0 convention):

    - ratio (``interval`` False): ``a_acc_i = sum_j w dhat diff / e`` is ``B(X) X`` itself;
    - interval: ``a_acc_i = sum_j w diff / e`` and ``c_acc_i = sum_j w x_ij diff / e``, so that
      for disparities ``alpha + beta x`` the numerator is ``alpha a_acc + beta c_acc``, known
      only after the pass has fitted alpha and beta.

    Returns ``(sum w (dhat - e)^2, sum w e, sum w x e, sum w e^2)`` over i < j (the first only in
    ratio mode). Only upper triangles are read, along rows. ``diff`` [k] is work space.
    """
    n, k = x.shape
    a_acc.fill(0.0)
    c_acc.fill(0.0)
    s_res = 0.0
    s_e = 0.0
    s_xe = 0.0
    s_ee = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            s = 0.0
            for c in range(k):
                t = x[i, c] - x[j, c]
                diff[c] = t
                s += t * t
            e = math.sqrt(s)
            wij = w[i, j] if weighted else 1.0
            if interval:
                xij = shifted[i, j]
                s_e += wij * e
                s_xe += wij * xij * e
                s_ee += wij * s
                if e > 0.0:
                    r1 = wij / e
                    r2 = r1 * xij
                    for c in range(k):
                        a_acc[i, c] += r1 * diff[c]
                        a_acc[j, c] -= r1 * diff[c]
                        c_acc[i, c] += r2 * diff[c]
                        c_acc[j, c] -= r2 * diff[c]
            else:
                h = dhat[i, j]
                s_res += wij * (h - e) * (h - e)
                if e > 0.0:
                    r = wij * h / e
                    for c in range(k):
                        a_acc[i, c] += r * diff[c]
                        a_acc[j, c] -= r * diff[c]
    return s_res, s_e, s_xe, s_ee


@njit(cache=True)
def _snap(y, rep):  # pragma: no cover - compiled
    """Give every point of ``y`` [N, k] its group's first member's coordinates (``rep[i] <= i``)."""
    n, k = y.shape
    for i in range(n):
        r = rep[i]
        if r != i:
            for c in range(k):
                y[i, c] = y[r, c]


@njit(cache=True)
def _run_item(
    x, dhat, w, weighted, vplus, shifted, moments, interval, max_iter, eps, hist, scratch, rep, grouped
):  # pragma: no cover
    """Iterate one item in place; returns (sigma, n_iter, converged).

    ``scratch`` [5, N, k] is work space (its contents are overwritten); the caller allocates it,
    as every array here, so that numba does not compile ``np.zeros`` for each shape and dtype
    (2 of the 6 s that the first compile took).

    ``x`` [N, k] is the optimally scaled start and ``dhat`` [N, N] the normalised dissimilarities,
    the disparities of the first Guttman transform for every type (as in R). For interval,
    ``dhat`` is overwritten with the final fitted disparities.

    Each iteration is a single pass over the pairs: it measures the new configuration, gives its
    stress and already accumulates the next Guttman transform (see :func:`_sweep`), so no N x N
    distance matrix is stored. The ratio stress is summed exactly; the interval stress per
    iteration is expanded from the pass's sums (exact up to rounding of the order of 1e-16 in
    sigma), and the final one is recomputed pair by pair.

    With ``grouped``, every transform gives each point its group's first member's coordinates
    (``rep`` [N], from ``coincident_representatives``): the pair sweep is symmetric in coincident
    points, but the weighted transform's ``V^+`` comes from LAPACK, whose rows for two coincident
    points may differ in the last bits.
    """
    n, k = x.shape
    n_pairs = n * (n - 1) / 2.0
    a_acc, c_acc, bx, y, diff = scratch[0], scratch[1], scratch[2], scratch[3], scratch[4, 0]
    y.fill(0.0)
    # Pass 0: the start, measured against the normalised dissimilarities.
    # Not the constant False: numba would compile a second copy of _sweep for Literal[bool](False).
    ratio_pass = interval and False
    s_res, s_e, s_xe, s_ee = _sweep(x, dhat, shifted, w, weighted, ratio_pass, a_acc, c_acc, diff)
    sold = s_res / n_pairs
    hist[0] = sold
    _copy_into(bx, a_acc)
    snon = sold
    converged = False
    alpha = 0.0
    beta = 0.0
    it = 0
    for it in range(1, max_iter + 1):
        if weighted:
            for i in range(n):
                for c in range(k):
                    acc = 0.0
                    for j in range(n):
                        acc += vplus[i, j] * bx[j, c]
                    y[i, c] = acc
        else:
            for i in range(n):
                for c in range(k):
                    y[i, c] = bx[i, c] / n
        if grouped:
            _snap(y, rep)
        s_res, s_e, s_xe, s_ee = _sweep(y, dhat, shifted, w, weighted, interval, a_acc, c_acc, diff)
        if interval:
            # Full-matrix sums (each pair twice), the convention of _interval_coefficients.
            alpha, beta = _interval_coefficients(moments[0], moments[1], moments[2], 2.0 * s_e, 2.0 * s_xe, n_pairs)
            s_hh = n_pairs if (alpha != 0.0 or beta != 0.0) else 0.0
            snon = max(0.0, (s_hh + s_ee - 2.0 * (alpha * s_e + beta * s_xe)) / n_pairs)
            for i in range(n):
                for c in range(k):
                    bx[i, c] = alpha * a_acc[i, c] + beta * c_acc[i, c]
        else:
            snon = s_res / n_pairs
            _copy_into(bx, a_acc)
        hist[it] = snon
        _copy_into(x, y)
        if sold - snon < eps:
            converged = True
            break
        sold = snon
    if interval:
        # Final disparities, and the exact stress of the final configuration.
        s_exact = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                h = alpha + beta * shifted[i, j]
                dhat[i, j] = h
                dhat[j, i] = h
                s = 0.0
                for c in range(k):
                    t = x[i, c] - x[j, c]
                    s += t * t
                wij = w[i, j] if weighted else 1.0
                s_exact += wij * (h - math.sqrt(s)) ** 2
        snon = s_exact / n_pairs
        hist[it] = snon
    return snon, it, converged


@njit(cache=True)
def run_batch(
    x,
    dhat,
    w,
    weighted,
    vplus,
    shifted,
    moments,
    interval,
    max_iter,
    eps,
    sigma,
    n_iter,
    converged,
    hist,
    scratch,
    rep,
    grouped,
):  # pragma: no cover
    """Every item of a flat batch, in place: x [M, N, k] (the starts, overwritten by the results),
    dhat [M, N, N] (normalised dissimilarities, overwritten by the final disparities),
    w/vplus/shifted [M, N, N] (dummies [M, 1, 1] when unused), moments [M, 3]; outputs sigma [M],
    n_iter [M] int64, converged [M] bool, hist [M, max_iter + 1]; scratch [5, N, k]; rep [M, N] int64
    (each point's group representative; [M, 1] and ``grouped`` False when nothing coincides)."""
    for b in range(x.shape[0]):
        s, it, conv = _run_item(
            x[b],
            dhat[b],
            w[b],
            weighted,
            vplus[b],
            shifted[b],
            moments[b],
            interval,
            max_iter,
            eps,
            hist[b],
            scratch,
            rep[b],
            grouped,
        )
        sigma[b] = s
        n_iter[b] = it
        converged[b] = conv
