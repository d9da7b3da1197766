"""Section D's findings: pictures of data points against the study's conclusion, the loss split, the ring
control and the stars (supviz's own questions are labelled as such).

Pure functions of the run's ``points`` and ``cells`` tables (:mod:`supviz.study.verdicts` has the shared
rules); :mod:`supviz.study.conclusion` reads some of them for the first screen and the conclusion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from supviz.core.text import fixed
from supviz.dr.base import METHOD_NAMES
from supviz.report.records import Finding
from supviz.study.stats import banded_verdict, bootstrap_interval
from supviz.study.verdicts import (
    DISC_MIN,
    RING_MAX,
    RING_MIN_POINTS,
    RULE_TEXT,
    fmt,
    other_rule,
    pct,
    rule_note,
    variant_label,
    variant_slug,
)

#: Relative loss of k-NN recall (picture of h against the picture of x) below which the study's
#: conclusion holds for a method, and above which it does not hold (in between: partly).
HOLDS_BELOW = 0.10
FAILS_ABOVE = 0.30


def loss_verdict(relative_loss: float) -> str:
    """'supported' (holds), 'partly' or 'not supported' for a median relative loss of k-NN recall."""
    if not math.isfinite(relative_loss):
        return "n/a"
    return "supported" if relative_loss < HOLDS_BELOW else "not supported" if relative_loss > FAILS_ABOVE else "partly"


def paired(points: Any, importance: str, method: str, metric: str) -> Any:
    """Per-cell values of ``metric`` of the pictures of x and of h (columns x, h; index m, p), NaN kept."""
    import pandas as pd

    d = points[(points["importance"] == importance) & (points["method"] == method)]
    x = d[d["space"] == "x"].set_index(["m", "p"])[metric]
    h = d[d["space"] == "h"].set_index(["m", "p"])[metric]
    return pd.concat({"x": x, "h": h}, axis=1)


def method_effect(points: Any, importance: str, method: str) -> dict[str, Any]:
    """How the pictures of h keep the inputs' neighbourhoods against the pictures of x, per cell.

    Returns medians over the cells where both recalls are defined (``x``, ``h``), the relative loss
    of the medians, per-m medians of the loss, the count left out, and false neighbours over the cells
    where they are possible at all (``false_neighbour_chance`` > 0: some pairs of inputs share no
    active feature; at p >= 0.3 every pair shares one and the rate is 0 by construction).
    """
    both = paired(points, importance, method, "knn_recall")
    ok = both.dropna()
    out: dict[str, Any] = {"n_cells": len(ok), "n_left_out": len(both) - len(ok)}
    out["x"] = float(ok["x"].median()) if len(ok) else float("nan")
    out["h"] = float(ok["h"].median()) if len(ok) else float("nan")
    out["relative_loss"] = (out["x"] - out["h"]) / out["x"] if out["x"] > 0 else float("nan")
    xs, hs = ok["x"].to_numpy(dtype=float), ok["h"].to_numpy(dtype=float)

    def rel(idx: np.ndarray) -> float:  # the relative loss of the medians over a resample of cells (pairs kept)
        i = idx.astype(int)
        mx = np.median(xs[i])
        return float((mx - np.median(hs[i])) / mx) if mx > 0 else float("nan")

    out["interval"] = bootstrap_interval(np.arange(len(ok), dtype=float), rel)
    out["by_m"] = (
        {
            int(m): (float((g["h"] - g["x"]).median()), float(((g["x"] - g["h"]) / g["x"]).median()))
            for m, g in ok.groupby(level="m")
        }
        if len(ok)
        else {}
    )
    fn = paired(points, importance, method, "false_neighbour_rate")
    if "false_neighbour_chance" in points:
        chance = paired(points, importance, method, "false_neighbour_chance")["x"]
        possible = chance.reindex(fn.index) > 0
        fn = fn[possible.fillna(False).to_numpy()].assign(
            chance=chance.reindex(fn.index)[possible.fillna(False).to_numpy()]
        )
    fn = fn.dropna()
    out["fn_cells"] = len(fn)
    out["fn_x"] = float(fn["x"].median()) if len(fn) else float("nan")
    out["fn_h"] = float(fn["h"].median()) if len(fn) else float("nan")
    out["fn_chance"] = float(fn["chance"].median()) if len(fn) and "chance" in fn else float("nan")
    out["fn_increase_max"] = float((fn["h"] - fn["x"]).max()) if len(fn) else float("nan")
    out["verdict"] = loss_interval_verdict(out["relative_loss"], out["interval"], n=out["n_cells"])
    return out


def loss_interval_verdict(relative_loss: float, interval: tuple[float, float], *, n: int) -> str:
    """:func:`loss_verdict` read with the interval of the relative loss (bootstrap over cells): 'supported' only
    when the whole interval is below :data:`HOLDS_BELOW`, 'not supported' when it is above :data:`FAILS_ABOVE`,
    'partly' when it lies between them; an interval across either threshold, or fewer than
    :data:`~supviz.study.stats.MIN_N` cells, is not enough evidence."""
    return banded_verdict(relative_loss, interval, HOLDS_BELOW, FAILS_ABOVE, n=n)


def data_point_finding(points: Any, importance: str, method: str, *, best_x: float = float("nan")) -> Finding:
    """The grid's data-point verdict for one method and importance variant (independent of the represented rule)."""
    e = method_effect(points, importance, method)
    name = METHOD_NAMES[method]
    lo, hi = e["interval"]
    text = (
        f"The picture of h keeps a median {fmt(e['h'], 2)} of each input's k nearest neighbours, the picture of x "
        f"itself {fmt(e['x'], 2)}: a relative loss of {pct(e['relative_loss'])} (95% interval {pct(lo)} to "
        f"{pct(hi)}, bootstrap over cells) over {e['n_cells']} cells"
        + (f" ({e['n_left_out']} left out: recall undefined)" if e["n_left_out"] else "")
        + "."
    )
    if e["fn_cells"]:
        text += (
            f" False neighbours, in the {e['fn_cells']} cells where they are possible (some pairs of inputs share no "
            f"active feature; chance rate {fmt(e['fn_chance'], 2)}): {fmt(e['fn_x'], 2)} in the picture of x, "
            f"{fmt(e['fn_h'], 2)} in the picture of h (largest increase {fmt(e['fn_increase_max'], 2)})."
        )
    else:
        text += " False neighbours are impossible in every cell here (every pair of inputs shares an active feature)."
    if np.isfinite(best_x) and best_x > 0 and e["x"] < 0.5 * best_x:
        text += (
            f" Caution: {name} of x is itself poor (recall {fmt(e['x'], 2)} against {fmt(best_x, 2)} for the best "
            f"method), so {name} hides the damage rather than avoiding it."
        )
    ms = sorted(e["by_m"])
    if len(ms) >= 2:
        text += (
            f" Median recall loss over p: {fmt(-e['by_m'][ms[0]][0], 2)} at m = {ms[0]}, "
            f"{fmt(-e['by_m'][ms[-1]][0], 2)} at m = {ms[-1]}."
        )
    text += f" (Rule: holds below a {pct(HOLDS_BELOW)} relative loss, does not hold above {pct(FAILS_ABOVE)}.)"
    return Finding(
        "Superposition might not be as large a problem for latent space visualization.",
        text,
        e["verdict"],
        key=f"D-{method}-{importance}",
        method=name,
        importance=importance,
        view="data points",
        n_used=e["n_cells"],
        n_left_out=e["n_left_out"],
        figures=[f"D1_knn_recall_{variant_slug(importance)}", f"D2_{method}_{variant_slug(importance)}"],
        summary=f"picture of h loses {pct(e['relative_loss'])} [{pct(lo)}, {pct(hi)}]",
        estimate=e["relative_loss"],
        interval=e["interval"],
        unit="cells",
        null=0.0,
        threshold=HOLDS_BELOW,
        comparison=f"relative loss of median k-NN recall, picture of h against the same method's picture of x; holds "
        f"below {pct(HOLDS_BELOW)}, fails above {pct(FAILS_ABOVE)}",
    )


