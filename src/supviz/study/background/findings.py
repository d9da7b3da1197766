"""Section A's findings: the paper's background claims against supviz's own toy models (A1-A3).

Pure functions of the run's ``cells`` table (:mod:`supviz.study.verdicts` has the shared rules,
:mod:`supviz.study.stats` the intervals and the verdict they give).

- A1: the antipodal pair, judged on the lowest-loss of several seeds;
- A2: packing grows with sparsity: Spearman rho(1/p, features kept) of each seed's sweep, its median over seeds
  with a bootstrap interval over seeds (the resampling unit of a property of one trained model);
- A3: dimensions per feature fall with sparsity (rho over the p values, Fieller interval), and feature
  dimensionalities stick at a few fractions: the share of D_i near them against the share that D_i spread
  uniformly over [0, 1] would give by chance (:func:`sticky_chance`, 0.5 for the paper's seven fractions).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.sources import source_for
from supviz.study.stats import NOT_ENOUGH, bootstrap_interval, interval_verdict, stratified_spearman, wilson_interval
from supviz.study.verdicts import RHO_STRONG, fmt, spearman

#: Fewest A1 trainings per probability from which the optimum is claimed (one training can stop in a local minimum).
A1_MIN_SEEDS = 3
#: The feature dimensionalities Elhage et al. (2022) found "sticky" (their feature-dimensionality figure).
STICKY = (1.0, 3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8, 1 / 3)
#: A dimensionality D_i is near a sticky fraction f when |D_i - f| < STICKY_TOL.
STICKY_TOL = 0.05


def near_sticky(dims: Any, fractions: Any = STICKY, tol: float = STICKY_TOL) -> np.ndarray:
    """Whether each dimensionality in ``dims`` ``[k]`` lies within ``tol`` of one of ``fractions`` (bool ``[k]``)."""
    d = np.asarray(dims, dtype=float).ravel()
    f = np.asarray(fractions, dtype=float).ravel()
    if d.size == 0:
        return np.zeros(0, dtype=bool)
    return np.min(np.abs(d[:, None] - f[None, :]), axis=1) < tol


def sticky_chance(fractions: Any = STICKY, tol: float = STICKY_TOL) -> float:
    """The chance that a dimensionality drawn uniformly from [0, 1] (the range of D_i) is :func:`near_sticky`:
    the length of the union of the intervals (f - tol, f + tol) clipped to [0, 1], computed exactly by merging them.
    For the paper's seven fractions and tol = 0.05 it is 0.5."""
    iv = sorted((max(0.0, float(f) - tol), min(1.0, float(f) + tol)) for f in np.ravel(fractions))
    total, lo, hi = 0.0, None, None
    for a, b in iv:
        if b <= a:
            continue
        if hi is None or a > hi:
            total += (hi - lo) if hi is not None else 0.0
            lo, hi = a, b
        else:
            hi = max(hi, b)
    return total + ((hi - lo) if hi is not None else 0.0)


