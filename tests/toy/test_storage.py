"""Run directories, external weight files and the study's own weights."""

import json
from pathlib import Path

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.toy import TrainConfig, load_grid, load_hamblin2022, load_weight_arrays, save_grid, train_grid
from supviz.toy.grid import UNKNOWN

HAMBLIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "hamblin2022_weights.npz"


@pytest.fixture(scope="module")
def grid():
    cfg = TrainConfig(
        n_features=6,
        hidden=(2, 3),
        probabilities=(1.0, 0.1),
        importances=("uniform", [1, 1, 1, 0.5, 0.5, 0.5]),
        steps=12,
        batch_size=16,
        log_every=5,
    )
    return train_grid(cfg, progress=False)


def test_round_trip(grid, tmp_path):
    run = save_grid(grid, tmp_path / "run")
    assert sorted(p.name for p in run.iterdir()) == ["metadata.json", "weights.safetensors"]
    back = load_grid(run)
    assert back.specs == grid.specs and back.labels == grid.labels
    for a, b in zip(grid.weights + grid.biases, back.weights + back.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.losses, grid.losses)
    np.testing.assert_array_equal(back.loss_steps, grid.loss_steps)
    assert back.config == grid.config
    meta = json.loads((run / "metadata.json").read_text())
    assert meta["config"]["hidden"] == [2, 3] and meta["instances"][0]["seed"] == grid.specs[0].seed
    assert {"torch", "numpy", "numba"} <= set(meta["versions"]) and meta["platform"]["python"]
    assert meta["loss_summary"]["n_logged"] == 3 and "final" in meta["instances"][0]["loss"]
    assert meta["training"]["engine"] == "numba"
    assert load_grid(run / "weights.safetensors").specs == grid.specs
    # a second save replaces the run, leaving nothing else behind
    save_grid(grid, run)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_save_is_atomic(grid, tmp_path, monkeypatch):
    import supviz.toy.storage as storage

    def boom(*_a, **_k):
        raise RuntimeError("killed")

    monkeypatch.setattr(storage, "_metadata_of", boom)
    with pytest.raises(RuntimeError):
        save_grid(grid, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_other_things(grid, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SupvizError, match="is a file"):
        save_grid(grid, tmp_path / "f")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep.txt").write_text("x")
    with pytest.raises(SupvizError, match="non-empty folder that is not a `supviz train` run"):
        save_grid(grid, tmp_path / "d")
    assert (tmp_path / "d" / "keep.txt").read_text() == "x"


def test_external_arrays(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "w.npz", a=rng.normal(size=(3, 5, 2)), b=rng.normal(size=(5, 4)))
    g = load_grid(tmp_path / "w.npz")
    assert [(s.n_hidden, s.probability, s.importance_name, s.importance, s.seed) for s in g.specs] == [
        (2, None, UNKNOWN, None, None)
    ] * 3 + [(4, None, UNKNOWN, None, None)]
    assert g.labels == ["a[0]", "a[1]", "a[2]", "b"]
    assert g.losses.shape == (4, 0) and np.all(np.isnan(g.final_losses))
    np.save(tmp_path / "one.npy", rng.normal(size=(5, 3)).astype(np.float32))
    assert load_grid(tmp_path / "one.npy").weights[0].shape == (5, 3)
    from safetensors.numpy import save_file

    save_file({"W": rng.normal(size=(2, 5, 3)).astype(np.float32)}, str(tmp_path / "w.safetensors"))
    assert len(load_grid(tmp_path / "w.safetensors")) == 2
    assert set(load_weight_arrays(tmp_path / "w.npz")) == {"a", "b"}


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda d: d / "missing.npz", r"`path` must be an existing run directory or weight file"),
        (lambda d: _write(d / "bad.npz", b"not a zip"), r"could not read .*bad.npz' as npz"),
        (lambda d: _write(d / "bad.safetensors", b"\x00\x01"), r"could not read .* as safetensors"),
        (lambda d: _write(d / "w.txt", b"1 2"), r"`path` must end in .npz, .npy, .safetensors"),
        (
            lambda d: _npz(d, x=np.zeros(5)),
            r"`w.npz:x` must be an array of rank 2 \[n, m\] or 3 \[instances, n, m\]; got shape \(5,\)",
        ),
        (lambda d: _npz(d, x=np.zeros((1, 2, 3, 4))), r"rank 2 \[n, m\] or 3"),
        (lambda d: _npz(d, x=np.array([[np.nan, 1.0]])), r"must hold only finite values; got 1 NaN/inf"),
        (lambda d: _npz(d, x=np.array([["a", "b"]])), r"array 'x' must be numeric"),
        (lambda d: _npz(d, x=np.zeros((0, 3))), r"must not be empty"),
        (lambda d: _mkdir(d / "empty"), r"is a directory but not a supviz run"),
        (
            lambda d: _npz(d, **{"60to3": np.zeros((6, 60, 4))}),
            r"array '60to3' must have shape \[probabilities, 60, 3\]",
        ),
    ],
)
def test_bad_files(tmp_path, make, match):
    with pytest.raises(SupvizError, match=match) as info:
        load_grid(make(tmp_path))
    assert "\n" not in str(info.value)


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SupvizError, match="could not read"):
        load_grid(tmp_path / "o.npy")


