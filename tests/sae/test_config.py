"""SAEConfig: per-architecture defaults, fields refused where they do not apply, one-line errors."""

import pytest

from supviz.errors import SupvizError
from supviz.sae import SAEConfig
from supviz.sae.config import DEFAULTS


@pytest.mark.parametrize("arch", sorted(DEFAULTS))
def test_architecture_defaults_are_filled_in(arch):
    cfg = SAEConfig(architecture=arch)
    for name, value in DEFAULTS[arch].items():
        assert getattr(cfg, name) == value
    assert SAEConfig.from_dict(cfg.to_dict()) == cfg


def test_a_field_of_another_architecture_is_refused_not_ignored():
    with pytest.raises(
        SupvizError,
        match=r"`k` applies to topk / batchtopk / matryoshka_batchtopk only; got k=3 with architecture='relu_l1'",
    ):
        SAEConfig(architecture="relu_l1", k=3)
    with pytest.raises(SupvizError, match="`l0_coefficient` applies to jumprelu only"):
        SAEConfig(architecture="topk", l0_coefficient=1.0)


def test_replace_to_another_architecture_resets_its_defaults():
    cfg = SAEConfig(architecture="topk", k=7).replace(architecture="jumprelu")
    assert cfg.k is None and cfg.l0_coefficient == DEFAULTS["jumprelu"]["l0_coefficient"]
    assert cfg.replace(steps=5).steps == 5


@pytest.mark.parametrize(
    "kw,msg",
    [
        ({"architecture": "gated"}, "`architecture` must be one of"),
        ({"steps": 0}, "`steps` must be an int >= 1; got 0."),
        ({"lr": -1.0}, "`lr` must be a finite number in"),
        ({"d_sae": 2.5}, "`d_sae` must be an int"),
        ({"device": "tpu"}, "`device` must be 'cpu' or 'cuda"),
        ({"normalize_activations": 1}, "`normalize_activations` must be True or False"),
        ({"lr_warmup_steps": 10, "steps": 5}, "`lr_warmup_steps` must be <= `steps`"),
        ({"architecture": "topk", "k": 9, "d_sae": 4}, "`k` must be <= `d_sae`; got k=9, d_sae=4."),
    ],
)
def test_bad_settings(kw, msg):
    with pytest.raises(SupvizError, match=msg.replace("(", r"\(").replace("[", r"\[")):
        SAEConfig(**kw)


def test_unknown_keys_are_named():
    with pytest.raises(SupvizError, match="`config` has no key 'sparsity'; known keys: "):
        SAEConfig.from_dict({"sparsity": 1})


def test_resolved_sizes():
    assert SAEConfig(expansion_factor=2.5).resolve_d_sae(3) == 8
    assert SAEConfig(d_sae=7).resolve_d_sae(100) == 7
    assert SAEConfig(architecture="topk").resolve_aux_k(9) == 4
