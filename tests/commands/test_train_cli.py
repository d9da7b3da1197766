"""`supviz train`: flags and --config become a checked TrainConfig; bad input exits 2 with one line
and writes nothing."""

import json

import pytest

from supviz.cli import main

TINY = [
    "--n-features",
    "6",
    "--hidden",
    "2",
    "3",
    "--probabilities",
    "1",
    "0.1",
    "--importance",
    "uniform",
    "--steps",
    "6",
    "--batch-size",
    "8",
    "--log-every",
    "3",
    "--quiet",
]


def test_train_writes_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(out), "--seed", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["config"]["hidden"] == [2, 3] and meta["config"]["seed"] == 3 and meta["n_instances"] == 4


def test_summary_and_replacing_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", *[a for a in TINY if a != "--quiet"], "--out", str(out)]
    assert main(args) == 0
    assert main(args) == 0
    cap = capsys.readouterr()
    assert "trained 4 instances x 6 steps" in cap.out and "replacing the run" in cap.err


def test_config_file_and_flag_priority(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[train]\nn_features = 5\nhidden = [2]\nprobabilities = [0.5]\nimportances = ["power:20", [1, 1, 1, 0, 0]]\n'
        'steps = 4\nbatch_size = 8\nschedule = "cosine"\n'
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--steps", "3", "--out", str(out), "--quiet"]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["config"]["steps"] == 3 and meta["config"]["schedule"] == "cosine"
    assert [i["importance_name"] for i in meta["instances"]] == ["power:20", "explicit:1"]


def test_probability_sweep_and_explicit_importance(tmp_path):
    import argparse

    from supviz.commands.train import build_config, register

    p = argparse.ArgumentParser()
    register(p.add_subparsers())
    args = p.parse_args(
        ["train", "--n-features", "3", "--probabilities", "sweep:3:10", "--importance", "1,0.5,0.25", "geometric:0.5"]
    )
    c = build_config(args)
    assert c.probabilities == pytest.approx((1.0, 10**-0.5, 0.1))
    assert c.importances == ((1.0, 0.5, 0.25), "geometric:0.5")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--hidden", "0"], "`hidden[0]` must be an int >= 1; got 0."),
        (["--hidden", "x"], "`--hidden` must be an int; got 'x'."),
        (["--probabilities", "0"], "`probabilities[0]` must be a finite number in (0.0, 1.0]; got 0.0."),
        (["--probabilities", "1.2"], "`probabilities[0]` must be a finite number in (0.0, 1.0]; got 1.2."),
        (["--probabilities", "nan"], "`probabilities[0]` must be a finite number in (0.0, 1.0]; got nan."),
        (["--n-features", "1.5"], "`--n-features` must be an int; got '1.5'."),
        (["--probabilities", "sweep:x"], "`--probabilities` sweep must read 'sweep:COUNT[:BASE]'; got 'sweep:x'."),
        (["--importance", "1,1,1,1,1,-1"], "`importances[0]` must be non-negative; got -1.0 at feature 5."),
        (["--importance", "1,nan,1,1,1,1"], "`importances[0]` must hold only finite values; got 1 NaN/inf entries."),
        (["--importance", "1,2"], "`importances[0]` must have one entry per feature (n_features = 6); got 2 entries."),
        (["--importance", "1,a"], "`--importance` explicit importance must be comma-separated numbers; got '1,a'."),
        (["--lr", "nan"], "`lr` must be a finite number in (0.0, inf]; got nan."),
        (["--steps", "0"], "`steps` must be an int >= 1; got 0."),
        (["--schedule", "step"], "`schedule` must be one of 'constant', 'linear', 'cosine'; got 'step'."),
        (["--device", "gpu"], "`device` must be 'cpu' or 'cuda[:N]'; got 'gpu'."),
        (["--config", "missing.toml"], "`--config` must be an existing TOML file; got 'missing.toml'."),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch, flags, message):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert err == f"supviz: error: {message}\n"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def test_malformed_config_and_bad_out(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = = 3")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "run")]) == 2
    assert "is not valid TOML" in capsys.readouterr().err and not (tmp_path / "run").exists()
    nan = tmp_path / "nan.toml"
    nan.write_text("lr = nan\n")
    assert main(["train", "--config", str(nan), "--out", str(tmp_path / "run")]) == 2
    assert "`lr` must be a finite number" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["train", *TINY, "--out", str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag in (
        "--config",
        "--out",
        "--device",
        "--quiet",
        "--seed",
        "--hidden",
        "--probabilities",
        "--importance",
        "--steps",
        "--batch-size",
        "--lr",
        "--weight-decay",
        "--betas",
        "--eps",
        "--schedule",
        "--warmup-steps",
        "--init",
        "--engine",
        "--threads",
        "--log-every",
        "--n-features",
    ):
        assert flag in text
    assert "(default: 3 5 10 20 30 40)" in text and "(default: uniform geometric:0.9)" in text
    assert "sqrt(2 / (n + m))" in text


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_diverged_training_exits_1_with_one_line_and_saves_nothing(tmp_path, capsys, monkeypatch):
    """The issue's reproduction: lr 1e10 used to exit 0 and save NaN weights."""
    monkeypatch.chdir(tmp_path)
    before = _listing(tmp_path)
    rc = main(
        [
            "train",
            "--n-features",
            "5",
            "--hidden",
            "2",
            "--probabilities",
            "0.5",
            "--steps",
            "100",
            "--lr",
            "1e10",
            "--out",
            "t",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("supviz: error: training diverged: ") and "by step 100" in err and "m=2 p=0.5" in err
    assert _listing(tmp_path) == before == []


@pytest.mark.parametrize("out", ["/proc/x", "{tmp}/file", "{tmp}/file/x", "{tmp}/study"])
def test_unusable_out_is_refused_before_training(tmp_path, capsys, monkeypatch, out):
    import supviz.toy

    def never(*a, **k):
        raise AssertionError("trained before checking --out")

    monkeypatch.setattr(supviz.toy, "train_grid", never)
    (tmp_path / "file").write_text("x")
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "run.json").write_text("{}")
    (tmp_path / "study" / "config.toml").write_text("")
    before = _listing(tmp_path)
    assert main(["train", *TINY, "--out", out.format(tmp=tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("supviz: error: `--out` ")
    assert _listing(tmp_path) == before
