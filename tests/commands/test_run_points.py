"""`supviz run --points N` / `--jobs N`: bad values fail before any work, in one line."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    exe = ROOT / ".venv" / "bin" / "supviz"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "supviz"]
    return subprocess.run(cmd + ["run", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, message",
    [
        (("--points", "0"), "supviz: error: `--points` must be an int >= 10; got 0."),
        (("--points", "-5"), "supviz: error: `--points` must be an int >= 10; got -5."),
        (("--jobs", "0"), "supviz: error: `--jobs` must be an int in [1, 64]; got 0."),
    ],
)
def test_bad_points_or_jobs_is_one_line(tmp_path, args, message):
    proc = _run(*args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == message
    assert not (tmp_path / "o").exists()


def test_points_is_documented_in_help():
    proc = _run("--help")
    assert proc.returncode == 0 and "--points N" in proc.stdout and "10,000" in proc.stdout
