"""What a fresh tester found wrong in reading SAELens SAEs and picturing them (issue 20): each kind of case is read
as SAELens reads it or refused in one SupvizError line that names the key, the weight, the file or the object."""

import json
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from helpers.saelens import FIXTURES, SAELensLike
from supviz.errors import SupvizError
from supviz.sae import SAE, as_sae, load, picture_codes, picture_decoder, score

RESCALED = ["topk_training", "batchtopk_training", "matryoshka_batchtopk_training"]
#: float32 codes of one affine map and a gate (tests/sae/test_saelens_fixtures.py).
CODE_TOL = 1e-5
#: the fold divides a row by its norm and multiplies it back, each in float64 and rounded to float32 once:
#: two float32 roundings, 2 * 2**-24 relative, with room for the norm's own rounding.
FOLD_RTOL = 4 * 2.0**-24


def _copy(tmp_path, name, cfg_changes=None, weights=None):
    """A copy of fixture ``name`` with cfg keys changed (None: removed) and weights replaced by ``weights(W)``."""
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest)
    cfg = json.loads((dest / "cfg.json").read_text())
    for key, value in (cfg_changes or {}).items():
        if value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    (dest / "cfg.json").write_text(json.dumps(cfg))
    if weights is not None:
        W = load_file(str(dest / "sae_weights.safetensors"))
        save_file(weights(W), str(dest / "sae_weights.safetensors"))
    return dest


def _raw_cfg(dest, key, raw):
    """Set ``key`` to ``raw`` JSON text (``null``, a string) in ``dest``'s cfg.json."""
    cfg = json.loads((dest / "cfg.json").read_text())
    cfg[key] = json.loads(raw)
    (dest / "cfg.json").write_text(json.dumps(cfg))
    return dest


# --- 1. the decoder as the file holds it, beside the fold -----------------------------------------------------------


@pytest.mark.parametrize("name", RESCALED)
def test_the_decoder_picture_of_a_rescaled_folder_shows_the_files_w_dec(name):
    raw = load_file(str(FIXTURES / name / "sae_weights.safetensors"))["W_dec"].astype(np.float64)
    want = np.linalg.norm(raw, axis=1)
    lo, hi = json.loads((FIXTURES / name / "expected.json").read_text())["decoder_norms"]
    assert want.min() == pytest.approx(lo, rel=1e-6) and want.max() == pytest.approx(hi, rel=1e-6)
    dec = picture_decoder(FIXTURES / name, k=3, random_state=0)
    np.testing.assert_allclose(dec.columns["decoder norm"], want, rtol=FOLD_RTOL, atol=0)
    raw_pic = picture_decoder(FIXTURES / name, unit=False, k=3, random_state=0)
    np.testing.assert_allclose(raw_pic.points, raw, rtol=0, atol=FOLD_RTOL * np.abs(raw).max())


@pytest.mark.parametrize("name", RESCALED)
def test_the_fold_keeps_saelens_codes_and_reconstruction_and_survives_a_save(tmp_path, name):
    expected = load_file(str(FIXTURES / name / "expected.safetensors"))
    sae = load(FIXTURES / name)
    codes = sae.encode(expected["inputs"])
    np.testing.assert_allclose(codes, expected["codes"], atol=CODE_TOL, rtol=0)
    # SAELens: x_hat = (a / n) W_dec + b_dec with the file's W_dec; the SAE's own W_dec is that over n
    W = load_file(str(FIXTURES / name / "sae_weights.safetensors"))
    n = np.linalg.norm(W["W_dec"].astype(np.float64), axis=1)
    saelens_xhat = (codes / n) @ W["W_dec"].astype(np.float64) + W["b_dec"]
    np.testing.assert_allclose(sae.decode(codes), saelens_xhat, atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.linalg.norm(sae.W_dec.astype(np.float64), axis=1), 1.0, atol=4 * 2.0**-24)
    back = load(sae.save(tmp_path / "saved"))
    np.testing.assert_array_equal(back.decoder_norms, sae.decoder_norms)
    np.testing.assert_array_equal(back.saelens_W_dec, sae.saelens_W_dec)


def test_an_sae_without_a_fold_pictures_its_own_w_dec():
    sae = load(FIXTURES / "standard_training")
    assert sae.decoder_norms is None and sae.saelens_W_dec is sae.W_dec


# --- 2. a missing architecture ----------------------------------------------------------------------------------------


def test_a_topk_folder_without_architecture_is_refused_not_read_as_relu(tmp_path):
    with pytest.raises(SupvizError, match=r"cfg.json': `architecture` is missing \(metadata says .*'topk'\)"):
        load(_copy(tmp_path, "topk_training", {"architecture": None}))


