"""Section E's numbers in words: pure functions of its tidy rows (so a test can recompute each).

Inputs are the section's rows as pandas frames:

- ``e1``: one row per (architecture, cell) with ``method`` (the architecture), ``importance``,
  ``m``, ``p`` and the recovery scores (``mmcs``, ``feature_mcc``, ``recovery_rate``, ``dead_fraction``,
  ``l0``, ``true_l0``, ``fvu``);
- ``codes``: one row per (cell, method, space) with ``importance``, ``m``, ``p``, ``method``
  (``exact``, ``mds``, ``umap``, ``tsne``), ``space`` (``x``, ``h``, ``codes``) and ``knn_recall``
  against x (section D's rows for x and h, section E's for the SAE codes).

Rules (each a module constant, stated in the report):

- A cell is *sparse* when ``p <= sparse_p`` (default 0.2: p = 0.17, 0.09, 0.05 of the study's grid).
- A cell's SAE is *above chance* on a score when the score exceeds every one of the random unit
  decoders' (``{score}_chance_max``, :mod:`supviz.sae.chance`: the trained SAE's shape, scored by the
  same function; 19 draws: a rank test at p = 0.05). A cell at chance says nothing about recovery:
  verdicts speak of the cells above chance and count the others, never pooling them into a median.
- A cell's features are *recovered* when its MMCS >= :data:`RECOVERED_MMCS` (0.9, the cosine of
  the recovery rate) and above chance.
- The share of the neighbourhood loss that the codes *win back*, per cell and method:
  ``(R_codes - R_h) / (R_x - R_h)``, R the k-NN recall against x of the picture of that space
  (for ``exact``: of the space itself, ``R_x = 1``). 1 = the codes' picture keeps what x's picture
  keeps; 0 = no better than h's; negative = worse. Undefined (left out, counted) where a recall is
  NaN or where h's picture loses less than :data:`MIN_LOSS` of recall against x's: there is little
  to win back, and the ratio of two small differences is noise.

Undefined values (NaN) never enter a median; every summary says how many cells it left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.text import fmt, fmt_p, plural  # noqa: F401  (fmt_p: the findings' names)
from supviz.report.records import Finding
from supviz.study.common import PICTURE_NAMES
from supviz.study.stats import MIN_N, NOT_ENOUGH, bootstrap_interval, interval_verdict

#: Cells with p at or below this are "sparse" in the summaries.
SPARSE_P = 0.2
#: MMCS at or above which a cell's features count as recovered.
RECOVERED_MMCS = 0.9
#: Smallest recall loss of h's picture against x's for which the share won back is defined.
MIN_LOSS = 0.05
#: Median share won back at or above which the claim "the codes undo the loss" is supported / partly.
WON_BACK_SUPPORTED = 0.5
WON_BACK_PARTLY = 0.1

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
#: weights, 2,000 steps, d_sae 120, batch 128, 2-core VM): mean MMCS over the 36 cells with p <= 0.17.
BENCH_SPARSE_MMCS = {"relu_l1": 0.954, "relu_l1_decnorm": 0.970, "topk": 0.984, "batchtopk": 0.965, "jumprelu": 0.966}


def _median(values: Any) -> tuple[float, int, int]:
    """(median of the finite values, how many, how many NaN left out)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    return (float(np.median(v[ok])) if ok.any() else float("nan")), int(ok.sum()), int((~ok).sum())


def is_sparse(p: Any, sparse_p: float = SPARSE_P) -> Any:
    """Whether feature probability ``p`` (scalar or array) is in the sparse region."""
    return np.asarray(p, dtype=float) <= sparse_p * (1 + 1e-9)


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
    """Share of the failing cells that are dense (NaN when none fails)."""
    sparse_failing: list[tuple[int, float]] = field(default_factory=list)