#: ||W||_F^2 / m above which a cell's W stores features in superposition (an orthogonal projection, plain linear
#: compression, has 1; trained cells without superposition stay within a few percent of it).
SUPERPOSED_ABOVE = 1.1


def loss_split(cells: Any, importance: str, *, rule: str = "norm") -> dict[str, Any]:
    """The loss of k-NN recall of the code space h, split per cell, then summarised.

    Per cell (columns of the ``cells`` table): ``total = h_recall - 1`` (x against itself keeps every
    neighbour), ``dropped = x_rep_recall_<rule> - 1`` (x restricted to the represented features), and the
    rest ``h_recall - x_rep_recall_<rule>``, booked as *superposition* only where W has it
    (``features_per_dim`` > :data:`SUPERPOSED_ABOVE`, measured from W) and as *compression* (linear, no
    superposition: W an orthogonal projection) elsewhere; the parts add up to the total in every cell, and
    so do their means (medians would not). Without ``features_per_dim`` every cell counts as superposed.
    Cells without an ``x_rep`` recall (no represented feature) are left out and counted.
    """
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    col = f"x_rep_recall_{rule}"
    if col not in g or "h_recall" not in g:
        return {"n_cells": 0, "n_left_out": len(g)}
    h = g["h_recall"].to_numpy(dtype=float)
    xr = g[col].to_numpy(dtype=float)
    ok = np.isfinite(h) & np.isfinite(xr)
    fpd = g["features_per_dim"].to_numpy(dtype=float) if "features_per_dim" in g else np.full(len(g), np.inf)
    superposed = (fpd > SUPERPOSED_ABOVE)[ok]
    total, dropped, rest = h[ok] - 1.0, xr[ok] - 1.0, h[ok] - xr[ok]
    sup = np.where(superposed, rest, 0.0)
    comp = np.where(superposed, 0.0, rest)
    any_ = bool(ok.any())
    return {
        "n_cells": int(ok.sum()),
        "n_left_out": int((~ok).sum()),
        "n_superposed": int(superposed.sum()),
        "total": total,
        "dropped": dropped,
        "superposition": sup,
        "compression": comp,
        "mean_total": float(total.mean()) if any_ else float("nan"),
        "mean_dropped": float(dropped.mean()) if any_ else float("nan"),
        "mean_superposition": float(sup.mean()) if any_ else float("nan"),
        "mean_compression": float(comp.mean()) if any_ else float("nan"),
        "median_dropped": float(np.median(dropped)) if any_ else float("nan"),
        "median_superposition": float(np.median(sup)) if any_ else float("nan"),
        "share_superposition": float(sup.sum() / total.sum()) if any_ and total.sum() != 0 else float("nan"),
        "share_dropped": float(dropped.sum() / total.sum()) if any_ and total.sum() != 0 else float("nan"),
    }


