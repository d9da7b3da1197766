"""Section B: orthogonal baselines, what an undistorted picture looks like (B1-B5).

The data are ``diag(N)``: N orthogonal unit vectors, every pairwise distance sqrt(2). B1 lays
them out with ratio SMACOF (with Shepard plots), B2/B3 with UMAP, B4/B5 with t-SNE. The ratio-MDS
layout of diag(N) is also the reference every other panel of the study is compared to
(``procrustes_baseline``), via :func:`orthogonal_baselines`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from supviz.study.adapters import pairwise, panel_metrics, smacof_batch
from supviz.study.common import PanelResult, fmt, radial_stats, spearman
from supviz.study.config import BaselinesConfig
from supviz.study.context import LayoutTask, RunContext
from supviz.study.sections import Finding, Section, SectionOutput, TableBlock

log = logging.getLogger(__name__)


def orthogonal_baselines(ctx: RunContext, ns: list[int]) -> dict[int, np.ndarray]:
    """Ratio-SMACOF layouts of ``diag(N)`` for each N (cached; one batched call per N)."""
    cfg: BaselinesConfig = ctx.config.section("baselines")
    ns = sorted(set(int(n) for n in ns if n >= 3))
    deltas = [pairwise(np.eye(n)) for n in ns]
    res = smacof_batch(
        ctx, deltas, metric_type="ratio", max_iter=cfg.max_iter, eps=cfg.eps, seed=ctx.seed("baseline-mds"), desc="baselines"
    )
    return {n: r.embedding for n, (r, _) in zip(ns, res)}


#: UMAP start for diag(N): seeded random. The spectral start is undefined here (every point is
#: alike, so the graph Laplacian's eigenvalues coincide and any basis of that eigenspace is a valid
#: answer); umap-learn then returns a different one on every call, even with a fixed seed.
UMAP_INIT = {"init": "random"}


def b3_neighbors(n: int, n_neighbors: int) -> int:
    """B3's rule: ``n_neighbors``, or N - 1 where N is smaller (the count includes the point itself)."""
    return n_neighbors if n >= n_neighbors else n - 1


def b5_perplexity(n: int) -> float:
    """B5's rule: perplexity (N - 1) / 3, the largest the reference implementation accepts."""
    return (n - 1) / 3.0


