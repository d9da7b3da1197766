"""Section E (issue 11): recovering the features with sparse autoencoders on h, and pictures of their codes.

:class:`RecoverySection` computes through :mod:`supviz.study.recovery.compute` (SAE training,
scoring, pictures: the cached :class:`~supviz.study.recovery.compute.RecoveryResult`) and renders
here: figures E1-E3 (and E4, Sharkey et al.'s toy experiment, when it ran), tables, findings and
text. Rendering is cheap: the numbers come from the result and from section D's cached result
(whose pictures of x_rep and h_rep E3 sets beside the pictures of the codes f(h_rep)); the words come from
:mod:`supviz.study.recovery.findings`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from supviz.core.text import fmt, fmt_p
from supviz.errors import SupvizError
from supviz.report.records import SectionOutput, TableBlock
from supviz.report.words import reader_words, space_words
from supviz.study.common import PICTURE_NAMES
from supviz.study.config import RecoveryConfig
from supviz.study.context import RunContext
from supviz.study.recovery.compute import (
    CODE_SPACE,
    REPRESENTED_NORM,
    RecoveryResult,
    codes_frame,
    compute_recovery,
    e1_rows,
    e3_rows,
)
from supviz.study.recovery.findings import (
    ARCH_NAME,
    MIN_LOSS,
    RECOVERED_MMCS,
    architecture_ranking,
    failure_sentence,
    failures,
    lead_words,
    recovery_findings,
    region_summaries,
    won_back_cells,
    won_back_sentence,
    won_back_summary,
)
from supviz.study.section import Section


def _e2_panels(result: RecoveryResult, grid: Any, variant: str) -> list[Any]:
    from supviz.study.common import importance_rank
    from supviz.study.recovery.figures import PairPanel

    out = []
    for c in result.cells:
        if c.architecture != result.architectures[0] or c.importance != variant:
            continue
        spec = grid.specs[c.instance]
        rep = np.flatnonzero(c.represented & (c.best_latent >= 0))
        mm = c.scores.get("mmcs", float("nan"))
        ch = c.scores.get("mmcs_chance", float("nan"))
        corner = f"MMCS {mm:.2f}" if math.isfinite(mm) else ""
        corner += f" (chance {ch:.2f})" if corner and math.isfinite(ch) else ""
        if c.pairs is None or rep.size < 2:
            note = "no represented feature" if not c.represented.any() else "fewer than 2 represented features"
            out.append(PairPanel(c.m, c.p, None, None, None, None, corner=corner, note=note))
            continue
        xy = np.asarray(c.pairs.embedding, dtype=float)
        n = rep.size
        if variant == "uniform":  # a rank among equal importances is arbitrary: the row's norm, as C2 colours it
            rank = np.linalg.norm(np.asarray(grid.weights[c.instance], dtype=float), axis=1)[rep]
        else:
            imp = spec.importance if spec.importance is not None else np.ones(spec.n_features)
            rank = importance_rank(np.asarray(imp, dtype=float))[rep]
        stress = c.pairs.info.get("smacof_stress", float("nan"))
        corner += f"\nstress {stress:.2f}" if math.isfinite(stress) else ""
        against = c.scores.get("antialigned_latents", float("nan"))
        corner += f"\n{int(against)} anti" if math.isfinite(against) and against > 0 else ""
        out.append(PairPanel(c.m, c.p, xy[:n], xy[n:], rank, c.max_cos[rep], corner=corner))
    return out


def _example_cell(dp: Any, result: RecoveryResult, variant: str, m: int, p: float) -> tuple[Any, float]:
    """Section D's cell nearest (m, p) with E's pictures of its codes added as the space :data:`CODE_SPACE`."""
    cand = [(i, k) for i, k in enumerate(dp.keys) if k[0] == variant and k[1] == m]
    if not cand:
        return None, float("nan")
    i, key = min(cand, key=lambda ik: abs(math.log(ik[1][2]) - math.log(p)))
    dcell = dp.cells[i]
    mine = next(
        (
            c
            for c in result.cells
            if c.architecture == result.architectures[0]
            and c.importance == variant
            and c.m == m
            and abs(c.p - key[2]) <= 1e-9
        ),
        None,
    )
    if mine is None or not mine.layouts:
        return None, key[2]
    layouts = {**dcell.layouts, **{(CODE_SPACE, mth): lay for mth, lay in mine.layouts.items()}}
    metrics = {**dcell.metrics, **{(CODE_SPACE, mth): v for mth, v in mine.rep_metrics.items()}}
    pairs = {**dcell.false_pairs, **{(CODE_SPACE, mth): v for mth, v in mine.rep_false_pairs.items()}}
    return dataclasses.replace(dcell, layouts=layouts, metrics=metrics, false_pairs=pairs), key[2]


def _frame_content(frame: Any) -> dict[str, Any]:
    out = {}
    for c in frame.columns:
        col = frame[c]
        out[str(c)] = col.to_numpy(dtype=float) if col.dtype.kind in "fiub" else [str(v) for v in col]
    return out


def render_recovery(section: Any, ctx: RunContext, result: RecoveryResult) -> SectionOutput:
    """Figures E1-E3 (and the toy experiment), tables, findings, rows and the section's text."""
    import pandas as pd

    from supviz.datapoints import plots as dpf
    from supviz.study.recovery import figures as rf
    from supviz.toy.importance import variant_label, variant_slug

    cfg = ctx.config.section("recovery")
    main = result.architectures[0]
    grid, _ = ctx.grid()
    n_features = max(grid.specs[c.instance].n_features for c in result.cells) if result.cells else 0
    rows1, rows3 = e1_rows(result), e3_rows(result)
    e1 = pd.DataFrame(rows1)
    dp = ctx.computed["datapoints"]["result"] if any(c.rep_metrics for c in result.cells) else None
    # section D's rows under the run's rule (its table also holds the other rule's x_rep and h_rep)
    won_cells = won_back_cells(codes_frame(result, dp.rule_table())) if dp is not None else None
    variants = list(dict.fromkeys(c.importance for c in result.cells))
    figs, tables, notes = [], [], []
    settings: list[str] = []  # config keys and run times: the appendix's, not the section text's
    conf = result.settings["configs"].get(main, {})
    recipe = (
        f"{conf.get('d_sae')} latents, {conf.get('steps')} steps of batch {conf.get('batch_size')} on the cell's own "
        f"stream h = Wᵀx, scored on {result.settings.get('n_eval')} fresh samples"
    )
    for v in variants:
        slug, label = variant_slug(v), variant_label(v)
        for arch in result.architectures:
            part = e1[(e1["importance"] == v) & (e1["architecture"] == arch)]
            if part.empty:
                continue
            fig_id = f"E1_{slug}" + ("" if arch == main else f"_{arch}")
            cols = [
                "m",
                "p",
                "n_represented",
                "mmcs",
                "feature_mcc",
                "recovery_rate",
                "dead_fraction",
                "l0",
                "true_l0",
                "fvu",
                "nan_reasons",
            ]
            cols += [c for c in ("mmcs_chance", "mmcs_chance_max") if c in part]
            sub = part[cols].reset_index(drop=True)
            figs.append(
                ctx.figure(
                    fig_id,
                    title=f"E1. How well {ARCH_NAME.get(arch, arch)} SAEs recover the features, over (m, p) ({label})",
                    caption=(
                        f"One SAE per cell ({recipe}), scored against the cell's represented features (||W_i|| > "
                        f"{REPRESENTED_NORM:g}, first panel). MMCS: mean over true features of the best cosine to a "
                        "decoder direction (Sharkey et al. 2022); feature MCC: one-to-one Hungarian matching on "
                        "max(cos, 0) (a latent's codes are non-negative, so a direction against a feature cannot "
                        "represent it), mean over the features; recovery rate: share of true features with a "
                        "decoder direction at cos >= "
                        f"{RECOVERED_MMCS:g}; dead: latents that never fire on the evaluation samples; L0 / true L0: "
                        "firing latents per input over active represented features per input (1 = as sparse as the "
                        "truth); FVU: fraction of variance unexplained. Last panel: the chance level of MMCS, the "
                        f"mean MMCS of {result.settings.get('chance_draws', 'several')} random unit decoders of the "
                        "SAE's shape scored by the same function against the same features; in few dimensions random "
                        "directions already score near 1, so an MMCS means recovery only where it exceeds every "
                        "random draw (the verdicts count such cells only). Rows m, columns p. Hatched cells are "
                        "undefined; the letter's reason is given beside the panels."
                    ),
                    content={"t": _frame_content(sub), "arch": arch, "v": v},
                    static=lambda sub=sub, arch=arch, label=label: rf.recovery_heatmap_figure(
                        sub,
                        n_features=n_features,
                        title=f"{ARCH_NAME.get(arch, arch)} SAEs on each cell's h ({label}): recovery of the features",
                    ),
                )
            )
        panels = _e2_panels(result, grid, v)
        if panels:
            figs.append(
                ctx.figure(
                    f"E2_{slug}",
                    title=f"E2. Decoder directions beside the true features, rows m, columns p ({label})",
                    caption=(
                        "Per cell, one ratio SMACOF MDS of the unit directions of the represented features (circles, "
                        + (
                            "coloured by importance rank, dark = most important, as in C2"
                            if v != "uniform"
                            else "coloured by the norm of the feature's row of W, as in C2 under uniform importance"
                        )
                        + ") together with each one's "
                        "closest decoder direction (largest cosine, the partner MMCS counts; crosses); a segment joins "
                        f"each pair (grey: cos >= {RECOVERED_MMCS:g}, red: below). Short segments everywhere = the "
                        "features are recovered. The picture distorts the m-dimensional geometry (stress under "
                        "each panel) but not which points are paired. Under each panel: MMCS beside its chance level "
                        "(random unit decoders of the same shape), and 'anti': latents whose decoder direction "
                        f"points against a represented feature (cos <= -{RECOVERED_MMCS:g}): they fire when that "
                        "feature is absent (the SAE centres its inputs on their mean); feature MCC does not pair "
                        f"them with it. SAE: {ARCH_NAME.get(main, main)}, {recipe}."
                    ),
                    content={"p": [dataclasses.asdict(p) for p in panels], "v": v},
                    static=lambda panels=panels, label=label, v=v: rf.matched_pairs_figure(
                        panels,
                        n_features=n_features,
                        color_label="importance rank (0 = most important)"
                        if v != "uniform"
                        else "norm of the feature's row of W",
                        color_range=None
                        if v != "uniform"
                        else (0.0, max([1.0] + [float(np.max(p.color)) for p in panels if p.color is not None])),
                        title="True features (circles) and their closest decoder directions (crosses), joint MDS per "
                        f"cell; panels m : p ({label})",
                    ),
                )
            )
        if won_cells is not None:
            wc = won_cells[won_cells["importance"] == v].reset_index(drop=True)
            methods = [m for m in ("exact", *cfg.code_methods) if m in set(wc["method"])]
            if len(wc) and methods:
                k = dp.cells[0].k
                figs.append(
                    ctx.figure(
                        f"E3_{slug}",
                        title="E3. Pictures of the SAE codes against the pictures of the inputs and the codes of the "
                        f"represented features: k-NN recall over (m, p) ({label})",
                        caption=(
                            f"k-NN recall against x (k = {k}) of the pictures of section D's {dp.cells[0].n_points} "
                            f"inputs per cell restricted to the represented features, in three spaces: "
                            f"{space_words('x_rep')} (section D), {space_words('h_rep')} (the same inputs through W's "
                            f"rows of those features, section D) and {space_words('codes_rep')} (the cell's SAE, "
                            "trained on h, applied to those codes), pictured with the same method and settings; first "
                            "row: the spaces themselves, no picture. Last column: the paired gain of the SAE codes "
                            "over the codes of the represented features, R′_SAE − R′_codes with "
                            "R′ = (R − c) / (1 − c), c = k / (N − 1) (0 = no better, below 0 = worse); undefined "
                            "(hatched) where W has no "
                            "superposition. The verdicts take its median over these cells (the section's "
                            "findings)."
                        ),
                        content={"t": _frame_content(wc), "m": methods},
                        static=lambda wc=wc, methods=methods, label=label: rf.codes_heatmap_figure(
                            wc,
                            methods=methods,
                            title="k-NN recall against x: pictures of the inputs on the represented features, their "
                            f"codes and the SAE codes ({label}); rows: method",
                        ),
                    )
                )
            for m, p in ctx.config.section("datapoints").examples:
                cell, pm = _example_cell(dp, result, v, m, p)
                if cell is None:
                    continue
                methods = tuple(mth for mth in cfg.code_methods if (CODE_SPACE, mth) in cell.layouts)
                spaces = (
                    *(s for s in ("x_rep", "h_rep") if all((s, mth) in cell.layouts for mth in methods)),
                    CODE_SPACE,
                )
                fig_id = f"E3_m{m}_p{fmt_p(pm).replace('.', 'p')}_{slug}"
                # fmt: off
                figs.append(
                    ctx.figure(
                        fig_id,
                        inline=False,
                        title="E3. One cell up close: the inputs on the represented features, their codes and the "
                        f"SAE codes, m = {m}, p = {fmt_p(pm)} ({label})",
                        caption=(
                            f"Section D's {cell.n_points} inputs of the cell m = {m}, p = {fmt_p(pm)} restricted to "
                            f"the represented features, pictured as {space_words('x_rep')}, as "
                            f"{space_words('h_rep')} and as {space_words('codes_rep')} (the cell's SAE, "
                            f"{ARCH_NAME.get(main, main)}, trained on h), one row per method. Red "
                            "lines: false neighbours (pairs among each other's k nearest in the picture that share no "
                            "active feature). Under each panel: R k-NN recall, T trustworthiness, C continuity, S "
                            "stress-1, ρ Shepard correlation, FN false-neighbour rate, all against x."
                        ),
                        content={
                            "l": {
                                f"{s}|{mm}": cell.layouts[(s, mm)].embedding
                                for s in spaces
                                for mm in methods
                                if (s, mm) in cell.layouts
                            },
                            "r": {f"{s}|{mm}": cell.metrics.get((s, mm), {}) for s in spaces for mm in methods},
                        },
                        static=lambda cell=cell, spaces=spaces, methods=methods, head=(
                            f"m = {m}, p = {fmt_p(pm)} ({label}), represented features: inputs, codes, SAE codes; "
                            f"k = {cell.k}"
                        ): (
                            dpf.cell_figure(cell, spaces=spaces, methods=methods, title=head)
                        ),
                    )
                )
                # fmt: on
    if result.toy is not None:
        from supviz.sae.plots import toy_experiment_figure

        toy = result.toy
        figs.append(
            ctx.figure(
                "E4_sharkey_toy",
                title=f"E4. Sharkey et al.'s toy experiment: {toy.n_features} features in {toy.d} dimensions",
                caption=(
                    "Random unit features, feature i active with probability proportional to 0.99^i (mean 5 active), "
                    "magnitudes U[0, 1); ReLU + L1 SAEs over dictionary ratio x L1 coefficient; MMCS and dead fraction."
                ),
                content={"mmcs": toy.mmcs, "dead": toy.dead_fraction},
                static=lambda toy=toy: toy_experiment_figure(toy),
            )
        )
    # ---- tables
    regions = region_summaries(e1, sparse_p=cfg.sparse_p)
    tables.append(
        TableBlock(
            f"Recovery scores, median over the cells of each region (sparse: p <= {cfg.sparse_p:g}), each beside its "
            "chance level (*_chance: the median score of random unit decoders of the SAE's shape, scored by the same "
            "function); 'MMCS above chance': cells whose MMCS exceeds every random draw; cells with an undefined MMCS "
            "(no represented feature) left out and counted",
            pd.DataFrame(
                [
                    {
                        "architecture": r.architecture,
                        "importance": r.importance,
                        "region": r.region,
                        "cells": r.n_cells,
                        "undefined": r.n_undefined,
                        "MMCS above chance": r.n_above_chance if r.n_above_chance is not None else "not measured",
                        **{k: round(v, 3) for k, v in r.medians.items()},
                    }
                    for r in regions
                ]
            ),
        )
    )
    if won_cells is not None and len(won_cells):
        per = [
            w
            for region in ("all", "sparse", "dense")
            for w in won_back_summary(won_cells, region=region, sparse_p=cfg.sparse_p)
        ]
        per += won_back_summary(won_cells, by_importance=True)
        tables.append(
            TableBlock(
                f"k-NN recall against x of the pictures of {space_words('x_rep')}, {space_words('h_rep')} and "
                f"{space_words('codes_rep')} (medians over the cells used), in the cells whose W has superposition; "
                "the paired difference per cell of chance-corrected recall, SAE codes minus codes (what the verdict "
                "reads), its median with a 95% bootstrap interval over cells, and SAE codes minus inputs; the share "
                "of the codes' loss won back, within m, is descriptive only (a ratio of small differences; any m "
                f"where the codes lose less than {MIN_LOSS:.0%} of the inputs' recall left out of it)",
                pd.DataFrame(
                    [
                        {
                            "method": PICTURE_NAMES[w.method],
                            "importance": w.importance,
                            "region": w.region,
                            "cells paired": w.n_pairs,
                            "left out": w.n_cells - w.n_pairs,
                            space_words("x_rep", the=False): round(w.x_rep, 3),
                            space_words("h_rep", the=False): round(w.h_rep, 3),
                            space_words("codes_rep", the=False): round(w.codes, 3),
                            "SAE codes − codes": round(w.gain, 3),
                            "interval": f"[{w.gain_interval[0]:.3f}, {w.gain_interval[1]:.3f}]",
                            "SAE codes − inputs": round(w.gap, 3),
                            "share won back (descriptive)": round(w.won_back, 3),
                        }
                        for w in per
                    ]
                ),
            )
        )
    if len(result.architectures) > 1:
        ranking = architecture_ranking(e1, sparse_p=cfg.sparse_p)
        tables.append(
            TableBlock(
                "Architectures, ordered by median MMCS (an order, not a ranking: the paired comparison decides): "
                f"medians over the sparse cells (p <= {cfg.sparse_p:g}) that every "
                "architecture scored",
                pd.DataFrame(
                    [
                        {
                            "architecture": s.architecture,
                            "cells": s.n_cells,
                            **{k: round(v, 3) for k, v in s.medians.items()},
                        }
                        for s in ranking
                    ]
                ),
            )
        )
    findings = recovery_findings(e1, won_cells, default=main, n_features=n_features, sparse_p=cfg.sparse_p)
    if result.toy is not None:
        findings.append(_toy_finding(result.toy))
    undefined = e1[e1["mmcs"].isna()]
    if len(undefined):
        notes.append(
            f"{len(undefined)} SAE(s) have an undefined MMCS (their cell represents no feature): "
            + ", ".join(sorted({f"{r.importance} m = {r.m}, p = {fmt_p(r.p)}" for r in undefined.itertuples()}))
            + "."
        )
    if not cfg.toy_experiment:
        notes.append("Sharkey et al.'s own toy experiment was not run here.")
        settings.append(
            "Trimmed to fit the 5-minute default run: Sharkey et al.'s own toy experiment (~100 s on 2 cores) is "
            "off; switching it on adds it (the setting toy_experiment = true under [recovery]), and it runs at the "
            "paper's 512 x 256 with the setting toy_paper_size = true."
        )
    missing = [
        a for a in ("jumprelu", "topk", "relu_l1", "relu_l1_decnorm", "batchtopk") if a not in result.architectures
    ]
    partial = [
        a
        for a in result.architectures[1:]
        if result.settings["cells"].get(a, 0) < result.settings["cells"].get(main, 0)
    ]
    if missing or partial:
        notes.append(
            (f"{', '.join(map(reader_words, partial))} trained on the sparse cells only. " if partial else "")
            + (f"Not trained here: {', '.join(map(reader_words, missing))}." if missing else "")
        )
        settings.append(
            "Trimmed to fit the 5-minute default run: "
            + (
                f"{', '.join(map(reader_words, partial))} trained on the sparse cells only (to train them on every "
                'cell: the setting extra_cells = "all" under [recovery]); '
                if partial
                else ""
            )
            + (
                f"not trained: {', '.join(map(reader_words, missing))} (listing them in the architectures to train "
                "adds them, the setting architectures = [...] under [recovery]; 20-45 s each on 2 cores for the 72 "
                "cells)."
                if missing
                else ""
            )
        )
    timed = f"train_score_{main}"
    if timed in result.seconds:
        settings.append(
            f"The SAEs of the main architecture trained in one batched job: {fmt(result.seconds[timed])} s "
            "with scoring."
        )
    return SectionOutput(
        key=section.key,
        title=section.title,
        intro=_intro(result, e1, won_cells, cfg, recipe, n_features=n_features),
        figures=figs,
        tables=tables,
        findings=findings,
        rows=rows1 + rows3,
        notes=notes,
        settings=settings,
    )


