"""Sampling from a cell's own distribution: statistics, dropped counts, seeds, errors."""

import numpy as np
import pytest

from supviz.datapoints import SparseSample, sample_inputs
from supviz.errors import SupvizError


def test_statistics_match_the_distribution():
    # p = 0.3, n = 20: presence rate conditioned on a non-zero row, values U[0, 1].
    n, p, N = 20, 0.3, 20_000
    s = sample_inputs(n, probability=p, n_points=N, random_state=1)
    assert s.x.shape == (N, n)
    keep = 1 - (1 - p) ** n
    # P(feature active | row non-zero) = p / keep.
    assert abs(s.active.mean() - p / keep) < 0.01
    vals = s.x[s.active]
    assert vals.min() >= 0.0 and vals.max() < 1.0
    assert abs(vals.mean() - 0.5) < 0.01
    assert abs(vals.var() - 1 / 12) < 0.003


def test_dropped_count_is_exact_and_binomial():
    n, p, N = 60, 0.05, 5000
    s = sample_inputs(n, probability=p, n_points=N, random_state=2)
    assert s.n_points == N
    assert (s.x > 0).any(axis=1).all()
    assert s.n_drawn == N + s.n_dropped
    q = (1 - p) ** n  # about 0.046
    expected = s.n_drawn * q
    sd = np.sqrt(s.n_drawn * q * (1 - q))
    assert abs(s.n_dropped - expected) < 5 * sd
    assert abs(s.dropped_fraction - q) < 5 * sd / s.n_drawn


def test_dropped_count_recounts_by_redrawing():
    # With drop_zero=False, the same generator stream gives the raw rows; counting their zero rows
    # over the first n_drawn rows reproduces n_dropped exactly.
    n, p, N = 10, 0.1, 300
    s = sample_inputs(n, probability=p, n_points=N, random_state=3)
    rng = np.random.default_rng(np.random.SeedSequence(3))
    rows = []
    batch = N
    total = 0
    while total < s.n_drawn:  # replay the batches of the sampler
        present = rng.random((batch, n)) < p
        values = rng.random((batch, n))
        block = np.where(present, values, 0.0)
        rows.append(block)
        total += batch
        kept = sum(int(b.any(axis=1).sum()) for b in rows)
        batch = min(1_000_000, max(64, int(np.ceil(1.2 * (N - kept) / (-np.expm1(n * np.log1p(-p)))))))
    raw = np.concatenate(rows)[: s.n_drawn]
    assert int((~raw.any(axis=1)).sum()) == s.n_dropped
    np.testing.assert_array_equal(raw[raw.any(axis=1)], s.x)


def test_dense_cell_drops_nothing_and_no_drop_mode():
    s = sample_inputs(5, probability=1.0, n_points=100, random_state=0)
    assert s.n_dropped == 0 and s.n_drawn == 100 and s.active.all()
    raw = sample_inputs(60, probability=0.01, n_points=200, random_state=0, drop_zero=False)
    assert raw.n_dropped == 0 and raw.x.shape == (200, 60)
    assert not raw.x.any(axis=1).all()  # (0.99)^60 = 0.55 of them are zero


def test_seeds():
    a = sample_inputs(30, probability=0.2, n_points=500, random_state=7)
    b = sample_inputs(30, probability=0.2, n_points=500, random_state=7)
    c = sample_inputs(30, probability=0.2, n_points=500, random_state=8)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.n_dropped == b.n_dropped
    assert not np.array_equal(a.x, c.x)
    assert isinstance(a, SparseSample)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_features": 0, "probability": 0.5, "n_points": 10}, "`n_features` must be an int >= 1"),
        ({"n_features": 5, "probability": 0.0, "n_points": 10}, "`probability` must be"),
        ({"n_features": 5, "probability": 1.5, "n_points": 10}, "`probability` must be"),
        ({"n_features": 5, "probability": 0.5, "n_points": 0}, "`n_points` must be an int >= 1"),
        ({"n_features": 1, "probability": 1e-9, "n_points": 10}, "too small"),
    ],
)
def test_errors(kwargs, match):
    n = kwargs.pop("n_features")
    with pytest.raises(SupvizError, match=match):
        sample_inputs(n, **kwargs)
