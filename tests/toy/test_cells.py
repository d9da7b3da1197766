"""Cells trained on the run's worker processes (:mod:`supviz.toy.cells`): the same bits as trained here.

An instance gets the same bits alone, in any group, on any thread (``tests/toy/test_train.py``), and in
any process of one machine once its product choices are fixed before the workers start and travel with each
task (:func:`supviz.toy.cells.prepare_products`). So training on two worker processes changes only where
each chunk runs: every cell has the bits of the whole grid trained here on its threads.
"""

import numpy as np
import pytest

from supviz.runtime import products
from supviz.runtime.cache import Cache
from supviz.runtime.dispatch import LocalDispatcher
from supviz.toy import TrainConfig, train_grid
from supviz.toy.cells import chunks, train_cells, train_groups

CONFIG = TrainConfig(
    n_features=12,
    hidden=(2, 5, 12),
    probabilities=(1.0, 0.3, 0.02),
    importances=("uniform",),
    steps=30,
    batch_size=64,
    log_every=10,
)


@pytest.fixture(scope="module")
def whole():
    return train_grid(CONFIG, progress=False)


class Counting(LocalDispatcher):
    """A local pool that counts the tasks each ``map`` sends out."""

    def __init__(self, n_jobs):
        super().__init__(n_jobs)
        self.tasks = []

    def map(self, fn, calls, **kwargs):
        self.tasks.append(len(calls))
        return super().map(fn, calls, **kwargs)


def _same(grid, whole):
    for a, b in zip(grid.weights, whole.weights):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(grid.biases, whole.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grid.losses, whole.losses)


def test_cells_on_two_worker_processes_have_the_bits_of_the_grid_trained_here(tmp_path, whole):
    specs = CONFIG.instances()
    pool = Counting(2)
    grid, keys = train_cells(specs, CONFIG, cache=Cache(tmp_path / "c"), dispatcher=pool)
    assert pool.tasks == [len(chunks(specs, 2))] and pool.tasks[0] > 1  # one task per chunk
    _same(grid, whole)
    here = Counting(1)  # one worker: one group, on this process's threads
    grid1, keys1 = train_cells(specs, CONFIG, cache=Cache(tmp_path / "d"), dispatcher=here)
    assert here.tasks == [1] and keys1 == keys
    _same(grid1, whole)


def test_toy_threads_caps_the_worker_processes(tmp_path, whole):
    """``[toy] threads = 1`` asks for one thread: the cells train here, as one group, even with two workers."""
    pool = Counting(2)
    grid, _ = train_cells(CONFIG.instances(), CONFIG.replace(threads=1), cache=Cache(tmp_path / "c"), dispatcher=pool)
    assert pool.tasks == [1]
    _same(grid, whole)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_groups_on_processes_or_threads_equal_each_group_trained_alone(n_jobs):
    """Two groups of different ``n_features``, their parts queued on two worker processes (or this process's
    threads): each group reported once, as it ends, with the bits of its own grid trained alone."""
    other = CONFIG.replace(n_features=7, hidden=(3,), probabilities=(1.0, 0.05))
    groups = [CONFIG.instances(), other.instances()]
    pool = Counting(n_jobs) if n_jobs else None
    reported = []
    grids = train_groups(groups, CONFIG, dispatcher=pool, progress=False, on_group=lambda g, grid: reported.append(g))
    assert sorted(reported) == [0, 1]
    if pool is not None:
        assert len(pool.tasks) == 1 and pool.tasks[0] > 2  # the parts of both groups in one queue
        assert grids[0].info["where"] == "local processes" and grids[0].info["threads"] == 1
    for grid, config in zip(grids, [CONFIG, other]):
        assert [s.seed for s in grid.specs] == [s.seed for s in config.instances()]
        _same(grid, train_grid(config, progress=False))


def test_groups_without_a_worker_train_here():
    pool = Counting(1)
    grids = train_groups([CONFIG.instances()[:3]], CONFIG, dispatcher=pool, progress=False)
    assert pool.tasks == [] and grids[0].info["where"] == "in process"


@pytest.mark.parametrize("impl", ["numpy", "numba"])
def test_workers_serve_the_products_as_this_process_chose(tmp_path, impl):
    """The product choices made here travel with each task: a choice the workers would not find in the table on disk
    (forced here, as a read-only cache folder leaves every choice in memory) still serves their products, so the
    cells and the groups have the bits trained here. On the table alone at least one of the two forced
    implementations differs from the workers' own choice for some shape, and its bits differ."""
    with products.forced(impl):
        whole = train_grid(CONFIG, progress=False)
        grid, _ = train_cells(CONFIG.instances(), CONFIG, cache=Cache(tmp_path / "c"), dispatcher=Counting(2))
        (group,) = train_groups([CONFIG.instances()], CONFIG, dispatcher=Counting(2), progress=False)
    _same(grid, whole)
    _same(group, whole)
