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


def check_indices(name: str, value: Any, n: int, *, what: str = "cell") -> list[int]:
    """Indices into ``n`` items (cells of a grid, instances): ``None`` means all ``range(n)``.

    Each must be an int in ``[0, n - 1]``; the list must name at least one, each once.

    Raises
    ------
    SupvizError
        No items, an index out of range or not an int, an empty list, a repeated index (named).
    """
    if n < 1:
        raise SupvizError(f"`{name}` has no {what}s to index: the grid holds none.")
    if value is None:
        return list(range(n))
    idx = [check_int(f"{name}[]", i, min_value=0, max_value=n - 1) for i in value]
    if not idx:
        raise SupvizError(f"`{name}` must name at least one {what}; got none.")
    twice = sorted({i for i in idx if idx.count(i) > 1})
    if twice:
        raise SupvizError(f"`{name}` must name each {what} once; got {', '.join(map(str, twice))} more than once.")
    return idx


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


def check_bool(name: str, value: Any) -> bool:
    """A bool (``numpy.bool_`` included); anything else -- ``"yes"``, ``"false"``, 1, None -- is refused, so
    every switch of supviz, an argument or a config value, follows one rule."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "true or false", value)
    return bool(value)


def check_device(device: Any, name: str = "device") -> Any:
    """A ``torch.device`` that this machine's torch can use (torch is imported here, so call it only where
    torch is about to run).

    Raises
    ------
    SupvizError
        Not a device torch knows ("foo"), or a CUDA device on a machine without CUDA or past its last
        GPU.
    """
    import torch

    what = "'cpu' or 'cuda[:N]' (a torch device)"
    if not isinstance(device, (str, torch.device)):
        raise fail(name, what, device)
    try:
        dev = torch.device(device)
    except (TypeError, RuntimeError, ValueError):
        raise fail(name, what, device) from None
    if dev.type not in ("cpu", "cuda"):
        raise fail(name, what, device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SupvizError(f"`{name}` {_fmt(device)} needs CUDA, which this machine's torch cannot use.")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise SupvizError(
                f"`{name}` {_fmt(device)} names a GPU this machine does not have ({torch.cuda.device_count()} GPU(s))."
            )
    return dev


def check_keywords(func: str, given: Any, valid: Sequence[str] | set[str]) -> None:
    """Refuse keyword arguments that ``func`` does not take, naming them and the valid ones.

    For functions that pass ``**kw`` on to a library: without this check a typo surfaces as a
    ``TypeError`` from deep inside the library, naming the library's function, not the user's.
    """
    unknown = [k for k in given if k not in valid]
    if unknown:
        names = ", ".join(f"`{k}`" for k in unknown)
        raise SupvizError(
            f"{names} {'is not an argument' if len(unknown) == 1 else 'are not arguments'} of {func}(); "
            f"valid keyword arguments: {', '.join(sorted(valid))}."
        )


def _is_tensor(value: Any) -> bool:
    """A PyTorch tensor (``nn.Parameter`` included), recognised without importing torch."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def from_torch(value: Any) -> Any:
    """A PyTorch tensor as a host numpy array; anything else unchanged.

    The tensor is detached (an ``nn.Parameter`` or any tensor with ``requires_grad``, which
    ``numpy.asarray`` refuses with a ``RuntimeError``), moved to the CPU, and a floating type
    narrower than 32 bits (bfloat16, float16, float8), which numpy cannot hold, upcast to float32.
    The one home of that conversion: :func:`as_real_array` and the scikit-learn style estimators
    (whose ``validate_data`` calls ``numpy.asarray``) both use it.
    """
    if not _is_tensor(value):
        return value
    tensor = value.detach()
    if tensor.is_floating_point() and tensor.element_size() < 4:
        import torch

        tensor = tensor.to(torch.float32)
    return tensor.cpu().numpy()


def as_real_array(name: str, value: Any, *, dtype: Any = np.float64) -> np.ndarray:
    """Convert any array-like to a real numpy array of ``dtype``, as users hand data over.

    - PyTorch tensors (recognised without importing torch) are detached (``nn.Parameter`` and any
      tensor with ``requires_grad``), moved to the CPU, and floating types narrower than 32 bits
      (bfloat16, float16, float8), which numpy cannot hold or computes poorly in, upcast to
      float32 before the conversion to ``dtype``;
    - complex input is refused: dropping the imaginary part silently (numpy's cast) would
      picture a different object than the user's;
    - anything numpy cannot convert to a number is refused with the converter's reason.

    Raises
    ------
    SupvizError
        "`name` must be ..." on complex or non-numeric input.
    """
    if _is_tensor(value):
        if value.is_complex():
            raise _complex_error(name, str(value.dtype))
        value = from_torch(value)
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise SupvizError(f"`{name}` must be a numeric array; could not convert it ({exc}).") from None
    if raw.dtype.kind == "c":
        raise _complex_error(name, str(raw.dtype))
    try:
        return np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise SupvizError(f"`{name}` must be a numeric array; could not convert it ({exc}).") from None


