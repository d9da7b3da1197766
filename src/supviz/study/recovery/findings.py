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
- A cell's features are *recovered* when its MMCS >= :data:`RECOVERED_MMCS` (0.9, the cosine of
  the recovery rate).
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


def region_summaries(e1: Any, *, sparse_p: float = SPARSE_P) -> list[RegionSummary]:
    """Per architecture, importance variant and region: medians of :data:`E1_METRICS` over cells."""
    t = with_l0_ratio(e1)
    t = t.assign(region=np.where(is_sparse(t["p"], sparse_p), "sparse", "dense"))
    out = []
    for (arch, imp, region), g in t.groupby(["architecture", "importance", "region"], sort=False):
        med = {}
        for col in E1_METRICS:
            med[col] = _median(g[col])[0]
        out.append(RegionSummary(str(arch), str(imp), str(region), len(g), int(g["mmcs"].isna().sum()), med))
    order = {"sparse": 0, "dense": 1}
    return sorted(out, key=lambda r: (r.architecture, r.importance, order[r.region]))


@dataclass
class Failures:
    """Where recovery fails (MMCS < :data:`RECOVERED_MMCS`) for one architecture and importance variant."""

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
    """Per architecture and variant: the cells with MMCS below ``threshold``, counted per p and per m."""
    out = []
    for (arch, imp), g in e1.groupby(["architecture", "importance"], sort=False):
        ok = g[np.isfinite(g["mmcs"].astype(float))]
        bad = ok[ok["mmcs"].astype(float) < threshold]
        failing = [(int(r.m), float(r.p)) for r in bad.itertuples()]
        by_p = {float(p): (int((grp["mmcs"] < threshold).sum()), len(grp)) for p, grp in ok.groupby("p")}
        by_m = {int(m): (int((grp["mmcs"] < threshold).sum()), len(grp)) for m, grp in ok.groupby("m")}
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
        return f"each of the {plural(f.n_defined, 'cell')} with a defined MMCS reaches MMCS >= {RECOVERED_MMCS:g}."
    ps = ", ".join(f"p = {fmt_p(p)}: {a}/{b}" for p, (a, b) in sorted(f.by_p.items(), reverse=True) if a)
    text = (
        f"MMCS < {RECOVERED_MMCS:g} in {len(f.failing)} of {plural(f.n_defined, 'cell')} ({ps}); "
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


def architecture_findings(e1: Any, *, sparse_p: float = SPARSE_P) -> list[Finding]:
    """Which architecture recovers the features best, and whether it also gives the best codes.

    Measured over the sparse cells every trained architecture scored when two or more ran; else
    the benchmark is cited (verdict n/a).
    """
    claim = (
        f"{ARCH_NAME[BENCH_BEST]} recovers the toy features best of the five architectures (docs/bench/sae.md: "
        f"mean MMCS {BENCH_SPARSE_MMCS[BENCH_BEST]:.3f} on the sparse cells)."
    )
    claim2 = (
        "(issue 11) The SAE that recovers the features best also gives the codes that keep the inputs' "
        "neighbourhoods best: its latents can be read as the features."
    )
    ranking = architecture_ranking(e1, sparse_p=sparse_p)
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
                f"not measured in this run: {why}. Cited from docs/bench/sae.md (the study's own weights, "
                f"2,000 steps, not this run): mean MMCS on the sparse cells {bench}.",
                "n/a",
                key="E-architecture-best",
            ),
            Finding(claim2, f"not measured in this run: {why}.", "n/a", key="E-architecture-codes"),
        ]
    n = plural(ranking[0].n_cells, "sparse cell")
    parts = [
        f"{s.architecture} {fmt(s.medians['mmcs'])} (feature MCC {fmt(s.medians['feature_mcc'])}, dead "
        f"{fmt(s.medians['dead_fraction'], 2)})"
        for s in ranking
    ]
    best = ranking[0].architecture
    text = (
        f"median MMCS over {n} (p <= {sparse_p:g}) that every architecture scored: "
        + "; ".join(parts)
        + f". Best: {best}."
    )
    out = [
        Finding(
            claim,
            text,
            "n/a"
            if BENCH_BEST not in {s.architecture for s in ranking}
            else ("supported" if best == BENCH_BEST else "not supported"),
            key="E-architecture-best",
            n_used=ranking[0].n_cells,
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
            )
        )
        return out
    by_codes = sorted(coded, key=lambda s: -s.medians["codes_knn_recall"])
    h = coded[0].medians.get("h_knn_recall", float("nan"))
    text2 = (
        f"median k-NN recall against x of the code space itself over the same {n} (h itself: {fmt(h)}): "
        + "; ".join(
            f"{s.architecture} {fmt(s.medians['codes_knn_recall'])} (MMCS {fmt(s.medians['mmcs'])}, "
            f"L0 / true L0 {fmt(s.medians['l0_ratio'], 2)})"
            for s in by_codes
        )
        + f". Best recovery: {best}; best codes: {by_codes[0].architecture}."
    )
    out.append(
        Finding(
            claim2,
            text2,
            "supported" if by_codes[0].architecture == best else "not supported",
            key="E-architecture-codes",
            n_used=ranking[0].n_cells,
        )
    )
    return out


# ------------------------------------------------------------------------------- findings


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
        share = float((sp_ok["mmcs"] >= RECOVERED_MMCS).mean()) if len(sp_ok) else float("nan")
        if not math.isfinite(sparse_mmcs):
            v = "n/a"
        elif sparse_mmcs >= RECOVERED_MMCS and share >= 0.8:
            v = "supported"
        elif sparse_mmcs >= 0.7:
            v = "partly"
        else:
            v = "not supported"
        findings.append(
            Finding(
                f"({label}) A sparse autoencoder recovers the features that superposition packed into h when they are "
                "sparse (Sharkey et al. 2022: MMCS near 1).",
                (
                    f"{default}: median MMCS {fmt(sparse_mmcs)} over "
                    f"{plural(sp.n_cells - sp.n_undefined if sp else 0, 'sparse cell')} (p <= {sparse_p:g}); "
                    f"{fmt(100 * share, 3)}% of them at MMCS >= {RECOVERED_MMCS:g}"
                    + (
                        f"; median feature MCC {fmt(sp.medians['feature_mcc'])}, recovery rate "
                        f"{fmt(sp.medians['recovery_rate'])}"
                        if sp
                        else ""
                    )
                    + "."
                ),
                v,
                key=f"E-recovered-sparse-{f.importance}",
                importance=f.importance,
                n_used=sp.n_cells - sp.n_undefined if sp else 0,
                n_left_out=sp.n_undefined if sp else 0,
            )
        )
        if not f.n_defined or not de or not sp:
            v = "n/a"
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
                f"median MMCS {fmt(dense_mmcs)} in the dense cells (p > {sparse_p:g}) against {fmt(sparse_mmcs)} in "
                "the sparse; " + failure_sentence(f),
                v,
                key=f"E-fails-dense-{f.importance}",
                importance=f.importance,
                n_used=f.n_defined,
                n_left_out=f.n_undefined,
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
        findings.append(
            Finding(
                f"(issue 11's question, {PICTURE_NAMES[w.method]}) The SAE codes f(h) undo the neighbourhood loss that "
                f"superposition causes: {what} the inputs' neighbourhoods that h loses.",
                text,
                w.verdict,
                key=f"E-won-back-{w.method}",
                method="" if w.method == "exact" else PICTURE_NAMES[w.method],
                n_used=w.n_cells - w.n_left_out,
                n_left_out=w.n_left_out,
            )
        )
    findings.extend(architecture_findings(e1, sparse_p=sparse_p))
    return findings
