"""Compact reprs of Layout and SmacofResult (issue 14 item 2): a few lines whatever N."""

from __future__ import annotations

import numpy as np

from supviz.dr import mds_layout, mds_layouts, smacof
from supviz.metrics import pairwise_distances


def test_layout_repr_is_a_few_lines():
    X = np.random.default_rng(0).normal(size=(20, 5))
    lay = mds_layout(X, metric_type="interval", random_state=0)
    text = repr(lay)
    # the dataclass repr printed ~25,000 characters for 20 points (embedding, SmacofResult arrays)
    assert len(text) < 500 and text.count("\n") <= 4, text
    assert text.startswith("Layout(mds, 20 points in 2-D;") and "smacof_stress=" in text and "<SmacofResult>" in text
    big = mds_layout(np.random.default_rng(1).normal(size=(300, 5)), max_iter=5)
    assert len(repr(big)) < 500


def test_smacof_result_repr():
    X = np.random.default_rng(0).normal(size=(12, 3))
    res = smacof(pairwise_distances(X), metric_type="ratio")
    assert repr(res) == (
        f"SmacofResult(ratio, N=12, k=2, stress={float(res.stress):.4g}, n_iter={int(res.n_iter)}, "
        "converged=True, engine='numba')"
    )
    batched = mds_layouts([X, 2 * X, X[::-1]])[0].info["result"]
    assert repr(batched).startswith(
        "SmacofResult(interval, N=12, k=2, batch of 3, stress "
    ) and "3/3 converged" in repr(batched)
    same = smacof(np.zeros((4, 4)))
    assert "stress=nan" in repr(same) and "1 note" in repr(same)
