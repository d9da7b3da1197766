"""Section E's numbers in words: pure functions of its tidy rows (so a test can recompute each).

Inputs are the section's rows as pandas frames:

- ``e1``: one row per (architecture, cell) with ``method`` (the architecture), ``importance``,
  ``m``, ``p`` and the recovery scores (``mmcs``, ``feature_mcc``, ``recovery_rate``, ``dead_fraction``,
  ``l0``, ``true_l0``, ``fvu``);
- ``codes``: one row per (cell, method, space) with ``importance``, ``m``, ``p``, ``method``
  (``exact``, ``mds``, ``umap``, ``tsne``), ``space`` (``x_rep``, ``h_rep``, ``codes``), ``knn_recall``
  against x, ``k``, ``n_points`` and ``features_per_dim`` (section D's rows for x_rep and h_rep, section E's for
  the SAE codes of h_rep).

Rules (each a module constant, stated in the report):

- A cell is *sparse* when ``p <= sparse_p`` (default 0.2: p = 0.17, 0.09, 0.05 of the study's grid).
- A cell is *dense* when more features are active per input, on average, than h has dimensions:
  ``p * n_features > m`` (:func:`is_dense`; the claim's own words). At the study's n = 60 that is every m at
  p = 1, m <= 30 at p = 0.55 (33 active), m <= 10 at p = 0.3 (18), m <= 5 at p = 0.17 (9.9) and p = 0.091 (5.5)
  and no m at p = 0.05 (3): 18 of the 36 cells; dense and sparse are not complements.
- A cell's *chance-corrected* MMCS is ``(MMCS - chance) / (1 - chance)``, chance the mean MMCS of the random unit
  decoders (Cohen's kappa's form: 0 = what random directions score, 1 = a perfect match); a verdict on recovery
  takes its median over *all* cells with a defined MMCS, never over the cells that happened to score above
  chance (a median selected on the outcome).
- A cell's SAE is *above chance* on a score when the score exceeds every one of the random unit
  decoders' (``{score}_chance_max``, :mod:`supviz.sae.chance`: the trained SAE's shape, scored by the
  same function; 19 draws: a rank test at p = 0.05). A cell at chance says nothing about recovery:
  verdicts speak of the cells above chance and count the others, never pooling them into a median.
- A cell's features are *recovered* when its MMCS >= :data:`RECOVERED_MMCS` (0.9, the cosine of
  the recovery rate) and above chance.
- Whether the codes *win back* the neighbourhood loss superposition causes is read as section D reads the study's
  claim: h_rep (x restricted to the represented features, through W's rows of those features) against x_rep (x
  restricted to those features), only in the cells whose W has superposition (``||W||_F^2 / m`` > 1.1). The codes
  are f(h_rep), the SAE (trained on h) applied to h_rep: h also carries the dropped features' short rows, which no
  SAE on h can recover and which break x_rep's ties at the origin. Per method, recalls against x are
  chance-corrected, ``(R - c) / (1 - c)`` with ``c = k / (N - 1)``, and the verdict reads the *paired difference*
  per cell, ``codes' - h_rep'`` (the gain over h_rep, in chance-corrected recall), its median over the cells with
  a 95% bootstrap interval over cells (:func:`won_back_effect`), against 0; beside it ``codes' - x_rep'`` (how far
  the codes stay below x_rep). The share ``(R'_codes - R'_h_rep) / (R'_x_rep - R'_h_rep)`` is kept as a descriptive
  number only: a ratio of small differences, it reached -3.14, -1.97 and 1.20 in single cells of the default run,
  and needs its denominator guarded (an m where h_rep loses less than :data:`MIN_LOSS` of x_rep's recall is left out
  of the share only).

Undefined values (NaN) never enter a median; every summary says how many cells it left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.text import fmt, fmt_p, plural  # noqa: F401  (fmt_p: the findings' names)
from supviz.errors import SupvizError
from supviz.report.records import Finding
from supviz.report.words import space_words
from supviz.study.common import PICTURE_NAMES
from supviz.study.sources import SHARKEY
from supviz.study.stats import (
    MIN_N,
    NOT_ENOUGH,
    bootstrap_interval,
    interval_verdict,
    stratified_bootstrap_interval,
    wilson_interval,
)
from supviz.toy.importance import variant_label

#: Cells with p at or below this are "sparse" in the summaries.
SPARSE_P = 0.2
#: MMCS at or above which a cell's features count as recovered.
RECOVERED_MMCS = 0.9
#: Median chance-corrected MMCS above which the SAE recovers the features: half way from chance to a perfect match.
RECOVERED_CORRECTED = 0.5
#: Share of the failing cells that must be dense for "recovery fails where the features are dense" (or the base rate
#: of dense cells, where that is higher: a share at the base rate says nothing).
DENSE_SHARE = 0.75
#: Said of every verdict on trained models: its uncertainty is over cells, not over training runs.
ONE_SEED = (
    "one SAE and one toy model per cell: the interval is over cells and does not include the spread over optimisation "
    "seeds"
)
#: Smallest relative loss of h_rep's chance-corrected recall against x_rep's (per cell, and per m of means) for which
#: the share won back is defined.
MIN_LOSS = 0.10  # section D's HOLDS_BELOW: a smaller relative loss is one the study's claim calls negligible
#: How a cell's reason opens where the codes of the represented features lose too little to win back.
SMALL_LOSS = "the codes of the represented features lose less than"

E1_METRICS = ("mmcs", "feature_mcc", "recovery_rate", "dead_fraction", "l0_ratio", "fvu")
#: The scores with a chance level (:data:`supviz.sae.chance.CHANCE_SCORES`).
CHANCE_SCORES = ("mmcs", "feature_mcc", "recovery_rate")
ARCH_NAME = {
    "relu_l1": "ReLU + L1 (Sharkey et al. 2022)",
    "relu_l1_decnorm": "ReLU + decoder-norm L1 (Anthropic 2024)",
    "topk": "TopK + AuxK (Gao et al. 2024)",
    "batchtopk": "BatchTopK (Bussmann et al. 2024)",
    "jumprelu": "JumpReLU (Rajamanoharan et al. 2024)",
}
#: Cited, not measured here: docs/bench/sae.md, "The five architectures on the 72 cells" (the study's own
#: weights, 2,000 steps, d_sae 120, batch 128, 2-core VM; re-measured 2026-12-07 after issue 20 made SAELens'
#: recipe JumpReLU's default, which moved it from 0.970 to 0.994): mean MMCS over the 36 cells with p <= 0.17.
BENCH_SPARSE_MMCS = {"relu_l1": 0.955, "relu_l1_decnorm": 0.971, "topk": 0.988, "batchtopk": 0.967, "jumprelu": 0.994}


def _median(values: Any) -> tuple[float, int, int]:
    """(median of the finite values, how many, how many NaN left out)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    return (float(np.median(v[ok])) if ok.any() else float("nan")), int(ok.sum()), int((~ok).sum())


