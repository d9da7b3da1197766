"""Section C's findings: the study's main claims on the pictures of the feature directions (C2-C5).

Pure functions of the run's ``panels`` table (:mod:`supviz.study.verdicts` has the shared rules).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.sources import source_for
from supviz.study.stats import abs_below_verdict, banded_verdict, bootstrap_interval, stratified_spearman
from supviz.study.verdicts import (
    CENTRE_MAX,
    RHO_NONE,
    RING_MAX,
    RING_MIN_POINTS,
    RULE_TEXT,
    defined,
    fmt,
    other_rule,
    rule_note,
    spearman,
    variant_slug,
)

#: Median core ratio above which the dropped features are not at the centre (C2), and radius CV above which the
#: represented features are not a ring (a uniform disc has 0.354); between these and CENTRE_MAX / RING_MAX: partly.
CENTRE_NOT = 0.7
RING_NOT = 0.3


def _c(panels: Any, exp: str, importance: str, rule: str | None = None) -> Any:
    sel = panels[(panels["experiment"] == exp) & (panels["importance"] == importance)]
    if rule is not None and "represented_rule" in sel:
        sel = sel[sel["represented_rule"] == rule]
    return sel


def _c2_centre_one(panels: Any, importance: str, rule: str) -> tuple[str, str, int, int, Any]:
    c2 = _c(panels, "C2", importance)
    col = f"core_ratio_{rule}"
    ok, left, why = defined(c2, col)
    core = ok[col].to_numpy(dtype=float)
    if not len(core):
        return (
            "n/a",
            f"no C2 panel drops a feature under {RULE_TEXT[rule]}{why}",
            0,
            left,
            (float("nan"), (float("nan"), float("nan"))),
        )
    med = float(np.median(core))
    ci = bootstrap_interval(core)
    verdict = banded_verdict(med, ci, CENTRE_MAX, CENTRE_NOT, n=len(core))
    text = (
        f"in the {len(core)} C2 panels that drop features ({RULE_TEXT[rule]}), the dropped features' median distance "
        f"from the centre is {fmt(med)} [95% interval {fmt(ci[0])}, {fmt(ci[1])}, bootstrap over panels] x that of "
        f"the represented ones (range {fmt(core.min())}-{fmt(core.max())})"
    )
    return verdict, text, len(core), left, (med, ci)


def c2_centre(panels: Any, importance: str, *, rule: str = "norm") -> Finding:
    """C2: the dropped features collapse to the centre of the MDS picture (median core ratio < 0.3)."""
    v, text, used, left, (med, ci) = _c2_centre_one(panels, importance, rule)
    vo = _c2_centre_one(panels, importance, other_rule(rule))[0]
    return Finding(
        "Dropped, unimportant features collapse to the centre of the MDS picture.",
        text[0].upper() + text[1:] + "." + rule_note(v, vo, rule),
        v,
        key=f"C2-centre-{importance}",
        method="MDS",
        importance=importance,
        verdict_other_rule=vo,
        n_used=used,
        n_left_out=left,
        figures=[f"C2_{variant_slug(importance)}"],
        estimate=med,
        interval=ci,
        unit="panels",
        threshold=CENTRE_MAX,
        comparison=f"median core ratio of the C2 panels that drop features: below {CENTRE_MAX:g} supported, above "
        f"{CENTRE_NOT:g} not",
    )


def _c2_ring_one(panels: Any, importance: str, rule: str) -> tuple[str, str, int, int, Any]:
    c2 = _c(panels, "C2", importance)
    col, n_col = f"ring_cv_{rule}", f"n_represented_{rule}"
    big = c2[(c2[n_col] >= RING_MIN_POINTS) & np.isfinite(c2[f"core_ratio_{rule}"])] if n_col in c2 else c2.iloc[:0]
    small = len(c2) - len(big)
    ok, left, why = defined(big, col)
    ring = ok[col].to_numpy(dtype=float)
    if not len(ring):
        return (
            "n/a",
            f"no C2 panel with at least {RING_MIN_POINTS} represented and some dropped features",
            0,
            small + left,
            (float("nan"), (float("nan"), float("nan"))),
        )
    med = float(np.median(ring))
    ci = bootstrap_interval(ring)
    verdict = banded_verdict(med, ci, RING_MAX, RING_NOT, n=len(ring))
    text = (
        f"radius CV of the represented features around their centroid (0 = ring, about 0.35 = uniform disc): median "
        f"{fmt(med)} [95% interval {fmt(ci[0])}, {fmt(ci[1])}, bootstrap over panels] over the {len(ring)} C2 panels "
        f"with at least {RING_MIN_POINTS} represented and some dropped features ({RULE_TEXT[rule]}; {small} others "
        f"left out{why.replace(';', ',') if why else ''})"
    )
    return verdict, text, len(ring), small + left, (med, ci)


def c2_ring(panels: Any, importance: str, *, rule: str = "norm") -> Finding:
    """C2: the represented features lie on a ring (median radius CV < 0.15)."""
    v, text, used, left, (med, ci) = _c2_ring_one(panels, importance, rule)
    vo = _c2_ring_one(panels, importance, other_rule(rule))[0]
    return Finding(
        "The represented features lie on the perimeter of a circle.",
        text[0].upper()
        + text[1:]
        + ". Why (the ring control, section 3): see the conclusion."
        + rule_note(v, vo, rule),
        v,
        key=f"C2-ring-{importance}",
        method="MDS",
        importance=importance,
        verdict_other_rule=vo,
        n_used=used,
        n_left_out=left,
        figures=[f"C2_{variant_slug(importance)}"],
        estimate=med,
        interval=ci,
        unit="panels",
        threshold=RING_MAX,
        comparison=f"median radius CV of the represented features: below {RING_MAX:g} supported (a ring), above "
        f"{RING_NOT:g} not (a disc has 0.354)",
    )


#: The panels of the orthogonal baseline (diag(N) alone) whose distance to the ratio-MDS baseline measures the noise
#: floor of each method's Procrustes distance: what P a picture has with no superposition at all.
NOISE_FLOOR_EXPERIMENT = {"UMAP": ("B3",)}  # MDS: the baseline is itself ratio MDS of diag(N), no separate floor


def noise_floor(panels: Any, method: str) -> float:
    """Median Procrustes distance to the orthogonal baseline of ``method``'s pictures of diag(N) alone (section B);
    NaN where the run drew none (or, for MDS, where every such distance is 0: the baseline against itself)."""
    exps = NOISE_FLOOR_EXPERIMENT.get(method, ())
    if "procrustes_baseline" not in panels:
        return float("nan")
    v = panels[panels["experiment"].isin(exps)]["procrustes_baseline"].to_numpy(dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.median(v)) if v.size else float("nan")


def _signature_one(panels: Any, exp: str, importance: str, rule: str) -> tuple[str, str, int, int, Any]:
    prs = _c(panels, exp, importance, rule)
    ok, left, why = defined(prs, "procrustes_baseline")
    inv_p = 1.0 / ok["p"].to_numpy(dtype=float)
    P = ok["procrustes_baseline"].to_numpy(dtype=float)
    pooled = spearman(inv_p, P)
    st = stratified_spearman(inv_p, P, ok["m"].to_numpy())
    floor = noise_floor(panels, "MDS" if exp == "C3" else "UMAP")
    worst = ok.sort_values("procrustes_baseline", ascending=False).head(3)
    verdict = abs_below_verdict(st.rho, st.interval, RHO_NONE, n=st.n)
    per = ", ".join(f"m = {k}: {fmt(r, 2)}" for k, (r, _n) in st.per_stratum.items())
    med = float(np.median(P)) if len(P) else float("nan")
    text = (
        f"Procrustes distance P of the picture of the represented features ({RULE_TEXT[rule]}) to the orthogonal "
        f"baseline: median {fmt(med)}"
        + (f" (noise floor, the same method on diag(N) alone: {fmt(floor)})" if np.isfinite(floor) else "")
        + f". Spearman correlation of P with sparsity 1/p within each m ({per}), combined: {fmt(st.rho)} "
        f"[95% interval {fmt(st.interval[0])}, {fmt(st.interval[1])}] over {st.n} panels; pooled over all m (which "
        f"mixes the m strata) {fmt(pooled)} over {len(ok)} panels{why}. No signature needs the whole interval within "
        f"+-{RHO_NONE:g}. Most deviant cells: "
        + ", ".join(f"{r_.panel} ({fmt(r_.procrustes_baseline)})" for r_ in worst.itertuples())
    )
    return verdict, text, st.n, left + (len(ok) - st.n), (st, floor)


def no_signature(panels: Any, exp: str, importance: str, *, rule: str = "norm") -> Finding:
    """C3 (MDS) / C5 (UMAP): no signature of superposition in the picture of the represented features.

    Measured: whether the picture's Procrustes distance P to the orthogonal baseline follows sparsity
    within each m (Spearman rho of (1/p, P) per m, combined over m: :func:`~supviz.study.stats.stratified_spearman`;
    pooled over m, strata with different P levels can give the wrong sign). 'supported' (no signature) when the
    whole 95% interval lies within +-:data:`RHO_NONE`, 'not supported' when it lies wholly outside, 'not enough
    evidence' when it straddles. The noise floor: the same method's P on diag(N) alone (section B).
    """
    method = "MDS" if exp == "C3" else "UMAP"
    v, text, used, left, (st, floor) = _signature_one(panels, exp, importance, rule)
    vo, _, _, _, _ = _signature_one(panels, exp, importance, other_rule(rule))
    claim = (
        "No obvious signature of superposition in the MDS of the represented features; only particular cells deviate."
        if exp == "C3"
        else "As with MDS, UMAP of the represented features shows obvious artifacts only in particular cells."
    )
    return Finding(
        claim,
        text + "." + rule_note(v, vo, rule),
        v,
        key=f"{exp}-signature-{importance}",
        method=method,
        importance=importance,
        view="feature directions",
        verdict_other_rule=vo,
        n_used=used,
        n_left_out=left,
        figures=[f"{exp}_{variant_slug(importance)}"],
        summary=f"rho within m {fmt(st.rho, 2)} [{fmt(st.interval[0], 2)}, {fmt(st.interval[1], 2)}]",
        estimate=st.rho,
        interval=st.interval,
        unit="panels",
        null=0.0,
        threshold=RHO_NONE,
        comparison=f"Spearman rho(1/p, P) within m, combined over m, against +-{RHO_NONE:g} (P's noise floor "
        f"{fmt(floor)})",
        source=source_for(exp),
    )


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
    _, left_t, _ = defined(c4, "trustworthiness")
    score = int(bool(np.isfinite(p_lo) and p_lo > p_hi)) + int(bool(np.isfinite(t_lo) and t_lo < t_hi))
    return Finding(
        "UMAP shows substantial artifacts at low m, without a consistent pattern.",
        f"Median trustworthiness of C4 at m <= {cut}: {fmt(t_lo)}, at larger m: {fmt(t_hi)}; median Procrustes "
        f"distance to the baseline {fmt(p_lo)} against {fmt(p_hi)} ({len(c4) - left_t} panels with a defined "
        "trustworthiness).",
        {2: "supported", 1: "partly", 0: "not supported"}[score],
        key=f"C4-low-m-{importance}",
        method="UMAP",
        importance=importance,
        unit="panels",
        comparison=f"medians at m <= {cut} against larger m: trustworthiness lower and distance to the baseline "
        "larger (2 of 2: supported, 1: partly); no interval: a comparison of two medians of a few panels each",
        n_used=len(c4) - left_t,
        n_left_out=left_t,
        figures=[f"C4_{variant_slug(importance)}"],
    )


def tsne_not_pictured(importance: str) -> Finding:
    """The grid's t-SNE / feature-directions cell: the study drew no t-SNE of W."""
    return Finding(
        "t-SNE of the feature directions (not in the study: it avoided t-SNE after section 1).",
        "Not pictured: the study drew no t-SNE of W, so there is no claim to test.",
        "n/a",
        key=f"C-tsne-{importance}",
        method="t-SNE",
        importance=importance,
        view="feature directions",
        summary="not pictured by the study",
    )