def loss_split_sentence(cells: Any, importance: str, *, rule: str = "norm") -> str:
    """The split in words, with the other rule beside it."""
    s = loss_split(cells, importance, rule=rule)
    o = loss_split(cells, importance, rule=other_rule(rule))
    if not s.get("n_cells"):
        return ""
    text = (
        f"{variant_label(importance).capitalize()}: the code space h keeps on average {fixed(1 + s['mean_total'])} of "
        f"each input's k nearest neighbours (a loss of {fixed(-s['mean_total'])}). Split cell by cell with "
        f"{RULE_TEXT[rule]}: {fixed(-s['mean_dropped'])} ({pct(s['share_dropped'])} of the loss) goes with the "
        f"features the model drops, {fixed(-s['mean_superposition'])} ({pct(s['share_superposition'])}) with "
        f"superposition among the features it keeps, in the {s['n_superposed']} cells whose W stores more features "
        f"than dimensions (||W||_F² / m > {SUPERPOSED_ABOVE:g}), and {fixed(-s['mean_compression'])} with plain linear "
        f"compression in the other {s['n_cells'] - s['n_superposed']} (W near an orthogonal projection: no "
        f"superposition); means over {s['n_cells']} cells, which add up as the parts do in every cell"
        + (
            f"; {s['n_left_out']} cell{'s' if s['n_left_out'] != 1 else ''} without a represented feature left out"
            if s["n_left_out"]
            else ""
        )
        + "."
    )
    if o.get("n_cells"):
        text += (
            f" With {RULE_TEXT[other_rule(rule)]}: {fixed(-o['mean_dropped'])} dropped, "
            f"{fixed(-o['mean_superposition'])} superposition, {fixed(-o['mean_compression'])} compression."
        )
    return text


# --------------------------------------------------------------------------------- ring control

RING_CONDITIONS = (
    "trained_cluster",
    "trained_alone",
    "random_cluster",
    "random_alone",
    "orthogonal_cluster",
    "orthogonal_alone",
)


