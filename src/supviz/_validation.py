"""Declared parameter checks, so that every message has the same shape.

Each checker returns the (possibly converted) value or raises :class:`SupvizError` with
"`name` must be <what>; got <value>."
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from supviz.errors import SupvizError


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def fail(name: str, what: str, value: Any) -> SupvizError:
    """Build the standard error: "`name` must be <what>; got <value>."."""
    return SupvizError(f"`{name}` must be {what}; got {_fmt(value)}.")


def check_int(name: str, value: Any, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """An int (bools refused) within ``[min_value, max_value]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise fail(name, _range_text("an int", min_value, max_value), value)
    value = int(value)
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise fail(name, _range_text("an int", min_value, max_value), value)
    return value


def check_float(
    name: str,
    value: Any,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """A finite real number within the given bounds."""
    lo = "[" if min_inclusive else "("
    hi = "]" if max_inclusive else ")"
    what = "a finite number"
    if min_value is not None or max_value is not None:
        what += f" in {lo}{'-inf' if min_value is None else min_value}, {'inf' if max_value is None else max_value}{hi}"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail(name, what, value)
    value = float(value)
    if not math.isfinite(value):
        raise fail(name, what, value)
    if min_value is not None and (value < min_value or (not min_inclusive and value == min_value)):
        raise fail(name, what, value)
    if max_value is not None and (value > max_value or (not max_inclusive and value == max_value)):
        raise fail(name, what, value)
    return value


def check_probability(name: str, value: Any) -> float:
    """A probability in (0, 1]."""
    return check_float(name, value, min_value=0.0, max_value=1.0, min_inclusive=False)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of a fixed set of strings."""
    if value not in choices:
        raise fail(name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    finite: bool = True,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Convert to a numeric array, check its rank and that it holds no NaN/inf."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise SupvizError(f"`{name}` must be a numeric array; could not convert it ({exc}).") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            ranks = " or ".join(str(a) for a in allowed)
            raise SupvizError(f"`{name}` must be an array of rank {ranks}; got shape {arr.shape}.")
    if finite and arr.size and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise SupvizError(f"`{name}` must hold only finite values; got {bad} NaN/inf entries.")
    return arr


def _range_text(kind: str, lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{kind} in [{lo}, {hi}]"
    if lo is not None:
        return f"{kind} >= {lo}"
    if hi is not None:
        return f"{kind} <= {hi}"
    return kind
