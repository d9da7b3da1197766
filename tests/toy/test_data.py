"""The sparse-feature stream: one definition, three implementations that agree bit for bit."""

import numpy as np
import pytest
import torch

from supviz.errors import SupvizError
from supviz.toy import sparse_batch
from supviz.toy.data import data_key, keys_as_int64, sparse_batch_numpy, sparse_batch_torch

KEYS = np.array([data_key(s) for s in range(4)], dtype=np.uint64)
PROBS = np.array([1.0, 0.5, 0.05, 0.001], dtype=np.float32)


def test_numba_torch_and_numpy_streams_are_identical():
    from supviz.toy._kernels import fill_sparse_batch

    ref = sparse_batch_numpy(KEYS, PROBS, 7, 32, 13)
    fast = np.empty((4, 32 * 13), np.float32)
    fill_sparse_batch(fast, KEYS, PROBS, 7)
    tch = sparse_batch_torch(torch.from_numpy(keys_as_int64(KEYS)), torch.from_numpy(PROBS), 7, 32, 13).numpy()
    np.testing.assert_array_equal(fast.reshape(ref.shape), ref)
    np.testing.assert_array_equal(tch, ref)


def test_distribution_presence_and_values():
    x = sparse_batch(10, 0.1, 100_000, seed=3)
    present = x > 0
    assert present.mean() == pytest.approx(0.1, abs=0.003)
    v = x[present]
    assert v.min() >= 0 and v.max() < 1
    assert v.mean() == pytest.approx(0.5, abs=0.01)
    assert v.var() == pytest.approx(1 / 12, abs=0.003)
    # features independent: the co-occurrence rate is p^2
    assert (present[:, 0] & present[:, 1]).mean() == pytest.approx(0.01, abs=0.002)
    dense = sparse_batch(10, 1.0, 1000, seed=3)
    assert (dense > 0).mean() > 0.999


def test_steps_and_seeds_give_different_batches():
    a = sparse_batch(5, 0.5, 64, seed=1, step=0)
    assert not np.array_equal(a, sparse_batch(5, 0.5, 64, seed=1, step=1))
    assert not np.array_equal(a, sparse_batch(5, 0.5, 64, seed=2, step=0))
    np.testing.assert_array_equal(a, sparse_batch(5, 0.5, 64, seed=1, step=0))


def test_bad_arguments():
    with pytest.raises(SupvizError, match=r"`probability` must be a finite number in \(0.0, 1.0\]"):
        sparse_batch(5, 0.0, 4, seed=0)
    with pytest.raises(SupvizError, match=r"`batch_size` must be an int >= 1"):
        sparse_batch(5, 0.5, 0, seed=0)
