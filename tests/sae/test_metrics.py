"""Recovery scores: hand-worked values, properties, the random-direction expectation, and NaN with a
reason for every undefined case."""

import math

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.sae import SAE, score
from supviz.sae.metrics import (
    cosine_matrix,
    dead_fraction,
    feature_mcc,
    firing_precision_recall,
    fvu,
    l0,
    max_cosines,
    mmcs,
    random_mmcs_expectation,
    recovery_rate,
    shrinkage,
    true_l0,
)


def test_identity_decoder_recovers_everything():
    T = np.eye(3)[None]  # (1, 3, 3)
    W = np.eye(3)[[2, 0, 1]][None] * 5.0  # a permutation, scaled: cosines ignore norms
    assert mmcs(T, W)[0] == pytest.approx(1.0)
    mcc, latent, matched = feature_mcc(T, W)
    assert mcc[0] == pytest.approx(1.0)
    np.testing.assert_array_equal(latent[0], [1, 2, 0])
    assert recovery_rate(T, W)[0] == 1.0


def test_hand_worked_mmcs_and_the_difference_from_one_to_one_matching():
    # features e1, e2; decoder rows: e1 twice and (e1 + e2)/sqrt(2)
    T = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    W = np.array([[[1.0, 0.0], [2.0, 0.0], [1.0, 1.0]]])
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(cosine_matrix(T, W)[0], [[1, 1, s], [0, 0, s]])
    assert mmcs(T, W)[0] == pytest.approx((1 + s) / 2)
    mcc, latent, _ = feature_mcc(T, W)  # one latent per feature: e2 must take the diagonal row
    assert mcc[0] == pytest.approx((1 + s) / 2)
    assert latent[0, 1] == 2
    assert recovery_rate(T, W, threshold=0.9)[0] == 0.5
    # a negated direction has cosine -1: with non-negative codes it cannot represent the feature, so
    # neither MMCS (signed, as Sharkey et al.) nor the sign-aware feature MCC gives it credit (e1's best
    # row is then the orthogonal -e2, cos 0)
    Wn = -np.eye(2)[None]
    assert mmcs(np.eye(2)[None], Wn)[0] == pytest.approx(0.0)
    fm, latent, matched = feature_mcc(np.eye(2)[None], Wn)
    assert fm[0] == pytest.approx(0.0)
    assert (latent[0] == -1).all() and np.isnan(matched[0]).all()


def test_matching_is_sign_aware_on_the_five_features_in_two_dimensions():
    """Issue 20's case: an SAE on the 5 -> 2 toy whose decoder has t_0, t_1 and -t_2, -t_3, -t_4.

    Matched on |cos| it would score 1.0; its codes are non-negative, so the latents at -t_i serve only
    the features 36 degrees away from them (cos 36 deg = golden ratio / 2): t_2 and t_4 get those, and
    t_3, with every remaining row at 180 degrees, gets nothing. By hand: (2 + 2 cos 36 deg) / 5.
    """
    angles = 2 * np.pi * np.arange(5) / 5
    T = np.stack([np.cos(angles), np.sin(angles)], axis=1)[None]  # (1, 5, 2): the pentagon
    W = T * np.array([1, 1, -1, -1, -1])[None, :, None]
    fm, latent, matched = feature_mcc(T, W)
    assert fm[0] == pytest.approx((2 + 2 * np.cos(np.pi / 5)) / 5)
    assert latent[0, 3] == -1 and np.isnan(matched[0, 3])
    assert (matched[0][latent[0] >= 0] > 0).all()
    sign_blind = np.abs(cosine_matrix(T, W))[0][np.arange(5), np.arange(5)].mean()
    assert sign_blind == pytest.approx(1.0)  # what |cos| matching reported


def test_the_old_name_of_feature_mcc_warns_and_gives_the_new_function():
    import supviz.sae.metrics as metrics

    with pytest.warns(DeprecationWarning, match="matched_mcc was renamed: use feature_mcc"):
        assert metrics.matched_mcc is feature_mcc


def test_mcc_counts_unmatched_features_as_zero_and_respects_the_mask():
    T = np.eye(3)[None]
    W = np.eye(3)[:2][None]  # two latents for three features
    assert feature_mcc(T, W)[0][0] == pytest.approx(2 / 3)
    mask = np.array([[True, True, False]])
    assert feature_mcc(T, W, mask)[0][0] == pytest.approx(1.0)
    assert mmcs(T, W, mask)[0] == pytest.approx(1.0)
    assert np.isnan(max_cosines(T, W, mask)[0, 2])


