"""Section B's findings: what an undistorted picture of diag(N) looks like (B1-B5).

Pure functions of the run's ``panels`` table (:mod:`supviz.study.verdicts` has the shared rules,
:mod:`supviz.study.stats` the intervals and the verdict they give). Every trend is a Spearman rho with
Fieller, Hartley & Pearson's interval (:func:`~supviz.study.stats.stratified_spearman`; within the other
parameter's values where the sweep is a grid), read against :data:`~supviz.study.verdicts.RHO_STRONG`; UMAP across N
is read against MDS's own noise on diag(N); t-SNE (B4 over perplexity, B5 across N) by the shape of its pictures
against MDS's (radius CV, extent, collapse by supviz's one collapse rule), each picture over t-SNE's random starts
(the starts are the sample; the N values and perplexities are design points).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.sources import source_for
from supviz.study.stats import (
    NOT_ENOUGH,
    bootstrap_interval,
    interval_verdict,
    stratified_spearman,
    wilson_interval,
)
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


def _three_ways(present: Any, undecided: Any, ns: Any) -> str:
    """Where a per-N reading holds when some N are undecided: ``"at N ≥ 60; none at N = 10, 15; undecided at N = 20,
    40"`` (the first part as :func:`n_ranges` gives it for the N values with the reading)."""
    ok, und = np.asarray(present, dtype=bool), np.asarray(undecided, dtype=bool)
    n = np.asarray(ns, dtype=int)

    def _list(sel: np.ndarray) -> str:
        return ", ".join(str(v) for v in np.sort(n[sel]))

    at = "at no N"
    if ok.any():
        tail = np.isfinite(onset_n(ok, n)) and ok[n >= onset_n(ok, n)].all()
        at = f"at N ≥ {int(onset_n(ok, n))}" if tail else f"at N = {_list(ok)}"
    parts = [at] + ([f"none at N = {_list(~ok & ~und)}"] if (~ok & ~und).any() else [])
    return "; ".join(parts + [f"undecided at N = {_list(und)}"])


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


def _starts(rows: Any) -> np.ndarray:
    """Each row's random start (the ``start`` column; 0 where a table has none: one start per picture)."""
    if "start" not in rows:
        return np.zeros(len(rows), dtype=int)
    return rows["start"].fillna(0).to_numpy(dtype=float).astype(int)


def start_share(hits: Any) -> tuple[int, int, tuple[float, float], str]:
    """How many random starts ``hits`` ``[n_starts]`` (bool) of one picture show a reading, read against one half.

    The starts are a sample of t-SNE's random starts (the resampling unit), so the share gets a 95% Wilson interval
    (:func:`~supviz.study.stats.wilson_interval`): ``"present"`` when the interval lies above 1/2 (most starts show
    it), ``"absent"`` when below, ``"undecided"`` when it reaches both sides (5 of 5 starts give [0.57, 1], 4 of 5
    [0.38, 0.96], 1 of 1 [0.21, 1]). Returns (hits, starts, interval, state); ``"n/a"`` for no starts.
    """
    h = np.asarray(hits, dtype=bool)
    k, n = int(h.sum()), int(h.size)
    lo, hi = wilson_interval(k, n)
    if n == 0:
        return k, n, (lo, hi), "n/a"
    return k, n, (lo, hi), "present" if lo > 0.5 else "absent" if hi < 0.5 else "undecided"


