"""Section C: superposition embeddings, the study's main experiment (C1-C5 per importance variant).

The points are the rows of each trained ``W`` (feature directions in the m-dimensional hidden
space), for every (m, p) cell: C1 the Gram matrices ``W W^T``, C2 interval MDS of all features,
C3 of the represented ones, C4/C5 the same with UMAP. Every panel is measured against the
ground truth (the features are orthogonal: ``X_true`` = identity rows) and against the orthogonal
baseline of the same point count (B1's picture).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.study import adapters
from supviz.study.baselines import orthogonal_baselines
from supviz.study.common import PanelResult, corner_text, fmt, fmt_p, importance_rank, ring_stats, spearman
from supviz.study.config import EmbeddingsConfig
from supviz.study.context import LayoutTask, RunContext
from supviz.study.sections import Finding, Section, SectionOutput, TableBlock

log = logging.getLogger(__name__)

VARIANT_LABEL = {"uniform": "uniform importance", "geometric:0.9": "importance 0.9^i"}


def variant_label(name: str) -> str:
    """Human label of an importance variant."""
    return VARIANT_LABEL.get(name, f"importance {name}")


def variant_slug(name: str) -> str:
    """File-name form of an importance variant (``geometric:0.9`` -> ``geometric0p9``)."""
    return name.replace(":", "").replace(".", "p").replace("/", "_")


@dataclass
class Cell:
    """One (m, p) cell of the grid for one importance variant."""

    m: int
    p: float
    W: np.ndarray
    importance: np.ndarray
    represented: np.ndarray
    diagnostics: dict[str, float]
    norms: np.ndarray
    loss: float


@dataclass
class VariantResult:
    """Everything computed for one importance variant."""

    name: str
    hidden: list[int]
    probabilities: list[float]
    cells: list[Cell]
    panels: dict[str, list[PanelResult]] = field(default_factory=dict)
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
            rep = adapters.represented(W, rule=rc.rule, threshold=rc.threshold, importance=imp)
            diag = adapters.cell_diagnostics(W, imp)
            losses = np.asarray(grid.losses[i]) if getattr(grid, "losses", None) is not None and len(grid.losses) else np.array([])
            loss = float(losses[-1]) if losses.size else float("nan")
            p = float(spec.probability) if spec.probability is not None else float("nan")
            cells.append(Cell(m, p, W, imp, rep, diag.values, diag.norms, loss))
    if not ps:  # unknown probabilities: one column per instance of the widest row
        width = max(sum(1 for c in cells if c.m == m) for m in wanted)
        ps = [float("nan")] * width
    return wanted, ps, cells


class EmbeddingSection(Section):
    """C1-C5 for every importance variant of the grid."""

    key = "embeddings"
    title = "2. Superposition embeddings: layouts of the trained feature directions"
    config_key = "embeddings"
    config_class = EmbeddingsConfig
    needs_grid = True

    def compute(self, ctx: RunContext) -> list[VariantResult]:
        cfg: EmbeddingsConfig = ctx.config.section("embeddings")
        grid, grid_key = ctx.grid()
        variants = adapters.importance_variants(grid)
        results = []
        n_all = {grid.specs[0].n_features}
        prepared = []
        for v in variants:
            hidden, ps, cells = grid_cells(ctx, grid, v)
            prepared.append(VariantResult(v, hidden, ps, cells))
            n_all |= {int(c.represented.sum()) for c in cells}
        base = orthogonal_baselines(ctx, sorted(n for n in n_all if n >= 3))

        for vr in prepared:
            v = vr.name
            cells = vr.cells
            # C1's colour range: a quantile of the off-diagonal |W W^T| between represented features (the
            # interference the figure is about; dropped features' zeros would shrink it to nothing); the
            # diagonal ||W_i||^2 then saturates, which the colour bar's arrows say
            off = np.concatenate([
                np.abs((c.W @ c.W.T)[np.outer(c.represented, c.represented) & ~np.eye(len(c.W), dtype=bool)])
                for c in cells
            ])
            vr.heat_range = float(np.quantile(off, cfg.heatmap_quantile)) if off.size else 1.0
            vr.heat_range = vr.heat_range if vr.heat_range > 1e-6 else 1.0
            mds_kw = {"metric_type": cfg.mds_type, "max_iter": cfg.max_iter, "eps": cfg.eps}
            # C2: every feature; one batched SMACOF call for the whole grid (all N = n)
            c2 = adapters.smacof_batch(
                ctx, [adapters.pairwise(c.W) for c in cells], **mds_kw, seed=ctx.seed("C2", v), desc=f"C2 {v}"
            )
            # C3: represented features only; batched per point count
            sel3 = [i for i, c in enumerate(cells) if c.represented.sum() >= cfg.min_points]
            c3 = adapters.smacof_batch(
                ctx, [adapters.pairwise(cells[i].W[cells[i].represented]) for i in sel3], **mds_kw,
                seed=ctx.seed("C3", v), desc=f"C3 {v}",
            )
            c3_by_cell = dict(zip(sel3, c3))
            # C4/C5: UMAP, in parallel
            tasks, where = [], []
            for i, c in enumerate(cells):
                tasks.append(LayoutTask(c.W, "umap", {"n_neighbors": cfg.umap_n_neighbors, "min_dist": cfg.umap_min_dist},
                                        ctx.seed("C4", v, c.m, str(c.p))))
                where.append(("C4", i))
                k = int(c.represented.sum())
                if k >= cfg.min_points:
                    tasks.append(LayoutTask(c.W[c.represented], "umap",
                                            {"n_neighbors": min(cfg.umap_n_neighbors, k - 1), "min_dist": cfg.umap_min_dist},
                                            ctx.seed("C5", v, c.m, str(c.p))))
                    where.append(("C5", i))
            lays = ctx.layouts(tasks, desc=f"C4/C5 UMAP ({v})")
            umap_by = {w: lay for w, (lay, _) in zip(where, lays)}

            for exp in ("C2", "C3", "C4", "C5"):
                vr.panels[exp] = []
                for i, c in enumerate(cells):
                    sub = exp in ("C3", "C5")
                    mask = c.represented if sub else np.ones(len(c.W), dtype=bool)
                    n_pts = int(mask.sum())
                    title = f"{c.m} : {fmt_p(c.p)}"
                    if exp in ("C2", "C3"):
                        got = c2[i] if exp == "C2" else c3_by_cell.get(i)
                        Y = got[0].embedding if got else None
                        stress = got[0].stress if got else None
                        params = dict(mds_kw)
                    else:
                        lay = umap_by.get((exp, i))
                        Y = np.asarray(lay.embedding, dtype=float) if lay is not None else None
                        stress = None
                        params = dict(getattr(lay, "params", {}) or {}) if lay is not None else {}
                    pr = PanelResult(exp, title, "mds" if exp in ("C2", "C3") else "umap", params, Y, importance=v,
                                     m=c.m, p=c.p, n_points=n_pts)
                    if Y is None:
                        pr.note = f"{n_pts} represented features (< {cfg.min_points})"
                        vr.panels[exp].append(pr)
                        continue
                    X = c.W[mask]
                    collapsed = bool(lay.info.get("collapsed", False)) if exp in ("C4", "C5") else False
                    met, why, _ = adapters.panel_metrics(ctx, X, Y, X_true=np.eye(len(c.W))[mask], baseline=base.get(n_pts),
                                                         collapsed=collapsed)
                    if stress is not None:
                        met["smacof_stress"] = stress
                    pr.metrics, pr.reasons, pr.collapsed = met, why, collapsed
                    pr.stats = ring_stats(Y, c.represented[mask], collapsed=collapsed)
                    pr.color = importance_rank(c.importance)[mask]
                    idx = np.flatnonzero(mask)
                    pr.hover = {
                        "feature": idx, "importance": c.importance[mask], "norm": c.norms[mask],
                        "represented": c.represented[mask],
                    }
                    if exp in ("C2", "C3"):
                        pr.shepard = None
                    vr.panels[exp].append(pr)
            results.append(vr)
        return results

    def render(self, ctx: RunContext, result: list[VariantResult]) -> SectionOutput:
        from supviz.figures import HeatmapPanel, ScatterPanel
        from supviz.figures import interactive as ifig
        from supviz.figures import static as sfig

        cfg: EmbeddingsConfig = ctx.config.section("embeddings")
        rc = ctx.config.represented
        rule = (
            f"mean|W_k| > {rc.threshold:g} x mean|W_0|" if rc.rule == "mean_abs" else f"||W_k|| > {rc.threshold:g}"
        )
        figs, rows, tables, findings = [], [], [], []
        source = _source_text(ctx)
        for vr in result:
            slug, label = variant_slug(vr.name), variant_label(vr.name)
            ncols = len(vr.probabilities)
            uniform = vr.name == "uniform"
            color_label = "feature index (uniform importance)" if uniform else "importance rank (0 = most important)"
            heat = [
                HeatmapPanel(f"{c.m} : {fmt_p(c.p)}", c.W @ c.W.T, corner=f"{int(c.represented.sum())} repr.") for c in vr.cells
            ]
            t1 = f"C1. W Wᵀ per cell, rows m, columns p ({label})"
            figs.append(ctx.figure(
                f"C1_{slug}", title=t1,
                caption=(f"Gram matrices W Wᵀ ({vr.cells[0].W.shape[0]} x {vr.cells[0].W.shape[0]}) of {source}, {label}; "
                         f"rows m in {vr.hidden}, columns p in {[fmt_p(p) for p in vr.probabilities]}, panels titled 'm : p'. "
                         f"Diverging colour scale centred at 0, symmetric range ±{vr.heat_range:.2f}: the "
                         f"{cfg.heatmap_quantile:g} quantile of the off-diagonal |W Wᵀ| between represented features over the "
                         f"grid, so the interference "
                         f"between features shows (the study's fixed ±4 washed it out); the diagonal ‖W_i‖² saturates. "
                         f"Corner: represented features ({rule})."),
                content={"heat": heat, "vmax": vr.heat_range},
                static=lambda heat=heat, vmax=vr.heat_range, t1=t1, ncols=ncols: sfig.heatmap_grid(
                    heat, ncols=ncols, vmax=vmax, title=t1, color_label="W Wᵀ"),
            ))
            texts = {
                "C2": ("all features", f"{cfg.mds_type} SMACOF MDS (at most {cfg.max_iter} iterations, eps {cfg.eps:g})"),
                "C3": ("represented features only", f"{cfg.mds_type} SMACOF MDS"),
                "C4": ("all features", f"UMAP (n_neighbors {cfg.umap_n_neighbors}, min_dist {cfg.umap_min_dist:g})"),
                "C5": ("represented features only",
                       f"UMAP (n_neighbors min({cfg.umap_n_neighbors}, points - 1), min_dist {cfg.umap_min_dist:g})"),
            }
            for exp, (which, method) in texts.items():
                prs = vr.panels[exp]
                panels = [
                    ScatterPanel(p.title, p.xy, color=p.color, note=p.note, hover=p.hover,
                                 corner=corner_text(p.metrics, stress=p.metrics.get("smacof_stress")))
                    for p in prs
                ]
                short = method.split(" (")[0]
                title = f"{exp}. {short[0].upper() + short[1:]} of the rows of W, {which} ({label})"
                vmax = float(len(vr.cells[0].W) - 1)
                figs.append(ctx.figure(
                    f"{exp}_{slug}", title=title,
                    caption=(f"{method} of the rows of W ({which}; represented: {rule}) from {source}, {label}; rows m in "
                             f"{vr.hidden}, columns p, panels titled 'm : p'. Colour: {color_label}. Corner: "
                             + ("stress-1 of the fit and " if exp in ("C2", "C3") else "T = trustworthiness and ")
                             + "P = Procrustes distance to the orthogonal baseline of the same point count. Hover a point "
                             "in the interactive version for its feature index, importance, norm and whether it is represented."),
                    content={"panels": panels, "cl": color_label},
                    # drawing is deferred (ctx.figure): bind every loop variable now
                    static=lambda panels=panels, title=title, eq=exp in ("C2", "C3"), ncols=ncols, cl=color_label, vmax=vmax: (
                        sfig.scatter_grid(panels, ncols=ncols, title=title, color_label=cl, vmin=0.0, vmax=vmax, equal_axes=eq)),
                    interactive=lambda panels=panels, title=title, eq=exp in ("C2", "C3"), ncols=ncols, vmax=vmax,
                    cl="feature" if uniform else "rank": ifig.scatter_grid_interactive(
                        panels, ncols=ncols, title=title, color_label=cl, vmin=0.0, vmax=vmax, equal_axes=eq),
                ))
                rows.extend(p.row() for p in prs)
            rows.extend(_toy_rows(vr))
            tables.extend(_tables(vr))
            findings.extend(_findings(vr))
        return SectionOutput(key=self.key, title=self.title, intro=_intro(ctx, result, source, rule), figures=figs,
                             tables=tables, findings=findings, rows=rows)


def _source_text(ctx: RunContext) -> str:
    path = ctx.weights_file or ctx.config.weights.file
    if path:
        return f"the supplied weights ({path})"
    tc = ctx.config.toy
    return f"supviz's toy models (n = {tc.n_features}, {tc.steps} AdamW steps, lr {tc.lr:g}, batch {tc.batch_size})"


def _toy_rows(vr: VariantResult) -> list[dict[str, Any]]:
    rows = []
    for c in vr.cells:
        row = {"experiment": "toy", "importance": vr.name, "m": c.m, "p": c.p, "method": "", "params": "{}",
               "n_points": int(len(c.W)), "panel": f"{c.m} : {fmt_p(c.p)}", "note": "",
               "n_represented": float(c.represented.sum()), "final_loss": c.loss}
        row.update({f"toy_{k}": v for k, v in c.diagnostics.items()})
        rows.append(row)
    return rows


def _tables(vr: VariantResult) -> list[TableBlock]:
    import pandas as pd

    label = variant_label(vr.name)
    out = []
    rep = pd.DataFrame(
        [[int(c.represented.sum()) for c in vr.cells if c.m == m] for m in vr.hidden],
        index=pd.Index(vr.hidden, name="m"), columns=[fmt_p(p) for p in vr.probabilities],
    )
    out.append(TableBlock(f"Represented features per (m, p) cell ({label})", rep.reset_index()))
    for exp, metric in (("C2", "stress1_ratio"), ("C3", "procrustes_baseline"), ("C4", "trustworthiness"), ("C5", "procrustes_baseline")):
        prs = vr.panels[exp]
        vals = {(p.m, p.p): p.metrics.get(metric, np.nan) for p in prs}
        frame = pd.DataFrame(
            [[round(vals.get((m, p), np.nan), 3) for p in vr.probabilities] for m in vr.hidden],
            index=pd.Index(vr.hidden, name="m"), columns=[fmt_p(p) for p in vr.probabilities],
        )
        out.append(TableBlock(f"{exp} {metric} per (m, p) cell ({label})", frame.reset_index()))
    return out


def _med(prs: list[PanelResult], key: str, stats: bool = False) -> float:
    vals = [(p.stats if stats else p.metrics).get(key, np.nan) for p in prs if p.xy is not None]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.median(vals)) if vals else float("nan")


def _findings(vr: VariantResult) -> list[Finding]:
    label = variant_label(vr.name)
    c2 = [p for p in vr.panels["C2"] if p.xy is not None]
    core = [p.stats["core_ratio"] for p in c2 if np.isfinite(p.stats.get("core_ratio", np.nan))]
    # the ring is a claim about panels with a centre cluster (some features dropped); without it the
    # picture is the orthogonal baseline's disc
    ring = [p.stats["ring_cv"] for p in c2
            if np.isfinite(p.stats.get("ring_cv", np.nan)) and np.isfinite(p.stats.get("core_ratio", np.nan))]
    out = []
    if core:
        out.append(Finding(
            f"({label}) Dropped, unimportant features collapse to the centre of the MDS picture.",
            f"In the {len(core)} C2 panels that drop features, the dropped features' median distance from the centre is "
            f"{fmt(np.median(core))} x that of the represented ones (range {fmt(min(core))}-{fmt(max(core))}).",
            "supported" if np.median(core) < 0.3 else "partly" if np.median(core) < 0.7 else "not supported",
        ))
    if ring:
        out.append(Finding(
            f"({label}) The represented features lie on the perimeter of a circle.",
            f"Radius CV of the represented features around their centroid (0 = perfect ring, about 0.35 = uniform disc): "
            f"median {fmt(np.median(ring))} over the {len(ring)} C2 panels that drop features.",
            "supported" if np.median(ring) < 0.15 else "partly" if np.median(ring) < 0.3 else "not supported",
        ))
    c3 = [p for p in vr.panels["C3"] if p.xy is not None]
    if len(c3) >= 3:
        inv_p = np.array([1.0 / p.p for p in c3])
        pb = np.array([p.metrics.get("procrustes_baseline", np.nan) for p in c3])
        tw = np.array([p.metrics.get("trustworthiness", np.nan) for p in c3])
        r = spearman(inv_p, pb)
        worst = sorted(c3, key=lambda p: -np.nan_to_num(p.metrics.get("procrustes_baseline", np.nan), nan=-1))[:3]
        out.append(Finding(
            f"({label}) No obvious signature of superposition in the MDS of the represented features (C3); only "
            "particular cells deviate.",
            f"Procrustes distance to the orthogonal baseline: median {fmt(np.nanmedian(pb) if np.isfinite(pb).any() else np.nan)}; its Spearman correlation with "
            f"sparsity 1/p is {fmt(r)}. Most deviant cells: "
            + ", ".join(f"{p.title} ({fmt(p.metrics.get('procrustes_baseline'))})" for p in worst)
            + f". Trustworthiness: median {fmt(np.nanmedian(tw) if np.isfinite(tw).any() else np.nan)}"
            + (f" ({int((~np.isfinite(tw)).sum())} of {len(tw)} panels left out: undefined, e.g. fewer than k + 2 points)"
               if (~np.isfinite(tw)).any() else "")
            + (f"; {int((~np.isfinite(pb)).sum())} panels without a Procrustes distance left out" if (~np.isfinite(pb)).any() else "")
            + ".",
            "supported" if np.isfinite(r) and abs(r) < 0.4 else "not supported" if np.isfinite(r) else "n/a",
        ))
    c4 = [p for p in vr.panels["C4"] if p.xy is not None]
    if c4:
        ms = sorted({p.m for p in c4})
        lo = [p for p in c4 if p.m <= ms[min(1, len(ms) - 1)]]
        hi = [p for p in c4 if p.m > ms[min(1, len(ms) - 1)]] or lo
        t_lo, t_hi = _med(lo, "trustworthiness"), _med(hi, "trustworthiness")
        p_lo, p_hi = _med(lo, "procrustes_baseline"), _med(hi, "procrustes_baseline")
        out.append(Finding(
            f"({label}) UMAP shows substantial artifacts at low m, without a consistent pattern.",
            f"Median trustworthiness of C4 at m <= {ms[min(1, len(ms) - 1)]}: {fmt(t_lo)}, at larger m: {fmt(t_hi)}; "
            f"median Procrustes distance to the baseline {fmt(p_lo)} against {fmt(p_hi)}.",
            {2: "supported", 1: "partly", 0: "not supported"}[
                int(bool(np.isfinite(p_lo) and p_lo > p_hi)) + int(bool(np.isfinite(t_lo) and t_lo < t_hi))
            ],
        ))
    return out


def _intro(ctx: RunContext, result: list[VariantResult], source: str, rule: str) -> str:
    parts = [
        f"Points are the rows of W from {source}: each is one feature's direction in the m-dimensional hidden space. "
        "If the hidden space kept the features apart the pictures would look like the orthogonal baselines of section 1."
    ]
    for vr in result:
        counts = [int(c.represented.sum()) for c in vr.cells]
        dense = [int(c.represented.sum()) for c in vr.cells if c.p == vr.probabilities[0]]
        sparse = [int(c.represented.sum()) for c in vr.cells if c.p == vr.probabilities[-1]]
        parts.append(
            f"{variant_label(vr.name).capitalize()}: {min(counts)} to {max(counts)} of {len(vr.cells[0].W)} features are "
            f"represented ({rule}); at p = {fmt_p(vr.probabilities[0])} the rows m = {vr.hidden} keep {dense}, at "
            f"p = {fmt_p(vr.probabilities[-1])} they keep {sparse}: sparser features are packed in superposition."
        )
    return "\n\n".join(parts)
