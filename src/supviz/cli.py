"""The ``supviz`` command line.

Each subcommand lives in its own module under :mod:`supviz.commands` and exposes
``register(subparsers)``, which adds an ``argparse`` parser whose ``func`` default runs it.
Command modules import heavy libraries only inside their ``run`` function, so ``supviz --help``
is fast.

Errors: a :class:`~supviz.errors.SupvizError` becomes one line on stderr and exit status 2 (bad
input, found before anything is written), or the error's own ``exit_status`` (1 for a computation
that failed honestly, e.g. :class:`~supviz.toy.train.TrainingDiverged`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from supviz import __version__
from supviz.errors import SupvizError

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("run", "train", "inspect", "config", "sae", "real", "sweep")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2), like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"supviz: error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (all subcommands registered)."""
    parser = _Parser(
        prog="supviz",
        description=(
            "Superposition in toy models and what it does to latent-space pictures. "
            "`supviz run` reproduces the whole study (train, lay out, measure, report)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"supviz {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"supviz.commands.{name}")
        except ModuleNotFoundError:  # a command not built yet in this checkout
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``supviz`` console script. Returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
        # flush here: a reader that left (`| head`) shows as BrokenPipeError below, not as
        # "Exception ignored ... BrokenPipeError" when the interpreter flushes at exit
        sys.stdout.flush()
    except SupvizError as exc:
        print(f"supviz: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_status", 2))
    except KeyboardInterrupt:
        print("supviz: interrupted", file=sys.stderr)
        if "supviz.runtime.dispatch" in sys.modules:  # its resource trackers' leaked-semaphore note is expected now
            sys.modules["supviz.runtime.dispatch"].note_interrupt()
        return 130
    except BrokenPipeError:
        # `supviz inspect ... | head`: the reader left; stop quietly, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    if argv is None:
        _ignore_late_interrupts()
        _skip_exit_collections()
    return int(result or 0)


def _ignore_late_interrupts() -> None:
    """After the command has done its work, a Ctrl-C has nothing left to stop: ignore it.

    Only as the program (``argv`` None: the console script, ``python -m supviz``), never for a caller
    of :func:`main` in a Python session, whose handler stays. Without it a SIGINT that landed after
    "done", while the interpreter shut down (joblib's and Dask's exit handlers), printed a
    ``KeyboardInterrupt`` traceback and still exited 0 (issue 22).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _skip_exit_collections() -> None:
    """After the command has done its work, spare the interpreter's shutdown its full garbage collections.

    Only as the program (``argv`` None), never for a caller of :func:`main` in a Python session. CPython's
    finalisation runs full collections that walk every object still alive (after ``supviz run``: the imported
    libraries, the results, some 450,000-650,000 objects) just before the operating system takes the memory back:
    0.6-2.4 s of the run's wall time on the 2-core Xeon of ``docs/benchmarks.md``, all on one core. ``gc.freeze``
    moves them out of the collector's sight; nothing else changes: modules are still torn down and references
    dropped as before, ``atexit`` handlers and ``weakref.finalize`` callbacks (temporary folders) still run, and
    only unreachable cycles are left to the operating system, whose ``__del__`` Python never promised at exit.
    """
    import gc

    gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