def failures(e1: Any, *, threshold: float = RECOVERED_MMCS, sparse_p: float = SPARSE_P) -> list[Failures]:
    """Per architecture and variant: the cells with MMCS below ``threshold`` or not above chance, counted per p and
    per m."""
    out = []
    for (arch, imp), g in e1.groupby(["architecture", "importance"], sort=False):
        ok = g[np.isfinite(g["mmcs"].astype(float))].copy()
        above = above_chance(ok)
        ok["_fails"] = (ok["mmcs"].astype(float) < threshold) | (False if above is None else ~above)
        bad = ok[ok["_fails"]]
        failing = [(int(r.m), float(r.p)) for r in bad.itertuples()]
        by_p = {float(p): (int(grp["_fails"].sum()), len(grp)) for p, grp in ok.groupby("p")}
        by_m = {int(m): (int(grp["_fails"].sum()), len(grp)) for m, grp in ok.groupby("m")}
        dense = [c for c in failing if not is_sparse(c[1], sparse_p)]
        out.append(
            Failures(
                str(arch),
                str(imp),
                len(ok),
                len(g) - len(ok),
                failing,
                by_p,
                by_m,
                len(dense) / len(failing) if failing else float("nan"),
                [c for c in failing if is_sparse(c[1], sparse_p)],
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
        f"{100 * f.dense_share:.0f}% of them dense (p > {SPARSE_P:g})"
    )
    if f.sparse_failing:
        text += "; sparse cells that fail: " + ", ".join(f"m = {m}, p = {fmt_p(p)}" for m, p in f.sparse_failing)
    return text + (f" ({plural(f.n_undefined, 'cell')} undefined: no represented feature)." if f.n_undefined else ".")


# ------------------------------------------------------------------------------ won back


def won_back_cells(codes: Any, *, min_loss: float = MIN_LOSS) -> Any:
    """Per cell and method: k-NN recall of the pictures of x, h and the codes, and the share won back.

    Returns a frame with ``importance, m, p, method, x, h, codes, loss (= x - h), won_back, reason``;
    ``won_back`` is NaN with a ``reason`` where undefined (see the module notes).
    """
    import pandas as pd

    t = codes[codes["space"].isin(["x", "h", "codes"])]
    wide = t.pivot_table(
        index=["importance", "m", "p", "method"], columns="space", values="knn_recall", aggfunc="first", dropna=False
    ).reset_index()
    wide.columns.name = None
    for space in ("x", "h", "codes"):
        if space not in wide:
            wide[space] = np.nan
    exact = wide["method"] == "exact"
    wide.loc[exact & wide["x"].isna(), "x"] = 1.0  # x against itself
    wide = wide[wide["codes"].notna() | wide["h"].notna()].copy()
    loss = wide["x"] - wide["h"]
    wide["loss"] = loss
    reason = np.where(
        wide[["x", "h", "codes"]].isna().any(axis=1),
        "a recall is undefined",
        np.where(loss < min_loss, f"h's picture loses less than {min_loss:g} of recall", ""),
    )
    wide["won_back"] = np.where(reason == "", (wide["codes"] - wide["h"]) / loss.where(loss > 0, 1.0), np.nan)
    wide["reason"] = reason
    return pd.DataFrame(wide).reset_index(drop=True)


@dataclass
class WonBack:
    """How much of h's neighbourhood loss the codes' pictures win back, for one method (medians over cells)."""

    method: str
    importance: str
    """An importance variant, or ``"all"`` for both together."""
    region: str
    """``"all"``, ``"sparse"`` or ``"dense"`` cells."""
    n_cells: int
    n_left_out: int
    reasons: dict[str, int]
    x: float
    h: float
    codes: float
    won_back: float
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The per-cell shares won back the median is taken over (the bootstrap's unit: cells)."""

    @property
    def verdict(self) -> str:
        if not math.isfinite(self.won_back):
            return "n/a"
        if self.won_back >= WON_BACK_SUPPORTED:
            return "supported"
        return "partly" if self.won_back >= WON_BACK_PARTLY else "not supported"


def won_back_summary(
    cells: Any, *, by_importance: bool = False, region: str = "all", sparse_p: float = SPARSE_P
) -> list[WonBack]:
    """Medians of :func:`won_back_cells` per method (and per variant with ``by_importance``).

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
        left = g[g["reason"] != ""]
        used = g[g["reason"] == ""]
        out.append(
            WonBack(
                str(method),
                str(imp),
                region,
                len(g),
                len(left),
                left["reason"].value_counts().to_dict(),
                _median(used["x"])[0],
                _median(used["h"])[0],
                _median(used["codes"])[0],
                _median(used["won_back"])[0],
                used["won_back"].to_numpy(dtype=float),
            )
        )
    return out


def _first(key: Any) -> Any:
    return key[0] if isinstance(key, tuple) else key


def won_back_sentence(w: WonBack, *, lead: bool = True) -> str:
    what = "the code space itself" if w.method == "exact" else f"{PICTURE_NAMES[w.method]} pictures"
    n = w.n_cells - w.n_left_out
    where = {"all": "cell", "sparse": "sparse cell", "dense": "dense cell"}[w.region]
    if not n:
        return f"{what + ': ' if lead else ''}no {where} where h loses at least {MIN_LOSS:g} ({w.n_cells} left out)."
    text = (
        f"{what + ': ' if lead else ''}median k-NN recall against x {fmt(w.x)} for x, {fmt(w.h)} for h, "
        f"{fmt(w.codes)} for the SAE codes (over {plural(n, where)} where h loses at least {MIN_LOSS:g}); median "
        f"share of h's loss won back {fmt(100 * w.won_back, 3)}%"
    )
    if w.n_left_out:
        text += " (" + "; ".join(f"{plural(c, 'cell')} left out: {r}" for r, c in w.reasons.items()) + ")"
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
        f"{ARCH_NAME[BENCH_BEST]} recovers the toy features best of the five SAE architectures (supviz's benchmark on "
        f"the study's weights: mean MMCS {BENCH_SPARSE_MMCS[BENCH_BEST]:.3f} on the sparse cells)."
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
            else f"only {ranking[0].architecture if ranking else 'one architecture'} was trained (set [recovery] "
            "architectures = [...] to compare)"
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
        f"(p <= {sparse_p:g}) that every one scored: " + "; ".join(parts) + f". Best: {best}; its median paired MMCS "
        f"gain over {ranking[1].architecture}: {fmt(est)} [{fmt(ci[0])}, {fmt(ci[1])}]."
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
            f"common sparse cells; {len(ranking)} of {MIN_ARCHITECTURES} architectures",
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
    if len(coded) < MIN_ARCHITECTURES_CODES:
        v2 = NOT_ENOUGH
        text2 += (
            f" With {len(coded)} architectures this is one comparison, not a relation between recovery and codes "
            f"(at least {MIN_ARCHITECTURES_CODES} needed)."
        )
    else:
        v2 = "supported" if by_codes[0].architecture == best else "not supported"
    out.append(
        Finding(
            claim2,
            text2,
            v2,
            key="E-architecture-codes",
            n_used=len(coded),
            unit="architectures",
            comparison="the architecture with the best median MMCS against the one with the best median code-space "
            f"k-NN recall, over {plural(n, 'common sparse cell')}",
            source=source,
        )
    )
    return out


# ------------------------------------------------------------------------------- findings


def sparse_recovery_finding(
    cells: Any, importance: str, *, default: str, sparse_p: float = SPARSE_P, region: Any = None
) -> Finding:
    """ "The SAE recovers the features when they are sparse", over the sparse cells ``cells`` with a defined MMCS.

    Only the cells above chance (:func:`above_chance`) are summarised; the others are counted and named
    (never pooled into the median). Estimate: median MMCS over the cells above chance, its 95% bootstrap
    interval over those cells, against :data:`RECOVERED_MMCS`; null: the median chance MMCS.
    'supported' when at least 80% of the sparse cells are recovered (above chance and MMCS >= 0.9) and the
    interval lies above 0.9; 'not supported' when fewer than half are recovered or the interval lies below;
    :data:`~supviz.study.stats.NOT_ENOUGH` below :data:`~supviz.study.stats.MIN_N` cells, without a chance level,
    or when the interval straddles 0.9; 'partly' otherwise.
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
        n_used=n,
        n_left_out=region.n_undefined if region is not None else 0,
        unit="sparse cells",
        threshold=RECOVERED_MMCS,
        source="Sharkey et al. (2022), not the study: supviz's own question about the study's cells",
    )
    if above is None:
        return Finding(
            claim,
            f"{default}: median MMCS {fmt(_median(mm)[0])} over {plural(n, 'sparse cell')} (p <= {sparse_p:g}); no "
            "chance level was measured, so no cell can be told from random directions.",
            NOT_ENOUGH if n else "n/a",
            comparison="median MMCS of the sparse cells; chance level not measured",
            estimate=_median(mm)[0],
            key=key,
            **common,
        )
    chance = cells["mmcs_chance"].to_numpy(dtype=float)
    est, _, _ = _median(mm[above])
    ci = bootstrap_interval(mm[above])
    recovered = above & (mm >= RECOVERED_MMCS)
    share = float(recovered.mean()) if n else float("nan")
    null = _median(chance)[0]
    at = cells[~above]
    if not n:
        v = "n/a"
    elif n < MIN_N:
        v = NOT_ENOUGH
    elif share < 0.5:
        v = "not supported"
    else:
        v = interval_verdict(est, ci, RECOVERED_MMCS, claimed="above", n=int(above.sum()))
        if v == "supported" and share < 0.8:
            v = "partly"
    text = (
        f"{default}: {int(above.sum())} of {plural(n, 'sparse cell')} (p <= {sparse_p:g}) score an MMCS above every "
        f"one of their random decoders (median chance MMCS {fmt(null)}); over those, median MMCS {fmt(est)} "
        f"[{fmt(ci[0])}, {fmt(ci[1])}]; {fmt(100 * share, 3)}% of the sparse cells are recovered (above chance and "
        f"MMCS >= {RECOVERED_MMCS:g})"
    )
    if len(at):
        text += (
            f". At chance, left out of the median: {plural(len(at), 'cell')} ("
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
        text + ".",
        v,
        estimate=est,
        interval=ci,
        null=null,
        comparison=f"median MMCS of the sparse cells above chance vs {RECOVERED_MMCS:g}",
        summary=f"MMCS {fmt(est, 2)} ({int(above.sum())}/{n} above chance)",
        key=key,
        **common,
    )


def recovery_findings(e1: Any, won_cells: Any, *, default: str, sparse_p: float = SPARSE_P) -> list[Finding]:
    """The section's claims against this run's numbers.

    Per importance variant (default architecture): SAEs recover sparse features (Sharkey et al.
    2022); recovery fails where the features are dense. Per method (``won_cells``:
    :func:`won_back_cells`, or None when E3 did not run): the codes' pictures win back the
    neighbourhood loss of h's, judged over all cells with the sparse cells' numbers beside. Two on
    the architectures (:func:`architecture_findings`).
    """
    from supviz.toy.importance import variant_label

    findings = []
    main = e1[e1["architecture"] == default]
    regions = {(r.importance, r.region): r for r in region_summaries(main, sparse_p=sparse_p)}
    for f in failures(main, sparse_p=sparse_p):
        label = variant_label(f.importance)
        sp, de = regions.get((f.importance, "sparse")), regions.get((f.importance, "dense"))
        sparse_mmcs = sp.medians["mmcs"] if sp else float("nan")
        dense_mmcs = de.medians["mmcs"] if de else float("nan")
        sp_ok = main[(main["importance"] == f.importance) & is_sparse(main["p"], sparse_p) & main["mmcs"].notna()]
        findings.append(sparse_recovery_finding(sp_ok, f.importance, default=default, sparse_p=sparse_p, region=sp))
        if not f.n_defined or not de or not sp:
            v = "n/a"
        elif f.n_defined < MIN_N:
            v = NOT_ENOUGH
        elif not f.failing:
            v = "not supported"
        elif f.dense_share >= 0.75 and dense_mmcs < sparse_mmcs:
            v = "supported"
        else:
            v = "partly"
        findings.append(
            Finding(
                f"({label}) Recovery fails where the toy model's features are dense (more active per input than h has "
                "dimensions).",
                f"median MMCS {fmt(dense_mmcs)} in the dense cells (p > {sparse_p:g}; chance "
                f"{fmt(de.medians.get('mmcs_chance', float('nan')) if de else float('nan'))}) against "
                f"{fmt(sparse_mmcs)} in the sparse (chance "
                f"{fmt(sp.medians.get('mmcs_chance', float('nan')) if sp else float('nan'))}); " + failure_sentence(f),
                v,
                key=f"E-fails-dense-{f.importance}",
                importance=f.importance,
                n_used=f.n_defined,
                n_left_out=f.n_undefined,
                unit="cells",
                estimate=f.dense_share,
                threshold=0.75,
                comparison=f"share of the failing cells (MMCS < {RECOVERED_MMCS:g} or at chance) that are dense",
                source="Sharkey et al. (2022), not the study: supviz's own question about the study's cells",
            )
        )
    won = won_back_summary(won_cells) if won_cells is not None and len(won_cells) else []
    sparse = {w.method: w for w in (won_back_summary(won_cells, region="sparse", sparse_p=sparse_p) if won else [])}
    for w in won:
        what = (
            "the code space itself keeps"
            if w.method == "exact"
            else f"{PICTURE_NAMES[w.method]} pictures of the codes keep"
        )
        text = "all cells: " + won_back_sentence(w, lead=False)
        if w.method in sparse:
            text += f" Sparse cells (p <= {sparse_p:g}) only: " + won_back_sentence(sparse[w.method], lead=False)
        ci = bootstrap_interval(w.values)
        n = w.n_cells - w.n_left_out
        v = interval_verdict(w.won_back, ci, WON_BACK_SUPPORTED, claimed="above", n=n)
        if v == "not supported" and w.won_back >= WON_BACK_PARTLY and ci[0] > 0:
            v = "partly"
        findings.append(
            Finding(
                f"({PICTURE_NAMES[w.method]}) The SAE codes f(h) undo the neighbourhood loss that superposition "
                f"causes: {what} the inputs' neighbourhoods that h loses.",
                text,
                v,
                key=f"E-won-back-{w.method}",
                method="" if w.method == "exact" else PICTURE_NAMES[w.method],
                n_used=n,
                n_left_out=w.n_left_out,
                estimate=w.won_back,
                interval=ci,
                unit="cells",
                null=0.0,
                threshold=WON_BACK_SUPPORTED,
                comparison="median share of h's k-NN recall loss won back by the codes, over cells, vs "
                f"{WON_BACK_SUPPORTED:g} (0 = no better than h)",
                source="supviz's own question: the study pictured no SAE",
            )
        )
    findings.extend(architecture_findings(e1, sparse_p=sparse_p))
    return findings
