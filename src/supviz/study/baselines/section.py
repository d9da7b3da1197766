"""Section B: orthogonal baselines, what an undistorted picture looks like (B1-B5).

The data are ``diag(N)``: N orthogonal unit vectors, every pairwise distance sqrt(2). B1 lays
them out with ratio SMACOF (with Shepard plots), B2/B3 with UMAP, B4/B5 with t-SNE. The ratio-MDS
layout of diag(N) is also the reference every other panel of the study is compared to
(``procrustes_baseline``), via :func:`orthogonal_baselines`.

t-SNE of diag(N) is drawn in two settings (B4, B5):

- **exact affinities**: every distance of diag(N) is equal, so each point's Gaussian conditional
  ``p_{j|i}`` is uniform whatever its bandwidth: ``P_ij = 1 / (N (N - 1))`` at *every* perplexity,
  and ``KL(P || Q)`` is 0 exactly when Q is uniform, i.e. when every pair of points is equally far
  apart in the picture: for N = 3 any equilateral triangle (of any size), for N >= 4 only all points
  at one spot (no four points of the plane are equidistant). For N >= 4 the optimum is a collapse and
  perplexity cannot change it. (openTSNE with affinities over all pairs,
  perplexity (N - 1) / 3; PCA start; exact gradient.)
- **the study's R run, emulated with openTSNE** (Rtsne's settings, van der Maaten's bhtsne): random start,
  Barnes-Hut gradient with theta 0.5, learning rate 200, 1,000 iterations of which 250 exaggerated 12-fold, and
  affinities over the 3·perplexity nearest neighbours only. For diag(N) those neighbours are
  arbitrary (every point is equally near), so P is sparse and arbitrary: the pictures the study
  saw. Rtsne's default initial PCA to 50 dimensions is not applied (it would make the distances of
  diag(N), N > 50, unequal). Each of these pictures is run from ``baselines.tsne_seeds`` random starts
  (:func:`start_seed`): from some starts diag(40) collapses and from others it spreads, so one start is not the
  picture of an N; the figures draw start 0, the findings read the share of starts.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from supviz.core.text import fmt
from supviz.dr.task import LayoutTask
from supviz.report.records import Finding, SectionOutput, TableBlock
from supviz.study.adapters import pairwise, panel_metrics, panel_trust, smacof_batch
from supviz.study.common import PanelResult, radial_stats
from supviz.study.config import BaselinesConfig
from supviz.study.context import RunContext
from supviz.study.section import Section
from supviz.study.verdicts import DISC_MIN, RING_MAX, RING_MIN_POINTS

log = logging.getLogger(__name__)

#: UMAP start for diag(N): seeded random. The spectral start is undefined here (every point is
#: alike, so the graph Laplacian's eigenvalues coincide and any basis of that eigenspace is a valid
#: answer); umap-learn then returns a different one on every call, even with a fixed seed.
UMAP_INIT = {"init": "random"}
#: t-SNE as the study's R code ran it (Rtsne's defaults, random start): see the module docstring.
TSNE_R = {
    "init": "random",
    "theta": 0.5,
    "learning_rate": 200.0,
    "n_iter": 1000,
    "early_exaggeration_iter": 250,
    "early_exaggeration": 12.0,
}
#: t-SNE with exact affinities and gradients (the optimum): affinities over all pairs.
TSNE_EXACT = {"theta": 0.0}


def orthogonal_baselines(ctx: RunContext, ns: list[int]) -> dict[int, np.ndarray]:
    """Ratio-SMACOF layouts of ``diag(N)`` for each N (cached; one batched call per N)."""
    cfg: BaselinesConfig = ctx.config.section("baselines")
    ns = sorted(set(int(n) for n in ns if n >= 3))
    deltas = [pairwise(np.eye(n)) for n in ns]
    res = smacof_batch(
        ctx,
        deltas,
        metric_type="ratio",
        max_iter=cfg.max_iter,
        eps=cfg.eps,
        seed=ctx.seed("baseline-mds"),
        desc="baselines",
    )
    return {n: r.embedding for n, (r, _) in zip(ns, res)}


def mds_reruns(ctx: RunContext, ns: list[int], base: dict[int, np.ndarray]) -> dict[int, dict[str, float]]:
    """MDS's own noise on diag(N), per N: ratio SMACOF of the same diag(N) from a random start (its own seed), and
    how far it lies from the baseline :func:`orthogonal_baselines`.

    Every configuration of diag(N) is about as good as any other (all distances tie), so the baseline is one of
    many; the rerun is what MDS's own pictures do, the noise level the section's claims are read against
    (:func:`supviz.study.baselines.findings.b5_across_n`). The baseline starts from Torgerson's solution, which is
    deterministic: a rerun from it would be the baseline itself, so the rerun starts at random. One SMACOF call per
    N (cached). Per N: ``procrustes_mds_rerun``, the matched Procrustes distance (as ``procrustes_baseline``) from
    the rerun to the baseline, and ``radius_cv_mds_rerun``, the rerun's radius CV
    (:func:`~supviz.study.common.radial_stats`); NaN where a layout is collapsed.
    """
    from supviz.metrics.procrustes import procrustes_and_reason

    cfg: BaselinesConfig = ctx.config.section("baselines")
    ns = sorted(set(int(n) for n in ns if n >= 3 and n in base))
    res = smacof_batch(
        ctx,
        [pairwise(np.eye(n)) for n in ns],
        metric_type="ratio",
        max_iter=cfg.max_iter,
        eps=cfg.eps,
        seed=ctx.seed("baseline-mds", "rerun"),
        desc="MDS reruns",
        init="random",
    )
    return {
        n: {
            "procrustes_mds_rerun": procrustes_and_reason(r.embedding, base[n], match=True)[0],
            "radius_cv_mds_rerun": radial_stats(r.embedding)["radius_cv"],
        }
        for n, (r, _) in zip(ns, res)
    }


def start_seed(ctx: RunContext, exp: str, title: str, start: int) -> int:
    """The seed of one random start of a B2-B5 picture: start 0 is the picture's own seed (``ctx.seed("B", exp,
    title)``, the one its figure draws), start k >= 1 a child of it (``ctx.seed("B", exp, title, "start", k)``)."""
    return ctx.seed("B", exp, title) if start == 0 else ctx.seed("B", exp, title, "start", start)


def first_starts(panels: list[PanelResult]) -> list[PanelResult]:
    """The pictures of start 0 (the ones the figures draw and the tables list); panels without starts, all."""
    return [p for p in panels if int(p.stats.get("start", 0)) == 0]


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

    def check(self, config: Any) -> None:
        """The largest baseline, ``diag(N)`` pictured and measured, fits this machine (``supviz.core.resources``)."""
        from supviz.core.resources import check_fits, layout_need

        cfg: BaselinesConfig = config.section("baselines")
        n = max(*cfg.mds_n, *cfg.umap_n, *cfg.tsne_n, cfg.umap_grid_n, cfg.tsne_grid_n)
        sizes = ", ".join(f"`baselines.{k}`" for k in ("mds_n", "umap_n", "tsne_n", "umap_grid_n", "tsne_grid_n"))
        check_fits(layout_need(n, what="the orthogonal baselines"), sizes)

    def compute(self, ctx: RunContext) -> dict[str, list[PanelResult]]:
        cfg: BaselinesConfig = ctx.config.section("baselines")
        all_n = set(cfg.mds_n) | set(cfg.umap_n) | set(cfg.tsne_n) | {cfg.umap_grid_n, cfg.tsne_grid_n}
        base = orthogonal_baselines(ctx, sorted(all_n))
        out: dict[str, list[PanelResult]] = {}

        # B1: ratio SMACOF of diag(N), N in mds_n (the baselines themselves, with Shepard data)
        deltas = [pairwise(np.eye(n)) for n in cfg.mds_n]
        mds = smacof_batch(
            ctx,
            deltas,
            metric_type="ratio",
            max_iter=cfg.max_iter,
            eps=cfg.eps,
            seed=ctx.seed("baseline-mds"),
            desc="B1",
        )
        b1 = []
        for n, (r, _) in zip(cfg.mds_n, mds):
            met, why, _ = panel_metrics(ctx, np.eye(n), r.embedding, X_true=None, baseline=None)
            met["stress1_ratio"] = r.stress
            why.pop("stress1_ratio", None)
            b1.append(
                PanelResult(
                    "B1",
                    f"N = {n}",
                    "mds",
                    {"metric_type": "ratio", "max_iter": cfg.max_iter, "eps": cfg.eps},
                    r.embedding,
                    n_points=n,
                    metrics=met,
                    stats=radial_stats(r.embedding),
                    shepard=r.shepard,
                    reasons=why,
                    # each point's trust, for the hover (undefined: every distance of diag(N) ties)
                    trust=panel_trust(np.eye(n), r.embedding, k=ctx.config.metrics.k),
                )
            )
        out["B1"] = b1

        # B2-B5: UMAP and t-SNE panels, all in one parallel batch; B4 and B5 (random start) from each of
        # `tsne_seeds` starts: start 0 keeps the picture's own seed (the one the figure draws), start k a child of it
        specs: list[tuple[str, str, int, str, dict[str, Any], int]] = []
        for nn in cfg.umap_grid_n_neighbors:
            for md in cfg.umap_grid_min_dist:
                specs.append(
                    (
                        "B2",
                        f"{nn} : {md:g}",
                        cfg.umap_grid_n,
                        "umap",
                        {"n_neighbors": nn, "min_dist": md, **UMAP_INIT},
                        0,
                    )
                )
        for n in cfg.umap_n:
            nn = b3_neighbors(n, cfg.umap_n_neighbors)
            specs.append(
                ("B3", f"N = {n}", n, "umap", {"n_neighbors": nn, "min_dist": cfg.umap_min_dist, **UMAP_INIT}, 0)
            )
        for perp in cfg.tsne_grid_perplexity:
            for k in range(cfg.tsne_seeds):
                specs.append(
                    ("B4", f"perplexity {perp:g}", cfg.tsne_grid_n, "tsne", {"perplexity": float(perp), **TSNE_R}, k)
                )
        n4 = cfg.tsne_grid_n
        specs.append(("B4x", "exact, any perplexity", n4, "tsne", {"perplexity": b5_perplexity(n4), **TSNE_EXACT}, 0))
        for n in cfg.tsne_n:
            # below RING_MIN_POINTS a picture is a polygon, never read for the artifact: its first start is drawn only
            for k in range(cfg.tsne_seeds if n >= RING_MIN_POINTS else 1):
                specs.append(("B5", f"N = {n}", n, "tsne", {"perplexity": b5_perplexity(n), **TSNE_R}, k))
            specs.append(("B5x", f"exact, N = {n}", n, "tsne", {"perplexity": b5_perplexity(n), **TSNE_EXACT}, 0))
        tasks = [
            LayoutTask(np.eye(n), method, params, start_seed(ctx, exp.rstrip("x"), title, k))
            for exp, title, n, method, params, k in specs
        ]
        layouts = ctx.layouts(tasks, desc="B2-B5 layouts")
        rerun = mds_reruns(ctx, sorted(set(cfg.umap_n) | set(cfg.tsne_n) | {cfg.tsne_grid_n}), base)
        # MDS's own picture of each N: the shape an undistorted picture has (the B5 artifacts are read against it)
        cv_mds = {n: radial_stats(Y)["radius_cv"] for n, Y in base.items()}
        for (exp, title, n, method, params, k), (layout, _) in zip(specs, layouts):
            Y = np.asarray(layout.embedding, dtype=float)
            collapsed = bool(getattr(layout, "info", {}).get("collapsed", False))
            met, why, _ = panel_metrics(ctx, np.eye(n), Y, X_true=None, baseline=base.get(n), collapsed=collapsed)
            out.setdefault(exp, []).append(
                PanelResult(
                    exp,
                    title,
                    method,
                    dict(getattr(layout, "params", params) or params),
                    Y,
                    n_points=n,
                    metrics=met,
                    stats=radial_stats(Y, collapsed=collapsed)
                    | {"spread": float(np.ptp(Y, axis=0).max())}
                    | {"radius_cv_mds": cv_mds.get(n, float("nan"))}
                    | (rerun.get(n, {}) if exp in ("B3", "B4", "B5") else {})
                    | ({"start": k} if exp in ("B4", "B5") else {}),
                    note="; ".join(getattr(layout, "notes", []) or []),
                    reasons=why,
                    collapsed=collapsed,
                )
            )
        return out

    def render(self, ctx: RunContext, result: dict[str, list[PanelResult]]) -> SectionOutput:
        from supviz import plot
        from supviz.plot import interactive as iplot
        from supviz.plot.panels import ScatterPanel, ShepardPanel

        cfg: BaselinesConfig = ctx.config.section("baselines")
        figs = []
        b1 = result["B1"]
        panels = [
            ScatterPanel(
                p.title,
                p.xy,
                corner=f"stress-1 {p.metrics['stress1_ratio']:.3f}",
                hover={"point": np.arange(p.n_points), **(p.trust.hover() if p.trust is not None else {})},
            )
            for p in b1
        ]
        shep = [
            ShepardPanel(
                p.shepard.dissimilarity, p.shepard.distance, p.shepard.disparity, title=f"Shepard, N = {p.n_points}"
            )
            for p in b1
        ]
        t1 = "B1. Ratio MDS of diag(N), with Shepard plots"
        figs.append(
            ctx.figure(
                "B1",
                title=t1,
                caption=(
                    f"Ratio SMACOF (Torgerson start, at most {cfg.max_iter} iterations, eps {cfg.eps:g}) of N "
                    f"orthogonal unit vectors, N in {cfg.mds_n}; stress-1 under each panel. Below each configuration "
                    "its Shepard plot: every pair's dissimilarity (all sqrt 2, spread a little sideways so the strip "
                    "shows) against its distance in the layout, the red line the disparities. The interactive version "
                    "has both rows; hover a point for its point index and trust. A point's trust is its own share of "
                    "trustworthiness and continuity; it is undefined here, since every distance of diag(N) ties and "
                    "the points have no nearest neighbours to keep."
                ),
                content={"panels": panels, "shepard": shep},
                # drawing is deferred (ctx.figure): bind the data now, not the loop variables
                static=lambda panels=panels, shep=shep: plot.plot_grid([*panels, *shep], ncols=len(panels), title=t1),
                interactive=lambda panels=panels, shep=shep: iplot.plot_grid(
                    [*panels, *shep], ncols=len(panels), title=t1
                ),
            )
        )
        corner_help = (
            " Under each panel: P = Procrustes distance to the ratio-MDS picture of the same diag(N) (B1; 0 = the "
            "same shape), CV = spread of the distances from the centre (0 = a ring, about 0.35 = a uniform disc), "
            "extent = the picture's width (the longer side of its bounding box, in its own units: every panel is "
            "scaled to fill its box, so the extent tells a picture 0.002 wide from one 80 wide). "
            "A collapsed picture (all points at one spot) is drawn as that spot and labelled with its spread; its "
            "measures are undefined and it is left out of the claims."
        )
        exact_help = (
            " Exact affinities: every distance of diag(N) is equal, so each point's Gaussian conditional is uniform "
            "whatever its bandwidth: P_ij = 1 / (N (N − 1)) at every perplexity, and KL(P‖Q) is 0 exactly when every "
            "pair of points is equally far apart in the picture: for N = 3 any equilateral triangle, of any size; for "
            "N ≥ 4 only all points at one spot (no four points of the plane are equidistant). So for N ≥ 4 the "
            "optimum is a collapse, and perplexity cannot change it."
        )
        r_help = (
            "the study's R run emulated with openTSNE (Rtsne's settings: random start, Barnes-Hut theta 0.5, learning "
            "rate 200, 1,000 iterations, affinities over the 3·perplexity nearest neighbours, which for diag(N) are "
            "arbitrary)"
        )
        starts_help = (
            f"each drawn from the first of its {cfg.tsne_seeds} random starts; the verdict reads every start, since "
            "the same settings collapse from some starts and not from others"
        )
        specs = {
            "B2": (
                f"B2. UMAP of diag({cfg.umap_grid_n}): n_neighbors : min_dist",
                len(cfg.umap_grid_min_dist),
                ["B2"],
                f"UMAP of diag({cfg.umap_grid_n}) for n_neighbors in {cfg.umap_grid_n_neighbors} (rows) and min_dist "
                f"in {cfg.umap_grid_min_dist} (columns); panels titled 'n_neighbors : min_dist'. Seeded random start "
                "(the spectral start is undefined for diag(N): all its eigenvalues coincide).",
            ),
            "B3": (
                "B3. UMAP of diag(N)",
                5,
                ["B3"],
                f"UMAP of diag(N), N in {cfg.umap_n}; n_neighbors {cfg.umap_n_neighbors} (N − 1 where N is smaller), "
                f"min_dist {cfg.umap_min_dist:g}; seeded random start, as in B2.",
            ),
            "B4": (
                f"B4. t-SNE of diag({cfg.tsne_grid_n}) by perplexity: the study's settings and the optimum",
                4,
                ["B4", "B4x"],
                f"t-SNE of diag({cfg.tsne_grid_n}) with {r_help}, for perplexity "
                f"{', '.join(f'{p:g}' for p in cfg.tsne_grid_perplexity)} ({starts_help}); the last panel with exact "
                "affinities and gradients (PCA start), the same picture for every perplexity." + exact_help,
            ),
            "B5": (
                "B5. t-SNE of diag(N), perplexity (N − 1) / 3: the study's settings (top) and exact affinities "
                "(bottom)",
                5,
                ["B5", "B5x"],
                f"t-SNE of diag(N), N in {cfg.tsne_n}, perplexity (N − 1) / 3 (the largest the reference "
                f"implementation accepts): top rows with {r_help} ({starts_help}); bottom rows with exact affinities "
                "and exact gradients (PCA start). The verdict reads t-SNE's artifacts from the shape, not from P: a "
                f"collapse, or a ring (CV below {RING_MAX:g}) where MDS's picture of the same N is a disc (CV above "
                f"{DISC_MIN:g}); P, with interchangeable points, rates a thin ring about as a disc." + exact_help,
            ),
        }
        for exp, (title, ncols, parts, caption) in specs.items():
            prs = [p for part in parts for p in first_starts(result.get(part, []))]
            # neighbourhood metrics are undefined on diag(N) (all its distances tie), so the corner shows shape
            panels = [_baseline_panel(p) for p in prs]
            figs.append(
                ctx.figure(
                    exp,
                    title=title,
                    caption=caption + corner_help,
                    content=panels,
                    static=lambda panels=panels, title=title, ncols=ncols: plot.plot_grid(
                        panels, ncols=ncols, title=title, equal_axes=False
                    ),
                )
            )
        rows = [p.row() for prs in result.values() for p in prs]
        return SectionOutput(
            key=self.key,
            title=self.title,
            intro=_intro(result),
            figures=figs,
            tables=_tables(result),
            findings=_findings(result),
            rows=rows,
            notes=sorted({f"{p.experiment} {p.title}: {p.note}" for prs in result.values() for p in prs if p.note}),
        )


def _baseline_panel(p: PanelResult) -> Any:
    """The scatter panel of one B2-B5 picture; a collapsed one is drawn as the single spot it is."""
    from supviz.plot.panels import ScatterPanel

    if p.collapsed and p.xy is not None:
        # Drawn at its true scale the spot would be blown up to a picture of rounding noise.
        return ScatterPanel(p.title, np.zeros_like(p.xy), corner=f"collapsed (spread {p.stats['spread']:.0e})")
    return ScatterPanel(p.title, p.xy, corner=baseline_corner(p.metrics, p.stats))


def baseline_corner(metrics: dict[str, float], stats: dict[str, float]) -> str:
    """What a B2-B5 panel says under it: its Procrustes distance P to MDS's picture of the same diag(N), its radius
    CV and its extent (``stats["spread"]``, the longer side of its bounding box in the picture's own units: each panel
    is scaled to fill its box, so without it a picture 0.002 wide looks as large as one 80 wide)."""
    extent = stats.get("spread", float("nan"))
    return f"P {metrics['procrustes_baseline']:.2f}  CV {stats['radius_cv']:.2f}" + (
        f"\nextent {fmt(extent, 2) if extent < 10 else f'{extent:.0f}'}" if np.isfinite(extent) else ""
    )


def _intro(result: dict[str, list[PanelResult]]) -> str:
    b1 = result["B1"]
    return (
        "N orthogonal unit vectors (diag(N)) are equidistant: every pair is sqrt(2) apart, so no 2-D picture can be "
        "exact. These panels are the reference: what MDS, UMAP and t-SNE draw when there is no structure at all. "
        f"Ratio MDS stress-1 goes from {fmt(b1[0].metrics['stress1_ratio'])} at N = {b1[0].n_points} to "
        f"{fmt(b1[-1].metrics['stress1_ratio'])} at N = {b1[-1].n_points}.\n\n"
        "t-SNE is drawn twice. With exact affinities every pair of diag(N) gets the same affinity at any perplexity, "
        "and t-SNE's objective is then at its optimum exactly when every pair is equally far apart in the picture: for "
        "N = 3 any equilateral triangle (or one spot), for N ≥ 4 only all points at one spot. Perplexity cannot "
        "matter. The "
        "study ran R's Barnes-Hut t-SNE, whose affinities cover only each point's 3·perplexity nearest neighbours; for "
        "diag(N) that choice is arbitrary, and it is what makes the pictures depend on perplexity."
    )


def _tables(result: dict[str, list[PanelResult]]) -> list[TableBlock]:
    import pandas as pd

    cols = [
        "panel",
        "n_points",
        "stress1_ratio",
        "procrustes_baseline",
        "radius_cv",
        "radius_cv_mds",
        "spread",
        "start",
        "collapsed",
        "nan_reasons",
    ]
    blocks = []
    for exp, prs in result.items():
        # start 0 only: the other random starts of B4/B5 are in panels.parquet and the findings give their shares
        frame = pd.DataFrame([p.row() for p in first_starts(prs)])
        frame = frame[[c for c in cols if c in frame and (c != "stress1_ratio" or exp == "B1")]]
        blocks.append(TableBlock(f"{exp}: measures per panel", frame))
    return blocks


def _findings(result: dict[str, list[PanelResult]]) -> list[Finding]:
    """B's verdicts, computed from the section's rows as the ``panels`` table holds them."""
    from supviz.study.baselines import findings as verdicts
    from supviz.study.tables import build_table

    panels = build_table([p.row() for prs in result.values() for p in prs], kind="panels")
    out = [verdicts.b1_disc(panels)]
    if result.get("B2"):
        out.append(verdicts.b2_neighbors(panels))
    if result.get("B3"):
        out.append(verdicts.b3_umap_across_n(panels))
    if result.get("B5"):
        out.append(verdicts.b5_across_n(panels))
    if result.get("B4"):
        out.append(verdicts.b4_perplexity(panels))
    return out
