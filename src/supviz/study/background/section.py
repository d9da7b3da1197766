"""Section A: the paper's background figures, regenerated from supviz's own toy models (A1-A3).

- A1: two features in one dimension (n = 2, m = 1): W and W W^T for dense to sparse p; the sparse
  model puts the two features on opposite poles (the antipodal pair).
- A2: the paper's "demonstrating superposition" sweep (n = 20, m = 5, importance 0.7^i), trained from
  ``a2_seeds`` seeds; the figure shows the lowest-loss model per p.
- A3: the geometry figure: dimensions per feature m / ||W||_F^2 against 1/p with each feature's
  dimensionality D_i, which sticks at fractions (1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz.report.records import SectionOutput, TableBlock
from supviz.runtime.codecs import cacheable
from supviz.study import adapters
from supviz.study.background.findings import (
    ANTIPODAL_COS,
    REPRESENTED_NORM,
    STICKY_TOL,
    near_sticky,
    sticky_chance,
)
from supviz.study.config import PAPER_A3, BackgroundConfig
from supviz.study.context import RunContext
from supviz.study.section import Section
from supviz.toy.diagnostics import cell_diagnostics
from supviz.toy.importance import variant_label

log = logging.getLogger(__name__)


@cacheable
@dataclass
class SmallGrid:
    """The weights of one background experiment, one instance per probability."""

    name: str
    n_features: int
    hidden: int
    probabilities: list[float]
    importance: str
    steps: int
    weights: list[np.ndarray]
    losses: list[float]


def a3_size(cfg: BackgroundConfig) -> tuple[int, int, int]:
    """(n, m, number of probabilities) of A3: the default size, or :data:`PAPER_A3` when asked."""
    return PAPER_A3 if cfg.a3_paper_size else (cfg.a3_n_features, cfg.a3_hidden, cfg.a3_probability_count)


def small_config(
    config: Any, name: str, n: int, m: int, probs: list[float], importance: str, *, replicate: int = 0
) -> Any:
    """The TrainConfig of one background experiment: ``[toy]``'s recipe on an (n, m) model with its own seed
    (replicate 0: the experiment's seed; replicate r > 0: a seed derived from it and r)."""
    cfg: BackgroundConfig = config.section("background")
    tc = config.toy
    return tc.replace(
        n_features=n,
        hidden=(m,),
        probabilities=tuple(float(p) for p in probs),
        importances=(importance,),
        steps=cfg.steps or tc.steps,
        seed=config.derived_seed("background", name)
        if replicate == 0
        else config.derived_seed("background", name, replicate),
    )


def experiments(config: Any) -> dict[str, tuple[int, int, list[float], str]]:
    """(n, m, probabilities, importance) of A1, A2 and A3."""
    cfg: BackgroundConfig = config.section("background")
    n3, m3, k3 = a3_size(cfg)
    return {
        "A1": (2, 1, cfg.a1_probabilities, "uniform"),
        "A2": (cfg.a2_n_features, cfg.a2_hidden, cfg.a2_probabilities, cfg.a2_importance),
        "A3": (n3, m3, [float(p) for p in np.logspace(0, -3, k3)], "uniform"),
    }


def _train_replicates(
    ctx: RunContext, name: str, n: int, m: int, probs: list[float], importance: str, *, replicates: list[int]
) -> list[SmallGrid]:
    """One background experiment trained from each seed of ``replicates`` (:func:`small_config`): see
    :func:`train_experiments`."""
    return train_experiments(ctx, {name: (n, m, probs, importance, replicates)})[name]


def train_experiments(
    ctx: RunContext, wanted: dict[str, tuple[int, int, list[float], str, list[int]]]
) -> dict[str, list[SmallGrid]]:
    """Background experiments, each trained from each seed of its replicates (:func:`small_config`).

    ``wanted`` maps a name to ``(n, m, probabilities, importance, replicates)``. Each experiment is its own cache
    entry (kind ``"train"``, keyed by its name and its runs' configs); the experiments that miss train together in
    one queue (:func:`supviz.study.adapters.train_groups`: A1's, A2's and A3's instances queue as parts on the run's
    worker processes), and each is stored under its own key as its last part ends. Each instance trains from its own
    seed alone, so every run is the same bit for bit as training it by itself (``supviz.toy.train_instances``).
    All experiments share ``[toy]``'s optimiser settings and ``background.steps`` (:func:`small_config`).

    Returns
    -------
    dict
        Per name, one :class:`SmallGrid` per replicate, in the order given.
    """
    from supviz.runtime.cache import MISSING

    runs: dict[str, list[SmallGrid]] = {}
    todo: dict[str, tuple[list[Any], str]] = {}
    for name, (n, m, probs, importance, replicates) in wanted.items():
        configs = [small_config(ctx.config, name, n, m, probs, importance, replicate=r) for r in replicates]
        key = ctx.cache.key("train", {"experiment": name, "replicates": [c.to_dict() for c in configs]})
        value = ctx.cache.lookup("train", key)
        if value is MISSING:
            todo[name] = (configs, key)
        else:
            runs[name] = value
    if todo:
        per_run = {name: [c.instances() for c in configs] for name, (configs, _) in todo.items()}
        names = list(todo)

        def store(g: int, grid: Any) -> None:  # as each experiment's last part ends: a stopped run keeps it
            name = names[g]
            configs, key = todo[name]
            n, m, _, importance, _ = wanted[name]
            out, start = [], 0
            for config, specs in zip(configs, per_run[name]):
                ws, ls = [], []
                for p in config.probabilities:
                    i = start + next(i for i, s in enumerate(specs) if abs(float(s.probability) - p) < 1e-12)
                    ws.append(np.asarray(grid.weights[i], dtype=np.float64))
                    losses = np.asarray(grid.losses[i]) if len(grid.losses) else np.array([])
                    ls.append(float(losses[-1]) if losses.size else float("nan"))
                out.append(SmallGrid(name, n, m, list(config.probabilities), importance, config.steps, ws, ls))
                start += len(specs)
            ctx.cache.store("train", key, out)
            runs[name] = out

        groups = [[s for specs in per_run[name] for s in specs] for name in names]
        adapters.train_groups(
            groups, todo[names[0]][0][0], dispatcher=ctx.run_tasks(), progress=ctx.progress.bars, on_group=store
        )
    return {name: runs[name] for name in wanted}


def lowest_loss(runs: list[SmallGrid]) -> SmallGrid:
    """Per probability, the run with the lowest final loss: the optimum the paper pictures (trainings from other
    seeds can stop in a local minimum). NaN losses never win; all runs share their probabilities."""
    if not runs:
        raise ValueError("`runs` must hold at least one SmallGrid; got none.")
    best_w, best_l = [], []
    for j in range(len(runs[0].probabilities)):
        losses = np.array([r.losses[j] for r in runs], dtype=float)
        i = int(np.nanargmin(losses)) if np.isfinite(losses).any() else 0
        best_w.append(runs[i].weights[j])
        best_l.append(runs[i].losses[j])
    r0 = runs[0]
    return SmallGrid(r0.name, r0.n_features, r0.hidden, list(r0.probabilities), r0.importance, r0.steps, best_w, best_l)


def a1_cosine(W: np.ndarray) -> float:
    """Cosine between the two features' weights of an A1 model ``[2, 1]``; NaN when either norm is below 0.001."""
    n0, n1 = np.linalg.norm(W, axis=1)
    return float(W[0] @ W[1] / (n0 * n1)) if n0 > 1e-3 and n1 > 1e-3 else float("nan")


class BackgroundSection(Section):
    """A1-A3."""

    key = "background"
    title = "0. Background: superposition in toy models"
    config_key = "background"

    def check(self, config: Any) -> None:
        """Build every background TrainConfig, so a setting they reject fails before the run starts, and check
        that each fits this machine (:func:`supviz.toy.train.check_training_fits`)."""
        from supviz.core.resources import F64, check_fits, toy_instances_need
        from supviz.errors import SupvizError
        from supviz.toy.train import check_training_fits, training_need

        bg: BackgroundConfig = config.section("background")
        n3, m3, k3 = a3_size(bg)  # before its probabilities are listed: a count of 1e9 hung here
        steps = bg.steps or config.toy.steps
        need = toy_instances_need(k3, n3, m3, steps=steps, log_every=config.toy.log_every, what="background A3")
        check_fits(need, "`background.a3_probability_count`, `background.a3_*`, `background.steps`")
        for name, exp in experiments(config).items():
            try:
                tc = small_config(config, name, *exp)
            except SupvizError as exc:
                raise SupvizError(f"background {name} cannot be trained with these settings: {exc}") from None
            sizes = f"`background.{name.lower()}_*`, `background.steps`, `toy.batch_size`"
            check_training_fits(tc, settings=sizes)
        # A1 trains a1_seeds times, one after another, and keeps every run's weights [2, 1] and final loss
        # per probability (float64) for its table: a seed count of 1e9 passed every check above
        n1, m1, p1, _ = experiments(config)["A1"]
        one = training_need(small_config(config, "A1", n1, m1, p1, "uniform"))
        kept = len(p1) * F64 * (n1 * m1 + 1)
        what = f"background A1 ({bg.a1_seeds} seeds x {len(p1)} probabilities, {steps} steps)"
        check_fits(one.repeated(bg.a1_seeds, kept=kept, what=what), "`background.a1_seeds`, `background.steps`")

    def compute(self, ctx: RunContext) -> dict[str, Any]:
        exps = experiments(ctx.config)
        cfg: BackgroundConfig = ctx.config.section("background")
        seeds = {"A1": list(range(cfg.a1_seeds)), "A2": list(range(cfg.a2_seeds)), "A3": [0]}
        runs = train_experiments(ctx, {name: (*exp, seeds[name]) for name, exp in exps.items()})
        a1_runs, a2_runs = runs["A1"], runs["A2"]
        a1, a2, a3 = lowest_loss(a1_runs), lowest_loss(a2_runs), runs["A3"][0]
        diag = {
            name: [cell_diagnostics(W, np.ones(W.shape[0])) for W in g.weights] for name, g in (("A2", a2), ("A3", a3))
        }
        return {"A1": a1, "A2": a2, "A3": a3, "diag": diag, "A1_runs": a1_runs, "A2_runs": a2_runs}

    def render(self, ctx: RunContext, result: dict[str, Any]) -> SectionOutput:
        from supviz.study.background import findings as verdicts
        from supviz.study.tables import build_table
        from supviz.toy import plots as sfig

        a1, a2, a3 = result["A1"], result["A2"], result["A3"]
        figs, rows, tables = [], [], []
        # A1
        titles = [f"p = {p:g}" for p in a1.probabilities]
        runs = result.get("A1_runs") or [a1]
        for j, (p, W, loss) in enumerate(zip(a1.probabilities, a1.weights, a1.losses)):
            n0, n1 = np.linalg.norm(W, axis=1)
            c = a1_cosine(W)
            seed_cos = np.array([a1_cosine(r.weights[j]) for r in runs])
            seed_loss = np.array([r.losses[j] for r in runs], dtype=float)
            rows.append(
                {
                    "table": "cells",
                    "model": "A1",
                    "importance": "uniform",
                    "m": 1,
                    "p": p,
                    "n_features": 2,
                    "norm_0": float(n0),
                    "norm_1": float(n1),
                    "cosine_01": c,
                    "final_loss": loss,
                    "seeds": len(runs),
                    "seeds_antipodal": int(np.sum(seed_cos < ANTIPODAL_COS)),
                    "seeds_aligned": int(np.sum(seed_cos > 0.9)),
                    "loss_seed_max": float(np.nanmax(seed_loss)) if np.isfinite(seed_loss).any() else float("nan"),
                    # the A1 verdict compares these losses across seeds (a1_loss_contrast): keep their digits
                    "cosine_by_seed": " ".join(f"{v:.4f}" for v in seed_cos),
                    "loss_by_seed": " ".join(f"{v:.7g}" for v in seed_loss),
                }
            )
        figs.append(
            ctx.figure(
                "A1",
                title="A1. Two features in one dimension",
                caption=(
                    f"Toy model with n = 2 features, m = 1 hidden dimension, equal importance, trained {a1.steps} "
                    f"steps at feature probability p in {a1.probabilities}, {len(runs)} times from different seeds; "
                    "shown: the training with the lowest final loss at each p (the optimum, as the paper pictures "
                    "it; one training can stop in a local minimum, the table lists every seed). Top: each "
                    "feature's weight on the hidden axis; bottom: W Wᵀ with its values. "
                    + " ".join(_a1_sentence(r) for r in rows)
                ),
                content={"w": a1.weights, "t": titles},
                static=lambda: sfig.antipodal_figure(a1.weights, titles, title="A1. Two features in one dimension"),
            )
        )
        # A2
        d2 = result["diag"]["A2"]
        runs2 = result.get("A2_runs") or [a2]
        t2 = [f"p = {p:g}" for p in a2.probabilities]
        norms2 = [d.norms for d in d2]
        sup2 = [d.superposition for d in d2]
        figs.append(
            ctx.figure(
                "A2",
                title="A2. Demonstrating superposition",
                caption=(
                    f"n = {a2.n_features} features, m = {a2.hidden} hidden dimensions, {variant_label(a2.importance)}, "
                    f"{a2.steps} steps, trained {len(runs2)} times from different seeds; shown: the lowest-loss model "
                    "per feature probability p (columns; the table lists every seed's count). Top: W Wᵀ; bottom: "
                    "‖W_i‖ per "
                    "feature (most important on top) coloured by its superposition Σ_j≠i (Ŵ_i·W_j)² (dark: a dimension "
                    "of its own, yellow: shared)."
                ),
                content={"w": a2.weights, "n": norms2, "s": sup2, "t": t2},
                static=lambda: sfig.superposition_sweep_figure(
                    a2.weights, norms2, sup2, t2, title="A2. Demonstrating superposition"
                ),
            )
        )
        for j, (p, d, W, loss) in enumerate(zip(a2.probabilities, d2, a2.weights, a2.losses)):
            counts = [int((np.linalg.norm(r.weights[j], axis=1) > 0.5).sum()) for r in runs2]
            rows.append(
                {
                    "table": "cells",
                    "model": "A2",
                    "importance": a2.importance,
                    "m": a2.hidden,
                    "p": p,
                    "n_features": a2.n_features,
                    "n_norm_gt_half": float((d.norms > 0.5).sum()),
                    "final_loss": loss,
                    "seeds": len(runs2),
                    "count_by_seed": " ".join(str(k) for k in counts),
                    "loss_by_seed": " ".join(f"{r.losses[j]:.4f}" for r in runs2),
                    **{f"toy_{k2}": v for k2, v in d.values.items()},
                }
            )
        # A3
        d3 = result["diag"]["A3"]
        inv_p = 1.0 / np.asarray(a3.probabilities)
        dpf = np.array([a3.hidden / max(float((W**2).sum()), 1e-12) for W in a3.weights])
        dims = np.stack([np.where(d.norms > 1e-2, d.dimensionality, np.nan) for d in d3])
        n3, m3, k3 = a3.n_features, a3.hidden, len(a3.probabilities)
        size = f"n = {n3}, m = {m3}, {k3} sparsities, {a3.steps} steps" + (
            " (paper size)" if n3 == PAPER_A3[0] else " (a reduced size)"
        )
        figs.append(
            ctx.figure(
                "A3",
                title="A3. Feature geometry: dimensions per feature",
                caption=(
                    f"Uniform-importance models ({size}) at p = 10^0 ... 10^-3. Line: dimensions per feature m / "
                    "‖W‖²_F; dots: each feature's dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²; dashed: the fractions "
                    "1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3 that Elhage et al. found 'sticky' (a D_i spread uniformly over "
                    f"[0, 1] lies within {STICKY_TOL:g} of one with chance {sticky_chance():.2f})."
                ),
                content={"x": inv_p, "y": dpf, "d": dims, "s": size},
                static=lambda: sfig.geometry_figure(
                    inv_p, dpf, dims, title="A3. Dimensions per feature against sparsity", size_note=size
                ),
            )
        )
        for p, dp, d, row_dims in zip(a3.probabilities, dpf, d3, dims):
            fin = row_dims[np.isfinite(row_dims)]
            near = near_sticky(fin)
            rep = np.isfinite(row_dims) & (d.norms > REPRESENTED_NORM)
            rows.append(
                {
                    "table": "cells",
                    "model": "A3",
                    "importance": "uniform",
                    "m": m3,
                    "p": p,
                    "n_features": n3,
                    "dims_per_feature": float(dp),
                    "n_dims": float(fin.size),
                    "sticky_share": float(near.mean()) if fin.size else float("nan"),
                    "sticky_share_represented": float(near_sticky(row_dims[rep]).mean()) if rep.any() else float("nan"),
                    # every feature's own D_i (nan: norm <= 0.01) and norm, for A3's represented-feature reading
                    "dims_by_feature": " ".join(f"{v:.4f}" for v in row_dims),
                    "norms_by_feature": " ".join(f"{v:.4f}" for v in d.norms),
                    **{f"toy_{k2}": v for k2, v in d.values.items()},
                }
            )
        cells = build_table(rows, kind="cells")
        findings = [
            verdicts.a1_antipodal(cells),
            verdicts.a2_packing(cells),
            verdicts.a3_dims(cells),
            verdicts.a3_sticky(cells),
        ]
        tables = _tables(cells)
        return SectionOutput(
            key=self.key,
            title=self.title,
            figures=figs,
            findings=findings,
            rows=rows,
            tables=tables,
            settings=[
                f"A1 and A2 are trained {len(runs)} and {len(runs2)} times (background.a1_seeds, "
                "background.a2_seeds); the figures show the lowest-loss training per p.",
                "A3 at the paper-like size (n = {}, m = {}, {} sparsities): background.a3_paper_size = true, or "
                "supviz run --paper-size-a3.".format(*PAPER_A3),
            ],
            intro=(
                "The study's background figures were images borrowed from Elhage et al. (2022); here they are "
                "regenerated from supviz's own toy models (h = Wᵀx, x' = ReLU(W h + b)). A1 shows the smallest case of "
                f"superposition, A2 the paper's sparsity sweep, A3 the geometry ({size})."
            ),
        )


def _a1_sentence(row: dict[str, Any]) -> str:
    """What the A1 panel of one p shows, in words, from its numbers."""
    n0, n1, c, p = row["norm_0"], row["norm_1"], row["cosine_01"], row["p"]
    head = f"At p = {p:g}: ‖W0‖ = {n0:.2f}, ‖W1‖ = {n1:.2f}"
    if not np.isfinite(c):
        return head + ", one feature dropped (its norm below 0.001)."
    if c < ANTIPODAL_COS:
        return head + f", opposite signs (cosine {c:.2f}): the antipodal pair, negative off-diagonal in W Wᵀ."
    if c > 0.9:
        return head + (
            f", both along the same direction (cosine {c:.2f}): the axis is shared without the antipodal sign, "
            "so the model cannot tell the two features apart (positive off-diagonal)."
        )
    return head + f", cosine {c:.2f}."


def _tables(cells: Any) -> list[TableBlock]:
    """One narrow table per experiment (only its own columns)."""
    out = []
    cols = ["p", "norm_0", "norm_1", "cosine_01", "final_loss"]
    cols += [c for c in ("seeds", "seeds_antipodal", "cosine_by_seed", "loss_by_seed") if c in cells]
    a1 = cells[cells["model"] == "A1"][cols]
    out.append(
        TableBlock(
            "A1: the lowest-loss training's norms of the two features' weights, their cosine and final loss; every "
            "seed's cosine and loss beside",
            a1.rename(
                columns={"norm_0": "‖W0‖", "norm_1": "‖W1‖", "cosine_01": "cosine", "seeds_antipodal": "antipodal"}
            ).round(4),
        )
    )
    cols2 = ["p", "n_norm_gt_half", "toy_dims_per_feature", "toy_mean_superposition"]
    cols2 += [c for c in ("count_by_seed",) if c in cells]
    a2 = cells[cells["model"] == "A2"][cols2]
    out.append(
        TableBlock(
            "A2: the lowest-loss model's features with ‖W_i‖ > 0.5, dimensions per feature and mean superposition per "
            "p; every seed's count beside",
            a2.rename(
                columns={
                    "n_norm_gt_half": "‖W_i‖ > 0.5",
                    "count_by_seed": "‖W_i‖ > 0.5 by seed",
                    "toy_dims_per_feature": "dims per feature",
                    "toy_mean_superposition": "mean superposition",
                }
            ).round(3),
        )
    )
    share = "sticky_share_represented" if "sticky_share_represented" in cells else "sticky_share"
    a3 = cells[cells["model"] == "A3"][["p", "dims_per_feature", share, "toy_n_represented_norm"]]
    out.append(
        TableBlock(
            "A3: dimensions per feature, share of the represented features' D_i near a sticky fraction, represented "
            "features per p",
            a3.rename(
                columns={
                    "dims_per_feature": "dims per feature",
                    share: "share sticky",
                    "toy_n_represented_norm": "‖W_i‖ > 0.5",
                }
            ).round(3),
        )
    )
    return out
