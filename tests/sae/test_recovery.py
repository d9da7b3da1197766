"""Known answers: a planted orthogonal dictionary is recovered by every architecture at its defaults;
the toy 5 -> 2 pentagon is recovered; a frozen random decoder scores what random directions score."""

import numpy as np
import pytest

from supviz.sae import ARCHITECTURES, FeatureStream, SAEConfig, SAEJob, score, train_saes
from supviz.sae.metrics import random_mmcs_expectation

N_RANDOM = 200  # frozen-decoder instances
D_RANDOM, S_RANDOM = 4, 6


@pytest.fixture(scope="module")
def pentagon():
    from supviz.toy import TrainConfig, train_grid

    # a pentagon at 8 of root seeds 0-9 (seeds per cell, issue 13); at 0 and 5 one pair stays antipodal
    grid = train_grid(
        TrainConfig(n_features=5, hidden=(2,), probabilities=(0.05,), importances=("uniform",), steps=3000, seed=1),
        progress=False,
    )
    return grid


@pytest.fixture(scope="module")
def trained(pentagon):
    """Every SAE of this module in one batched job (groups of different step counts)."""
    rng = np.random.default_rng(0)
    planted = FeatureStream(np.linalg.qr(rng.standard_normal((10, 10)))[0][:8], 0.25, seed=1)  # true L0 = 2
    pent = FeatureStream.from_toy(pentagon, 0, seed=2)
    q4 = FeatureStream(np.linalg.qr(rng.standard_normal((4, 4)))[0], 0.3, seed=3)
    jobs = [
        SAEJob(planted, SAEConfig(architecture=a), seed=i) for i, a in enumerate(ARCHITECTURES)
    ]  # defaults: d_sae = 4 d_in
    # TopK with k = 1 (the pentagon is sparse: mostly one vertex at a time) and twice the vertices in
    # latents; with exactly 5 latents half of the seeds end with two vertices on one latent (docs)
    jobs += [SAEJob(pent, SAEConfig(architecture="topk", k=1, d_sae=10, steps=1000), seed=s) for s in (5, 6, 7)]
    frozen = SAEConfig(architecture="relu_l1", d_sae=S_RANDOM, steps=20, batch_size=32, train_decoder=False)
    jobs += [SAEJob(q4, frozen, seed=100 + i) for i in range(N_RANDOM)]
    return jobs, train_saes(jobs, progress=False)


def _scores(jobs, saes):
    ev = [j.source.evaluation(2048) for j in jobs]
    return score(
        saes,
        [e[0] for e in ev],
        features=[j.source.features for j in jobs],
        feature_masks=[j.source.feature_mask for j in jobs],
        true_codes=[e[1] for e in ev],
    )


def test_planted_orthogonal_dictionary_every_architecture_at_defaults(trained):
    jobs, res = trained
    n = len(ARCHITECTURES)
    sc = _scores(jobs[:n], res.saes[:n])
    for arch, m, mcc in zip(ARCHITECTURES, sc.mmcs, sc.feature_mcc):
        assert m >= 0.99, f"{arch}: MMCS {m:.4f}"
        assert mcc >= 0.99, f"{arch}: MCC {mcc:.4f}"
    assert (sc.fvu < 0.05).all()


def test_toy_pentagon_is_recovered(pentagon, trained):
    from supviz.toy import represented_mask

    W = pentagon.weights[0]
    assert represented_mask(W).sum() == 5  # the toy model is the pentagon ...
    angles = np.sort(np.degrees(np.arctan2(W[:, 1], W[:, 0])))
    np.testing.assert_allclose(np.diff(angles), 72.0, atol=3.0)  # ... with its vertices 72 degrees apart
    jobs, res = trained
    n = len(ARCHITECTURES)
    sc = _scores(jobs[n : n + 3], res.saes[n : n + 3])
    assert (sc.mmcs >= 0.99).all(), sc.mmcs
    assert (sc.recovery_rate == 1.0).all()


def test_frozen_random_decoder_scores_the_random_direction_expectation(trained):
    from supviz.core.seeding import child, torch_generator
    from supviz.sae.architectures import architecture_class

    jobs, res = trained
    frozen_jobs, frozen = jobs[-N_RANDOM:], res.saes[-N_RANDOM:]
    # the decoder is exactly its random initialisation (uniform random directions) ...
    j = frozen_jobs[7]
    init = architecture_class("relu_l1")(j.config, D_RANDOM, S_RANDOM).init_params(torch_generator(child(j.seed, 0)))
    np.testing.assert_array_equal(frozen[7].W_dec, init["W_dec"].numpy())
    assert not np.array_equal(frozen[7].W_enc, init["W_enc"].numpy())  # while the encoder trained
    # ... so its MMCS is, in expectation, E[max of S_RANDOM random cosines in D_RANDOM dimensions]
    sc = _scores(frozen_jobs, frozen)
    expected = random_mmcs_expectation(D_RANDOM, S_RANDOM)
    se = sc.mmcs.std(ddof=1) / np.sqrt(N_RANDOM)
    assert abs(sc.mmcs.mean() - expected) < 4 * se, (sc.mmcs.mean(), expected, se)
    assert expected < 0.7  # far from recovery: a frozen decoder does not score like a trained one
