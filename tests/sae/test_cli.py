"""`supviz sae`: a run's cells or an activations file in, SAELens folders + a score table out; bad input
exits 2 with one line and writes nothing."""

import json

import numpy as np
import pandas as pd
import pytest

from supviz.cli import main
from supviz.sae import load

FAST = ["--steps", "30", "--batch-size", "32", "--n-eval", "256", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
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
                "0.1",
                "--importance",
                "uniform",
                "--steps",
                "50",
                "--batch-size",
                "64",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return out


def test_cells_of_a_run(run_dir, tmp_path, capsys):
    out = tmp_path / "sae"
    assert main(["sae", str(run_dir), *FAST, "--d-sae", "8", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["kind"] == "toy cells" and meta["config"]["d_sae"] == 8 and meta["config"]["architecture"] == "topk"
    table = pd.read_csv(out / "scores.csv")
    assert len(table) == 2 and {"folder", "mmcs", "mcc", "dead_fraction", "fvu"} <= set(table.columns)
    sae = load(out / table["folder"][1])
    assert sae.d_in == 3 and sae.d_sae == 8 and sae.config.steps == 30


def test_table_printed_and_an_earlier_output_replaced(run_dir, tmp_path, capsys):
    out = tmp_path / "sae"
    args = [
        "sae",
        str(run_dir),
        *[a for a in FAST if a != "--quiet"],
        "--architecture",
        "jumprelu",
        "--cells",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "trained 1 SAE(s) (jumprelu) x 30 steps" in text and "MMCS" in text and "rec@0.9" in text


def test_activations_file_with_true_features(tmp_path, capsys):
    rng = np.random.default_rng(0)
    F = np.linalg.qr(rng.standard_normal((5, 5)))[0][:4]
    codes = np.where(rng.random((300, 4)) < 0.3, rng.random((300, 4)), 0.0)
    np.save(tmp_path / "acts.npy", (codes @ F).astype(np.float32))
    np.save(tmp_path / "feats.npy", F)
    np.save(tmp_path / "codes.npy", codes)
    out = tmp_path / "o"
    assert (
        main(
            [
                "sae",
                str(tmp_path / "acts.npy"),
                "--features",
                str(tmp_path / "feats.npy"),
                "--codes",
                str(tmp_path / "codes.npy"),
                *FAST,
                "--out",
                str(out),
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = pd.read_csv(out / "scores.csv")
    assert len(rows) == 1 and rows["n_true"][0] == 4 and np.isfinite(rows["firing_precision"][0])
    # a stack [k, N, d] gives k SAEs in one job
    np.save(tmp_path / "stack.npy", np.stack([codes @ F, 2 * codes @ F]).astype(np.float32))
    assert main(["sae", str(tmp_path / "stack.npy"), *FAST, "--out", str(tmp_path / "o2")]) == 0
    rows = pd.read_csv(tmp_path / "o2" / "scores.csv")
    assert len(rows) == 2 and rows["mmcs"].isna().all()  # no features given: recovery is n/a, not a number


@pytest.mark.parametrize(
    "extra,msg",
    [
        (["--architecture", "gated"], "`architecture` must be one of"),
        (["--k", "x"], "`--k` must be an int; got 'x'."),
        (["--architecture", "relu_l1", "--k", "3"], "`k` applies to topk / batchtopk / matryoshka_batchtopk only"),
        (["--cells", "7"], r"`--cells\[\]` must be an int in \[0, 1\]; got 7."),
        (["--features", "f.npy"], "apply to activations files only"),
        (["--steps", "0"], "`steps` must be an int >= 1; got 0."),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(run_dir, tmp_path, capsys, extra, msg):
    out = tmp_path / "never"
    assert main(["sae", str(run_dir), *FAST, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("supviz: error: ")
    import re

    assert re.search(msg, err), err
    assert not out.exists()


def test_bad_files(tmp_path, capsys):
    (tmp_path / "x.npy").write_bytes(b"nope")
    assert main(["sae", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o")]) == 2
    assert "could not read" in capsys.readouterr().err
    np.save(tmp_path / "v.npy", np.zeros(5))
    assert main(["sae", str(tmp_path / "v.npy"), "--out", str(tmp_path / "o")]) == 2
    assert "must be an array [N, d] or [k, N, d]" in capsys.readouterr().err
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    np.save(tmp_path / "a.npy", np.ones((10, 2), np.float32))
    assert main(["sae", str(tmp_path / "a.npy"), "--out", str(keep)]) == 2
    assert "not an earlier `supviz sae` output" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and (keep / "notes.txt").read_text() == "mine"


def test_diverged_training_exits_1_and_writes_nothing(tmp_path, capsys):
    # issue 9 follow-up, 6: exit 2 with "`W_enc` must hold only finite values" read like bad input
    np.save(tmp_path / "acts.npy", np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32))
    before = sorted(tmp_path.iterdir())
    rc = main(
        ["sae", str(tmp_path / "acts.npy"), "--steps", "20", "--lr", "1e30", "--quiet", "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1, err
    assert err.startswith("supviz: error: SAE training diverged: 1 SAE(s) had non-finite loss or weights by step ")
    assert "lower `lr` (got 1e+30)" in err
    assert sorted(tmp_path.iterdir()) == before
