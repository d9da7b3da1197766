"""One SAE per toy cell, trained as one batched job and scored against the cell's known features:
:func:`train_cell_saes` (what the study's section E calls) and :func:`encode_cells`.

Cell ``g`` of a grid (a trained or loaded :class:`~supviz.toy.TrainedGrid`) trains on its own
data stream ``h = x W_g`` (:meth:`FeatureStream.from_toy`: exactly the distribution the toy
model saw) and is scored on a separate evaluation sample of that stream against the rows of
``W_g`` that the cell represents (``||W_i|| > 0.5`` by default). Seeds depend on the cell itself,
not on its place in the grid nor on which other cells train beside it: cell ``g`` with key
``c = cell_seed_key(grid, g)`` (its n, m, p, importance, own seed and label) uses stream
``child(seed, *c, 1)`` and SAE ``child(seed, *c, 0)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child
from supviz.core.validation import check_indices, check_int
from supviz.errors import SupvizError
from supviz.sae.config import DATA_K, SAEConfig
from supviz.sae.metrics import SAEScores
from supviz.sae.model import SAE, TrainedSAEs

if TYPE_CHECKING:  # pragma: no cover
    from supviz.toy.grid import TrainedGrid

#: The settings proposed for the default study run (docs/benchmarks.md, "supviz.sae"): measured
#: on the study's 72 cells; ``d_sae`` is twice the true feature count and TopK's k follows from each
#: cell's data (``k = "data"``: :func:`supviz.sae.config.data_k` of the cell's true L0 and m).
STUDY_ARCHITECTURE = "topk"
STUDY_STEPS = 2000
STUDY_BATCH = 128
STUDY_RATIO = 2


def study_config(n_features: int, **changes: Any) -> SAEConfig:
    """The default config of :func:`train_cell_saes` for toy models of ``n_features`` features."""
    n = check_int("n_features", n_features, min_value=1)
    base = SAEConfig(
        architecture=STUDY_ARCHITECTURE, d_sae=STUDY_RATIO * n, k=DATA_K, steps=STUDY_STEPS, batch_size=STUDY_BATCH
    )
    return base.replace(**changes) if changes else base


@dataclass(eq=False)
class CellSAEs:
    """SAEs of toy cells and their scores.

    Attributes
    ----------
    indices : list[int]
        The cells' indices in the grid.
    labels : list[str]
    saes : list[SAE]
        One per cell (decoder rows ``W_dec [d_sae, m]`` in the cell's h-space).
    scores : SAEScores
        Against each cell's represented features, on ``n_eval`` fresh samples of its stream.
    features : list[np.ndarray [n, m]]
        Each cell's true feature directions (all rows of its W).
    represented : list[np.ndarray [n] bool]
        Which of them were scored.
    codes : list[np.ndarray [N_i, d_sae]] or None
        The SAE codes of the ``inputs`` given to :func:`train_cell_saes`.
    training : TrainedSAEs
        Loss curves and timing of the job.
    info : dict
        Config, seed, evaluation size, timing of the scoring.
    """

    indices: list[int]
    labels: list[str]
    saes: list[SAE]
    scores: SAEScores
    features: list[np.ndarray]
    represented: list[np.ndarray]
    codes: list[np.ndarray] | None
    training: TrainedSAEs
    info: dict[str, Any] = field(default_factory=dict)
    cells: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return (
            f"CellSAEs({len(self)} cell(s), {self.info.get('architecture')}, d_sae={self.info.get('d_sae')}; "
            ".to_frame() for the scores)"
        )

    def to_frame(self) -> Any:
        """The scores as a DataFrame with the cell's ``index, m, p, importance`` in front."""
        import pandas as pd

        df = self.scores.to_frame()
        front = pd.DataFrame(self.cells)
        out = pd.concat([front, df.drop(columns=["label"])], axis=1)
        out.attrs.update(df.attrs)
        return out


def train_cell_saes(
    grid: "TrainedGrid",
    indices: Sequence[int] | None = None,
    *,
    config: SAEConfig | None = None,
    seed: SeedLike = 0,
    n_eval: int = 4096,
    inputs: Sequence[Any] | None = None,
    probability: float | None = None,
    rule: str = "norm",
    threshold: float | None = None,
    threads: int = 0,
    progress: bool | None = None,
) -> CellSAEs:
    """Train one SAE per toy cell in one batched job; score each against its represented features.

    Parameters
    ----------
    grid : TrainedGrid
        Toy models (``supviz.toy.train_grid``, ``load_grid``, ``load_hamblin2022``).
    indices : sequence of int, optional
        Which cells (default: all).
    config : SAEConfig, optional
        Default :func:`study_config` (``n_features`` of the grid).
    seed : int, Generator, SeedSequence or None
    n_eval : int
        Evaluation samples per cell (fresh draws of its stream, never seen in training).
    inputs : sequence of arrays [N_i, m_i], optional
        Inputs in each cell's h-space to encode (e.g. the data-point section's samples); their
        codes come back in ``codes``.
    probability : float, optional
        The feature probability of cells whose spec has none (external weights).
    rule, threshold :
        The represented-feature rule (:func:`supviz.toy.represented_mask`).
    threads, progress :
        As in :func:`supviz.sae.train_saes`.

    Returns
    -------
    CellSAEs
    """
    import time

    from supviz.sae.engine import SAEJob, train_saes
    from supviz.sae.metrics import score
    from supviz.sae.model import encode

    if not len(grid):
        raise SupvizError("`grid` holds no cells.")
    idx = check_indices("indices", indices, len(grid))
    n_eval = check_int("n_eval", n_eval, min_value=1)
    ns = {grid.specs[i].n_features for i in idx}
    config = study_config(max(ns)) if config is None else config
    if not isinstance(config, SAEConfig):
        raise SupvizError(f"`config` must be an SAEConfig; got {type(config).__name__}.")
    root = as_seed_sequence(seed)
    jobs, streams = [], []
    for g in idx:
        key = cell_seed_key(grid, g, probability=probability)
        stream = _stream(grid, g, child(root, *key, 1), probability, rule, threshold)
        streams.append(stream)
        jobs.append(SAEJob(stream, config, seed=child(root, *key, 0), label=grid.labels[g]))
    if inputs is not None and len(inputs) != len(idx):
        raise SupvizError(f"`inputs` must hold one array per cell ({len(idx)}); got {len(inputs)}.")
    trained = train_saes(jobs, threads=threads, progress=progress)
    t0 = time.perf_counter()
    evals = [s.evaluation(n_eval) for s in streams]
    scores = score(
        trained.saes,
        [e[0] for e in evals],
        features=[s.features for s in streams],
        feature_masks=[s.feature_mask for s in streams],
        true_codes=[e[1] for e in evals],
        device=config.device,
    )
    codes = None if inputs is None else encode(trained.saes, list(inputs), device=config.device)
    scoring = time.perf_counter() - t0
    cells = []
    for g, s in zip(idx, streams):
        spec = grid.specs[g]
        p = spec.probability if spec.probability is not None else probability
        cells.append(
            {
                "index": g,
                "label": grid.labels[g],
                "m": spec.n_hidden,
                "p": float(p),
                "importance": spec.importance_name,
                "n_represented": int(s.feature_mask.sum()),
            }
        )
    info = {
        "architecture": config.architecture,
        "d_sae": config.d_sae,
        "config": config.to_dict(),
        "seed": _seed_info(seed, root),
        "n_eval": n_eval,
        "train_seconds": trained.info["wall_seconds"],
        "score_seconds": round(scoring, 3),
    }
    return CellSAEs(
        idx,
        [grid.labels[g] for g in idx],
        trained.saes,
        scores,
        [s.features for s in streams],
        [s.feature_mask for s in streams],
        codes,
        trained,
        info,
        cells,
    )


def cell_seed_key(grid: "TrainedGrid", index: int, *, probability: float | None = None) -> tuple[int, ...]:
    """The seed path of cell ``grid[index]``: four 32-bit words of a SHA-256 of what the cell is.

    The digest covers the cell's ``n_features``, ``n_hidden``, feature probability (``probability``
    where the spec has none), importance name, its own training seed and its label, but not its
    index: the same cell gets the same SAE and stream seeds (``child(seed, *key, 0)`` and
    ``child(seed, *key, 1)``) in any grid, at any position, beside any other cells. Cells that
    agree in all of these (replicates of external weights without labels) share their seeds.

    Returns
    -------
    tuple of 4 ints in [0, 2**32)
    """
    import hashlib
    import json

    spec = grid.specs[index]
    p = spec.probability if spec.probability is not None else probability
    text = json.dumps(
        [
            int(spec.n_features),
            int(spec.n_hidden),
            None if p is None else float(p).hex(),
            str(spec.importance_name),
            spec.seed,
            str(grid.labels[index]),
        ]
    )
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def encode_cells(cells: CellSAEs, inputs: Sequence[Any], *, device: str = "cpu") -> list[np.ndarray]:
    """The codes ``f(h)`` of inputs ``[N_i, m_i]`` (one array per cell) under each cell's SAE."""
    from supviz.sae.model import encode

    if len(inputs) != len(cells):
        raise SupvizError(f"`inputs` must hold one array per cell ({len(cells)}); got {len(inputs)}.")
    return encode(cells.saes, list(inputs), device=device)


def _stream(grid, g, seed, probability, rule, threshold):
    from supviz.sae.sources import FeatureStream

    spec = grid.specs[g]
    if spec.probability is None:
        if probability is None:
            raise SupvizError(
                f"cell {g} ({grid.labels[g]}) has no feature probability (external weights); give `probability`."
            )
        from dataclasses import replace

        from supviz.toy.grid import TrainedGrid

        one = TrainedGrid(
            [replace(spec, probability=float(probability))],
            [grid.weights[g]],
            [grid.biases[g]],
            np.zeros((1, 0)),
            labels=[grid.labels[g]],
        )
        return FeatureStream.from_toy(one, 0, seed=seed, rule=rule, threshold=threshold)
    return FeatureStream.from_toy(grid, g, seed=seed, rule=rule, threshold=threshold)


def _seed_info(seed: SeedLike, root: np.random.SeedSequence) -> Any:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return {"entropy": int(root.entropy), "spawn_key": [int(k) for k in root.spawn_key]}
