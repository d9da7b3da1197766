"""Section F (issue 12): a real network. The hidden layer of a digits model, pictured raw and through SAEs.

The study ends: "It would be nice to do some experiments like this with real data". This section
trains small networks on scikit-learn's digits (:mod:`supviz.real`), pictures their hidden layers
and the SAE codes of those layers with MDS, UMAP and t-SNE, measures what can be measured without
ground-truth features, and reads the SAE measures through toy cells of section 2 where the truth
is known (the calibration bridge). Figures: F1 the pictures at one width, F2 the width sweep, F3
the calibration. The conclusion is written from the numbers (:func:`supviz.study.real.findings.conclusion`).

The whole result is one :class:`supviz.real.experiment.RealResult` (tables and arrays), cached by
the run through :mod:`supviz.runtime.codecs`; its pictures are computed by ``ctx.layouts`` (cached
one by one, in parallel).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from supviz.dr.base import METHOD_NAMES
from supviz.real.config import RealConfig
from supviz.real.measures import SIGNED_PAIR
from supviz.report.records import SectionOutput, TableBlock
from supviz.sae.config import ARCHITECTURE_NAMES
from supviz.study.context import RunContext
from supviz.study.real.findings import calibration_cells, calibration_of, chance_mmcs, conclusion
from supviz.study.section import Section


def _frame(frame: Any) -> dict[str, Any] | None:
    """A DataFrame as figure cache-key content (numbers as float arrays, text as lists)."""
    if frame is None:
        return None
    out = {}
    for c in frame.columns:
        col = frame[c]
        out[str(c)] = col.to_numpy(dtype=float) if col.dtype.kind in "fiub" else [str(v) for v in col]
    return out


#: The settings that size section F (what a refusal names).
REAL_SIZES = (
    "`real.widths`, `real.autoencoder_widths`, `real.replicates`, `real.batch_size`, `real.steps`, "
    "`real.sae_expansion`, `real.sae_larger`, `real.sae_seeds`"
)


class RealSection(Section):
    """F1-F3: pictures of a digits model's hidden layer, the width sweep, the calibration."""

    key = "real"
    title = "F. A real network: the hidden layer of a digits model, pictured raw and through an SAE"
    config_key = "real"
    needs_grid = True

    def check(self, config: Any) -> None:
        """The widest layer and its SAE fit this machine (:meth:`supviz.real.RealConfig.need`)."""
        from supviz.core.resources import check_fits

        check_fits(config.section("real").need(), REAL_SIZES)

    def compute(self, ctx: RunContext) -> Any:
        from supviz.dr.task import LayoutTask
        from supviz.real.experiment import digits_experiment

        cfg: RealConfig = ctx.config.section("real")
        grid, _ = ctx.grid()

        def layouts(tasks: list[tuple[np.ndarray, str, dict[str, Any], int]]) -> list[Any]:
            done = ctx.layouts(
                [LayoutTask(np.asarray(X, dtype=np.float64), m, p, s) for X, m, p, s in tasks],
                desc="real-network pictures",
            )
            return [lay for lay, _key in done]

        return digits_experiment(cfg, seed=ctx.seed("real"), grid=grid, layouts=layouts)

    def render(self, ctx: RunContext, result: Any) -> SectionOutput:
        from supviz.real import plots
        from supviz.real.calibration import CALIBRATED

        r = result
        cfg = r.config
        arch = cfg["architectures"][0]
        arch_name = ARCHITECTURE_NAMES.get(arch, arch)  # in the text: as its paper names it
        figs = []
        figs.append(
            ctx.figure(
                "F1_pictures",
                title=f"F1. The hidden layers at width {cfg['picture_width']}, raw and through an SAE, coloured by "
                "digit class",
                caption=(
                    f"Rows: the {r.data['n_test']} held-out digits as pixels (the control), as the hidden layer h of a "
                    f"classifier MLP 64 → {cfg['picture_width']} → 10, as that layer's {arch_name} SAE codes, and the "
                    f"same for the toy-shaped autoencoder x' = ReLU(W Wᵀx + b) of width {cfg['picture_width']}. "
                    "Columns: MDS (ratio SMACOF), UMAP, t-SNE (section D's settings). Colour: the digit. Corner: kNN = "
                    f"k-NN label accuracy in the picture ({cfg['folds']}-fold cross-validated, k = {cfg['k']}), sil = "
                    "silhouette of the classes in the picture, T and C = trustworthiness and continuity of the picture "
                    "against the space it pictures / against the pixels. A point's trust is its own share of T and C "
                    f"against the space pictured (k = {cfg['k']}). Hover a point in the interactive version for its "
                    "class, trust, false and missing neighbours."
                ),
                content={"f1": {k: v for k, v in r.f1.items()}, "pictures": _frame(r.pictures)},
                static=lambda r=r: plots.pictures_figure(r.f1, r.pictures),
                interactive=lambda r=r: plots.pictures_interactive(r.f1, r.pictures),
                embed_interactive=False,  # its own page: ~0.1 MB more would pass the report's 8 MB budget
            )
        )
        sweep_methods = list(cfg["sweep_methods"]) or list(cfg["methods"])
        figs.append(
            ctx.figure(
                "F2_width_sweep",
                title="F2. The width sweep: accuracy, effective features and picture quality against the hidden width",
                caption=(
                    "(a) Classifier test accuracy and autoencoder variance explained (1 − FVU) on the held-out digits, "
                    f"mean and range over {cfg['replicates']} replicate(s). (b) Bereska et al.'s effective feature "
                    f"count F = exp(H) of each hidden layer's {arch_name} SAE codes (at most the dictionary size, "
                    f"{cfg['sae_expansion']:g} w). Dotted: F = w; dash-dot: F = {SIGNED_PAIR:g} w. What F can show: "
                    "the "
                    "classifier's h = ReLU(x W1 + b1) is non-negative, so F above the dotted line hints at more "
                    "features than dimensions; the autoencoder's h = Wᵀx is signed, and an SAE on centred signed "
                    f"inputs spends a +/- pair of latents on each direction, so F up to {SIGNED_PAIR:g} w (the "
                    "dash-dot line) arises there with no superposition at all. What it cannot show: that a layer "
                    "holds features in superposition; F counts how the SAE spreads activation mass over its "
                    "latents, not the network's features (section F's text and F3 say how well it tracks them on "
                    "toy cells). (c) SAE quality without ground truth: decoder stability across seeds and against "
                    "a larger dictionary, 1 − FVU. (d)-(f) Pictures of the hidden layer h (solid) and of its SAE codes "
                    f"(dashed) by {', '.join(METHOD_NAMES[m] for m in sweep_methods)}: trustworthiness against the "
                    "space pictured, against the pixels, and k-NN label accuracy; grey dash-dot: the pixels' own "
                    "picture."
                ),
                content={
                    "m": _frame(r.models),
                    "q": _frame(r.quality),
                    "p": _frame(r.pictures),
                    "methods": sweep_methods,
                    "arch": arch,
                },
                static=lambda r=r, a=arch, ms=sweep_methods: plots.sweep_figure(
                    r.models, r.quality, r.spaces, r.pictures, architecture=a, methods=ms
                ),
            )
        )
        cal = calibration_of(r, arch)
        if cal is not None:
            ranking, count, _readings = cal
            n_cells = int((r.calibration["architecture"] == arch).sum())
            cells = calibration_cells(r)  # with over_capacity: F3 draws those cells hollow
            figs.append(
                ctx.figure(
                    "F3_calibration",
                    title="F3. The calibration bridge: no-ground-truth SAE measures against true recovery on toy cells",
                    caption=(
                        f"Each point is a toy cell of section 2 ({n_cells} cells: m in "
                        f"{sorted(set(int(m) for m in r.calibration['m']))}, every p and importance), treated like a "
                        f"digits layer: {r.data['n_train']} rows of h = Wᵀx, the same {arch_name} SAE recipe, the same "
                        f"measures (x) on {r.data['n_test']} fresh rows; y: the true MMCS of the same SAEs against the "
                        "cell's represented features (‖W_i‖ > 0.5) less what random unit decoders of the same size "
                        "score at that m (dotted line: chance). Title: Spearman's rank correlation inside each "
                        "hidden size m, combined over the sizes (Fisher-z mean, 95% interval): the statistic the "
                        "measures are ranked by; below it, the same within each (m, importance variant) stratum "
                        "(within m alone the ρ also sorts the variants), then pooled over every m, which also counts "
                        "the width as tracking (subtracting chance, a constant per m, changes none of them). Lines: "
                        "the monotone fit of MMCS on the measure within each m, in that m's "
                        "colour, through which a digits layer is read (at the nearest m). Ticks at the bottom: where "
                        "the digits layers lie. Last panel: the effective feature count against the true number of "
                        "represented features. Hollow: a cell with more represented features than its SAEs have "
                        "latents, whose MMCS the dictionary's size caps."
                    ),
                    content={
                        "c": _frame(cells),
                        "r": _frame(ranking),
                        "n": _frame(count),
                        "q": _frame(r.quality),
                        "arch": arch,
                    },
                    static=lambda r=r, c=cells, a=arch, rk=ranking, ct=count: plots.calibration_figure(
                        c, rk, r.quality, architecture=a, measures=CALIBRATED, count=ct
                    ),
                )
            )
        text, findings = conclusion(r, cal)
        return SectionOutput(
            key=self.key,
            title=self.title,
            intro=text,
            figures=figs,
            tables=_tables(r, cal),
            findings=findings,
            rows=_rows(r),
            notes=list(r.notes),
        )


