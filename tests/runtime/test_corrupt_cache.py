"""Issue 22 kind 4: every reader of the cache goes through ``Cache.lookup``; a damaged entry (of any
kind of damage, in any file of the entry) is a warning, then the value is computed again and the
entry replaced. ``load_result``, the data-point result's folder reader, refuses a damaged folder in one
line (the cache then recomputes)."""

import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.runtime.cache import MISSING, Cache


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage, not what was written\xff" * 3)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def _json_list(path: Path) -> None:
    path.write_text("[1, 2, 3]", encoding="utf-8")


DAMAGE = {"empty": _empty, "garbage": _garbage, "truncated": _truncated, "a JSON list": _json_list}
FILES = ("value.json", "arrays.npz")


def _entry(cache: Cache, kind: str, key: str) -> Path:
    return cache.root / kind / key[:2] / key


def _damage(cache: Cache, kind: str, key: str, file: str, how: str) -> None:
    path = _entry(cache, kind, key) / file
    assert path.is_file()
    DAMAGE[how](path)


VALUE = {"weights": np.arange(6.0).reshape(3, 2), "loss": 0.25}


def _same(a, b) -> bool:
    return np.array_equal(a["weights"], b["weights"]) and a["loss"] == b["loss"]


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_get_or_compute_warns_and_recomputes_a_damaged_entry(tmp_path, caplog, file, how):
    cache = Cache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return VALUE

    _, key = cache.get_or_compute("t", {"a": 1}, compute)
    _damage(cache, "t", key, file, how)
    with caplog.at_level(logging.WARNING, logger="supviz.runtime.cache"):
        value, _ = cache.get_or_compute("t", {"a": 1}, compute)
    assert _same(value, VALUE) and len(calls) == 2
    assert "unreadable" in caplog.text and "computing it again" in caplog.text
    assert cache.stats.misses == {"t": 2} and not cache.stats.hits
    # the store replaced the damaged entry: the third read is a hit
    again, _ = Cache(tmp_path).get_or_compute("t", {"a": 1}, compute)
    assert _same(again, VALUE) and len(calls) == 2
    assert cache.lookup("t", key) is not MISSING


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_the_dispatchers_memo_warns_and_recomputes_a_damaged_entry(tmp_path, caplog, file, how):
    from supviz.runtime.dispatch import LocalDispatcher

    cache = Cache(tmp_path)
    keys = [cache.key("task", {"i": i}) for i in range(3)]
    first = dict(LocalDispatcher(1, memo=cache).map(_task, [(i,) for i in range(3)], kind="task", keys=keys))
    _damage(cache, "task", keys[1], file, how)
    fresh = Cache(tmp_path)
    with caplog.at_level(logging.WARNING, logger="supviz.runtime.cache"):
        second = dict(LocalDispatcher(1, memo=fresh).map(_task, [(i,) for i in range(3)], kind="task", keys=keys))
    assert all(_same(first[i], second[i]) for i in range(3))
    assert fresh.stats.hits == {"task": 2} and fresh.stats.misses == {"task": 1}
    assert "unreadable" in caplog.text


def _task(i: int) -> dict:
    return {"weights": np.full((3, 2), float(i)), "loss": float(i)}


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_toy_cells_warn_and_train_a_damaged_cell_again(tmp_path, caplog, file, how):
    from supviz.runtime.dispatch import LocalDispatcher
    from supviz.toy import TrainConfig
    from supviz.toy.cells import KIND, train_cells

    config = TrainConfig(n_features=6, hidden=(2,), probabilities=(1.0, 0.3), steps=30, batch_size=32, threads=1)
    specs = config.instances()
    grid, keys = train_cells(specs, config, cache=Cache(tmp_path), dispatcher=LocalDispatcher(1))
    _damage(Cache(tmp_path), KIND, keys[0], file, how)
    cache = Cache(tmp_path)
    with caplog.at_level(logging.WARNING, logger="supviz.runtime.cache"):
        again, _ = train_cells(specs, config, cache=cache, dispatcher=LocalDispatcher(1))
    assert cache.stats.misses == {KIND: 1} and cache.stats.hits == {KIND: len(specs) - 1}
    assert "unreadable" in caplog.text
    for a, b in zip(grid.weights, again.weights):
        np.testing.assert_array_equal(a, b)


