"""Arrays into float32, the precision SAEs train and encode in, without silent overflow or underflow.

numpy's float64 -> float32 cast turns magnitudes above float32's largest (3.4e38) into inf (with
a RuntimeWarning) and those below its smallest normal (1.2e-38) into subnormals or zeros, so an
array that is finite in float64 would arrive as "NaN/inf entries" or as zeros. Every array bound
for float32 goes through here instead: it is checked for finiteness in float64 first, and its
magnitude is checked against the range float32 holds with room to compute in.

* inputs (activations): peak ``|x|`` must lie in ``[2**-100, 2**100]`` (about 7.9e-31 to
  1.3e30): the products and sums of training and encoding stay far from float32's limits and
  the inputs keep float32's full precision (24 bits) down to ``2**-24`` of their peak;
* weights: peak ``|w|`` must not exceed float32's largest value;
* directions (true features): scale-free (only cosines are used), so divided by the power of
  two of their peak (exact) before the cast.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from supviz.core.validation import check_array
from supviz.errors import SupvizError

#: Inputs' peak magnitude must lie in [2**-INPUT_EXP, 2**INPUT_EXP].
INPUT_EXP = 100
INPUT_LOW, INPUT_HIGH = 2.0**-INPUT_EXP, 2.0**INPUT_EXP
F32_MAX = float(np.finfo(np.float32).max)


def as_float64(name: str, value: Any, *, ndim: int | tuple[int, ...]) -> np.ndarray:
    """A finite float64 array (torch tensors detached), checked before any cast."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
    return check_array(name, value, ndim=ndim, dtype=np.float64)


def peak(arr: np.ndarray) -> float:
    """``max |arr|`` (0 for an empty array)."""
    return float(np.max(np.abs(arr))) if arr.size else 0.0


def input_range_problem(arr: np.ndarray) -> str | None:
    """Why float64 inputs cannot train or be encoded in float32 (None when they can)."""
    p = peak(arr)
    if p == 0.0 or INPUT_LOW <= p <= INPUT_HIGH:
        return None
    side = "above" if p > INPUT_HIGH else "below"
    limit = INPUT_HIGH if p > INPUT_HIGH else INPUT_LOW
    return (
        f"has magnitudes up to {p:.3g}, {side} the {limit:.2g} that float32 (the precision SAEs train and encode in) "
        f"holds safely"
    )


def input_scale(arr: np.ndarray) -> float:
    """The power of two ``c`` that brings the peak of ``arr`` into [0.5, 1) (1.0 for all zeros); exact in float64."""
    p = peak(arr)
    return 1.0 if p == 0.0 else math.ldexp(1.0, -math.frexp(p)[1])


def inputs(name: str, value: Any, *, ndim: int | tuple[int, ...] = 2, hint: str = "") -> np.ndarray:
    """Inputs (activations) as C-contiguous float32, refusing magnitudes float32 cannot hold safely.

    Raises
    ------
    SupvizError
        Non-finite entries (counted in float64), or a peak magnitude outside
        ``[2**-100, 2**100]``: "`name` has magnitudes up to 1e+100, above ...; divide it by its
        scale first{hint}."
    """
    arr = as_float64(name, value, ndim=ndim)
    problem = input_range_problem(arr)
    if problem:
        raise SupvizError(f"`{name}` {problem}; divide it by its scale (e.g. its RMS) first{hint}.")
    return np.ascontiguousarray(arr, dtype=np.float32)


def weights(name: str, value: Any, *, ndim: int) -> np.ndarray:
    """Weights as C-contiguous float32, refusing magnitudes beyond float32's largest value."""
    arr = as_float64(name, value, ndim=ndim)
    p = peak(arr)
    if p > F32_MAX:
        raise SupvizError(f"`{name}` has magnitudes up to {p:.3g}, beyond float32's largest value ({F32_MAX:.3g}).")
    return np.ascontiguousarray(arr, dtype=np.float32)


def directions(name: str, value: Any) -> np.ndarray:
    """Direction rows ``[n, d]`` as float32, divided by the power of two of their peak (cosines are unchanged)."""
    arr = as_float64(name, value, ndim=2)
    return np.ascontiguousarray(arr * input_scale(arr), dtype=np.float32)


def activity(name: str, value: Any) -> np.ndarray:
    """True codes ``[N, n]`` as float32 signs: the scores only ask whether a feature is active (``!= 0``, ``> 0``)."""
    return np.sign(as_float64(name, value, ndim=2)).astype(np.float32)
