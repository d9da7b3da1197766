"""SAELens' own folders (made by scripts/make_saelens_fixtures.py with SAELens 6.54.12): supviz reads
each one so that its codes are SAELens' codes, or refuses it naming the key."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from helpers.saelens import SAELensLike
from supviz.errors import SupvizError
from supviz.sae import load

FIXTURES = Path(__file__).parent / "fixtures" / "saelens"
FOLDERS = [
    f"{a}_{form}"
    for a in ("standard", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk")
    for form in ("training", "inference")
]
#: float32 codes of one affine map and a gate: SAELens and supviz order the products differently.
CODE_TOL = 1e-5


@pytest.mark.parametrize("name", FOLDERS)
def test_saelens_folder_gives_saelens_codes(name):
    folder = FIXTURES / name
    expected = load_file(str(folder / "expected.safetensors"))
    sae = load(folder)
    codes = sae.encode(expected["inputs"])
    ref = expected["codes"]
    assert (ref > 0).any() and (ref == 0).any()  # the fixture tests the gate, not only the affine map
    np.testing.assert_array_equal(codes > 0, ref > 0)
    np.testing.assert_allclose(codes, ref, atol=CODE_TOL, rtol=0)


@pytest.mark.parametrize("arch", ["topk", "batchtopk", "matryoshka_batchtopk"])
def test_training_folders_with_rescaled_codes_reconstruct_as_saelens_does(arch):
    """The decoder norms drifted (0.1-0.95); folded into the encoder, the reconstruction is the
    inference form's (SAELens folds them the same way when it saves that form)."""
    train, inf = load(FIXTURES / f"{arch}_training"), load(FIXTURES / f"{arch}_inference")
    raw = load_file(str(FIXTURES / f"{arch}_training" / "sae_weights.safetensors"))
    norms = np.linalg.norm(raw["W_dec"], axis=1)
    assert norms.min() < 0.5 and norms.max() < 0.99  # the case the issue found read wrong
    x = load_file(str(FIXTURES / f"{arch}_training" / "expected.safetensors"))["inputs"]
    np.testing.assert_allclose(train.reconstruct(x), inf.reconstruct(x), atol=1e-5, rtol=0)
    assert any("rescale_acts_by_decoder_norm" in n for n in train.info["notes"])


def _copy_with(tmp_path, name, **changes):
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest)
    cfg = json.loads((dest / "cfg.json").read_text())
    for key, value in changes.items():
        if value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    (dest / "cfg.json").write_text(json.dumps(cfg))
    return dest


@pytest.mark.parametrize(
    ("name", "changes", "match"),
    [
        ("topk_training", {"normalize_activations": "layer_norm"}, "normalize_activations='layer_norm'"),
        ("topk_training", {"normalize_activations": "constant_norm_rescale"}, "constant_norm_rescale"),
        ("jumprelu_inference", {"normalize_activations": "covariance_whitening"}, "covariance_whitening"),
        ("topk_inference", {"reshape_activations": "per_head"}, "reshape_activations='per_head'"),
        ("standard_inference", {"rescale_acts_by_decoder_norm": True}, "rescale_acts_by_decoder_norm is a topk"),
        ("topk_training", {"some_future_key": 1}, r"key\(s\) \['some_future_key'\] are unknown"),
        ("standard_training", {"architecture": "gated"}, "architecture 'gated' is not supported"),
        ("topk_training", {"architecture": "abstopk"}, "AbsTopK codes can be negative"),
        ("matryoshka_batchtopk_training", {"topk_threshold_lr": None, "matryoshka_depth": 2}, "matryoshka_depth"),
    ],
)
def test_keys_supviz_does_not_honour_are_refused_by_name(tmp_path, name, changes, match):
    with pytest.raises(SupvizError, match=match):
        load(_copy_with(tmp_path, name, **changes))


def test_a_topk_training_folder_read_without_its_rescale_key_gives_other_codes(tmp_path):
    """The key matters: ignoring it (what the loader did before) changes the codes by far more than the tolerance."""
    x = load_file(str(FIXTURES / "topk_training" / "expected.safetensors"))
    wrong = load(_copy_with(tmp_path, "topk_training", rescale_acts_by_decoder_norm=False)).encode(x["inputs"])
    assert np.abs(wrong - x["codes"]).max() > 100 * CODE_TOL


def test_stray_weights_are_refused_by_name(tmp_path):
    from safetensors.numpy import save_file

    dest = _copy_with(tmp_path, "standard_inference")
    w = load_file(str(dest / "sae_weights.safetensors"))
    w["b_mag"] = np.zeros(16, dtype=np.float32)
    save_file(w, str(dest / "sae_weights.safetensors"))
    with pytest.raises(SupvizError, match=r"weight\(s\) \['b_mag'\] are not used"):
        load(dest)


def test_descriptive_and_training_keys_change_nothing(tmp_path):
    x = load_file(str(FIXTURES / "jumprelu_training" / "expected.safetensors"))
    changed = _copy_with(tmp_path, "jumprelu_training", l0_coefficient=99.0, device="cuda", jumprelu_bandwidth=3.0)
    np.testing.assert_allclose(load(changed).encode(x["inputs"]), x["codes"], atol=CODE_TOL, rtol=0)


@pytest.mark.parametrize("name", ["topk_training", "batchtopk_training", "jumprelu_inference"])
def test_a_saelens_object_is_read_as_its_folder_and_scored(name):
    from supviz.sae import from_saelens, score

    folder = FIXTURES / name
    expected = load_file(str(folder / "expected.safetensors"))
    sae = from_saelens(SAELensLike(folder))
    np.testing.assert_allclose(sae.encode(expected["inputs"]), expected["codes"], atol=CODE_TOL, rtol=0)
    sc = score(SAELensLike(folder), expected["inputs"])
    assert sc.l0[0] == pytest.approx(float((expected["codes"] != 0).sum(1).mean()))
    with pytest.raises(
        SupvizError, match=r"`saes\[0\]` must be an SAE \(supviz or SAELens\) or the path of an SAE folder; got int"
    ):
        score([3], expected["inputs"])
    with pytest.raises(SupvizError, match=r"must be an existing SAE folder .*; got 'not an sae'"):
        score(["not an sae"], expected["inputs"])  # a string is a folder's path


def test_a_folder_without_a_hook_name_is_labelled_by_its_name():
    """The label fell back to a loop variable of the reader (``finetuning_scaling_factor``) instead of the folder."""
    assert load(FIXTURES / "topk_training").label == "topk_training"
    assert load(FIXTURES / "jumprelu_inference").label == "jumprelu_inference"
