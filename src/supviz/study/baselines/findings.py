"""Section B's findings: what an undistorted picture of diag(N) looks like (B1-B5).

Pure functions of the run's ``panels`` table (:mod:`supviz.study.verdicts` has the shared rules,
:mod:`supviz.study.stats` the intervals and the verdict they give). Every trend is a Spearman rho with
Fieller, Hartley & Pearson's interval (:func:`~supviz.study.stats.stratified_spearman`; within the other
parameter's values where the sweep is a grid), read against :data:`~supviz.study.verdicts.RHO_STRONG`; UMAP across N
is read against MDS's own noise on diag(N), t-SNE across N by the shape of its pictures against MDS's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.sources import source_for
from supviz.study.stats import NOT_ENOUGH, bootstrap_interval, interval_verdict, stratified_spearman, wilson_interval
from supviz.study.verdicts import DISC_MIN, RHO_STRONG, RING_MAX, RING_MIN_POINTS, defined, fmt, param, spearman


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


#: "Across N": the share of the N values at which t-SNE's picture has a major artifact must lie above this (a
#: majority of the N values) for the t-SNE half to be 'supported'.
ACROSS_N_SHARE = 0.5


def major_artifact(radius_cv: Any, radius_cv_mds: Any, collapsed: Any) -> np.ndarray:
    """Whether a picture of diag(N) has one of the two major artifacts its t-SNE shows, per panel ``[n]`` (bool).

    - *collapse*: the picture is all at one spot (``collapsed``, the method's own verdict or points that coincide up
      to rounding);
    - *a ring where MDS draws a disc*: radius CV (:func:`~supviz.study.common.radial_stats`; scale-free and free of
      the point assignment, which Procrustes is not) below :data:`~supviz.study.verdicts.RING_MAX` while MDS's
      picture of the same N has a CV above :data:`~supviz.study.verdicts.DISC_MIN`.

    A NaN CV of a picture that is not collapsed is no artifact (the caller leaves such panels out).
    """
    cv = np.asarray(radius_cv, dtype=float)
    cv_mds = np.asarray(radius_cv_mds, dtype=float)
    ring = np.isfinite(cv) & np.isfinite(cv_mds) & (cv < RING_MAX) & (cv_mds > DISC_MIN)
    return np.asarray(collapsed, dtype=bool) | ring


def _tsne_half(b5: Any) -> dict[str, Any]:
    """The t-SNE half of :func:`b5_across_n`: its verdict and evidence from the B5 panels (see there)."""
    need = ("radius_cv", "radius_cv_mds")
    out: dict[str, Any] = {"verdict": "n/a", "share": float("nan"), "interval": (float("nan"),) * 2, "n": 0}
    out |= {"null": float("nan"), "left": len(b5), "text": "not measured (no radius CV of MDS's picture in the tables)"}
    if any(c not in b5 for c in need) or b5.empty:
        return out
    rows = b5.sort_values("n_points")
    coll = rows["collapsed"].fillna(False).to_numpy(dtype=bool)
    cv, cv_mds = rows["radius_cv"].to_numpy(dtype=float), rows["radius_cv_mds"].to_numpy(dtype=float)
    ns = rows["n_points"].to_numpy(dtype=int)
    # smaller sets are polygons, rings by construction; a picture with an undefined CV that is not collapsed, or no
    # MDS picture to read it against, says nothing
    use = (ns >= RING_MIN_POINTS) & np.isfinite(cv_mds) & (coll | np.isfinite(cv))
    art = major_artifact(cv, cv_mds, coll)[use]
    n = int(use.sum())
    out["left"] = int(len(rows) - n)
    if not n:
        out["text"] = f"no t-SNE picture of at least {RING_MIN_POINTS} points with MDS's picture beside it"
        return out
    k = int(art.sum())
    share = k / n
    ci = wilson_interval(k, n)
    rerun = rows["radius_cv_mds_rerun"].to_numpy(dtype=float)[use] if "radius_cv_mds_rerun" in rows else None
    null = float(np.mean(major_artifact(rerun, cv_mds[use], np.zeros(n, bool)))) if rerun is not None else 0.0
    verdict = interval_verdict(share, ci, ACROSS_N_SHARE, claimed="above", n=n)
    if verdict != "supported" and ci[0] > null:  # clearly at some N, not clearly at most: name them
        verdict = "partly"
    spreads = rows["spread"].to_numpy(dtype=float)[use] if "spread" in rows else np.full(n, np.nan)
    per = ", ".join(
        f"{int(N)}: " + ("collapsed" if c else f"CV {fmt(v, 2)} vs MDS {fmt(vm, 2)}, extent {s_:.2g}")
        for N, c, v, vm, s_ in zip(ns[use], coll[use], cv[use], cv_mds[use], spreads)
    )
    where = [int(N) for N, a_ in zip(ns[use], art) if a_]
    out.update(
        verdict=verdict,
        share=share,
        interval=ci,
        n=n,
        null=null,
        where=where,
        text=f"per N ({per}); a major artifact (collapse to one spot, or a ring, CV < {RING_MAX:g}, where MDS draws a "
        f"disc, CV > {DISC_MIN:g}) at {k} of {n} N values"
        + (f" (N = {', '.join(map(str, where))})" if where else "")
        + f": share {fmt(share, 2)} [95% Wilson interval {fmt(ci[0], 2)}, {fmt(ci[1], 2)}] against "
        f"{ACROSS_N_SHARE:g} (a majority of N); MDS from a random start shows one at a share of {fmt(null, 2)} "
        f"(its own noise)",
    )
    return out


def b5_across_n(panels: Any) -> Finding:
    """B3 / B5: UMAP across N stays near the MDS picture; t-SNE (the study's settings) introduces major artifacts.

    Two halves:

    - *UMAP looks like MDS, with some noise*: per N, UMAP's Procrustes distance to the MDS baseline minus MDS's own
      (``procrustes_mds_rerun``: ratio MDS of the same diag(N) from a random start, :func:`supviz.study.baselines.
      section.mds_reruns`); its median over N with a 95% bootstrap interval over N, claimed below MDS's own noise
      level (the median of those distances over N): UMAP is no farther from MDS than MDS's own pictures are from
      each other, plus at most as much again;
    - *t-SNE introduces major artifacts*: the artifacts t-SNE shows on diag(N) are a collapse and a thin ring where
      MDS draws a disc (:func:`major_artifact`); Procrustes cannot see either (it is scale-free, and with the points
      interchangeable it rates a thin ring about as far from MDS's disc as another disc). Per N of at least
      :data:`~supviz.study.verdicts.RING_MIN_POINTS` points (smaller sets are polygons, rings by construction),
      whether the t-SNE picture has one, against MDS's picture of the same N (``radius_cv_mds``); the estimate is
      the share of N values with one, its 95% Wilson interval over N values
      (:func:`~supviz.study.stats.wilson_interval`); 'supported' when the interval lies above
      :data:`ACROSS_N_SHARE`, 'partly' when it does not but lies above the null (the share at which MDS from a
      random start, ``radius_cv_mds_rerun``, shows one: its own noise), 'not supported' when it lies below the
      threshold and does not clear the null.

    The verdict is their conjunction: 'not supported' when either half is not, 'n/a' when a half could not be
    measured (no MDS reruns or MDS radius CVs in the tables: an older run), 'supported' when both are, 'partly' when
    one is partly and the other supported, otherwise not enough evidence; its words name the half that fails. The
    Finding carries the half that decides: the one that fails (the t-SNE half where both do), with both supported
    the t-SNE half.
    """
    b3, left3, why3 = defined(panels[panels["experiment"] == "B3"], "procrustes_baseline")
    b5_all = panels[panels["experiment"] == "B5"]
    b5, left5, why5 = defined(b5_all, "procrustes_baseline")
    b5x = panels[panels["experiment"] == "B5x"]
    u = b3.groupby("n_points")["procrustes_baseline"].median()
    t = b5.groupby("n_points")["procrustes_baseline"].median()
    tsne = _tsne_half(b5_all)
    v_tsne = tsne["verdict"]
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
    elif set(halves.values()) == {"supported", "partly"}:
        verdict = "partly"
    else:
        verdict = NOT_ENOUGH
    failing = [h for h, v in halves.items() if v == "not supported"] or [
        h for h, v in halves.items() if v not in ("supported", "n/a")
    ]
    decide = "t-SNE" if "t-SNE" in failing or not failing else failing[0]
    coll = int(b5x["collapsed"].sum()) if len(b5x) else 0
    exact = (
        f" With exact affinities {coll} of {len(b5x)} t-SNE pictures collapsed to one spot: an exact optimum, since "
        "every pair of diag(N) has the same affinity (for N ≥ 4 the only one; for N = 3 any equilateral triangle is "
        "one too); the artifacts the study saw come from its Barnes-Hut approximation and sparse neighbour "
        "affinities."
        if len(b5x)
        else ""
    )
    at = f"at N = {', '.join(map(str, tsne.get('where', [])))}"
    words = {
        "supported": "Both halves hold.",
        "partly": f"UMAP's half holds; t-SNE's major artifacts are clear {at}, but not at most N.",
        "not supported": " and ".join(
            {
                "UMAP": "UMAP is farther from MDS than MDS's own noise allows",
                "t-SNE": "t-SNE shows no major artifact beyond MDS's own noise at most N",
            }[h]
            for h in failing
        )
        + ": the claim fails on "
        + (" and ".join(f"its {h} half" for h in failing))
        + ".",
        NOT_ENOUGH: "The intervals do not settle "
        + " and ".join(f"the {h} half" for h in failing)
        + (f" (t-SNE's major artifacts are clear {at}, not at most N)" if v_tsne == "partly" else "")
        + ".",
        "n/a": "A half could not be measured (no MDS reruns or no radius CV of MDS's pictures in this run).",
    }[verdict]
    umap_text = (
        " UMAP against MDS's own noise: per N, UMAP's distance minus that of ratio MDS from a random start: "
        + ", ".join(f"{int(n)}: {fmt(v, 2)}" for n, v in zip(nu, du))
        + f"; median {fmt(est_u)} {_interval_text(interval_u)}, bootstrap over N, against MDS's own noise level "
        f"{fmt(mds_noise)} (median distance between the two MDS pictures): {v_umap}."
        if nu
        else " UMAP against MDS's own noise: not measured (no MDS rerun in this run's tables)."
    )
    ci_t = tsne["interval"]
    if decide == "UMAP":
        fields = dict(
            estimate=est_u,
            interval=interval_u,
            n_used=int(du.size),
            n_left_out=left3,
            unit="N values",
            null=0.0,
            threshold=mds_noise,
            comparison="the half that decides, UMAP: median over N of P(UMAP) - P(MDS from a random start) below MDS's "
            f"own noise level (null 0: as near MDS as MDS itself); the t-SNE half ({v_tsne}): share of N values with "
            f"a major artifact {fmt(tsne['share'], 2)} [95% interval {fmt(ci_t[0], 2)}, {fmt(ci_t[1], 2)}] against "
            f"{ACROSS_N_SHARE:g}",
        )
    else:
        fields = dict(
            estimate=tsne["share"],
            interval=ci_t,
            n_used=int(tsne["n"]),
            n_left_out=int(tsne["left"]),
            unit="N values",
            null=tsne["null"],
            threshold=ACROSS_N_SHARE,
            comparison=f"the half that decides, t-SNE: share of the N values (N ≥ {RING_MIN_POINTS}) at which t-SNE's "
            f"picture collapses or is a ring (CV < {RING_MAX:g}) where MDS's picture of the same N is a disc (CV > "
            f"{DISC_MIN:g}), above {ACROSS_N_SHARE:g} (95% Wilson interval over N values; null: the share for MDS from "
            f"a random start); the UMAP half ({v_umap}): median over N of P(UMAP) - P(MDS from a random start) "
            f"{fmt(est_u)} {_interval_text(interval_u)} below MDS's own noise level {fmt(mds_noise)}",
        )
    return Finding(
        "UMAP across N looks very similar to MDS, with some noise; t-SNE across N introduces major artifacts.",
        f"Procrustes distance to the MDS baseline, median over N: UMAP (B3) {fmt(_median(u))} over {len(b3)} "
        f"panels{why3}; t-SNE with the study's R settings (B5) {fmt(_median(t))} over {len(b5)} panels{why5}. "
        "Procrustes cannot see t-SNE's artifacts here (it is scale-free, and with interchangeable points it rates a "
        "thin ring about as far from MDS's disc as another disc), so they are read from the shape of the picture."
        + umap_text
        + f" t-SNE against MDS's picture of the same N, {tsne['text']}: {v_tsne}. Extent is the picture's width in "
        "t-SNE's own units (its kernel has width 1; far below 1 every pair looks alike to t-SNE, a near-collapse). "
        f"{words}" + exact,
        verdict,
        key="B5-tsne-across-n",
        method="t-SNE",
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