def b5_across_n(panels: Any) -> Finding:
    """B5: t-SNE (the study's settings, perplexity (N - 1) / 3) across N introduces major artifacts, read per N over
    t-SNE's random starts.

    The artifacts t-SNE shows on diag(N) are a collapse and a thin ring where MDS draws a disc
    (:func:`major_artifact`, collapse by :func:`collapsed_by_rule`); Procrustes cannot see either (it is scale-free,
    and with the points interchangeable it rates a thin ring about as far from MDS's disc as another disc). Per N of
    at least :data:`~supviz.study.verdicts.RING_MIN_POINTS` points (smaller sets are polygons, rings by construction),
    and per random start (the ``start`` column, ``baselines.tsne_seeds`` of them), whether the t-SNE picture has one
    that MDS from a random start (``radius_cv_mds_rerun``, its own noise) does not. The same settings collapse diag(40)
    from some starts and not from others, so each N is read as the share of its starts with the artifact and that
    share's Wilson interval (:func:`start_share`): an artifact at N when the interval lies above 1/2, none when below,
    undecided otherwise. The N values themselves are design points, never pooled into a share of supviz's grid.
    'supported' when every N has the artifact, 'partly' when some do (the words say where: "at N ≥ 60, not at N ≤
    40", and which N are undecided), 'not supported' when none does, :data:`~supviz.study.stats.NOT_ENOUGH` when none
    does but some are undecided; 'n/a' without an MDS picture to read it against (an older run). Estimate: the onset
    N (:func:`onset_n` of the N with the artifact), no interval (each N has its own, in the words).
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
        ns_row = rows["n_points"].to_numpy(dtype=int)
        use = (ns_row >= RING_MIN_POINTS) & np.isfinite(cv_mds) & (coll | np.isfinite(cv))
        art = major_artifact(cv, cv_mds, coll)
        if "radius_cv_mds_rerun" in rows:
            rerun = rows["radius_cv_mds_rerun"].to_numpy(dtype=float)
            noise = major_artifact(rerun, cv_mds, np.zeros(len(rows), bool))
        else:
            noise = np.zeros(len(rows), bool)
        beyond = art & ~noise
        spreads = rows["spread"].to_numpy(dtype=float) if "spread" in rows else np.full(len(rows), np.nan)
        ns = np.array(sorted(set(ns_row[use].tolist())), dtype=int)
        states, parts, noise_n = [], [], 0
        for N in ns:
            at = use & (ns_row == N)
            k, n_s, ci, state = start_share(beyond[at])
            states.append(state)
            noise_n += int(noise[at].any())
            n_coll = int(coll[at].sum())
            spread_cv = cv[at][~coll[at]]
            shape = ", ".join(
                ([f"{n_coll} collapsed"] if n_coll else [])
                + ([f"median CV {fmt(_median(spread_cv), 2)} vs MDS {fmt(cv_mds[at][0], 2)}"] if spread_cv.size else [])
                + [f"median extent {np.median(spreads[at]):.2g}"]
            )
            word = {"present": "artifact", "absent": "none", "undecided": "undecided"}[state]
            parts.append(
                f"{int(N)}: {k} of {n_s} starts [95% interval {fmt(ci[0], 2)}, {fmt(ci[1], 2)}] ({shape}): {word}"
            )
        per = "; ".join(parts)
        st_arr = np.array(states)
        present, undecided = st_arr == "present", st_arr == "undecided"
        n = int(ns.size)
        if n:
            if present.all():
                verdict = "supported"
            elif present.any():
                verdict = "partly"
            else:
                verdict = NOT_ENOUGH if undecided.any() else "not supported"
            where_words = n_ranges(present, ns) if not undecided.any() else _three_ways(present, undecided, ns)
            if study_n is not None and study_n in set(ns.tolist()):
                i = int(np.flatnonzero(ns == study_n)[0])
                said = {"present": "an artifact", "absent": "none"}.get(states[i], "undecided")
                where_words += f" (the study's N, {study_n}: {said})"
            null_words = f"MDS from a random start shows one at {noise_n} of {n} N values (its own noise)"
            left = int(len(set(ns_row.tolist()) - set(ns.tolist())))
            fields = dict(estimate=onset_n(present, ns), interval=None, n_used=n, n_left_out=left)
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
        NOT_ENOUGH: f"No N shows the artifact from most of its starts, and the starts do not settle it: {where_words}.",
        "n/a": "Not measured: no radius CV of MDS's pictures in this run's tables.",
    }[verdict]
    measured = (
        f"Procrustes distance to the MDS baseline, median over N: t-SNE emulating the study's R run with openTSNE (B5) "
        f"{fmt(_median(t))} over {len(b5)} panels{why5}. Procrustes cannot see t-SNE's artifacts here (it is "
        "scale-free, and with interchangeable points it rates a thin ring about as far from MDS's disc as another "
        "disc), so they are read from the shape of the picture, per N and per random start against MDS's picture of "
        "the same N; per N, the starts with a major artifact: "
        f"{per or 'no t-SNE picture of at least ' + str(RING_MIN_POINTS) + ' points with MDS picture beside it'}. "
        f"A major artifact is a collapse to one spot (supviz's collapse rule: every point within 1e-06 of the others "
        f"in t-SNE's units) or a ring (CV < {RING_MAX:g}) where MDS draws a disc (CV > "
        f"{DISC_MIN:g}); {null_words or 'no MDS rerun to compare'}. Extent is the picture's width in t-SNE's own units "
        "(its kernel has width 1); a picture 0.002 wide is not collapsed by that rule and is read by its shape. "
        "t-SNE's random start decides between a collapse and a spread picture at some N, so each N is read over its "
        "starts: an artifact there when the share's 95% Wilson interval lies above 1/2, none when below, undecided "
        f"otherwise; the N values are design points, not pooled into a share of supviz's grid. {words}" + exact
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
        f"{DISC_MIN:g}) and MDS from a random start does not (null: {null_words or 'none measured'}); per N, the share "
        "of t-SNE's random starts with one, an artifact at N when its 95% Wilson interval lies above 1/2, none when "
        "below; estimate: the smallest N from which every larger N has one; no interval on it (each N has its own)",
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


def b4_verdict(trend: str, low: str) -> str:
    """B4's verdict from its two halves: ``trend``, the interval verdict of "the shape's distortion falls as
    perplexity grows" ('supported', 'not supported' or :data:`~supviz.study.stats.NOT_ENOUGH`), and ``low``, whether
    the lowest perplexity's picture departs from MDS's beyond MDS's own noise (:func:`start_share`'s state:
    'present', 'absent', 'undecided'; 'n/a' without an MDS rerun, an older run: the trend alone decides).

    Both hold: 'supported'; one holds and the other fails: 'partly' (the study's words, "low perplexity introduces
    substantial artifacts", hold at low perplexity while the implied "higher perplexity fixes it" fails, or the other
    way round); both fail: 'not supported'; either undecided: :data:`~supviz.study.stats.NOT_ENOUGH`."""
    if low == "n/a":
        return trend
    if low == "undecided" or trend not in ("supported", "not supported"):
        return NOT_ENOUGH
    holds = (trend == "supported", low == "present")
    return "supported" if all(holds) else "partly" if any(holds) else "not supported"


def b4_perplexity(panels: Any) -> Finding:
    """B4: low perplexity introduces substantial artifacts (the study's settings, diag(N) at one N), and the implied
    "higher perplexity fixes it"; the exact optimum ignores perplexity.

    Read from the shape, as B5 reads t-SNE's artifacts (Procrustes is blind to a thin ring or a collapse): per
    picture, :func:`shape_distortion` against MDS's picture of the same N (a collapsed picture,
    :func:`collapsed_by_rule`, ranks above every other), per perplexity its median over t-SNE's random starts (the
    ``start`` column). Two halves (:func:`b4_verdict`):

    - *the trend*: Spearman rho(perplexity, median distortion) with Fieller, Hartley & Pearson's interval over the
      perplexities (:func:`~supviz.study.stats.stratified_spearman`, one stratum), against -:data:`RHO_STRONG`;
    - *low perplexity*: at the lowest perplexity, the share of starts whose distortion exceeds MDS's own (null: ratio
      MDS of the same diag(N) from a random start, ``radius_cv_mds_rerun``, its ``|CV - CV_MDS|``), with its Wilson
      interval (:func:`start_share`).

    The extent (the picture's width in t-SNE's units; shrinking towards a collapse) and the Procrustes reading are set
    beside; 'n/a' without radius CVs in the tables (an older run).
    """
    b4_all = panels[panels["experiment"] == "B4"]
    b4_all = b4_all.assign(_perp=param(b4_all, "perplexity"), _start=_starts(b4_all)).sort_values(["_perp", "_start"])
    has_shape = all(c in b4_all for c in ("radius_cv", "radius_cv_mds"))
    coll_all = _collapsed_of(b4_all)
    if has_shape:
        cv_all = b4_all["radius_cv"].to_numpy(dtype=float)
        cv_mds_all = b4_all["radius_cv_mds"].to_numpy(dtype=float)
        dist_all = shape_distortion(cv_all, cv_mds_all, coll_all)
    else:
        cv_all = cv_mds_all = dist_all = np.full(len(b4_all), np.nan)
    spread_all = b4_all["spread"].to_numpy(dtype=float) if "spread" in b4_all else np.full(len(b4_all), np.nan)
    pb_all = (
        b4_all["procrustes_baseline"].to_numpy(dtype=float)
        if "procrustes_baseline" in b4_all
        else np.full(len(b4_all), np.nan)
    )
    perp_all = b4_all["_perp"].to_numpy(dtype=float)
    perp = np.array(sorted(set(perp_all.tolist())), dtype=float)
    n_starts = int(b4_all.groupby("_perp").size().max()) if len(b4_all) else 0

    def _per_perp(v: np.ndarray, *, keep_inf: bool = False) -> np.ndarray:
        # median over the starts of each perplexity (a majority of collapsed starts, inf, stays inf)
        out = []
        for q in perp:
            x = v[perp_all == q]
            x = x[np.isfinite(x) | (keep_inf & np.isinf(x))]
            out.append(float(np.median(x)) if x.size else float("nan"))
        return np.array(out)

    dist = _per_perp(dist_all, keep_inf=True)
    cv = _per_perp(np.where(coll_all, np.nan, cv_all))
    spread = _per_perp(spread_all)
    pb = _per_perp(pb_all)
    coll = np.array([bool(np.isinf(d)) for d in dist])  # most starts collapsed
    cv_mds = _per_perp(cv_mds_all)
    ok = np.isfinite(dist) | np.isinf(dist)
    ranked = dist.copy()
    if np.isinf(ranked).any():  # only ranks enter Spearman's rho: a collapse ranks above every finite distortion
        top = float(np.nanmax(np.where(np.isfinite(ranked), ranked, np.nan))) if np.isfinite(ranked).any() else 0.0
        ranked[np.isinf(ranked)] = top + 1.0
    st = stratified_spearman(perp[ok], ranked[ok], np.zeros(int(ok.sum())))
    trend = interval_verdict(st.rho, st.interval, -RHO_STRONG, claimed="below", n=st.n) if has_shape else "n/a"

    # the low half: the lowest perplexity's starts against MDS's own noise (its rerun's distortion)
    low_state, low_words, low_null = "n/a", "", float("nan")
    if has_shape and "radius_cv_mds_rerun" in b4_all and ok.any():
        q0 = perp[ok][0]
        at = perp_all == q0
        nulls = np.abs(b4_all["radius_cv_mds_rerun"].to_numpy(dtype=float) - cv_mds_all)[at]
        low_null = float(nulls[np.isfinite(nulls)][0]) if np.isfinite(nulls).any() else float("nan")
        d0 = dist_all[at]
        d0 = d0[np.isfinite(d0) | np.isinf(d0)]
        if np.isfinite(low_null) and d0.size:
            k, n_s, ci, low_state = start_share(d0 > low_null)
            low_words = (
                f" At the lowest perplexity ({q0:g}) {k} of {n_s} starts depart from MDS's picture more than MDS "
                f"from a random start does (|CV − CV_MDS| {fmt(low_null, 2)}, MDS's own noise) [95% interval "
                f"{fmt(ci[0], 2)}, {fmt(ci[1], 2)}]: "
                + {
                    "present": "a real departure.",
                    "absent": "no departure beyond MDS's own noise.",
                    "undecided": "the starts do not settle it.",
                }[low_state]
            )
    verdict = b4_verdict(trend, low_state) if has_shape else "n/a"
    fin = np.isfinite(pb)
    st_p = stratified_spearman(perp[fin], pb[fin], np.zeros(int(fin.sum())))
    rho_ext = spearman(perp[np.isfinite(spread)], spread[np.isfinite(spread)])
    n_pts = int(b4_all["n_points"].iloc[0]) if len(b4_all) else 0
    ok_idx = np.flatnonzero(ok)
    if has_shape and ok_idx.size:
        a, b = ok_idx[0], ok_idx[-1]

        def _at(i: int) -> str:
            if coll[i]:
                return f"collapsed at perplexity {perp[i]:g}"
            return f"CV {fmt(cv[i], 2)} (extent {spread[i]:.2g}) at perplexity {perp[i]:g}"

        shape = (
            f"t-SNE of diag({n_pts}) emulating the study's R run with openTSNE, from {n_starts} random start"
            f"{'s' if n_starts != 1 else ''} per perplexity, by shape against MDS's picture (radius CV "
            f"{fmt(cv_mds[a], 2)}), medians over the starts: {_at(a)}, {_at(b)}; {int(coll_all.sum())} of "
            f"{len(b4_all)} pictures collapsed (supviz's collapse rule). Distortion |CV − CV_MDS| (median over the "
            f"starts) against perplexity: Spearman rho {fmt(st.rho)} {_interval_text(st.interval)} over {st.n} "
            "perplexities"
            + (f" ({len(perp) - st.n} left out: CV undefined)" if len(perp) - st.n else "")
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
        f" For comparison, Procrustes distance to the MDS baseline (blind to a thin ring or a collapse; median over "
        f"the starts): {ends} (Spearman rho with perplexity {fmt(st_p.rho)} {_interval_text(st_p.interval)})."
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
    falls = {
        "supported": "the shape's distortion falls as perplexity grows",
        "not supported": "higher perplexity does not fix it: the shape's distortion "
        + ("grows with perplexity, the opposite of the claim" if st.rho > 0 else "does not fall as perplexity grows"),
    }.get(trend, "the interval does not settle whether the shape's distortion falls as perplexity grows")
    so = {
        "supported": f" So low perplexity departs from MDS's picture, and {falls}.",
        "partly": (
            f" Partly: low perplexity departs from MDS's picture beyond MDS's own noise, but {falls}."
            if low_state == "present"
            else f" Partly: {falls}, but at the lowest perplexity the picture is within MDS's own noise."
        ),
        "not supported": f" So low perplexity shows no departure beyond MDS's own noise, and {falls}."
        if low_state == "absent"
        else f" So {falls}.",
        NOT_ENOUGH: f" Not settled: {falls}"
        + ("; the lowest perplexity's starts are undecided." if low_state == "undecided" else "."),
    }.get(verdict, "")
    return Finding(
        "t-SNE: low perplexity introduces substantial artifacts.",
        f"{shape}{low_words}{so}{proc}{exact}",
        verdict,
        key="B4-perplexity",
        method="t-SNE",
        n_used=st.n,
        unit="panels (perplexities)",
        estimate=st.rho,
        interval=st.interval,
        null=0.0,
        threshold=-RHO_STRONG,
        comparison=f"two halves: Spearman rho(perplexity, |CV − CV_MDS|, median over {n_starts} random starts) below "
        f"-{RHO_STRONG:g} (the shape's distortion against MDS's picture falls as perplexity grows; a collapse ranks as "
        "the largest distortion; null 0: no trend), and at the lowest perplexity the share of starts departing from "
        "MDS's picture more than MDS from a random start does (null: MDS's own noise"
        + (f", |CV − CV_MDS| {fmt(low_null, 2)}" if np.isfinite(low_null) else ", not measured")
        + ") with a 95% Wilson interval above 1/2; both: supported, one: partly",
        n_left_out=int(len(perp) - st.n),
        figures=["B4"],
        source=source_for("B4"),
    )
