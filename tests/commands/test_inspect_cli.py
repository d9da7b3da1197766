"""`supviz inspect`: a diagnostics table per instance of a run or an array file."""

import json
from pathlib import Path

import numpy as np
import pytest

from supviz.cli import main

HAMBLIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "hamblin2022_weights.npz"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect") / "run"
    assert (
        main(
            [
                "train",
                "--n-features",
                "6",
                "--hidden",
                "2",
                "--probabilities",
                "1",
                "0.1",
                "--importance",
                "uniform",
                "--steps",
                "5",
                "--batch-size",
                "8",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def test_table_of_a_run(run_dir, capsys):
    capsys.readouterr()
    assert main(["inspect", str(run_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "2 instance(s)" in lines[0]
    assert (
        lines[1].split()[:4] == ["#", "instance", "n", "m"] and "repr(norm)" in lines[1] and "repr(mean|W|)" in lines[1]
    )
    assert lines[3].split()[:6] == ["0", "m=2", "p=1", "uniform", "6", "2"]
    assert len(lines) == 5


def test_json_and_csv(run_dir, capsys):
    capsys.readouterr()
    assert main(["inspect", str(run_dir), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[1]["p"] == pytest.approx(0.1) and rows[1]["final_loss"] > 0
    assert main(["inspect", str(run_dir), "--format", "csv", "--threshold", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("index,label,n,m,p") and len(lines) == 3
    assert lines[1].split(",")[9] == "6"  # every feature has norm > 0


def test_array_file(tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.eye(4)[:, :2])
    assert main(["inspect", str(tmp_path / "w.npy")]) == 0
    out = capsys.readouterr().out
    assert "external weights" in out
    row = out.splitlines()[3].split()
    assert row[:3] == ["0", "w", "4"] and row[4:6] == ["-", "unknown"]


@pytest.mark.skipif(not HAMBLIN.is_file(), reason="the study's weights are not in ../shared/data")
def test_the_study_weights(capsys):
    assert main(["inspect", str(HAMBLIN), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 84 and rows[0]["label"] == "60to3[0]" and rows[-1]["importance"] == "geometric:0.9"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d: d / "missing.npz",
            "`path` must be an existing run directory or weight file; got '{d}/missing.npz'.",
        ),
        (lambda d: _write(d / "bad.npz", b"garbage"), "could not read '{d}/bad.npz' as npz: not a zip archive."),
        (
            lambda d: _save(d / "v.npy", np.zeros(3)),
            "`v.npy:v` must be an array of rank 2 [n, m] or 3 [instances, n, m]; got shape (3,).",
        ),
        (
            lambda d: _save(d / "n.npy", np.full((2, 2), np.nan)),
            "`n.npy:n` must hold only finite values; got 4 NaN/inf entries.",
        ),
    ],
)
def test_bad_input(tmp_path, capsys, make, message):
    path = make(tmp_path)
    assert main(["inspect", str(path)]) == 2
    assert capsys.readouterr().err == f"supviz: error: {message.format(d=tmp_path)}\n"


def test_bad_threshold(run_dir, capsys):
    assert main(["inspect", str(run_dir), "--threshold", "x"]) == 2
    assert capsys.readouterr().err == "supviz: error: `--threshold` must be a number; got 'x'.\n"
    assert main(["inspect", str(run_dir), "--fraction", "-1"]) == 2
    assert "`--fraction` must be a finite number in [0.0, inf]; got -1.0." in capsys.readouterr().err


def _write(path, data):
    path.write_bytes(data)
    return path


def _save(path, arr):
    np.save(path, arr)
    return path


@pytest.mark.parametrize("argv", [["inspect", "{w}"], ["inspect", "{w}", "--format", "csv"], ["config", "--default"]])
def test_a_reader_that_left_ends_quietly(tmp_path, argv):
    """Issue 9 follow-up, 7: `supviz inspect run | head -4` printed "Exception ignored ...
    BrokenPipeError" when the reader had left before the interpreter flushed stdout at exit (a pipe's
    stdout is block-buffered unless PYTHONUNBUFFERED is set). Here the reader is gone from the start."""
    import os
    import subprocess
    import sys

    w = tmp_path / "w.npy"
    np.save(w, np.ones((2, 6, 3)))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    r, wfd = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "supviz", *[a.replace("{w}", str(w)) for a in argv]],
            stdout=wfd,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        os.close(wfd)
    assert proc.stderr == "" and proc.returncode == 141, (proc.returncode, proc.stderr)
