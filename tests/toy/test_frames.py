"""Tables and reprs of the toy engine (issue 14 item 2): Diagnostics and TrainedGrid in a notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supviz.errors import SupvizError
from supviz.toy import TrainedGrid, diagnostics
from supviz.toy.grid import InstanceSpec


@pytest.fixture(scope="module")
def W():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(20, 5)) * 0.8 ** np.arange(20)[:, None]
    w[7] = 0.0  # a dead feature
    return w


def test_diagnostics_frame_is_the_diagnostics(W):
    d = diagnostics(W)
    df = d.to_frame()
    assert list(df.columns) == [
        "feature",
        "norm",
        "superposition",
        "dimensionality",
        "represented_norm",
        "represented_mean_abs",
    ]
    assert len(df) == 20 and df["feature"].tolist() == list(range(20))
    np.testing.assert_array_equal(df["norm"], d.norms)
    np.testing.assert_allclose(df["norm"], np.linalg.norm(W, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(df["dimensionality"], d.dimensionality)
    assert df.loc[7, "dimensionality"] == 0.0 and not df.loc[7, "represented_norm"]
    assert df["represented_norm"].sum() == d.n_represented_norm
    assert set(df.attrs["units"]) == set(df.columns) == set(df.attrs["definitions"])
    assert "||W_i||^2" in df.attrs["definitions"]["dimensionality"]
    per_model = d.to_frame(per="model")
    assert len(per_model) == 1 and per_model.loc[0, "frobenius_sq"] == pytest.approx(float((W**2).sum()))
    with pytest.raises(SupvizError, match="`per` must be one of 'feature', 'model'; got 'row'"):
        d.to_frame(per="row")


def test_stacked_diagnostics_frame(W):
    d = diagnostics(np.stack([W, 2 * W, np.zeros_like(W)]))
    df = d.to_frame()
    assert df.shape == (60, 7) and df["model"].tolist() == [0] * 20 + [1] * 20 + [2] * 20
    np.testing.assert_allclose(df.loc[df.model == 1, "norm"], 2 * np.linalg.norm(W, axis=1), rtol=1e-12)
    models = d.to_frame(per="model")
    assert models["model"].tolist() == [0, 1, 2] and np.isnan(models.loc[2, "dims_per_feature"])


def test_diagnostics_repr_is_short(W):
    text = repr(diagnostics(W))
    assert text.startswith("Diagnostics(n=20 features, m=5 hidden;") and "\n" not in text and len(text) < 200
    assert repr(diagnostics(np.stack([W] * 6))).startswith("Diagnostics(6 models, n=20")


def _grid(W):
    specs = [InstanceSpec(20, 5, p, "geometric:0.8", 0.8 ** np.arange(20), seed) for p, seed in ((1.0, 11), (0.01, 12))]
    return TrainedGrid(
        specs,
        [W.astype(np.float32), (W * 0.5).astype(np.float32)],
        [np.zeros(20, np.float32)] * 2,
        losses=np.array([[0.4, 0.3], [0.02, 0.01]]),
        loss_steps=np.array([100, 200]),
    )


def test_grid_frame_one_row_per_instance(W):
    grid = _grid(W)
    df = grid.to_frame()
    assert isinstance(df, pd.DataFrame) and len(df) == 2
    assert df["seed"].tolist() == [11, 12] and df["p"].tolist() == [1.0, 0.01]
    assert df["final_loss"].tolist() == [0.3, 0.01] and df["diverged_at"].tolist() == [-1, -1]
    assert df.loc[1, "frobenius_sq"] == pytest.approx(
        0.25 * float((W.astype(np.float32).astype(float) ** 2).sum()), rel=1e-6
    )
    assert set(df.attrs["units"]) == set(df.columns) and df.attrs["units"]["frobenius_sq"] == "units of W squared"


def test_grid_repr_is_a_line_not_the_arrays(W):
    big = np.random.default_rng(0).normal(size=(400, 20))
    specs = [InstanceSpec(400, 20, 0.1, "uniform", np.ones(400), 1)]
    grid = TrainedGrid(
        specs,
        [big.astype(np.float32)],
        [np.zeros(400, np.float32)],
        losses=np.array([[1.0]]),
        loss_steps=np.array([10]),
    )
    text = repr(grid)
    assert text == (
        "TrainedGrid(1 instances: n=400, m=20, p=0.1, importance=uniform; 10 steps, final loss 1-1; "
        ".to_frame() for the table)"
    )
    assert repr(_grid(W)).startswith(
        "TrainedGrid(2 instances: n=20, m=5, p={1, 0.01}, importance=geometric:0.8; 200 steps"
    )
