"""The content-addressed cache: keys follow content, hits skip work, writes are atomic."""

import os

import numpy as np
import pytest

from supviz.runtime.cache import Cache, cache_key


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
    (cache._folder("m", key) / "value.json").write_text("{not json")
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
    from supviz.runtime.cache import Cache, code_version

    v = code_version()
    assert v.startswith(__version__ + "+") and len(v.split("+")[1]) == 16
    # The default key is tied to the code; a different code version gives a different key.
    assert cache_key("train", {"a": 1}) == cache_key("train", {"a": 1}, version=v)
    assert cache_key("train", {"a": 1}) != cache_key("train", {"a": 1}, version=__version__)
    assert Cache("unused").version == v


# -- no code in the cache: every value kind round-trips through JSON / npz / Parquet / safetensors -------


def test_every_value_kind_round_trips_without_pickle(tmp_path):
    import pandas as pd

    from supviz.dr import ShepardData, mds_layout
    from supviz.study.adapters import MdsPanel
    from supviz.study.common import PanelResult
    from supviz.toy import TrainConfig, train_grid

    layout = mds_layout(np.random.default_rng(0).normal(size=(6, 3)), random_state=0)  # info["result"]: a SmacofResult
    grid = train_grid(
        TrainConfig(
            n_features=4,
            hidden=(2,),
            probabilities=(1.0, 0.1),
            importances=("uniform",),
            steps=5,
            batch_size=8,
            log_every=2,
        ),
        progress=False,
    )
    shep = ShepardData(np.arange(3.0), np.arange(3.0) * 2, np.array([0.5, np.nan, np.inf]))
    value = {
        "nums": [1, 2.5, float("nan"), float("-inf"), True, None, "s", np.float32(1.5), np.int64(7)],
        ("tuple", 3): (np.eye(2, dtype=np.float32), np.zeros(0, dtype=np.int16)),
        3: {"nested": [np.arange(4)]},
        "layout": layout,
        "panel": MdsPanel(np.ones((3, 2)), 0.1, shep, 4, True, ["a note"]),
        "result": PanelResult("B1", "N = 3", "mds", {"k": 1}, None, color=np.arange(3.0), hover={"f": np.arange(3)}),
        "grid": grid,
        "frame": pd.DataFrame({"a": [1.0, np.nan], "b": ["x", "y"]}),
    }
    cache = Cache(tmp_path)
    _, key = cache.get_or_compute("mix", {"v": 1}, lambda: value)
    back = Cache(tmp_path).load("mix", key)
    entry = cache._folder("mix", key)
    assert sorted(p.name for p in entry.iterdir()) == ["arrays.npz", "folders", "tables", "value.json"]
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".pkl", ".pickle")]

    assert back["nums"][:2] == [1, 2.5] and np.isnan(back["nums"][2]) and back["nums"][3] == -np.inf
    assert back["nums"][4:7] == [True, None, "s"]
    assert type(back["nums"][7]) is np.float32 and back["nums"][8] == 7 and type(back["nums"][8]) is np.int64
    a, b = back[("tuple", 3)]
    assert a.dtype == np.float32 and b.dtype == np.int16 and b.shape == (0,)
    np.testing.assert_array_equal(back[3]["nested"][0], np.arange(4))
    lay = back["layout"]
    np.testing.assert_array_equal(lay.embedding, layout.embedding)
    assert lay.params == layout.params and lay.notes == layout.notes
    res, orig = lay.info["result"], layout.info["result"]
    np.testing.assert_array_equal(res.disparities, orig.disparities)
    assert [h.tolist() for h in res.stress_history] == [h.tolist() for h in orig.stress_history]
    np.testing.assert_array_equal(res.shepard().distance, orig.shepard().distance)
    p = back["panel"]
    assert p.notes == ["a note"] and p.converged is True and isinstance(p.shepard, ShepardData)
    np.testing.assert_array_equal(p.shepard.distance, shep.distance)
    r = back["result"]
    assert r.xy is None and r.params == {"k": 1} and r.hover["f"].tolist() == [0, 1, 2]
    g = back["grid"]
    assert g.specs == grid.specs and g.config == grid.config and g.labels == grid.labels
    for w0, w1 in zip(grid.weights + grid.biases, g.weights + g.biases):
        np.testing.assert_array_equal(w0, w1)
    np.testing.assert_array_equal(g.losses, grid.losses)
    pd.testing.assert_frame_equal(back["frame"], value["frame"])


