"""Every verdict of the report, computed from the run's tidy tables (:mod:`supviz.study.table`).

Each function takes the ``panels`` or ``cells`` table (a pandas DataFrame, or any table with those
columns, such as a small hand-made one in a test) and returns :class:`~supviz.study.sections.Finding`
records: the study's claim, what the numbers say, the verdict, how many panels it used and how many
it left out because their measure is undefined (NaN with a reason never enters a verdict), and,
where the claim depends on which features count as represented, the verdict under the other rule.

Rules (named once, used everywhere):

- a monotone trend ("the bias decreases as n_neighbors increases") is *supported* when the Spearman
  correlation points the claimed way beyond :data:`RHO_STRONG`, *partly* when it points that way at
  all, *not supported* otherwise (:func:`rho_verdict`);
- "no signature of superposition" (C3, C5): the distance of the picture of the represented features
  to the orthogonal baseline does not follow sparsity: ``|rho(1/p, Procrustes)| <`` :data:`RHO_NONE`;
- a ring: radius CV below :data:`RING_MAX` (a uniform disc has 0.354, diag(N)'s MDS picture 0.28);
  a claim about rings uses only sets of at least :data:`RING_MIN_POINTS` points (every small set
  is a polygon, a ring by construction) and says how many it left out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from supviz.study.common import fmt, fmt_p, spearman  # noqa: F401  (re-exported: the verdict helpers' names)
from supviz.study.sections import Finding

RHO_STRONG = 0.3
RHO_NONE = 0.4
RING_MAX = 0.15
DISC_MIN = 0.25
RING_MIN_POINTS = 10
CENTRE_MAX = 0.3
RULES = ("norm", "mean_abs")
RULE_TEXT = {"norm": "||W_k|| > 0.5", "mean_abs": "the study's mean|W_k| > mean|W_0| / 20"}
_VARIANT_LABEL = {"uniform": "uniform importance", "geometric:0.9": "importance 0.9^i"}


def variant_label(name: str) -> str:
    """Human label of an importance variant."""
    return _VARIANT_LABEL.get(name, f"importance {name}")


def other_rule(rule: str) -> str:
    """The represented rule a rule-dependent verdict is checked against."""
    return "mean_abs" if rule == "norm" else "norm"


def rho_verdict(rho: float, *, negative: bool) -> str:
    """Supported when rho points the claimed way beyond :data:`RHO_STRONG`, partly when it points that
    way at all, not supported otherwise; 'n/a' for NaN."""
    if not np.isfinite(rho):
        return "n/a"
    r = -rho if negative else rho
    return "supported" if r > RHO_STRONG else "partly" if r > 0 else "not supported"


def _defined(frame: Any, column: str) -> tuple[Any, int, str]:
    """The rows where ``column`` is defined, how many were left out, and the clause saying why."""
    if column not in frame:
        return frame.iloc[:0], len(frame), f"; {len(frame)} of {len(frame)} left out: no {column}"
    ok = np.isfinite(frame[column].to_numpy(dtype=float))
    gone = frame[~ok]
    if gone.empty:
        return frame[ok], 0, ""
    reasons: dict[str, int] = {}
    for _, row in gone.iterrows():
        if bool(row.get("collapsed", False)):
            why = "collapsed"
        else:
            text = str(row.get("nan_reasons", "") or row.get("note", "") or "")
            mine = [r.split(": ", 1)[1] for r in text.split("; ") if r.startswith(f"{column}: ")]
            why = mine[0] if mine else (text.split("; ")[0] if text else "undefined")
        reasons[why] = reasons.get(why, 0) + 1
    what = ", ".join(f"{n} collapsed" if w == "collapsed" else f"{n} × {w}" for w, n in reasons.items())
    return frame[ok], len(gone), f"; {len(gone)} of {len(frame)} left out: {what}"


def _param(frame: Any, name: str) -> np.ndarray:
    return np.array([json.loads(p or "{}").get(name, np.nan) if isinstance(p, str) else np.nan for p in frame["params"]],
                    dtype=float)


def _rule_note(verdict: str, other: str, rule: str) -> str:
    o = other_rule(rule)
    if not other:
        return ""
    same = "the same verdict" if other == verdict else f"'{other}' instead"
    return f" With {RULE_TEXT[o]} as the represented rule: {same}."


# --------------------------------------------------------------------------------- section A


def a1_antipodal(cells: Any) -> Finding:
    """A1: two features in one dimension are an antipodal pair at the sparsest p and not at the densest."""
    a1 = cells[cells["model"] == "A1"].sort_values("p", ascending=False)
    cos = a1["cosine_01"].to_numpy(dtype=float)
    ps = a1["p"].to_numpy(dtype=float)
    dense, sparse = (cos[0], cos[-1]) if len(cos) else (np.nan, np.nan)
    verdict = ("n/a" if not np.isfinite(sparse) else "supported" if sparse < -0.9 and not (np.isfinite(dense) and dense < -0.9)
               else "partly" if sparse < -0.5 else "not supported")
    return Finding(
        "With two features in one dimension, sparse features are stored as an antipodal pair (superposition); dense "
        "features are not.",
        f"Cosine between the two features' weights: {', '.join(f'p = {p:g}: {fmt(c)}' for p, c in zip(ps, cos))} "
        "(n/a = one feature dropped, norm < 0.001).",
        verdict, key="A1-antipodal", n_used=int(np.isfinite(cos).sum()), n_left_out=int((~np.isfinite(cos)).sum()),
        figures=["A1"],
    )


def a2_packing(cells: Any) -> Finding:
    """A2: sparser features, more of them kept (||W_i|| > 0.5), more than m at the sparsest p."""
    a2 = cells[cells["model"] == "A2"].sort_values("p", ascending=False)
    k = a2["n_norm_gt_half"].to_numpy(dtype=float)
    m = int(a2["m"].iloc[0]) if len(a2) else 0
    n = int(a2["n_features"].iloc[0]) if len(a2) else 0
    verdict = ("n/a" if len(k) < 2 else "supported" if k[-1] > k[0] and k[0] <= m + 1 and k[-1] > m
               else "partly" if k[-1] > k[0] else "not supported")
    return Finding(
        "As features get sparser the model packs more features into the same dimensions, in superposition.",
        f"Features with ‖W_i‖ > 0.5 (of {n}, m = {m}): "
        + ", ".join(f"p = {p:g}: {int(v)}" for p, v in zip(a2["p"], k)) + ".",
        verdict, key="A2-packing", n_used=len(k), figures=["A2"],
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
    verdict = ("n/a" if not np.isfinite(rho) else "supported" if rho < -0.5 and near > 0.5 else "partly" if rho < 0
               else "not supported")
    return Finding(
        "Dimensions per feature fall as sparsity grows, and feature dimensionalities cluster at a few fractions.",
        f"m / ‖W‖²_F goes from {fmt(dpf[0] if len(dpf) else np.nan)} (1/p = {fmt(inv[0] if len(inv) else np.nan)}) to "
        f"{fmt(dpf[-1] if len(dpf) else np.nan)} (1/p = {fmt(inv[-1] if len(inv) else np.nan)}), Spearman rho with 1/p "
        f"{fmt(rho)}; {fmt(100 * near)}% of the represented features' D_i lie within 0.05 of a sticky fraction "
        "(1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3).",
        verdict, key="A3-sticky", n_used=len(a3), figures=["A3"],
    )


# --------------------------------------------------------------------------------- section B


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
        key="B1-disc", method="MDS", n_used=int(np.isfinite(st).sum()), n_left_out=int((~np.isfinite(st)).sum()),
        figures=["B1"],
    )


def b2_neighbors(panels: Any) -> Finding:
    """B2: the distance to the MDS baseline falls as n_neighbors grows, more than with min_dist."""
    b2 = panels[panels["experiment"] == "B2"]
    ok, left, why = _defined(b2, "procrustes_baseline")
    nn, md = _param(ok, "n_neighbors"), _param(ok, "min_dist")
    pb = ok["procrustes_baseline"].to_numpy(dtype=float)
    r_nn, r_md = spearman(nn, pb), spearman(md, pb)
    verdict = ("n/a" if not np.isfinite(r_nn) else "supported" if r_nn < -RHO_STRONG and abs(r_nn) > abs(np.nan_to_num(r_md))
               else "partly" if r_nn < 0 else "not supported")
    return Finding(
        "UMAP: n_neighbors is the relevant parameter; the bias decreases as it increases.",
        f"Procrustes distance to the MDS baseline against n_neighbors: Spearman rho {fmt(r_nn)}; against min_dist: "
        f"{fmt(r_md)} (over {len(ok)} panels{why}).",
        verdict, key="B2-n-neighbors", method="UMAP", n_used=len(ok), n_left_out=left, figures=["B2"],
    )


def b5_across_n(panels: Any) -> Finding:
    """B3 / B5: UMAP across N stays near the MDS picture; t-SNE (the study's settings) does not."""
    b3, left3, why3 = _defined(panels[panels["experiment"] == "B3"], "procrustes_baseline")
    b5, left5, why5 = _defined(panels[panels["experiment"] == "B5"], "procrustes_baseline")
    b5x = panels[panels["experiment"] == "B5x"]
    m3 = float(b3["procrustes_baseline"].median()) if len(b3) else float("nan")
    m5 = float(b5["procrustes_baseline"].median()) if len(b5) else float("nan")
    coll = int(b5x["collapsed"].sum()) if len(b5x) else 0
    exact = (f" With exact affinities {coll} of {len(b5x)} t-SNE pictures collapsed to one spot: the exact optimum, since "
             "every pair of diag(N) has the same affinity; the artifacts the study saw come from its Barnes-Hut "
             "approximation and sparse neighbour affinities." if len(b5x) else "")
    return Finding(
        "UMAP across N looks very similar to MDS, with some noise; t-SNE across N introduces major artifacts.",
        f"Median Procrustes distance to the MDS baseline: UMAP (B3) {fmt(m3)} over {len(b3)} panels{why3}; t-SNE with the "
        f"study's R settings (B5) {fmt(m5)} over {len(b5)} panels{why5}." + exact,
        "n/a" if not (np.isfinite(m3) and np.isfinite(m5)) else "supported" if m3 < m5 else "not supported",
        key="B5-tsne-across-n", method="t-SNE", n_used=len(b3) + len(b5), n_left_out=left3 + left5, figures=["B3", "B5"],
    )


def b4_perplexity(panels: Any) -> Finding:
    """B4: low perplexity, more distortion (the study's settings); the exact optimum ignores perplexity."""
    b4 = panels[panels["experiment"] == "B4"]
    ok, left, why = _defined(b4, "procrustes_baseline")
    ok = ok.assign(_perp=_param(ok, "perplexity")).sort_values("_perp")
    perp, pb = ok["_perp"].to_numpy(dtype=float), ok["procrustes_baseline"].to_numpy(dtype=float)
    r = spearman(perp, pb)
    ends = (f"{fmt(pb[0])} at perplexity {perp[0]:g}, {fmt(pb[-1])} at {perp[-1]:g}" if len(pb) else "undefined at every "
            "perplexity")
    b4x = panels[panels["experiment"] == "B4x"]
    exact = ""
    if len(b4x):
        row = b4x.iloc[0]
        state = "collapsed to one spot, the exact optimum" if bool(row["collapsed"]) else "not collapsed"
        spread = float(row["spread"]) if "spread" in b4x else float("nan")
        exact = (f" With exact affinities the picture is the same at every perplexity (P_ij = 1 / (N (N − 1)) whatever the "
                 f"bandwidth) and {state} (spread {spread:.0e}): perplexity matters only through the approximation the "
                 "study's t-SNE made.")
    return Finding(
        "t-SNE: low perplexity introduces substantial artifacts.",
        f"With the study's R settings, Procrustes distance to the MDS baseline: {ends} (Spearman rho with perplexity "
        f"{fmt(r)}, over {len(ok)} panels{why}).{exact}",
        rho_verdict(r, negative=True), key="B4-perplexity", method="t-SNE", n_used=len(ok), n_left_out=left,
        figures=["B4"],
    )


# --------------------------------------------------------------------------------- section C


def _c(panels: Any, exp: str, importance: str, rule: str | None = None) -> Any:
    sel = panels[(panels["experiment"] == exp) & (panels["importance"] == importance)]
    if rule is not None and "represented_rule" in sel:
        sel = sel[sel["represented_rule"] == rule]
    return sel


def _c2_centre_one(panels: Any, importance: str, rule: str) -> tuple[str, str, int, int]:
    c2 = _c(panels, "C2", importance)
    col = f"core_ratio_{rule}"
    ok, left, why = _defined(c2, col)
    core = ok[col].to_numpy(dtype=float)
    if not len(core):
        return "n/a", f"no C2 panel drops a feature under {RULE_TEXT[rule]}{why}", 0, left
    med = float(np.median(core))
    verdict = "supported" if med < CENTRE_MAX else "partly" if med < 0.7 else "not supported"
    text = (f"in the {len(core)} C2 panels that drop features ({RULE_TEXT[rule]}), the dropped features' median distance "
            f"from the centre is {fmt(med)} x that of the represented ones (range {fmt(core.min())}-{fmt(core.max())})")
    return verdict, text, len(core), left


def c2_centre(panels: Any, importance: str, *, rule: str = "norm") -> Finding:
    """C2: the dropped features collapse to the centre of the MDS picture (median core ratio < 0.3)."""
    v, text, used, left = _c2_centre_one(panels, importance, rule)
    vo, _, _, _ = _c2_centre_one(panels, importance, other_rule(rule))
    return Finding(
        "Dropped, unimportant features collapse to the centre of the MDS picture.",
        text[0].upper() + text[1:] + "." + _rule_note(v, vo, rule), v, key=f"C2-centre-{importance}", method="MDS",
        importance=importance, verdict_other_rule=vo, n_used=used, n_left_out=left, figures=[f"C2_{_slug(importance)}"],
    )


def _c2_ring_one(panels: Any, importance: str, rule: str) -> tuple[str, str, int, int]:
    c2 = _c(panels, "C2", importance)
    col, n_col = f"ring_cv_{rule}", f"n_represented_{rule}"
    big = c2[(c2[n_col] >= RING_MIN_POINTS) & np.isfinite(c2[f"core_ratio_{rule}"])] if n_col in c2 else c2.iloc[:0]
    small = len(c2) - len(big)
    ok, left, why = _defined(big, col)
    ring = ok[col].to_numpy(dtype=float)
    if not len(ring):
        return "n/a", f"no C2 panel with at least {RING_MIN_POINTS} represented and some dropped features", 0, small + left
    med = float(np.median(ring))
    verdict = "supported" if med < RING_MAX else "partly" if med < 0.3 else "not supported"
    text = (f"radius CV of the represented features around their centroid (0 = ring, about 0.35 = uniform disc): median "
            f"{fmt(med)} over the {len(ring)} C2 panels with at least {RING_MIN_POINTS} represented and some dropped "
            f"features ({RULE_TEXT[rule]}; {small} others left out{why.replace(';', ',') if why else ''})")
    return verdict, text, len(ring), small + left


def c2_ring(panels: Any, importance: str, *, rule: str = "norm") -> Finding:
    """C2: the represented features lie on a ring (median radius CV < 0.15)."""
    v, text, used, left = _c2_ring_one(panels, importance, rule)
    vo, _, _, _ = _c2_ring_one(panels, importance, other_rule(rule))
    return Finding(
        "The represented features lie on the perimeter of a circle.",
        text[0].upper() + text[1:] + ". Why (the ring control, section 3): see the conclusion." + _rule_note(v, vo, rule), v,
        key=f"C2-ring-{importance}", method="MDS", importance=importance, verdict_other_rule=vo, n_used=used,
        n_left_out=left, figures=[f"C2_{_slug(importance)}"],
    )


def _signature_one(panels: Any, exp: str, importance: str, rule: str) -> tuple[str, str, int, int]:
    prs = _c(panels, exp, importance, rule)
    ok, left, why = _defined(prs, "procrustes_baseline")
    r = spearman(1.0 / ok["p"].to_numpy(dtype=float), ok["procrustes_baseline"].to_numpy(dtype=float))
    worst = ok.sort_values("procrustes_baseline", ascending=False).head(3)
    verdict = "n/a" if not np.isfinite(r) else "supported" if abs(r) < RHO_NONE else "not supported"
    text = (f"Procrustes distance of the picture of the represented features ({RULE_TEXT[rule]}) to the orthogonal "
            f"baseline: median {fmt(ok['procrustes_baseline'].median() if len(ok) else np.nan)}; its Spearman correlation "
            f"with sparsity 1/p is {fmt(r)} over {len(ok)} panels{why}. Most deviant cells: "
            + ", ".join(f"{r_.panel} ({fmt(r_.procrustes_baseline)})" for r_ in worst.itertuples()))
    return verdict, text, len(ok), left


def no_signature(panels: Any, exp: str, importance: str, *, rule: str = "norm") -> Finding:
    """C3 (MDS) / C5 (UMAP): no signature of superposition in the picture of the represented features.

    Measured: whether the picture's Procrustes distance to the orthogonal baseline follows sparsity
    (|Spearman rho with 1/p| < :data:`RHO_NONE`: no signature, the study's conclusion holds).
    """
    method = "MDS" if exp == "C3" else "UMAP"
    v, text, used, left = _signature_one(panels, exp, importance, rule)
    vo, _, _, _ = _signature_one(panels, exp, importance, other_rule(rule))
    claim = ("No obvious signature of superposition in the MDS of the represented features; only particular cells deviate."
             if exp == "C3" else "As with MDS, UMAP of the represented features shows obvious artifacts only in particular "
             "cells.")
    ok, _, _ = _defined(_c(panels, exp, importance, rule), "procrustes_baseline")
    r = spearman(1.0 / ok["p"].to_numpy(dtype=float), ok["procrustes_baseline"].to_numpy(dtype=float))
    return Finding(claim, text + "." + _rule_note(v, vo, rule), v, key=f"{exp}-signature-{importance}", method=method,
                   importance=importance, view="feature directions", verdict_other_rule=vo, n_used=used, n_left_out=left,
                   figures=[f"{exp}_{_slug(importance)}"], summary=f"rho(1/p, P) {fmt(r, 2)}")


def c4_low_m(panels: Any, importance: str) -> Finding:
    """C4: UMAP of all features shows more artifacts at low m (lower trustworthiness, larger distance)."""
    c4 = _c(panels, "C4", importance)
    ms = sorted({int(m) for m in c4["m"].dropna()})
    cut = ms[min(1, len(ms) - 1)] if ms else 0
    lo, hi = c4[c4["m"] <= cut], c4[c4["m"] > cut]
    hi = hi if len(hi) else lo

    def med(f: Any, col: str) -> float:
        v = f[col].to_numpy(dtype=float)
        return float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")

    t_lo, t_hi = med(lo, "trustworthiness"), med(hi, "trustworthiness")
    p_lo, p_hi = med(lo, "procrustes_baseline"), med(hi, "procrustes_baseline")
    _, left_t, _ = _defined(c4, "trustworthiness")
    score = int(bool(np.isfinite(p_lo) and p_lo > p_hi)) + int(bool(np.isfinite(t_lo) and t_lo < t_hi))
    return Finding(
        "UMAP shows substantial artifacts at low m, without a consistent pattern.",
        f"Median trustworthiness of C4 at m <= {cut}: {fmt(t_lo)}, at larger m: {fmt(t_hi)}; median Procrustes distance to "
        f"the baseline {fmt(p_lo)} against {fmt(p_hi)} ({len(c4) - left_t} panels with a defined trustworthiness).",
        {2: "supported", 1: "partly", 0: "not supported"}[score], key=f"C4-low-m-{importance}", method="UMAP",
        importance=importance, n_used=len(c4) - left_t, n_left_out=left_t, figures=[f"C4_{_slug(importance)}"],
    )


def tsne_not_pictured(importance: str) -> Finding:
    """The grid's t-SNE / feature-directions cell: the study drew no t-SNE of W."""
    return Finding("t-SNE of the feature directions (not in the study: it avoided t-SNE after section 1).",
                   "Not pictured: the study drew no t-SNE of W, so there is no claim to test.", "n/a",
                   key=f"C-tsne-{importance}", method="t-SNE", importance=importance, view="feature directions",
                   summary="not pictured by the study")


def _slug(name: str) -> str:
    return name.replace(":", "").replace(".", "p").replace("/", "_")


# ---------------------------------------------------------------------------- data points (D)

#: Relative loss of k-NN recall (picture of h against the picture of x) below which the study's
#: conclusion holds for a method, and above which it does not hold (in between: partly).
HOLDS_BELOW = 0.10
FAILS_ABOVE = 0.30


def loss_verdict(relative_loss: float) -> str:
    """'supported' (holds), 'partly' or 'not supported' for a median relative loss of k-NN recall."""
    if not math.isfinite(relative_loss):
        return "n/a"
    return "supported" if relative_loss < HOLDS_BELOW else "not supported" if relative_loss > FAILS_ABOVE else "partly"


def paired(points: Any, importance: str, method: str, metric: str) -> Any:
    """Per-cell values of ``metric`` of the pictures of x and of h (columns x, h; index m, p), NaN kept."""
    import pandas as pd

    d = points[(points["importance"] == importance) & (points["method"] == method)]
    x = d[d["space"] == "x"].set_index(["m", "p"])[metric]
    h = d[d["space"] == "h"].set_index(["m", "p"])[metric]
    return pd.concat({"x": x, "h": h}, axis=1)


def method_effect(points: Any, importance: str, method: str) -> dict[str, Any]:
    """How the pictures of h keep the inputs' neighbourhoods against the pictures of x, per cell.

    Returns medians over the cells where both recalls are defined (``x``, ``h``), the relative loss
    of the medians, per-m medians of the loss, the count left out, and false neighbours over the cells
    where they are possible at all (``false_neighbour_chance`` > 0: some pairs of inputs share no
    active feature; at p >= 0.3 every pair shares one and the rate is 0 by construction).
    """
    both = paired(points, importance, method, "knn_recall")
    ok = both.dropna()
    out: dict[str, Any] = {"n_cells": len(ok), "n_left_out": len(both) - len(ok)}
    out["x"] = float(ok["x"].median()) if len(ok) else float("nan")
    out["h"] = float(ok["h"].median()) if len(ok) else float("nan")
    out["relative_loss"] = (out["x"] - out["h"]) / out["x"] if out["x"] > 0 else float("nan")
    out["by_m"] = {int(m): (float((g["h"] - g["x"]).median()), float(((g["x"] - g["h"]) / g["x"]).median()))
                   for m, g in ok.groupby(level="m")} if len(ok) else {}
    fn = paired(points, importance, method, "false_neighbour_rate")
    if "false_neighbour_chance" in points:
        chance = paired(points, importance, method, "false_neighbour_chance")["x"]
        possible = chance.reindex(fn.index) > 0
        fn = fn[possible.fillna(False).to_numpy()].assign(chance=chance.reindex(fn.index)[possible.fillna(False).to_numpy()])
    fn = fn.dropna()
    out["fn_cells"] = len(fn)
    out["fn_x"] = float(fn["x"].median()) if len(fn) else float("nan")
    out["fn_h"] = float(fn["h"].median()) if len(fn) else float("nan")
    out["fn_chance"] = float(fn["chance"].median()) if len(fn) and "chance" in fn else float("nan")
    out["fn_increase_max"] = float((fn["h"] - fn["x"]).max()) if len(fn) else float("nan")
    out["verdict"] = loss_verdict(out["relative_loss"])
    return out


def data_point_finding(points: Any, importance: str, method: str, *, best_x: float = float("nan")) -> Finding:
    """The grid's data-point verdict for one method and importance variant (independent of the represented rule)."""
    e = method_effect(points, importance, method)
    name = {"mds": "MDS", "umap": "UMAP", "tsne": "t-SNE"}[method]
    text = (f"The picture of h keeps a median {fmt(e['h'], 2)} of each input's k nearest neighbours, the picture of x itself "
            f"{fmt(e['x'], 2)}: a relative loss of {_pct(e['relative_loss'])} over {e['n_cells']} cells"
            + (f" ({e['n_left_out']} left out: recall undefined)" if e["n_left_out"] else "") + ".")
    if e["fn_cells"]:
        text += (f" False neighbours, in the {e['fn_cells']} cells where they are possible (some pairs of inputs share no "
                 f"active feature; chance rate {fmt(e['fn_chance'], 2)}): {fmt(e['fn_x'], 2)} in the picture of x, "
                 f"{fmt(e['fn_h'], 2)} in the picture of h (largest increase {fmt(e['fn_increase_max'], 2)}).")
    else:
        text += " False neighbours are impossible in every cell here (every pair of inputs shares an active feature)."
    if np.isfinite(best_x) and best_x > 0 and e["x"] < 0.5 * best_x:
        text += (f" Caution: {name} of x is itself poor (recall {fmt(e['x'], 2)} against {fmt(best_x, 2)} for the best "
                 f"method), so {name} hides the damage rather than avoiding it.")
    ms = sorted(e["by_m"])
    if len(ms) >= 2:
        text += (f" Median recall loss over p: {fmt(-e['by_m'][ms[0]][0], 2)} at m = {ms[0]}, {fmt(-e['by_m'][ms[-1]][0], 2)} at "
                 f"m = {ms[-1]}.")
    text += f" (Rule: holds below a {_pct(HOLDS_BELOW)} relative loss, does not hold above {_pct(FAILS_ABOVE)}.)"
    return Finding(
        "Superposition might not be as large a problem for latent space visualization.", text, e["verdict"],
        key=f"D-{method}-{importance}", method=name, importance=importance, view="data points", n_used=e["n_cells"],
        n_left_out=e["n_left_out"], figures=[f"D1_knn_recall_{_slug(importance)}", f"D2_{method}_{_slug(importance)}"],
        summary=f"picture of h loses {_pct(e['relative_loss'])}",
    )


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.0f}%"


