"""The calibration bridge: no-ground-truth measures on toy cells, where the truth is known.

A real network has no known features, so its SAEs can only be judged by what needs no truth
(:data:`supviz.real.layer.QUALITY_KEYS`). On a toy model's cell the truth is known: the rows of
``W`` it represents. :func:`calibrate` treats a cell's ``h = x W`` exactly as a digits layer
(the same number of rows, the same SAE recipe, the same measures; :func:`~supviz.real.layer.train_layer_saes`)
and scores the same SAEs against the represented rows (:func:`supviz.sae.score`: MMCS, the mean
over true features of the max cosine to a decoder row, Sharkey, Braun & Millidge 2022; mean over
the seeds). :func:`rank_correlations` then says, per measure, how well it tracks the true recovery
over cells: Spearman's rank correlation (ties at their expectation over random orders,
:func:`supviz.metrics.ranks.spearman_tie_expected`), with its two-sided p-value (scipy.stats.spearmanr's), over
all cells (the within-``m`` statistic, which decides which measure tracks recovery, is
:func:`supviz.study.stats.stratified_spearman`, applied by the study's section F: a measure and the recovery can
both change with the layer's width, and pooled over widths that alone correlates them). :func:`read_through` reads
a digits layer's measure through the cells of one hidden size: an isotonic (monotone) fit of true MMCS on the
measure over the cells of the hidden size ``m`` nearest to the layer's width (:func:`matching_m`; scikit-learn's
``IsotonicRegression``, direction chosen by the sign of the rank correlation inside that ``m``), evaluated at the
layer's value, NaN (with the reason) outside those cells' range of the measure or where no ``m`` lies within
:data:`MAX_WIDTH_RATIO` of the width. :func:`read_layers` does so for every layer and measure;
:func:`read_through_interval` gives one reading its percentile-bootstrap interval over those cells.
:func:`place_layer` says whether the cells can place a layer at all: the cells' recovery can hang on what the measure
does not see (the importance variant of their features), and then no one MMCS goes with the layer's value.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.scores import reason_text
from supviz.core.seeding import SeedLike, child
from supviz.core.validation import check_indices, check_int
from supviz.errors import SupvizError
from supviz.real.layer import QUALITY_KEYS, SAESettings

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from supviz.toy.grid import TrainedGrid

log = logging.getLogger(__name__)

#: Measures whose rank correlation with the true MMCS is reported: every layer-SAE quality measure.
CALIBRATED = QUALITY_KEYS


@dataclass(eq=False)
class Calibration:
    """Toy cells measured without and with their ground truth.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cell: ``index, label, m, p, importance, n_represented``, ``d_sae`` and ``over_capacity``
        (:func:`mark_capacity`), every measure of
        :data:`~supviz.real.layer.QUALITY_KEYS`, ``mmcs`` (true recovery, mean over seeds), ``chance_mmcs``
        (what random unit decoders of the SAEs' size score at the cell's m:
        :func:`supviz.sae.metrics.random_mmcs_expectation`) and ``notes`` (why a value is NaN).
    correlations : pandas.DataFrame
        :func:`rank_correlations` of ``table``.
    info : dict
        Settings, seeds, row counts.
    """

    table: "pd.DataFrame"
    correlations: "pd.DataFrame"
    info: dict[str, Any] = field(default_factory=dict)


def calibrate(
    grid: "TrainedGrid",
    indices: Sequence[int] | None = None,
    *,
    settings: SAESettings | None = None,
    n_train: int = 1437,
    n_eval: int = 360,
    seed: SeedLike = 0,
    rule: str = "norm",
    threshold: float | None = None,
    threads: int = 0,
) -> Calibration:
    """Measure toy cells as if they were real layers, and against their truth.

    Parameters
    ----------
    grid : TrainedGrid
        Toy models with known feature probabilities (``supviz.toy.train_grid`` or a study's grid).
    indices : sequence of int, optional
        The cells (default: all).
    settings : SAESettings, optional
        The SAE recipe (use the digits layers' own, so the two compare).
    n_train, n_eval : int
        Rows of ``h = x W`` drawn from the cell's own distribution for training the SAEs and for
        measuring them (defaults: the digits split's sizes).
    seed : int, Generator, SeedSequence or None
        Cell ``g`` draws its rows from ``child(seed, g, 1)``; its SAEs as layer ``"cell g"``.
    rule, threshold :
        Which rows of ``W`` are true features (:func:`supviz.toy.represented_mask`; default
        ``||W_i|| > 0.5``).
    threads : int

    Returns
    -------
    Calibration

    Raises
    ------
    SupvizError
        An empty grid or selection, a cell of unknown feature probability.
    """
    import pandas as pd

    from supviz.real.layer import train_layer_saes
    from supviz.sae.metrics import random_mmcs_expectation, score
    from supviz.sae.sources import FeatureStream

    settings = SAESettings() if settings is None else settings
    if not len(grid):
        raise SupvizError("`grid` holds no cells.")
    idx = check_indices("indices", indices, len(grid))
    n_train = check_int("n_train", n_train, min_value=2)
    n_eval = check_int("n_eval", n_eval, min_value=1)
    layers, streams, evals = [], [], []
    for g in idx:
        if grid.specs[g].probability is None:
            raise SupvizError(f"cell {g} ({grid.labels[g]}) has no feature probability, so its inputs are unknown.")
        stream = FeatureStream.from_toy(grid, g, seed=child(seed, g, 1), rule=rule, threshold=threshold)
        x_train = stream.codes(n_train, eval_stream=False)
        H = (x_train.astype(np.float64) @ stream.directions.astype(np.float64)).astype(np.float32)
        He, xe = stream.evaluation(n_eval)
        layers.append((f"cell {g}", H, He))
        streams.append(stream)
        evals.append((He, xe))
    trained = train_layer_saes(layers, settings, seed=seed, threads=threads)
    rows = []
    for g, stream, (He, xe), lay in zip(idx, streams, evals, trained):
        spec = grid.specs[g]
        sc = score(lay.saes, He, features=stream.features, feature_masks=stream.feature_mask, true_codes=xe)
        row: dict[str, Any] = {
            "index": g,
            "label": grid.labels[g],
            "m": spec.n_hidden,
            "p": float(spec.probability),
            "importance": spec.importance_name,
            "n_represented": int(stream.feature_mask.sum()),
            "d_sae": int(lay.saes[0].W_dec.shape[0]),  # the dictionary: what the represented features must fit
        }
        row.update({k: lay.quality[k] for k in QUALITY_KEYS})
        notes = dict(lay.quality.reasons)
        # what random unit decoders of the same size score at this m, whatever the features (rotation invariance)
        row["chance_mmcs"] = random_mmcs_expectation(int(spec.n_hidden), int(lay.saes[0].W_dec.shape[0]))
        if np.isfinite(sc.mmcs).all():
            row["mmcs"] = float(np.mean(sc.mmcs))
        else:
            row["mmcs"] = math.nan
            notes["mmcs"] = next((n["mmcs"] for n in sc.notes if "mmcs" in n), "undefined for a seed")
        row["notes"] = reason_text(notes)
        rows.append(row)
    table = mark_capacity(pd.DataFrame(rows), expansion=settings.expansion_factor)
    info = {
        "settings": settings.to_dict(),
        "n_train": n_train,
        "n_eval": n_eval,
        "cells": len(idx),
        "represented_rule": rule,
        "represented_threshold": threshold,
    }
    return Calibration(table, rank_correlations(table), info)


def rank_correlations(
    table: "pd.DataFrame", *, target: str = "mmcs", measures: Sequence[str] = CALIBRATED
) -> "pd.DataFrame":
    """Spearman's rank correlation of each measure with ``target`` over the rows (cells) where both are defined.

    Pooled over every hidden size ``m`` in ``table``: across cells of different ``m`` a measure can track recovery
    only because both change with ``m``. Which measure tracks recovery is decided within ``m``
    (:func:`supviz.study.stats.stratified_spearman`, section F's ranking); this pooled value is stated beside it.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure, rho, p_value, n_cells, reason`` (``rho`` NaN, with the reason, for fewer
        than 3 cells or a constant column).
    """
    import pandas as pd

    out = []
    for m in measures:
        row: dict[str, Any] = {"measure": m, "rho": math.nan, "p_value": math.nan, "n_cells": 0, "reason": ""}
        if m not in table.columns or target not in table.columns:
            out.append({**row, "reason": f"no column {m!r}"})
            continue
        rho, p, n, reason = _spearman(table[m].to_numpy(dtype=float), table[target].to_numpy(dtype=float), m, target)
        row.update(rho=rho, p_value=p, n_cells=n, reason=reason or "")
        out.append(row)
    return pd.DataFrame(out)


def _spearman(a: np.ndarray, b: np.ndarray, name: str, target: str) -> tuple[float, float, int, str | None]:
    """``(rho, p, n, reason)`` of the rows where both are finite; NaN with the reason when undefined."""
    from scipy.stats import spearmanr

    from supviz.metrics.ranks import spearman_tie_expected

    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < 3:
        return math.nan, math.nan, n, f"{n} cell(s) with both values defined; a rank correlation needs 3"
    if np.ptp(a[ok]) == 0:
        return math.nan, math.nan, n, f"{name} is constant over the cells"
    if np.ptp(b[ok]) == 0:
        return math.nan, math.nan, n, f"{target} is constant over the cells"
    # rho: ties at their expectation over random orders; the p-value of independence is scipy's (over the
    # permutations of b the two statistics differ by a constant factor, so the permutation p-value is the same)
    rho = spearman_tie_expected(a[ok], b[ok])[0]
    return rho, float(spearmanr(a[ok], b[ok]).pvalue), n, None


#: The largest ratio (either way) between a digits layer's width and the hidden size m of the toy cells it is read
#: through: one octave, the spacing of the digits widths, so each layer is read through the nearest m at most one
#: octave away and no further.
MAX_WIDTH_RATIO = 2.0


def matching_m(width: float, ms: Any, *, max_ratio: float = MAX_WIDTH_RATIO) -> tuple[float, str]:
    """The hidden size among ``ms`` nearest to ``width`` on a log scale, and ``""``; ``(nan, reason)`` when none
    lies within a factor ``max_ratio`` of it (ties: the smaller m)."""
    cand = sorted({float(m) for m in np.asarray(ms, dtype=float).ravel() if np.isfinite(m) and m > 0})
    if not cand or not math.isfinite(float(width)) or width <= 0:
        return math.nan, f"no toy cell to match width {width} (the cells' m: {[int(m) for m in cand]})"
    best = min(cand, key=lambda m: (abs(math.log(m / width)), m))
    if abs(math.log(best / width)) > math.log(max_ratio) + 1e-12:
        return math.nan, (
            f"no toy cells with m within a factor {max_ratio:g} of w = {width:g} (the cells' m: "
            f"{[int(m) for m in cand]})"
        )
    return best, ""


def read_through(
    table: "pd.DataFrame", measure: str, values: Any, *, target: str = "mmcs", m: Any = None
) -> tuple[np.ndarray, list[str]]:
    """The ``target`` (true MMCS) that toy cells with the same ``measure`` had: a monotone fit, read at ``values``.

    An isotonic regression of ``target`` on ``measure`` over the cells where both are defined
    (``sklearn.isotonic.IsotonicRegression``, increasing when Spearman's rho over the same cells >= 0, else
    decreasing), evaluated at each value. ``m`` (one hidden size, or one per value; NaN: no matching cells) fits
    over the cells of that hidden size only (``table["m"] == m``): the measures change with the width, so a fit
    pooled over widths reads a layer's value mostly as a width. ``None`` fits over every cell.

    Returns
    -------
    (estimates, reasons)
        ``estimates [len(values)]``; NaN where the value is NaN, lies outside the fitted cells' range of the
        measure (no extrapolation), or the fit is undefined (fewer than 3 cells or a constant measure);
        ``reasons[i]`` says why ("" where defined).
    """
    v = np.atleast_1d(np.asarray(values, dtype=float))
    if m is None:
        return _read_through(table, measure, v, target, "")
    ms = np.broadcast_to(np.asarray(m, dtype=float), v.shape)
    est, reasons = np.full(len(v), np.nan), [""] * len(v)
    for key in sorted(set(ms.tolist()), key=lambda x: (math.isnan(x), x)):
        sel = np.flatnonzero(ms == key) if math.isfinite(key) else np.flatnonzero(np.isnan(ms))
        if not math.isfinite(key):
            for i in sel:
                reasons[i] = "no toy cells of a matching hidden size m"
            continue
        e, r = _read_through(table[table["m"].to_numpy(dtype=float) == key], measure, v[sel], target, f" (m = {key:g})")
        est[sel] = e
        for i, why in zip(sel, r):
            reasons[i] = why
    return est, reasons


def _read_through(
    table: "pd.DataFrame", measure: str, v: np.ndarray, target: str, where: str
) -> tuple[np.ndarray, list[str]]:
    from sklearn.isotonic import IsotonicRegression

    from supviz.metrics.ranks import spearman_tie_expected

    a = table[measure].to_numpy(dtype=float)
    b = table[target].to_numpy(dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    est = np.full(len(v), np.nan)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0:
        return est, [f"{measure}: too few distinct calibration cells{where} ({int(ok.sum())})"] * len(v)
    rho = spearman_tie_expected(a[ok], b[ok])[0]
    fit = IsotonicRegression(increasing=bool(rho >= 0), out_of_bounds="nan").fit(a[ok], b[ok])
    lo, hi = float(a[ok].min()), float(a[ok].max())
    reasons = []
    for i, x in enumerate(v):
        if not np.isfinite(x):
            reasons.append(f"{measure} undefined for this layer")
        elif not lo <= x <= hi:
            reasons.append(f"{measure} = {x:.3g} outside the toy cells' range{where} [{lo:.3g}, {hi:.3g}]")
        else:
            est[i] = float(fit.predict([x])[0])
            reasons.append("")
    return est, reasons


def monotone_read(x: np.ndarray, y: np.ndarray, value: float, *, increasing: bool) -> float:
    """The least-squares monotone fit of ``y [n]`` on ``x [n]`` read at ``value`` by linear interpolation between the
    fitted points, NaN outside ``[min x, max x]``: what ``sklearn.isotonic.IsotonicRegression(increasing=...,
    out_of_bounds="nan").fit(x, y).predict([value])`` gives (tested equal within 1e-12), without its input
    validation, which took about 70% of a 1,000-resample interval. Tied x values pool to their mean y, weighted by
    their count, as scikit-learn's ``_make_unique`` does; the pool-adjacent-violators fit is
    ``scipy.optimize.isotonic_regression`` (Barlow et al. 1972)."""
    from scipy.optimize import isotonic_regression

    xs, inverse, counts = np.unique(np.asarray(x, dtype=float), return_inverse=True, return_counts=True)
    if not xs[0] <= value <= xs[-1]:
        return math.nan
    ys = np.bincount(inverse, weights=np.asarray(y, dtype=float)) / counts
    fitted = isotonic_regression(ys, weights=counts.astype(float), increasing=increasing).x
    return float(np.interp(value, xs, fitted))


def read_through_interval(
    table: "pd.DataFrame",
    measure: str,
    value: float,
    *,
    m: float,
    target: str = "mmcs",
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: SeedLike = 0,
) -> tuple[float, float, str]:
    """The percentile-bootstrap interval of one :func:`read_through` reading: the cells of hidden size ``m`` resampled
    with replacement (the cell is the unit: the fit has as many points as one m holds), the monotone fit redone on
    each resample (its direction from that resample's rank correlation) and read at ``value``.

    A resample whose cells do not span ``value`` (or that holds fewer than 3 distinct values of the measure) cannot
    read it without extrapolating; where more than ``1 - level`` of the resamples cannot, the interval is undefined.

    Returns
    -------
    (low, high, reason)
        ``reason`` says why the bounds are NaN ("" where defined).
    """
    from supviz.core.seeding import numpy_rng
    from supviz.metrics.ranks import spearman_tie_expected

    cells = table[table["m"].to_numpy(dtype=float) == float(m)]
    a = cells[measure].to_numpy(dtype=float)
    b = cells[target].to_numpy(dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if not math.isfinite(float(value)) or a.size < 3 or np.ptp(a) == 0:
        return math.nan, math.nan, f"{measure}: too few distinct calibration cells (m = {m:g}) for an interval"
    rng = numpy_rng(seed)
    reads = np.full(n_resamples, np.nan)
    for i in range(n_resamples):
        j = rng.integers(0, a.size, a.size)
        x, y = a[j], b[j]
        if np.unique(x).size < 3 or not x.min() <= value <= x.max():
            continue
        rho = spearman_tie_expected(x, y)[0]
        reads[i] = monotone_read(x, y, float(value), increasing=bool(rho >= 0))
    done = reads[np.isfinite(reads)]
    if done.size < level * n_resamples:
        return (
            math.nan,
            math.nan,
            f"{measure} = {value:.3g} lies outside {n_resamples - done.size} of {n_resamples} resamples of the cells "
            f"of m = {m:g}: no interval without extrapolating",
        )
    tail = 100 * (1 - level) / 2
    return float(np.percentile(done, tail)), float(np.percentile(done, 100 - tail)), ""


def read_layers(
    calibration: "pd.DataFrame", quality: "pd.DataFrame", *, measures: Sequence[str] = CALIBRATED, seed: SeedLike = 0
) -> "pd.DataFrame":
    """Every digits layer's measures read through the toy cells of its matching hidden size (:func:`matching_m`),
    per architecture, by the one rule the text reads a layer by: :func:`place_layer` (review 7 item 1: the table
    printed the pooled fit's MMCS for a layer whose cells recover apart by importance variant, the value the text
    refused).

    ``calibration``: the cells (``architecture, m, mmcs``, ``importance`` and the measures); ``quality``: the layers
    (``architecture, kind, width`` and the measures). Returns one row per (architecture, kind, width, measure):
    ``m_used`` (NaN where no m matches), ``value``, ``placed`` (the cells place the layer), ``estimated_mmcs``
    (:attr:`Placement.estimate`; NaN where they do not), ``mmcs_low`` / ``mmcs_high`` (its 95% bootstrap interval,
    :func:`read_through_interval`, ``seed``) and ``reason`` (why the estimate, or else its interval, is NaN).
    """
    import pandas as pd

    rows = []
    for arch, q in quality.groupby("architecture", sort=False):
        cal = calibration[calibration["architecture"] == arch]
        if cal.empty:
            continue
        match = [matching_m(float(w), cal["m"]) for w in q["width"]]
        for measure in measures:
            for (kind, w, v), (mm, no_m) in zip(q[["kind", "width", measure]].itertuples(index=False), match):
                row = {"architecture": arch, "kind": kind, "width": int(w), "measure": measure, "m_used": mm}
                row.update(value=float(v), placed=False, estimated_mmcs=math.nan, mmcs_low=math.nan)
                row.update(mmcs_high=math.nan, reason=no_m)
                if math.isfinite(mm):
                    pl = place_layer(cal, measure, float(v), m=mm, seed=seed)
                    row.update(placed=pl.placed, estimated_mmcs=pl.estimate, mmcs_low=pl.interval[0])
                    row.update(mmcs_high=pl.interval[1], reason=pl.reason or pl.interval_reason)
                rows.append(row)
    return pd.DataFrame(rows)


def mark_capacity(table: "pd.DataFrame", *, expansion: float) -> "pd.DataFrame":
    """The calibration cells with ``d_sae`` and ``over_capacity``: whether a cell represents more features
    (``n_represented``) than its SAEs' dictionary has latents. Then no SAE of that size can give each feature a latent
    of its own, and the cell's MMCS is capped by the dictionary whatever the measure says (review 7 item 1: 2m = 40
    latents against 60 features under uniform importance at m = 20, where section E's 120-latent SAEs recover the same
    cells).

    ``d_sae`` is the table's own (:func:`calibrate` records it); where it is missing (a result cached before it was
    recorded) it is :meth:`supviz.sae.SAEConfig.resolve_d_sae` of the cell's ``m`` with ``expansion`` and the row's
    ``architecture``. Returns a copy; ``over_capacity`` is False where ``n_represented`` is undefined.

    Raises
    ------
    SupvizError
        A cell without ``d_sae`` in a table without ``architecture``.
    """
    from supviz.sae.config import SAEConfig

    out = table.copy()
    have = out["d_sae"].to_numpy(dtype=float) if "d_sae" in out.columns else np.full(len(out), np.nan)
    if not np.isfinite(have).all() and "architecture" not in out.columns:
        raise SupvizError("the calibration cells need `d_sae` or `architecture` to know their dictionary size.")
    out["d_sae"] = [
        int(d)
        if math.isfinite(d)
        else SAEConfig(architecture=str(a), expansion_factor=float(expansion)).resolve_d_sae(int(m))
        for d, a, m in zip(have, out["architecture"] if "architecture" in out.columns else [""] * len(out), out["m"])
    ]
    n = out["n_represented"].to_numpy(dtype=float)
    out["over_capacity"] = np.isfinite(n) & (n > out["d_sae"].to_numpy(dtype=float))
    return out


#: A calibration cell is *near* a layer when its measure lies within this fraction of the measure's range over the
#: cells of that hidden size m (all importance variants, the cells with both the measure and the MMCS defined) of the
#: layer's value: a tenth of the range, so that a window holds a few of the 6 cells a variant has per m without
#: reaching across the range.
NEAR_FRACTION = 0.1

#: The importance variants *agree* near a layer when the gap between their ranges of true MMCS among the near cells
#: (0 where the ranges overlap) is at most this: 0.05 on MMCS's [0, 1] scale, about the spread of MMCS within one
#: variant near a value in the default run (0.48-0.52 for uniform importance at m = 20), where the two variants
#: lie 0.19 apart.
AGREE_WITHIN = 0.05


@dataclass(frozen=True)
class VariantSpread:
    """The calibration cells of one importance variant at one m, seen from a layer's value of the measure.

    ``n_cells`` (with both values defined), ``low`` / ``high``: their range of the measure; ``n_near``: the cells
    near the layer (:data:`NEAR_FRACTION`), ``mmcs_low`` / ``mmcs_high``: the true MMCS range of those near cells
    (NaN without one)."""

    n_cells: int
    low: float
    high: float
    n_near: int
    mmcs_low: float
    mmcs_high: float


@dataclass(frozen=True)
class Placement:
    """Whether the calibration cells of one hidden size place a layer's MMCS (:func:`place_layer`).

    ``window``: the half-width of *near*, in the measure's units; ``low`` / ``high``: the measure's range over every
    cell of ``m``; ``variants``: per importance variant, its :class:`VariantSpread`; ``placed``: True only where the
    rule holds, then ``estimate`` (the monotone read-through over all cells of ``m``, :func:`read_through`) and
    ``interval`` (:func:`read_through_interval`; NaN bounds with ``interval_reason``); ``reason``: why the cells
    cannot place the layer ("" where placed); ``failed``: which part of the rule fails (``"undefined"``, ``"far"``:
    a variant has no near cell, ``"edge"``: the value lies outside a variant's range, ``"apart"``: the variants'
    near MMCS do not overlap, ``"fit"``: the read-through is undefined; "" where placed) and ``which``: the
    variants it fails for."""

    measure: str
    value: float
    m: float
    window: float
    low: float
    high: float
    variants: dict[str, VariantSpread]
    placed: bool
    reason: str
    estimate: float = math.nan
    interval: tuple[float, float] = (math.nan, math.nan)
    interval_reason: str = ""
    failed: str = ""
    which: tuple[str, ...] = ()

    @property
    def mmcs_low(self) -> float:
        """The lowest true MMCS among the near cells of every variant (NaN without one)."""
        v = [s.mmcs_low for s in self.variants.values() if s.n_near]
        return min(v) if v else math.nan

    @property
    def mmcs_high(self) -> float:
        """The highest true MMCS among the near cells of every variant (NaN without one)."""
        v = [s.mmcs_high for s in self.variants.values() if s.n_near]
        return max(v) if v else math.nan


def place_layer(
    table: "pd.DataFrame",
    measure: str,
    value: float,
    *,
    m: float,
    target: str = "mmcs",
    by: str = "importance",
    near_fraction: float = NEAR_FRACTION,
    agree_within: float = AGREE_WITHIN,
    seed: SeedLike = 0,
) -> Placement:
    """Can the calibration cells of hidden size ``m`` place a layer whose ``measure`` is ``value``?

    A monotone fit of MMCS on the measure (:func:`read_through`) reads *some* MMCS at any value inside the cells'
    range, even where the cells' MMCS is set by what the measure does not see: in the default run, at m = 20 the
    importance-0.9^i cells sit at FVU 0.063-0.113 with MMCS 0.59-0.72 and the uniform ones at FVU 0.089-0.120 with
    MMCS 0.48-0.52, so the importance variant sets MMCS and FVU barely does (review 6 item 2). The rule, per
    variant of ``by`` among the cells of ``m`` where the measure and ``target`` are defined:

    - a cell is *near* the layer when ``|measure - value| <= near_fraction x (max - min of the measure over every
      cell of m)`` (:data:`NEAR_FRACTION`);
    - the cells place the layer only where every variant has a near cell, ``value`` lies inside every variant's own
      range of the measure (no variant is read off its edge), and the variants *agree*: the ranges of ``target``
      among their near cells overlap or lie at most ``agree_within`` apart (the highest of the variants' lowest near
      MMCS exceeds the lowest of their highest by at most :data:`AGREE_WITHIN`). One variant agrees with itself.

    Placed: the read-through's estimate and its bootstrap interval over the cells of ``m``
    (:func:`read_through_interval`, ``seed``). Otherwise only the spreads, and the reason.

    Parameters
    ----------
    table : pandas.DataFrame
        The calibration cells: ``m``, ``measure``, ``target`` and ``by`` (without ``by``: one variant).
    measure : str
    value : float
        The layer's value of the measure.
    m : float
        The hidden size whose cells read the layer (:func:`matching_m`).

    Returns
    -------
    Placement

    Raises
    ------
    SupvizError
        ``near_fraction`` not in (0, 1], ``agree_within`` negative.
    """
    if not 0 < float(near_fraction) <= 1:
        raise SupvizError(f"`near_fraction` must be in (0, 1]; got {near_fraction}.")
    if not float(agree_within) >= 0:
        raise SupvizError(f"`agree_within` must be >= 0; got {agree_within}.")
    value = float(value)
    cells = table[table["m"].to_numpy(dtype=float) == float(m)]
    a = cells[measure].to_numpy(dtype=float) if measure in cells else np.full(len(cells), np.nan)
    b = cells[target].to_numpy(dtype=float) if target in cells else np.full(len(cells), np.nan)
    ok = np.isfinite(a) & np.isfinite(b)
    groups = cells[by].astype(str).to_numpy() if by in cells else np.full(len(cells), "")
    if not ok.any() or not math.isfinite(value):
        why = (
            f"{measure} undefined for this layer"
            if not math.isfinite(value)
            else f"no calibration cell of m = {m:g} with {measure} and {target} defined"
        )
        return Placement(measure, value, float(m), math.nan, math.nan, math.nan, {}, False, why, failed="undefined")
    a, b, groups = a[ok], b[ok], groups[ok]
    low, high = float(a.min()), float(a.max())
    window = float(near_fraction) * (high - low)
    near = np.abs(a - value) <= window
    variants: dict[str, VariantSpread] = {}
    for v in dict.fromkeys(groups.tolist()):
        g = groups == v
        nb = b[g & near]
        variants[v] = VariantSpread(
            n_cells=int(g.sum()),
            low=float(a[g].min()),
            high=float(a[g].max()),
            n_near=int(nb.size),
            mmcs_low=float(nb.min()) if nb.size else math.nan,
            mmcs_high=float(nb.max()) if nb.size else math.nan,
        )
    spread = (measure, value, float(m), window, low, high, variants)
    far = tuple(v for v, s in variants.items() if not s.n_near)
    if far:
        why = f"no cell of {', '.join(far)} lies within {window:.3g} of the layer's {measure}"
        return Placement(*spread, False, why, failed="far", which=far)
    edge = tuple(v for v, s in variants.items() if not s.low <= value <= s.high)
    if edge:
        why = f"the layer's {measure} lies outside the range of the cells of {', '.join(edge)}"
        return Placement(*spread, False, why, failed="edge", which=edge)
    gap = max(s.mmcs_low for s in variants.values()) - min(s.mmcs_high for s in variants.values())
    if gap > float(agree_within):
        why = f"near the layer's {measure} the variants' {target} ranges lie {gap:.3g} apart (> {agree_within:g})"
        return Placement(*spread, False, why, failed="apart", which=tuple(variants))
    est, why_fit = read_through(table, measure, [value], target=target, m=m)
    if not math.isfinite(float(est[0])):
        return Placement(*spread, False, why_fit[0], failed="fit")
    lo, hi, no_ci = read_through_interval(table, measure, value, m=m, target=target, seed=seed)
    return Placement(*spread, True, "", float(est[0]), (lo, hi), no_ci)