#: The caption of the per-layer read-through table (:func:`read_through_table`).
READ_THROUGH_CAPTION = (
    "The digits layers read through the toy cells of the nearest hidden size m (at most a factor 2 from the width), "
    "by the rule the text reads the classifier by ({arch}): where every importance variant has cells near the "
    "layer's value, the value lies inside each variant's range and the variants' MMCS near it agree, the monotone "
    "fit's MMCS with its 95% bootstrap interval over the cells of that m; elsewhere n/a, and why (the cells cannot "
    "place the layer, or no m matches). Beside it the MMCS random unit decoders of the same size score at that m "
    "(chance MMCS)"
)


def reason_words(reason: str, measure: str) -> str:
    """A read-through reason (:func:`supviz.real.calibration.place_layer`, which names measures and importance
    variants by their keys) in the report's words: the measure by its name (``core.names.MEASURE_NAMES``), each
    variant by :func:`~supviz.toy.importance.variant_label`, MMCS in capitals."""
    import re

    from supviz.core.names import MEASURE_NAMES
    from supviz.toy.importance import variant_label

    out = re.sub(rf"(?<![\w.]){re.escape(measure)}(?![\w])", MEASURE_NAMES.get(measure, measure), reason)
    out = re.sub(r"\bmmcs\b", "MMCS", out)
    return re.sub(r"\b(?:[a-z]+:[0-9.]*[0-9]|uniform)\b", lambda g: variant_label(g.group(0)), out)


