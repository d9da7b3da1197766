"""Importance curves and feature-probability sweeps (SPEC section 0).

An importance *spec* names a curve over the ``n`` features, most important first:

``"uniform"``
    all ones (the study's first variant).
``"geometric:r"``
    ``r ** i`` for ``i = 0 .. n-1`` (the study's code uses ``geometric:0.9``; the paper's
    "demonstrating superposition" figure uses ``geometric:0.7``).
``"power:k"``
    ``k ** -linspace(0, 1, n)``: from 1 down to ``1/k``, spaced exponentially (the report's prose,
    "between 1 and 1/20", is ``power:20``).
a sequence of numbers
    an explicit vector of length ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Union

import numpy as np

from supviz.core.validation import check_array, check_float, check_int, fail
from supviz.errors import SupvizError

#: What :func:`importance_curve` accepts.
ImportanceSpec = Union[str, Sequence[float], np.ndarray]

#: The named curves, for messages and ``--help``.
NAMED_CURVES = ("uniform", "geometric:<r>", "power:<k>")


def feature_probabilities(count: int = 6, base: float = 20.0) -> np.ndarray:
    """The study's feature-probability sweep ``base ** -linspace(0, 1, count)``, densest first.

    Parameters
    ----------
    count : int, default 6
        Number of probabilities (>= 1). ``count=1`` gives ``[1.0]``.
    base : float, default 20.0
        The sweep runs from 1 down to ``1 / base`` (``base >= 1``).

    Returns
    -------
    np.ndarray [count] float64
        ``[1, 0.549, 0.302, 0.166, 0.091, 0.05]`` for the defaults.
    """
    count = check_int("count", count, min_value=1)
    base = check_float("base", base, min_value=1.0)
    return base ** -np.linspace(0.0, 1.0, count)


def importance_curve(spec: ImportanceSpec, n: int, /) -> np.ndarray:
    """The importance of each of ``n`` features under ``spec`` (see the module docstring).

    Parameters
    ----------
    spec : str or sequence of float
        ``"uniform"``, ``"geometric:<r>"`` (``r`` in (0, 1]), ``"power:<k>"`` (``k >= 1``) or an
        explicit vector of ``n`` finite, non-negative numbers with at least one positive entry.
    n : int
        Number of features (>= 1).

    Returns
    -------
    np.ndarray [n] float64
        The curve, feature 0 first.
    """
    n = check_int("n_features", n, min_value=1)
    if isinstance(spec, str):
        kind, arg = _parse_named(spec)
        if kind == "uniform":
            return np.ones(n)
        if kind == "geometric":
            return arg ** np.arange(n, dtype=np.float64)
        return arg ** -np.linspace(0.0, 1.0, n)
    arr = check_array("importance", spec, ndim=1)
    if arr.shape[0] != n:
        raise SupvizError(f"`importance` must have one entry per feature ({n}); got {arr.shape[0]} entries.")
    _check_values(arr)
    return arr.astype(np.float64, copy=True)


def importance_name(spec: ImportanceSpec, *, index: int = 0) -> str:
    """The name an importance variant is stored and selected under.

    A named curve is its canonical spec string (``"geometric:0.9"``); an explicit vector is
    ``"explicit:<index>"``, ``index`` being its place in the config's list of importances.
    """
    if isinstance(spec, str):
        kind, arg = _parse_named(spec)
        return kind if kind == "uniform" else f"{kind}:{_fmt_number(arg)}"
    return f"explicit:{index}"


def check_importance_spec(name: str, spec: object, n: int) -> str | tuple[float, ...]:
    """Validate one importance spec for ``n`` features; return it in canonical, hashable form."""
    if isinstance(spec, str):
        kind, arg = _parse_named(spec, name=name)
        return kind if kind == "uniform" else f"{kind}:{_fmt_number(arg)}"
    if isinstance(spec, (bytes, dict)) or not isinstance(spec, (Sequence, np.ndarray)):
        raise fail(name, f"one of {', '.join(NAMED_CURVES)} or a list of {n} numbers", spec)
    arr = check_array(name, spec, ndim=1)
    if arr.shape[0] != n:
        raise SupvizError(f"`{name}` must have one entry per feature (n_features = {n}); got {arr.shape[0]} entries.")
    _check_values(arr, name=name)
    return tuple(float(v) for v in arr)


def _check_values(arr: np.ndarray, *, name: str = "importance") -> None:
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise SupvizError(f"`{name}` must be non-negative; got {float(arr[i])!r} at feature {i}.")
    if not (arr > 0).any():
        raise SupvizError(f"`{name}` must have at least one positive entry; got all zeros.")


def _parse_named(spec: str, *, name: str = "importance") -> tuple[str, float]:
    text = spec.strip().lower()
    if text == "uniform":
        return "uniform", 1.0
    kind, sep, arg_text = text.partition(":")
    if sep and kind in ("geometric", "power"):
        try:
            arg = float(arg_text)
        except ValueError:
            arg = math.nan
        if kind == "geometric" and math.isfinite(arg) and 0.0 < arg <= 1.0:
            return kind, arg
        if kind == "power" and math.isfinite(arg) and arg >= 1.0:
            return kind, arg
        what = "in (0, 1]" if kind == "geometric" else ">= 1"
        raise SupvizError(f"`{name}` {kind} parameter must be a number {what}; got {spec!r}.")
    raise fail(name, f"one of {', '.join(NAMED_CURVES)} or a list of numbers", spec)


def _fmt_number(x: float) -> str:
    return f"{x:g}" if float(f"{x:g}") == x else repr(float(x))


# -- how the study names its importance variants -----------------------------------------------

#: The study's two variants, as every table, caption and sentence names them.
_VARIANT_LABEL = {
    "uniform": "uniform importance",
    "geometric:0.9": "importance 0.9^i",
}
#: What a reader must be told once about a variant, where the report introduces the variants (and in its
#: appendix), not beside every use. The study's text gives the importance as "between 1 and 1/20, spaced
#: exponentially" (about 0.95^i over 60 features, ``power:20``), while its code used 0.9^i (0.9^59 = 0.002).
_VARIANT_NOTE = {
    "geometric:0.9": "importance 0.9^i is the curve of the study's code; the study's text says the importance runs "
    "from 1 to 1/20, spaced exponentially (about 0.95^i over 60 features)",
}
#: The order variants are reported in: the study's 0.9^i first, then uniform, then the rest.
VARIANT_ORDER = ("geometric:0.9", "uniform")


_VARIANT_SHORT = {"uniform": "uniform", "geometric:0.9": "0.9^i"}


def variant_label(name: str, *, short: bool = False) -> str:
    """Human label of an importance variant (``"geometric:r"`` -> ``"importance r^i"``, ``"uniform"`` ->
    ``"uniform importance"``, ``"power:k"`` -> ``"importance from 1 to 1/k, spaced exponentially"``, any other spec
    -> ``"importance <spec>"``); ``short=True``: the few characters a panel title has room for (``"0.9^i"``,
    ``"uniform"``, the spec). Where the label needs explaining, the
    explanation is :func:`variant_note`, said once."""
    kind, sep, arg = str(name).partition(":")
    if short:
        return _VARIANT_SHORT.get(name) or (f"{arg}^i" if sep and kind == "geometric" else name)
    if name in _VARIANT_LABEL:
        return _VARIANT_LABEL[name]
    if sep and kind == "geometric":  # r ** i, as the study writes 0.9^i
        return f"importance {arg}^i"
    if sep and kind == "power":  # k ** -linspace(0, 1, n): from 1 down to 1/k
        return f"importance from 1 to 1/{arg}, spaced exponentially"
    return f"importance {name}"


def variant_note(name: str) -> str:
    """What a reader must be told once about importance variant ``name`` (a sentence, no final stop; ``""`` when
    its label says it all): for ``"geometric:0.9"``, that it is the study's code's curve while the study's text says
    1 to 1/20."""
    return _VARIANT_NOTE.get(name, "")


def variant_slug(name: str) -> str:
    """File-name form of an importance variant (``geometric:0.9`` -> ``geometric0p9``)."""
    return name.replace(":", "").replace(".", "p").replace("/", "_")


def ordered_variants(names: Sequence[str]) -> list[str]:
    """Importance variants in report order (:data:`VARIANT_ORDER` first, the rest as given), each once."""
    names = list(dict.fromkeys(names))
    return sorted(
        names, key=lambda n: (VARIANT_ORDER.index(n) if n in VARIANT_ORDER else len(VARIANT_ORDER), names.index(n))
    )
