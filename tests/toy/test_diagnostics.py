"""Geometry diagnostics: hand-worked cases, properties, vectorised == looped."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.toy import diagnostics, represented_mask


def test_orthonormal_features():
    W = np.eye(4)[:, :3]  # features 0-2 on the axes, feature 3 dead
    d = diagnostics(W)
    np.testing.assert_allclose(d.gram, np.diag([1, 1, 1, 0]))
    np.testing.assert_allclose(d.norms, [1, 1, 1, 0])
    np.testing.assert_allclose(d.superposition, 0)
    np.testing.assert_allclose(d.dimensionality, [1, 1, 1, 0])  # dead feature: 0, not NaN
    assert d.dims_per_feature == pytest.approx(1.0)
    assert int(d.n_represented_norm) == 3 and int(d.n_represented_mean_abs) == 3


def test_antipodal_pair_and_pentagon():
    pair = np.array([[1.0], [-1.0]])
    d = diagnostics(pair)
    np.testing.assert_allclose(d.gram, [[1, -1], [-1, 1]])
    np.testing.assert_allclose(d.superposition, [1, 1])
    np.testing.assert_allclose(d.dimensionality, [0.5, 0.5])
    assert d.dims_per_feature == pytest.approx(0.5)
    # five unit vectors in a plane (the pentagon): each has dimensionality 2/5
    ang = 2 * np.pi * np.arange(5) / 5
    pent = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    np.testing.assert_allclose(diagnostics(pent).dimensionality, 0.4)
    assert diagnostics(pent).dims_per_feature == pytest.approx(0.4)


def test_scaled_and_hand_worked_values():
    W = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    d = diagnostics(W)
    # superposition of feature 0: (W0_hat . W1)^2 = 1; of feature 1: (W1_hat . W0)^2 = (2/sqrt(2))^2 = 2
    np.testing.assert_allclose(d.superposition, [1.0, 2.0, 0.0])
    np.testing.assert_allclose(d.dimensionality, [4 / 5, 2 / 4, 0.0])
    assert d.frobenius_sq == pytest.approx(6.0)
    assert d.dims_per_feature == pytest.approx(2 / 6)
    # all-zero W: no feature stored, dimensions per feature undefined (was inf; issue 8 follow-up, 12)
    assert np.isnan(diagnostics(np.zeros((3, 2))).dims_per_feature)


def test_vectorised_equals_looped():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(5, 7, 3))
    W[2, 4] = 0.0
    batched = diagnostics(W)
    for k in range(5):
        one = diagnostics(W[k])
        for name in ("gram", "norms", "superposition", "dimensionality", "represented_norm", "represented_mean_abs"):
            np.testing.assert_allclose(getattr(batched, name)[k], getattr(one, name), rtol=1e-12, atol=0)
        assert batched.n_represented_norm[k] == one.n_represented_norm
    assert np.all((batched.dimensionality >= 0) & (batched.dimensionality <= 1 + 1e-12))
    assert np.isfinite(batched.dimensionality).all()


def test_represented_rules():
    W = np.array([[1.0, 0.0], [0.3, 0.3], [0.02, 0.02], [0.0, 0.0]])
    np.testing.assert_array_equal(represented_mask(W), [True, False, False, False])
    np.testing.assert_array_equal(represented_mask(W, threshold=0.4), [True, True, False, False])
    # the study's rule: mean|W_k| > mean|W_0| / 20 = 0.025
    np.testing.assert_array_equal(represented_mask(W, rule="mean_abs"), [True, True, False, False])
    np.testing.assert_array_equal(represented_mask(W, rule="mean_abs", threshold=0.03), [True, True, True, False])
    np.testing.assert_array_equal(represented_mask(W, rule="mean_abs", threshold=0.5), [True, True, False, False])
    assert represented_mask(np.stack([W, W]), rule="mean_abs").shape == (2, 4)
    # importance names the reference feature of the mean_abs rule
    d = diagnostics(W[::-1], importance=np.array([0.1, 0.2, 0.3, 1.0]))
    assert d.reference_feature == 3
    np.testing.assert_array_equal(d.represented_mean_abs, [False, False, True, True])


@pytest.mark.parametrize(
    ("W", "match"),
    [
        (np.zeros(3), r"`W` must be an array of rank 2 or 3; got shape \(3,\)"),
        (np.zeros((2, 2, 2, 2)), r"rank 2 or 3"),
        (np.array([[np.nan, 1.0]]), r"`W` must hold only finite values; got 1 NaN/inf entries"),
        (np.zeros((3, 0)), r"at least one feature and one hidden dimension"),
    ],
)
def test_bad_input(W, match):
    with pytest.raises(SupvizError, match=match):
        diagnostics(W)


def test_bad_rule():
    with pytest.raises(SupvizError, match=r"`rule` must be one of 'norm', 'mean_abs'; got 'l1'"):
        represented_mask(np.eye(2), rule="l1")


def test_mean_abs_reference_is_strongest_top_importance_feature() -> None:
    # Uniform importance, feature 0 dropped: with row 0 as the reference every row would count.
    W = np.zeros((4, 2))
    W[1] = [1.0, 0.0]
    W[2] = [0.0, 1.0]
    W[3] = [0.01, 0.0]  # below 1/20 of the strongest
    mask = represented_mask(W, rule="mean_abs", importance=np.ones(4))
    assert mask.tolist() == [False, True, True, False]
    assert represented_mask(W, rule="mean_abs", reference=0)[1:].all()  # row 0 as reference: all live rows count
    # Decaying importance: row 0 stays the reference, exactly as in the study.
    W[0] = [0.5, 0.0]
    imp = 0.9 ** np.arange(4)
    np.testing.assert_array_equal(
        represented_mask(W, rule="mean_abs", importance=imp), represented_mask(W, rule="mean_abs", reference=0)
    )
    d = diagnostics(np.stack([W, W[::-1]]), importance=np.ones(4))
    assert d.reference_feature.tolist() == [1, 1]


def test_all_zero_and_rescaled_w_follow_the_one_rule():
    # issue 8 follow-up, finding 12: an all-zero W gave dims_per_feature inf and `supviz inspect`
    # printed "inf" and mean superposition 0.000 beside mean D "-". Undefined is NaN, for both.
    import tempfile
    from pathlib import Path

    from supviz.toy.diagnostics import grid_summary
    from supviz.toy.storage import load_grid

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.npy"
        np.save(path, np.zeros((2, 6, 3)))
        rows = grid_summary(load_grid(path))
    for row in rows:
        assert np.isnan(row["dims_per_feature"]) and np.isnan(row["mean_superposition"])
        assert np.isnan(row["mean_dimensionality"]) and row["represented_norm"] == 0
    # dead rows are judged relative to W's own scale: a rescaled W has the same diagnostics
    W = np.random.default_rng(0).normal(size=(6, 3))
    W[4:] = 0.0
    for scale in (1e-20, 1e20):
        a, b = diagnostics(W), diagnostics(W * scale)
        np.testing.assert_allclose(b.dimensionality, a.dimensionality, rtol=1e-12, atol=0)
        assert b.dims_per_feature == pytest.approx(a.dims_per_feature / scale**2, rel=1e-12)