def _toy_finding(toy: Any) -> Any:
    from supviz.report.records import Finding

    band = toy.band(min_mmcs=0.99)
    ok = {r: ls for r, ls in band.items() if ls}
    above = [r for r in toy.ratios if r >= 1]
    covered = [r for r in above if ok.get(float(r))]
    if not above:
        v = "n/a"
    elif len(covered) == len(above) and not any(ok.get(float(r)) for r in toy.ratios if r < 1):
        v = "supported"
    else:
        v = "partly" if covered else "not supported"
    text = "; ".join(f"{r:g}x: " + (f"L1 {min(ls):.3g}-{max(ls):.3g}" if ls else "none") for r, ls in band.items())
    return Finding(
        "(Sharkey et al. 2022) Near-perfect recovery (MMCS >= 0.99) in a band of L1 coefficients at "
        "dictionary ratios of 1x and above.",
        f"{toy.n_features} features in {toy.d} dims; L1 band with MMCS >= 0.99 per ratio: {text}; best MMCS "
        f"{fmt(np.nanmax(toy.mmcs)) if np.isfinite(toy.mmcs).any() else 'n/a'}.",
        v,
        key="E-sharkey-toy-band",
    )


def _intro(result: RecoveryResult, e1: Any, won_cells: Any, cfg: Any, recipe: str, *, n_features: int) -> str:
    from supviz.study.recovery.findings import is_sparse, with_l0_ratio
    from supviz.toy.importance import variant_label

    main = result.architectures[0]
    n_cells = sum(1 for c in result.cells if c.architecture == main)
    parts = [
        "Interpretability's answer to superposition is the sparse autoencoder (SAE): an overcomplete sparse dictionary "
        "of the latent space whose latents are read as the features. Here the true features are known (the rows of W), "
        f"so its answer can be checked. For each of the {n_cells} cells an SAE ({ARCH_NAME.get(main, main)}; {recipe}) "
        "was trained, all of them in one batched job. Scores "
        f"count the represented features (||W_i|| > {REPRESENTED_NORM:g}) only."
    ]
    main_e1 = e1[e1["architecture"] == main]
    regions = {(r.importance, r.region): r for r in region_summaries(main_e1, sparse_p=cfg.sparse_p)}
    text = []
    for f in failures(main_e1, n_features=n_features, sparse_p=cfg.sparse_p):
        sp, de = regions.get((f.importance, "sparse")), regions.get((f.importance, "dense"))
        text.append(
            f"{variant_label(f.importance).capitalize()}: median MMCS {fmt(sp.medians['mmcs']) if sp else 'n/a'} in "
            f"the sparse cells (p <= {cfg.sparse_p:g}; random decoders: "
            f"{fmt(sp.medians.get('mmcs_chance', float('nan'))) if sp else 'n/a'}, "
            f"{sp.n_above_chance if sp else 0} of {sp.n_cells - sp.n_undefined if sp else 0} cells above chance), "
            f"{fmt(de.medians['mmcs']) if de else 'n/a'} in the cells with p > {cfg.sparse_p:g} (random: "
            f"{fmt(de.medians.get('mmcs_chance', float('nan'))) if de else 'n/a'}); {failure_sentence(f)}"
        )
    parts.append(" ".join(text))
    t = with_l0_ratio(main_e1)
    sp = t[is_sparse(t["p"], cfg.sparse_p)]
    de = t[~is_sparse(t["p"], cfg.sparse_p)]
    anti = sp["antialigned_latents"]
    parts.append(
        f"How the codes are sparse: the SAEs fire a median {fmt(sp['l0'].median())} latents per input in the sparse "
        f"cells, where a median {fmt(sp['true_l0'].median())} represented features are active (L0 / true L0 "
        f"{fmt(sp['l0_ratio'].median())}), and {fmt(de['l0'].median())} in the cells with p > {cfg.sparse_p:g} against "
        f"{fmt(de['true_l0'].median())} (ratio {fmt(de['l0_ratio'].median())}). In the sparse cells a median "
        f"{fmt(anti.median())} latents per SAE point against a represented feature (cos <= -{RECOVERED_MMCS:g}): they "
        "fire when a frequent feature is absent, since the SAE centres its inputs on their mean."
    )
    if won_cells is not None and len(won_cells):
        sparse = {w.method: w for w in won_back_summary(won_cells, region="sparse", sparse_p=cfg.sparse_p)}
        lines = []
        for w in won_back_summary(won_cells):
            line = won_back_sentence(w)
            if w.method in sparse:
                line += " Sparse cells: " + won_back_sentence(sparse[w.method], lead=False)
            lines.append(line[0].upper() + line[1:])
        parts.append(
            "Do the SAE's codes undo the loss that superposition causes? Read as section D reads the study's claim, "
            f"{space_words('h_rep')} against {space_words('x_rep')} in the cells whose W has superposition, with "
            f"{space_words('codes_rep')} beside them: " + " ".join(lines)
        )
    ranking = architecture_ranking(e1, sparse_p=cfg.sparse_p)
    if len(ranking) > 1 and ranking[0].n_cells:
        text = (
            f"Architectures, medians over {ranking[0].n_cells} sparse cells that every one scored: MMCS "
            + ", ".join(f"{s.architecture} {fmt(s.medians['mmcs'])}" for s in ranking)
            + f" ({lead_words(e1, ranking, 'mmcs', sparse_p=cfg.sparse_p)})"
        )
        coded = sorted(
            (s for s in ranking if math.isfinite(s.medians.get("codes_knn_recall", float("nan")))),
            key=lambda s: -s.medians["codes_knn_recall"],
        )
        if len(coded) > 1:
            text += (
                "; k-NN recall against x of the code space itself "
                + ", ".join(f"{s.architecture} {fmt(s.medians['codes_knn_recall'])}" for s in coded)
                + f" against {fmt(coded[0].medians.get('h_knn_recall'))} for h "
                f"({lead_words(e1, coded, 'codes_knn_recall', sparse_p=cfg.sparse_p)})"
            )
        parts.append(text + ".")
    else:
        parts.append(f"Only {main} was trained in this run (the appendix says how to compare others).")
    return "\n\n".join(parts)


