"""Issue 22 kind 5: a dead layer's activations (every row identical) through every engine of
``supviz real``: a defined answer or NaN with a reason, never ARPACK's "Starting vector is zero"."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from supviz.cli import main
from supviz.dr.classical import _PARTIAL_EIGH_MIN_N, classical_mds


@pytest.mark.parametrize("n", [_PARTIAL_EIGH_MIN_N - 1, _PARTIAL_EIGH_MIN_N, _PARTIAL_EIGH_MIN_N + 50])
def test_classical_mds_of_coincident_points_is_all_zero_on_both_solver_paths(n):
    # B = -1/2 J D^2 J = 0: every eigenvalue 0, so every coordinate 0 (the dense path always said so;
    # the Lanczos path from N = 200 on raised ArpackError -9)
    np.testing.assert_array_equal(classical_mds(np.zeros((n, n))), np.zeros((n, 2)))
    batch = np.stack([np.zeros((n, n)), cdist(*(2 * [np.arange(n, dtype=float)[:, None]]))])
    out = classical_mds(batch)
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_allclose(cdist(out[1], out[1]), batch[1], atol=1e-8 * n)


def test_rank_deficient_distances_keep_their_geometry_on_the_lanczos_path():
    n = _PARTIAL_EIGH_MIN_N + 10
    x = np.repeat(np.random.default_rng(0).normal(size=(2, 5)), n // 2, axis=0)  # two distinct points
    D = cdist(x, x)
    Y = classical_mds(D, n_components=3)
    np.testing.assert_allclose(cdist(Y, Y), D, atol=1e-9)
    assert np.abs(Y[:, 1:]).max() <= 1e-9 * D.max()  # rank 1: the other columns vanish (up to rounding)


def test_supviz_real_on_a_dead_layer_gives_nan_with_reasons(tmp_path, capsys):
    n = _PARTIAL_EIGH_MIN_N  # the Lanczos path of the Torgerson start
    np.save(tmp_path / "const.npy", np.full((n, 4), 0.7, dtype=np.float32))
    np.save(tmp_path / "labels.npy", np.arange(n) % 3)
    rc = main(
        ["real", "--activations", str(tmp_path / "const.npy"), "--labels", str(tmp_path / "labels.npy")]
        + ["--out", str(tmp_path / "out"), "--quiet"]
    )
    err = capsys.readouterr().err
    assert rc == 0 and "Traceback" not in err and "Arpack" not in err, err
    pictures = pd.read_csv(tmp_path / "out" / "pictures.csv")
    measures = ["knn_accuracy", "silhouette", "trustworthiness", "continuity"]
    assert set(pictures["method"]) == {"mds", "umap", "tsne"}
    assert pictures[measures].isna().all().all()
    assert pictures["notes"].str.contains("collapsed").all()
    quality = pd.read_csv(tmp_path / "out" / "quality.csv")
    for col in ("fvu", "stability_seeds", "stability_larger"):
        assert quality[col].isna().all(), col
        assert quality["notes"].str.contains(f"{col}: ").all(), col
