"""Section A: the paper's background figures, regenerated from supviz's own toy models (A1-A3).

- A1: two features in one dimension (n = 2, m = 1): W and W W^T for dense to sparse p; the sparse
  model puts the two features on opposite poles (the antipodal pair).
- A2: the paper's "demonstrating superposition" sweep (n = 20, m = 5, importance 0.7^i).
- A3: the geometry figure: dimensions per feature m / ||W||_F^2 against 1/p with each feature's
  dimensionality D_i, which sticks at fractions (1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz.study import adapters
from supviz.study.common import fmt, spearman
from supviz.study.config import PAPER_A3, BackgroundConfig
from supviz.study.context import RunContext
from supviz.study.sections import Finding, Section, SectionOutput, TableBlock

log = logging.getLogger(__name__)
STICKY = np.array([1.0, 3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8, 1 / 3])


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


def small_config(config: Any, name: str, n: int, m: int, probs: list[float], importance: str) -> Any:
    """The TrainConfig of one background experiment: ``[toy]``'s recipe on an (n, m) model with its own seed."""
    cfg: BackgroundConfig = config.section("background")
    tc = config.toy
    return tc.replace(n_features=n, hidden=(m,), probabilities=tuple(float(p) for p in probs), importances=(importance,),
                      steps=cfg.steps or tc.steps, seed=config.derived_seed("background", name))


def experiments(config: Any) -> dict[str, tuple[int, int, list[float], str]]:
    """(n, m, probabilities, importance) of A1, A2 and A3."""
    cfg: BackgroundConfig = config.section("background")
    n3, m3, k3 = a3_size(cfg)
    return {
        "A1": (2, 1, cfg.a1_probabilities, "uniform"),
        "A2": (cfg.a2_n_features, cfg.a2_hidden, cfg.a2_probabilities, cfg.a2_importance),
        "A3": (n3, m3, [float(p) for p in np.logspace(0, -3, k3)], "uniform"),
    }


def _train_small(ctx: RunContext, name: str, n: int, m: int, probs: list[float], importance: str) -> SmallGrid:
    config = small_config(ctx.config, name, n, m, probs, importance)
    steps = config.steps
    params = config.to_dict()

    def run() -> SmallGrid:
        grid = adapters.train(config, progress=ctx.progress.bars)
        ws, ls = [], []
        for p in config.probabilities:
            i = next(i for i, s in enumerate(grid.specs) if abs(float(s.probability) - p) < 1e-12)
            ws.append(np.asarray(grid.weights[i], dtype=np.float64))
            losses = np.asarray(grid.losses[i]) if len(grid.losses) else np.array([])
            ls.append(float(losses[-1]) if losses.size else float("nan"))
        return SmallGrid(name, n, m, list(config.probabilities), importance, steps, ws, ls)

    grid, _ = ctx.cache.get_or_compute("train", params, run)
    return grid