def test_vectorised_over_instances_equals_one_at_a_time():
    rng = np.random.default_rng(0)
    T = rng.standard_normal((4, 5, 3))
    W = rng.standard_normal((4, 7, 3))
    mask = rng.random((4, 5)) < 0.7
    mask[:, 0] = True
    batched = [mmcs(T, W, mask), feature_mcc(T, W, mask)[0], recovery_rate(T, W, mask, threshold=0.5)]
    for i in range(4):
        one = [
            mmcs(T[i : i + 1], W[i : i + 1], mask[i : i + 1]),
            feature_mcc(T[i : i + 1], W[i : i + 1], mask[i : i + 1])[0],
            recovery_rate(T[i : i + 1], W[i : i + 1], mask[i : i + 1], threshold=0.5),
        ]
        for b, o in zip(batched, one):
            assert b[i] == o[0]


def test_degenerate_directions_are_nan_never_a_score():
    T = np.eye(2)[None]
    assert np.isnan(mmcs(T, np.zeros((1, 3, 2)))[0])  # no decoder direction
    assert np.isnan(feature_mcc(T, np.zeros((1, 3, 2)))[0][0])
    assert np.isnan(mmcs(T, np.eye(2)[None], np.zeros((1, 2), bool))[0])  # no counted feature
    assert np.isnan(recovery_rate(T, np.eye(2)[None], np.zeros((1, 2), bool))[0])
    # a zero row among real ones is skipped, not counted as cos 0
    W = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
    assert mmcs(T, W)[0] == pytest.approx(1.0)


def test_code_statistics_by_hand():
    F = np.array([[[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]]])  # 2 samples, 3 latents; latent 0 never fires
    assert dead_fraction(F)[0] == pytest.approx(1 / 3)
    assert l0(F)[0] == pytest.approx(1.5)
    C = np.array([[[1.0, 0.0], [0.5, 0.5]]])
    assert true_l0(C)[0] == pytest.approx(1.5)
    assert true_l0(C, np.array([[True, False]]))[0] == pytest.approx(1.0)


def test_fvu_and_shrinkage_by_hand():
    X = np.array([[[1.0, 0.0], [3.0, 0.0]]])  # mean (2, 0), total variance 2
    assert fvu(X, X)[0] == 0.0
    assert fvu(X, np.broadcast_to(X.mean(axis=1, keepdims=True), X.shape))[0] == pytest.approx(1.0)
    assert shrinkage(X, 0.5 * X)[0] == pytest.approx(0.5)
    assert np.isnan(fvu(np.ones((1, 3, 2)), np.zeros((1, 3, 2))))[0]  # inputs do not vary
    assert np.isnan(shrinkage(np.zeros((1, 3, 2)), np.zeros((1, 3, 2))))[0]  # every input is zero


def test_firing_precision_and_recall_by_hand():
    # feature 0 active in samples 0, 1; its latent (1) fires in samples 1, 2
    C = np.array([[[1.0], [1.0], [0.0], [0.0]]])
    F = np.array([[[0.0, 0.0], [0.0, 2.0], [0.0, 1.0], [0.0, 0.0]]])
    prec, rec, p_each, r_each = firing_precision_recall(F, C, np.array([[1]]))
    assert prec[0] == pytest.approx(0.5) and rec[0] == pytest.approx(0.5)
    # an unmatched feature is NaN, and a latent that never fires has no precision
    prec, rec, _, _ = firing_precision_recall(F, C, np.array([[0]]))
    assert np.isnan(prec[0]) and rec[0] == 0.0


@pytest.mark.parametrize("d,s", [(2, 1), (3, 5), (8, 20), (20, 60)])
def test_random_direction_expectation_matches_monte_carlo(d, s):
    rng = np.random.default_rng(d * 100 + s)
    trials = 4000
    t = np.zeros(d)
    t[0] = 1.0
    w = rng.standard_normal((trials, s, d))
    w /= np.linalg.norm(w, axis=-1, keepdims=True)
    best = (w @ t).max(axis=1)
    mc, se = best.mean(), best.std() / math.sqrt(trials)
    assert random_mmcs_expectation(d, s) == pytest.approx(mc, abs=4 * se)