def test_a_pre_6_config_without_architecture_is_read_by_its_activation_fn_and_says_so(tmp_path):
    name = "topk_inference"
    cfg = json.loads((FIXTURES / name / "cfg.json").read_text())
    changes = {"architecture": None, "metadata": None, "k": None, "rescale_acts_by_decoder_norm": None}
    changes.update(activation_fn_str="topk", activation_fn_kwargs={"k": cfg["k"]})
    sae = load(_copy(tmp_path, name, changes))  # the inference form's W_dec has unit rows: no rescale needed
    assert sae.activation == "topk" and sae.k == cfg["k"]
    assert any("no `architecture`" in note for note in sae.info["notes"])
    expected = load_file(str(FIXTURES / name / "expected.safetensors"))
    np.testing.assert_allclose(sae.encode(expected["inputs"]), expected["codes"], atol=CODE_TOL, rtol=0)


# --- 3. cfg values: one rule for switches, float dtypes, one threshold ----------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("apply_b_dec_to_input", "null"),
        ("apply_b_dec_to_input", '"false"'),
        ("apply_b_dec_to_input", "1"),
        ("rescale_acts_by_decoder_norm", '"true"'),
        ("rescale_acts_by_decoder_norm", "null"),
        ("finetuning_scaling_factor", '"yes"'),
    ],
)
def test_a_switch_that_is_not_true_or_false_is_refused_by_name(tmp_path, key, raw):
    dest = _raw_cfg(_copy(tmp_path, "topk_training"), key, raw)
    with pytest.raises(SupvizError, match=rf"cfg.json': `{key}` must be true or false; got"):
        load(dest)


@pytest.mark.parametrize("dtype", ["int8", "torch.int64", "bool", "float"])
def test_a_dtype_that_is_not_a_float_is_refused(tmp_path, dtype):
    with pytest.raises(SupvizError, match=rf"`dtype` must be a float dtype .*; got '{dtype}'"):
        load(_copy(tmp_path, "standard_inference", {"dtype": dtype}))


def test_a_jumprelu_file_with_threshold_and_log_threshold_is_refused(tmp_path):
    def both(W):
        return {**W, "log_threshold": np.log(W["threshold"] + 1.0).astype(np.float32)}

    with pytest.raises(SupvizError, match=r"holds both `threshold` and `log_threshold`"):
        load(_copy(tmp_path, "jumprelu_inference", weights=both))


# --- 4. shapes checked before the fold, naming the file ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "cfg", "match"),
    [
        (
            lambda W: {**W, "b_enc": W["b_enc"][:3]},
            {},
            r"`b_enc` must have shape \[16\] to match W_enc \[8, 16\]; got \[3\]",
        ),
        (lambda W: {**W, "b_dec": W["b_dec"][:3]}, {}, r"`b_dec` must have shape \[8\]"),
        (lambda W: {**W, "W_dec": np.ascontiguousarray(W["W_dec"].T)}, {}, r"`W_dec` must have shape \[16, 8\]"),
        (lambda W: {**W, "W_dec": W["W_dec"].reshape(-1)}, {}, r"`W_dec` must have shape \[16, 8\].*got \[128\]"),
        (lambda W: {**W, "W_enc": W["W_enc"].reshape(-1)}, {"d_in": None}, r"`W_enc` must be \[d_in >= 1, d_sae"),
    ],
)
@pytest.mark.parametrize("name", ["topk_training", "batchtopk_training"])
def test_bad_shapes_in_a_rescaled_folder_are_refused_naming_the_file(tmp_path, name, change, cfg, match):
    with pytest.raises(SupvizError, match=r"sae_weights.safetensors': " + match):
        load(_copy(tmp_path, name, cfg, weights=change))


def test_a_zero_length_topk_threshold_says_its_shape(tmp_path):
    dest = _copy(tmp_path, "batchtopk_training", weights=lambda W: {**W, "topk_threshold": np.zeros(0, np.float32)})
    with pytest.raises(
        SupvizError, match=r"`topk_threshold` must be one number \(shape \[\] or \[1\]\); got shape \[0\]"
    ):
        load(dest)


# --- 5. devices -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["foo", "cuda:99", 3])
def test_a_device_torch_cannot_use_is_one_supviz_error(device):
    X = load_file(str(FIXTURES / "topk_training" / "expected.safetensors"))["inputs"]
    with pytest.raises(SupvizError, match=r"^`device` "):
        picture_codes(FIXTURES / "topk_training", X, device=device)
    with pytest.raises(SupvizError, match=r"^`device` "):
        score(FIXTURES / "topk_training", X, device=device)


# --- 6. and 7. objects that are half a SAELens SAE; complex weights ------------------------------------------------


class _Half(SAELensLike):
    def __init__(self, cfg=None, state=None):
        super().__init__(FIXTURES / "topk_training")
        if cfg is not None:
            self.cfg = type("Cfg", (), {"to_dict": cfg})()
        if state is not None:
            self.state_dict = state


def _boom(*_):
    raise RuntimeError("not loaded yet")


def _state_with(key, value):
    def state():
        return {**SAELensLike(FIXTURES / "topk_training").state_dict(), key: value}

    return state


