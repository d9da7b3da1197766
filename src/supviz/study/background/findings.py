"""Section A's findings: the paper's background claims against supviz's own toy models (A1-A3).

Pure functions of the run's ``cells`` table (:mod:`supviz.study.verdicts` has the shared rules).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.stats import NOT_ENOUGH
from supviz.study.verdicts import fmt, spearman

#: Fewest A1 trainings per probability from which the optimum is claimed (one training can stop in a local minimum).
A1_MIN_SEEDS = 3


def a1_antipodal(cells: Any) -> Finding:
    """A1: two features in one dimension are an antipodal pair at the sparsest p and not at the densest.

    Judged on the lowest-loss training of each p (the optimum; ``seeds`` trainings, the resampling unit of a
    property of one trained model); fewer than :data:`A1_MIN_SEEDS` seeds: not enough evidence.
    """
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
    if "seeds_antipodal" in a1:
        per_seed = (
            " Of the "
            + str(seeds)
            + " trainings per p, antipodal (cosine < -0.9): "
            + ", ".join(
                f"p = {p:g}: {int(k)} (losses {ls})" for p, k, ls in zip(ps, a1["seeds_antipodal"], a1["loss_by_seed"])
            )
            + "."
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
        unit="seeds per p",
        estimate=float(sparse),
        threshold=-0.9,
        comparison=f"cosine of the lowest-loss training at the sparsest p (p = {ps[-1]:g}) against -0.9"
        if len(ps)
        else "",
        n_left_out=int((~np.isfinite(cos)).sum()),
        figures=["A1"],
    )


def a2_packing(cells: Any) -> Finding:
    """A2: sparser features, more of them kept (||W_i|| > 0.5), more than m at the sparsest p."""
    a2 = cells[cells["model"] == "A2"].sort_values("p", ascending=False)
    k = a2["n_norm_gt_half"].to_numpy(dtype=float)
    m = int(a2["m"].iloc[0]) if len(a2) else 0
    n = int(a2["n_features"].iloc[0]) if len(a2) else 0
    verdict = (
        "n/a"
        if len(k) < 2
        else "supported"
        if k[-1] > k[0] and k[0] <= m + 1 and k[-1] > m
        else "partly"
        if k[-1] > k[0]
        else "not supported"
    )
    return Finding(
        "As features get sparser the model packs more features into the same dimensions, in superposition.",
        f"Features with ‖W_i‖ > 0.5 (of {n}, m = {m}): "
        + ", ".join(f"p = {p:g}: {int(v)}" for p, v in zip(a2["p"], k))
        + ".",
        verdict,
        key="A2-packing",
        n_used=len(k),
        figures=["A2"],
    )


def a3_sticky(cells: Any) -> Finding:
    """A3: dimensions per feature fall with sparsity; feature dimensionalities stick at a few fractions."""
    a3 = cells[cells["model"] == "A3"].sort_values("p", ascending=False)
    inv = 1.0 / a3["p"].to_numpy(dtype=float)
    dpf = a3["dims_per_feature"].to_numpy(dtype=float)
    cnt = a3["n_dims"].to_numpy(dtype=float)
    share = a3["sticky_share"].to_numpy(dtype=float)
    ok = np.isfinite(share) & (cnt > 0)
    near = float(np.sum(share[ok] * cnt[ok]) / np.sum(cnt[ok])) if ok.any() else float("nan")
    rho = spearman(inv, dpf)
    verdict = (
        "n/a"
        if not np.isfinite(rho)
        else "supported"
        if rho < -0.5 and near > 0.5
        else "partly"
        if rho < 0
        else "not supported"
    )
    return Finding(
        "Dimensions per feature fall as sparsity grows, and feature dimensionalities cluster at a few fractions.",
        f"m / ‖W‖²_F goes from {fmt(dpf[0] if len(dpf) else np.nan)} (1/p = {fmt(inv[0] if len(inv) else np.nan)}) to "
        f"{fmt(dpf[-1] if len(dpf) else np.nan)} (1/p = {fmt(inv[-1] if len(inv) else np.nan)}), Spearman rho with 1/p "
        f"{fmt(rho)}; {fmt(100 * near)}% of the represented features' D_i lie within 0.05 of a sticky fraction "
        "(1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3).",
        verdict,
        key="A3-sticky",
        n_used=len(a3),
        figures=["A3"],
    )