def is_sparse(p: Any, sparse_p: float = SPARSE_P) -> Any:
    """Whether feature probability ``p`` (scalar or array) is in the sparse region."""
    return np.asarray(p, dtype=float) <= sparse_p * (1 + 1e-9)


def is_dense(p: Any, m: Any, n_features: Any) -> Any:
    """Whether more features are active per input, on average, than h has dimensions: ``p * n_features > m``
    (scalars or arrays of one shape)."""
    return np.asarray(p, dtype=float) * np.asarray(n_features, dtype=float) > np.asarray(m, dtype=float)


def feature_count(e1: Any, n_features: int | None) -> Any:
    """The toy models' feature count per row of ``e1``: ``n_features`` where given, else the ``n_features`` column.

    Raises
    ------
    SupvizError
        Neither is given (dense cells cannot be told without it).
    """
    if n_features is not None:
        return np.full(len(e1), float(n_features))
    if "n_features" in e1:
        return e1["n_features"].to_numpy(dtype=float)
    raise SupvizError("`n_features` must be given (or an `n_features` column) to tell dense cells; got neither.")


def chance_corrected(e1: Any, score: str = "mmcs") -> np.ndarray:
    """``(score - chance) / (1 - chance)`` per row (module notes), chance the ``{score}_chance`` column; NaN where
    either is undefined or the chance level is 1 (nothing to correct against)."""
    v = e1[score].to_numpy(dtype=float)
    c = e1[f"{score}_chance"].to_numpy(dtype=float) if f"{score}_chance" in e1 else np.full(len(v), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c < 1, (v - c) / (1 - c), np.nan)


def above_chance(e1: Any, score: str = "mmcs") -> np.ndarray | None:
    """Per row, whether ``score`` exceeds every random decoder's (``{score}_chance_max``); False where either is
    undefined; None when the table has no chance level."""
    col = f"{score}_chance_max"
    if col not in e1:
        return None
    v, c = e1[score].to_numpy(dtype=float), e1[col].to_numpy(dtype=float)
    return np.isfinite(v) & np.isfinite(c) & (v > c)


def with_l0_ratio(e1: Any) -> Any:
    """``e1`` with ``l0_ratio = l0 / true_l0`` (NaN where the true L0 is 0 or undefined)."""
    out = e1.copy()
    true = out["true_l0"].astype(float)
    out["l0_ratio"] = np.where(true > 0, out["l0"].astype(float) / true.where(true > 0, 1.0), np.nan)
    return out


# ----------------------------------------------------------------------------------- recovery


@dataclass
class RegionSummary:
    """Medians of the recovery scores over the cells of one region (sparse or dense)."""

    architecture: str
    importance: str
    region: str
    n_cells: int
    n_undefined: int
    """Cells whose MMCS is undefined (no represented feature), left out of every median."""
    medians: dict[str, float] = field(default_factory=dict)
    """Medians of :data:`E1_METRICS` and, where measured, of each score's chance level (``mmcs_chance``, ...)."""
    n_above_chance: int | None = None
    """Cells whose MMCS is above chance (None: no chance level measured)."""


def region_summaries(e1: Any, *, sparse_p: float = SPARSE_P) -> list[RegionSummary]:
    """Per architecture, importance variant and region: medians of :data:`E1_METRICS` over cells."""
    t = with_l0_ratio(e1)
    t = t.assign(region=np.where(is_sparse(t["p"], sparse_p), "sparse", "dense"))
    out = []
    for (arch, imp, region), g in t.groupby(["architecture", "importance", "region"], sort=False):
        med = {}
        for col in (*E1_METRICS, *(f"{c}_chance" for c in CHANCE_SCORES if f"{c}_chance" in g)):
            med[col] = _median(g[col])[0]
        above = above_chance(g)
        out.append(
            RegionSummary(
                str(arch),
                str(imp),
                str(region),
                len(g),
                int(g["mmcs"].isna().sum()),
                med,
                None if above is None else int(above.sum()),
            )
        )
    order = {"sparse": 0, "dense": 1}
    return sorted(out, key=lambda r: (r.architecture, r.importance, order[r.region]))


@dataclass
class Failures:
    """Where recovery fails (MMCS < :data:`RECOVERED_MMCS`, or not above chance) for one architecture and variant."""

    architecture: str
    importance: str
    n_defined: int
    n_undefined: int
    failing: list[tuple[int, float]]
    by_p: dict[float, tuple[int, int]]
    """p -> (failing cells, cells with a defined MMCS)."""
    by_m: dict[int, tuple[int, int]]
    dense_share: float
    """Share of the failing cells that are dense (:func:`is_dense`; NaN when none fails)."""
    sparse_failing: list[tuple[int, float]] = field(default_factory=list)
    """Failing cells that are sparse (p <= ``sparse_p``)."""
    n_dense: int = 0
    """Cells with a defined MMCS that are dense: ``n_dense / n_defined`` is the base rate ``dense_share`` is set
    against."""
    n_dense_failing: int = 0
    """Failing cells that are dense."""
    mmcs_dense: float = float("nan")
    """Median MMCS of the dense cells with a defined MMCS."""
    mmcs_other: float = float("nan")
    """Median MMCS of the other (not dense) cells with a defined MMCS."""


def failures(
    e1: Any, *, n_features: int | None = None, threshold: float = RECOVERED_MMCS, sparse_p: float = SPARSE_P
) -> list[Failures]:
    """Per architecture and variant: the cells with MMCS below ``threshold`` or not above chance, counted per p and
    per m, and how many of them are dense (:func:`is_dense` with ``n_features``: :func:`feature_count`)."""
    out = []
    t = e1.assign(_dense=is_dense(e1["p"], e1["m"], feature_count(e1, n_features)))
    for (arch, imp), g in t.groupby(["architecture", "importance"], sort=False):
        ok = g[np.isfinite(g["mmcs"].astype(float))].copy()
        above = above_chance(ok)
        ok["_fails"] = (ok["mmcs"].astype(float) < threshold) | (False if above is None else ~above)
        bad = ok[ok["_fails"]]
        failing = [(int(r.m), float(r.p)) for r in bad.itertuples()]
        by_p = {float(p): (int(grp["_fails"].sum()), len(grp)) for p, grp in ok.groupby("p")}
        by_m = {int(m): (int(grp["_fails"].sum()), len(grp)) for m, grp in ok.groupby("m")}
        n_dense_failing = int(bad["_dense"].sum())
        out.append(
            Failures(
                str(arch),
                str(imp),
                len(ok),
                len(g) - len(ok),
                failing,
                by_p,
                by_m,
                n_dense_failing / len(failing) if failing else float("nan"),
                [c for c in failing if is_sparse(c[1], sparse_p)],
                n_dense=int(ok["_dense"].sum()),
                n_dense_failing=n_dense_failing,
                mmcs_dense=_median(ok.loc[ok["_dense"], "mmcs"])[0],
                mmcs_other=_median(ok.loc[~ok["_dense"], "mmcs"])[0],
            )
        )
    return out