def a1_antipodal(cells: Any) -> Finding:
    """A1: two features in one dimension are an antipodal pair at the sparsest p and not at the densest.

    The verdict reads the lowest-loss training of each p, as the paper does (its optimum; fewer than
    :data:`A1_MIN_SEEDS` trainings: not enough evidence): 'supported' when its cosine is below -0.9 at the sparsest
    p and not at the densest, 'partly' when below -0.5 at the sparsest, else 'not supported'. Its n and uncertainty
    are the trainings' (unit: seeds): the Finding's estimate is the share of the trainings at the sparsest p that
    reach the antipodal pair (cosine < -0.9, column ``seeds_antipodal``) with its 95% Wilson interval
    (:func:`~supviz.study.stats.wilson_interval`), against 0 (no training finds it; null) and the threshold 0 (the
    lowest-loss one can only be antipodal if some training is). The best training's loss is set beside the analytic
    loss of the antipodal pair at that p (:func:`supviz.toy.model.antipodal_optimum`).
    """
    from supviz.toy.model import antipodal_optimum

    a1 = cells[cells["model"] == "A1"].sort_values("p", ascending=False)
    cos = a1["cosine_01"].to_numpy(dtype=float)
    ps = a1["p"].to_numpy(dtype=float)
    seeds = int(a1["seeds"].iloc[0]) if "seeds" in a1 and len(a1) else 1
    dense, sparse = (cos[0], cos[-1]) if len(cos) else (np.nan, np.nan)
    verdict = (
        "n/a"
        if not np.isfinite(sparse)
        else NOT_ENOUGH
        if seeds < A1_MIN_SEEDS
        else "supported"
        if sparse < -0.9 and not (np.isfinite(dense) and dense < -0.9)
        else "partly"
        if sparse < -0.5
        else "not supported"
    )
    per_seed = ""
    k_sparse = None
    if "seeds_antipodal" in a1 and len(a1) and np.isfinite(float(a1["seeds_antipodal"].iloc[-1])):
        k_sparse = int(a1["seeds_antipodal"].iloc[-1])
        per_seed = (
            " Of the "
            + str(seeds)
            + " trainings per p, antipodal (cosine < -0.9): "
            + ", ".join(
                f"p = {p:g}: {int(k)} (losses {ls})" for p, k, ls in zip(ps, a1["seeds_antipodal"], a1["loss_by_seed"])
            )
            + "."
        )
    share, ci = float("nan"), (float("nan"), float("nan"))
    if k_sparse is not None:
        share, ci = k_sparse / seeds, wilson_interval(k_sparse, seeds)
        per_seed += (
            f" At the sparsest p, {k_sparse} of {seeds} trainings reach the antipodal pair ({fmt(share, 2)}; 95% "
            f"Wilson interval {fmt(ci[0], 2)} to {fmt(ci[1], 2)} over seeds): the lowest-loss one is the paper's "
            "reading, and a single training would find the pair with that probability."
        )
    if len(ps) and "final_loss" in a1 and np.isfinite(float(a1["final_loss"].iloc[-1])):
        best, ideal = float(a1["final_loss"].iloc[-1]), antipodal_optimum(float(ps[-1]))
        per_seed += (
            f" Its loss {fmt(best)} against the analytic loss of the antipodal pair at p = {ps[-1]:g}, {fmt(ideal)} "
            f"(best norm and bias; ratio {fmt(best / ideal)}; the training loss is a mean over its last batches, so "
            "it scatters around the expectation)."
        )
    return Finding(
        "With two features in one dimension, sparse features are stored as an antipodal pair (superposition); dense "
        "features are not.",
        f"Lowest-loss training of {seeds} per p, cosine between the two features' weights: "
        f"{', '.join(f'p = {p:g}: {fmt(c)}' for p, c in zip(ps, cos))} (n/a = one feature dropped, norm < 0.001)."
        + per_seed,
        verdict,
        key="A1-antipodal",
        n_used=seeds,
        unit="seeds (trainings at the sparsest p)",
        estimate=share if k_sparse is not None else float(sparse),
        interval=ci if k_sparse is not None else None,
        null=0.0 if k_sparse is not None else None,
        threshold=0.0 if k_sparse is not None else -0.9,
        comparison=(
            f"the lowest-loss training's cosine at the sparsest p (p = {ps[-1]:g}: {fmt(sparse)}) below -0.9 and at "
            f"the densest (p = {ps[0]:g}: {fmt(dense)}) not, as the paper reads it; estimate: the share of the "
            f"{seeds} trainings at p = {ps[-1]:g} that reach the antipodal pair, with its Wilson interval"
            if k_sparse is not None
            else f"cosine of the lowest-loss training at the sparsest p (p = {ps[-1]:g}) against -0.9; the "
            "trainings' own cosines were not recorded"
        )
        if len(ps)
        else "",
        n_left_out=int((~np.isfinite(cos)).sum()),
        figures=["A1"],
        source=source_for("A1"),
    )


def _by_seed(text: Any) -> np.ndarray:
    """A space-separated per-seed column (``"5 6 5"``) as floats; empty for a missing value."""
    return np.array([float(v) for v in str(text).split()], dtype=float) if isinstance(text, str) else np.array([])


