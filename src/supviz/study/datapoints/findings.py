"""Section D's findings: pictures of data points against the study's conclusion, the loss split, the ring
control and the stars (supviz's own questions are labelled as such).

Pure functions of the run's ``points`` and ``cells`` tables (:mod:`supviz.study.verdicts` has the shared
rules, :mod:`supviz.study.stats` the intervals and verdict rules); :mod:`supviz.study.conclusion` reads some
of them for the first screen and the conclusion. How every recall verdict here is read:

- against its chance level: a random picture keeps ``k / (N - 1)`` of each point's k nearest neighbours
  (:func:`supviz.metrics.neighbors.knn_recall_chance`), so recalls are compared chance-corrected,
  ``(R - c) / (1 - c)`` (the kappa-style correction; Cohen 1960);
- within m (direct standardisation): the relative loss per hidden size m, then their mean, never a pooled
  median over cells, whose answer can follow whichever m has the most spread;
- over the right unit: cells of one p share their sample of inputs and the picture of x, so intervals resample
  p values as clusters (the cluster bootstrap; Davison & Hinkley 1997, section 3.8), and ``n`` counts p values;
- where the claim is: the study's conclusion is tested by h against x restricted to the represented features
  (x_rep) in the cells whose W stores features in superposition (:func:`claim_finding`); h against x is
  supviz's own question (:func:`data_point_finding`), mostly about the features the model drops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from supviz.core.text import fixed, pcts_adding_up
from supviz.dr.base import METHOD_NAMES
from supviz.report.records import OTHER_RULE_NOT_COMPUTED, Finding
from supviz.report.words import space_words
from supviz.study.sources import OWN, source_for
from supviz.study.stats import (
    NOT_ENOUGH,
    banded_verdict,
    bootstrap_interval,
    cluster_jackknife,
    cluster_jackknife_interval,
    interval_verdict,
)
from supviz.study.verdicts import (
    DISC_MIN,
    RING_MAX,
    RING_MIN_POINTS,
    RULE_SHORT,
    RULE_TEXT,
    fmt,
    other_rule,
    pct,
    rule_note,
    variant_label,
    variant_slug,
)

#: Relative loss of chance-corrected k-NN recall (h against its reference) below which the study's conclusion
#: holds, and above which it does not hold (in between: partly). supviz's choice: the study names no number, and no
#: published standard exists for "not a large problem"; every verdict therefore states where its interval lies
#: against other bands too (:data:`SENSITIVITY_BANDS`, :func:`band_sensitivity`).
HOLDS_BELOW = 0.10
FAILS_ABOVE = 0.30
#: The thresholds every loss verdict is also read against, so a reader sees how much the verdict owes to the bands.
SENSITIVITY_BANDS = (0.05, 0.10, 0.20, 0.30, 0.50)
#: A reference picture whose chance-corrected recall (mean over m) is below this keeps under a tenth of the
#: neighbours a perfect picture keeps beyond chance: nearly uninformative about neighbours, so a relative loss against
#: it is a fraction of very little (supviz's choice, stated beside it).
NEAR_CHANCE_CC = 0.10
#: The seed's words that the data-point verdict on h against x_rep answers (its conclusion).
STUDY_CLAIM = "Superposition might not be as large a problem for latent space visualization."
#: The resampling unit of every recall verdict of this section (see :func:`stratified_relative_loss`).
P_UNIT = "p values"


def loss_verdict(relative_loss: float) -> str:
    """'supported' (holds), 'partly' or 'not supported' for a relative loss of k-NN recall, without its interval
    (the report's verdicts use :func:`loss_interval_verdict`)."""
    if not math.isfinite(relative_loss):
        return "n/a"
    return "supported" if relative_loss < HOLDS_BELOW else "not supported" if relative_loss > FAILS_ABOVE else "partly"


def band_sensitivity(interval: tuple[float, float], bands: Sequence[float] = SENSITIVITY_BANDS) -> str:
    """Where an interval of a relative loss lies against each threshold of ``bands``, in words: "clearly below 20%,
    30%, 50%; clearly above 5%; undecided at 10%" (a threshold inside the interval is undecided). What the verdict
    would be under other bands than supviz's :data:`HOLDS_BELOW` / :data:`FAILS_ABOVE`; '' for an undefined
    interval."""
    lo, hi = interval
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    below = [b for b in bands if hi < b]
    above = [b for b in bands if lo > b]
    open_ = [b for b in bands if b not in below and b not in above]
    parts = []
    if below:
        parts.append("clearly below " + ", ".join(pct(b) for b in below))
    if above:
        parts.append("clearly above " + ", ".join(pct(b) for b in above))
    if open_:
        parts.append("undecided at " + ", ".join(pct(b) for b in open_))
    return "; ".join(parts)


def _bands_text(interval: tuple[float, float]) -> str:
    """The rule and its sensitivity, for the findings' text."""
    sens = band_sensitivity(interval)
    return (
        f" (Rule: holds below a {pct(HOLDS_BELOW)} loss, does not hold above {pct(FAILS_ABOVE)}: bands of supviz's "
        "choice, the study names no number"
        + (f"; against other bands, the loss's interval is {sens}" if sens else "")
        + ".)"
    )


def _absolute_text(e: dict[str, Any], ref: str, h: str) -> str:
    """The absolute recall above chance beside the ratio: what the ratio is a fraction of."""
    lo, hi = e["abs_interval"]
    text = (
        f" In recall above chance (R − c, mean over m): {ref} {fmt(e['ref_above'], 2)}, {h} "
        f"{fmt(e['h_above'], 2)}, an absolute loss of {fmt(e['abs_loss'], 2)} (95% interval {fmt(lo, 2)} to "
        f"{fmt(hi, 2)}, same jackknife; null 0), so the relative loss is a share of {fmt(e['ref_above'], 2)}."
    )
    if math.isfinite(e["ref_cc"]) and e["ref_cc"] < NEAR_CHANCE_CC:
        text += (
            f" The reference ({ref}) is itself near chance (it keeps {pct(e['ref_cc'])} of the neighbours a "
            f"perfect picture keeps beyond chance, under supviz's own floor of {pct(NEAR_CHANCE_CC)}, the study names "
            "none: nearly uninformative about neighbours), so the ratio rests on a near-chance denominator: a small "
            "relative loss here is a loss of very little."
        )
    return text


def chance_corrected(recall: Any, chance: Any) -> np.ndarray:
    """``(R - c) / (1 - c)``: a recall ``R`` read against its chance level ``c`` (0 = what a random picture keeps,
    1 = every neighbour kept; negative below chance). NaN where ``c`` is NaN or 1."""
    r, c = np.asarray(recall, dtype=float), np.asarray(chance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c < 1, (r - c) / (1 - c), np.nan)


def stratified_relative_loss(ref: Any, h: Any, chance: Any, m: Any, p: Any) -> dict[str, Any]:
    """The relative loss of chance-corrected recall of h against a reference space, within m, and its interval.

    Parameters
    ----------
    ref, h, chance, m, p : array ``[n_cells]``
        Per cell: the reference's recall (the picture of x, or x restricted to the represented features), h's
        recall, their chance level ``k / (N - 1)`` (:func:`supviz.metrics.neighbors.knn_recall_chance`), the
        hidden size and the feature probability. Cells with a NaN are left out.

    Returns
    -------
    dict
        ``estimate``: the mean over m of ``L_m = (mean ref' - mean h') / mean ref'`` (ratio of the means over
        that m's cells of the chance-corrected recalls ``r' = (r - c) / (1 - c)``; NaN for an m whose reference
        keeps nothing above chance). Each m weighs the same (direct standardisation): a pooled median over all
        cells lets the m with the most spread decide, and can give the opposite answer. ``interval``: 95%
        delete-one-cluster jackknife with Student's t (:func:`supviz.study.stats.cluster_jackknife_interval`), the
        *p values* as clusters (every cell of one p shares its sample of inputs and its picture of x, so cells are
        not independent; 5 or 6 clusters, too few for a percentile bootstrap), each cluster keeping all m of a p.
        ``n_clusters`` (p values), ``n_cells``, ``n_left_out``, ``per_m`` (m -> n, raw means ``ref`` / ``h``,
        chance-corrected means ``ref_cc`` / ``h_cc``, ``loss``, median chance level ``chance``), ``chance`` (median
        c), ``cell_loss`` (per-cell relative loss, for its range). Beside the ratio, what it is a ratio of:
        ``ref_above`` / ``h_above`` (mean over m of the mean raw recall above chance, ``R - c``), ``abs_loss``
        (their difference, in recall) with its ``abs_interval`` (the same jackknife), and ``ref_cc`` (mean over
        m of the reference's chance-corrected recall: near 0, the reference itself keeps little beyond chance).
    """
    ref, h, c = (np.asarray(a, dtype=float) for a in (ref, h, chance))
    m, p = np.asarray(m), np.asarray(p, dtype=float)
    rc, hc = chance_corrected(ref, c), chance_corrected(h, c)
    ok = np.isfinite(rc) & np.isfinite(hc)
    ms = sorted({int(v) for v in m[ok]})
    ps = sorted({float(v) for v in p[ok]})
    R = np.full((len(ps), len(ms)), np.nan)  # (p, m): chance-corrected recall of the reference
    H = np.full((len(ps), len(ms)), np.nan)
    R0, H0 = R.copy(), H.copy()  # raw recalls, for the per-m table
    C0 = R.copy()  # chance levels
    for i in np.flatnonzero(ok):
        a, b = ps.index(float(p[i])), ms.index(int(m[i]))
        R[a, b], H[a, b], R0[a, b], H0[a, b], C0[a, b] = rc[i], hc[i], ref[i], h[i], c[i]

    def above(idx: np.ndarray) -> tuple[float, float]:  # mean over m of the mean recall above chance, ref and h
        A, B, Cc = R0[idx], H0[idx], C0[idx]
        both = np.isfinite(A) & np.isfinite(B)
        n_m = both.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ra = np.where(both, A - Cc, 0.0).sum(axis=0) / n_m
            ha = np.where(both, B - Cc, 0.0).sum(axis=0) / n_m
        keep = n_m > 0
        if not keep.any():
            return float("nan"), float("nan")
        return float(np.mean(ra[keep])), float(np.mean(ha[keep]))

    def abs_stat(idx: np.ndarray) -> float:
        ra, ha = above(np.asarray(idx, dtype=int))
        return ra - ha

    def by_m(idx: np.ndarray) -> np.ndarray:  # (m,): L_m over the p clusters drawn
        A, B = R[idx], H[idx]
        both = np.isfinite(A) & np.isfinite(B)
        sa, sb = np.where(both, A, 0.0).sum(axis=0), np.where(both, B, 0.0).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((both.sum(axis=0) > 0) & (sa > 0), (sa - sb) / sa, np.nan)

    def stat(idx: np.ndarray) -> float:
        v = by_m(idx.astype(int))
        return float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")

    every = np.arange(len(ps))
    loss_m = by_m(every) if ps else np.array([])
    per_m = {
        mm: {
            "n": int(np.isfinite(R[:, j]).sum()),
            "ref": float(np.nanmean(R0[:, j])),
            "h": float(np.nanmean(H0[:, j])),
            "ref_cc": float(np.nanmean(R[:, j])),
            "h_cc": float(np.nanmean(H[:, j])),
            "loss": float(loss_m[j]),
            "chance": float(np.nanmedian(C0[:, j])),
        }
        for j, mm in enumerate(ms)
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_loss = np.where(rc[ok] > 0, (rc[ok] - hc[ok]) / rc[ok], np.nan)
    ref_above, h_above = above(every) if ps else (math.nan, math.nan)
    ref_cc = [v["ref_cc"] for v in per_m.values() if math.isfinite(v["ref_cc"])]
    return {
        "estimate": stat(every) if ps else float("nan"),
        "interval": cluster_jackknife_interval(len(ps), stat) if len(ps) else (math.nan, math.nan),
        "ref_above": ref_above,
        "h_above": h_above,
        "abs_loss": ref_above - h_above,
        "abs_interval": cluster_jackknife_interval(len(ps), abs_stat) if ps else (math.nan, math.nan),
        "ref_cc": float(np.mean(ref_cc)) if ref_cc else math.nan,
        "n_clusters": len(ps),
        "n_cells": int(ok.sum()),
        "n_left_out": int((~ok).sum()),
        "per_m": per_m,
        "chance": float(np.median(c[ok])) if ok.any() else float("nan"),
        "cell_loss": cell_loss,
    }


def _chance_of(table: Any) -> np.ndarray:
    """``k / (N - 1)`` per row of a ``points`` table (NaN without its ``k`` / ``n_points`` columns)."""
    from supviz.metrics.neighbors import knn_recall_chance

    if "k" not in table or "n_points" not in table:
        return np.full(len(table), np.nan)
    return np.array(
        [
            knn_recall_chance(int(n), int(k)) if np.isfinite(float(n)) and np.isfinite(float(k)) else np.nan
            for n, k in zip(table["n_points"].astype(float), table["k"].astype(float))
        ]
    )


def paired(
    points: Any,
    importance: str,
    method: str,
    metric: str,
    *,
    ref: str = "x",
    space: str = "h",
    rule: str | None = None,
) -> Any:
    """Per-cell values of ``metric`` of the spaces ``ref`` and ``space`` (h, or h_rep) by ``method`` (columns
    ``ref``, ``h``; index m, p; NaN kept), and ``chance``: the k-NN recall chance level ``k / (N - 1)`` of the
    ``space`` row. ``rule``: only the rows of that represented rule or of none (``rule`` column ""), for x_rep and
    h_rep, whose rows a table may hold under both rules; a table without the column is read whole."""
    import pandas as pd

    d = points[(points["importance"] == importance) & (points["method"] == method)]
    if rule is not None and "rule" in d:
        d = d[(d["rule"] == "") | (d["rule"] == rule)]
    hd = d[d["space"] == space].set_index(["m", "p"])
    r = d[d["space"] == ref].set_index(["m", "p"])[metric]
    out = pd.concat({ref: r, "h": hd[metric]}, axis=1)
    out["chance"] = pd.Series(_chance_of(hd), index=hd.index).reindex(out.index)
    return out


def recall_column(points: Any) -> str:
    """The k-NN recall a picture verdict reads: the mean over the picture's runs (``knn_recall_seed_mean``) where
    the table has it, else the single run's ``knn_recall``."""
    col = "knn_recall_seed_mean"
    return col if col in points and np.isfinite(points[col].to_numpy(dtype=float)).any() else "knn_recall"


def seed_note(points: Any, importance: str, method: str) -> tuple[int, float, str]:
    """How many runs each picture of ``method`` had, the median standard deviation of h's recall between them, and
    the sentence that says so."""
    d = points[(points["importance"] == importance) & (points["method"] == method) & (points["space"] == "h")]
    runs = int(d["picture_seeds"].max()) if "picture_seeds" in d and d["picture_seeds"].notna().any() else 1
    sd = d["knn_recall_seed_sd"].to_numpy(dtype=float) if "knn_recall_seed_sd" in d else np.array([])
    sd_med = float(np.median(sd[np.isfinite(sd)])) if np.isfinite(sd).any() else float("nan")
    if runs > 1:
        text = (
            f" Each picture was run {runs} times (independent seeds): recalls are the mean over the runs, whose spread "
            f"(standard deviation of h's recall) has a median {fmt(sd_med, 2)} per cell."
        )
    else:
        text = (
            " Each picture is one optimisation run; its run-to-run noise is inside the p-value bootstrap "
            "(more runs per picture can be set: see the appendix's settings)."
        )
    return runs, sd_med, text


def _effect(frame: Any, ref: str) -> dict[str, Any]:
    """:func:`stratified_relative_loss` of a :func:`paired` frame, and the raw medians of its defined cells."""
    idx = frame.index
    s = stratified_relative_loss(
        frame[ref], frame["h"], frame["chance"], idx.get_level_values("m"), idx.get_level_values("p")
    )
    ok = frame[[ref, "h", "chance"]].dropna()
    s["ref"] = float(ok[ref].median()) if len(ok) else float("nan")
    s["h"] = float(ok["h"].median()) if len(ok) else float("nan")
    s["verdict"] = loss_interval_verdict(s["estimate"], s["interval"], n=s["n_clusters"])
    return s


def method_effect(points: Any, importance: str, method: str) -> dict[str, Any]:
    """How the pictures of h keep the inputs' neighbourhoods against the same method's pictures of x.

    The chance-corrected, within-m relative loss of :func:`stratified_relative_loss` (``relative_loss``,
    ``interval`` over p values, ``per_m``, ``chance``), the raw medians ``x`` and ``h`` over the cells where both
    recalls are defined, the count left out, and false neighbours over the cells where they are possible at all
    (``false_neighbour_chance`` > 0: some pairs of inputs share no active feature; at p >= 0.3 every pair shares
    one and the rate is 0 by construction).
    """
    both = paired(points, importance, method, recall_column(points))
    s = _effect(both, "x")
    s["picture_seeds"], s["seed_sd"], s["seed_text"] = seed_note(points, importance, method)
    out: dict[str, Any] = dict(s)
    out.update(x=s["ref"], relative_loss=s["estimate"])
    fn = paired(points, importance, method, "false_neighbour_rate").drop(columns="chance")
    if "false_neighbour_chance" in points:
        chance = paired(points, importance, method, "false_neighbour_chance")["x"]
        possible = (chance.reindex(fn.index) > 0).fillna(False).to_numpy()
        fn = fn[possible].assign(chance=chance.reindex(fn.index)[possible])
    fn = fn.dropna()
    out["fn_cells"] = len(fn)
    out["fn_x"] = float(fn["x"].median()) if len(fn) else float("nan")
    out["fn_h"] = float(fn["h"].median()) if len(fn) else float("nan")
    out["fn_chance"] = float(fn["chance"].median()) if len(fn) and "chance" in fn else float("nan")
    out["fn_increase_max"] = float((fn["h"] - fn["x"]).max()) if len(fn) else float("nan")
    return out


def loss_interval_verdict(relative_loss: float, interval: tuple[float, float], *, n: int) -> str:
    """:func:`loss_verdict` read with the interval of the relative loss: 'supported' only when the whole interval is
    below :data:`HOLDS_BELOW`, 'not supported' when it is above :data:`FAILS_ABOVE`, 'partly' when it lies between
    them; an interval across either threshold, or fewer than :data:`~supviz.study.stats.MIN_N` resampling units, is
    not enough evidence (:func:`supviz.study.stats.banded_verdict`)."""
    return banded_verdict(relative_loss, interval, HOLDS_BELOW, FAILS_ABOVE, n=n)


def per_m_text(per_m: dict[int, dict[str, float]], ref: str, space: str = "h") -> str:
    """The within-m numbers in words: per m, raw mean recalls of ``ref`` and ``space`` (the reader's short names of
    the two) and the chance-corrected loss."""
    return "; ".join(
        f"m = {m}: {ref} {fmt(v['ref'], 2)}, {space} {fmt(v['h'], 2)}, loss {pct(v['loss'])}"
        for m, v in sorted(per_m.items())
    )


def _abs_comparison(e: dict[str, Any]) -> str:
    """The absolute numbers for a verdict's comparison: recall above chance of both, their difference with its
    interval and null, and where the ratio's interval lies against other bands."""
    lo, hi = e["abs_interval"]
    sens = band_sensitivity(e["interval"])
    return (
        f"in recall above chance (R − c, mean over m): reference {fmt(e['ref_above'], 2)}, h {fmt(e['h_above'], 2)}, "
        f"absolute loss {fmt(e['abs_loss'], 2)} [95% interval {fmt(lo, 2)}, {fmt(hi, 2)}] (null 0)"
        + (f"; the relative loss against other bands: {sens}" if sens else "")
    )


def _unit_text(n_clusters: int, n_cells: int) -> str:
    return (
        f"{n_clusters} p values as clusters, delete-one jackknife with Student's t ({n_cells} cells; all m of a p "
        "left out together: they share one sample of inputs)"
    )


def data_point_finding(points: Any, importance: str, method: str, *, best_x: float = float("nan")) -> Finding:
    """supviz's own question, per method: do pictures of h keep the neighbours that the same method's picture of x
    keeps? (The study's claim is :func:`claim_finding`: h against x_rep, where superposition is.)"""
    e = method_effect(points, importance, method)
    name = METHOD_NAMES[method]
    lo, hi = e["interval"]
    text = (
        f"The picture of h keeps a median {fmt(e['h'], 2)} of each input's k nearest neighbours, the picture of x "
        f"itself {fmt(e['x'], 2)}; a random picture keeps {fmt(e['chance'], 2)} (k / (N - 1)). Read against that "
        f"chance level ((R - c) / (1 - c)) and within each m, the picture of h loses {pct(e['relative_loss'])} of what "
        f"the picture of x keeps (mean over m; 95% interval {pct(lo)} to {pct(hi)} over "
        f"{_unit_text(e['n_clusters'], e['n_cells'])})"
        + (f"; {e['n_left_out']} cells left out: recall undefined" if e["n_left_out"] else "")
        + f". Per m: {per_m_text(e['per_m'], 'x')}."
        + e["seed_text"]
    )
    cl = e["cell_loss"][np.isfinite(e["cell_loss"])]
    if cl.size:
        text += f" Cell by cell the loss runs {pct(cl.min())} to {pct(cl.max())}."
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
    text += _absolute_text(e, f"{name}'s picture of x", "the picture of h")
    text += (
        " How much of this loss is the features the model drops rather than superposition: the section's loss split "
        f"and the verdict on {space_words('h_rep')} against {space_words('x_rep')}." + _bands_text(e["interval"])
    )
    return Finding(
        "Pictures of the latent codes h keep the neighbours that the same method's picture of the inputs x keeps "
        "(supviz's own question).",
        text,
        e["verdict"],
        key=f"D-{method}-{importance}",
        method=name,
        importance=importance,
        n_used=e["n_clusters"],
        n_left_out=e["n_left_out"],
        left_out_unit="cells",  # n_used counts p values (the interval's clusters); what is left out is cells
        figures=[f"D1_knn_recall_{variant_slug(importance)}", f"D2_{method}_{variant_slug(importance)}"],
        summary=f"h's picture loses {pct(e['relative_loss'])} [{pct(lo)}, {pct(hi)}] of x's neighbours "
        f"({fmt(e['abs_loss'], 2)} of {fmt(e['ref_above'], 2)} above chance)",
        estimate=e["relative_loss"],
        interval=e["interval"],
        unit=P_UNIT,
        null=1.0,  # the loss of a picture of h at chance level: it keeps nothing above chance
        threshold=HOLDS_BELOW,
        comparison=f"relative loss of chance-corrected k-NN recall (chance {fmt(e['chance'], 2)}), picture of h "
        f"against the same method's picture of x, within m, mean over m; holds below {pct(HOLDS_BELOW)}, fails "
        f"above {pct(FAILS_ABOVE)} (supviz's bands); a picture of h at chance loses 100%; beside it, "
        + _abs_comparison(e),
        source=OWN,
    )


def claim_effect(points: Any, cells: Any, importance: str, *, method: str = "exact", rule: str = "norm") -> dict:
    """The study's claim measured where superposition is: the codes of the represented features (h_rep: x restricted
    to them, through W's represented rows) against x restricted to the same features (x_rep). Both spaces hold the
    same inputs' information, so their difference is superposition among the kept features alone (h itself also
    carries what the short rows of the other features keep, which is not superposition and breaks x_rep's ties).

    ``method="exact"``: the code space h_rep against x_rep (``h_rep_recall_<rule>``, ``x_rep_recall_<rule>`` of
    ``cells``), before any picture; a picture method: its picture of h_rep against its picture of x_rep
    (``points`` rows of spaces ``h_rep`` and ``x_rep`` with ``rule`` = ``rule``, present when
    ``datapoints.layout_spaces`` includes them; a table without a ``rule`` column, from before the other rule's
    pictures, is read as it is: :func:`pictured_under` says whether a table has a rule's pictures). Only the cells
    whose W stores features in superposition (``features_per_dim`` > :data:`SUPERPOSED_ABOVE`) count; the others
    are left out and counted (``n_not_superposed``). :func:`stratified_relative_loss` of the chance-corrected
    recalls, with the chance level of the ``points`` rows of h.
    """
    import pandas as pd

    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)].set_index(["m", "p"])
    fpd = g["features_per_dim"] if "features_per_dim" in g else pd.Series(np.inf, index=g.index)
    if method == "exact":
        col, hcol = f"x_rep_recall_{rule}", f"h_rep_recall_{rule}"
        frame = pd.DataFrame(
            {"x_rep": g[col] if col in g else np.nan, "h": g[hcol] if hcol in g else np.nan},
            index=g.index,
        )
        pe = paired(points, importance, "exact", "knn_recall")
        frame["chance"] = pe["chance"].reindex(frame.index)
    else:
        frame = paired(points, importance, method, recall_column(points), ref="x_rep", space="h_rep", rule=rule)
    sup = (fpd.reindex(frame.index) > SUPERPOSED_ABOVE).fillna(False).to_numpy()
    e = _effect(frame[sup], "x_rep")
    e["n_not_superposed"] = int((~sup).sum())
    e["available"] = bool(frame["x_rep"].notna().any())
    return e


