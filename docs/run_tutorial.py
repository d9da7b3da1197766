"""Run docs/tutorial.py as a notebook: jupytext turns it into one, nbclient executes it in ipykernel.

``python docs/run_tutorial.py [OUT.ipynb]`` (``make tutorial`` writes ``build/tutorial.ipynb``, which is
ignored by git: outputs are never committed). ``tests/docs/test_tutorial.py`` calls :func:`execute`, so
the suite fails, naming the cell, when any cell fails. Needs the ``[test]`` extra (jupytext, nbclient,
ipykernel).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

TUTORIAL = Path(__file__).resolve().with_name("tutorial.py")


def execute(source: Path = TUTORIAL, *, cwd: str | Path | None = None, timeout: int = 300):
    """The executed notebook of ``source`` (raises ``nbclient``'s ``CellExecutionError`` on a failing cell).

    The kernel runs in ``cwd`` (default: a new temporary folder) without ``MPLBACKEND``, so that
    matplotlib draws with Jupyter's inline backend as in a user's notebook.
    """
    import jupytext
    import nbclient

    nb = jupytext.read(source)
    saved = os.environ.pop("MPLBACKEND", None)
    try:
        where = str(cwd) if cwd is not None else tempfile.mkdtemp(prefix="supviz-tutorial-")
        nbclient.NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": where}}
        ).execute()
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved
    return nb


if __name__ == "__main__":
    import nbformat

    notebook = execute()
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out)
        print(f"executed {TUTORIAL.name} -> {out}")
    else:
        print(f"executed {TUTORIAL.name}: every cell ran")
