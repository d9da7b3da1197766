"""One layout as a unit of work: :class:`LayoutTask` (what to lay out, how, from which seed) and
:func:`run_layout`, which a dispatcher (:mod:`supviz.runtime.dispatch`) runs in a worker process;
the task's :meth:`~LayoutTask.cache_params` are its cache key (:mod:`supviz.runtime.cache`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz.dr.base import Layout


@dataclass
class LayoutTask:
    """One layout to compute: ``supviz.dr.embed(X, method, random_state=seed, **params)``."""

    X: np.ndarray
    method: str
    params: dict[str, Any]
    seed: int

    def cache_params(self) -> dict[str, Any]:
        return {
            "X": np.ascontiguousarray(self.X, dtype=np.float64),
            "method": self.method,
            "params": self.params,
            "seed": self.seed,
        }


def run_layout(task: LayoutTask) -> Layout:
    """:func:`supviz.dr.layout.embed` of one task (run where the dispatcher puts it, with one BLAS
    thread: diag(N) is all ties, and a BLAS thread count changes the last bits of its distances,
    hence which tie wins)."""
    from supviz.dr.layout import embed

    return embed(task.X, task.method, random_state=task.seed, **task.params)