def test_random_direction_expectation_closed_forms():
    assert random_mmcs_expectation(1, 1) == 0.0  # +-1 with equal odds
    assert random_mmcs_expectation(1, 3) == pytest.approx(1 - 2**-2)
    assert random_mmcs_expectation(5, 1) == pytest.approx(0.0, abs=1e-9)  # one direction: symmetric cosine
    assert random_mmcs_expectation(4, 50) > random_mmcs_expectation(4, 5)  # more tries, higher max


def _sae(W_dec, b_dec=None):
    W_dec = np.asarray(W_dec, np.float32)
    s, d = W_dec.shape
    return SAE(
        W_enc=W_dec.T.copy(),
        b_enc=np.zeros(s, np.float32),
        W_dec=W_dec,
        b_dec=np.zeros(d, np.float32) if b_dec is None else b_dec,
        activation="relu",
        label="hand",
    )


def test_score_collects_everything_and_explains_every_nan():
    sae = _sae(np.eye(2))
    X = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [3.0, 1.0]], np.float32)
    C = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [3.0, 1.0]], np.float32)
    sc = score([sae], X, features=np.eye(2), true_codes=C)
    assert sc.mmcs[0] == 1.0 and sc.feature_mcc[0] == 1.0 and sc.mcc[0] == 1.0 and sc.recovery_rate[0] == 1.0
    assert sc.fvu[0] == pytest.approx(0.0, abs=1e-7) and sc.dead_fraction[0] == 0.0
    assert sc.l0[0] == pytest.approx(1.0) and sc.true_l0[0] == pytest.approx(1.0)
    assert sc.firing_precision[0] == 1.0 and sc.firing_recall[0] == 1.0 and sc.f1_score[0] == 1.0
    assert sc.notes[0] == {}
    df = sc.to_frame()
    assert list(df.columns[:3]) == ["label", "n_true", "d_sae"] and "mmcs" in df.attrs["columns"]
    # without features: recovery scores are NaN with the reason, reconstruction scores still defined
    sc = score([sae], X)
    assert np.isnan(sc.mmcs[0]) and sc.notes[0]["mmcs"] == "no true features given"
    assert sc.fvu[0] == pytest.approx(0.0, abs=1e-7)
    # no represented feature
    sc = score([sae], X, features=np.eye(2), feature_masks=np.zeros(2, bool))
    assert np.isnan(sc.mmcs[0]) and "no represented" in sc.notes[0]["mmcs"]
    # zero inputs
    sc = score([sae], np.zeros((3, 2), np.float32), features=np.eye(2))
    assert np.isnan(sc.fvu[0]) and np.isnan(sc.shrinkage[0]) and sc.mmcs[0] == 1.0
    assert "do not vary" in sc.notes[0]["fvu"] and "zero" in sc.notes[0]["shrinkage"]


def test_score_rejects_mismatched_inputs():
    sae = _sae(np.eye(2))
    with pytest.raises(SupvizError, match="inputs 0 must have 2 columns"):
        score([sae], np.zeros((3, 3)))
    with pytest.raises(SupvizError, match=r"features 0 must be \[n, 2\]"):
        score([sae], np.zeros((3, 2)), features=np.eye(3))
    with pytest.raises(SupvizError, match="one row per input"):
        score([sae], np.zeros((3, 2)), features=np.eye(2), true_codes=np.zeros((4, 2)))
    with pytest.raises(SupvizError, match="at least one SAE"):
        score([], np.zeros((3, 2)))


def test_encoding_in_blocks_bounds_memory_not_results(monkeypatch):
    """Large groups are encoded in blocks of SAEs and rows; blocks round like any GEMM (float32 ulps)."""
    from supviz.sae import encode, model

    rng = np.random.default_rng(0)
    saes = []
    for _ in range(5):
        W = rng.standard_normal((30, 4)).astype(np.float32)
        saes.append(
            SAE(
                W_enc=W.T.copy(),
                b_enc=rng.standard_normal(30).astype(np.float32),
                W_dec=W,
                b_dec=rng.standard_normal(4).astype(np.float32),
                activation="relu",
            )
        )
    X = rng.standard_normal((1000, 4)).astype(np.float32)
    whole = encode(saes, X)
    monkeypatch.setattr(model, "_BLOCK", 100)  # 1 SAE x 3 rows per block
    for a, b in zip(whole, encode(saes, X)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        assert a.shape == (1000, 30)
