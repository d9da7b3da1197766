"""Pictures of one SAE (supviz.sae.pictures): a supviz SAE, a SAELens SAE object or a folder give the same picture;
the codes' picture is the study's section-E picture (same bits); degenerate SAEs give NaN with a reason or one
SupvizError."""

import numpy as np
import pytest
from safetensors.numpy import load_file

from helpers.saelens import FIXTURES, SAELensLike
from supviz.errors import SupvizError
from supviz.sae import SAE, as_sae, load, picture_codes, picture_decoder, score

FOLDERS = [
    f"{a}_{form}"
    for a in ("standard", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk")
    for form in ("training", "inference")
]
#: float32 codes of one affine map and a gate: SAELens and supviz order the products differently
#: (tests/sae/test_saelens_fixtures.py).
CODE_TOL = 1e-5


def _inputs(name):
    return load_file(str(FIXTURES / name / "expected.safetensors"))


def _same_picture(a, b):
    np.testing.assert_array_equal(a.layout.embedding, b.layout.embedding)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.index, b.index)
    assert (a.trust is None) == (b.trust is None)
    if a.trust is not None:
        np.testing.assert_array_equal(a.trust.trust, b.trust.trust)


# --- one picture whatever form the SAE comes in ------------------------------------------------------------------


@pytest.mark.parametrize("name", FOLDERS)
def test_a_folder_a_loaded_sae_and_a_saelens_object_give_one_picture(name):
    folder = FIXTURES / name
    X = _inputs(name)["inputs"]
    loaded = load(folder)
    forms = {"path": str(folder), "Path": folder, "SAE": loaded, "SAELens object": SAELensLike(folder)}
    codes = {f: picture_codes(s, X, reference=X, random_state=3) for f, s in forms.items()}
    decoder = {f: picture_decoder(s, random_state=3) for f, s in forms.items()}
    for form in forms:
        _same_picture(codes[form], codes["SAE"])
        _same_picture(decoder[form], decoder["SAE"])
    # the codes pictured are SAELens' own codes of these inputs
    np.testing.assert_allclose(codes["SAELens object"].points, _inputs(name)["codes"], atol=CODE_TOL, rtol=0)
    assert codes["SAE"].layout.embedding.shape == (X.shape[0], 2)
    assert np.isfinite(codes["SAE"].trust.trust).all()


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_every_method_gives_one_picture_for_the_three_forms(method):
    folder = FIXTURES / "jumprelu_training"
    X = _inputs("jumprelu_training")["inputs"]
    pics = [picture_codes(s, X, method=method, random_state=1) for s in (folder, load(folder), SAELensLike(folder))]
    for p in pics[1:]:
        _same_picture(p, pics[0])
    assert pics[0].layout.method == method and pics[0].trust is None  # no reference: no trust


def test_equal_seeds_give_equal_pictures_and_the_seed_reaches_the_layout():
    folder = FIXTURES / "topk_inference"
    X = _inputs("topk_inference")["inputs"]
    a, b = (picture_codes(folder, X, method="umap", random_state=5) for _ in range(2))
    _same_picture(a, b)
    c = picture_codes(folder, X, method="umap", random_state=6)
    assert not np.array_equal(a.layout.embedding, c.layout.embedding)


def test_the_codes_picture_is_the_study_picture_bit_for_bit():
    """Section E3 lays out an SAE's codes of h with ``_code_job`` (codes from ``encode``, as float64): the picture
    here, at the same seed, is that picture."""
    from supviz.study.recovery.compute import _code_job

    name = "batchtopk_training"
    sae = load(FIXTURES / name)
    X = _inputs(name)["inputs"]
    x = np.abs(np.random.default_rng(0).standard_normal((X.shape[0], 5)))  # the study's x: any [N, n] >= 0
    for method in ("mds", "umap", "tsne"):
        f = np.asarray(sae.encode(X), dtype=np.float64)
        _key, study, *_ = _code_job(("k",), "codes", f, x, method, 5, 11, 12)
        mine = picture_codes(sae, X, method=method, random_state=11)
        np.testing.assert_array_equal(mine.layout.embedding, study.embedding)


