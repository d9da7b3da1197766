"""What ``supviz`` leaves to the interpreter's exit: as the program, its objects frozen out of the exit's full garbage
collections (``cli._skip_exit_collections``); from a Python session, nothing changed."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
ENV = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "MPLBACKEND": "Agg"}


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120)


def test_as_the_program_the_objects_are_frozen_and_exit_handlers_still_run(tmp_path):
    code = (
        "import gc, sys, tempfile\n"
        "from supviz.cli import main\n"
        f"kept = tempfile.TemporaryDirectory(dir={str(tmp_path)!r})\n"  # removed at exit by weakref.finalize
        "sys.argv = ['supviz', 'config', '--default']\n"
        "status = main()\n"
        "print(gc.get_freeze_count() > 1000, gc.isenabled(), file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    done = _python(code)
    assert done.returncode == 0 and done.stderr == "True True\n", done.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []


def test_main_called_from_python_freezes_nothing():
    code = (
        "import gc, sys\n"
        "from supviz.cli import main\n"
        "main(['config', '--default'])\n"
        "sys.exit(0 if gc.get_freeze_count() == 0 and gc.isenabled() else 3)\n"
    )
    assert _python(code).returncode == 0
