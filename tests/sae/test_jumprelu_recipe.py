"""JumpReLU's decoder recipe: unit-norm rows by default (the paper's), free rows with
``free_decoder`` (SAELens 6.54's); configs saved before the field existed still load."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.sae import ArraySource, SAEConfig, SAEJob, train_saes

X = np.random.default_rng(0).standard_normal((128, 6)).astype(np.float32)


def _train(**kw):
    cfg = SAEConfig(architecture="jumprelu", d_sae=12, steps=60, batch_size=32, **kw)
    return train_saes([SAEJob(ArraySource(X, seed=1), cfg, seed=2)], progress=False)[0]


def test_decoder_rows_stay_unit_norm_by_default_and_move_when_free():
    unit = np.linalg.norm(_train().W_dec, axis=1)
    np.testing.assert_allclose(unit, 1.0, atol=1e-6)
    free = np.linalg.norm(_train(free_decoder=True).W_dec, axis=1)
    assert np.abs(free - 1.0).max() > 1e-2
    small = np.linalg.norm(_train(free_decoder=True, decoder_init_norm=0.1).W_dec, axis=1)
    assert small.max() < 0.9  # started at 0.1 and nothing renormalised it to 1 (measured: 0.42-0.54)


def test_free_decoder_is_a_jumprelu_bool_and_old_configs_load_without_it():
    assert SAEConfig(architecture="jumprelu").free_decoder is False
    with pytest.raises(SupvizError, match="`free_decoder` applies to jumprelu only"):
        SAEConfig(architecture="topk", free_decoder=True)
    with pytest.raises(SupvizError, match="`free_decoder` must be True or False"):
        SAEConfig(architecture="jumprelu", free_decoder=1)
    old = SAEConfig(architecture="jumprelu").to_dict()
    del old["free_decoder"]
    assert SAEConfig.from_dict(old).free_decoder is False
