"""SAELens layout: round trips, folders written by SAELens' conventions (v6 and pre-6.0, log_threshold,
bfloat16), scoring an SAE trained elsewhere, one-line errors, no half-written or replaced folders."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from supviz.errors import SupvizError
from supviz.sae import SAE, load, save, score
from supviz.sae.model import load_many
from supviz.sae.storage import save_many

RNG = np.random.default_rng(0)


def _sae(activation="relu", **kw):
    d, s = 3, 5
    W_dec = RNG.standard_normal((s, d)).astype(np.float32)
    extra = {"topk": {"k": 2}, "jumprelu": {"threshold": np.full(s, 0.1, np.float32)}}.get(activation, {})
    return SAE(
        W_enc=W_dec.T.copy(),
        b_enc=RNG.standard_normal(s).astype(np.float32) * 0.1,
        W_dec=W_dec,
        b_dec=RNG.standard_normal(d).astype(np.float32),
        activation=activation,
        label="x",
        **extra,
        **kw,
    )


@pytest.mark.parametrize("activation", ["relu", "topk", "jumprelu"])
def test_round_trip_in_saelens_layout(tmp_path, activation):
    sae = _sae(activation)
    path = save(sae, tmp_path / "sae")
    assert sorted(p.name for p in path.iterdir()) == ["cfg.json", "sae_weights.safetensors"]  # no pickle
    cfg = json.loads((path / "cfg.json").read_text())
    assert cfg["architecture"] == {"relu": "standard", "topk": "topk", "jumprelu": "jumprelu"}[activation]
    assert (cfg["d_in"], cfg["d_sae"]) == (3, 5) and cfg["normalize_activations"] == "none"
    from safetensors.numpy import load_file

    w = load_file(str(path / "sae_weights.safetensors"))
    assert w["W_enc"].shape == (3, 5) and w["W_dec"].shape == (5, 3) and w["b_enc"].shape == (5,)
    assert ("threshold" in w) == (activation == "jumprelu")
    back = load(path)
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        np.testing.assert_array_equal(getattr(back, name), getattr(sae, name))
    X = RNG.standard_normal((20, 3)).astype(np.float32)
    np.testing.assert_array_equal(back.encode(X), sae.encode(X))
    assert back.activation == activation and back.label == "x"


def test_trained_sae_keeps_its_config_and_architecture(tmp_path):
    from supviz.sae import ArraySource, SAEConfig, SAEJob, train_saes

    sae = train_saes(
        [
            SAEJob(
                ArraySource(RNG.standard_normal((64, 4)), seed=0),
                SAEConfig(architecture="batchtopk", steps=5, batch_size=16),
                seed=0,
            )
        ],
        progress=False,
    )[0]
    back = load(save(sae, tmp_path / "b"))
    assert back.architecture == "batchtopk" and back.activation == "jumprelu" and back.config == sae.config
    assert json.loads((tmp_path / "b" / "cfg.json").read_text())["architecture"] == "jumprelu"  # as SAELens saves it


def _write_saelens(folder, cfg, weights):
    folder.mkdir()
    (folder / "cfg.json").write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in weights.items()}, str(folder / "sae_weights.safetensors"))


def test_reads_folders_written_by_saelens_conventions(tmp_path):
    d, s = 4, 6
    W_enc = torch.randn(d, s)
    base = {"W_enc": W_enc, "W_dec": W_enc.T.clone(), "b_enc": torch.zeros(s), "b_dec": torch.zeros(d)}
    # SAELens pre-6.0 topk: architecture "standard", activation_fn_str + activation_fn_kwargs, bfloat16 weights
    _write_saelens(
        tmp_path / "old_topk",
        {
            "architecture": "standard",
            "d_in": d,
            "d_sae": s,
            "dtype": "bfloat16",
            "activation_fn_str": "topk",
            "activation_fn_kwargs": {"k": 2},
            "hook_point": "blocks.0.hook_resid_pre",
        },
        {k: v.to(torch.bfloat16) for k, v in base.items()},
    )
    old = load(tmp_path / "old_topk")
    assert old.activation == "topk" and old.k == 2 and old.apply_b_dec_to_input  # SAELens' pre-6.0 default
    np.testing.assert_array_equal(old.W_enc, W_enc.to(torch.bfloat16).float().numpy())
    # v6 jumprelu with a training-time log_threshold
    _write_saelens(
        tmp_path / "jr",
        {
            "architecture": "jumprelu",
            "d_in": d,
            "d_sae": s,
            "dtype": "float32",
            "apply_b_dec_to_input": False,
            "normalize_activations": "none",
            "metadata": {"sae_lens_version": "6.5.0"},
        },
        {**base, "log_threshold": torch.full((s,), float(np.log(0.3)))},
    )
    jr = load(tmp_path / "jr")
    np.testing.assert_allclose(jr.threshold, 0.3, rtol=1e-6)
    assert jr.activation == "jumprelu" and not jr.apply_b_dec_to_input
    # a finetuning scaling factor is folded into the decoder: same reconstruction
    _write_saelens(
        tmp_path / "sf",
        {"architecture": "standard", "d_in": d, "d_sae": s},
        {**base, "scaling_factor": torch.full((s,), 2.0)},
    )
    sf = load(tmp_path / "sf")
    np.testing.assert_allclose(sf.W_dec, 2 * base["W_dec"].numpy())
    assert any("folded" in n for n in sf.info["notes"])


def test_an_sae_trained_elsewhere_is_scored_against_known_features(tmp_path):
    d = 4
    F = np.eye(d, dtype=np.float32)
    _write_saelens(
        tmp_path / "ext",
        {"architecture": "standard", "d_in": d, "d_sae": d},
        {"W_enc": torch.eye(d), "W_dec": torch.eye(d), "b_enc": torch.zeros(d), "b_dec": torch.zeros(d)},
    )
    sae = load(tmp_path / "ext")
    X = np.abs(RNG.standard_normal((50, d))).astype(np.float32)
    sc = score([sae], X, features=F, true_codes=X)
    assert sc.mmcs[0] == 1.0 and sc.fvu[0] < 1e-10 and sc.firing_precision[0] == 1.0


@pytest.mark.parametrize(
    "cfg,weights,msg",
    [
        ({"architecture": "gated", "d_in": 2, "d_sae": 2}, None, "architecture 'gated' is not supported"),
        (
            {"architecture": "standard", "activation_fn_str": "tanh-relu"},
            None,
            "activation 'tanh-relu' is not supported",
        ),
        ({"architecture": "topk"}, None, "needs an int `k`"),
        ({"architecture": "jumprelu"}, None, "needs `threshold`"),
        ({"architecture": "standard", "normalize_activations": "layer_norm"}, None, "layer_norm' is not supported"),
        ({"architecture": "standard", "d_in": 5, "d_sae": 2}, None, "cfg says d_in=5"),
    ],
)
def test_unsupported_or_inconsistent_folders_are_one_line_errors(tmp_path, cfg, weights, msg):
    w = weights or {
        "W_enc": torch.zeros(2, 2),
        "W_dec": torch.zeros(2, 2),
        "b_enc": torch.zeros(2),
        "b_dec": torch.zeros(2),
    }
    _write_saelens(tmp_path / "f", cfg, w)
    with pytest.raises(SupvizError, match=msg):
        load(tmp_path / "f")


def test_broken_files(tmp_path):
    with pytest.raises(SupvizError, match="must be an existing SAE folder"):
        load(tmp_path / "missing")
    f = tmp_path / "f"
    f.mkdir()
    (f / "cfg.json").write_text("{not json")
    (f / "sae_weights.safetensors").write_bytes(b"garbage")
    with pytest.raises(SupvizError, match="could not read .* as JSON"):
        load(f)
    (f / "cfg.json").write_text("{}")
    with pytest.raises(SupvizError, match="could not read .* as safetensors"):
        load(f)


def test_save_never_replaces_other_files(tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.tex").write_text("keep me")
    with pytest.raises(SupvizError, match="holds files other than saved SAEs"):
        save(_sae(), other)
    assert (other / "thesis.tex").read_text() == "keep me"
    path = save(_sae(), tmp_path / "s")
    save(_sae("topk"), path)  # replacing an earlier save is fine
    assert load(path).activation == "topk"
    many = save_many([_sae(), _sae("jumprelu")], tmp_path / "many")
    assert [s.activation for s in load_many(many)] == ["relu", "jumprelu"]
    with pytest.raises(SupvizError, match="holds files other"):
        save_many([_sae()], other)