def failure_sentence(f: Failures) -> str:
    """Where recovery fails, in words, with the counts per p (and per m where it fails in sparse cells)."""
    if not f.n_defined:
        return "no cell has a defined MMCS."
    if not f.failing:
        return (
            f"each of the {plural(f.n_defined, 'cell')} with a defined MMCS reaches MMCS >= {RECOVERED_MMCS:g} above "
            "chance."
        )
    ps = ", ".join(f"p = {fmt_p(p)}: {a}/{b}" for p, (a, b) in sorted(f.by_p.items(), reverse=True) if a)
    text = (
        f"MMCS < {RECOVERED_MMCS:g} or not above chance in {len(f.failing)} of {plural(f.n_defined, 'cell')} ({ps}); "
        f"{f.n_dense_failing} of them dense (p·n > m: more features active per input than h has dimensions; "
        f"{f.n_dense} of the {f.n_defined} cells are dense)"
    )
    if f.sparse_failing:
        text += "; sparse cells that fail: " + ", ".join(f"m = {m}, p = {fmt_p(p)}" for m, p in f.sparse_failing)
    return text + (f" ({plural(f.n_undefined, 'cell')} undefined: no represented feature)." if f.n_undefined else ".")


# ------------------------------------------------------------------------------ won back


def won_back_cells(codes: Any, *, min_loss: float = MIN_LOSS) -> Any:
    """Per cell and method: k-NN recall against x of x_rep, h_rep and the codes of h_rep, chance-corrected, and the
    share won back.

    ``codes``: rows with ``importance, m, p, method, space`` (``x_rep``, ``h_rep``: section D's; ``codes``: the SAE
    codes f(h_rep), :func:`supviz.study.recovery.compute.codes_frame`), ``knn_recall``, ``k`` and ``n_points`` (the
    chance level ``c = k / (N - 1)``, :func:`supviz.metrics.neighbors.knn_recall_chance`) and ``features_per_dim``
    (``||W||_F^2 / m``). Returns a frame with ``importance, m, p, method, x_rep, h_rep, codes`` (raw recalls),
    ``chance``, ``x_rep_cc, h_rep_cc, codes_cc`` (``(R - c) / (1 - c)``, section D's
    :func:`~supviz.study.datapoints.findings.chance_corrected`), ``superposed`` (``features_per_dim`` > section D's
    :data:`~supviz.study.datapoints.findings.SUPERPOSED_ABOVE`), ``loss = x_rep_cc - h_rep_cc`` and the cell's
    ``won_back = (codes_cc - h_rep_cc) / loss`` (descriptive only), NaN with a ``reason`` where a recall is undefined,
    where W has no superposition (there is no superposition loss to win back), or where h_rep loses less than
    ``min_loss`` of x_rep's chance-corrected recall (a relative loss, ``loss / x_rep_cc``); and the paired differences
    the verdict reads, ``gain = codes_cc - h_rep_cc`` and ``gap = codes_cc - x_rep_cc`` (NaN only where a recall is).
    """
    import pandas as pd

    from supviz.metrics.neighbors import knn_recall_chance
    from supviz.study.datapoints.findings import SUPERPOSED_ABOVE, chance_corrected

    keys = ["importance", "m", "p", "method"]
    t = codes[codes["space"].isin(["x_rep", "h_rep", "codes"])]
    wide = t.pivot_table(index=keys, columns="space", values="knn_recall", aggfunc="first", dropna=False).reset_index()
    wide.columns.name = None
    for space in ("x_rep", "h_rep", "codes"):
        if space not in wide:
            wide[space] = np.nan
    first = t.groupby(keys, sort=False).first().reset_index()
    extra = [c for c in ("k", "n_points", "features_per_dim") if c in first]
    wide = wide.merge(first[keys + extra], on=keys, how="left")
    wide = wide[wide["codes"].notna() | wide["h_rep"].notna()].copy()

    def _chance(k: Any, n: Any) -> float:
        ok = np.isfinite(float(k)) and np.isfinite(float(n))
        return knn_recall_chance(int(n), int(k)) if ok else float("nan")

    if "k" in wide and "n_points" in wide:
        wide["chance"] = [_chance(k, n) for k, n in zip(wide["k"].astype(float), wide["n_points"].astype(float))]
    else:
        wide["chance"] = np.nan
    for space in ("x_rep", "h_rep", "codes"):
        wide[f"{space}_cc"] = chance_corrected(wide[space], wide["chance"])
    fpd = wide["features_per_dim"].to_numpy(dtype=float) if "features_per_dim" in wide else np.full(len(wide), np.inf)
    wide["superposed"] = fpd > SUPERPOSED_ABOVE
    loss = wide["x_rep_cc"] - wide["h_rep_cc"]
    wide["loss"] = loss
    reason = np.where(
        wide[["x_rep_cc", "h_rep_cc", "codes_cc"]].isna().any(axis=1),
        "a recall is undefined",
        np.where(
            ~wide["superposed"],
            f"no superposition in W (||W||_F² / m <= {SUPERPOSED_ABOVE:g})",
            np.where(
                ~(loss >= min_loss * wide["x_rep_cc"]) | ~(wide["x_rep_cc"] > 0),
                f"{SMALL_LOSS} {min_loss:.0%} of the inputs' chance-corrected recall",
                "",
            ),
        ),
    )
    wide["won_back"] = np.where(reason == "", (wide["codes_cc"] - wide["h_rep_cc"]) / loss.where(loss > 0, 1.0), np.nan)
    wide["reason"] = reason
    # the paired differences the verdict reads: defined wherever the three recalls are, no denominator to guard
    wide["gain"] = wide["codes_cc"] - wide["h_rep_cc"]
    wide["gap"] = wide["codes_cc"] - wide["x_rep_cc"]
    return pd.DataFrame(wide).reset_index(drop=True)