#: A cell entry that reads back but is not a trained cell (issue 22 follow-up, 5: NaN weights were read, then the
#: sweep refused them after rewriting its manifest).
WRONG_CELLS = {
    "NaN weights": lambda v: v["weights"].__setitem__((0, 0), np.nan),
    "inf bias": lambda v: v["bias"].__setitem__(0, np.inf),
    "weights of another shape": lambda v: v.update(weights=v["weights"][:, :1].copy()),
    "losses cut": lambda v: v.update(losses=v["losses"][:0].copy()),
    "no bias": lambda v: v.pop("bias"),
}


@pytest.mark.parametrize("how", list(WRONG_CELLS))
def test_toy_cells_warn_and_train_a_cell_with_wrong_values_again(tmp_path, caplog, how):
    from supviz.runtime.dispatch import LocalDispatcher
    from supviz.toy import TrainConfig
    from supviz.toy.cells import KIND, train_cells

    config = TrainConfig(n_features=6, hidden=(2,), probabilities=(1.0, 0.3), steps=30, batch_size=32, threads=1)
    specs = config.instances()
    grid, keys = train_cells(specs, config, cache=Cache(tmp_path), dispatcher=LocalDispatcher(1))
    value = Cache(tmp_path).load(KIND, keys[0])
    WRONG_CELLS[how](value)
    import shutil

    shutil.rmtree(_entry(Cache(tmp_path), KIND, keys[0]))
    Cache(tmp_path).store(KIND, keys[0], value)
    cache = Cache(tmp_path)
    with caplog.at_level(logging.WARNING, logger="supviz.runtime.cache"):
        again, _ = train_cells(specs, config, cache=cache, dispatcher=LocalDispatcher(1))
    assert cache.stats.misses == {KIND: 1} and cache.stats.hits == {KIND: len(specs) - 1}
    assert "is damaged" in caplog.text
    for a, b in zip(grid.weights, again.weights):
        np.testing.assert_array_equal(a, b)
    third = Cache(tmp_path)  # the damaged entry was replaced by the retrained cell
    train_cells(specs, config, cache=third, dispatcher=LocalDispatcher(1))
    assert third.stats.hits == {KIND: len(specs)}


# -- the data-point result's own folder (a folder codec inside a cache entry) -----------------------


@pytest.fixture(scope="module")
def datapoint_result():
    from supviz.datapoints import datapoint_grid

    rng = np.random.default_rng(0)
    specs = [
        SimpleNamespace(n_features=8, n_hidden=2, probability=p, importance_name="uniform", importance=np.ones(8))
        for p in (0.3, 0.1)
    ]
    grid = SimpleNamespace(specs=specs, weights=[rng.normal(size=(8, 2)) for _ in specs], biases=[np.zeros(8)] * 2)
    return datapoint_grid(grid, n_points=30, methods=("mds",), random_state=1, n_jobs=1, progress=False)


@pytest.mark.parametrize("file", ["index.json", "arrays.npz", "table.parquet"])
@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_a_damaged_datapoint_folder_is_one_line_and_a_cache_miss(tmp_path, caplog, datapoint_result, file, how):
    from supviz.datapoints.storage import load_result

    cache = Cache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"result": datapoint_result}

    _, key = cache.get_or_compute("section", {"s": 1}, compute)
    folders = list((_entry(cache, "section", key) / "folders").iterdir())
    assert len(folders) == 1
    DAMAGE[how](folders[0] / file)
    with pytest.raises(SupvizError, match="data-point result folder .* is damaged|could not read|must hold") as info:
        load_result(folders[0])
    assert "\n" not in str(info.value)
    with caplog.at_level(logging.WARNING, logger="supviz.runtime.cache"):
        value, _ = Cache(tmp_path).get_or_compute("section", {"s": 1}, compute)
    assert len(calls) == 2 and value["result"] is datapoint_result and "unreadable" in caplog.text