def a2_packing(cells: Any) -> Finding:
    """A2: sparser features, more of them kept (||W_i|| > 0.5), more than m at the sparsest p.

    Per seed s, rho_s = Spearman(1/p, features kept) over the sweep's p; estimate: the median of rho_s, with its 95%
    bootstrap interval over seeds; :func:`~supviz.study.stats.interval_verdict` against :data:`RHO_STRONG` (fewer than
    :data:`~supviz.study.stats.MIN_N` seeds: not enough evidence). 'supported' also needs the lowest-loss model at
    the sparsest p to keep more than m features (superposition); without it 'partly'.
    """
    a2 = cells[cells["model"] == "A2"].sort_values("p", ascending=False)
    k = a2["n_norm_gt_half"].to_numpy(dtype=float)
    ps = a2["p"].to_numpy(dtype=float)
    m = int(a2["m"].iloc[0]) if len(a2) else 0
    n = int(a2["n_features"].iloc[0]) if len(a2) else 0
    if "count_by_seed" in a2 and len(a2):
        per = [_by_seed(t) for t in a2["count_by_seed"]]
        n_seeds = min((len(c) for c in per), default=0)
        counts = np.array([c[:n_seeds] for c in per]).reshape(len(a2), n_seeds)  # (p, seed)
    else:  # one model per p: one seed
        n_seeds, counts = 1, k[:, None]
    rhos = np.array([spearman(1.0 / ps, counts[:, s]) for s in range(n_seeds)]) if len(a2) else np.array([])
    rhos = rhos[np.isfinite(rhos)]
    est = float(np.median(rhos)) if rhos.size else float("nan")
    interval = bootstrap_interval(rhos) if rhos.size else (float("nan"), float("nan"))
    verdict = interval_verdict(est, interval, RHO_STRONG, claimed="above", n=int(rhos.size))
    packed = bool(len(k)) and k[-1] > m
    if verdict == "supported" and not packed:
        verdict = "partly"
    per_p = "; ".join(f"p = {p:g}: {' '.join(str(int(v)) for v in row)}" for p, row in zip(ps, counts))
    seeds_text = f" Per seed: {per_p}." if n_seeds > 1 else ""
    return Finding(
        "As features get sparser the model packs more features into the same dimensions, in superposition.",
        f"Features with ‖W_i‖ > 0.5 (of {n}, m = {m}) in the lowest-loss of {n_seeds} training(s) per p: "
        + ", ".join(f"p = {p:g}: {int(v)}" for p, v in zip(ps, k))
        + f" ({'more' if packed else 'not more'} than m at the sparsest p). Spearman rho(1/p, features kept) of "
        f"each seed's sweep: {', '.join(fmt(r) for r in rhos) or 'undefined'}; median {fmt(est)} "
        f"[95% interval {fmt(interval[0])}, {fmt(interval[1])}, bootstrap over seeds]." + seeds_text,
        verdict,
        key="A2-packing",
        n_used=int(rhos.size),
        unit="seeds",
        estimate=est,
        interval=interval,
        threshold=RHO_STRONG,
        comparison=f"median over seeds of Spearman rho(1/p, features with ‖W_i‖ > 0.5) above {RHO_STRONG:g}, and more "
        "than m features at the sparsest p",
        figures=["A2"],
        source=source_for("A2"),
    )