def pictured_under(points: Any, importance: str, method: str, rule: str) -> bool:
    """Whether ``points`` holds ``method``'s pictures of x_rep and h_rep under the represented rule ``rule`` (rows
    with ``rule`` = ``rule``; False for a table without the column, from before the other rule's pictures)."""
    if "rule" not in points:
        return False
    d = points[(points["importance"] == importance) & (points["method"] == method) & (points["rule"] == rule)]
    return bool((d["space"] == "x_rep").any() and (d["space"] == "h_rep").any())


def claim_finding(points: Any, cells: Any, importance: str, *, method: str = "exact", rule: str = "norm") -> Finding:
    """The study's conclusion tested on data points where superposition is: the codes of the represented features
    (h_rep) keep the neighbourhoods of x restricted to the same features (x_rep), in the code space
    (``method="exact"``) or in the pictures (:func:`claim_effect`).

    The verdict under the other represented rule (``verdict_other_rule``) is the same test on that rule's x_rep and
    h_rep: the ``cells`` columns of both rules for the code space; for a picture method, the pictures the run drew
    under the other rule (:func:`pictured_under`; where both rules keep the same features they are the run's own
    pictures), or :data:`~supviz.report.records.OTHER_RULE_NOT_COMPUTED` for a table without them."""
    e = claim_effect(points, cells, importance, method=method, rule=rule)
    where = "in the code space (before any picture)" if method == "exact" else f"in its {METHOD_NAMES[method]} picture"
    o = (
        claim_effect(points, cells, importance, method=method, rule=other_rule(rule))
        if method == "exact" or pictured_under(points, importance, method, other_rule(rule))
        else None
    )
    lo, hi = e["interval"]
    text = (
        f"Where superposition is ({e['n_cells']} cells whose W stores more features than dimensions, "
        f"||W||_F² / m > {SUPERPOSED_ABOVE:g}; {e['n_not_superposed']} without it left out"
        + (f", {e['n_left_out']} with an undefined recall" if e["n_left_out"] else "")
        + f"), {space_words('h_rep')} (represented: {RULE_TEXT[rule]}; the inputs on those features sent through "
        f"W's rows of them) keep a median {fmt(e['h'], 2)} of each input's k nearest neighbours "
        f"{where}, {space_words('x_rep')} themselves {fmt(e['ref'], 2)}; chance "
        f"{fmt(e['chance'], 2)}. Chance-corrected and within m, the codes lose {pct(e['estimate'])} of what the inputs "
        f"keep (mean over m; 95% interval {pct(lo)} to {pct(hi)} over {_unit_text(e['n_clusters'], e['n_cells'])}; "
        f"negative = the codes keep more). Per m: {per_m_text(e['per_m'], 'inputs', 'codes')}. Both spaces hold "
        f"the same inputs' information, so this isolates superposition among the kept features from the features "
        f"the model drops and from what the short rows of the dropped features still carry in h (both in the "
        f"section's loss split)."
        + _absolute_text(
            e,
            space_words("x_rep") if method == "exact" else f"the picture of {space_words('x_rep')}",
            space_words("h_rep") if method == "exact" else f"the picture of {space_words('h_rep')}",
        )
        + _bands_text(e["interval"])
    )
    # a table without the other rule's pictures (from before them) says so rather than leave it blank (blank reads
    # "does not depend on the rule")
    vo = OTHER_RULE_NOT_COMPUTED if o is None else o["verdict"] if o["n_cells"] else ""
    # the other rule's own numbers beside its verdict (review 6: a verdict alone hid that they move, 20% -> 28%)
    other_numbers = ""
    if o is not None and o["n_cells"] and np.isfinite(o["estimate"]):
        olo, ohi = o["interval"]
        other_numbers = f"{pct(o['estimate'])} [{pct(olo)}, {pct(ohi)}]"
        text += (
            f" With {RULE_TEXT[other_rule(rule)]} as the represented rule the codes lose {other_numbers} "
            f"({_unit_text(o['n_clusters'], o['n_cells'])})."
        )
    return Finding(
        STUDY_CLAIM,
        text + rule_note(e["verdict"], vo, rule),
        e["verdict"],
        key=f"D-claim-{method}-{importance}",
        method="" if method == "exact" else METHOD_NAMES[method],
        importance=importance,
        # the first screen's grid holds the study's conclusion in each method's pictures (h against x is supviz's
        # own question and stays in its section)
        view="" if method == "exact" else "data points",
        verdict_other_rule=vo,
        n_used=e["n_clusters"],
        n_left_out=e["n_left_out"] + e["n_not_superposed"],
        left_out_unit="cells",  # n_used counts p values (the interval's clusters); what is left out is cells
        figures=[f"D1_knn_recall_{variant_slug(importance)}"],
        summary=f"the codes lose {pct(e['estimate'])} [{pct(lo)}, {pct(hi)}] of the inputs' neighbours "
        f"({fmt(e['abs_loss'], 2)} of {fmt(e['ref_above'], 2)} above chance)"
        + (f"; with {RULE_SHORT[other_rule(rule)]}, {other_numbers}" if other_numbers else ""),
        estimate=e["estimate"],
        interval=e["interval"],
        unit=P_UNIT,
        null=1.0,  # the loss of a picture of h at chance level: it keeps nothing above chance
        threshold=HOLDS_BELOW,
        comparison=f"relative loss of chance-corrected k-NN recall of {space_words('h_rep')} "
        f"against {space_words('x_rep')}, {where}, in the cells with superposition (recall chance "
        f"{fmt(e['chance'], 2)}), within m, mean over m; holds below {pct(HOLDS_BELOW)}, fails above "
        f"{pct(FAILS_ABOVE)} (supviz's bands); at chance the loss is 100%; beside it, " + _abs_comparison(e),
        source=source_for("D-claim"),
    )