def ring_control_summary(cells: Any, importance: str, *, rule: str = "norm") -> dict[str, Any]:
    """Medians of the ring control's radius CVs over the cells with at least :data:`RING_MIN_POINTS`
    represented features and some dropped ones, and the explanation they support.

    ``explanation``: ``"origin cluster"`` when every kind of represented rows is a ring with the
    cluster (median CV < :data:`RING_MAX`) and none is without it (> :data:`DISC_MIN`);
    ``"near-equidistance"`` when the trained rows are a ring without the cluster and random
    directions of the same norms are not; ``"undecided"`` otherwise.
    """
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    n_col = f"n_represented_{rule}"
    cols = [f"ring_{c}_{rule}" for c in RING_CONDITIONS]
    if n_col not in g or any(c not in g for c in cols):
        return {"n_cells": 0, "n_left_out": len(g), "explanation": "n/a"}
    use = g[(g[n_col] >= RING_MIN_POINTS) & np.isfinite(g[f"ring_trained_cluster_{rule}"])]
    med = {c: float(use[f"ring_{c}_{rule}"].median()) if len(use) else float("nan") for c in RING_CONDITIONS}
    out: dict[str, Any] = {"n_cells": len(use), "n_left_out": len(g) - len(use), "median": med}
    kinds = ("trained", "random", "orthogonal")
    if not len(use):
        out["explanation"] = "n/a"
    elif all(med[f"{k}_cluster"] < RING_MAX for k in kinds) and all(med[f"{k}_alone"] > DISC_MIN for k in kinds):
        out["explanation"] = "origin cluster"
    elif med["trained_alone"] < RING_MAX and med["random_alone"] > DISC_MIN:
        out["explanation"] = "near-equidistance"
    else:
        out["explanation"] = "undecided"
    return out


def ring_finding(cells: Any, importance: str, *, rule: str = "norm") -> Finding:
    """Why the represented features lie on a ring: near-equidistance or the cluster at the origin."""
    s = ring_control_summary(cells, importance, rule=rule)
    o = ring_control_summary(cells, importance, rule=other_rule(rule))
    # the study's own conjecture: the ring emerges only because of the points at the origin
    said = {"origin cluster": "supported", "near-equidistance": "not supported", "undecided": "partly"}
    verdict = said.get(s["explanation"], "n/a")
    vo = said.get(o["explanation"], "n/a")
    if s["n_cells"]:
        m = s["median"]
        text = (
            f"Ring control over {s['n_cells']} cells ({RULE_TEXT[rule]}; at least {RING_MIN_POINTS} represented and "
            f"some dropped features; {s['n_left_out']} others left out), median radius CV of the represented points "
            f"(0 = a ring, 0.354 = a uniform disc) in interval MDS: trained rows {fmt(m['trained_cluster'], 2)} with "
            f"the cluster of dropped features at the origin and {fmt(m['trained_alone'], 2)} without it; random "
            f"directions of the same norms {fmt(m['random_cluster'], 2)} and {fmt(m['random_alone'], 2)}; diag(N), "
            f"exactly equidistant, {fmt(m['orthogonal_cluster'], 2)} and {fmt(m['orthogonal_alone'], 2)}. "
            + {
                "origin cluster": "Every kind of rows is a ring with the cluster and a disc without it, equidistant or "
                "not: the cluster at the origin makes the ring, not near-equidistance.",
                "near-equidistance": "The trained rows are a ring even without the cluster and random directions are "
                "not: near-equidistance makes the ring.",
                "undecided": "The numbers do not separate the two explanations.",
            }[s["explanation"]]
        )
    else:
        text = "No cell has enough represented and dropped features for the control."
    return Finding(
        "The circular geometry of the represented features emerges only because of the presence of all the points "
        "at the origin (the study's conjecture, left untested there).",
        text + rule_note(verdict, vo, rule),
        verdict,
        key=f"D-ring-{importance}",
        method="MDS",
        importance=importance,
        verdict_other_rule=vo,
        n_used=s["n_cells"],
        n_left_out=s.get("n_left_out", 0),
        figures=["D4_ring_control"],
        unit="cells",
        comparison="median radius CV of the represented points with and without the origin cluster, for trained, "
        f"random and orthogonal rows: a ring (< {RING_MAX:g}) with it and a disc (> {DISC_MIN:g}) without it for all "
        "three = the cluster makes the ring",
        estimate=s["median"]["trained_alone"] if s["n_cells"] else None,
        null=s["median"]["random_alone"] if s["n_cells"] else None,
        threshold=DISC_MIN,
    )