class BackgroundSection(Section):
    """A1-A3."""

    key = "background"
    title = "0. Background: superposition in toy models"
    config_key = "background"
    config_class = BackgroundConfig

    def check(self, config: Any) -> None:
        """Build every background TrainConfig, so a setting they reject fails before the run starts."""
        from supviz.errors import SupvizError

        for name, exp in experiments(config).items():
            try:
                small_config(config, name, *exp)
            except SupvizError as exc:
                raise SupvizError(f"background {name} cannot be trained with these settings: {exc}") from None

    def compute(self, ctx: RunContext) -> dict[str, Any]:
        exps = experiments(ctx.config)
        a1, a2, a3 = (_train_small(ctx, name, *exps[name]) for name in ("A1", "A2", "A3"))
        diag = {
            name: [adapters.cell_diagnostics(W, np.ones(W.shape[0])) for W in g.weights] for name, g in (("A2", a2), ("A3", a3))
        }
        return {"A1": a1, "A2": a2, "A3": a3, "diag": diag}

    def render(self, ctx: RunContext, result: dict[str, Any]) -> SectionOutput:
        from supviz.figures import static as sfig

        a1, a2, a3 = result["A1"], result["A2"], result["A3"]
        figs, rows, findings = [], [], []
        # A1
        grams = [W @ W.T for W in a1.weights]
        titles = [f"p = {p:g}" for p in a1.probabilities]
        figs.append(ctx.figure(
            "A1", title="A1. Two features in one dimension",
            caption=(f"Toy model with n = 2 features, m = 1 hidden dimension, equal importance, trained {a1.steps} steps "
                     f"at feature probability p in {a1.probabilities}. Top: each feature's weight on the hidden axis; "
                     "bottom: W Wᵀ with its values. Dense features keep one feature and drop the other; sparse features "
                     "share the axis with opposite signs (the antipodal pair, negative off-diagonal)."),
            content={"w": a1.weights, "t": titles},
            static=lambda: sfig.antipodal_figure(a1.weights, grams, titles, title="A1. Two features in one dimension"),
        ))
        cos = []
        for p, W in zip(a1.probabilities, a1.weights):
            n0, n1 = np.linalg.norm(W, axis=1)
            c = float(W[0] @ W[1] / (n0 * n1)) if n0 > 1e-3 and n1 > 1e-3 else float("nan")
            cos.append(c)
            rows.append({"experiment": "A1", "p": p, "m": 1, "n_points": 2, "method": "", "params": "{}", "panel": f"p = {p:g}",
                         "importance": "uniform", "note": "", "norm_0": float(n0), "norm_1": float(n1), "cosine_01": c,
                         "final_loss": a1.losses[a1.probabilities.index(p)]})
        sparse_c, dense_c = cos[-1], cos[0]
        findings.append(Finding(
            "With two features in one dimension, sparse features are stored as an antipodal pair (superposition); dense "
            "features are not.",
            f"Cosine between the two features' weights: {', '.join(f'p = {p:g}: {fmt(c)}' for p, c in zip(a1.probabilities, cos))} "
            "(n/a = one feature dropped, norm < 0.001).",
            "supported" if np.isfinite(sparse_c) and sparse_c < -0.9 and not (np.isfinite(dense_c) and dense_c < -0.9)
            else "partly" if np.isfinite(sparse_c) and sparse_c < -0.5 else "not supported",
        ))
        # A2
        d2 = result["diag"]["A2"]
        g2 = [W @ W.T for W in a2.weights]
        t2 = [f"p = {p:g}" for p in a2.probabilities]
        norms2 = [d.norms for d in d2]
        sup2 = [d.superposition for d in d2]
        figs.append(ctx.figure(
            "A2", title="A2. Demonstrating superposition",
            caption=(f"n = {a2.n_features} features, m = {a2.hidden} hidden dimensions, importance {a2.importance}, "
                     f"{a2.steps} steps, one model per feature probability p (columns). Top: W Wᵀ; bottom: ‖W_i‖ per feature "
                     "(most important first) coloured by its superposition Σ_j≠i (Ŵ_i·W_j)² (dark: a dimension of its own, "
                     "yellow: shared)."),
            content={"g": g2, "n": norms2, "s": sup2, "t": t2},
            static=lambda: sfig.superposition_sweep_figure(g2, norms2, sup2, t2, title="A2. Demonstrating superposition"),
        ))
        rep2 = [int((n > 0.5).sum()) for n in norms2]
        for p, d, k in zip(a2.probabilities, d2, rep2):
            rows.append({"experiment": "A2", "p": p, "m": a2.hidden, "n_points": a2.n_features, "method": "", "params": "{}",
                         "panel": f"p = {p:g}", "importance": a2.importance, "note": "", "n_norm_gt_half": float(k),
                         **{f"toy_{k2}": v for k2, v in d.values.items()}})
        findings.append(Finding(
            "As features get sparser the model packs more features into the same dimensions, in superposition.",
            f"Features with ‖W_i‖ > 0.5 (of {a2.n_features}, m = {a2.hidden}): "
            + ", ".join(f"p = {p:g}: {k}" for p, k in zip(a2.probabilities, rep2)) + ".",
            "supported" if rep2[-1] > rep2[0] and rep2[0] <= a2.hidden + 1 else "partly" if rep2[-1] > rep2[0] else "not supported",
        ))
        # A3
        d3 = result["diag"]["A3"]
        inv_p = 1.0 / np.asarray(a3.probabilities)
        dpf = np.array([a3.hidden / max(float((W**2).sum()), 1e-12) for W in a3.weights])
        dims = np.stack([np.where(d.norms > 1e-2, d.dimensionality, np.nan) for d in d3])
        n3, m3, k3 = a3.n_features, a3.hidden, len(a3.probabilities)
        size = f"n = {n3}, m = {m3}, {k3} sparsities, {a3.steps} steps" + (" (paper size)" if n3 == PAPER_A3[0] else " (reduced size; --paper-size-a3 for the larger one)")
        figs.append(ctx.figure(
            "A3", title="A3. Feature geometry: dimensions per feature",
            caption=(f"Uniform-importance models ({size}) at p = 10^0 ... 10^-3. Line: dimensions per feature m / ‖W‖²_F; "
                     "dots: each feature's dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²; dashed: the fractions 1, 3/4, 2/3, "
                     "1/2, 2/5, 3/8, 1/3 that the paper found 'sticky'."),
            content={"x": inv_p, "y": dpf, "d": dims, "s": size},
            static=lambda: sfig.geometry_figure(inv_p, dpf, dims, title="A3. Dimensions per feature against sparsity",
                                                size_note=size),
        ))
        finite = dims[np.isfinite(dims)]
        near = float(np.mean(np.min(np.abs(finite[:, None] - STICKY[None, :]), axis=1) < 0.05)) if finite.size else float("nan")
        for p, dp, d in zip(a3.probabilities, dpf, d3):
            rows.append({"experiment": "A3", "p": p, "m": m3, "n_points": n3, "method": "", "params": "{}",
                         "panel": f"1/p = {1 / p:.3g}", "importance": "uniform", "note": "", "dims_per_feature": float(dp),
                         **{f"toy_{k2}": v for k2, v in d.values.items()}})
        rho = spearman(inv_p, dpf)
        findings.append(Finding(
            "Dimensions per feature fall as sparsity grows, and feature dimensionalities cluster at a few fractions.",
            f"m / ‖W‖²_F goes from {fmt(dpf[0])} (1/p = 1) to {fmt(dpf[-1])} (1/p = {inv_p[-1]:.0f}), Spearman rho with 1/p "
            f"{fmt(rho)}; {fmt(100 * near)}% of the represented features' D_i lie within 0.05 of a sticky fraction.",
            "supported" if rho < -0.5 and near > 0.5 else "partly" if rho < 0 else "not supported",
        ))
        import pandas as pd

        tables = [TableBlock("A1-A3: toy-model diagnostics", pd.DataFrame(rows).drop(columns=["params", "note", "method"], errors="ignore"))]
        return SectionOutput(
            key=self.key, title=self.title, figures=figs, findings=findings, rows=rows, tables=tables,
            intro=(
                "The study's background figures were images borrowed from Elhage et al. (2022); here they are regenerated "
                f"from supviz's own toy models (h = Wᵀx, x' = ReLU(W h + b)). A1 shows the smallest case of superposition, A2 "
                f"the paper's sparsity sweep, A3 the geometry ({size})."
            ),
        )
