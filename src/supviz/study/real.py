"""Section F (issue 12): a real network. The hidden layer of a digits model, pictured raw and through SAEs.

The study ends: "It would be nice to do some experiments like this with real data". This section
trains small networks on scikit-learn's digits (:mod:`supviz.real`), pictures their hidden layers
and the SAE codes of those layers with MDS, UMAP and t-SNE, measures what can be measured without
ground-truth features, and reads the SAE measures through toy cells of section 2 where the truth
is known (the calibration bridge). Figures: F1 the pictures at one width, F2 the width sweep, F3
the calibration. The conclusion is written from the numbers (:func:`conclusion`).

The whole result is one :class:`supviz.real.experiment.RealResult` (tables and arrays), cached by
the run through :mod:`supviz.runtime.codecs`; its pictures are computed by ``ctx.layouts`` (cached
one by one, in parallel).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from supviz.real.config import RealConfig
from supviz.study.context import RunContext
from supviz.study.sections import Finding, Section, SectionOutput, TableBlock

_METHOD = {"mds": "MDS", "umap": "UMAP", "tsne": "t-SNE"}


def _f(v: Any, digits: int = 2) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def _frame(frame: Any) -> dict[str, Any] | None:
    """A DataFrame as figure cache-key content (numbers as float arrays, text as lists)."""
    if frame is None:
        return None
    out = {}
    for c in frame.columns:
        col = frame[c]
        out[str(c)] = col.to_numpy(dtype=float) if col.dtype.kind in "fiub" else [str(v) for v in col]
    return out


class RealSection(Section):
    """F1-F3: pictures of a digits model's hidden layer, the width sweep, the calibration."""

    key = "real"
    title = "F. A real network: the hidden layer of a digits model, pictured raw and through an SAE"
    config_key = "real"
    config_class = RealConfig
    needs_grid = True

    def compute(self, ctx: RunContext) -> Any:
        from supviz.real.experiment import digits_experiment
        from supviz.study.context import LayoutTask

        cfg: RealConfig = ctx.config.section("real")
        grid, _ = ctx.grid()

        def layouts(tasks: list[tuple[np.ndarray, str, dict[str, Any], int]]) -> list[Any]:
            done = ctx.layouts([LayoutTask(np.asarray(X, dtype=np.float64), m, p, s) for X, m, p, s in tasks],
                               desc="real-network pictures")
            return [lay for lay, _key in done]

        return digits_experiment(cfg, seed=ctx.seed("real"), grid=grid, layouts=layouts)

    def render(self, ctx: RunContext, result: Any) -> SectionOutput:
        from supviz.real import plots
        from supviz.real.calibration import CALIBRATED

        r = result
        cfg = r.config
        arch = cfg["architectures"][0]
        figs = []
        figs.append(ctx.figure(
            "F1_pictures", title=f"F1. The hidden layers at width {cfg['picture_width']}, raw and through an SAE, coloured by digit class",
            caption=(f"Rows: the {r.data['n_test']} held-out digits as pixels (the control), as the hidden layer h of a "
                     f"classifier MLP 64 → {cfg['picture_width']} → 10, as that layer's {arch} SAE codes, and the same for "
                     f"the toy-shaped autoencoder x' = ReLU(W Wᵀx + b) of width {cfg['picture_width']}. Columns: MDS (ratio "
                     "SMACOF), UMAP, t-SNE (section D's settings). Colour: the digit. Corner: kNN = k-NN label accuracy in the "
                     f"picture ({cfg['folds']}-fold cross-validated, k = {cfg['k']}), sil = silhouette of the classes in the picture, "
                     "T and C = trustworthiness and continuity of the picture against the space it pictures / against the pixels."),
            content={"f1": {k: v for k, v in r.f1.items()}, "pictures": _frame(r.pictures)},
            static=lambda r=r: plots.pictures_figure(r.f1, r.pictures),
        ))
        sweep_methods = list(cfg["sweep_methods"]) or list(cfg["methods"])
        figs.append(ctx.figure(
            "F2_width_sweep", title="F2. The width sweep: accuracy, effective features and picture quality against the hidden width",
            caption=(f"(a) Classifier test accuracy and autoencoder variance explained (1 − FVU) on the held-out digits, "
                     f"mean and range over {cfg['replicates']} replicate(s). (b) Bereska et al.'s effective feature count "
                     f"F = exp(H) of each hidden layer's {arch} SAE codes (at most the dictionary size, {cfg['sae_expansion']:g} w); "
                     "above the dotted line the layer holds more features than dimensions (superposition). (c) SAE quality "
                     "without ground truth: decoder stability across seeds and against a larger dictionary, 1 − FVU. "
                     "(d)-(f) Pictures of the hidden layer h (solid) and of its SAE codes (dashed) by "
                     f"{', '.join(_METHOD[m] for m in sweep_methods)}: trustworthiness against the space pictured, against "
                     "the pixels, and k-NN label accuracy; grey dash-dot: the pixels' own picture."),
            content={"m": _frame(r.models), "q": _frame(r.quality), "p": _frame(r.pictures), "methods": sweep_methods,
                     "arch": arch},
            static=lambda r=r, a=arch, ms=sweep_methods: plots.sweep_figure(r.models, r.quality, r.spaces, r.pictures,
                                                                          architecture=a, methods=ms),
        ))
        has_cal = r.calibration is not None and len(r.calibration) > 0
        if has_cal:
            n_cells = int((r.calibration["architecture"] == arch).sum())
            figs.append(ctx.figure(
                "F3_calibration", title="F3. The calibration bridge: no-ground-truth SAE measures against true recovery on toy cells",
                caption=(f"Each point is a toy cell of section 2 ({n_cells} cells: m in "
                         f"{sorted(set(int(m) for m in r.calibration['m']))}, every p and importance), treated like a digits layer: "
                         f"{r.data['n_train']} rows of h = xW, the same {arch} SAE recipe, the same measures (x) on "
                         f"{r.data['n_test']} fresh rows; y: the true MMCS of the same SAEs against the cell's represented "
                         "features (‖W_i‖ > 0.5). Title: Spearman's rank correlation over cells. Ticks at the bottom: where the "
                         "digits layers lie. Last panel: the effective feature count against the true number of represented "
                         "features."),
                content={"c": _frame(r.calibration), "r": _frame(r.correlations), "q": _frame(r.quality), "arch": arch},
                static=lambda r=r, a=arch: plots.calibration_figure(r.calibration, r.correlations, r.quality, architecture=a,
                                                                   measures=CALIBRATED),
            ))
        text, findings = conclusion(r)
        return SectionOutput(key=self.key, title=self.title, intro=text, figures=figs, tables=_tables(r), findings=findings,
                             rows=_rows(r), notes=list(r.notes))