def loss_split(cells: Any, importance: str, *, rule: str = "norm") -> dict[str, Any]:
    """The loss of k-NN recall of the code space h, split per cell, then summarised.

    Per cell (columns of the ``cells`` table): ``total = h_recall - 1`` (x against itself keeps every
    neighbour), ``dropped = x_rep_recall_<rule> - 1`` (x restricted to the represented features),
    ``superposition = h_recall - x_rep_recall_<rule>``; the parts add up to the total in every cell,
    and so do their means (medians would not). Cells without an ``x_rep`` recall (no represented
    feature) are left out and counted.
    """
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    col = f"x_rep_recall_{rule}"
    if col not in g or "h_recall" not in g:
        return {"n_cells": 0, "n_left_out": len(g)}
    h = g["h_recall"].to_numpy(dtype=float)
    xr = g[col].to_numpy(dtype=float)
    ok = np.isfinite(h) & np.isfinite(xr)
    total, dropped, sup = h[ok] - 1.0, xr[ok] - 1.0, h[ok] - xr[ok]
    return {
        "n_cells": int(ok.sum()), "n_left_out": int((~ok).sum()), "total": total, "dropped": dropped, "superposition": sup,
        "mean_total": float(total.mean()) if ok.any() else float("nan"),
        "mean_dropped": float(dropped.mean()) if ok.any() else float("nan"),
        "mean_superposition": float(sup.mean()) if ok.any() else float("nan"),
        "median_dropped": float(np.median(dropped)) if ok.any() else float("nan"),
        "median_superposition": float(np.median(sup)) if ok.any() else float("nan"),
        "share_superposition": float(sup.sum() / total.sum()) if ok.any() and total.sum() != 0 else float("nan"),
    }