def read_through_table(readings: Any, cfg: Any, arch: str) -> Any:
    """Section F's per-layer read-through table: one row per (layer, measure) of ``readings``
    (:func:`supviz.real.calibration.read_layers`, which reads each by :func:`~supviz.real.calibration.place_layer`,
    the text's rule): ``kind, width, measure, m_used, value``, ``mmcs`` with ``mmcs_low`` / ``mmcs_high`` (NaN where
    the cells cannot place the layer), ``chance MMCS`` and ``reason`` (why the MMCS or its interval is NaN)."""
    t = readings[
        ["kind", "width", "measure", "m_used", "value", "estimated_mmcs", "mmcs_low", "mmcs_high", "reason"]
    ].rename(columns={"estimated_mmcs": "mmcs"})
    t["reason"] = [reason_words(str(r), str(m)) for r, m in zip(t["reason"], t["measure"])]
    # what random unit decoders of the same size score at that m: a reading at or below it says nothing
    t.insert(8, "chance MMCS", [chance_mmcs(m, float(cfg["sae_expansion"]), arch) for m in t["m_used"]])
    return t.round(3).reset_index(drop=True)


def _tables(r: Any, cal: Any = ...) -> list[TableBlock]:
    import pandas as pd

    from supviz.real.measures import PICTURE_KEYS

    cfg = r.config
    arch = cfg["architectures"][0]
    arch_name = ARCHITECTURE_NAMES.get(arch, arch)  # in the text: as its paper names it
    out = []
    m = r.models
    acc = (
        m.groupby(["kind", "width"])
        .agg(
            test_accuracy=("test_accuracy", "mean"),
            accuracy_min=("test_accuracy", "min"),
            test_fvu=("test_fvu", "mean"),
        )
        .reset_index()
        .round(3)
    )
    out.append(
        TableBlock(
            f"Models per width (mean over {cfg['replicates']} replicate(s); accuracy_min: the worst replicate)", acc
        )
    )
    q = r.quality.round(3)
    out.append(TableBlock("SAE quality without ground truth, per layer and architecture (held-out rows)", q))
    w = cfg["picture_width"]
    p = r.pictures
    sel = p[(p["kind"] == "pixels") | (p["width"] == w)]
    cols = ["id", "method", *PICTURE_KEYS]
    out.append(
        TableBlock(
            f"Pictures at width {w}: measures in the picture, against its own space and against the pixels",
            sel[cols].round(3).reset_index(drop=True),
        )
    )
    s = r.spaces[["id", "dim", "knn_accuracy", "silhouette", "trustworthiness_pixels", "continuity_pixels"]].round(3)
    out.append(
        TableBlock(
            "The spaces themselves (no picture): k-NN label accuracy, silhouette, and neighbourhoods kept "
            "against the pixels",
            s,
        )
    )
    if cal is ...:  # the render computes calibration_of once for its figure, tables and text
        cal = calibration_of(r, r.config["architectures"][0])
    if cal is not None:
        ranking, count, readings = cal
        out.append(
            TableBlock(
                "Calibration: Spearman's ρ over toy cells of each measure with the true MMCS, taken within each "
                "hidden size m and combined over m (the columns 'within m': the estimate and its 95% interval, low "
                "and high; the ranking's statistic) and pooled over every m (the columns 'Spearman rho' and 'p "
                "value'); the columns 'within m and importance': the same taken within each (m, importance "
                "variant) stratum, which the within-m ρ mixes; last row: the effective feature count with the "
                "represented count",
                pd.concat([ranking.assign(target="mmcs"), count.assign(target="n_represented")], ignore_index=True)
                .drop(columns=["reason", "variant_reason"])
                .round(3),
            )
        )
        if len(readings):
            out.append(TableBlock(READ_THROUGH_CAPTION.format(arch=arch_name), read_through_table(readings, cfg, arch)))
    return out