class RecoverySection(Section):
    """Sparse autoencoders on every cell's h: recovery scores, decoder directions, pictures of the codes."""

    key = "recovery"
    title = "4. Recovering the features: sparse autoencoders on h, scored against the known features"
    config_key = "recovery"
    needs_grid = True
    needs = ("datapoints",)  # E3 encodes section D's own inputs; its figures sit beside D's

    def check(self, config: Any) -> None:
        """E3's methods are D's; the SAEs of every cell fit this machine (``supviz.core.resources``)."""
        from supviz.core.resources import chance_need, check_fits, toy_sae_data_need
        from supviz.sae.engine import training_need
        from supviz.study.recovery.compute import _sae_config

        cfg: RecoveryConfig = config.section("recovery")
        toy = config.toy
        n_cells = len(toy.hidden) * len(toy.probabilities) * len(toy.importances)
        sae = _sae_config(cfg.architectures[0], toy.n_features, cfg)
        need = training_need(
            max(toy.hidden),
            sae.d_sae,
            batch_size=cfg.batch_size,
            steps=cfg.steps,
            log_every=sae.log_every,
            count=n_cells * len(cfg.architectures),
            what="the cells' SAEs",
        )
        evaluation = toy_sae_data_need(
            toy.n_features,
            max(toy.hidden),
            sae.d_sae,
            n_eval=cfg.n_eval,
            batch_size=cfg.batch_size,
            count=n_cells * len(cfg.architectures),
        )
        check_fits(
            need + evaluation,
            "`recovery.dictionary_ratio`, `recovery.batch_size`, `recovery.steps`, `recovery.n_eval`, "
            "`toy.n_features`, "
            "`toy.hidden`",
        )
        # every cell's chance level: chance_draws random decoders of its SAE's shape, all built before scoring
        # (the narrowest cell's d_in and one counted feature: a floor)
        chance = chance_need(cfg.chance_draws, sae.d_sae, min(toy.hidden), 1, count=n_cells)
        check_fits(chance, "`recovery.chance_draws`, `recovery.dictionary_ratio`, `toy.n_features`")
        dp = config.sections.get("datapoints")
        if cfg.codes and dp is not None:
            extra = [m for m in cfg.code_methods if m not in dp.methods]
            if extra:
                raise SupvizError(
                    f"`recovery.code_methods` must be a subset of `datapoints.methods` {dp.methods} "
                    f"(E3 sets its pictures beside D's); got {extra[0]!r}."
                )

    def compute(self, ctx: RunContext) -> RecoveryResult:
        return compute_recovery(ctx)

    def render(self, ctx: RunContext, result: Any) -> SectionOutput:
        if not isinstance(result, RecoveryResult):
            raise SupvizError(
                f"the recovery section's cached result is not a RecoveryResult; got {type(result).__name__}."
            )
        return render_recovery(self, ctx, result)
