"""Issue 14 item 6: ``import supviz`` (and its light subpackages) loads no heavy library.

Measured in a fresh interpreter with ``python -X importtime``, which lists every module the import
loaded, so nothing imported earlier by the test session hides one. Speed itself is measured in
``benchmarks/first_call.py`` (docs/benchmarks.md), not asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "umap", "pynndescent", "openTSNE", "matplotlib", "plotly", "numba", "pandas", "sklearn", "scipy")
SRC = str(Path(__file__).resolve().parents[1] / "src")


def imported_modules(statement: str) -> set[str]:
    """Top-level names of every module that ``statement`` imports in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    names = set()
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "supviz" in names, out.stderr[-2000:]  # the parse found the import itself
    return names


def test_import_supviz_imports_no_third_party_package():
    names = imported_modules("import supviz")
    assert not names & {*HEAVY, "numpy"}, sorted(names & {*HEAVY, "numpy"})


@pytest.mark.parametrize("package", ["supviz.dr", "supviz.toy", "supviz.metrics", "supviz.sae", "supviz.real"])
def test_light_subpackages_import_no_heavy_library(package):
    names = imported_modules(f"import {package}")
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


def test_lazy_names_resolve_and_stay_functions():
    # A lazy name is imported on first use; names equal to a submodule's name stay the function
    # even after that submodule is imported (they are bound eagerly).
    code = (
        "import supviz, sys\n"
        "assert 'sklearn' not in sys.modules\n"
        "f = supviz.dr.mds_layout; m = supviz.metrics.layout_metrics\n"
        "import supviz.dr.smacof, supviz.dr.umap_layout, supviz.dr.tsne_layout\n"
        "from supviz.dr import smacof, umap_layout, tsne_layout\n"
        "assert all(callable(g) and not isinstance(g, type(sys)) for g in (smacof, umap_layout, tsne_layout))\n"
        "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules\n"
        "from supviz.dr import SMACOF\n"
        "assert SMACOF.__module__ == 'supviz.dr.estimator' and 'sklearn' in sys.modules\n"
        "assert 'SMACOF' in dir(supviz.dr) and 'layout_metrics' in dir(supviz.metrics)\n"
        "try:\n    supviz.dr.nope\nexcept AttributeError as e:\n    assert 'nope' in str(e)\nelse:\n"
        "    raise SystemExit(1)\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-c", code], env=env, timeout=120, check=True)
