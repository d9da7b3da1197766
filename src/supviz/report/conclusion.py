"""The report's conclusion, computed from a run's tidy metrics table (numbers filled in).

The study asked whether superposition distorts latent-space pictures and answered by eye, from
pictures of the feature directions: superposition "might not be as large a problem for latent
space visualization". The data-point section (``experiment`` ``D_x``, ``D_x_rep``, ``D_h``,
``D_geometry`` rows, :mod:`supviz.study.datapoints`) measures the question where practitioners meet
it, on the latent codes ``h = W^T x`` of data. This module turns those rows into claims:

- :func:`method_effects`: per importance variant and method, how much of the inputs' k-nearest
  neighbourhoods the picture of ``h`` keeps, against the picture of ``x`` itself (the loss that any
  2-D picture has), overall and per m;
- :func:`verdict`: the rule that turns a relative loss into "holds" / "partly" / "does not hold";
- :func:`ring_evidence`: how equidistant the represented features are (the ring);
- :func:`conclusion_claims`: the paragraphs of the report's conclusion, each with the figures
  behind it.

Everything is a pure function of the table, so a test can recompute any number it states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Relative loss of k-NN recall (picture of h against the picture of x) below which the study's
#: conclusion holds for a method, and above which it does not hold (in between: partly).
HOLDS_BELOW = 0.10
FAILS_ABOVE = 0.30

_METHOD_NAME = {"mds": "MDS", "umap": "UMAP", "tsne": "t-SNE"}
_VARIANT_LABEL = {"uniform": "uniform importance", "geometric:0.9": "importance 0.9^i"}


def _f(x: Any, digits: int = 2) -> str:
    v = float(x)
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.0f}%"


def variant_label(name: str) -> str:
    """Human label of an importance variant."""
    return _VARIANT_LABEL.get(name, f"importance {name}")


def variant_slug(name: str) -> str:
    """File-name form of an importance variant (``geometric:0.9`` -> ``geometric0p9``)."""
    return name.replace(":", "").replace(".", "p").replace("/", "_")


def verdict(relative_loss: float) -> str:
    """'holds', 'partly' or 'does not hold' for a median relative loss of k-NN recall.

    The study's conclusion holds for a method when the picture of ``h`` loses less than
    :data:`HOLDS_BELOW` of the neighbourhoods that the picture of ``x`` keeps, and does not hold
    above :data:`FAILS_ABOVE`.
    """
    if not math.isfinite(relative_loss):
        return "n/a"
    if relative_loss < HOLDS_BELOW:
        return "holds"
    if relative_loss > FAILS_ABOVE:
        return "does not hold"
    return "partly"


@dataclass
class MethodEffect:
    """How the pictures of one method keep the inputs' neighbourhoods, for one importance variant.

    Medians are over the (m, p) cells; ``relative_loss = (x_recall - h_recall) / x_recall`` of the
    medians.
    """

    importance: str
    method: str
    n_cells: int
    x_recall: float
    h_recall: float
    exact_h_recall: float
    relative_loss: float
    exact_rep_recall: float = float("nan")
    """Median k-NN recall of x restricted to the represented features (no superposition) against x."""
    by_m: dict[int, tuple[float, float]] = field(default_factory=dict)
    """m -> (median recall loss h - x over p, median relative loss)."""
    x_fn: float = float("nan")
    h_fn: float = float("nan")
    x_trust: float = float("nan")
    h_trust: float = float("nan")
    n_left_out: int = 0
    """Cells left out of the medians because the recall of x's or h's picture is undefined (NaN)."""

    @property
    def verdict(self) -> str:
        return verdict(self.relative_loss)


def _paired(table: Any, importance: str, method: str, metric: str, *, keep_nan: bool = False) -> Any:
    """Per-cell values of ``metric`` for the pictures of x and h (columns x, h), index (m, p).

    Cells where either value is NaN (undefined for its picture) are dropped unless ``keep_nan``.
    """
    d = table[(table["importance"] == importance) & (table["method"] == method)]
    x = d[d["experiment"] == "D_x"].set_index(["m", "p"])[metric]
    h = d[d["experiment"] == "D_h"].set_index(["m", "p"])[metric]
    import pandas as pd

    both = pd.concat({"x": x, "h": h}, axis=1)
    return both if keep_nan else both.dropna()


def method_effects(table: Any, *, methods: tuple[str, ...] = ("mds", "umap", "tsne")) -> list[MethodEffect]:
    """Per importance variant and layout method, the k-NN recall of the pictures of x and h.

    Parameters
    ----------
    table : pandas.DataFrame
        A run's tidy table with the data-point rows (``experiment`` ``D_x`` and ``D_h``).

    Returns
    -------
    list of MethodEffect
        Variants in table order, methods in ``methods`` order; methods without rows are left out.
    """
    if table is None or "experiment" not in table or not table["experiment"].isin(["D_h"]).any():
        return []
    out = []
    dp = table[table["experiment"].isin(["D_x", "D_h"])]
    for imp in dict.fromkeys(dp["importance"]):
        exact = _paired(table, imp, "exact", "knn_recall")
        rep = table[(table["importance"] == imp) & (table["method"] == "exact") & (table["experiment"] == "D_x_rep")]
        rep_recall = float(rep["knn_recall"].median()) if len(rep) else float("nan")
        for method in methods:
            pr = _paired(table, imp, method, "knn_recall")
            n_all = len(_paired(table, imp, method, "knn_recall", keep_nan=True))
            if pr.empty:
                continue
            xr, hr = float(pr["x"].median()), float(pr["h"].median())
            by_m = {}
            for m, grp in pr.groupby(level="m"):
                diff = float((grp["h"] - grp["x"]).median())
                rel = float(((grp["x"] - grp["h"]) / grp["x"]).median()) if (grp["x"] > 0).all() else float("nan")
                by_m[int(m)] = (diff, rel)
            fn = _paired(table, imp, method, "false_neighbour_rate")
            tw = _paired(table, imp, method, "trustworthiness")
            out.append(MethodEffect(
                importance=str(imp), method=method, n_cells=len(pr), x_recall=xr, h_recall=hr,
                exact_h_recall=float(exact["h"].median()) if not exact.empty else float("nan"),
                relative_loss=(xr - hr) / xr if xr > 0 else float("nan"), by_m=by_m, exact_rep_recall=rep_recall,
                x_fn=float(fn["x"].median()) if not fn.empty else float("nan"),
                h_fn=float(fn["h"].median()) if not fn.empty else float("nan"),
                x_trust=float(tw["x"].median()) if not tw.empty else float("nan"),
                h_trust=float(tw["h"].median()) if not tw.empty else float("nan"),
                n_left_out=n_all - len(pr),
            ))
    return out


@dataclass
class RingEvidence:
    """Are the represented feature directions near-equidistant (why the MDS picture is a ring)?"""

    importance: str
    n_cells: int
    cv: float
    """Median coefficient of variation of the represented rows' pairwise distances (diag(N): 0)."""
    cv_gaussian: float
    """Median of the same for Gaussian rows of the same N and m."""
    share_below_gaussian: float
    """Share of cells whose rows are more equidistant than the Gaussian reference."""
    radial_cv: float
    """Median radial spread of the MDS picture of the represented rows (0 = ring, 0.354 = disc)."""
    radial_cv_orthogonal: float
    """Median radial spread of the MDS picture of diag(N) of the same sizes."""
    n_all_represented: int = 0
    """Cells where the rule counts every feature as represented (near-zero rows included)."""
    cv_selective: float = float("nan")
    cv_gaussian_selective: float = float("nan")
    """Medians of ``cv`` / ``cv_gaussian`` over the other cells."""