class BaselineSection(Section):
    """B1-B5."""

    key = "baselines"
    title = "1. Orthogonal baselines: what an undistorted picture looks like"
    config_key = "baselines"
    config_class = BaselinesConfig

    def compute(self, ctx: RunContext) -> dict[str, list[PanelResult]]:
        cfg: BaselinesConfig = ctx.config.section("baselines")
        all_n = set(cfg.mds_n) | set(cfg.umap_n) | set(cfg.tsne_n) | {cfg.umap_grid_n, cfg.tsne_grid_n}
        base = orthogonal_baselines(ctx, sorted(all_n))
        out: dict[str, list[PanelResult]] = {}

        # B1: ratio SMACOF of diag(N), N in mds_n (the baselines themselves, with Shepard data)
        deltas = [pairwise(np.eye(n)) for n in cfg.mds_n]
        mds = smacof_batch(
            ctx, deltas, metric_type="ratio", max_iter=cfg.max_iter, eps=cfg.eps, seed=ctx.seed("baseline-mds"), desc="B1"
        )
        b1 = []
        for n, (r, _) in zip(cfg.mds_n, mds):
            met, why, _ = panel_metrics(ctx, np.eye(n), r.embedding, X_true=None, baseline=None)
            met["stress1_ratio"] = r.stress
            why.pop("stress1_ratio", None)
            b1.append(
                PanelResult(
                    "B1", f"N = {n}", "mds", {"metric_type": "ratio", "max_iter": cfg.max_iter, "eps": cfg.eps},
                    r.embedding, n_points=n, metrics=met, stats=radial_stats(r.embedding), shepard=r.shepard,
                    reasons=why,
                )
            )
        out["B1"] = b1

        # B2-B5: UMAP and t-SNE panels, all in one parallel batch
        specs: list[tuple[str, str, int, str, dict[str, Any]]] = []
        for nn in cfg.umap_grid_n_neighbors:
            for md in cfg.umap_grid_min_dist:
                specs.append(("B2", f"{nn} : {md:g}", cfg.umap_grid_n, "umap", {"n_neighbors": nn, "min_dist": md, **UMAP_INIT}))
        for n in cfg.umap_n:
            nn = b3_neighbors(n, cfg.umap_n_neighbors)
            specs.append(("B3", f"N = {n}", n, "umap", {"n_neighbors": nn, "min_dist": cfg.umap_min_dist, **UMAP_INIT}))
        for perp in cfg.tsne_grid_perplexity:
            specs.append(("B4", f"perplexity {perp:g}", cfg.tsne_grid_n, "tsne", {"perplexity": float(perp)}))
        for n in cfg.tsne_n:
            specs.append(("B5", f"N = {n}", n, "tsne", {"perplexity": b5_perplexity(n)}))
        tasks = [LayoutTask(np.eye(n), method, params, ctx.seed("B", exp, title)) for exp, title, n, method, params in specs]
        layouts = ctx.layouts(tasks, desc="B2-B5 layouts")
        for (exp, title, n, method, params), (layout, _) in zip(specs, layouts):
            Y = np.asarray(layout.embedding, dtype=float)
            collapsed = bool(getattr(layout, "info", {}).get("collapsed", False))
            met, why, _ = panel_metrics(ctx, np.eye(n), Y, X_true=None, baseline=base.get(n), collapsed=collapsed)
            out.setdefault(exp, []).append(
                PanelResult(
                    exp, title, method, dict(getattr(layout, "params", params) or params), Y, n_points=n, metrics=met,
                    stats=radial_stats(Y, collapsed=collapsed), note="; ".join(getattr(layout, "notes", []) or []),
                    reasons=why, collapsed=collapsed,
                )
            )
        return out

    def render(self, ctx: RunContext, result: dict[str, list[PanelResult]]) -> SectionOutput:
        from supviz.figures import ScatterPanel, ShepardPanel
        from supviz.figures import interactive as ifig
        from supviz.figures import static as sfig

        cfg: BaselinesConfig = ctx.config.section("baselines")
        figs = []
        b1 = result["B1"]
        panels = [ScatterPanel(p.title, p.xy, corner=f"stress-1 {p.metrics['stress1_ratio']:.3f}", hover={"point": np.arange(p.n_points)}) for p in b1]
        shep = [ShepardPanel(p.shepard.dissimilarity, p.shepard.distance, p.shepard.disparity) for p in b1]
        figs.append(
            ctx.figure(
                "B1", title="B1. Ratio MDS of orthogonal data diag(N), with Shepard plots",
                caption=(
                    f"Ratio SMACOF (Torgerson start, at most {cfg.max_iter} iterations, eps {cfg.eps:g}) of N orthogonal "
                    f"unit vectors, N in {cfg.mds_n}; stress-1 in each panel's corner. Below each configuration its "
                    "Shepard plot: every pair's dissimilarity (all sqrt 2, jittered for visibility) against its distance "
                    "in the layout, the red line the disparities."
                ),
                content={"panels": panels, "shepard": shep},
                # drawing is deferred (ctx.figure): bind the data now, not the loop variables
                static=lambda panels=panels, shep=shep: sfig.layout_shepard_grid(panels, shep, title="B1. Ratio MDS of diag(N)"),
                interactive=lambda panels=panels: ifig.scatter_grid_interactive(
                    panels, ncols=len(panels), title="B1. Ratio MDS of diag(N)"
                ),
            )
        )
        specs = {
            "B2": (f"B2. UMAP of diag({cfg.umap_grid_n}): n_neighbors : min_dist", len(cfg.umap_grid_min_dist),
                   f"UMAP of diag({cfg.umap_grid_n}) for n_neighbors in {cfg.umap_grid_n_neighbors} (rows) and min_dist in "
                   f"{cfg.umap_grid_min_dist} (columns); panels titled 'n_neighbors : min_dist'. Seeded random start (the "
                   "spectral start is undefined for diag(N): all its eigenvalues coincide)."),
            "B3": ("B3. UMAP of diag(N)", 5,
                   f"UMAP of diag(N), N in {cfg.umap_n}; n_neighbors {cfg.umap_n_neighbors} (N - 1 where N is smaller), "
                   f"min_dist {cfg.umap_min_dist:g}; seeded random start, as in B2."),
            "B4": (f"B4. t-SNE of diag({cfg.tsne_grid_n}) by perplexity", 5,
                   f"t-SNE of diag({cfg.tsne_grid_n}) for perplexity {', '.join(f'{p:g}' for p in cfg.tsne_grid_perplexity)}."),
            "B5": ("B5. t-SNE of diag(N), perplexity (N - 1) / 3", 5,
                   f"t-SNE of diag(N), N in {cfg.tsne_n}, perplexity (N - 1) / 3 (the largest the reference implementation accepts)."),
        }
        for exp, (title, ncols, caption) in specs.items():
            prs = result.get(exp, [])
            # neighbourhood metrics are undefined on diag(N) (all its distances tie), so the corner shows shape
            panels = [_baseline_panel(p) for p in prs]
            caption += (
                " Corner: P = Procrustes distance to the ratio-MDS layout of the same diag(N) (B1's picture; 0 = the same "
                "shape); CV = spread of the distances from the centre (0 = a ring, about 0.35 = a uniform disc). A panel "
                "marked 'collapsed' put all its points at one spot (its spread is in the corner): it is drawn as that one "
                "spot, its measures are undefined and it is left out of the claims below."
            )
            figs.append(
                ctx.figure(
                    exp, title=title, caption=caption, content=panels,
                    static=lambda panels=panels, title=title, ncols=ncols: sfig.scatter_grid(panels, ncols=ncols, title=title),
                    interactive=lambda panels=panels, title=title, ncols=ncols: ifig.scatter_grid_interactive(
                        panels, ncols=ncols, title=title
                    ),
                )
            )
        rows = [p.row() for prs in result.values() for p in prs]
        return SectionOutput(
            key=self.key, title=self.title, intro=_intro(result), figures=figs, tables=_tables(result),
            findings=_findings(result), rows=rows,
            notes=sorted({f"{p.experiment} {p.title}: {p.note}" for prs in result.values() for p in prs if p.note}),
        )


