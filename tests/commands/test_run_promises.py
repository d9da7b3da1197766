"""`supviz run` keeps the promises of the README (issue 9), in process and fast: every input checked
before anything is written, `supviz config` checks exactly what `run` checks, a diverged training run
fails in one line, progress bars only on a terminal, one config schema, and README's first lines.

The end-to-end parts (a killed run leaves no process, a planted pickle never runs, a rerun leaves one
run's files, `results/` is a grid that `inspect` reads) are in test_run_cli.py, on its tiny study.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from supviz.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.fixture
def no_work(monkeypatch):
    import supviz.toy
    from supviz.runtime.cache import Cache

    def computed(*a, **k):
        raise AssertionError("computed before the input was checked")

    monkeypatch.setattr(supviz.toy, "train_grid", computed)
    monkeypatch.setattr(Cache, "get_or_compute", computed)


# -- 1 + 2: run checks everything first; config runs the same checks ----------------------------------


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


# configs `supviz run` refuses; before issue 9, `supviz config` called some of them valid and `run`
# wrote OUT/config.toml (or crashed) before refusing
CONFIGS_RUN_REFUSES = {
    "geometric-1.5": ('[toy]\nimportances = ["geometric:1.5"]\n', r"^`toy.importances\[0\]` geometric parameter"),
    "weights-missing": ('[weights]\nfile = "{tmp}/absent.npz"\n', r"^`weights.file` must be an existing run directory"),
    "weights-nan": ('[weights]\nfile = "{tmp}/nan.npz"\n', r"^`nan.npz:W` must hold only finite values"),
    "weights-pickled": ('[weights]\nfile = "{tmp}/obj.npy"\n', r"^`weights.file` could not read .* as npy"),
    "cache-dir-proc": (
        '[run]\ncache_dir = "/proc/supviz-cache"\n',
        r"^`run.cache_dir` '/proc/supviz-cache' is not writable",
    ),
    "cache-dir-under-file": (
        '[run]\ncache_dir = "{tmp}/a-file/cache"\n',
        r"^`run.cache_dir` .* lies under .*a-file', which is a file",
    ),
    "a2-importance": ('[background]\na2_importance = "power:0.5"\n', r"^`background.a2_importance` power parameter"),
    "background-untrainable": (
        "[toy]\nwarmup_steps = 50\nsteps = 100\n[background]\nsteps = 10\n",
        r"^background A1 cannot be trained with these settings: `warmup_steps` must be <= `steps`",
    ),
}


@pytest.fixture
def inputs(tmp_path):
    W = np.ones((2, 6, 2))
    W[0, 0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", W=W)
    np.save(tmp_path / "obj.npy", np.array([{"W": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "a-file").write_text("x")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CONFIGS_RUN_REFUSES))
def test_config_and_run_refuse_the_same_configs_in_the_same_words(inputs, capsys, monkeypatch, no_work, case):
    text, pattern = CONFIGS_RUN_REFUSES[case]
    monkeypatch.chdir(inputs)
    cfg = _write(inputs, "c.toml", text.format(tmp=inputs))
    before = _listing(inputs)
    rc_run, _, err_run = _run(["run", "--config", str(cfg), "--out", "out"], capsys)
    rc_cfg, out_cfg, err_cfg = _run(["config", str(cfg)], capsys)
    assert (rc_run, rc_cfg) == (2, 2) and out_cfg == ""
    assert err_run == err_cfg and err_run.count("\n") == 1 and "Traceback" not in err_run
    assert re.search(pattern, err_run.removeprefix("supviz: error: ")), err_run
    assert _listing(inputs) == before  # no OUT/config.toml, no cache folder


def test_the_check_is_one_function(monkeypatch, tmp_path, capsys):
    """`config FILE` and `run` call the same check_study; only `run` passes --out."""
    from supviz.study import pipeline

    seen = []

    def spy(config, **kw):
        seen.append(sorted(k for k, v in kw.items() if v is not None))
        raise pipeline.SupvizError("stop")

    monkeypatch.setattr(pipeline, "check_study", spy)
    cfg = _write(tmp_path, "c.toml", "[toy]\nsteps = 5\n")
    assert _run(["config", str(cfg)], capsys)[0] == 2
    assert _run(["run", "--config", str(cfg), "--out", str(tmp_path / "o")], capsys)[0] == 2
    assert seen == [[], ["out", "sections", "use_cache"]] and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--steps", "0"], "`--steps` must be an int >= 1; got 0."),
        (["--steps", "x"], "argument --steps: invalid int value: 'x' (see `supviz run --help`)"),
        (["--jobs", "0"], "`--jobs` must be an int in [1, 64]; got 0."),
        (["--points", "3"], "`--points` must be an int >= 10; got 3."),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag (see `supviz --help`)"),
    ],
)
def test_bad_flags_are_one_line(tmp_path, capsys, monkeypatch, no_work, flags, message):
    monkeypatch.chdir(tmp_path)
    rc, _, err = _run(["run", "--out", "o", *flags], capsys)
    assert rc == 2 and err == f"supviz: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


# -- 3: a diverged study run fails in one line and leaves nothing that reads as complete ---------------


def test_diverged_training_in_a_run_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _write(
        tmp_path,
        "c.toml",
        "[toy]\nn_features = 5\nhidden = [2]\nprobabilities = [0.5]\nimportances = ['geometric:0.9']\n"
        "steps = 40\nbatch_size = 16\nlog_every = 10\nlr = 1e10\n",
    )
    rc, out, err = _run(["run", "--config", str(cfg), "--out", "o"], capsys)
    assert rc == 1 and out == ""
    lines = err.splitlines()
    assert lines[-1].startswith(
        "supviz: error: training diverged: 1 of 1 instance(s) had non-finite loss or weights by step 10"
    )
    assert "Traceback" not in err and all(line.startswith("[supviz] ") for line in lines[:-1])
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["complete"] is False
    assert _listing(tmp_path / "o") == ["config.toml", "manifest.json"]  # no grid, no report, no cache entry
    assert _run(["inspect", "o"], capsys)[0] == 2


# -- 6: progress bars only on a terminal ----------------------------------------------------------------


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, []

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> int:
        self.text.append(s)
        return len(s)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("tty", [True, False])
def test_bars_only_on_a_terminal(monkeypatch, tty):
    import sys

    from supviz.runtime.progress import Progress, _NullBar

    monkeypatch.setattr(sys, "stderr", _Stream(tty))
    p = Progress()
    assert p.bars is tty
    assert isinstance(p.bar(10, "x"), _NullBar) is (not tty)
    assert Progress(quiet=True).bars is False and Progress(bars=True).bars is True


def test_train_writes_no_carriage_returns_to_a_log(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    with open(tmp_path / "log", "w") as log:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "supviz",
                "train",
                "--n-features",
                "6",
                "--hidden",
                "2",
                "--steps",
                "300",
                "--batch-size",
                "32",
                "--probabilities",
                "1",
                "0.1",
                "--out",
                str(tmp_path / "run"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=300,
        )
    text = (tmp_path / "log").read_text()
    assert proc.returncode == 0 and "\r" not in text and len(text.splitlines()) == 3  # summary, losses, path


# -- 8: one config schema; README's first lines ------------------------------------------------------------


def test_default_config_trains_with_supviz_train(tmp_path, capsys, monkeypatch):
    """`supviz config --default > my.toml` then `supviz train --config my.toml` (flags shrink the grid here)."""
    monkeypatch.chdir(tmp_path)
    rc, text, _ = _run(["config", "--default"], capsys)
    assert rc == 0
    (tmp_path / "my.toml").write_text(text)
    from supviz.commands.train import build_config
    from supviz.study.config import load_config

    args = build_parser().parse_args(["train", "--config", "my.toml"])
    assert build_config(args) == load_config("my.toml").train_config()  # the study's grid, seed included
    rc, out, err = _run(
        [
            "train",
            "--config",
            "my.toml",
            "--hidden",
            "3",
            "--probabilities",
            "1",
            "--steps",
            "4",
            "--batch-size",
            "8",
            "--quiet",
            "--out",
            "t",
        ],
        capsys,
    )
    assert rc == 0, err
    meta = json.loads((tmp_path / "t" / "metadata.json").read_text())
    assert meta["config"]["n_features"] == 60 and meta["config"]["importances"] == ["uniform", "geometric:0.9"]
    assert meta["config"]["seed"] == load_config("my.toml").train_config().seed


def test_readme_first_lines_put_supviz_on_the_path_before_using_it():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```\n(.*?)```", text, re.S).group(1)
    lines = [line.split("#")[0].strip() for line in first_block.splitlines()]
    lines = [line for line in lines if line]
    assert lines[0] == "make venv" or lines[0].startswith("make")
    activate = next(i for i, line in enumerate(lines) if line.startswith(". .venv/bin/activate"))
    uses = [i for i, line in enumerate(lines) if line.startswith("supviz ")]
    assert uses and min(uses) > activate
    parser = build_parser()
    for line in (line for line in text.split("## The command line")[1].split("```")[1].splitlines() if line.strip()):
        argv = shlex.split(line.split("  #")[0])
        assert argv[0] == "supviz"
        argv = [a for a in argv[1:] if a != ">"][: (argv[1:].index(">") if ">" in argv else None)]
        parser.parse_args(argv)  # every README command line is one the CLI accepts
