"""The scikit-learn estimator: scikit-learn's own estimator checks, a Pipeline, the round trip."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from supviz.errors import SupvizError
from supviz.sae import SparseAutoencoder

# few steps: the checks fit dozens of times on tiny data; what they check does not need a good fit
FAST = dict(steps=15, batch_size=16)


@parametrize_with_checks(
    [
        SparseAutoencoder(**FAST),
        SparseAutoencoder(architecture="jumprelu", **FAST),
        SparseAutoencoder(architecture="relu_l1", **FAST),
    ],
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_in_a_pipeline_with_transform_and_inverse_transform():
    rng = np.random.default_rng(0)
    F = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    codes = np.where(rng.random((400, 6)) < 0.2, rng.random((400, 6)), 0.0)
    X = codes @ F + 3.0  # an offset the SAE's bias absorbs
    pipe = make_pipeline(
        StandardScaler(), SparseAutoencoder(architecture="topk", k=2, d_sae=12, steps=400, random_state=0)
    )
    f = pipe.fit_transform(X)
    sae = pipe[-1]
    assert f.shape == (400, 12) and f.dtype == np.float64 and (f >= 0).all()
    assert ((f > 0).sum(1) <= 2).all()  # TopK keeps at most k latents per sample
    assert sae.components_.shape == (12, 6) and sae.n_features_in_ == 6
    assert list(sae.get_feature_names_out()) == [f"sparseautoencoder{i}" for i in range(12)]
    Z = pipe[0].transform(X)
    recon = sae.inverse_transform(f)
    assert np.mean((recon - Z) ** 2) / np.var(Z) < 0.2
    np.testing.assert_allclose(pipe.transform(X[:5]), f[:5], rtol=1e-12, atol=1e-12)  # float64 GEMM blocking
    assert sae.get_params()["k"] == 2 and sae.set_params(k=3).k == 3


def test_bad_parameters_raise_at_fit_with_one_line():
    X = np.random.default_rng(0).random((20, 3))
    with pytest.raises(SupvizError, match="`k` applies to topk / batchtopk / matryoshka_batchtopk only"):
        SparseAutoencoder(architecture="relu_l1", k=3).fit(X)
    with pytest.raises(SupvizError, match="`steps` must be an int >= 1"):
        SparseAutoencoder(steps=0).fit(X)
    est = SparseAutoencoder(**FAST, random_state=0).fit(X)
    with pytest.raises(SupvizError, match="must have 12 columns"):
        est.inverse_transform(np.zeros((2, 3)))
