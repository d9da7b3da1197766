"""supviz's SAELens-named scores equal SAELens' on the same SAE and data (fixture computed by SAELens
6.54.12's synthetic evaluation, scripts/make_saelens_fixtures.py), and differ from supviz's own
scores where the definitions differ."""

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from supviz.sae import load, score
from supviz.sae import saelens_metrics as sm

FIXTURE = Path(__file__).parent / "fixtures" / "saelens" / "metrics"
TOL = 1e-6


@pytest.fixture(scope="module")
def case():
    data = load_file(str(FIXTURE / "expected.safetensors"))
    expected = json.loads((FIXTURE / "expected.json").read_text())
    sae = load(FIXTURE)
    return sae, data, expected


def test_the_fixture_has_fewer_latents_than_features_and_dead_latents(case):
    sae, data, expected = case
    assert sae.d_sae < data["features"].shape[0] and expected["dead_latents"] >= 1


def test_each_saelens_named_function_equals_saelens(case):
    sae, data, expected = case
    x, acts, T = data["inputs"], data["feature_acts"], data["features"]
    f = sae.encode(x)
    R = sae.decode(f)
    W = sae.W_dec
    got = {
        "mcc": sm.mcc(W[None], T[None])[0],
        "uniqueness": sm.uniqueness(W[None], T[None])[0],
        **{k: v[0] for k, v in sm.classification(f[None], acts[None], W[None], T[None]).items()},
        "explained_variance": sm.explained_variance(x[None], R[None])[0],
        "dead_latents": sm.dead_latents(f[None])[0],
        "sae_l0": sm.saelens_l0(f[None])[0],
        "true_l0": sm.saelens_l0(acts[None])[0],
        "shrinkage": sm.shrinkage(x[None], R[None])[0],
    }
    for name, value in got.items():
        assert value == pytest.approx(expected[name], abs=TOL), name


def test_score_reports_saelens_numbers_under_saelens_names(case):
    sae, data, expected = case
    sc = score([sae], data["inputs"], features=data["features"], true_codes=data["feature_acts"])
    for name in ("mcc", "uniqueness", "precision", "recall", "f1_score", "explained_variance", "true_l0", "shrinkage"):
        assert getattr(sc, name)[0] == pytest.approx(expected[name], abs=TOL), name
    assert sc.l0[0] == pytest.approx(expected["sae_l0"], abs=TOL)
    assert sc.dead_latents[0] == expected["dead_latents"]
    # supviz's own matched score divides by the true features: with fewer latents it is smaller
    assert sc.feature_mcc[0] < sc.mcc[0] - 0.1


def test_saelens_mcc_averages_over_pairs_and_feature_mcc_over_features():
    T = np.eye(4)[None]
    W = np.eye(4)[:2][None]  # two perfect latents for four features
    assert sm.mcc(W, T)[0] == pytest.approx(1.0)
    from supviz.sae.metrics import feature_mcc

    assert feature_mcc(T, W)[0][0] == pytest.approx(0.5)


def test_saelens_f1_counts_dead_latents_as_zero():
    T = np.eye(2)[None]
    W = np.eye(2)[None]
    acts = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    f = acts * np.array([1.0, 0.0])  # latent 1 never fires
    out = sm.classification(f, acts, W, T)
    assert out["f1_score"][0] == pytest.approx((1.0 + 0.0) / 2)
    assert out["precision"][0] == pytest.approx(0.5) and out["recall"][0] == pytest.approx(0.5)


def test_undefined_saelens_scores_are_nan_not_a_number_that_looks_fine():
    x = np.ones((1, 5, 3))
    assert np.isnan(sm.explained_variance(x, x)[0])  # inputs that do not vary (SAELens: 1.0)
    assert np.isnan(sm.shrinkage(np.zeros((1, 4, 3)), np.zeros((1, 4, 3)))[0])
