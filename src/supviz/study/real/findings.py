"""Section F's findings: what the pictures of a digits model's hidden layer say, from the numbers.

:func:`conclusion` is a pure function of the :class:`supviz.real.experiment.RealResult`: "the picture
lies more when narrower" read against the layer and against the pixels (Spearman of width vs
trustworthiness), "the SAE picture lies less" as paired differences codes - h.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from supviz.core.text import fixed
from supviz.dr.base import METHOD_NAMES
from supviz.real.plots import MEASURE_NAMES
from supviz.report.records import Finding
from supviz.study.common import spearman
from supviz.study.stats import NOT_ENOUGH

#: Fewest (kind, method) sweeps over width a "lies more when narrower" verdict is computed from.
MIN_SWEEPS = 3
#: The effective-feature ratio psi a signed layer reaches with no superposition: a ReLU SAE needs a +/- latent pair per
#: direction of centred signed inputs.
SIGNED_PAIR = 2.0


def above_psi_bound(quality: Any) -> Any:
    """The layers whose effective-feature ratio ψ exceeds what the layer reaches with no superposition.

    ``quality``: one row per layer with ``kind`` and ``superposition_ratio`` (ψ = F / w). A non-negative layer (the
    classifier's ``h = ReLU(x W1 + b1)``) is bounded by 1; a signed one (the autoencoder's ``h = x W``) by
    :data:`SIGNED_PAIR`, since a ReLU SAE on centred signed inputs spends a +/- latent pair on each direction.
    """
    bound = np.where(quality["kind"] == "autoencoder", SIGNED_PAIR, 1.0)
    return quality[quality["superposition_ratio"].to_numpy(dtype=float) > bound]


def _trend(rho: float) -> str:
    if not math.isfinite(rho):
        return "no defined trend"
    if rho >= 0.5:
        return "rises with width"
    if rho <= -0.5:
        return "falls with width"
    return "has no clear trend in width"


def conclusion(r: Any) -> tuple[str, list[Finding]]:
    """The section's text and findings, computed from a :class:`~supviz.real.experiment.RealResult`.

    "The picture lies more when the layer is narrower" is read two ways, both measured: against the
    layer it pictures (trustworthiness / continuity of the picture against h) and against the data
    (against the pixels). "The SAE picture lies less" compares, pair by pair (kind, width, method),
    the picture of the SAE codes with the picture of h: trustworthiness and continuity against the
    pixels and the k-NN label accuracy. Undefined values (NaN) are left out and counted.
    """
    cfg = r.config
    arch = cfg["architectures"][0]
    methods = list(cfg["sweep_methods"]) or list(cfg["methods"])
    parts: list[str] = []
    findings: list[Finding] = []
    m = r.models
    clf = m[m["kind"] == "classifier"].groupby("width")["test_accuracy"].mean()
    ae = m[m["kind"] == "autoencoder"].groupby("width")["test_fvu"].mean()
    parts.append(
        f"Data: scikit-learn's digits ({r.data['n']} images of 8 × 8 pixels, 10 classes), pixels / 16, split by class "
        f"into {r.data['n_train']} training and {r.data['n_test']} held-out images (split seed "
        f"{r.data['split_seed']}). Models: {cfg['replicates']} classifier MLP(s) 64 → w → 10 per width and as many "
        f"toy-shaped autoencoders x' = ReLU(W Wᵀx + b), trained together (Adam, {cfg['steps']} steps of "
        f"{cfg['batch_size']} rows, lr {cfg['lr']:g}). Held-out accuracy of the classifier: "
        + ", ".join(f"{fixed(v, 3)} at w = {w}" for w, v in clf.items())
        + (
            ("; autoencoder test FVU: " + ", ".join(f"{fixed(v, 3)} at w = {w}" for w, v in ae.items()))
            if len(ae)
            else ""
        )
        + "."
    )
    q = r.quality[r.quality["architecture"] == arch]
    eff = []
    for kind in ("classifier", "autoencoder"):
        t = q[q["kind"] == kind].sort_values("width")
        if len(t):
            eff.append(
                f"{kind}: "
                + ", ".join(
                    f"F = {fixed(a, 1)} at w = {w} (ψ = {fixed(b)})"
                    for w, a, b in zip(t["width"], t["effective_features"], t["superposition_ratio"])
                )
            )
    above = above_psi_bound(q)
    parts.append(
        f"How many features does the layer hold? An {arch} SAE with {cfg['sae_expansion']:g} latents per dimension, "
        "trained on each hidden layer's training rows and measured on the held-out rows, gives Bereska et al.'s "
        "effective feature count F = exp(H) (H the entropy of the latents' share of activation mass) and ψ = F / w: "
        + "; ".join(eff)
        + ". What ψ can show: the classifier's h = ReLU(x W1 + b1) is non-negative, so ψ > 1 there hints at more "
        "features than dimensions; the autoencoder's h = x W is signed, and an SAE on centred signed inputs spends a "
        f"+/- pair of latents on each direction, so ψ up to {SIGNED_PAIR:g} arises there with no superposition at all, "
        f"and only ψ > {SIGNED_PAIR:g} would hint at more. What it cannot show: that the layer holds features in "
        "superposition. F is a count of how the SAE spreads activation mass, not of the network's features; it "
        f"cannot exceed the dictionary size {cfg['sae_expansion']:g} w, and on planted features an L1 SAE whose "
        "dictionary exceeds the planted count counts up to 1.5 times too many. "
        + (
            f"{len(above)} of {len(q)} layers are above their bound ("
            + ", ".join(f"{k} w = {w}" for k, w in zip(above["kind"], above["width"]))
            + "): a hint to be checked against the calibration below, not evidence of superposition"
            if len(above)
            else f"No layer is above its bound ({len(q)} layers): nothing here hints at more features than dimensions"
        )
        + "."
    )
    # does the picture lie more when the layer is narrower?
    p = r.pictures
    s = r.spaces
    lines, own_trends, pix_trends = [], [], []
    for method in methods:
        for kind in ("classifier", "autoencoder"):
            t = p[(p["kind"] == kind) & (p["space"] == "hidden") & (p["method"] == method)].sort_values("width")
            if len(t) < 3:
                continue
            ro, rp = spearman(t["width"], t["trustworthiness"]), spearman(t["width"], t["trustworthiness_pixels"])
            own_trends.append(ro)
            pix_trends.append(rp)
            sp = s[(s["kind"] == kind) & (s["space"] == "hidden")].sort_values("width")
            lines.append(
                f"{kind}, {METHOD_NAMES[method]}: trustworthiness against h {_trend(ro)} (Spearman ρ = {fixed(ro)}; "
                f"{fixed(t['trustworthiness'].iloc[0], 3)} at w = {int(t['width'].iloc[0])}, "
                f"{fixed(t['trustworthiness'].iloc[-1], 3)} at w = {int(t['width'].iloc[-1])}); against the pixels it "
                f"{_trend(rp)} (ρ = {fixed(rp)}; {fixed(t['trustworthiness_pixels'].iloc[0], 3)} to "
                f"{fixed(t['trustworthiness_pixels'].iloc[-1], 3)}), and the layer itself, before any picture, keeps "
                f"trustworthiness {fixed(sp['trustworthiness_pixels'].iloc[0], 3)} to "
                f"{fixed(sp['trustworthiness_pixels'].iloc[-1], 3)} against the pixels"
            )
    pix = p[p["kind"] == "pixels"]
    pixel_ref = ", ".join(
        f"{METHOD_NAMES[mm]} {fixed(v, 3)}" for mm, v in zip(pix["method"], pix["trustworthiness"]) if mm in methods
    )
    own_up = sum(1 for x in own_trends if math.isfinite(x) and x >= 0.5)
    pix_up = sum(1 for x in pix_trends if math.isfinite(x) and x >= 0.5)
    n_tr = sum(1 for x in own_trends if math.isfinite(x))
    if lines:
        parts.append(
            "Does the picture of the latent space lie more when the layer is narrower? Read two ways, over the widths "
            f"{cfg['widths']} (autoencoder {cfg['autoencoder_widths']}): " + "; ".join(lines) + ". "
            f"For reference, the pixels' own picture has trustworthiness {pixel_ref}. "
            + (
                "So a narrow layer is pictured faithfully (the 2-D picture of a few dimensions invents few "
                "neighbours), but the layer has already lost the pixels' neighbourhoods: the lie is in the layer, not "
                "in the picture."
                if pix_up > n_tr / 2 and own_up <= n_tr / 2
                else "So narrower layers are pictured less faithfully and lose more of the pixels' neighbourhoods."
                if pix_up > n_tr / 2 and own_up > n_tr / 2
                else "Neither reading shows a consistent trend with width."
            )
        )
        verdict = (
            NOT_ENOUGH
            if n_tr < MIN_SWEEPS
            else "supported"
            if (own_up > n_tr / 2 and pix_up > n_tr / 2)
            else ("partly" if (own_up > n_tr / 2 or pix_up > n_tr / 2) else "not supported")
        )
        findings.append(
            Finding(
                "The picture of a real network's latent space lies more when the layer is narrower.",
                f"Against the layer it pictures, trustworthiness rises with width in {own_up} of {n_tr} (kind, method) "
                f"sweeps; against the pixels in {pix_up} of {n_tr}.",
                verdict,
                key="F-narrower-lies-more",
                n_used=n_tr,
                n_left_out=len(own_trends) - n_tr,
                unit="(kind, method) sweeps over width",
                comparison="sweeps whose Spearman rho(width, trustworthiness) >= 0.5, against the layer and against "
                "the pixels; a majority of both: supported",
            )
        )
    # does the SAE picture lie less?
    pairs = []
    for (kind, w, method), t in p[p["kind"] != "pixels"].groupby(["kind", "width", "method"]):
        h = t[t["space"] == "hidden"]
        c = t[(t["space"] == "codes") & (t["architecture"] == arch)]
        if len(h) and len(c):
            pairs.append((h.iloc[0], c.iloc[0]))
    if pairs:
        stats = {}
        for col in ("trustworthiness_pixels", "continuity_pixels", "knn_accuracy"):
            d = np.array([float(c[col]) - float(h[col]) for h, c in pairs])
            ok = np.isfinite(d)
            stats[col] = (
                float(np.mean(d[ok])) if ok.any() else math.nan,
                int((d[ok] > 0).sum()),
                int(ok.sum()),
                int((~ok).sum()),
            )
        t_mean, t_win, t_n, t_nan = stats["trustworthiness_pixels"]
        k_mean, k_win, k_n, _ = stats["knn_accuracy"]
        c_mean, c_win, c_n, _ = stats["continuity_pixels"]
        parts.append(
            f"Does the SAE picture lie less? Over {len(pairs)} pairs (kind, width, method), the picture of the {arch} "
            f"SAE codes against the picture of h: trustworthiness against the pixels changes by {fixed(t_mean, 3)} on "
            f"average (codes higher in {t_win} of {t_n}), continuity by {fixed(c_mean, 3)} ({c_win} of {c_n}), k-NN "
            f"label accuracy by {fixed(k_mean, 3)} ({k_win} of {k_n})"
            + (f"; {t_nan} pair(s) left out (undefined)" if t_nan else "")
            + ". "
            + (
                "The SAE's codes give a more faithful picture of the data than the raw layer."
                if t_n and t_win >= 0.75 * t_n and t_mean > 0
                else "The SAE's codes do not give a more faithful picture of the data than the raw layer: on these "
                "small layers the codes re-express what h holds, and a picture of them keeps no more of the pixels' "
                "neighbourhoods."
                if t_n and t_win <= 0.25 * t_n
                else "The SAE's codes are about as faithful as the raw layer: better in some pairs, worse in others."
            )
        )
        verdict = (
            "supported"
            if t_n and t_win >= 0.75 * t_n and t_mean > 0
            else "not supported"
            if t_n and t_win <= 0.25 * t_n
            else "partly"
            if t_n
            else "n/a"
        )
        findings.append(
            Finding(
                "The picture of the SAE codes lies less than the picture of the raw layer.",
                f"Trustworthiness against the pixels: codes − h = {fixed(t_mean, 3)} on average, codes higher in "
                f"{t_win} of {t_n} pairs; k-NN label accuracy {fixed(k_mean, 3)} ({k_win} of {k_n}).",
                verdict,
                key="F-sae-lies-less",
                n_used=t_n,
                n_left_out=t_nan,
                unit="(kind, width, method) pairs",
                estimate=t_mean,
                null=0.0,
                comparison="paired difference of trustworthiness against the pixels, picture of the SAE codes minus "
                "picture of h; codes higher in at least 75% of pairs and on average: supported",
            )
        )
    # calibration
    if r.calibration is not None and len(r.calibration):
        c = r.correlations[(r.correlations["architecture"] == arch) & (r.correlations["target"] == "mmcs")]
        c = c[np.isfinite(c["rho"].to_numpy(dtype=float))]
        cnt = r.correlations[(r.correlations["architecture"] == arch) & (r.correlations["target"] == "n_represented")]
        n_cells = int((r.calibration["architecture"] == arch).sum())
        if len(c):
            best = c.iloc[int(np.argmax(np.abs(c["rho"].to_numpy(dtype=float))))]
            ranked = c.reindex(c["rho"].abs().sort_values(ascending=False).index)
            reads = r.readings[(r.readings["architecture"] == arch) & (r.readings["measure"] == best["measure"])]
            rd = reads[(reads["kind"] == "classifier") & (reads["width"] == cfg["picture_width"])]
            est = rd.iloc[0] if len(rd) else None
            name = MEASURE_NAMES.get(best["measure"], best["measure"])  # the reader's words, not the column's
            parts.append(
                f"Which no-ground-truth measure tracks true recovery? On {n_cells} toy cells of section 2 measured "
                "like the digits layers (same rows, recipe and measures), Spearman's ρ with the true MMCS (in "
                "brackets: the mean ρ inside each hidden size m): "
                + ", ".join(
                    f"{MEASURE_NAMES.get(row.measure, row.measure)} {fixed(row.rho)} ({fixed(row.rho_within)})"
                    for row in ranked.itertuples()
                )
                + f". The best is {name} (ρ = {fixed(best['rho'])}, p = {best['p_value']:.1g}, within m "
                f"{fixed(best['rho_within'])})"
                + (
                    "; the effective feature count follows the true number of represented features with ρ = "
                    f"{fixed(cnt.iloc[0]['rho'])} (over cells of every m, so partly because both grow with m)"
                    if len(cnt)
                    else ""
                )
                + ". "
                + (
                    "Inside one hidden size the best measure tracks recovery only weakly (mean ρ "
                    f"{fixed(best['rho_within'])}): most of its correlation comes from the width of the layer, so read "
                    "it as a coarse guide. "
                    if "rho_within" in best
                    and math.isfinite(float(best["rho_within"]))
                    and abs(float(best["rho_within"])) < 0.5
                    else ""
                )
                + (
                    f"Read through the cells (a monotone fit of MMCS on {name}), the classifier's w = "
                    f"{cfg['picture_width']} layer ({name} {fixed(est['value'])}) is where toy cells "
                    f"recover MMCS ≈ {fixed(est['estimated_mmcs'])}"
                    if est is not None and math.isfinite(float(est["estimated_mmcs"]))
                    else f"The classifier's w = {cfg['picture_width']} layer cannot be read through the cells: "
                    f"{est['reason'] if est is not None else 'no value'}"
                )
                + "; per layer in the table below."
            )
    return "\n\n".join(parts), findings