def won_back_effect(cells: Any, *, min_loss: float = MIN_LOSS) -> dict[str, Any]:
    """How much of the superposition loss the codes win back (one method's :func:`won_back_cells` rows).

    The verdict's numbers: over the superposed cells with all three recalls defined, the paired differences per cell
    ``gain = codes' - h_rep'`` and ``gap = codes' - x_rep'`` (chance-corrected recalls), their medians ``gain`` and
    ``gap`` with 95% percentile-bootstrap intervals over cells (the cell is the resampling unit,
    :func:`~supviz.study.stats.bootstrap_interval`), ``n_pairs`` cells (``n_not_paired`` left out: no superposition
    in W, or a recall undefined).

    Descriptive only, the share (a ratio of small differences):
    Over the superposed cells with all three recalls defined: per hidden size m, ``W_m = (mean codes' - mean
    h_rep') / (mean x_rep' - mean h_rep')`` (ratio of the means of the chance-corrected recalls over that m's cells;
    NaN for an m whose h_rep loses less than ``min_loss`` of x_rep's mean: nothing to win back), then their mean, each m
    weighing the same, as section D reads its loss (:func:`~supviz.study.datapoints.findings.
    stratified_relative_loss`). Interval: the 95% delete-one-cluster jackknife with Student's t over the p values
    (:func:`~supviz.study.stats.cluster_jackknife_interval`: cells of one p share their inputs and pictures of x_rep).

    Returns ``estimate``, ``interval``, ``n_clusters`` (p values), ``n_cells`` (cells used), ``n_left_out`` and
    ``reasons`` (cells left out, by reason), ``per_m`` (m -> ``n``, means ``x_rep``, ``h_rep``, ``codes`` of the
    chance-corrected recalls, ``won_back``), ``chance`` (median c), and the raw medians ``x_rep``, ``h_rep``,
    ``codes`` of the cells used.
    """
    from supviz.study.stats import cluster_jackknife_interval

    ok = cells["superposed"].to_numpy(dtype=bool) & np.isfinite(
        cells[["x_rep_cc", "h_rep_cc", "codes_cc"]].to_numpy(dtype=float)
    ).all(axis=1)
    use = cells[ok]
    left = cells[~ok]
    # strata: (importance variant, m), each variant's cells its own (pooling both variants in one (p, m) slot kept
    # only the last one read); p values are the clusters (both variants' cells of one p share their inputs)
    imps = sorted({str(v) for v in use["importance"]}) if "importance" in use else [""]
    ms = sorted({(str(r.importance) if len(imps) > 1 else imps[0], int(r.m)) for r in use.itertuples(index=False)})
    ps = sorted({round(float(v), 9) for v in use["p"]})
    A = np.full((len(ps), len(ms)), np.nan)  # (p, stratum): chance-corrected recall of x_rep
    B, C = A.copy(), A.copy()  # of h_rep, of the codes
    for r in use.itertuples(index=False):
        stratum = (str(r.importance) if len(imps) > 1 else imps[0], int(r.m))
        i, j = ps.index(round(float(r.p), 9)), ms.index(stratum)
        if np.isfinite(A[i, j]):  # pragma: no cover - one cell per (p, importance, m) in a grid
            raise ValueError(f"two cells at p = {r.p}, {stratum}: won_back_effect reads one cell per stratum and p")
        A[i, j], B[i, j], C[i, j] = r.x_rep_cc, r.h_rep_cc, r.codes_cc

    def by_m(idx: np.ndarray) -> np.ndarray:  # (m,)
        a, b, c = A[idx], B[idx], C[idx]
        have = np.isfinite(a).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):  # an m with no cell drawn: NaN, left out below
            ma, mb, mc = (np.where(np.isfinite(v), v, 0.0).sum(axis=0) / have for v in (a, b, c))
            return np.where((have > 0) & (ma > 0) & (ma - mb >= min_loss * ma), (mc - mb) / (ma - mb), np.nan)

    def stat(idx: np.ndarray) -> float:
        v = by_m(np.asarray(idx, dtype=int))
        return float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")

    every = np.arange(len(ps))
    w_m = by_m(every) if ps else np.zeros(0)
    with np.errstate(invalid="ignore"):
        per_m = {
            (m if len(imps) == 1 else f"{m} ({_short_variant(imp)})"): {
                "n": int(np.isfinite(A[:, j]).sum()),
                "x_rep": float(np.nanmean(A[:, j])),
                "h_rep": float(np.nanmean(B[:, j])),
                "codes": float(np.nanmean(C[:, j])),
                "won_back": float(w_m[j]),
            }
            for j, (imp, m) in enumerate(ms)
        }
    reasons: dict[str, int] = {}
    for r in left.itertuples(index=False):
        why = r.reason if r.reason and not r.reason.startswith(SMALL_LOSS) else "a recall is undefined"
        reasons[why] = reasons.get(why, 0) + 1
    n_small = sum(v["n"] for v in per_m.values() if not np.isfinite(v["won_back"]))
    if n_small:
        reasons[f"in an m where {space_words('h_rep')} lose less than {min_loss:.0%} of the inputs' recall"] = n_small
    # the verdict's numbers: paired per cell, every superposed cell with its three recalls (no selection on h_rep's
    # own loss: choosing cells where h_rep happens to lose much would bias codes - h_rep upwards)
    gain = (use["codes_cc"] - use["h_rep_cc"]).to_numpy(dtype=float)
    gap = (use["codes_cc"] - use["x_rep_cc"]).to_numpy(dtype=float)
    nan2 = (float("nan"), float("nan"))
    return {
        "gain": float(np.median(gain)) if gain.size else float("nan"),
        "gain_interval": bootstrap_interval(gain) if gain.size else nan2,
        "gap": float(np.median(gap)) if gap.size else float("nan"),
        "gap_interval": bootstrap_interval(gap) if gap.size else nan2,
        "n_pairs": int(gain.size),
        "n_not_paired": int(len(left)),
        "estimate": stat(every) if ps else float("nan"),
        "interval": cluster_jackknife_interval(len(ps), stat) if ps else (float("nan"), float("nan")),
        "n_clusters": len(ps),
        "n_cells": int(len(use)) - n_small,
        "n_left_out": int(len(left)) + n_small,
        "reasons": reasons,
        "per_m": per_m,
        "chance": float(np.nanmedian(use["chance"])) if len(use) else float("nan"),
        "x_rep": float(np.median(use["x_rep"])) if len(use) else float("nan"),
        "h_rep": float(np.median(use["h_rep"])) if len(use) else float("nan"),
        "codes": float(np.median(use["codes"])) if len(use) else float("nan"),
    }


def _short_variant(importance: str) -> str:
    """``"0.9^i"`` / ``"uniform"``: a variant's name short enough for a list of strata."""
    return variant_label(importance).removeprefix("importance ").removesuffix(" importance")


@dataclass
class WonBack:
    """How much of the superposition loss (h_rep against x_rep) the codes f(h_rep) win back, for one method
    (:func:`won_back_effect` of its cells)."""

    method: str
    importance: str
    """An importance variant, or ``"all"`` for both together."""
    region: str
    """``"all"``, ``"sparse"`` or ``"dense"`` cells."""
    n_cells: int
    """Cells of the region (all of them, superposed or not)."""
    n_left_out: int
    reasons: dict[str, int]
    x_rep: float
    h_rep: float
    codes: float
    """Raw median recalls against x of the cells used."""
    won_back: float
    """The within-m share won back (:func:`won_back_effect`)."""
    interval: tuple[float, float] = (float("nan"), float("nan"))
    n_clusters: int = 0
    """p values the interval resamples."""
    chance: float = float("nan")
    per_m: dict[int, dict[str, float]] = field(default_factory=dict)
    gain: float = float("nan")
    """Median over cells of the paired difference codes' - h_rep' (chance-corrected recall): what the verdict reads."""
    gain_interval: tuple[float, float] = (float("nan"), float("nan"))
    """Its 95% bootstrap interval over cells."""
    gap: float = float("nan")
    """Median over cells of codes' - x_rep' (negative: the codes keep less than x_rep)."""
    gap_interval: tuple[float, float] = (float("nan"), float("nan"))
    n_pairs: int = 0
    """Superposed cells with all three recalls: the verdict's n."""

    @property
    def verdict(self) -> str:
        """:func:`won_back_verdict` of the paired differences."""
        return won_back_verdict(self.gain, self.gain_interval, self.gap_interval, n=self.n_pairs)