def _baseline_panel(p: PanelResult) -> "Any":
    """The scatter panel of one B2-B5 picture; a collapsed one is drawn as the single spot it is."""
    from supviz.figures import ScatterPanel

    hover = {"point": np.arange(p.n_points)}
    if p.collapsed and p.xy is not None:
        spread = float(np.ptp(p.xy, axis=0).max())
        # Drawn at its true scale the spot would be blown up to a picture of rounding noise.
        return ScatterPanel(p.title, np.zeros_like(p.xy), corner=f"collapsed (spread {spread:.0e})", hover=hover)
    return ScatterPanel(p.title, p.xy, corner=f"P {p.metrics['procrustes_baseline']:.2f}  CV {p.stats['radius_cv']:.2f}",
                        hover=hover)


def _left_out(prs: list[PanelResult], metric: str) -> tuple[np.ndarray, str]:
    """``metric`` per panel with the undefined ones NaN, and the clause saying how many were left out."""
    vals = np.array([p.metrics.get(metric, np.nan) for p in prs], dtype=float)
    out = [p for p, v in zip(prs, vals) if not np.isfinite(v)]
    if not out:
        return vals, ""
    collapsed = sum(p.collapsed for p in out)
    why = f"{collapsed} collapsed" if collapsed == len(out) else f"{len(out)} undefined, {collapsed} of them collapsed"
    return vals, f" ({len(out)} of {len(prs)} panels left out: {why})"


def _intro(result: dict[str, list[PanelResult]]) -> str:
    b1 = result["B1"]
    return (
        "N orthogonal unit vectors (diag(N)) are equidistant: every pair is sqrt(2) apart, so no 2-D picture can be "
        "exact. These panels are the reference: what MDS, UMAP and t-SNE draw when there is no structure at all. "
        f"Ratio MDS stress-1 goes from {fmt(b1[0].metrics['stress1_ratio'])} at N = {b1[0].n_points} to "
        f"{fmt(b1[-1].metrics['stress1_ratio'])} at N = {b1[-1].n_points}."
    )


def _tables(result: dict[str, list[PanelResult]]) -> list[TableBlock]:
    import pandas as pd

    cols = ["panel", "n_points", "stress1_ratio", "shepard_rho", "trustworthiness", "continuity", "procrustes_baseline", "radius_cv",
            "collapsed", "nan_reasons"]
    blocks = []
    for exp, prs in result.items():
        frame = pd.DataFrame([p.row() for p in prs])
        blocks.append(TableBlock(f"{exp}: metrics per panel", frame[[c for c in cols if c in frame]]))
    return blocks


