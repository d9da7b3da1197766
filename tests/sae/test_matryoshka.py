"""Matryoshka BatchTopK (Bussmann et al. 2025): the nested prefix losses against a reference written
from the paper's formula, the widths' defaults and checks, and a trained SAE saved and read back."""

import numpy as np
import pytest
import torch

from supviz.errors import SupvizError
from supviz.sae import ArraySource, SAEConfig, SAEJob, load, save, train_saes
from supviz.sae.architectures import architecture_class
from supviz.sae.architectures.matryoshka_batchtopk import nested_losses

RNG = np.random.default_rng(3)


def _reference(f, W_dec, b_dec, x, widths):
    """sum over the inner widths m of mean_b ||x_b - (f_b[:m] W_dec[:m] + b_dec)||^2, per instance, in float64."""
    out = np.zeros(f.shape[0])
    for i in range(f.shape[0]):
        for m in widths[:-1]:
            x_hat = f[i, :, :m].astype(np.float64) @ W_dec[i, :m].astype(np.float64) + b_dec[i]
            out[i] += ((x[i] - x_hat) ** 2).sum(-1).mean()
    return out


def test_nested_prefix_losses_equal_the_papers_sum_computed_independently():
    k, B, s, d = 3, 20, 12, 5
    f = np.maximum(RNG.standard_normal((k, B, s)), 0).astype(np.float32)
    P = {"W_dec": torch.tensor(RNG.standard_normal((k, s, d)), dtype=torch.float32)}
    P["b_dec"] = torch.tensor(RNG.standard_normal((k, d)), dtype=torch.float32)
    x = RNG.standard_normal((k, B, d)).astype(np.float32)
    widths = (2, 5, 9, 12)
    got = nested_losses(torch.tensor(f), P, torch.tensor(x), widths)
    assert got.shape == (k, 3)
    ref = _reference(f, P["W_dec"].numpy(), P["b_dec"].numpy(), x, widths)
    np.testing.assert_allclose(got.sum(-1).numpy(), ref, rtol=1e-5)
    # the first level alone uses only latents 0..1: changing a later latent's code leaves it unchanged
    f2 = f.copy()
    f2[:, :, 7] += 3.0
    got2 = nested_losses(torch.tensor(f2), P, torch.tensor(x), widths)
    np.testing.assert_array_equal(got2[:, :2].numpy(), got[:, :2].numpy())
    assert (got2[:, 2] != got[:, 2]).all()


def test_the_training_loss_adds_the_inner_levels_to_batchtopk():
    cfg = SAEConfig(architecture="matryoshka_batchtopk", d_sae=8, k=2, matryoshka_widths=(2, 4))
    arch = architecture_class("matryoshka_batchtopk")(cfg, 4, 8)
    assert arch.widths == (2, 4, 8)
    g = torch.Generator().manual_seed(0)
    P = {n: t[None] for n, t in arch.init_params(g).items()}
    x = torch.tensor(RNG.standard_normal((1, 16, 4)), dtype=torch.float32)
    pre = arch.pre_activation(x, P)
    f, _ = arch.activation_and_terms(pre, x, P, arch.init_state(1, torch.device("cpu")), {})
    x_hat = arch.decode(f, P)
    terms = arch.residual_terms(f, pre, x, x_hat, P, {"dead": torch.zeros(1, 8, dtype=torch.bool)})
    ref = _reference(f.numpy(), P["W_dec"].numpy(), P["b_dec"].numpy(), x.numpy(), (2, 4, 8))
    np.testing.assert_allclose(terms["matryoshka"].numpy(), ref, rtol=1e-5)
    assert terms["auxk"].item() == 0.0


@pytest.mark.parametrize(("d_sae", "expected"), [(64, (8, 16, 32, 64)), (10, (2, 3, 5, 10)), (2, (1, 2)), (1, (1,))])
def test_default_widths_halve_down_from_the_whole_dictionary(d_sae, expected):
    assert SAEConfig(architecture="matryoshka_batchtopk").resolve_matryoshka_widths(d_sae) == expected


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"matryoshka_widths": (4, 4)}, "strictly increasing"),
        ({"matryoshka_widths": ()}, "non-empty sequence"),
        ({"matryoshka_widths": (0, 3)}, r"matryoshka_widths\[0\]"),
        ({"matryoshka_widths": (4, 16), "d_sae": 16}, "each be < d_sae"),
    ],
)
def test_bad_widths_are_refused_by_name(kw, match):
    with pytest.raises(SupvizError, match=match):
        SAEConfig(architecture="matryoshka_batchtopk", **kw)


def test_widths_apply_to_matryoshka_only_and_too_wide_ones_are_refused_when_d_sae_resolves():
    with pytest.raises(SupvizError, match="applies to matryoshka_batchtopk only"):
        SAEConfig(architecture="batchtopk", matryoshka_widths=(2,))
    cfg = SAEConfig(architecture="matryoshka_batchtopk", matryoshka_widths=(4, 30), steps=2, batch_size=8)
    with pytest.raises(SupvizError, match="job 0: `matryoshka_widths` must each be < d_sae"):
        train_saes([SAEJob(ArraySource(RNG.standard_normal((32, 4)), seed=0), cfg)], progress=False)  # d_sae 16


def test_a_trained_matryoshka_sae_saves_as_jumprelu_and_reads_back_with_its_widths(tmp_path):
    cfg = SAEConfig(architecture="matryoshka_batchtopk", d_sae=12, matryoshka_widths=(3, 6), steps=20, batch_size=16)
    sae = train_saes([SAEJob(ArraySource(RNG.standard_normal((64, 4)), seed=0), cfg, seed=0)], progress=False)[0]
    back = load(save(sae, tmp_path / "m"))
    assert back.architecture == "matryoshka_batchtopk" and back.activation == "jumprelu"
    assert back.config == sae.config and back.config.matryoshka_widths == (3, 6)
    X = RNG.standard_normal((10, 4)).astype(np.float32)
    np.testing.assert_array_equal(back.encode(X), sae.encode(X))