def _torch():
    import torch

    return torch


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        (lambda: _Half(cfg=lambda _s: [1, 2]), r"cfg.to_dict\(\) must return a dict .*got list"),
        (lambda: _Half(cfg=lambda _s: None), r"cfg.to_dict\(\) must return a dict .*got NoneType"),
        (lambda: _Half(cfg=lambda _s: "topk"), r"cfg.to_dict\(\) must return a dict .*got str"),
        (lambda: _Half(cfg=_boom), r"cfg.to_dict\(\) raised RuntimeError: not loaded yet"),
        (lambda: _Half(state=lambda: [1]), r"state_dict\(\) must return a dict of tensors; got list"),
        (lambda: _Half(state=lambda: None), r"state_dict\(\) must return a dict of tensors; got NoneType"),
        (lambda: _Half(state=_boom), r"state_dict\(\) raised RuntimeError: not loaded yet"),
        (
            lambda: _Half(state=_state_with("b_dec", _torch().zeros(8).to_sparse())),
            r"state_dict\(\)\['b_dec'\] is a torch.sparse_coo",
        ),
        (
            lambda: _Half(state=_state_with("b_dec", _torch().zeros(8, device="meta"))),
            r"state_dict\(\)\['b_dec'\] is a meta tensor",
        ),
        (
            lambda: _Half(state=_state_with("b_dec", _torch().zeros(8, dtype=_torch().complex64))),
            r"state_dict\(\)\['b_dec'\] is complex",
        ),
        (
            lambda: _Half(state=_state_with("b_dec", "zeros")),
            r"state_dict\(\)\['b_dec'\] must be a torch tensor or numpy array; got str",
        ),
    ],
)
def test_half_a_saelens_object_is_one_supviz_error_naming_it(obj, match):
    with pytest.raises(SupvizError, match=r"^SAELens _Half: " + match):
        as_sae(obj())


def test_a_state_dict_of_numpy_arrays_is_read():
    ref = SAELensLike(FIXTURES / "topk_training")
    arrays = {k: v.numpy() for k, v in ref.state_dict().items()}
    sae = as_sae(_Half(state=lambda: arrays))
    expected = load_file(str(FIXTURES / "topk_training" / "expected.safetensors"))
    np.testing.assert_array_equal(sae.encode(expected["inputs"]), as_sae(ref).encode(expected["inputs"]))


def test_complex_weights_in_a_file_are_refused_by_name(tmp_path):
    import torch
    from safetensors.torch import load_file as load_torch
    from safetensors.torch import save_file as save_torch

    dest = _copy(tmp_path, "standard_inference")
    W = load_torch(str(dest / "sae_weights.safetensors"))
    W["W_dec"] = W["W_dec"].to(torch.complex64)
    save_torch(W, str(dest / "sae_weights.safetensors"))
    with pytest.raises(SupvizError, match=r"weight 'W_dec' is complex \(torch.complex64\); SAE weights are real"):
        load(dest)


# --- 8. plot's inputs -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def picture():
    return picture_decoder(FIXTURES / "standard_inference", k=3, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"colour": "latent"}, r"`colour` is not an argument of SAEPicture.plot\(\)"),
        ({"interactive": True, "point_size": 3}, r"`point_size` is not an argument of SAEPicture.plot \(interactive\)"),
        ({"interactive": True, "hover": [1, 2]}, r"`hover` must be a dict of name -> one value per point; got list"),
        ({"hover": {"a": np.zeros(16)}}, r"`hover` is not an argument of SAEPicture.plot\(\)"),
        ({"interactive": "yes"}, r"`interactive` must be true or false; got 'yes'"),
    ],
)
def test_plot_refuses_what_it_cannot_draw_in_one_line(picture, kwargs, match):
    with pytest.raises(SupvizError, match=match):
        picture.plot(**kwargs)


def test_unit_and_interactive_follow_one_rule_for_switches(picture):
    with pytest.raises(SupvizError, match=r"`unit` must be true or false; got 'yes'"):
        picture_decoder(picture.sae, unit="yes")
    with pytest.raises(SupvizError, match=r"`interactive` must be true or false; got 1"):
        picture.plot(interactive=1)


# --- 9. messages ----------------------------------------------------------------------------------------------------


def test_activation_errors_name_activations(picture):
    with pytest.raises(SupvizError, match=r"^`activations` must have 8 columns \(the SAE's d_in\); got shape \[5, 3\]"):
        picture_codes(picture.sae, np.zeros((5, 3)))
    with pytest.raises(SupvizError, match=r"^`activations` "):
        picture_codes(picture.sae, np.full((5, 8), np.nan))


def test_score_refuses_a_dict_of_saes_saying_what_to_pass():
    X = load_file(str(FIXTURES / "topk_training" / "expected.safetensors"))["inputs"]
    with pytest.raises(SupvizError, match=r"got a dict \(keys \['a'\]\): pass list\(d.values\(\)\)"):
        score({"a": FIXTURES / "topk_training"}, X)


def test_an_sae_built_from_arrays_still_names_the_weight():
    W = load_file(str(FIXTURES / "standard_inference" / "sae_weights.safetensors"))
    with pytest.raises(
        SupvizError, match=r"^`W_dec` must have shape \[16, 8\] to match W_enc \[8, 16\]; got \[8, 16\]"
    ):
        SAE(W_enc=W["W_enc"], b_enc=W["b_enc"], W_dec=W["W_dec"].T, b_dec=W["b_dec"])
