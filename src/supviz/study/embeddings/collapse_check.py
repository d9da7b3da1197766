"""C6: is a collapsed C3 picture a failure of training, or a degeneracy of interval MDS?

The study's C3 panel "40 : 0.55" (importance 0.9^i) is a spot with three points far out; the study
suspected "an instance of our original optimization procedure ... failing". supviz's own weights
give the same picture. This module tests the other explanation: interval MDS (the disparities an
affine function ``a + b·δ`` of the dissimilarities) is known to degenerate when the dissimilarities
are nearly equal, because the fitted transformation can blow a few small differences up into the
whole picture (Borg & Groenen 2005, *Modern Multidimensional Scaling*, sec. 14.2).

For each collapsed cell (a C3 picture whose largest distance from the centre is over
:data:`OUTLIER_MAX` times the median one, under either represented rule; and the study's 40 : 0.55
cell whenever the grid has it), on supviz's weights and on the study's own weights
(:func:`reference_weights`), under both represented rules, with interval and ratio MDS: the
Torgerson start (the study's) and :data:`~supviz.study.config.EmbeddingsConfig.collapse_starts`
random starts, their stress-1 and their outlier ratio. A degeneracy shows as collapsed solutions
with *lower* interval stress than the ring, in independently trained weights, and never with ratio
MDS; a training failure would show in one set of weights only, and with ratio MDS as well.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from supviz.errors import SupvizError
from supviz.report.records import Finding, TableBlock
from supviz.study.sources import source_for
from supviz.study.stats import MIN_N, NOT_ENOUGH

log = logging.getLogger(__name__)

#: A configuration is collapsed when its largest distance from the centroid exceeds this many times
#: the median one (a ring has about 1.1, a uniform disc 1.4-1.8, the 40 : 0.55 picture about 40).
OUTLIER_MAX = 3.0
#: The cell the study named (importance 0.9^i, m = 40, p = 0.55), checked whenever the grid has it.
STUDY_CELL = ("geometric:0.9", 40, 0.5492802716530588)
STUDY_FILE = "hamblin2022_weights.npz"
#: At most this many cells are checked (the study's first, then the most collapsed).
MAX_CELLS = 3


def reference_weights(setting: str) -> Path | None:
    """The study's weights for the C3 check: ``""`` looks for ``hamblin2022_weights.npz`` next to the
    checkout (``<dir>/shared/data/`` or ``<dir>/data/`` for the working directory, the source tree
    and up to three folders above each); ``"none"`` skips it; anything else is a path that must exist and
    read as the study's weights (:func:`supviz.toy.load_hamblin2022`), so ``supviz config`` refuses a missing
    or foreign file by name (one that is not was read only at C6, where it became a warning).
    """
    if setting == "none":
        return None
    if setting:
        p = Path(setting).expanduser()
        if not p.is_file():
            raise SupvizError(
                f"`embeddings.reference_weights` must be an existing weights file, '' or 'none'; got {setting!r}."
            )
        from supviz import toy

        try:
            toy.load_hamblin2022(p)
        except SupvizError as exc:
            raise SupvizError(f"`embeddings.reference_weights` {setting!r} is not the study's weights: {exc}") from None
        return p
    starts = [Path.cwd(), Path(__file__).resolve().parent]
    for start in starts:
        for folder in [start, *list(start.parents)[:4]]:
            for cand in (folder / "shared" / "data" / STUDY_FILE, folder / "data" / STUDY_FILE):
                if cand.is_file():
                    return cand
    return None


def outlier_ratio(Y: np.ndarray) -> float:
    """Largest over median distance from the centroid (about 1.1 for a ring; tens for a collapse)."""
    r = np.linalg.norm(Y - Y.mean(axis=0), axis=1)
    med = float(np.median(r))
    return float(r.max() / med) if med > 0 else float("nan")


def multistart(
    X: np.ndarray, *, metric_type: str, n_starts: int, max_iter: int, eps: float, seed: int
) -> dict[str, Any]:
    """SMACOF of the rows of ``X`` from the Torgerson start and ``n_starts`` random starts.

    Returns the Torgerson solution (``embedding``, ``stress``, ``outlier``; for interval MDS the
    fitted transformation's intercept as a share of the mean disparity, ``intercept``: 0 for ratio
    MDS, far from 0 when a few differences are blown up), and per random start ``stresses``
    and ``outliers``.
    """
    from supviz import dr
    from supviz.study.adapters import pairwise

    delta = pairwise(np.asarray(X, dtype=np.float64))
    torg = dr.smacof(delta, metric_type=metric_type, max_iter=max_iter, eps=eps)
    iu = np.triu_indices(delta.shape[0], 1)
    d, dh = delta[iu], np.asarray(torg.disparities)[iu]
    slope, icpt = np.polyfit(d, dh, 1) if np.ptp(d) > 0 else (1.0, 0.0)
    rand = dr.smacof(
        np.stack([delta] * n_starts),
        metric_type=metric_type,
        max_iter=max_iter,
        eps=eps,
        init="random",
        random_state=seed,
    )
    emb = np.asarray(rand.embedding)
    return {
        "embedding": np.asarray(torg.embedding),
        "stress": float(torg.stress),
        "outlier": outlier_ratio(np.asarray(torg.embedding)),
        "intercept": float(icpt / dh.mean()) if dh.mean() > 0 else float("nan"),
        "stresses": np.asarray(rand.stress, dtype=float),
        "outliers": np.array([outlier_ratio(e) for e in emb]),
    }


@dataclass
class CheckOutput:
    """What the check adds to section C."""

    figures: list[Any] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    tables: list[TableBlock] = field(default_factory=list)
    finding: Finding | None = None


def _cells_to_check(result: list[Any]) -> list[tuple[str, int, float]]:
    found: dict[tuple[str, int, float], float] = {}
    for vr in result:
        for name, prs in vr.panels.items():
            if not name.startswith("C3"):
                continue
            for p in prs:
                r = float(p.stats.get("outlier_ratio", np.nan))
                if np.isfinite(r) and r > OUTLIER_MAX:
                    key = (vr.name, int(p.m), float(p.p))
                    found[key] = max(found.get(key, 0.0), r)
    order = sorted(found, key=lambda k: -found[k])
    study = next(
        (
            (v, m, p)
            for vr in result
            for c in vr.cells
            for v, m, p in [(vr.name, c.m, c.p)]
            if (v, m) == STUDY_CELL[:2] and abs(p - STUDY_CELL[2]) < 1e-3
        ),
        None,
    )
    if study is not None:
        order = [study] + [k for k in order if k != study]
    return order[:MAX_CELLS]


def _study_grid(path: Path | None) -> Any:
    if path is None:
        return None
    from supviz import toy

    try:
        return toy.load_hamblin2022(path)
    except SupvizError as exc:
        log.warning("C3 check: the study's weights at %s could not be read (%s); supviz's weights only", path, exc)
        return None


def collapse_starts(ctx: Any, result: list[Any]) -> dict[str, Any]:
    """The check's computation, for the collapsed C3 cells of ``result`` (section C's variants): every fit.

    Per cell, source (this run's weights, and the study's own where they are found), represented
    rule and SMACOF type: the Torgerson fit and :data:`cfg.collapse_starts` random starts
    (:func:`multistart`, each cached). Called by section C's ``compute``; :func:`collapse_check` turns
    its value into rows, figures and the finding.
    """
    from supviz.study.adapters import rule_masks

    cfg = ctx.config.section("embeddings")
    rc = ctx.config.represented
    cells = _cells_to_check(result)
    if not cells:
        return {"cells": [], "fits": [], "digest": ""}
    ref_path = reference_weights(cfg.reference_weights)
    supplied = ctx.weights_file or ctx.config.weights.file
    same_file = bool(supplied and ref_path and Path(supplied).resolve() == ref_path.resolve())
    study = None if same_file else _study_grid(ref_path)
    digest = hashlib.sha256(ref_path.read_bytes()).hexdigest()[:12] if study is not None else ""
    rules = (rc.rule, rc.other().rule)
    fits: list[dict[str, Any]] = []
    for variant, m, p in cells:
        vr = next(v for v in result if v.name == variant)
        cell = next(c for c in vr.cells if c.m == m and abs(c.p - p) < 1e-9)
        sources = [("supviz" if not supplied else "supplied", cell.W, cell.masks)]
        if study is not None:
            idx = [
                i
                for i, s in enumerate(study.specs)
                if s.importance_name == variant
                and s.n_hidden == m
                and s.probability is not None
                and abs(float(s.probability) - p) < 1e-3
            ]
            if idx:
                Ws = np.asarray(study.weights[idx[0]], dtype=np.float64)
                sources.append(
                    ("study", Ws, rule_masks(Ws, np.asarray(study.specs[idx[0]].importance, dtype=float), rc))
                )
        for source, W, masks in sources:
            for rule in rules:
                X = W[masks[rule]]
                for mt in ("interval", "ratio"):
                    params = {
                        "X": X,
                        "metric_type": mt,
                        "n_starts": cfg.collapse_starts,
                        "max_iter": cfg.max_iter,
                        "eps": cfg.eps,
                        "seed": ctx.seed("C6", variant, m, source, rule, mt),
                    }
                    res, _ = ctx.cache.get_or_compute(
                        "starts",
                        params,
                        lambda params=params: multistart(
                            params["X"],
                            metric_type=mt,
                            n_starts=params["n_starts"],
                            max_iter=params["max_iter"],
                            eps=params["eps"],
                            seed=params["seed"],
                        ),
                    )
                    fits.append(
                        {
                            "variant": variant,
                            "m": m,
                            "p": p,
                            "source": source,
                            "rule": rule,
                            "type": mt,
                            "n": int(X.shape[0]),
                            "n_sources": len(sources),
                            "fit": res,
                        }
                    )
    return {"cells": cells, "fits": fits, "digest": digest}


def collapse_check(ctx: Any, starts: dict[str, Any]) -> CheckOutput:
    """Rows, figures, a table and the finding of the check from its computed fits (:func:`collapse_starts`)."""
    from supviz import plot
    from supviz.core.text import fmt, fmt_p
    from supviz.plot.panels import ScatterPanel
    from supviz.study.verdicts import RULE_TEXT
    from supviz.toy.importance import variant_label

    cfg = ctx.config.section("embeddings")
    rc = ctx.config.represented
    cells = [tuple(c) for c in starts["cells"]]
    out = CheckOutput()
    if not cells:
        return out
    digest = starts["digest"]
    rules = (rc.rule, rc.other().rule)
    summary: list[dict[str, Any]] = []
    for variant, m, p in cells:
        panels = []
        fits = [f for f in starts["fits"] if (f["variant"], f["m"], f["p"]) == (variant, m, p)]
        for f in fits:
            res, source, rule, mt = f["fit"], f["source"], f["rule"], f["type"]
            degenerate = res["outliers"] > OUTLIER_MAX
            rec = {
                "variant": variant,
                "m": m,
                "p": p,
                "source": source,
                "rule": rule,
                "type": mt,
                "n": f["n"],
                "stress": res["stress"],
                "outlier": res["outlier"],
                "intercept": res["intercept"],
                "best": float(res["stresses"].min()),
                "median": float(np.median(res["stresses"])),
                "share": float(degenerate.mean()),
                "ring_best": float(res["stresses"][~degenerate].min()) if (~degenerate).any() else float("nan"),
                "collapsed_best": float(res["stresses"][degenerate].min()) if degenerate.any() else float("nan"),
            }
            summary.append(rec)
            out.rows.append(
                {
                    "table": "panels",
                    "experiment": "C6",
                    "importance": variant,
                    "m": m,
                    "p": p,
                    "method": "mds",
                    "params": _json(
                        {
                            "metric_type": mt,
                            "n_starts": cfg.collapse_starts,
                            "rule": rule,
                            "source": source,
                            "reference_sha256": digest if source == "study" else "",
                        }
                    ),
                    "n_points": f["n"],
                    "panel": f"{m} : {fmt_p(p)}, {source}, {rule}, {mt}",
                    "represented_rule": rule,
                    "source": source,
                    "smacof_stress": rec["stress"],
                    "outlier_ratio": rec["outlier"],
                    "interval_intercept": rec["intercept"],
                    "starts_best_stress": rec["best"],
                    "starts_median_stress": rec["median"],
                    "starts_share_collapsed": rec["share"],
                }
            )
            panels.append(
                ScatterPanel(
                    f"{source}, {'study rule' if rule == 'mean_abs' else 'norm rule'}: {mt}",
                    res["embedding"],
                    corner=f"N {f['n']}  SMACOF stress {res['stress']:.3f}\nmax/median radius {res['outlier']:.1f}",
                )
            )
        n_sources = fits[0]["n_sources"] if fits else 1
        title = f"C6. The collapsed C3 cell {m} : {fmt_p(p)} ({variant_label(variant)}): interval against ratio MDS"
        ncols = 2 * len(rules)
        figs_caption = (
            f"The represented features of the cell m = {m}, p = {fmt_p(p)} ({variant_label(variant)}) from "
            + (
                "supviz's weights (top) and the study's own weights (bottom), "
                if n_sources > 1
                else "this run's weights, "
            )
            + f"under {RULE_TEXT[rules[0]]} and {RULE_TEXT[rules[1]]}, laid out by interval and by ratio SMACOF from "
            "the Torgerson start (the study's). Under each panel: the number of points, the SMACOF stress (the "
            "stress-1 each fit minimised, against its own disparities), and the largest over the median distance from "
            f"the centre (about 1.1 for a ring; above {OUTLIER_MAX:g}: collapsed to a spot with a few points far out). "
            f"{cfg.collapse_starts} random starts of each are in the table below the figure."
        )
        out.figures.append(
            ctx.figure(
                f"C6_m{m}_p{fmt_p(p).replace('.', 'p')}_{variant.replace(':', '').replace('.', 'p')}",
                title=title,
                caption=figs_caption,
                content={"panels": panels},
                static=lambda panels=panels, title=title, ncols=ncols: plot.plot_grid(
                    panels, ncols=ncols, title=title, panel_in=2.2
                ),
            )
        )
    import pandas as pd

    frame = pd.DataFrame(summary)
    show = frame.assign(
        cell=[f"{r.m} : {fmt_p(r.p)}" for r in frame.itertuples()],
        rule=[("norm" if r == "norm" else "study") for r in frame["rule"]],
    )
    show = show[["cell", "source", "rule", "type", "n", "stress", "outlier", "best", "share"]].rename(
        columns={
            "n": "points",
            "stress": "stress (Torgerson)",
            "outlier": "max/median radius",
            "best": f"best of {cfg.collapse_starts}",
            "share": "share collapsed",
        }
    )
    out.tables.append(
        TableBlock("C6: the collapsed C3 cells, interval against ratio MDS, Torgerson and random starts", show.round(3))
    )
    out.finding = _finding(frame, cells, len({s for s in frame["source"]}) > 1, fmt)
    return out


def _json(d: dict[str, Any]) -> str:
    import json

    return json.dumps(d, sort_keys=True)


def _cell_clause(f: Any, fmt: Any) -> tuple[str, bool, bool]:
    """One cell's result in words, whether interval MDS collapsed there, and whether it is the degeneracy
    (collapsed with a lower interval stress than the best ring, ratio MDS never collapsed)."""
    from supviz.study.verdicts import RULE_TEXT

    coll = f[(f["type"] == "interval") & (f["outlier"] > OUTLIER_MAX)]
    ratio_bad = f[(f["type"] == "ratio") & ((f["outlier"] > OUTLIER_MAX) | (f["share"] > 0))]
    parts = []
    lower = True
    for r in coll.itertuples():
        ring = f[(f["source"] == r.source) & (f["rule"] == r.rule) & (f["type"] == "interval")]["ring_best"].iloc[0]
        lower &= bool(np.isfinite(ring) and r.stress < ring)
        parts.append(
            f"{r.source}'s weights with {RULE_TEXT[r.rule]} ({r.n} points): interval SMACOF stress {fmt(r.stress)} for "
            f"the collapsed Torgerson solution (largest/median radius {fmt(r.outlier)}) against {fmt(ring)} for the "
            f"best ring of the random starts, {100 * r.share:.0f}% of which collapse too"
        )
    calm = f[(f["type"] == "interval") & (f["outlier"] <= OUTLIER_MAX)]
    calm_text = "; ".join(
        sorted({f"{r.source}, {RULE_TEXT[r.rule]}: stress {fmt(r.stress)}, no collapse" for r in calm.itertuples()})
    )
    text = "; ".join(parts) if parts else "no interval solution collapsed"
    if calm_text:
        text += f". Without collapse: {calm_text}"
    text += f". Ratio MDS: {'never collapsed' if ratio_bad.empty else 'collapsed too'}"
    return text, bool(len(coll)), bool(len(coll)) and lower and ratio_bad.empty


def _finding(frame: Any, cells: list[tuple[str, int, float]], has_study: bool, fmt: Any) -> Finding:
    from supviz.core.text import fmt_p
    from supviz.study.verdicts import RULE_TEXT
    from supviz.toy.importance import variant_label

    variant, m, p = cells[0]
    f = frame[(frame["variant"] == variant) & (frame["m"] == m) & (abs(frame["p"] - p) < 1e-9)]
    text, collapsed, degenerate = _cell_clause(f, fmt)
    sources = sorted(set(f["source"]))
    coll_sources = sorted(set(f[(f["type"] == "interval") & (f["outlier"] > OUTLIER_MAX)]["source"]))
    if degenerate and coll_sources == sources and has_study:
        verdict, why = (
            "not supported",
            (
                "an interval-MDS degeneracy, not a training failure: it appears in both supviz's and "
                "the study's independently trained weights, the collapsed configuration fits the "
                "interval transformation better than the ring does, and ratio MDS never collapses"
            ),
        )
    elif degenerate:
        verdict, why = (
            "partly",
            (
                "an interval-MDS degeneracy in these weights (lower interval stress than the ring, none with "
                "ratio MDS); "
                + (
                    "not reproduced in every set of weights"
                    if has_study
                    else "the study's weights were not available to repeat it"
                )
            ),
        )
    elif collapsed:
        verdict, why = "partly", "collapsed, but the numbers do not separate the explanations"
    else:
        verdict, why = "n/a", "no collapse reproduced here"
    more = []
    for v, mm, pp in cells[1:]:
        g = frame[(frame["variant"] == v) & (frame["m"] == mm) & (abs(frame["p"] - pp) < 1e-9)]
        _, c, d = _cell_clause(g, fmt)
        both = g[(g["outlier"] > OUTLIER_MAX) & (g["type"] == "ratio")]
        if d:
            what = "the same interval-MDS degeneracy"
        elif len(both):
            rules = sorted({RULE_TEXT[r] for r in both["rule"]})
            what = (
                f"collapsed with ratio MDS as well, with {' and '.join(rules)} ({int(both['n'].max())} rows): a real "
                "cluster of near-dropped rows at the origin, not a degeneracy"
            )
        else:
            what = "collapsed" if c else "no collapse"
        more.append(f"{mm} : {fmt_p(pp)} ({variant_label(v)}): {what}")
    text = f"Cell {m} : {fmt_p(p)} ({variant_label(variant)}): {text}. So: {why}." + (
        f" Other collapsed C3 cells checked: {'; '.join(more)}." if more else ""
    )
    slug = f"C6_m{m}_p{fmt_p(p).replace('.', 'p')}_{variant.replace(':', '').replace('.', 'p')}"
    # the evidence: per collapsed interval fit, its stress minus the best ring's (< 0: the collapse fits better)
    coll = f[(f["type"] == "interval") & (f["outlier"] > OUTLIER_MAX)]
    gaps = []
    for r in coll.itertuples():
        ring = f[(f["source"] == r.source) & (f["rule"] == r.rule) & (f["type"] == "interval")]["ring_best"]
        gaps.append(float(r.stress) - float(ring.iloc[0]) if len(ring) else float("nan"))
    gaps_arr = np.asarray(gaps, dtype=float)
    est = float(np.nanmax(gaps_arr)) if np.isfinite(gaps_arr).any() else None
    text += (
        f" Evidence: {len(gaps)} collapsed interval fits ({len(sources)} sets of weights x represented rules); the "
        f"largest of their stresses minus the best ring's is {fmt(est) if est is not None else 'n/a'} (below 0 in "
        "every fit: the collapse is interval MDS's optimum). No interval: each fit is one deterministic optimisation "
        "of one trained W; the spread over training seeds is not measured."
    )
    # two deterministic fits are no sample: the verdict leans the way they point but takes no confident colour
    # below MIN_N fits (no resampling unit exists: each fit is one optimisation of one trained W)
    leaning = verdict
    if verdict in ("supported", "not supported", "partly") and len(gaps) < MIN_N:
        verdict = NOT_ENOUGH
        text += (
            f" Verdict: {NOT_ENOUGH} ({len(gaps)} fits, fewer than {MIN_N}, and no interval); the fits lean to "
            f"'{leaning}'."
        )
    return Finding(
        "The C3 deviation at 40 : 0.55 (a few big outlier points) could be an instance of the training procedure "
        "failing.",
        text,
        verdict,
        key="C6-collapse",
        method="MDS",
        importance=variant,
        n_used=len(gaps),
        unit="collapsed interval fits (no resampling unit: each is one deterministic fit of one trained W)",
        estimate=est,
        interval=(float("nan"), float("nan")),
        threshold=0.0,
        comparison="interval SMACOF stress of the collapsed solution minus that of the best ring of the random starts, "
        "largest over the sets of weights and represented rules (below 0 everywhere, with ratio MDS never collapsing "
        "and both sets of weights collapsing: a degeneracy of interval MDS, not a training failure); interval "
        "undefined: the fits are deterministic, one per set of weights and rule, and the spread over training seeds "
        f"is not measured; fewer than {MIN_N} fits give no confident verdict",
        source=source_for("C6"),
        figures=[slug],
    )