def _rows(r: Any) -> list[dict[str, Any]]:
    """Rows of the run's tidy tables (:mod:`supviz.study.tables`), each in the table of its kind.

    ``layers``: every measure of a space of the digits experiment, the space itself (method
    ``"exact"``) or a picture of it (``"mds"``, ``"umap"``, ``"tsne"``); ``width`` = the hidden width (NaN
    for the pixels). ``models``: one row per trained configuration (kind, width), test accuracy / FVU as
    mean and range over the replicates. ``saes``: the SAEs of the layers (``experiment = "F_layer"``) and
    those of the calibration's toy cells with their true MMCS (``"F_calibration"``, the grid cell's
    importance, m and p).
    """
    from supviz.real.layer import QUALITY_KEYS

    rows = []
    n = int(r.data["n_test"])
    for t in r.pictures.to_dict("records"):
        rows.append(
            {
                "table": "layers",
                "kind": t["kind"],
                "width": int(t["width"]) or None,
                "space": t["space"],
                "architecture": t["architecture"],
                "method": t["method"],
                "n_points": n,
                "id": t["id"],
                "collapsed": bool(t["collapsed"]),
                "nan_reasons": t["notes"],
                **{
                    k: t[k]
                    for k in (
                        "knn_accuracy",
                        "silhouette",
                        "trustworthiness",
                        "continuity",
                        "trustworthiness_pixels",
                        "continuity_pixels",
                    )
                },
            }
        )
    for t in r.spaces.to_dict("records"):
        rows.append(
            {
                "table": "layers",
                "kind": t["kind"],
                "width": int(t["width"]) or None,
                "space": t["space"],
                "architecture": t["architecture"],
                "method": "exact",
                "dim": int(t["dim"]),
                "n_points": n,
                "id": t["id"],
                "nan_reasons": t["notes"],
                **{k: t[k] for k in ("knn_accuracy", "silhouette", "trustworthiness_pixels", "continuity_pixels")},
            }
        )
    for (kind, width), t in r.models.groupby(["kind", "width"], sort=False):
        col = "test_accuracy" if kind == "classifier" else "test_fvu"
        rows.append(
            {
                "table": "models",
                "kind": kind,
                "width": int(width),
                "n_inputs": 64,
                "replicates": len(t),
                col: float(t[col].mean()),
                f"{col}_min": float(t[col].min()),
                f"{col}_max": float(t[col].max()),
                "final_loss": float(t["final_loss"].mean()),
            }
        )
    for t in r.quality.to_dict("records"):
        rows.append(
            {
                "table": "saes",
                "experiment": "F_layer",
                "architecture": t["architecture"],
                "kind": t["kind"],
                "width": int(t["width"]),
                "d_sae": int(t["d_sae"]),
                "nan_reasons": t["notes"],
                **{k: t[k] for k in QUALITY_KEYS},
            }
        )
    labels = np.asarray(r.f1["labels"])
    titles = dict(zip(r.f1["rows"], r.f1["titles"]))
    for key, t in r.f1.get("trust", {}).items():  # every point of F1's pictures, with its trust
        from supviz.study.common import coordinate_rows

        sid, method = key.split("|")
        rows.extend(
            coordinate_rows(
                r.f1["embeddings"][key],
                t["columns"],
                t["reason"],
                labels=[f"digit {c}" for c in labels],
                section="real",
                figure="F1_pictures",
                panel=f"{titles[sid]}, {METHOD_NAMES.get(method, method)}",  # the panel's title in F1's pages
                space=sid,
                method=method,
            )
        )
    cells = calibration_cells(r)
    if cells is not None:
        for t in cells.to_dict("records"):
            rows.append(
                {
                    "table": "saes",
                    "experiment": "F_calibration",
                    "architecture": t["architecture"],
                    "importance": t["importance"],
                    "m": int(t["m"]),
                    "p": float(t["p"]),
                    "n_represented": t["n_represented"],
                    "d_sae": int(t["d_sae"]),
                    "over_capacity": bool(t["over_capacity"]),
                    "mmcs": t["mmcs"],
                    "nan_reasons": t["notes"],
                    **{k: t[k] for k in QUALITY_KEYS},
                }
            )
    return rows
