"""Section B's findings: what an undistorted picture of diag(N) looks like (B1-B5).

Pure functions of the run's ``panels`` table (:mod:`supviz.study.verdicts` has the shared rules,
:mod:`supviz.study.stats` the intervals and the verdict they give). Every trend is a Spearman rho with
Fieller, Hartley & Pearson's interval (:func:`~supviz.study.stats.stratified_spearman`; within the other
parameter's values where the sweep is a grid), read against :data:`~supviz.study.verdicts.RHO_STRONG`; the
t-SNE / UMAP comparison across N is read against UMAP's own noise floor on diag(N).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.embeddings.findings import noise_floor
from supviz.study.sources import source_for
from supviz.study.stats import bootstrap_interval, interval_verdict, stratified_spearman
from supviz.study.verdicts import DISC_MIN, RHO_STRONG, RING_MAX, defined, fmt, param, spearman


def _median(v: Any) -> float:
    return float(np.median(v)) if len(v) else float("nan")


def _interval_text(interval: tuple[float, float]) -> str:
    return f"[95% interval {fmt(interval[0])}, {fmt(interval[1])}]"


def b1_disc(panels: Any) -> Finding:
    """B1: ratio-MDS stress grows with N and the picture becomes a disc (or a ring).

    Spearman rho(N, stress-1) over the N values with its interval, against :data:`RHO_STRONG`; 'supported' also needs
    the largest N's picture to be a disc (radius CV above :data:`DISC_MIN`) or a ring (below :data:`RING_MAX`),
    otherwise 'partly'."""
    b1 = panels[panels["experiment"] == "B1"].sort_values("n_points")
    ns = b1["n_points"].to_numpy(dtype=float)
    st_ = b1["stress1_ratio"].to_numpy(dtype=float)
    cv = b1["radius_cv"].to_numpy(dtype=float)
    st = stratified_spearman(ns, st_, np.zeros(len(b1)))
    verdict = interval_verdict(st.rho, st.interval, RHO_STRONG, claimed="above", n=st.n)
    last = cv[-1] if len(cv) else np.nan
    shape = "a disc" if last > DISC_MIN else "a ring" if last < RING_MAX else "neither a ring nor a disc"
    if verdict == "supported" and shape.startswith("neither"):
        verdict = "partly"
    return Finding(
        "As N grows the MDS optimum becomes a uniform disc / ring and stress increases dramatically.",
        f"Stress-1 by N: {', '.join(f'{int(n)}: {fmt(s)}' for n, s in zip(ns, st_))}; Spearman rho with N "
        f"{fmt(st.rho)} {_interval_text(st.interval)} over {st.n} N values. Radius CV (0 = ring, about 0.35 = uniform "
        f"disc) at the largest N: {fmt(last)}, {shape}.",
        verdict,
        key="B1-disc",
        method="MDS",
        n_used=st.n,
        unit="N values",
        estimate=st.rho,
        interval=st.interval,
        threshold=RHO_STRONG,
        comparison=f"Spearman rho(N, stress-1) above {RHO_STRONG:g}, and a disc or a ring at the largest N",
        n_left_out=int(len(b1) - st.n),
        figures=["B1"],
        source=source_for("B1"),
    )


def b2_neighbors(panels: Any) -> Finding:
    """B2: the distance to the MDS baseline falls as n_neighbors grows, more than with min_dist.

    rho(n_neighbors, P) within each min_dist (the sweep is a grid), combined, with its interval, against
    -:data:`RHO_STRONG`; 'supported' also needs it larger in size than rho(min_dist, P), otherwise 'partly'."""
    b2 = panels[panels["experiment"] == "B2"]
    ok, left, why = defined(b2, "procrustes_baseline")
    nn, md = param(ok, "n_neighbors"), param(ok, "min_dist")
    pb = ok["procrustes_baseline"].to_numpy(dtype=float)
    st = stratified_spearman(nn, pb, md)
    r_md = spearman(md, pb)
    verdict = interval_verdict(st.rho, st.interval, -RHO_STRONG, claimed="below", n=st.n)
    if verdict == "supported" and not abs(st.rho) > abs(np.nan_to_num(r_md)):
        verdict = "partly"
    per = ", ".join(f"min_dist {k:g}: {fmt(r, 2)}" for k, (r, _n) in st.per_stratum.items())
    return Finding(
        "UMAP: n_neighbors is the relevant parameter; the bias decreases as it increases.",
        f"Procrustes distance P to the MDS baseline against n_neighbors, Spearman rho within each min_dist ({per}), "
        f"combined: {fmt(st.rho)} {_interval_text(st.interval)}; against min_dist (over all panels): {fmt(r_md)} "
        f"(over {len(ok)} panels{why}).",
        verdict,
        key="B2-n-neighbors",
        method="UMAP",
        n_used=st.n,
        unit="panels",
        estimate=st.rho,
        interval=st.interval,
        threshold=-RHO_STRONG,
        comparison=f"Spearman rho(n_neighbors, P) within min_dist below -{RHO_STRONG:g}, and larger in size than "
        "rho(min_dist, P)",
        n_left_out=left,
        figures=["B2"],
        source=source_for("B2"),
    )


def b5_across_n(panels: Any) -> Finding:
    """B3 / B5: UMAP across N stays near the MDS picture; t-SNE (the study's settings) introduces major artifacts.

    Per N drawn by both, the excess d_N = P(t-SNE) - P(UMAP) of the distances to the MDS baseline; estimate: the
    median d_N with its bootstrap interval over the N values. 'Major' artifacts: an excess larger than UMAP's own
    noise floor on diag(N) (:func:`~supviz.study.embeddings.findings.noise_floor`), the threshold of
    :func:`~supviz.study.stats.interval_verdict`; null: 0 (no difference)."""
    b3, left3, why3 = defined(panels[panels["experiment"] == "B3"], "procrustes_baseline")
    b5, left5, why5 = defined(panels[panels["experiment"] == "B5"], "procrustes_baseline")
    b5x = panels[panels["experiment"] == "B5x"]
    u = b3.groupby("n_points")["procrustes_baseline"].median()
    t = b5.groupby("n_points")["procrustes_baseline"].median()
    common = sorted(set(u.index) & set(t.index))
    d = np.array([t[n] - u[n] for n in common], dtype=float)
    est = float(np.median(d)) if d.size else float("nan")
    interval = bootstrap_interval(d)
    floor = noise_floor(panels, "UMAP")
    verdict = interval_verdict(est, interval, floor, claimed="above", n=int(d.size)) if np.isfinite(floor) else "n/a"
    better = [int(n) for n, v in zip(common, d) if v < 0]
    coll = int(b5x["collapsed"].sum()) if len(b5x) else 0
    exact = (
        f" With exact affinities {coll} of {len(b5x)} t-SNE pictures collapsed to one spot: an exact optimum, since "
        "every pair of diag(N) has the same affinity (for N ≥ 4 the only one; for N = 3 any equilateral triangle is "
        "one too); the artifacts the study saw come from its Barnes-Hut approximation and sparse neighbour "
        "affinities."
        if len(b5x)
        else ""
    )
    return Finding(
        "UMAP across N looks very similar to MDS, with some noise; t-SNE across N introduces major artifacts.",
        f"Procrustes distance to the MDS baseline, median over N: UMAP (B3) {fmt(_median(u))} over {len(b3)} "
        f"panels{why3}; t-SNE with the study's R settings (B5) {fmt(_median(t))} over {len(b5)} panels{why5}. Per N, "
        "t-SNE minus UMAP: "
        + (", ".join(f"{int(n)}: {fmt(v, 2)}" for n, v in zip(common, d)) or "no N drawn by both")
        + f"; median {fmt(est)} {_interval_text(interval)}, bootstrap over N"
        + (f"; t-SNE is nearer the baseline at N = {', '.join(map(str, better))}" if better else "")
        + f". UMAP's noise floor (its median distance on diag(N)) is {fmt(floor)}: a major artifact is an excess "
        "above it." + exact,
        verdict,
        key="B5-tsne-across-n",
        method="t-SNE",
        n_used=int(d.size),
        unit="N values",
        estimate=est,
        interval=interval,
        null=0.0,
        threshold=floor,
        comparison="median over N of P(t-SNE) - P(UMAP) against UMAP's noise floor on diag(N)",
        n_left_out=left3 + left5,
        figures=["B3", "B5"],
        source=source_for("B5"),
    )


def b4_perplexity(panels: Any) -> Finding:
    """B4: low perplexity, more distortion (the study's settings); the exact optimum ignores perplexity.

    Spearman rho(perplexity, P) with its interval, against -:data:`RHO_STRONG` (the claim: P falls as perplexity
    grows)."""
    b4 = panels[panels["experiment"] == "B4"]
    ok, left, why = defined(b4, "procrustes_baseline")
    ok = ok.assign(_perp=param(ok, "perplexity")).sort_values("_perp")
    perp, pb = ok["_perp"].to_numpy(dtype=float), ok["procrustes_baseline"].to_numpy(dtype=float)
    st = stratified_spearman(perp, pb, np.zeros(len(ok)))
    verdict = interval_verdict(st.rho, st.interval, -RHO_STRONG, claimed="below", n=st.n)
    ends = (
        f"{fmt(pb[0])} at perplexity {perp[0]:g}, {fmt(pb[-1])} at {perp[-1]:g}"
        if len(pb)
        else "undefined at every perplexity"
    )
    b4x = panels[panels["experiment"] == "B4x"]
    exact = ""
    if len(b4x):
        row = b4x.iloc[0]
        optimum = (
            "the exact optimum" if int(row["n_points"]) >= 4 else "an exact optimum (so is any equilateral triangle)"
        )
        state = f"collapsed to one spot, {optimum}" if bool(row["collapsed"]) else "not collapsed"
        spread = float(row["spread"]) if "spread" in b4x else float("nan")
        exact = (
            f" With exact affinities the picture is the same at every perplexity (P_ij = 1 / (N (N − 1)) whatever the "
            f"bandwidth) and {state} (spread {spread:.0e}): perplexity matters only through the approximation the "
            "study's t-SNE made."
        )
    return Finding(
        "t-SNE: low perplexity introduces substantial artifacts.",
        f"With the study's R settings, Procrustes distance to the MDS baseline: {ends} (Spearman rho with perplexity "
        f"{fmt(st.rho)} {_interval_text(st.interval)}, over {len(ok)} panels{why}).{exact}",
        verdict,
        key="B4-perplexity",
        method="t-SNE",
        n_used=st.n,
        unit="panels",
        estimate=st.rho,
        interval=st.interval,
        threshold=-RHO_STRONG,
        comparison=f"Spearman rho(perplexity, P) below -{RHO_STRONG:g} (distortion falls as perplexity grows)",
        n_left_out=left,
        figures=["B4"],
        source=source_for("B4"),
    )
