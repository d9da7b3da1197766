"""The content-addressed cache: keys follow content, hits skip work, writes are atomic."""

import numpy as np
import pytest

from supviz.study.cache import Cache, cache_key


def test_key_depends_on_everything_that_determines_a_step():
    base = cache_key("layout", {"a": 1, "X": np.eye(3)}, ["up"])
    assert base == cache_key("layout", {"X": np.eye(3), "a": 1}, ["up"])  # key order is irrelevant
    assert len(base) == 64
    assert base != cache_key("layout", {"a": 2, "X": np.eye(3)}, ["up"])
    assert base != cache_key("layout", {"a": 1, "X": np.eye(3) * 2}, ["up"])
    assert base != cache_key("layout", {"a": 1, "X": np.eye(3).astype(np.float32)}, ["up"])
    assert base != cache_key("layout", {"a": 1, "X": np.eye(3)}, ["other"])
    assert base != cache_key("smacof", {"a": 1, "X": np.eye(3)}, ["up"])
    assert base != cache_key("layout", {"a": 1, "X": np.eye(3)}, ["up"], version="9.9")
    with pytest.raises(TypeError):
        cache_key("x", {"f": object()})


def test_second_call_is_a_hit_and_computes_nothing(tmp_path):
    cache = Cache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"y": np.arange(4)}

    v1, k1 = cache.get_or_compute("train", {"steps": 3}, compute)
    v2, k2 = Cache(tmp_path).get_or_compute("train", {"steps": 3}, compute)
    assert k1 == k2 and len(calls) == 1
    np.testing.assert_array_equal(v1["y"], v2["y"])
    assert cache.stats.misses == {"train": 1}
    cache.get_or_compute("train", {"steps": 4}, compute)  # a changed parameter recomputes
    assert len(calls) == 2


def test_failed_compute_leaves_no_entry(tmp_path):
    cache = Cache(tmp_path)

    def boom():
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("train", {"s": 1}, boom)
    assert not cache.has("train", cache.key("train", {"s": 1}))
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_unreadable_entry_is_recomputed(tmp_path):
    cache = Cache(tmp_path)
    _, key = cache.get_or_compute("m", {"s": 1}, lambda: 1)
    cache._file("m", key).write_bytes(b"not a pickle")
    value, _ = cache.get_or_compute("m", {"s": 1}, lambda: 2)
    assert value == 2


def test_folder_entries_build_once_and_atomically(tmp_path):
    cache = Cache(tmp_path)
    built = []

    def build(folder):
        built.append(folder)
        (folder / "a.txt").write_text("x")

    f1, _ = cache.folder("figure", {"id": "A1"}, build)
    f2, _ = cache.folder("figure", {"id": "A1"}, build)
    assert f1 == f2 and (f1 / "a.txt").read_text() == "x" and len(built) == 1

    def half(folder):
        (folder / "partial.txt").write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.folder("figure", {"id": "A2"}, half)
    assert not list(tmp_path.rglob("partial.txt"))


def test_disabled_cache_always_computes(tmp_path):
    cache = Cache(tmp_path, enabled=False)
    calls = []
    cache.get_or_compute("x", {}, lambda: calls.append(1))
    cache.get_or_compute("x", {}, lambda: calls.append(1))
    assert len(calls) == 2


def test_code_version_covers_the_source() -> None:
    from supviz import __version__
    from supviz.study.cache import Cache, code_version

    v = code_version()
    assert v.startswith(__version__ + "+") and len(v.split("+")[1]) == 16
    # The default key is tied to the code; a different code version gives a different key.
    assert cache_key("train", {"a": 1}) == cache_key("train", {"a": 1}, version=v)
    assert cache_key("train", {"a": 1}) != cache_key("train", {"a": 1}, version=__version__)
    assert Cache("unused").version == v