#: ||W||_F^2 / m above which a cell's W stores features in superposition (an orthogonal projection, plain linear
#: compression, has 1; trained cells without superposition stay within a few percent of it).
SUPERPOSED_ABOVE = 1.1


def loss_split(cells: Any, importance: str, *, rule: str = "norm") -> dict[str, Any]:
    """The loss of k-NN recall of the code space h, split per cell, then summarised.

    Per cell (columns of the ``cells`` table): ``total = h_recall - 1`` (x against itself keeps every
    neighbour), ``dropped = x_rep_recall_<rule> - 1`` (x restricted to the represented features),
    ``h_rep_recall_<rule> - x_rep_recall_<rule>`` (the same inputs through W's represented rows), booked as
    *superposition* only where W has it (``features_per_dim`` > :data:`SUPERPOSED_ABOVE`, measured from W) and as
    *compression* (linear, no superposition: W an orthogonal projection) elsewhere, and ``residue = h_recall -
    h_rep_recall_<rule>``: what the short rows of the features below the rule still carry in h (not
    superposition; it breaks x_rep's ties between inputs whose kept features are all zero). The parts add up to the
    total in every cell, and so do their means (medians would not). Without ``features_per_dim`` every cell counts
    as superposed; without ``h_rep_recall_<rule>`` (tables of older runs) h stands in for h_rep and the residue is 0.
    Cells without an ``x_rep`` recall (no represented feature) are left out and counted.

    The split is sequential (x -> x_rep -> h_rep -> h: another order would book differently) and depends on the
    represented rule's cutoff. The superposition term is a net: ``n_gain`` / ``sum_gain`` count and add the
    superposed cells where h_rep keeps *more* than x_rep, ``n_loss`` / ``sum_loss`` those where it keeps less, and
    ``mean_abs_superposition`` is the mean ``|h_rep - x_rep|`` over the superposed cells.

    Each part's share of the loss (``share_<part>`` = its sum over the cells / the total's; the four shares add up to
    1 exactly) has ``share_<part>_interval``: the 95% delete-one-cluster jackknife over the *p values*, as the
    verdicts' intervals (:func:`stratified_relative_loss`; :func:`supviz.study.stats.cluster_jackknife_interval`):
    every cell of one p shares its sample of inputs, so the cells are not independent. ``n_clusters``: the p values.
    The intervals do not add up; the shares do. ``share_<part>_without_p`` (shape ``(n_clusters,)``): the jackknife's
    delete-one values, the share without the cells of ``ps[g]`` (NaN where undefined); ``ps``: the p values, sorted.
    """
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    col = f"x_rep_recall_{rule}"
    if col not in g or "h_recall" not in g:
        return {"n_cells": 0, "n_left_out": len(g)}
    h = g["h_recall"].to_numpy(dtype=float)
    xr = g[col].to_numpy(dtype=float)
    hcol = f"h_rep_recall_{rule}"
    hr = g[hcol].to_numpy(dtype=float) if hcol in g else h
    ok = np.isfinite(h) & np.isfinite(xr) & np.isfinite(hr)
    fpd = g["features_per_dim"].to_numpy(dtype=float) if "features_per_dim" in g else np.full(len(g), np.inf)
    superposed = (fpd > SUPERPOSED_ABOVE)[ok]
    total, dropped, rest, residue = h[ok] - 1.0, xr[ok] - 1.0, hr[ok] - xr[ok], h[ok] - hr[ok]
    sup = np.where(superposed, rest, 0.0)
    comp = np.where(superposed, 0.0, rest)
    any_ = bool(ok.any())
    p = g["p"].to_numpy(dtype=float)[ok] if "p" in g else np.zeros(int(ok.sum()))
    ps = np.unique(p)
    cluster = np.searchsorted(ps, p)  # (cells,): each cell's p value, as an index into ps
    parts = {"dropped": dropped, "superposition": sup, "compression": comp, "residue": residue}

    def share_of(part: np.ndarray) -> Any:
        def stat(idx: np.ndarray) -> float:  # the share over the cells of the p clusters drawn
            keep = np.isin(cluster, idx)
            den = total[keep].sum()
            return float(part[keep].sum() / den) if keep.any() and den != 0 else math.nan

        return stat

    jack = {k: cluster_jackknife(len(ps), share_of(v)) for k, v in parts.items()} if any_ else {}
    intervals = {f"share_{k}_interval": jack[k].interval if any_ else (math.nan, math.nan) for k in parts}
    # the jackknife's delete-one-p shares: which p value the split rests on (one home: the interval's own values)
    loo = {f"share_{k}_without_p": jack[k].leave_one_out if any_ else np.zeros(0) for k in parts}
    return {
        **intervals,
        **loo,
        "ps": ps,
        "n_clusters": int(len(ps)),
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
        "residue": residue,
        "mean_residue": float(residue.mean()) if any_ else float("nan"),
        "share_residue": float(residue.sum() / total.sum()) if any_ and total.sum() != 0 else float("nan"),
        "median_dropped": float(np.median(dropped)) if any_ else float("nan"),
        "median_superposition": float(np.median(sup)) if any_ else float("nan"),
        "share_superposition": float(sup.sum() / total.sum()) if any_ and total.sum() != 0 else float("nan"),
        "share_dropped": float(dropped.sum() / total.sum()) if any_ and total.sum() != 0 else float("nan"),
        "share_compression": float(comp.sum() / total.sum()) if any_ and total.sum() != 0 else float("nan"),
        # the superposition term is a net: cells where h_rep keeps more than x_rep cancel cells where it keeps less
        "n_gain": int((sup > 0).sum()),
        "n_loss": int((sup < 0).sum()),
        "sum_gain": float(sup[sup > 0].sum()),
        "sum_loss": float(sup[sup < 0].sum()),
        "mean_abs_superposition": float(np.abs(sup[superposed]).mean()) if superposed.any() else float("nan"),
    }


