"""Section E's computation (issue 11): sparse autoencoders on every cell's h, scored, and pictures of their codes.

For every (m, p) cell of the section-2 weights and both importance variants, a sparse autoencoder
(SAE) trains on the cell's own data stream ``h = x W`` (:func:`supviz.sae.train_cell_saes`: all
cells in one batched job, each cell's seed derived from the cell itself) and is scored against the
cell's represented features (``||W_i|| > 0.5``, SPEC section 4) on fresh samples:

- E1: MMCS, feature MCC (sign-aware matching), recovery rate at cos >= 0.9, dead fraction, L0 against the true L0 and
  FVU as heatmaps over (m, p), beside the represented count, per importance variant and
  architecture;
- E2: the represented feature directions and the decoder directions matched to them, one joint
  2-D MDS per cell, pairs joined;
- E3: the SAE codes ``f(h_rep)`` of section D's very inputs restricted to the represented features (``h_rep``:
  x restricted to them through W's rows of those features, section D's own space), pictured with D's methods and
  measured against ``x`` with D's measures (:mod:`supviz.datapoints`), beside D's pictures of ``x_rep`` and
  ``h_rep``: how much of the loss that superposition causes (h_rep against x_rep, section D's reading of the study's
  claim) the codes win back. The codes of h itself, ``f(h)``, are measured as a space (no picture) for every
  architecture: the code space's own k-NN recall against x.

  Why ``f(h_rep)`` and not ``f(h)``: h also carries the short rows of the features the model drops, which no SAE
  on h can turn back into those features and which break x_rep's ties between inputs whose kept features are all
  zero (they sit together at the origin of x_rep); ``f(h)`` against x_rep would credit or blame the codes for that
  residue. ``f(h_rep)`` holds the same information as x_rep and h_rep, so its difference from h_rep is what the SAE
  undoes of superposition among the kept features alone. The SAE is the one trained on h (the model's own
  stream); h_rep lies in the same space.

The default trains JumpReLU on every cell (E1-E3) and TopK on the sparse cells (E1 and the code
space's own measures): TopK recovers the feature directions best (docs/bench/sae.md) but fires
exactly k latents per input, so its codes keep the inputs' neighbourhoods no better than h does,
while JumpReLU's adaptive L0 gives codes that win part of it back (default run, sparse cells:
median k-NN recall of the code space against x 0.74 JumpReLU, 0.35 TopK, 0.34 h).
``[recovery] architectures = [...]`` chooses others (``extra_cells = "all"`` trains the ones after
the first on every cell). Sharkey et al.'s toy experiment (~100 s on 2 cores) runs with
``[recovery] toy_experiment = true``. The whole result is one cached value of registered dataclasses
(:mod:`supviz.runtime.codecs`), no pickle.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.scores import reason_text
from supviz.errors import SupvizError
from supviz.report.words import SAE_SPACE_NAMES
from supviz.runtime.codecs import cacheable
from supviz.study.config import RecoveryConfig
from supviz.study.context import RunContext

log = logging.getLogger(__name__)

#: The represented-feature rule of section E (SPEC: "Represented means ||W_i|| > 0.5").
REPRESENTED_NORM = 0.5
#: Score columns of E1 rows (SAEScores names -> table columns).
SCORE_COLUMNS = {
    "mmcs": "mmcs",
    "feature_mcc": "feature_mcc",
    "recovery_rate": "recovery_rate",
    "dead_fraction": "dead_fraction",
    "l0": "l0",
    "true_l0": "true_l0",
    "fvu": "fvu",
    "shrinkage": "shrinkage",
    "firing_precision": "firing_precision",
    "firing_recall": "firing_recall",
}
CODE_SPACE = SAE_SPACE_NAMES["codes_rep"]  # the space E3 adds to section D's cell (its panel titles say it)
#: The ``points`` table's space of the codes of h_rep (pictured); ``"codes"`` is the code space of h (not pictured).
CODE_REP_SPACE = "codes_rep"
_METHODS = ("mds", "umap", "tsne")


# ------------------------------------------------------------------------------- results


@cacheable
@dataclass
class RecoveryCell:
    """One cell's SAE of one architecture: scores, directions and (main architecture) pictures.

    Attributes
    ----------
    scores : dict
        :data:`SCORE_COLUMNS` -> value (NaN where undefined); ``reasons`` says why.
    represented : np.ndarray [n] bool
        The scored true features (``||W_i|| > 0.5``).
    matched_latent, matched_cos, max_cos : np.ndarray [n]
        Hungarian partner of each true feature (-1: none), that pair's cosine, the best cosine.
    best_latent : np.ndarray [n]
        The latent of that best cosine (:func:`direction_partners`; E2 pairs by it).
    W_dec : np.ndarray [d_sae, m] float32
        Decoder directions (rows).
    pairs : Layout or None
        E2: joint 2-D MDS of the represented directions (first) and their closest decoder rows.
    layouts : dict method -> Layout
        E3: pictures of the codes ``f(h_rep)`` of section D's inputs restricted to the represented features.
    metrics : dict method -> dict
        The code space ``f(h)`` itself (key ``"exact"``): section D's measures against x.
    false_pairs : dict method -> np.ndarray [P, 2]
    rep_metrics, rep_false_pairs : dict method -> ...
        E3: the same for ``f(h_rep)`` (``"exact"``: that code space itself; the methods: ``layouts``).
    features_per_dim : float
        ``||W||_F^2 / m`` of the cell's W (:func:`supviz.study.datapoints.measures.w_superposition`): whether the
        won-back share counts the cell (section D's rule).
    """

    architecture: str
    importance: str
    m: int
    p: float
    instance: int
    label: str
    n_represented: int
    scores: dict[str, float]
    reasons: dict[str, str]
    represented: np.ndarray
    matched_latent: np.ndarray
    matched_cos: np.ndarray
    max_cos: np.ndarray
    W_dec: np.ndarray
    final_loss: float
    best_latent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Per true feature, the decoder row of largest (signed) cosine, the one MMCS counts (-1: none)."""
    pairs: Any = None
    layouts: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    false_pairs: dict[str, np.ndarray] = field(default_factory=dict)
    rep_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    rep_false_pairs: dict[str, np.ndarray] = field(default_factory=dict)
    features_per_dim: float = float("nan")


@cacheable
@dataclass
class RecoveryResult:
    """What section E computed (the cached value)."""

    cells: list[RecoveryCell]
    architectures: list[str]
    settings: dict[str, Any]
    seconds: dict[str, float]
    toy: Any = None
    """The :class:`supviz.sae.ToyExperiment`, when ``toy_experiment`` ran."""


# ------------------------------------------------------------------------------- compute


def _sae_config(arch: str, n_features: int, cfg: RecoveryConfig) -> Any:
    from supviz.sae import SAEConfig
    from supviz.sae.config import DATA_K

    return SAEConfig(
        architecture=arch,
        d_sae=max(1, int(round(cfg.dictionary_ratio * n_features))),
        k=DATA_K if arch in ("topk", "batchtopk") else None,  # from each cell's true L0 and m (issue 20)
        steps=cfg.steps,
        batch_size=cfg.batch_size,
    )


def _code_job(
    key: tuple, kind: str, X: np.ndarray, x: np.ndarray, method: str, k: int, seed: int, pair_seed: int
) -> tuple[tuple, Any, dict[str, float], np.ndarray | None, float]:
    """One E2 or E3 job in a worker: a layout (and, for E3, section D's measures against ``x``)."""
    t0 = time.perf_counter()
    if kind == "pairs":
        from supviz import dr

        layout = dr.embed(X, "mds", metric_type="ratio", max_iter=300, eps=1e-6, random_state=seed)
        layout.info.pop("result", None)
        return key, layout, {}, None, time.perf_counter() - t0
    from supviz.datapoints import datapoint_layout, measure_distortion

    layout = None
    Y = X
    if method != "exact":
        layout = datapoint_layout(X, method, random_state=seed)
        layout.info.pop("result", None)  # SMACOF's N x N matrices: too heavy to keep per cell
        Y = np.asarray(layout.embedding, dtype=np.float64)
    res = measure_distortion(x, Y, active=x > 0, k=k, random_state=pair_seed)
    return key, layout, res.metrics(), res.false.pairs, time.perf_counter() - t0


def _run_jobs(ctx: RunContext, jobs: list[tuple], desc: str) -> dict[tuple, tuple]:
    """Run the E2 / E3 jobs on the run's dispatcher (local worker processes or a Dask cluster).

    Each array argument travels once per call (:class:`~supviz.runtime.dispatch.Shared`), however many
    jobs share it; results are keyed by each job's own key.
    """
    from supviz.runtime.dispatch import Shared

    cost = {"tsne": 3, "umap": 2, "mds": 1, "exact": 0}
    jobs = sorted(jobs, key=lambda j: -cost.get(j[4], 1))
    shared: dict[int, Shared] = {}

    def big(a: Any) -> Any:
        return shared.setdefault(id(a), Shared(a)) if isinstance(a, np.ndarray) else a

    calls = [tuple(big(a) for a in j) for j in jobs]
    out = {}
    n_jobs = max(1, min(ctx.config.run.n_jobs, len(jobs)))
    for _, (key, *rest) in ctx.run_tasks().map(_code_job, calls, desc=desc, n_jobs=n_jobs):
        out[key] = tuple(rest)
    return out


def _train_and_score(
    grid: Any, sel: list[int], sae_cfg: Any, seed: int, n_eval: int, inputs: Any, progress: bool | None = False
) -> tuple[Any, float]:
    """One architecture's SAEs on the cells ``sel``, trained and scored (a task of :func:`_train_architectures`)."""
    from supviz.runtime.products import single_threaded
    from supviz.sae import train_cell_saes

    t0 = time.perf_counter()
    with single_threaded():  # scoring and encoding too: the same bits in this process or in a worker
        trained = train_cell_saes(
            grid,
            sel,
            config=sae_cfg,
            seed=seed,
            n_eval=n_eval,
            inputs=inputs,
            rule="norm",
            threshold=REPRESENTED_NORM,
            progress=progress,
        )
    return trained, round(time.perf_counter() - t0, 2)


def _train_architectures(ctx: RunContext, calls: list[tuple]) -> list[tuple[Any, float]]:
    """Train every architecture's SAEs: as concurrent tasks on the run's dispatcher when there are
    several and ``run.n_jobs`` allows (an SAE job holds the GIL for most of its time, so its two
    worker threads keep about one core busy: two trainings side by side use both), else here.

    Each training is the same computation wherever it runs (the SAE engine's results do not depend
    on the thread or process count; scoring and encoding run on one BLAS thread in either place),
    so the results are the same bits either way.
    """
    n_jobs = max(1, min(ctx.config.run.n_jobs, len(calls)))
    if n_jobs < 2:
        return [_train_and_score(*call, progress=ctx.progress.bars) for call in calls]
    out: list[Any] = [None] * len(calls)
    tasks = ctx.run_tasks().map(_train_and_score, calls, desc="SAE trainings", n_jobs=n_jobs)
    for i, value in tasks:
        out[i] = value
    return out


def _unit(A: np.ndarray) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    n = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(n > 0, n, 1.0)


def direction_partners(
    W: np.ndarray, W_dec: np.ndarray, represented: np.ndarray, *, threshold: float = 0.9
) -> tuple[np.ndarray, int]:
    """Each represented feature's closest decoder direction, and how many latents point against a feature.

    Returns ``best [n]``: per true feature i (a row of ``W``) the latent ``argmax_j cos(W_i, W_dec_j)``
    (signed: the partner MMCS counts; -1 outside ``represented`` or where no decoder row has a
    direction), and the number of latents whose largest ``|cos|`` to a represented feature is at
    least ``threshold`` with a negative sign: "absence" latents, which fire when a frequent feature
    is missing from the input (the inputs are centred by ``b_dec``), and which a sign-blind
    matching (SAELens' MCC) may pair with the feature; feature MCC does not.
    """
    rep = np.flatnonzero(represented)
    best = np.full(W.shape[0], -1, dtype=np.int64)
    norms = np.linalg.norm(W_dec, axis=1)
    if rep.size == 0 or not (norms > 0).any():
        return best, 0
    cos = _unit(W[rep]) @ _unit(W_dec).T  # (n_rep, d_sae)
    cos[:, norms <= 0] = np.nan
    best[rep] = np.nanargmax(cos, axis=1)
    live = np.flatnonzero(norms > 0)
    strongest = np.nanargmax(np.abs(cos[:, live]), axis=0)
    signed = cos[strongest, live]
    return best, int(((np.abs(signed) >= threshold) & (signed < 0)).sum())


def _pair_points(cell: RecoveryCell, W: np.ndarray) -> np.ndarray | None:
    """E2's points: the represented true directions, then each one's closest decoder row (all unit length)."""
    rep = np.flatnonzero(cell.represented & (cell.best_latent >= 0))
    if rep.size < 2:
        return None
    return np.vstack([_unit(W[rep]), _unit(cell.W_dec[cell.best_latent[rep]])])


def _chance(
    ctx: RunContext, grid: Any, g: int, represented: np.ndarray, d_sae: int, draws: int, memo: dict
) -> dict[str, float]:
    """Cell ``g``'s chance levels (:func:`supviz.sae.chance.chance_level`: random unit decoders of ``d_sae`` rows
    scored against the cell's represented features by the function that scores its SAE), once per shape."""
    from supviz.sae.chance import chance_level

    key = (g, int(d_sae))
    if key not in memo:
        spec = grid.specs[g]
        memo[key] = chance_level(
            np.asarray(grid.weights[g], dtype=np.float64),
            d_sae=int(d_sae),
            feature_mask=np.asarray(represented, dtype=bool),
            draws=draws,
            random_state=ctx.seed(
                "recovery", "chance", spec.importance_name, spec.n_hidden, f"{spec.probability:.12g}"
            ),
        ).columns_dict()
    return dict(memo[key])


def _cell_seed(ctx: RunContext, what: str, cell: RecoveryCell, method: str) -> int:
    return ctx.seed("recovery", what, cell.importance, cell.m, f"{cell.p:.12g}", method)


def _encode_h_rep(
    grid: Any, plans: list[tuple[str, list[int]]], results: list[tuple[Any, float]], dcells: dict, main_arch: str
) -> dict[tuple[str, int], np.ndarray]:
    """The codes ``f(h_rep)`` ``[N, d_sae]`` (float64) of section D's inputs restricted to its represented features,
    through each main-architecture cell's SAE trained on h; cells whose D cell represents no feature have none.

    ``h_rep = x_rep W`` with the rows of the features D keeps (:func:`supviz.datapoints.embedding.latent_codes` of x
    with the other features zeroed, as D computes it). One batched encode on one BLAS thread (the same bits here or
    in a worker)."""
    from supviz.datapoints.embedding import latent_codes
    from supviz.runtime.products import single_threaded
    from supviz.sae.model import encode

    saes, inputs, keys = [], [], []
    for (arch, sel), (trained, _took) in zip(plans, results):
        if arch != main_arch:
            continue
        for j, g in enumerate(sel):
            dcell = dcells[g]
            rep = np.asarray(dcell.represented, dtype=bool)
            if not rep.any():
                continue
            x = np.asarray(dcell.x, dtype=np.float64)
            h_rep = latent_codes(np.where(rep, x, 0.0), np.asarray(grid.weights[g], dtype=np.float64))
            saes.append(trained.saes[j])
            inputs.append(h_rep.astype(np.float32))
            keys.append((arch, g))
    if not saes:
        return {}
    with single_threaded():
        out = encode(saes, inputs)
    return {k: np.asarray(f, dtype=np.float64) for k, f in zip(keys, out)}


def compute_recovery(ctx: RunContext) -> RecoveryResult:
    """Train, score and picture (see the module docstring); the section's :meth:`compute`."""
    cfg: RecoveryConfig = ctx.config.section("recovery")
    grid, grid_key = ctx.grid()
    dp = ctx.computed["datapoints"]["result"]  # section D's inputs, pictures and measures (Section.needs)
    idx = [int(i) for i in dp.geometry["instance"]]
    if not idx:
        raise SupvizError("section E needs at least one cell of section D; got none.")
    n_features = max(grid.specs[i].n_features for i in idx)
    seconds: dict[str, float] = {}
    settings: dict[str, Any] = {
        "represented": f"||W_i|| > {REPRESENTED_NORM:g}",
        "seed": ctx.seed("recovery"),
        "n_eval": cfg.n_eval,
        "configs": {},
        "cells": {},
    }
    cells: list[RecoveryCell] = []
    dcells = dict(zip(idx, dp.cells))
    settings["k"] = int(dp.cells[0].k)
    settings["n_points"] = int(dp.cells[0].n_points)
    codes: dict[tuple[str, int], np.ndarray] = {}
    plans = []
    for a, arch in enumerate(cfg.architectures):
        sel = [
            i
            for i in idx
            if a == 0 or cfg.extra_cells == "all" or grid.specs[i].probability <= cfg.sparse_p * (1 + 1e-9)
        ]
        if sel:
            plans.append((arch, sel))
    calls = [
        (
            grid,
            sel,
            _sae_config(arch, n_features, cfg),
            ctx.seed("recovery"),
            cfg.n_eval,
            [np.asarray(dcells[g].h, dtype=np.float32) for g in sel] if cfg.codes else None,
        )
        for arch, sel in plans
    ]
    results = _train_architectures(ctx, calls)
    chance: dict[tuple[int, int], dict[str, float]] = {}
    t0 = time.perf_counter()
    for (arch, sel), (trained, took) in zip(plans, results):
        seconds[f"train_score_{arch}"] = took
        settings["configs"][arch] = trained.info["config"]
        settings["cells"][arch] = len(sel)
        sc = trained.scores
        final = trained.training.losses[:, -1] if trained.training.losses.size else np.full(len(sel), np.nan)
        for j, g in enumerate(sel):
            spec = grid.specs[g]
            best, against = direction_partners(
                np.asarray(grid.weights[g], dtype=np.float64),
                np.asarray(trained.saes[j].W_dec, dtype=np.float64),
                trained.represented[j],
            )
            scores = {col: float(getattr(sc, name)[j]) for name, col in SCORE_COLUMNS.items()}
            scores.update(
                _chance(ctx, grid, g, trained.represented[j], trained.saes[j].d_sae, cfg.chance_draws, chance)
            )
            scores["antialigned_latents"] = float(against) if trained.represented[j].any() else float("nan")
            reasons = {SCORE_COLUMNS[k]: str(v) for k, v in sc.notes[j].items() if k in SCORE_COLUMNS}
            if not trained.represented[j].any():
                reasons["antialigned_latents"] = "no represented feature"
            cells.append(
                RecoveryCell(
                    architecture=arch,
                    importance=str(spec.importance_name),
                    m=int(spec.n_hidden),
                    p=float(spec.probability),
                    instance=g,
                    label=str(grid.labels[g]),
                    n_represented=int(trained.represented[j].sum()),
                    scores=scores,
                    reasons=reasons,
                    best_latent=best,
                    represented=np.asarray(trained.represented[j], dtype=bool),
                    matched_latent=np.asarray(sc.matched_latent[j], dtype=np.int64)
                    if len(sc.matched_latent[j])
                    else np.full(spec.n_features, -1, dtype=np.int64),
                    matched_cos=np.asarray(sc.matched_cos[j], dtype=np.float64)
                    if len(sc.matched_cos[j])
                    else np.full(spec.n_features, np.nan),
                    max_cos=np.asarray(sc.max_cos[j], dtype=np.float64)
                    if len(sc.max_cos[j])
                    else np.full(spec.n_features, np.nan),
                    W_dec=np.asarray(trained.saes[j].W_dec, dtype=np.float32),
                    final_loss=float(final[j]),
                )
            )
            if trained.codes is not None:
                codes[(arch, g)] = np.asarray(trained.codes[j], dtype=np.float64)
    seconds["chance"] = round(time.perf_counter() - t0, 2)
    settings["chance_draws"] = cfg.chance_draws
    main_arch = cfg.architectures[0]
    t0 = time.perf_counter()
    codes_rep = _encode_h_rep(grid, plans, results, dcells, main_arch) if cfg.codes else {}
    seconds["encode_h_rep"] = round(time.perf_counter() - t0, 2)
    main = [c for c in cells if c.architecture == main_arch]
    if [c.instance for c in main] != idx:  # pragma: no cover - train_cell_saes keeps the order it is given
        raise SupvizError("section E's cells are not in section D's order.")
    jobs = []
    for c in cells:
        dcell = dcells[c.instance]
        if c.architecture == main_arch:
            P = _pair_points(c, grid.weights[c.instance])
            if P is not None:
                jobs.append(
                    (
                        ("pairs", c.architecture, c.instance, "mds"),
                        "pairs",
                        P,
                        np.zeros((0, 0)),
                        "mds",
                        0,
                        _cell_seed(ctx, "pairs", c, "mds"),
                        0,
                    )
                )
        if c.architecture == main_arch:
            from supviz.study.datapoints.findings import SUPERPOSED_ABOVE
            from supviz.study.datapoints.measures import w_superposition

            c.features_per_dim = w_superposition(grid.weights[c.instance])["features_per_dim"]
        f = codes.get((c.architecture, c.instance))
        if f is None:
            continue
        x = np.asarray(dcell.x, dtype=np.float64)
        # every architecture's code space f(h) is measured itself; the main architecture's f(h_rep) is also
        # measured, and pictured where W stores features in superposition (the only cells the won-back share reads)
        spaces = [("codes", f, ("exact",))]
        if (c.architecture, c.instance) in codes_rep:
            pictured = c.features_per_dim > SUPERPOSED_ABOVE
            rep_methods = ("exact", *cfg.code_methods) if pictured else ("exact",)
            spaces.append((CODE_REP_SPACE, codes_rep[(c.architecture, c.instance)], rep_methods))
        for space, F, methods in spaces:
            for method in methods:
                what = "codes" if space == "codes" else "codes-rep"
                jobs.append(
                    (
                        (space, c.architecture, c.instance, method),
                        "codes",
                        F,
                        x,
                        method,
                        int(dcell.k),
                        _cell_seed(ctx, what, c, method),
                        _cell_seed(ctx, "pairs-of-points", c, method),
                    )
                )
    t0 = time.perf_counter()
    done = _run_jobs(ctx, jobs, "SAE pictures")
    seconds["pictures"] = round(time.perf_counter() - t0, 2)
    for c in cells:
        if ("pairs", c.architecture, c.instance, "mds") in done:
            c.pairs = done[("pairs", c.architecture, c.instance, "mds")][0]
        for space, into, pairs_into in (
            ("codes", c.metrics, c.false_pairs),
            (CODE_REP_SPACE, c.rep_metrics, c.rep_false_pairs),
        ):
            for method in ("exact", *cfg.code_methods):
                got = done.get((space, c.architecture, c.instance, method))
                if got is None:
                    continue
                layout, metrics, pairs, _secs = got
                if layout is not None:
                    c.layouts[method] = layout
                into[method] = {k: float(v) for k, v in metrics.items()}
                pairs_into[method] = np.asarray(pairs, dtype=np.int64)
        # k-NN recall against x of the code space itself, beside that of h (section D's): no picture involved
        h_exact = dcells[c.instance].metrics.get(("h", "exact"), {}).get("knn_recall", float("nan"))
        c.scores["h_knn_recall"] = float(h_exact)
        c.scores["codes_knn_recall"] = c.metrics.get("exact", {}).get("knn_recall", float("nan"))
        if not math.isfinite(c.scores["codes_knn_recall"]):
            c.reasons["codes_knn_recall"] = (
                "the codes were not measured ([recovery] codes = false)"
                if not cfg.codes
                else "undefined for this code space"
            )
    toy = None
    if cfg.toy_experiment:
        from supviz.sae.sharkey_toy import toy_experiment

        t0 = time.perf_counter()
        toy = toy_experiment(
            paper_size=cfg.toy_paper_size, seed=ctx.seed("recovery", "sharkey-toy"), progress=ctx.progress.bars
        )
        seconds["toy_experiment"] = round(time.perf_counter() - t0, 2)
    return RecoveryResult(
        cells=cells, architectures=list(cfg.architectures), settings=settings, seconds=seconds, toy=toy
    )


# -------------------------------------------------------------------------------- render


def e1_rows(result: RecoveryResult) -> list[dict[str, Any]]:
    """Rows of the run's ``saes`` table: one per (architecture, cell) with its recovery scores (experiment "E1")."""
    rows = []
    for c in result.cells:
        conf = result.settings.get("configs", {}).get(c.architecture, {})
        row = {
            "table": "saes",
            "experiment": "E1",
            "importance": c.importance,
            "m": c.m,
            "p": c.p,
            "architecture": c.architecture,
            "params": json.dumps(
                {
                    "architecture": c.architecture,
                    "d_sae": conf.get("d_sae"),
                    "steps": conf.get("steps"),
                    "batch_size": conf.get("batch_size"),
                    "represented": f"norm>{REPRESENTED_NORM:g}",
                },
                sort_keys=True,
            ),
            "n_points": int(result.settings.get("n_eval", 0)),
            "nan_reasons": reason_text({k: v for k, v in c.reasons.items() if not math.isfinite(c.scores.get(k, 0.0))}),
            "n_represented": c.n_represented,
            "d_sae": int(c.W_dec.shape[0]),
            "final_loss": c.final_loss,
        }
        row.update(c.scores)
        rows.append(row)
    return rows


def e3_rows(result: RecoveryResult) -> list[dict[str, Any]]:
    """Rows of the run's tables for E3 and E2 (main architecture).

    E3: one ``points`` row per cell and method with ``space = "codes_rep"`` (the codes of h_rep, pictured) and
    section D's measures against x (beside D's rows of the spaces x_rep and h_rep), and one with ``space = "codes"``
    and method ``"exact"`` (the code space of h itself); E2: one ``panels`` row per cell (experiment
    ``"E2"``) with the SMACOF stress of the joint picture and the mean best cosine.
    """
    from supviz.core.text import fmt_p

    rows = []
    main = result.architectures[0]
    k = int(result.settings.get("k", 0)) or None
    for c in result.cells:
        if c.architecture != main:
            continue
        measured = [("codes", method, vals) for method, vals in c.metrics.items()]
        measured += [(CODE_REP_SPACE, method, vals) for method, vals in c.rep_metrics.items()]
        for space, method, vals in measured:
            lay = c.layouts.get(method) if space == CODE_REP_SPACE else None
            row = {
                "table": "points",
                "importance": c.importance,
                "m": c.m,
                "p": c.p,
                "space": space,
                "method": method,
                "architecture": main,
                "k": k,
                "n_points": int(lay.embedding.shape[0])
                if lay is not None
                else int(result.settings.get("n_points", 0)) or None,
                "nan_reasons": "; ".join(
                    f"{name}: undefined for this picture" for name, v in vals.items() if not math.isfinite(v)
                ),
                "smacof_stress": float(lay.info.get("smacof_stress", np.nan)) if lay is not None else np.nan,
            }
            row.update(vals)
            if lay is None or not math.isfinite(row["smacof_stress"]):
                why = "no picture (the code space itself)" if lay is None else "not an MDS picture"
                row["nan_reasons"] = "; ".join(filter(None, [row["nan_reasons"], f"smacof_stress: {why}"]))
            rows.append(row)
        if c.pairs is not None:
            rows.append(
                {
                    "experiment": "E2",
                    "importance": c.importance,
                    "m": c.m,
                    "p": c.p,
                    "method": "mds",
                    "params": json.dumps({"metric_type": "ratio", "architecture": main}),
                    "n_points": int(c.pairs.embedding.shape[0]),
                    "panel": f"{c.m} : {fmt_p(c.p)}",
                    "note": "",
                    "smacof_stress": float(c.pairs.info.get("smacof_stress", np.nan)),
                    "best_cos_mean": float(np.nanmean(c.max_cos[c.represented])) if c.represented.any() else np.nan,
                }
            )
    return rows


def codes_frame(result: RecoveryResult, dp_table: Any) -> Any:
    """The recall rows the won-back share reads (:func:`supviz.study.recovery.findings.won_back_cells`): per cell
    and method, k-NN recall against x of x_rep and h_rep (section D's rows) and of the codes of h_rep (space
    ``codes``), with ``k``, ``n_points`` (the chance level ``k / (N - 1)``) and ``features_per_dim`` (whether W has
    superposition) on every row."""
    import pandas as pd

    main = result.architectures[0]
    cols = ["importance", "m", "p", "method", "space", "knn_recall", "k", "n_points"]
    cells = [c for c in result.cells if c.architecture == main]
    methods = {m for c in cells for m in c.rep_metrics}
    d = dp_table[dp_table["space"].isin(["x_rep", "h_rep"]) & dp_table["method"].isin(methods)]
    d = d[[c for c in cols if c in d]]
    k, n_points = int(result.settings.get("k", 0)) or np.nan, int(result.settings.get("n_points", 0)) or np.nan
    mine = pd.DataFrame(
        [
            {
                "importance": c.importance,
                "m": c.m,
                "p": c.p,
                "method": method,
                "space": "codes",
                "knn_recall": vals.get("knn_recall", np.nan),
                "k": k,
                "n_points": n_points,
            }
            for c in cells
            for method, vals in c.rep_metrics.items()
        ],
        columns=cols,
    )
    out = pd.concat([d, mine], ignore_index=True)
    fpd = {(c.importance, c.m, round(c.p, 9)): c.features_per_dim for c in cells}
    out["features_per_dim"] = [
        fpd.get((i, int(m), round(float(p), 9)), np.nan) for i, m, p in zip(out["importance"], out["m"], out["p"])
    ]
    return out


__all__ = ["RecoveryCell", "RecoveryResult", "codes_frame", "compute_recovery", "e1_rows", "e3_rows"]
