"""Section C: superposition embeddings, the study's main experiment (C1-C6 per importance variant).

The points are the rows of each trained ``W`` (feature directions in the m-dimensional hidden
space), for every (m, p) cell: C1 the Gram matrices ``W Wᵀ``, C2 interval MDS of all features,
C3 of the represented ones, C4/C5 the same with UMAP, C6 the check of C3's collapsed cells
(:mod:`supviz.study.embeddings.collapse_check`). Every panel is measured against the ground truth (the
features are orthogonal: ``X_true`` = identity rows) and against the orthogonal baseline of the
same point count (B1's picture).

"Represented" is ``||W_k|| > 0.5`` by default (``[represented]``); C3, C5 and the C2 ring and
centre measures are computed with both that rule and the study's ``mean|W_k| > mean|W_0| / 20``,
so every verdict says whether it changes with the rule. The figures show the configured rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.text import fmt, fmt_p
from supviz.dr.task import LayoutTask
from supviz.errors import SupvizError
from supviz.report.records import Finding, SectionOutput, TableBlock
from supviz.runtime.codecs import cacheable
from supviz.study import adapters
from supviz.study.baselines.section import orthogonal_baselines
from supviz.study.common import PanelResult, coordinate_rows, corner_text, importance_rank, ring_stats
from supviz.study.config import EmbeddingsConfig, RepresentedConfig
from supviz.study.context import RunContext
from supviz.study.embeddings.null import procrustes_nulls
from supviz.study.section import Section
from supviz.toy.diagnostics import cell_diagnostics
from supviz.toy.importance import VARIANT_ORDER, ordered_variants, variant_label, variant_slug  # noqa: F401

log = logging.getLogger(__name__)


def _procrustes_mds(Y: np.ndarray, mds: Any, *, collapsed: bool) -> tuple[float, str]:
    """The matched Procrustes distance (as ``procrustes_baseline``: :func:`supviz.metrics.procrustes.
    procrustes_and_reason` with ``match=True``) from a UMAP picture ``Y`` ``[n, 2]`` to MDS's picture of the same
    rows (C2's panel ``mds``: ``(MdsPanel, key)`` or None), and why it is NaN ('' where defined).

    0 when UMAP draws what MDS draws; UMAP's own noise is its distance on diag(N), where MDS's picture has no
    structure to keep (section B3). Unlike the distance to the orthogonal baseline, a faithful picture of a compressed
    W does not move it."""
    from supviz.metrics.procrustes import procrustes_and_reason

    if collapsed:
        return float("nan"), "the UMAP layout is collapsed"
    if not mds:
        return float("nan"), "no MDS picture of the same rows"
    d, why = procrustes_and_reason(Y, np.asarray(mds[0].embedding, dtype=float), match=True)
    return float(d), why or ""


@cacheable
@dataclass
class Cell:
    """One (m, p) cell of the grid for one importance variant."""

    m: int
    p: float
    W: np.ndarray
    importance: np.ndarray
    masks: dict[str, np.ndarray]
    """Represented features by rule name ('norm', 'mean_abs')."""
    diagnostics: dict[str, float]
    norms: np.ndarray
    loss: float


@cacheable
@dataclass
class VariantResult:
    """Everything computed for one importance variant."""

    name: str
    hidden: list[int]
    probabilities: list[float]
    cells: list[Cell]
    panels: dict[str, list[PanelResult]] = field(default_factory=dict)
    """C2, C4; C3 and C5 under the configured rule; ``C3:<rule>`` / ``C5:<rule>`` under the other."""
    heat_range: float = 1.0


def grid_cells(ctx: RunContext, grid: Any, variant: str) -> tuple[list[int], list[float], list[Cell]]:
    """The (m, p) cells of one importance variant, rows m ascending, columns p descending.

    Rows are the grid's hidden sizes that ``toy.hidden`` lists (all of them when it lists none).
    Weights of unknown probability (external files) get columns 1, 2, ... in file order, as
    p = NaN with the column number kept in the title.
    """
    rc = ctx.config.represented
    idx = [i for i, s in enumerate(grid.specs) if s.importance_name == variant]
    all_m = sorted({grid.specs[i].n_hidden for i in idx})
    wanted = [m for m in ctx.config.toy.hidden if m in all_m] or all_m
    known = [float(grid.specs[i].probability) for i in idx if grid.specs[i].probability is not None]
    ps = sorted(set(known), reverse=True)
    cells = []
    for m in wanted:
        row = [i for i in idx if grid.specs[i].n_hidden == m]
        row.sort(key=lambda i: -float(grid.specs[i].probability) if grid.specs[i].probability is not None else 0.0)
        for i in row:
            spec = grid.specs[i]
            W = np.asarray(grid.weights[i], dtype=np.float64)
            imp = np.asarray(spec.importance if spec.importance is not None else np.ones(W.shape[0]), dtype=np.float64)
            diag = cell_diagnostics(W, imp)
            losses = (
                np.asarray(grid.losses[i])
                if getattr(grid, "losses", None) is not None and len(grid.losses)
                else np.array([])
            )
            loss = float(losses[-1]) if losses.size else float("nan")
            p = float(spec.probability) if spec.probability is not None else float("nan")
            cells.append(Cell(m, p, W, imp, adapters.rule_masks(W, imp, rc), diag.values, diag.norms, loss))
    if not ps:  # unknown probabilities: one column per instance of the widest row
        width = max(sum(1 for c in cells if c.m == m) for m in wanted)
        ps = [float("nan")] * width
    return wanted, ps, cells


def outlier_ratio(Y: np.ndarray | None) -> float:
    """Largest over median distance from the centroid of a layout: about 1.1 for a ring, 1.4-1.8 for a disc,
    tens for a configuration collapsed to a spot with a few points far out."""
    if Y is None:
        return float("nan")
    r = np.linalg.norm(Y - Y.mean(axis=0), axis=1)
    med = float(np.median(r))
    return float(r.max() / med) if med > 0 else float("nan")


def _check_feature_count(n: int, name: str) -> None:
    """C2 (MDS), C4 (UMAP) and the t-SNE panels picture all ``n`` features: each method's fewest points."""
    from supviz.dr.base import MIN_POINTS

    need = max(MIN_POINTS.values())
    if n < need:
        raise SupvizError(
            f"`{name}` must be at least {need} (the section pictures every feature with MDS, UMAP and t-SNE, "
            f"which need {need} points); got {n}."
        )


class EmbeddingSection(Section):
    """C1-C6 for every importance variant of the grid."""

    key = "embeddings"
    title = "2. Superposition embeddings: layouts of the trained feature directions"
    config_key = "embeddings"
    needs_grid = True

    def check(self, config: Any) -> None:
        """The reference weights of the C3 check, when named, must exist; the toy models must have enough
        features to picture (C2, C4 and the t-SNE panels lay out all ``n`` feature directions)."""
        from supviz.core.resources import check_fits, restarts_need
        from supviz.study.embeddings.collapse_check import reference_weights

        cfg: EmbeddingsConfig = config.section("embeddings")
        reference_weights(cfg.reference_weights)
        if not config.weights.file:
            _check_feature_count(config.toy.n_features, "toy.n_features")
        # C6 solves collapse_starts random starts as one batch per checked cell, rule and MDS type (the study's
        # cell is always checked); its represented features are not known before training: at least 2 points
        need = restarts_need(cfg.collapse_starts, 2, what="the C6 check of one cell")
        check_fits(need, "`embeddings.collapse_starts`")

    def check_grid(self, config: Any, grid: Any, name: str) -> None:
        """Supplied weights must have enough features to picture (see :meth:`check`)."""
        _check_feature_count(min(int(w.shape[0]) for w in grid.weights), f"{name}'s feature count")

    def compute(self, ctx: RunContext) -> dict[str, Any]:
        """Every variant's cells and panels (C1-C5) and the C6 check's fits: ``{"variants", "collapse"}``."""
        from supviz.study.embeddings.collapse_check import collapse_starts

        cfg: EmbeddingsConfig = ctx.config.section("embeddings")
        rc = ctx.config.represented
        rules = (rc.rule, rc.other().rule)
        grid, _ = ctx.grid()
        variants = ordered_variants(adapters.importance_variants(grid))
        results = []
        n_all = {grid.specs[0].n_features}
        prepared = []
        for v in variants:
            hidden, ps, cells = grid_cells(ctx, grid, v)
            prepared.append(VariantResult(v, hidden, ps, cells))
            n_all |= {int(c.masks[r].sum()) for c in cells for r in rules}
        base = orthogonal_baselines(ctx, sorted(n for n in n_all if n >= 3))
        # C3/C5's null: the same pictures of N random unit directions in R^m, per (m, N) (P depends on N)
        pairs = {
            (c.m, int(c.masks[r].sum()))
            for vr in prepared
            for c in vr.cells
            for r in rules
            if c.masks[r].sum() >= cfg.min_points
        }
        mds_kw = {"metric_type": cfg.mds_type, "max_iter": cfg.max_iter, "eps": cfg.eps}
        umap_kw = {"n_neighbors": cfg.umap_n_neighbors, "min_dist": cfg.umap_min_dist}
        null = {
            "C3": procrustes_nulls(
                ctx, pairs, method="mds", base=base, draws=cfg.null_draws, params_for=lambda n: mds_kw
            ),
            "C5": procrustes_nulls(
                ctx,
                pairs,
                method="umap",
                base=base,
                draws=cfg.null_draws,
                params_for=lambda n: umap_kw | {"n_neighbors": min(cfg.umap_n_neighbors, n - 1)},
            ),
        }

        for vr in prepared:
            v = vr.name
            cells = vr.cells
            # C1's colour range: a quantile of the off-diagonal |W W^T| between represented features (the
            # interference the figure is about; dropped features' zeros would shrink it to nothing); the
            # diagonal ||W_i||^2 then saturates, which the colour bar's arrows say
            off = np.concatenate(
                [
                    np.abs((c.W @ c.W.T)[np.outer(c.masks[rc.rule], c.masks[rc.rule]) & ~np.eye(len(c.W), dtype=bool)])
                    for c in cells
                ]
            )
            vr.heat_range = float(np.quantile(off, cfg.heatmap_quantile)) if off.size else 1.0
            vr.heat_range = vr.heat_range if vr.heat_range > 1e-6 else 1.0
            # C2: every feature; one batched SMACOF call for the whole grid (all N = n)
            c2 = adapters.smacof_batch(
                ctx, [adapters.pairwise(c.W) for c in cells], **mds_kw, seed=ctx.seed("C2", v), desc=f"C2 {v}"
            )
            # C3: represented features only, under each rule; batched per point count
            c3: dict[str, dict[int, Any]] = {}
            for rule in rules:
                sel = [i for i, c in enumerate(cells) if c.masks[rule].sum() >= cfg.min_points]
                got = adapters.smacof_batch(
                    ctx,
                    [adapters.pairwise(cells[i].W[cells[i].masks[rule]]) for i in sel],
                    **mds_kw,
                    seed=ctx.seed("C3", v),
                    desc=f"C3 {v}",
                )
                c3[rule] = dict(zip(sel, got))
            # C4/C5: UMAP, in parallel (identical tasks, e.g. when both rules keep the same rows, run once)
            tasks, where = [], []
            for i, c in enumerate(cells):
                tasks.append(
                    LayoutTask(
                        c.W,
                        "umap",
                        {"n_neighbors": cfg.umap_n_neighbors, "min_dist": cfg.umap_min_dist},
                        ctx.seed("C4", v, c.m, str(c.p)),
                    )
                )
                where.append(("C4", i))
                for rule in rules:
                    k = int(c.masks[rule].sum())
                    if k >= cfg.min_points:
                        tasks.append(
                            LayoutTask(
                                c.W[c.masks[rule]],
                                "umap",
                                {"n_neighbors": min(cfg.umap_n_neighbors, k - 1), "min_dist": cfg.umap_min_dist},
                                ctx.seed("C5", v, c.m, str(c.p)),
                            )
                        )
                        where.append((f"C5:{rule}", i))
            lays = ctx.layouts(tasks, desc=f"C4/C5 UMAP ({v})")
            umap_by = {w: lay for w, (lay, _) in zip(where, lays)}

            for exp in ("C2", "C3", "C4", "C5"):
                for rule in rules if exp in ("C3", "C5") else (None,):
                    name = exp if rule in (None, rc.rule) else f"{exp}:{rule}"
                    vr.panels[name] = [
                        self._panel(ctx, exp, rule, i, c, v, c2, c3, umap_by, base, mds_kw, rules, null)
                        for i, c in enumerate(cells)
                    ]
            results.append(vr)
        return {"variants": results, "collapse": collapse_starts(ctx, results)}

    def _panel(
        self,
        ctx: RunContext,
        exp: str,
        rule: str | None,
        i: int,
        c: Cell,
        v: str,
        c2: Any,
        c3: Any,
        umap_by: Any,
        base: dict[int, np.ndarray],
        mds_kw: dict[str, Any],
        rules: tuple[str, ...],
        null: dict[str, dict[tuple[int, int], float]],
    ) -> PanelResult:
        cfg: EmbeddingsConfig = ctx.config.section("embeddings")
        mask = c.masks[rule] if rule else np.ones(len(c.W), dtype=bool)
        n_pts = int(mask.sum())
        title = f"{c.m} : {fmt_p(c.p)}"
        lay = None
        if exp in ("C2", "C3"):
            got = c2[i] if exp == "C2" else c3[rule].get(i)
            Y = got[0].embedding if got else None
            stress = got[0].stress if got else None
            params = dict(mds_kw)
        else:
            lay = umap_by.get((exp, i) if exp == "C4" else (f"C5:{rule}", i))
            Y = np.asarray(lay.embedding, dtype=float) if lay is not None else None
            stress = None
            params = dict(getattr(lay, "params", {}) or {}) if lay is not None else {}
        pr = PanelResult(
            exp, title, "mds" if exp in ("C2", "C3") else "umap", params, Y, importance=v, m=c.m, p=c.p, n_points=n_pts
        )
        pr.stats["represented_rule"] = rule or ""
        if Y is None:
            pr.note = f"{n_pts} represented features (< {cfg.min_points})"
            return pr
        X = c.W[mask]
        collapsed = bool(lay.info.get("collapsed", False)) if lay is not None else False
        met, why, _ = adapters.panel_metrics(
            ctx, X, Y, X_true=np.eye(len(c.W))[mask], baseline=base.get(n_pts), collapsed=collapsed
        )
        if stress is not None:
            met["smacof_stress"] = stress
        pr.metrics, pr.reasons, pr.collapsed = met, why, collapsed
        if exp == "C4":  # UMAP's departure from the faithful picture of the same rows (C4's finding reads it)
            pr.metrics["procrustes_mds"], why_mds = _procrustes_mds(Y, c2[i], collapsed=collapsed)
            if why_mds:
                pr.reasons["procrustes_mds"] = why_mds
        if exp in ("C2", "C4"):
            for r in rules:
                st = ring_stats(Y, c.masks[r], collapsed=collapsed)
                pr.stats[f"ring_cv_{r}"], pr.stats[f"core_ratio_{r}"] = st["ring_cv"], st["core_ratio"]
                pr.stats[f"n_represented_{r}"] = float(c.masks[r].sum())
        else:
            pr.stats["outlier_ratio"] = outlier_ratio(Y)
            pr.stats["procrustes_null"] = null[exp].get((c.m, n_pts), float("nan"))
            if not np.isfinite(pr.stats["procrustes_null"]):
                pr.reasons["procrustes_null"] = "every picture of random directions collapsed"
        pr.color = importance_rank(c.importance)[mask]
        pr.hover = {
            "feature": np.flatnonzero(mask),
            "importance": c.importance[mask],
            "norm": c.norms[mask],
            "represented": c.masks[rules[0]][mask],
        }
        if rule in (None, rules[0]):  # a panel the figures show: each point's trust against the rows it pictures
            pr.trust = adapters.panel_trust(X, Y, k=ctx.config.metrics.k, collapsed=collapsed)
            pr.hover |= pr.trust.hover()
        return pr

    def render(self, ctx: RunContext, computed: dict[str, Any]) -> SectionOutput:
        from supviz import plot
        from supviz.plot import interactive as iplot
        from supviz.plot.panels import ColorScale, HeatmapPanel, ScatterPanel
        from supviz.study.embeddings import findings as verdicts
        from supviz.study.embeddings.collapse_check import collapse_check
        from supviz.study.tables import build_table

        cfg: EmbeddingsConfig = ctx.config.section("embeddings")
        rc = ctx.config.represented
        rule = rc.describe()
        result: list[VariantResult] = computed["variants"]
        figs, rows, tables, findings = [], [], [], []
        source = _source_text(ctx)
        for vr in result:
            slug, label = variant_slug(vr.name), variant_label(vr.name)
            ncols = len(vr.probabilities)
            uniform = bool(np.allclose(vr.cells[0].importance, vr.cells[0].importance[0]))
            heat = [
                HeatmapPanel(f"{c.m} : {fmt_p(c.p)}", c.W @ c.W.T, corner=f"{int(c.masks[rc.rule].sum())} repr.")
                for c in vr.cells
            ]
            t1 = f"C1. W Wᵀ per cell, rows m, columns p ({label})"
            gram_scale = {"gram": ColorScale("RdBu_r", -vr.heat_range, vr.heat_range, "W Wᵀ", center=0.0)}
            figs.append(
                ctx.figure(
                    f"C1_{slug}",
                    title=t1,
                    caption=(
                        f"Gram matrices W Wᵀ ({vr.cells[0].W.shape[0]} x {vr.cells[0].W.shape[0]}) of {source}, "
                        f"{label}; rows m in {vr.hidden}, columns p in {[fmt_p(p) for p in vr.probabilities]}, panels "
                        f"titled 'm : p'. Diverging colour scale centred at 0, symmetric range ±{vr.heat_range:.2f}: "
                        f"the {cfg.heatmap_quantile:g} quantile of the off-diagonal |W Wᵀ| between represented "
                        "features over the grid, so the interference between features shows (the study's fixed ±4 "
                        "washed it out); the diagonal ‖W_i‖² saturates. Under each panel: the represented features "
                        f"({rule})."
                    ),
                    content={"heat": heat, "vmax": vr.heat_range},
                    static=lambda heat=heat, t1=t1, ncols=ncols, sc=gram_scale: plot.plot_grid(
                        heat, ncols=ncols, title=t1, scales=sc
                    ),
                )
            )
            if uniform:
                top = max(float(np.max(c.norms)) for c in vr.cells)
                colour = ColorScale("viridis_r", 0.0, top, "‖W_i‖ (norm of the feature's row)")
                colour_text = (
                    "‖W_i‖, the norm of the feature's row (under uniform importance a rank would be arbitrary; dark = "
                    "large norm, represented, and drawn on top; light = near-dropped, as the least important are in "
                    "the 0.9^i figures)"
                )
            else:
                colour = ColorScale(
                    "viridis", 0.0, float(len(vr.cells[0].W) - 1), "importance rank (0 = most important)", integer=True
                )
                colour_text = "importance rank (dark = most important, as in the study)"
            texts = {
                "C2": (
                    "all features",
                    f"{cfg.mds_type} SMACOF MDS (at most {cfg.max_iter} iterations, eps {cfg.eps:g})",
                ),
                "C3": ("represented features only", f"{cfg.mds_type} SMACOF MDS"),
                "C4": ("all features", f"UMAP (n_neighbors {cfg.umap_n_neighbors}, min_dist {cfg.umap_min_dist:g})"),
                "C5": (
                    "represented features only",
                    f"UMAP (n_neighbors min({cfg.umap_n_neighbors}, points − 1), min_dist {cfg.umap_min_dist:g})",
                ),
            }
            for exp, (which, method) in texts.items():
                prs = vr.panels[exp]
                panels = [
                    ScatterPanel(
                        p.title,
                        p.xy,
                        color=_colour(p, vr, uniform),
                        on_top="high" if uniform else "low",
                        note=p.note,
                        hover=p.hover,
                        corner="" if p.xy is None else corner_text(p.metrics, stress=p.metrics.get("smacof_stress")),
                    )
                    for p in prs
                ]
                short = method.split(" (")[0]
                title = f"{exp}. {short[0].upper() + short[1:]} of the rows of W, {which} ({label})"
                eq = exp in ("C2", "C3")
                figs.append(
                    ctx.figure(
                        f"{exp}_{slug}",
                        title=title,
                        caption=(
                            f"{method} of the rows of W ({which}; represented: {rule}) from {source}, {label}; rows m "
                            f"in {vr.hidden}, columns p, panels titled 'm : p'. Colour: {colour_text}. Under each "
                            "panel: "
                            + (
                                "SMACOF stress = the stress-1 SMACOF minimised against its interval disparities (not "
                                "the ratio stress-1 of the B figures) and "
                                if eq
                                else "T = trustworthiness and "
                            )
                            + "P = Procrustes distance to the orthogonal baseline of the same point count"
                            + (
                                " (P depends on the point count whatever the rows are: the verdicts read it against "
                                "the same picture of as many random unit directions in R^m)"
                                if exp in ("C3", "C5")
                                else " (a faithful picture of a compressed W moves away from it as m falls too: the "
                                "verdict on UMAP's artifacts reads each C4 picture against MDS's picture of the same "
                                "rows in C2)"
                                if exp == "C4"
                                else ""
                            )
                            + ". A point's trust is its own share of the panel's trustworthiness (t) and continuity "
                            "(c) against the rows it pictures "
                            f"(k = {ctx.config.metrics.k}; undefined below k + 2 points). Hover a "
                            "point in the interactive version for its feature index, importance, norm, whether it "
                            "is represented, its trust, t, c, false and missing neighbours."
                        ),
                        content={"panels": panels, "cl": colour},
                        # drawing is deferred (ctx.figure): bind every loop variable now
                        static=lambda panels=panels, title=title, eq=eq, ncols=ncols, cs=colour: plot.plot_grid(
                            panels, ncols=ncols, title=title, color=cs, equal_axes=eq
                        ),
                        interactive=lambda panels=panels, title=title, eq=eq, ncols=ncols, cs=colour: iplot.plot_grid(
                            panels, ncols=ncols, title=title, color=cs, equal_axes=eq
                        ),
                    )
                )
            for name, prs in vr.panels.items():
                rows.extend(p.row() for p in prs)
                for p in prs if ":" not in name else ():  # the pictured panels: every point, its trust
                    if p.xy is not None and p.trust is not None:
                        rows.extend(
                            coordinate_rows(
                                p.xy,
                                p.trust.columns,
                                p.trust.reason,
                                labels=[f"feature {i}" for i in p.hover["feature"]],
                                section=self.key,
                                figure=f"{name}_{slug}",
                                panel=p.title,
                                importance=vr.name,
                                m=p.m,
                                p=p.p,
                                space="W",
                                method=p.method,
                            )
                        )
            rows.extend(_toy_rows(vr, rc))
            tables.extend(_tables(vr, rc))
        # the collapsed C3 cells: an interval-MDS degeneracy or a training failure? (C6)
        check = collapse_check(ctx, computed["collapse"])
        figs.extend(check.figures)
        rows.extend(check.rows)
        tables.extend(check.tables)
        # section B's pictures of diag(N) alone ride along: the noise floor the C3 / C4 / C5 verdicts are set against
        base = ctx.rendered.get("baselines")
        base_rows = [r for r in base.rows if r.get("experiment") in ("B3",)] if base is not None else []
        panels_frame = build_table([r for r in rows if r.get("table", "panels") == "panels"] + base_rows, kind="panels")
        for vr in result:
            findings.extend(
                [
                    verdicts.c2_centre(panels_frame, vr.name, rule=rc.rule),
                    verdicts.c2_ring(panels_frame, vr.name, rule=rc.rule),
                    verdicts.no_signature(panels_frame, "C3", vr.name, rule=rc.rule),
                    verdicts.c4_low_m(panels_frame, vr.name, rule=rc.rule),
                    verdicts.no_signature(panels_frame, "C5", vr.name, rule=rc.rule),
                    verdicts.tsne_not_pictured(vr.name),
                ]
            )
        if check.finding is not None:
            findings.append(check.finding)
        return SectionOutput(
            key=self.key,
            title=self.title,
            intro=_intro(result, source, rc),
            figures=figs,
            tables=tables,
            findings=findings,
            rows=rows,
        )


def _colour(p: PanelResult, vr: VariantResult, uniform: bool) -> np.ndarray | None:
    if p.xy is None:
        return None
    if uniform:
        return np.asarray(p.hover["norm"], dtype=float)
    return p.color


def _source_text(ctx: RunContext) -> str:
    path = ctx.weights_file or ctx.config.weights.file
    if path:
        return f"the supplied weights ({path})"
    tc = ctx.config.toy
    return f"supviz's toy models (n = {tc.n_features}, {tc.steps} AdamW steps, lr {tc.lr:g}, batch {tc.batch_size})"


def _toy_rows(vr: VariantResult, rc: RepresentedConfig) -> list[dict[str, Any]]:
    rows = []
    for c in vr.cells:
        row: dict[str, Any] = {
            "table": "cells",
            "model": "grid",
            "importance": vr.name,
            "m": c.m,
            "p": c.p,
            "n_features": int(len(c.W)),
            "final_loss": c.loss,
        }
        for r, mask in c.masks.items():
            row[f"n_represented_{r}"] = float(mask.sum())
        row.update({f"toy_{k}": v for k, v in c.diagnostics.items() if not k.startswith("n_represented")})
        rows.append(row)
    return rows


#: The per-(m, p) tables of section C: (experiment, measure). Their titles name the measure by its machine name, which
#: the report reads in words (:data:`supviz.report.words.COLUMN_WORDS`): every measure here needs its words there.
CELL_TABLES = (
    ("C2", "smacof_stress"),
    ("C3", "procrustes_baseline"),
    ("C4", "trustworthiness"),
    ("C4", "procrustes_mds"),
    ("C5", "procrustes_baseline"),
)


def _tables(vr: VariantResult, rc: RepresentedConfig) -> list[TableBlock]:
    import pandas as pd

    label = variant_label(vr.name)
    other = rc.other()
    out = []
    cols = [fmt_p(p) for p in vr.probabilities]
    rep = pd.DataFrame(
        [
            [f"{int(c.masks[rc.rule].sum())} / {int(c.masks[other.rule].sum())}" for c in vr.cells if c.m == m]
            for m in vr.hidden
        ],
        index=pd.Index(vr.hidden, name="m"),
        columns=cols,
    )
    out.append(
        TableBlock(
            f"Represented features per (m, p) cell ({label}): {rc.describe()} / {other.describe()}", rep.reset_index()
        )
    )
    for exp, metric in CELL_TABLES:
        prs = vr.panels[exp]
        vals = {(p.m, p.p): p.metrics.get(metric, np.nan) for p in prs}
        frame = pd.DataFrame(
            [[round(vals.get((m, p), np.nan), 3) for p in vr.probabilities] for m in vr.hidden],
            index=pd.Index(vr.hidden, name="m"),
            columns=cols,
        )
        out.append(TableBlock(f"{exp} {metric} per (m, p) cell ({label})", frame.reset_index()))
    return out


def _intro(result: list[VariantResult], source: str, rc: RepresentedConfig) -> str:
    other = rc.other()
    parts = [
        f"Points are the rows of W from {source}: each is one feature's direction in the m-dimensional hidden space. "
        "If the hidden space kept the features apart the pictures would look like the orthogonal baselines of section "
        f"1. A feature counts as represented when its row of W has {rc.describe()}; every verdict that depends on "
        f"it is also computed with {other.describe()}, and says whether it changes."
    ]
    for vr in result:
        counts = [int(c.masks[rc.rule].sum()) for c in vr.cells]
        counts_o = [int(c.masks[other.rule].sum()) for c in vr.cells]
        dense = [int(c.masks[rc.rule].sum()) for c in vr.cells if c.p == vr.probabilities[0]]
        sparse = [int(c.masks[rc.rule].sum()) for c in vr.cells if c.p == vr.probabilities[-1]]
        parts.append(
            f"{variant_label(vr.name).capitalize()}: {min(counts)} to {max(counts)} of {len(vr.cells[0].W)} features "
            f"are represented ({rc.describe()}; {min(counts_o)} to {max(counts_o)} with {other.describe()}); at "
            f"p = {fmt_p(vr.probabilities[0])} the rows m = {vr.hidden} keep {dense}, at p = "
            f"{fmt_p(vr.probabilities[-1])} they keep {sparse}: sparser features are packed in superposition."
        )
    return "\n\n".join(parts)


__all__ = [
    "EmbeddingSection",
    "Cell",
    "VariantResult",
    "grid_cells",
    "ordered_variants",
    "outlier_ratio",
    "variant_label",
    "variant_slug",
    "fmt",
    "Finding",
]
