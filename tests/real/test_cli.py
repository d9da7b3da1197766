"""`supviz real`: a user's activations in, tables + a figure + metadata out; the digits run with a toy grid;
bad input exits 2 with one line and writes nothing (the shared catalogue: tests/commands/test_bad_inputs.py)."""

import json

import numpy as np
import pandas as pd
import pytest

from supviz.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("acts")
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 15)
    H = (rng.normal(size=(45, 4)) + 2.5 * y[:, None]).astype(np.float32)
    np.save(d / "acts.npy", H)
    np.save(d / "labels.npy", y)
    np.save(d / "short.npy", y[:-1])
    np.save(d / "ref.npy", np.c_[H, -H])
    np.savez(d / "two.npz", a=H, b=H)
    (d / "cfg.toml").write_text("[real]\nmethods = ['mds']\nsae_steps = 20\nsae_batch_size = 32\n")
    return d


def test_activations_in_tables_and_figure_out(files, tmp_path, capsys):
    out = tmp_path / "real"
    args = [
        "real",
        "--activations",
        str(files / "acts.npy"),
        "--labels",
        str(files / "labels.npy"),
        "--reference",
        str(files / "ref.npy"),
        "--config",
        str(files / "cfg.toml"),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "45 activations of 4 dimensions" in text and text.strip().endswith(str(out))
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["format"] == "supviz.real.run" and meta["shape"] == [45, 4] and meta["config"]["sae_steps"] == 20
    assert {p.name for p in out.iterdir()} == {
        "metadata.json",
        "quality.csv",
        "spaces.csv",
        "pictures.csv",
        "pictures.png",
    }
    pics = pd.read_csv(out / "pictures.csv")
    assert list(pics["space"]) == ["reference", "activations", "codes (relu_l1)"] and (pics["method"] == "mds").all()
    # an earlier output is replaced, with --quiet only the folder is printed
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out)


def test_digits_run_with_a_toy_grid(tmp_path, capsys):
    toy = tmp_path / "toy"
    assert (
        main(
            [
                "train",
                "--n-features",
                "6",
                "--hidden",
                "2",
                "3",
                "--probabilities",
                "0.3",
                "0.1",
                "--importance",
                "uniform",
                "--steps",
                "60",
                "--batch-size",
                "32",
                "--out",
                str(toy),
                "--quiet",
            ]
        )
        == 0
    )
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(
        "[real]\nwidths = [4]\nautoencoder_widths = [4]\npicture_width = 4\nreplicates = 1\nsteps = 20\n"
        "sae_steps = 20\nmethods = ['mds']\nsweep_methods = []\ncalibration_hidden = []\n"
    )
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["real", "--config", str(cfg), "--toy", str(toy), "--seed", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Which no-ground-truth measure tracks true recovery?" in text and "verdict:" in text
    names = {p.name for p in out.iterdir()}
    assert {"F1_pictures.png", "F2_width_sweep.png", "F3_calibration.png", "models.csv", "calibration.csv"} <= names
    # every point of F1's pictures with its trust: the hover of F1_pictures.html and points.csv
    import pandas as pd

    points = pd.read_csv(out / "points.csv")
    assert {"space", "method", "point", "label", "x", "y", "trust", "false_neighbours"} <= set(points.columns)
    assert points["trust"].between(0, 1).all() and set(points["method"]) == {"mds"}
    page = (out / "F1_pictures.html").read_text()
    assert "Plotly.newPlot" in page and "trust: %{customdata" in page and "plotly.min.js" in names
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 5 and meta["calibration"] is True and meta["toy"] == str(toy)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--labels", "{d}/short.npy"], "one label per activation row"),
        (["--reference", "{d}/labels.npy"], "`--reference` must be a non-empty array of rank 2"),
        (["--key", "c"], "`--key` 'c' is not in"),
        (["--toy", "{d}/acts.npy"], "apply to the digits run only"),
        (["--seed", "x"], "`--seed` must be an int"),
    ],
)
def test_bad_activation_arguments(files, tmp_path, capsys, extra, message):
    out = tmp_path / "real"
    src = files / ("two.npz" if "--key" in extra else "acts.npy")
    argv = ["real", "--activations", str(src), *[a.replace("{d}", str(files)) for a in extra], "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


def test_digits_flags_refused_without_work(tmp_path, capsys, monkeypatch):
    import supviz.real.experiment as ex

    monkeypatch.setattr(ex, "digits_experiment", lambda *a, **k: (_ for _ in ()).throw(AssertionError("computed")))
    assert main(["real", "--labels", "x.npy", "--out", str(tmp_path / "o")]) == 2
    assert "applies to --activations only" in capsys.readouterr().err
    assert main(["real", "--toy", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]) == 2
    assert "`--toy`" in capsys.readouterr().err
    w = tmp_path / "w.npy"
    np.save(w, np.ones((6, 2), dtype=np.float32))  # weights without feature probabilities
    assert main(["real", "--toy", str(w), "--out", str(tmp_path / "o")]) == 2
    assert "holds 0 cell(s) of known feature probability" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[real]\nwidths = [4, 0]\n")
    assert main(["real", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "`real.widths[1]` must be an int >= 1; got 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_activations_beyond_float32_are_one_line_naming_the_magnitude(tmp_path, capsys):
    # break test (issues 12/13): finite values of 1e300 overflowed to inf in the float32 cast and were
    # reported as "300 NaN/inf entries", after a RuntimeWarning on stderr
    import warnings

    import numpy as np

    from supviz.cli import main

    np.save(tmp_path / "huge.npy", np.full((60, 5), 1e300))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rc = main(["real", "--activations", str(tmp_path / "huge.npy"), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "magnitudes up to 1e+300" in err and "NaN" not in err
    assert not (tmp_path / "o").exists()
