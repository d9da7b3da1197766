"""Sparse inputs drawn from a cell's own data distribution.

The toy model of superposition is trained on inputs ``x`` in R^n whose features are independently
present with probability ``p``; a present feature has a value drawn uniformly from [0, 1] and an
absent one is 0 (SPEC section 0). :func:`sample_inputs` draws exactly that distribution, drops the
all-zero rows (they carry no feature and map to the origin of every space) and says how many it
dropped. The sample is topped up until it holds ``n_points`` non-zero rows, so every cell of a grid
pictures the same number of points; ``n_dropped`` counts every all-zero row discarded on the way.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from supviz.core.seeding import SeedLike, numpy_rng
from supviz.core.validation import check_int, check_probability
from supviz.errors import SupvizError

logger = logging.getLogger(__name__)

__all__ = ["SparseSample", "sample_inputs"]

# A top-up draw never asks for more than this many rows at once, whatever p is.
_MAX_BATCH = 1_000_000


@dataclass(frozen=True)
class SparseSample:
    """Sparse inputs of one cell.

    Attributes
    ----------
    x : np.ndarray, shape (n_points, n_features), float64
        The kept inputs; every row has at least one active (non-zero) feature.
    probability : float
        The feature probability ``p`` they were drawn with.
    n_drawn : int
        Rows drawn in total, kept plus dropped.
    n_dropped : int
        All-zero rows that were drawn and discarded (``n_drawn - n_points``).
    """

    x: np.ndarray
    probability: float
    n_drawn: int
    n_dropped: int

    @property
    def n_points(self) -> int:
        """Number of kept rows."""
        return int(self.x.shape[0])

    @property
    def active(self) -> np.ndarray:
        """Boolean mask ``[n_points, n_features]`` of the active (non-zero) features."""
        return self.x > 0

    @property
    def dropped_fraction(self) -> float:
        """Fraction of the drawn rows that were all zero (expected ``(1 - p) ** n``)."""
        return self.n_dropped / self.n_drawn if self.n_drawn else 0.0


#: Least share of drawn rows with an active feature that the non-zero sampler accepts (below it, the
#: top-up loop would draw over a million rows per kept one).
MIN_NONZERO_RATE = 1e-6


def check_nonzero_rate(n_features: int, probability: float, *, name: str = "probability") -> float:
    """The share ``1 - (1 - p)^n`` of drawn rows with an active feature; refused below :data:`MIN_NONZERO_RATE`.

    Raises
    ------
    SupvizError
        When the share is below :data:`MIN_NONZERO_RATE` (``name`` is the setting the message names).
    """
    keep_rate = -math.expm1(n_features * math.log1p(-probability)) if probability < 1 else 1.0
    if keep_rate < MIN_NONZERO_RATE:
        raise SupvizError(
            f"`{name}` is too small for non-zero inputs: with n_features={n_features} and "
            f"probability={probability} only {keep_rate:.2e} of the rows have an active feature."
        )
    return keep_rate


def sample_inputs(
    n_features: int,
    *,
    probability: float,
    n_points: int,
    random_state: SeedLike = None,
    drop_zero: bool = True,
) -> SparseSample:
    """Draw ``n_points`` sparse inputs of the toy model's data distribution.

    Each feature is present independently with probability ``probability``; a present feature's
    value is uniform on [0, 1], an absent one is 0.

    Parameters
    ----------
    n_features : int
        Number of features ``n`` (columns).
    probability : float
        Feature probability ``p`` in (0, 1].
    n_points : int
        Number of rows to return (all of them non-zero when ``drop_zero``).
    random_state : int, Generator, SeedSequence or None
        Seed; equal seeds give equal samples.
    drop_zero : bool, default True
        Drop all-zero rows and draw more until ``n_points`` non-zero rows are kept. With False the
        first ``n_points`` rows are returned as drawn and ``n_dropped`` is 0.

    Returns
    -------
    SparseSample
        The inputs and the counts of drawn and dropped rows.

    Notes
    -----
    The rows are drawn in batches from one generator: a first batch of ``n_points`` rows, then
    top-ups sized by the expected non-zero fraction ``1 - (1 - p) ** n``. The kept rows are the
    non-zero rows in the order drawn, truncated to ``n_points``; rows drawn after the last kept one
    are neither kept nor counted as dropped.
    """
    n_features = check_int("n_features", n_features, min_value=1)
    probability = check_probability("probability", probability)
    n_points = check_int("n_points", n_points, min_value=1)
    rng = numpy_rng(random_state, name="random_state")

    if not drop_zero:
        x = _draw(rng, n_points, n_features, probability)
        return SparseSample(x=x, probability=probability, n_drawn=n_points, n_dropped=0)

    keep_rate = check_nonzero_rate(n_features, probability)
    kept: list[np.ndarray] = []
    n_kept = 0
    n_drawn = 0
    n_dropped = 0
    batch = n_points
    while n_kept < n_points:
        block = _draw(rng, batch, n_features, probability)
        nonzero = block.any(axis=1)
        # Only the rows up to the last one needed count as drawn.
        need = n_points - n_kept
        idx = np.flatnonzero(nonzero)
        if idx.size >= need:
            last = int(idx[need - 1]) + 1
            block, nonzero = block[:last], nonzero[:last]
        n_drawn += block.shape[0]
        n_dropped += int((~nonzero).sum())
        kept.append(block[nonzero])
        n_kept += int(nonzero.sum())
        missing = n_points - n_kept
        batch = min(_MAX_BATCH, max(64, int(math.ceil(1.2 * missing / keep_rate))))
    x = np.concatenate(kept, axis=0)
    if n_dropped:
        logger.info(
            "dropped %d all-zero inputs of %d drawn (p=%.3g, n=%d)", n_dropped, n_drawn, probability, n_features
        )
    return SparseSample(x=x, probability=probability, n_drawn=n_drawn, n_dropped=n_dropped)


def _draw(rng: np.random.Generator, rows: int, n_features: int, probability: float) -> np.ndarray:
    """One batch ``[rows, n_features]``: Bernoulli(p) presence times U[0, 1) values."""
    present = rng.random((rows, n_features)) < probability
    values = rng.random((rows, n_features))
    return np.where(present, values, 0.0)
