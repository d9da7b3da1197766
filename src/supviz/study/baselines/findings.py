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
from supviz.study.stats import NOT_ENOUGH, bootstrap_interval, interval_verdict, stratified_spearman
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

    Two halves, each a median over N with a 95% bootstrap interval over N (:func:`~supviz.study.stats.
    interval_verdict`):

    - *UMAP looks like MDS, with some noise*: per N, UMAP's Procrustes distance to the MDS baseline minus MDS's own
      (``procrustes_mds_rerun``: ratio MDS of the same diag(N) from a random start, :func:`supviz.study.baselines.
      section.mds_rerun_distances`); claimed below MDS's own noise level (the median of those distances over N):
      UMAP is no farther from MDS than MDS's own pictures are from each other, plus at most as much again;
    - *t-SNE introduces major artifacts*: per N, t-SNE's distance minus UMAP's; claimed above UMAP's noise floor on
      diag(N) (:func:`~supviz.study.embeddings.findings.noise_floor`).

    The verdict is their conjunction: 'not supported' when either half is not, 'supported' when both are, 'n/a' when
    a half could not be measured (no MDS reruns in the tables), otherwise not enough evidence; its words name the half
    that fails. The Finding carries the half that decides: the one that
    fails (or, if none fails, the one whose interval straddles); with both supported, the t-SNE half.
    """
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
    v_tsne = interval_verdict(est, interval, floor, claimed="above", n=int(d.size)) if np.isfinite(floor) else "n/a"
    # the UMAP half: UMAP's distance to the MDS baseline against MDS's own (a rerun from a random start)
    if "procrustes_mds_rerun" in b3:
        r = b3.groupby("n_points")["procrustes_mds_rerun"].median()
    else:
        r = u * np.nan
    nu = [n for n in u.index if np.isfinite(float(r.get(n, np.nan)))]
    du = np.array([u[n] - r[n] for n in nu], dtype=float)
    est_u = float(np.median(du)) if du.size else float("nan")
    interval_u = bootstrap_interval(du)
    mds_noise = float(np.median([r[n] for n in nu])) if nu else float("nan")
    v_umap = (
        interval_verdict(est_u, interval_u, mds_noise, claimed="below", n=int(du.size))
        if np.isfinite(mds_noise)
        else "n/a"
    )
    halves = {"UMAP": v_umap, "t-SNE": v_tsne}
    if "not supported" in halves.values():
        verdict = "not supported"  # one half failing fails the claim, whatever the other
    elif "n/a" in halves.values():
        verdict = "n/a"
    elif all(v == "supported" for v in halves.values()):
        verdict = "supported"
    else:
        verdict = NOT_ENOUGH
    failing = [h for h, v in halves.items() if v == "not supported"] or [
        h for h, v in halves.items() if v not in ("supported", "n/a")
    ]
    decide = failing[0] if failing else "t-SNE"
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
    words = {
        "supported": "Both halves hold.",
        "not supported": " and ".join(
            {
                "UMAP": "UMAP is farther from MDS than MDS's own noise allows",
                "t-SNE": "t-SNE adds no major artifact over UMAP",
            }[h]
            for h in failing
        )
        + ": the claim fails on "
        + (" and ".join(f"its {h} half" for h in failing))
        + ".",
        NOT_ENOUGH: "The intervals do not settle " + " and ".join(f"the {h} half" for h in failing) + ".",
        "n/a": "A half could not be measured (no MDS reruns or no UMAP noise floor in this run).",
    }[verdict]
    umap_text = (
        " UMAP against MDS's own noise: per N, UMAP's distance minus that of ratio MDS from a random start: "
        + ", ".join(f"{int(n)}: {fmt(v, 2)}" for n, v in zip(nu, du))
        + f"; median {fmt(est_u)} {_interval_text(interval_u)}, bootstrap over N, against MDS's own noise level "
        f"{fmt(mds_noise)} (median distance between the two MDS pictures): {v_umap}."
        if nu
        else " UMAP against MDS's own noise: not measured (no MDS rerun in this run's tables)."
    )
    if decide == "UMAP":
        fields = dict(
            estimate=est_u,
            interval=interval_u,
            n_used=int(du.size),
            null=0.0,
            threshold=mds_noise,
            comparison="the half that decides, UMAP: median over N of P(UMAP) - P(MDS from a random start) below MDS's "
            f"own noise level (null 0: as near MDS as MDS itself); the t-SNE half ({v_tsne}): median over N of "
            f"P(t-SNE) - P(UMAP) {fmt(est)} {_interval_text(interval)} against UMAP's noise floor {fmt(floor)}",
        )
    else:
        fields = dict(
            estimate=est,
            interval=interval,
            n_used=int(d.size),
            null=0.0,
            threshold=floor,
            comparison="the half that decides, t-SNE: median over N of P(t-SNE) - P(UMAP) above UMAP's noise floor on "
            f"diag(N) (null 0: no more artifacts than UMAP); the UMAP half ({v_umap}): median over N of P(UMAP) - "
            f"P(MDS from a random start) {fmt(est_u)} {_interval_text(interval_u)} below MDS's own noise level "
            f"{fmt(mds_noise)}",
        )
    return Finding(
        "UMAP across N looks very similar to MDS, with some noise; t-SNE across N introduces major artifacts.",
        f"Procrustes distance to the MDS baseline, median over N: UMAP (B3) {fmt(_median(u))} over {len(b3)} "
        f"panels{why3}; t-SNE with the study's R settings (B5) {fmt(_median(t))} over {len(b5)} panels{why5}."
        + umap_text
        + " t-SNE minus UMAP per N: "
        + (", ".join(f"{int(n)}: {fmt(v, 2)}" for n, v in zip(common, d)) or "no N drawn by both")
        + f"; median {fmt(est)} {_interval_text(interval)}, bootstrap over N"
        + (f"; t-SNE is nearer the baseline at N = {', '.join(map(str, better))}" if better else "")
        + f". UMAP's noise floor (its median distance on diag(N)) is {fmt(floor)}: a major artifact is an excess "
        f"above it: {v_tsne}. {words}" + exact,
        verdict,
        key="B5-tsne-across-n",
        method="t-SNE",
        unit="N values",
        n_left_out=left3 + left5,
        figures=["B3", "B5"],
        source=source_for("B5"),
        **fields,
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
