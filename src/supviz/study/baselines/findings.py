"""Section B's findings: what an undistorted picture of diag(N) looks like (B1-B5).

Pure functions of the run's ``panels`` table (:mod:`supviz.study.verdicts` has the shared rules).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.verdicts import RHO_STRONG, defined, fmt, param, rho_verdict, spearman


def b1_disc(panels: Any) -> Finding:
    """B1: ratio-MDS stress grows with N and the picture becomes a disc."""
    b1 = panels[panels["experiment"] == "B1"].sort_values("n_points")
    ns = b1["n_points"].to_numpy(dtype=float)
    st = b1["stress1_ratio"].to_numpy(dtype=float)
    cv = b1["radius_cv"].to_numpy(dtype=float)
    rho = spearman(ns, st)
    return Finding(
        "As N grows the MDS optimum becomes a uniform disc / ring and stress increases dramatically.",
        f"Stress-1 by N: {', '.join(f'{int(n)}: {fmt(s)}' for n, s in zip(ns, st))} (Spearman rho with N {fmt(rho)}). "
        f"Radius CV (0 = ring, about 0.35 = uniform disc) at the largest N: {fmt(cv[-1] if len(cv) else np.nan)}.",
        "n/a" if not np.isfinite(rho) else "supported" if rho > 0.8 else "partly" if rho > 0 else "not supported",
        key="B1-disc",
        method="MDS",
        n_used=int(np.isfinite(st).sum()),
        n_left_out=int((~np.isfinite(st)).sum()),
        figures=["B1"],
    )


def b2_neighbors(panels: Any) -> Finding:
    """B2: the distance to the MDS baseline falls as n_neighbors grows, more than with min_dist."""
    b2 = panels[panels["experiment"] == "B2"]
    ok, left, why = defined(b2, "procrustes_baseline")
    nn, md = param(ok, "n_neighbors"), param(ok, "min_dist")
    pb = ok["procrustes_baseline"].to_numpy(dtype=float)
    r_nn, r_md = spearman(nn, pb), spearman(md, pb)
    verdict = (
        "n/a"
        if not np.isfinite(r_nn)
        else "supported"
        if r_nn < -RHO_STRONG and abs(r_nn) > abs(np.nan_to_num(r_md))
        else "partly"
        if r_nn < 0
        else "not supported"
    )
    return Finding(
        "UMAP: n_neighbors is the relevant parameter; the bias decreases as it increases.",
        f"Procrustes distance to the MDS baseline against n_neighbors: Spearman rho {fmt(r_nn)}; against min_dist: "
        f"{fmt(r_md)} (over {len(ok)} panels{why}).",
        verdict,
        key="B2-n-neighbors",
        method="UMAP",
        n_used=len(ok),
        n_left_out=left,
        figures=["B2"],
    )


def b5_across_n(panels: Any) -> Finding:
    """B3 / B5: UMAP across N stays near the MDS picture; t-SNE (the study's settings) does not."""
    b3, left3, why3 = defined(panels[panels["experiment"] == "B3"], "procrustes_baseline")
    b5, left5, why5 = defined(panels[panels["experiment"] == "B5"], "procrustes_baseline")
    b5x = panels[panels["experiment"] == "B5x"]
    m3 = float(b3["procrustes_baseline"].median()) if len(b3) else float("nan")
    m5 = float(b5["procrustes_baseline"].median()) if len(b5) else float("nan")
    coll = int(b5x["collapsed"].sum()) if len(b5x) else 0
    exact = (
        f" With exact affinities {coll} of {len(b5x)} t-SNE pictures collapsed to one spot: the exact optimum, since "
        "every pair of diag(N) has the same affinity; the artifacts the study saw come from its Barnes-Hut "
        "approximation and sparse neighbour affinities."
        if len(b5x)
        else ""
    )
    return Finding(
        "UMAP across N looks very similar to MDS, with some noise; t-SNE across N introduces major artifacts.",
        f"Median Procrustes distance to the MDS baseline: UMAP (B3) {fmt(m3)} over {len(b3)} panels{why3}; t-SNE with "
        f"the study's R settings (B5) {fmt(m5)} over {len(b5)} panels{why5}." + exact,
        "n/a" if not (np.isfinite(m3) and np.isfinite(m5)) else "supported" if m3 < m5 else "not supported",
        key="B5-tsne-across-n",
        method="t-SNE",
        n_used=len(b3) + len(b5),
        n_left_out=left3 + left5,
        figures=["B3", "B5"],
    )


def b4_perplexity(panels: Any) -> Finding:
    """B4: low perplexity, more distortion (the study's settings); the exact optimum ignores perplexity."""
    b4 = panels[panels["experiment"] == "B4"]
    ok, left, why = defined(b4, "procrustes_baseline")
    ok = ok.assign(_perp=param(ok, "perplexity")).sort_values("_perp")
    perp, pb = ok["_perp"].to_numpy(dtype=float), ok["procrustes_baseline"].to_numpy(dtype=float)
    r = spearman(perp, pb)
    ends = (
        f"{fmt(pb[0])} at perplexity {perp[0]:g}, {fmt(pb[-1])} at {perp[-1]:g}"
        if len(pb)
        else "undefined at every perplexity"
    )
    b4x = panels[panels["experiment"] == "B4x"]
    exact = ""
    if len(b4x):
        row = b4x.iloc[0]
        state = "collapsed to one spot, the exact optimum" if bool(row["collapsed"]) else "not collapsed"
        spread = float(row["spread"]) if "spread" in b4x else float("nan")
        exact = (
            f" With exact affinities the picture is the same at every perplexity (P_ij = 1 / (N (N − 1)) whatever the "
            f"bandwidth) and {state} (spread {spread:.0e}): perplexity matters only through the approximation the "
            "study's t-SNE made."
        )
    return Finding(
        "t-SNE: low perplexity introduces substantial artifacts.",
        f"With the study's R settings, Procrustes distance to the MDS baseline: {ends} (Spearman rho with perplexity "
        f"{fmt(r)}, over {len(ok)} panels{why}).{exact}",
        rho_verdict(r, negative=True),
        key="B4-perplexity",
        method="t-SNE",
        n_used=len(ok),
        n_left_out=left,
        figures=["B4"],
    )
