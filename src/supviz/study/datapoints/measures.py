"""Per-cell measures of the data-point section that the report's verdicts need (cached, cheap).

For each (importance, m, p) cell of the data-point experiment, under both represented rules:

- ``h_recall``: k-NN recall of the code space h against x (before any picture);
- ``features_per_dim``, ``w_sv_min``, ``w_sv_max``: whether W has superposition at all
  (:func:`w_superposition`: an orthogonal projection has 1, superposition more);
- ``x_rep_recall_<rule>``: the same for x restricted to the represented features;
- ``h_rep_recall_<rule>``: the same for the codes of x restricted to the represented features (W's
  represented rows only), so the loss splits per cell into dropped features (``x_rep - x``),
  superposition among the kept features (``h_rep - x_rep``) and what the short rows of the other
  features still carry (``h - h_rep``);
- ``false_neighbour_chance``: the share of all pairs of inputs that share no active feature (what a
  random picture's false-neighbour rate would be; 0 when every pair shares one, p >= 0.3 here);
- ``ring_<condition>_<rule>``: the ring control (:func:`supviz.datapoints.geometry.ring_control`);
- star measures (:func:`supviz.datapoints.geometry.spoke_share`): ``ray_share_h`` (points within
  5 degrees of a represented feature's ray in h), ``one_active_rep`` (inputs with exactly one
  represented feature active), ``spoke_share`` / ``spoke_chance`` (in the MDS picture of h and for
  random angles), ``spoke_share_x`` / ``spoke_chance_x`` (the same in the MDS picture of x), and in the
  star cells (low m, sparse p) ``spoke_share_ortho`` / ``spoke_chance_ortho``: :func:`star_control`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

SPOKE_DEG = 5.0

log = logging.getLogger(__name__)


class _EqualDistances(logging.Filter):
    """Drops SMACOF's "all dissimilarities are equal" warning and counts it.

    The ring analysis lays out diag(N) (and represented sets that are exactly orthogonal) with
    interval SMACOF, where every distance is equal and the fit falls back to ratio by design; one
    INFO line says how often, instead of one warning per set on the user's terminal.
    """

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "all dissimilarities are equal" in record.getMessage():
            self.count += 1
            return False
        return True


class _equal_distances_quiet:
    def __enter__(self) -> _EqualDistances:
        self.flt = _EqualDistances()
        logging.getLogger("supviz.dr.smacof").addFilter(self.flt)
        return self.flt

    def __exit__(self, *exc: Any) -> None:
        logging.getLogger("supviz.dr.smacof").removeFilter(self.flt)
        if self.flt.count:
            log.info(
                "ring analysis: %d equidistant point sets (diag(N) and exactly orthogonal rows) fitted by ratio "
                "SMACOF, the interval transformation being undefined for equal distances",
                self.flt.count,
            )


def w_superposition(W: np.ndarray) -> dict[str, float]:
    """Whether W stores more features than it has dimensions, measured from W ``[n, m]`` alone.

    ``features_per_dim = ||W||_F^2 / m`` (Elhage et al. 2022's inverse "dimensions per feature"): the sum of the
    squared singular values over m. An orthogonal projection (every singular value 1: plain linear compression,
    what a linear model learns) gives 1 whatever n is; features stored in superposition (more than m of them with
    norm near 1) give more. ``w_sv_min`` / ``w_sv_max``: W's smallest and largest of its m singular values.
    """
    W = np.asarray(W, dtype=np.float64)
    sv = np.linalg.svd(W, compute_uv=False)
    m = W.shape[1]
    return {
        "features_per_dim": float((sv**2).sum() / m),
        "w_sv_min": float(sv[:m].min()),
        "w_sv_max": float(sv.max()),
    }


def orthonormal_map(n_in: int, m: int, *, random_state: Any = None) -> np.ndarray:
    """A random linear map ``[n_in, m]`` whose min(n_in, m) singular values are all 1 (``U Vᵀ`` of a Gaussian
    matrix's SVD): a projection of rank min(n_in, m) with no superposition (``||Q||_F² / m <= 1``)."""
    G = np.random.default_rng(random_state).standard_normal((n_in, m))
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt


def star_control(x_rep: np.ndarray, m: int, *, random_state: Any = None) -> Any:
    """The stars' control: the same sparse inputs (restricted to the represented features, ``x_rep`` ``[N, R]``)
    through an orthonormal map of rank min(R, m) instead of the trained W, pictured by MDS as in section D; the
    share of points on its rays' spokes and the chance share (:func:`supviz.datapoints.geometry.spoke_share`).

    Inputs with one active feature lie on a ray through any linear map; if this control's MDS picture is as much
    a star as the trained one, the spokes come from single-feature sparse inputs through a low-rank map, not from
    superposition.
    """
    from supviz.core.seeding import as_seed_sequence
    from supviz.datapoints.geometry import spoke_share
    from supviz.datapoints.layouts import datapoint_layout

    seeds = as_seed_sequence(random_state, name="random_state").spawn(2)
    Q = orthonormal_map(x_rep.shape[1], m, random_state=seeds[0])
    hq = x_rep @ Q  # (N, m)
    lay = datapoint_layout(hq, "mds", random_state=seeds[1])
    return spoke_share(hq, Q, np.asarray(lay.embedding), max_deg=SPOKE_DEG)


def _address(key: tuple[str, int, float]) -> tuple[str, int, int]:
    """A cell key as seed names (p in millionths: names are str or int)."""
    return key[0], int(key[1]), int(round(key[2] * 1e6))


def _instance_of(res: Any) -> dict[tuple[str, int, float], int]:
    return {(g["importance"], int(g["m"]), float(g["p"])): int(g["instance"]) for g in res.geometry.to_dict("records")}


def cell_extras(ctx: Any, res: Any, grid: Any) -> dict[tuple[str, int, float], dict[str, float]]:
    """The measures of the module docstring per cell key ``(importance, m, p)`` (section D's ``compute``
    calls it; its value is part of the section's cached result)."""
    rc = ctx.config.represented
    rules = (rc.rule, rc.other().rule)
    with _equal_distances_quiet():  # diag(N) of the ring control: interval MDS falls back to ratio, by design
        rows = _compute(ctx, res, grid, rules)
    return {
        (r["importance"], int(r["m"]), float(r["p"])): {k: v for k, v in r.items() if k not in ("importance", "m", "p")}
        for r in rows
    }


def _compute(ctx: Any, res: Any, grid: Any, rules: tuple[str, ...]) -> list[dict[str, Any]]:
    from supviz.datapoints.embedding import latent_codes
    from supviz.datapoints.geometry import ring_control, spoke_share
    from supviz.metrics.neighbors import knn_recall
    from supviz.study.adapters import rule_masks
    from supviz.study.datapoints.findings import STAR_MAX_M, STAR_MAX_P

    inst = _instance_of(res)
    cfg = ctx.config.section("embeddings")
    out: list[dict[str, Any]] = []
    weights, masks_by_rule = [], {r: [] for r in rules}
    for key, cell in zip(res.keys, res.cells):
        spec = grid.specs[inst[key]]
        W = np.asarray(grid.weights[inst[key]], dtype=np.float64)
        masks = rule_masks(W, np.asarray(spec.importance, dtype=np.float64), ctx.config.represented)
        weights.append(W)
        for r in rules:
            masks_by_rule[r].append(masks[r])
        x = cell.x
        row: dict[str, Any] = {"importance": key[0], "m": key[1], "p": key[2]}
        row["h_recall"] = float(cell.metrics.get(("h", "exact"), {}).get("knn_recall", np.nan))
        row.update(w_superposition(W))
        for r in rules:
            row[f"n_represented_{r}"] = float(masks[r].sum())
            if masks[r].any():
                # (k-NN recall alone: the same number as measure_distortion's, without its other measures)
                row[f"x_rep_recall_{r}"] = knn_recall(x, x[:, masks[r]], k=cell.k)
                # the same inputs through W's represented rows only: superposition among the kept features, and
                # nothing that the short rows of the other features still carry
                row[f"h_rep_recall_{r}"] = knn_recall(x, latent_codes(np.where(masks[r], x, 0.0), W), k=cell.k)
            else:
                row[f"x_rep_recall_{r}"] = row[f"h_rep_recall_{r}"] = float("nan")
        active = (x > 0).astype(np.float64)
        share = active @ active.T > 0
        iu = np.triu_indices(len(x), 1)
        row["false_neighbour_chance"] = float(1.0 - share[iu].mean())
        rep = masks[rules[0]]
        row["one_active_rep"] = float(np.mean((x[:, rep] > 0).sum(axis=1) == 1)) if rep.any() else float("nan")
        if rep.any():
            row["ray_share_h"] = spoke_share(cell.h, W[rep], max_deg=SPOKE_DEG).share
            lay_h, lay_x = cell.layouts.get(("h", "mds")), cell.layouts.get(("x", "mds"))
            if lay_h is not None:
                s = spoke_share(cell.h, W[rep], np.asarray(lay_h.embedding), max_deg=SPOKE_DEG)
                row["spoke_share"], row["spoke_chance"], row["spoke_r2"] = s.share, s.coverage, s.r2
            if lay_x is not None:
                s = spoke_share(x, np.eye(x.shape[1])[rep], np.asarray(lay_x.embedding), max_deg=SPOKE_DEG)
                row["spoke_share_x"], row["spoke_chance_x"] = s.share, s.coverage
            if key[1] <= STAR_MAX_M and key[2] <= STAR_MAX_P:
                s = star_control(x[:, rep], W.shape[1], random_state=ctx.seed("star-control", *_address(key)))
                row["spoke_share_ortho"], row["spoke_chance_ortho"] = s.share, s.coverage
        out.append(row)
    for r in rules:
        ring = ring_control(
            weights,
            masks_by_rule[r],
            metric_type=cfg.mds_type,
            max_iter=cfg.max_iter,
            eps=cfg.eps,
            random_state=ctx.seed("ring-control"),
        )
        for row, vals in zip(out, ring):
            row.update({f"{k}_{r}": float(v) for k, v in vals.items() if k.startswith("ring_")})
    return out


def ring_example(cells: Any, variant: str, rule: str) -> tuple[int, float] | None:
    """The cell shown in the ring figure: a typical one, whose ring with the cluster is closest to the
    median over the cells the verdict uses (ties: more represented features), as (m, p)."""
    from supviz.study.verdicts import RING_MIN_POINTS

    g = cells[(cells["model"] == "grid") & (cells["importance"] == variant)]
    col, ring = f"n_represented_{rule}", f"ring_trained_cluster_{rule}"
    if col not in g or ring not in g:
        return None
    g = g[(g[col] >= RING_MIN_POINTS) & np.isfinite(g[ring])]
    if g.empty:
        return None
    g = g.assign(_gap=(g[ring] - g[ring].median()).abs()).sort_values(["_gap", col], ascending=[True, False])
    row = g.iloc[0]
    return int(row["m"]), float(row["p"])


def _short(variant: str) -> str:
    from supviz.toy.importance import variant_label

    return variant_label(variant, short=True)


def ring_examples(ctx: Any, cells: Any, grid: Any, res: Any, variants: list[str]) -> list[dict[str, Any]]:
    """D4's computation: per variant, an example cell's ring-control point sets laid out by interval MDS
    (section D's ``compute`` calls it; :func:`ring_figure` draws the value)."""
    from supviz.datapoints.geometry import RING_CONDITIONS, ring_control_sets
    from supviz.dr import mds_layouts
    from supviz.study.adapters import rule_masks

    rc = ctx.config.represented
    cfg = ctx.config.section("embeddings")
    inst = _instance_of(res)
    out = []
    for v in variants:
        ex = ring_example(cells, v, rc.rule)
        if ex is None:
            continue
        m, p = ex
        key = next(k for k in inst if k[0] == v and k[1] == m and abs(k[2] - p) < 1e-9)
        W = np.asarray(grid.weights[inst[key]], dtype=np.float64)
        mask = rule_masks(W, np.asarray(grid.specs[inst[key]].importance, dtype=np.float64), rc)[rc.rule]
        sets = ring_control_sets(W, mask, random_state=ctx.seed("ring-control-example", v))
        conds = [c for c in RING_CONDITIONS if sets[c] is not None]
        with _equal_distances_quiet():
            lays = [
                np.asarray(lay.embedding)
                for lay in mds_layouts(
                    [sets[c] for c in conds],
                    metric_type=cfg.mds_type,
                    max_iter=cfg.max_iter,
                    eps=cfg.eps,
                    random_state=0,
                )
            ]
        out.append(
            {"variant": v, "m": m, "p": p, "conditions": conds, "layouts": lays, "n_represented": int(mask.sum())}
        )
    return out


def ring_palette() -> dict[str, str]:
    """D4's two colours, the ends of C2's viridis (dark: the most important or largest norm, light: the least):
    dropped light (drawn first), represented dark (drawn on top). matplotlib is imported here, not with the module."""
    import matplotlib
    from matplotlib.colors import to_hex

    cmap = matplotlib.colormaps["viridis"]
    return {"dropped": to_hex(cmap(1.0)), "represented": to_hex(cmap(0.0))}


def ring_figure(ctx: Any, cells: Any, examples: list[dict[str, Any]], variants: list[str]) -> Any:
    """D4: the ring control, one row of six pictures per variant (an example cell, :func:`ring_examples`)
    and the medians."""
    from supviz import plot
    from supviz.core.text import fmt_p
    from supviz.datapoints.geometry import RING_CONDITIONS
    from supviz.plot.panels import ScatterPanel
    from supviz.study.datapoints.findings import ring_control_summary
    from supviz.study.verdicts import RING_MIN_POINTS, RULE_TEXT
    from supviz.toy.importance import variant_label

    rc = ctx.config.represented
    names = {
        "trained_cluster": "trained, with cluster",
        "trained_alone": "trained, alone",
        "random_cluster": "random dirs, with cluster",
        "random_alone": "random dirs, alone",
        "orthogonal_cluster": "diag(N), with cluster",
        "orthogonal_alone": "diag(N), alone",
    }
    panels, lines = [], []
    palette = ring_palette()
    for v in variants:
        summary = ring_control_summary(cells, v, rule=rc.rule)
        if summary.get("n_cells"):
            med = summary["median"]
            lines.append(
                f"{variant_label(v)}, median over {summary['n_cells']} cells: "
                + ", ".join(f"{names[c]} {med[c]:.2f}" for c in RING_CONDITIONS)
            )
        ex = next((e for e in examples if e["variant"] == v), None)
        if ex is None:
            continue
        m, p, n_rep = ex["m"], ex["p"], ex["n_represented"]
        for c, Y in zip(ex["conditions"], ex["layouts"]):
            kind = np.array(["represented"] * n_rep + ["dropped"] * (len(Y) - n_rep))
            r = np.linalg.norm(Y[:n_rep] - Y[:n_rep].mean(axis=0), axis=1)
            panels.append(
                ScatterPanel(
                    f"{names[c]}",
                    Y,
                    color=kind,
                    palette=palette,  # the represented drawn last, on top
                    legend=False,  # one legend for the figure, at its right (over no points)
                    corner=f"{_short(v)}, {m} : {fmt_p(p)}\nCV {r.std() / r.mean():.2f}",
                )
            )
    # the title asks; the verdict (ring_finding) answers from the numbers
    title = "D4. Why a ring? The represented points with and without the cluster at the origin"
    caption = (
        "The ring control. For a cell of each importance variant (columns: the represented rows as trained, random "
        "directions of the same norms, and diag(N), exactly equidistant; each with the dropped features' cluster at "
        f"the origin and without it), interval MDS as in C2/C3. Two colours (legend at the right): "
        f"dark, represented features ({RULE_TEXT[rc.rule]}), drawn on top; light, the dropped ones; the same meaning "
        "as C2's colours, where dark is most important (or the largest norm) and light the least. Under each panel"
        ": the cell and CV, the radius spread of the represented points "
        f"(0 = a ring, 0.354 = a uniform disc). Over all cells with at least {RING_MIN_POINTS} represented and some "
        "dropped features: " + "; ".join(lines) + "."
    )
    if not panels:
        panels = [
            ScatterPanel("no cell", None, note=f"no cell with {RING_MIN_POINTS} represented and some dropped features")
        ]
    return ctx.figure(
        "D4_ring_control",
        title=title,
        caption=caption,
        content={"panels": panels},
        static=lambda: plot.plot_grid(
            panels,
            ncols=6,
            title=title,
            panel_in=1.55,
        ),
    )
