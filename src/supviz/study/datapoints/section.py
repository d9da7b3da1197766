"""Section D (issue 5): pictures of data points ``h = W^T x`` beside the inputs ``x``, measured.

The study pictured only the feature directions (section 2). Practitioners picture the latent codes
of data. For every (m, p) cell of the section-2 weights this section samples sparse inputs ``x``
from the cell's own distribution (:mod:`supviz.datapoints`), pictures ``x`` and ``h`` with MDS,
UMAP and t-SNE, and measures each picture against ``x``: k-NN recall, trustworthiness, continuity,
stress-1, Shepard correlation and false neighbours (pairs close in the picture that share no
active feature). The picture of ``x`` is the control: the loss that any 2-D picture has. The
exact measures of ``x_rep`` (x restricted to the represented features, orthogonally) separate the
loss from dropped features from the loss from superposition. The represented rows' pairwise
distances are measured for equidistance (why the study's MDS pictures are rings).

Storage: the section's cached value holds the whole :class:`~supviz.datapoints.DatapointGridResult`
(its folder codec, :mod:`supviz.datapoints.storage`: Parquet tables, one ``.npz`` read with
``allow_pickle=False`` and a JSON index), the per-cell measures the findings read and the ring
control's example layouts: everything ``render`` draws, computed once in ``compute``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from supviz.core.text import fmt, fmt_p
from supviz.errors import SupvizError
from supviz.report.records import SectionOutput, TableBlock
from supviz.report.words import space_words
from supviz.study.common import PICTURE_NAMES, coordinate_rows
from supviz.study.config import DatapointsConfig
from supviz.study.context import RunContext
from supviz.study.datapoints.measures import _equal_distances_quiet
from supviz.study.section import Section
from supviz.toy.importance import variant_label, variant_slug

log = logging.getLogger(__name__)

#: What colours the points of D2's grids (:func:`supviz.datapoints.plots.point_colour`), under every importance
#: variant: the number of active represented features (1: an input on a single feature's spoke, the stars).
GRID_COLOUR = "n_active_represented"
#: Measures drawn as heatmaps over (m, p).
HEAT_METRICS = ("knn_recall", "trustworthiness", "false_neighbour_rate")
#: Measure columns copied into the run's tidy table.
ROW_METRICS = (
    "knn_recall",
    "trustworthiness",
    "continuity",
    "stress1_ratio",
    "shepard_rho",
    "false_neighbour_rate",
    "false_neighbour_pairs",
    "smacof_stress",
    "picture_seeds",
    "knn_recall_seed_mean",
    "knn_recall_seed_sd",
)


def _instances(ctx: RunContext, grid: Any) -> tuple[list[int], list[str]]:
    """The grid instances pictured (m in ``toy.hidden``, known p) and notes on those left out."""
    idx = _pictured(ctx.config, grid)
    notes = []
    unknown = sum(1 for s in grid.specs if s.probability is None)
    if unknown:
        notes.append(f"{unknown} instances of unknown feature probability were not pictured (inputs are sampled at p).")
    if not idx:
        raise SupvizError("the data-point section needs at least one grid cell of known feature probability; got none.")
    return idx, notes


def _pictured(config: Any, grid: Any) -> list[int]:
    """Indices of the grid instances the section pictures: m in ``toy.hidden`` (all m when none is), p known."""
    specs = list(grid.specs)
    all_m = sorted({s.n_hidden for s in specs})
    wanted = [m for m in config.toy.hidden if m in all_m] or all_m
    return [i for i, s in enumerate(specs) if s.n_hidden in wanted and s.probability is not None]


def superposed_instances(grid: Any, idx: list[int]) -> list[int]:
    """The instances of ``idx`` whose W stores features in superposition (``features_per_dim`` > ``SUPERPOSED_ABOVE``
    of :mod:`supviz.study.datapoints.findings`, from :func:`supviz.study.datapoints.measures.w_superposition`):
    the only cells where the study's claim (h_rep against x_rep) and section E's won-back share read the pictures of
    x_rep, h_rep and f(h_rep), so the only cells that draw them."""
    from supviz.study.datapoints.findings import SUPERPOSED_ABOVE
    from supviz.study.datapoints.measures import w_superposition

    return [i for i in idx if w_superposition(grid.weights[i])["features_per_dim"] > SUPERPOSED_ABOVE]


def _grid_run(ctx: RunContext, grid: Any, cfg: DatapointsConfig, idx: list[int], rc: Any) -> Any:
    from supviz.datapoints import datapoint_grid

    return datapoint_grid(
        grid,
        n_points=cfg.points,
        methods=tuple(cfg.methods),
        k=cfg.k,
        layout_spaces=tuple(cfg.layout_spaces),
        represented_rule=rc.rule,
        represented_threshold=rc.threshold,
        # the study's claim in the pictures under the other rule too: new layouts only where its set differs
        other_rule=(rc.other().rule, rc.other().threshold),
        instances=idx,
        rep_pictured=superposed_instances(grid, idx),
        picture_seeds=cfg.picture_seeds,
        random_state=ctx.seed("datapoints"),
        n_jobs=ctx.config.run.n_jobs,
        progress=ctx.progress.bars,
    )


class DatapointSection(Section):
    """Pictures of the data points of every (m, p) cell, their distortion, and the ring."""

    key = "datapoints"
    title = "3. Data points: pictures of the latent codes h = Wᵀx against the inputs x"
    config_key = "datapoints"
    needs_grid = True

    def check(self, config: Any) -> None:
        """The inputs can be sampled (each toy probability gives non-zero rows) and pictured in this machine's
        memory (:func:`supviz.core.resources.layout_need` of ``datapoints.points``)."""
        from supviz.core.resources import check_fits, layout_need
        from supviz.datapoints.sampling import check_nonzero_rate

        if not config.weights.file:
            for i, p in enumerate(config.toy.probabilities):
                check_nonzero_rate(config.toy.n_features, p, name=f"toy.probabilities[{i}]")
        check_fits(
            layout_need(config.section("datapoints").points, what="picturing the data points"), "`datapoints.points`"
        )

    def check_grid(self, config: Any, grid: Any, name: str) -> None:
        """Supplied weights must hold a cell of known feature probability: the inputs are sampled at p."""
        from supviz.datapoints.sampling import check_nonzero_rate

        idx = _pictured(config, grid)
        if not idx:
            raise SupvizError(
                f"`{name}` holds no grid cell of known feature probability, and the data-point section samples its "
                "inputs at p: supply the study's npz (keys 60to<m>, probabilities known) or a `supviz train` run "
                "folder."
            )
        for i in idx:
            spec = grid.specs[i]
            check_nonzero_rate(spec.n_features, spec.probability, name=f"{name}'s probability of {spec.label}")

    def compute(self, ctx: RunContext) -> dict[str, Any]:
        """The data-point experiment and everything its figures and findings read: ``{"result"}`` (the
        :class:`~supviz.datapoints.DatapointGridResult`), ``{"extras"}`` (per-cell geometry and ring-control
        measures, :func:`~supviz.study.datapoints.measures.cell_extras`), ``{"ring"}`` (D4's example layouts)."""
        from supviz.study.datapoints.measures import cell_extras, ring_examples
        from supviz.study.tables import build_table
        from supviz.toy.importance import ordered_variants

        cfg: DatapointsConfig = ctx.config.section("datapoints")
        grid, _ = ctx.grid()
        idx, _ = _instances(ctx, grid)
        rc = ctx.config.represented
        with _equal_distances_quiet():
            res = _grid_run(ctx, grid, cfg, idx, rc)
        extras = cell_extras(ctx, res, grid)
        cells = build_table([r for r in _rows(res, extras) if r["table"] == "cells"], kind="cells")
        variants = ordered_variants(list(dict.fromkeys(k[0] for k in res.keys)))
        return {
            "result": res,
            "extras": extras,
            "ring": ring_examples(ctx, cells, grid, res, variants),
            "trust": _example_trust(res, variants, cfg),
        }

    def render(self, ctx: RunContext, result: dict[str, Any]) -> SectionOutput:
        """Heatmaps, grids, example cells, the ring control, table rows and findings."""
        from supviz.datapoints import plots as dpf
        from supviz.study.datapoints import findings as verdicts
        from supviz.study.datapoints.measures import ring_figure
        from supviz.study.tables import build_table
        from supviz.toy.importance import ordered_variants

        cfg: DatapointsConfig = ctx.config.section("datapoints")
        rc = ctx.config.represented
        res, extra = result["result"], result["extras"]
        variants = ordered_variants(list(dict.fromkeys(k[0] for k in res.keys)))
        rows = _rows(res, extra)
        points = build_table([r for r in rows if r["table"] == "points"], kind="points")
        cells = build_table([r for r in rows if r["table"] == "cells"], kind="cells")
        feature = _feature_table(ctx)
        figs, notes, tables, findings = [], [], [], []
        figs.append(_headline(ctx, points, cells, variants, tuple(cfg.methods), cfg, rc.rule))
        for v in variants:
            slug, label = variant_slug(v), variant_label(v)
            table = res.rule_table()  # the run's rule: one row per (cell, space, method)
            dpt = table[table["importance"] == v].reset_index(drop=True)
            ft = feature[feature["importance"] == v].reset_index(drop=True) if feature is not None else None
            possible = _false_neighbours_possible(dpt, extra)
            for metric in HEAT_METRICS:
                has_feat = ft is not None and metric in ft.columns and ft[metric].notna().any()
                shown = dpt
                if metric == "false_neighbour_rate":  # 0 by construction where every pair shares a feature: blank
                    shown = dpt.assign(false_neighbour_rate=dpt["false_neighbour_rate"].where(possible))
                cols = ("features", "x", "h", "total") if has_feat else ("x", "h", "total")
                worse = "less" if dpf.HIGHER_IS_BETTER[metric] else "more"
                figs.append(
                    ctx.figure(
                        heatmap_id(metric, v),
                        title=f"D1. {_metric_title(metric)} over (m, p): feature directions beside data points "
                        f"({label})",
                        caption=(
                            f"{_metric_title(metric)} per (m, p) cell (rows m, columns p), one row of panels per "
                            "method. "
                            + (
                                "'feature directions': the study's pictures of the rows of W (C2 for MDS, C4 for UMAP; "
                                "the study drew no t-SNE of W: 'not pictured'), measured against W's own rows. "
                                if has_feat
                                else ""
                            )
                            + "'data points': pictures of the inputs x and of the latent codes h = Wᵀx of "
                            f"{cfg.points} sampled inputs per p, measured against x with k = {cfg.k}; 'change h − x': "
                            "the change the latent space causes, in hundredths of the measure (−4 = 0.04 less), "
                            f"red = worse ({worse} "
                            f"{_metric_title(metric).lower()}), blue = better. " + _metric_help(metric)
                        ),
                        content={
                            "dp": _frame_content(shown),
                            "ft": _frame_content(ft) if has_feat else None,
                            "metric": metric,
                            "cols": list(cols),
                            "change_scale": dpf.CHANGE_SCALE,  # how the change maps are drawn: part of the key
                        },
                        static=lambda dpt=shown, ft=ft if has_feat else None, metric=metric, v=v, cols=cols: (
                            dpf.heatmap_figure(
                                dpt,
                                metric=metric,
                                importance=v,
                                feature_table=ft,
                                methods=tuple(cfg.methods),
                                columns=cols,
                                title=f"{_metric_title(metric)} over (m, p), {variant_label(v)}",
                            )
                        ),
                    )
                )
            sub = _subset(res, v)
            # the number of active represented features under every variant: the importance rank of the most
            # important active feature (the old colour under 0.9^i) is 0 for almost every input wherever p is not
            # sparse, so it coloured nearly every panel one colour and told the reader nothing
            colour = (
                f"the number of active represented features ({dpf.ACTIVE_CAP} = {dpf.ACTIVE_CAP} or more; 0 = none "
                "of the features the model keeps is active, 1 = the inputs on a single feature's spoke)"
            )
            for method in cfg.grid_methods:
                figs.append(
                    ctx.figure(
                        grid_id(method, v),
                        title=f"D2. {PICTURE_NAMES[method]} of the latent codes h = Wᵀx, rows m, columns p ({label})",
                        caption=(
                            f"{PICTURE_NAMES[method]} pictures of h = Wᵀx for {cfg.points} sampled inputs per cell "
                            "(the study's grid layout: rows m, columns p, panels 'm : p'), to set beside C2/C4 of "
                            f"section 2. Colour: {colour}. Under each panel: R = k-NN recall against x "
                            f"(k = {cfg.k}) of the picture of h and, in brackets after 'x', of the same method's "
                            "picture of x in that cell: what any 2-D picture of these inputs keeps, which R is read "
                            "against."
                            + (
                                " At low m and sparse p the points form stars: spokes along the few represented "
                                "features' directions (measured in the conclusion)."
                                if method == "mds"
                                else ""
                            )
                        ),
                        content={
                            "cells": [_cell_content(c, ("h",), (method,)) for c in sub.cells],
                            # the picture of x's recall printed beside h's (grid_corner)
                            "x_recall": [c.metrics.get(("x", method), {}) for c in sub.cells],
                            "m": method,
                            "colour": GRID_COLOUR,
                        },
                        static=lambda sub=sub, v=v, method=method: dpf.grid_figure(
                            sub,
                            importance=v,
                            method=method,
                            space="h",
                            color_by=GRID_COLOUR,
                            title=f"{PICTURE_NAMES[method]} of h = Wᵀx ({variant_label(v)}); R = k-NN recall against x "
                            "(x: of the picture of x)",
                        ),
                    )
                )
            for ex, (m, p) in enumerate(cfg.examples):
                cell, pm = _example(res, v, m, p)
                i = _example_index(res, v, m, p)
                trust = {(space, method): pt for (j, space, method), pt in result.get("trust", {}).items() if j == i}
                hovers = {key: pt.hover() for key, pt in trust.items()}
                if cell is None:
                    if v == variants[0]:
                        notes.append(f"example cell m = {m}, p = {fmt_p(p)}: no such m in this grid; skipped.")
                    continue
                fig_id = f"D3_m{m}_p{fmt_p(pm).replace('.', 'p')}_{slug}"
                # x beside h, as the study pictures them (x_rep's and h_rep's pictures are measured in the tables;
                # two more columns per example would pass the report's 8 MB budget)
                spaces = tuple(s for s in ("x", "h", "xhat") if s in cfg.layout_spaces)
                head = (
                    f"m = {m}, p = {fmt_p(pm)}: {cell.n_points} inputs ({cell.n_dropped} all-zero dropped), "
                    f"k = {cell.k}"
                )
                figs.append(
                    ctx.figure(
                        fig_id,
                        title=f"D3. One cell up close: x beside h, m = {m}, p = {fmt_p(pm)} ({label})",
                        caption=(
                            f"The {cell.n_points} sampled inputs of the cell m = {m}, p = {fmt_p(pm)} "
                            f"({cell.n_dropped} all-zero draws of {cell.n_drawn} dropped), pictured as "
                            + _columns_text(spaces)
                            + " by each method (rows). Red lines, in the pictures of the codes only: false "
                            f"neighbours, pairs among each other's {cell.k} nearest in the picture that share no "
                            "active feature (at most 1,500 drawn per panel, under the points); the pictures of x, the "
                            "control, give their rate (FN) without lines. Under each panel: R k-NN recall, T "
                            "trustworthiness, C continuity, S stress-1, ρ Shepard correlation, FN false-neighbour "
                            "rate, all against x. "
                            "Colour: "
                            + (
                                _count_colour_text(cell)
                                if cell.uniform_importance
                                else "the importance rank of the most important active feature (dark = most important)."
                            )
                            + " A point's trust is its own share of the panel's T and C against x. Hover a point in "
                            "the interactive version for its point index, most important active feature, its rank, "
                            "active features, its value, trust, false and missing neighbours."
                        ),
                        content={
                            **_cell_content(cell, spaces, tuple(cfg.methods)),
                            "trust": {"|".join(key): h for key, h in hovers.items()},
                        },
                        static=lambda cell=cell, spaces=spaces, head=head: dpf.cell_figure(
                            cell, spaces=spaces, title=head
                        ),
                        interactive=lambda cell=cell, spaces=spaces, head=head, tr=hovers: dpf.cell_figure_plotly(
                            cell, spaces=spaces, title=head, trust=tr
                        ),
                        # a page of its own, linked: its pictures of 200 inputs with their hovers would pass the
                        # report's 8 MB budget
                        embed_interactive=False,
                        # the first example is shown in the report, the others are PNGs beside it (the same budget)
                        inline=ex == 0,
                    )
                )
                for (space, method), pt in trust.items():
                    if space not in spaces:
                        continue  # measured, not pictured in D3: no hover to match
                    rows.extend(
                        coordinate_rows(
                            cell.layouts[(space, method)].embedding,
                            pt.columns,
                            pt.reason,
                            labels=[f"input {j}" for j in range(cell.n_points)],
                            section=self.key,
                            figure=fig_id,
                            panel=f"{dpf.METHOD_TITLE[method]} of {dpf.SPACE_NAMES.get(space, space)}",
                            importance=v,
                            m=m,
                            p=pm,
                            space=space,
                            method=method,
                        )
                    )
            tables.extend(_tables(res, v, cfg, points, cells, rc))
        figs.append(ring_figure(ctx, cells, result["ring"], variants))
        best_x = {
            v: max((verdicts.method_effect(points, v, mth)["x"] for mth in cfg.methods), default=float("nan"))
            for v in variants
        }
        for v in variants:
            # the study's claim where superposition is: h against x restricted to the represented features, in the
            # code space, and in each method's pictures where x_rep is pictured (datapoints.layout_spaces)
            findings.append(verdicts.claim_finding(points, cells, v, rule=rc.rule))
            for method in cfg.methods:
                if "x_rep" in cfg.layout_spaces:
                    findings.append(verdicts.claim_finding(points, cells, v, method=method, rule=rc.rule))
            for method in cfg.methods:
                findings.append(verdicts.data_point_finding(points, v, method, best_x=best_x[v]))
        for v in variants:
            findings.append(verdicts.ring_finding(cells, v, rule=rc.rule))
            if "mds" in cfg.methods:
                findings.append(verdicts.star_finding(cells, v))
        return SectionOutput(
            key=self.key,
            title=self.title,
            intro=_intro(res, cfg, points, cells, rc, variants),
            figures=figs,
            tables=tables,
            findings=findings,
            rows=rows,
            notes=notes,
            settings=[
                f"Runs per picture: datapoints.picture_seeds = {cfg.picture_seeds} (each run an independent seed; the "
                "verdicts read the mean recall over the runs)."
            ],
        )


def _count_colour_text(cell: Any) -> str:
    """D3's colour under uniform importance in words: the number of active represented features, and where its bar
    stops (:func:`supviz.datapoints.plots.point_colour` with the cell's own cap)."""
    from supviz.datapoints import plots as dpf

    values, scale = dpf.point_colour(cell, "n_active_represented", cap=None)
    top = int(scale.vmax)
    return (
        f"the number of active represented features; the bar runs to {top}, the "
        f"{dpf.ACTIVE_PERCENTILE:g}th percentile of the cell's inputs"
        + (f", and '≥ {top}' colours the inputs with more" if scale.at_least else "")
        + "."
    )


def _columns_text(spaces: tuple[str, ...]) -> str:
    """Which space each column of D3 pictures, left to right, in words."""
    where = {1: ["(one column)"], 2: ["(left)", "(right)"], 3: ["(left)", "(middle)", "(right)"]}.get(
        len(spaces), [f"(column {i + 1})" for i in range(len(spaces))]
    )
    words = [f"{space_words(s)} {w}" for s, w in zip(spaces, where)]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


def _metric_title(metric: str) -> str:
    """A measure's name (:data:`supviz.core.names.MEASURE_NAMES`) to open a title: capitalised, except k-NN."""
    from supviz.core.names import MEASURE_NAMES

    name = MEASURE_NAMES.get(metric, metric)
    return name if name.startswith("k-") else name[:1].upper() + name[1:]


def _false_neighbours_possible(table: Any, extra: dict[tuple[str, int, float], dict[str, float]]) -> Any:
    """Per row of a data-point table: whether some pair of its cell's inputs shares no active feature."""
    import pandas as pd

    return pd.Series(
        [
            extra.get((i, int(m), float(p)), {}).get("false_neighbour_chance", 1.0) > 0
            for i, m, p in zip(table["importance"], table["m"], table["p"])
        ],
        index=table.index,
    )


def _metric_help(metric: str) -> str:
    return {
        "knn_recall": "k-NN recall: the share of each point's k nearest neighbours in x that are among its k nearest "
        "in the picture.",
        "trustworthiness": "Trustworthiness: whether the picture's neighbours were neighbours in x (1 = no intruders).",
        "false_neighbour_rate": (
            "False-neighbour rate: the share of picture-neighbour pairs that share no active "
            "feature (the feature-direction pictures have no such measure). Blank cells: no false "
            "neighbour is possible there, every pair of inputs shares an active feature."
        ),
    }[metric]


def _frame_content(frame: Any) -> dict[str, Any] | None:
    """A DataFrame as cache-key content (numbers as float arrays, text as lists)."""
    if frame is None:
        return None
    out = {}
    for c in frame.columns:
        col = frame[c]
        if col.dtype.kind in "fiub":
            out[str(c)] = col.to_numpy(dtype=float)
        else:
            out[str(c)] = [str(v) for v in col]
    return out


def _cell_content(cell: Any, spaces: tuple[str, ...], methods: tuple[str, ...]) -> dict[str, Any]:
    lay = {f"{s}|{m}": cell.layouts[(s, m)].embedding for s in spaces for m in methods if (s, m) in cell.layouts}
    fp = {f"{s}|{m}": cell.false_pairs[(s, m)] for s in spaces for m in methods if (s, m) in cell.false_pairs}
    met = {f"{s}|{m}": cell.metrics.get((s, m), {}) for s in spaces for m in methods}
    return {
        "layouts": lay,
        "pairs": fp,
        "metrics": met,
        "labels": cell.labels.as_dict(),
        "p": cell.probability,
        "n": cell.n_points,
        "dropped": cell.n_dropped,
        "uniform": cell.uniform_importance,
    }


def _subset(res: Any, variant: str) -> Any:
    from supviz.datapoints import DatapointGridResult

    sel = [i for i, k in enumerate(res.keys) if k[0] == variant]
    return DatapointGridResult(
        table=res.table.iloc[:0],
        geometry=res.geometry.iloc[:0],
        cells=[res.cells[i] for i in sel],
        keys=[res.keys[i] for i in sel],
        timings=res.timings.iloc[:0],
    )


def _example_index(res: Any, variant: str, m: int, p: float) -> int | None:
    """Index in ``res.cells`` of the cell of ``variant`` with hidden size ``m`` and the probability nearest ``p``
    (log scale); None where the grid has no such m."""
    cand = [(i, k) for i, k in enumerate(res.keys) if k[0] == variant and k[1] == m]
    if not cand:
        return None
    return min(cand, key=lambda ik: abs(math.log(ik[1][2]) - math.log(p)))[0]


def _example(res: Any, variant: str, m: int, p: float) -> tuple[Any, float]:
    """The cell of ``variant`` with hidden size ``m`` and the probability nearest ``p`` (log scale)."""
    i = _example_index(res, variant, m, p)
    return (None, float("nan")) if i is None else (res.cells[i], res.keys[i][2])


def _example_trust(res: Any, variants: list[str], cfg: Any) -> dict[tuple[int, str, str], Any]:
    """Each point's trust against x in every picture of the example cells (D3, their interactive hover and the
    ``coordinates`` table): ``(cell index, space, method) -> PanelTrust``
    (:func:`supviz.study.adapters.panel_trust`)."""
    from supviz.datapoints.spaces import split_rule
    from supviz.study.adapters import panel_trust

    out = {}
    for v in variants:
        for m, p in cfg.examples:
            i = _example_index(res, v, m, p)
            if i is None:
                continue
            cell = res.cells[i]
            for (space, method), lay in cell.layouts.items():
                if split_rule(space)[1]:
                    continue  # the other rule's pictures of the represented features: measured, never drawn here
                out[(i, space, method)] = panel_trust(
                    np.asarray(cell.x), lay.embedding, k=cell.k, collapsed=bool(lay.info.get("collapsed", False))
                )
    return out


def _feature_table(ctx: RunContext) -> Any:
    """The feature-direction metric rows of section 2 (C2-C5), when it ran before this section."""
    import pandas as pd

    out = ctx.rendered.get("embeddings")
    if out is None:
        return None
    rows = [r for r in out.rows if r.get("experiment") in ("C2", "C3", "C4", "C5")]
    return pd.DataFrame(rows) if rows else None


def heatmap_id(metric: str, importance: str) -> str:
    """Figure id of the data-point heatmap of ``metric``."""
    return f"D1_{metric}_{variant_slug(importance)}"


def grid_id(method: str, importance: str) -> str:
    """Figure id of the m x p grid of pictures of h by ``method``."""
    return f"D2_{method}_{variant_slug(importance)}"


RING_FIGURE_ID = "D4_ring_control"


def _headline(
    ctx: RunContext,
    points: Any,
    cells: Any,
    variants: list[str],
    methods: tuple[str, ...],
    cfg: DatapointsConfig,
    rule: str,
) -> Any:
    """The first screen's figure: per method, by m, first the pair its answer measures (the pictures of the inputs on
    the represented features and of their codes, in the cells with superposition: the first screen's own numbers,
    :func:`~supviz.study.datapoints.findings.headline_answer`), then the pictures of x and h and h itself over every
    cell; one row per importance variant of each."""
    from supviz.datapoints.plots import headline_figure
    from supviz.study.datapoints.findings import headline_answer, headline_curves

    curves = {variant_label(v): headline_curves(points, v, methods) for v in variants}
    curves = {label: c for label, c in curves.items() if c}
    answer = {variant_label(v): headline_answer(points, cells, v, methods, rule=rule) for v in variants}
    answer = {label: a for label, a in answer.items() if a}
    title = "How much of each input's neighbourhood the pictures keep: the answer's pair, then h against x"
    return ctx.figure(
        "headline",
        title=title,
        lead=True,
        caption=headline_caption(curves, answer, k=cfg.k, n_points=cfg.points, rule=rule),
        content={"curves": curves, "answer": answer},
        static=lambda: headline_figure(curves, answer=answer, title=title),
    )


def headline_caption(
    curves: dict[str, list[dict[str, Any]]],
    answer: dict[str, list[dict[str, Any]]],
    *,
    k: int,
    n_points: int,
    rule: str,
) -> str:
    """The headline figure's caption, from what it draws: ``answer`` (per variant label,
    :func:`~supviz.study.datapoints.findings.headline_answer`: the top rows, a *mean* over p per m, as the answer's
    loss averages) and ``curves`` (per variant label, :func:`~supviz.study.datapoints.findings.headline_curves`: the
    bottom rows, a *median* over p per m, as D's tables). It says plainly which rows take which (review 7 item 7)."""
    from supviz.study.datapoints.findings import SUPERPOSED_ABOVE
    from supviz.study.verdicts import RULE_TEXT

    chance = float(np.nanmedian([v for row in curves.values() for c in row for v in c["chance"]] or [np.nan]))
    pair = (
        f"Top {'rows' if len(answer) > 1 else 'row'} ({', '.join(answer)}): the pair the answer above measures. In the "
        f"cells whose W stores features in superposition (||W||_F² / m > {SUPERPOSED_ABOVE:g}), blue dashed: the "
        f"method's picture of the inputs restricted to the represented features ({RULE_TEXT[rule]}); purple: its "
        "picture of their codes, the represented rows of W applied to the same inputs; per m, the mean over those "
        "cells' p values (these rows' y axis stops short of 1, so their gap shows). "
        "The shaded gap is what superposition among the kept features costs, and the number in each panel is the "
        "answer's loss (chance-corrected, within m, mean over m; 95% interval over p values): the first screen's "
        "numbers. Below: "
        if answer
        else "The run drew no pictures of the inputs on the represented features, so the answer's pair is not drawn "
        "(its numbers are in section 3's verdicts). "
    )
    both = (
        f" The two kinds of rows average over p differently: the top {'rows take' if len(answer) > 1 else 'row takes'}"
        " the mean (what the answer's loss averages: the first screen's numbers), the bottom ones the "
        "median (as section D's tables: one p value's outlier moves it less); read each against its own row, not a "
        "top row's height against a bottom row's."
        if answer and curves
        else ""
    )
    return (
        f"k-NN recall against the inputs x (k = {k}; the share of each input's {k} nearest inputs that "
        "stay among its nearest), by hidden size m, one column per method. "
        + pair
        + f"supviz's own question over every cell ({', '.join(curves)}; per m, the median over the feature "
        "probabilities p): grey dashed, the method's picture of the full inputs x, what any 2-D picture of these "
        "inputs keeps; red, its picture of the full latent codes h = Wᵀx; dotted black, the code space h itself, "
        "before any picture. Their shaded gap holds the features the model drops in every cell as well as "
        f"superposition where W has it (the split is in the text; {n_points} inputs per cell; every cell in D1). "
        f"Grey dash-dot: the recall's chance level, k / (N − 1) = {fmt(chance, 2)} (median over the cells; N: the "
        "cell's inputs), what a random picture keeps." + both
    )


def _rows(res: Any, extra: dict[tuple[str, int, float], dict[str, float]]) -> list[dict[str, Any]]:
    """Rows of the run's tables: ``points`` (one per importance, m, p, space, method) and ``cells``
    (the geometry and the measures of :func:`supviz.study.datapoints.measures.cell_extras`)."""
    rows = []
    for r in res.table.itertuples(index=False):
        key = (r.importance, int(r.m), float(r.p))
        row = {
            "table": "points",
            "importance": r.importance,
            "m": int(r.m),
            "p": float(r.p),
            "space": r.space,
            "method": r.method,
            # the represented rule of an x_rep / h_rep row ("" for the spaces that do not depend on it)
            "rule": str(getattr(r, "rule", "")),
            "n_points": int(r.n_points),
            "k": int(r.k),
        }
        row.update({c: float(getattr(r, c)) for c in ROW_METRICS if hasattr(r, c) and c != "k"})
        row["false_neighbour_chance"] = extra.get(key, {}).get("false_neighbour_chance", float("nan"))
        row["nan_reasons"] = str(getattr(r, "nan_reasons", ""))  # the measures' own reasons (DistortionResult)
        rows.append(row)
    n = int(res.cells[0].x.shape[1])
    for g in res.geometry.to_dict("records"):
        key = (g["importance"], int(g["m"]), float(g["p"]))
        row = {
            "table": "cells",
            "model": "grid",
            "importance": g["importance"],
            "m": int(g["m"]),
            "p": float(g["p"]),
            "n_features": n,
        }
        row.update(
            {f"geo_{k}": float(v) for k, v in g.items() if k not in ("importance", "m", "p", "instance", "n_hidden")}
        )
        row.update(extra.get(key, {}))
        rows.append(row)
    return rows


def _tables(res: Any, v: str, cfg: DatapointsConfig, points: Any, cells: Any, rc: Any) -> list[TableBlock]:
    import pandas as pd

    from supviz.study.datapoints.findings import SUPERPOSED_ABOVE, loss_split
    from supviz.study.verdicts import RULE_TEXT

    label = variant_label(v)
    t = res.rule_table()
    t = t[t["importance"] == v]
    out = []
    frame = []
    for m, grp in t.groupby("m"):
        row: dict[str, Any] = {"m": int(m)}
        ex = grp[(grp["method"] == "exact") & (grp["space"] == "h")]["knn_recall"]
        row["h itself"] = round(float(ex.median()), 3)
        for method in cfg.methods:
            g = grp[grp["method"] == method]
            row[f"{PICTURE_NAMES[method]}: x"] = round(float(g[g["space"] == "x"]["knn_recall"].median()), 3)
            row[f"{PICTURE_NAMES[method]}: h"] = round(float(g[g["space"] == "h"]["knn_recall"].median()), 3)
        frame.append(row)
    out.append(
        TableBlock(
            f"k-NN recall against x, median over p, per m: the code space h itself, and the pictures of x "
            f"and of h per method ({label})",
            pd.DataFrame(frame),
        )
    )
    out.append(_loss_by_m_table(points, cells, v, cfg, rc))
    g = cells[(cells["model"] == "grid") & (cells["importance"] == v)].sort_values(["m", "p"], ascending=[True, False])
    split = loss_split(cells, v, rule=rc.rule)
    if split.get("n_cells"):
        ok = g[np.isfinite(g["h_recall"]) & np.isfinite(g[f"x_rep_recall_{rc.rule}"])]
        sp = pd.DataFrame(
            {
                "m": ok["m"].astype(int),
                "p": [fmt_p(p) for p in ok["p"]],
                "||W||²_F / m": ok["features_per_dim"].round(2) if "features_per_dim" in ok else np.nan,
                "total h − x": split["total"].round(3),
                "dropped features": split["dropped"].round(3),
                "superposition": split["superposition"].round(3),
                "compression": split["compression"].round(3),
            }
        )
        out.append(
            TableBlock(
                f"k-NN recall of the code space h against x, split per cell ({RULE_TEXT[rc.rule]}): dropped "
                f"features ({space_words('x_rep')} against x) + superposition + compression = total in every row; "
                f"{space_words('h_rep')} against {space_words('x_rep')} count as superposition only where W stores "
                f"more features than dimensions (||W||²_F / m > "
                f"{SUPERPOSED_ABOVE:g}), as plain linear compression elsewhere ({label})",
                sp,
            )
        )
    ring_cols = [c for c in g.columns if c.startswith("ring_") and c.endswith(f"_{rc.rule}")]
    if ring_cols:
        rt = g[["m", "p", f"n_represented_{rc.rule}", *ring_cols]].copy()
        rt["p"] = [fmt_p(p) for p in rt["p"]]
        rt.columns = [
            "m",
            "p",
            "represented",
            *[c[len("ring_") : -len(rc.rule) - 1].replace("_", " ") for c in ring_cols],
        ]
        out.append(
            TableBlock(
                f"Ring control per cell: radius CV of the represented points in interval MDS (0 = ring, "
                f"0.354 = disc), by kind of rows, with and without the cluster at the origin ({label})",
                rt.round(3),
            )
        )
    if "ray_share_h" in g:
        st = g[["m", "p", "one_active_rep", "ray_share_h", "spoke_share", "spoke_chance"]].copy()
        st["p"] = [fmt_p(p) for p in st["p"]]
        st.columns = [
            "m",
            "p",
            "one represented feature active",
            "within 5° of a ray in h",
            "on a spoke in MDS of h",
            "by chance",
        ]
        out.append(TableBlock(f"Stars: data points on the rays of single features, per cell ({label})", st.round(3)))
    return out


def _loss_by_m_table(points: Any, cells: Any, v: str, cfg: DatapointsConfig, rc: Any) -> TableBlock:
    """Per m, the chance-corrected relative losses the verdicts average (section D's findings compute them)."""
    import pandas as pd

    from supviz.study.datapoints.findings import SUPERPOSED_ABOVE, claim_effect, method_effect

    claim = claim_effect(points, cells, v, rule=rc.rule)
    effects = {m: method_effect(points, v, m) for m in cfg.methods}
    ms = sorted(set(claim["per_m"]) | {m for e in effects.values() for m in e["per_m"]})
    rows = []
    for m in ms:
        row: dict[str, Any] = {"m": int(m)}
        c = claim["per_m"].get(m)
        row["represented features, code space: cells"] = c["n"] if c else 0
        row["represented features, code space: loss"] = round(c["loss"], 3) if c else np.nan
        for method, e in effects.items():
            row[f"{PICTURE_NAMES[method]} h vs x: loss"] = (
                round(e["per_m"][m]["loss"], 3) if m in e["per_m"] else np.nan
            )
        rows.append(row)
    chance = next((e["chance"] for e in effects.values() if np.isfinite(e["chance"])), claim["chance"])
    return TableBlock(
        f"Relative loss of chance-corrected k-NN recall per m ((R − c) / (1 − c), chance c = k / (N − 1) = "
        f"{chance:.3f}; ratio of the means over p): {space_words('h_rep')} against {space_words('x_rep')} in the cells "
        f"whose W has superposition (||W||²_F / m > {SUPERPOSED_ABOVE:g}; the study's claim), and each method's "
        f"picture of h against its picture of x (supviz's own question); the verdicts average these over m "
        f"({variant_label(v)})",
        pd.DataFrame(rows),
    )


def _intro(res: Any, cfg: DatapointsConfig, points: Any, cells: Any, rc: Any, variants: list[str]) -> str:
    from supviz.datapoints.spaces import split_rule
    from supviz.study.datapoints.findings import loss_split_sentence

    groups = {}
    for cell in res.cells:
        groups.setdefault(round(cell.probability, 12), (cell.n_drawn, cell.n_dropped))
    drawn = sum(d for d, _ in groups.values())
    # the cells that picture x_rep and h_rep under the other rule too, and those where its represented set differs
    other = [c for c in res.cells if any(split_rule(s)[1] for s, _ in c.layouts)]
    n_pictured = len(other)
    n_differ = sum(not np.array_equal(c.represented, c.other_represented) for c in other)
    dropped = sum(z for _, z in groups.values())
    parts = [
        f"The study pictured feature directions; practitioners picture data. For each of the {len(res.cells)} cells, "
        f"{cfg.points} sparse inputs x were drawn from the cell's own distribution (each feature present with "
        f"probability p, uniform in [0, 1]; the cells of one p share the sample; {dropped} all-zero draws of {drawn} "
        f"were dropped), mapped to h = Wᵀx and pictured with {', '.join(PICTURE_NAMES[m] for m in cfg.methods)}. Every "
        f"picture is measured against x with k = {cfg.k}. The picture of x is the control: what any 2-D picture of "
        "these inputs loses.",
        " ".join(t for v in variants if (t := loss_split_sentence(cells, v, rule=rc.rule))),
        f"A feature counts as represented (for {space_words('x_rep')}, their codes and the ring) when its row of "
        f"W has {rc.describe()}; the split and the ring are also computed with {rc.other().describe()}"
        + (
            f", and so are the pictures of the represented features that the study's claim reads: new pictures in the "
            f"{n_differ} of the {n_pictured} cells that picture them where the two rules keep different features, "
            "the same pictures in the others."
            if n_pictured
            else "."
        ),
    ]
    return "\n\n".join(p for p in parts if p)
