"""Defaults from the data (issue 20 item 5): TopK's k follows the data's true L0 and m, and on the
5 -> 2 toy the study's default SAE then beats random decoders scored by the same function."""

import math

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.sae import SAE, ArraySource, FeatureStream, SAEConfig, SAEJob, score, train_saes
from supviz.sae.cells import study_config, train_cell_saes
from supviz.sae.config import DATA_K, data_k


@pytest.mark.parametrize(
    ("true_l0", "d_in", "d_sae", "k"),
    [
        (0.25, 2, 10, 1),  # the 5 -> 2 toy at p = 0.05: at least one latent
        (4.67, 64, 256, 5),  # issue 20's SAELens data: about 4.67 active
        (1.5, 8, 16, 2),  # half up, not to even
        (2.5, 8, 16, 3),
        (10.0, 2, 10, 2),  # never more than m: more active latents than dimensions are dependent
        (6.0, 8, 3, 3),  # never more than the latents
    ],
)
def test_data_k_by_hand(true_l0, d_in, d_sae, k):
    assert data_k(true_l0, d_in, d_sae) == k


def test_data_k_refuses_what_is_no_l0():
    with pytest.raises(SupvizError, match="`true_l0` must be"):
        data_k(-1.0, 2, 3)
    with pytest.raises(SupvizError, match="`true_l0` must be"):
        data_k(math.nan, 2, 3)
    with pytest.raises(SupvizError, match="`d_in` must be an int >= 1"):
        data_k(1.0, 0, 3)


def test_config_takes_data_only_where_k_applies():
    assert SAEConfig(architecture="topk", k=DATA_K).k == DATA_K
    assert SAEConfig(architecture="batchtopk", k=DATA_K, d_sae=2).k == DATA_K  # no k <= d_sae check before the data
    with pytest.raises(SupvizError, match="`k` must be an int >= 1 or 'data'; got 'auto'"):
        SAEConfig(architecture="topk", k="auto")
    with pytest.raises(SupvizError, match="`k` applies to topk / batchtopk / matryoshka_batchtopk only"):
        SAEConfig(architecture="relu_l1", k=DATA_K)


def test_sources_know_their_true_l0():
    D = np.eye(4, dtype=np.float32)
    s = FeatureStream(D, [0.1, 0.2, 0.3, 0.4], feature_mask=np.array([True, True, False, True]))
    assert s.true_l0() == pytest.approx(0.7)
    x = np.ones((3, 4), np.float32)
    assert ArraySource(x, codes=[[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]).true_l0() == pytest.approx(1.0)
    assert ArraySource(x).true_l0() is None


def test_the_engine_resolves_k_from_the_data_and_says_so():
    D = np.eye(4, dtype=np.float32)
    cfg = SAEConfig(architecture="topk", k=DATA_K, d_sae=8, steps=3, batch_size=16)
    res = train_saes([SAEJob(FeatureStream(D, 0.5, seed=0), cfg)], progress=False)
    sae = res.saes[0]
    assert sae.k == 2 and sae.config.k == 2  # true L0 = 4 x 0.5; the record keeps the number used
    assert any("k = 2 from the data (true L0 2" in n for n in sae.info["notes"])
    with pytest.raises(SupvizError, match="k='data' needs the data's true L0"):
        train_saes([SAEJob(ArraySource(np.ones((8, 4), np.float32)), cfg)], progress=False)


@pytest.fixture(scope="module")
def pentagon():
    from supviz.toy import TrainConfig, train_grid

    # the toy of tests/sae/test_recovery.py: 5 features in 2 dimensions at p = 0.05, a pentagon
    return train_grid(
        TrainConfig(n_features=5, hidden=(2,), probabilities=(0.05,), importances=("uniform",), steps=3000, seed=1),
        progress=False,
    )


def test_the_study_default_beats_random_decoders_on_the_five_to_two_toy(pentagon):
    """The study's default (TopK, d_sae = 2 n, k from the data: 1 here) against random decoders of the
    same size scored by the same function on the same evaluation sample; the old fixed k = 4 beside it."""
    assert study_config(5).k == DATA_K
    new = train_cell_saes(pentagon, seed=0, n_eval=2048)
    old = train_cell_saes(pentagon, config=study_config(5, k=4), seed=0, n_eval=2048)
    assert new.saes[0].k == 1 and old.saes[0].k == 4
    rng = np.random.default_rng(0)
    X, _ = FeatureStream.from_toy(pentagon, 0, seed=2).evaluation(512)
    randoms = []
    for _ in range(200):
        W = rng.standard_normal((10, 2)).astype(np.float32)
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        randoms.append(SAE(W.T.copy(), np.zeros(10, np.float32), W, np.zeros(2, np.float32)))
    chance = score(randoms, X, features=new.features[0], feature_masks=new.represented[0])
    for col in ("mmcs", "feature_mcc"):
        q99 = np.quantile(getattr(chance, col), 0.99)
        got, before = getattr(new.scores, col)[0], getattr(old.scores, col)[0]
        assert got > q99, (col, got, q99)
        assert got > before, (col, got, before)