def ring_evidence(table: Any) -> list[RingEvidence]:
    """The equidistance measures of the ``D_geometry`` rows, per importance variant."""
    if table is None or "experiment" not in table:
        return []
    geo = table[table["experiment"] == "D_geometry"]
    out = []
    for imp in dict.fromkeys(geo["importance"]):
        g = geo[(geo["importance"] == imp) & np.isfinite(geo["geo_cv"])]
        if g.empty:
            continue
        below = (g["geo_cv"] < g["geo_cv_gaussian"]).mean()
        full = (g["n_points"] >= g["geo_n_features"]) if "geo_n_features" in g else np.zeros(len(g), dtype=bool)
        sel = g[~np.asarray(full, dtype=bool)]
        out.append(RingEvidence(
            importance=str(imp), n_cells=len(g), cv=float(g["geo_cv"].median()),
            cv_gaussian=float(g["geo_cv_gaussian"].median()), share_below_gaussian=float(below),
            radial_cv=float(g["geo_radial_cv"].median()) if "geo_radial_cv" in g else float("nan"),
            radial_cv_orthogonal=float(g["geo_radial_cv_orthogonal"].median()) if "geo_radial_cv_orthogonal" in g
            else float("nan"),
            n_all_represented=int(np.sum(full)),
            cv_selective=float(sel["geo_cv"].median()) if len(sel) else float("nan"),
            cv_gaussian_selective=float(sel["geo_cv_gaussian"].median()) if len(sel) else float("nan"),
        ))
    return out