def loss_split_sentence(cells: Any, importance: str, *, rule: str = "norm") -> str:
    """The split in words, with the other rule beside it."""
    s = loss_split(cells, importance, rule=rule)
    o = loss_split(cells, importance, rule=other_rule(rule))
    if not s.get("n_cells"):
        return ""
    text = (f"{variant_label(importance).capitalize()}: the code space h keeps on average {_d2(1 + s['mean_total'])} of "
            f"each input's k nearest neighbours (a loss of {_d2(-s['mean_total'])}). Split cell by cell with {RULE_TEXT[rule]}: "
            f"{_d2(-s['mean_dropped'])} of it goes with the features the model drops and {_d2(-s['mean_superposition'])} "
            f"with superposition among the features it keeps ({_pct(s['share_superposition'])} of the loss; means over "
            f"{s['n_cells']} cells, which add up as the parts do in every cell"
            + (f"; {s['n_left_out']} cell{'s' if s['n_left_out'] != 1 else ''} without a represented feature left out"
               if s["n_left_out"] else "") + ").")
    if o.get("n_cells"):
        text += (f" With {RULE_TEXT[other_rule(rule)]}: {_d2(-o['mean_dropped'])} dropped, "
                 f"{_d2(-o['mean_superposition'])} superposition.")
    return text


