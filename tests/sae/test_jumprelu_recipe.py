"""JumpReLU's recipe: SAELens 6.54's by default (free decoder rows, theta trained itself, gradient clipped to
norm 1), the paper's on request (unit-norm rows, log theta, no clipping); configs saved before the fields
existed load with the recipe they were trained with."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.sae import ArraySource, SAEConfig, SAEJob, train_saes

X = np.random.default_rng(0).standard_normal((128, 6)).astype(np.float32)


def _train(**kw):
    cfg = SAEConfig(architecture="jumprelu", d_sae=12, steps=60, batch_size=32, **kw)
    return train_saes([SAEJob(ArraySource(X, seed=1), cfg, seed=2)], progress=False)[0]


def test_decoder_rows_move_by_default_and_stay_unit_norm_in_the_papers_recipe():
    unit = np.linalg.norm(_train(free_decoder=False).W_dec, axis=1)
    np.testing.assert_allclose(unit, 1.0, atol=1e-6)
    free = np.linalg.norm(_train().W_dec, axis=1)
    assert np.abs(free - 1.0).max() > 1e-2
    small = np.linalg.norm(_train(free_decoder=True, decoder_init_norm=0.1).W_dec, axis=1)
    assert small.max() < 0.9  # started at 0.1 and nothing renormalised it to 1 (measured: 0.42-0.54)


def test_saelens_recipe_is_the_default():
    cfg = SAEConfig(architecture="jumprelu")
    assert (cfg.free_decoder, cfg.threshold_param, cfg.grad_clip) == (True, "linear", 1.0)
    paper = SAEConfig(architecture="jumprelu", free_decoder=False, threshold_param="log", grad_clip=0.0)
    assert (paper.free_decoder, paper.threshold_param, paper.grad_clip) == (False, "log", 0.0)


def test_free_decoder_is_a_jumprelu_bool_and_old_configs_load_without_it():
    assert SAEConfig(architecture="jumprelu").free_decoder is True
    with pytest.raises(SupvizError, match="`free_decoder` applies to jumprelu only"):
        SAEConfig(architecture="topk", free_decoder=True)
    with pytest.raises(SupvizError, match="`free_decoder` must be True or False"):
        SAEConfig(architecture="jumprelu", free_decoder=1)
    old = SAEConfig(architecture="jumprelu", free_decoder=False, threshold_param="log").to_dict()
    del old["free_decoder"], old["threshold_param"]  # saved before the fields existed: trained unit-norm, log theta
    back = SAEConfig.from_dict(old)
    assert (back.free_decoder, back.threshold_param) == (False, "log")
    assert SAEConfig.from_dict(SAEConfig(architecture="jumprelu").to_dict()) == SAEConfig(architecture="jumprelu")


def _group(monkeypatch, fused, **kw):
    from supviz.sae import engine

    monkeypatch.setattr(engine, "FUSED_STEP", fused)
    cfg = SAEConfig(architecture="jumprelu", d_sae=12, steps=60, batch_size=32, **kw)
    g = engine._Group([engine._plan(0, SAEJob(ArraySource(X, seed=1), cfg, seed=2))], "cpu", 1, 60)
    assert (g.kind is not None) == fused
    return g


@pytest.mark.filterwarnings("ignore:grad and param do not obey")  # the engine's strided .grad views, by design
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "torch"])
def test_adam_moves_log_theta_multiplicatively_and_theta_additively(monkeypatch, fused):
    # Adam's first step moves every parameter with a non-zero gradient by lr * g / (|g| + eps), about lr:
    # log theta by lr (theta times exp(+-lr)), theta itself by lr (SAELens 6.54's parametrisation).
    lr, theta0 = 3e-3, 0.05
    for param, name in (("log", "log_threshold"), ("linear", "threshold")):
        g = _group(monkeypatch, fused, threshold_param=param, lr=lr, init_threshold=theta0)
        assert set(g.P) == {"W_enc", "b_enc", "W_dec", "b_dec", name}
        before = g.arch.thresholds(g.P).detach().numpy()[0].copy()
        g.step(0)
        theta = g.arch.thresholds(g.P).detach().numpy()[0]
        moved = g.views(g.grad)[name].numpy()[0] != 0
        assert moved.sum() >= 3  # latents whose kernel window caught a pre-activation
        if param == "log":
            np.testing.assert_allclose(np.abs(np.log(theta[moved] / theta0)), lr, rtol=1e-3)
        else:
            np.testing.assert_allclose(np.abs(theta[moved] - theta0), lr, rtol=1e-3)
        np.testing.assert_array_equal(theta[~moved], before[~moved])


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "torch"])
def test_linear_threshold_is_projected_onto_theta_at_least_0(monkeypatch, fused):
    # No L0 pressure and a tiny start: reconstruction pulls the thresholds down, and the projection stops
    # them at 0 (where the gate is a ReLU), as SAELens clamps them; exported thresholds are never negative.
    g = _group(monkeypatch, fused, threshold_param="linear", l0_coefficient=0.0, init_threshold=1e-4, bandwidth=1.0)
    for t in range(60):
        g.step(t)
    theta = g.P["threshold"].detach().numpy()
    assert theta.min() == 0.0 and (theta == 0.0).sum() >= 3
    assert (g.export(0).threshold >= 0).all()


def test_threshold_param_is_checked_and_old_configs_load_as_log():
    assert SAEConfig(architecture="jumprelu").threshold_param == "linear"
    assert SAEConfig(architecture="jumprelu", threshold_param="log").threshold_param == "log"
    with pytest.raises(SupvizError, match="`threshold_param` must be one of 'log', 'linear'"):
        SAEConfig(architecture="jumprelu", threshold_param="exp")
    with pytest.raises(SupvizError, match="`threshold_param` applies to jumprelu only"):
        SAEConfig(architecture="topk", threshold_param="log")
    old = SAEConfig(architecture="jumprelu").to_dict()
    del old["threshold_param"]
    assert SAEConfig.from_dict(old).threshold_param == "log"