def won_back_verdict(
    gain: float, gain_interval: tuple[float, float], gap_interval: tuple[float, float], *, n: int
) -> str:
    """Whether the codes undo the loss, from the paired differences per cell (chance-corrected recall): 'supported'
    when the whole interval of the median gain ``codes' - h_rep'`` is above 0 and the codes are not clearly below
    x_rep (the interval of ``codes' - x_rep'`` reaches 0); 'partly' when the gain is above 0 but the codes stay
    clearly below x_rep (they win back some of the loss, not all); 'not supported' when the whole gain interval is at
    or below 0; :data:`~supviz.study.stats.NOT_ENOUGH` when it straddles 0 or ``n`` is below
    :data:`~supviz.study.stats.MIN_N` cells."""
    v = interval_verdict(gain, gain_interval, 0.0, claimed="above", n=n)
    if v == "supported" and all(math.isfinite(b) for b in gap_interval) and gap_interval[1] < 0:
        return "partly"
    return v


def won_back_summary(
    cells: Any, *, by_importance: bool = False, region: str = "all", sparse_p: float = SPARSE_P
) -> list[WonBack]:
    """:func:`won_back_effect` of :func:`won_back_cells` per method (and per variant with ``by_importance``).

    ``region``: all cells, or only the ``"sparse"`` (p <= ``sparse_p``) or ``"dense"`` ones.
    """
    if region != "all":
        keep = is_sparse(cells["p"], sparse_p)
        cells = cells[keep if region == "sparse" else ~keep]
    out = []
    keys = ["method", "importance"] if by_importance else ["method"]
    order = {m: i for i, m in enumerate(PICTURE_NAMES)}
    for key, g in sorted(cells.groupby(keys, sort=False), key=lambda kv: order.get(_first(kv[0]), 9)):
        method = _first(key)
        imp = key[1] if by_importance else "all"
        e = won_back_effect(g)
        out.append(
            WonBack(
                str(method),
                str(imp),
                region,
                len(g),
                e["n_left_out"],
                e["reasons"],
                e["x_rep"],
                e["h_rep"],
                e["codes"],
                e["estimate"],
                e["interval"],
                e["n_clusters"],
                e["chance"],
                e["per_m"],
                e["gain"],
                e["gain_interval"],
                e["gap"],
                e["gap_interval"],
                e["n_pairs"],
            )
        )
    return out


def _first(key: Any) -> Any:
    return key[0] if isinstance(key, tuple) else key


def won_back_sentence(w: WonBack, *, lead: bool = True) -> str:
    what = "the code spaces themselves" if w.method == "exact" else f"{PICTURE_NAMES[w.method]} pictures"
    where = {"all": "superposed cell", "sparse": "sparse superposed cell", "dense": "dense superposed cell"}[w.region]
    if not w.n_pairs:
        head = what + ": " if lead else ""
        return f"{head}no {where} with all three recalls defined ({w.n_cells} left out)."
    lo, hi = w.gain_interval
    glo, ghi = w.gap_interval
    text = (
        f"{what + ': ' if lead else ''}median k-NN recall against x {fmt(w.x_rep)} for {space_words('x_rep')}, "
        f"{fmt(w.h_rep)} for {space_words('h_rep')}, {fmt(w.codes)} for {space_words('codes_rep')} (over "
        f"{plural(w.n_pairs, where)}; chance {fmt(w.chance, 2)}); paired per cell in chance-corrected recall, the SAE "
        f"codes keep {fmt(w.gain)} more than the codes of the represented features (median; 95% interval {fmt(lo)} "
        f"to {fmt(hi)}, bootstrap over cells) and {fmt(w.gap)} against the inputs on them ({fmt(glo)} to {fmt(ghi)}; "
        "negative = below the inputs)"
    )
    n_share = w.n_cells - w.n_left_out
    if n_share and math.isfinite(w.won_back):
        text += (
            f"; as a share of the loss of {space_words('h_rep')}, within m (descriptive only, a ratio of small "
            f"differences; over {plural(n_share, 'cell')} where they lose at least {MIN_LOSS:.0%}): "
            f"{fmt(100 * w.won_back, 3)}%"
        )
        if w.per_m:
            text += (
                " ("
                + ", ".join(
                    f"m = {m}: {fmt(100 * v['won_back'], 3)}%" if math.isfinite(v["won_back"]) else f"m = {m}: n/a"
                    for m, v in w.per_m.items()
                )
                + ")"
            )
    left = {r: c for r, c in w.reasons.items() if not r.startswith("in an m where")}
    if left:
        text += " (" + "; ".join(f"{plural(c, 'cell')} left out: {r}" for r, c in left.items()) + ")"
    return text + "."


# ---------------------------------------------------------------------------- architectures


@dataclass
class ArchitectureScore:
    """One architecture's medians over the sparse cells where every compared architecture is defined."""

    architecture: str
    n_cells: int
    medians: dict[str, float]


def architecture_ranking(e1: Any, *, sparse_p: float = SPARSE_P) -> list[ArchitectureScore]:
    """Architectures, best first by median MMCS (then feature MCC) over the common defined sparse cells.

    Medians of :data:`E1_METRICS` and, where ``e1`` has them, of ``codes_knn_recall`` and
    ``h_knn_recall`` (k-NN recall against x of the code space and of h themselves).
    """
    t = with_l0_ratio(e1)
    t = t[is_sparse(t["p"], sparse_p) & np.isfinite(t["mmcs"].astype(float))]
    archs = list(dict.fromkeys(t["architecture"]))
    cells = None
    for a in archs:
        have = {(r.importance, int(r.m), round(float(r.p), 9)) for r in t[t["architecture"] == a].itertuples()}
        cells = have if cells is None else cells & have
    cols = [*E1_METRICS, *(c for c in ("codes_knn_recall", "h_knn_recall") if c in t.columns)]
    out = []
    for a in archs:
        g = t[t["architecture"] == a]
        g = g[[(r.importance, int(r.m), round(float(r.p), 9)) in (cells or set()) for r in g.itertuples()]]
        out.append(ArchitectureScore(a, len(g), {c: _median(g[c])[0] for c in cols}))
    return sorted(
        out, key=lambda s: (-np.nan_to_num(s.medians["mmcs"], nan=-9), -np.nan_to_num(s.medians["feature_mcc"], nan=-9))
    )


#: The architecture docs/bench/sae.md found best at recovering the features (its highest sparse-cell MMCS).
BENCH_BEST = max(BENCH_SPARSE_MMCS, key=BENCH_SPARSE_MMCS.get)


#: Architectures a "best of the five" verdict needs: all of them.
MIN_ARCHITECTURES = len(ARCH_NAME)
#: Architectures the "best recovery gives the best codes" verdict needs (a relation needs more than two points).
MIN_ARCHITECTURES_CODES = 3