#: The four parts of h's loss split (:func:`~supviz.study.datapoints.findings.loss_split`), in order, as the first
#: screen names them the first time and after.
SPLIT_PARTS = (
    ("dropped", "dropped features", "dropped"),
    ("superposition", "superposition", "superposition"),
    ("compression", "plain linear compression (cells without superposition)", "compression"),
    ("residue", "short rows of the dropped features", "short rows"),
)


def split_shares(split: dict[str, Any], *, first: bool = False) -> str:
    """One variant's loss split under one rule, compactly: each part's share of h's loss with its 95% jackknife
    interval over the p values (``share_<part>_interval``), the shares rounded so that they add up to 100% in print
    (:func:`~supviz.core.text.pcts_adding_up`; :func:`share_words`): "69% [66%, 72%] dropped, 28% [16%, 39%]
    superposition, ...".
    ``first``: the parts' full names, and after the first negative share what a negative share means (a gain)."""
    est = pcts_adding_up([split[f"share_{k}"] for k, _, _ in SPLIT_PARTS])
    words = [
        share_words(split, k, printed=e) + " " + (long if first else short)
        for e, (k, long, short) in zip(est, SPLIT_PARTS)
    ]
    negative = [i for i, e in enumerate(est) if e.startswith("-")]
    if first and negative:
        words[negative[0]] += f" ({NEGATIVE_SHARE})"
    return ", ".join(words)


