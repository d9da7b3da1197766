"""`supviz inspect` on a complex array: one line on stderr, exit 2 (issue 8, case 9)."""

import subprocess
import sys

import numpy as np


def test_inspect_complex_array_exits_2(tmp_path):
    path = tmp_path / "complex.npy"
    np.save(path, np.random.default_rng(0).normal(size=(10, 3)) + 1j)
    out = subprocess.run(
        [sys.executable, "-m", "supviz", "inspect", str(path)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "must be real; got complex values" in out.stderr