def _complex_error(name: str, dtype: str) -> SupvizError:
    return SupvizError(
        f"`{name}` must be real; got complex values (dtype {dtype}). Pass its real part, its modulus or "
        "[real, imag] stacked as columns."
    )


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    finite: bool = True,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Convert to a real numeric array (:func:`as_real_array`), check its rank and that it holds no NaN/inf."""
    arr = as_real_array(name, value, dtype=dtype)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            ranks = " or ".join(str(a) for a in allowed)
            raise SupvizError(f"`{name}` must be an array of rank {ranks}; got shape {arr.shape}.")
    if finite and arr.size and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise SupvizError(f"`{name}` must hold only finite values; got {bad} NaN/inf entries.")
    return arr


#: Relative tolerance (of the largest entry) for the symmetry and the zero diagonal of dissimilarities.
DISSIMILARITY_RTOL = 1e-9


def check_dissimilarity_matrix(name: str, value: Any, *, min_points: int = 1, batched: bool = False) -> np.ndarray:
    """The one check of precomputed dissimilarities, for every method and metric.

    A dissimilarity matrix must be finite, real, square (``[N, N]``, or ``[B, N, N]`` with
    ``batched=True``), non-negative, symmetric and zero on the diagonal, the last two up to
    :data:`DISSIMILARITY_RTOL` times its largest entry (scale-free: a copy at 1e-300 is held to
    the same relative tolerance). The libraries each check a different subset (openTSNE and
    scikit-learn refuse negative entries in their own words, umap-learn fails with a ``KeyError``,
    none checks symmetry or the diagonal), so this runs before any of them.

    Returns
    -------
    numpy.ndarray
        A float64 copy, exactly symmetric (the upper triangle mirrored: no sum that could overflow
        at 1e308) with an exact zero diagonal.

    Raises
    ------
    SupvizError
        One line naming the first property that fails and by how much.
    """
    arr = check_array(name, value, ndim=(2, 3) if batched else 2)
    shape_text = "[N, N] or [B, N, N]" if batched else "[N, N]"
    if arr.shape[-1] != arr.shape[-2]:
        raise SupvizError(f"`{name}` must be square (a dissimilarity matrix, {shape_text}); got shape {arr.shape}.")
    if arr.ndim == 3 and arr.shape[0] == 0:
        raise SupvizError(f"`{name}` must hold at least one matrix; got shape {arr.shape}.")
    n = arr.shape[-1]
    if n < min_points:
        raise SupvizError(
            f"`{name}` must describe at least {min_points} point{'s' if min_points != 1 else ''}; got {n}."
        )
    if arr.size and arr.min() < 0:
        raise SupvizError(f"`{name}` must be non-negative (dissimilarities); got minimum {float(arr.min()):.6g}.")
    scale = float(arr.max()) if arr.size else 0.0
    diag = np.abs(np.diagonal(arr, axis1=-2, axis2=-1))
    if diag.size and float(diag.max()) > DISSIMILARITY_RTOL * scale:
        raise SupvizError(f"`{name}` must have a zero diagonal; got max |diagonal| {float(diag.max()):.6g}.")
    upper = np.triu(arr, 1)
    lower = np.swapaxes(np.tril(arr, -1), -1, -2)
    asym = float(np.abs(upper - lower).max()) if arr.size else 0.0
    if asym > DISSIMILARITY_RTOL * scale:
        raise SupvizError(f"`{name}` must be symmetric; got max |{name} - {name}.T| = {asym:.6g}.")
    return upper + np.swapaxes(upper, -1, -2)


def unit_scaled(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """``arr`` divided by the power of two ``2**e`` that brings its largest magnitude into [0.5, 1).

    For the scale-invariant computations of supviz (every layout method, every metric): points
    at 1e300 overflow when their distances are squared and points at 1e-300 underflow to
    identical ones, although both are the same geometry as at scale 1. A power of two divides
    exactly (no rounding) unless entries fall into the subnormal range, so ties stay ties.

    Returns
    -------
    scaled : numpy.ndarray
        A new float64 array; ``arr`` itself when it is all zeros (or empty).
    e : int
        ``arr == scaled * 2**e``.
    """
    peak = float(np.max(np.abs(arr))) if arr.size else 0.0
    if peak == 0.0 or not math.isfinite(peak):
        return arr, 0
    e = math.frexp(peak)[1]
    return np.ldexp(np.asarray(arr, dtype=np.float64), -e), e


def _range_text(kind: str, lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{kind} in [{lo}, {hi}]"
    if lo is not None:
        return f"{kind} >= {lo}"
    if hi is not None:
        return f"{kind} <= {hi}"
    return kind