@dataclass
class Claim:
    """One paragraph of the conclusion and the figures behind it."""

    text: str
    figures: list[str] = field(default_factory=list)


def heatmap_id(metric: str, importance: str) -> str:
    """Figure id of the data-point heatmap of ``metric`` (the section and the conclusion agree on it)."""
    return f"D1_{metric}_{variant_slug(importance)}"


def grid_id(method: str, importance: str) -> str:
    """Figure id of the m x p grid of pictures of h by ``method``."""
    return f"D2_{method}_{variant_slug(importance)}"


RING_FIGURE_ID = "D4_equidistance"


def _m_trend(e: MethodEffect) -> str:
    ms = sorted(e.by_m)
    if len(ms) < 2:
        return ""
    lo, hi = ms[0], ms[-1]
    worst = max(ms, key=lambda m: -e.by_m[m][0])
    ok = [m for m in ms if e.by_m[m][1] < HOLDS_BELOW]
    when = (f" The relative loss stays below {_pct(HOLDS_BELOW)} at m = {', '.join(map(str, ok))} only." if ok and len(ok) < len(ms)
            else f" The relative loss stays below {_pct(HOLDS_BELOW)} at every m." if ok else
            f" At no m does the relative loss fall below {_pct(HOLDS_BELOW)}.")
    return (f" Median recall loss over p: {_f(-e.by_m[lo][0])} at m = {lo}, {_f(-e.by_m[hi][0])} at m = {hi} "
            f"(largest at m = {worst}: {_f(-e.by_m[worst][0])}, {_pct(e.by_m[worst][1])} of the picture of x's recall)."
            + when)


def method_sentence(e: MethodEffect, best_x: float) -> str:
    """The measured sentence about one method (used by the conclusion and the section's findings)."""
    name = _METHOD_NAME.get(e.method, e.method)
    s = (f"{name}: the picture of h keeps a median {_f(e.h_recall)} of each input's k nearest neighbours, the picture of "
         f"x itself {_f(e.x_recall)}, a relative loss of {_pct(e.relative_loss)} over {e.n_cells} cells "
         + (f"({e.n_left_out} left out: a measure undefined for the picture) " if e.n_left_out else "")
         + f"(false-neighbour rate {_f(e.x_fn)} -> {_f(e.h_fn)}; trustworthiness {_f(e.x_trust)} -> {_f(e.h_trust)}).")
    if best_x > 0 and e.x_recall < 0.5 * best_x:
        s += (f" Caution: {name} of x is itself poor (recall {_f(e.x_recall)} against {_f(best_x)} for the best "
              f"method), so {name} hides the damage rather than avoiding it.")
    return s + _m_trend(e)