def a3_dims(cells: Any) -> Finding:
    """A3: dimensions per feature m / ||W||_F^2 fall as sparsity grows.

    Spearman rho(1/p, m / ||W||_F^2) over the p values (one model each), with Fieller, Hartley & Pearson's interval
    (:func:`~supviz.study.stats.stratified_spearman`, one stratum); verdict against -:data:`RHO_STRONG`."""
    a3 = cells[cells["model"] == "A3"].sort_values("p", ascending=False)
    inv = 1.0 / a3["p"].to_numpy(dtype=float)
    dpf = a3["dims_per_feature"].to_numpy(dtype=float)
    st = stratified_spearman(inv, dpf, np.zeros(len(a3)))
    verdict = interval_verdict(st.rho, st.interval, -RHO_STRONG, claimed="below", n=st.n)
    ends = (
        f"m / ‖W‖²_F goes from {fmt(dpf[0])} (1/p = {fmt(inv[0])}) to {fmt(dpf[-1])} (1/p = {fmt(inv[-1])})"
        if len(dpf)
        else "no A3 model"
    )
    return Finding(
        "Dimensions per feature fall as sparsity grows.",
        f"{ends}; Spearman rho with 1/p {fmt(st.rho)} [95% interval {fmt(st.interval[0])}, {fmt(st.interval[1])}] "
        f"over {st.n} p values.",
        verdict,
        key="A3-dims",
        n_used=st.n,
        unit="p values (one model each)",
        estimate=st.rho,
        interval=st.interval,
        threshold=-RHO_STRONG,
        comparison=f"Spearman rho(1/p, m / ‖W‖²_F) below -{RHO_STRONG:g}",
        n_left_out=int(len(a3) - st.n),
        figures=["A3"],
        source=source_for("A3"),
    )


def a3_sticky(cells: Any) -> Finding:
    """A3: feature dimensionalities D_i cluster at a few fractions (:data:`STICKY`).

    Estimate: the mean over p values (the models; those with a represented feature) of the share of D_i within
    :data:`STICKY_TOL` of a sticky fraction, with its 95% bootstrap interval over the p values; null: the share by
    chance, :func:`sticky_chance` (D_i uniform on [0, 1]). 'supported' only when the whole interval lies above chance.
    """
    a3 = cells[cells["model"] == "A3"].sort_values("p", ascending=False)
    cnt = a3["n_dims"].to_numpy(dtype=float)
    share = a3["sticky_share"].to_numpy(dtype=float)
    # a model whose dimensions per feature (m / ||W||_F^2, the mean D_i) lie below every sticky fraction cannot
    # show them: its share is 0 by construction (the sparse p values of a small model), so it says nothing
    floor = min(STICKY) - STICKY_TOL
    dims = a3["dims_per_feature"].to_numpy(dtype=float) if "dims_per_feature" in a3 else np.full(len(a3), np.inf)
    below = np.isfinite(dims) & (dims < floor)
    ok = np.isfinite(share) & (cnt > 0) & ~below
    est = float(np.mean(share[ok])) if ok.any() else float("nan")
    interval = bootstrap_interval(share[ok], np.mean)
    chance = sticky_chance()
    verdict = interval_verdict(est, interval, chance, claimed="above", n=int(ok.sum()))
    pooled = float(np.sum(share[ok] * cnt[ok]) / np.sum(cnt[ok])) if ok.any() else float("nan")
    zero = int(np.sum(share[ok] == 0))
    frac = ", ".join(("1" if f == 1 else f"{f:.3g}") for f in STICKY)
    return Finding(
        "Feature dimensionalities cluster at a few fractions (1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3).",
        f"Share of the represented features' D_i within {STICKY_TOL:g} of a sticky fraction ({frac}): mean over "
        f"{int(ok.sum())} p values {fmt(est)} [95% interval {fmt(interval[0])}, {fmt(interval[1])}, bootstrap over p] "
        f"(pooled over features {fmt(pooled)}); none near one in {zero} of the {int(ok.sum())} p values. By chance "
        f"(D_i uniform on [0, 1]) the share is {fmt(chance)}."
        + (
            f" Left out: {int(below.sum())} p values whose dimensions per feature (m / ||W||_F²) are below "
            f"{fmt(floor, 2)}, under every sticky fraction: their share is 0 by construction."
            if below.any()
            else ""
        ),
        verdict,
        key="A3-sticky",
        n_used=int(ok.sum()),
        unit="p values (one model each)",
        estimate=est,
        interval=interval,
        null=chance,
        threshold=chance,
        comparison=f"mean share of D_i within {STICKY_TOL:g} of a sticky fraction against its chance level",
        n_left_out=int(len(a3) - ok.sum()),
        figures=["A3"],
        source=source_for("A3"),
    )