def _d2(x: float) -> str:
    """Two decimals ('n/a' for NaN): recall losses are compared at that precision."""
    return "n/a" if not math.isfinite(x) else f"{x:.2f}"


# --------------------------------------------------------------------------------- ring control

RING_CONDITIONS = ("trained_cluster", "trained_alone", "random_cluster", "random_alone", "orthogonal_cluster",
                   "orthogonal_alone")


def ring_control_summary(cells: Any, importance: str, *, rule: str = "norm") -> dict[str, Any]:
    """Medians of the ring control's radius CVs over the cells with at least :data:`RING_MIN_POINTS`
    represented features and some dropped ones, and the explanation they support.

    ``explanation``: ``"origin cluster"`` when every kind of represented rows is a ring with the
    cluster (median CV < :data:`RING_MAX`) and none is without it (> :data:`DISC_MIN`);
    ``"near-equidistance"`` when the trained rows are a ring without the cluster and random
    directions of the same norms are not; ``"undecided"`` otherwise.
    """
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    n_col = f"n_represented_{rule}"
    cols = [f"ring_{c}_{rule}" for c in RING_CONDITIONS]
    if n_col not in g or any(c not in g for c in cols):
        return {"n_cells": 0, "n_left_out": len(g), "explanation": "n/a"}
    use = g[(g[n_col] >= RING_MIN_POINTS) & np.isfinite(g[f"ring_trained_cluster_{rule}"])]
    med = {c: float(use[f"ring_{c}_{rule}"].median()) if len(use) else float("nan") for c in RING_CONDITIONS}
    out: dict[str, Any] = {"n_cells": len(use), "n_left_out": len(g) - len(use), "median": med}
    kinds = ("trained", "random", "orthogonal")
    if not len(use):
        out["explanation"] = "n/a"
    elif all(med[f"{k}_cluster"] < RING_MAX for k in kinds) and all(med[f"{k}_alone"] > DISC_MIN for k in kinds):
        out["explanation"] = "origin cluster"
    elif med["trained_alone"] < RING_MAX and med["random_alone"] > DISC_MIN:
        out["explanation"] = "near-equidistance"
    else:
        out["explanation"] = "undecided"
    return out