# -- text --------------------------------------------------------------------------------------------


def _rho(x: Any, y: Any) -> float:
    from scipy.stats import spearmanr

    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return math.nan
    return float(spearmanr(a[ok], b[ok]).statistic)


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
        f"Data: scikit-learn's digits ({r.data['n']} images of 8 × 8 pixels, 10 classes), pixels / 16, split by class into "
        f"{r.data['n_train']} training and {r.data['n_test']} held-out images (split seed {r.data['split_seed']}). Models: "
        f"{cfg['replicates']} classifier MLP(s) 64 → w → 10 per width and as many toy-shaped autoencoders x' = ReLU(W Wᵀx + b), "
        f"trained together (Adam, {cfg['steps']} steps of {cfg['batch_size']} rows, lr {cfg['lr']:g}). Held-out accuracy of "
        "the classifier: " + ", ".join(f"{_f(v, 3)} at w = {w}" for w, v in clf.items())
        + (("; autoencoder test FVU: " + ", ".join(f"{_f(v, 3)} at w = {w}" for w, v in ae.items())) if len(ae) else "") + "."
    )
    q = r.quality[r.quality["architecture"] == arch]
    eff = []
    for kind in ("classifier", "autoencoder"):
        t = q[q["kind"] == kind].sort_values("width")
        if len(t):
            eff.append(f"{kind}: " + ", ".join(f"F = {_f(a, 1)} at w = {w} (ψ = {_f(b)})" for w, a, b in
                                                  zip(t["width"], t["effective_features"], t["superposition_ratio"])))
    above = q[q["superposition_ratio"] > 1]
    parts.append(
        f"How many features does the layer hold? An {arch} SAE with {cfg['sae_expansion']:g} latents per dimension, trained on "
        "each hidden layer's training rows and measured on the held-out rows, gives Bereska et al.'s effective feature "
        "count F = exp(H) (H the entropy of the latents' share of activation mass) and ψ = F / w: " + "; ".join(eff) + ". "
        + (f"{len(above)} of {len(q)} layers hold more effective features than dimensions (ψ > 1: superposition in a real "
           f"network: {', '.join(f'{k} w = {w}' for k, w in zip(above['kind'], above['width']))})" if len(above) else
           f"No layer holds more effective features than dimensions (ψ ≤ 1 for all {len(q)})")
        + f". F cannot exceed the dictionary size {cfg['sae_expansion']:g} w (ψ near {cfg['sae_expansion']:g}: the dictionary "
        "is too small to tell), and it leans high: on planted features an L1 SAE whose dictionary exceeds the planted count "
        "counts up to 1.5 times too many (tests/real/test_layer.py), so read ψ > 1 as a hint, and the count through the "
        "calibration below."
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
            ro, rp = _rho(t["width"], t["trustworthiness"]), _rho(t["width"], t["trustworthiness_pixels"])
            own_trends.append(ro)
            pix_trends.append(rp)
            sp = s[(s["kind"] == kind) & (s["space"] == "hidden")].sort_values("width")
            lines.append(
                f"{kind}, {_METHOD[method]}: trustworthiness against h {_trend(ro)} (Spearman ρ = {_f(ro)}; "
                f"{_f(t['trustworthiness'].iloc[0], 3)} at w = {int(t['width'].iloc[0])}, {_f(t['trustworthiness'].iloc[-1], 3)} at "
                f"w = {int(t['width'].iloc[-1])}); against the pixels it {_trend(rp)} "
                f"(ρ = {_f(rp)}; {_f(t['trustworthiness_pixels'].iloc[0], 3)} to {_f(t['trustworthiness_pixels'].iloc[-1], 3)}), "
                f"and the layer itself, before any picture, keeps trustworthiness {_f(sp['trustworthiness_pixels'].iloc[0], 3)} to "
                f"{_f(sp['trustworthiness_pixels'].iloc[-1], 3)} against the pixels")
    pix = p[p["kind"] == "pixels"]
    pixel_ref = ", ".join(f"{_METHOD[mm]} {_f(v, 3)}" for mm, v in zip(pix["method"], pix["trustworthiness"]) if mm in methods)
    own_up = sum(1 for x in own_trends if math.isfinite(x) and x >= 0.5)
    pix_up = sum(1 for x in pix_trends if math.isfinite(x) and x >= 0.5)
    n_tr = sum(1 for x in own_trends if math.isfinite(x))
    if lines:
        parts.append(
            "Does the picture of the latent space lie more when the layer is narrower? Read two ways, over the widths "
            f"{cfg['widths']} (autoencoder {cfg['autoencoder_widths']}): " + "; ".join(lines) + ". "
            f"For reference, the pixels' own picture has trustworthiness {pixel_ref}. "
            + ("So a narrow layer is pictured faithfully (the 2-D picture of a few dimensions invents few neighbours), but "
               "the layer has already lost the pixels' neighbourhoods: the lie is in the layer, not in the picture."
               if pix_up > n_tr / 2 and own_up <= n_tr / 2 else
               "So narrower layers are pictured less faithfully and lose more of the pixels' neighbourhoods."
               if pix_up > n_tr / 2 and own_up > n_tr / 2 else
               "Neither reading shows a consistent trend with width.")
        )
        verdict = "supported" if (own_up > n_tr / 2 and pix_up > n_tr / 2) else ("partly" if (own_up > n_tr / 2 or pix_up > n_tr / 2)
                                                                               else "not supported")
        findings.append(Finding(
            "(Issue 12) The picture of a real network's latent space lies more when the layer is narrower.",
            f"Against the layer it pictures, trustworthiness rises with width in {own_up} of {n_tr} (kind, method) sweeps; "
            f"against the pixels in {pix_up} of {n_tr}.", verdict))
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
            stats[col] = (float(np.mean(d[ok])) if ok.any() else math.nan, int((d[ok] > 0).sum()), int(ok.sum()),
                          int((~ok).sum()))
        t_mean, t_win, t_n, t_nan = stats["trustworthiness_pixels"]
        k_mean, k_win, k_n, _ = stats["knn_accuracy"]
        c_mean, c_win, c_n, _ = stats["continuity_pixels"]
        parts.append(
            f"Does the SAE picture lie less? Over {len(pairs)} pairs (kind, width, method), the picture of the {arch} SAE codes "
            f"against the picture of h: trustworthiness against the pixels changes by {_f(t_mean, 3)} on average (codes higher in "
            f"{t_win} of {t_n}), continuity by {_f(c_mean, 3)} ({c_win} of {c_n}), k-NN label accuracy by {_f(k_mean, 3)} "
            f"({k_win} of {k_n})" + (f"; {t_nan} pair(s) left out (undefined)" if t_nan else "") + ". "
            + ("The SAE's codes give a more faithful picture of the data than the raw layer."
               if t_n and t_win >= 0.75 * t_n and t_mean > 0 else
               "The SAE's codes do not give a more faithful picture of the data than the raw layer: on these small layers "
               "the codes re-express what h holds, and a picture of them keeps no more of the pixels' neighbourhoods."
               if t_n and t_win <= 0.25 * t_n else
               "The SAE's codes are about as faithful as the raw layer: better in some pairs, worse in others.")
        )
        verdict = ("supported" if t_n and t_win >= 0.75 * t_n and t_mean > 0 else "not supported" if t_n and t_win <= 0.25 * t_n
                   else "partly" if t_n else "n/a")
        findings.append(Finding("(Issue 12) The picture of the SAE codes lies less than the picture of the raw layer.",
                                f"Trustworthiness against the pixels: codes − h = {_f(t_mean, 3)} on average, codes higher in "
                                f"{t_win} of {t_n} pairs; k-NN label accuracy {_f(k_mean, 3)} ({k_win} of {k_n}).", verdict))
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
            parts.append(
                f"Which no-ground-truth measure tracks true recovery? On {n_cells} toy cells of section 2 measured like the digits "
                "layers (same rows, recipe and measures), Spearman's ρ with the true MMCS (in brackets: the mean ρ inside each "
                "hidden size m): " + ", ".join(f"{row.measure} {_f(row.rho)} ({_f(row.rho_within)})" for row in ranked.itertuples())
                + f". The best is {best['measure']} (ρ = {_f(best['rho'])}, p = {best['p_value']:.1g}, within m "
                f"{_f(best['rho_within'])})"
                + (f"; the effective feature count follows the true number of represented features with ρ = {_f(cnt.iloc[0]['rho'])} "
                   "(over cells of every m, so partly because both grow with m)" if len(cnt) else "") + ". "
                + (f"Inside one hidden size the best measure tracks recovery only weakly (mean ρ {_f(best['rho_within'])}): most "
                   "of its correlation comes from the width of the layer, so read it as a coarse guide. "
                   if "rho_within" in best and math.isfinite(float(best["rho_within"])) and abs(float(best["rho_within"])) < 0.5
                   else "")
                + (f"Read through the cells (a monotone fit of MMCS on {best['measure']}), the classifier's w = "
                   f"{cfg['picture_width']} layer ({best['measure']} = {_f(est['value'])}) is where toy cells recover MMCS ≈ "
                   f"{_f(est['estimated_mmcs'])}" if est is not None and math.isfinite(float(est["estimated_mmcs"])) else
                   f"The classifier's w = {cfg['picture_width']} layer cannot be read through the cells: "
                   f"{est['reason'] if est is not None else 'no value'}") + "; per layer in the table below."
            )
    return "\n\n".join(parts), findings


def _tables(r: Any) -> list[TableBlock]:
    cfg = r.config
    arch = cfg["architectures"][0]
    out = []
    m = r.models
    acc = m.groupby(["kind", "width"]).agg(test_accuracy=("test_accuracy", "mean"), accuracy_min=("test_accuracy", "min"),
                                           test_fvu=("test_fvu", "mean")).reset_index().round(3)
    out.append(TableBlock(f"Models per width (mean over {cfg['replicates']} replicate(s); accuracy_min: the worst replicate)", acc))
    q = r.quality.round(3)
    out.append(TableBlock("SAE quality without ground truth, per layer and architecture (held-out rows)", q))
    w = cfg["picture_width"]
    p = r.pictures
    sel = p[(p["kind"] == "pixels") | (p["width"] == w)]
    cols = ["id", "method", "knn_accuracy", "silhouette", "trustworthiness", "continuity", "trustworthiness_pixels",
            "continuity_pixels"]
    out.append(TableBlock(f"Pictures at width {w}: measures in the picture, against its own space and against the pixels",
                          sel[cols].round(3).reset_index(drop=True)))
    s = r.spaces[["id", "dim", "knn_accuracy", "silhouette", "trustworthiness_pixels", "continuity_pixels"]].round(3)
    out.append(TableBlock("The spaces themselves (no picture): k-NN label accuracy, silhouette, and neighbourhoods kept "
                          "against the pixels", s))
    if r.correlations is not None and len(r.correlations):
        out.append(TableBlock("Calibration: Spearman's ρ over toy cells of each measure with the true MMCS (and of the "
                              "effective feature count with the represented count)", r.correlations.round(3)))
        rd = r.readings[r.readings["architecture"] == arch]
        if len(rd):
            piv = rd.pivot_table(index=["kind", "width"], columns="measure", values="estimated_mmcs", aggfunc="first")
            out.append(TableBlock(f"The digits layers read through the toy cells: MMCS of toy cells with the same value of "
                                  f"each measure ({arch}; n/a outside the cells' range)", piv.round(3).reset_index()))
    return out


def _rows(r: Any) -> list[dict[str, Any]]:
    """Rows of the run's tidy tables (:mod:`supviz.study.table`).

    ``panels``: every picture (``experiment = "F_picture"``) and every space measured as it is
    (``"F_space"``, method ``"exact"``), ``m`` = the hidden width (NaN for the pixels). ``cells``: one row
    per trained configuration, each named by ``model``: the digits models per (kind, width), test
    accuracy / FVU as mean and range over the replicates (``"F_classifier"``, ``"F_autoencoder"``), their
    layers' SAEs (``"F_sae_<kind>_<architecture>"``) and the toy cells of the calibration with their true
    MMCS (``"F_calibration_<architecture>"``, the grid cell's importance, m and p; a model name of its own,
    so its columns never merge into the grid's row).
    """
    from supviz.real.layer import QUALITY_KEYS

    rows = []
    n = int(r.data["n_test"])
    for t in r.pictures.to_dict("records"):
        rows.append({"table": "panels", "experiment": "F_picture", "importance": "", "m": int(t["width"]) or None, "p": None,
                     "method": t["method"], "params": json.dumps({"kind": t["kind"], "space": t["space"],
                                                                  "architecture": t["architecture"]}),
                     "n_points": n, "panel": t["id"], "note": "", "collapsed": bool(t["collapsed"]), "nan_reasons": t["notes"],
                     **{k: t[k] for k in ("knn_accuracy", "silhouette", "trustworthiness", "continuity",
                                          "trustworthiness_pixels", "continuity_pixels")}})
    for t in r.spaces.to_dict("records"):
        rows.append({"table": "panels", "experiment": "F_space", "importance": "", "m": int(t["width"]) or None, "p": None,
                     "method": "exact", "params": json.dumps({"kind": t["kind"], "space": t["space"],
                                                              "architecture": t["architecture"], "dim": int(t["dim"])}),
                     "n_points": n, "panel": t["id"], "note": "", "nan_reasons": t["notes"],
                     **{k: t[k] for k in ("knn_accuracy", "silhouette", "trustworthiness_pixels", "continuity_pixels")}})
    for (kind, width), t in r.models.groupby(["kind", "width"], sort=False):
        col = "test_accuracy" if kind == "classifier" else "test_fvu"
        rows.append({"table": "cells", "model": f"F_{kind}", "importance": "", "m": int(width), "p": None,
                     "n_features": 64, "replicates": len(t), col: float(t[col].mean()), f"{col}_min": float(t[col].min()),
                     f"{col}_max": float(t[col].max()), "final_loss": float(t["final_loss"].mean())})
    for t in r.quality.to_dict("records"):
        rows.append({"table": "cells", "model": f"F_sae_{t['kind']}_{t['architecture']}", "importance": "", "m": int(t["width"]),
                     "p": None, "d_sae": int(t["d_sae"]), "nan_reasons": t["notes"], **{k: t[k] for k in QUALITY_KEYS}})
    if r.calibration is not None and len(r.calibration):
        for t in r.calibration.to_dict("records"):
            rows.append({"table": "cells", "model": f"F_calibration_{t['architecture']}", "importance": t["importance"],
                         "m": int(t["m"]), "p": float(t["p"]), "n_represented": t["n_represented"], "mmcs": t["mmcs"],
                         "nan_reasons": t["notes"], **{k: t[k] for k in QUALITY_KEYS}})
    return rows