@pytest.mark.parametrize("bad", [object(), np.array([{"a": 1}], dtype=object), {1, 2}, lambda: 1])
def test_values_that_would_need_pickle_are_refused(tmp_path, bad):
    cache = Cache(tmp_path)
    with pytest.raises(TypeError, match="cannot cache"):
        cache.get_or_compute("x", {"b": 1}, lambda: {"v": bad})
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing half-written


def test_a_planted_pickle_is_never_loaded(tmp_path):
    """A crafted pickle (unpickling it would create a marker file) in every place an older cache kept
    one, and as a value file, is never executed: the entry is recomputed or the pickle ignored."""
    import pickle

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Exploit())
    cache = Cache(tmp_path / "cache")
    key = cache.key("train", {"s": 1})
    legacy = cache.root / "train" / key[:2] / f"{key}.pkl"  # where earlier supviz versions kept values
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(payload)
    value, _ = cache.get_or_compute("train", {"s": 1}, lambda: np.arange(3))
    assert value.tolist() == [0, 1, 2] and not marker.exists()
    # a pickle put where the arrays live, or as the value itself, is refused, not run
    entry = cache._folder("train", key)
    (entry / "arrays.npz").write_bytes(payload)
    value, _ = Cache(cache.root).get_or_compute("train", {"s": 1}, lambda: np.arange(4))
    assert value.tolist() == [0, 1, 2, 3] and not marker.exists()
    (entry / "value.json").write_bytes(payload)
    value, _ = Cache(cache.root).get_or_compute("train", {"s": 1}, lambda: np.arange(5))
    assert value.tolist() == [0, 1, 2, 3, 4] and not marker.exists()
    assert pickle.loads(payload) is not None and marker.exists()  # the payload is live: the test can fail


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("os:system", "unregistered type 'os:system'"),  # not supviz's: never imported
        ("supviz.core.text:fmt", "unregistered type 'supviz.core.text:fmt'"),  # supviz's, but not @cacheable
        ("supviz.nothing_here:X", "unregistered type 'supviz.nothing_here:X'"),
        ("os.system", "bad type name 'os.system'"),
    ],
)
def test_unregistered_dataclass_in_an_entry_is_refused(tmp_path, name, message):
    import json
    import sys

    from supviz.runtime import codecs

    cache = Cache(tmp_path)
    _, key = cache.get_or_compute("x", {"a": 1}, lambda: [1])
    doc = {
        "format": "supviz.cache.value",
        "version": codecs.FORMAT_VERSION,
        "value": {"$dataclass": name, "fields": {}},
    }
    (cache._folder("x", key) / "value.json").write_text(json.dumps(doc))
    before = set(sys.modules)
    with pytest.raises(codecs.EntryError, match=message):
        cache.load("x", key)
    assert not {m for m in set(sys.modules) - before if not m.startswith("supviz.")}  # nothing else imported


def test_a_cached_type_registers_itself_when_its_module_is_read(tmp_path):
    """A process that has not imported a type's module (a fresh worker) still reads its values: the entry
    names the module, which registers its types when imported (only supviz modules are)."""
    import subprocess
    import sys

    from supviz.dr.base import Layout
    from supviz.runtime import codecs

    codecs.write_value(Layout(embedding=np.zeros((3, 2)), method="mds", params={}, info={}, notes=[]), tmp_path)
    code = (
        "import sys; from supviz.runtime.codecs import read_value; "
        "assert 'supviz.dr.base' not in sys.modules; v = read_value(sys.argv[1]); print(type(v).__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "Layout"


def test_stale_temporaries_are_swept(tmp_path):
    import subprocess
    import sys

    cache = Cache(tmp_path)
    _, key = cache.get_or_compute("layout", {"a": 1}, lambda: np.arange(3))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    shard = cache._folder("layout", key).parent
    stale = shard / f".{key}.pid{dead_pid}.abc123.tmp"
    stale.mkdir()
    (stale / "value.json").write_text("half")
    live = shard / f".{key}.pid{os.getpid()}.def456.tmp"
    live.mkdir()
    other = shard / "notes.txt"
    other.write_text("not ours")
    removed = cache.sweep()
    assert removed == [stale] and live.is_dir() and other.is_file() and cache.has("layout", key)