def test_truncated_run_dir(grid, tmp_path):
    run = save_grid(grid, tmp_path / "run")
    meta = json.loads((run / "metadata.json").read_text())
    meta["instances"].append(meta["instances"][0])
    (run / "metadata.json").write_text(json.dumps(meta))
    # the metadata's own count disagrees first (issue 22: metadata.json is checked before the weights)
    with pytest.raises(SupvizError, match=rf"`n_instances` is {len(grid)} but {len(grid) + 1} instances are listed"):
        load_grid(run)
    meta["n_instances"] = len(meta["instances"])
    (run / "metadata.json").write_text(json.dumps(meta))
    # the weights file lacks the listed instance's tensors: named (issue 22 follow-up, 4)
    with pytest.raises(SupvizError, match=rf"has no tensor 'weights\.{len(grid)}', which metadata.json calls for"):
        load_grid(run)


@pytest.mark.skipif(not HAMBLIN.is_file(), reason="the study's weights are not in ../shared/data")
def test_hamblin_weights():
    g = load_hamblin2022(HAMBLIN)
    assert len(g) == 2 * 7 * 6
    first = g.specs[0]
    assert (first.n_features, first.n_hidden, first.probability, first.importance_name) == (60, 3, 1.0, "uniform")
    sel = g.select(n_hidden=20, importance_name="geometric:0.9")
    assert len(sel) == 6 and g.labels[sel[0]] == "60to20_withimportance[0]"
    np.testing.assert_allclose([g.specs[i].probability for i in sel], 20 ** -np.linspace(0, 1, 6))
    np.testing.assert_allclose(g.specs[sel[0]].importance, 0.9 ** np.arange(60))
    raw = np.load(HAMBLIN)["60to20_withimportance"]
    np.testing.assert_array_equal(g.weights[sel[3]], raw[3])
    # load_grid recognises the key pattern
    assert load_grid(HAMBLIN).labels == g.labels


def test_hamblin_rule_on_a_small_file(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(
        tmp_path / "h.npz", **{"8to2_withimportance": rng.normal(size=(3, 8, 2)), "8to2": rng.normal(size=(3, 8, 2))}
    )
    g = load_grid(tmp_path / "h.npz")
    assert [s.importance_name for s in g.specs] == ["uniform"] * 3 + ["geometric:0.9"] * 3
    np.testing.assert_allclose([s.probability for s in g.specs[:3]], 20 ** -np.linspace(0, 1, 3))
    with pytest.raises(SupvizError, match="does not follow the study's key rule"):
        np.savez(tmp_path / "other.npz", W=np.zeros((2, 2)))
        load_hamblin2022(tmp_path / "other.npz")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _npz(d: Path, **arrays) -> Path:
    np.savez(d / "w.npz", **arrays)
    return d / "w.npz"


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_truncated_npz_closes_its_file(tmp_path):
    """A truncated archive is one SupvizError and no `ResourceWarning: unclosed file`."""
    import gc
    import warnings

    good = tmp_path / "w.npz"
    np.savez(good, W=np.ones((4, 3, 2)))
    bad = tmp_path / "cut.npz"
    bad.write_bytes(good.read_bytes()[:200])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(SupvizError, match="could not read .*cut.npz' as npz"):
            load_grid(bad)
        gc.collect()


def test_write_grid_files_makes_a_run_folder_in_place(grid, tmp_path):
    from supviz.toy.storage import is_run_dir, write_grid_files

    (tmp_path / "other.txt").write_text("kept")
    write_grid_files(grid, tmp_path)
    assert is_run_dir(tmp_path) and (tmp_path / "other.txt").read_text() == "kept"
    back = load_grid(tmp_path)
    assert back.specs == grid.specs and back.config == grid.config
    np.testing.assert_array_equal(back.weights[1], grid.weights[1])
