"""docs/tutorial.py runs top to bottom as a notebook (issue 14 item 5); a failing cell fails the suite.

``docs/run_tutorial.py`` turns the jupytext script into a notebook and executes it with nbclient in a
fresh ipykernel, as a user's Jupyter would, in a scratch folder. Outputs are never written to docs/.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "docs" / "run_tutorial.py"


def test_tutorial_executes(tmp_path):
    pytest.importorskip("jupytext", reason="the [test] extra installs jupytext")
    pytest.importorskip("nbclient", reason="the [test] extra installs nbclient")
    spec = importlib.util.spec_from_file_location("run_tutorial", RUNNER)
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    nb = runner.execute(cwd=tmp_path)  # raises CellExecutionError, naming the cell, when any cell fails
    assert len(nb.cells) > 20 and nb.metadata["kernelspec"]["name"] == "python3"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert "smacof_stress (interval disparities)" in text
    shown = [o for o in outputs if o.get("output_type") in ("execute_result", "display_data")]
    assert any("image/png" in o.get("data", {}) for o in shown)  # the pictures were drawn (inline backend)
    assert any("text/html" in o.get("data", {}) for o in shown)  # the tables rendered as DataFrames
    # the pictures come from the report's own drawing functions (supviz.plot), in matplotlib and plotly
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from supviz.plot import interactive, plot_layout" in sources and "ax.scatter" not in sources
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in shown)
