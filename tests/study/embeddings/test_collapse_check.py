"""C6: a collapsed interval-MDS picture of nearly equidistant rows is a degeneracy of interval MDS.

Known answer: N unit rows in nearly orthogonal directions and two short rows (norm 0.35, the near-
dropped features the study's represented rule keeps) have nearly equal dissimilarities. Interval
MDS may then blow the few small differences up: a spot with a few points far out, at a *lower*
interval stress than the ring; ratio MDS cannot (no intercept to absorb the common distance).
"""

from pathlib import Path

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.study.embeddings.collapse_check import OUTLIER_MAX, multistart, outlier_ratio, reference_weights

HAMBLIN = Path("/work/shared/data/hamblin2022_weights.npz")


def _near_equidistant(seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(40, 40)))
    extra = rng.normal(size=(1, 40))
    short = rng.normal(size=(2, 40))
    return np.vstack([Q, extra / np.linalg.norm(extra), 0.35 * short / np.linalg.norm(short, axis=1, keepdims=True)])


def test_interval_mds_collapses_where_ratio_mds_does_not():
    X = _near_equidistant()
    interval = multistart(X, metric_type="interval", n_starts=6, max_iter=1000, eps=1e-6, seed=0)
    ratio = multistart(X, metric_type="ratio", n_starts=6, max_iter=1000, eps=1e-6, seed=0)
    collapsed = interval["outliers"] > OUTLIER_MAX
    assert collapsed.any() and (~collapsed).any()
    # the collapse is the better interval fit: a degeneracy of the method, not a failed optimisation
    assert interval["stresses"][collapsed].min() < interval["stresses"][~collapsed].min() - 0.1
    assert (ratio["outliers"] < OUTLIER_MAX).all() and ratio["outlier"] < OUTLIER_MAX
    assert abs(interval["intercept"]) > 0.1 and abs(ratio["intercept"]) < 1e-9  # the affine fit's intercept
    # equal seeds, equal starts
    again = multistart(X, metric_type="interval", n_starts=6, max_iter=1000, eps=1e-6, seed=0)
    np.testing.assert_array_equal(again["stresses"], interval["stresses"])


def test_outlier_ratio_of_a_ring_and_of_a_collapse():
    t = np.linspace(0, 2 * np.pi, 30, endpoint=False)
    assert outlier_ratio(np.c_[np.cos(t), np.sin(t)]) == pytest.approx(1.0)
    spot = np.vstack([np.random.default_rng(0).normal(scale=1e-3, size=(40, 2)), [[5.0, 0.0], [0.0, 5.0]]])
    assert outlier_ratio(spot) > 5 * OUTLIER_MAX


@pytest.mark.skipif(not HAMBLIN.is_file(), reason="the study's weights are not in /work/shared/data")
def test_the_study_s_own_weights_collapse_only_with_its_represented_rule():
    from supviz.toy import load_hamblin2022, represented_mask

    grid = load_hamblin2022(HAMBLIN)
    i = next(
        i
        for i, s in enumerate(grid.specs)
        if s.importance_name == "geometric:0.9" and s.n_hidden == 40 and abs(s.probability - 0.549) < 1e-3
    )
    W = np.asarray(grid.weights[i], dtype=float)
    study = represented_mask(W, rule="mean_abs", importance=grid.specs[i].importance)
    norm = represented_mask(W, rule="norm")
    assert study.sum() > norm.sum()  # the study's rule keeps near-dropped rows
    a = multistart(W[study], metric_type="interval", n_starts=2, max_iter=1000, eps=1e-6, seed=0)
    b = multistart(W[norm], metric_type="interval", n_starts=2, max_iter=1000, eps=1e-6, seed=0)
    c = multistart(W[study], metric_type="ratio", n_starts=2, max_iter=1000, eps=1e-6, seed=0)
    assert a["outlier"] > OUTLIER_MAX and b["outlier"] < OUTLIER_MAX and c["outlier"] < OUTLIER_MAX
    assert a["stress"] < b["stress"] and a["stress"] < c["stress"]


def test_reference_weights_setting(tmp_path):
    assert reference_weights("none") is None
    f = tmp_path / "w.npz"
    np.savez(f, **{"6to2": np.random.default_rng(0).normal(size=(3, 6, 2))})  # the study's key rule
    assert reference_weights(str(f)) == f
    f.write_bytes(b"x")  # a file that is not the study's weights is refused by name, up front
    with pytest.raises(SupvizError, match=r"`embeddings.reference_weights` '.*w\.npz' is not the study's weights"):
        reference_weights(str(f))
    with pytest.raises(SupvizError, match="`embeddings.reference_weights` must be an existing weights file"):
        reference_weights(str(tmp_path / "missing.npz"))


def test_two_deterministic_fits_give_no_confident_verdict():
    """C6 rests on two deterministic fits (supviz's and the study's weights): no resampling unit, so the Finding's
    interval is NaN with the reason in its unit and comparison, and the verdict is not a confident colour."""
    import math

    import pandas as pd

    from supviz.core.text import fmt
    from supviz.study.embeddings.collapse_check import _finding
    from supviz.study.stats import NOT_ENOUGH

    cell = {"variant": "geometric:0.9", "m": 40, "p": 0.55}
    rows = []
    for source in ("supviz", "study"):
        rows.append({**cell, "source": source, "rule": "mean_abs", "type": "interval", "outlier": 40.0, "stress": 0.17,
                     "share": 0.1, "ring_best": 0.39, "n": 43})  # fmt: skip
        rows.append({**cell, "source": source, "rule": "norm", "type": "interval", "outlier": 1.1, "stress": 0.4,
                     "share": 0.0, "ring_best": 0.4, "n": 20})  # fmt: skip
        for rule in ("mean_abs", "norm"):
            rows.append({**cell, "source": source, "rule": rule, "type": "ratio", "outlier": 1.1, "stress": 0.3,
                         "share": 0.0, "ring_best": 0.3, "n": 20})  # fmt: skip
    f = _finding(pd.DataFrame(rows), [(cell["variant"], cell["m"], cell["p"])], True, fmt)
    assert f.n_used == 2 and f.estimate == pytest.approx(-0.22)
    assert f.verdict == NOT_ENOUGH and "the fits lean to 'not supported'" in f.measured
    assert all(math.isnan(v) for v in f.interval) and "no resampling unit" in f.unit
    assert "interval undefined: the fits are deterministic" in f.comparison
    # the reader's words for the importance variant, never its config spelling
    assert "geometric:0.9" not in f.measured and "Cell 40 : 0.55 (importance 0.9^i)" in f.measured
