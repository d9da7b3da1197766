"""Numbers in prose: how every sentence of the report writes a number, a probability or a share.

One home for these rules, so a number reads the same wherever the report states it.
"""

from __future__ import annotations

import math
from typing import Any


def fmt(x: Any, digits: int = 3) -> str:
    """A number for prose: ``digits`` significant digits, scientific beyond [1e-3, 1e4), 'n/a' for NaN/None."""
    if x is None:
        return "n/a"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "n/a"
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


def fmt_p(p: float) -> str:
    """A feature probability as the study writes it in panel titles (1, 0.55, 0.3, 0.17, 0.09, 0.05)."""
    if not math.isfinite(p):
        return "?"
    return f"{p:.2g}" if p < 1 else "1"


def pct(x: float) -> str:
    """A share as a whole percentage ('41%'), 'n/a' for NaN; a value that rounds to 0 is '0%', never '-0%'."""
    if not math.isfinite(x):
        return "n/a"
    return f"{round(100 * x)}%"


def pcts_adding_up(shares: Any) -> list[str]:
    """Shares that add up to 1 as whole percentages that add up to 100% (more generally: to the rounded percentage
    of their sum), by the largest-remainder (Hamilton) method: each share rounded down, then the shares with the
    largest remainders rounded up until the sum is reached. Where rounding each share on its own (:func:`pct`)
    already adds up, the two agree. With a NaN share there is nothing to add up to: each share as :func:`pct` writes
    it."""
    x = [100 * float(v) for v in shares]
    if not all(math.isfinite(v) for v in x):
        return [pct(v / 100) for v in x]
    low = [math.floor(v) for v in x]
    short = round(sum(x)) - sum(low)
    for i in sorted(range(len(x)), key=lambda i: x[i] - low[i], reverse=True)[: max(short, 0)]:
        low[i] += 1
    return [f"{v}%" for v in low]


def plural(n: int, noun: str) -> str:
    """``"1 cell"``, ``"3 cells"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def fixed(x: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals ('0.95', '1.50'), 'n/a' for NaN/None or what is not a number:
    how a table-like sentence lines up values compared at one precision."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"