#: What a negative share of h's loss means, said where one is first shown (:func:`split_shares`).
NEGATIVE_SHARE = "a negative share is a gain: that step keeps neighbours the one before it lost"


def without_p_most(split: dict[str, Any], part: str = "dropped") -> tuple[float, float]:
    """The p value whose cells move ``part``'s share of h's loss most when left out, and the share without them
    (the jackknife's delete-one values, ``share_<part>_without_p`` of :func:`loss_split`: one home with the
    interval); ``(nan, nan)`` where no delete-one value is defined."""
    loo = np.asarray(split.get(f"share_{part}_without_p", ()), dtype=float)
    ok = np.isfinite(loo)
    if not ok.any() or not math.isfinite(split.get(f"share_{part}", math.nan)):
        return (math.nan, math.nan)
    g = int(np.argmax(np.where(ok, np.abs(loo - split[f"share_{part}"]), -np.inf)))
    return (float(split["ps"][g]), float(loo[g]))


def part_share(split: dict[str, Any], part: str) -> str:
    """One part's share of h's loss (a key of :data:`SPLIT_PARTS`) with its interval, printed as :func:`split_shares`
    prints it (the four shares rounded together), "69% [66%, 72%]"."""
    printed = pcts_adding_up([split[f"share_{k}"] for k, _, _ in SPLIT_PARTS])
    return share_words(split, part, printed=printed[[k for k, _, _ in SPLIT_PARTS].index(part)])


def dropped_share(split: dict[str, Any]) -> str:
    """The dropped features' share of h's loss with its interval (:func:`part_share`)."""
    return part_share(split, "dropped")


def share_words(split: dict[str, Any], part: str, *, printed: str | None = None) -> str:
    """One part's share of h's loss (:func:`loss_split`) with its 95% jackknife interval over the p values, "28% [16%,
    39%]"; the share alone where the interval is undefined (fewer than 3 p values). ``printed``: the share as
    already rounded (:func:`split_shares` rounds the four together)."""
    lo, hi = split[f"share_{part}_interval"]
    est = printed if printed is not None else pct(split[f"share_{part}"])
    return est if not (math.isfinite(lo) and math.isfinite(hi)) else f"{est} [{pct(lo)}, {pct(hi)}]"