def _findings(result: dict[str, list[PanelResult]]) -> list[Finding]:
    out = []
    b1 = result["B1"]
    ns = np.array([p.n_points for p in b1], dtype=float)
    st = np.array([p.metrics["stress1_ratio"] for p in b1])
    cv = np.array([p.stats["radius_cv"] for p in b1])
    rho = spearman(ns, st)
    out.append(
        Finding(
            "As N grows the MDS optimum becomes a uniform disc / ring and stress increases dramatically.",
            f"Stress-1 by N: {', '.join(f'{int(n)}: {fmt(s)}' for n, s in zip(ns, st))} (Spearman rho with N {fmt(rho)}). "
            f"Radius CV (0 = ring, about 0.35 = uniform disc) at the largest N: {fmt(cv[-1])}.",
            "supported" if rho > 0.8 else "partly" if rho > 0 else "not supported",
        )
    )
    # Panels whose measure is undefined (a collapsed picture) are left out of every verdict, and each
    # finding says how many: a collapse is an artifact, but not a distance to the baseline.
    if result.get("B2"):
        b2 = result["B2"]
        nn = np.array([p.params.get("n_neighbors", np.nan) for p in b2], dtype=float)
        md = np.array([p.params.get("min_dist", np.nan) for p in b2], dtype=float)
        pb, left = _left_out(b2, "procrustes_baseline")
        r_nn, r_md = spearman(nn, pb), spearman(md, pb)
        out.append(
            Finding(
                "UMAP: n_neighbors is the relevant parameter; the bias decreases as it increases.",
                f"Procrustes distance to the MDS baseline against n_neighbors: Spearman rho {fmt(r_nn)}; against min_dist: "
                f"{fmt(r_md)}{left}.",
                "n/a" if not np.isfinite(r_nn) else "supported" if (r_nn < -0.3 and abs(r_nn) > abs(r_md)) else "partly"
                if r_nn < 0 else "not supported",
            )
        )
    if result.get("B3"):
        pb3, left3 = _left_out(result["B3"], "procrustes_baseline")
        b5 = result.get("B5", [])
        pb5, left5 = _left_out(b5, "procrustes_baseline") if b5 else (np.array([np.nan]), "")
        m3 = float(np.nanmedian(pb3)) if np.isfinite(pb3).any() else float("nan")
        m5 = float(np.nanmedian(pb5)) if np.isfinite(pb5).any() else float("nan")
        collapsed5 = sum(p.collapsed for p in b5)
        extra = (f" {collapsed5} of the {len(b5)} t-SNE pictures collapsed to one spot, itself the strongest artifact, "
                 "which the distance cannot measure." if collapsed5 else "")
        out.append(
            Finding(
                "UMAP across N looks very similar to MDS, with some noise; t-SNE across N introduces major artifacts.",
                f"Median Procrustes distance to the MDS baseline: UMAP (B3) {fmt(m3)}{left3}, t-SNE (B5) {fmt(m5)}{left5}."
                + extra,
                "n/a" if not (np.isfinite(m3) and np.isfinite(m5)) else "supported" if m3 < m5 else "not supported",
            )
        )
    if result.get("B4"):
        b4 = result["B4"]
        perp = np.array([p.params.get("perplexity", np.nan) for p in b4], dtype=float)
        pb, left = _left_out(b4, "procrustes_baseline")
        r = spearman(perp, pb)
        ok = np.flatnonzero(np.isfinite(pb))
        ends = (f"{fmt(pb[ok[0]])} at perplexity {perp[ok[0]]:g}, {fmt(pb[ok[-1]])} at {perp[ok[-1]]:g}" if ok.size
                else "undefined at every perplexity")
        out.append(
            Finding(
                "t-SNE: low perplexity introduces substantial artifacts.",
                f"Procrustes distance to the MDS baseline: {ends} (Spearman rho with perplexity {fmt(r)}){left}.",
                "n/a" if not np.isfinite(r) else "supported" if r < -0.3 else "partly" if r < 0 else "not supported",
            )
        )
    return out