def _paired_gap(e1: Any, a: str, b: str, column: str, cells: set, sparse_p: float) -> np.ndarray:
    """Per common cell, ``column`` of architecture ``a`` minus that of ``b`` (the paired comparison's unit)."""
    t = e1[is_sparse(e1["p"], sparse_p)]
    key = lambda r: (r.importance, int(r.m), round(float(r.p), 9))  # noqa: E731
    va = {key(r): float(getattr(r, column)) for r in t[t["architecture"] == a].itertuples() if key(r) in cells}
    vb = {key(r): float(getattr(r, column)) for r in t[t["architecture"] == b].itertuples() if key(r) in cells}
    return np.array([va[k] - vb[k] for k in sorted(set(va) & set(vb))], dtype=float)


def _common_cells(e1: Any, archs: list[str], sparse_p: float) -> set:
    t = e1[is_sparse(e1["p"], sparse_p) & np.isfinite(e1["mmcs"].astype(float))]
    cells = None
    for a in archs:
        have = {(r.importance, int(r.m), round(float(r.p), 9)) for r in t[t["architecture"] == a].itertuples()}
        cells = have if cells is None else cells & have
    return cells or set()


def lead_words(e1: Any, ranking: list[ArchitectureScore], column: str, *, sparse_p: float = SPARSE_P) -> str:
    """Whether the first of ``ranking`` (by median ``column``) is ahead of the runner-up, in words: the median paired
    difference over the common sparse cells with its 95% bootstrap interval; "no architecture ahead" when the
    interval includes 0 (a median ranking alone would name a winner of a tie)."""
    order = sorted(ranking, key=lambda s: -np.nan_to_num(s.medians.get(column, float("nan")), nan=-9))
    if len(order) < 2:
        return ""
    a, b = order[0].architecture, order[1].architecture
    gap = _paired_gap(e1, a, b, column, _common_cells(e1, [s.architecture for s in ranking], sparse_p), sparse_p)
    gap = gap[np.isfinite(gap)]
    if gap.size < MIN_N:
        return f"too few common cells ({gap.size}) to say which is ahead"
    est, (lo, hi) = _median(gap)[0], bootstrap_interval(gap)
    if lo > 0:
        return f"{a} ahead of {b} by {fmt(est)} [95% interval {fmt(lo)}, {fmt(hi)}], paired over {gap.size} cells"
    return f"no architecture ahead: {a} minus {b} {fmt(est)} [{fmt(lo)}, {fmt(hi)}], paired over {gap.size} cells"


def architecture_findings(e1: Any, *, sparse_p: float = SPARSE_P) -> list[Finding]:
    """Which architecture recovers the features best, and whether it also gives the best codes.

    "Best of the five" needs all :data:`MIN_ARCHITECTURES` trained and :data:`~supviz.study.stats.MIN_N`
    common sparse cells; it is then a paired comparison of the best and the runner-up over those cells
    (median MMCS difference, 95% bootstrap interval over cells; 'supported' when the benchmark's best is
    best and its interval lies above 0). "The best recovery gives the best codes" needs
    :data:`MIN_ARCHITECTURES_CODES`. Below either minimum the verdict is 'not enough evidence', with the
    numbers of what was trained.
    """
    source = "supviz's own question (the study trained no SAE); the expectation comes from supviz's benchmark"
    claim = (
        f"{ARCH_NAME[BENCH_BEST]}, first of the five SAE architectures in supviz's benchmark on the study's weights "
        f"(mean MMCS {BENCH_SPARSE_MMCS[BENCH_BEST]:.3f} on the sparse cells), recovers the toy features ahead of the "
        "runner-up in this run too."
    )
    claim2 = (
        "The SAE that recovers the features best also gives the codes that keep the inputs' neighbourhoods best: its "
        "latents can be read as the features."
    )
    ranking = architecture_ranking(e1, sparse_p=sparse_p)
    archs = [s.architecture for s in ranking]
    if len(ranking) < 2 or ranking[0].n_cells == 0:
        bench = ", ".join(f"{a} {v:.3f}" for a, v in sorted(BENCH_SPARSE_MMCS.items(), key=lambda kv: -kv[1]))
        why = (
            "no sparse cell has a defined MMCS for every architecture"
            if len(ranking) >= 2
            else f"only {ranking[0].architecture if ranking else 'one architecture'} was trained (list more "
            "architectures in the run's recovery settings to compare them)"
        )
        return [
            Finding(
                claim,
                f"not measured in this run: {why}. supviz's benchmark (the study's own weights, 2,000 steps, not this "
                f"run): mean MMCS on the sparse cells {bench}.",
                "n/a",
                key="E-architecture-best",
                source=source,
                comparison="not run",
            ),
            Finding(claim2, f"not measured in this run: {why}.", "n/a", key="E-architecture-codes", source=source),
        ]
    n = ranking[0].n_cells
    cells = _common_cells(e1, archs, sparse_p)
    parts = [
        f"{s.architecture} {fmt(s.medians['mmcs'])} (feature MCC {fmt(s.medians['feature_mcc'])}, dead "
        f"{fmt(s.medians['dead_fraction'], 2)})"
        for s in ranking
    ]
    best = ranking[0].architecture
    gap = _paired_gap(e1, best, ranking[1].architecture, "mmcs", cells, sparse_p)
    est, _, _ = _median(gap)
    ci = bootstrap_interval(gap)
    text = (
        f"{len(ranking)} of {MIN_ARCHITECTURES} architectures trained; median MMCS over {plural(n, 'sparse cell')} "
        f"(p <= {sparse_p:g}) that every one scored: "
        + "; ".join(parts)
        + f". Highest median: {best}; its median paired MMCS gain over {ranking[1].architecture}: {fmt(est)} "
        f"[{fmt(ci[0])}, {fmt(ci[1])}]"
        + (
            ": ahead."
            if ci[0] > 0
            else ": not ahead (the interval reaches 0 or below): no architecture recovers the features best."
        )
    )
    if len(ranking) < MIN_ARCHITECTURES:
        v = NOT_ENOUGH
        text += f" A best of {MIN_ARCHITECTURES} needs all {MIN_ARCHITECTURES} trained."
    elif BENCH_BEST not in archs:
        v = "n/a"
    elif best == BENCH_BEST:
        v = interval_verdict(est, ci, 0.0, claimed="above", n=n)
        v = NOT_ENOUGH if v == "not supported" else v
    else:
        lose = _paired_gap(e1, BENCH_BEST, best, "mmcs", cells, sparse_p)
        v = interval_verdict(_median(lose)[0], bootstrap_interval(lose), 0.0, claimed="above", n=n)
        v = NOT_ENOUGH if v == "supported" else v
    out = [
        Finding(
            claim,
            text,
            v,
            key="E-architecture-best",
            n_used=n,
            unit="sparse cells",
            estimate=est,
            interval=ci,
            null=0.0,
            threshold=0.0,
            comparison=f"paired MMCS difference, best ({best}) minus runner-up ({ranking[1].architecture}), over the "
            f"common sparse cells; {len(ranking)} of {MIN_ARCHITECTURES} architectures; {ONE_SEED}",
            source=source,
        )
    ]
    coded = [s for s in ranking if math.isfinite(s.medians.get("codes_knn_recall", float("nan")))]
    if len(coded) < 2:
        out.append(
            Finding(
                claim2,
                "not measured: the codes of fewer than two architectures were measured.",
                "n/a",
                key="E-architecture-codes",
                source=source,
            )
        )
        return out
    by_codes = sorted(coded, key=lambda s: -s.medians["codes_knn_recall"])
    h = coded[0].medians.get("h_knn_recall", float("nan"))
    text2 = (
        f"median k-NN recall against x of the code space itself over the same {plural(n, 'sparse cell')} (h itself: "
        f"{fmt(h)}): "
        + "; ".join(
            f"{s.architecture} {fmt(s.medians['codes_knn_recall'])} (MMCS {fmt(s.medians['mmcs'])}, "
            f"L0 / true L0 {fmt(s.medians['l0_ratio'], 2)})"
            for s in by_codes
        )
        + f". Best recovery: {best}; best codes: {by_codes[0].architecture}."
    )
    rival = (
        next(s.architecture for s in by_codes if s.architecture != best)
        if best in {s.architecture for s in coded}
        else by_codes[0].architecture
    )
    gap2 = _paired_gap(e1, best, rival, "codes_knn_recall", cells, sparse_p) if rival != best else np.zeros(0)
    est2 = _median(gap2)[0]
    ci2 = bootstrap_interval(gap2)
    text2 += (
        f" Paired over the common sparse cells, code-space k-NN recall of {best} minus that of {rival} (the best codes "
        f"among the others): median {fmt(est2)} [95% interval {fmt(ci2[0])}, {fmt(ci2[1])}, bootstrap over cells]."
    )
    if len(coded) < MIN_ARCHITECTURES_CODES:
        v2 = NOT_ENOUGH
        text2 += (
            f" With {len(coded)} architectures this is one comparison, not a relation between recovery and codes "
            f"(at least {MIN_ARCHITECTURES_CODES} needed)."
        )
    else:
        v2 = interval_verdict(est2, ci2, 0.0, claimed="above", n=int(np.isfinite(gap2).sum()))
    out.append(
        Finding(
            claim2,
            text2 + f" {ONE_SEED[0].upper() + ONE_SEED[1:]}.",
            v2,
            key="E-architecture-codes",
            n_used=int(np.isfinite(gap2).sum()),
            unit="sparse cells",
            estimate=est2,
            interval=ci2,
            null=0.0,
            threshold=0.0,
            comparison=f"paired code-space k-NN recall, best-recovering architecture ({best}) minus the best-coding "
            f"other ({rival}), over the common sparse cells; {len(coded)} of at least {MIN_ARCHITECTURES_CODES} "
            "architectures needed",
            source=source,
        )
    )
    return out