# ------------------------------------------------------------------------------------ stars

STAR_MAX_M = 5
STAR_MAX_P = 0.2


def star_summary(cells: Any, importance: str) -> dict[str, Any]:
    """The star pattern of MDS pictures of h: low m and sparse p (m <= :data:`STAR_MAX_M`, p <=
    :data:`STAR_MAX_P`) against the other cells. Medians of ``ray_share_h`` (points within 5 degrees
    of a represented feature's ray in h), ``one_active_rep`` (inputs with exactly one represented
    feature active), ``spoke_share`` / ``spoke_chance`` (in the 2-D picture, and for random angles)."""
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    if "ray_share_h" not in g:
        return {"n_star": 0}
    star = (g["m"] <= STAR_MAX_M) & (g["p"] <= STAR_MAX_P)
    out: dict[str, Any] = {"n_star": int(star.sum()), "n_other": int((~star).sum())}
    for name, part in (("star", g[star]), ("other", g[~star])):
        for col in ("ray_share_h", "one_active_rep", "spoke_share", "spoke_chance", "spoke_share_x", "spoke_chance_x"):
            v = part[col].to_numpy(dtype=float) if col in part else np.array([])
            out[f"{name}_{col}"] = float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")
    return out


def star_finding(cells: Any, importance: str) -> Finding:
    """Not a claim of the study: MDS pictures of data points at low m and sparse p are stars."""
    s = star_summary(cells, importance)
    if not s.get("n_star"):
        return Finding(
            "MDS pictures of data points at low m and sparse p show star / spoke patterns (not in the study).",
            "No cell at low m and sparse p in this run.",
            "n/a",
            key=f"D-star-{importance}",
            method="MDS",
            importance=importance,
        )
    excess = s["star_spoke_share"] - s["star_spoke_chance"]
    verdict = (
        "supported"
        if s["star_ray_share_h"] > 2 * max(s["other_ray_share_h"], 0.05) and excess > 0.05
        else ("partly" if s["star_ray_share_h"] > s["other_ray_share_h"] else "not supported")
    )
    text = (
        f"In the {s['n_star']} cells with m <= {STAR_MAX_M} and p <= {STAR_MAX_P:g}, a median "
        f"{pct(s['star_ray_share_h'])} of the data points lie within 5° of a single represented feature's ray in h "
        f"(against {pct(s['other_ray_share_h'])} in the other {s['n_other']} cells): the inputs with exactly one "
        f"represented feature active ({pct(s['star_one_active_rep'])}; their dropped features map to nearly 0). In the "
        f"MDS picture of h, {pct(s['star_spoke_share'])} of the points lie within 5° of a feature's spoke where points "
        f"at random angles would give {pct(s['star_spoke_chance'])}; in the picture of x, "
        f"{pct(s['star_spoke_share_x'])} against {pct(s['star_spoke_chance_x'])}. The spokes are the few represented "
        "features' rays: a visible signature of superposition (many features sharing few dimensions) that the study's "
        "pictures of W cannot show."
    )
    return Finding(
        "MDS pictures of data points at low m and sparse p show star / spoke patterns (not in the study).",
        text,
        verdict,
        key=f"D-star-{importance}",
        method="MDS",
        importance=importance,
        n_used=s["n_star"],
        figures=[f"D2_mds_{variant_slug(importance)}"],
        unit="cells",
        estimate=s["star_spoke_share"],
        null=s["star_spoke_chance"],
        comparison="median share of points on a spoke in the MDS picture of h against points at random angles "
        "(the chance level), and the share on a feature's ray in h against the other cells",
    )


def headline_curves(
    points: Any, importance: str, methods: Sequence[str] = ("mds", "umap", "tsne")
) -> list[dict[str, Any]]:
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
        out.append(
            {
                "method": METHOD_NAMES[method],
                "m": ms,
                "x": [float(x.xs(m, level="m").median()) for m in ms],
                "h": [float(h.xs(m, level="m").median()) for m in ms],
                "exact": [float(exact.get(m, np.nan)) for m in ms],
            }
        )
    return out
