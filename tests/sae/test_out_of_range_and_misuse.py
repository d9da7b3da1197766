"""Findings of the break test of issues 11/14 on supviz.sae: float32 range, argument names, NaN notes, frames."""

import re
import warnings

import numpy as np
import pytest

from supviz.cli import main
from supviz.errors import SupvizError
from supviz.sae import SAEConfig, SparseAutoencoder, array_jobs, score, train_saes
from supviz.sae.model import SAE
from supviz.toy.train import TrainingDiverged

X = np.random.default_rng(0).normal(size=(200, 4))


@pytest.fixture(scope="module")
def sae():
    return SparseAutoencoder(steps=20, random_state=0).fit(X).sae_


def _rel_error(est, Xs, s):
    R = est.inverse_transform(est.transform(Xs)) / s
    return np.linalg.norm(R - X) / np.linalg.norm(X)


@pytest.mark.parametrize("s", [1e38, 1e100, 1e-40, 1e-300])
def test_estimator_fits_float64_data_outside_float32_range_as_at_scale_1(s):
    """Normalisation on (the default): rescaled by a power of two in float64 before the float32 cast."""
    ref = _rel_error(SparseAutoencoder(steps=100, random_state=0).fit(X), X, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning
        est = SparseAutoencoder(steps=100, random_state=0).fit(X * s)
        err = _rel_error(est, X * s, s)
    assert est.input_scale_ != 1.0 and np.log2(est.input_scale_) == round(np.log2(est.input_scale_))
    assert err == pytest.approx(ref, abs=0.02)  # the same fit as at scale 1 (rounding of X*s aside)


@pytest.mark.parametrize("s", [1e100, 1e-40])
def test_out_of_range_data_refused_by_name_where_not_rescaled(s):
    msg = r"`X` has magnitudes up to .*(above|below) the .* float32"
    with pytest.raises(SupvizError, match=msg):
        SparseAutoencoder(steps=5, normalize_activations=False, random_state=0).fit(X * s)
    with pytest.raises(SupvizError, match=msg):
        array_jobs(X * s, SAEConfig(steps=5))


@pytest.mark.parametrize("s", [1e100, 1e-300])
def test_score_names_the_magnitude_not_nan(sae, s):
    with pytest.raises(SupvizError, match=r"`inputs` has magnitudes up to"):
        score([sae], X * s)


def test_score_directions_scale_free(sae):
    F = np.random.default_rng(1).normal(size=(3, 4))
    a, b = score([sae], X, features=F), score([sae], X, features=F * 1e-300)
    assert a.mmcs[0] == pytest.approx(b.mmcs[0], rel=1e-6)


def test_cli_huge_activations_one_line_exit_2_nothing_written(tmp_path, capsys):
    np.save(tmp_path / "huge.npy", np.random.default_rng(0).normal(size=(300, 6)) * 1e100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rc = main(["sae", str(tmp_path / "huge.npy"), "--steps", "5", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "`INPUT` has magnitudes up to 3.9e+100" in err
    assert not (tmp_path / "o").exists()


def test_random_state_named_as_passed():
    from supviz.dr import mds_layout

    with pytest.raises(SupvizError, match=r"^`random_state` must be"):
        SparseAutoencoder(steps=5, random_state="a").fit(X)
    with pytest.raises(SupvizError, match=r"^`random_state` must be"):
        mds_layout(X[:20], random_state=-1)
    with pytest.raises(SupvizError, match=r"^`seed` must be"):  # where the argument is called seed
        array_jobs(X, seed=-1)


def test_divergence_is_training_diverged_not_a_weight_complaint():
    with pytest.raises(
        TrainingDiverged,
        match=r"^SAE training diverged: 1 SAE\(s\) .* by step \d+ \(.*X.*\); lower `lr`.*"
        r"normalize_activations=True",
    ):
        SparseAutoencoder(steps=20, random_state=0, normalize_activations=False).fit(X * 1e20)


@pytest.mark.parametrize(
    "decay,msg",
    [
        (0.0, r"`decay` must be a finite number in \(0.0, 1.0\]; got 0.0"),
        (-0.5, r"`decay` must be"),
        (1e-300, r"`decay` must be large enough"),
    ],
)
def test_toy_experiment_decay_named(decay, msg):
    from supviz.sae import toy_experiment

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SupvizError, match=msg):
            toy_experiment(
                n_features=8,
                d=4,
                ratios=(1.0,),
                l1_coefficients=(0.1,),
                steps=5,
                n_eval=64,
                threads=1,
                progress=False,
                decay=decay,
            )


def test_sharkey_probabilities_all_dense_no_warning():
    from supviz.sae.sources import sharkey_probabilities

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (sharkey_probabilities(4, mean_active=4.0) == 1.0).all()


def test_score_every_nan_has_a_note(sae):
    r = score([sae], X, features=np.zeros((3, 4)))
    for col in ("mmcs", "feature_mcc", "recovery_rate", "mcc", "uniqueness"):
        assert np.isnan(getattr(r, col)[0]) and "no counted true feature has a direction" in r.notes[0][col]
    for i, row in enumerate(r.rows()):
        for col in (
            "mmcs",
            "feature_mcc",
            "mcc",
            "recovery_rate",
            "dead_fraction",
            "l0",
            "true_l0",
            "fvu",
            "shrinkage",
            "firing_precision",
            "firing_recall",
            "precision",
            "recall",
            "f1_score",
            "uniqueness",
            "explained_variance",
        ):
            assert not np.isnan(row[col]) or col in r.notes[i]


def test_score_zero_rows_refused_and_a_bare_sae_accepted(sae):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SupvizError, match=r"inputs 0 must hold at least one row"):
            score([sae], X[:0])
    assert score(sae, X).l0[0] == score([sae], X).l0[0]
    with pytest.raises(SupvizError, match=r"`saes\[0\]` must be an SAE .* or the path of an SAE folder; got object"):
        score([object()], X)
    with pytest.raises(SupvizError, match=r"must be an existing SAE folder .*; got 'sae'"):
        score(["sae"], X)  # a string is the path of a folder
    with pytest.raises(SupvizError, match=r"`saes` must be an SAE or a sequence"):
        score(3, X)


def test_frames_carry_units_and_definitions(sae):
    from supviz.sae import toy_experiment

    df = score([sae], X).to_frame()
    assert set(df.attrs["units"]) == set(df.columns) == set(df.attrs["definitions"])
    ex = toy_experiment(
        n_features=8, d=4, ratios=(1.0,), l1_coefficients=(0.1,), steps=5, n_eval=64, threads=1, progress=False
    )
    df = ex.to_frame()
    assert set(df.attrs["units"]) == set(df.columns) == set(df.attrs["definitions"])
    assert "Sharkey" in df.attrs["definitions"]["mmcs"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: SAEConfig(foo=1),
        lambda: __import__("supviz.toy", fromlist=["TrainConfig"]).TrainConfig(foo=1),
        lambda: __import__("supviz.sae", fromlist=["toy_experiment"]).toy_experiment(foo=1),
    ],
)
def test_unknown_keywords_list_the_valid_names(call):
    with pytest.raises(SupvizError, match=r"`foo` is not an argument of \w+\(\); valid keyword arguments: .*"):
        call()


@pytest.mark.parametrize("threads", ["a", -1, 2.5])
def test_train_saes_threads_checked(threads):
    with pytest.raises(SupvizError, match=rf"`threads` must be an int >= 0; got {re.escape(repr(threads))}"):
        train_saes(array_jobs(X, SAEConfig(steps=2)), threads=threads, progress=False)


def test_topk_k_above_d_sae_refused_at_construction_and_load(sae, tmp_path):
    d_in, d_sae = sae.W_enc.shape
    args = dict(W_enc=sae.W_enc, b_enc=sae.b_enc, W_dec=sae.W_dec, b_dec=sae.b_dec, activation="topk")
    with pytest.raises(SupvizError, match=rf"`k` must be <= d_sae; got k={d_sae + 1}, d_sae={d_sae}"):
        SAE(**args, k=d_sae + 1)
    import json

    from supviz.sae import load

    folder = SAE(**args, k=2).save(tmp_path / "s")
    cfg = json.loads((tmp_path / "s" / "cfg.json").read_text())
    cfg["k"] = d_sae + 5
    if "activation_fn_kwargs" in cfg:
        cfg["activation_fn_kwargs"]["k"] = d_sae + 5
    (tmp_path / "s" / "cfg.json").write_text(json.dumps(cfg))
    with pytest.raises(SupvizError, match=r"`k` must be <= d_sae"):
        load(folder)


def test_cli_duplicate_cells_refused_and_many_keys_listed_honestly(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--n-features",
                "4",
                "--hidden",
                "2",
                "--probabilities",
                "0.1",
                "--importance",
                "uniform",
                "--steps",
                "5",
                "--batch-size",
                "8",
                "--out",
                str(run),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["sae", str(run), "--steps", "2", "--cells", "0", "0", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`--cells` must name each cell once; got 0 more than once." in err
    np.savez(tmp_path / "w.npz", **{f"a{i:02d}": np.ones((3, 4, 2)) for i in range(10)})
    assert main(["sae", str(tmp_path / "w.npz"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "holds 10 arrays (a00, a01, a02, a03, a04 and 5 more); choose one with `--key`" in err
    assert "pass `--weights` or the run folder" in err and not (tmp_path / "o").exists()
