"""Section F's findings: what the pictures of a digits model's hidden layer say, from the numbers.

:func:`conclusion` is a pure function of the :class:`supviz.real.experiment.RealResult`: "the picture
lies more when narrower" read against the layer and against the pixels (Spearman of width vs
trustworthiness), "the SAE picture lies less" as paired differences codes - h.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from supviz.core.text import fixed, fmt, pct, plural
from supviz.dr.base import METHOD_NAMES
from supviz.real.measures import SIGNED_PAIR
from supviz.real.plots import MEASURE_NAMES
from supviz.report.records import Finding
from supviz.study.common import spearman
from supviz.study.stats import (
    MIN_N,
    NOT_ENOUGH,
    bootstrap_interval,
    interval_verdict,
    interval_words,
    stratified_spearman,
    wilson_interval,
)

#: Fewest (kind, method) sweeps over width a "lies more when narrower" verdict is computed from.
MIN_SWEEPS = 3


def above_psi_bound(quality: Any) -> Any:
    """The layers whose effective-feature ratio ψ exceeds what the layer reaches with no superposition.

    ``quality``: one row per layer with ``kind`` and ``superposition_ratio`` (ψ = F / w). A non-negative layer (the
    classifier's ``h = ReLU(x W1 + b1)``) is bounded by 1; a signed one (the autoencoder's ``h = x W``) by
    :data:`SIGNED_PAIR`, since a ReLU SAE on centred signed inputs spends a +/- latent pair on each direction.
    """
    bound = np.where(quality["kind"] == "autoencoder", SIGNED_PAIR, 1.0)
    return quality[quality["superposition_ratio"].to_numpy(dtype=float) > bound]


def calibration_ranking(
    calibration: Any, correlations: Any, *, architecture: str, target: str = "mmcs", measures: Any = None
) -> Any:
    """Which no-ground-truth measure tracks ``target`` over the toy cells, ranked within the hidden size m.

    ``calibration``: one row per (architecture, cell) with ``m``, ``target`` and the measures; ``correlations``: the
    pooled Spearman rho per (architecture, target, measure) (:func:`supviz.real.calibration.rank_correlations`),
    stated beside the within-m value and never ranked by. Within m: :func:`~supviz.study.stats.stratified_spearman`
    (Spearman's rho inside each m, combined by the Fisher-z mean, with its 95% interval): across widths a measure and
    the recovery both change with m, and the pooled rho counts that as tracking.

    Returns
    -------
    pandas.DataFrame
        One row per measure, by ``|rho_within|`` descending (NaN last): ``measure, rho_within, within_low,
        within_high, n_within`` (cells in the strata used), ``n_strata``, ``rho`` / ``p_value`` / ``n_cells`` (pooled),
        ``reason`` (why ``rho_within`` is NaN), and the same within (m, importance) strata, never ranked by:
        ``rho_variant, variant_low, variant_high, n_variant_strata, variant_reason`` (:func:`_within_variant`).
    """
    import pandas as pd

    cal = calibration[calibration["architecture"] == architecture]
    corr = correlations[(correlations["architecture"] == architecture) & (correlations["target"] == target)]
    pooled = {r.measure: r for r in corr.itertuples()}
    names = list(measures) if measures is not None else list(corr["measure"])
    rows = []
    for m in names:
        row: dict[str, Any] = {"measure": m}
        if m in cal.columns and target in cal.columns and "m" in cal.columns:
            st = stratified_spearman(cal[m], cal[target], cal["m"])
            used = sum(1 for r, _n in st.per_stratum.values() if math.isfinite(r))
            row.update(
                rho_within=st.rho,
                within_low=st.interval[0],
                within_high=st.interval[1],
                n_within=st.n,
                n_strata=used,
                reason=""
                if math.isfinite(st.rho)
                else "no hidden size m with 4 cells where both the measure and the recovery vary",
            )
            row.update(_within_variant(cal, m, target))
        else:
            row.update(
                rho_within=math.nan,
                within_low=math.nan,
                within_high=math.nan,
                n_within=0,
                n_strata=0,
                reason=f"no column {m!r} or m",
                rho_variant=math.nan,
                variant_low=math.nan,
                variant_high=math.nan,
                n_variant_strata=0,
                variant_reason=f"no column {m!r} or m",
            )
        p = pooled.get(m)
        row.update(
            rho=float(p.rho) if p is not None else math.nan,
            p_value=float(p.p_value) if p is not None else math.nan,
            n_cells=int(p.n_cells) if p is not None else 0,
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    key = out["rho_within"].abs().fillna(-1.0)
    return out.loc[key.sort_values(ascending=False, kind="stable").index].reset_index(drop=True)


def _within_variant(cal: Any, measure: str, target: str) -> dict[str, Any]:
    """Spearman's rho of ``measure`` with ``target`` within each (m, importance variant) stratum, combined
    (:func:`~supviz.study.stats.stratified_spearman`): within m alone the rho also sorts the variants, whose recovery
    differs at one value of the measure (review 7 item 1). ``rho_variant``, ``variant_low`` / ``variant_high`` (95%
    interval), ``n_variant_strata`` (strata used) and ``variant_reason`` (why NaN)."""
    if "importance" not in cal.columns:
        why = "no importance column: the cells' variants are unknown"
        return dict(
            rho_variant=math.nan, variant_low=math.nan, variant_high=math.nan, n_variant_strata=0, variant_reason=why
        )
    strata = [f"m = {int(a)}, {b}" for a, b in zip(cal["m"], cal["importance"])]
    st = stratified_spearman(cal[measure], cal[target], strata)
    used = sum(1 for r, _n in st.per_stratum.values() if math.isfinite(r))
    return dict(
        rho_variant=st.rho,
        variant_low=st.interval[0],
        variant_high=st.interval[1],
        n_variant_strata=used,
        variant_reason=""
        if math.isfinite(st.rho)
        else "no (m, importance) stratum with 4 cells where both the measure and the recovery vary",
    )


def _abs_low(lo: float, hi: float) -> float:
    """The smallest |rho| in the interval [lo, hi] (0 when it contains 0)."""
    return 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))


def _abs_high(lo: float, hi: float) -> float:
    """The largest |rho| in the interval [lo, hi]."""
    return max(abs(lo), abs(hi))


def calibration_cells(r: Any) -> Any:
    """The calibration cells of a :class:`~supviz.real.experiment.RealResult` with ``d_sae`` and ``over_capacity``
    (:func:`supviz.real.calibration.mark_capacity`, the run's ``sae_expansion``): what the figure, the text and the
    tables read. ``None`` without cells."""
    from supviz.real.calibration import mark_capacity

    if r.calibration is None or not len(r.calibration):
        return None
    return mark_capacity(r.calibration, expansion=float(r.config["sae_expansion"]))


def calibration_of(r: Any, arch: str) -> tuple[Any, Any, Any] | None:
    """Section F's calibration, from a :class:`~supviz.real.experiment.RealResult`'s tables: the measures ranked
    within m (:func:`calibration_ranking`), the effective feature count against the represented count ranked the same
    way, and the digits layers of ``arch`` read through the cells of their matching m
    (:func:`supviz.real.calibration.read_layers`, recomputed from the tables so a cached result reads the same way).
    ``None`` without calibration cells."""
    from supviz.real.calibration import CALIBRATED, read_layers

    if r.calibration is None or not len(r.calibration) or not (r.calibration["architecture"] == arch).any():
        return None
    ranking = calibration_ranking(r.calibration, r.correlations, architecture=arch, measures=CALIBRATED)
    count = calibration_ranking(
        r.calibration, r.correlations, architecture=arch, target="n_represented", measures=("effective_features",)
    )
    readings = read_layers(r.calibration, r.quality[r.quality["architecture"] == arch])  # place_layer, row by row
    return ranking, count, readings


def chance_mmcs(m: float, expansion: float, architecture: str = "relu_l1") -> float:
    """The MMCS that random unit decoders of the same size score against any ``m``-dimensional features: the chance
    level of a read-through at hidden size ``m`` (:func:`supviz.sae.metrics.random_mmcs_expectation`, with the
    dictionary size the SAE recipe gives ``m`` inputs); NaN for a NaN ``m``."""
    from supviz.sae.config import SAEConfig
    from supviz.sae.metrics import random_mmcs_expectation

    if not math.isfinite(float(m)):
        return math.nan
    d = int(m)
    return random_mmcs_expectation(d, SAEConfig(architecture=architecture, expansion_factor=expansion).resolve_d_sae(d))


def calibration_text(
    ranking: Any,
    readings: Any,
    *,
    n_cells: int,
    picture_width: int,
    count: Any = None,
    chance: Any = None,
    cells: Any = None,
) -> str:
    """Section F's answer to "which no-ground-truth measure tracks true recovery?", from :func:`calibration_ranking`
    (``ranking``; ``count``: the same for the effective feature count against the represented count) and the digits
    layers read through the cells (``readings``: :func:`supviz.real.calibration.read_layers`, one architecture).
    ``chance(m)``: what random unit decoders of the SAEs' size score at m; ``cells``: the calibration cells of the
    architecture: whether they place the picture width's classifier layer at all
    (:func:`supviz.real.calibration.place_layer`: the spread of their MMCS near its value, per importance variant), and
    only where they do its read-through with its bootstrap interval, called above chance only where the whole interval
    is.

    The best measure is the one with the largest |within-m rho|; the ranking is said to be settled only where the
    best's 95% interval does not overlap the runner-up's, and a measure tracks recovery only where its interval
    excludes 0."""
    ok = ranking[np.isfinite(ranking["rho_within"].to_numpy(dtype=float))]
    if ok.empty:
        return (
            f"Which no-ground-truth measure tracks true recovery? On {n_cells} toy cells no measure has a defined rank "
            "correlation with the true MMCS inside any hidden size m."
        )

    def name(m: str) -> str:
        return MEASURE_NAMES.get(m, m)

    def within(r: Any) -> str:
        return f"{fixed(r.rho_within)} [{fixed(r.within_low)}, {fixed(r.within_high)}]"

    best, rest = ok.iloc[0], ok.iloc[1:]
    ms = int(best["n_strata"])
    parts = [
        f"Which no-ground-truth measure tracks true recovery? On {n_cells} toy cells of section 2 measured like the "
        "digits layers (same rows, recipe and measures), Spearman's ρ with the true MMCS inside each hidden size m, "
        f"combined over the {ms} sizes (Fisher-z mean, 95% interval; a measure and the recovery both change with the "
        "width, so ρ pooled over every m, in brackets, counts the width as tracking): "
        + ", ".join(f"{name(r.measure)} {within(r)} ({fixed(r.rho)})" for r in ok.itertuples())
        + "."
    ]
    lo, hi = float(best["within_low"]), float(best["within_high"])
    tracks = lo > 0 or hi < 0
    # the ranking is by |rho|: the best is settled when its |rho| interval lies wholly above the runner-up's
    overlap = bool(len(rest)) and _abs_low(lo, hi) <= _abs_high(
        float(rest.iloc[0]["within_low"]), float(rest.iloc[0]["within_high"])
    )
    parts.append(
        f"Within m the best is {name(best['measure'])} (ρ = {fixed(best['rho_within'])}, 95% interval "
        f"[{fixed(lo)}, {fixed(hi)}] over {int(best['n_within'])} cells"
        + (f"; pooled over m {fixed(best['rho'])}" if math.isfinite(float(best["rho"])) else "")
        + "): "
        + (
            "its interval excludes 0, so inside one width it does track recovery"
            if tracks
            else "its interval includes 0, so inside one width no measure is shown to track recovery"
        )
        + (
            f"; its interval overlaps the runner-up's ({name(rest.iloc[0]['measure'])}, {within(rest.iloc[0])}), so "
            "which measure is best is not settled"
            if len(rest) and overlap
            else ""
        )
        + "."
    )
    if "rho_variant" in best.index and cells is not None and cells.get("importance", ()).nunique() > 1:
        parts.append(_variant_words(best, name(best["measure"])))  # one variant: the strata are the m's
    if cells is not None and "over_capacity" in getattr(cells, "columns", ()):
        parts.append(_capacity_words(cells))
    if count is not None and len(count) and math.isfinite(float(count.iloc[0]["rho_within"])):
        c = count.iloc[0]
        parts.append(
            "The effective feature count follows the true number of represented features with ρ = "
            f"{within(c)} within m ({fixed(c['rho'])} pooled over m, where both grow with m)."
        )
    rd = readings[(readings["measure"] == best["measure"]) & (readings["kind"] == "classifier")]
    rd = rd[rd["width"] == picture_width]
    if len(rd):
        parts.append(_read_through_words(rd.iloc[0], name(best["measure"]), picture_width, cells, chance))
    return " ".join(parts) + " Per layer in the table below."


def _variant_words(best: Any, measure_name: str) -> str:
    """The best measure's rho within (m, importance) strata (:func:`_within_variant`) beside the within-m one: within
    m the cells of both variants are ranked together, and where the variants recover apart at one value of the
    measure, that rho partly sorts the variants (review 7 item 1)."""
    head = (
        "The within-m ρ mixes the importance variants: inside one m the cells of both are ranked together, and where "
        "they recover apart at one value of the measure it partly sorts the variants. "
    )
    if not math.isfinite(float(best["rho_variant"])):
        return head + f"Within (m, importance) strata {measure_name} has no ρ: {best['variant_reason']}."
    lo, hi = float(best["variant_low"]), float(best["variant_high"])
    return head + (
        f"Within (m, importance) strata {measure_name} gives ρ = {fixed(best['rho_variant'])} [{fixed(lo)}, "
        f"{fixed(hi)}] over {int(best['n_variant_strata'])} strata (Fisher-z mean, 95% "
        "interval): "
        + (
            "its interval excludes 0"
            if lo > 0 or hi < 0
            else "its interval includes 0, so within one width and one variant it is not shown to track recovery"
        )
        + "."
    )


def _capacity_words(cells: Any) -> str:
    """How many calibration cells represent more features than their SAEs have latents (``over_capacity``,
    :func:`supviz.real.calibration.mark_capacity`), per hidden size m and importance variant: those cells' MMCS is
    capped by the dictionary, whatever the measure sees (review 7 item 1)."""
    from supviz.toy.importance import ordered_variants, variant_label

    over = cells["over_capacity"].to_numpy(dtype=bool)
    sizes = cells.groupby("m")["d_sae"].max()
    dicts = ", ".join(f"{int(d)} at m = {int(m)}" for m, d in sizes.items())
    head = (
        f"A limit of the calibration: its SAEs have as many latents as the digits layers' recipe gives ({dicts}), "
        "and a cell that represents more features than that cannot give each feature a latent of its own, so its "
        "MMCS is capped by the dictionary's size whatever the measure sees. "
    )
    if not over.any():
        return head + f"No calibration cell does ({len(cells)} cells)."
    per = []
    for m, t in cells.groupby("m"):
        for v in ordered_variants(t["importance"].astype(str)):
            g = t[t["importance"].astype(str) == v]
            k = int(g["over_capacity"].sum())
            if k:
                per.append(
                    f"{k} of {len(g)} at m = {int(m)} under {variant_label(v)} (up to "
                    f"{int(g['n_represented'].max())} features for {int(g['d_sae'].max())} latents)"
                )
    alone = []  # the m where only one variant's cells exceed the dictionary: there the split is the dictionary's
    for m, t in cells.groupby("m"):
        vs = ordered_variants(t.loc[t["over_capacity"].to_numpy(dtype=bool), "importance"].astype(str))
        if len(vs) == 1 and t["importance"].nunique() > 1:
            alone.append(f"at m = {int(m)} only the cells under {variant_label(vs[0])} do")
    return (
        head
        + f"{int(over.sum())} of {len(cells)} cells do: "
        + "; ".join(per)
        + ". F3 draws them hollow."
        + (
            " "
            + _upper_first("; ".join(alone))
            + ", so there the variants' split at one value of the measure comes largely from the dictionary's size, "
            "not from what the measure misses."
            if alone
            else ""
        )
    )


def _upper_first(text: str) -> str:
    """``text`` with its first letter upper case."""
    return text[:1].upper() + text[1:]


def _span(lo: float, hi: float) -> str:
    """``"0.48 to 0.52"``, or one value where both print the same."""
    a, b = fixed(lo), fixed(hi)
    return a if a == b else f"{a} to {b}"


def _read_through_words(reading: Any, measure_name: str, width: int, cells: Any, chance: Any) -> str:
    """What the calibration cells say of one layer (``reading``: a row of ``read_layers``): the MMCS the cells near
    its value recover, per importance variant, and whether they place it
    (:func:`supviz.real.calibration.place_layer`); a value with its interval only where they do."""
    from supviz.real.calibration import AGREE_WITHIN, NEAR_FRACTION, place_layer
    from supviz.toy.importance import ordered_variants, variant_label

    m = float(reading["m_used"])
    if not math.isfinite(m) or not math.isfinite(float(reading["value"])):
        return f"The classifier's w = {width} layer cannot be read through the cells: {reading['reason']}."
    if cells is None or not len(cells):
        return f"The classifier's w = {width} layer cannot be placed: no calibration cells given."
    pl = place_layer(cells, str(reading["measure"]), float(reading["value"]), m=m)
    order = ordered_variants(pl.variants)
    level = chance(m) if chance else math.nan
    level_words = (
        f"random unit decoders of the same size score {fixed(level)} at m = {int(m)}" if math.isfinite(level) else ""
    )

    def spread(v: str) -> str:
        s = pl.variants[v]
        if not s.n_near:
            return f"no cell of {variant_label(v)} (whose {measure_name} runs {fmt(s.low)} to {fmt(s.high)})"
        return (
            f"MMCS {_span(s.mmcs_low, s.mmcs_high)} ({plural(s.n_near, 'cell')}"
            + (f"; MMCS − chance {_span(s.mmcs_low - level, s.mmcs_high - level)}" if math.isfinite(level) else "")
            + f") under {variant_label(v)}"
        )

    near = (
        f"the cells of m = {int(m)} within {fmt(pl.window)} of its {measure_name} ({pct(NEAR_FRACTION)} of their "
        f"range, {fmt(pl.low)} to {fmt(pl.high)})"
    )
    rule = (
        "(supviz places a layer only where every importance variant has cells that near its value, the value lies "
        f"inside each variant's range, and the variants' MMCS near it lie within {fixed(AGREE_WITHIN)} of each "
        "other; then it gives the monotone fit's MMCS with its bootstrap interval over the cells)"
    )
    head = f"The classifier's w = {width} layer ({measure_name} {fmt(pl.value)}), read through the toy cells of the "
    head += f"nearest hidden size m = {int(m)}: "
    if not pl.placed:
        labels = " and ".join(variant_label(v) for v in pl.which)
        why = {
            "far": f"no cell of {labels} lies that near",
            "edge": f"its {measure_name} lies outside the range of the cells of {labels}",
            "apart": f"the variants' MMCS near its value lie more than {fixed(AGREE_WITHIN)} apart, so which variant "
            f"a layer resembles sets the MMCS and {measure_name} does not tell",
        }.get(pl.failed, pl.reason)
        return (
            head
            + f"{near} recover "
            + "; ".join(spread(v) for v in order)
            + f". The toy cells cannot place the layer: {why}, and no one MMCS goes with this {measure_name} "
            + rule
            + (f"; {level_words}" if level_words else "")
            + "."
        )
    lo, hi = pl.interval
    interval = (
        f" [95% interval {fixed(lo)}, {fixed(hi)}, bootstrap over the cells of m = {int(m)}]"
        if math.isfinite(lo) and math.isfinite(hi)
        else f" (no interval: {pl.interval_reason})"
    )
    return (
        head
        + f"the importance variants agree near it ({near}: "
        + "; ".join(spread(v) for v in order)
        + f"), and a monotone fit of MMCS on {measure_name} over the cells of m = {int(m)} reads MMCS ≈ "
        + fixed(pl.estimate)
        + interval
        + (_chance_words(pl.estimate, level, int(m), pl.interval) if math.isfinite(level) else "")
        + " "
        + rule
        + ". Its limits: the cells' m is not the layer's width (each layer is read through the nearest m, at most a "
        "factor 2 away, or not at all), their inputs are sparse toy features, not digits, and the fit has as many "
        "cells as one m holds."
    )


def _chance_words(estimate: float, level: float, m: int, interval: tuple[float, float] = (math.nan, math.nan)) -> str:
    """The read-through's MMCS beside its chance level (random unit decoders of the same size at m): above chance only
    where its whole 95% interval is, at or below where the interval lies at or below it, not distinguishable where it
    reaches both sides, and undetermined without an interval (review 6 item 2: no interval is no evidence either
    way)."""
    if not math.isfinite(level):
        return ""
    lo, hi = interval
    if math.isfinite(lo) and lo > level:
        where = "above chance, its whole interval"
    elif math.isfinite(hi) and hi <= level:
        where = "at or below chance, its whole interval: no evidence that the layer's SAE recovers anything"
    elif estimate <= level:
        where = "at or below chance: no evidence that the layer's SAE recovers anything"
    else:
        where = (
            "not distinguishable from chance, its interval reaches both sides"
            if math.isfinite(lo)
            else "whether it is above chance is undetermined (no interval)"
        )
    return f" (random unit decoders of the same size score {fixed(level)} at m = {m}: {where})"


def _trend(rho: float) -> str:
    if not math.isfinite(rho):
        return "no defined trend"
    if rho >= 0.5:
        return "rises with width"
    if rho <= -0.5:
        return "falls with width"
    return "has no clear trend in width"


#: Said of the section's verdicts: what their intervals leave out.
ONE_SEED = "one SAE per layer: the interval does not include the spread over training seeds"


def narrower_finding(pictures: Any, spaces: Any, methods: list[str]) -> tuple[str, Finding | None]:
    """ "The picture lies more when the layer is narrower", from the width sweeps (one per kind and method).

    ``pictures``: one row per picture (``kind``, ``space``, ``method``, ``width``, ``trustworthiness`` against the
    layer pictured, ``trustworthiness_pixels``); ``spaces``: the layers themselves (``trustworthiness_pixels``).
    A sweep *rises* on a reading when Spearman rho(width, trustworthiness) >= 0.5. Whether the picture lies more
    when narrower is read against the pixels, what a picture of the latent space is read for: the estimate is the
    share of sweeps that rise against the pixels, its 95% Wilson interval over sweeps, against 0.5
    (:func:`~supviz.study.stats.interval_verdict`, at least :data:`MIN_SWEEPS` sweeps). Where the lie is (the layer
    already lost the pixels' neighbourhoods, or the picture loses them) is the other reading, against the layer
    pictured: it is stated beside the verdict and does not enter it (requiring both readings to rise made the
    estimate 0 in the default run while every sweep rose against the pixels). The prose states a reading of the
    numbers only where the verdict carries it. Returns (prose, finding), ``(reason, None)`` without a sweep.
    """
    lines, own, pix, changes = [], [], [], []
    for method in methods:
        for kind in ("classifier", "autoencoder"):
            t = pictures[
                (pictures["kind"] == kind) & (pictures["space"] == "hidden") & (pictures["method"] == method)
            ].sort_values("width")
            if len(t) < 3:
                continue
            ro, rp = spearman(t["width"], t["trustworthiness"]), spearman(t["width"], t["trustworthiness_pixels"])
            own.append(ro)
            pix.append(rp)
            d_own = float(t["trustworthiness"].iloc[-1] - t["trustworthiness"].iloc[0])
            changes.append(abs(d_own))
            sp = spaces[(spaces["kind"] == kind) & (spaces["space"] == "hidden")].sort_values("width")
            lines.append(
                f"{kind}, {METHOD_NAMES[method]}: trustworthiness against h {_trend(ro)} (Spearman ρ = {fixed(ro)} "
                f"over {len(t)} widths; {fixed(t['trustworthiness'].iloc[0], 3)} at w = {int(t['width'].iloc[0])}, "
                f"{fixed(t['trustworthiness'].iloc[-1], 3)} at w = {int(t['width'].iloc[-1])}, a change of "
                f"{fixed(d_own, 3)}); against the pixels it {_trend(rp)} (ρ = {fixed(rp)}; "
                f"{fixed(t['trustworthiness_pixels'].iloc[0], 3)} to {fixed(t['trustworthiness_pixels'].iloc[-1], 3)})"
                + (
                    f", and the layer itself, before any picture, keeps trustworthiness "
                    f"{fixed(sp['trustworthiness_pixels'].iloc[0], 3)} to "
                    f"{fixed(sp['trustworthiness_pixels'].iloc[-1], 3)} against the pixels"
                    if len(sp)
                    else ""
                )
            )
    if not lines:
        return "no width sweep of at least 3 widths", None
    ok = [(o, q) for o, q in zip(own, pix) if math.isfinite(o) and math.isfinite(q)]
    n = len(ok)
    own_up = sum(1 for o, _ in ok if o >= 0.5)
    pix_up = sum(1 for _, q in ok if q >= 0.5)
    share = pix_up / n if n else math.nan
    ci = wilson_interval(pix_up, n) if n else (math.nan, math.nan)
    verdict = interval_verdict(share, ci, 0.5, claimed="above", n=n, min_n=MIN_SWEEPS) if n else "n/a"
    where = (
        "the picture is faithful to the layer it pictures (its trustworthiness against the layer does not rise with "
        "width in most sweeps): the lie is in the layer, not in the picture"
        if own_up <= n / 2
        else "the pictures are also less faithful to the narrower layers themselves: the lie is in the picture too"
    )
    if verdict == NOT_ENOUGH:
        so = (
            f"With {n} sweep(s) (a verdict needs at least {MIN_SWEEPS}, and the Wilson interval of {pix_up} of {n} is "
            f"[{fixed(ci[0])}, {fixed(ci[1])}]) and changes against the layer as small as {fixed(min(changes), 3)}, "
            "this run does not say whether the picture lies more when the layer is narrower, nor where the lie is."
        )
    elif verdict == "supported":
        so = f"So pictures of narrower layers keep fewer of the pixels' neighbourhoods; {where}."
    else:
        so = "Against the pixels, trustworthiness does not rise with width in most sweeps."
    finding = Finding(
        "The picture of a real network's latent space lies more when the layer is narrower.",
        f"Against the pixels (what the picture is read for), trustworthiness of the picture rises with width (ρ >= "
        f"0.5) in {pix_up} of {n} (kind, method) sweeps (share {fixed(share)}, 95% Wilson interval [{fixed(ci[0])}, "
        f"{fixed(ci[1])}]); against the layer it pictures, in {own_up} of {n} (where the lie is: in the layer, or in "
        f"the picture of it). {so} {ONE_SEED[0].upper() + ONE_SEED[1:]}.",
        verdict,
        key="F-narrower-lies-more",
        n_used=n,
        n_left_out=len(own) - n,
        unit="(kind, method) sweeps over width",
        estimate=share,
        interval=ci,
        null=0.5,
        threshold=0.5,
        comparison="share of the sweeps whose Spearman rho(width, trustworthiness against the pixels) >= 0.5, Wilson "
        f"interval over sweeps, above 0.5 (null: half the sweeps, no tendency); at least {MIN_SWEEPS} sweeps; the "
        "same against the layer pictured says where the lie is and does not enter the verdict",
    )
    return "; ".join(lines) + ". " + so, finding


def sae_finding(pictures: Any, arch: str) -> tuple[str, list[Finding]]:
    """ "The picture of the SAE codes lies less than the picture of the raw layer", one verdict per method.

    Per pair (kind, width, method): trustworthiness against the pixels of the picture of the ``arch`` SAE's codes
    minus that of h. Methods are never pooled: the sweep pictures every width with its sweep method(s) but only the
    picture width with every method, so a pooled mean over layers is mostly one method's answer, and the methods can
    point different ways (the default run: UMAP on 9 layers, -0.011; MDS on 2, +0.003). Per method, the layer is the
    resampling unit: the estimate is the mean over its layers, with its 95% bootstrap interval over layers, against 0
    (:func:`~supviz.study.stats.interval_verdict`; fewer than :data:`~supviz.study.stats.MIN_N` layers: not enough
    evidence). Returns (prose, findings), ``("", [])`` without a pair.
    """
    rows = []
    for (kind, w, method), t in pictures[pictures["kind"] != "pixels"].groupby(["kind", "width", "method"]):
        h = t[t["space"] == "hidden"]
        c = t[(t["space"] == "codes") & (t["architecture"] == arch)]
        if len(h) and len(c):
            row = {"kind": kind, "width": w, "method": method}
            for col in ("trustworthiness_pixels", "continuity_pixels", "knn_accuracy"):
                row[col] = float(c.iloc[0][col]) - float(h.iloc[0][col])
            rows.append(row)
    if not rows:
        return "", []
    import pandas as pd

    d = pd.DataFrame(rows)
    order = [m for m in METHOD_NAMES if m in set(d["method"])] + sorted(set(d["method"]) - set(METHOD_NAMES))
    so_words = {
        "supported": "its pictures of the SAE's codes are more faithful to the data than its pictures of the raw layer",
        "not supported": "its pictures of the SAE's codes are not more faithful to the data than its pictures of the "
        "raw layer: the whole interval is at or below 0",
        NOT_ENOUGH: "this run does not settle it: the interval reaches both sides of 0",
    }
    parts, findings = [], []
    for method in order:
        g = d[d["method"] == method]
        t = g["trustworthiness_pixels"].to_numpy(dtype=float)
        ok = np.isfinite(t)
        layers = t[ok]  # one pair per layer and method: the layer is the unit
        est = float(np.mean(layers)) if layers.size else math.nan
        ci = bootstrap_interval(layers, np.mean)
        verdict = interval_verdict(est, ci, 0.0, claimed="above", n=int(layers.size))
        k = g["knn_accuracy"].to_numpy(dtype=float)
        k_mean = float(np.mean(k[np.isfinite(k)])) if np.isfinite(k).any() else math.nan
        c = g["continuity_pixels"].to_numpy(dtype=float)
        c_mean = float(np.mean(c[np.isfinite(c)])) if np.isfinite(c).any() else math.nan
        name = METHOD_NAMES.get(method, method)
        few = f" ({layers.size} layers: a verdict needs at least {MIN_N})" if 0 < layers.size < MIN_N else ""
        line = (
            f"{name}, over {layers.size} layers ("
            + ", ".join(f"{k_} w = {int(w)}" for k_, w in zip(g["kind"][ok], g["width"][ok]))
            + f"): trustworthiness against the pixels, codes − h, {fixed(est, 3)} "
            f"{interval_words(ci, int(layers.size), how='bootstrap over layers')}, codes higher in "
            f"{int((layers > 0).sum())} of {layers.size}; "
            f"continuity {fixed(c_mean, 3)}, k-NN label accuracy {fixed(k_mean, 3)}"
            + (f"; {int((~ok).sum())} layer(s) left out (undefined)" if (~ok).any() else "")
        )
        so = "this run does not settle it" if few else so_words.get(verdict, "")
        parts.append(f"{line}: {so}{few}")
        findings.append(
            Finding(
                f"({name}) The picture of the SAE codes lies less than the picture of the raw layer.",
                f"{line}. For {name}, {so}{few}. Each method is read on its own (the methods picture different sets of "
                f"layers and can point different ways). {ONE_SEED[0].upper() + ONE_SEED[1:]}.",
                verdict,
                key=f"F-sae-lies-less-{method}",
                method=name,
                n_used=int(layers.size),
                n_left_out=int((~ok).sum()),
                unit="layers (kind, width)",
                estimate=est,
                interval=ci,
                null=0.0,
                threshold=0.0,
                comparison=f"paired difference of trustworthiness against the pixels, {name} picture of the SAE codes "
                f"minus {name} picture of h, mean over layers, bootstrap over layers, above 0; methods not pooled",
            )
        )
    widths = ", ".join(f"{METHOD_NAMES.get(m, m)} on {int((d['method'] == m).sum())}" for m in order)
    text = (
        f"Does the SAE picture lie less? Per method (never pooled: the layers pictured are {widths}), the picture of "
        f"the {arch} SAE codes against the picture of h. "
        + "; ".join(parts)
        + f". {ONE_SEED[0].upper() + ONE_SEED[1:]}."
    )
    return text, findings


def conclusion(r: Any, cal: Any = ...) -> tuple[str, list[Finding]]:
    """The section's text and findings, computed from a :class:`~supviz.real.experiment.RealResult`; ``cal``: its
    :func:`calibration_of` where the caller has it already (each call reads every layer through the cells, bootstrap
    intervals included), else computed here.

    "The picture lies more when the layer is narrower" is read two ways, both measured: against the
    layer it pictures (trustworthiness / continuity of the picture against h) and against the data
    (against the pixels). "The SAE picture lies less" compares, pair by pair (kind, width, method),
    the picture of the SAE codes with the picture of h: trustworthiness and continuity against the
    pixels and the k-NN label accuracy. Undefined values (NaN) are left out and counted.
    """
    cfg = r.config
    arch = cfg["architectures"][0]
    methods = list(cfg["sweep_methods"]) or list(cfg["methods"])
    parts: list[str] = []
    findings: list[Finding] = []
    m = r.models
    clf = m[m["kind"] == "classifier"].groupby("width")["test_accuracy"].mean()
    ae = m[m["kind"] == "autoencoder"].groupby("width")["test_fvu"].mean()
    parts.append(
        f"Data: scikit-learn's digits ({r.data['n']} images of 8 × 8 pixels, 10 classes), pixels / 16, split by class "
        f"into {r.data['n_train']} training and {r.data['n_test']} held-out images (split seed "
        f"{r.data['split_seed']}). Models: {cfg['replicates']} classifier MLP(s) 64 → w → 10 per width and as many "
        f"toy-shaped autoencoders x' = ReLU(W Wᵀx + b), trained together (Adam, {cfg['steps']} steps of "
        f"{cfg['batch_size']} rows, lr {cfg['lr']:g}). Held-out accuracy of the classifier: "
        + ", ".join(f"{fixed(v, 3)} at w = {w}" for w, v in clf.items())
        + (
            ("; autoencoder test FVU: " + ", ".join(f"{fixed(v, 3)} at w = {w}" for w, v in ae.items()))
            if len(ae)
            else ""
        )
        + "."
    )
    q = r.quality[r.quality["architecture"] == arch]
    eff = []
    for kind in ("classifier", "autoencoder"):
        t = q[q["kind"] == kind].sort_values("width")
        if len(t):
            eff.append(
                f"{kind}: "
                + ", ".join(
                    f"F = {fixed(a, 1)} at w = {w} (ψ = {fixed(b)})"
                    for w, a, b in zip(t["width"], t["effective_features"], t["superposition_ratio"])
                )
            )
    above = above_psi_bound(q)
    parts.append(
        f"How many features does the layer hold? An {arch} SAE with {cfg['sae_expansion']:g} latents per dimension, "
        "trained on each hidden layer's training rows and measured on the held-out rows, gives Bereska et al.'s "
        "effective feature count F = exp(H) (H the entropy of the latents' share of activation mass) and ψ = F / w: "
        + "; ".join(eff)
        + ". What ψ can show: the classifier's h = ReLU(x W1 + b1) is non-negative, so ψ > 1 there hints at more "
        "features than dimensions; the autoencoder's h = Wᵀx is signed, and an SAE on centred signed inputs spends a "
        f"+/- pair of latents on each direction, so ψ up to {SIGNED_PAIR:g} arises there with no superposition at all, "
        f"and only ψ > {SIGNED_PAIR:g} would hint at more. What it cannot show: that the layer holds features in "
        "superposition. F is a count of how the SAE spreads activation mass, not of the network's features; it "
        f"cannot exceed the dictionary size {cfg['sae_expansion']:g} w, and on planted features an L1 SAE whose "
        "dictionary exceeds the planted count counts up to 1.5 times too many. "
        + (
            f"{len(above)} of {len(q)} layers are above their bound ("
            + ", ".join(f"{k} w = {w}" for k, w in zip(above["kind"], above["width"]))
            + "): a hint to be checked against the calibration below, not evidence of superposition"
            if len(above)
            else f"No layer is above its bound ({len(q)} layers): nothing here hints at more features than dimensions"
        )
        + "."
    )
    # does the picture lie more when the layer is narrower?
    pix = r.pictures[r.pictures["kind"] == "pixels"]
    pixel_ref = ", ".join(
        f"{METHOD_NAMES[mm]} {fixed(v, 3)}" for mm, v in zip(pix["method"], pix["trustworthiness"]) if mm in methods
    )
    text, finding = narrower_finding(r.pictures, r.spaces, methods)
    if finding is not None:
        parts.append(
            "Does the picture of the latent space lie more when the layer is narrower? Read two ways, over the widths "
            f"{cfg['widths']} (autoencoder {cfg['autoencoder_widths']}): {text} For reference, the pixels' own picture "
            f"has trustworthiness {pixel_ref}."
        )
        findings.append(finding)
    # does the SAE picture lie less?
    text, sae = sae_finding(r.pictures, arch)
    if sae:
        parts.append(text)
        findings.extend(sae)
    # calibration
    if cal is ...:
        cal = calibration_of(r, arch)
    if cal is not None:
        ranking, count, readings = cal
        n_cells = int((r.calibration["architecture"] == arch).sum())
        cells = calibration_cells(r)
        parts.append(
            calibration_text(
                ranking,
                readings,
                n_cells=n_cells,
                picture_width=int(cfg["picture_width"]),
                count=count,
                chance=lambda m: chance_mmcs(m, float(cfg["sae_expansion"]), arch),
                cells=cells[cells["architecture"] == arch],
            )
        )
    return "\n\n".join(parts), findings