# ------------------------------------------------------------------------------- findings


def sparse_recovery_finding(
    cells: Any, importance: str, *, default: str, sparse_p: float = SPARSE_P, region: Any = None
) -> Finding:
    """ "The SAE recovers the features when they are sparse", over the sparse cells ``cells`` with a defined MMCS.

    Estimate: the median chance-corrected MMCS (:func:`chance_corrected`) over *all* those cells, its 95% bootstrap
    interval over cells resampled within each m (:func:`~supviz.study.stats.stratified_bootstrap_interval`),
    against :data:`RECOVERED_CORRECTED` (:func:`~supviz.study.stats.interval_verdict`; null 0, what random decoders
    score). Beside it, as its own proportion with its Wilson interval, how many cells score
    above every random decoder (:func:`above_chance`); the cells at chance are named. :data:`~supviz.study.stats.
    NOT_ENOUGH` without a chance level or below :data:`~supviz.study.stats.MIN_N` cells.
    """
    from supviz.toy.importance import variant_label

    label = variant_label(importance)
    n = len(cells)
    above = above_chance(cells)
    mm = cells["mmcs"].to_numpy(dtype=float)
    claim = (
        f"({label}) A sparse autoencoder recovers the features that superposition packed into h when they are "
        "sparse (Sharkey et al. 2022: MMCS near 1)."
    )
    key = f"E-recovered-sparse-{importance}"
    common = dict(
        importance=importance,
        n_left_out=region.n_undefined if region is not None else 0,
        unit="sparse cells",
        source=SHARKEY,
    )
    if above is None or "mmcs_chance" not in cells:
        return Finding(
            claim,
            f"{default}: median MMCS {fmt(_median(mm)[0])} over {plural(n, 'sparse cell')} (p <= {sparse_p:g}); no "
            f"chance level was measured, so no cell can be told from random directions; {ONE_SEED}.",
            NOT_ENOUGH if n else "n/a",
            comparison="median MMCS of the sparse cells; chance level not measured",
            estimate=_median(mm)[0],
            key=key,
            n_used=n,
            threshold=RECOVERED_MMCS,
            **common,
        )
    kappa = chance_corrected(cells)
    est, used, _ = _median(kappa)
    ci = stratified_bootstrap_interval(kappa, cells["m"].to_numpy())
    k_above = int(above.sum())
    share_ci = wilson_interval(k_above, n)
    recovered = above & (mm >= RECOVERED_MMCS)
    v = "n/a" if not used else interval_verdict(est, ci, RECOVERED_CORRECTED, claimed="above", n=used)
    at = cells[~above]
    text = (
        f"{default}: over all {plural(used, 'sparse cell')} (p <= {sparse_p:g}) with a defined MMCS and chance level, "
        f"the median chance-corrected MMCS, (MMCS - chance) / (1 - chance), is {fmt(est)} [95% interval {fmt(ci[0])}, "
        f"{fmt(ci[1])}, bootstrap over cells, within each m where every m has at least {MIN_N}] (median raw MMCS "
        f"{fmt(_median(mm)[0])}, median chance "
        f"{fmt(_median(cells['mmcs_chance'])[0])}); {k_above} of {n} score above every one of their random decoders "
        f"({fmt(100 * k_above / n, 3) if n else 'n/a'}%; 95% Wilson interval {fmt(100 * share_ci[0], 3)}% to "
        f"{fmt(100 * share_ci[1], 3)}%), {int(recovered.sum())} are recovered (above chance and MMCS >= "
        f"{RECOVERED_MMCS:g})"
    )
    if len(at):
        text += (
            f". At chance: {plural(len(at), 'cell')} ("
            + ", ".join(
                f"m = {int(r.m)}, p = {fmt_p(float(r.p))}: {fmt(float(r.mmcs))} vs chance {fmt(float(r.mmcs_chance))}"
                for r in at.itertuples()
            )
            + ")"
        )
    if region is not None and "feature_mcc_chance" in region.medians:
        text += (
            f"; median feature MCC {fmt(region.medians['feature_mcc'])} "
            f"(chance {fmt(region.medians['feature_mcc_chance'])}), "
            f"recovery rate {fmt(region.medians['recovery_rate'])} (chance "
            f"{fmt(region.medians['recovery_rate_chance'])})"
        )
    return Finding(
        claim,
        text + f"; {ONE_SEED}.",
        v,
        estimate=est,
        interval=ci,
        null=0.0,
        threshold=RECOVERED_CORRECTED,
        n_used=used,
        comparison=f"median chance-corrected MMCS over all sparse cells vs {RECOVERED_CORRECTED:g} (0 = random "
        f"decoders, 1 = perfect); {ONE_SEED}",
        summary=f"corrected MMCS {fmt(est, 2)} ({k_above}/{n} above chance)",
        key=key,
        **common,
    )


