"""Section B's findings: what an undistorted picture of diag(N) looks like (B1-B5).

Pure functions of the run's ``panels`` table (:mod:`supviz.study.verdicts` has the shared rules,
:mod:`supviz.study.stats` the intervals and the verdict they give). Every trend is a Spearman rho with
Fieller, Hartley & Pearson's interval (:func:`~supviz.study.stats.stratified_spearman`; within the other
parameter's values where the sweep is a grid), read against :data:`~supviz.study.verdicts.RHO_STRONG`; UMAP across N
is read against MDS's own noise on diag(N); t-SNE (B4 over perplexity, B5 across N) by the shape of its pictures
against MDS's (radius CV, extent, collapse by supviz's one collapse rule), B5 per N: each N is one deterministic
picture, a design point, not a sample of N values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.sources import source_for
from supviz.study.stats import NOT_ENOUGH, bootstrap_interval, interval_verdict, stratified_spearman
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


def collapsed_by_rule(collapsed: Any, spread: Any) -> np.ndarray:
    """Whether each picture ``[n]`` is collapsed by supviz's one collapse rule (:func:`supviz.dr.base.layout_collapsed`:
    every point within :data:`~supviz.dr.base.COLLAPSE_DIAMETER` of the others, in the method's own units): the
    panel's ``collapsed`` column (the layout's own verdict under that rule), or its ``spread`` (the largest per-axis
    range, the measure that rule reads) at or below the diameter where the column is missing. A picture a few
    thousandths wide (t-SNE of diag(60) with the study's settings: 0.0022) is *not* collapsed: its shape is still
    read (a thin ring there)."""
    from supviz.dr.base import COLLAPSE_DIAMETER

    s = np.asarray(spread, dtype=float) if spread is not None else None
    coll = np.asarray(collapsed, dtype=bool) if collapsed is not None else np.zeros(0 if s is None else s.size, bool)
    if s is None:
        return coll
    by_spread = np.isfinite(s) & (s <= COLLAPSE_DIAMETER)
    return (coll | by_spread) if coll.size else by_spread


def major_artifact(radius_cv: Any, radius_cv_mds: Any, collapsed: Any) -> np.ndarray:
    """Whether a picture of diag(N) has one of the two major artifacts its t-SNE shows, per panel ``[n]`` (bool).

    - *collapse*: the picture is all at one spot (``collapsed``: :func:`collapsed_by_rule`, supviz's one collapse
      rule);
    - *a ring where MDS draws a disc*: radius CV (:func:`~supviz.study.common.radial_stats`; scale-free and free of
      the point assignment, which Procrustes is not) below :data:`~supviz.study.verdicts.RING_MAX` while MDS's
      picture of the same N has a CV above :data:`~supviz.study.verdicts.DISC_MIN`.

    A NaN CV of a picture that is not collapsed is no artifact (the caller leaves such panels out).
    """
    cv = np.asarray(radius_cv, dtype=float)
    cv_mds = np.asarray(radius_cv_mds, dtype=float)
    ring = np.isfinite(cv) & np.isfinite(cv_mds) & (cv < RING_MAX) & (cv_mds > DISC_MIN)
    return np.asarray(collapsed, dtype=bool) | ring


def _collapsed_of(rows: Any) -> np.ndarray:
    """:func:`collapsed_by_rule` of a panels frame (its ``collapsed`` and ``spread`` columns, where present)."""
    coll = rows["collapsed"].fillna(False).to_numpy(dtype=bool) if "collapsed" in rows else None
    spread = rows["spread"].to_numpy(dtype=float) if "spread" in rows else None
    if coll is None and spread is None:
        return np.zeros(len(rows), dtype=bool)
    return collapsed_by_rule(coll, spread)


def n_ranges(present: Any, ns: Any) -> str:
    """Where a per-N reading holds, in words: ``"at N ≥ 60, not at N ≤ 40"`` when it holds exactly at the largest N
    values, ``"at every N"`` / ``"at no N"``, otherwise the two lists (``"at N = 10, 60; not at N = 15, 20"``)."""
    ok = np.asarray(present, dtype=bool)
    n = np.asarray(ns, dtype=int)
    if ok.all():
        return "at every N"
    if not ok.any():
        return "at no N"
    order = np.argsort(n)
    o, nn = ok[order], n[order]
    first = int(np.argmax(o))
    if o[first:].all():  # an upper tail
        return f"at N ≥ {nn[first]}, not at N ≤ {nn[first - 1]}"
    yes = ", ".join(str(v) for v in nn[o])
    no = ", ".join(str(v) for v in nn[~o])
    return f"at N = {yes}; not at N = {no}"


def onset_n(present: Any, ns: Any) -> float:
    """The smallest N from which on every larger N of the grid has the artifact (NaN where the largest N has none)."""
    ok = np.asarray(present, dtype=bool)
    n = np.asarray(ns, dtype=float)
    if not ok.any():
        return float("nan")
    order = np.argsort(n)
    o, nn = ok[order], n[order]
    if not o[-1]:
        return float("nan")
    last_gap = np.flatnonzero(~o)
    return float(nn[last_gap[-1] + 1]) if last_gap.size else float(nn[0])


def _study_n(panels: Any) -> int | None:
    """The study's N: the point count of its hyperparameter sweeps (B4's rows, ``baselines.tsne_grid_n``)."""
    b4 = panels[panels["experiment"] == "B4"]
    return int(b4["n_points"].iloc[0]) if len(b4) else None


def b5_across_n(panels: Any) -> Finding:
    """B5: t-SNE (the study's settings, perplexity (N - 1) / 3) across N introduces major artifacts, read per N.

    The artifacts t-SNE shows on diag(N) are a collapse and a thin ring where MDS draws a disc
    (:func:`major_artifact`, collapse by :func:`collapsed_by_rule`); Procrustes cannot see either (it is scale-free,
    and with the points interchangeable it rates a thin ring about as far from MDS's disc as another disc). Per N of
    at least :data:`~supviz.study.verdicts.RING_MIN_POINTS` points (smaller sets are polygons, rings by construction),
    whether the t-SNE picture has one that MDS from a random start (``radius_cv_mds_rerun``, its own noise) does not.
    Each N is a fixed design point with one deterministic picture, not a sample of N values: the verdict is read per
    N, never as a share of supviz's own N grid with an interval over it. 'supported' when every N has the artifact,
    'partly' when some do (the words say where: "at N ≥ 60, not at N ≤ 40"), 'not supported' when none does; 'n/a'
    without an MDS picture to read it against (an older run). Estimate: the onset N (:func:`onset_n`), no interval (no
    resampling unit: one picture per N).
    """
    b5_all = panels[panels["experiment"] == "B5"]
    b5, _left5, why5 = defined(b5_all, "procrustes_baseline")
    b5x = panels[panels["experiment"] == "B5x"]
    t = b5.groupby("n_points")["procrustes_baseline"].median()
    fields: dict[str, Any] = dict(estimate=float("nan"), interval=None, n_used=0, n_left_out=len(b5_all))
    verdict, per, where_words, null_words = "n/a", "", "", ""
    study_n = _study_n(panels)
    if all(c in b5_all for c in ("radius_cv", "radius_cv_mds")) and len(b5_all):
        rows = b5_all.sort_values("n_points")
        coll = _collapsed_of(rows)
        cv, cv_mds = rows["radius_cv"].to_numpy(dtype=float), rows["radius_cv_mds"].to_numpy(dtype=float)
        ns = rows["n_points"].to_numpy(dtype=int)
        use = (ns >= RING_MIN_POINTS) & np.isfinite(cv_mds) & (coll | np.isfinite(cv))
        art = major_artifact(cv, cv_mds, coll)[use]
        if "radius_cv_mds_rerun" in rows:
            rerun = rows["radius_cv_mds_rerun"].to_numpy(dtype=float)[use]
            noise = major_artifact(rerun, cv_mds[use], np.zeros(int(use.sum()), bool))
        else:
            noise = np.zeros(int(use.sum()), bool)
        beyond = art & ~noise
        n = int(use.sum())
        spreads = rows["spread"].to_numpy(dtype=float)[use] if "spread" in rows else np.full(n, np.nan)
        per = ", ".join(
            f"{int(N)}: "
            + ("collapsed" if c else f"CV {fmt(v, 2)} vs MDS {fmt(vm, 2)}, extent {s_:.2g}")
            + (" (artifact)" if b else "")
            for N, c, v, vm, s_, b in zip(ns[use], coll[use], cv[use], cv_mds[use], spreads, beyond)
        )
        if n:
            verdict = "supported" if beyond.all() else "not supported" if not beyond.any() else "partly"
            where_words = n_ranges(beyond, ns[use])
            if study_n is not None and study_n in set(ns[use].tolist()):
                i = int(np.flatnonzero(ns[use] == study_n)[0])
                where_words += f" (the study's N, {study_n}: {'an artifact' if beyond[i] else 'none'})"
            null_words = f"MDS from a random start shows one at {int(noise.sum())} of {n} N values (its own noise)"
            fields = dict(estimate=onset_n(beyond, ns[use]), interval=None, n_used=n, n_left_out=int(len(rows) - n))
    coll_n = int(b5x["collapsed"].sum()) if len(b5x) else 0
    exact = (
        f" With exact affinities {coll_n} of {len(b5x)} t-SNE pictures collapsed to one spot: an exact optimum, since "
        "every pair of diag(N) has the same affinity (for N ≥ 4 the only one; for N = 3 any equilateral triangle is "
        "one too); the artifacts the study saw come from its Barnes-Hut approximation and sparse neighbour "
        "affinities."
        if len(b5x)
        else ""
    )
    words = {
        "supported": f"t-SNE introduces a major artifact at every N read ({where_words}).",
        "partly": f"Partly: a major artifact {where_words}.",
        "not supported": "t-SNE shows no major artifact beyond MDS's own noise at any N read.",
        "n/a": "Not measured: no radius CV of MDS's pictures in this run's tables.",
    }[verdict]
    measured = (
        f"Procrustes distance to the MDS baseline, median over N: t-SNE emulating the study's R run with openTSNE (B5) "
        f"{fmt(_median(t))} over {len(b5)} panels{why5}. Procrustes cannot see t-SNE's artifacts here (it is "
        "scale-free, and with interchangeable points it rates a thin ring about as far from MDS's disc as another "
        "disc), so they are read from the shape of the picture, per N against MDS's picture of the same N: "
        f"{per or 'no t-SNE picture of at least ' + str(RING_MIN_POINTS) + ' points with MDS picture beside it'}. "
        f"A major artifact is a collapse to one spot (supviz's collapse rule: every point within 1e-06 of the others "
        f"in t-SNE's units) or a ring (CV < {RING_MAX:g}) where MDS draws a disc (CV > "
        f"{DISC_MIN:g}); {null_words or 'no MDS rerun to compare'}. Extent is the picture's width in t-SNE's own units "
        "(its kernel has width 1); a picture 0.002 wide is not collapsed by that rule and is read by its shape. Each N "
        "is one deterministic picture, so the verdict is read per N, not as a share of the N values in supviz's grid. "
        f"{words}" + exact
    )
    return Finding(
        "t-SNE across N introduces major artifacts.",
        measured,
        verdict,
        key="B5-tsne-across-n",
        method="t-SNE",
        unit="N values",
        null=None,
        threshold=None,
        comparison=f"per N (N ≥ {RING_MIN_POINTS}, perplexity (N - 1) / 3): does t-SNE's picture collapse (supviz's "
        f"collapse rule) or draw a ring (CV < {RING_MAX:g}) where MDS's picture of the same N is a disc (CV > "
        f"{DISC_MIN:g}) and MDS from a random start does not (null: {null_words or 'none measured'}); estimate: the "
        "smallest N from which every larger N has one; no interval: one deterministic picture per N, each read on its "
        "own",
        figures=["B5"],
        source=source_for("B5"),
        **fields,
    )


def b3_umap_across_n(panels: Any) -> Finding:
    """B3: UMAP across N looks like MDS, with some noise.

    Per N, UMAP's Procrustes distance to the MDS baseline minus MDS's own (``procrustes_mds_rerun``: ratio MDS of the
    same diag(N) from a random start, :func:`supviz.study.baselines.section.mds_reruns`); its median over N with a
    95% bootstrap interval over N, claimed below MDS's own noise level (the median of those distances over N): UMAP
    is no farther from MDS than MDS's own pictures are from each other, plus at most as much again. 'n/a' without MDS
    reruns in the tables (an older run).
    """
    b3, left3, why3 = defined(panels[panels["experiment"] == "B3"], "procrustes_baseline")
    u = b3.groupby("n_points")["procrustes_baseline"].median()
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
    so = {
        "supported": "UMAP is as near MDS's picture as MDS's own noise allows.",
        "not supported": "UMAP is farther from MDS than MDS's own noise allows: the claim fails.",
        NOT_ENOUGH: "The interval does not settle it (it reaches both sides of MDS's own noise level, or there are too "
        "few N values).",
        "n/a": "Not measured: no MDS rerun in this run's tables.",
    }[v_umap]
    text = (
        f"Procrustes distance to the MDS baseline, median over N: UMAP (B3) {fmt(_median(u))} over {len(b3)} "
        f"panels{why3}. Against MDS's own noise: per N, UMAP's distance minus that of ratio MDS from a random start: "
        + ", ".join(f"{int(n)}: {fmt(v, 2)}" for n, v in zip(nu, du))
        + f"; median {fmt(est_u)} {_interval_text(interval_u)}, bootstrap over N, against MDS's own noise level "
        f"{fmt(mds_noise)} (median distance between the two MDS pictures). {so}"
        if nu
        else f"Procrustes distance to the MDS baseline, median over N: UMAP (B3) {fmt(_median(u))} over {len(b3)} "
        f"panels{why3}. {so}"
    )
    return Finding(
        "UMAP across N looks very similar to MDS, with some noise.",
        text,
        v_umap,
        key="B3-umap-across-n",
        method="UMAP",
        estimate=est_u,
        interval=interval_u,
        n_used=int(du.size),
        n_left_out=left3,
        unit="N values",
        null=0.0,
        threshold=mds_noise,
        comparison="median over N of P(UMAP) - P(MDS from a random start), bootstrap over N, below MDS's own noise "
        "level (null 0: as near MDS as MDS itself)",
        figures=["B3"],
        source=source_for("B5"),
    )


def shape_distortion(radius_cv: Any, radius_cv_mds: Any, collapsed: Any) -> np.ndarray:
    """How far each picture's shape is from MDS's picture of the same points, per panel ``[n]``: ``|CV - CV_MDS|``,
    the gap between the radius CVs (:func:`~supviz.study.common.radial_stats`; 0 = the same radial profile; a thin
    ring or a clumped picture is far from MDS's disc). A collapsed picture (:func:`collapsed_by_rule`) is the largest
    distortion there is: ``inf`` (the caller ranks it above every other). NaN where a CV is undefined and the picture
    is not collapsed."""
    cv, cv_mds = np.asarray(radius_cv, dtype=float), np.asarray(radius_cv_mds, dtype=float)
    d = np.abs(cv - cv_mds)
    return np.where(np.asarray(collapsed, dtype=bool), np.inf, d)


def b4_perplexity(panels: Any) -> Finding:
    """B4: low perplexity, more distortion (the study's settings, diag(N) at one N); the exact optimum ignores
    perplexity.

    Read from the shape, as B5 reads t-SNE's artifacts (Procrustes is blind to a thin ring or a collapse): per
    perplexity, :func:`shape_distortion` of t-SNE's picture against MDS's picture of the same N (a collapsed picture,
    :func:`collapsed_by_rule`, ranks above every other). Spearman rho(perplexity, distortion) with Fieller, Hartley &
    Pearson's interval over the perplexities (:func:`~supviz.study.stats.stratified_spearman`, one stratum), against
    -:data:`RHO_STRONG` (the claim: distortion falls as perplexity grows). The extent (the picture's width in t-SNE's
    units; shrinking towards a collapse) and the Procrustes reading are set beside; 'n/a' without radius CVs in the
    tables (an older run).
    """
    b4 = panels[panels["experiment"] == "B4"]
    b4 = b4.assign(_perp=param(b4, "perplexity")).sort_values("_perp")
    perp = b4["_perp"].to_numpy(dtype=float)
    has_shape = all(c in b4 for c in ("radius_cv", "radius_cv_mds"))
    coll = _collapsed_of(b4)
    if has_shape:
        cv, cv_mds = b4["radius_cv"].to_numpy(dtype=float), b4["radius_cv_mds"].to_numpy(dtype=float)
        dist = shape_distortion(cv, cv_mds, coll)
    else:
        cv = cv_mds = dist = np.full(len(b4), np.nan)
    ok = np.isfinite(dist) | np.isinf(dist)
    ranked = dist.copy()
    if np.isinf(ranked).any():  # only ranks enter Spearman's rho: a collapse ranks above every finite distortion
        top = float(np.nanmax(np.where(np.isfinite(ranked), ranked, np.nan))) if np.isfinite(ranked).any() else 0.0
        ranked[np.isinf(ranked)] = top + 1.0
    st = stratified_spearman(perp[ok], ranked[ok], np.zeros(int(ok.sum())))
    verdict = interval_verdict(st.rho, st.interval, -RHO_STRONG, claimed="below", n=st.n) if has_shape else "n/a"
    spread = b4["spread"].to_numpy(dtype=float) if "spread" in b4 else np.full(len(b4), np.nan)
    pb = b4["procrustes_baseline"].to_numpy(dtype=float) if "procrustes_baseline" in b4 else np.full(len(b4), np.nan)
    fin = np.isfinite(pb)
    st_p = stratified_spearman(perp[fin], pb[fin], np.zeros(int(fin.sum())))
    rho_ext = spearman(perp[np.isfinite(spread)], spread[np.isfinite(spread)])
    n_pts = int(b4["n_points"].iloc[0]) if len(b4) else 0
    ok_idx = np.flatnonzero(ok)
    if has_shape and ok_idx.size:
        a, b = ok_idx[0], ok_idx[-1]

        def _at(i: int) -> str:
            if coll[i]:
                return f"collapsed at perplexity {perp[i]:g}"
            return f"CV {fmt(cv[i], 2)} (extent {spread[i]:.2g}) at perplexity {perp[i]:g}"

        shape = (
            f"t-SNE of diag({n_pts}) emulating the study's R run with openTSNE, by shape against MDS's picture "
            f"(radius CV {fmt(cv_mds[a], 2)}): {_at(a)}, {_at(b)}; {int(coll.sum())} of {len(b4)} pictures collapsed "
            f"(supviz's collapse rule). Distortion |CV − CV_MDS| against perplexity: Spearman rho {fmt(st.rho)} "
            f"{_interval_text(st.interval)} over {st.n} perplexities"
            + (f" ({len(b4) - st.n} left out: CV undefined)" if len(b4) - st.n else "")
            + f"; extent against perplexity: rho {fmt(rho_ext)} (a shrinking extent is a picture nearing collapse)."
        )
    else:
        shape = "Not read by shape: no radius CV of the t-SNE or MDS pictures in this run's tables."
    ends = (
        f"{fmt(pb[fin][0])} at perplexity {perp[fin][0]:g}, {fmt(pb[fin][-1])} at {perp[fin][-1]:g}"
        if fin.any()
        else "undefined at every perplexity"
    )
    proc = (
        f" For comparison, Procrustes distance to the MDS baseline (blind to a thin ring or a collapse): {ends} "
        f"(Spearman rho with perplexity {fmt(st_p.rho)} {_interval_text(st_p.interval)})."
    )
    b4x = panels[panels["experiment"] == "B4x"]
    exact = ""
    if len(b4x):
        row = b4x.iloc[0]
        optimum = (
            "the exact optimum" if int(row["n_points"]) >= 4 else "an exact optimum (so is any equilateral triangle)"
        )
        state = f"collapsed to one spot, {optimum}" if bool(row["collapsed"]) else "not collapsed"
        spread_x = float(row["spread"]) if "spread" in b4x else float("nan")
        exact = (
            f" With exact affinities the picture is the same at every perplexity (P_ij = 1 / (N (N − 1)) whatever the "
            f"bandwidth) and {state} (spread {spread_x:.0e}): perplexity matters only through the approximation the "
            "study's t-SNE made."
        )
    so = {
        "supported": " So the shape's distortion falls as perplexity grows: low perplexity, more artifacts.",
        "not supported": " So the shape's distortion does not fall as perplexity grows"
        + (": it grows, the opposite of the claim." if st.rho > 0 else "."),
        NOT_ENOUGH: " The interval does not settle whether the shape's distortion falls as perplexity grows.",
    }.get(verdict, "")
    return Finding(
        "t-SNE: low perplexity introduces substantial artifacts.",
        f"{shape}{so}{proc}{exact}",
        verdict,
        key="B4-perplexity",
        method="t-SNE",
        n_used=st.n,
        unit="panels (perplexities)",
        estimate=st.rho,
        interval=st.interval,
        null=0.0,
        threshold=-RHO_STRONG,
        comparison=f"Spearman rho(perplexity, |CV − CV_MDS|) below -{RHO_STRONG:g} (the shape's distortion against "
        "MDS's picture falls as perplexity grows; a collapse ranks as the largest distortion; null 0: no trend)",
        n_left_out=int(len(b4) - st.n),
        figures=["B4"],
        source=source_for("B4"),
    )
