"""What random directions score: the chance level of every direction score of :func:`supviz.sae.metrics.score`.

A recovery score means something only beside what a dictionary that knows nothing scores. The chance
level here is measured, not derived: ``draws`` decoders whose ``d_sae`` rows are independent uniform
unit vectors in R^d (the trained SAE's shape) are scored against the same true features and mask by
the very function the trained SAE is scored by (:func:`supviz.sae.metrics.score`), so the chance level
follows any change of a score's definition. (For MMCS a closed form exists,
:func:`supviz.sae.metrics.random_mmcs_expectation`; a test checks the measured mean against it.)

A trained score is *distinguishable from chance* when it exceeds every one of the ``draws`` random
scores: under the null hypothesis that the trained decoder is one more random draw, the chance of that
is ``1 / (draws + 1)`` (a one-sided rank test; 19 draws give p = 0.05).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence
from supviz.core.validation import check_int

#: The direction scores of :func:`supviz.sae.metrics.score` that have a chance level.
CHANCE_SCORES = ("mmcs", "feature_mcc", "recovery_rate")
#: Random decoders per chance level: the smallest count whose rank test has p = 1 / (draws + 1) = 0.05.
DEFAULT_DRAWS = 19


@dataclass
class ChanceLevel:
    """The scores of ``draws`` random unit decoders of one shape against one set of true features.

    Attributes
    ----------
    draws : np.ndarray [draws, len(columns)]
        Each random decoder's score (NaN where the score is undefined, e.g. no counted feature).
    columns : tuple of str
        The score names (:data:`CHANCE_SCORES`).
    """

    draws: np.ndarray
    columns: tuple[str, ...] = CHANCE_SCORES
    notes: dict[str, str] = field(default_factory=dict)

    def mean(self, column: str) -> float:
        """The chance level: the mean score of the random decoders (NaN when undefined)."""
        v = self.draws[:, self.columns.index(column)]
        return float(np.mean(v)) if np.isfinite(v).all() and v.size else float("nan")

    def max(self, column: str) -> float:
        """The largest random score: a trained score above it is distinguishable from chance at
        ``p = 1 / (draws + 1)``."""
        v = self.draws[:, self.columns.index(column)]
        return float(np.max(v)) if np.isfinite(v).all() and v.size else float("nan")

    @property
    def p_value(self) -> float:
        """The rank test's level: ``1 / (draws + 1)``."""
        return 1.0 / (self.draws.shape[0] + 1)

    def columns_dict(self) -> dict[str, float]:
        """``{score}_chance`` (the mean) and ``{score}_chance_max`` for every score: a table row's columns."""
        out = {}
        for c in self.columns:
            out[f"{c}_chance"] = self.mean(c)
            out[f"{c}_chance_max"] = self.max(c)
        return out


def random_unit_rows(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``[n, d]`` independent uniform unit vectors (normalised standard normals; Muller 1959)."""
    A = rng.standard_normal((n, d))
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def chance_level(
    features: Any,
    *,
    d_sae: int,
    feature_mask: Any = None,
    draws: int = DEFAULT_DRAWS,
    random_state: SeedLike = None,
) -> ChanceLevel:
    """Score ``draws`` random unit decoders ``[d_sae, d]`` against ``features`` with :func:`~supviz.sae.metrics.score`.

    Parameters
    ----------
    features : array [n, d]
        True feature directions (rows), as given to :func:`~supviz.sae.metrics.score`.
    d_sae : int
        Latents of the trained SAE: the random decoders have as many rows.
    feature_mask : array [n] bool, optional
        The counted features (a toy cell's represented ones); default all.
    draws : int
        Random decoders (>= 1; default 19: a rank test at p = 0.05).
    random_state : int, Generator, SeedSequence or None

    Returns
    -------
    ChanceLevel
        ``draws`` scores per column; NaN where :func:`score` says the score is undefined.

    Raises
    ------
    SupvizError
        ``d_sae`` or ``draws`` below 1, or features that :func:`score` refuses.
    """
    from supviz.sae.metrics import score
    from supviz.sae.model import SAE

    d_sae = check_int("d_sae", d_sae, min_value=1)
    draws = check_int("draws", draws, min_value=1)
    F = np.asarray(features, dtype=np.float64)
    d = F.shape[-1] if F.ndim == 2 else 0
    rng = np.random.default_rng(as_seed_sequence(random_state, name="random_state"))
    saes = []
    for _ in range(draws):
        W_dec = random_unit_rows(d_sae, max(d, 1), rng).astype(np.float32)
        saes.append(
            SAE(
                W_enc=W_dec.T.copy(),
                b_enc=np.zeros(d_sae, np.float32),
                W_dec=W_dec,
                b_dec=np.zeros(W_dec.shape[1], np.float32),
                activation="relu",
                label="random",
            )
        )
    # one input row: score() encodes it, but only the direction scores are kept
    inputs = np.zeros((1, max(d, 1)), dtype=np.float32)
    sc = score(saes, inputs, features=F, feature_masks=None if feature_mask is None else np.asarray(feature_mask, bool))
    table = np.stack([np.asarray(getattr(sc, c), dtype=float) for c in CHANCE_SCORES], axis=1)
    notes = {c: sc.notes[0][c] for c in CHANCE_SCORES if c in sc.notes[0]}
    return ChanceLevel(table, CHANCE_SCORES, notes)
