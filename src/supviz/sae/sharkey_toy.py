"""The toy experiment of Sharkey, Braun & Millidge (2022), "[Interim research report] Taking features
out of superposition with sparse autoencoders", independent of the toy models.

Data: ``n`` random unit feature directions in ``d`` dimensions (normalised Gaussians); feature i
active with probability ``c 0.99^i`` with c such that 5 features are active on average
(:func:`~supviz.sae.sources.sharkey_probabilities`), an active feature's magnitude uniform on
[0, 1); inputs ``h = x F``, a fresh batch every step. A grid of SAEs (``relu_l1`` by default, the
paper's method) over dictionary ratio ``d_sae / n`` x L1 coefficient, all in one batched job on
one shared stream; each scored on a held-out sample by MMCS and the fraction of dead latents.

The paper's size is 512 features in 256 dimensions (``paper_size=True``); the default, 128 in 64,
runs on a CPU in minutes (docs/benchmarks.md). The L1 coefficient follows supviz's convention
(:mod:`supviz.sae.config`: summed squared error, inputs rescaled to ``E||x||^2 = d``), so the
band of good coefficients sits elsewhere than in the paper's figure, whose loss averaged the
squared error over dimensions and divided the L1 term by the dictionary size.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child
from supviz.core.validation import check_float, check_int, check_keywords
from supviz.errors import SupvizError
from supviz.runtime.codecs import cacheable

#: Dictionary ratios d_sae / n of the paper's grid.
DEFAULT_RATIOS = (0.5, 1.0, 2.0, 4.0, 8.0)
_TOY_EXPERIMENT_KEYWORDS = (
    "n_features",
    "d",
    "paper_size",
    "ratios",
    "l1_coefficients",
    "architecture",
    "steps",
    "batch_size",
    "lr",
    "decay",
    "mean_active",
    "n_eval",
    "seed",
    "threads",
    "progress",
)
#: L1 coefficients in quarter decades, 10^-1.5 to 10^1 (supviz's loss convention; see the module docstring).
DEFAULT_L1 = tuple(float(v) for v in 10.0 ** np.arange(-1.5, 1.01, 0.25))


@cacheable
@dataclass(eq=False)
class ToyExperiment:
    """Scores of the grid of SAEs, ``[ratios, l1_coefficients]`` each.

    Attributes
    ----------
    n_features, d : int
    ratios : np.ndarray [R]
    l1_coefficients : np.ndarray [L]
    d_sae : np.ndarray [R] int
    mmcs, dead_fraction, l0, fvu, recovery_rate : np.ndarray [R, L]
    true_l0 : float
        Mean active features per evaluation sample.
    info : dict
        Settings, seed, wall time, peak memory.
    """

    n_features: int
    d: int
    ratios: np.ndarray
    l1_coefficients: np.ndarray
    d_sae: np.ndarray
    mmcs: np.ndarray
    dead_fraction: np.ndarray
    l0: np.ndarray
    fvu: np.ndarray
    recovery_rate: np.ndarray
    true_l0: float
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"ToyExperiment({self.n_features} features in {self.d} dims, {len(self.ratios)} ratios x "
            f"{len(self.l1_coefficients)} L1 coefficients; best MMCS {np.nanmax(self.mmcs):.3f})"
        )

    def to_frame(self) -> Any:
        """One row per SAE: ratio, d_sae, l1_coefficient and its scores.

        ``df.attrs["units"]`` and ``df.attrs["definitions"]`` map every column to its unit and
        definition (the scores' as in :data:`supviz.sae.metrics.SCORE_COLUMNS`).
        """
        import pandas as pd

        from supviz.sae.metrics import SCORE_COLUMNS, SCORE_UNITS

        rows = []
        for i, r in enumerate(self.ratios):
            for j, l1 in enumerate(self.l1_coefficients):
                rows.append(
                    {
                        "ratio": float(r),
                        "d_sae": int(self.d_sae[i]),
                        "l1_coefficient": float(l1),
                        "mmcs": float(self.mmcs[i, j]),
                        "dead_fraction": float(self.dead_fraction[i, j]),
                        "l0": float(self.l0[i, j]),
                        "fvu": float(self.fvu[i, j]),
                        "recovery_rate": float(self.recovery_rate[i, j]),
                    }
                )
        df = pd.DataFrame(
            rows, columns=["ratio", "d_sae", "l1_coefficient", "mmcs", "dead_fraction", "l0", "fvu", "recovery_rate"]
        )
        own = {
            "ratio": ("multiple of n_features", "dictionary size as a multiple of the true feature count"),
            "d_sae": ("count", "latents of the SAE, round(ratio * n_features)"),
            "l1_coefficient": ("1", "weight of the L1 penalty on the codes"),
        }
        df.attrs["units"] = {c: own[c][0] if c in own else SCORE_UNITS[c] for c in df.columns}
        df.attrs["definitions"] = {c: own[c][1] if c in own else SCORE_COLUMNS[c] for c in df.columns}
        return df

    def band(self, *, min_mmcs: float = 0.99) -> dict[float, list[float]]:
        """Per ratio, the L1 coefficients where MMCS >= ``min_mmcs`` (the paper's near-perfect band)."""
        out = {}
        for i, r in enumerate(self.ratios):
            ok = np.where(np.nan_to_num(self.mmcs[i], nan=-1.0) >= min_mmcs)[0]
            out[float(r)] = [float(self.l1_coefficients[j]) for j in ok]
        return out

    def heatmaps(self, stem: str | os.PathLike[str]) -> list[Path]:
        """Write the MMCS and dead-fraction heatmaps as ``<stem>.png`` and ``<stem>.svg``; return the paths."""
        from supviz.plot import save_figure
        from supviz.sae.plots import toy_experiment_figure

        return list(save_figure(toy_experiment_figure(self), stem, dpi=150, quantize=False).values())


def toy_experiment(
    *,
    n_features: int | None = None,
    d: int | None = None,
    paper_size: bool = False,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    l1_coefficients: Sequence[float] = DEFAULT_L1,
    architecture: str = "relu_l1",
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 3e-3,
    decay: float = 0.99,
    mean_active: float = 5.0,
    n_eval: int = 8192,
    seed: SeedLike = 0,
    threads: int = 0,
    progress: bool | None = None,
    **unknown: Any,
) -> ToyExperiment:
    """Run Sharkey et al.'s toy experiment: a grid of SAEs on random sparse features.

    Parameters
    ----------
    n_features, d : int, optional
        Features and dimensions; default 128 in 64, or the paper's 512 in 256 with ``paper_size``.
    paper_size : bool
        Use the paper's size.
    ratios : sequence of float
        Dictionary sizes as multiples of ``n_features`` (default 0.5, 1, 2, 4, 8).
    l1_coefficients : sequence of float
        The L1 weights (default quarter decades from 10^-1.5 to 10^1).
    architecture : str
        ``relu_l1`` (the paper's) or ``relu_l1_decnorm``.
    steps, batch_size, lr : training settings of every SAE.
    decay, mean_active : the feature probabilities ``c decay^i`` with mean ``mean_active`` active.
    n_eval : int
        Held-out samples for the scores.
    seed : int, Generator, SeedSequence or None
        Directions from ``child(seed, 0)``, the stream from ``child(seed, 1)``, SAE (i, j) from
        ``child(seed, 2, i, j)``.
    threads, progress : as in :func:`supviz.sae.train_saes`.

    Returns
    -------
    ToyExperiment

    Raises
    ------
    SupvizError
        A bad setting (named as passed), or a keyword argument it does not take.
    """
    import resource

    from supviz.sae.config import SAEConfig
    from supviz.sae.engine import SAEJob, train_saes
    from supviz.sae.metrics import score
    from supviz.sae.sources import FeatureStream, random_directions, sharkey_probabilities

    check_keywords("toy_experiment", unknown, _TOY_EXPERIMENT_KEYWORDS)
    if architecture not in ("relu_l1", "relu_l1_decnorm"):
        raise SupvizError(f"`architecture` must be 'relu_l1' or 'relu_l1_decnorm' (an L1 grid); got {architecture!r}.")
    n = check_int("n_features", n_features if n_features is not None else (512 if paper_size else 128), min_value=1)
    dim = check_int("d", d if d is not None else (256 if paper_size else 64), min_value=1)
    rs = np.array([check_float(f"ratios[{i}]", r, min_value=0.0, min_inclusive=False) for i, r in enumerate(ratios)])
    ls = np.array([check_float(f"l1_coefficients[{i}]", v, min_value=0.0) for i, v in enumerate(l1_coefficients)])
    if not rs.size or not ls.size:
        raise SupvizError("`ratios` and `l1_coefficients` must each hold at least one value.")
    root = as_seed_sequence(seed)
    F = random_directions(n, dim, seed=child(root, 0))
    probs = sharkey_probabilities(n, decay=decay, mean_active=mean_active)
    stream = FeatureStream(F, probs, seed=child(root, 1), label=f"sharkey {n}x{dim}")
    d_sae = np.maximum(1, np.round(rs * n).astype(int))
    jobs = []
    for i, s in enumerate(d_sae):
        for j, l1 in enumerate(ls):
            cfg = SAEConfig(
                architecture=architecture,
                d_sae=int(s),
                steps=steps,
                batch_size=batch_size,
                lr=lr,
                l1_coefficient=float(l1),
            )
            jobs.append(SAEJob(stream, cfg, seed=child(root, 2, i, j), label=f"ratio {rs[i]:g} l1 {l1:.3g}"))
    t0 = time.perf_counter()
    trained = train_saes(jobs, threads=threads, progress=progress)
    h, x = stream.evaluation(n_eval)
    sc = score(trained.saes, h, features=F, true_codes=x)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    shape = (len(rs), len(ls))
    return ToyExperiment(
        n_features=n,
        d=dim,
        ratios=rs,
        l1_coefficients=ls,
        d_sae=d_sae,
        mmcs=sc.mmcs.reshape(shape),
        dead_fraction=sc.dead_fraction.reshape(shape),
        l0=sc.l0.reshape(shape),
        fvu=sc.fvu.reshape(shape),
        recovery_rate=sc.recovery_rate.reshape(shape),
        true_l0=float(sc.true_l0[0]),
        info={
            "architecture": architecture,
            "steps": steps,
            "batch_size": batch_size,
            "lr": lr,
            "decay": decay,
            "mean_active": mean_active,
            "n_eval": n_eval,
            "seed": int(root.entropy) if isinstance(seed, int) else None,
            "wall_seconds": round(wall, 2),
            "train_seconds": trained.info["wall_seconds"],
            "ms_per_step": trained.info["ms_per_step"],
            "threads": trained.info["threads"],
            "peak_rss_mb": round(peak_mb, 1),
        },
    )
