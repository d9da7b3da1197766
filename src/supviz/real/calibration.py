"""The calibration bridge: no-ground-truth measures on toy cells, where the truth is known.

A real network has no known features, so its SAEs can only be judged by what needs no truth
(:data:`supviz.real.layer.QUALITY_KEYS`). On a toy model's cell the truth is known: the rows of
``W`` it represents. :func:`calibrate` treats a cell's ``h = x W`` exactly as a digits layer
(the same number of rows, the same SAE recipe, the same measures; :func:`~supviz.real.layer.train_layer_saes`)
and scores the same SAEs against the represented rows (:func:`supviz.sae.score`: MMCS, the mean
over true features of the max cosine to a decoder row, Sharkey, Braun & Millidge 2022; mean over
the seeds). :func:`rank_correlations` then says, per measure, how well it tracks the true recovery
over cells: Spearman's rank correlation (ties at their expectation over random orders,
:func:`supviz.metrics.ranks.spearman_tie_expected`), with its two-sided p-value (scipy.stats.spearmanr's),
and the mean of the same correlation inside each hidden size ``m`` (a measure
and the recovery can both change with the layer's width; inside one width they cannot do so together
by that route). :func:`read_through` reads a digits layer's measure through the cells:
an isotonic (monotone) fit of true MMCS on the measure over cells (scikit-learn's
``IsotonicRegression``, direction chosen by the sign of the rank correlation), evaluated at the
layer's value, NaN (with the reason) outside the cells' range of the measure.
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
        One row per cell: ``index, label, m, p, importance, n_represented``, every measure of
        :data:`~supviz.real.layer.QUALITY_KEYS`, ``mmcs`` (true recovery, mean over seeds) and
        ``notes`` (why a value is NaN).
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
    from supviz.sae.metrics import score
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
        }
        row.update({k: lay.quality[k] for k in QUALITY_KEYS})
        notes = dict(lay.quality.reasons)
        if np.isfinite(sc.mmcs).all():
            row["mmcs"] = float(np.mean(sc.mmcs))
        else:
            row["mmcs"] = math.nan
            notes["mmcs"] = next((n["mmcs"] for n in sc.notes if "mmcs" in n), "undefined for a seed")
        row["notes"] = reason_text(notes)
        rows.append(row)
    table = pd.DataFrame(rows)
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
    table: "pd.DataFrame", *, target: str = "mmcs", measures: Sequence[str] = CALIBRATED, within: str | None = "m"
) -> "pd.DataFrame":
    """Spearman's rank correlation of each measure with ``target`` over the rows (cells) where both are defined.

    ``within`` (default the hidden size ``m``) adds ``rho_within``: the mean of the rank correlations
    computed inside each group of equal ``within`` with at least 3 defined, non-constant cells (NaN
    when no group qualifies). Across cells of different ``m`` a measure can track recovery only
    because both change with ``m``; inside a group it cannot.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure, rho, p_value, n_cells, rho_within, n_groups, reason`` (``rho``
        NaN, with the reason, for fewer than 3 cells or a constant column).
    """
    import pandas as pd

    out = []
    for m in measures:
        row: dict[str, Any] = {
            "measure": m,
            "rho": math.nan,
            "p_value": math.nan,
            "n_cells": 0,
            "rho_within": math.nan,
            "n_groups": 0,
            "reason": "",
        }
        if m not in table.columns or target not in table.columns:
            out.append({**row, "reason": f"no column {m!r}"})
            continue
        a = table[m].to_numpy(dtype=float)
        b = table[target].to_numpy(dtype=float)
        rho, p, n, reason = _spearman(a, b, m, target)
        row.update(rho=rho, p_value=p, n_cells=n, reason=reason or "")
        if within is not None and within in table.columns:
            per = [
                _spearman(a[g], b[g], m, target)[0]
                for g in (table[within].to_numpy() == v for v in pd.unique(table[within]))
            ]
            per = [r for r in per if math.isfinite(r)]
            row.update(rho_within=float(np.mean(per)) if per else math.nan, n_groups=len(per))
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


def read_through(
    table: "pd.DataFrame", measure: str, values: Any, *, target: str = "mmcs"
) -> tuple[np.ndarray, list[str]]:
    """The ``target`` (true MMCS) that toy cells with the same ``measure`` had: a monotone fit, read at ``values``.

    An isotonic regression of ``target`` on ``measure`` over the cells where both are defined
    (``sklearn.isotonic.IsotonicRegression``, increasing when Spearman's rho >= 0, else
    decreasing), evaluated at each value.

    Returns
    -------
    (estimates, reasons)
        ``estimates [len(values)]``; NaN where the value is NaN, lies outside the cells' range of
        the measure (no extrapolation), or the fit is undefined (fewer than 3 cells or a constant
        measure); ``reasons[i]`` says why ("" where defined).
    """
    from sklearn.isotonic import IsotonicRegression

    from supviz.metrics.ranks import spearman_tie_expected

    v = np.atleast_1d(np.asarray(values, dtype=float))
    a = table[measure].to_numpy(dtype=float)
    b = table[target].to_numpy(dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    est = np.full(len(v), np.nan)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0:
        return est, [f"{measure}: too few distinct calibration cells ({int(ok.sum())})"] * len(v)
    rho = spearman_tie_expected(a[ok], b[ok])[0]
    fit = IsotonicRegression(increasing=bool(rho >= 0), out_of_bounds="nan").fit(a[ok], b[ok])
    lo, hi = float(a[ok].min()), float(a[ok].max())
    reasons = []
    for i, x in enumerate(v):
        if not np.isfinite(x):
            reasons.append(f"{measure} undefined for this layer")
        elif not lo <= x <= hi:
            reasons.append(f"{measure} = {x:.3g} outside the toy cells' range [{lo:.3g}, {hi:.3g}]")
        else:
            est[i] = float(fit.predict([x])[0])
            reasons.append("")
    return est, reasons
