"""The data set of section F: scikit-learn's digits, scaled and split with a recorded seed.

``sklearn.datasets.load_digits`` ships with scikit-learn (1,797 images of 8 x 8 pixels, values
0-16, ten classes of about 180 each), so everything here runs offline. Pixels are divided by 16,
so every input lies in [0, 1]^64, the toy models' input range. The train/test split is
stratified by class (``sklearn.model_selection.train_test_split``) with an int seed derived from
the caller's seed through :mod:`supviz.core.seeding`, and the seed is recorded in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, int_seed
from supviz.core.validation import check_float

#: The pixels' maximum value in ``load_digits`` (4-bit grey levels).
PIXEL_MAX = 16.0
#: ``load_digits``'s size: images, pixels per image, classes (what the machine-size check counts with).
DIGITS_SHAPE = (1797, 64, 10)


@dataclass(eq=False)
class Digits:
    """The digits, scaled to [0, 1] and split.

    Attributes
    ----------
    X : np.ndarray [N, 64] float32
        Pixels / 16, row-major 8 x 8 images.
    y : np.ndarray [N] int64
        Class 0-9.
    train, test : np.ndarray int64
        Row indices of the stratified split (disjoint, together all rows, each sorted).
    split_seed : int
        The ``random_state`` given to ``train_test_split``.
    test_fraction : float
    info : dict
        Source and sizes, for the run record.
    """

    X: np.ndarray
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray
    split_seed: int
    test_fraction: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def X_train(self) -> np.ndarray:
        return self.X[self.train]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.train]

    @property
    def X_test(self) -> np.ndarray:
        return self.X[self.test]

    @property
    def y_test(self) -> np.ndarray:
        return self.y[self.test]


def load_digits_split(*, test_fraction: float = 0.2, seed: SeedLike = 0) -> Digits:
    """Load scikit-learn's digits, scale the pixels to [0, 1] and split them by class.

    Parameters
    ----------
    test_fraction : float, default 0.2
        Share of the rows held out, in (0, 1) (360 of 1,797 at 0.2).
    seed : int, Generator, SeedSequence or None
        The split's seed; the int passed to ``train_test_split`` is
        :func:`supviz.core.seeding.int_seed` of it and is recorded as ``split_seed``.

    Returns
    -------
    Digits

    Raises
    ------
    SupvizError
        ``test_fraction`` outside (0, 1) or leaving fewer than one row per class on a side.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    frac = check_float(
        "test_fraction", test_fraction, min_value=0.0, max_value=1.0, min_inclusive=False, max_inclusive=False
    )
    data = load_digits()
    X = (np.asarray(data.data, dtype=np.float64) / PIXEL_MAX).astype(np.float32)
    y = np.asarray(data.target, dtype=np.int64)
    n_classes = len(np.unique(y))
    n_test = int(np.ceil(frac * len(y)))
    if n_test < n_classes or len(y) - n_test < n_classes:
        from supviz.errors import SupvizError

        raise SupvizError(
            f"`test_fraction` must leave at least one row per class ({n_classes}) on each side; "
            f"got {frac} ({n_test} of {len(y)} rows held out)."
        )
    split_seed = int_seed(seed)
    rows = np.arange(len(y))
    train, test = train_test_split(rows, test_size=frac, stratify=y, random_state=split_seed)
    info = {
        "source": "sklearn.datasets.load_digits",
        "n": len(y),
        "d": int(X.shape[1]),
        "classes": n_classes,
        "scale": f"pixels / {PIXEL_MAX:g}",
        "n_train": len(train),
        "n_test": len(test),
    }
    return Digits(X, y, np.sort(train), np.sort(test), split_seed, frac, info)