def ring_finding(cells: Any, importance: str, *, rule: str = "norm") -> Finding:
    """Why the represented features lie on a ring: near-equidistance or the cluster at the origin."""
    s = ring_control_summary(cells, importance, rule=rule)
    o = ring_control_summary(cells, importance, rule=other_rule(rule))
    verdict = {"origin cluster": "not supported", "near-equidistance": "supported", "undecided": "partly"}.get(
        s["explanation"], "n/a")
    vo = {"origin cluster": "not supported", "near-equidistance": "supported", "undecided": "partly"}.get(
        o["explanation"], "n/a")
    if s["n_cells"]:
        m = s["median"]
        text = (f"Ring control over {s['n_cells']} cells ({RULE_TEXT[rule]}; at least {RING_MIN_POINTS} represented and "
                f"some dropped features; {s['n_left_out']} others left out), median radius CV of the represented points "
                f"(0 = a ring, 0.354 = a uniform disc) in interval MDS: trained rows {fmt(m['trained_cluster'], 2)} with the "
                f"cluster of dropped features at the origin and {fmt(m['trained_alone'], 2)} without it; random directions "
                f"of the same norms {fmt(m['random_cluster'], 2)} and {fmt(m['random_alone'], 2)}; diag(N), exactly "
                f"equidistant, {fmt(m['orthogonal_cluster'], 2)} and {fmt(m['orthogonal_alone'], 2)}. "
                + {"origin cluster": "Every kind of rows is a ring with the cluster and a disc without it, equidistant or "
                                     "not: the cluster at the origin makes the ring, not near-equidistance.",
                   "near-equidistance": "The trained rows are a ring even without the cluster and random directions are "
                                        "not: near-equidistance makes the ring.",
                   "undecided": "The numbers do not separate the two explanations."}[s["explanation"]])
    else:
        text = "No cell has enough represented and dropped features for the control."
    return Finding(
        "The represented features lie on a ring because they are near-equidistant (the study left open whether the "
        "points at the origin make it).",
        text + _rule_note(verdict, vo, rule), verdict, key=f"D-ring-{importance}", method="MDS", importance=importance,
        verdict_other_rule=vo, n_used=s["n_cells"], n_left_out=s.get("n_left_out", 0), figures=["D4_ring_control"],
    )