def dense_failure_finding(f: Failures) -> Finding:
    """ "Recovery fails where the toy model's features are dense", from :func:`failures`' counts for one variant.

    Estimate: the share of the failing cells that are dense (:func:`is_dense`), its 95% Wilson interval over the
    failing cells; null: the base rate of dense cells among all cells with a defined MMCS (a share at the base rate
    says failures do not care about density). 'supported' when the whole interval is above
    ``max(DENSE_SHARE, base rate)``, 'not supported' when it is wholly below, :data:`~supviz.study.stats.NOT_ENOUGH`
    when it straddles or fewer than :data:`~supviz.study.stats.MIN_N` cells fail; 'not supported' when no cell fails.
    """
    from supviz.toy.importance import variant_label

    k, n_fail = f.n_dense_failing, len(f.failing)
    base = f.n_dense / f.n_defined if f.n_defined else float("nan")
    threshold = max(DENSE_SHARE, base) if f.n_defined else DENSE_SHARE
    ci = wilson_interval(k, n_fail) if n_fail else (float("nan"), float("nan"))
    if not f.n_defined:
        v = "n/a"
    elif not n_fail:
        v = "not supported"
    else:
        v = interval_verdict(f.dense_share, ci, threshold, claimed="above", n=n_fail)
    n_other = f.n_defined - f.n_dense
    text = (
        f"dense cells (more features active per input than h has dimensions, p·n > m): {f.n_dense} of "
        f"{f.n_defined} (base rate {fmt(base, 2)}); median MMCS {fmt(f.mmcs_dense)} in the dense cells against "
        f"{fmt(f.mmcs_other)} in the others; recovery fails in {k} of {f.n_dense} dense cells and "
        f"{n_fail - k} of {n_other} others. "
        + failure_sentence(f)
        + (
            f" Share of the failing cells that are dense: {fmt(f.dense_share, 2)} [95% Wilson interval "
            f"{fmt(ci[0], 2)}, {fmt(ci[1], 2)}] over {n_fail} failing cells, against {fmt(threshold, 2)}"
            if n_fail
            else ""
        )
        + f"; {ONE_SEED}."
    )
    return Finding(
        f"({variant_label(f.importance)}) Recovery fails where the toy model's features are dense (more active per "
        "input than h has dimensions).",
        text,
        v,
        key=f"E-fails-dense-{f.importance}",
        importance=f.importance,
        n_used=n_fail,
        n_left_out=f.n_undefined,
        unit="failing cells",
        estimate=f.dense_share,
        interval=ci,
        null=base,
        threshold=threshold,
        comparison=f"share of the failing cells (MMCS < {RECOVERED_MMCS:g} or at chance) that are dense, against "
        f"max({DENSE_SHARE:g}, the base rate of dense cells); {ONE_SEED}",
        source=SHARKEY,
    )


def recovery_findings(
    e1: Any, won_cells: Any, *, default: str, n_features: int | None = None, sparse_p: float = SPARSE_P
) -> list[Finding]:
    """The section's claims against this run's numbers.

    Per importance variant (default architecture): SAEs recover sparse features (Sharkey et al.
    2022, :func:`sparse_recovery_finding`); recovery fails where the features are dense (:func:`dense_failure_finding`;
    ``n_features``: :func:`feature_count`). Per method (``won_cells``: :func:`won_back_cells`, or None when E3 did not
    run): the codes of h_rep win back the loss superposition causes (h_rep against x_rep), judged over the cells
    with superposition (:func:`won_back_effect`) with the sparse cells' numbers beside. Two on the architectures
    (:func:`architecture_findings`).
    """
    findings = []
    main = e1[e1["architecture"] == default]
    regions = {(r.importance, r.region): r for r in region_summaries(main, sparse_p=sparse_p)}
    for f in failures(main, n_features=n_features, sparse_p=sparse_p):
        sp = regions.get((f.importance, "sparse"))
        sp_ok = main[(main["importance"] == f.importance) & is_sparse(main["p"], sparse_p) & main["mmcs"].notna()]
        findings.append(sparse_recovery_finding(sp_ok, f.importance, default=default, sparse_p=sparse_p, region=sp))
        findings.append(dense_failure_finding(f))
    won = won_back_summary(won_cells) if won_cells is not None and len(won_cells) else []
    sparse = {w.method: w for w in (won_back_summary(won_cells, region="sparse", sparse_p=sparse_p) if won else [])}
    for w in won:
        what = (
            f"the space of {space_words('codes_rep')} itself keeps"
            if w.method == "exact"
            else f"{PICTURE_NAMES[w.method]} pictures of {space_words('codes_rep')} keep"
        )
        text = "all cells with superposition: " + won_back_sentence(w, lead=False)
        if w.method in sparse:
            text += f" Sparse cells (p <= {sparse_p:g}) only: " + won_back_sentence(sparse[w.method], lead=False)
        text += (
            f" The loss read is the one superposition causes ({space_words('h_rep')} against {space_words('x_rep')}, "
            "section D's reading of the study's claim), not h's whole loss against x, most of which goes with the "
            "features the model drops and which no SAE on h can recover."
        )
        findings.append(
            Finding(
                f"({PICTURE_NAMES[w.method]}) The SAE codes undo the neighbourhood loss that superposition causes: "
                f"{what} the neighbourhoods of {space_words('x_rep')} that {space_words('h_rep')} lose.",
                text + f" {ONE_SEED[0].upper() + ONE_SEED[1:]}.",
                w.verdict,
                key=f"E-won-back-{w.method}",
                method="" if w.method == "exact" else PICTURE_NAMES[w.method],
                n_used=w.n_pairs,
                n_left_out=sum(c for r, c in w.reasons.items() if not r.startswith("in an m where")),
                estimate=w.gain,
                interval=w.gain_interval,
                unit="superposed cells",
                null=0.0,
                threshold=0.0,
                summary=f"SAE codes keep {fmt(w.gain, 2)} more than the codes",
                comparison="median over the cells whose W has superposition of the paired difference of "
                f"chance-corrected k-NN recall, {space_words('codes_rep', the=False)} minus "
                f"{space_words('h_rep', the=False)}, bootstrap over cells, above 0 (null 0: no better than "
                f"{space_words('h_rep')}); 'partly' where the SAE codes stay clearly below {space_words('x_rep')} "
                f"(median difference {fmt(w.gap)} [{fmt(w.gap_interval[0])}, {fmt(w.gap_interval[1])}]); {ONE_SEED}",
                source="supviz's own question: the study pictured no SAE",
            )
        )
    findings.extend(architecture_findings(e1, sparse_p=sparse_p))
    return findings