def conclusion_claims(table: Any, *, figure_ids: set[str] | None = None) -> list[Claim]:
    """The data-point part of the report's conclusion, from the tidy table.

    Parameters
    ----------
    table : pandas.DataFrame
        The run's tidy metrics table.
    figure_ids : set of str, optional
        Figures present in the report; references to others are dropped.

    Returns
    -------
    list of Claim
        Empty when the run has no data-point rows.
    """
    effects = method_effects(table)
    if not effects:
        return []

    def figs(*ids: str) -> list[str]:
        return [i for i in ids if figure_ids is None or i in figure_ids]

    claims = [Claim(summary_sentence(effects), figs(*dict.fromkeys(heatmap_id("knn_recall", e.importance) for e in effects)))]
    for imp in dict.fromkeys(e.importance for e in effects):
        es = [e for e in effects if e.importance == imp]
        best_x = max(e.x_recall for e in es)
        holds = [e for e in es if e.verdict == "holds"]
        fails = [e for e in es if e.verdict == "does not hold"]
        part = [e for e in es if e.verdict == "partly"]
        names = lambda group: ", ".join(_METHOD_NAME.get(e.method, e.method) for e in group)  # noqa: E731
        e0 = es[0]
        head = [f"{variant_label(imp).capitalize()}. Before any picture is drawn, the latent codes h keep a median "
                f"{_f(e0.exact_h_recall)} of each input's k nearest neighbours (k-NN recall of h against x): the latent "
                "space itself distorts the data."]
        if math.isfinite(e0.exact_rep_recall):
            lost = 1.0 - e0.exact_h_recall
            dropped = 1.0 - e0.exact_rep_recall
            head.append(f"x restricted to the features the model represents keeps {_f(e0.exact_rep_recall)}, so of the "
                        f"{_f(lost)} lost, {_f(dropped)} goes with the features the model drops and "
                        f"{_f(e0.exact_rep_recall - e0.exact_h_recall)} with superposition; the pictures below carry both.")
            ring = next((r for r in ring_evidence(table) if r.importance == imp), None)
            if ring is not None and ring.n_all_represented > 0.25 * ring.n_cells:
                head.append(f"(Caveat: the represented rule counts all features, near-zero rows included, in "
                            f"{ring.n_all_represented} of {ring.n_cells} cells here, so this split understates the part of "
                            "the dropped features.)")
        poor = lambda group: [e for e in group if best_x > 0 and e.x_recall < 0.5 * best_x]  # noqa: E731
        if holds:
            head.append(f"The study's conclusion (superposition \"might not be as large a problem for latent space "
                        f"visualization\") holds for {names(holds)}"
                        + (f", but only because {names(poor(holds))} of x is already about as poor" if poor(holds) else "")
                        + ".")
        if part:
            head.append(f"The study's conclusion holds only in part for {names(part)}"
                        + (f" (whose picture of x is itself poor: {names(poor(part))} hides the damage more than it avoids "
                           "it)" if poor(part) else "") + ".")
        if fails:
            head.append(f"It does not hold for {names(fails)}: {'their pictures' if len(fails) > 1 else 'its picture'} of h "
                        f"{'lose' if len(fails) > 1 else 'loses'} more than "
                        f"{_pct(FAILS_ABOVE)} of the neighbourhoods that {'their pictures' if len(fails) > 1 else 'its picture'}"
                        " of x keep" + ("" if len(fails) > 1 else "s") + ".")
        head.append(f"(Rule: holds below a {_pct(HOLDS_BELOW)} relative loss of k-NN recall, does not hold above "
                    f"{_pct(FAILS_ABOVE)}.)")
        claims.append(Claim(" ".join(head), figs(heatmap_id("knn_recall", imp), heatmap_id("false_neighbour_rate", imp))))
        for e in es:
            claims.append(Claim(method_sentence(e, best_x), figs(heatmap_id("knn_recall", imp), grid_id(e.method, imp))))
    for r in ring_evidence(table):
        claims.append(Claim(ring_sentence(r), figs(RING_FIGURE_ID)))
    return claims