def rule_disagreements(cells: Any, importance: str) -> int:
    """How many grid cells of ``importance`` the two represented rules disagree on (``n_represented_norm`` against
    ``n_represented_mean_abs`` of ``cells``): where they do, the loss split's 'dropped' part moves with the rule.
    0 without both columns."""
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    if "n_represented_norm" not in g or "n_represented_mean_abs" not in g:
        return 0
    a, b = g["n_represented_norm"].to_numpy(dtype=float), g["n_represented_mean_abs"].to_numpy(dtype=float)
    return int((np.isfinite(a) & np.isfinite(b) & (a != b)).sum())


def loss_split_sentence(cells: Any, importance: str, *, rule: str = "norm") -> str:
    """The split in words, with the other rule beside it."""
    s = loss_split(cells, importance, rule=rule)
    o = loss_split(cells, importance, rule=other_rule(rule))
    if not s.get("n_cells"):
        return ""
    text = (
        f"{variant_label(importance).capitalize()}: the code space h keeps on average {fixed(1 + s['mean_total'])} of "
        f"each input's k nearest neighbours (a loss of {fixed(-s['mean_total'])}). Split cell by cell (represented: "
        f"{RULE_TEXT[rule]}; shares of the loss with 95% jackknife intervals over the p values): "
        f"{fixed(-s['mean_dropped'])} ({share_words(s, 'dropped')} of the loss) goes with the "
        f"features the model drops, {fixed(-s['mean_superposition'])} ({share_words(s, 'superposition')}) with "
        f"superposition among the features it keeps, in the {s['n_superposed']} cells whose W stores more features "
        f"than dimensions (||W||_F² / m > {SUPERPOSED_ABOVE:g}), {fixed(-s['mean_compression'])} with plain linear "
        f"compression in the other {s['n_cells'] - s['n_superposed']} (W near an orthogonal projection: no "
        f"superposition; {share_words(s, 'compression')}), and {fixed(-s['mean_residue'])} "
        f"({share_words(s, 'residue')}; negative: a gain) with what the "
        f"short rows of the dropped features still carry in h; means over {s['n_cells']} cells, which add up as the "
        f"parts do in every cell"
        + (
            f"; {s['n_left_out']} cell{'s' if s['n_left_out'] != 1 else ''} without a represented feature left out"
            if s["n_left_out"]
            else ""
        )
        + "."
    )
    if s["n_superposed"]:
        text += (
            f" The superposition part is a net: in {s['n_gain']} of the {s['n_superposed']} superposed cells the "
            f"{space_words('h_rep', the=False)} keep more neighbours than {space_words('x_rep')} (gains sum to "
            f"{fixed(s['sum_gain'], 3)}), in {s['n_loss']} fewer (losses sum to {fixed(-s['sum_loss'], 3)}); the mean "
            f"difference, either way, is {fixed(s['mean_abs_superposition'], 3)} per cell."
        )
    text += (
        f" The split is sequential (x, then {space_words('x_rep')}, then their codes, then h) and depends on the "
        f"represented cutoff: both keep the features with {RULE_TEXT[rule]}."
    )
    if o.get("n_cells"):
        text += (
            f" With {RULE_TEXT[other_rule(rule)]}: {fixed(-o['mean_dropped'])} dropped, "
            f"{fixed(-o['mean_superposition'])} superposition, {fixed(-o['mean_compression'])} compression, "
            f"{fixed(-o['mean_residue'])} residue."
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
    """The ring control over the cells with at least :data:`RING_MIN_POINTS` represented features and some dropped
    ones: per condition the median radius CV, its 95% interval (bootstrap over cells) and the cells counted as a
    ring (CV < :data:`RING_MAX`) and as a disc (CV > :data:`DISC_MIN`); and the explanation the trained rows support.

    ``explanation``: ``"origin cluster"`` when the trained rows are a ring with the cluster (the whole interval of
    the median below :data:`RING_MAX`) and a disc without it (the whole interval above :data:`DISC_MIN`);
    ``"near-equidistance"`` when they are a ring without the cluster (interval below :data:`RING_MAX`) and random
    directions of the same norms are not (interval above :data:`DISC_MIN`); ``"undecided"`` otherwise. The random
    and orthogonal rows are controls, reported with their own counts: whether *every* kind is a ring with the
    cluster is a cell-by-cell count, not a median.
    """
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    n_col = f"n_represented_{rule}"
    cols = [f"ring_{c}_{rule}" for c in RING_CONDITIONS]
    if n_col not in g or any(c not in g for c in cols):
        return {"n_cells": 0, "n_left_out": len(g), "explanation": "n/a"}
    use = g[(g[n_col] >= RING_MIN_POINTS) & np.isfinite(g[f"ring_trained_cluster_{rule}"])]
    vals = {c: use[f"ring_{c}_{rule}"].to_numpy(dtype=float) for c in RING_CONDITIONS}
    med = {c: float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan") for c, v in vals.items()}
    out: dict[str, Any] = {
        "n_cells": len(use),
        "n_left_out": len(g) - len(use),
        "median": med,
        "interval": {c: bootstrap_interval(v) for c, v in vals.items()},
        "n_ring": {c: int((v < RING_MAX).sum()) for c, v in vals.items()},
        "n_disc": {c: int((v > DISC_MIN).sum()) for c, v in vals.items()},
    }
    n = len(use)
    iv = out["interval"]
    ring_with = interval_verdict(med["trained_cluster"], iv["trained_cluster"], RING_MAX, claimed="below", n=n)
    disc_alone = interval_verdict(med["trained_alone"], iv["trained_alone"], DISC_MIN, claimed="above", n=n)
    ring_alone = interval_verdict(med["trained_alone"], iv["trained_alone"], RING_MAX, claimed="below", n=n)
    random_disc = interval_verdict(med["random_alone"], iv["random_alone"], DISC_MIN, claimed="above", n=n)
    out.update(ring_with=ring_with, disc_alone=disc_alone, ring_alone=ring_alone)
    if not n:
        out["explanation"] = "n/a"
    elif ring_with == "supported" and disc_alone == "supported":
        out["explanation"] = "origin cluster"
    elif ring_alone == "supported" and random_disc == "supported":
        out["explanation"] = "near-equidistance"
    else:
        out["explanation"] = "undecided"
    return out


def ring_verdict(s: dict[str, Any]) -> str:
    """The study's conjecture (the ring emerges only because of the points at the origin) from
    :func:`ring_control_summary`: 'supported' when the trained rows are a ring with the cluster and a disc without
    it (both intervals on the claimed side), 'not supported' when they are no ring with it or a ring without it
    (an interval wholly on the other side), otherwise not enough evidence."""
    if not s.get("n_cells"):
        return "n/a"
    if s["ring_with"] == "supported" and s["disc_alone"] == "supported":
        return "supported"
    if s["ring_with"] == "not supported" or s["ring_alone"] == "supported":
        return "not supported"
    return NOT_ENOUGH


def ring_deciding_half(s: dict[str, Any]) -> dict[str, Any]:
    """The half of the ring control that decides :func:`ring_verdict`, as the numbers a Finding carries.

    The conjecture has two halves: the trained rows are a ring *with* the cluster at the origin (median radius CV
    below :data:`RING_MAX`) and a disc *without* it (above :data:`DISC_MIN`). Both explanations (the cluster,
    near-equidistance) predict the first, so the second decides between them and is reported whenever the first
    holds; where the first fails or straddles :data:`RING_MAX`, it decides (the conjecture cannot hold) and is
    reported. Returns ``half`` (``"with the cluster"`` / ``"without the cluster"``), ``estimate`` and ``interval``
    (that half's median CV over cells and its bootstrap interval), ``threshold``, ``claimed`` (``"below"`` /
    ``"above"``), ``null`` (the CV the rival reading predicts for that half: a uniform disc,
    :data:`~supviz.datapoints.geometry.UNIFORM_DISC_RADIAL_CV`, with the cluster; a ring, :data:`RING_MAX`, without
    it under near-equidistance) and ``null_text`` (those words).
    """
    from supviz.datapoints.geometry import UNIFORM_DISC_RADIAL_CV

    if s["ring_with"] != "supported":
        return {
            "half": "with the cluster",
            "estimate": s["median"]["trained_cluster"],
            "interval": s["interval"]["trained_cluster"],
            "threshold": RING_MAX,
            "claimed": "below",
            "null": UNIFORM_DISC_RADIAL_CV,
            "null_text": f"no ring at all: a uniform disc, {UNIFORM_DISC_RADIAL_CV:.3f}",
        }
    return {
        "half": "without the cluster",
        "estimate": s["median"]["trained_alone"],
        "interval": s["interval"]["trained_alone"],
        "threshold": DISC_MIN,
        "claimed": "above",
        "null": RING_MAX,
        "null_text": "what a cause other than the cluster would leave: a ring without the cluster too, CV < "
        f"{RING_MAX:g} (exactly equidistant rows, diag(N), are a disc without it)",
    }


def _ring_comparison(s: dict[str, Any], d: dict[str, Any] | None) -> str:
    """The ring verdict's comparison in words: the deciding half (:func:`ring_deciding_half`), its null, the other."""
    if d is None:
        return "not run: no cell qualifies"
    side = "a ring: <" if d["claimed"] == "below" else "a disc: >"
    tc, (lo, hi) = s["median"]["trained_cluster"], s["interval"]["trained_cluster"]
    other = (
        f"with the cluster: {fmt(tc, 3)} [{fmt(lo, 3)}, {fmt(hi, 3)}] < {RING_MAX:g}, a ring"
        if d["half"] == "without the cluster"
        else f"without the cluster, > {DISC_MIN:g}: read only once this one holds"
    )
    return (
        f"median radius CV of the trained represented rows {d['half']} ({side} {d['threshold']:g}), the half that "
        f"decides, with its interval over cells; null: {d['null_text']}; the other half ({other}); controls: random "
        "directions of the same norms and diag(N), with and without the cluster"
    )


def ring_finding(cells: Any, importance: str, *, rule: str = "norm") -> Finding:
    """Why the represented features lie on a ring: near-equidistance or the cluster at the origin."""
    s = ring_control_summary(cells, importance, rule=rule)
    o = ring_control_summary(cells, importance, rule=other_rule(rule))
    verdict, vo = ring_verdict(s), ring_verdict(o)
    if s["n_cells"]:
        m, iv, n = s["median"], s["interval"], s["n_cells"]

        def cv(c: str) -> str:
            return f"{fmt(m[c], 2)} [{fmt(iv[c][0], 2)}, {fmt(iv[c][1], 2)}]"

        text = (
            f"Ring control over {n} cells (represented: {RULE_TEXT[rule]}; at least {RING_MIN_POINTS} represented "
            f"and some dropped features; {s['n_left_out']} others left out), "
            "median radius CV of the represented points in interval MDS "
            f"(0 = a ring, 0.354 = a uniform disc; 95% interval over cells): trained rows {cv('trained_cluster')} with "
            f"the cluster of dropped features at the origin and {cv('trained_alone')} without it. Cell by cell, the "
            f"trained rows are a ring (< {RING_MAX:g}) with the cluster in {s['n_ring']['trained_cluster']} of {n} "
            f"and a disc (> {DISC_MIN:g}) without it in {s['n_disc']['trained_alone']} of {n}. Controls: random "
            f"directions of the same norms {cv('random_cluster')} with the cluster (a ring in "
            f"{s['n_ring']['random_cluster']} of {n}) and {cv('random_alone')} without it (a disc in "
            f"{s['n_disc']['random_alone']}); diag(N), exactly equidistant, {cv('orthogonal_cluster')} (a ring in "
            f"{s['n_ring']['orthogonal_cluster']}) and {cv('orthogonal_alone')} (a disc in "
            f"{s['n_disc']['orthogonal_alone']}). "
            + {
                "origin cluster": "The trained rows are a ring with the cluster and a disc without it: the cluster at "
                "the origin makes their ring (without it even exactly equidistant rows, diag(N), are a disc: equal "
                "distances alone make no ring)"
                + (
                    "."
                    if s["n_ring"]["random_cluster"] == n and s["n_ring"]["orthogonal_cluster"] == n
                    else "; random directions with the cluster are not a ring in every cell, so the cluster alone "
                    "does not make any set of rows a ring."
                ),
                "near-equidistance": "The trained rows are a ring even without the cluster and random directions are "
                "not: near-equidistance makes the ring.",
                "undecided": "The intervals do not separate the two explanations.",
            }[s["explanation"]]
        )
    else:
        text = "No cell has enough represented and dropped features for the control."
    d = ring_deciding_half(s) if s["n_cells"] else None
    if d is not None:
        other = "without" if d["half"] == "with the cluster" else "with"
        text += (
            f" The verdict is read on the trained rows {d['half']}: median CV {fmt(d['estimate'], 3)} [95% interval "
            f"{fmt(d['interval'][0], 3)}, {fmt(d['interval'][1], 3)}] against {d['threshold']:g} (the conjecture "
            f"needs it {d['claimed']}); "
            + (
                "with the cluster they are a ring on both explanations, so the half without it decides"
                if d["half"] == "without the cluster"
                else f"the half {other} the cluster matters only once this one holds"
            )
            + (
                f"; its interval straddles {d['threshold']:g}, so the conjecture is undecided."
                if ring_verdict(s) == NOT_ENOUGH and d["interval"][0] <= d["threshold"] <= d["interval"][1]
                else "."
            )
        )
    return Finding(
        "The study's conjecture, drawn but not decided there: \"the circular geometry emerges only because of the "
        "presence of all the points at the origin\" (of the represented features' MDS picture).",
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
        comparison=_ring_comparison(s, d),
        estimate=d["estimate"] if d is not None else None,
        interval=d["interval"] if d is not None else None,
        null=d["null"] if d is not None else None,
        threshold=d["threshold"] if d is not None else RING_MAX,
        source=source_for("D-ring"),
    )


# ------------------------------------------------------------------------------------ stars

STAR_MAX_M = 5
STAR_MAX_P = 0.2
#: Excess share of points on a spoke over that cell's chance above which a picture is a star.
STAR_EXCESS = 0.05
STAR_CLAIM = "MDS pictures of data points at low m and sparse p show star / spoke patterns (not in the study)."


def star_summary(cells: Any, importance: str) -> dict[str, Any]:
    """The star pattern of MDS pictures of h: low m and sparse p (m <= :data:`STAR_MAX_M`, p <=
    :data:`STAR_MAX_P`) against the other cells.

    Medians of ``ray_share_h`` (points within 5 degrees of a represented feature's ray in h), ``one_active_rep``
    (inputs with exactly one represented feature active), ``spoke_share`` / ``spoke_chance`` (in the 2-D picture,
    and for random angles) per group; and, paired per star cell, ``excess = spoke_share - spoke_chance`` (each cell
    against its own chance level, which varies with the rays' coverage) with its median ``star_excess`` and 95%
    interval over cells (``star_excess_interval``). Where the table has the control ``spoke_share_ortho`` /
    ``spoke_chance_ortho`` (the same inputs through an orthonormal projection of the same rank: sparse inputs and a
    low-rank map, no superposition), ``control_excess`` and the paired ``excess - control_excess`` (``star_gap``,
    ``star_gap_interval``).
    """
    g = cells[(cells["model"] == "grid") & (cells["importance"] == importance)]
    if "ray_share_h" not in g:
        return {"n_star": 0}
    star = (g["m"] <= STAR_MAX_M) & (g["p"] <= STAR_MAX_P)
    out: dict[str, Any] = {"n_star": int(star.sum()), "n_other": int((~star).sum())}
    for name, part in (("star", g[star]), ("other", g[~star])):
        for col in (
            "ray_share_h",
            "one_active_rep",
            "spoke_share",
            "spoke_chance",
            "spoke_share_x",
            "spoke_chance_x",
            "spoke_share_ortho",
            "spoke_chance_ortho",
        ):
            v = part[col].to_numpy(dtype=float) if col in part else np.array([])
            out[f"{name}_{col}"] = float(np.median(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")
    sg = g[star]

    def col(name: str) -> np.ndarray:
        return sg[name].to_numpy(dtype=float) if name in sg else np.full(len(sg), np.nan)

    excess = col("spoke_share") - col("spoke_chance")
    control = col("spoke_share_ortho") - col("spoke_chance_ortho")
    ok = np.isfinite(excess)
    out["excess"] = excess
    out["n_excess"] = int(ok.sum())
    out["star_excess"] = float(np.median(excess[ok])) if ok.any() else float("nan")
    out["star_excess_interval"] = bootstrap_interval(excess)
    out["chance_range"] = (
        (float(np.nanmin(col("spoke_chance"))), float(np.nanmax(col("spoke_chance")))) if ok.any() else (np.nan, np.nan)
    )
    gap = excess - control
    okg = np.isfinite(gap)
    out["control_excess"] = float(np.median(control[okg])) if okg.any() else float("nan")
    out["n_gap"] = int(okg.sum())
    out["star_gap"] = float(np.median(gap[okg])) if okg.any() else float("nan")
    out["star_gap_interval"] = bootstrap_interval(gap)
    return out


def star_finding(cells: Any, importance: str) -> Finding:
    """Not a claim of the study: MDS pictures of data points at low m and sparse p are stars.

    The verdict is paired: each star cell's share of points on a spoke minus *that cell's* chance share, median over
    cells with its interval, against :data:`STAR_EXCESS` (:func:`~supviz.study.stats.interval_verdict`). Whether the
    stars are a signature of superposition is read from the control (sparse inputs through an orthonormal map of the
    same rank), when the table has it."""
    s = star_summary(cells, importance)
    if not s.get("n_star"):
        return Finding(
            STAR_CLAIM,
            "No cell at low m and sparse p in this run.",
            "n/a",
            key=f"D-star-{importance}",
            method="MDS",
            importance=importance,
            source=OWN,
        )
    lo, hi = s["star_excess_interval"]
    verdict = interval_verdict(
        s["star_excess"], s["star_excess_interval"], STAR_EXCESS, claimed="above", n=s["n_excess"]
    )
    c0, c1 = s["chance_range"]
    text = (
        f"In the {s['n_star']} cells with m <= {STAR_MAX_M} and p <= {STAR_MAX_P:g}, a median "
        f"{pct(s['star_ray_share_h'])} of the data points lie within 5° of a single represented feature's ray in h "
        f"(against {pct(s['other_ray_share_h'])} in the other {s['n_other']} cells): the inputs with exactly one "
        f"represented feature active ({pct(s['star_one_active_rep'])}; their dropped features map to nearly 0). In the "
        f"MDS picture of h, each cell's share of points within 5° of a feature's spoke exceeds that cell's chance "
        f"share (points at random angles; {fixed(c0)} to {fixed(c1)} over these cells) by a median "
        f"{fixed(s['star_excess'], 3)} (95% interval {fixed(lo, 3)} to {fixed(hi, 3)}, bootstrap over "
        f"{s['n_excess']} cells; star above {STAR_EXCESS:g}). In the picture of x: {pct(s['star_spoke_share_x'])} "
        f"against {pct(s['star_spoke_chance_x'])}."
    )
    if s["n_gap"]:
        g0, g1 = s["star_gap_interval"]
        text += (
            f" Control, the same sparse inputs through an orthonormal projection of the same rank (a low-rank map "
            f"without superposition): excess {fixed(s['control_excess'], 3)}; trained minus control, paired per cell, "
            f"{fixed(s['star_gap'], 3)} (95% interval {fixed(g0, 3)} to {fixed(g1, 3)}). "
            + (
                "The stars exceed the control: superposition (many features on few rays) adds to them."
                if g0 > 0
                else "The control makes stars as well: spokes come from single-feature sparse inputs through a "
                "low-rank map, and this verdict cannot call them a signature of superposition."
                if g1 <= 0
                else "The interval straddles 0: the control cannot separate superposition from sparse inputs "
                "through a low-rank map."
            )
        )
    else:
        text += (
            " Without a control of sparse inputs through a low-rank map with no superposition, the verdict cannot "
            "separate the two: the spokes may be a signature of sparsity and rank rather than of superposition."
        )
    return Finding(
        STAR_CLAIM,
        text,
        verdict,
        key=f"D-star-{importance}",
        method="MDS",
        importance=importance,
        n_used=s["n_excess"],
        n_left_out=s["n_star"] - s["n_excess"],
        figures=[f"D2_mds_{variant_slug(importance)}"],
        unit="cells",
        estimate=s["star_excess"],
        interval=s["star_excess_interval"],
        null=0.0,
        threshold=STAR_EXCESS,
        comparison="per star cell, the share of points on a spoke in the MDS picture of h minus that cell's chance "
        f"share (points at random angles), median over cells; a star above {STAR_EXCESS:g}",
        source=OWN,
    )


def answer_effects(
    points: Any, cells: Any, importance: str, methods: Sequence[str] = ("mds", "umap", "tsne"), *, rule: str = "norm"
) -> dict[str, dict[str, Any]]:
    """The numbers the first screen's answer reads, per method (key -> :func:`claim_effect`): the pictures of the codes
    of the represented features against the pictures of the inputs on those features, in the cells with
    superposition, for each method whose pictures of both spaces ``points`` holds and that has a defined loss. One home
    for the answer's numbers: :func:`supviz.study.conclusion.plain_answer` words them, :func:`headline_answer` draws
    them."""
    out = {}
    for method in methods:
        d = points[points["method"] == method]
        if not ((d["space"] == "x_rep").any() and (d["space"] == "h_rep").any()):
            continue
        e = claim_effect(points, cells, importance, method=method, rule=rule)
        if e["n_cells"] and np.isfinite(e["estimate"]):
            out[method] = e
    return out


def headline_answer(
    points: Any, cells: Any, importance: str, methods: Sequence[str] = ("mds", "umap", "tsne"), *, rule: str = "norm"
) -> list[dict[str, Any]]:
    """The answer's pair for the headline figure, per method (:func:`answer_effects`: the first screen's numbers): per
    hidden size m, the mean k-NN recall over the superposed cells of that m of the picture of the inputs on the
    represented features (``x``) and of the picture of their codes (``h``), their chance level (``chance``), and the
    answer's loss (``loss``, ``interval``: chance-corrected, within m, mean over m) over ``n_cells`` cells."""
    out = []
    for method, e in answer_effects(points, cells, importance, methods, rule=rule).items():
        ms = sorted(e["per_m"])
        out.append(
            {
                "method": METHOD_NAMES[method],
                "m": ms,
                "x": [e["per_m"][m]["ref"] for m in ms],
                "h": [e["per_m"][m]["h"] for m in ms],
                "chance": [e["per_m"][m]["chance"] for m in ms],
                "loss": e["estimate"],
                "interval": tuple(e["interval"]),
                "n_cells": e["n_cells"],
            }
        )
    return out


def headline_curves(
    points: Any, importance: str, methods: Sequence[str] = ("mds", "umap", "tsne")
) -> list[dict[str, Any]]:
    """Per method: median over p, per m, of the k-NN recall of the picture of x, of h, and of h itself, and the
    recall's chance level ``k / (N - 1)`` (``chance``, median over p per m: what a random picture keeps).

    Cells where either recall is undefined are left out (per m).
    """
    import pandas as pd

    out = []
    sub = points[points["importance"] == importance]
    exact = sub[(sub["method"] == "exact") & (sub["space"] == "h")].groupby("m")["knn_recall"].median()
    for method in methods:
        part = sub[sub["method"] == method]
        if part.empty:
            continue
        xrows = part[part["space"] == "x"].set_index(["m", "p"])
        x = xrows["knn_recall"]
        chance = pd.Series(_chance_of(xrows), index=xrows.index)
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
                "chance": [float(chance[both].xs(m, level="m").median()) for m in ms],
            }
        )
    return out
