"""The report's answer, from the run's tables and findings: the first screen and the conclusion.

- :func:`verdict_grid`: the grid of the first screen, methods (rows) x importance variant x view
  (columns), built from the findings that carry a ``view`` (any section may add some);
- :func:`headline_curves`: the data of the first screen's figure (k-NN recall of the pictures of x
  and of h, and of the code space itself, per m);
- :func:`lead_sentences`: the three sentences under it;
- :func:`conclusion_claims`: the closing paragraphs (the loss split, the ring control, the C3
  collapse, the stars, the false neighbours), each with the figures behind it.

Everything is a pure function of the tables (:mod:`supviz.study.table`) and the findings
(:mod:`supviz.report.verdicts`), so a test recomputes any number the report states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.report.verdicts import (
    FAILS_ABOVE,
    HOLDS_BELOW,
    RULE_TEXT,
    fmt,
    loss_split,
    loss_split_sentence,
    method_effect,
    ring_control_summary,
    star_summary,
    variant_label,
)

METHODS = ("MDS", "UMAP", "t-SNE")
_METHOD_KEY = {"MDS": "mds", "UMAP": "umap", "t-SNE": "tsne"}
VIEWS = ("feature directions", "data points")
VARIANT_ORDER = ("geometric:0.9", "uniform")


@dataclass
class Claim:
    """One paragraph of the conclusion and the figures behind it."""

    text: str
    figures: list[str] = field(default_factory=list)


@dataclass
class GridCell:
    """One cell of the verdict grid."""

    finding: Any | None
    """The finding (``None``: nothing measured for this combination)."""


@dataclass
class VerdictGrid:
    """Rows: methods; columns: (importance variant, view) pairs, the study's 0.9^i first."""

    methods: list[str]
    columns: list[tuple[str, str]]
    cells: dict[tuple[str, str, str], Any]
    """(method, importance, view) -> finding."""


def _order(names: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda n: (VARIANT_ORDER.index(n) if n in VARIANT_ORDER else len(VARIANT_ORDER), names.index(n)))


def verdict_grid(findings: Sequence[Any]) -> VerdictGrid:
    """The verdict grid of the findings that carry a ``view`` (each finding fills one cell).

    Rows are the methods in the order MDS, UMAP, t-SNE (others after, as they appear); columns are the
    importance variants (0.9^i first) times the views (feature directions, data points, then any view a
    later section adds).
    """
    grid = [f for f in findings if f.view]
    methods = [m for m in METHODS if any(f.method == m for f in grid)] + [
        m for m in dict.fromkeys(f.method for f in grid) if m not in METHODS]
    variants = _order([f.importance for f in grid])
    views = [v for v in VIEWS if any(f.view == v for f in grid)] + [
        v for v in dict.fromkeys(f.view for f in grid) if v not in VIEWS]
    cols = [(imp, view) for imp in variants for view in views if any(f.importance == imp and f.view == view for f in grid)]
    cells = {}
    for f in grid:
        cells.setdefault((f.method, f.importance, f.view), f)
    return VerdictGrid(methods, cols, cells)


def headline_curves(points: Any, importance: str, methods: Sequence[str] = ("mds", "umap", "tsne")) -> list[dict[str, Any]]:
    """Per method: median over p, per m, of the k-NN recall of the picture of x, of h, and of h itself.

    Cells where either recall is undefined are left out (per m).
    """
    out = []
    sub = points[points["importance"] == importance]
    exact = sub[(sub["method"] == "exact") & (sub["space"] == "h")].groupby("m")["knn_recall"].median()
    for method in methods:
        part = sub[sub["method"] == method]
        if part.empty:
            continue
        x = part[part["space"] == "x"].set_index(["m", "p"])["knn_recall"]
        h = part[part["space"] == "h"].set_index(["m", "p"])["knn_recall"]
        both = np.isfinite(x) & np.isfinite(h.reindex(x.index))
        x, h = x[both], h.reindex(x.index)[both]
        ms = sorted({int(m) for m, _ in x.index})
        out.append({
            "method": {"mds": "MDS", "umap": "UMAP", "tsne": "t-SNE"}[method], "m": ms,
            "x": [float(x.xs(m, level="m").median()) for m in ms], "h": [float(h.xs(m, level="m").median()) for m in ms],
            "exact": [float(exact.get(m, np.nan)) for m in ms],
        })
    return out


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