def test_the_decoder_picture_is_of_directions_unless_asked_for_lengths():
    """unit=True: scaling each decoder row by its own power of two (exact in float32) changes no direction, so
    not one bit of the picture; unit=False pictures the rows with their lengths, so the picture changes."""
    sae = load(FIXTURES / "standard_inference")
    scale = (2.0 ** np.arange(sae.d_sae) % 7).astype(np.float32)[:, None]  # 1, 2, 4, 8, ... mod 7: 1, 2, 4
    scaled = SAE(W_enc=sae.W_enc, b_enc=sae.b_enc, W_dec=sae.W_dec * scale, b_dec=sae.b_dec)
    _same_picture(picture_decoder(scaled, random_state=0), picture_decoder(sae, random_state=0))
    raw_a = picture_decoder(sae, unit=False, random_state=0)
    raw_b = picture_decoder(scaled, unit=False, random_state=0)
    assert not np.allclose(raw_a.layout.embedding, raw_b.layout.embedding)
    np.testing.assert_allclose(np.linalg.norm(picture_decoder(sae, random_state=0).points, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(raw_a.columns["decoder norm"], np.linalg.norm(sae.W_dec.astype(np.float64), axis=1))


def test_trust_is_pointwise_trust_against_the_reference_and_the_columns_describe_the_codes():
    from supviz.metrics import continuity, trustworthiness

    name = "topk_training"
    X = _inputs(name)["inputs"]
    pic = picture_codes(FIXTURES / name, X, reference=X, k=7, random_state=0)
    assert pic.trust.k == 7
    # the per-point scores average to the global ones (of the picture against the reference)
    assert np.mean(pic.trust.trustworthiness) == pytest.approx(trustworthiness(X, pic.layout.embedding, k=7), abs=1e-12)
    assert np.mean(pic.trust.continuity) == pytest.approx(continuity(X, pic.layout.embedding, k=7), abs=1e-12)
    f = pic.points
    np.testing.assert_array_equal(pic.columns["active latents"], (f != 0).sum(1))
    fired = (f != 0).any(1)
    np.testing.assert_array_equal(pic.columns["strongest latent"][fired], f[fired].argmax(1))
    assert (pic.columns["strongest latent"][~fired] == -1).all()
    dec = picture_decoder(FIXTURES / name, k=4, random_state=0)
    np.testing.assert_array_equal(dec.reference, dec.points)  # the decoder picture's trust: against its directions
    assert np.mean(dec.trust.trustworthiness) == pytest.approx(
        trustworthiness(dec.points, dec.layout.embedding, k=4), abs=1e-12
    )


def test_plot_draws_trust_and_columns(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    name = "topk_inference"
    X = _inputs(name)["inputs"]
    pic = picture_codes(FIXTURES / name, X, reference=X, random_state=0)
    ax = pic.plot(color="trust")
    assert ax.get_title() == "MDS of the SAE's codes"
    T, C = np.mean(pic.trust.trustworthiness), np.mean(pic.trust.continuity)
    assert any(t.get_text() == f"T {T:.3f}  C {C:.3f}" for t in ax.texts)  # as plot_layout(reference=...) writes it
    ax = picture_decoder(FIXTURES / name, method="umap", random_state=0).plot(color="decoder norm")
    assert ax.get_title() == "UMAP of the SAE's decoder directions"
    assert any(a.get_ylabel() == "decoder norm" for a in ax.figure.axes)  # the colour bar names the column
    with pytest.raises(SupvizError, match=r"`color='trust'` needs a picture with trust: pass `reference`"):
        picture_codes(FIXTURES / name, X, random_state=0).plot(color="trust")  # no reference: no trust to draw


# --- what is refused, in one line -------------------------------------------------------------------------------


def test_a_non_sae_object_or_folder_is_refused_naming_it(tmp_path):
    X = _inputs("topk_training")["inputs"]
    with pytest.raises(
        SupvizError, match=r"^`sae` must be an SAE \(supviz or SAELens\) or the path of an SAE folder; "
    ):
        picture_codes(object(), X)
    with pytest.raises(SupvizError, match=r"got dict\.$"):
        picture_decoder({"W_dec": np.eye(3)})
    missing = tmp_path / "nowhere"
    with pytest.raises(SupvizError, match=f"must be an existing SAE folder.*{missing.name}"):
        picture_decoder(missing)
    not_sae = tmp_path / "notes"
    not_sae.mkdir()
    (not_sae / "readme.txt").write_text("not an SAE")
    with pytest.raises(SupvizError, match=r"'.*notes' is not an SAE folder: cfg.json is missing"):
        picture_codes(str(not_sae), X)
    with pytest.raises(SupvizError) as info:
        as_sae(3, "saes[2]")
    assert "\n" not in str(info.value) and str(info.value).startswith("`saes[2]` must be an SAE")


def test_score_takes_a_folder_as_one_sae():
    name = "jumprelu_inference"
    X = _inputs(name)["inputs"]
    a, b = score(str(FIXTURES / name), X), score(load(FIXTURES / name), X)
    assert len(a.l0) == 1  # one SAE, not one per character of the path
    np.testing.assert_array_equal(a.l0, b.l0)
    np.testing.assert_array_equal(a.fvu, b.fvu)


def test_bad_arguments_are_refused_in_one_line():
    name = "topk_training"
    X = _inputs(name)["inputs"]
    with pytest.raises(
        SupvizError, match=r"`reference` must have one row per activation row: 64 rows; got shape \[5, 8\]"
    ):
        picture_codes(FIXTURES / name, X, reference=X[:5])
    with pytest.raises(SupvizError, match=r"`activations` must hold at least 3 rows to picture; got 2"):
        picture_codes(FIXTURES / name, X[:2])
    with pytest.raises(SupvizError, match=r"must have 8 columns"):
        picture_codes(FIXTURES / name, X[:, :5])
    with pytest.raises(SupvizError, match=r"`k` must be an int >= 1; got 0"):
        picture_decoder(FIXTURES / name, k=0)
    with pytest.raises(SupvizError, match=r"`unit` must be true or false; got 'yes'"):
        picture_decoder(FIXTURES / name, unit="yes")
    with pytest.raises(SupvizError, match=r"`method`"):
        picture_decoder(FIXTURES / name, method="pca")


# --- degenerate SAEs and inputs: NaN with a reason, or one SupvizError ----------------------------------------


def _relu_sae(W_dec, b_enc=None):
    W_dec = np.asarray(W_dec, dtype=np.float32)
    s, d = W_dec.shape
    return SAE(
        W_enc=W_dec.T.copy(),
        b_enc=np.zeros(s, np.float32) if b_enc is None else np.asarray(b_enc, np.float32),
        W_dec=W_dec,
        b_dec=np.zeros(d, np.float32),
    )


def test_dead_latents_are_named_and_an_sae_dead_everywhere_gives_one_spot_with_undefined_trust():
    rng = np.random.default_rng(1)
    X = np.abs(rng.standard_normal((30, 4))).astype(np.float32)
    W = rng.standard_normal((6, 4))
    some = picture_codes(_relu_sae(W, b_enc=[0, 0, 0, 0, -1e6, -1e6]), X, reference=X, random_state=0)
    assert "2 of 6 latent(s) never fire on these activations (latents 4, 5)." in some.notes
    assert np.isfinite(some.trust.trust).all()
    dead = picture_codes(_relu_sae(W, b_enc=np.full(6, -1e6)), X, reference=X, random_state=0)
    assert (dead.points == 0).all()
    assert "every latent is dead on these activations: all 30 points of the picture coincide" in " ".join(dead.notes)
    assert np.isnan(dead.trust.trust).all()
    assert "collapsed" in dead.trust.reasons["trustworthiness"]
    assert (dead.columns["strongest latent"] == -1).all() and (dead.columns["active latents"] == 0).all()


def test_identical_activations_give_one_spot_with_undefined_trust():
    W = np.random.default_rng(2).standard_normal((5, 3))
    X = np.tile(np.array([[0.5, 1.0, 0.2]], np.float32), (12, 1))
    for method in ("mds", "umap", "tsne"):
        pic = picture_codes(_relu_sae(W), X, method=method, reference=X, random_state=0)
        assert any("every code is the same: all 12 points of the picture coincide" in n for n in pic.notes)
        assert np.isnan(pic.trust.trust).all() and pic.trust.reasons


def test_zero_decoder_rows_have_no_direction_and_are_left_out():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((7, 4))
    W[[1, 4]] = 0.0
    pic = picture_decoder(_relu_sae(W), random_state=0)
    np.testing.assert_array_equal(pic.index, [0, 2, 3, 5, 6])
    np.testing.assert_array_equal(pic.columns["latent"], [0, 2, 3, 5, 6])
    assert "2 latent(s) with a zero decoder row have no direction and are left out (latents 1, 4)." in pic.notes
    assert pic.layout.embedding.shape == (5, 2)
    # k = 10 > n - 2 = 3: the trust of so few points is undefined, with the reason (not an error at the default k)
    assert np.isnan(pic.trust.trust).all()
    assert pic.trust.reasons["trustworthiness"] == "k = 10 needs at least k + 2 = 12 points; got 5"
    ax = pic.plot(color="trust")  # drawn grey, the corner says why
    assert any("trust undefined: k = 10 needs" in t.get_text() for t in ax.texts)
    assert np.isfinite(picture_decoder(_relu_sae(W), k=3, random_state=0).trust.trust).all()
    raw = picture_decoder(_relu_sae(W), unit=False, random_state=0)  # lengths kept: the zero rows are points at 0
    assert raw.layout.embedding.shape == (7, 2) and not raw.notes
    W[2:] = 0.0
    with pytest.raises(SupvizError, match=r"at least 3 latents with a nonzero decoder row; got 1 \(d_sae=7\)"):
        picture_decoder(_relu_sae(W))


def test_a_single_latent_has_no_decoder_picture_but_its_codes_can_be_pictured():
    X = np.random.default_rng(4).standard_normal((20, 3)).astype(np.float32)
    one = _relu_sae([[1.0, -0.5, 0.25]])
    with pytest.raises(SupvizError, match=r"at least 3 latents with a nonzero decoder row; got 1 \(d_sae=1\)"):
        picture_decoder(one)
    pic = picture_codes(one, X, reference=X, random_state=0)
    assert pic.points.shape == (20, 1) and pic.layout.embedding.shape == (20, 2)
    assert np.isfinite(pic.trust.trust).all()


def test_interactive_plot_hovers_the_columns_and_the_trust():
    name = "topk_training"
    dec = picture_decoder(FIXTURES / name, k=4, random_state=0)
    fig = dec.plot(color="trust", interactive=True)
    template = " ".join(str(t.hovertemplate) for t in fig.data)
    for col in ("latent", "decoder norm", "trust", "false neighbours"):
        assert col in template, (col, template)
    custom = np.concatenate([np.asarray(t.customdata, dtype=float) for t in fig.data if t.customdata is not None])
    # the values, not only the names (the hover rounds to 3 decimals); rows by latent, the first column
    rows = custom[np.argsort(custom[:, 0], kind="stable")]
    np.testing.assert_array_equal(rows[:, 0], dec.index)
    want = {"decoder norm": dec.columns["decoder norm"], "trust": dec.trust.trust}
    for col, values in want.items():
        assert any(np.allclose(rows[:, j], values, atol=5e-4 + 1e-12) for j in range(1, rows.shape[1])), col
    with pytest.raises(SupvizError, match=r"`ax` is a matplotlib Axes: it does not go with `interactive=True`"):
        dec.plot(ax=object(), interactive=True)