def equidistance_level(r: RingEvidence) -> str:
    """'near-equidistant', 'more equidistant than chance' or 'not more equidistant than chance'.

    Near-equidistant: the median spread of the represented rows' pairwise distances is at most half
    that of Gaussian rows of the same size, and at least 75% of the cells are below their Gaussian
    reference.
    """
    if r.cv <= 0.5 * r.cv_gaussian and r.share_below_gaussian >= 0.75:
        return "near-equidistant"
    if r.cv < r.cv_gaussian:
        return "more equidistant than chance"
    return "not more equidistant than chance"


def _range(vals: list[float], fmt=_pct) -> str:
    lo, hi = min(vals), max(vals)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}-{fmt(hi)}"


def summary_sentence(effects: list[MethodEffect]) -> str:
    """One sentence per method over the importance variants: the verdict, the loss, where it is largest."""
    parts = []
    for method in dict.fromkeys(e.method for e in effects):
        es = [e for e in effects if e.method == method]
        verdicts = sorted({e.verdict for e in es})
        rel = [e.relative_loss for e in es]
        lo_m = [e.by_m[min(e.by_m)][1] for e in es if e.by_m]
        hi_m = [e.by_m[max(e.by_m)][1] for e in es if e.by_m]
        name = _METHOD_NAME.get(method, method)
        phrase = {"holds": "holds", "partly": "holds only in part", "does not hold": "does not hold", "n/a": "is untested"}
        text = (f"for {name} the study's conclusion {' / '.join(phrase[v] for v in verdicts)}: its pictures of h lose "
                f"{_range(rel)} of the "
                f"neighbourhoods its pictures of x keep")
        if lo_m and len({min(e.by_m) for e in es}) == 1 and min(es[0].by_m) != max(es[0].by_m):
            text += (f" ({_range(lo_m)} at m = {min(es[0].by_m)}, {_range(hi_m)} at m = {max(es[0].by_m)})")
        parts.append(text)
    return "In short, measured on data points: " + "; ".join(parts) + "."


def ring_sentence(r: RingEvidence) -> str:
    """Why the represented features lie on a ring, measured (one variant)."""
    level = equidistance_level(r)
    ringlike = math.isfinite(r.radial_cv) and r.radial_cv <= r.radial_cv_orthogonal + 0.05
    text = (
        f"Why the ring ({variant_label(r.importance)}): the pairwise distances of the represented feature directions "
        f"have a median coefficient of variation of {_f(r.cv, 3)} over {r.n_cells} cells, against {_f(r.cv_gaussian, 3)} "
        f"for Gaussian rows of the same number and dimension and 0 for diag(N); {_pct(r.share_below_gaussian)} of the "
        f"cells are more equidistant than their Gaussian rows, so the represented features are {level}. "
        f"The radial spread of their MDS picture is {_f(r.radial_cv, 3)} (median; 0 = a ring, 0.354 = a uniform disc), "
        f"against {_f(r.radial_cv_orthogonal, 3)} for the MDS picture of diag(N) of the same sizes. "
    )
    if level == "near-equidistant" and ringlike:
        text += ("The MDS optimum of an equidistant set is a ring or disc (section 1): near-equidistance explains the "
                 "ring.")
    elif level != "not more equidistant than chance":
        text += ("Equidistance explains the ring only in part: "
                 + ("the picture is as ring-like as diag(N)'s, but the represented features are only moderately more "
                    "equidistant than random rows." if ringlike else "the picture is less ring-like than diag(N)'s."))
    else:
        text += "Equidistance does not explain the ring here."
    if r.n_all_represented:
        text += (f" Caveat: in {r.n_all_represented} of the {r.n_cells} cells the represented rule (mean|W_k| above a "
                 "small fraction of the strongest row's) counts every feature as represented, near-zero rows included, "
                 f"which inflates the spread; over the other cells the median CV is {_f(r.cv_selective, 3)} against "
                 f"{_f(r.cv_gaussian_selective, 3)} for Gaussian rows.")
    return text
