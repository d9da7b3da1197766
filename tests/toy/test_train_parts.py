"""Training parts of a grid from a queue (:func:`supviz.toy.train.train_parts`), the study's way of training its cells.

Each instance gets the bits it gets in any group (by construction: ``tests/toy/test_train.py``'s module
docstring), so the queue changes nothing but when each part ends: every part is reported once, with
the weights the whole grid gives it, under every product implementation.
"""

import threading

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.runtime import products
from supviz.toy import TrainConfig, train_grid
from supviz.toy._engine import instance_cost
from supviz.toy.train import TrainingDiverged, train_parts

CONFIG = TrainConfig(
    n_features=12,
    hidden=(2, 5, 12, 15),
    probabilities=(1.0, 0.3, 0.02),
    importances=("uniform",),
    steps=30,
    batch_size=64,
    log_every=10,
)


def _parts(specs, size):
    return [list(range(j, min(j + size, len(specs)))) for j in range(0, len(specs), size)]


@pytest.fixture(scope="module")
def whole():
    return train_grid(CONFIG, progress=False)


@pytest.mark.parametrize("impl", ["auto", *products.IMPLEMENTATIONS])
def test_every_part_is_reported_once_with_the_bits_of_the_whole_grid(whole, impl):
    specs = CONFIG.instances()
    parts = _parts(specs, 5)  # 12 instances: parts of 5, 5 and 2, on 2 threads
    seen: dict[int, object] = {}
    threads_seen = set()

    def on_part(k, grid):
        assert k not in seen
        seen[k] = grid
        threads_seen.add(threading.current_thread().name)

    run = lambda: train_parts([[specs[i] for i in p] for p in parts], CONFIG, on_part=on_part, threads=2)  # noqa: E731
    if impl == "auto":
        run()
    else:
        with products.forced(impl):
            run()
            whole_here = train_grid(CONFIG, progress=False)
    ref = whole if impl == "auto" else whole_here
    assert sorted(seen) == [0, 1, 2]
    assert all(name.startswith("supviz-train") for name in threads_seen)
    for k, part in enumerate(parts):
        grid = seen[k]
        assert [s.seed for s in grid.specs] == [specs[i].seed for i in part]
        for j, i in enumerate(part):
            np.testing.assert_array_equal(grid.weights[j], ref.weights[i])
            np.testing.assert_array_equal(grid.biases[j], ref.biases[i])
            np.testing.assert_array_equal(grid.losses[j], ref.losses[i])


def test_the_queue_takes_the_most_expensive_part_first():
    specs = CONFIG.instances()
    parts = [[specs[i]] for i in range(len(specs))]  # one instance each, reported in the order trained (1 thread)
    order = []
    train_parts(parts, CONFIG.replace(steps=3, log_every=3), on_part=lambda k, g: order.append(k), threads=1)
    costs = [instance_cost(parts[k][0]) for k in order]
    assert sorted(order) == list(range(len(parts)))
    assert costs == sorted(costs, reverse=True)


def test_a_diverged_part_is_not_reported_and_raises_naming_it():
    specs = CONFIG.instances()
    parts = _parts(specs, 4)
    reported = []
    with pytest.raises(TrainingDiverged, match="training diverged"):
        train_parts(
            [[specs[i] for i in p] for p in parts],
            CONFIG.replace(lr=1e30, steps=20, log_every=5),
            on_part=lambda k, g: reported.append(k),
            threads=2,
        )
    assert reported == []  # every part diverges at this learning rate: none is reported


def test_a_failing_callback_stops_the_queue_and_its_error_reaches_the_caller():
    specs = CONFIG.instances()
    parts = [[s] for s in specs]
    calls = []

    def on_part(k, grid):
        calls.append(k)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        train_parts(parts, CONFIG, on_part=on_part, threads=2)
    assert 1 <= len(calls) <= 2  # the other thread ends its part and takes no other


def test_refusals():
    specs = CONFIG.instances()
    with pytest.raises(SupvizError, match="numba"):
        train_parts([specs[:2]], CONFIG.replace(engine="torch"), on_part=lambda k, g: None)
    with pytest.raises(SupvizError):
        train_parts([specs[:2]], {"steps": 3}, on_part=lambda k, g: None)
    mixed = [specs[0], TrainConfig(n_features=7, hidden=(2,), probabilities=(1.0,), steps=3).instances()[0]]
    with pytest.raises(SupvizError):
        train_parts([mixed], CONFIG, on_part=lambda k, g: None)