# ------------------------------------------------------------------------------------ stars

STAR_MAX_M = 5
STAR_MAX_P = 0.2


def star_summary(cells: Any, importance: str) -> dict[str, Any]:
    """The star pattern of MDS pictures of h: low m and sparse p (m <= :data:`STAR_MAX_M`, p <=
    :data:`STAR_MAX_P`) against the other cells. Medians of ``ray_share_h`` (points within 5 degrees
    of a represented feature's ray in h), ``one_active_rep`` (inputs with exactly one represented
    feature active), ``spoke_share`` / ``spoke_chance`` (in the 2-D picture, and for random angles)."""
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    if "ray_share_h" not in g:
        return {"n_star": 0}
    star = (g["m"] <= STAR_MAX_M) & (g["p"] <= STAR_MAX_P)
    out: dict[str, Any] = {"n_star": int(star.sum()), "n_other": int((~star).sum())}
    for name, part in (("star", g[star]), ("other", g[~star])):
        for col in ("ray_share_h", "one_active_rep", "spoke_share", "spoke_chance", "spoke_share_x", "spoke_chance_x"):
            v = part[col].to_numpy(dtype=float) if col in part else np.array([])
            out[f"{name}_{col}"] = float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")
    return out


def star_finding(cells: Any, importance: str) -> Finding:
    """Not a claim of the study: MDS pictures of data points at low m and sparse p are stars."""
    s = star_summary(cells, importance)
    if not s.get("n_star"):
        return Finding("MDS pictures of data points at low m and sparse p show star / spoke patterns (not in the study).",
                       "No cell at low m and sparse p in this run.", "n/a", key=f"D-star-{importance}", method="MDS",
                       importance=importance)
    excess = s["star_spoke_share"] - s["star_spoke_chance"]
    verdict = "supported" if s["star_ray_share_h"] > 2 * max(s["other_ray_share_h"], 0.05) and excess > 0.05 else (
        "partly" if s["star_ray_share_h"] > s["other_ray_share_h"] else "not supported")
    text = (f"In the {s['n_star']} cells with m <= {STAR_MAX_M} and p <= {STAR_MAX_P:g}, a median {_pct(s['star_ray_share_h'])} "
            f"of the data points lie within 5° of a single represented feature's ray in h (against "
            f"{_pct(s['other_ray_share_h'])} in the other {s['n_other']} cells): the inputs with exactly one represented "
            f"feature active ({_pct(s['star_one_active_rep'])}; their dropped features map to nearly 0). In the MDS picture of "
            f"h, {_pct(s['star_spoke_share'])} of the points lie within 5° of a feature's spoke where points at random angles "
            f"would give {_pct(s['star_spoke_chance'])}; in the picture of x, {_pct(s['star_spoke_share_x'])} against "
            f"{_pct(s['star_spoke_chance_x'])}. The spokes are the few represented features' rays: a visible signature of "
            "superposition (many features sharing few dimensions) that the study's pictures of W cannot show.")
    return Finding("MDS pictures of data points at low m and sparse p show star / spoke patterns (not in the study).",
                   text, verdict, key=f"D-star-{importance}", method="MDS", importance=importance, n_used=s["n_star"],
                   figures=[f"D2_mds_{_slug(importance)}"])


def grid_findings(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that fill the verdict grid (those with a ``view``)."""
    return [f for f in findings if f.view]