def lead_sentences(tables: dict[str, Any], findings: Sequence[Any], *, rule: str = "norm") -> list[str]:
    """The three sentences of the first screen: data points, feature directions, the ring."""
    points, cells = tables.get("points"), tables.get("cells")
    out = []
    variants = _order([f.importance for f in findings if f.view])
    lead = variants[0] if variants else ""
    if points is not None and len(points) and lead:
        eff = {m: method_effect(points, lead, _METHOD_KEY[m]) for m in METHODS if _METHOD_KEY[m] in set(points["method"])}
        worst = max(eff, key=lambda m: eff[m]["relative_loss"] if np.isfinite(eff[m]["relative_loss"]) else -1)
        parts = ", ".join(f"{m} {_pct(e['relative_loss'])}" for m, e in eff.items())
        exact = points[(points["importance"] == lead) & (points["method"] == "exact") & (points["space"] == "h")]
        k = int(exact["k"].dropna().iloc[0]) if "k" in exact and exact["k"].notna().any() else 10
        out.append(
            f"Pictured as the data practitioners look at ({variant_label(lead)}), superposition is a problem: the latent "
            f"codes h already keep only a median {fmt(exact['knn_recall'].median(), 2)} of each input's {k} nearest "
            "neighbours, and the "
            f"pictures of h lose a further share of what the same method's picture of the inputs x keeps ({parts}; worst "
            f"{worst}; the study's conclusion holds below {_pct(HOLDS_BELOW)} and fails above {_pct(FAILS_ABOVE)}).")
    fd = [f for f in findings if f.view == "feature directions" and f.importance == lead and f.verdict != "n/a"]
    if fd:
        groups: dict[str, list[str]] = {}
        for f in fd:
            groups.setdefault(f.verdict, []).append(f"{f.method} ({f.summary})" if f.summary else f.method)
        said = "; ".join(f"{v} for {', '.join(ms)}" for v, ms in groups.items())
        out.append(
            "On the feature directions the study pictured (the rows of W, not data), its claim that the pictures show no "
            f"signature of superposition is {said}: whether a picture's distance to the orthogonal baseline follows "
            "sparsity.")
    if cells is not None and len(cells) and lead:
        s = ring_control_summary(cells, lead, rule=rule)
        if s.get("n_cells"):
            med = s["median"]
            expl = {"origin cluster": "by the cluster of dropped features at the origin, not by near-equidistance",
                    "near-equidistance": "by near-equidistance of the represented features, not by the cluster at the origin",
                    "undecided": "by neither explanation alone"}.get(s["explanation"], "")
            out.append(
                f"The ring those pictures show is made {expl}: with the cluster the represented points form a ring (median "
                f"radius spread {fmt(med['trained_cluster'], 2)}; random directions {fmt(med['random_cluster'], 2)}, diag(N) "
                f"{fmt(med['orthogonal_cluster'], 2)}), without it a disc ({fmt(med['trained_alone'], 2)}, "
                f"{fmt(med['random_alone'], 2)}, {fmt(med['orthogonal_alone'], 2)}; 0 = ring, 0.35 = disc).")
    return out


def conclusion_claims(tables: dict[str, Any], findings: Sequence[Any], *, rule: str = "norm",
                      figure_ids: set[str] | None = None) -> list[Claim]:
    """The closing paragraphs (each states its numbers and cites its figures)."""
    points, cells = tables.get("points"), tables.get("cells")

    def figs(*ids: str) -> list[str]:
        return [i for i in ids if figure_ids is None or i in figure_ids]

    claims: list[Claim] = []
    variants = _order([f.importance for f in findings if f.importance])
    if cells is not None and len(cells):
        text = " ".join(t for v in variants if (t := loss_split_sentence(cells, v, rule=rule)))
        if text:
            claims.append(Claim("Where the neighbourhoods go. " + text, figs(*[f"D1_knn_recall_{_slug(v)}" for v in variants])))
    if points is not None and len(points):
        parts = []
        for v in variants:
            for m in METHODS:
                key = _METHOD_KEY[m]
                if key not in set(points["method"]):
                    continue
                e = method_effect(points, v, key)
                if e["fn_cells"]:
                    parts.append(f"{variant_label(v)}, {m}: {fmt(e['fn_x'], 2)} -> {fmt(e['fn_h'], 2)} over {e['fn_cells']} "
                                 f"cells (chance {fmt(e['fn_chance'], 2)}, largest increase {fmt(e['fn_increase_max'], 2)})")
        if parts:
            claims.append(Claim(
                "False neighbours (pairs close in the picture that share no active feature) are possible only where some "
                "pairs of inputs share no feature: not at p >= 0.3 here, where every pair shares one and the rate is 0 "
                "whatever the picture. Over the cells where they are possible, the median rate of the picture of x against "
                "that of h: " + "; ".join(parts) + ".",
                figs(*[f"D1_false_neighbour_rate_{_slug(v)}" for v in variants])))
    ring = [f for f in findings if f.key.startswith("D-ring-")]
    if ring:
        claims.append(Claim("Why the ring. " + " ".join(f"{variant_label(f.importance).capitalize()}: {f.measured}" for f in ring),
                            figs("D4_ring_control")))
    coll = [f for f in findings if f.key == "C6-collapse"]
    if coll:
        claims.append(Claim("The 40 : 0.55 collapse of C3. " + coll[0].measured, figs(*coll[0].figures)))
    if cells is not None and len(cells):
        stars = [star_summary(cells, v) for v in variants]
        text = []
        for v, s in zip(variants, stars):
            if s.get("n_star"):
                text.append(f"{variant_label(v)}: {_pct(s['star_ray_share_h'])} of the points of the {s['n_star']} cells with "
                            f"low m and sparse p lie within 5° of a represented feature's ray in h (other cells "
                            f"{_pct(s['other_ray_share_h'])}); in the MDS picture {_pct(s['star_spoke_share'])} lie on a spoke "
                            f"against {_pct(s['star_spoke_chance'])} by chance")
        if text:
            claims.append(Claim(
                "Stars, a signature of superposition the study did not picture. MDS pictures of data points at low m and "
                "sparse p are stars: spokes along the few represented features' directions, made of the inputs with one "
                "represented feature active. " + "; ".join(text) + ".", figs(*[f"D2_mds_{_slug(v)}" for v in variants])))
    return claims


def _slug(name: str) -> str:
    return name.replace(":", "").replace(".", "p").replace("/", "_")


__all__ = ["Claim", "VerdictGrid", "conclusion_claims", "headline_curves", "lead_sentences", "loss_split", "verdict_grid",
           "RULE_TEXT"]
